//! The OpenWhisk controller's configuration, in its two modes: standalone (it runs the actions
//! itself) and enterprise (with the invoker, Kafka and ZooKeeper). The limits are shared by the
//! controller and the invoker; their defaults depend on the mode, as in the original.

use super::image::with_tag;
use super::memory::check_heap_fits;
use super::{ConfigError, Resources, resources};
use crate::crd::{LoggingLevel, WhiskSpec};

/// Image defaults of the original (its Dockerfile and base manifests).
pub const CONTROLLER_IMAGE: &str = "ghcr.io/nuvolaris/openwhisk-controller";
pub const CONTROLLER_TAG: &str = "3.1.0-mastrogpt.2402101445";

/// How the controller runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The invoker off: the controller runs actions itself (lean messaging, no Kafka).
    Standalone,
    /// The invoker on: the controller schedules activations on invokers through Kafka.
    Enterprise,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Controller {
    pub mode: Mode,
    /// Full image reference, e.g. `ghcr.io/nuvolaris/openwhisk-controller:3.1.0-…`.
    pub image: String,
    pub java_opts: String,
    /// `configs.invoker.containerPool.userMemory`: memory for action containers.
    pub user_memory: String,
    pub resources: Option<Resources>,
    pub use_private_registry: bool,
    pub limits: Limits,
    /// StatefulSet replicas (enterprise mode; standalone runs one).
    pub replicas: u32,
    /// `CONFIG_logback_log_level` (enterprise mode).
    pub logging_level: String,
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
    /// `configs.limits.loadbalancer.blackbox-fraction` (enterprise mode).
    pub blackbox_fraction: String,
    /// `configs.limits.loadbalancer.timeout-factor` (enterprise mode).
    pub timeout_factor: u32,
}

