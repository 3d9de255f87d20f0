//! The commands CronJobs run in the operator's image, the ports of the original's two periodic
//! programs (inventory-components §1):
//!
//! - `nuvolaris-operator cron` ([`cron`]): the action executor of `components.cron`, which
//!   invokes the actions whose `cron` annotation is due;
//! - `nuvolaris-operator quota` ([`quota`]): the quota checker of `components.quota`, which
//!   compares each WhiskUser's database and Redis usage with its quota and enforces it.
//!
//! Their settings travel like those of the setup steps: one type per command implementing
//! [`TaskSettings`], written by the operator into the CronJob's environment (secret values in the
//! generated Secret `<cronjob>-auth-<hash>`, see `components::kit::Overlay::cron_job`) and read
//! back by the command; a round-trip test per command keeps the two sides together.

pub mod cron;
pub mod quota;
pub mod schedule;

use crate::setup::{EnvVar, JobCommand, SetupEnv, SetupError};

/// A command run by a CronJob: `nuvolaris-operator <name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodicTask {
    /// Invokes the actions whose cron annotation is due.
    Cron,
    /// Checks and enforces the WhiskUsers' quotas.
    Quota,
}

impl PeriodicTask {
    /// The subcommand of `nuvolaris-operator`.
    pub fn name(self) -> &'static str {
        match self {
            PeriodicTask::Cron => "cron",
            PeriodicTask::Quota => "quota",
        }
    }
}

impl JobCommand for PeriodicTask {
    fn args(self) -> Vec<&'static str> {
        vec![self.name()]
    }

    /// The original's CronJob names (the container has the same name).
    fn job(self) -> &'static str {
        match self {
            PeriodicTask::Cron => "cron-init",
            PeriodicTask::Quota => "quota-checker",
        }
    }

    fn container(self) -> &'static str {
        self.job()
    }

    fn variables(self) -> &'static [EnvVar] {
        match self {
            PeriodicTask::Cron => cron::CRON_ENV,
            PeriodicTask::Quota => quota::QUOTA_ENV,
        }
    }
}

/// The settings of one periodic command, written by the operator into the CronJob's environment
/// and read back by the command (the [`crate::setup::SetupSettings`] of a CronJob).
pub trait TaskSettings: Sized {
    const TASK: PeriodicTask;

    /// The environment that [`TaskSettings::from_vars`] reads back as `self`.
    fn to_env(&self) -> SetupEnv<PeriodicTask>;

    /// Reads the settings from the given variables.
    fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, SetupError>;

    /// Reads the settings from the process environment.
    fn from_env() -> Result<Self, SetupError> {
        Self::from_vars(std::env::vars())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `from_vars(to_env(x)) == x`, every variable declared with the right secrecy.
    pub(crate) fn assert_round_trip<S>(settings: &S)
    where
        S: TaskSettings + PartialEq + std::fmt::Debug,
    {
        let env = settings.to_env();
        assert_eq!(env.step, S::TASK);
        crate::setup::tests::assert_env_round_trip(settings, &env, S::from_vars);
    }
}
