//! `nuvolaris-operator cron`: the action executor, run by the CronJob `cron-init` on the
//! schedule `scheduler.schedule` (every minute by default). The port of the original's
//! `actionexecutor` (inventory-components §6):
//!
//! 1. `POST /<prefix>whisks/_find` (as the controller's CouchDB user) for the actions with a
//!    `cron` annotation or `autoexec: true`, page by page;
//! 2. an action is *due* when its cron expression fired at a minute `F` with
//!    `tick - 2·interval < F ≤ tick` (`tick`: now, to the minute; `interval`: how often this
//!    executor runs), `F` not before the action's last update, and `F` later than the last run
//!    recorded for it; an `autoexec: true` action is due once per document revision;
//! 3. the due runs are *claimed* first: written to the record `_local/nuvolaris-cron` of the
//!    whisks database (a local document: not replicated, not seen by `_find` or OpenWhisk) with
//!    the revision CouchDB checks, so a concurrent or repeated run in the same minute finds them
//!    taken — each due time runs at most once, and a tick the executor missed is caught up
//!    once by the next one;
//! 4. the subjects database gives each namespace's `uuid:key`; each due action is invoked with it,
//!    `POST /api/v1/namespaces/<ns>/actions/[<pkg>/]<name>?blocking=false&result=false`, at most
//!    `CRON_CONCURRENCY` at a time; an `autoexec` action then gets `autoexec: false` (its other
//!    annotations kept);
//! 5. claims whose invocation failed are given back, so the next run retries them.
//!
//! Bounded: one deadline for the whole run, a timeout per request, at most `CRON_MAX_ACTIONS`
//! actions read. An annotation that does not parse skips that action with a warning naming it;
//! the others still run. Keys are held in [`Secret`] and never logged.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use futures::StreamExt;
use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use super::schedule::{Schedule, minute_of};
use super::{PeriodicTask, TaskSettings};
use crate::setup::http::{JsonClient, basic_auth, encode_segment};
use crate::setup::{Env, EnvVar, Secret, SetupEnv, SetupError, optional, required};

/// The environment of `nuvolaris-operator cron` (see [`CronSettings`]).
pub const CRON_ENV: &[EnvVar] = &[
    optional("CRON_SCHEDULE", DEFAULT_SCHEDULE),
    optional("COUCHDB_URL", DEFAULT_COUCHDB_URL),
    required("COUCHDB_USER", false),
    required("COUCHDB_PASSWORD", true),
    optional("COUCHDB_DB_PREFIX", DEFAULT_PREFIX),
    optional("OPENWHISK_API_HOST", DEFAULT_API_HOST),
    optional("CRON_DEADLINE_SECONDS", "50"),
    optional("CRON_TIMEOUT_SECONDS", "10"),
    optional("CRON_CONCURRENCY", "16"),
    optional("CRON_MAX_ACTIONS", "10000"),
];

pub const DEFAULT_SCHEDULE: &str = "* * * * *";
const DEFAULT_COUCHDB_URL: &str = "http://couchdb:5984";
const DEFAULT_PREFIX: &str = "nuvolaris_";
const DEFAULT_API_HOST: &str = "http://controller:3233";
const DEFAULT_DEADLINE: Duration = Duration::from_secs(50);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_CONCURRENCY: usize = 16;
const DEFAULT_MAX_ACTIONS: usize = 10_000;

/// The record of the runs, a local document of the whisks database.
pub const RECORD_ID: &str = "_local/nuvolaris-cron";
/// Documents asked per `_find` page.
const PAGE: usize = 500;
/// Attempts to write the record against concurrent writers.
const RECORD_ATTEMPTS: u32 = 5;

