//! CouchDB: the OpenWhisk database.
//!
//! Deploys: StatefulSet `couchdb` (pod `couchdb-0`, volume claim `couchdb-pvc`), Services
//! `couchdb` and `couchdb-np`, the generated Secret `couchdb-auth-<hash>`, and the Job
//! `couchdb-init` that runs `nuvolaris-operator setup couchdb` (databases, users, design
//! documents, initial subjects).

use minijinja::context;

use super::kit::Overlay;
use super::{RenderError, setup_env};
use crate::config::Config;
use crate::render::value;

pub const NAME: &str = "couchdb";

/// The Job whose completion means that CouchDB is set up.
pub const SETUP_JOBS: &[&str] = &["couchdb-init"];

pub fn enabled(cfg: &Config) -> bool {
    cfg.components.couchdb
}

pub fn overlay(cfg: &Config) -> Result<Overlay, RenderError> {
    let db = &cfg.couchdb;
    let mut overlay = Overlay::new(NAME, &cfg.namespace)
        .base(
            NAME,
            &["services.yaml", "statefulset.yaml", "init-job.yaml"],
        )?
        .secret(
            "couchdb-auth",
            [
                ("db_username", db.admin.user.as_str()),
                ("db_password", db.admin.password.expose()),
            ],
        )
        .secret("couchdb-init-auth", setup_env::couchdb_secret(cfg))
        .patch(
            "common/volume-claim.yaml",
            context! {
                name => "couchdb", container => "couchdb", mount_path => "/opt/couchdb/data",
                size_gi => db.volume_size_gi, storage_class => cfg.storage_class.clone(),
            },
        )?
        .patch(
            "common/setup-job-env.yaml",
            setup_env::couchdb_context(cfg, "couchdb-init-auth"),
        )?
        .image("apache/couchdb", &db.image)
        .image("nuvolaris-operator", &cfg.operator_image);
    if let Some(resources) = &db.resources {
        overlay = overlay.patch("common/resources.yaml", context! {
            kind => "StatefulSet", name => "couchdb", container => "couchdb", resources => value(resources),
        })?;
    }
    if cfg.affinity || cfg.tolerations {
        overlay = overlay.patch(
            "common/affinity.yaml",
            context! {
                kind => "StatefulSet", name => "couchdb", affinity => cfg.affinity,
                tolerations => cfg.tolerations, anti_affinity_name => "couchdb",
            },
        )?;
    }
    Ok(overlay)
}
