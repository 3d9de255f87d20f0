//! The WhiskUser end to end on the local control plane, with the user exactly as `ops admin
//! adduser` applies it (../shared/reference/ops-crs/whiskuser-devel.yaml, copied in the test
//! below): created before its Whisk it waits with a clear condition; once the minimal Whisk is
//! installed it becomes Ready (routes on `devel.<apihost>`, the setup Job with its credentials
//! in a Secret only); a password and quota edit converges (the Job runs again); delete releases
//! it well within the CLI's 60 s, after its delete Job.

mod support;

use std::time::{Duration, Instant};

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::networking::v1::Ingress;
use kube::ResourceExt;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use nuvolaris_operator::crd::{Whisk, WhiskUser};
use serde_json::{Value, json};
use support::operator::start_operator;
use support::{TestNamespace, wait_for};

/// What `ops admin adduser devel devel@example.com exjT3XRR --all` applies.
const OPS_USER: &str = r#"
apiVersion: nuvolaris.org/v1
kind: WhiskUser
metadata:
  name: devel
  namespace: nuvolaris
spec:
  email: devel@example.com
  password: exjT3XRR
  namespace: devel
  auth: c3a47ffa-4742-427d-a16a-c4dd5eb75f03:MlXh0Dq2mr4keWqiMfgUWIEIvPtB6LsQfUdg4KQdEuAAqaGyMLczaw61IXhzPFeA
  redis:
    enabled: true
    prefix: devel
    password: 6wBwUXxFgbEt
  mongodb:
    enabled: true
    database: devel
    password: XHQobwW2Gvt3
  postgres:
    enabled: true
    database: devel
    password: FgQLL71f222C
  object-storage:
    password: Az11pNKlmkzMqR4N1KJrQCPfzQDftnCDbJViNFoz
    quota: "auto"
    data:
      enabled: true
      bucket: devel-data
    route:
      enabled: true
      bucket: devel-web
  milvus:
    enabled: true
    database: devel
    password: X1xsUQgmEoRO
"#;

const SECRETS: [&str; 4] = [
    "exjT3XRR",
    "MlXh0Dq2mr4keWqiMfgUWIEIvPtB6LsQfUdg4KQdEuAAqaGyMLczaw61IXhzPFeA",
    "6wBwUXxFgbEt",
    "new-Passw0rd",
];

fn status(u: &WhiskUser) -> Value {
    serde_json::to_value(&u.status).expect("status serializes")
}

/// The condition `type_` of the current generation has `status` (and `reason`, when given).
fn condition_is(
    type_: &'static str,
    expected: &'static str,
    reason: Option<&'static str>,
) -> impl Fn(Option<&WhiskUser>) -> bool {
    move |u: Option<&WhiskUser>| {
        let Some(u) = u else { return false };
        let generation = u.metadata.generation.unwrap_or_default();
        status(u)["conditions"].as_array().is_some_and(|cs| {
            cs.iter().any(|c| {
                c["type"] == type_
                    && c["status"] == expected
                    && c["observedGeneration"].as_i64() == Some(generation)
                    && reason.is_none_or(|r| c["reason"] == r)
            })
        })
    }
}

