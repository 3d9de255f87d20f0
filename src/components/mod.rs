//! One module per component. Each renders (pure, no client) the objects it deploys.
//!
//! INTERFACE (stable; the bodies are filled in by the components work).

use crate::config::Config;

/// A rendered Kubernetes object: a full object with apiVersion, kind and metadata.
pub type Object = serde_json::Value;

/// What one component contributes to an installation.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedComponent {
    /// Status key under `.status.whisk_create` and value of the `nuvolaris.org/component` label,
    /// e.g. "couchdb", "redis", "openwhisk", "preloader", "endpoint".
    pub name: &'static str,
    /// Objects in apply order as rendered; the apply step orders them by kind (Secrets and
    /// ConfigMaps before workloads) and adds ownerReferences and the operator's labels.
    pub objects: Vec<Object>,
    /// Names of the `batch/v1` Jobs in `objects` whose successful completion means that the
    /// component's setup steps are done (e.g. "couchdb-init").
    pub setup_jobs: Vec<String>,
}

/// The outcome of rendering one known component for a given configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum ComponentRender {
    /// Enabled and rendered.
    Rendered(RenderedComponent),
    /// Disabled by the spec: its objects, if any exist, must be pruned; status says "off".
    Disabled { name: &'static str },
    /// Enabled in the spec but not implemented by this operator version yet.
    NotImplemented { name: &'static str },
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("component {component}: {message}")]
    Component {
        component: &'static str,
        message: String,
    },
}

/// Renders every known component for `cfg`, in installation order. Pure: no client, no I/O.
pub fn render_all(cfg: &Config) -> Result<Vec<ComponentRender>, RenderError> {
    let _ = cfg;
    Ok(Vec::new())
}
