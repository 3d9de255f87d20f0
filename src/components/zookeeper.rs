//! ZooKeeper: Kafka's metadata store and the invoker's coordination service (enterprise mode).
//!
//! Deploys: StatefulSet `zookeeper` (pod `zookeeper-0`), headless Service `zookeeper`, the
//! generated ConfigMap `zookeeper-<hash>` (zoo.cfg, log4j.properties) and the claims
//! `zookeeper-pvc-data` and `zookeeper-pvc-datalog` (never deleted by the operator). Kafka and
//! the invoker connect to [`crate::config::Zookeeper::connect`], which names this pod and port.

use minijinja::context;

use super::kit::{MountedClaim, Overlay, Workload};
use super::{Component, RenderError};
use crate::apply::kinds::{self, KnownKind};
use crate::config::Config;
use crate::config::zookeeper::ZOOKEEPER_CLIENT_PORT;
use crate::crd::ComponentId;

pub struct Zookeeper;

const ZOOKEEPER: Workload = Workload::stateful_set("zookeeper");

impl Component for Zookeeper {
    fn id(&self) -> ComponentId {
        ComponentId::Zookeeper
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        let zk = &cfg.zookeeper;
        let defect = |e: crate::render::TemplateError| RenderError::Defect {
            component: self.id(),
            message: e.to_string(),
        };
        let zoo_cfg = zoo_cfg(cfg).map_err(defect)?;
        let log4j = crate::render::render("zookeeper/log4j.properties", ()).map_err(defect)?;
        Overlay::new(self.id(), &cfg.namespace)
            .base("zookeeper", &["service.yaml", "statefulset.yaml"])?
            .config_map(
                "zookeeper",
                [("zoo.cfg", zoo_cfg), ("log4j.properties", log4j)],
            )
            .persistent_volume_claim(&MountedClaim {
                name: "zookeeper-pvc-data",
                size_gi: zk.data_volume_gi,
                storage_class: cfg.storage_class.clone(),
            })?
            .persistent_volume_claim(&MountedClaim {
                name: "zookeeper-pvc-datalog",
                size_gi: zk.log_volume_gi,
                storage_class: cfg.storage_class.clone(),
            })?
            .image("ghcr.io/nuvolaris/zookeeper", &zk.image)
            .scheduling(ZOOKEEPER, cfg.scheduling, "zookeeper")
    }

    fn kinds(&self) -> &'static [KnownKind] {
        &[
            kinds::CONFIG_MAP,
            kinds::PERSISTENT_VOLUME_CLAIM,
            kinds::SERVICE,
            kinds::STATEFUL_SET,
        ]
    }
}

/// The zoo.cfg the server reads.
pub fn zoo_cfg(cfg: &Config) -> Result<String, crate::render::TemplateError> {
    crate::render::render(
        "zookeeper/zoo.cfg",
        context! { client_port => ZOOKEEPER_CLIENT_PORT, host => cfg.zookeeper.host() },
    )
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::components::test_support::{config, find, rendered};

    #[test]
    fn the_connect_string_names_the_rendered_pod_service_and_port() {
        let cfg = config(json!({"components": {"zookeeper": true},
            "zookeeper": {"data-volume-size": 7}, "nuvolaris": {"storageclass": "fast"}}));
        let objects = rendered(&Zookeeper, &cfg);
        let sts = find(&objects, "StatefulSet", "zookeeper");
        let service = find(&objects, "Service", "zookeeper");
        assert_eq!(
            service["spec"]["clusterIP"], "None",
            "pod names need a headless Service"
        );
        assert_eq!(sts["spec"]["serviceName"], service["metadata"]["name"]);
        let port = service["spec"]["ports"]
            .as_array()
            .and_then(|ports| ports.iter().find(|p| p["name"] == "zookeeper"))
            .expect("the client port");
        let (name, service_name) = (
            sts["metadata"]["name"].as_str().unwrap_or(""),
            service["metadata"]["name"].as_str().unwrap_or(""),
        );
        assert_eq!(
            cfg.zookeeper.connect(),
            format!("{name}-0.{service_name}:{}", port["port"])
        );
        let claim = find(&objects, "PersistentVolumeClaim", "zookeeper-pvc-data");
        assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "7Gi");
        assert_eq!(claim["spec"]["storageClassName"], "fast");
        // the generated ConfigMap is the one mounted
        let cm = find(&objects, "ConfigMap", "zookeeper");
        let mounted = sts
            .pointer("/spec/template/spec/volumes")
            .and_then(Value::as_array)
            .and_then(|v| v.iter().find(|v| v["name"] == "zk-config"))
            .map(|v| v["configMap"]["name"].clone());
        assert_eq!(mounted, Some(cm["metadata"]["name"].clone()));
        let zoo = cm["data"]["zoo.cfg"].as_str().unwrap_or_default();
        assert!(
            zoo.contains("clientPort=2181\n") && zoo.contains("ruok"),
            "{zoo}"
        );
    }
}
