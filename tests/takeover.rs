//! Migrating from the Python operator (README "Migrating from the Python operator"): a live
//! installation of the original, then this operator started in its place, on the local control
//! plane.
//!
//! The fixture is what the original leaves behind, written the way it wrote it:
//! - the `ops` CLI's part, client-side `kubectl apply`: the empty `cm/config`, the
//!   `openwhisk-runtimes` ConfigMap, the ServiceAccounts `nuvolaris-operator` and
//!   `nuvolaris-openwhisk-core` (its permissions), the Whisk (the original's sample CR);
//! - kopf's part, merge patches under the field manager `kopf`: the finalizer
//!   `kopf.zalando.org/KopfFinalizerMarker`, the annotation `last-handled-configuration`, the
//!   status its `whisk_create` handler returned (inventory-core §2.12: `whisk-system: error`,
//!   `ingress: ?`, …);
//! - every object the original applies for the sample (`../shared/reference/orig-applied/`,
//!   captured from its create path), applied with client-side `kubectl apply` in its order;
//! - its `cm/config` annotations, one `kubectl annotate --overwrite` each (inventory-components
//!   §11: `apihost`, `redis_*`, `<pod>_version`).
//!
//! The nodes of the local control plane are shared by every test and carry none of the kind CI
//! labels the capture had: the CR says `nuvolaris.kube: kind` (what `nuvolaris.io/kube=kind` told
//! the original) and leaves the apihost to the live installation. StorageClass `standard` (the
//! capture's default) becomes this cluster's default. The minimal CR leaves every password out
//! (the original filled in its defaults, which are the sample's values): the operator must find
//! each in the live installation.
//!
//! Components covered: every one of the samples (this version builds them all; the whisk test
//! fails naming any it would not). Every object the original made is adopted, replaced (a Job)
//! or removed as a leftover (`Component::leftovers`) once its component is Ready; claims are kept
//! as they are, whoever renders them now (the registry's separate `registry-pvc` stays its pod's
//! volume: `apply::claims`; Pulsar's three claims stay after Pulsar is removed). The whisk CR's
//! credentials of the components the minimal sample lacks are left out: each is adopted from the
//! original's objects or `cm/config` annotations; only the keys the original did not have (etcd's
//! JWT key, the registry's htpasswd salt) are generated.
//!
//! Figures printed: takeover time to Ready, rolls and pods replaced per workload, objects adopted / replaced /
//! removed.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Pod, Secret, Service};
use k8s_openapi::api::events::v1::Event as KubeEvent;
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{DynamicObject, ListParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::runtime::watcher;
use kube::{Api, Client, ResourceExt};
use nuvolaris_operator::crd::{ComponentId, Whisk};
use nuvolaris_operator::setup::{RedisSetupConfig, SetupSettings, run_redis_setup};
use serde::Deserialize;
use serde_json::{Value, json};
use support::operator::{start_operator, status};
use support::{TestNamespace, cond, wait_for, wait_for_list};

const OPERATOR: &str = "nuvolaris-operator";
const KOPF: &str = "kopf";
const KOPF_FINALIZER: &str = "kopf.zalando.org/KopfFinalizerMarker";
const FINALIZER: &str = "nuvolaris.org/cleanup";
/// The owner uid the capture carries, replaced by the live Whisk's.
const CAPTURED_UID: &str = "00000000-0000-4000-8000-000000000001";

/// The two tests use the same fixed NodePorts (the original's): one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn reference(path: &str) -> std::path::PathBuf {
    let path = support::repo_root().join("../shared/reference").join(path);
    assert!(
        path.exists(),
        "{} not found (CI must check out ../shared beside the repo)",
        path.display()
    );
    path
}

/// Runs kubectl against the local control plane; panics with its output when it fails.
fn kubectl(namespace: &str, args: &[&str], stdin: Option<&str>) -> String {
    let kubeconfig = support::kubeconfig_path();
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["-n", namespace])
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("kubectl must be installed: {e}"));
    if let Some(input) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write to kubectl");
    }
    let out = child.wait_with_output().expect("kubectl runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn yaml_docs(text: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).expect("valid YAML"))
        .filter(|v| v.is_object())
        .collect()
}

/// One object the original applied, and the component step that applied it.
#[derive(Debug, Clone)]
struct Applied {
    component: String,
    object: Value,
}

impl Applied {
    fn kind(&self) -> &str {
        self.object["kind"].as_str().unwrap_or_default()
    }
    fn name(&self) -> &str {
        self.object["metadata"]["name"].as_str().unwrap_or_default()
    }
    fn shown(&self) -> String {
        format!("{} {}", self.kind(), self.name())
    }
    /// The component of this operator it belongs to, if this build implements it.
    fn implemented(&self) -> Option<ComponentId> {
        ComponentId::ALL
            .iter()
            .copied()
            .find(|id| id.key() == self.component)
            .filter(|id| nuvolaris_operator::components::component(*id).is_some())
    }
}

/// The objects of `orig-applied/<file>`, in apply order, adapted to `namespace` and `owner`.
fn captured(file: &str, namespace: &str, owner_uid: &str, storage_class: &str) -> Vec<Applied> {
    let text = std::fs::read_to_string(reference(&format!("orig-applied/{file}")))
        .expect("read the capture");
    let mut out = Vec::new();
    for chunk in text.split("\n---\n") {
        let component = chunk
            .lines()
            .find_map(|l| l.strip_prefix("# component="))
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_owned);
        for mut object in yaml_docs(chunk) {
            adapt(&mut object, namespace, owner_uid, storage_class);
            out.push(Applied {
                component: component.clone().unwrap_or_default(),
                object,
            });
        }
    }
    assert!(!out.is_empty(), "nothing captured in {file}");
    out
}

