//! Small value types shared by the CRD sections: credentials, resource
//! limits, ports and the enumerations the API server validates.

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// A user name and password pair, as the original spells it (`user`, `password`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct UserPassword {
    /// User name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// A password-only credential.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
pub struct PasswordOnly {
    /// Password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// Container resources in the original's short form. Values are Kubernetes
/// quantities kept as strings ("500m", "1", "2G") exactly as written.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Resources {
    /// CPU request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_req: Option<String>,
    /// CPU limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_lim: Option<String>,
    /// Memory request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_req: Option<String>,
    /// Memory limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_lim: Option<String>,
}

/// A TCP port given as a number or as a numeric string.
///
/// The original never declared these ports in its schema and the samples
/// write them quoted (`port: "3233"`), so both forms are accepted; a CEL rule
/// keeps the value inside 1..65535.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(transparent)]
pub struct Port(pub IntOrString);

/// CEL rule attached to every [`Port`]. `string(self)` normalises the int-or-string
/// value, so the rule needs no `type()` check.
pub const PORT_RULE: &str =
    "string(self).matches('^[0-9]{1,5}$') && int(string(self)) >= 1 && int(string(self)) <= 65535";
/// Message of [`PORT_RULE`].
pub const PORT_RULE_MESSAGE: &str = "port must be a number between 1 and 65535";

impl Port {
    /// The port as a number, if it is one (numeric strings are parsed).
    pub fn number(&self) -> Option<u16> {
        match &self.0 {
            IntOrString::Int(n) => u16::try_from(*n).ok().filter(|p| *p != 0),
            IntOrString::String(s) => s.trim().parse::<u16>().ok().filter(|p| *p != 0),
        }
    }
}

impl From<u16> for Port {
    fn from(port: u16) -> Self {
        Port(IntOrString::Int(i32::from(port)))
    }
}

impl JsonSchema for Port {
    fn schema_name() -> Cow<'static, str> {
        "Port".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "x-kubernetes-int-or-string": true,
            "x-kubernetes-validations": [{
                "rule": PORT_RULE,
                "message": PORT_RULE_MESSAGE,
            }],
        })
    }
}

/// A value written either as a number or as a string (for example etcd's
/// `auto-compaction-retention`, declared string but written `1` in samples).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(transparent)]
pub struct NumberOrString(pub IntOrString);

impl NumberOrString {
    /// The value rendered as text, the way a template would print it.
    pub fn as_text(&self) -> String {
        match &self.0 {
            IntOrString::Int(n) => n.to_string(),
            IntOrString::String(s) => s.clone(),
        }
    }
}

impl JsonSchema for NumberOrString {
    fn schema_name() -> Cow<'static, str> {
        "NumberOrString".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "x-kubernetes-int-or-string": true })
    }
}

/// Kubernetes distribution ("flavour"); `auto` asks the operator to detect it.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KubeFlavour {
    /// Detect from node labels.
    Auto,
    /// kind (Kubernetes in Docker).
    Kind,
    /// k3s.
    K3s,
    /// MicroK8s.
    Microk8s,
    /// Amazon EKS.
    Eks,
    /// Google GKE.
    Gke,
    /// Azure AKS.
    Aks,
    /// Linode LKE.
    Lks,
    /// OpenShift.
    Openshift,
    /// Any other conformant cluster.
    Generic,
}

impl KubeFlavour {
    /// The spelling used in the CR and in the original's config (`nuvolaris.kube`).
    pub fn as_str(self) -> &'static str {
        match self {
            KubeFlavour::Auto => "auto",
            KubeFlavour::Kind => "kind",
            KubeFlavour::K3s => "k3s",
            KubeFlavour::Microk8s => "microk8s",
            KubeFlavour::Eks => "eks",
            KubeFlavour::Gke => "gke",
            KubeFlavour::Aks => "aks",
            KubeFlavour::Lks => "lks",
            KubeFlavour::Openshift => "openshift",
            KubeFlavour::Generic => "generic",
        }
    }
}

/// API protocol of the OpenWhisk endpoint; `auto` means https when TLS is on.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApiProtocol {
    /// Plain HTTP.
    Http,
    /// HTTPS.
    Https,
    /// https if components.tls else http (always http on kind).
    Auto,
}

/// Protocol used to reach an internal service.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServiceProtocol {
    /// Plain HTTP.
    Http,
    /// HTTPS.
    Https,
}

/// Log level of the OpenWhisk JVM components.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum LoggingLevel {
    /// INFO.
    Info,
    /// DEBUG.
    Debug,
    /// WARN.
    Warn,
    /// ERROR.
    Error,
    /// TRACE.
    Trace,
}

/// Where the image registry runs.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RegistryMode {
    /// Deploy a registry inside the cluster.
    Internal,
    /// Use an external registry.
    External,
}
