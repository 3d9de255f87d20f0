//! Redis: the key-value store of actions, with the `nuvolaris` ACL user.
//!
//! Deploys: StatefulSet `redis` (pod `redis-0`; volume claim `redis-pvc` when persistence is
//! on), Service `redis`, the generated Secret `redis-conf-<hash>` holding redis.conf, and the
//! setup Job `redis-init` (`nuvolaris-operator setup redis`). Publishes the `redis_*` keys of
//! `cm/config` the `ops` CLI reads (the URL and password as credentials).
//!
//!
//! Taking over the Python operator's Redis: its passwords are adopted (`requirepass` from
//! `redis-cm`, the `nuvolaris` user's from `cm/config`); without persistence the running
//! StatefulSet keeps its pod template (and `redis-cm`) until the user allows the restart, while
//! `redis-init` sets the ACL user up on the running server over the network; once this version's
//! template runs and is Ready, `redis-cm` is removed.

use minijinja::context;

use super::kit::{Overlay, VolumeClaim, Workload};
use super::{Component, ConfigAnnotation, Leftover, RenderError};
use crate::apply::kinds::{self, KnownKind};
use crate::config::{self, Config, GeneratedKey};
use crate::crd::ComponentId;
use crate::setup::{RedisSetupConfig, SetupSettings};

pub struct Redis;

const REDIS: Workload = Workload::stateful_set("redis");
/// The Service clients reach Redis through (`deploy/redis/service.yaml`), in the namespace.
const SERVICE: &str = "redis";
const PORT: u16 = 6379;
/// What the original reported as the provider (its image is Redis-compatible).
const PROVIDER: &str = "valkey";

impl Component for Redis {
    fn id(&self) -> ComponentId {
        ComponentId::Redis
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        let redis = &cfg.redis;
        let conf = crate::render::render("redis/redis.conf", context! {
            default_password => redis.default_password.expose(),
            nuvolaris_password => redis.nuvolaris_password.expose(),
            prefix => redis.prefix.clone(), maxmemory => redis.maxmemory.clone(), persistence => redis.persistence,
        })
        .map_err(|e| RenderError::Defect { component: self.id(), message: e.to_string() })?;
        let setup = RedisSetupConfig::new(
            format!("{SERVICE}:{PORT}"),
            redis.default_password.clone(),
            redis.nuvolaris_password.clone(),
            redis.prefix.clone(),
        );
        let mut overlay = Overlay::new(self.id(), &cfg.namespace)
            .base("redis", &["statefulset.yaml", "service.yaml"])?
            .secret("redis-conf", [("redis-conf", conf.as_str())])
            .setup_job(&setup.to_env(), &cfg.operator_image)
            .image("docker.io/bitnamilegacy/redis", &redis.image);
        if redis.persistence {
            overlay = overlay.volume_claim(&VolumeClaim {
                name: "redis",
                container: REDIS.container("redis"),
                mount_path: "/bitnami/redis/data",
                size_gi: redis.volume_size_gi,
                storage_class: cfg.storage_class.clone(),
            })?;
        } else {
            // a restart loses every key: not on a takeover without the user's consent
            overlay = overlay.in_memory(REDIS)?;
        }
        if cfg.pod_security {
            overlay = overlay.pod_security(REDIS)?;
        }
        overlay.scheduling(REDIS, cfg.scheduling, "redis")
    }

    /// The original's `redis_*` keys, for the `nuvolaris` ACL user: `redis_url`
    /// (`redis://nuvolaris:<password>@redis:6379`), `redis_alt_url` (`redis://<password>@…`, as
    /// the original wrote it), `redis_password`, and the plain `redis_prefix`, `redis_service`,
    /// `redis_port`, `redis_provider`.
    fn config_annotations(&self, cfg: &Config) -> Vec<ConfigAnnotation> {
        let redis = &cfg.redis;
        let password = redis.nuvolaris_password.expose();
        let in_url = super::ops_config::url_userinfo(password);
        vec![
            ConfigAnnotation::credential(
                "redis_url",
                format!("redis://nuvolaris:{in_url}@{SERVICE}:{PORT}"),
            ),
            ConfigAnnotation::plain("redis_prefix", &redis.prefix),
            ConfigAnnotation::credential(
                "redis_alt_url",
                format!("redis://{in_url}@{SERVICE}:{PORT}"),
            ),
            ConfigAnnotation::plain("redis_service", SERVICE),
            ConfigAnnotation::plain("redis_port", PORT.to_string()),
            ConfigAnnotation::credential("redis_password", password),
            ConfigAnnotation::plain("redis_provider", PROVIDER),
        ]
    }

    fn generated_secrets(&self) -> &'static [GeneratedKey] {
        config::redis::GENERATED
    }

    /// The original's redis.conf (with `requirepass`), replaced by the Secret `redis-conf-<hash>`.
    fn leftovers(&self) -> &'static [Leftover] {
        &[Leftover {
            kind: kinds::CONFIG_MAP,
            name: "redis-cm",
        }]
    }

    fn kinds(&self) -> &'static [KnownKind] {
        &[
            kinds::SECRET,
            kinds::SERVICE,
            kinds::STATEFUL_SET,
            kinds::JOB,
        ]
    }
}
