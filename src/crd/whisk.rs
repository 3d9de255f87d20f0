//! The `Whisk` custom resource (`whisks.nuvolaris.org/v1`, short name `wsk`).
//!
//! The spec models, section by section, every field of the original CRD, every
//! key the original operator reads from the spec (inventory-core §3.7,
//! including the 56 keys the original schema lacked) and every field used by
//! the original's sample CRs. Every field is optional: defaults are applied by
//! the config layer, not here, so partial specs stay valid.
//!
//! Unknown-field policy (what the API server keeps):
//! - `spec` itself and `spec.components` preserve unknown fields, as in the
//!   original: existing CRs and the `ops` CLI carry extra sections/toggles
//!   (`s3`, `components.s3bucket`) and `kubectl apply` validates strictly, so
//!   pruning them would make old CRs fail to apply. They are kept in `extra`.
//! - Every other section is closed (unknown nested fields are pruned, as in
//!   the original), so the schema catches typos inside a section.

use std::collections::BTreeMap;

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::status::WhiskStatus;
use super::types::{
    ApiProtocol, KubeFlavour, LoggingLevel, NumberOrString, PasswordOnly, Port, RegistryMode,
    Resources, ServiceProtocol, UserPassword,
};

/// Desired state of an OpenServerless (Apache OpenWhisk) installation.
// The printer columns are added by `crd::crds` from `ComponentId::PRINTED`.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "nuvolaris.org",
    version = "v1",
    kind = "Whisk",
    plural = "whisks",
    singular = "whisk",
    shortname = "wsk",
    namespaced,
    status = "WhiskStatus",
    doc = "An OpenServerless (Apache OpenWhisk) installation managed by the nuvolaris operator."
)]
#[serde(default)]
#[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
pub struct WhiskSpec {
    /// Global settings: apihost, cluster flavour, storage and ingress classes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nuvolaris: Option<NuvolarisSpec>,
    /// Which components to deploy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<ComponentsSpec>,
    /// OpenWhisk namespaces (subjects) and their auth keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub openwhisk: Option<OpenwhiskSpec>,
    /// CouchDB used by OpenWhisk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub couchdb: Option<CouchdbSpec>,
    /// Shared MongoDB (FerretDB) instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mongodb: Option<MongodbSpec>,
    /// Shared PostgreSQL instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postgres: Option<PostgresSpec>,
    /// Kafka (enterprise mode with invoker).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kafka: Option<KafkaSpec>,
    /// Zookeeper (enterprise mode with invoker).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zookeeper: Option<ZookeeperSpec>,
    /// Scheduled action executor (components.cron).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<ScheduleSpec>,
    /// Quota checker job (components.quota).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota: Option<ScheduleSpec>,
    /// Let's Encrypt issuer for the apihost certificates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSpec>,
    /// MinIO object storage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minio: Option<MinioSpec>,
    /// Redis (Valkey) instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis: Option<RedisSpec>,
    /// OpenWhisk controller/invoker tuning and limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configs: Option<ConfigsSpec>,
    /// OpenWhisk controller endpoint and image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<ServiceSpec>,
    /// OpenWhisk invoker endpoint and image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoker: Option<ServiceSpec>,
    /// Shared etcd instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etcd: Option<EtcdSpec>,
    /// Legacy misspelling of `etcd` from the original schema; read only if `etcd` is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ectd: Option<EtcdSpec>,
    /// Shared Milvus vector database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub milvus: Option<MilvusSpec>,
    /// Image registry for generated runtimes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<RegistrySpec>,
    /// SeaweedFS object storage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seaweedfs: Option<SeaweedfsSpec>,
    /// Prometheus and Alertmanager.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<MonitoringSpec>,
    /// Object storage provided by a COSI/Rook-Ceph object store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cosi: Option<CosiSpec>,
    /// Operator image used by setup jobs (the OPERATOR_IMAGE/TAG env wins when set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: Option<ImageSpec>,
    /// Unmodelled top-level sections, kept as written (the schema preserves them).
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl WhiskSpec {
    /// The etcd section, falling back to the original's misspelled `ectd`.
    pub fn etcd(&self) -> Option<&EtcdSpec> {
        self.etcd.as_ref().or(self.ectd.as_ref())
    }

    /// Top-level sections this version does not model, except the legacy `s3`
    /// section of old samples: probably typos, worth a warning event.
    pub fn unknown_sections(&self) -> Vec<&str> {
        self.extra
            .keys()
            .map(String::as_str)
            .filter(|k| *k != "s3")
            .collect()
    }

    /// The components section, or all-unset toggles when absent.
    pub fn components(&self) -> ComponentsSpec {
        self.components.clone().unwrap_or_default()
    }
}

/// Global settings (`spec.nuvolaris`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default)]
pub struct NuvolarisSpec {
    /// Password of the nuvolaris user for privileged whisk-system actions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// API hostname or IP; `auto` derives one from the cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apihost: Option<String>,
    /// API port.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub apiport: Option<i32>,
    /// API protocol (http, https or auto).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<ApiProtocol>,
    /// Kubernetes flavour override; `auto` (default) detects it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kube: Option<KubeFlavour>,
    /// Storage class; `auto` uses the cluster default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storageclass: Option<String>,
    /// Storage provisioner; `auto` detects it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioner: Option<String>,
    /// Ingress class; `auto` detects it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingressclass: Option<String>,
    /// Ingress load balancer service as namespace/name; `auto` uses the flavour default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingresslb: Option<String>,
    /// Use node affinity (multi-node clusters only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<bool>,
    /// Use tolerations (multi-node clusters only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<bool>,
    /// Slim mode (smaller footprint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slim: Option<bool>,
    /// E-mail of the nuvolaris user metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Runtime preloading options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preload: Option<PreloadSpec>,
    /// Older spelling of `preload` (`only_apache`), read when `preload` is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preloader: Option<PreloaderSpec>,
    /// Publish the fixed NodePorts the `ops` CLI expects (default true). False turns every
    /// NodePort Service into a ClusterIP Service, so that more than one installation fits in a
    /// cluster (NodePorts are cluster-wide).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodeports: Option<bool>,
    /// Publish credentials (passwords, keys and URLs holding one: `redis_url`, `s3_secret_key`,
    /// `postgres_url`, `registry_password`, …) as annotations of the ConfigMap `config`, where
    /// the `ops` CLI reads them (default true). Anyone allowed to read ConfigMaps in the
    /// namespace can read them there; false leaves them out (the `ops` CLI's test and status
    /// tasks then miss them; the `nuvolaris` user still gets them from `ops -login`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publishcredentials: Option<bool>,
}

/// Runtime preloading (`nuvolaris.preload`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct PreloadSpec {
    /// Preload only the Apache OpenServerless runtimes.
    #[serde(rename = "only-apache", skip_serializing_if = "Option::is_none")]
    pub only_apache: Option<bool>,
}

