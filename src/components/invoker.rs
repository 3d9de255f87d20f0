//! The OpenWhisk invoker (enterprise mode): takes activations from Kafka and runs each action
//! in a pod of its own through the Kubernetes container factory.
//!
//! Deploys: StatefulSet `invoker` (pods `invoker-N`, label `app=invoker`), Service `invoker`,
//! ConfigMap `openwhisk-pod-templates` (the action pods' template), the ServiceAccount
//! `openwhisk-invoker` with the Role to manage action pods, and the generated Secret
//! `invoker-couchdb-auth-<hash>` with the CouchDB credentials. Placed on invoker nodes with
//! `nuvolaris.affinity`; restarted, like the controller, when the runtimes manifest changes.

use minijinja::context;

use super::kit::{Overlay, Workload};
use super::openwhisk::runtimes_hash;
use super::{Component, RenderError};
use crate::apply::kinds::{self, KnownKind};
use crate::config::Config;
use crate::config::kafka::KAFKA_SERVICE;
use crate::crd::ComponentId;
use crate::render::value;

pub struct Invoker;

/// The image name the base manifest uses; the spec's image replaces it.
const BASE_IMAGE: &str = "ghcr.io/nuvolaris/openwhisk-invoker";
const INVOKER: Workload = Workload::stateful_set("invoker");

impl Component for Invoker {
    fn id(&self) -> ComponentId {
        ComponentId::Invoker
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        let i = &cfg.invoker;
        let db = &cfg.couchdb;
        let mut overlay = Overlay::new(self.id(), &cfg.namespace)
            .base("invoker", &["rbac.yaml", "statefulset.yaml"])?
            .base("openwhisk", &["pod-templates.yaml"])?
            .resource_template("invoker/service.yaml", context! { port => i.port })?
            .secret(
                "invoker-couchdb-auth",
                [
                    ("admin_user", db.admin.user.as_str()),
                    ("admin_password", db.admin.password.expose()),
                    ("invoker_user", db.invoker.user.as_str()),
                    ("invoker_password", db.invoker.password.expose()),
                ],
            )
            .patch(
                "invoker/invoker-settings.yaml",
                context! {
                    i => value(i), limits => value(&cfg.controller.limits), couchdb => value(db),
                    namespace => cfg.namespace.clone(), runtimes_hash => runtimes_hash(cfg),
                    kafka_hosts => cfg.kafka.bootstrap(), kafka_service => KAFKA_SERVICE,
                    zookeeper_hosts => cfg.zookeeper.connect(),
                },
            )?
            .replicas(INVOKER, i.replicas)?
            .image(BASE_IMAGE, &i.image);
        if let Some(resources) = &i.resources {
            overlay = overlay.resources(INVOKER.container("invoker"), resources)?;
        }
        overlay.invoker_scheduling(INVOKER, cfg.scheduling, "invoker")
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

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::components::openwhisk::Openwhisk;
    use crate::components::test_support::{config, find, rendered};

    fn enterprise(extra: Value) -> Config {
        let mut spec = json!({"components": {
            "openwhisk": true, "invoker": true, "kafka": true, "zookeeper": true, "couchdb": true}});
        if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
            spec.extend(extra.clone());
        }
        config(spec)
    }

    fn env_value(sts: &Value, name: &str) -> Value {
        sts.pointer("/spec/template/spec/containers/0/env")
            .and_then(Value::as_array)
            .and_then(|env| env.iter().find(|e| e["name"] == name))
            .map(|e| e["value"].clone())
            .unwrap_or(Value::Null)
    }

    #[test]
    fn the_invoker_reads_urls_derived_from_the_configuration() {
        let cfg = enterprise(json!({
            "invoker": {"port": "8081", "image": "registry.example.org:5000/ow/invoker", "tag": "7"},
            "configs": {"invoker": {"replicas": 3, "containerPool": {"userMemory": "4g"},
                "kubernetes": {"timeouts_run": 5, "user_pod_affinity_enabled": true}}},
        }));
        let objects = rendered(&Invoker, &cfg);
        let sts = find(&objects, "StatefulSet", "invoker");
        assert_eq!(sts["spec"]["replicas"], 3);
        assert_eq!(env_value(sts, "KAFKA_HOSTS"), "kafka:9092");
        assert_eq!(
            env_value(sts, "ZOOKEEPER_HOSTS"),
            "zookeeper-0.zookeeper:2181"
        );
        assert_eq!(
            env_value(sts, "CONFIG_whisk_containerPool_userMemory"),
            "4g"
        );
        assert_eq!(
            env_value(sts, "CONFIG_whisk_kubernetes_timeouts_run"),
            "5 minute"
        );
        assert_eq!(
            env_value(sts, "CONFIG_whisk_kubernetes_userPodNodeAffinity_enabled"),
            "true"
        );
        assert_eq!(
            env_value(sts, "CONFIG_whisk_kubernetes_actionNamespace"),
            "nuvolaris"
        );
        assert_eq!(
            env_value(sts, "WHISK_API_HOST_NAME"),
            "controller.nuvolaris.svc.cluster.local"
        );
        assert_eq!(env_value(sts, "PORT"), "8081");
        assert_eq!(
            sts.pointer("/spec/template/spec/containers/0/image"),
            Some(&json!("registry.example.org:5000/ow/invoker:7"))
        );
        let service = find(&objects, "Service", "invoker");
        assert_eq!(service["spec"]["ports"][0]["port"], 8081);
        // the same manifest hash as the controller's: a runtimes change restarts both
        let controller = rendered(&Openwhisk, &cfg);
        let hash = "/spec/template/metadata/annotations/nuvolaris.org~1runtimes-hash";
        assert_eq!(
            sts.pointer(hash),
            find(&controller, "StatefulSet", "controller").pointer(hash)
        );
        assert!(sts.pointer(hash).is_some());
    }

    #[test]
    fn affinity_keeps_the_invoker_on_invoker_nodes() {
        let cfg = enterprise(json!({"nuvolaris": {"affinity": true, "tolerations": true}}));
        let objects = rendered(&Invoker, &cfg);
        let pod = &find(&objects, "StatefulSet", "invoker")["spec"]["template"]["spec"];
        assert_eq!(
            pod.pointer("/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/matchExpressions/0"),
            Some(&json!({"key": "nuvolaris-role", "operator": "In", "values": ["invoker"]}))
        );
        assert_eq!(pod["tolerations"][0]["value"], "invoker");
        assert_eq!(
            pod.pointer("/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/0/labelSelector/matchExpressions/0/values/0"),
            Some(&json!("invoker"))
        );
    }
}
