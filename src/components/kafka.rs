//! Kafka: the message bus between the controller and the invokers (enterprise mode), a broker
//! in ZooKeeper mode.
//!
//! Deploys: StatefulSet `kafka` (pod `kafka-0`; the broker with the JMX exporter agent and the
//! volume exporter sidecar), headless Service `kafka`, the generated ConfigMap `kafka-<hash>`
//! (server.properties) and the claim `kafka-pvc-data` (never deleted by the operator). The
//! controller and the invoker connect to [`crate::config::Kafka::bootstrap`].

use minijinja::context;

use super::kit::{MountedClaim, Overlay, Workload};
use super::{Component, RenderError};
use crate::apply::kinds::{self, KnownKind};
use crate::config::Config;
use crate::config::kafka::KAFKA_BROKER_PORT;
use crate::config::zookeeper::ZOOKEEPER_CLIENT_PORT;
use crate::crd::ComponentId;

pub struct Kafka;

const KAFKA: Workload = Workload::stateful_set("kafka");

impl Component for Kafka {
    fn id(&self) -> ComponentId {
        ComponentId::Kafka
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        let kafka = &cfg.kafka;
        let properties = server_properties(cfg).map_err(|e| RenderError::Defect {
            component: self.id(),
            message: e.to_string(),
        })?;
        Overlay::new(self.id(), &cfg.namespace)
            .base("kafka", &["service.yaml", "statefulset.yaml"])?
            .config_map("kafka", [("server.properties", properties)])
            .persistent_volume_claim(&MountedClaim {
                name: "kafka-pvc-data",
                size_gi: kafka.volume_gi,
                storage_class: cfg.storage_class.clone(),
            })?
            .patch(
                "kafka/kafka-settings.yaml",
                context! {
                    zookeeper_host => cfg.zookeeper.host(), zookeeper_port => ZOOKEEPER_CLIENT_PORT,
                },
            )?
            .image("ghcr.io/nuvolaris/kafka", &kafka.image)
            .image(
                "ghcr.io/nuvolaris/volume_exporter",
                &kafka.volume_exporter_image,
            )
            .scheduling(KAFKA, cfg.scheduling, "kafka")
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

/// The server.properties the broker starts with.
pub fn server_properties(cfg: &Config) -> Result<String, crate::render::TemplateError> {
    crate::render::render(
        "kafka/server.properties",
        context! { broker_port => KAFKA_BROKER_PORT, zookeeper_connect => cfg.kafka.zookeeper_connect.clone() },
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::components::test_support::{config, find, rendered};

    #[test]
    fn the_bootstrap_servers_name_the_rendered_service_and_broker_port() {
        let cfg = config(json!({"components": {"kafka": true, "zookeeper": true}}));
        let objects = rendered(&Kafka, &cfg);
        let service = find(&objects, "Service", "kafka");
        let sts = find(&objects, "StatefulSet", "kafka");
        assert_eq!(sts["spec"]["serviceName"], service["metadata"]["name"]);
        let broker = service["spec"]["ports"]
            .as_array()
            .and_then(|ports| ports.iter().find(|p| p["name"] == "broker"))
            .expect("the broker port");
        assert_eq!(
            cfg.kafka.bootstrap(),
            format!(
                "{}:{}",
                service["metadata"]["name"].as_str().unwrap_or(""),
                broker["port"]
            )
        );
        let properties = find(&objects, "ConfigMap", "kafka")["data"]["server.properties"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            properties.contains(&format!("zookeeper.connect={}\n", cfg.zookeeper.connect())),
            "{properties}"
        );
        let wait = sts
            .pointer("/spec/template/spec/initContainers/0/command/2")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        assert!(
            wait.contains("nc -w 1 zookeeper-0.zookeeper 2181"),
            "{wait}"
        );
        let start = sts
            .pointer("/spec/template/spec/containers/0/command/2")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        assert!(
            start.contains("kafka-server-start.sh /config/server.properties"),
            "{start}"
        );
    }
}
