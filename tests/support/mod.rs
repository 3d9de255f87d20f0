//! Test support for integration tests that need a real Kubernetes control plane.
//!
//! Each integration test file does `mod support;` and calls [`cluster`] to get a
//! client for the local control plane started by `tools/cluster/cluster.sh up`
//! (etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok on
//! 127.0.0.1; fake nodes, a default StorageClass).
//!
//! If the control plane cannot be started, the test PANICS with the reason:
//! a cluster test is never skipped silently.
// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

pub mod milvus_standin;
pub mod openwhisk_standin;
pub mod operator;
pub mod requests;
pub mod servers;

use std::fmt::Debug;
use std::hash::Hash;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, ObjectMeta, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::wait::{Condition, await_condition, conditions};
use kube::runtime::{reflector, watcher};
use kube::{Api, Client, Config, Resource};
use serde::de::DeserializeOwned;

/// Default time limit for a wait helper: the control plane reacts within a few
/// seconds; the margin is for a loaded 2-core machine running tests in parallel.
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(90);

/// Label put on every test namespace, so leftovers are easy to find.
pub const TEST_NAMESPACE_LABEL: &str = "nuvolaris.org/test";

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The control plane's runtime directory: `$NUVOLARIS_CLUSTER_DIR` or `<repo>/.cluster`
/// (the same rule as `tools/cluster/cluster.sh`).
pub fn cluster_dir() -> PathBuf {
    match std::env::var_os("NUVOLARIS_CLUSTER_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => repo_root().join(".cluster"),
    }
}

/// The admin (system:masters) kubeconfig written by `cluster.sh up`.
pub fn kubeconfig_path() -> PathBuf {
    cluster_dir().join("kubeconfig")
}

/// Makes sure the control plane is up, once per test process.
///
/// `cluster.sh up` is idempotent and takes an flock on `.cluster/lock`, so concurrent
/// test processes are serialized there: one starts the cluster, the others find it
/// healthy. Blocking; prefer [`cluster`] from async code.
pub fn ensure_cluster_up() {
    static UP: OnceLock<Result<(), String>> = OnceLock::new();
    if let Err(reason) = UP.get_or_init(start_cluster) {
        panic!("the local Kubernetes control plane is not available: {reason}");
    }
}

fn start_cluster() -> Result<(), String> {
    let script = repo_root().join("tools/cluster/cluster.sh");
    let output = Command::new("bash")
        .arg(&script)
        .arg("up")
        .current_dir(repo_root())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "`{} up` failed ({}):\n{}{}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

/// A client for the local control plane, starting it if needed. Panics with the
/// reason if the control plane cannot be started or the kubeconfig is unusable.
pub async fn cluster() -> Client {
    tokio::task::spawn_blocking(ensure_cluster_up)
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    client_from_kubeconfig().await
}

/// A client from `.cluster/kubeconfig`, without starting anything.
pub async fn client_from_kubeconfig() -> Client {
    let path = kubeconfig_path();
    let kubeconfig = Kubeconfig::read_from(&path)
        .unwrap_or_else(|e| panic!("cannot read kubeconfig {}: {e}", path.display()));
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap_or_else(|e| panic!("invalid kubeconfig {}: {e}", path.display()));
    Client::try_from(config).unwrap_or_else(|e| panic!("cannot build a client: {e}"))
}

/// A namespace created for one test, with a unique name.
pub struct TestNamespace {
    pub name: String,
    client: Client,
}

impl TestNamespace {
    /// Creates `<prefix>-<random>`; `prefix` is reduced to a valid DNS label part.
    pub async fn create(client: &Client, prefix: &str) -> Self {
        let mut base: String = prefix
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        base.truncate(40);
        let base = base.trim_matches('-');
        let base = if base.is_empty() { "test" } else { base };
        let name = format!("{base}-{:08x}", rand::random::<u32>());
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some([(TEST_NAMESPACE_LABEL.to_string(), "true".to_string())].into()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .unwrap_or_else(|e| panic!("cannot create test namespace {name}: {e}"));
        TestNamespace {
            name,
            client: client.clone(),
        }
    }

    /// A namespaced API in this namespace.
    pub fn api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.name)
    }

    /// Starts deleting the namespace without waiting (the cluster is throwaway;
    /// this only keeps it small during long test runs).
    pub async fn cleanup(self) {
        let _ = Api::<Namespace>::all(self.client)
            .delete(&self.name, &DeleteParams::background())
            .await;
    }
}

/// Waits (on a watch, no polling) until the named object satisfies `cond`, and
/// returns it. Panics after [`WAIT_TIMEOUT`] with `what` in the message.
pub async fn wait_for<K>(api: &Api<K>, name: &str, what: &str, cond: impl Condition<K>) -> K
where
    K: Clone + Debug + Send + DeserializeOwned + Resource + 'static,
{
    wait_for_within(WAIT_TIMEOUT, api, name, what, cond).await
}