/// The original's defaults that differ between the modes.
struct ModeDefaults {
    per_minute: u32,
    concurrent: u32,
    java_opts: &'static str,
    /// cpu limit, memory request, memory limit when `resources.cpu-req` is given
    resources: (&'static str, &'static str, &'static str),
}

impl Mode {
    fn defaults(self) -> ModeDefaults {
        match self {
            Mode::Standalone => ModeDefaults {
                per_minute: 60,
                concurrent: 30,
                java_opts: "-Xmx2048M",
                resources: ("1", "1G", "2G"),
            },
            Mode::Enterprise => ModeDefaults {
                per_minute: 999,
                concurrent: 250,
                java_opts: "-Xmx1024M",
                resources: ("2", "1G", "2G"),
            },
        }
    }
}

impl Controller {
    pub(super) fn from_spec(
        spec: &WhiskSpec,
        use_private_registry: bool,
        mode: Mode,
    ) -> Result<Controller, ConfigError> {
        let configs = spec.configs.clone().unwrap_or_default();
        let ctrl = configs.controller.clone().unwrap_or_default();
        let defaults = mode.defaults();
        let image = spec
            .controller
            .as_ref()
            .and_then(|c| {
                c.image
                    .as_ref()
                    .map(|image| with_tag(image, c.tag.as_deref(), CONTROLLER_TAG))
            })
            .unwrap_or_else(|| format!("{CONTROLLER_IMAGE}:{CONTROLLER_TAG}"));
        let java_opts = ctrl
            .java_opts
            .clone()
            .unwrap_or_else(|| defaults.java_opts.to_owned());
        let resources = ctrl
            .resources
            .as_ref()
            .and_then(|r| resources(r, defaults.resources));
        let replicas = match mode {
            Mode::Standalone => 1,
            Mode::Enterprise => replicas(ctrl.replicas, "configs.controller.replicas")?,
        };
        check_java_heap(
            "configs.controller",
            &java_opts,
            ctrl.java_opts.is_some(),
            resources.as_ref(),
            ctrl.resources.as_ref(),
        )?;
        Ok(Controller {
            mode,
            image,
            java_opts,
            user_memory: configs
                .invoker
                .as_ref()
                .and_then(|i| i.container_pool.as_ref())
                .and_then(|p| p.user_memory.clone())
                .unwrap_or_else(|| "2048m".to_owned()),
            resources,
            use_private_registry,
            limits: Limits::from_spec(spec, &defaults),
            replicas,
            logging_level: logging_level(ctrl.logging_level),
        })
    }
}

impl Limits {
    fn from_spec(spec: &WhiskSpec, defaults: &ModeDefaults) -> Limits {
        let limits = spec
            .configs
            .as_ref()
            .and_then(|c| c.limits.clone())
            .unwrap_or_default();
        let actions = limits.actions.clone().unwrap_or_default();
        let time = limits.time.clone().unwrap_or_default();
        let memory = limits.memory.clone().unwrap_or_default();
        let concurrency = limits.concurrency.clone().unwrap_or_default();
        let balancer = limits.loadbalancer.clone().unwrap_or_default();
        let count =
            |v: Option<i32>, default: u32| v.and_then(|v| u32::try_from(v).ok()).unwrap_or(default);
        let text =
            |v: &Option<String>, default: &str| v.clone().unwrap_or_else(|| default.to_owned());
        Limits {
            invokes_per_minute: count(actions.invokes_per_minute, defaults.per_minute),
            invokes_concurrent: count(actions.invokes_concurrent, defaults.concurrent),
            fires_per_minute: count(
                limits.triggers.as_ref().and_then(|t| t.fires_per_minute),
                defaults.per_minute,
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
            // The `ops` CLI writes "" when the fraction was never configured: the default then.
            blackbox_fraction: balancer
                .blackbox_fraction
                .filter(|f| !f.trim().is_empty())
                .unwrap_or_else(|| "10%".to_owned()),
            timeout_factor: count(balancer.timeout_factor, 2),
        }
    }
}

/// StatefulSet replicas: at least one (the original turned 0 into 1 without a word).
pub(super) fn replicas(value: Option<i32>, field: &str) -> Result<u32, ConfigError> {
    match value {
        None => Ok(1),
        Some(n) => u32::try_from(n).ok().filter(|n| *n >= 1).ok_or_else(|| {
            ConfigError::invalid(field, format!("{field} must be at least 1, not {n}"))
        }),
    }
}

pub(super) fn logging_level(level: Option<LoggingLevel>) -> String {
    match level.unwrap_or(LoggingLevel::Info) {
        LoggingLevel::Info => "INFO",
        LoggingLevel::Debug => "DEBUG",
        LoggingLevel::Warn => "WARN",
        LoggingLevel::Error => "ERROR",
        LoggingLevel::Trace => "TRACE",
    }
    .to_owned()
}

/// The heap of `<prefix>.javaOpts` must fit `<prefix>.resources.mem-lim` when the container has
/// limits (see [`check_heap_fits`]).
pub(super) fn check_java_heap(
    prefix: &str,
    java_opts: &str,
    java_opts_given: bool,
    resources: Option<&Resources>,
    given: Option<&crate::crd::Resources>,
) -> Result<(), ConfigError> {
    let Some(resources) = resources else {
        return Ok(());
    };
    let opts_field = format!("{prefix}.javaOpts");
    let limit_field = format!("{prefix}.resources.mem-lim");
    let limit_given = given.is_some_and(|r| r.mem_lim.is_some());
    check_heap_fits(
        (java_opts, java_opts_given.then_some(opts_field.as_str())),
        (
            &resources.memory_limit,
            limit_given.then_some(limit_field.as_str()),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(value: serde_json::Value) -> WhiskSpec {
        serde_json::from_value(value).expect("a spec")
    }

    #[test]
    fn the_enterprise_defaults_are_the_originals() {
        let c = Controller::from_spec(&spec(json!({})), false, Mode::Enterprise).expect("valid");
        assert_eq!(c.java_opts, "-Xmx1024M");
        assert_eq!(c.limits.invokes_per_minute, 999);
        assert_eq!(c.limits.fires_per_minute, 999);
        assert_eq!(c.limits.invokes_concurrent, 250);
        assert_eq!(c.limits.blackbox_fraction, "10%");
        assert_eq!(c.limits.timeout_factor, 2);
        assert_eq!((c.replicas, c.logging_level.as_str()), (1, "INFO"));
        let s = Controller::from_spec(&spec(json!({})), false, Mode::Standalone).expect("valid");
        assert_eq!(
            (s.java_opts.as_str(), s.limits.invokes_per_minute),
            ("-Xmx2048M", 60)
        );
    }

    #[test]
    fn an_empty_blackbox_fraction_from_the_cli_means_the_default() {
        let c = Controller::from_spec(
            &spec(json!({"configs": {"limits": {"loadbalancer": {"blackbox-fraction": "", "timeout-factor": 3}}}})),
            false,
            Mode::Enterprise,
        )
        .expect("valid");
        assert_eq!(
            (c.limits.blackbox_fraction.as_str(), c.limits.timeout_factor),
            ("10%", 3)
        );
    }

    #[test]
    fn zero_replicas_and_an_oversized_heap_are_invalid_with_the_field() {
        let err = Controller::from_spec(
            &spec(json!({"configs": {"controller": {"replicas": 0}}})),
            false,
            Mode::Enterprise,
        )
        .expect_err("zero replicas");
        assert!(
            matches!(&err, ConfigError::Invalid { field, .. } if field == "configs.controller.replicas"),
            "{err:?}"
        );
        let err = Controller::from_spec(
            &spec(json!({"configs": {"controller": {
                "javaOpts": "-Xmx3g", "resources": {"cpu-req": "1", "mem-lim": "2G"}}}})),
            false,
            Mode::Enterprise,
        )
        .expect_err("3 GiB heap in 2 GB");
        assert!(
            matches!(&err, ConfigError::Invalid { field, .. } if field == "configs.controller.javaOpts"),
            "{err:?}"
        );
        // standalone ignores replicas, as the original
        Controller::from_spec(
            &spec(json!({"configs": {"controller": {"replicas": 0}}})),
            false,
            Mode::Standalone,
        )
        .expect("standalone runs one controller");
    }
}
