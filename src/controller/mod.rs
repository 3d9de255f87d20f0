//! The operator runtime: a kube-runtime `Controller` for `Whisk`, reconciling level-triggered
//! through the pipeline facts → generated secrets → config → render → apply → readiness →
//! prune → status, plus the daemon around it (health, metrics, leader election).
//!
//! Entry point for `nuvolaris-operator run`: [`run_daemon`] with [`DaemonOptions`].
//!
//! Behaviour, in short:
//! - Level-triggered and stateless: every reconcile derives everything from the CR and the
//!   cluster; the only runtime state is the per-Whisk error count of [`backoff`].
//! - Triggers: the Whisk itself, metadata watches on the children the operator labels (every
//!   namespaced kind a component declares it creates, `components::created_kinds`) and the
//!   `openwhisk-runtimes` ConfigMap; debounced 1 s.
//! - Never waits inside a reconcile: requeue after 10 s while something is progressing, after
//!   5 min otherwise (drift check); errors back off per Whisk from 1 s doubling to 5 min.
//! - Writes only what changed: objects whose content hash is unchanged are skipped, the status
//!   is written only when it differs, Events only accompany changes or errors. A no-op
//!   reconcile makes zero API writes.
//! - Status: see [`status`]. Invalid spec → `controller: NotValid`, Degraded/InvalidSpec, a
//!   Warning Event, nothing applied or deleted. A CR that does not even deserialize is handled
//!   the same way (through `DeserializeGuard`) and cannot block the watch.
//! - Deletion: the finalizer `nuvolaris.org/cleanup` removes cluster-scoped children by label
//!   (bounded: after 60 s the Whisk is released anyway); namespaced children go with the CR
//!   through their ownerReference; PVCs are kept (see `apply`).
//! - Taking over the Python operator's installation (see README "Migrating from the Python
//!   operator"): kopf's finalizer and annotations are removed on sight and our finalizer added
//!   in the same write; status fields kopf wrote are taken over and dropped; objects created by
//!   client-side `kubectl apply` are taken over (`apply::migrate`); credentials in use are
//!   adopted, never regenerated (`secrets`); the live apihost is kept (`facts`); in-memory
//!   workloads keep their pod template until the user allows a restart and replaced objects
//!   are removed once their component is Ready (`takeover`).
//! - Failed setup Jobs are re-run after 2 min (deleted, then created again by the next apply).

pub mod backoff;
pub mod facts;
mod ops_config;
pub mod reconcile;
pub mod secrets;
pub mod status;
pub mod takeover;
pub mod user;
pub mod workflows;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::DynamicObject;
use kube::core::{ApiResource, DeserializeGuard, GroupVersionKind};
use kube::runtime::controller::{self, Controller};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Api, Client, Resource, ResourceExt};

use crate::apply::{Applier, ApplyError, LABEL_MANAGED_BY, MANAGER};
use crate::components::{ComponentRender, RenderError};
use crate::config::{ClusterFacts, GeneratedSecrets, RUNTIMES_CONFIGMAP};
use crate::health::Health;
use crate::leader::{LeaderError, LeaseLock};
use crate::metrics::Metrics;
use crate::telemetry::LogFormat;

