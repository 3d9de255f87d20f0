//! The OpenWhisk controller in standalone mode (the invoker off): it runs actions itself.
//!
//! Deploys: StatefulSet `controller` (pod `controller-0`), Services `controller` (3233, node
//! port 30233), `controller-ip` and `debugger`, ConfigMap `openwhisk-pod-templates`, the
//! ServiceAccount `nuvolaris-openwhisk-core` with its Role, and the generated Secret
//! `controller-couchdb-auth-<hash>` with the CouchDB credentials.

use minijinja::context;
use sha2::{Digest, Sha256};

use super::kit::{Overlay, Workload};
use super::{Component, RenderError, Support};
use crate::apply::kinds::{self, KnownKind};
use crate::config::Config;
use crate::crd::ComponentId;
use crate::render::value;

pub struct Openwhisk;

/// The image name the base manifest uses; the spec's image replaces it.
const BASE_IMAGE: &str = "ghcr.io/nuvolaris/openwhisk-controller";
const CONTROLLER: Workload = Workload::stateful_set("controller");

impl Component for Openwhisk {
    fn id(&self) -> ComponentId {
        ComponentId::Openwhisk
    }

    /// Standalone mode only: with the invoker on, the controller runs in enterprise mode, which
    /// this version does not deploy yet.
    fn support(&self, cfg: &Config) -> Support {
        if cfg.enabled(ComponentId::Invoker) {
            Support::Unsupported(
                "the enterprise mode (components.invoker on) is not supported by this version"
                    .to_owned(),
            )
        } else {
            Support::Supported
        }
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        let c = &cfg.controller;
        let db = &cfg.couchdb;
        let runtimes_hash = hex_prefix(&Sha256::digest(cfg.runtimes.manifest.as_bytes()));
        let mut overlay = Overlay::new(self.id(), &cfg.namespace)
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
            overlay = overlay.resources(CONTROLLER.container("controller"), resources)?;
        }
        overlay.scheduling(CONTROLLER, cfg.scheduling, "controller")
    }

    fn kinds(&self) -> &'static [KnownKind] {
        &[
            kinds::SERVICE_ACCOUNT,
            kinds::ROLE,
            kinds::ROLE_BINDING,
            kinds::SECRET,
            kinds::CONFIG_MAP,
            kinds::SERVICE,
            kinds::STATEFUL_SET,
        ]
    }
}

fn hex_prefix(digest: &[u8]) -> String {
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}