/// Runtime preloading, older spelling (`nuvolaris.preloader`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct PreloaderSpec {
    /// Preload only the Apache OpenServerless runtimes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub only_apache: Option<bool>,
}

/// Component toggles (`spec.components`).
///
/// The CEL rules compare with `== true` so an explicit `null` (the fields are
/// nullable) reads as "off" instead of failing the rule with a type error.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
#[x_kube(
    validation = Rule::new("!(has(self.minio) && self.minio == true && has(self.seaweedfs) && self.seaweedfs == true)").message("minio and seaweedfs cannot both be enabled"),
    validation = Rule::new("!(has(self.static) && self.static == true) || (has(self.minio) && self.minio == true) || (has(self.seaweedfs) && self.seaweedfs == true) || (has(self.cosi) && self.cosi == true)").message("static requires an object store: enable minio, seaweedfs or cosi")
)]
pub struct ComponentsSpec {
    /// OpenWhisk controller (standalone unless invoker is enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openwhisk: Option<bool>,
    /// Separate OpenWhisk invoker (enterprise mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoker: Option<bool>,
    /// CouchDB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub couchdb: Option<bool>,
    /// Kafka.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka: Option<bool>,
    /// MongoDB (FerretDB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mongodb: Option<bool>,
    /// Redis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<bool>,
    /// Scheduled action executor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<bool>,
    /// Let's Encrypt TLS for the apihost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<bool>,
    /// MinIO object storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minio: Option<bool>,
    /// Static content service (needs minio, seaweedfs or cosi).
    #[serde(default, rename = "static", skip_serializing_if = "Option::is_none")]
    pub static_: Option<bool>,
    /// Zookeeper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zookeeper: Option<bool>,
    /// PostgreSQL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<bool>,
    /// Quota checker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<bool>,
    /// etcd.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etcd: Option<bool>,
    /// Milvus vector database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub milvus: Option<bool>,
    /// Private image registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<bool>,
    /// SeaweedFS object storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seaweedfs: Option<bool>,
    /// Prometheus monitoring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<bool>,
    /// COSI/Rook-Ceph object storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cosi: Option<bool>,
    /// Unmodelled toggles (for example `s3bucket`), kept as written.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl ComponentsSpec {
    /// OpenWhisk controller enabled.
    pub fn openwhisk_enabled(&self) -> bool {
        self.openwhisk.unwrap_or(false)
    }
    /// Separate invoker enabled.
    pub fn invoker_enabled(&self) -> bool {
        self.invoker.unwrap_or(false)
    }
    /// CouchDB enabled.
    pub fn couchdb_enabled(&self) -> bool {
        self.couchdb.unwrap_or(false)
    }
    /// Kafka enabled.
    pub fn kafka_enabled(&self) -> bool {
        self.kafka.unwrap_or(false)
    }
    /// MongoDB enabled.
    pub fn mongodb_enabled(&self) -> bool {
        self.mongodb.unwrap_or(false)
    }
    /// Redis enabled.
    pub fn redis_enabled(&self) -> bool {
        self.redis.unwrap_or(false)
    }
    /// Cron (scheduler) enabled.
    pub fn cron_enabled(&self) -> bool {
        self.cron.unwrap_or(false)
    }
    /// TLS enabled.
    pub fn tls_enabled(&self) -> bool {
        self.tls.unwrap_or(false)
    }
    /// MinIO enabled.
    pub fn minio_enabled(&self) -> bool {
        self.minio.unwrap_or(false)
    }
    /// Static content service enabled.
    pub fn static_enabled(&self) -> bool {
        self.static_.unwrap_or(false)
    }
    /// Zookeeper enabled.
    pub fn zookeeper_enabled(&self) -> bool {
        self.zookeeper.unwrap_or(false)
    }
    /// PostgreSQL enabled.
    pub fn postgres_enabled(&self) -> bool {
        self.postgres.unwrap_or(false)
    }
    /// Quota checker enabled.
    pub fn quota_enabled(&self) -> bool {
        self.quota.unwrap_or(false)
    }
    /// etcd enabled.
    pub fn etcd_enabled(&self) -> bool {
        self.etcd.unwrap_or(false)
    }
    /// Milvus enabled.
    pub fn milvus_enabled(&self) -> bool {
        self.milvus.unwrap_or(false)
    }
    /// Registry enabled.
    pub fn registry_enabled(&self) -> bool {
        self.registry.unwrap_or(false)
    }
    /// SeaweedFS enabled.
    pub fn seaweedfs_enabled(&self) -> bool {
        self.seaweedfs.unwrap_or(false)
    }
    /// Monitoring enabled.
    pub fn monitoring_enabled(&self) -> bool {
        self.monitoring.unwrap_or(false)
    }
    /// COSI object storage enabled.
    pub fn cosi_enabled(&self) -> bool {
        self.cosi.unwrap_or(false)
    }
}

