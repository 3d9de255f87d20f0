//! The quota checker's configuration (`spec.quota`, `components.quota`).

use super::ConfigError;
use super::cron::schedule;
use crate::crd::ScheduleSpec;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Quota {
    /// The CronJob's schedule (the original's default: every ten minutes).
    pub schedule: String,
}

impl Quota {
    pub(super) fn from_spec(
        spec: Option<&ScheduleSpec>,
        enabled: bool,
    ) -> Result<Quota, ConfigError> {
        Ok(Quota {
            schedule: schedule(spec, "quota.schedule", "*/10 * * * *", enabled)?,
        })
    }
}
