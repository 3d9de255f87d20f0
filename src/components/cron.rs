//! The action executor (`components.cron`): the CronJob `cron-init`, on `scheduler.schedule`,
//! running `nuvolaris-operator cron` ([`crate::periodic::cron`]) with the controller's CouchDB
//! credentials in the generated Secret `cron-init-auth-<hash>`.

use super::kit::Overlay;
use super::{Component, RenderError};
use crate::apply::kinds::{self, KnownKind};
use crate::config::Config;
use crate::crd::ComponentId;
use crate::periodic::TaskSettings;
use crate::periodic::cron::CronSettings;

pub struct Cron;

impl Component for Cron {
    fn id(&self) -> ComponentId {
        ComponentId::Cron
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        let db = &cfg.couchdb;
        let settings = CronSettings::new(
            cfg.cron.schedule.clone(),
            format!("http://{}:{}", db.host, db.port),
            db.controller.user.clone(),
            db.controller.password.clone(),
            "http://controller:3233".to_owned(),
        );
        // the run's own deadline, plus time to start the pod
        let deadline = settings.deadline.as_secs() + 60;
        Ok(Overlay::new(self.id(), &cfg.namespace).cron_job(
            &settings.to_env(),
            &cfg.cron.schedule,
            deadline,
            &cfg.operator_image,
            None,
        ))
    }

    fn kinds(&self) -> &'static [KnownKind] {
        &[kinds::SECRET, kinds::CRON_JOB]
    }
}