/// OpenWhisk settings (`spec.openwhisk`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default)]
pub struct OpenwhiskSpec {
    /// Namespace name to auth key (uuid:key); well-known: whisk-system, nuvolaris.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "namespaces_schema")]
    pub namespaces: Option<BTreeMap<String, String>>,
    /// Legacy location of configs.limits in old samples; ignored, use configs.limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsSpec>,
}

/// `openwhisk.namespaces`: a map validated with a pattern rather than CEL,
/// because a CEL rule over an unbounded map blows the apiserver's cost budget.
fn namespaces_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "Namespace name to auth key (<uuid>:<key>); well-known: whisk-system, nuvolaris.",
        "type": "object",
        "nullable": true,
        "additionalProperties": {
            "type": "string",
            "pattern": AUTH_PATTERN,
        },
    })
}

/// Shape of an OpenWhisk auth key: `<uuid>:<key>`.
pub const AUTH_PATTERN: &str = "^[^:]+:[^:]+$";

impl OpenwhiskSpec {
    /// Auth key of the `whisk-system` namespace.
    pub fn whisk_system_auth(&self) -> Option<&str> {
        self.namespace_auth("whisk-system")
    }
    /// Auth key of the `nuvolaris` namespace.
    pub fn nuvolaris_auth(&self) -> Option<&str> {
        self.namespace_auth("nuvolaris")
    }
    /// Auth key of any namespace.
    pub fn namespace_auth(&self, name: &str) -> Option<&str> {
        self.namespaces.as_ref()?.get(name).map(String::as_str)
    }
}

