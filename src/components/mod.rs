//! One module per component. Each implements [`Component`]: it renders (pure, no client) the
//! objects it deploys as a kustomize [`Overlay`], declares its setup Jobs through the overlay, the
//! generated passwords it reads and the kinds it creates. [`component`] maps every
//! [`ComponentId`] to its module, or to `None` while this version does not implement it;
//! [`render_all`] renders an installation in the original's installation order.
//!
//! Adding a component: a variant of [`ComponentId`] (the compiler then asks for its spec switch in
//! `config::enabled` and its row in [`component`]), its settings in `src/config/<name>.rs`, its
//! base manifests in `deploy/<name>/`, and its module here.

use crate::apply::kinds::KnownKind;
use crate::config::{Config, ConfigError, GeneratedKey, secrets};
use crate::crd::ComponentId;
use crate::setup::object_store::StoreAccount;

pub mod couchdb;
pub mod cron;
pub mod endpoint;
pub mod etcd;
pub mod ferretdb;
pub mod invoker;
pub mod kafka;
pub mod kit;
pub mod milvus;
pub mod minio;
pub mod monitoring;
pub mod object_store;
pub mod openwhisk;
pub mod ops_config;
pub mod postgres;
pub mod quota;
pub mod redis;
pub mod registry;
pub mod runtimes;
pub mod seaweedfs;
pub mod static_content;
pub mod tls;
pub mod web;
pub mod whisk_system;
pub mod zookeeper;

#[cfg(test)]
pub(crate) mod test_support;

pub use crate::apply::Object;
pub use kit::Overlay;

/// What every component module provides.
pub trait Component: Sync {
    fn id(&self) -> ComponentId;

    /// Whether this version can install the component as configured (a component may support
    /// some of its configurations before all). An unsupported configuration keeps what is
    /// deployed.
    fn support(&self, _cfg: &Config) -> Support {
        Support::Supported
    }

    /// The component's objects, setup Jobs included (see [`Overlay::setup_job`]). Pure.
    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError>;

    /// The annotations it publishes on the `ops` CLI's ConfigMap `config` (e.g. `apihost`,
    /// `s3_host`): kept while it is enabled, removed when it is disabled; those marked
    /// [`Publish::Ready`]/[`Publish::Failed`] follow its outcome. They also make the `env` of the
    /// `nuvolaris` user's metadata ([`ops_config::user_metadata_env`]). Pure: from `cfg` only.
    fn config_annotations(&self, _cfg: &Config) -> Vec<ConfigAnnotation> {
        Vec::new()
    }

    /// The components that must be ready before this one's objects are applied (FerretDB stores
    /// into Postgres; Milvus needs etcd and the object store). Each comes earlier in
    /// [`ComponentId::ALL`], the installation order, so that one reconcile can install both.
    fn dependencies(&self, _cfg: &Config) -> Vec<ComponentId> {
        Vec::new()
    }

    /// The object store accounts it needs (Milvus: `miniomilvus` with the bucket `vectors`): the
    /// enabled store's setup Job creates them (see [`object_store::store_accounts`]), so they
    /// exist once the store is Ready. Name the store among [`Component::dependencies`].
    fn store_accounts(&self, _cfg: &Config) -> Vec<StoreAccount> {
        Vec::new()
    }

    /// The keys of the generated Secret its configuration reads.
    fn generated_secrets(&self) -> &'static [GeneratedKey] {
        &[]
    }

    /// Every kind it may create (the RBAC of `deploy/operator` must cover them; the controller
    /// watches the namespaced ones).
    fn kinds(&self) -> &'static [KnownKind];

    /// Objects the Python operator created for it that this version replaces by others (e.g.
    /// Redis's ConfigMap `redis-cm`, now the Secret `redis-conf-<hash>`): removed once the
    /// component is Ready and runs this version's objects (none held, see `apply::hold`).
    fn leftovers(&self) -> &'static [Leftover] {
        &[]
    }
}

/// An object of the Python operator's installation that this version no longer uses. Only
/// removed when it belongs to the Whisk (its ownerReference) and not to this operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leftover {
    pub kind: KnownKind,
    pub name: &'static str,
}

/// One annotation of `cm/config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigAnnotation {
    pub key: String,
    pub value: String,
    /// A password, a key or a URL holding one (`s3_secret_key`, `redis_url`): the `ops` CLI reads
    /// them there, but an installation may choose not to publish them
    /// (`spec.nuvolaris.publishcredentials: false`).
    pub credential: bool,
    /// Also an `env` entry `<KEY>` (upper-cased) of the `nuvolaris` user's metadata document,
    /// which `login` hands to `ops -login` (see [`ops_config::user_metadata_env`]). True unless
    /// [`ConfigAnnotation::not_user_env`].
    pub user_env: bool,
    /// When it is published.
    pub when: Publish,
}

