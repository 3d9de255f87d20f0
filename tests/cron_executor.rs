//! `nuvolaris-operator cron` (the action executor) against a real CouchDB-protocol server
//! (pouchdb-server, `tools/testdeps/couchdb.sh`) holding OpenWhisk's whisks and subjects
//! documents, and a STAND-IN for the OpenWhisk REST API that records the invocations
//! (`tests/support/openwhisk_standin.rs`: no real OpenWhisk can run here).
//!
//! Due actions are invoked once, with their namespace's key; the others are not; an action whose
//! cron annotation does not parse is skipped with a warning while the others run; a second run
//! in the same minute invokes nothing; a failed invocation is retried by the next run; autoexec
//! actions run once and get `autoexec: false` with their other annotations kept.

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use nuvolaris_operator::periodic::cron::{CronSettings, RECORD_ID, run_cron};
use nuvolaris_operator::setup::Secret;
use serde_json::{Value, json};
use support::openwhisk_standin::OpenWhiskStandIn;
use support::servers::{PouchDb, random_secret};

const WHISKS: &str = "nuvolaris_whisks";
const SUBJECTS: &str = "nuvolaris_subjects";

fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 8, 6, h, m, s).unwrap()
}

/// A subject document as OpenWhisk's `wskadmin` writes it; returns it and the `uuid:key`.
fn subject(name: &str, blocked: bool) -> (Value, String) {
    let uuid = format!("{:0>8}-0000-4000-8000-{:0>12}", name.len(), name.len());
    let key = random_secret(64);
    let mut doc = json!({
        "_id": name, "subject": name,
        "namespaces": [{"name": name, "uuid": uuid, "key": key}],
    });
    if blocked {
        doc["blocked"] = json!(true);
    }
    (doc, format!("{uuid}:{key}"))
}

/// An action document as the controller stores it in the whisks database.
fn action(id: &str, annotations: Value) -> Value {
    let (namespace, name) = id.rsplit_once('/').expect("ns/name");
    json!({
        "_id": id, "entityType": "action", "namespace": namespace, "name": name,
        "version": "0.0.1", "publish": false, "parameters": [],
        "exec": {"kind": "nodejs:21", "code": "function main() { return {} }", "binary": false},
        "limits": {"timeout": 60000, "memory": 256, "logs": 10, "concurrency": 1},
        "annotations": annotations,
        // created a day before the tests' clock
        "updated": at(16, 0, 0).timestamp_millis() - 86_400_000,
    })
}

fn cron(expression: &str) -> Value {
    json!([{"key": "cron", "value": expression}, {"key": "exec", "value": "nodejs:21"}])
}

/// Captures the log lines of the code under test (current-thread runtime: one thread).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn capture_logs() -> (Logs, tracing::subscriber::DefaultGuard) {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

struct World {
    couchdb: PouchDb,
    openwhisk: OpenWhiskStandIn,
    settings: CronSettings,
    keys: BTreeMap<String, String>,
}

