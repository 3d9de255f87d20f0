//! etcd, the metadata store of Milvus (`components.etcd`).
//!
//! Deploys: StatefulSet `nuvolaris-etcd` (claims `nuvolaris-etc-data-nuvolaris-etcd-<n>`),
//! Services `nuvolaris-etcd` and `nuvolaris-etcd-headless`, the generated Secrets
//! `nuvolaris-etcd-secret-<hash>` (root password) and `nuvolaris-etcd-jwt-token-<hash>` (the
//! key etcd signs its auth tokens with, generated per installation), and the
//! PodDisruptionBudget `nuvolaris-etcd` with more than one member.

use super::kit::{Overlay, VolumeClaim, Workload};
use super::{Component, Leftover, RenderError};
use crate::apply::kinds::{self, KnownKind};
use crate::config::etcd::NAME;
use crate::config::{self, Config, GeneratedKey};
use crate::crd::ComponentId;

pub struct Etcd;

const ETCD: Workload = Workload::stateful_set("nuvolaris-etcd");

impl Component for Etcd {
    fn id(&self) -> ComponentId {
        ComponentId::Etcd
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        let etcd = &cfg.etcd;
        let ns = &cfg.namespace;
        let domain = format!("{NAME}-headless.{ns}.svc.cluster.local");
        let initial_cluster = (0..etcd.replicas)
            .map(|i| format!("{NAME}-{i}=http://{NAME}-{i}.{domain}:2380"))
            .collect::<Vec<_>>()
            .join(",");
        let advertise_client = format!(
            "http://$(MY_POD_NAME).{domain}:2379,http://{NAME}.{ns}.svc.cluster.local:2379"
        );
        let advertise_peer = format!("http://$(MY_POD_NAME).{domain}:2380");
        let quota = etcd.quota_backend_bytes.to_string();
        let container = ETCD.container("nuvolaris-etcd");
        let mut overlay = Overlay::new(self.id(), ns)
            .base("etcd", &["etcd.yaml"])?
            .secret(
                "nuvolaris-etcd-secret",
                [("rootPassword", etcd.root_password.expose())],
            )
            .secret(
                "nuvolaris-etcd-jwt-token",
                [("jwt-token.pem", etcd.jwt_key.expose())],
            )
            .image("docker.io/bitnamilegacy/etcd", &etcd.image)
            .env(
                container,
                &[
                    ("ETCD_INITIAL_CLUSTER", initial_cluster.as_str()),
                    ("ETCD_ADVERTISE_CLIENT_URLS", advertise_client.as_str()),
                    ("ETCD_INITIAL_ADVERTISE_PEER_URLS", advertise_peer.as_str()),
                    ("ETCD_CLUSTER_DOMAIN", domain.as_str()),
                    (
                        "ETCD_AUTO_COMPACTION_RETENTION",
                        etcd.auto_compaction_retention.as_str(),
                    ),
                    ("ETCD_QUOTA_BACKEND_BYTES", quota.as_str()),
                ],
            )?
            .replicas(ETCD, etcd.replicas)?
            .resources(
                container,
                &config::Resources {
                    cpu_request: String::new(),
                    cpu_limit: String::new(),
                    memory_request: etcd.memory_request.clone(),
                    memory_limit: etcd.memory_limit.clone(),
                },
            )?
            .volume_claim_named(
                &VolumeClaim {
                    name: "nuvolaris-etc-data",
                    container,
                    mount_path: "/bitnami/etcd",
                    size_gi: etcd.volume_size_gi,
                    storage_class: cfg.storage_class.clone(),
                },
                "nuvolaris-etc-data",
            )?;
        if etcd.replicas > 1 {
            overlay = overlay.base("etcd", &["pdb.yaml"])?;
        }
        overlay.scheduling(ETCD, cfg.scheduling, NAME)
    }

    fn generated_secrets(&self) -> &'static [GeneratedKey] {
        config::etcd::GENERATED
    }

    /// The original's Secrets, replaced by `nuvolaris-etcd-secret-<hash>` and `nuvolaris-etcd-jwt-token-<hash>`.
    fn leftovers(&self) -> &'static [Leftover] {
        &[
            Leftover {
                kind: kinds::SECRET,
                name: "nuvolaris-etcd-secret",
            },
            Leftover {
                kind: kinds::SECRET,
                name: "nuvolaris-etcd-jwt-token",
            },
        ]
    }

    fn kinds(&self) -> &'static [KnownKind] {
        &[
            kinds::SECRET,
            kinds::SERVICE,
            kinds::STATEFUL_SET,
            kinds::POD_DISRUPTION_BUDGET,
        ]
    }
}