/// CouchDB (`spec.couchdb`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "kebab-case")]
pub struct CouchdbSpec {
    /// Service host name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Service port.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<i32>,
    /// Volume size in GB.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub volume_size: Option<i32>,
    /// Admin credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<UserPassword>,
    /// Credentials used by the controller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<UserPassword>,
    /// Credentials used by the invoker.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoker: Option<UserPassword>,
}

/// MongoDB (`spec.mongodb`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct MongodbSpec {
    /// Host name (not read by the original).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Volume size in GB.
    #[serde(rename = "volume-size", skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub volume_size: Option<i32>,
    /// Expose MongoDB outside the cluster.
    #[serde(rename = "exposedExternally", skip_serializing_if = "Option::is_none")]
    pub exposed_externally: Option<bool>,
    /// Legacy sample spelling of exposedExternally; ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposed: Option<bool>,
    /// Deploy through the MongoDB community operator.
    #[serde(rename = "useOperator", skip_serializing_if = "Option::is_none")]
    pub use_operator: Option<bool>,
    /// Admin credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<UserPassword>,
    /// nuvolaris database credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nuvolaris: Option<UserPassword>,
}

/// PostgreSQL (`spec.postgres`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "kebab-case")]
pub struct PostgresSpec {
    /// Volume size in GB.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub volume_size: Option<i32>,
    /// Total replicas (1 primary + N-1 replicas).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub replicas: Option<i32>,
    /// Failover management.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failover: Option<bool>,
    /// Scheduled pg_dump backup.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<BackupSpec>,
    /// Admin credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<PostgresAdmin>,
    /// nuvolaris database credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nuvolaris: Option<PasswordOnly>,
    /// Resources of each database container (not in the original).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
}

/// PostgreSQL admin credentials.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "kebab-case")]
pub struct PostgresAdmin {
    /// Admin (and, in the original, replication) password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Replication password (declared but not read by the original).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica_password: Option<String>,
    /// Legacy sample misspelling of replica-password; ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas_password: Option<String>,
}

/// Scheduled backup.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct BackupSpec {
    /// Enable backups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Cron schedule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
}

/// Kafka (`spec.kafka`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "kebab-case")]
pub struct KafkaSpec {
    /// Host name (not read by the original).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Volume size in GB.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub volume_size: Option<i32>,
}

/// Zookeeper (`spec.zookeeper`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "kebab-case")]
pub struct ZookeeperSpec {
    /// Host name (not read by the original).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Data volume size in GB.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub data_volume_size: Option<i32>,
    /// Log volume size in GB.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub log_volume_size: Option<i32>,
}

/// A cron schedule (`spec.scheduler`, `spec.quota`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct ScheduleSpec {
    /// Cron expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
}

/// Let's Encrypt issuer (`spec.tls`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "kebab-case")]
pub struct TlsSpec {
    /// E-mail registered with ACME.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acme_registered_email: Option<String>,
    /// ACME directory URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acme_server_url: Option<String>,
}

/// Ingress exposure of an S3 store and its console.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "kebab-case")]
pub struct S3IngressSpec {
    /// Expose the S3 API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_enabled: Option<bool>,
    /// S3 host name; `auto` is s3.<apihost>.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_hostname: Option<String>,
    /// Expose the console.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_enabled: Option<bool>,
    /// Console host name; `auto` derives it from the apihost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_hostname: Option<String>,
}