/// The capture's namespace, owner uid and default StorageClass, made this cluster's.
fn adapt(value: &mut Value, namespace: &str, owner_uid: &str, storage_class: &str) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                match (key.as_str(), item.as_str()) {
                    ("namespace", Some("nuvolaris")) => *item = json!(namespace),
                    ("uid", Some(CAPTURED_UID)) => *item = json!(owner_uid),
                    ("storageClassName", Some("standard")) => *item = json!(storage_class),
                    _ => adapt(item, namespace, owner_uid, storage_class),
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| adapt(i, namespace, owner_uid, storage_class)),
        _ => {}
    }
}

/// The live installation to take over.
struct Sample {
    /// `openserverless-operator/tests/kind/<cr>`.
    cr: &'static str,
    /// `orig-applied/<capture>`.
    capture: &'static str,
    /// Spec paths removed from the CR (passwords the original filled in with its defaults).
    left_out: &'static [&'static str],
}

/// The running original, as the test found it before starting this operator.
struct Original {
    objects: Vec<Applied>,
    /// `Kind/name` → uid, for every captured object.
    uids: BTreeMap<String, String>,
    claims: BTreeMap<String, String>,
}

fn resource(api_version: &str, kind: &str) -> ApiResource {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let plural = match kind {
        "Ingress" => "ingresses".to_owned(),
        "PersistentVolumeClaim" => "persistentvolumeclaims".to_owned(),
        other => format!("{}s", other.to_ascii_lowercase()),
    };
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), &plural)
}

async fn live(client: &Client, namespace: &str, applied: &Applied) -> Option<DynamicObject> {
    let api_version = applied.object["apiVersion"].as_str().unwrap_or_default();
    let api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        namespace,
        &resource(api_version, applied.kind()),
    );
    api.get_opt(applied.name())
        .await
        .unwrap_or_else(|e| panic!("read {}: {e}", applied.shown()))
}

async fn default_storage_class(client: &Client) -> String {
    Api::<StorageClass>::all(client.clone())
        .list(&ListParams::default())
        .await
        .expect("storage classes")
        .items
        .into_iter()
        .find(|sc| {
            sc.annotations()
                .get("storageclass.kubernetes.io/is-default-class")
                .is_some_and(|v| v == "true")
        })
        .map(|sc| sc.name_any())
        .expect("the local control plane has a default StorageClass")
}

/// Waits until no Service of the cluster holds one of `ports` (a test of another binary may
/// still be going away).
async fn node_ports_free(client: &Client, ports: &BTreeSet<i64>) {
    let services: Api<Service> = Api::all(client.clone());
    wait_for_list(&services, "", "the original's NodePorts free", |items| {
        items.iter().all(|svc| {
            svc.spec
                .iter()
                .flat_map(|s| s.ports.iter().flatten())
                .all(|p| p.node_port.is_none_or(|n| !ports.contains(&i64::from(n))))
        })
    })
    .await;
}

/// The `cm/config` annotations the original wrote for the components of `spec`.
fn original_annotations(spec: &Value, objects: &[Applied]) -> Vec<(String, String)> {
    let on = |c: &str| spec["components"][c].as_bool().unwrap_or(false);
    let mut out = vec![("apihost".to_owned(), "http://localhost:3233".to_owned())];
    if on("redis") {
        // the original's defaults when the CR leaves them out
        let password = "s0meP@ass3";
        for (key, value) in [
            (
                "redis_url",
                format!("redis://nuvolaris:{password}@redis:6379"),
            ),
            ("redis_prefix", "nuvolaris:".to_owned()),
            ("redis_alt_url", format!("redis://{password}@redis:6379")),
            ("redis_service", "redis".to_owned()),
            ("redis_port", "6379".to_owned()),
            ("redis_password", password.to_owned()),
            ("redis_provider", "valkey".to_owned()),
        ] {
            out.push((key.to_owned(), value));
        }
    }
    // the credentials and where to reach them, as its components published them (§11)
    let annotations: [(&str, &[(&str, &str)]); 3] = [
        (
            "registry",
            &[
                ("registry_host", "127.0.0.1:32000"),
                ("registry_internal_host", "nuvolaris-registry-svc:5000"),
                ("registry_username", "nuvolaris"),
                ("registry_password", "4pwdregistry"),
            ],
        ),
        (
            "minio",
            &[
                ("s3_host", "nuvolaris-minio"),
                ("s3_port", "9000"),
                ("s3_provider", "minio"),
                ("s3_access_key", "nuvolaris"),
                ("s3_secret_key", "tfteSlswRu7BJ86wekitnifILbZam1KYY3TG"),
            ],
        ),
        (
            "milvus",
            &[
                ("milvus_host", "nuvolaris-milvus"),
                ("milvus_port", "19530"),
                ("milvus_db_name", "nuvolaris"),
                // the original's default `milvus.nuvolaris.password`
                ("milvus_token", "nuvolaris:Nuv0therPa55"),
            ],
        ),
    ];
    for (component, pairs) in annotations {
        if on(component) {
            out.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        }
    }
    // `<pod label name>_version` for the pods annotated `annotate-version`
    for applied in objects {
        let template = &applied.object["spec"]["template"];
        if template["metadata"]["annotations"]["whisks.nuvolaris.org/annotate-version"] == "true"
            && let (Some(name), Some(image)) = (
                template["metadata"]["labels"]["name"].as_str(),
                template["spec"]["containers"][0]["image"].as_str(),
            )
        {
            out.push((format!("{name}_version"), image.to_owned()));
        }
    }
    out
}