/// Settings of `nuvolaris-operator cron`.
///
/// | env var | default | meaning |
/// |---|---|---|
/// | `CRON_SCHEDULE` | `* * * * *` | this executor's own schedule (how far back a run looks) |
/// | `COUCHDB_URL` | `http://couchdb:5984` | CouchDB |
/// | `COUCHDB_USER` | required | the controller's CouchDB user |
/// | `COUCHDB_PASSWORD` | required (secret) | its password |
/// | `COUCHDB_DB_PREFIX` | `nuvolaris_` | prefix of the whisks and subjects databases |
/// | `OPENWHISK_API_HOST` | `http://controller:3233` | the OpenWhisk REST API |
/// | `CRON_DEADLINE_SECONDS` | `50` | deadline of the whole run |
/// | `CRON_TIMEOUT_SECONDS` | `10` | timeout of one request |
/// | `CRON_CONCURRENCY` | `16` | invocations in flight at once |
/// | `CRON_MAX_ACTIONS` | `10000` | most actions read in one run |
#[derive(Debug, Clone, PartialEq)]
pub struct CronSettings {
    pub schedule: String,
    pub couchdb_url: String,
    pub couchdb_user: String,
    pub couchdb_password: Secret,
    pub db_prefix: String,
    pub api_host: String,
    pub deadline: Duration,
    pub timeout: Duration,
    pub concurrency: usize,
    pub max_actions: usize,
}

impl CronSettings {
    /// Settings with the command's defaults for everything the operator does not choose.
    pub fn new(
        schedule: String,
        couchdb_url: String,
        couchdb_user: String,
        couchdb_password: Secret,
        api_host: String,
    ) -> CronSettings {
        CronSettings {
            schedule,
            couchdb_url,
            couchdb_user,
            couchdb_password,
            db_prefix: DEFAULT_PREFIX.to_owned(),
            api_host,
            deadline: DEFAULT_DEADLINE,
            timeout: DEFAULT_TIMEOUT,
            concurrency: DEFAULT_CONCURRENCY,
            max_actions: DEFAULT_MAX_ACTIONS,
        }
    }
}

impl TaskSettings for CronSettings {
    const TASK: PeriodicTask = PeriodicTask::Cron;

    fn to_env(&self) -> SetupEnv<PeriodicTask> {
        SetupEnv::new(Self::TASK)
            .value("CRON_SCHEDULE", &self.schedule)
            .value("COUCHDB_URL", &self.couchdb_url)
            .value("COUCHDB_USER", &self.couchdb_user)
            .tuning("COUCHDB_DB_PREFIX", self.db_prefix.as_str(), DEFAULT_PREFIX)
            .value("OPENWHISK_API_HOST", &self.api_host)
            .tuning(
                "CRON_DEADLINE_SECONDS",
                self.deadline.as_secs(),
                DEFAULT_DEADLINE.as_secs(),
            )
            .tuning(
                "CRON_TIMEOUT_SECONDS",
                self.timeout.as_secs(),
                DEFAULT_TIMEOUT.as_secs(),
            )
            .tuning("CRON_CONCURRENCY", self.concurrency, DEFAULT_CONCURRENCY)
            .tuning("CRON_MAX_ACTIONS", self.max_actions, DEFAULT_MAX_ACTIONS)
            .secret("COUCHDB_PASSWORD", &self.couchdb_password)
    }

    fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, SetupError> {
        let vars: BTreeMap<String, String> = vars.into_iter().collect();
        let env = Env(|k: &str| vars.get(k).cloned());
        let schedule = env.or("CRON_SCHEDULE", DEFAULT_SCHEDULE);
        Schedule::parse(&schedule).map_err(|reason| SetupError::InvalidEnv {
            name: "CRON_SCHEDULE",
            reason,
        })?;
        Ok(CronSettings {
            schedule,
            couchdb_url: http_url(&env, "COUCHDB_URL", DEFAULT_COUCHDB_URL)?,
            couchdb_user: env.required("COUCHDB_USER")?,
            couchdb_password: env.secret("COUCHDB_PASSWORD")?,
            db_prefix: env.or("COUCHDB_DB_PREFIX", DEFAULT_PREFIX),
            api_host: http_url(&env, "OPENWHISK_API_HOST", DEFAULT_API_HOST)?,
            deadline: env.seconds("CRON_DEADLINE_SECONDS", DEFAULT_DEADLINE.as_secs())?,
            timeout: env.seconds("CRON_TIMEOUT_SECONDS", DEFAULT_TIMEOUT.as_secs())?,
            concurrency: positive(&env, "CRON_CONCURRENCY", DEFAULT_CONCURRENCY)?,
            max_actions: positive(&env, "CRON_MAX_ACTIONS", DEFAULT_MAX_ACTIONS)?,
        })
    }
}