/// When a `cm/config` annotation is published: while its component is enabled, or only once the
/// component's installation has succeeded or failed (e.g. `system_action_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publish {
    /// While the component is enabled.
    Enabled,
    /// Once the component is ready (its setup Jobs done). While it is on its way again (a
    /// changed setup Job re-running), the value published before stays.
    Ready,
    /// Once the component has failed (a setup Job out of retries); it stays while the Job is
    /// re-run, until the component is ready.
    Failed,
}

impl ConfigAnnotation {
    pub fn plain(key: impl Into<String>, value: impl Into<String>) -> ConfigAnnotation {
        ConfigAnnotation {
            key: key.into(),
            value: value.into(),
            credential: false,
            user_env: true,
            when: Publish::Enabled,
        }
    }

    pub fn credential(key: impl Into<String>, value: impl Into<String>) -> ConfigAnnotation {
        ConfigAnnotation {
            credential: true,
            ..ConfigAnnotation::plain(key, value)
        }
    }

    /// Not for the users' environment (e.g. `apihost`: `ops` exports its configuration as
    /// environment variables, and its tasks use `APIHOST` for a host without scheme).
    pub fn not_user_env(self) -> ConfigAnnotation {
        ConfigAnnotation {
            user_env: false,
            ..self
        }
    }

    /// Published only once the component is ready.
    pub fn when_ready(self) -> ConfigAnnotation {
        ConfigAnnotation {
            when: Publish::Ready,
            ..self
        }
    }

    /// Published only once the component has failed.
    pub fn when_failed(self) -> ConfigAnnotation {
        ConfigAnnotation {
            when: Publish::Failed,
            ..self
        }
    }
}

/// Whether a configuration can be installed by this version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Support {
    Supported,
    /// Not yet: why, in a short sentence for the status.
    Unsupported(String),
}

/// The module that installs `id`, or `None` while this version does not implement it.
pub fn component(id: ComponentId) -> Option<&'static dyn Component> {
    match id {
        ComponentId::Preloader => Some(&runtimes::Runtimes),
        ComponentId::Couchdb => Some(&couchdb::CouchDb),
        ComponentId::Redis => Some(&redis::Redis),
        ComponentId::Openwhisk => Some(&openwhisk::Openwhisk),
        ComponentId::Endpoint => Some(&endpoint::Endpoint),
        ComponentId::Tls => Some(&tls::Tls),
        ComponentId::Registry => Some(&registry::Registry),
        ComponentId::Cron => Some(&cron::Cron),
        ComponentId::Quota => Some(&quota::Quota),
        ComponentId::Minio => Some(&minio::Minio),
        ComponentId::Seaweedfs => Some(&seaweedfs::Seaweedfs),
        ComponentId::Static => Some(&static_content::StaticContent),
        ComponentId::Postgres => Some(&postgres::Postgres),
        ComponentId::Mongodb => Some(&ferretdb::Ferretdb),
        ComponentId::Etcd => Some(&etcd::Etcd),
        ComponentId::Milvus => Some(&milvus::Milvus),
        ComponentId::WhiskSystem => Some(&whisk_system::WhiskSystem),
        ComponentId::Zookeeper => Some(&zookeeper::Zookeeper),
        ComponentId::Kafka => Some(&kafka::Kafka),
        ComponentId::Invoker => Some(&invoker::Invoker),
        ComponentId::Monitoring => Some(&monitoring::Monitoring),
    }
}

/// Every implemented component, in installation order.
pub fn implemented() -> impl Iterator<Item = &'static dyn Component> {
    ComponentId::ALL.iter().filter_map(|id| component(*id))
}

/// Every key of the generated Secret: the installation-wide ones and each component's.
pub fn generated_secret_keys() -> Vec<GeneratedKey> {
    let mut keys = secrets::CORE_KEYS.to_vec();
    for component in implemented() {
        keys.extend(component.generated_secrets());
    }
    keys
}

/// Every kind any component may create, without duplicates.
pub fn created_kinds() -> Vec<KnownKind> {
    let mut kinds: Vec<KnownKind> = Vec::new();
    for kind in implemented().flat_map(|c| c.kinds().iter()) {
        if !kinds.contains(kind) {
            kinds.push(*kind);
        }
    }
    kinds
}

