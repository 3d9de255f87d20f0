//! `nuvolaris-operator diff` on the local control plane (tests/support): against an empty
//! namespace everything is new; after the operator has applied (its own apply, in process)
//! nothing differs; after a spec change only the changed objects show, pruned objects are
//! listed; no secret value ever appears. The CLI's exit status follows `kubectl diff`.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use base64::Engine;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ListParams, PostParams};
use kube::{Api, Client};
use nuvolaris_operator::components::ops_config::user_metadata_env;
use nuvolaris_operator::components::{component, generated_secret_keys};
use nuvolaris_operator::config::secrets::CORE_KEYS;
use nuvolaris_operator::config::{ClusterFacts, Config, GeneratedKey, GeneratedSecrets};
use nuvolaris_operator::controller::{self, Context, reconcile};
use nuvolaris_operator::crd::ComponentId;
use nuvolaris_operator::crd::{Whisk, validate};
use nuvolaris_operator::diff::{Diff, diff_whisk};
use nuvolaris_operator::metrics::Metrics;
use serde_json::{Value, json};
use support::TestNamespace;

/// The sample CR in namespace `ns`, as a document.
fn sample(ns: &str) -> Value {
    let text = std::fs::read_to_string(support::repo_root().join("deploy/samples/minimal.yaml"))
        .expect("read the sample CR");
    let mut doc: Value = serde_yaml_ng::from_str(&text).expect("sample YAML");
    doc["metadata"]["namespace"] = json!(ns);
    doc
}

fn admitted(doc: &Value) -> Whisk {
    let admitted = validate::admit(doc).expect("the sample is valid");
    serde_json::from_value(admitted.object).expect("a Whisk")
}

/// The generated keys of the test's CR: the installation's and those of its enabled components
/// (a disabled component's are neither generated nor adopted).
fn enabled_keys() -> Vec<GeneratedKey> {
    let enabled = [
        ComponentId::Couchdb,
        ComponentId::Redis,
        ComponentId::Openwhisk,
    ];
    CORE_KEYS
        .iter()
        .copied()
        .chain(
            enabled
                .iter()
                .filter_map(|id| component(*id))
                .flat_map(|c| c.generated_secrets().iter().copied()),
        )
        .collect()
}

/// The Secret keys that hold no secret: the `nuvolaris` user's metadata entries of plain
/// annotations (`NUVOLARIS_METADATA_REDIS_PREFIX=nuvolaris:`), which `setup couchdb` reads from
/// its Secret together with the credential ones.
fn plain_metadata_keys(whisk: &Whisk) -> BTreeSet<String> {
    let placeholders = GeneratedSecrets::placeholders(&generated_secret_keys());
    let cfg = Config::from_whisk(whisk, &ClusterFacts::default(), &placeholders)
        .expect("the sample's configuration");
    user_metadata_env(&cfg)
        .into_iter()
        .filter(|entry| !entry.credential)
        .map(|entry| {
            format!(
                "{}{}",
                nuvolaris_operator::setup::METADATA_ENV_PREFIX,
                entry.key
            )
        })
        .collect()
}

/// Every secret value of the namespace (decoded and as stored) plus the stand-ins `diff`
/// renders with while the generated Secret does not exist; `plain` keys are left out.
async fn secret_values(client: &Client, ns: &str, plain: &BTreeSet<String>) -> BTreeSet<String> {
    let mut values: BTreeSet<String> = generated_secret_keys()
        .iter()
        .map(|k| k.placeholder())
        .collect();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), ns);
    for secret in secrets
        .list(&ListParams::default())
        .await
        .expect("list secrets")
    {
        for (key, value) in secret.data.unwrap_or_default() {
            if !plain.contains(&key) {
                values.insert(String::from_utf8_lossy(&value.0).into_owned());
            }
        }
    }
    let encoded: Vec<String> = values
        .iter()
        .map(|v| base64::engine::general_purpose::STANDARD.encode(v))
        .collect();
    values.extend(encoded);
    values.retain(|v| v.len() >= 8);
    values
}

fn assert_no_secret(diff: &Diff, secrets: &BTreeSet<String>) {
    for value in secrets {
        assert!(
            !diff.text.contains(value.as_str()),
            "a secret value appears in the diff:\n{}",
            diff.text
        );
    }
}

fn headers(diff: &Diff) -> Vec<&str> {
    diff.text
        .lines()
        .filter(|l| l.starts_with("--- live/"))
        .collect()
}

