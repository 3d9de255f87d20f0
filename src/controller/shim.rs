//! TEMPORARY SHIM, deleted when the `crd` branch (crate::crd::Whisk) and
//! `Config::from_whisk` land in main. The controller only needs from `Whisk`: metadata
//! (Resource), Serialize (it reads `.spec`/`.status` as JSON) and DeserializeOwned.

use std::collections::BTreeMap;

use kube::{CustomResource, ResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::{ClusterFacts, Config, ConfigError, GeneratedSecrets};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[kube(
    group = "nuvolaris.org",
    version = "v1",
    kind = "Whisk",
    namespaced,
    status = "WhiskStatus",
    shortname = "wsk"
)]
pub struct WhiskSpec {
    #[serde(flatten)]
    pub fields: BTreeMap<String, serde_json::Value>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, JsonSchema)]
pub struct WhiskStatus {
    #[serde(flatten)]
    pub fields: BTreeMap<String, serde_json::Value>,
}

/// Stand-in for `Config::from_whisk(&whisk, &facts, &secrets)`.
pub fn config_from_whisk(
    whisk: &Whisk,
    _facts: &ClusterFacts,
    _secrets: &GeneratedSecrets,
) -> Result<Config, ConfigError> {
    let _ = (whisk.name_any(), whisk.namespace());
    Err(ConfigError::Invalid(
        "Config::from_whisk is not available in this build yet".into(),
    ))
}