/// Why a render failed: the user's spec, or the operator itself.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The spec (or a user-edited input such as the runtimes manifest) is invalid: the user's to
    /// fix; reported as NotValid with the field.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// A bug of the operator (a template, a base manifest, a patch): reported as Degraded,
    /// "operator error", and logged as an error.
    #[error("{component}: {message}")]
    Defect {
        component: ComponentId,
        message: String,
    },
    #[error("{0}")]
    Internal(String),
}

impl From<ConfigError> for RenderError {
    fn from(err: ConfigError) -> RenderError {
        match err {
            ConfigError::Invalid { field, message } => RenderError::Invalid { field, message },
            missing @ ConfigError::MissingGenerated(_) => {
                RenderError::Internal(missing.to_string())
            }
        }
    }
}

impl RenderError {
    /// True when the user must fix the input; false for operator defects.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, RenderError::Invalid { .. })
    }
}

/// What one component contributes to an installation.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedComponent {
    pub id: ComponentId,
    /// Objects as rendered; the apply step orders them by kind (Secrets and ConfigMaps before
    /// workloads) and adds ownerReferences and the operator's labels.
    pub objects: Vec<Object>,
    /// Names of the `batch/v1` Jobs in `objects` whose successful completion means that the
    /// component's setup steps are done (e.g. "couchdb-init").
    pub setup_jobs: Vec<String>,
    /// What it publishes on `cm/config` (without credentials when the spec says so).
    pub annotations: Vec<ConfigAnnotation>,
    /// The components that must be ready before these objects are applied.
    pub dependencies: Vec<ComponentId>,
}

/// The outcome of rendering one component for a given configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum ComponentRender {
    /// Enabled and rendered.
    Rendered(RenderedComponent),
    /// Disabled by the spec: its objects, if any exist, must be pruned; status says "off".
    Disabled(ComponentId),
    /// Enabled in the spec but not implemented by this operator version yet.
    NotImplemented(ComponentId),
    /// Enabled, implemented, but not in this configuration: what is deployed is kept, and so
    /// are its `cm/config` annotations.
    Unsupported {
        id: ComponentId,
        reason: String,
        annotations: Vec<ConfigAnnotation>,
    },
}

impl ComponentRender {
    pub fn id(&self) -> ComponentId {
        match self {
            ComponentRender::Rendered(r) => r.id,
            ComponentRender::Disabled(id)
            | ComponentRender::NotImplemented(id)
            | ComponentRender::Unsupported { id, .. } => *id,
        }
    }

    /// What the component publishes on `cm/config`.
    pub fn annotations(&self) -> Option<&[ConfigAnnotation]> {
        match self {
            ComponentRender::Rendered(r) => Some(&r.annotations),
            ComponentRender::Unsupported { annotations, .. } => Some(annotations.as_slice()),
            ComponentRender::Disabled(_) | ComponentRender::NotImplemented(_) => None,
        }
    }
}

/// The overlays of the enabled, supported components for `cfg`: what [`render_all`] builds (the
/// conformance suite builds them with `kubectl kustomize` too).
pub fn overlays(cfg: &Config) -> Result<Vec<(ComponentId, Overlay)>, RenderError> {
    implemented()
        .filter(|c| cfg.enabled(c.id()) && c.support(cfg) == Support::Supported)
        .map(|c| c.overlay(cfg).map(|o| (c.id(), o)))
        .collect()
}

/// Renders every component for `cfg`, in installation order. Pure: no client, no I/O.
pub fn render_all(cfg: &Config) -> Result<Vec<ComponentRender>, RenderError> {
    ComponentId::ALL
        .iter()
        .map(|&id| {
            if !cfg.enabled(id) {
                return Ok(ComponentRender::Disabled(id));
            }
            let Some(component) = component(id) else {
                return Ok(ComponentRender::NotImplemented(id));
            };
            let annotations = ops_config::published(component.config_annotations(cfg), cfg);
            match component.support(cfg) {
                Support::Unsupported(reason) => Ok(ComponentRender::Unsupported {
                    id,
                    reason,
                    annotations,
                }),
                Support::Supported => {
                    let mut built = component.overlay(cfg)?.build()?;
                    if !cfg.node_ports {
                        kit::without_node_ports(&mut built.objects);
                    }
                    Ok(ComponentRender::Rendered(RenderedComponent {
                        id,
                        objects: built.objects,
                        setup_jobs: built.setup_jobs,
                        annotations,
                        dependencies: component.dependencies(cfg),
                    }))
                }
            }
        })
        .collect()
}