/// MinIO (`spec.minio`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "kebab-case")]
pub struct MinioSpec {
    /// API service host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// API service port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<Port>,
    /// Volume size in GB.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub volume_size: Option<i32>,
    /// Admin credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<UserPassword>,
    /// Non-admin nuvolaris user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nuvolaris: Option<MinioUser>,
    /// Ingress exposure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress: Option<S3IngressSpec>,
}

/// MinIO nuvolaris user.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "kebab-case")]
pub struct MinioUser {
    /// User name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Legacy sample field; ignored (use minio.admin).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_user: Option<String>,
    /// Legacy sample field; ignored (use minio.admin).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_password: Option<String>,
}

/// Redis (`spec.redis`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "kebab-case")]
pub struct RedisSpec {
    /// Max memory (the key the original reads), e.g. 1000mb.
    #[serde(rename = "maxmemory", skip_serializing_if = "Option::is_none")]
    pub maxmemory: Option<String>,
    /// Max memory as spelled in the original schema; used when maxmemory is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_memory: Option<String>,
    /// Enable persistence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persistence_enabled: Option<bool>,
    /// Volume size in GB (with persistence).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub volume_size: Option<i32>,
    /// Default (admin) user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<PasswordOnly>,
    /// nuvolaris user and key prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nuvolaris: Option<RedisUser>,
    /// Container resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
}

impl RedisSpec {
    /// Max memory, preferring the key the original reads.
    pub fn max_memory(&self) -> Option<&str> {
        self.maxmemory.as_deref().or(self.max_memory.as_deref())
    }
}

/// Redis nuvolaris user.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct RedisUser {
    /// Key prefix (default "nuvolaris:").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// OpenWhisk tuning (`spec.configs`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct ConfigsSpec {
    /// Action, trigger and activation limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsSpec>,
    /// CouchDB container resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub couchdb: Option<ResourcesHolder>,
    /// Controller settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<ControllerConfig>,
    /// Invoker settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoker: Option<InvokerConfig>,
}

/// A section holding only container resources.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct ResourcesHolder {
    /// Container resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
}

/// OpenWhisk limits (`configs.limits`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct LimitsSpec {
    /// Activation limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activations: Option<ActivationLimits>,
    /// Action limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions: Option<ActionLimits>,
    /// Trigger limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triggers: Option<TriggerLimits>,
    /// Action timeout (durations like 100ms, 1min, 5min).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<MinStdMax<String>>,
    /// Action memory (sizes like 128m, 256m, 512m).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<MinStdMax<String>>,
    /// Action concurrency.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [{
        "rule": "(!has(self.limit__dash__min) || !has(self.limit__dash__std) || self.limit__dash__min <= self.limit__dash__std) && (!has(self.limit__dash__std) || !has(self.limit__dash__max) || self.limit__dash__std <= self.limit__dash__max) && (!has(self.limit__dash__min) || !has(self.limit__dash__max) || self.limit__dash__min <= self.limit__dash__max)",
        "message": "concurrency limits must satisfy limit-min <= limit-std <= limit-max"
    }]))]
    pub concurrency: Option<MinStdMax<i32>>,
    /// Load balancer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loadbalancer: Option<LoadBalancerLimits>,
}

/// Activation limits.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct ActivationLimits {
    /// Max payload in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_allowed_payload: Option<i64>,
}

/// Action limits.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct ActionLimits {
    /// Max sequence length.
    #[serde(rename = "sequence-maxLength", skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub sequence_max_length: Option<i32>,
    /// Invocations per minute per namespace.
    #[serde(rename = "invokes-perMinute", skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub invokes_per_minute: Option<i32>,
    /// Concurrent invocations per namespace.
    #[serde(rename = "invokes-concurrent", skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub invokes_concurrent: Option<i32>,
}

/// Trigger limits.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct TriggerLimits {
    /// Trigger fires per minute per namespace.
    #[serde(rename = "fires-perMinute", skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub fires_per_minute: Option<i32>,
}

