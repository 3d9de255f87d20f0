//! Status types of the `Whisk`, `WhiskUser` and `Workflows` resources.
//!
//! Compatibility contract (anchors B.5): `status.whisk_create.<component>`
//! keeps the original's keys and values ("on"/"off"/"error"/"?", controller
//! "Ready"/"NotValid"), because `kubectl get wsk` printer columns and the
//! `ops` CLI read them. The status schema preserves unknown fields so values
//! written by the Python operator (and kopf's bookkeeping) stay valid.
//! `conditions` and `observedGeneration` are new, for `kubectl wait`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// State of one component in `status.whisk_create`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ComponentState {
    /// Deployed ("on").
    On,
    /// Not enabled ("off").
    Off,
    /// Deployment failed ("error").
    Error,
    /// Not yet known ("?"); also what unrecognised values read back as.
    #[default]
    Unknown,
}

impl ComponentState {
    /// Wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentState::On => "on",
            ComponentState::Off => "off",
            ComponentState::Error => "error",
            ComponentState::Unknown => "?",
        }
    }

    /// Parse the wire spelling; anything else is `Unknown` (the status is advisory).
    pub fn parse(value: &str) -> Self {
        match value {
            "on" => ComponentState::On,
            "off" => ComponentState::Off,
            "error" => ComponentState::Error,
            _ => ComponentState::Unknown,
        }
    }

    /// `On` when `enabled`, else `Off`.
    pub fn from_enabled(enabled: bool) -> Self {
        if enabled {
            ComponentState::On
        } else {
            ComponentState::Off
        }
    }
}

impl fmt::Display for ComponentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ComponentState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ComponentState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Lenient on purpose: a status written by another operator version
        // must never make the whole object unreadable.
        let value = serde_json::Value::deserialize(deserializer)?;
        Ok(value
            .as_str()
            .map(ComponentState::parse)
            .unwrap_or(ComponentState::Unknown))
    }
}

impl JsonSchema for ComponentState {
    fn schema_name() -> Cow<'static, str> {
        "ComponentState".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // Plain string, no enum: the status must accept what older operators wrote.
        json_schema!({ "type": "string" })
    }
}

/// Overall state of the installation in `status.whisk_create.controller`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum ControllerState {
    /// All enabled components are deployed ("Ready").
    Ready,
    /// The spec was rejected ("NotValid").
    NotValid,
    /// Reconciliation in progress ("Progressing").
    Progressing,
    /// Some component failed ("Degraded").
    Degraded,
    /// Not yet known ("?").
    #[default]
    Unknown,
    /// Any other value, kept verbatim.
    Other(String),
}

impl ControllerState {
    /// Wire spelling.
    pub fn as_str(&self) -> &str {
        match self {
            ControllerState::Ready => "Ready",
            ControllerState::NotValid => "NotValid",
            ControllerState::Progressing => "Progressing",
            ControllerState::Degraded => "Degraded",
            ControllerState::Unknown => "?",
            ControllerState::Other(s) => s,
        }
    }

    /// Parse the wire spelling.
    pub fn parse(value: &str) -> Self {
        match value {
            "Ready" => ControllerState::Ready,
            "NotValid" => ControllerState::NotValid,
            "Progressing" => ControllerState::Progressing,
            "Degraded" => ControllerState::Degraded,
            "?" => ControllerState::Unknown,
            other => ControllerState::Other(other.to_string()),
        }
    }
}

impl fmt::Display for ControllerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ControllerState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ControllerState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Ok(match value {
            serde_json::Value::String(s) => ControllerState::parse(&s),
            _ => ControllerState::Unknown,
        })
    }
}

impl JsonSchema for ControllerState {
    fn schema_name() -> Cow<'static, str> {
        "ControllerState".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string" })
    }
}