pub use crate::crd::Whisk;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what}: {}", crate::apply::describe(.source))]
    Kube {
        what: &'static str,
        #[source]
        source: kube::Error,
    },
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error("serialization: {0}")]
    Serialize(#[source] serde_json::Error),
    #[error("{0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
    #[error("{0}")]
    CrdNotReady(String),
    #[error("cannot connect to Kubernetes: {0}")]
    Client(#[source] kube::Error),
    #[error("health and metrics server on {listen}: {source}")]
    Http {
        listen: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Leader(#[from] LeaderError),
    #[error("some components could not be applied: {0}")]
    Components(String),
    #[error("the Whisk has no {0}")]
    MissingMetadata(&'static str),
}

impl Error {
    /// Short label for metrics and logs.
    pub fn category(&self) -> &'static str {
        match self {
            Error::Kube { .. } | Error::Client(_) => "kube",
            Error::Apply(_) | Error::Components(_) => "apply",
            Error::Serialize(_) => "serialize",
            Error::Finalizer(inner) => match inner.as_ref() {
                kube::runtime::finalizer::Error::ApplyFailed(e)
                | kube::runtime::finalizer::Error::CleanupFailed(e) => e.category(),
                _ => "finalizer",
            },
            Error::CrdNotReady(_) => "crd",
            Error::Http { .. } => "http",
            Error::Leader(_) => "leader",
            Error::MissingMetadata(_) => "metadata",
        }
    }
}

/// Options of `nuvolaris-operator run`.
#[derive(Debug, Clone, clap::Args)]
pub struct DaemonOptions {
    /// Watch Whisk resources in this namespace only (default: all namespaces).
    #[arg(long, env = "WATCH_NAMESPACE")]
    pub namespace: Option<String>,
    /// Reconcile only the Whisks matching this label selector (e.g. to shard or to test).
    #[arg(long, env = "WHISK_SELECTOR")]
    pub selector: Option<String>,
    /// Address of the /livez, /readyz and /metrics endpoints.
    #[arg(long, env = "LISTEN_ADDRESS", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Reconcile only while holding a Lease (for more than one replica).
    #[arg(long, env = "LEADER_ELECTION", default_value_t = false)]
    pub leader_election: bool,
    /// Name of the Lease.
    #[arg(long, env = "LEASE_NAME", default_value = "nuvolaris-operator")]
    pub lease_name: String,
    /// Namespace of the Lease (default: the watched namespace, else `nuvolaris`).
    #[arg(long, env = "POD_NAMESPACE")]
    pub lease_namespace: Option<String>,
    /// Identity in the Lease (default: the host name).
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,
    /// Lease duration in seconds.
    #[arg(long, env = "LEASE_TTL_SECONDS", default_value_t = 15)]
    pub lease_ttl_seconds: u64,
    /// How many Whisks are reconciled at the same time.
    #[arg(long, env = "RECONCILE_CONCURRENCY", default_value_t = 4)]
    pub concurrency: u16,
    /// How long to wait for the Whisk CRD to be Established at start.
    #[arg(long, default_value_t = 30)]
    pub crd_wait_seconds: u64,
}

impl Default for DaemonOptions {
    fn default() -> Self {
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            options: DaemonOptions,
        }
        // The clap defaults (and environment) are the single source of truth.
        match <Wrapper as clap::Parser>::try_parse_from(["nuvolaris-operator"]) {
            Ok(wrapper) => wrapper.options,
            Err(_) => DaemonOptions {
                namespace: None,
                selector: None,
                listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
                log_format: LogFormat::Text,
                leader_election: false,
                lease_name: "nuvolaris-operator".into(),
                lease_namespace: None,
                identity: None,
                lease_ttl_seconds: 15,
                concurrency: 4,
                crd_wait_seconds: 30,
            },
        }
    }
}

/// Turns a Whisk (plus cluster facts and generated passwords) into the components to deploy.
/// An `Err` is reported in the status (an invalid spec as NotValid, an operator defect as
/// Degraded) and nothing is applied or deleted. The operator uses [`render_whisk`]; tests can
/// substitute their own.
pub type RenderFn = dyn Fn(&Whisk, &ClusterFacts, &GeneratedSecrets) -> Result<Vec<ComponentRender>, RenderError>
    + Send
    + Sync;

/// The operator's pipeline: typed configuration, then every component's render.
pub fn render_whisk(
    whisk: &Whisk,
    facts: &ClusterFacts,
    secrets: &GeneratedSecrets,
) -> Result<Vec<ComponentRender>, RenderError> {
    let cfg = crate::config::Config::from_whisk(whisk, facts, secrets)?;
    crate::components::render_all(&cfg)
}

/// Shared by every reconcile.
pub struct Context {
    pub client: Client,
    pub render: Arc<RenderFn>,
    pub applier: Applier,
    pub recorder: Recorder,
    pub metrics: Arc<Metrics>,
    pub backoff: backoff::Backoff,
}

impl Context {
    pub fn new(client: Client, metrics: Arc<Metrics>, render: Arc<RenderFn>) -> Self {
        let reporter = Reporter {
            controller: MANAGER.into(),
            instance: std::env::var("POD_NAME").ok(),
        };
        Context {
            applier: Applier::new(client.clone()),
            recorder: Recorder::new(client.clone(), reporter),
            client,
            render,
            metrics,
            backoff: backoff::Backoff::default(),
        }
    }
}

/// The CRD name of [`Whisk`].
pub fn whisk_crd_name() -> String {
    format!("{}.{}", Whisk::plural(&()), Whisk::group(&()))
}

/// Waits until the Whisk CRD is Established, or fails with a message saying what to do.
pub async fn wait_for_crd(client: &Client, timeout: Duration) -> Result<(), Error> {
    let name = whisk_crd_name();
    let api = Api::<CustomResourceDefinition>::all(client.clone());
    let established = kube::runtime::wait::await_condition(
        api,
        &name,
        kube::runtime::wait::conditions::is_crd_established(),
    );
    match tokio::time::timeout(timeout, established).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(err)) => Err(Error::CrdNotReady(format!(
            "cannot watch CRD {name}: {err}; does the operator's ServiceAccount may read CRDs?"
        ))),
        Err(_) => Err(Error::CrdNotReady(format!(
            "CRD {name} is not installed or not Established after {}s; install it with \
             `nuvolaris-operator crd | kubectl apply -f -`",
            timeout.as_secs()
        ))),
    }
}

