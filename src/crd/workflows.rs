//! The `Workflows` custom resource (`workflows.nuvolaris.org/v1`): a container
//! image run as one Job per workflow step on create and on delete.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::status::WorkflowsStatus;

/// A list of workflow steps run by one image.
// Each printcolumn(...) repeats keys like `type_`, which clippy mistakes for
// duplicated attributes.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "nuvolaris.org",
    version = "v1",
    kind = "Workflows",
    plural = "workflows",
    namespaced,
    status = "WorkflowsStatus",
    doc = "Workflow steps run as Jobs by the nuvolaris operator.",
    printcolumn(name = "total", type_ = "integer", json_path = ".status.total"),
    printcolumn(name = "count", type_ = "integer", json_path = ".status.count"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(default)]
pub struct WorkflowsSpec {
    /// Container image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Container command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Extra environment variables.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "super::status::preserved_object")]
    pub env: Option<BTreeMap<String, serde_json::Value>>,
    /// Steps.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub workflows: Vec<WorkflowStep>,
}

/// One workflow step.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default)]
pub struct WorkflowStep {
    /// Step name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Step parameters (passed as environment variables).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "super::status::preserved_object")]
    pub parameters: Option<BTreeMap<String, serde_json::Value>>,
}