/// Observed state of a `Whisk`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
pub struct WhiskStatus {
    /// Per-component state, as the original operator reported it.
    #[serde(rename = "whisk_create", skip_serializing_if = "Option::is_none")]
    pub whisk_create: Option<WhiskCreateStatus>,
    /// Standard conditions (Ready, Progressing, Degraded).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,
    /// The metadata.generation the status describes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// `status.whisk_create`: one entry per component plus `controller`.
///
/// Keys are exactly the original's (including `whisk-system` and
/// `preloader`); values the original never wrote (`endpoint`, `issuer`,
/// `ingress` are set internally) are typed the same way.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default)]
#[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
pub struct WhiskCreateStatus {
    /// Overall state: Ready, NotValid, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<ControllerState>,
    /// OpenWhisk controller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub openwhisk: Option<ComponentState>,
    /// Invoker.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoker: Option<ComponentState>,
    /// CouchDB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub couchdb: Option<ComponentState>,
    /// Kafka.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kafka: Option<ComponentState>,
    /// Redis.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis: Option<ComponentState>,
    /// MongoDB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mongodb: Option<ComponentState>,
    /// Cron.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cron: Option<ComponentState>,
    /// TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<ComponentState>,
    /// API endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<ComponentState>,
    /// Certificate issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<ComponentState>,
    /// Ingress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress: Option<ComponentState>,
    /// MinIO.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minio: Option<ComponentState>,
    /// Static content.
    #[serde(rename = "static", skip_serializing_if = "Option::is_none")]
    pub static_: Option<ComponentState>,
    /// Zookeeper.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zookeeper: Option<ComponentState>,
    /// Quota checker.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota: Option<ComponentState>,
    /// etcd.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etcd: Option<ComponentState>,
    /// Milvus.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub milvus: Option<ComponentState>,
    /// Runtime preloader.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preloader: Option<ComponentState>,
    /// Registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<ComponentState>,
    /// SeaweedFS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seaweedfs: Option<ComponentState>,
    /// PostgreSQL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postgres: Option<ComponentState>,
    /// Monitoring.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<ComponentState>,
    /// whisk-system actions.
    #[serde(rename = "whisk-system", skip_serializing_if = "Option::is_none")]
    pub whisk_system: Option<ComponentState>,
    /// Keys this version does not know, kept verbatim.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl WhiskCreateStatus {
    /// Component keys in the order of the original's printer columns (after `controller`).
    pub const PRINTED_COMPONENTS: [&'static str; 17] = [
        "openwhisk",
        "invoker",
        "couchdb",
        "kafka",
        "mongodb",
        "redis",
        "cron",
        "tls",
        "minio",
        "postgres",
        "quota",
        "monitoring",
        "static",
        "etcd",
        "milvus",
        "registry",
        "seaweedfs",
    ];

    /// Mutable slot of a component by its status key, `None` for unknown keys.
    pub fn slot_mut(&mut self, key: &str) -> Option<&mut Option<ComponentState>> {
        Some(match key {
            "openwhisk" => &mut self.openwhisk,
            "invoker" => &mut self.invoker,
            "couchdb" => &mut self.couchdb,
            "kafka" => &mut self.kafka,
            "redis" => &mut self.redis,
            "mongodb" => &mut self.mongodb,
            "cron" => &mut self.cron,
            "tls" => &mut self.tls,
            "endpoint" => &mut self.endpoint,
            "issuer" => &mut self.issuer,
            "ingress" => &mut self.ingress,
            "minio" => &mut self.minio,
            "static" => &mut self.static_,
            "zookeeper" => &mut self.zookeeper,
            "quota" => &mut self.quota,
            "etcd" => &mut self.etcd,
            "milvus" => &mut self.milvus,
            "preloader" => &mut self.preloader,
            "registry" => &mut self.registry,
            "seaweedfs" => &mut self.seaweedfs,
            "postgres" => &mut self.postgres,
            "monitoring" => &mut self.monitoring,
            "whisk-system" => &mut self.whisk_system,
            _ => return None,
        })
    }

    /// Set a component's state by its status key; returns false for unknown keys.
    pub fn set(&mut self, key: &str, state: ComponentState) -> bool {
        match self.slot_mut(key) {
            Some(slot) => {
                *slot = Some(state);
                true
            }
            None => false,
        }
    }
}

/// Observed state of a `WhiskUser`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
pub struct WhiskUserStatus {
    /// Per-resource outcome, as the original reported it (values vary: bool, string).
    #[serde(rename = "whisk_user_create", skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "preserved_object")]
    pub whisk_user_create: Option<BTreeMap<String, serde_json::Value>>,
    /// Standard conditions (Initialized, Ready).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,
    /// The metadata.generation the status describes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// Observed state of a `Workflows`.
///
/// The original declared `total`/`count` as strings but printed them as
/// integer columns (and kopf never filled them); they are integers here so
/// `kubectl get workflows` shows them.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(default)]
pub struct WorkflowsStatus {
    /// Number of Workflows objects in the namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
    /// Number of Jobs in the namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
}

/// Schema of a free-form object whose content the API server must keep.
pub(crate) fn preserved_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "nullable": true,
        "x-kubernetes-preserve-unknown-fields": true,
    })
}

/// Schema of `status.conditions`: the shape of metav1.Condition with short
/// descriptions (the upstream ones would add kilobytes to every CRD), keyed by
/// `type` so server-side apply merges conditions one by one.
pub(crate) fn conditions_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "Standard conditions, one per type.",
        "type": "array",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
        "items": {
            "type": "object",
            "required": ["type", "status", "lastTransitionTime", "reason", "message"],
            "properties": {
                "type": {"description": "Condition type, e.g. Ready.", "type": "string"},
                "status": {"description": "True, False or Unknown.", "type": "string", "enum": ["True", "False", "Unknown"]},
                "reason": {"description": "CamelCase reason of the last transition.", "type": "string"},
                "message": {"description": "Human-readable details.", "type": "string"},
                "lastTransitionTime": {"description": "When the status last changed.", "type": "string", "format": "date-time"},
                "observedGeneration": {"description": "metadata.generation the condition is based on.", "type": "integer", "format": "int64"},
            },
        },
    })
}
