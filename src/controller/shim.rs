//! TEMPORARY SHIM, deleted when `Config::from_whisk` lands in src/config: the controller's
//! call site is [`super::render_whisk`].

use kube::ResourceExt;

use crate::config::{ClusterFacts, Config, ConfigError, GeneratedSecrets};
use crate::crd::Whisk;

/// Stand-in for `Config::from_whisk(&whisk, &facts, &secrets)`.
pub fn config_from_whisk(
    whisk: &Whisk,
    _facts: &ClusterFacts,
    _secrets: &GeneratedSecrets,
) -> Result<Config, ConfigError> {
    Err(ConfigError::Invalid(format!(
        "{}: Config::from_whisk is not available in this build yet",
        whisk.name_any()
    )))
}
