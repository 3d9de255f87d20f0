//! MongoDB, as FerretDB on PostgreSQL (`components.mongodb`; it switches Postgres on too).
//!
//! Deploys: StatefulSet `nuvolaris-mongodb` (pod `nuvolaris-mongodb-0`, volume claim
//! `nuvolaris-mongodb-pvc`), headless Service `nuvolaris-mongodb-svc`, the generated Secret
//! `ferretdb-postgresql-<hash>` with FerretDB's PostgreSQL URL, and the setup Job
//! `mongodb-init` (`nuvolaris-operator setup mongodb`: FerretDB's own PostgreSQL role and
//! database). Installed once Postgres is ready.

use super::kit::{Overlay, VolumeClaim, Workload, url_userinfo};
use super::{Component, ConfigAnnotation, RenderError};
use crate::apply::kinds::{self, KnownKind};
use crate::config::mongodb::{DATABASE, MONGO_DATABASE, PORT, USER};
use crate::config::{self, Config, GeneratedKey};
use crate::crd::ComponentId;
use crate::setup::{MongodbSetupConfig, SetupSettings};

pub struct Ferretdb;

const FERRETDB: Workload = Workload::stateful_set("nuvolaris-mongodb");

impl Component for Ferretdb {
    fn id(&self) -> ComponentId {
        ComponentId::Mongodb
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        let pg = &cfg.postgres;
        let mongodb = &cfg.mongodb;
        let postgresql_url = format!(
            "postgresql://{}:{}@{}.{}.svc.cluster.local:{}/{}",
            url_userinfo(USER),
            url_userinfo(mongodb.password.expose()),
            pg.host,
            cfg.namespace,
            pg.port,
            url_userinfo(DATABASE)
        );
        let setup = MongodbSetupConfig::new(
            format!("{}:{}", pg.host, pg.port),
            pg.admin_password.clone(),
            DATABASE,
            USER,
            mongodb.password.clone(),
        );
        let overlay = Overlay::new(self.id(), &cfg.namespace)
            .base("ferretdb", &["ferretdb.yaml"])?
            .secret("ferretdb-postgresql", [("url", postgresql_url.as_str())])
            .image("ghcr.io/nuvolaris/ferretdb", &mongodb.image)
            .volume_claim(&VolumeClaim {
                name: "nuvolaris-mongodb",
                container: FERRETDB.container("ferretdb"),
                mount_path: "/state",
                size_gi: mongodb.volume_size_gi,
                storage_class: cfg.storage_class.clone(),
            })?
            .setup_job(&setup.to_env(), &cfg.operator_image);
        overlay.scheduling(FERRETDB, cfg.scheduling, "nuvolaris-mongodb")
    }

    fn dependencies(&self, _cfg: &Config) -> Vec<ComponentId> {
        vec![ComponentId::Postgres]
    }

    fn config_annotations(&self, cfg: &Config) -> Vec<ConfigAnnotation> {
        let url = format!(
            "mongodb://{}:{}@nuvolaris-mongodb-0.nuvolaris-mongodb-svc.{}.svc.cluster.local:{PORT}/{MONGO_DATABASE}?connectTimeoutMS=60000&authMechanism=PLAIN",
            url_userinfo(USER),
            url_userinfo(cfg.mongodb.password.expose()),
            cfg.namespace
        );
        vec![ConfigAnnotation::credential("mongodb_url", url)]
    }

    fn generated_secrets(&self) -> &'static [GeneratedKey] {
        config::mongodb::GENERATED
    }

    fn kinds(&self) -> &'static [KnownKind] {
        &[
            kinds::SECRET,
            kinds::SERVICE,
            kinds::STATEFUL_SET,
            kinds::JOB,
        ]
    }
}