/// The status kopf stored from the original's `whisk_create` handler.
fn kopf_status(spec: &Value) -> Value {
    let mut whisk_create = serde_json::Map::new();
    for key in [
        "openwhisk",
        "invoker",
        "couchdb",
        "kafka",
        "redis",
        "mongodb",
        "cron",
        "tls",
        "endpoint",
        "minio",
        "static",
        "zookeeper",
        "quota",
        "etcd",
        "milvus",
        "preloader",
        "registry",
        "seaweedfs",
        "postgres",
        "monitoring",
    ] {
        let on = match key {
            "endpoint" | "preloader" => true,
            other => spec["components"][other].as_bool().unwrap_or(false),
        };
        whisk_create.insert(key.into(), json!(if on { "on" } else { "off" }));
    }
    whisk_create.insert("issuer".into(), json!("?"));
    whisk_create.insert("ingress".into(), json!("?"));
    whisk_create.insert("whisk-system".into(), json!("error"));
    whisk_create.insert("controller".into(), json!("Ready"));
    json!({"status": {"whisk_create": whisk_create}})
}

/// Installs the original's installation of `sample` in `ns`, as it left it.
async fn install_original(client: &Client, ns: &str, sample: &Sample) -> Original {
    let storage_class = default_storage_class(client).await;
    // The `ops` CLI: the empty cm/config, the runtimes and the service accounts of the
    // original's permissions (its operator's, the controller's), client-side.
    let runtimes =
        std::fs::read_to_string(support::repo_root().join("deploy/runtimes/runtimes.json"))
            .expect("runtimes.json");
    let cli = json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "config"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "openwhisk-runtimes"},
         "data": {"runtimes.json": runtimes}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "nuvolaris-operator",
         "labels": {"app": "nuvolaris-operator"}}},
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": "nuvolaris-openwhisk-core"}},
    ]});
    kubectl(ns, &["apply", "-f", "-"], Some(&cli.to_string()));
    // The CR, client-side, as `kubectl apply -f _whisk.yaml`.
    let text = std::fs::read_to_string(reference(&format!(
        "openserverless-operator/tests/kind/{}",
        sample.cr
    )))
    .expect("the original's sample CR");
    let mut cr = yaml_docs(&text).remove(0);
    cr["metadata"]["namespace"] = json!(ns);
    cr["spec"]["nuvolaris"]["kube"] = json!("kind");
    for path in sample.left_out {
        let (parent, key) = path.rsplit_once('/').expect("a path");
        if let Some(map) = cr
            .pointer_mut(&format!("/spec{parent}"))
            .and_then(Value::as_object_mut)
        {
            map.remove(key);
        }
    }
    kubectl(ns, &["apply", "-f", "-"], Some(&cr.to_string()));
    let whisks: Api<Whisk> = Api::namespaced(client.clone(), ns);
    let whisk = whisks.get("controller").await.expect("the Whisk");
    let whisk_uid = whisk.uid().expect("uid");
    // kopf took the Whisk: its finalizer, its diff base, later its status.
    let kopf_meta = json!({"metadata": {
        "finalizers": [KOPF_FINALIZER],
        "annotations": {"kopf.zalando.org/last-handled-configuration":
            json!({"spec": cr["spec"]}).to_string()},
    }});
    kubectl(
        ns,
        &[
            "patch",
            "whisk",
            "controller",
            "--type=merge",
            &format!("--field-manager={KOPF}"),
            "-p",
            &kopf_meta.to_string(),
        ],
        None,
    );
    // What the original applied, client-side, in its order.
    let objects = captured(sample.capture, ns, &whisk_uid, &storage_class);
    let ports: BTreeSet<i64> = objects
        .iter()
        .flat_map(|a| {
            a.object["spec"]["ports"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|p| p["nodePort"].as_i64())
        .collect();
    node_ports_free(client, &ports).await;
    let stream: String = objects
        .iter()
        .map(|a| format!("---\n{}\n", serde_json::to_string(&a.object).expect("json")))
        .collect();
    kubectl(ns, &["apply", "-f", "-"], Some(&stream));
    for (key, value) in original_annotations(&cr["spec"], &objects) {
        kubectl(
            ns,
            &[
                "annotate",
                "cm/config",
                &format!("{key}={value}"),
                "--overwrite",
            ],
            None,
        );
    }
    kubectl(
        ns,
        &[
            "patch",
            "whisk",
            "controller",
            "--subresource=status",
            "--type=merge",
            &format!("--field-manager={KOPF}"),
            "-p",
            &kopf_status(&cr["spec"]).to_string(),
        ],
        None,
    );
    // It runs: workloads Ready, Jobs done, claims bound.
    for applied in &objects {
        match applied.kind() {
            "StatefulSet" => {
                wait_for(
                    &Api::<StatefulSet>::namespaced(client.clone(), ns),
                    applied.name(),
                    "the original's StatefulSet ready",
                    cond::statefulset_ready(),
                )
                .await;
            }
            "Deployment" => {
                wait_for(
                    &Api::namespaced(client.clone(), ns),
                    applied.name(),
                    "the original's Deployment ready",
                    cond::deployment_ready(),
                )
                .await;
            }
            "Job" => {
                wait_for(
                    &Api::<k8s_openapi::api::batch::v1::Job>::namespaced(client.clone(), ns),
                    applied.name(),
                    "the original's Job done",
                    cond::is_job_completed(),
                )
                .await;
            }
            _ => {}
        }
    }
    let claims_api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
    let claims = wait_for_list(&claims_api, "", "claims bound", |items| {
        !items.is_empty()
            && items
                .iter()
                .all(|c| c.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound"))
    })
    .await
    .iter()
    .map(|c| (c.name_any(), c.uid().unwrap_or_default()))
    .collect();
    let mut uids = BTreeMap::new();
    for applied in &objects {
        let object = live(client, ns, applied).await.expect("applied");
        uids.insert(applied.shown(), object.uid().unwrap_or_default());
    }
    Original {
        objects,
        uids,
        claims,
    }
}

/// The pods seen per workload (StatefulSet, or Deployment through its ReplicaSet), from a watch
/// started before the operator: their uids, and the pod template revisions they ran
/// (`controller-revision-hash`, `pod-template-hash`).
///
/// Rolls (templates beyond the first) are what a takeover causes. Pods replaced can be more on
/// the local control plane: kwok sometimes plays its delete stage twice by name, deleting the
/// pod the StatefulSet just recreated (seen in its log as two "Delete pod" for one roll), which
/// a kubelet, deleting by uid, never does.
#[derive(Clone, Default)]
struct PodLog(Arc<Mutex<BTreeMap<String, SeenPods>>>);

#[derive(Default)]
struct SeenPods {
    uids: BTreeSet<String>,
    revisions: BTreeSet<String>,
}

impl PodLog {
    fn start(client: &Client, ns: &str) -> (PodLog, tokio::task::JoinHandle<()>) {
        let log = PodLog::default();
        let seen = log.clone();
        let api: Api<Pod> = Api::namespaced(client.clone(), ns);
        let task = tokio::spawn(async move {
            let mut events = std::pin::pin!(watcher(api, watcher::Config::default()));
            while let Some(event) = events.next().await {
                let pods = match event {
                    Ok(watcher::Event::Apply(pod) | watcher::Event::InitApply(pod)) => vec![pod],
                    _ => Vec::new(),
                };
                for pod in pods {
                    let Some(owner) = pod.owner_references().first().cloned() else {
                        continue;
                    };
                    let (workload, revision_label) = match owner.kind.as_str() {
                        "StatefulSet" => (owner.name, "controller-revision-hash"),
                        "ReplicaSet" => (
                            owner
                                .name
                                .rsplit_once('-')
                                .map(|(d, _)| d.to_owned())
                                .unwrap_or(owner.name),
                            "pod-template-hash",
                        ),
                        _ => continue, // Job pods are runs, not restarts
                    };
                    let mut seen = seen.0.lock().unwrap();
                    let entry = seen.entry(workload).or_default();
                    entry.uids.extend(pod.uid());
                    entry
                        .revisions
                        .extend(pod.labels().get(revision_label).cloned());
                }
            }
        });
        (log, task)
    }

    /// Rolls per workload: pod templates run beyond the first.
    fn rolls(&self) -> BTreeMap<String, usize> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(w, seen)| (w.clone(), seen.revisions.len().saturating_sub(1)))
            .collect()
    }

    /// Pods replaced per workload: pods seen beyond the first.
    fn replaced(&self) -> BTreeMap<String, usize> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(w, seen)| (w.clone(), seen.uids.len().saturating_sub(1)))
            .collect()
    }
}

