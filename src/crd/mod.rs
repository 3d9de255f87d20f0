//! Custom resource types of the operator, generated into CRDs from Rust.
//!
//! - [`Whisk`] (`whisks.nuvolaris.org`, `wsk`): one OpenServerless installation.
//! - [`WhiskUser`] (`whisksusers.nuvolaris.org`, `wsku`): one user namespace.
//! - [`Workflows`] (`workflows.nuvolaris.org`): Jobs run on create/delete.
//!
//! The committed `deploy/crds/crds.yaml` is [`crds_yaml`]'s output; a test
//! fails when it drifts (regenerate with `UPDATE_CRDS=1 cargo test --test crd_samples`).

mod status;
mod types;
mod user;
mod whisk;
mod workflows;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

pub use status::{
    ComponentState, ControllerState, WhiskCreateStatus, WhiskStatus, WhiskUserStatus,
    WorkflowsStatus,
};
pub use types::{
    ApiProtocol, KubeFlavour, LoggingLevel, NumberOrString, PORT_RULE, PORT_RULE_MESSAGE,
    PasswordOnly, Port, RegistryMode, Resources, ServiceProtocol, UserPassword,
};
pub use user::{UserBucket, UserDatabase, UserObjectStorage, UserRedis, WhiskUser, WhiskUserSpec};
pub use whisk::*;
pub use workflows::{WorkflowStep, Workflows, WorkflowsSpec};

/// API group of every resource.
pub const GROUP: &str = "nuvolaris.org";
/// API version of every resource.
pub const VERSION: &str = "v1";

/// The operator's CRDs, in a fixed order: Whisk, WhiskUser, Workflows.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![Whisk::crd(), WhiskUser::crd(), Workflows::crd()]
}

/// [`crds`] as one multi-document YAML stream, deterministic byte for byte
/// (struct fields serialise in declaration order, maps are sorted).
pub fn crds_yaml() -> String {
    let mut out = String::new();
    for crd in crds() {
        // A CRD is plain strings, numbers and maps built from our own types,
        // so serialising it cannot fail; a failure is a bug in this module.
        let doc = serde_yaml_ng::to_string(&crd)
            .expect("a CustomResourceDefinition always serialises to YAML");
        out.push_str("---\n");
        out.push_str(&doc);
    }
    out
}
