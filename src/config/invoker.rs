//! The OpenWhisk invoker's configuration (enterprise mode): it runs the actions as pods through
//! the Kubernetes container factory.

use super::image::with_tag;
use super::openwhisk::{CONTROLLER_TAG, check_java_heap, logging_level, replicas};
use super::{ConfigError, Resources, resources};
use crate::crd::WhiskSpec;

/// Image default of the original (its Dockerfile): the same tag as the controller's.
pub const INVOKER_IMAGE: &str = "ghcr.io/nuvolaris/openwhisk-invoker";

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Invoker {
    pub image: String,
    pub java_opts: String,
    /// `configs.invoker.containerPool.userMemory`: memory for action containers.
    pub user_memory: String,
    pub logging_level: String,
    pub replicas: u32,
    pub resources: Option<Resources>,
    /// The invoker's HTTP port (`spec.invoker.port`): container, Service and `PORT`.
    pub port: u16,
    pub use_private_registry: bool,
    pub kubernetes: ContainerFactory,
}

/// Settings of the Kubernetes container factory (`configs.invoker.kubernetes`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContainerFactory {
    pub timeouts_run_minutes: u32,
    pub timeouts_logs_minutes: u32,
    pub port_forwarding: bool,
    /// Where action pods run: the installation's namespace.
    pub action_namespace: String,
    /// Action pods only on nodes labelled `user_pod_affinity_key=user_pod_affinity_value`.
    pub user_pod_affinity: bool,
    pub user_pod_affinity_key: String,
    pub user_pod_affinity_value: String,
}

impl Invoker {
    /// The invoker's settings; `enabled` says whether they are used, and only then are they
    /// checked (a disabled invoker's leftovers do not block the rest).
    pub(super) fn from_spec(
        spec: &WhiskSpec,
        namespace: &str,
        use_private_registry: bool,
        enabled: bool,
    ) -> Result<Invoker, ConfigError> {
        let configs = spec.configs.clone().unwrap_or_default();
        let inv = configs.invoker.clone().unwrap_or_default();
        let k8s = inv.kubernetes.clone().unwrap_or_default();
        let image = spec
            .invoker
            .as_ref()
            .and_then(|i| {
                i.image
                    .as_ref()
                    .map(|image| with_tag(image, i.tag.as_deref(), CONTROLLER_TAG))
            })
            .unwrap_or_else(|| format!("{INVOKER_IMAGE}:{CONTROLLER_TAG}"));
        let java_opts = inv
            .java_opts
            .clone()
            .unwrap_or_else(|| "-Xmx1024M".to_owned());
        let resources = inv
            .resources
            .as_ref()
            .and_then(|r| resources(r, ("2", "1G", "2G")));
        let minutes = |v: Option<i32>| v.and_then(|v| u32::try_from(v).ok()).filter(|v| *v > 0);
        let action_namespace = k8s
            .action_namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| namespace.to_owned());
        let replica_count = if enabled {
            check_java_heap(
                "configs.invoker",
                &java_opts,
                inv.java_opts.is_some(),
                resources.as_ref(),
                inv.resources.as_ref(),
            )?;
            if action_namespace != namespace {
                let field = "configs.invoker.kubernetes.action_namespace";
                return Err(ConfigError::invalid(
                    field,
                    format!(
                        "{field} is {action_namespace:?}: action pods run in the installation's namespace {namespace:?}, where the invoker may create them"
                    ),
                ));
            }
            replicas(inv.replicas, "configs.invoker.replicas")?
        } else {
            1
        };
        Ok(Invoker {
            image,
            java_opts,
            user_memory: inv
                .container_pool
                .as_ref()
                .and_then(|p| p.user_memory.clone())
                .unwrap_or_else(|| "2048m".to_owned()),
            logging_level: logging_level(inv.logging_level),
            replicas: replica_count,
            resources,
            port: spec
                .invoker
                .as_ref()
                .and_then(|i| i.port.as_ref())
                .and_then(|p| p.number())
                .unwrap_or(8080),
            use_private_registry,
            kubernetes: ContainerFactory {
                timeouts_run_minutes: minutes(k8s.timeouts_run).unwrap_or(1),
                timeouts_logs_minutes: minutes(k8s.timeouts_logs).unwrap_or(1),
                port_forwarding: k8s.port_forwarding_enabled.unwrap_or(false),
                action_namespace,
                user_pod_affinity: k8s.user_pod_affinity_enabled.unwrap_or(false),
                user_pod_affinity_key: k8s
                    .user_pod_affinity_key
                    .clone()
                    .filter(|k| !k.is_empty())
                    .unwrap_or_else(|| "nuvolaris-role".to_owned()),
                user_pod_affinity_value: k8s
                    .user_pod_affinity_value
                    .clone()
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| "invoker".to_owned()),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn invoker(spec: serde_json::Value, enabled: bool) -> Result<Invoker, ConfigError> {
        let spec: WhiskSpec = serde_json::from_value(spec).expect("a spec");
        Invoker::from_spec(&spec, "ns", false, enabled)
    }

    fn field(err: ConfigError) -> String {
        match err {
            ConfigError::Invalid { field, .. } => field,
            other => panic!("invalid input expected, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_the_originals_with_the_installation_namespace() {
        let i = invoker(json!({}), true).expect("valid");
        assert_eq!(
            i.image,
            "ghcr.io/nuvolaris/openwhisk-invoker:3.1.0-mastrogpt.2402101445"
        );
        assert_eq!(
            (i.java_opts.as_str(), i.replicas, i.port),
            ("-Xmx1024M", 1, 8080)
        );
        assert_eq!(i.kubernetes.action_namespace, "ns");
        assert_eq!(
            (
                i.kubernetes.timeouts_run_minutes,
                i.kubernetes.user_pod_affinity_value.as_str()
            ),
            (1, "invoker")
        );
        assert_eq!(i.resources, None);
    }

    #[test]
    fn bad_input_names_its_field_only_when_the_invoker_runs() {
        let zero = json!({"configs": {"invoker": {"replicas": 0}}});
        assert_eq!(
            field(invoker(zero.clone(), true).expect_err("0 replicas")),
            "configs.invoker.replicas"
        );
        invoker(zero, false).expect("not checked while the invoker is off");
        let heap = json!({"configs": {"invoker": {
            "javaOpts": "-Xmx4g", "resources": {"cpu-req": "1", "mem-lim": "2Gi"}}}});
        assert_eq!(
            field(invoker(heap, true).expect_err("4 GiB heap in 2 GiB")),
            "configs.invoker.javaOpts"
        );
        let elsewhere =
            json!({"configs": {"invoker": {"kubernetes": {"action_namespace": "other"}}}});
        assert_eq!(
            field(invoker(elsewhere, true).expect_err("other namespace")),
            "configs.invoker.kubernetes.action_namespace"
        );
        let same = json!({"configs": {"invoker": {"kubernetes": {"action_namespace": "ns"}}}});
        invoker(same, true).expect("its own namespace");
    }
}