/// The covered components are on, for the current generation, with `controller` at `overall`.
fn taken_over(
    covered: Vec<&'static str>,
    overall: &'static str,
) -> impl Fn(Option<&Whisk>) -> bool {
    move |w: Option<&Whisk>| {
        w.is_some_and(|w| {
            let s = status(w);
            s["observedGeneration"].as_i64() == w.metadata.generation
                && s["whisk_create"]["controller"] == overall
                && covered.iter().all(|c| s["whisk_create"][*c] == "on")
        })
    }
}

/// What became of the original's objects: adopted (same object, now this operator's), replaced
/// (a new object of the same name: Jobs), removed (leftovers), untouched (not this operator's).
#[derive(Debug, Default)]
struct Fate {
    adopted: Vec<String>,
    replaced: Vec<String>,
    removed: Vec<String>,
    untouched: Vec<String>,
}

async fn fates(client: &Client, ns: &str, original: &Original) -> BTreeMap<String, Fate> {
    let mut out: BTreeMap<String, Fate> = BTreeMap::new();
    for applied in &original.objects {
        let fate = out.entry(applied.component.clone()).or_default();
        let shown = applied.shown();
        match live(client, ns, applied).await {
            None => fate.removed.push(shown),
            Some(object) if object.uid().as_ref() != original.uids.get(&shown) => {
                fate.replaced.push(shown)
            }
            Some(object)
                if object
                    .labels()
                    .get("app.kubernetes.io/managed-by")
                    .map(String::as_str)
                    == Some(OPERATOR) =>
            {
                fate.adopted.push(shown)
            }
            Some(_) => fate.untouched.push(shown),
        }
    }
    out
}

/// The Whisk's metadata and status are this operator's: kopf's finalizer, annotations and status
/// keys gone, the finalizer added under our field manager, no other manager in `.status`.
fn assert_whisk_in_order(whisk: &Whisk) {
    assert_eq!(whisk.finalizers(), [FINALIZER.to_owned()], "finalizers");
    let kopf_annotations: Vec<&String> = whisk
        .annotations()
        .keys()
        .filter(|k| k.starts_with("kopf.zalando.org/"))
        .collect();
    assert!(kopf_annotations.is_empty(), "{kopf_annotations:?}");
    let managed: Vec<Value> = whisk
        .managed_fields()
        .iter()
        .map(|e| serde_json::to_value(e).expect("json"))
        .collect();
    let finalizer_owners: Vec<&str> = managed
        .iter()
        .filter(|e| {
            e.pointer("/fieldsV1/f:metadata/f:finalizers")
                .and_then(|f| f.get(format!("v:\"{FINALIZER}\"")))
                .is_some()
        })
        .filter_map(|e| e["manager"].as_str())
        .collect();
    assert_eq!(finalizer_owners, [OPERATOR], "who added {FINALIZER}");
    let status_owners: BTreeSet<&str> = managed
        .iter()
        .filter(|e| e.pointer("/fieldsV1/f:status").is_some())
        .filter_map(|e| e["manager"].as_str())
        .collect();
    assert_eq!(
        status_owners,
        BTreeSet::from([OPERATOR]),
        "managers of .status"
    );
    let s = status(whisk);
    for stale in ["ingress", "issuer"] {
        assert!(
            s["whisk_create"].get(stale).is_none(),
            "kopf's {stale} left in {s}"
        );
    }
    assert_ne!(
        s["whisk_create"]["whisk-system"], "error",
        "kopf's whisk-system left in {s}"
    );
}

