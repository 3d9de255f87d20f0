//! The OpenWhisk controller's configuration.

use super::image::with_tag;
use super::{Resources, resources};
use crate::crd::WhiskSpec;

/// Image defaults of the original (its Dockerfile and base manifests).
pub const CONTROLLER_IMAGE: &str = "ghcr.io/nuvolaris/openwhisk-controller";
pub const CONTROLLER_TAG: &str = "3.1.0-mastrogpt.2402101445";

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Controller {
    /// Full image reference, e.g. `ghcr.io/nuvolaris/openwhisk-controller:3.1.0-…`.
    pub image: String,
    pub java_opts: String,
    /// `configs.invoker.containerPool.userMemory`: memory for action containers.
    pub user_memory: String,
    pub resources: Option<Resources>,
    pub use_private_registry: bool,
    pub limits: Limits,
}

/// OpenWhisk action limits (`spec.configs.limits`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Limits {
    pub invokes_per_minute: u32,
    pub invokes_concurrent: u32,
    pub fires_per_minute: u32,
    pub sequence_max_length: u32,
    pub activation_payload_max: u64,
    pub time_min: String,
    pub time_std: String,
    pub time_max: String,
    pub memory_min: String,
    pub memory_std: String,
    pub memory_max: String,
    pub concurrency_min: u32,
    pub concurrency_std: u32,
    pub concurrency_max: u32,
}

impl Controller {
    pub(super) fn from_spec(spec: &WhiskSpec, use_private_registry: bool) -> Controller {
        let configs = spec.configs.clone().unwrap_or_default();
        let ctrl = configs.controller.clone().unwrap_or_default();
        let limits = configs.limits.clone().unwrap_or_default();
        let actions = limits.actions.clone().unwrap_or_default();
        let time = limits.time.clone().unwrap_or_default();
        let memory = limits.memory.clone().unwrap_or_default();
        let concurrency = limits.concurrency.clone().unwrap_or_default();
        let count =
            |v: Option<i32>, default: u32| v.and_then(|v| u32::try_from(v).ok()).unwrap_or(default);
        let text =
            |v: &Option<String>, default: &str| v.clone().unwrap_or_else(|| default.to_owned());
        let image = spec
            .controller
            .as_ref()
            .and_then(|c| {
                c.image
                    .as_ref()
                    .map(|image| with_tag(image, c.tag.as_deref(), CONTROLLER_TAG))
            })
            .unwrap_or_else(|| format!("{CONTROLLER_IMAGE}:{CONTROLLER_TAG}"));
        Controller {
            image,
            java_opts: text(&ctrl.java_opts, "-Xmx2048M"),
            user_memory: configs
                .invoker
                .as_ref()
                .and_then(|i| i.container_pool.as_ref())
                .and_then(|p| p.user_memory.clone())
                .unwrap_or_else(|| "2048m".to_owned()),
            resources: ctrl
                .resources
                .as_ref()
                .and_then(|r| resources(r, ("1", "1G", "2G"))),
            use_private_registry,
            limits: Limits {
                invokes_per_minute: count(actions.invokes_per_minute, 60),
                invokes_concurrent: count(actions.invokes_concurrent, 30),
                fires_per_minute: count(
                    limits.triggers.as_ref().and_then(|t| t.fires_per_minute),
                    60,
                ),
                sequence_max_length: count(actions.sequence_max_length, 50),
                activation_payload_max: limits
                    .activations
                    .as_ref()
                    .and_then(|a| a.max_allowed_payload)
                    .and_then(|v| u64::try_from(v).ok())
                    .unwrap_or(1_048_576),
                time_min: text(&time.limit_min, "100ms"),
                time_std: text(&time.limit_std, "1min"),
                time_max: text(&time.limit_max, "5min"),
                memory_min: text(&memory.limit_min, "128m"),
                memory_std: text(&memory.limit_std, "256m"),
                memory_max: text(&memory.limit_max, "512m"),
                concurrency_min: count(concurrency.limit_min, 1),
                concurrency_std: count(concurrency.limit_std, 1),
                concurrency_max: count(concurrency.limit_max, 1),
            },
        }
    }
}
