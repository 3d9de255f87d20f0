//! SeaweedFS: the S3 object store (with `components.seaweedfs`; MinIO is the alternative).
//!
//! Deploys: the claim `seaweedfs-pvc` (kept when the component goes), the StatefulSet
//! `seaweedfs` (`app=seaweedfs`; master, volume server, filer and S3 gateway in one `weed
//! server`), the Service `seaweedfs` (NodePorts 32090 S3, 32091 filer, 32093 master), the routes
//! `seaweedfs-s3` and `seaweedfs-filer` when enabled, and the setup Job `seaweedfs-init`
//! (`nuvolaris-operator setup seaweedfs`: identities, buckets, quotas, and the accounts other components ask
//! for, Milvus's). Publishes the `s3_*`
//! annotations of `cm/config`.

use super::kit::{Claim, Overlay, Workload};
use super::object_store::{self, RouteNames};
use super::web;
use super::{Component, ConfigAnnotation, RenderError};
use crate::apply::kinds::{self, KnownKind};
use crate::config::seaweedfs::{FILER_PORT, SERVICE};
use crate::config::{self, Config, GeneratedKey};
use crate::crd::ComponentId;
use crate::setup::s3::S3Credentials;
use crate::setup::{SeaweedfsSetupConfig, SetupSettings};

pub struct Seaweedfs;

const SEAWEEDFS: Workload = Workload::stateful_set("seaweedfs");

impl Component for Seaweedfs {
    fn id(&self) -> ComponentId {
        ComponentId::Seaweedfs
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        let weed = &cfg.seaweedfs;
        let store = cfg.object_store().ok_or_else(|| RenderError::Defect {
            component: self.id(),
            message: "rendered while no object store is enabled".into(),
        })?;
        let mut setup = SeaweedfsSetupConfig::new(
            store.url(),
            format!("http://{}:{FILER_PORT}", store.host),
            S3Credentials::new(&weed.user.user, weed.user.password.clone()),
            weed.bucket_quota_mb,
        );
        setup.accounts = object_store::store_accounts(cfg);
        let mut overlay = Overlay::new(self.id(), &cfg.namespace)
            .base("seaweedfs", &["statefulset.yaml", "service.yaml"])?
            .claim(&Claim {
                name: "seaweedfs-pvc",
                volume: "seaweedfs-data",
                container: SEAWEEDFS.container("seaweedfs"),
                mount_path: "/data",
                size_gi: weed.volume_size_gi,
                storage_class: cfg.storage_class.clone(),
            })?
            .image("chrislusf/seaweedfs", &weed.image)
            .setup_job(&setup.to_env(), &cfg.operator_image)
            .scheduling(SEAWEEDFS, cfg.scheduling, "seaweedfs")?;
        let routes = object_store::store_routes(
            cfg,
            &weed.routes,
            &RouteNames {
                s3: "seaweedfs-s3",
                console: "seaweedfs-filer",
                service: SERVICE,
                console_port: FILER_PORT,
            },
        );
        for route in routes {
            for object in web::publish(&route, &cfg.publisher, &cfg.namespace) {
                overlay = overlay.object(&object);
            }
        }
        Ok(overlay)
    }

    fn config_annotations(&self, cfg: &Config) -> Vec<ConfigAnnotation> {
        match cfg.object_store() {
            Some(store) => object_store::s3_annotations(
                cfg,
                &store,
                &cfg.seaweedfs.user,
                &cfg.seaweedfs.routes,
            ),
            None => Vec::new(),
        }
    }

    fn generated_secrets(&self) -> &'static [GeneratedKey] {
        config::seaweedfs::GENERATED
    }

    fn kinds(&self) -> &'static [KnownKind] {
        &[
            kinds::SECRET,
            kinds::SERVICE,
            kinds::PERSISTENT_VOLUME_CLAIM,
            kinds::STATEFUL_SET,
            kinds::JOB,
            kinds::INGRESS,
            kinds::TRAEFIK_MIDDLEWARE,
            kinds::TRAEFIK_MIDDLEWARE_LEGACY,
            kinds::ROUTE,
        ]
    }
}
