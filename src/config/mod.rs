//! Typed view of one `Whisk` CR plus cluster facts, computed on every reconcile.
//!
//! INTERFACE (stable; the bodies are filled in by the config work).

use std::collections::BTreeMap;

/// Facts about the cluster that the configuration depends on, read by the controller before
/// each reconcile (nodes, storage classes, ingress classes). Pure data, so config is testable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterFacts {
    /// Labels and annotations of the nodes, and their kubelet versions / provider IDs.
    pub nodes: Vec<NodeFacts>,
    /// Name of the default StorageClass, if any.
    pub default_storage_class: Option<String>,
    /// Name of the default IngressClass, if any.
    pub default_ingress_class: Option<String>,
    /// Whether the cluster serves the OpenShift route API (route.openshift.io).
    pub has_openshift_routes: bool,
    /// Address of the ingress load balancer, from `.status.loadBalancer.ingress[0]` (hostname
    /// or ip) of the ingress controller Service (`ingress-nginx/ingress-nginx-controller`, or
    /// `spec.nuvolaris.ingresslb` when set).
    pub ingress_load_balancer: Option<String>,
    /// `data["runtimes.json"]` of the `openwhisk-runtimes` ConfigMap in the CR's namespace,
    /// when it exists (users may edit it; a change re-runs the preload and restarts the
    /// controller).
    pub runtimes_json: Option<String>,
    /// The operator's own image (from `OPERATOR_IMAGE`/`OPERATOR_TAG` or the pod's own spec);
    /// setup Jobs run it.
    pub operator_image: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeFacts {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub kubelet_version: String,
    pub provider_id: Option<String>,
    pub external_ip: Option<String>,
    pub internal_ip: Option<String>,
}

/// Passwords and keys that the CR leaves out: generated randomly once by the controller and kept
/// in a Secret that the operator owns (see `config::secrets`). Keys are stable names such as
/// "couchdb-admin-password".
#[derive(Clone, Default, PartialEq)]
pub struct GeneratedSecrets(pub BTreeMap<String, String>);

impl std::fmt::Debug for GeneratedSecrets {
    // Never print secret values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// The typed configuration of one installation.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Name of the Whisk CR (usually "controller").
    pub name: String,
    /// Namespace of the Whisk CR; every child goes there (usually "nuvolaris").
    pub namespace: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid spec: {0}")]
    Invalid(String),
}

/// Keys of the passwords the operator generates when the CR gives none. The controller keeps
/// them in the Secret [`GENERATED_SECRET_NAME`] (in the CR's namespace, owned by the CR) and
/// creates missing keys with [`generate_secret_value`]; existing values are never changed.
pub const GENERATED_SECRET_KEYS: &[&str] = &[
    "couchdb-admin-password",
    "couchdb-controller-password",
    "couchdb-invoker-password",
    "redis-default-password",
    "redis-nuvolaris-password",
    "nuvolaris-password",
    "whisk-system-auth",
    "nuvolaris-auth",
];

/// Name of the Secret holding the generated passwords.
pub const GENERATED_SECRET_NAME: &str = "nuvolaris-generated";

/// A fresh random value for one of [`GENERATED_SECRET_KEYS`]. OpenWhisk auth keys have the shape
/// `<uuid>:<64 alphanumerics>`; passwords are 32 alphanumerics.
pub fn generate_secret_value(key: &str) -> String {
    use rand::Rng;
    use rand::distr::Alphanumeric;
    let random = |n: usize| -> String {
        rand::rng()
            .sample_iter(&Alphanumeric)
            .take(n)
            .map(char::from)
            .collect()
    };
    if key.ends_with("-auth") {
        let hex = |n: usize| -> String {
            let mut rng = rand::rng();
            (0..n)
                .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
                .collect()
        };
        format!(
            "{}-{}-{}-{}-{}:{}",
            hex(8),
            hex(4),
            hex(4),
            hex(4),
            hex(12),
            random(64)
        )
    } else {
        random(32)
    }
}
