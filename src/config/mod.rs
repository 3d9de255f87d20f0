//! Typed view of one `Whisk` CR plus cluster facts, computed on every reconcile. Pure: the
//! controller reads the facts and the generated passwords, [`Config::from_whisk`] does the rest,
//! so every default and rule is unit-tested without a cluster.
//!
//! One submodule per component's settings (`couchdb`, `redis`, `openwhisk`, `invoker`,
//! `zookeeper`, `kafka`, `monitoring`, `runtimes`), the
//! shared settings here; `enabled` says which components the spec switches on.

use std::collections::BTreeMap;

pub mod apihost;
pub mod couchdb;
pub mod cron;
mod enabled;
pub mod etcd;
pub mod flavour;
mod from_spec;
pub mod image;
pub mod invoker;
pub mod kafka;
pub mod memory;
pub mod milvus;
pub mod minio;
pub mod mongodb;
pub mod monitoring;
pub mod openwhisk;
pub mod postgres;
pub mod quota;
pub mod redis;
pub mod registry;
pub mod runtimes;
pub mod seaweedfs;
pub mod secrets;
pub mod storage;
pub mod tls;
pub mod zookeeper;

pub use apihost::ApiHost;
pub use couchdb::CouchDb;
pub use cron::Cron;
pub use enabled::Enabled;
pub use etcd::Etcd;
pub use flavour::Flavour;
pub use from_spec::OPERATOR_IMAGE;
pub use invoker::Invoker;
pub use kafka::Kafka;
pub use milvus::Milvus;
pub use minio::Minio;
pub use mongodb::Mongodb;
pub use monitoring::Monitoring;
pub use openwhisk::{CONTROLLER_IMAGE, CONTROLLER_TAG, Controller, Limits, Mode};
pub use postgres::Postgres;
pub use quota::Quota;
pub use redis::Redis;
pub use registry::Registry;
pub use runtimes::{RUNTIMES_CONFIGMAP, Runtimes};
pub use seaweedfs::Seaweedfs;
pub use secrets::{
    Extract, GENERATED_SECRET_NAME, GeneratedKey, GeneratedSecrets, LiveObject, LiveSource,
    SecretShape,
};
pub use tls::Tls;
pub use zookeeper::Zookeeper;

use crate::crd::ComponentId;
use crate::secret::Secret;

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
    /// The API version of Traefik's Middleware the cluster serves (`traefik.io/v1alpha1`, or
    /// `traefik.containo.us/v1alpha1` on older Traefiks), if any.
    pub traefik_middleware_api: Option<String>,
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
    /// The apihost the live installation publishes, `<scheme>://<host>[:<port>]`: the `apihost`
    /// annotation of `cm/config` (unless pending), else the host of the `apihost` Ingress. Kept
    /// while the spec gives no host (see `ApiHost::compute`).
    pub live_apihost: Option<String>,
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
    /// How HTTP routes are published (nginx or Traefik Ingresses, OpenShift Routes).
    pub publisher: Publisher,
    /// TLS on the published routes (`components.tls`, never on kind).
    pub tls: bool,
    /// The ACME issuer (used when the TLS component is enabled).
    pub acme: Tls,
    pub apihost: ApiHost,
    /// Non-root pod security for the bitnami-style images (the original's `applypodsecurity`).
    pub pod_security: bool,
    /// Where core workloads may run (`nuvolaris.affinity`, `nuvolaris.tolerations`).
    pub scheduling: Scheduling,
    /// Publish NodePort Services (`nuvolaris.nodeports`, default true); false makes them
    /// ClusterIP, so that several installations fit in one cluster.
    pub node_ports: bool,
    /// Publish credential annotations on `cm/config` (`nuvolaris.publishcredentials`, default
    /// true: the `ops` CLI reads them there).
    pub publish_credentials: bool,
    /// Image of this operator, run by the setup Jobs.
    pub operator_image: String,
    pub enabled: Enabled,
    pub couchdb: CouchDb,
    pub redis: Redis,
    pub controller: Controller,
    pub invoker: Invoker,
    pub zookeeper: Zookeeper,
    pub kafka: Kafka,
    pub monitoring: Monitoring,
    pub runtimes: Runtimes,
    pub registry: Registry,
    pub cron: Cron,
    pub quota: Quota,
    pub minio: Minio,
    pub seaweedfs: Seaweedfs,
    pub postgres: Postgres,
    pub mongodb: Mongodb,
    pub etcd: Etcd,
    pub milvus: Milvus,
    /// OpenWhisk namespaces and their `uuid:key` auth (`spec.openwhisk.namespaces`).
    #[serde(skip)]
    pub namespaces: BTreeMap<String, Secret>,
    /// Password of the `nuvolaris` admin user (bcrypt-hashed into CouchDB by the setup).
    #[serde(skip)]
    pub nuvolaris_password: Secret,
    pub nuvolaris_email: String,
}

