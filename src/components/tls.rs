//! TLS: the cert-manager ClusterIssuer `letsencrypt-issuer` that signs the certificates of every
//! published route (their Ingresses name it, see [`web`](super::web)). Needs cert-manager in the
//! cluster. Cluster-scoped, so no owner reference: the Whisk's finalizer removes it.

use serde_json::json;

use super::kit::Overlay;
use super::web::CLUSTER_ISSUER;
use super::{Component, RenderError};
use crate::apply::kinds::{self, KnownKind};
use crate::config::Config;
use crate::crd::ComponentId;

pub struct Tls;

impl Component for Tls {
    fn id(&self) -> ComponentId {
        ComponentId::Tls
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        let mut http01 = json!({"ingress": {}});
        if let Some(class) = &cfg.ingress_class {
            http01["ingress"]["class"] = json!(class);
        }
        let issuer = json!({
            "apiVersion": "cert-manager.io/v1",
            "kind": "ClusterIssuer",
            "metadata": {"name": CLUSTER_ISSUER},
            "spec": {"acme": {
                "server": cfg.acme.server_url,
                "email": cfg.acme.email,
                "privateKeySecretRef": {"name": "nuvolaris-letsencrypt-secret"},
                "solvers": [{"http01": http01}],
            }},
        });
        Ok(Overlay::new(self.id(), &cfg.namespace).object(&issuer))
    }

    fn kinds(&self) -> &'static [KnownKind] {
        &[kinds::CLUSTER_ISSUER]
    }
}
