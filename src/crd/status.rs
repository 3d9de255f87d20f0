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
use serde_json::json;

use super::ComponentId;

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

/// Keys of `status.whisk_create` that the original wrote but that are not components of this
/// operator: `issuer` (its TLS step wrote both `issuer` and `tls`) and `ingress` (never updated).
/// Declared in the schema so that old statuses stay readable; values are kept as written.
pub const LEGACY_STATUS_KEYS: [(&str, &str); 2] = [
    (
        "issuer",
        "Certificate issuer (written by the original operator).",
    ),
    ("ingress", "Ingress (written by the original operator)."),
];

/// `status.whisk_create`: `controller` (the overall state) plus one entry per component, keyed
/// by [`ComponentId::key`]. Keys this version does not know are kept verbatim in `extra`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WhiskCreateStatus {
    /// Overall state: Ready, NotValid, ...
    pub controller: Option<ControllerState>,
    pub components: BTreeMap<ComponentId, ComponentState>,
    /// Keys that are not components of this version (see [`LEGACY_STATUS_KEYS`]), kept verbatim.
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl WhiskCreateStatus {
    /// The state of `component`, if the status has one.
    pub fn get(&self, component: ComponentId) -> Option<ComponentState> {
        self.components.get(&component).copied()
    }

    /// Sets the state of `component`.
    pub fn set(&mut self, component: ComponentId, state: ComponentState) {
        self.components.insert(component, state);
    }
}

impl Serialize for WhiskCreateStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        if let Some(controller) = &self.controller {
            map.serialize_entry("controller", controller)?;
        }
        for (component, state) in &self.components {
            map.serialize_entry(component.key(), state)?;
        }
        for (key, value) in &self.extra {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for WhiskCreateStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Lenient: whatever another operator version wrote must stay readable.
        let map = BTreeMap::<String, serde_json::Value>::deserialize(deserializer)?;
        let mut status = WhiskCreateStatus::default();
        for (key, value) in map {
            if key == "controller" {
                status.controller = Some(match value.as_str() {
                    Some(s) => ControllerState::parse(s),
                    None => ControllerState::Unknown,
                });
            } else if let Some(component) = ComponentId::from_key(&key) {
                status.components.insert(
                    component,
                    value
                        .as_str()
                        .map(ComponentState::parse)
                        .unwrap_or(ComponentState::Unknown),
                );
            } else {
                status.extra.insert(key, value);
            }
        }
        Ok(status)
    }
}

impl JsonSchema for WhiskCreateStatus {
    fn schema_name() -> Cow<'static, str> {
        "WhiskCreateStatus".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // nullable: statuses written by older operators may hold null
        let string = |description: String| json!({"description": description, "type": "string", "nullable": true});
        let mut properties = serde_json::Map::new();
        properties.insert(
            "controller".to_owned(),
            string("Overall state: Ready, Progressing, Degraded or NotValid.".to_owned()),
        );
        for component in ComponentId::ALL {
            properties.insert(
                component.key().to_owned(),
                string(format!("{}: on, off, error or ?.", component.title())),
            );
        }
        for (key, description) in LEGACY_STATUS_KEYS {
            properties.insert(key.to_owned(), string(description.to_owned()));
        }
        json_schema!({
            "description": "State of each component, as the original operator reported it, and `controller`, the overall state.",
            "type": "object",
            "nullable": true,
            "properties": properties,
            "x-kubernetes-preserve-unknown-fields": true,
        })
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