fn run_cli(file: &Path) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_nuvolaris-operator"))
        .args(["diff", "-f"])
        .arg(file)
        .env("KUBECONFIG", support::kubeconfig_path())
        .output()
        .expect("run nuvolaris-operator diff");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn diff_new_then_nothing_then_only_what_changes() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let namespace = TestNamespace::create(&client, "diff").await;
    let ns = namespace.name.clone();
    let doc = sample(&ns);
    let whisk = admitted(&doc);
    let plain = plain_metadata_keys(&whisk);
    assert!(
        plain.contains("NUVOLARIS_METADATA_REDIS_PREFIX"),
        "{plain:?}"
    );

    // 1. nothing there yet: every object is new, passwords are to be generated
    let diff = diff_whisk(&client, whisk.clone(), None)
        .await
        .expect("diff against an empty namespace");
    let all = headers(&diff);
    assert!(
        all.len() >= 20,
        "only {} objects:\n{}",
        all.len(),
        diff.text
    );
    assert!(all.iter().all(|h| h.ends_with(" (new)")), "{all:#?}");
    assert!(
        diff.changed
            .contains(&format!("nuvolaris.org/v1 Whisk {ns}/controller")),
        "{:?}",
        diff.changed
    );
    assert!(
        diff.changed
            .contains(&format!("v1 Secret {ns}/nuvolaris-generated"))
    );
    for key in enabled_keys().iter().map(|k| k.name) {
        assert!(
            diff.text.contains(&format!("+  {key}: '*** (generated)'"))
                || diff
                    .text
                    .contains(&format!("+  {key}: \"*** (generated)\"")),
            "{key} not reported as generated:\n{}",
            diff.text
        );
    }
    assert_no_secret(&diff, &secret_values(&client, &ns, &plain).await);

    // 2. the operator applies (its own pipeline, in process): nothing left to change
    let whisks: Api<Whisk> = Api::namespaced(client.clone(), &ns);
    let live = whisks
        .create(&PostParams::default(), &whisk)
        .await
        .expect("create the Whisk");
    let ctx = Context::new(
        client.clone(),
        Arc::new(Metrics::new()),
        Arc::new(controller::render_whisk),
    );
    reconcile::apply_whisk(&live, &ctx)
        .await
        .expect("the operator applies");
    let diff = diff_whisk(&client, whisk.clone(), None)
        .await
        .expect("diff after the apply");
    assert!(diff.is_empty(), "unexpected differences:\n{}", diff.text);
    assert!(diff.unchanged >= 20, "{}", diff.unchanged);

    // 3. a new controller image: the Whisk and the controller StatefulSet, nothing else
    let mut changed_doc = doc.clone();
    changed_doc["spec"]["controller"] =
        json!({"image": "registry.example.org/ow/controller", "tag": "diff"});
    let diff = diff_whisk(&client, admitted(&changed_doc), None)
        .await
        .expect("diff of a changed spec");
    assert_eq!(
        diff.changed,
        [
            format!("nuvolaris.org/v1 Whisk {ns}/controller"),
            format!("apps/v1 StatefulSet {ns}/controller"),
        ],
        "{}",
        diff.text
    );
    assert!(
        diff.text
            .lines()
            .any(|l| l.starts_with('+') && l.contains("image: registry.example.org/ow/controller")),
        "{}",
        diff.text
    );
    let secrets = secret_values(&client, &ns, &plain).await;
    assert!(secrets.len() > 2 * enabled_keys().len());
    assert_no_secret(&diff, &secrets);

    // 4. redis off: its objects are pruned (its volume claim never is)
    let mut no_redis = doc.clone();
    no_redis["spec"]["components"]["redis"] = json!(false);
    let diff = diff_whisk(&client, admitted(&no_redis), None)
        .await
        .expect("diff without redis");
    let pruned: Vec<&str> = headers(&diff)
        .into_iter()
        .filter(|h| h.ends_with(" (deleted by prune)"))
        .collect();
    assert!(
        pruned
            .iter()
            .any(|h| h.starts_with(&format!("--- live/apps.v1.StatefulSet.{ns}.redis "))),
        "{pruned:#?}"
    );
    assert!(
        !pruned.iter().any(|h| h.contains("PersistentVolumeClaim")),
        "{pruned:#?}"
    );
    assert_no_secret(&diff, &secrets);

    // 5. the command line: 0 when nothing differs, 1 when something does, 2 on error
    let dir = tempfile::tempdir().expect("temp dir");
    let same = dir.path().join("same.yaml");
    std::fs::write(&same, serde_json::to_string(&doc).expect("JSON")).expect("write");
    let (code, out, err) = run_cli(&same);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let changed = dir.path().join("changed.yaml");
    std::fs::write(&changed, serde_json::to_string(&changed_doc).expect("JSON")).expect("write");
    let (code, out, err) = run_cli(&changed);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("--- live/apps.v1.StatefulSet."), "{out}");
    let mut bad_doc = doc.clone();
    bad_doc["spec"]["couchdb"]["port"] = json!(70000);
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, serde_json::to_string(&bad_doc).expect("JSON")).expect("write");
    let (code, _, err) = run_cli(&bad);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("spec.couchdb.port: Invalid value: 70000"),
        "{err}"
    );
    namespace.cleanup().await;
}