/// An `http://host:port` URL without credentials.
pub(crate) fn http_url<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    name: &'static str,
    default: &str,
) -> Result<String, SetupError> {
    let url = env.or(name, default);
    let authority = url.strip_prefix("http://").unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return Err(SetupError::InvalidEnv {
            name,
            reason: "expected http://host:port without credentials".into(),
        });
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// A whole number above zero.
pub(crate) fn positive<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    name: &'static str,
    default: usize,
) -> Result<usize, SetupError> {
    match env.opt(name) {
        None => Ok(default),
        Some(v) => {
            v.parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| SetupError::InvalidEnv {
                    name,
                    reason: format!("expected a whole number above zero, got {v:?}"),
                })
        }
    }
}

/// Why a run failed as a whole (one action's failure is counted in the report instead).
#[derive(Debug, thiserror::Error)]
pub enum CronError {
    #[error(transparent)]
    Request(#[from] SetupError),
    #[error("the run did not finish within {0:?}")]
    Deadline(Duration),
    #[error("the run record {RECORD_ID} kept changing under concurrent runs")]
    RecordConflict,
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CronReport {
    /// Actions read with a `cron` or `autoexec` annotation.
    pub actions: usize,
    /// Skipped: their `cron` annotation does not parse.
    pub unparsable: usize,
    /// Due and claimed by this run.
    pub due: usize,
    pub invoked: usize,
    pub failed: usize,
    pub elapsed: Duration,
}

impl fmt::Display for CronReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} scheduled actions, {} due: {} invoked, {} failed, {} with an unparsable cron annotation ({} ms)",
            self.actions,
            self.due,
            self.invoked,
            self.failed,
            self.unparsable,
            self.elapsed.as_millis()
        )
    }
}

/// Why an action is due.
#[derive(Debug, Clone, PartialEq)]
enum Due {
    /// Its cron expression fired at this minute.
    Cron(DateTime<Utc>),
    /// `autoexec: true` in this revision of the document.
    Autoexec(String),
}

/// One action with a `cron` or `autoexec` annotation.
#[derive(Debug, Clone)]
struct ScheduledAction {
    /// The document id, `<namespace>/[<package>/]<name>`.
    id: String,
    /// `<subject namespace>` or `<subject namespace>/<package>`.
    namespace: String,
    name: String,
    annotations: Vec<Value>,
    due: Due,
}

/// The run record: the latest due time run per action, the autoexec revision run per action.
#[derive(Debug, Clone, Default, PartialEq)]
struct Record {
    rev: Option<String>,
    last_run: BTreeMap<String, String>,
    autoexec: BTreeMap<String, String>,
}

impl Record {
    fn already_ran(&self, action: &ScheduledAction) -> bool {
        match &action.due {
            Due::Cron(fire) => self
                .last_run
                .get(&action.id)
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .is_some_and(|t| t.with_timezone(&Utc) >= *fire),
            Due::Autoexec(rev) => self.autoexec.get(&action.id) == Some(rev),
        }
    }

