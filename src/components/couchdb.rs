//! CouchDB: the OpenWhisk database.
//!
//! Deploys: StatefulSet `couchdb` (pod `couchdb-0`, volume claim `couchdb-pvc`), Services
//! `couchdb` and `couchdb-np`, the generated Secret `couchdb-auth-<hash>`, and the setup Job
//! `couchdb-init` (`nuvolaris-operator setup couchdb`: databases, users, design documents,
//! initial subjects, the `nuvolaris` user's metadata). The metadata's `env` is what every
//! enabled component publishes for the users ([`ops_config::user_metadata_env`]): it is in the
//! Job's Secret, so a component switched on or off, or a changed value, re-runs the Job.

use super::kit::{Overlay, VolumeClaim, Workload};
use super::{Component, RenderError, ops_config};
use crate::apply::kinds::{self, KnownKind};
use crate::config::{self, Config, Flavour, GeneratedKey};
use crate::crd::ComponentId;
use crate::setup::{CouchdbSetupConfig, NamespaceAuth, SetupSettings};

pub struct CouchDb;

const COUCHDB: Workload = Workload::stateful_set("couchdb");

impl Component for CouchDb {
    fn id(&self) -> ComponentId {
        ComponentId::Couchdb
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        let db = &cfg.couchdb;
        let mut overlay = Overlay::new(self.id(), &cfg.namespace)
            .base("couchdb", &["services.yaml", "statefulset.yaml"])?
            .secret(
                "couchdb-auth",
                [
                    ("db_username", db.admin.user.as_str()),
                    ("db_password", db.admin.password.expose()),
                ],
            )
            .volume_claim(&VolumeClaim {
                name: "couchdb",
                container: COUCHDB.container("couchdb"),
                mount_path: "/opt/couchdb/data",
                size_gi: db.volume_size_gi,
                storage_class: cfg.storage_class.clone(),
            })?
            .setup_job(&setup(cfg).to_env(), &cfg.operator_image)
            .image("apache/couchdb", &db.image)
            .scheduling(COUCHDB, cfg.scheduling, "couchdb")?;
        if let Some(resources) = &db.resources {
            overlay = overlay.resources(COUCHDB.container("couchdb"), resources)?;
        }
        if cfg.flavour == Flavour::Openshift {
            // OpenShift's restricted SCC (the original did the same there)
            overlay = overlay.drop_capabilities(COUCHDB.container("couchdb"))?;
        }
        Ok(overlay)
    }

    fn generated_secrets(&self) -> &'static [GeneratedKey] {
        config::couchdb::GENERATED
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

/// The settings of `setup couchdb`.
fn setup(cfg: &Config) -> CouchdbSetupConfig {
    let db = &cfg.couchdb;
    let namespaces = cfg
        .namespaces
        .iter()
        .filter_map(|(name, auth)| {
            // Config::from_whisk has checked the `uuid:key` shape.
            let (uuid, key) = auth.expose().split_once(':')?;
            Some(NamespaceAuth {
                name: name.clone(),
                uuid: uuid.to_owned(),
                key: crate::secret::Secret::new(key),
            })
        })
        .collect();
    let mut settings = CouchdbSetupConfig::new(
        format!("http://{}:{}", db.host, db.port),
        (db.admin.user.clone(), db.admin.password.clone()),
        (db.controller.user.clone(), db.controller.password.clone()),
        (db.invoker.user.clone(), db.invoker.password.clone()),
        namespaces,
        cfg.nuvolaris_password.clone(),
        cfg.nuvolaris_email.clone(),
    );
    settings.metadata = ops_config::user_metadata_env(cfg)
        .into_iter()
        .map(|entry| (entry.key, entry.value))
        .collect();
    settings
}