/// Deletes the Whisk while the operator runs (its finalizer released), so that the namespace
/// can go.
async fn delete_whisk(whisks: &Api<Whisk>) {
    let uid = whisks
        .get("controller")
        .await
        .expect("the Whisk")
        .uid()
        .expect("a uid");
    whisks
        .delete("controller", &Default::default())
        .await
        .expect("delete the Whisk");
    support::wait_deleted(whisks, "controller", &uid, "the Whisk deleted").await;
}

/// Waits until the original's object `applied` (uid `uid`) is deleted.
async fn wait_removed(ns: &TestNamespace, applied: &Applied, uid: &str) {
    let what = format!("leftover {} removed", applied.shown());
    let name = applied.name();
    match applied.kind() {
        "ConfigMap" => support::wait_deleted(&ns.api::<ConfigMap>(), name, uid, &what).await,
        "Secret" => support::wait_deleted(&ns.api::<Secret>(), name, uid, &what).await,
        "Service" => support::wait_deleted(&ns.api::<Service>(), name, uid, &what).await,
        "StatefulSet" => support::wait_deleted(&ns.api::<StatefulSet>(), name, uid, &what).await,
        "Job" => {
            support::wait_deleted(
                &ns.api::<k8s_openapi::api::batch::v1::Job>(),
                name,
                uid,
                &what,
            )
            .await
        }
        other => panic!("no leftover of kind {other} expected ({})", applied.shown()),
    }
}

fn secret_text(secret: &Secret, key: &str) -> String {
    secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|v| String::from_utf8_lossy(&v.0).into_owned())
        .unwrap_or_else(|| panic!("{} has no {key}", secret.name_any()))
}

/// Every key of `nuvolaris-generated` with its value: the credentials the operator holds.
async fn generated_credentials(ns: &TestNamespace) -> BTreeMap<String, String> {
    let generated = ns
        .api::<Secret>()
        .get("nuvolaris-generated")
        .await
        .expect("nuvolaris-generated");
    generated
        .data
        .clone()
        .unwrap_or_default()
        .keys()
        .map(|k| (k.clone(), secret_text(&generated, k)))
        .collect()
}

/// The Secret of `ns` whose name starts with `prefix` (a generated, hashed one).
async fn hashed_secret(client: &Client, ns: &str, prefix: &str) -> Secret {
    Api::<Secret>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await
        .expect("secrets")
        .items
        .into_iter()
        .filter(|s| s.name_any().starts_with(prefix))
        .max_by_key(|s| s.creation_timestamp())
        .unwrap_or_else(|| panic!("no Secret {prefix}*"))
}

async fn events_with(client: &Client, ns: &str, reason: &str) -> Vec<String> {
    let events: Api<KubeEvent> = Api::namespaced(client.clone(), ns);
    wait_for_list(&events, "", reason, |items| {
        items.iter().any(|e| e.reason.as_deref() == Some(reason))
    })
    .await
    .iter()
    .filter(|e| e.reason.as_deref() == Some(reason))
    .filter_map(|e| e.note.clone())
    .collect()
}

fn template_uses_config_map(sts: &StatefulSet, name: &str) -> bool {
    sts.spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|p| p.volumes.as_ref())
        .is_some_and(|vs| {
            vs.iter()
                .any(|v| v.config_map.as_ref().is_some_and(|c| c.name == name))
        })
}

fn print_figures(what: &str, elapsed: Duration, pods: &PodLog, fates: &BTreeMap<String, Fate>) {
    let count = |f: fn(&Fate) -> usize| fates.values().map(f).sum::<usize>();
    eprintln!(
        "FIGURE takeover of the original's {what}: Ready in {elapsed:.1?}; rolls per workload {:?}; \
         pods replaced per workload {:?}; objects adopted {}, replaced {}, removed {}, untouched {} \
         (claims are kept as they are)",
        pods.rolls(),
        pods.replaced(),
        count(|f| f.adopted.len()),
        count(|f| f.replaced.len()),
        count(|f| f.removed.len()),
        count(|f| f.untouched.len()),
    );
    for (component, fate) in fates {
        eprintln!("  {component}: {fate:?}");
    }
}

/// Asserts the generic part of a takeover: implemented components' objects all taken over,
/// the others untouched, claims kept, restarts within bounds. Returns the fates.
async fn assert_taken_over(
    client: &Client,
    ns: &str,
    original: &Original,
    allowed_leftovers: &[&str],
) -> BTreeMap<String, Fate> {
    let fates = fates(client, ns, original).await;
    for (component, fate) in &fates {
        eprintln!("  fate of {component}: {fate:?}");
    }
    for applied in &original.objects {
        let fate = &fates[&applied.component];
        let shown = applied.shown();
        if applied.implemented().is_some() {
            // a claim is kept as it is (checked below), whoever renders it now
            let kept_claim = applied.kind() == "PersistentVolumeClaim";
            assert!(
                !fate.untouched.contains(&shown)
                    || kept_claim
                    || allowed_leftovers.contains(&applied.name()),
                "{shown} of {} is left as the original made it",
                applied.component
            );
        } else {
            assert!(
                fate.untouched.contains(&shown),
                "{shown} of {} (not built yet) was changed: {fate:?}",
                applied.component
            );
        }
    }
    let claims: BTreeMap<String, String> =
        Api::<PersistentVolumeClaim>::namespaced(client.clone(), ns)
            .list(&ListParams::default())
            .await
            .expect("claims")
            .items
            .iter()
            .map(|c| (c.name_any(), c.uid().unwrap_or_default()))
            .collect();
    for (name, uid) in &original.claims {
        assert_eq!(claims.get(name), Some(uid), "claim {name} kept");
    }
    fates
}