/// CPU and memory requests and limits of one container.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Resources {
    pub cpu_request: String,
    pub cpu_limit: String,
    pub memory_request: String,
    pub memory_limit: String,
}

/// A user name and its password.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: Secret,
}

/// The ConfigMap the `ops` CLI creates in the installation's namespace and reads annotations
/// from (`apihost`, `s3_*`, `redis_*`, …): the operator publishes them there.
pub const OPS_CONFIGMAP: &str = "config";

/// How the cluster publishes HTTP routes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Publisher {
    /// Ingresses for nginx-style controllers (regular expression paths, rewrite annotations).
    Nginx { class: Option<String> },
    /// Ingresses for Traefik (prefix paths) plus Middlewares of this API version.
    Traefik {
        class: Option<String>,
        middleware_api_version: String,
    },
    /// OpenShift Routes.
    OpenshiftRoute,
}

/// Scheduling preferences of the core workloads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Scheduling {
    /// Prefer `nuvolaris-role=core` nodes, avoid invoker nodes, one replica per node.
    pub affinity: bool,
    /// Tolerate the `nuvolaris-role=core:NoSchedule` taint.
    pub tolerations: bool,
}

impl Scheduling {
    pub fn any(self) -> bool {
        self.affinity || self.tolerations
    }
}

impl Config {
    /// Whether the spec enables `component`.
    pub fn enabled(&self, component: ComponentId) -> bool {
        self.enabled.contains(component)
    }

    /// The enabled object store (MinIO or SeaweedFS; the spec cannot enable both).
    pub fn object_store(&self) -> Option<storage::ObjectStore> {
        use storage::{ObjectStore, Provider};
        if self.enabled(ComponentId::Minio) {
            Some(ObjectStore::new(
                Provider::Minio,
                minio::SERVICE,
                &self.namespace,
            ))
        } else if self.enabled(ComponentId::Seaweedfs) {
            Some(ObjectStore::new(
                Provider::Seaweedfs,
                seaweedfs::SERVICE,
                &self.namespace,
            ))
        } else {
            None
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The spec asks for something that cannot be: the user's to fix.
    #[error("invalid spec: {message}")]
    Invalid {
        /// The offending field, as a path under `spec` (e.g. `openwhisk.namespaces.nuvolaris`).
        field: String,
        message: String,
    },
    /// A generated password is missing: step one of the resolution (see
    /// [`Config::missing_generated`]); after it, an operator defect.
    #[error("generated secret {} is missing", .0.name)]
    MissingGenerated(GeneratedKey),
}

impl ConfigError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// `nuvolaris.io/<key>` node labels (the original's kind nodes carry apihost, apiport, protocol
/// and kube this way). They fill in what the spec leaves out; the spec wins.
fn node_settings(facts: &ClusterFacts) -> BTreeMap<String, String> {
    facts
        .nodes
        .iter()
        .flat_map(|n| n.labels.iter())
        .filter_map(|(k, v)| {
            k.strip_prefix("nuvolaris.io/")
                .map(|k| (k.to_owned(), v.clone()))
        })
        .collect()
}

/// A count or size the spec may leave out (then `default`) but not set below 1 (the CRD's
/// schema refuses it too; this guards CRs that reach the operator without admission).
fn at_least_one(value: Option<i32>, field: &str, default: u32) -> Result<u32, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) => u32::try_from(v).ok().filter(|v| *v >= 1).ok_or_else(|| {
            ConfigError::invalid(field, format!("{field} must be at least 1, not {v}"))
        }),
    }
}

fn positive(value: Option<i32>) -> Option<u32> {
    value.and_then(|v| u32::try_from(v).ok()).filter(|v| *v > 0)
}

/// Requests and limits, set only when the spec gives a CPU request (as the original did),
/// with its defaults for the rest.
fn resources(
    spec: &crate::crd::Resources,
    (cpu_lim, mem_req, mem_lim): (&str, &str, &str),
) -> Option<Resources> {
    let cpu_request = spec.cpu_req.clone()?;
    Some(Resources {
        cpu_request,
        cpu_limit: spec.cpu_lim.clone().unwrap_or_else(|| cpu_lim.to_owned()),
        memory_request: spec.mem_req.clone().unwrap_or_else(|| mem_req.to_owned()),
        memory_limit: spec.mem_lim.clone().unwrap_or_else(|| mem_lim.to_owned()),
    })
}
