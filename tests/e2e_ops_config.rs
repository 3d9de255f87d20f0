//! The `ops` CLI's contract on the local control plane, with the operator binary as it runs in
//! the cluster (`nuvolaris-operator run`, its image in `OPERATOR_IMAGE`): after install,
//! `cm/config` carries `apihost`, the `<name>_version` of every annotated workload and of the
//! operator, the components' keys and `system_action_status=created` (the `whisk-system-init`
//! Job done; under kwok its pod completes without running: the deployment itself is proven
//! against the OpenWhisk API stand-in, `whisk_system_deploy`). Then: the credential switch
//! removes the credential keys and re-runs nothing; a changed input of the actions re-deploys
//! them while `system_action_status` stays; disabling a component removes its keys and re-runs
//! `couchdb-init` with the `nuvolaris` user's metadata in step; disabling OpenWhisk removes the
//! status.

mod support;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::wait::Condition;
use kube::runtime::watcher;
use kube::{Api, ResourceExt};
use nuvolaris_operator::crd::Whisk;
use serde_json::{Value, json};
use support::operator::{is_ready_for_generation as ready, status};
use support::{TestNamespace, cond, wait_for};

/// The image the operator is told it runs as (the StatefulSet of `deploy/operator` sets it).
const OPERATOR_IMAGE: &str = "registry.example.org/nuvolaris-operator:e2e";

/// The operator binary, stopped (and its log shown on failure) when dropped.
struct Operator {
    child: Child,
    log: tempfile::NamedTempFile,
}

impl Operator {
    fn start(namespace: &str) -> Operator {
        let log = tempfile::NamedTempFile::new().expect("a log file");
        let child = Command::new(env!("CARGO_BIN_EXE_nuvolaris-operator"))
            .args(["run", "--namespace", namespace, "--listen", "127.0.0.1:0"])
            .env("KUBECONFIG", support::kubeconfig_path())
            .env("OPERATOR_IMAGE", OPERATOR_IMAGE)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log.reopen().expect("reopen the log"))
            .spawn()
            .expect("start nuvolaris-operator run");
        Operator { child, log }
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.log.path()).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- operator log (last lines) ---");
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

fn annotations(cm: &ConfigMap) -> BTreeMap<String, String> {
    cm.metadata.annotations.clone().unwrap_or_default()
}

async fn patch_spec(whisks: &Api<Whisk>, spec: Value) {
    whisks
        .patch(
            "controller",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": spec })),
        )
        .await
        .expect("patch the Whisk spec");
}

async fn job_uid(jobs: &Api<Job>, name: &str) -> String {
    jobs.get(name)
        .await
        .unwrap_or_else(|e| panic!("job {name}: {e}"))
        .uid()
        .expect("a uid")
}

/// The `NUVOLARIS_METADATA_*` entries of the Secret the `couchdb-init` Job loads: the `env`
/// list `setup couchdb` writes into the `nuvolaris` user's metadata document.
async fn metadata_env(ns: &TestNamespace) -> BTreeMap<String, String> {
    let job = ns
        .api::<Job>()
        .get("couchdb-init")
        .await
        .expect("couchdb-init");
    let secret_name = job
        .spec
        .and_then(|s| s.template.spec)
        .and_then(|p| p.containers.into_iter().next())
        .and_then(|c| c.env_from)
        .and_then(|e| e.into_iter().next())
        .and_then(|e| e.secret_ref)
        .map(|r| r.name)
        .expect("couchdb-init loads a Secret");
    let secret = ns
        .api::<Secret>()
        .get(&secret_name)
        .await
        .expect("the Job's Secret");
    secret
        .data
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix("NUVOLARIS_METADATA_")?;
            Some((key.to_owned(), String::from_utf8(v.0).expect("utf-8")))
        })
        .collect()
}