fn child_watch() -> watcher::Config {
    // Only our children: keeps the metadata watches small.
    watcher::Config::default()
        .labels(&format!("{LABEL_MANAGED_BY}={MANAGER}"))
        .any_semantic()
}

fn api_for<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// The API groups the cluster serves (the core group as "").
async fn served_groups(client: &Client) -> Result<std::collections::BTreeSet<String>, Error> {
    let groups = client
        .list_api_groups()
        .await
        .map_err(|source| Error::Kube {
            what: "list API groups",
            source,
        })?;
    let mut served: std::collections::BTreeSet<String> =
        groups.groups.into_iter().map(|g| g.name).collect();
    served.insert(String::new());
    Ok(served)
}

/// What [`run`] needs besides the client.
#[derive(Clone)]
pub struct ControllerOptions {
    /// Watch this namespace only (`None`: all namespaces).
    pub namespace: Option<String>,
    /// Reconcile only the Whisks matching this label selector (`None`: all).
    pub selector: Option<String>,
    pub concurrency: u16,
    pub crd_wait: Duration,
    pub render: Arc<RenderFn>,
}

impl ControllerOptions {
    pub fn new(namespace: Option<String>) -> Self {
        ControllerOptions {
            namespace,
            selector: None,
            concurrency: 4,
            crd_wait: Duration::from_secs(30),
            render: Arc::new(render_whisk),
        }
    }
}

/// Runs the Whisk controller until `shutdown` completes. `health` turns ready once the CRD is
/// established and the first list of Whisks is done.
pub async fn run(
    client: Client,
    opts: ControllerOptions,
    health: Arc<Health>,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) -> Result<(), Error> {
    wait_for_crd(&client, opts.crd_wait).await?;
    let ns = opts.namespace.as_deref();
    let concurrency = opts.concurrency;
    let whisks: Api<DeserializeGuard<Whisk>> = api_for(&client, ns);
    let mut whisk_watch = watcher::Config::default().any_semantic();
    if let Some(selector) = &opts.selector {
        whisk_watch = whisk_watch.labels(selector);
    }
    let controller = Controller::new(whisks, whisk_watch);
    let store = controller.store();
    let runtimes_store = store.clone();
    let runtimes_watch = watcher::Config::default()
        .fields(&format!("metadata.name={RUNTIMES_CONFIGMAP}"))
        .any_semantic();
    let mut controller = controller;
    // A change of any child wakes its Whisk (metadata watches: small). Only kinds the cluster
    // serves (no Traefik Middlewares or OpenShift Routes where there are none): a watch of an
    // absent kind would fail and log forever.
    let served = served_groups(&client).await?;
    for kind in crate::components::created_kinds()
        .into_iter()
        .filter(|k| k.namespaced && served.contains(k.group))
    {
        let gvk = GroupVersionKind::gvk(kind.group, kind.version, kind.kind);
        let resource = ApiResource::from_gvk_with_plural(&gvk, kind.plural);
        let api: Api<DynamicObject> = match ns {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
            None => Api::all_with(client.clone(), &resource),
        };
        controller = controller.owns_with(api, resource, child_watch());
    }
    let controller = controller
        .watches(
            api_for::<ConfigMap>(&client, ns),
            runtimes_watch,
            move |cm: ConfigMap| {
                // The runtimes ConfigMap is input of every Whisk in its namespace.
                let namespace = cm.namespace();
                runtimes_store
                    .state()
                    .into_iter()
                    .filter(|w| w.namespace() == namespace)
                    .map(|w| ObjectRef::from_obj(w.as_ref()))
                    .collect::<Vec<_>>()
            },
        )
        .with_config(
            controller::Config::default()
                .debounce(Duration::from_secs(1))
                .concurrency(concurrency),
        )
        .graceful_shutdown_on(shutdown);

    let ready_flag = health.clone();
    tokio::spawn(async move {
        // `Store::wait_until_ready` keeps only the last waiter's waker (a oneshot inside
        // kube-runtime's DelayedInit) and the controller itself waits on it too, so a lone
        // wait here may never wake. Re-polling is cheap: once anyone saw the store ready,
        // every later call returns at once.
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        loop {
            tokio::select! {
                result = store.wait_until_ready() => {
                    if result.is_ok() {
                        tracing::info!("initial list of Whisks done: ready");
                        ready_flag.set_ready(true);
                    }
                    return;
                }
                _ = tick.tick() => {}
            }
        }
    });

    let context = Arc::new(Context::new(client, metrics, opts.render.clone()));
    // The WhiskUser and Workflows controllers run beside, with the same context (client, applier, recorder,
    // metrics, backoff) and stops with it.
    let (users_stop, users_stopped) = tokio::sync::oneshot::channel::<()>();
    let users = tokio::spawn(user::run(
        context.clone(),
        opts.namespace.clone(),
        concurrency,
        async move {
            let _ = users_stopped.await;
        },
    ));
    let (workflows_stop, workflows_stopped) = tokio::sync::oneshot::channel::<()>();
    let workflows = tokio::spawn(workflows::run(
        context.clone(),
        opts.namespace.clone(),
        async move {
            let _ = workflows_stopped.await;
        },
    ));
    controller
        .run(reconcile::reconcile, reconcile::error_policy, context)
        .for_each(|result| async move {
            match result {
                Ok((object, _)) => tracing::debug!(whisk = %object, "reconciled"),
                Err(controller::Error::ReconcilerFailed(err, object)) => {
                    tracing::warn!(whisk = %object, error = %err, "reconcile failed")
                }
                Err(err) => tracing::warn!(error = %err, "controller"),
            }
        })
        .await;
    let _ = users_stop.send(());
    let _ = workflows_stop.send(());
    let _ = users.await;
    let _ = workflows.await;
    health.set_ready(false);
    tracing::info!("controller stopped");
    Ok(())
}

