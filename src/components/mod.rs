//! One module per component. Each renders (pure, no client) the objects it deploys; the table
//! in [`render_all`] lists them in installation order, as the original's `whisk_create` did.

use crate::config::Config;

pub mod couchdb;
pub mod endpoint;
pub mod kit;
pub mod openwhisk;
pub mod redis;
pub mod runtimes;
pub mod setup_env;

/// A rendered Kubernetes object: a full object with apiVersion, kind and metadata.
pub type Object = serde_json::Value;

/// Annotation that tells the apply step how to treat an object.
pub const APPLY_POLICY_ANNOTATION: &str = "nuvolaris.org/apply-policy";
/// Create the object when missing, never change it afterwards (users own its content).
pub const CREATE_ONLY: &str = "create-only";

/// What one component contributes to an installation.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedComponent {
    /// Status key under `.status.whisk_create` and value of the `nuvolaris.org/component` label,
    /// e.g. "couchdb", "redis", "openwhisk", "preloader", "endpoint".
    pub name: &'static str,
    /// Objects as rendered; the apply step orders them by kind (Secrets and ConfigMaps before
    /// workloads) and adds ownerReferences and the operator's labels.
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

impl ComponentRender {
    pub fn name(&self) -> &'static str {
        match self {
            ComponentRender::Rendered(r) => r.name,
            ComponentRender::Disabled { name } | ComponentRender::NotImplemented { name } => name,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("component {component}: {message}")]
    Component {
        component: &'static str,
        message: String,
    },
}

/// The component's kustomization for a configuration (see [`kit::Overlay`]).
type Render = fn(&Config) -> Result<kit::Overlay, RenderError>;
/// Whether this version supports the configuration (e.g. not the controller's enterprise mode).
type Supported = fn(&Config) -> bool;

/// One row of the component table.
struct Component {
    /// Status key.
    name: &'static str,
    enabled: fn(&Config) -> bool,
    /// `None`: not implemented by this version. The second function says whether the current
    /// configuration is supported (e.g. the controller's enterprise mode is not yet).
    render: Option<(Render, Supported)>,
    setup_jobs: &'static [&'static str],
}

fn always(_: &Config) -> bool {
    true
}

/// Every component of the original, in its installation order.
const COMPONENTS: &[Component] = &[
    Component {
        name: runtimes::NAME,
        enabled: runtimes::enabled,
        render: Some((runtimes::overlay, always)),
        setup_jobs: &[],
    },
    Component {
        name: couchdb::NAME,
        enabled: couchdb::enabled,
        render: Some((couchdb::overlay, always)),
        setup_jobs: couchdb::SETUP_JOBS,
    },
    Component {
        name: redis::NAME,
        enabled: redis::enabled,
        render: Some((redis::overlay, always)),
        setup_jobs: redis::SETUP_JOBS,
    },
    Component {
        name: "registry",
        enabled: |c| c.components.registry,
        render: None,
        setup_jobs: &[],
    },
    Component {
        name: "tls",
        enabled: |c| {
            c.components.tls
                && !matches!(
                    c.flavour,
                    crate::config::Flavour::Kind | crate::config::Flavour::Openshift
                )
        },
        render: None,
        setup_jobs: &[],
    },
    Component {
        name: "cron",
        enabled: |c| c.components.cron,
        render: None,
        setup_jobs: &[],
    },
    Component {
        name: "minio",
        enabled: |c| c.components.minio,
        render: None,
        setup_jobs: &[],
    },
    Component {
        name: "seaweedfs",
        enabled: |c| c.components.seaweedfs,
        render: None,
        setup_jobs: &[],
    },
    Component {
        name: "static",
        enabled: |c| c.components.static_,
        render: None,
        setup_jobs: &[],
    },
    // FerretDB (mongodb) stores its data in Postgres.
    Component {
        name: "postgres",
        enabled: |c| c.components.postgres || c.components.mongodb,
        render: None,
        setup_jobs: &[],
    },
    Component {
        name: "mongodb",
        enabled: |c| c.components.mongodb,
        render: None,
        setup_jobs: &[],
    },
    Component {
        name: "zookeeper",
        enabled: |c| c.components.zookeeper,
        render: None,
        setup_jobs: &[],
    },
    Component {
        name: "kafka",
        enabled: |c| c.components.kafka,
        render: None,
        setup_jobs: &[],
    },
    Component {
        name: "invoker",
        enabled: |c| c.components.invoker,
        render: None,
        setup_jobs: &[],
    },
    Component {
        name: openwhisk::NAME,
        enabled: openwhisk::enabled,
        render: Some((openwhisk::overlay, openwhisk::implemented)),
        setup_jobs: &[],
    },
    Component {
        name: endpoint::NAME,
        enabled: endpoint::enabled,
        render: Some((endpoint::overlay, endpoint::implemented)),
        setup_jobs: &[],
    },
    Component {
        name: "monitoring",
        enabled: |c| c.components.monitoring,
        render: None,
        setup_jobs: &[],
    },
    Component {
        name: "quota",
        enabled: |c| c.components.quota,
        render: None,
        setup_jobs: &[],
    },
    Component {
        name: "etcd",
        enabled: |c| c.components.etcd,
        render: None,
        setup_jobs: &[],
    },
    Component {
        name: "milvus",
        enabled: |c| c.components.milvus,
        render: None,
        setup_jobs: &[],
    },
];

/// The status keys of every known component, in installation order.
pub fn names() -> impl Iterator<Item = &'static str> {
    COMPONENTS.iter().map(|c| c.name)
}

/// The overlays of the enabled, implemented components for `cfg`, by status key: what
/// [`render_all`] builds (the conformance suite builds them with `kubectl kustomize` too).
pub fn overlays(cfg: &Config) -> Result<Vec<(&'static str, kit::Overlay)>, RenderError> {
    COMPONENTS
        .iter()
        .filter(|c| (c.enabled)(cfg))
        .filter_map(|c| match c.render {
            Some((render, supported)) if supported(cfg) => Some(render(cfg).map(|o| (c.name, o))),
            _ => None,
        })
        .collect()
}

/// Renders every known component for `cfg`, in installation order. Pure: no client, no I/O.
pub fn render_all(cfg: &Config) -> Result<Vec<ComponentRender>, RenderError> {
    COMPONENTS
        .iter()
        .map(|component| {
            let name = component.name;
            if !(component.enabled)(cfg) {
                return Ok(ComponentRender::Disabled { name });
            }
            match component.render {
                Some((render, supported)) if supported(cfg) => {
                    Ok(ComponentRender::Rendered(RenderedComponent {
                        name,
                        objects: render(cfg)?.build()?,
                        setup_jobs: component
                            .setup_jobs
                            .iter()
                            .map(|j| (*j).to_owned())
                            .collect(),
                    }))
                }
                _ => Ok(ComponentRender::NotImplemented { name }),
            }
        })
        .collect()
}