#[tokio::test]
async fn cm_config_and_the_system_actions_follow_the_installation() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "e2e-ops").await;
    let configs = ns.api::<ConfigMap>();
    // The `ops` CLI creates an empty `cm/config` before the Whisk; what it put there stays.
    configs
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": "config", "annotations": {"cli/own": "kept"}}
            }))
            .expect("a ConfigMap"),
        )
        .await
        .expect("create cm/config");
    let operator = Operator::start(&ns.name);

    let whisks = ns.api::<Whisk>();
    let whisk: Whisk = serde_json::from_value(json!({
        "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
        "metadata": {"name": "controller", "namespace": ns.name},
        "spec": {
            // no NodePorts: this test runs beside others that install the same components
            "nuvolaris": {"nodeports": false},
            "components": {"openwhisk": true, "couchdb": true, "redis": true},
        },
    }))
    .expect("a Whisk");
    whisks
        .create(&PostParams::default(), &whisk)
        .await
        .expect("create the Whisk");

    // Installed: the whisk-system Job done, its status on, cm/config complete.
    let installed = wait_for(&whisks, "controller", "Whisk Ready", ready).await;
    assert_eq!(
        status(&installed)["whisk_create"]["whisk-system"],
        "on",
        "{}",
        status(&installed)
    );
    let jobs = ns.api::<Job>();
    let job = wait_for(
        &jobs,
        "whisk-system-init",
        "whisk-system Job complete",
        cond::is_job_completed(),
    )
    .await;
    let container = &job
        .spec
        .as_ref()
        .expect("spec")
        .template
        .spec
        .as_ref()
        .expect("pod")
        .containers[0];
    assert_eq!(container.image.as_deref(), Some(OPERATOR_IMAGE));
    assert_eq!(
        container.args.as_deref(),
        Some(&["setup".to_owned(), "whisk-system".to_owned()][..])
    );
    let config = configs.get("config").await.expect("cm/config");
    let published = annotations(&config);
    assert_eq!(
        published.get("system_action_status").map(String::as_str),
        Some("created"),
        "{published:?}"
    );
    let apihost = published.get("apihost").expect("apihost");
    assert!(apihost.starts_with("http://"), "with its scheme: {apihost}");
    let versions: BTreeMap<&str, &str> = published
        .iter()
        .filter(|(k, _)| k.ends_with("_version"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let controller_image = format!(
        "{}:{}",
        nuvolaris_operator::config::CONTROLLER_IMAGE,
        nuvolaris_operator::config::CONTROLLER_TAG
    );
    assert_eq!(
        versions,
        BTreeMap::from([
            ("controller_version", controller_image.as_str()),
            ("couchdb-init_version", OPERATOR_IMAGE),
            ("couchdb_version", "apache/couchdb:2.3"),
            ("nuvolaris-operator_version", OPERATOR_IMAGE),
            ("redis-init_version", OPERATOR_IMAGE),
            (
                "redis_version",
                nuvolaris_operator::config::redis::REDIS_IMAGE
            ),
            ("whisk-system-init_version", OPERATOR_IMAGE),
        ])
    );
    assert_eq!(
        published.get("redis_prefix").map(String::as_str),
        Some("nuvolaris:")
    );
    let redis_url = published.get("redis_url").expect("redis_url").clone();
    assert!(redis_url.starts_with("redis://nuvolaris:"), "{redis_url}");
    for key in [
        "redis_alt_url",
        "redis_password",
        "redis_service",
        "redis_port",
        "redis_provider",
    ] {
        assert!(published.contains_key(key), "{key} in {published:?}");
    }
    assert_eq!(published.get("cli/own").map(String::as_str), Some("kept"));
    // The nuvolaris user's metadata gets the same values, upper-cased; not apihost.
    let metadata = metadata_env(&ns).await;
    assert_eq!(metadata.get("REDIS_URL"), Some(&redis_url));
    assert!(!metadata.contains_key("APIHOST"), "{:?}", metadata.keys());

    // No credentials in cm/config: the credential keys go, nothing re-runs.
    let couchdb_init = job_uid(&jobs, "couchdb-init").await;
    let whisk_system_init = job_uid(&jobs, "whisk-system-init").await;
    patch_spec(&whisks, json!({"nuvolaris": {"publishcredentials": false}})).await;
    let config = wait_for(
        &configs,
        "config",
        "credential keys removed",
        |cm: Option<&ConfigMap>| cm.is_some_and(|cm| !annotations(cm).contains_key("redis_url")),
    )
    .await;
    let published = annotations(&config);
    for gone in ["redis_url", "redis_alt_url", "redis_password"] {
        assert!(!published.contains_key(gone), "{gone} in {published:?}");
    }
    for kept in [
        "redis_prefix",
        "redis_port",
        "apihost",
        "system_action_status",
        "cli/own",
    ] {
        assert!(
            published.contains_key(kept),
            "{kept} missing: {published:?}"
        );
    }
    wait_for(&whisks, "controller", "Ready with the switch", ready).await;
    assert_eq!(
        job_uid(&jobs, "couchdb-init").await,
        couchdb_init,
        "metadata unchanged"
    );
    assert_eq!(
        job_uid(&jobs, "whisk-system-init").await,
        whisk_system_init,
        "actions not re-deployed"
    );
    assert_eq!(metadata_env(&ns).await.get("REDIS_URL"), Some(&redis_url));

    // A new input of the actions (the CouchDB admin password) re-deploys them; meanwhile
    // `system_action_status` stays published (watched on every change of cm/config).
    let missing_status = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = Arc::new(Mutex::new(0_usize));
    let watch = {
        let missing_status = missing_status.clone();
        let seen = seen.clone();
        let events = watcher(
            configs.clone(),
            watcher::Config::default().fields("metadata.name=config"),
        );
        tokio::spawn(async move {
            let mut events = std::pin::pin!(events);
            while let Some(event) = events.next().await {
                if let Ok(watcher::Event::Apply(cm) | watcher::Event::InitApply(cm)) = event {
                    *seen.lock().expect("lock") += 1;
                    if !annotations(&cm).contains_key("system_action_status") {
                        let version = cm.resource_version().unwrap_or_default();
                        missing_status.lock().expect("lock").push(version);
                    }
                }
            }
        })
    };
    patch_spec(
        &whisks,
        json!({"couchdb": {"admin": {"password": "changed-admin-password"}}}),
    )
    .await;
    wait_for(
        &jobs,
        "whisk-system-init",
        "whisk-system Job re-created and complete",
        |j: Option<&Job>| {
            j.is_some_and(|j| {
                j.uid().as_deref() != Some(whisk_system_init.as_str())
                    && cond::is_job_completed().matches_object(Some(j))
            })
        },
    )
    .await;
    wait_for(
        &whisks,
        "controller",
        "Ready after the re-deployment",
        ready,
    )
    .await;
    let config = configs.get("config").await.expect("cm/config");
    assert_eq!(
        annotations(&config)
            .get("system_action_status")
            .map(String::as_str),
        Some("created")
    );
    watch.abort();
    assert!(*seen.lock().expect("lock") > 0, "the watch saw cm/config");
    assert!(
        missing_status.lock().expect("lock").is_empty(),
        "system_action_status vanished while the actions were re-deployed: {:?}",
        missing_status.lock().expect("lock")
    );

    // Redis off: its keys and version go; couchdb-init re-runs with the metadata in step.
    let couchdb_init = job_uid(&jobs, "couchdb-init").await;
    let whisk_system_init = job_uid(&jobs, "whisk-system-init").await;
    patch_spec(&whisks, json!({"components": {"redis": false}})).await;
    let config = wait_for(
        &configs,
        "config",
        "redis keys removed",
        |cm: Option<&ConfigMap>| {
            cm.is_some_and(|cm| !annotations(cm).keys().any(|k| k.starts_with("redis")))
        },
    )
    .await;
    let published = annotations(&config);
    assert!(published.contains_key("couchdb_version"), "{published:?}");
    assert_eq!(published.get("cli/own").map(String::as_str), Some("kept"));
    wait_for(&whisks, "controller", "Ready without redis", ready).await;
    assert_ne!(
        job_uid(&jobs, "couchdb-init").await,
        couchdb_init,
        "metadata re-written"
    );
    let metadata = metadata_env(&ns).await;
    assert!(
        !metadata.keys().any(|k| k.starts_with("REDIS")),
        "{:?}",
        metadata.keys()
    );
    assert_eq!(
        job_uid(&jobs, "whisk-system-init").await,
        whisk_system_init,
        "the actions do not depend on redis"
    );

    // OpenWhisk off: the system actions and their status go with it.
    patch_spec(&whisks, json!({"components": {"openwhisk": false}})).await;
    let off = wait_for(
        &whisks,
        "controller",
        "Ready without openwhisk",
        |w: Option<&Whisk>| {
            ready(w) && w.is_some_and(|w| status(w)["whisk_create"]["whisk-system"] == "off")
        },
    )
    .await;
    assert_eq!(status(&off)["whisk_create"]["couchdb"], "on");
    let published = annotations(&configs.get("config").await.expect("cm/config"));
    for gone in [
        "system_action_status",
        "apihost",
        "whisk-system-init_version",
        "controller_version",
    ] {
        assert!(!published.contains_key(gone), "{gone} in {published:?}");
    }
    assert!(published.contains_key("nuvolaris-operator_version"));

    // Deleted while the operator runs, so its finalizer is released and the namespace goes.
    let uid = off.uid().expect("a uid");
    whisks
        .delete("controller", &DeleteParams::default())
        .await
        .expect("delete the Whisk");
    support::wait_deleted(&whisks, "controller", &uid, "Whisk deleted").await;
    drop(operator);
    ns.cleanup().await;
}
