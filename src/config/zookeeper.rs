//! ZooKeeper's configuration (the enterprise mode's coordination service, used by Kafka and the
//! invoker).

use super::positive;
use crate::crd::WhiskSpec;

/// The original's image.
pub const ZOOKEEPER_IMAGE: &str = "ghcr.io/nuvolaris/zookeeper:3.4.14";
/// The StatefulSet and its headless Service (`deploy/zookeeper`): pod `zookeeper-0` is reached
/// as `zookeeper-0.zookeeper`.
pub const ZOOKEEPER_SERVICE: &str = "zookeeper";
/// The client port (the Service's and container's port named `zookeeper`).
pub const ZOOKEEPER_CLIENT_PORT: u16 = 2181;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Zookeeper {
    pub image: String,
    /// Claims `zookeeper-pvc-data` and `zookeeper-pvc-datalog`, in GiB.
    pub data_volume_gi: u32,
    pub log_volume_gi: u32,
}

impl Zookeeper {
    pub(super) fn from_spec(spec: &WhiskSpec) -> Zookeeper {
        let zk = spec.zookeeper.clone().unwrap_or_default();
        Zookeeper {
            image: ZOOKEEPER_IMAGE.to_owned(),
            data_volume_gi: positive(zk.data_volume_size).unwrap_or(10),
            log_volume_gi: positive(zk.log_volume_size).unwrap_or(5),
        }
    }

    /// The host of the (single) server: its pod's name under the headless Service.
    pub fn host(&self) -> String {
        format!("{ZOOKEEPER_SERVICE}-0.{ZOOKEEPER_SERVICE}")
    }

    /// The connect string of Kafka (`zookeeper.connect`) and the invoker (`ZOOKEEPER_HOSTS`),
    /// derived from the configuration on every render (the original kept it in memory, set
    /// only by a create that had run in the same process: inventory §18.5).
    pub fn connect(&self) -> String {
        format!("{}:{ZOOKEEPER_CLIENT_PORT}", self.host())
    }
}
