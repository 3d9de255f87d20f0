//! The action executor's configuration (`spec.scheduler`, `components.cron`).

use super::ConfigError;
use crate::crd::ScheduleSpec;
use crate::periodic::schedule::Schedule;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Cron {
    /// The CronJob's schedule (the original's default: every minute).
    pub schedule: String,
}

impl Cron {
    pub(super) fn from_spec(
        spec: Option<&ScheduleSpec>,
        enabled: bool,
    ) -> Result<Cron, ConfigError> {
        Ok(Cron {
            schedule: schedule(spec, "scheduler.schedule", "* * * * *", enabled)?,
        })
    }
}

/// The schedule of `spec`, or `default`; checked when the component is `enabled` (a CronJob
/// refuses it later, with a less clear error).
pub(super) fn schedule(
    spec: Option<&ScheduleSpec>,
    field: &str,
    default: &str,
    enabled: bool,
) -> Result<String, ConfigError> {
    let schedule = spec
        .and_then(|s| s.schedule.clone())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| default.to_owned());
    if enabled && let Err(reason) = Schedule::parse(&schedule) {
        return Err(ConfigError::invalid(field, format!("{field}: {reason}")));
    }
    Ok(schedule)
}
