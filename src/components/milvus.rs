//! Milvus, the vector database (`components.milvus`), standalone, on etcd and the object store.
//!
//! Deploys: Deployment `nuvolaris-milvus-standalone` (pods labelled `name=nuvolaris-milvus`),
//! its claim `nuvolaris-milvus`, Service `nuvolaris-milvus` (NodePorts 32530 and 32531), the
//! generated Secret `nuvolaris-milvus-<hash>` with its configuration (passwords included), and
//! the setup Job `milvus-init` (`nuvolaris-operator setup milvus`: the `nuvolaris` user,
//! database and role over the REST API). Its object store account `miniomilvus` and bucket
//! `vectors` are made by the store's setup Job (`Component::store_accounts`): installed once
//! etcd and the object store, that Job included, are ready.

use minijinja::context;

use super::kit::{Overlay, Workload};
use super::{Component, ConfigAnnotation, Leftover, RenderError};
use crate::apply::kinds::{self, KnownKind};
use crate::config::milvus::{BUCKET, DATABASE, NAME, PORT, S3_USER, USER};
use crate::config::{self, Config, GeneratedKey};
use crate::crd::ComponentId;
use crate::setup::object_store::StoreAccount;
use crate::setup::s3::S3Credentials;
use crate::setup::{MilvusSetupConfig, SetupSettings};

pub struct Milvus;

const MILVUS: Workload = Workload::deployment("nuvolaris-milvus-standalone");

impl Component for Milvus {
    fn id(&self) -> ComponentId {
        ComponentId::Milvus
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        let milvus = &cfg.milvus;
        let (s3_host, s3_port) = milvus.object_store.endpoint();
        let user_yaml = crate::render::render(
            "milvus/user.yaml",
            context! {
                etcd_endpoints => cfg.etcd.endpoints(&cfg.namespace),
                etcd_user => config::etcd::ROOT_USER,
                etcd_password => cfg.etcd.root_password.expose(),
                s3_host => s3_host, s3_port => s3_port,
                s3_user => S3_USER, s3_password => milvus.s3_password.expose(),
                bucket => BUCKET,
                max_database_num => milvus.max_database_num,
                max_role_num => milvus.max_role_num,
                max_user_num => milvus.max_user_num,
                root_password => milvus.root_password.expose(),
            },
        )
        .map_err(|e| RenderError::Defect {
            component: self.id(),
            message: e.to_string(),
        })?;
        let setup = MilvusSetupConfig::new(
            format!("http://{NAME}:{PORT}"),
            milvus.root_password.clone(),
            milvus.nuvolaris_password.clone(),
        );
        Overlay::new(self.id(), &cfg.namespace)
            .base("milvus", &["milvus.yaml"])?
            .secret(NAME, [("user.yaml", user_yaml.as_str())])
            .image("milvusdb/milvus", &milvus.image)
            .replicas(MILVUS, milvus.replicas)?
            .claim_size(NAME, milvus.volume_size_gi, cfg.storage_class.as_deref())?
            .setup_job(&setup.to_env(), &cfg.operator_image)
            .scheduling(MILVUS, cfg.scheduling, NAME)
    }

    fn dependencies(&self, cfg: &Config) -> Vec<ComponentId> {
        vec![ComponentId::Etcd, cfg.milvus.object_store.component()]
    }

    /// `miniomilvus` on `vectors`, the account its configuration (`user.yaml`) uses.
    fn store_accounts(&self, cfg: &Config) -> Vec<StoreAccount> {
        vec![StoreAccount {
            credentials: S3Credentials::new(S3_USER, cfg.milvus.s3_password.clone()),
            bucket: BUCKET.to_owned(),
            quota_mb: cfg.milvus.bucket_quota_mb,
        }]
    }

    fn config_annotations(&self, cfg: &Config) -> Vec<ConfigAnnotation> {
        vec![
            ConfigAnnotation::plain(
                "milvus_host",
                format!("{NAME}.{}.svc.cluster.local", cfg.namespace),
            ),
            ConfigAnnotation::plain("milvus_port", PORT.to_string()),
            ConfigAnnotation::credential(
                "milvus_token",
                format!("{USER}:{}", cfg.milvus.nuvolaris_password.expose()),
            ),
            ConfigAnnotation::plain("milvus_db_name", DATABASE),
        ]
    }

    fn generated_secrets(&self) -> &'static [GeneratedKey] {
        config::milvus::GENERATED
    }

    /// The original's configuration (now the Secret `nuvolaris-milvus-<hash>`) and its Pulsar
    /// cluster (now rocksmq, embedded). Pulsar's claims are kept: a claim is never removed.
    fn leftovers(&self) -> &'static [Leftover] {
        &[
            Leftover {
                kind: kinds::CONFIG_MAP,
                name: "nuvolaris-milvus",
            },
            Leftover {
                kind: kinds::CONFIG_MAP,
                name: "nuvolaris-milvus-minio",
            },
            Leftover {
                kind: kinds::CONFIG_MAP,
                name: "nuvolaris-milvus-pulsarv3-bookie",
            },
            Leftover {
                kind: kinds::CONFIG_MAP,
                name: "nuvolaris-milvus-pulsarv3-broker",
            },
            Leftover {
                kind: kinds::CONFIG_MAP,
                name: "nuvolaris-milvus-pulsarv3-proxy",
            },
            Leftover {
                kind: kinds::CONFIG_MAP,
                name: "nuvolaris-milvus-pulsarv3-recovery",
            },
            Leftover {
                kind: kinds::CONFIG_MAP,
                name: "nuvolaris-milvus-pulsarv3-zookeeper",
            },
            Leftover {
                kind: kinds::SECRET,
                name: "nuvolaris-milvus-etcd-secret",
            },
            Leftover {
                kind: kinds::SECRET,
                name: "nuvolaris-milvus-s3-secret",
            },
            Leftover {
                kind: kinds::SERVICE,
                name: "nuvolaris-milvus-pulsarv3-bookie",
            },
            Leftover {
                kind: kinds::SERVICE,
                name: "nuvolaris-milvus-pulsarv3-broker",
            },
            Leftover {
                kind: kinds::SERVICE,
                name: "nuvolaris-milvus-pulsarv3-recovery",
            },
            Leftover {
                kind: kinds::SERVICE,
                name: "nuvolaris-milvus-pulsarv3-zookeeper",
            },
            Leftover {
                kind: kinds::STATEFUL_SET,
                name: "nuvolaris-milvus-pulsarv3-bookie",
            },
            Leftover {
                kind: kinds::STATEFUL_SET,
                name: "nuvolaris-milvus-pulsarv3-broker",
            },
            Leftover {
                kind: kinds::STATEFUL_SET,
                name: "nuvolaris-milvus-pulsarv3-proxy",
            },
            Leftover {
                kind: kinds::STATEFUL_SET,
                name: "nuvolaris-milvus-pulsarv3-recovery",
            },
            Leftover {
                kind: kinds::STATEFUL_SET,
                name: "nuvolaris-milvus-pulsarv3-zookeeper",
            },
            Leftover {
                kind: kinds::JOB,
                name: "nuvolaris-milvus-pulsarv3-bookie-init",
            },
            Leftover {
                kind: kinds::JOB,
                name: "nuvolaris-milvus-pulsarv3-pulsar-init",
            },
        ]
    }

    fn kinds(&self) -> &'static [KnownKind] {
        &[
            kinds::SECRET,
            kinds::SERVICE,
            kinds::PERSISTENT_VOLUME_CLAIM,
            kinds::DEPLOYMENT,
            kinds::JOB,
        ]
    }
}