/// A future that completes on SIGTERM or Ctrl-C.
async fn termination_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot listen for SIGTERM; Ctrl-C only");
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// `nuvolaris-operator run`: logging, health/metrics server, optional leader election, and the
/// controller, until SIGTERM/Ctrl-C.
pub async fn run_daemon(opts: DaemonOptions) -> Result<(), Error> {
    crate::telemetry::init(opts.log_format);
    let client = Client::try_default().await.map_err(Error::Client)?;
    let listen = opts.listen;
    // Bind before anything else, so a taken port fails the start instead of going unnoticed.
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| Error::Http { listen, source })?;
    let shutdown = async {
        termination_signal().await;
        tracing::info!("termination signal: shutting down");
    };
    run_daemon_with(client, opts, listener, Arc::new(render_whisk), shutdown).await
}

/// [`run_daemon`] with its inputs given: the client, the bound listener of the HTTP endpoints,
/// the render step and what ends the run (tests use it to run a whole daemon in-process).
pub async fn run_daemon_with(
    client: Client,
    opts: DaemonOptions,
    listener: tokio::net::TcpListener,
    render: Arc<RenderFn>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let health = Arc::new(Health::default());
    let metrics = Arc::new(Metrics::new());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    };
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let router = crate::health::router(health.clone(), metrics.clone());
    let server = tokio::spawn(crate::health::serve(listener, router, stopped()));

    let controller = {
        let client = client.clone();
        let controller_opts = ControllerOptions {
            namespace: opts.namespace.clone(),
            selector: opts.selector.clone(),
            concurrency: opts.concurrency,
            crd_wait: Duration::from_secs(opts.crd_wait_seconds),
            render,
        };
        let shutdown = stopped();
        let health = health.clone();
        move || run(client, controller_opts, health, metrics, shutdown)
    };
    let result = if opts.leader_election {
        let lease_namespace = opts
            .lease_namespace
            .clone()
            .or(opts.namespace.clone())
            .unwrap_or_else(|| "nuvolaris".into());
        let identity = opts
            .identity
            .clone()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| format!("nuvolaris-operator-{}", std::process::id()));
        let lock = LeaseLock::new(
            client.clone(),
            &lease_namespace,
            &opts.lease_name,
            &identity,
            Duration::from_secs(opts.lease_ttl_seconds.max(3)),
        );
        // Not leader yet: alive, but not ready.
        match lock.run_as_leader(controller, stopped()).await {
            Ok(Some(result)) => result,
            Ok(None) => Ok(()),
            Err(err) => Err(Error::Leader(err)),
        }
    } else {
        controller().await
    };
    // Stop the HTTP server whatever ended the controller.
    server.abort();
    result
}