    fn mark(&mut self, action: &ScheduledAction) {
        match &action.due {
            Due::Cron(fire) => {
                self.last_run.insert(action.id.clone(), rfc3339(*fire));
            }
            Due::Autoexec(rev) => {
                self.autoexec.insert(action.id.clone(), rev.clone());
            }
        }
    }

    /// Gives back the claim of `action` (to `before`'s value) when it is still ours.
    fn release(&mut self, action: &ScheduledAction, before: &Record) {
        let mut mine = Record::default();
        mine.mark(action);
        let (now, claimed, previous) = match &action.due {
            Due::Cron(_) => (
                &mut self.last_run,
                mine.last_run.remove(&action.id),
                before.last_run.get(&action.id),
            ),
            Due::Autoexec(_) => (
                &mut self.autoexec,
                mine.autoexec.remove(&action.id),
                before.autoexec.get(&action.id),
            ),
        };
        if now.get(&action.id) == claimed.as_ref() {
            match previous {
                Some(value) => now.insert(action.id.clone(), value.clone()),
                None => now.remove(&action.id),
            };
        }
    }

    fn to_json(&self) -> Value {
        let mut doc = json!({
            "_id": RECORD_ID,
            "last_run": self.last_run,
            "autoexec": self.autoexec,
        });
        if let Some(rev) = &self.rev {
            doc["_rev"] = json!(rev);
        }
        doc
    }