async fn world(actions: &[Value], subjects: &[(&str, bool)]) -> World {
    let couchdb = PouchDb::start();
    couchdb.create_database(WHISKS);
    couchdb.create_database(SUBJECTS);
    let mut keys = BTreeMap::new();
    let mut docs = Vec::new();
    for (name, blocked) in subjects {
        let (doc, auth) = subject(name, *blocked);
        docs.push(doc);
        keys.insert(name.to_string(), auth);
    }
    couchdb.bulk_write(SUBJECTS, &docs);
    // a trigger with a cron annotation, and a rule: not actions
    let mut all = actions.to_vec();
    all.push(
        json!({"_id": "guest/tick", "entityType": "trigger", "namespace": "guest",
                    "name": "tick", "annotations": [{"key": "cron", "value": "* * * * *"}]}),
    );
    couchdb.bulk_write(WHISKS, &all);
    let openwhisk = OpenWhiskStandIn::start(keys.clone()).await;
    let settings = CronSettings::new(
        "* * * * *".into(),
        couchdb.url(),
        couchdb.admin.clone(),
        Secret::new(couchdb.password.clone()),
        openwhisk.url.clone(),
    );
    World {
        couchdb,
        openwhisk,
        settings,
        keys,
    }
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[tokio::test]
async fn due_actions_run_once_with_their_key_others_not_and_a_bad_annotation_only_skips_itself() {
    let (logs, _guard) = capture_logs();
    let w = world(
        &[
            action("guest/every-minute", cron("* * * * *")),
            action("guest/pkg/every-five", cron("*/5 * * * *")),
            action("guest/at-three", cron("3 * * * *")),
            action("guest/broken", cron("every day at noon")),
            action(
                "guest/plain",
                json!([{"key": "exec", "value": "nodejs:21"}]),
            ),
            action(
                "alice/once",
                json!([{"key": "autoexec", "value": true}, {"key": "web-export", "value": true}]),
            ),
            action("mallory/blocked", cron("* * * * *")),
        ],
        &[("guest", false), ("alice", false), ("mallory", true)],
    )
    .await;

    let report = run_cron(&w.settings, at(16, 10, 20)).await.expect("a run");
    assert_eq!(
        w.openwhisk.invocations(),
        counts(&[
            ("alice/actions/once", 1),
            ("guest/actions/every-minute", 1),
            ("guest/actions/pkg/every-five", 1),
        ])
    );
    assert_eq!(
        (
            report.actions,
            report.unparsable,
            report.due,
            report.invoked,
            report.failed
        ),
        (6, 1, 4, 3, 1),
        "{report}"
    );
    for request in w.openwhisk.requests().iter().filter(|r| r.method == "POST") {
        assert_eq!(request.query, "blocking=false&result=false");
    }
    // the stand-in checked each namespace's key: every invocation was authorised
    assert!(w.openwhisk.requests().iter().all(|r| r.status != 401));
    // autoexec: cleared, the other annotations kept
    let update = w
        .openwhisk
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .expect("autoexec cleared");
    assert_eq!(update.path, "alice/actions/once");
    assert_eq!(update.query, "overwrite=true");
    assert_eq!(
        update.body["annotations"],
        json!([{"key": "web-export", "value": true}, {"key": "autoexec", "value": false}])
    );
    // the bad annotation was reported with the action's name; no key was ever logged
    let text = logs.text();
    assert!(
        text.lines().any(|l| l.contains("WARN")
            && l.contains("guest/broken")
            && l.contains("cron annotation skipped")),
        "{text}"
    );
    for auth in w.keys.values() {
        let key = auth.split_once(':').unwrap().1;
        assert!(!text.contains(key), "a key was logged");
    }

    // the same minute again: nothing more (the blocked namespace's claim was given back)
    let again = run_cron(&w.settings, at(16, 10, 50)).await.expect("a run");
    assert_eq!((again.invoked, again.due), (0, 1), "{again}");
    assert_eq!(w.openwhisk.invocations().values().sum::<usize>(), 3);

    // the next minute: the every-minute action only (autoexec ran for this revision already)
    let next = run_cron(&w.settings, at(16, 11, 5)).await.expect("a run");
    assert_eq!(next.invoked, 1, "{next}");
    assert_eq!(w.openwhisk.invocations()["guest/actions/every-minute"], 2);

    // the record is a local document of the whisks database, keyed by action
    let record = w
        .couchdb
        .get(&format!("/{WHISKS}/{RECORD_ID}"))
        .expect("the run record");
    assert_eq!(
        record["last_run"]["guest/every-minute"],
        "2026-08-06T16:11:00Z"
    );
    assert_eq!(
        record["last_run"]["guest/pkg/every-five"],
        "2026-08-06T16:10:00Z"
    );
    assert!(
        record["last_run"].get("mallory/blocked").is_none(),
        "released"
    );
    assert!(record["autoexec"]["alice/once"].is_string());
}

#[tokio::test]
async fn a_failed_invocation_is_retried_by_the_next_run_and_a_missed_tick_is_caught_up_once() {
    let w = world(
        &[
            action("guest/flaky", cron("* * * * *")),
            action("guest/at-nine", cron("9 * * * *")),
        ],
        &[("guest", false)],
    )
    .await;
    w.openwhisk.fail_next("guest/actions/flaky", 502);
    // 16:10: at-nine fired at 16:09, a tick this executor missed: caught up now
    let first = run_cron(&w.settings, at(16, 10, 3)).await.expect("a run");
    assert_eq!((first.invoked, first.failed), (1, 1), "{first}");
    let second = run_cron(&w.settings, at(16, 10, 30)).await.expect("a run");
    assert_eq!((second.invoked, second.failed), (1, 0), "{second}");
    assert_eq!(
        w.openwhisk.invocations(),
        counts(&[("guest/actions/at-nine", 1), ("guest/actions/flaky", 1)])
    );
    // 16:11: at-nine does not run twice for its 16:09 due time
    run_cron(&w.settings, at(16, 11, 3)).await.expect("a run");
    assert_eq!(w.openwhisk.invocations()["guest/actions/at-nine"], 1);
}

#[tokio::test]
async fn concurrent_runs_in_the_same_minute_invoke_each_due_action_once() {
    let actions: Vec<Value> = (0..40)
        .map(|i| action(&format!("guest/a{i:02}"), cron("* * * * *")))
        .collect();
    let w = world(&actions, &[("guest", false)]).await;
    let (one, two) = tokio::join!(
        run_cron(&w.settings, at(16, 10, 1)),
        run_cron(&w.settings, at(16, 10, 2)),
    );
    let (one, two) = (one.expect("a run"), two.expect("a run"));
    assert_eq!(one.invoked + two.invoked, 40, "{one} / {two}");
    assert!(w.openwhisk.invocations().values().all(|n| *n == 1));
}

#[tokio::test]
async fn the_unreachable_api_fails_the_invocations_not_the_run_and_nothing_is_lost() {
    let mut w = world(&[action("guest/a", cron("* * * * *"))], &[("guest", false)]).await;
    w.settings.api_host = format!("http://127.0.0.1:{}", support::servers::free_port());
    w.settings.timeout = Duration::from_secs(2);
    let report = run_cron(&w.settings, at(16, 10, 0)).await.expect("a run");
    assert_eq!((report.due, report.failed), (1, 1), "{report}");
    let record = w.couchdb.get(&format!("/{WHISKS}/{RECORD_ID}"));
    assert!(
        record.is_none_or(|r| r["last_run"].get("guest/a").is_none()),
        "the claim was given back"
    );
}

/// The figure: one run over 1,000 scheduled actions in 100 namespaces (half of them due).
#[tokio::test]
async fn figure_one_run_with_1000_actions() {
    let subjects: Vec<String> = (0..100).map(|i| format!("ns{i:03}")).collect();
    let subject_refs: Vec<(&str, bool)> = subjects.iter().map(|s| (s.as_str(), false)).collect();
    let actions: Vec<Value> = (0..1000)
        .map(|i| {
            let expression = if i % 2 == 0 { "* * * * *" } else { "0 0 1 1 *" };
            action(&format!("ns{:03}/action{i:04}", i % 100), cron(expression))
        })
        .collect();
    let w = world(&actions, &subject_refs).await;
    let started = Instant::now();
    let report = run_cron(&w.settings, at(16, 10, 0)).await.expect("a run");
    let elapsed = started.elapsed();
    assert_eq!(
        (report.actions, report.due, report.invoked),
        (1000, 500, 500),
        "{report}"
    );
    let again = Instant::now();
    let idle = run_cron(&w.settings, at(16, 10, 30)).await.expect("a run");
    assert_eq!(idle.invoked, 0);
    eprintln!(
        "figure: cron run, 1000 actions (500 due) in 100 namespaces on pouchdb-server: {} ms; \
         the same minute again (nothing due): {} ms",
        elapsed.as_millis(),
        again.elapsed().as_millis()
    );
}