/// A min/std/max triple (`limit-min`, `limit-std`, `limit-max`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct MinStdMax<T> {
    /// Minimum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_min: Option<T>,
    /// Default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_std: Option<T>,
    /// Maximum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_max: Option<T>,
}

/// Load balancer limits.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "kebab-case")]
pub struct LoadBalancerLimits {
    /// Max share of blackbox invokers, e.g. "10%".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blackbox_fraction: Option<String>,
    /// Timeout factor.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub timeout_factor: Option<i32>,
}

/// Controller settings (`configs.controller`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct ControllerConfig {
    /// StatefulSet replicas.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub replicas: Option<i32>,
    /// JVM options, e.g. -Xmx2048M.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub java_opts: Option<String>,
    /// Log level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging_level: Option<LoggingLevel>,
    /// Container resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
}

/// Invoker settings (`configs.invoker`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct InvokerConfig {
    /// StatefulSet replicas.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub replicas: Option<i32>,
    /// Kubernetes container factory settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<InvokerKubernetes>,
    /// JVM options, e.g. -Xmx1024M.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub java_opts: Option<String>,
    /// Log level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging_level: Option<LoggingLevel>,
    /// Container pool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_pool: Option<ContainerPool>,
    /// Container resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
}

/// Invoker container pool.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct ContainerPool {
    /// Memory for user actions, e.g. 2048m.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_memory: Option<String>,
}

/// Invoker Kubernetes settings (snake_case keys, as in the original).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct InvokerKubernetes {
    /// Pod run timeout in minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub timeouts_run: Option<i32>,
    /// Log collection timeout in minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub timeouts_logs: Option<i32>,
    /// Enable user pod affinity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_pod_affinity_enabled: Option<bool>,
    /// Node label key for user pod affinity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_pod_affinity_key: Option<String>,
    /// Node label value for user pod affinity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_pod_affinity_value: Option<String>,
    /// Enable port forwarding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_forwarding_enabled: Option<bool>,
    /// Namespace of action pods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_namespace: Option<String>,
}

/// Endpoint and image of an OpenWhisk service (`spec.controller`, `spec.invoker`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct ServiceSpec {
    /// Host name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<Port>,
    /// Protocol.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<ServiceProtocol>,
    /// Image repository (overrides the env default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Image tag (used only with image).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// An image reference override.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct ImageSpec {
    /// Image repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Image tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// etcd (`spec.etcd`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "kebab-case")]
pub struct EtcdSpec {
    /// Volume size in GB.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub volume_size: Option<i32>,
    /// Replicas.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub replicas: Option<i32>,
    /// History retention before auto compaction (hours).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_compaction_retention: Option<NumberOrString>,
    /// Same as auto-compaction-retention, the spelling the original code reads.
    #[serde(
        rename = "auto_compaction_retention",
        skip_serializing_if = "Option::is_none"
    )]
    pub auto_compaction_retention_snake: Option<NumberOrString>,
    /// Backend database size limit in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub quota_backend_bytes: Option<i64>,
    /// Root user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<PasswordOnly>,
    /// Container resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
}

impl EtcdSpec {
    /// Auto compaction retention, preferring the code's spelling, then the schema's.
    pub fn auto_compaction_retention(&self) -> Option<&NumberOrString> {
        self.auto_compaction_retention_snake
            .as_ref()
            .or(self.auto_compaction_retention.as_ref())
    }
}

/// Milvus (`spec.milvus`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "kebab-case")]
pub struct MilvusSpec {
    /// API service host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// API service port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<Port>,
    /// Volume sizes in GB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_size: Option<MilvusVolumes>,
    /// Replicas.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub replicas: Option<i32>,
    /// Proxy parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<MilvusProxy>,
    /// rootCoord parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_coord: Option<MilvusRootCoord>,
    /// Passwords of the root, etcd and S3 users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<MilvusPasswords>,
    /// Admin user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<MilvusAdmin>,
    /// nuvolaris user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nuvolaris: Option<MilvusNuvolaris>,
}