#[tokio::test]
async fn the_minimal_installation_is_taken_over_without_losing_data() {
    let _one = ONE_AT_A_TIME.lock().await;
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "takeover-minimal").await;
    let sample = Sample {
        cr: "minimal.yaml",
        capture: "minimal-kind.yaml",
        left_out: &[
            "/nuvolaris/password",
            "/couchdb/admin/password",
            "/couchdb/controller/password",
            "/couchdb/invoker/password",
            "/redis/default",
        ],
    };
    let original = install_original(&client, &ns.name, &sample).await;
    let covered: Vec<&str> = ComponentId::ALL
        .iter()
        .filter(|id| nuvolaris_operator::components::component(**id).is_some())
        .map(|id| id.key())
        .collect();
    eprintln!("components covered (built by this version): {covered:?}");
    let redis_pod = ns.api::<Pod>().get("redis-0").await.expect("redis-0").uid();
    let redis_conf = ns
        .api::<ConfigMap>()
        .get("redis-cm")
        .await
        .expect("redis-cm")
        .data
        .unwrap_or_default()["redis-conf"]
        .clone();
    let couchdb_auth_before = hashed_secret(&client, &ns.name, "couchdb-auth-").await;

    // This operator in the original's place.
    let (pods, pod_watch) = PodLog::start(&client, &ns.name);
    let started = Instant::now();
    let operator = start_operator(&client, &ns.name);
    let whisks = ns.api::<Whisk>();
    let minimal = vec!["preloader", "couchdb", "redis", "openwhisk", "endpoint"];
    let whisk = wait_for(
        &whisks,
        "controller",
        "the minimal installation taken over, Ready",
        taken_over(minimal.clone(), "Ready"),
    )
    .await;
    let elapsed = started.elapsed();
    assert_whisk_in_order(&whisk);

    // Every credential in use kept: adopted from the live objects, none generated.
    let held = generated_credentials(&ns).await;
    let expected: BTreeMap<String, String> = [
        ("nuvolaris-password", "nuvpassw0rd"),
        ("couchdb-admin-password", "some_passw0rd"),
        ("couchdb-controller-password", "s0meP@ass1"),
        ("couchdb-invoker-password", "s0meP@ass2"),
        ("redis-default-password", "s0meP@ass3"),
        ("redis-nuvolaris-password", "s0meP@ass3"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(
        held.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "nuvolaris-generated holds what the CR leaves out, nothing else"
    );
    assert!(
        held == expected,
        "an adopted value differs from the live one"
    );
    let adopted_note = events_with(&client, &ns.name, "CredentialsAdopted")
        .await
        .join(" ");
    for key in expected.keys() {
        assert!(
            adopted_note.contains(key.as_str()),
            "{key} not adopted: {adopted_note}"
        );
    }
    assert!(
        !adopted_note.contains("s0meP"),
        "a value in an Event: {adopted_note}"
    );
    let couchdb_auth = hashed_secret(&client, &ns.name, "couchdb-auth-").await;
    assert_eq!(couchdb_auth.name_any(), couchdb_auth_before.name_any());
    assert_eq!(
        couchdb_auth.data, couchdb_auth_before.data,
        "CouchDB's admin"
    );
    let controller_auth = hashed_secret(&client, &ns.name, "controller-couchdb-auth-").await;
    assert_eq!(
        secret_text(&controller_auth, "admin_password"),
        "some_passw0rd"
    );
    assert_eq!(
        secret_text(&controller_auth, "controller_password"),
        "s0meP@ass1"
    );

    // Redis: not restarted, still on its own configuration, the user told how to consent.
    let redis = ns.api::<StatefulSet>().get("redis").await.expect("redis");
    assert!(
        template_uses_config_map(&redis, "redis-cm"),
        "redis keeps its live template"
    );
    assert!(
        redis
            .annotations()
            .contains_key("nuvolaris.org/held-pod-template"),
        "{:?}",
        redis.annotations()
    );
    assert_eq!(
        redis
            .labels()
            .get("app.kubernetes.io/managed-by")
            .map(String::as_str),
        Some(OPERATOR),
        "held, yet taken over"
    );
    let pod = ns.api::<Pod>().get("redis-0").await.expect("redis-0");
    assert_eq!(pod.uid(), redis_pod, "redis-0 was restarted");
    ns.api::<ConfigMap>()
        .get("redis-cm")
        .await
        .expect("redis-cm stays while the running Redis uses it");
    let held_note = events_with(&client, &ns.name, "RestartHeld")
        .await
        .join(" ");
    assert!(
        held_note.contains("nuvolaris.org/allow-restart=redis"),
        "{held_note}"
    );

    // The setup Job sets the ACL user up on the running Redis with the adopted passwords:
    // run its settings against a redis-server started with the original's redis.conf, holding
    // data and the user the original created.
    let job = ns
        .api::<k8s_openapi::api::batch::v1::Job>()
        .get("redis-init")
        .await
        .expect("redis-init");
    let container = job
        .spec
        .and_then(|s| s.template.spec)
        .expect("pod spec")
        .containers[0]
        .clone();
    let mut vars: BTreeMap<String, String> = container
        .env
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| Some((e.name, e.value?)))
        .collect();
    let auth = hashed_secret(&client, &ns.name, "redis-init-auth-").await;
    for key in auth.data.clone().unwrap_or_default().keys() {
        vars.insert(key.clone(), secret_text(&auth, key));
    }
    let server = OriginalRedis::start(&redis_conf);
    vars.insert("REDIS_ADDR".into(), format!("127.0.0.1:{}", server.port));
    let settings = RedisSetupConfig::from_vars(vars).expect("the Job's settings");
    run_redis_setup(settings)
        .await
        .expect("setup redis on the running server");
    assert_eq!(
        server.cli("nuvolaris", "s0meP@ass3", &["GET", "nuvolaris:kept"]),
        "data"
    );
    assert!(
        server
            .cli("nuvolaris", "s0meP@ass3", &["SET", "other:k", "v"])
            .contains("NOPERM"),
        "the user keeps its prefix"
    );

    // The apihost of the live installation is kept.
    for name in ["apihost", "apihost-info", "apihost-my"] {
        let ingress = ns.api::<Ingress>().get(name).await.expect("ingress");
        let host = ingress
            .spec
            .and_then(|s| s.rules)
            .and_then(|r| r.first().and_then(|r| r.host.clone()));
        assert_eq!(host.as_deref(), Some("localhost"), "{name}");
        assert_eq!(
            ingress.metadata.labels.unwrap_or_default()["app.kubernetes.io/managed-by"],
            OPERATOR
        );
    }
    let config = ns
        .api::<ConfigMap>()
        .get("config")
        .await
        .expect("cm/config");
    assert_eq!(
        config.annotations().get("apihost").map(String::as_str),
        Some("http://localhost:3233")
    );

    let fates = assert_taken_over(&client, &ns.name, &original, &["redis-cm"]).await;
    let rolls = pods.rolls();
    assert_eq!(rolls.get("redis"), Some(&0), "{rolls:?}");
    for workload in ["couchdb", "controller"] {
        assert!(
            rolls.get(workload).is_some_and(|r| *r <= 1),
            "{workload} rolled more than once: {rolls:?}"
        );
    }
    print_figures("minimal installation", elapsed, &pods, &fates);

    // Consent: Redis takes this version's template, restarts once; redis-cm goes.
    let consent_at = Instant::now();
    kubectl(
        &ns.name,
        &[
            "annotate",
            "whisk",
            "controller",
            "nuvolaris.org/allow-restart=redis",
        ],
        None,
    );
    let redis = wait_for(
        &ns.api::<StatefulSet>(),
        "redis",
        "redis on this version's template",
        |s: Option<&StatefulSet>| {
            s.is_some_and(|s| {
                !template_uses_config_map(s, "redis-cm")
                    && !s
                        .annotations()
                        .contains_key("nuvolaris.org/held-pod-template")
            }) && cond::statefulset_ready()(s)
        },
    )
    .await;
    assert!(redis.spec.is_some());
    let pods_api = ns.api::<Pod>();
    wait_for(
        &pods_api,
        "redis-0",
        "redis-0 restarted",
        |p: Option<&Pod>| p.is_some_and(|p| p.uid() != redis_pod) && cond::pod_ready()(p),
    )
    .await;
    let cm_uid = original
        .uids
        .get("ConfigMap redis-cm")
        .cloned()
        .unwrap_or_default();
    support::wait_deleted(
        &ns.api::<ConfigMap>(),
        "redis-cm",
        &cm_uid,
        "redis-cm removed",
    )
    .await;
    wait_for(
        &whisks,
        "controller",
        "Ready after the Redis restart",
        taken_over(minimal, "Ready"),
    )
    .await;
    let rolls = pods.rolls();
    assert_eq!(rolls.get("redis"), Some(&1), "{rolls:?}");
    let fates = assert_taken_over(&client, &ns.name, &original, &[]).await;
    assert_eq!(fates["redis"].removed, ["ConfigMap redis-cm"]);
    eprintln!(
        "FIGURE consented Redis restart: this version's template Ready and redis-cm removed in {:.1?}",
        consent_at.elapsed()
    );
    print_figures(
        "minimal installation, after the consented restart",
        elapsed,
        &pods,
        &fates,
    );

    delete_whisk(&whisks).await;
    operator.stop();
    pod_watch.abort();
    ns.cleanup().await;
}

