//! Kafka's configuration (the enterprise mode's message bus between controller and invokers).

use super::positive;
use crate::crd::WhiskSpec;

/// The original's images: the broker (with the Prometheus JMX exporter agent) and the sidecar
/// that exports the data volume's usage.
pub const KAFKA_IMAGE: &str = "ghcr.io/nuvolaris/kafka:2.3.1.2311011621";
pub const VOLUME_EXPORTER_IMAGE: &str = "ghcr.io/nuvolaris/volume_exporter:1.0.0.2311032017";
/// The StatefulSet and its headless Service (`deploy/kafka`).
pub const KAFKA_SERVICE: &str = "kafka";
/// The broker port (the Service's port named `broker`), the JMX exporter's and the volume
/// exporter's.
pub const KAFKA_BROKER_PORT: u16 = 9092;
pub const KAFKA_METRICS_PORT: u16 = 9071;
pub const KAFKA_VOLUME_METRICS_PORT: u16 = 9888;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Kafka {
    pub image: String,
    pub volume_exporter_image: String,
    /// Claim `kafka-pvc-data`, in GiB.
    pub volume_gi: u32,
    /// `zookeeper.connect`: [`super::Zookeeper::connect`].
    pub zookeeper_connect: String,
}

impl Kafka {
    pub(super) fn from_spec(spec: &WhiskSpec, zookeeper: &super::Zookeeper) -> Kafka {
        let kafka = spec.kafka.clone().unwrap_or_default();
        Kafka {
            image: KAFKA_IMAGE.to_owned(),
            volume_exporter_image: VOLUME_EXPORTER_IMAGE.to_owned(),
            volume_gi: positive(kafka.volume_size).unwrap_or(10),
            zookeeper_connect: zookeeper.connect(),
        }
    }

    /// The bootstrap servers of the controller and the invoker (`KAFKA_HOSTS`), derived from
    /// the configuration on every render (the original kept it in memory: inventory §18.5).
    pub fn bootstrap(&self) -> String {
        format!("{KAFKA_SERVICE}:{KAFKA_BROKER_PORT}")
    }
}
