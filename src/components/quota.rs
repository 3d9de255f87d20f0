//! The quota checker (`components.quota`): the CronJob `quota-checker`, on `quota.schedule`,
//! running `nuvolaris-operator quota` ([`crate::periodic::quota`]) as the ServiceAccount
//! `nuvolaris-quota` (deployed here with its Role: list and annotate WhiskUsers, read the Postgres
//! Secret). It checks PostgreSQL when `components.postgres` is on (FerretDB's databases too with
//! `components.mongodb`) and Redis when `components.redis` is on; the Redis password is in the
//! generated Secret `quota-checker-auth-<hash>`.

use super::kit::Overlay;
use super::{Component, RenderError};
use crate::apply::kinds::{self, KnownKind};
use crate::config::Config;
use crate::crd::ComponentId;
use crate::periodic::TaskSettings;
use crate::periodic::quota::{PostgresTarget, QuotaSettings, RedisTarget};

pub struct Quota;

/// The CronJob's ServiceAccount (the original's name).
pub const SERVICE_ACCOUNT: &str = "nuvolaris-quota";

impl Component for Quota {
    fn id(&self) -> ComponentId {
        ComponentId::Quota
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        let redis = cfg.enabled(ComponentId::Redis).then(|| RedisTarget {
            address: "redis:6379".to_owned(),
            password: cfg.redis.default_password.clone(),
        });
        let postgres = cfg
            .enabled(ComponentId::Postgres)
            .then(PostgresTarget::nuvolaris);
        let settings = QuotaSettings::new(
            cfg.namespace.clone(),
            redis,
            postgres,
            cfg.enabled(ComponentId::Mongodb),
        );
        let deadline = settings.deadline.as_secs() + 60;
        Ok(Overlay::new(self.id(), &cfg.namespace)
            .base("quota", &["rbac.yaml"])?
            .cron_job(
                &settings.to_env(),
                &cfg.quota.schedule,
                deadline,
                &cfg.operator_image,
                Some(SERVICE_ACCOUNT),
            ))
    }

    fn kinds(&self) -> &'static [KnownKind] {
        &[
            kinds::SERVICE_ACCOUNT,
            kinds::ROLE,
            kinds::ROLE_BINDING,
            kinds::SECRET,
            kinds::CRON_JOB,
        ]
    }
}
