//! The `Kubegres` custom resource (`kubegres.reactive-tech.io/v1`) of the Kubegres controller
//! that runs the PostgreSQL cluster: its spec and status as typed Rust, from which the CRD the
//! operator installs is generated (structural schema included), as the controller's own Go types
//! (api/v1/kubegres_types.go of reactive-tech/kubegres, 1.18) define them. Only the operator
//! writes the spec; the status is the controller's and tells when the databases are up (see
//! `apply::kinds::STATUS_READINESS`).

use k8s_openapi::api::core::v1::{
    Affinity, EnvVar, LocalObjectReference, PersistentVolumeClaimSpec, PodSecurityContext, Probe,
    ResourceRequirements, SecurityContext, Toleration, Volume, VolumeMount,
};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A PostgreSQL cluster: one primary and `replicas - 1` streaming replicas, each a StatefulSet
/// `<name>-<index>` (pod `<name>-<index>-0`), behind the Services `<name>` (primary) and
/// `<name>-replica`.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "kubegres.reactive-tech.io",
    version = "v1",
    kind = "Kubegres",
    plural = "kubegres",
    namespaced,
    status = "KubegresStatus"
)]
#[serde(rename_all = "camelCase")]
pub struct KubegresSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secrets: Vec<LocalObjectReference>,
    /// A ConfigMap overriding keys of the controller's `base-kubegres-config`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub custom_config: String,
    #[serde(default)]
    pub database: KubegresDatabase,
    #[serde(default)]
    pub failover: KubegresFailover,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<KubegresBackUp>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<KubegresScheduler>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<KubegresVolume>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<PodSecurityContext>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_security_context: Option<SecurityContext>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<KubegresProbe>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service_account_name: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubegresDatabase {
    /// A quantity such as `10Gi`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub size: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub volume_mount: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubegresFailover {
    #[serde(default)]
    pub is_disabled: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub promote_pod: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubegresBackUp {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub schedule: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub volume_mount: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pvc_name: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubegresScheduler {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubegresVolumeClaimTemplate {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<PersistentVolumeClaimSpec>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubegresVolume {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_claim_templates: Vec<KubegresVolumeClaimTemplate>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubegresProbe {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
}

/// What the controller reports.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubegresStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_created_instance_index: Option<i32>,
    /// The operation in progress (deploying or replacing a database, failing over); empty when
    /// none is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocking_operation: Option<KubegresBlockingOperation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_blocking_operation: Option<KubegresBlockingOperation>,
    /// How many databases (StatefulSets) it has deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforced_replicas: Option<i32>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubegresBlockingOperation {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operation_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub step_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_out_epoc_in_seconds: Option<i64>,
    #[serde(default)]
    pub has_timed_out: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stateful_set_operation: Option<KubegresStatefulSetOperation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stateful_set_spec_update_operation: Option<KubegresStatefulSetSpecUpdateOperation>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubegresStatefulSetOperation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_index: Option<i32>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubegresStatefulSetSpecUpdateOperation {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub spec_differences: String,
}
