//! Typed view of one `Whisk` CR plus cluster facts, computed on every reconcile.
//!
//! INTERFACE (stable; the bodies are filled in by the config work).

use std::collections::BTreeMap;

pub mod apihost;
pub mod flavour;
mod from_spec;

pub use apihost::ApiHost;
pub use flavour::Flavour;
pub use from_spec::{CONTROLLER_IMAGE, CONTROLLER_TAG, OPERATOR_IMAGE};

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

/// The typed configuration of one installation: every value a component needs, with the
/// original's defaults applied, the cluster facts resolved and generated passwords filled in.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Config {
    /// Name of the Whisk CR (usually "controller").
    pub name: String,
    /// Namespace of the Whisk CR; every child goes there (usually "nuvolaris").
    pub namespace: String,
    pub flavour: Flavour,
    /// Storage class for volume claims; `None` uses the cluster default.
    pub storage_class: Option<String>,
    /// Ingress class for the endpoint ingresses; `None` uses the cluster default.
    pub ingress_class: Option<String>,
    pub apihost: ApiHost,
    /// Non-root pod security for the bitnami-style images (the original's `applypodsecurity`).
    pub pod_security: bool,
    pub affinity: bool,
    pub tolerations: bool,
    /// Image of this operator, run by the setup Jobs.
    pub operator_image: String,
    pub components: Components,
    pub couchdb: CouchDb,
    pub redis: Redis,
    pub controller: Controller,
    pub runtimes: Runtimes,
    /// OpenWhisk namespaces and their `uuid:key` auth (`spec.openwhisk.namespaces`).
    #[serde(skip)]
    pub namespaces: BTreeMap<String, Secret>,
    /// Password of the `nuvolaris` admin user (bcrypt-hashed into CouchDB by the setup).
    #[serde(skip)]
    pub nuvolaris_password: Secret,
    pub nuvolaris_email: String,
}

/// Which components the spec enables.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Components {
    pub openwhisk: bool,
    pub invoker: bool,
    pub couchdb: bool,
    pub redis: bool,
    pub tls: bool,
    pub registry: bool,
    pub cron: bool,
    pub minio: bool,
    pub seaweedfs: bool,
    pub static_: bool,
    pub postgres: bool,
    pub mongodb: bool,
    pub zookeeper: bool,
    pub kafka: bool,
    pub monitoring: bool,
    pub quota: bool,
    pub etcd: bool,
    pub milvus: bool,
}

/// A secret value: compared and cloned like a string, never printed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// CPU and memory requests and limits of one container.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Resources {
    pub cpu_request: String,
    pub cpu_limit: String,
    pub memory_request: String,
    pub memory_limit: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CouchDb {
    pub image: String,
    /// Service host and port the controller and the setup use.
    pub host: String,
    pub port: u16,
    pub volume_size_gi: u32,
    /// Set only when the spec gives `configs.couchdb.resources`.
    pub resources: Option<Resources>,
    #[serde(skip)]
    pub admin: Credentials,
    #[serde(skip)]
    pub controller: Credentials,
    #[serde(skip)]
    pub invoker: Credentials,
}

/// A user name and its password.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: Secret,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Redis {
    pub image: String,
    pub persistence: bool,
    pub volume_size_gi: u32,
    /// `maxmemory` of redis.conf, e.g. "1000mb".
    pub maxmemory: String,
    /// Key prefix of the `nuvolaris` user, always ending with ':'.
    pub prefix: String,
    #[serde(skip)]
    pub default_password: Secret,
    #[serde(skip)]
    pub nuvolaris_password: Secret,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Controller {
    /// Full image reference, e.g. `ghcr.io/nuvolaris/openwhisk-controller:3.1.0-…`.
    pub image: String,
    pub java_opts: String,
    /// `configs.invoker.containerPool.userMemory`: memory for action containers.
    pub user_memory: String,
    pub resources: Option<Resources>,
    pub use_private_registry: bool,
    pub limits: Limits,
}

/// OpenWhisk action limits (`spec.configs.limits`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Limits {
    pub invokes_per_minute: u32,
    pub invokes_concurrent: u32,
    pub fires_per_minute: u32,
    pub sequence_max_length: u32,
    pub activation_payload_max: u64,
    pub time_min: String,
    pub time_std: String,
    pub time_max: String,
    pub memory_min: String,
    pub memory_std: String,
    pub memory_max: String,
    pub concurrency_min: u32,
    pub concurrency_std: u32,
    pub concurrency_max: u32,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Runtimes {
    /// The runtimes manifest: the cluster's `openwhisk-runtimes` ConfigMap, else ours.
    pub manifest: String,
    /// Whether the manifest came from the cluster (then we never overwrite the ConfigMap).
    pub from_cluster: bool,
    /// Preload only the `apache` images (`nuvolaris.preload.only-apache`, default true).
    pub preload_only_apache: bool,
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
