//! The OpenWhisk controller in standalone mode (the invoker off): it runs actions itself.
//!
//! Deploys: StatefulSet `controller` (pod `controller-0`), Services `controller` (3233, node
//! port 30233), `controller-ip` and `debugger`, ConfigMap `openwhisk-pod-templates`, the
//! ServiceAccount `nuvolaris-openwhisk-core` with its Role, and the generated Secret
//! `controller-couchdb-auth-<hash>` with the CouchDB credentials.

use minijinja::context;
use sha2::{Digest, Sha256};

use super::RenderError;
use super::kit::Overlay;
use crate::config::Config;
use crate::render::value;

pub const NAME: &str = "openwhisk";

/// The image name the base manifest uses; the spec's image replaces it.
const BASE_IMAGE: &str = "ghcr.io/nuvolaris/openwhisk-controller";

pub fn enabled(cfg: &Config) -> bool {
    cfg.components.openwhisk
}

/// Standalone mode only: with the invoker on, the controller runs in enterprise mode, which this
/// version does not deploy yet.
pub fn implemented(cfg: &Config) -> bool {
    !cfg.components.invoker
}

pub fn overlay(cfg: &Config) -> Result<Overlay, RenderError> {
    let c = &cfg.controller;
    let db = &cfg.couchdb;
    let runtimes_hash = hex_prefix(&Sha256::digest(cfg.runtimes.manifest.as_bytes()));
    let mut overlay = Overlay::new(NAME, &cfg.namespace)
        .base("openwhisk-standalone", &["rbac.yaml", "pod-templates.yaml", "services.yaml", "statefulset.yaml"])?
        .secret("controller-couchdb-auth", [
            ("admin_user", db.admin.user.as_str()),
            ("admin_password", db.admin.password.expose()),
            ("controller_user", db.controller.user.as_str()),
            ("controller_password", db.controller.password.expose()),
        ])
        .patch("openwhisk/controller-settings.yaml", context! {
            c => value(c), couchdb => value(db), namespace => cfg.namespace.clone(), runtimes_hash,
        })?
        .image(BASE_IMAGE, &c.image);
    if let Some(resources) = &c.resources {
        overlay = overlay.patch("common/resources.yaml", context! {
            kind => "StatefulSet", name => "controller", container => "controller", resources => value(resources),
        })?;
    }
    if cfg.affinity || cfg.tolerations {
        overlay = overlay.patch(
            "common/affinity.yaml",
            context! {
                kind => "StatefulSet", name => "controller", affinity => cfg.affinity,
                tolerations => cfg.tolerations, anti_affinity_name => "controller",
            },
        )?;
    }
    Ok(overlay)
}

fn hex_prefix(digest: &[u8]) -> String {
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}
