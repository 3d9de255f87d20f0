//! The OpenWhisk controller, standalone (the invoker off: it runs actions itself) or enterprise
//! (the invoker on: it hands activations to the invokers through Kafka).
//!
//! Deploys in both modes: StatefulSet `controller` (pods `controller-N`), Services `controller`
//! (3233, node port 30233) and `controller-ip` (8080, where OpenShift routes point), and the
//! generated Secret `controller-couchdb-auth-<hash>` with the CouchDB credentials.
//! Standalone adds Service `debugger`, ConfigMap `openwhisk-pod-templates` and the
//! ServiceAccount `nuvolaris-openwhisk-core` with the Role to create action pods; enterprise
//! runs as ServiceAccount `openwhisk-core` (no rights) and waits for Kafka.
//!
//! Both modes render the same StatefulSet identity (name, selector, service name), so a switch
//! updates it in place and prune removes what the other mode had.

use minijinja::context;
use sha2::{Digest, Sha256};

use super::kit::{Overlay, Workload};
use super::{Component, RenderError};
use crate::apply::kinds::{self, KnownKind};
use crate::config::kafka::KAFKA_SERVICE;
use crate::config::{Config, Mode};
use crate::crd::ComponentId;
use crate::render::value;

pub struct Openwhisk;

/// The image name the base manifests use; the spec's image replaces it.
const BASE_IMAGE: &str = "ghcr.io/nuvolaris/openwhisk-controller";
const CONTROLLER: Workload = Workload::stateful_set("controller");

impl Component for Openwhisk {
    fn id(&self) -> ComponentId {
        ComponentId::Openwhisk
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        let c = &cfg.controller;
        let db = &cfg.couchdb;
        let runtimes_hash = runtimes_hash(cfg);
        let overlay = Overlay::new(self.id(), &cfg.namespace)
            .base("openwhisk", &["services.yaml"])?
            .secret(
                "controller-couchdb-auth",
                [
                    ("admin_user", db.admin.user.as_str()),
                    ("admin_password", db.admin.password.expose()),
                    ("controller_user", db.controller.user.as_str()),
                    ("controller_password", db.controller.password.expose()),
                ],
            );
        let mut overlay = match c.mode {
            Mode::Standalone => overlay
                .base(
                    "openwhisk",
                    &["standalone-rbac.yaml", "pod-templates.yaml", "debugger.yaml", "standalone-statefulset.yaml"],
                )?
                .patch("openwhisk/controller-settings.yaml", context! {
                    c => value(c), couchdb => value(db), namespace => cfg.namespace.clone(), runtimes_hash,
                })?,
            Mode::Enterprise => overlay
                .base("openwhisk", &["enterprise-rbac.yaml", "enterprise-statefulset.yaml"])?
                .patch("openwhisk/enterprise-settings.yaml", context! {
                    c => value(c), couchdb => value(db), namespace => cfg.namespace.clone(), runtimes_hash,
                    kafka_hosts => cfg.kafka.bootstrap(), kafka_service => KAFKA_SERVICE,
                })?
                .replicas(CONTROLLER, c.replicas)?,
        }
        .image(BASE_IMAGE, &c.image);
        if let Some(resources) = &c.resources {
            overlay = overlay.resources(CONTROLLER.container("controller"), resources)?;
        }
        overlay.scheduling(CONTROLLER, cfg.scheduling, "controller")
    }

    fn kinds(&self) -> &'static [KnownKind] {
        &[
            kinds::SERVICE_ACCOUNT,
            kinds::ROLE,
            kinds::ROLE_BINDING,
            kinds::SECRET,
            kinds::CONFIG_MAP,
            kinds::SERVICE,
            kinds::STATEFUL_SET,
        ]
    }
}

/// The hash of the runtimes manifest, annotated on the pod templates of the components that
/// read it (controller, invoker): a new manifest restarts them without the original's watcher.
pub(super) fn runtimes_hash(cfg: &Config) -> String {
    Sha256::digest(cfg.runtimes.manifest.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::components::test_support::{config, find, rendered};

    fn env(sts: &Value) -> Vec<(String, Value)> {
        sts.pointer("/spec/template/spec/containers/0/env")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|e| (e["name"].as_str().unwrap_or("").to_owned(), e.clone()))
            .collect()
    }

    #[test]
    fn the_enterprise_controller_talks_to_kafka_and_keeps_the_standalone_identity() {
        let enterprise = config(json!({
            "components": {"openwhisk": true, "invoker": true, "kafka": true, "zookeeper": true, "couchdb": true},
            "configs": {"controller": {"replicas": 2, "loggingLevel": "DEBUG"}},
        }));
        let standalone = config(json!({"components": {"openwhisk": true, "couchdb": true}}));
        let e = rendered(&Openwhisk, &enterprise);
        let s = rendered(&Openwhisk, &standalone);
        let (es, ss) = (
            find(&e, "StatefulSet", "controller"),
            find(&s, "StatefulSet", "controller"),
        );
        for immutable in [
            "/spec/selector",
            "/spec/serviceName",
            "/spec/podManagementPolicy",
        ] {
            assert_eq!(es.pointer(immutable), ss.pointer(immutable), "{immutable}");
        }
        assert_eq!(es["spec"]["replicas"], 2);
        let vars = env(es);
        let value = |name: &str| {
            vars.iter()
                .find(|(n, _)| n == name)
                .map(|(_, e)| e["value"].clone())
                .unwrap_or(Value::Null)
        };
        assert_eq!(value("KAFKA_HOSTS"), enterprise.kafka.bootstrap());
        assert_eq!(value("CONFIG_logback_log_level"), "DEBUG");
        assert_eq!(value("LIMITS_ACTIONS_INVOKES_PERMINUTE"), "999");
        assert!(
            vars.iter()
                .all(|(n, e)| !n.contains("password") || e.get("value").is_none()),
            "passwords only from the Secret"
        );
        assert_eq!(
            es.pointer("/spec/template/spec/serviceAccountName"),
            Some(&json!("openwhisk-core"))
        );
        let wait = es
            .pointer("/spec/template/spec/initContainers/0/command/2")
            .and_then(Value::as_str)
            .unwrap_or_default();
        assert!(wait.contains("kafka.nuvolaris.svc.cluster.local"), "{wait}");
        // the routes' Service exists in both modes; the debugger and the pod-creating Role only
        // in standalone
        for objects in [&e, &s] {
            find(objects, "Service", "controller-ip");
        }
        let names = |objects: &[Value]| -> Vec<String> {
            objects
                .iter()
                .map(|o| {
                    format!(
                        "{}/{}",
                        o["kind"].as_str().unwrap_or(""),
                        o["metadata"]["name"].as_str().unwrap_or("")
                    )
                })
                .collect()
        };
        assert!(!names(&e).contains(&"Service/debugger".to_owned()));
        assert!(!names(&e).iter().any(|n| n.starts_with("Role")));
        assert!(names(&s).contains(&"Role/openwhisk-core-role".to_owned()));
    }
}
