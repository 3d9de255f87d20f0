//! The operator as a real pod, on the real node of the local control plane.
//!
//! The image is built by the project's own script (`tools/image/build.sh`, what `task image` runs)
//! and loaded into the real node (`tools/node/node.sh`: kubelet, containerd, runc, CNI, kube-proxy,
//! a cluster DNS). In namespace `nuvolaris`, labelled `nuvolaris.org/real-node=true`, the node's
//! admission policy sends pods whose images were all loaded there to the real node; everything
//! else (CouchDB, the OpenWhisk controller and their Jobs) keeps landing on the kwok nodes.
//!
//! - `deploy_operator_*`: `kubectl apply -k deploy/operator` starts `nuvolaris-operator-0` from the
//!   local image; it becomes Ready on /readyz, reconciles the sample CR to Ready with the permissions
//!   deploy/operator grants and its service-account identity; Redis (Debian's redis-server, loaded
//!   under the operator's Redis image reference) and the `redis-init` setup Job run for real; a
//!   permission taken away surfaces as a Degraded condition naming verb and resource.
//! - `ops_cli_*`: the `ops` CLI's own operator StatefulSet and roles (tests/ops/, written from its
//!   contract: `bash -c ./run.sh --verbose`, uid 1001, the deploy PVC, no Leases) run the `-ops`
//!   image variant unchanged and reconcile the sample CR to Ready.
//!
//! Both use the fixed namespace `nuvolaris` and cluster-scoped RBAC names, so they run one at a
//! time. The figures (image size, pod start → Ready, RSS in the pod, apply → CR Ready) are printed.
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use kube::api::{DeleteParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::{Api, Client, ResourceExt};
use nuvolaris_operator::crd::Whisk;
use serde_json::{Value, json};
use support::{cond, wait_for, wait_for_within};

const NAMESPACE: &str = "nuvolaris";
const REAL_NODE: &str = "real-node";
/// Label that lets the real node's admission policy act in a namespace.
const REAL_NODE_LABEL: &str = "nuvolaris.org/real-node";
/// Cold pulls are not a thing here (images are loaded), but the first pod start on a loaded
/// 2-core machine can take a while.
const LIMIT: Duration = Duration::from_secs(240);

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// ---------------------------------------------------------------------------
// the real node and the images
// ---------------------------------------------------------------------------

/// Runs `bash SCRIPT ARGS...` in the repository and returns its stdout; panics with its output.
///
/// The script gets the environment of the shell that started `cargo test`, without what cargo
/// adds for a test (`CARGO_PKG_*`, `OUT_DIR`, `LD_LIBRARY_PATH`, ...): a build in the script must see the
/// same environment as `task image` from a shell, or cargo would rebuild the release binary.
fn script(script: &str, args: &[&str]) -> String {
    const ADDED_BY_CARGO: &[&str] = &[
        "CARGO_PKG_",
        "CARGO_BIN_",
        "CARGO_MANIFEST_",
        "CARGO_CRATE_",
        "CARGO_PRIMARY_",
        "CARGO_RUSTC_",
        "CARGO_TARGET_TMPDIR",
    ];
    let shell_env = std::env::vars().filter(|(name, _)| {
        name != "CARGO"
            && name != "OUT_DIR"
            && name != "LD_LIBRARY_PATH"
            && !ADDED_BY_CARGO.iter().any(|p| name.starts_with(p))
    });
    // The image's binary in the dev profile unless asked otherwise: the tests need its behaviour,
    // and a release build takes many times longer on 2 cores (tools/image/build.sh).
    let profile = std::env::var("IMAGE_PROFILE").unwrap_or_else(|_| "dev".to_owned());
    let output = Command::new("bash")
        .arg(support::repo_root().join(script))
        .args(args)
        .env_clear()
        .envs(shell_env)
        .env("IMAGE_PROFILE", profile)
        .current_dir(support::repo_root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
    assert!(
        output.status.success(),
        "{script} {args:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn kubectl(args: &[&str]) -> String {
    let output = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(support::kubeconfig_path())
        .args(args)
        .current_dir(support::repo_root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run kubectl: {e}"));
    assert!(
        output.status.success(),
        "kubectl {args:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn kubectl_stdin(args: &[&str], input: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(support::kubeconfig_path())
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run kubectl: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .expect("write kubectl's input");
    let output = child.wait_with_output().expect("kubectl finishes");
    assert!(
        output.status.success(),
        "kubectl {args:?} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What the real node was given: the operator's image archive and the Redis stand-in.
struct RealNode {
    archive: PathBuf,
}

/// Builds the operator's image, starts the real node and loads the images; once per process.
async fn real_node() -> &'static RealNode {
    static NODE: tokio::sync::OnceCell<RealNode> = tokio::sync::OnceCell::const_new();
    NODE.get_or_init(|| async {
        support::cluster().await;
        tokio::task::spawn_blocking(|| {
            let archive = PathBuf::from(script("tools/image/build.sh", &[]));
            script("tools/node/node.sh", &["up"]);
            script("tools/node/node.sh", &["load", &archive.to_string_lossy()]);
            // Redis runs for real: Debian's redis-server, under the reference of the image the
            // operator renders for Redis (it is not configurable in the CR).
            let stand_in = redis_stand_in();
            script(
                "tools/node/node.sh",
                &["alias", &stand_in, &rendered_redis_image()],
            );
            // "ref digest compressed=N uncompressed=N", one line per image (tools/image/oci.py)
            let list = std::fs::read_to_string(archive.with_file_name("images.txt"))
                .expect("images.txt beside the archive");
            for line in list.lines() {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let mib = |key: &str| {
                    fields
                        .iter()
                        .find_map(|f| f.strip_prefix(key))
                        .and_then(|n| n.parse::<f64>().ok())
                        .map_or("?".into(), |n| format!("{:.1} MiB", n / 1048576.0))
                };
                eprintln!(
                    "figure: image {}: {} compressed, {} uncompressed",
                    fields.first().unwrap_or(&"?"),
                    mib("compressed="),
                    mib("uncompressed=")
                );
            }
            RealNode { archive }
        })
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    })
    .await
}

/// The Redis image of the node's image set (`tools/node/images.sh`).
fn redis_stand_in() -> String {
    let archive = script("tools/node/images.sh", &[]);
    let list = std::fs::read_to_string(format!("{archive}.txt")).expect("node image list");
    list.lines()
        .filter_map(|l| l.split_whitespace().next())
        .find(|r| r.starts_with("nuvolaris.local/redis:"))
        .unwrap_or_else(|| panic!("no redis image in {archive}.txt"))
        .to_owned()
}

/// The image of the Redis StatefulSet the operator renders for the sample CR.
fn rendered_redis_image() -> String {
    let sample = support::repo_root().join("deploy/samples/minimal.yaml");
    let rendered =
        nuvolaris_operator::offline::render_file(&sample, None).expect("render the sample");
    for doc in serde_yaml_ng::Deserializer::from_str(&rendered.yaml) {
        let obj: Value = serde::Deserialize::deserialize(doc).expect("rendered YAML");
        if obj["kind"] == "StatefulSet" && obj["metadata"]["name"] == "redis" {
            return obj["spec"]["template"]["spec"]["containers"][0]["image"]
                .as_str()
                .expect("redis image")
                .to_owned();
        }
    }
    panic!("the sample renders no redis StatefulSet");
}

// ---------------------------------------------------------------------------
// installation
// ---------------------------------------------------------------------------

/// Removes what a previous run (or the other test) left: the namespace and the cluster roles.
async fn clean_slate(client: &Client) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    if let Some(ns) = namespaces.get_opt(NAMESPACE).await.expect("get namespace") {
        // The Whisk's finalizer needs the operator; without one it would block the deletion.
        let whisks: Api<Whisk> = Api::namespaced(client.clone(), NAMESPACE);
        if whisks
            .get_opt("controller")
            .await
            .expect("get Whisk")
            .is_some()
        {
            whisks
                .patch(
                    "controller",
                    &PatchParams::default(),
                    &Patch::Merge(json!({"metadata": {"finalizers": []}})),
                )
                .await
                .expect("drop the Whisk's finalizers");
        }
        let _ = namespaces
            .delete(NAMESPACE, &DeleteParams::background())
            .await;
        support::wait_deleted(&namespaces, NAMESPACE, &ns.uid().unwrap(), "old namespace").await;
    }
    kubectl(&[
        "delete",
        "clusterrole,clusterrolebinding",
        "nuvolaris-operator",
        "nuvolaris-operator-cr",
        "nuvolaris-operator-crb",
        "--ignore-not-found",
    ]);
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(NAMESPACE.into()),
            labels: Some(
                [
                    (REAL_NODE_LABEL.to_string(), "true".to_string()),
                    (
                        support::TEST_NAMESPACE_LABEL.to_string(),
                        "true".to_string(),
                    ),
                ]
                .into(),
            ),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .expect("create namespace nuvolaris");
}

/// `kubectl apply --server-side -f deploy/crds/crds.yaml`, as a user installs them (other tests
/// apply the same CRDs under their own field manager, hence `--force-conflicts`).
fn install_crds() {
    kubectl(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        "deploy/crds/crds.yaml",
    ]);
    kubectl(&[
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "-f",
        "deploy/crds/crds.yaml",
    ]);
}

/// On drop (also when the test fails): the operator stops, so that later test binaries do not
/// share the cluster with it; the namespace goes.
struct Uninstall(&'static [&'static str]);

impl Drop for Uninstall {
    fn drop(&mut self) {
        let kubeconfig = support::kubeconfig_path();
        for args in [
            &[
                "-n",
                NAMESPACE,
                "patch",
                "wsk/controller",
                "--type=merge",
                "-p",
                r#"{"metadata":{"finalizers":[]}}"#,
            ][..],
            self.0,
            &["delete", "namespace", NAMESPACE, "--wait=false"][..],
        ] {
            let _ = Command::new("kubectl")
                .arg("--kubeconfig")
                .arg(&kubeconfig)
                .args(args)
                .current_dir(support::repo_root())
                .output();
        }
    }
}

/// The status condition `kind` of the Whisk, as JSON.
fn condition(w: &Whisk, kind: &str) -> Option<Value> {
    let conditions = serde_json::to_value(&w.status.as_ref()?.conditions).ok()?;
    conditions
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
        .cloned()
}

fn whisk_ready() -> impl Fn(Option<&Whisk>) -> bool {
    |w| {
        w.and_then(|w| condition(w, "Ready"))
            .is_some_and(|c| c["status"] == "True")
    }
}

/// The host's /proc entry of the pod's process running `exe_name`, found through the pod's cgroup.
fn pod_process(pod: &Pod, exe_name: &str) -> Option<PathBuf> {
    let uid = pod.uid()?;
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|path| {
            let exe = std::fs::read_link(path.join("exe")).ok();
            exe.as_deref()
                .and_then(Path::file_name)
                .and_then(|n| n.to_str())
                == Some(exe_name)
                && std::fs::read_to_string(path.join("cgroup"))
                    .is_ok_and(|cgroups| cgroups.contains(&format!("pod{uid}")))
        })
}

/// A field of /proc/PID/status (its first word), e.g. `VmRSS` in kB or `Uid`.
fn proc_status(process: &Path, field: &str) -> Option<String> {
    let status = std::fs::read_to_string(process.join("status")).ok()?;
    status.lines().find_map(|l| {
        let value = l.strip_prefix(field)?.strip_prefix(':')?;
        value.split_whitespace().next().map(str::to_owned)
    })
}

fn rss_mib(pod: &Pod) -> Option<f64> {
    let process = pod_process(pod, "nuvolaris-operator")?;
    let kib: f64 = proc_status(&process, "VmRSS")?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Seconds between the pod's creation and its Ready condition (API timestamps, 1 s resolution).
fn pod_start_to_ready(pod: &Pod) -> Option<i64> {
    let created = pod.metadata.creation_timestamp.as_ref()?.0;
    let ready = pod
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready" && c.status == "True")?
        .last_transition_time
        .as_ref()?
        .0;
    Some(ready.as_second() - created.as_second())
}

fn node_of(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("")
}

/// The container log the kubelet wrote for `pod` (readable from the host: the node's
/// /var/log/pods is a bind mount of .cluster/node/root/var/log/pods).
fn container_log(pod: &Pod) -> String {
    let dir = support::cluster_dir()
        .join("node/root/var/log/pods")
        .join(format!(
            "{}_{}_{}",
            pod.namespace().unwrap_or_default(),
            pod.name_any(),
            pod.uid().unwrap_or_default()
        ));
    let mut out = String::new();
    for container in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(container.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            out.push_str(&std::fs::read_to_string(file.path()).unwrap_or_default());
        }
    }
    out
}

/// Applies the sample CR and checks what runs where once it is Ready.
async fn check_installation(client: &Client, t0: Instant, what: &str) {
    let whisks: Api<Whisk> = Api::namespaced(client.clone(), NAMESPACE);
    let ready = wait_for_within(
        LIMIT,
        &whisks,
        "controller",
        "sample CR Ready",
        whisk_ready(),
    )
    .await;
    eprintln!(
        "figure: {what}: apply → sample CR Ready in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let status = serde_json::to_value(&ready.status).unwrap();
    assert_eq!(status["whisk_create"]["controller"], "Ready", "{status}");

    // Redis and its setup Job ran for real on the real node; CouchDB stayed on kwok.
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let redis = wait_for(&pods, "redis-0", "redis-0 Ready", cond::pod_ready()).await;
    assert_eq!(node_of(&redis), REAL_NODE, "redis-0 runs on the real node");
    let couchdb = pods.get("couchdb-0").await.expect("couchdb-0");
    assert!(
        node_of(&couchdb).starts_with("kwok-node-"),
        "the third-party CouchDB image stays on kwok, not on {}",
        node_of(&couchdb)
    );
    let jobs: Api<Job> = Api::namespaced(client.clone(), NAMESPACE);
    wait_for(
        &jobs,
        "redis-init",
        "redis-init complete",
        cond::is_job_completed(),
    )
    .await;
    let init_pods = pods
        .list(&kube::api::ListParams::default().labels("job-name=redis-init"))
        .await
        .expect("redis-init pods");
    let succeeded = init_pods
        .items
        .iter()
        .find(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Succeeded"))
        .expect("a succeeded redis-init pod");
    assert_eq!(
        node_of(succeeded),
        REAL_NODE,
        "redis-init runs on the real node"
    );
    let log = container_log(succeeded);
    assert!(
        log.contains("nuvolaris"),
        "the redis-init log reports the ACL user it set up: {log:?}"
    );
}

// ---------------------------------------------------------------------------
// the tests
// ---------------------------------------------------------------------------

#[tokio::test]
async fn deploy_operator_runs_in_cluster_on_the_real_node() {
    let _one = ONE_AT_A_TIME.lock().await;
    let client = support::cluster().await;
    real_node().await;
    clean_slate(&client).await;
    let _uninstall = Uninstall(&["delete", "-k", "deploy/operator", "--wait=false"]);
    install_crds();

    let t0 = Instant::now();
    kubectl(&["apply", "-k", "deploy/operator"]);
    kubectl(&["apply", "-f", "deploy/samples/minimal.yaml"]);

    // The operator's pod: on the real node, from the local image, Ready on /readyz.
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let pod = wait_for_within(
        LIMIT,
        &pods,
        "nuvolaris-operator-0",
        "operator pod Ready",
        cond::pod_ready(),
    )
    .await;
    eprintln!(
        "figure: deploy/operator: apply → nuvolaris-operator-0 Ready in {:.1} s; pod created → Ready {} s",
        t0.elapsed().as_secs_f64(),
        pod_start_to_ready(&pod).map_or("?".into(), |s| s.to_string())
    );
    assert_eq!(
        node_of(&pod),
        REAL_NODE,
        "the operator pod runs on the real node"
    );
    let status = pod.status.as_ref().unwrap();
    let container = &status.container_statuses.as_ref().unwrap()[0];
    assert!(container.ready, "{container:?}");
    assert!(
        container
            .image
            .starts_with("ghcr.io/nuvolaris/nuvolaris-operator:"),
        "{}",
        container.image
    );

    check_installation(&client, t0, "deploy/operator").await;
    let rss = rss_mib(&pod);
    eprintln!(
        "figure: deploy/operator: operator RSS in the pod after the install: {}",
        rss.map_or("?".into(), |m| format!("{m:.1} MiB"))
    );
    assert!(
        rss.is_some(),
        "the operator's process is found by its pod's cgroup"
    );

    // A permission taken away: the Service the operator re-creates can no longer be written.
    // The Degraded condition carries the API server's refusal, naming the service account (the
    // operator's in-cluster identity), the verb and the resource.
    let role = kubectl(&["get", "clusterrole", "nuvolaris-operator", "-o", "json"]);
    let mut role: Value = serde_json::from_str(&role).unwrap();
    for rule in role["rules"].as_array_mut().unwrap() {
        if let Some(resources) = rule["resources"].as_array_mut() {
            resources.retain(|r| r != "services");
        }
    }
    role["rules"].as_array_mut().unwrap().push(
        json!({"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list", "watch"]}),
    );
    role["metadata"] = json!({"name": "nuvolaris-operator"});
    let patched = std::env::temp_dir().join(format!("in-cluster-role-{}.json", std::process::id()));
    std::fs::write(&patched, role.to_string()).unwrap();
    kubectl(&["apply", "-f", &patched.to_string_lossy()]);
    let _ = std::fs::remove_file(&patched);
    let services: Api<Service> = Api::namespaced(client.clone(), NAMESPACE);
    services
        .delete("redis", &DeleteParams::default())
        .await
        .expect("delete the redis Service");
    let whisks: Api<Whisk> = Api::namespaced(client.clone(), NAMESPACE);
    let degraded = wait_for_within(
        LIMIT,
        &whisks,
        "controller",
        "Degraded naming the missing permission",
        |w: Option<&Whisk>| {
            w.and_then(|w| condition(w, "Degraded")).is_some_and(|c| {
                c["status"] == "True"
                    && c["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("services"))
            })
        },
    )
    .await;
    let message = condition(&degraded, "Degraded").unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    eprintln!("Degraded: {message}");
    assert!(message.contains("patch"), "the verb: {message}");
    assert!(message.contains("services"), "the resource: {message}");
    assert!(
        message.contains("system:serviceaccount:nuvolaris:nuvolaris-operator"),
        "the operator's in-cluster identity: {message}"
    );

    // The permission back: the operator converges again.
    kubectl(&["apply", "-k", "deploy/operator"]);
    wait_for_within(LIMIT, &whisks, "controller", "Ready again", whisk_ready()).await;
    services
        .get("redis")
        .await
        .expect("the redis Service is back");
}

/// The `ops` CLI's operator manifests (tests/ops/), unchanged but for the image reference.
#[tokio::test]
async fn ops_cli_statefulset_runs_the_ops_image() {
    let _one = ONE_AT_A_TIME.lock().await;
    let client = support::cluster().await;
    let node = real_node().await;
    clean_slate(&client).await;
    let _uninstall = Uninstall(&["delete", "-f", "tests/ops/", "--wait=false"]);
    install_crds();
    let ops_image = images_in(&node.archive)
        .into_iter()
        .find(|r| r.ends_with("-ops"))
        .expect("the -ops image variant");

    // The CLI's envsubst of ${IMAGES_OPERATOR}, then its `kubectl apply`.
    let mut manifests = String::new();
    for file in ["00-common.yaml", "10-roles.yaml", "20-operator.yaml"] {
        let text = std::fs::read_to_string(support::repo_root().join("tests/ops").join(file))
            .unwrap_or_else(|e| panic!("read tests/ops/{file}: {e}"));
        manifests.push_str(&text.replace("${IMAGES_OPERATOR}", &ops_image));
        manifests.push_str("\n---\n");
    }
    let t0 = Instant::now();
    kubectl_stdin(&["apply", "-f", "-"], &manifests);
    kubectl(&["apply", "-f", "deploy/samples/minimal.yaml"]);

    let statefulsets: Api<StatefulSet> = Api::namespaced(client.clone(), NAMESPACE);
    wait_for_within(
        LIMIT,
        &statefulsets,
        "nuvolaris-operator",
        "the ops StatefulSet ready",
        cond::statefulset_ready(),
    )
    .await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let pod = pods
        .get("nuvolaris-operator-0")
        .await
        .expect("operator pod");
    assert_eq!(node_of(&pod), REAL_NODE);
    let spec = pod.spec.as_ref().unwrap();
    assert_eq!(
        spec.containers[0].command.as_deref(),
        Some(&["bash".to_string(), "-c".into(), "./run.sh".into()][..]),
        "the CLI's command, unchanged"
    );
    eprintln!(
        "figure: ops StatefulSet: apply → nuvolaris-operator-0 Ready in {:.1} s; pod created → Ready {} s",
        t0.elapsed().as_secs_f64(),
        pod_start_to_ready(&pod).map_or("?".into(), |s| s.to_string())
    );
    check_installation(&client, t0, "ops StatefulSet").await;
    eprintln!(
        "figure: ops StatefulSet: operator RSS in the pod: {}",
        rss_mib(&pod).map_or("?".into(), |m| format!("{m:.1} MiB"))
    );
    let process = pod_process(&pod, "nuvolaris-operator").expect("the operator's process");
    assert_eq!(
        proc_status(&process, "Uid").as_deref(),
        Some("1001"),
        "runs as the CLI's uid"
    );
}

/// The image references in an archive written by tools/image/build.sh (its images.txt).
fn images_in(archive: &Path) -> Vec<String> {
    std::fs::read_to_string(archive.with_file_name("images.txt"))
        .expect("images.txt beside the archive")
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}
