//! MinIO: the S3 object store (with `components.minio`; SeaweedFS is the alternative).
//!
//! Deploys: the claim `minio-pv-claim` (kept when the component goes), the Deployment
//! `minio-deployment` (labels `app=minio`, `name=minio`: the `ops` CLI waits on `-l app=minio`),
//! the Service `nuvolaris-minio` (NodePorts 32090 S3, 32091 console), the generated Secret
//! `minio-auth-<hash>` with the root user, the routes `minio-upload` (`/api/upload` on the
//! apihost) and, when enabled, `minio-s3` and `minio-console` on hosts of their own, and the
//! setup Job `minio-init` (`nuvolaris-operator setup minio`: buckets, the `nuvolaris` user and
//! its policy, and the accounts other components ask for, Milvus's). Publishes the `s3_*` annotations of `cm/config`.

use super::kit::{Claim, Overlay, Workload};
use super::object_store::{self, RouteNames, TIMEOUT_SECONDS};
use super::web::{self, Target, WebRoute};
use super::{Component, ConfigAnnotation, RenderError};
use crate::apply::kinds::{self, KnownKind};
use crate::config::{self, Config, GeneratedKey};
use crate::crd::ComponentId;
use crate::setup::s3::S3Credentials;
use crate::setup::{MinioSetupConfig, SetupSettings};

pub struct Minio;

const MINIO: Workload = Workload::deployment("minio-deployment");

impl Component for Minio {
    fn id(&self) -> ComponentId {
        ComponentId::Minio
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        let minio = &cfg.minio;
        let store = cfg.object_store().ok_or_else(|| RenderError::Defect {
            component: self.id(),
            message: "rendered while no object store is enabled".into(),
        })?;
        let mut setup = MinioSetupConfig::new(
            store.url(),
            S3Credentials::new(&minio.root.user, minio.root.password.clone()),
            S3Credentials::new(&minio.user.user, minio.user.password.clone()),
        );
        setup.accounts = object_store::store_accounts(cfg);
        let mut overlay = Overlay::new(self.id(), &cfg.namespace)
            .base("minio", &["deployment.yaml", "service.yaml"])?
            .secret(
                "minio-auth",
                [
                    ("root_user", minio.root.user.as_str()),
                    ("root_password", minio.root.password.expose()),
                ],
            )
            .claim(&Claim {
                name: "minio-pv-claim",
                volume: "data",
                container: MINIO.container("minio"),
                mount_path: "/data",
                size_gi: minio.volume_size_gi,
                storage_class: cfg.storage_class.clone(),
            })?
            .image("bitnamilegacy/minio", &minio.image)
            .setup_job(&setup.to_env(), &cfg.operator_image);
        if cfg.pod_security {
            overlay = overlay.pod_security(MINIO)?;
        }
        overlay = overlay.scheduling(MINIO, cfg.scheduling, "minio")?;
        for route in routes(cfg) {
            for object in web::publish(&route, &cfg.publisher, &cfg.namespace) {
                overlay = overlay.object(&object);
            }
        }
        Ok(overlay)
    }

    fn config_annotations(&self, cfg: &Config) -> Vec<ConfigAnnotation> {
        match cfg.object_store() {
            Some(store) => {
                object_store::s3_annotations(cfg, &store, &cfg.minio.user, &cfg.minio.routes)
            }
            None => Vec::new(),
        }
    }

    fn generated_secrets(&self) -> &'static [GeneratedKey] {
        config::minio::GENERATED
    }

    fn kinds(&self) -> &'static [KnownKind] {
        &[
            kinds::SECRET,
            kinds::SERVICE,
            kinds::PERSISTENT_VOLUME_CLAIM,
            kinds::DEPLOYMENT,
            kinds::JOB,
            kinds::INGRESS,
            kinds::TRAEFIK_MIDDLEWARE,
            kinds::TRAEFIK_MIDDLEWARE_LEGACY,
            kinds::ROUTE,
        ]
    }
}

/// `minio-upload` on the apihost (any host while it is pending), then the S3 and console
/// routes that are on.
fn routes(cfg: &Config) -> Vec<WebRoute> {
    let mut routes = vec![WebRoute {
        name: "minio-upload".to_owned(),
        host: cfg.apihost.host.clone(),
        path: "/api/upload".to_owned(),
        target: Target::Replace("/".to_owned()),
        service: config::minio::SERVICE.to_owned(),
        port: config::storage::S3_PORT,
        route_backend: None,
        tls_secret: cfg.tls.then(|| "nuvolaris-crt".to_owned()),
        timeout_seconds: TIMEOUT_SECONDS,
    }];
    routes.extend(object_store::store_routes(
        cfg,
        &cfg.minio.routes,
        &RouteNames {
            s3: "minio-s3",
            console: "minio-console",
            service: config::minio::SERVICE,
            console_port: 9090,
        },
    ));
    routes
}