#[tokio::test]
async fn the_ops_user_waits_for_its_whisk_becomes_ready_follows_edits_and_is_deleted() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "e2e-user").await;

    let operator = start_operator(&client, &ns.name);

    // The user first: it waits for an installation, and says so.
    let mut user: Value = serde_yaml_ng::from_str(OPS_USER).expect("user YAML");
    user["metadata"]["namespace"] = json!(ns.name);
    let user: WhiskUser = serde_json::from_value(user).expect("a WhiskUser");
    let users = ns.api::<WhiskUser>();
    users
        .create(&PostParams::default(), &user)
        .await
        .expect("create the user");
    let waiting = wait_for(
        &users,
        "devel",
        "user waiting for its Whisk",
        condition_is("Ready", "False", Some("WaitingForWhisk")),
    )
    .await;
    assert!(
        waiting
            .finalizers()
            .iter()
            .any(|f| f == "nuvolaris.org/cleanup")
    );

    // The minimal installation: the user becomes Ready.
    let sample = std::fs::read_to_string(support::repo_root().join("deploy/samples/minimal.yaml"))
        .expect("read sample");
    let mut cr: Value = serde_yaml_ng::from_str(&sample).expect("sample is YAML");
    cr["metadata"]["namespace"] = json!(ns.name);
    let cr: Whisk = serde_json::from_value(cr).expect("sample is a Whisk");
    let started = Instant::now();
    ns.api::<Whisk>()
        .create(&PostParams::default(), &cr)
        .await
        .expect("create the Whisk");
    let ready = wait_for(
        &users,
        "devel",
        "user Ready",
        condition_is("Ready", "True", None),
    )
    .await;
    println!(
        "figure: Whisk and user created → user Ready in {:?}",
        started.elapsed()
    );
    let s = status(&ready);
    for (key, value) in [
        ("couchdb", "on"),
        ("api", "on"),
        ("redis", "on"),
        ("user_metadata", "on"),
        // the minimal installation has no object storage, FerretDB, Postgres or Milvus
        ("storage_data", "off"),
        ("mongodb", "off"),
        ("postgres", "off"),
        ("milvus", "off"),
    ] {
        assert_eq!(s["whisk_user_create"][key], value, "{key} in {s}");
    }

    // Routes on devel.<apihost>, the setup Job with no credential in its spec.
    for name in ["devel-apihost-api-ingress", "devel-apihost-my-api-ingress"] {
        let ingress = ns.api::<Ingress>().get(name).await.expect(name);
        let rules = ingress.spec.and_then(|s| s.rules).unwrap_or_default();
        assert_eq!(rules[0].host.as_deref(), Some("devel.localhost"), "{name}");
    }
    let jobs = ns.api::<Job>();
    let job = jobs.get("devel-user-setup").await.expect("setup job");
    let job_text = serde_json::to_string(&job).expect("job JSON");
    for secret in SECRETS {
        assert!(!job_text.contains(secret), "a credential in the Job spec");
    }
    let first_uid = job.uid().expect("uid");

    // Edit the password and a quota: converges, the Job runs again.
    users
        .patch(
            "devel",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"password": "new-Passw0rd", "redis": {"quota": "100"}}})),
        )
        .await
        .expect("edit the user");
    wait_for(
        &users,
        "devel",
        "user Ready after the edit",
        condition_is("Ready", "True", None),
    )
    .await;
    let rerun = jobs.get("devel-user-setup").await.expect("setup job");
    assert_ne!(
        rerun.uid().as_deref(),
        Some(first_uid.as_str()),
        "the Job ran again"
    );

    // Delete: released within the bound, after the delete Job.
    let uid = users.get("devel").await.expect("user").uid().expect("uid");
    let started = Instant::now();
    users
        .delete("devel", &DeleteParams::default())
        .await
        .expect("delete the user");
    support::wait_deleted(&users, "devel", &uid, "user deleted").await;
    let took = started.elapsed();
    println!("figure: user delete → gone in {took:?}");
    assert!(took < Duration::from_secs(60), "{took:?}");

    // The Whisk goes while the operator runs (its finalizer), then the namespace.
    let whisks = ns.api::<Whisk>();
    let whisk_uid = whisks
        .get("controller")
        .await
        .expect("whisk")
        .uid()
        .expect("uid");
    whisks
        .delete("controller", &DeleteParams::default())
        .await
        .expect("delete the Whisk");
    support::wait_deleted(&whisks, "controller", &whisk_uid, "Whisk deleted").await;
    operator.stop_and_join().await.expect("operator run");
    ns.cleanup().await;
}

#[tokio::test]
async fn workflows_run_their_create_job_report_counts_and_their_delete_job() {
    use nuvolaris_operator::crd::Workflows;
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "e2e-workflows").await;
    let operator = start_operator(&client, &ns.name);
    let wf: Workflows = serde_json::from_value(json!({
        "apiVersion": "nuvolaris.org/v1", "kind": "Workflows",
        "metadata": {"name": "wf", "namespace": ns.name},
        "spec": {"image": "busybox", "env": {"GREETING": "hi"},
                 "workflows": [{"name": "one", "parameters": {"X": "1"}}, {"name": "two"}]},
    }))
    .expect("a Workflows");
    let api = ns.api::<Workflows>();
    api.create(&PostParams::default(), &wf)
        .await
        .expect("create");
    let done = wait_for(&api, "wf", "counts in status", |w: Option<&Workflows>| {
        w.and_then(|w| w.status.as_ref())
            .is_some_and(|s| s.total == Some(2) && s.count == Some(2))
    })
    .await;
    assert!(
        done.finalizers()
            .iter()
            .any(|f| f == "nuvolaris.org/cleanup")
    );
    let jobs = ns.api::<Job>();
    let job = jobs.get("wf-create").await.expect("create job");
    let pod = job.spec.expect("spec").template.spec.expect("pod spec");
    assert_eq!(pod.containers.len(), 2);
    assert_eq!(pod.containers[0].args.clone().unwrap_or_default(), ["X=1"]);

    let uid = done.uid().expect("uid");
    let started = Instant::now();
    api.delete("wf", &DeleteParams::default())
        .await
        .expect("delete");
    support::wait_deleted(&api, "wf", &uid, "workflows deleted").await;
    println!("figure: workflows delete → gone in {:?}", started.elapsed());
    // its Jobs are owned: collected with it
    support::wait_for_list(
        &jobs,
        "group=workflow",
        "workflow jobs collected",
        |items| items.is_empty(),
    )
    .await;
    operator.stop_and_join().await.expect("operator run");
    ns.cleanup().await;
}