    fn from_json(doc: &Value) -> Record {
        let strings = |field: &str| -> BTreeMap<String, String> {
            doc.get(field)
                .and_then(Value::as_object)
                .map(|o| {
                    o.iter()
                        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                        .collect()
                })
                .unwrap_or_default()
        };
        Record {
            rev: doc.get("_rev").and_then(Value::as_str).map(str::to_owned),
            last_run: strings("last_run"),
            autoexec: strings("autoexec"),
        }
    }
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Runs the executor once for the time `now`.
pub async fn run_cron(
    settings: &CronSettings,
    now: DateTime<Utc>,
) -> Result<CronReport, CronError> {
    let started = Instant::now();
    let mut report = tokio::time::timeout(settings.deadline, run(settings, now))
        .await
        .map_err(|_| CronError::Deadline(settings.deadline))??;
    report.elapsed = started.elapsed();
    Ok(report)
}

async fn run(settings: &CronSettings, now: DateTime<Utc>) -> Result<CronReport, CronError> {
    let own = Schedule::parse(&settings.schedule).map_err(|reason| SetupError::InvalidEnv {
        name: "CRON_SCHEDULE",
        reason,
    })?;
    let tick = minute_of(now);
    let interval = own
        .interval_after(tick)
        .unwrap_or_else(|| chrono::Duration::minutes(1));
    // one missed tick is caught up; the record keeps every due time to one run
    let since = tick - interval * 2;
    let couchdb = JsonClient::new(
        &settings.couchdb_url,
        &settings.couchdb_user,
        &settings.couchdb_password,
        settings.timeout,
    );
    let whisks = format!("{}whisks", settings.db_prefix);
    let mut report = CronReport::default();

    // the original's selector, its `$and` written implicitly (the same Mango query, which
    // PouchDB's Mango also runs)
    let selector = json!({
        "entityType": "action",
        "$or": [
            {"annotations": {"$elemMatch": {"key": "cron"}}},
            {"annotations": {"$elemMatch": {"key": "autoexec", "value": true}}},
        ],
    });
    let fields = ["_id", "_rev", "name", "namespace", "annotations", "updated"];
    let (documents, complete) =
        find_all(&couchdb, &whisks, selector, &fields, settings.max_actions).await?;
    report.actions = documents.len();
    let mut scheduled = Vec::new();
    for document in &documents {
        match scheduled_action(document, tick, since) {
            Ok(Some(action)) => scheduled.push(action),
            Ok(None) => {}
            Err(problem) => {
                report.unparsable += 1;
                tracing::warn!(action = %problem.action, reason = %problem.reason, "cron annotation skipped");
            }
        }
    }
    let present: BTreeSet<&str> = documents
        .iter()
        .filter_map(|d| d.get("_id").and_then(Value::as_str))
        .collect();

    let (claimed, before) =
        claim(&couchdb, &whisks, &scheduled, complete.then_some(&present)).await?;
    report.due = claimed.len();
    if claimed.is_empty() {
        return Ok(report);
    }

    let keys = subject_keys(&couchdb, settings).await?;
    let openwhisk = JsonClient::new(&settings.api_host, "", &Secret::default(), settings.timeout);
    let outcomes: Vec<(ScheduledAction, Result<(), String>)> = futures::stream::iter(claimed)
        .map(|action| {
            let (openwhisk, keys) = (&openwhisk, &keys);
            async move {
                let result = invoke(openwhisk, keys, &action).await;
                (action, result)
            }
        })
        .buffer_unordered(settings.concurrency)
        .collect()
        .await;
    let mut failed = Vec::new();
    for (action, result) in outcomes {
        match result {
            Ok(()) => report.invoked += 1,
            Err(reason) => {
                tracing::warn!(action = %action.id, %reason, "invocation failed: the next run retries it");
                failed.push(action);
            }
        }
    }
    report.failed = failed.len();
    if !failed.is_empty() {
        release(&couchdb, &whisks, &failed, &before).await?;
    }
    Ok(report)
}

/// An annotation that makes no sense: skipped, with the action named.
#[derive(Debug)]
struct Unparsable {
    action: String,
    reason: String,
}

/// The action of `document` if it is due at `tick` (its fire time after `since`), `None` if not.
fn scheduled_action(
    document: &Value,
    tick: DateTime<Utc>,
    since: DateTime<Utc>,
) -> Result<Option<ScheduledAction>, Unparsable> {
    let text = |field: &str| {
        document
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let id = text("_id").to_owned();
    let unparsable = |reason: String| Unparsable {
        action: id.clone(),
        reason,
    };
    let (namespace, name) = (text("namespace"), text("name"));
    if namespace.is_empty() || name.is_empty() {
        return Err(unparsable("the document has no namespace or name".into()));
    }
    let annotations: Vec<Value> = document
        .get("annotations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let annotation = |key: &str| {
        annotations
            .iter()
            .find(|a| a.get("key").and_then(Value::as_str) == Some(key))
            .and_then(|a| a.get("value"))
    };
    // autoexec wins over cron, as in the original
    let due = if annotation("autoexec") == Some(&Value::Bool(true)) {
        Due::Autoexec(text("_rev").to_owned())
    } else {
        let Some(expression) = annotation("cron") else {
            return Ok(None);
        };
        let expression = expression
            .as_str()
            .ok_or_else(|| unparsable(format!("cron annotation {expression} is not a string")))?;
        let schedule = Schedule::parse(expression).map_err(unparsable)?;
        let Some(fire) = schedule.latest_at_or_before(tick) else {
            return Ok(None);
        };
        // an action created or changed after the fire time did not exist as such then
        let updated = document
            .get("updated")
            .and_then(Value::as_i64)
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single());
        if fire <= since || updated.is_some_and(|u| fire < u) {
            return Ok(None);
        }
        Due::Cron(fire)
    };
    Ok(Some(ScheduledAction {
        id,
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        annotations,
        due,
    }))
}

/// Every document matching `selector`, page by page (CouchDB's `bookmark`, or `skip` where the
/// server gives none), at most `max`; and whether the list is complete.
async fn find_all(
    couchdb: &JsonClient,
    database: &str,
    selector: Value,
    fields: &[&str],
    max: usize,
) -> Result<(Vec<Value>, bool), SetupError> {
    let step = format!("find in {database}");
    let path = format!("/{}/_find", encode_segment(database));
    let mut documents = Vec::new();
    let mut bookmark: Option<String> = None;
    loop {
        let limit = PAGE.min(max - documents.len());
        let mut query = json!({"selector": selector, "fields": fields, "limit": limit});
        match &bookmark {
            Some(b) => query["bookmark"] = json!(b),
            None if !documents.is_empty() => query["skip"] = json!(documents.len()),
            None => {}
        }
        let response = couchdb
            .send(&step, Method::POST, &path, Some(&query))
            .await?;
        if response.status != StatusCode::OK {
            return Err(response.into_error(&step));
        }
        let page = response
            .body
            .get("docs")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let last = page.len() < limit;
        documents.extend(page);
        bookmark = response
            .body
            .get("bookmark")
            .and_then(Value::as_str)
            .filter(|b| !b.is_empty() && *b != "nil")
            .map(str::to_owned);
        if last {
            return Ok((documents, true));
        }
        if documents.len() >= max {
            tracing::warn!(
                database,
                max,
                "more scheduled actions than CRON_MAX_ACTIONS: the rest wait for the next run"
            );
            return Ok((documents, false));
        }
    }
}

async fn read_record(couchdb: &JsonClient, whisks: &str) -> Result<Record, SetupError> {
    let step = "read the run record";
    let path = format!("/{}/{RECORD_ID}", encode_segment(whisks));
    let response = couchdb.send(step, Method::GET, &path, None).await?;
    match response.status {
        StatusCode::OK => Ok(Record::from_json(&response.body)),
        StatusCode::NOT_FOUND => Ok(Record::default()),
        _ => Err(response.into_error(step)),
    }
}

/// Writes `record`; `Ok(false)` when someone else wrote it first (409).
async fn write_record(
    couchdb: &JsonClient,
    whisks: &str,
    record: &Record,
) -> Result<bool, SetupError> {
    let step = "write the run record";
    let path = format!("/{}/{RECORD_ID}", encode_segment(whisks));
    let response = couchdb
        .send(step, Method::PUT, &path, Some(&record.to_json()))
        .await?;
    match response.status {
        StatusCode::OK | StatusCode::CREATED | StatusCode::ACCEPTED => Ok(true),
        StatusCode::CONFLICT => Ok(false),
        _ => Err(response.into_error(step)),
    }
}

/// Claims the due runs among `scheduled` in the record (dropping entries of actions no longer
/// `present`, when the list is complete); returns them with the record as it was before.
async fn claim(
    couchdb: &JsonClient,
    whisks: &str,
    scheduled: &[ScheduledAction],
    present: Option<&BTreeSet<&str>>,
) -> Result<(Vec<ScheduledAction>, Record), CronError> {
    for _ in 0..RECORD_ATTEMPTS {
        let before = read_record(couchdb, whisks).await?;
        let due: Vec<ScheduledAction> = scheduled
            .iter()
            .filter(|a| !before.already_ran(a))
            .cloned()
            .collect();
        let mut after = before.clone();
        if let Some(present) = present {
            after.last_run.retain(|id, _| present.contains(id.as_str()));
            after.autoexec.retain(|id, _| present.contains(id.as_str()));
        }
        for action in &due {
            after.mark(action);
        }
        if after == before {
            return Ok((due, before));
        }
        if write_record(couchdb, whisks, &after).await? {
            return Ok((due, before));
        }
    }
    Err(CronError::RecordConflict)
}

/// Gives back the claims of `failed`.
async fn release(
    couchdb: &JsonClient,
    whisks: &str,
    failed: &[ScheduledAction],
    before: &Record,
) -> Result<(), CronError> {
    for _ in 0..RECORD_ATTEMPTS {
        let mut record = read_record(couchdb, whisks).await?;
        let current = record.clone();
        for action in failed {
            record.release(action, before);
        }
        if record == current || write_record(couchdb, whisks, &record).await? {
            return Ok(());
        }
    }
    Err(CronError::RecordConflict)
}

/// `uuid` and key of every namespace of the subjects database (blocked subjects left out).
async fn subject_keys(
    couchdb: &JsonClient,
    settings: &CronSettings,
) -> Result<HashMap<String, (String, Secret)>, SetupError> {
    let subjects = format!("{}subjects", settings.db_prefix);
    let (documents, _) = find_all(
        couchdb,
        &subjects,
        json!({"subject": {"$exists": true}}),
        &["namespaces", "blocked"],
        usize::MAX,
    )
    .await?;
    let mut keys = HashMap::new();
    for document in documents {
        if document.get("blocked") == Some(&Value::Bool(true)) {
            continue;
        }
        let namespaces = document.get("namespaces").and_then(Value::as_array);
        for namespace in namespaces.into_iter().flatten() {
            let field = |f: &str| namespace.get(f).and_then(Value::as_str);
            if let (Some(name), Some(uuid), Some(key)) =
                (field("name"), field("uuid"), field("key"))
            {
                keys.insert(name.to_owned(), (uuid.to_owned(), Secret::new(key)));
            }
        }
    }
    Ok(keys)
}

/// Invokes `action` (non-blocking) with its namespace's key; an autoexec action then gets
/// `autoexec: false`. The error names the status, never the key.
async fn invoke(
    openwhisk: &JsonClient,
    keys: &HashMap<String, (String, Secret)>,
    action: &ScheduledAction,
) -> Result<(), String> {
    let (subject, package) = match action.namespace.split_once('/') {
        Some((subject, package)) => (subject, Some(package)),
        None => (action.namespace.as_str(), None),
    };
    let (uuid, key) = keys
        .get(subject)
        .ok_or_else(|| format!("no key for the namespace {subject} in the subjects database"))?;
    let authorization = basic_auth(uuid, key);
    let mut path = format!("/api/v1/namespaces/{}/actions/", encode_segment(subject));
    if let Some(package) = package {
        let segments: Vec<String> = package.split('/').map(encode_segment).collect();
        path.push_str(&segments.join("/"));
        path.push('/');
    }
    path.push_str(&encode_segment(&action.name));
    let step = format!("invoke {}", action.id);
    let response = openwhisk
        .send_as(
            &step,
            Method::POST,
            &format!("{path}?blocking=false&result=false"),
            Some(&json!({})),
            &authorization,
        )
        .await
        .map_err(|e| e.to_string())?;
    if !matches!(response.status, StatusCode::OK | StatusCode::ACCEPTED) {
        return Err(format!(
            "HTTP {}: {}",
            response.status.as_u16(),
            response.snippet()
        ));
    }
    if let Due::Autoexec(_) = action.due {
        // the original replaced every annotation with this one; the others are kept here
        let mut annotations: Vec<Value> = action
            .annotations
            .iter()
            .filter(|a| a.get("key").and_then(Value::as_str) != Some("autoexec"))
            .cloned()
            .collect();
        annotations.push(json!({"key": "autoexec", "value": false}));
        let step = format!("unschedule {}", action.id);
        let response = openwhisk
            .send_as(
                &step,
                Method::PUT,
                &format!("{path}?overwrite=true"),
                Some(&json!({"annotations": annotations})),
                &authorization,
            )
            .await
            .map_err(|e| e.to_string())?;
        if response.status != StatusCode::OK {
            return Err(format!(
                "invoked, but autoexec not cleared: HTTP {}: {}",
                response.status.as_u16(),
                response.snippet()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> CronSettings {
        CronSettings::new(
            "*/2 * * * *".into(),
            "http://couchdb:5984".into(),
            "controller_admin".into(),
            Secret::new("pw with spaces "),
            "http://controller:3233".into(),
        )
    }

    #[test]
    fn settings_round_trip() {
        crate::periodic::tests::assert_round_trip(&settings());
        let mut tuned = settings();
        tuned.db_prefix = "tenant_".into();
        tuned.concurrency = 3;
        tuned.max_actions = 7;
        tuned.deadline = Duration::from_secs(20);
        crate::periodic::tests::assert_round_trip(&tuned);
    }

    #[test]
    fn bad_settings_name_the_variable() {
        let mut vars = settings().to_env().vars();
        vars.push(("CRON_SCHEDULE".into(), "every minute".into()));
        let err = CronSettings::from_vars(vars).unwrap_err();
        assert!(err.to_string().contains("CRON_SCHEDULE"), "{err}");
        let mut vars = settings().to_env().vars();
        vars.push(("CRON_CONCURRENCY".into(), "0".into()));
        assert!(CronSettings::from_vars(vars).is_err());
        let mut vars = settings().to_env().vars();
        vars.push(("OPENWHISK_API_HOST".into(), "http://u:p@controller".into()));
        assert!(CronSettings::from_vars(vars).is_err());
    }

    fn doc(id: &str, annotations: Value, updated: Option<i64>) -> Value {
        let (namespace, name) = id.rsplit_once('/').unwrap();
        let mut d = json!({"_id": id, "_rev": "1-a", "namespace": namespace, "name": name,
                           "annotations": annotations});
        if let Some(u) = updated {
            d["updated"] = json!(u);
        }
        d
    }

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 8, 6, h, m, 0).unwrap()
    }

    #[test]
    fn due_decisions() {
        let (tick, since) = (at(16, 10), at(16, 8));
        let cron = |e: &str| json!([{"key": "cron", "value": e}]);
        let due = |d: &Value| {
            scheduled_action(d, tick, since)
                .ok()
                .flatten()
                .map(|a| a.due)
        };
        assert_eq!(
            due(&doc("ns/a", cron("*/5 * * * *"), None)),
            Some(Due::Cron(at(16, 10)))
        );
        // fired at 16:09, within the window: a missed tick is caught up
        assert_eq!(
            due(&doc("ns/b", cron("9 * * * *"), None)),
            Some(Due::Cron(at(16, 9)))
        );
        // fired at 16:03: too old
        assert_eq!(due(&doc("ns/c", cron("3 * * * *"), None)), None);
        // created after its fire time
        let later = at(16, 10).timestamp_millis() + 1;
        assert_eq!(due(&doc("ns/d", cron("*/5 * * * *"), Some(later))), None);
        // autoexec wins, once per revision
        let auto =
            json!([{"key": "cron", "value": "3 * * * *"}, {"key": "autoexec", "value": true}]);
        assert_eq!(
            due(&doc("ns/pkg/e", auto, None)),
            Some(Due::Autoexec("1-a".into()))
        );
        // unparsable: an error naming the action
        let err = scheduled_action(&doc("ns/f", cron("every day"), None), tick, since)
            .expect_err("unparsable");
        assert_eq!(err.action, "ns/f");
        let err = scheduled_action(
            &doc("ns/g", json!([{"key": "cron", "value": 5}]), None),
            tick,
            since,
        )
        .expect_err("not a string");
        assert!(err.reason.contains("not a string"));
    }

    #[test]
    fn the_record_claims_each_due_time_once_and_releases_failures() {
        let action = ScheduledAction {
            id: "ns/a".into(),
            namespace: "ns".into(),
            name: "a".into(),
            annotations: vec![],
            due: Due::Cron(at(16, 10)),
        };
        let before = Record::default();
        let mut record = before.clone();
        assert!(!record.already_ran(&action));
        record.mark(&action);
        assert!(record.already_ran(&action));
        let back = Record::from_json(&record.to_json());
        assert!(back.already_ran(&action));
        record.release(&action, &before);
        assert!(!record.already_ran(&action));
        // a later due time is not taken by an earlier run
        let mut older = Record::default();
        older.last_run.insert("ns/a".into(), rfc3339(at(16, 5)));
        assert!(!older.already_ran(&action));
    }
}
