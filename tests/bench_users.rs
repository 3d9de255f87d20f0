//! Benchmark (ignored by default, prints figures, asserts no timing): 100 WhiskUsers created at
//! once on the local control plane (kwok completes their setup Jobs) with the operator running
//! in this process on the minimal installation. Prints the time until all are Ready, the
//! process RSS before and after (this process: the operator, its watch caches, and the test's
//! own client), and the API writes of a no-op user reconcile (the operator's count and the
//! writes its client sent).
//!
//! Run: `bash tools/cluster/cluster.sh up && cargo test --test bench_users -- --ignored --nocapture`

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use futures::{StreamExt, TryStreamExt};
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use nuvolaris_operator::controller::{self, ControllerOptions};
use nuvolaris_operator::crd::{Whisk, WhiskUser};
use nuvolaris_operator::health::Health;
use nuvolaris_operator::metrics::Metrics;
use serde_json::{Value, json};
use support::TestNamespace;
use support::requests::counting_client;

const USERS: usize = 100;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn is_ready(u: &WhiskUser) -> bool {
    let generation = u.metadata.generation.unwrap_or_default();
    serde_json::to_value(&u.status).expect("status")["conditions"]
        .as_array()
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c["type"] == "Ready"
                    && c["status"] == "True"
                    && c["observedGeneration"].as_i64() == Some(generation)
            })
        })
}

fn user(i: usize, namespace: &str) -> WhiskUser {
    serde_json::from_value(json!({
        "apiVersion": "nuvolaris.org/v1", "kind": "WhiskUser",
        "metadata": {"name": format!("user{i:03}"), "namespace": namespace},
        "spec": {
            "email": format!("user{i:03}@example.com"),
            "password": format!("pw-{i}"),
            "namespace": format!("user{i:03}"),
            "auth": format!("{i:08}-0000-0000-0000-000000000000:{}", "k".repeat(64)),
        },
    }))
    .expect("a WhiskUser")
}

#[tokio::test]
#[ignore = "benchmark: run by name with --ignored"]
async fn bench_100_users_at_once() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "bench-users").await;
    let (operator_client, requests) = counting_client().await;
    let metrics = Arc::new(Metrics::new());
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let operator = tokio::spawn(controller::run(
        operator_client,
        ControllerOptions::new(Some(ns.name.clone())),
        Arc::new(Health::default()),
        metrics.clone(),
        async move {
            let _ = stopped.wait_for(|s| *s).await;
        },
    ));

    let sample = std::fs::read_to_string(support::repo_root().join("deploy/samples/minimal.yaml"))
        .expect("read sample");
    let mut cr: Value = serde_yaml_ng::from_str(&sample).expect("sample is YAML");
    cr["metadata"]["namespace"] = json!(ns.name);
    let cr: Whisk = serde_json::from_value(cr).expect("sample is a Whisk");
    ns.api::<Whisk>()
        .create(&PostParams::default(), &cr)
        .await
        .expect("create the Whisk");

    let users = ns.api::<WhiskUser>();
    let rss_before = rss_kib();
    let writes_before = metrics.api_writes.get();
    let started = Instant::now();
    let creates = (0..USERS).map(|i| {
        let users = users.clone();
        let u = user(i, &ns.name);
        async move { users.create(&PostParams::default(), &u).await }
    });
    for created in futures::future::join_all(creates).await {
        created.expect("create a user");
    }
    let created_in = started.elapsed();

    // all Ready: a watch, no polling
    let mut ready = BTreeSet::new();
    let mut stream = watcher(users.clone(), watcher::Config::default())
        .applied_objects()
        .boxed();
    let limit = std::time::Duration::from_secs(600);
    tokio::time::timeout(limit, async {
        while let Some(u) = stream.try_next().await.expect("watch") {
            if is_ready(&u) {
                ready.insert(u.metadata.name.clone().unwrap_or_default());
            }
            if ready.len() == USERS {
                break;
            }
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "only {} of {USERS} users Ready within {limit:?}",
            ready.len()
        )
    });
    let all_ready = started.elapsed();
    let rss_after = rss_kib();
    let writes_for_users = metrics.api_writes.get() - writes_before;

    // no-op reconciles of one user: poke it, wait for a reconcile; the first poke lets what
    // is still in flight settle, the next three are measured
    let mut no_op = Vec::new();
    for poke in 0..4 {
        let mut reconciles = metrics.subscribe_reconciles();
        let settled = *reconciles.borrow();
        let writes_before = metrics.api_writes.get();
        let requests_before = requests.snapshot();
        users
            .patch(
                "user000",
                &PatchParams::default(),
                &Patch::Merge(
                    json!({"metadata": {"annotations": {"test/poke": poke.to_string()}}}),
                ),
            )
            .await
            .expect("poke");
        tokio::time::timeout(support::WAIT_TIMEOUT, reconciles.wait_for(|n| *n > settled))
            .await
            .expect("a reconcile after the poke")
            .expect("metrics");
        if poke > 0 {
            no_op.push((
                metrics.api_writes.get() - writes_before,
                requests.since(&requests_before, "write"),
            ));
        }
    }
    let no_op_writes: Vec<u64> = no_op.iter().map(|(w, _)| *w).collect();
    let no_op_client_writes: Vec<u64> = no_op.iter().map(|(_, w)| *w).collect();

    println!(
        "FIGURE {USERS} WhiskUsers created at once (kwok, minimal Whisk): created in {created_in:?}, all Ready after {all_ready:?}; operator API writes for them: {writes_for_users} ({:.1} per user); test-process RSS {} MiB before, {} MiB after; no-op user reconciles: {no_op_writes:?} writes counted, {no_op_client_writes:?} sent by the client",
        writes_for_users as f64 / USERS as f64,
        rss_before / 1024,
        rss_after / 1024,
    );

    let _ = stop.send(true);
    let _ = operator.await;
    ns.cleanup().await;
}