#[tokio::test]
async fn the_whisk_installation_is_taken_over_with_every_component() {
    let _one = ONE_AT_A_TIME.lock().await;
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "takeover-whisk").await;
    let sample = Sample {
        cr: "whisk.yaml",
        capture: "whisk-kind.yaml",
        // the credentials of the components the minimal sample lacks: found in the live
        // installation (the original's objects and `cm/config` annotations)
        left_out: &[
            "/registry/auth/password",
            "/minio/admin/password",
            "/minio/nuvolaris/password",
            "/etcd/root/password",
            "/milvus/password/root",
            "/milvus/password/s3",
        ],
    };
    let original = install_original(&client, &ns.name, &sample).await;
    let enabled: Vec<&'static str> = original
        .objects
        .iter()
        .filter_map(Applied::implemented)
        .map(ComponentId::key)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let not_built: Vec<&str> = original
        .objects
        .iter()
        .filter(|a| a.implemented().is_none())
        .map(|a| a.component.as_str())
        .collect();
    assert!(
        not_built.is_empty(),
        "components of the sample this version does not build: {not_built:?}"
    );

    let (pods, pod_watch) = PodLog::start(&client, &ns.name);
    let started = Instant::now();
    let operator = start_operator(&client, &ns.name);
    let whisks = ns.api::<Whisk>();
    let whisk = wait_for(
        &whisks,
        "controller",
        "the whisk installation taken over, Ready",
        taken_over(enabled.clone(), "Ready"),
    )
    .await;
    let elapsed = started.elapsed();
    eprintln!("components taken over: {enabled:?}");
    assert_whisk_in_order(&whisk);

    // Every credential in use kept: the ones the CR leaves out adopted from the live objects
    // and annotations; generated only what the original did not have.
    let held = generated_credentials(&ns).await;
    let adopted: BTreeMap<&str, &str> = BTreeMap::from([
        ("registry-password", "4pwdregistry"),
        ("minio-root-password", "minioadmin"),
        (
            "minio-nuvolaris-password",
            "tfteSlswRu7BJ86wekitnifILbZam1KYY3TG",
        ),
        ("etcd-root-password", "0therPa55"),
        ("milvus-root-password", "An0therPa55"),
        ("milvus-s3-password", "8_d$8zCrl7\u{a3}m"),
        ("milvus-nuvolaris-password", "Nuv0therPa55"),
    ]);
    // new with this version: the registry's htpasswd salt, etcd's own JWT key
    let fresh = ["etcd-jwt-key", "registry-htpasswd-salt"];
    let mut expected_keys: Vec<&str> = adopted.keys().copied().chain(fresh).collect();
    expected_keys.sort();
    assert_eq!(
        held.keys().map(String::as_str).collect::<Vec<_>>(),
        expected_keys,
        "nuvolaris-generated holds what the CR leaves out, nothing else"
    );
    for (key, value) in &adopted {
        assert!(
            held[*key] == *value,
            "{key}: the adopted value differs from the live one"
        );
    }
    let adopted_note = events_with(&client, &ns.name, "CredentialsAdopted")
        .await
        .join(" ");
    for key in adopted.keys() {
        assert!(
            adopted_note.contains(key),
            "{key} not adopted: {adopted_note}"
        );
    }
    let etcd_secret = hashed_secret(&client, &ns.name, "nuvolaris-etcd-secret").await;
    assert_eq!(secret_text(&etcd_secret, "rootPassword"), "0therPa55");
    let pull = ns
        .api::<Secret>()
        .get("registry-pull-secret")
        .await
        .expect("registry-pull-secret");
    assert!(
        secret_text(&pull, ".dockerconfigjson").contains("\"password\":\"4pwdregistry\""),
        "the registry's pull Secret keeps the password"
    );

    // The registry keeps its data: the original's separate claim stays its pod's volume.
    let registry = ns
        .api::<StatefulSet>()
        .get("registry")
        .await
        .expect("registry");
    let claims: Vec<String> = registry
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|p| p.volumes.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|v| {
            v.persistent_volume_claim
                .as_ref()
                .map(|c| c.claim_name.clone())
        })
        .collect();
    assert_eq!(claims, ["registry-pvc"], "the registry's claim");
    assert!(
        registry
            .annotations()
            .contains_key("nuvolaris.org/kept-claims"),
        "{:?}",
        registry.annotations()
    );

    for name in ["apihost", "apihost-info", "apihost-my"] {
        let ingress = ns.api::<Ingress>().get(name).await.expect("ingress");
        let host = ingress
            .spec
            .and_then(|s| s.rules)
            .and_then(|r| r.first().and_then(|r| r.host.clone()));
        assert_eq!(host.as_deref(), Some("localhost"), "{name}");
    }
    // What this version replaces goes once its component is Ready; claims stay.
    let mut leftovers = 0;
    for applied in &original.objects {
        let Some(id) = applied.implemented() else {
            continue;
        };
        let component = nuvolaris_operator::components::component(id).expect("built");
        if component
            .leftovers()
            .iter()
            .any(|l| l.kind.kind == applied.kind() && l.name == applied.name())
        {
            wait_removed(&ns, applied, &original.uids[&applied.shown()]).await;
            leftovers += 1;
        }
    }
    let removed_in = started.elapsed();
    // No claim goes with the Whisk any more: the original's owner references are released.
    let whisk_uid = whisk.uid().expect("uid");
    wait_for_list(
        &ns.api::<PersistentVolumeClaim>(),
        "",
        "the original's claims released from the Whisk",
        |claims| {
            claims
                .iter()
                .all(|c| c.owner_references().iter().all(|r| r.uid != whisk_uid))
        },
    )
    .await;
    let fates = assert_taken_over(&client, &ns.name, &original, &[]).await;
    assert_eq!(
        fates.values().map(|f| f.removed.len()).sum::<usize>(),
        leftovers,
        "only leftovers are removed"
    );
    let rolls = pods.rolls();
    for (workload, count) in &rolls {
        assert!(*count <= 1, "{workload} rolled more than once: {rolls:?}");
    }
    // the registry's data stays on its claim: a roll at most, same claim
    assert!(rolls.get("registry").is_none_or(|r| *r <= 1), "{rolls:?}");
    eprintln!(
        "FIGURE whisk installation: the original's leftovers removed {removed_in:.1?} after the start"
    );
    print_figures("whisk installation", elapsed, &pods, &fates);

    delete_whisk(&whisks).await;
    operator.stop();
    pod_watch.abort();
    ns.cleanup().await;
}