/// Milvus volume sizes.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct MilvusVolumes {
    /// Milvus volume in GB.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub cluster: Option<i32>,
    /// Pulsar zookeeper volume in GB.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub zookeeper: Option<i32>,
    /// Pulsar bookie journal volume in GB.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub journal: Option<i32>,
    /// Pulsar bookie ledgers volume in GB.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub ledgers: Option<i32>,
    /// S3 bucket quota in MB (seaweedfs).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub bucket: Option<i32>,
}

/// Milvus proxy parameters.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "kebab-case")]
pub struct MilvusProxy {
    /// Max roles.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_role_num: Option<i32>,
    /// Max users.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_user_num: Option<i32>,
}

/// Milvus rootCoord parameters.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "kebab-case")]
pub struct MilvusRootCoord {
    /// Max databases.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_database_num: Option<i32>,
}

/// Milvus passwords.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct MilvusPasswords {
    /// Root user password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// etcd user password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etcd: Option<String>,
    /// S3 user password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3: Option<String>,
}

/// Milvus admin user.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct MilvusAdmin {
    /// Admin user name (default root).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// Milvus nuvolaris user.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct MilvusNuvolaris {
    /// Password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Collection (not read by the original).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
}

/// Image registry (`spec.registry`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "kebab-case")]
pub struct RegistrySpec {
    /// internal or external.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<RegistryMode>,
    /// Volume size in GB.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub volume_size: Option<i32>,
    /// Push/pull credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<RegistryAuth>,
    /// Host name; `auto` is img.<apihost> in internal mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Ingress exposure (internal mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress: Option<EnabledFlag>,
}

/// Registry credentials.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct RegistryAuth {
    /// User name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// A section with a single `enabled` flag.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct EnabledFlag {
    /// Enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// SeaweedFS (`spec.seaweedfs`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "kebab-case")]
pub struct SeaweedfsSpec {
    /// API service host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// API service port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<Port>,
    /// Volume size in GB.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub volume_size: Option<i32>,
    /// Default bucket quota in MB.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub default_bucket_quota: Option<i32>,
    /// Non-admin nuvolaris user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nuvolaris: Option<UserPassword>,
    /// Ingress exposure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress: Option<S3IngressSpec>,
}

/// Monitoring (`spec.monitoring`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "kebab-case")]
pub struct MonitoringSpec {
    /// Prometheus.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<VolumeOnly>,
    /// Alertmanager.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_manager: Option<AlertManagerSpec>,
}

/// A section with only a volume size.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "kebab-case")]
pub struct VolumeOnly {
    /// Volume size in GB.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub volume_size: Option<i32>,
}

/// Alertmanager.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "kebab-case")]
pub struct AlertManagerSpec {
    /// Deploy Alertmanager.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Volume size in GB.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub volume_size: Option<i32>,
    /// Slack receiver.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slack: Option<SlackSpec>,
    /// Gmail receiver.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gmail: Option<GmailSpec>,
}

/// Slack receiver (snake_case keys, as in the original).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct SlackSpec {
    /// Enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Default receiver.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
    /// Channel name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slack_channel_name: Option<String>,
    /// Webhook URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slack_api_url: Option<String>,
}

/// Gmail receiver.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct GmailSpec {
    /// Enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Default receiver (the original reads the misspelled key `false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
    /// The key the original reads by mistake (`gmail.false`); read when default is absent.
    #[serde(rename = "false", skip_serializing_if = "Option::is_none")]
    pub false_: Option<bool>,
    /// Sender address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Recipient address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// SMTP user name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// SMTP password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// COSI/Rook-Ceph object storage (`spec.cosi`, snake_case keys as in the original).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct CosiSpec {
    /// Bucket storage class; detected when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket_storageclass: Option<String>,
    /// RGW service name; detected when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rgwservice_name: Option<String>,
    /// RGW service port; detected when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rgwservice_port: Option<Port>,
    /// Rook namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Object store name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_store_name: Option<String>,
    /// Max buckets per user.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_bucket_limit: Option<i32>,
    /// Ingress exposure of the S3 API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress: Option<CosiIngress>,
}

/// COSI S3 ingress.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default, rename_all = "kebab-case")]
pub struct CosiIngress {
    /// Expose the S3 API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_enabled: Option<bool>,
    /// S3 host name; `auto` is s3.<apihost>.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_hostname: Option<String>,
}
