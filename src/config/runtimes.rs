//! The action runtimes manifest.

use super::ClusterFacts;
use crate::assets;
use crate::crd::NuvolarisSpec;

/// Name of the ConfigMap holding the runtimes manifest (key `runtimes.json`); users edit it, and
/// a change re-runs the preload and restarts the controller.
pub const RUNTIMES_CONFIGMAP: &str = "openwhisk-runtimes";

/// The manifest shipped with the operator, used when the cluster has none.
pub fn default_manifest() -> &'static str {
    assets::file("deploy/runtimes/runtimes.json").unwrap_or("{}")
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Runtimes {
    /// The runtimes manifest: the cluster's `openwhisk-runtimes` ConfigMap, else ours.
    pub manifest: String,
    /// Preload only the `apache` images (`nuvolaris.preload.only-apache`, default true).
    pub preload_only_apache: bool,
}

impl Runtimes {
    pub(super) fn from_spec(nuvolaris: &NuvolarisSpec, facts: &ClusterFacts) -> Runtimes {
        Runtimes {
            manifest: facts
                .runtimes_json
                .clone()
                .unwrap_or_else(|| default_manifest().to_owned()),
            preload_only_apache: nuvolaris
                .preload
                .as_ref()
                .and_then(|p| p.only_apache)
                .or(nuvolaris.preloader.as_ref().and_then(|p| p.only_apache))
                .unwrap_or(true),
        }
    }
}