/// A redis-server configured with the original's redis.conf (`redis-cm`), on a free loopback
/// port, holding the data and the ACL user the original's installation had.
struct OriginalRedis {
    port: u16,
    _server: support::servers::ServerProcess,
}

impl OriginalRedis {
    fn start(conf: &str) -> OriginalRedis {
        let dir = support::servers::server_dir("redis-original");
        let path = dir.path().join("redis.conf");
        support::servers::write_file(&path, conf);
        let port = support::servers::free_port();
        // the Debian package's binary (tools/testdeps/redis.sh installs it, on PATH)
        let mut command = Command::new("redis-server");
        command
            .arg(&path)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(dir.path());
        let mut server = support::servers::ServerProcess::spawn("redis-server", command, dir);
        let cli = |user: &str, args: &[&str]| redis_cli(port, user, "s0meP@ass3", args);
        server.wait_ready("PING answered", || {
            match cli("default", &["PING"]).as_str() {
                "PONG" => Ok(()),
                other => Err(other.to_owned()),
            }
        });
        // what the original's `redis-cli` script did, and data a restart would lose
        let acl = [
            "ACL",
            "SETUSER",
            "nuvolaris",
            "on",
            ">s0meP@ass3",
            "~nuvolaris:*",
            "+@all",
        ];
        assert_eq!(cli("default", &acl), "OK");
        assert_eq!(cli("nuvolaris", &["SET", "nuvolaris:kept", "data"]), "OK");
        OriginalRedis {
            port,
            _server: server,
        }
    }

    fn cli(&self, user: &str, password: &str, args: &[&str]) -> String {
        redis_cli(self.port, user, password, args)
    }
}

fn redis_cli(port: u16, user: &str, password: &str, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "--no-auth-warning",
        ])
        .args(["--user", user, "--pass", password])
        .args(args)
        .output()
        .expect("redis-cli (package redis-tools) must be installed");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout).trim(),
        String::from_utf8_lossy(&out.stderr).trim()
    )
}