/// [`wait_for`] with an explicit time limit.
pub async fn wait_for_within<K>(
    limit: Duration,
    api: &Api<K>,
    name: &str,
    what: &str,
    cond: impl Condition<K>,
) -> K
where
    K: Clone + Debug + Send + DeserializeOwned + Resource + 'static,
{
    match tokio::time::timeout(limit, await_condition(api.clone(), name, cond)).await {
        Ok(Ok(Some(obj))) => obj,
        // The condition matched a missing object (e.g. a deletion condition): return
        // nothing useful, but this helper is for existing objects; use wait_deleted.
        Ok(Ok(None)) => panic!("{what}: object {name} does not exist"),
        Ok(Err(e)) => panic!("{what}: watching {name} failed: {e}"),
        Err(_) => {
            let last = api.get_opt(name).await;
            panic!("timed out after {limit:?} waiting for {what}; last seen: {last:#?}")
        }
    }
}

/// Waits until the object with `uid` is gone (deleted, or replaced by a new uid).
pub async fn wait_deleted<K>(api: &Api<K>, name: &str, uid: &str, what: &str)
where
    K: Clone + Debug + Send + DeserializeOwned + Resource + 'static,
{
    let wait = await_condition(api.clone(), name, conditions::is_deleted(uid));
    match tokio::time::timeout(WAIT_TIMEOUT, wait).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => panic!("{what}: watching {name} failed: {e}"),
        Err(_) => {
            let last = api.get_opt(name).await;
            panic!("timed out after {WAIT_TIMEOUT:?} waiting for {what}; last seen: {last:#?}")
        }
    }
}

/// Waits (on a watch of the label-selected objects) until `pred` holds for the
/// complete current set, and returns that set. The predicate is only evaluated
/// once the initial list is complete, so `|objs| objs.is_empty()` is meaningful.
pub async fn wait_for_list<K, F>(api: &Api<K>, selector: &str, what: &str, pred: F) -> Vec<Arc<K>>
where
    K: Clone + Debug + Send + Sync + DeserializeOwned + Resource + 'static,
    K::DynamicType: Default + Eq + Hash + Clone,
    F: Fn(&[Arc<K>]) -> bool,
{
    let (store, writer) = reflector::store::<K>();
    let watch = watcher(api.clone(), watcher::Config::default().labels(selector));
    let mut events = std::pin::pin!(reflector(writer, watch));
    let wait = async {
        let mut listed = false;
        while let Some(event) = events.next().await {
            match event {
                Ok(watcher::Event::InitDone) => listed = true,
                Ok(_) => {}
                Err(e) => panic!("{what}: watching {selector} failed: {e}"),
            }
            if listed {
                let objects = store.state();
                if pred(&objects) {
                    return objects;
                }
            }
        }
        panic!("{what}: watch stream for {selector} ended");
    };
    match tokio::time::timeout(WAIT_TIMEOUT, wait).await {
        Ok(objects) => objects,
        Err(_) => {
            let names: Vec<String> = store
                .state()
                .iter()
                .map(|o| o.meta().name.clone().unwrap_or_default())
                .collect();
            panic!("timed out after {WAIT_TIMEOUT:?} waiting for {what}; objects seen: {names:?}")
        }
    }
}

/// Conditions commonly needed by tests, for [`wait_for`].
pub mod cond {
    use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
    use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};

    // Re-exported for convenience; any test file may use only some of them.
    #[allow(unused_imports)]
    pub use kube::runtime::wait::conditions::{
        is_crd_established, is_created, is_deleted, is_job_completed,
    };

    /// The Pod has condition Ready=True.
    pub fn is_pod_ready(pod: &Pod) -> bool {
        pod.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
    }

    /// The Pod is Ready (for [`super::wait_for`]).
    pub fn pod_ready() -> impl Fn(Option<&Pod>) -> bool {
        |pod| pod.is_some_and(is_pod_ready)
    }

    /// The Deployment's controller has seen its latest spec and all replicas are ready and updated.
    pub fn deployment_ready() -> impl Fn(Option<&Deployment>) -> bool {
        |d| {
            let Some(d) = d else { return false };
            let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
            d.status.as_ref().is_some_and(|s| {
                s.observed_generation == d.metadata.generation
                    && s.ready_replicas.unwrap_or(0) == want
                    && s.updated_replicas.unwrap_or(0) == want
                    && s.replicas.unwrap_or(0) == want
            })
        }
    }

    /// The StatefulSet's controller has seen its latest spec and all replicas are ready.
    pub fn statefulset_ready() -> impl Fn(Option<&StatefulSet>) -> bool {
        |s| {
            let Some(s) = s else { return false };
            let want = s.spec.as_ref().and_then(|sp| sp.replicas).unwrap_or(1);
            s.status.as_ref().is_some_and(|st| {
                st.observed_generation == s.metadata.generation
                    && st.ready_replicas.unwrap_or(0) == want
                    && st.replicas == want
            })
        }
    }

    /// The PersistentVolumeClaim is Bound.
    pub fn pvc_bound() -> impl Fn(Option<&PersistentVolumeClaim>) -> bool {
        |pvc| {
            pvc.and_then(|p| p.status.as_ref())
                .and_then(|s| s.phase.as_deref())
                == Some("Bound")
        }
    }
}

/// Installs (server-side applies) the operator's CRDs and waits until they are Established.
pub async fn install_crds(client: &Client) {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use kube::ResourceExt;
    use kube::api::{Patch, PatchParams};
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in nuvolaris_operator::crd::crds() {
        let name = crd.name_any();
        crds.patch(
            &name,
            &PatchParams::apply("nuvolaris-tests").force(),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap_or_else(|e| panic!("install CRD {name}: {e}"));
        wait_for(&crds, &name, "CRD established", cond::is_crd_established()).await;
    }
}
