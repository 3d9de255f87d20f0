//! `nuvolaris-operator setup couchdb`: everything the original `couchdb-init`
//! Job (`dbinit`) did, plus the `nuvolaris` user-metadata document the
//! original wrote in its post-create step. Idempotent: every object is read
//! first and written only when it differs, so a second run changes nothing.
//!
//! Steps, in order (`<p>` is the database prefix, `nuvolaris_` by default):
//! 1. wait until `GET /` answers 200 (bounded, with backoff);
//! 2. single-node cluster setup (`/_cluster_setup`, skipped when already done);
//! 3. config `query_server_config/reduce_limit = "false"`;
//! 4. users `org.couchdb.user:<controller>` and `…:<invoker>` in `_users`;
//! 5. databases `<p>subjects`, `<p>activations`, `<p>whisks`, each with
//!    `_security` members = controller and invoker, and its design documents;
//! 6. one subject document per `OPENWHISK_NAMESPACES` entry in `<p>subjects`;
//! 7. database `<p>users_metadata` and its document `nuvolaris`
//!    (bcrypt hash of the nuvolaris password, e-mail, env metadata);
//! 8. compaction config for `<p>users_metadata`, `<p>subjects`, `<p>whisks`.
//!    The original wrote `<p>users_subjects`, a typo naming no database; this
//!    port configures `<p>subjects` as intended.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use super::design::DATABASES;
use super::http::{JsonClient, Response, encode_segment};
use super::{
    Backoff, Env, EnvVar, Outcome, Secret, SetupEnv, SetupError, SetupReport, SetupSettings,
    SetupStep, optional, required,
};

/// The node-local configuration API of CouchDB 2.2+ (`_local` = this node).
const CONFIG_API: &str = "/_node/_local/_config";
/// The compaction rule the original installed (an Erlang term, as a string).
const COMPACTION_RULE: &str = r#"[{db_fragmentation, "60%"}, {view_fragmentation, "60%"}]"#;
/// Known metadata keys in the order the original wrote them; others follow sorted.
const METADATA_ORDER: [&str; 23] = [
    "AUTH",
    "MONGODB_URL",
    "POSTGRES_DATABASE",
    "POSTGRES_HOST",
    "POSTGRES_PASSWORD",
    "POSTGRES_PORT",
    "POSTGRES_URL",
    "POSTGRES_USERNAME",
    "REDIS_PREFIX",
    "REDIS_URL",
    "S3_HOST",
    "S3_PORT",
    "S3_SECRET_KEY",
    "S3_ACCESS_KEY",
    "S3_BUCKET_STATIC",
    "S3_BUCKET_DATA",
    "S3_PROVIDER",
    "S3_API_URL",
    "S3_CONSOLE_URL",
    "MILVUS_HOST",
    "MILVUS_PORT",
    "MILVUS_TOKEN",
    "MILVUS_DB_NAME",
];
/// Every `NUVOLARIS_METADATA_<KEY>` variable becomes an `env` entry `<KEY>` of
/// the `nuvolaris` metadata document. Values may be secrets (S3 keys, …).
pub const METADATA_ENV_PREFIX: &str = "NUVOLARIS_METADATA_";

/// The environment of `setup couchdb` (see [`CouchdbSetupConfig`]).
pub const COUCHDB_ENV: &[EnvVar] = &[
    optional("COUCHDB_URL", "http://couchdb:5984"),
    required("COUCHDB_ADMIN_USER", false),
    required("COUCHDB_ADMIN_PASSWORD", true),
    required("COUCHDB_CONTROLLER_USER", false),
    required("COUCHDB_CONTROLLER_PASSWORD", true),
    required("COUCHDB_INVOKER_USER", false),
    required("COUCHDB_INVOKER_PASSWORD", true),
    optional("COUCHDB_DB_PREFIX", "nuvolaris_"),
    optional("COUCHDB_SINGLE_NODE", "true"),
    required("OPENWHISK_NAMESPACES", true),
    required("NUVOLARIS_PASSWORD", true),
    optional("NUVOLARIS_EMAIL", "nuvolaris@nuvolaris.io"),
    optional("COUCHDB_WAIT_SECONDS", "120"),
    optional("COUCHDB_TIMEOUT_SECONDS", "10"),
    optional("NUVOLARIS_BCRYPT_COST", "12"),
    // the prefix of the `NUVOLARIS_METADATA_<KEY>` variables
    EnvVar {
        name: METADATA_ENV_PREFIX,
        secret: true,
        default: Some(""),
    },
];
/// How often a document write is retried after a 409 (concurrent writer).
const MAX_CONFLICTS: u32 = 3;

/// One OpenWhisk namespace and its auth (`uuid:key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceAuth {
    pub name: String,
    pub uuid: String,
    pub key: Secret,
}

/// Configuration of `setup couchdb`.
///
/// | env var | default | meaning |
/// |---|---|---|
/// | `COUCHDB_URL` | `http://couchdb:5984` | base URL (http, no credentials in it) |
/// | `COUCHDB_ADMIN_USER` | required | CouchDB admin user |
/// | `COUCHDB_ADMIN_PASSWORD` | required (secret) | its password |
/// | `COUCHDB_CONTROLLER_USER` | required | user the controller connects as |
/// | `COUCHDB_CONTROLLER_PASSWORD` | required (secret) | its password |
/// | `COUCHDB_INVOKER_USER` | required | user the invoker connects as |
/// | `COUCHDB_INVOKER_PASSWORD` | required (secret) | its password |
/// | `COUCHDB_DB_PREFIX` | `nuvolaris_` | prefix of every database name |
/// | `COUCHDB_SINGLE_NODE` | `true` | run `/_cluster_setup` `enable_single_node` |
/// | `OPENWHISK_NAMESPACES` | required (secret) | `name=uuid:key` entries separated by commas or newlines |
/// | `NUVOLARIS_PASSWORD` | required (secret) | password of the `nuvolaris` user, stored as bcrypt |
/// | `NUVOLARIS_EMAIL` | `nuvolaris@nuvolaris.io` | e-mail in the metadata document |
/// | `NUVOLARIS_METADATA_<KEY>` | none | extra `env` entries `<KEY>=value` of the metadata document (e.g. `NUVOLARIS_METADATA_REDIS_URL`); `AUTH` is added from the `nuvolaris` namespace |
/// | `COUCHDB_WAIT_SECONDS` | `120` | how long to wait for CouchDB to answer |
/// | `COUCHDB_TIMEOUT_SECONDS` | `10` | timeout of one HTTP request |
/// | `NUVOLARIS_BCRYPT_COST` | `12` | bcrypt cost (the original used Python bcrypt's default, 12) |
#[derive(Debug, Clone, PartialEq)]
pub struct CouchdbSetupConfig {
    pub url: String,
    pub admin_user: String,
    pub admin_password: Secret,
    pub controller_user: String,
    pub controller_password: Secret,
    pub invoker_user: String,
    pub invoker_password: Secret,
    pub db_prefix: String,
    pub single_node: bool,
    pub namespaces: Vec<NamespaceAuth>,
    pub nuvolaris_password: Secret,
    pub nuvolaris_email: String,
    /// Extra metadata entries (values may be secrets: S3 keys, passwords).
    pub metadata: Vec<(String, Secret)>,
    pub wait: Duration,
    pub timeout: Duration,
    pub bcrypt_cost: u32,
}

const DEFAULT_PREFIX: &str = "nuvolaris_";
const DEFAULT_WAIT: Duration = Duration::from_secs(120);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl CouchdbSetupConfig {
    /// Settings with the command's defaults for everything the operator does not choose.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        url: String,
        admin: (String, Secret),
        controller: (String, Secret),
        invoker: (String, Secret),
        namespaces: Vec<NamespaceAuth>,
        nuvolaris_password: Secret,
        nuvolaris_email: String,
    ) -> CouchdbSetupConfig {
        CouchdbSetupConfig {
            url,
            admin_user: admin.0,
            admin_password: admin.1,
            controller_user: controller.0,
            controller_password: controller.1,
            invoker_user: invoker.0,
            invoker_password: invoker.1,
            db_prefix: DEFAULT_PREFIX.to_owned(),
            single_node: true,
            namespaces,
            nuvolaris_password,
            nuvolaris_email,
            metadata: Vec::new(),
            wait: DEFAULT_WAIT,
            timeout: DEFAULT_TIMEOUT,
            bcrypt_cost: bcrypt::DEFAULT_COST,
        }
    }
}

impl SetupSettings for CouchdbSetupConfig {
    const STEP: SetupStep = SetupStep::Couchdb;

    fn to_env(&self) -> SetupEnv {
        let namespaces = self
            .namespaces
            .iter()
            .map(|n| format!("{}={}:{}", n.name, n.uuid, n.key.expose()))
            .collect::<Vec<_>>()
            .join(",");
        let mut env = SetupEnv::new(Self::STEP)
            .value("COUCHDB_URL", &self.url)
            .value("COUCHDB_ADMIN_USER", &self.admin_user)
            .value("COUCHDB_CONTROLLER_USER", &self.controller_user)
            .value("COUCHDB_INVOKER_USER", &self.invoker_user)
            .tuning("COUCHDB_DB_PREFIX", self.db_prefix.as_str(), DEFAULT_PREFIX)
            .tuning("COUCHDB_SINGLE_NODE", self.single_node, true)
            .value("NUVOLARIS_EMAIL", &self.nuvolaris_email)
            .tuning(
                "COUCHDB_WAIT_SECONDS",
                self.wait.as_secs(),
                DEFAULT_WAIT.as_secs(),
            )
            .tuning(
                "COUCHDB_TIMEOUT_SECONDS",
                self.timeout.as_secs(),
                DEFAULT_TIMEOUT.as_secs(),
            )
            .tuning(
                "NUVOLARIS_BCRYPT_COST",
                self.bcrypt_cost,
                bcrypt::DEFAULT_COST,
            )
            .secret("COUCHDB_ADMIN_PASSWORD", &self.admin_password)
            .secret("COUCHDB_CONTROLLER_PASSWORD", &self.controller_password)
            .secret("COUCHDB_INVOKER_PASSWORD", &self.invoker_password)
            .secret("OPENWHISK_NAMESPACES", &Secret::new(namespaces))
            .secret("NUVOLARIS_PASSWORD", &self.nuvolaris_password);
        for (key, value) in &self.metadata {
            env = env.secret(&format!("{METADATA_ENV_PREFIX}{key}"), value);
        }
        env
    }

    fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, SetupError> {
        let vars: BTreeMap<String, String> = vars.into_iter().collect();
        let env = Env(|k: &str| vars.get(k).cloned());

        let url = env.or("COUCHDB_URL", "http://couchdb:5984");
        let authority = url.strip_prefix("http://").ok_or(SetupError::InvalidEnv {
            name: "COUCHDB_URL",
            reason: "expected an http:// URL".into(),
        })?;
        if authority.is_empty() || authority.contains('@') {
            return Err(SetupError::InvalidEnv {
                name: "COUCHDB_URL",
                reason: "expected http://host:port without credentials".into(),
            });
        }

        let metadata = vars
            .iter()
            .filter_map(|(k, v)| {
                let key = k.strip_prefix(METADATA_ENV_PREFIX)?;
                (!key.is_empty() && !v.is_empty()).then(|| (key.to_string(), Secret::new(v)))
            })
            .collect();

        let bcrypt_cost = match env.opt("NUVOLARIS_BCRYPT_COST") {
            None => bcrypt::DEFAULT_COST,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|c| (4..=31).contains(c))
                .ok_or(SetupError::InvalidEnv {
                    name: "NUVOLARIS_BCRYPT_COST",
                    reason: "expected a number from 4 to 31".into(),
                })?,
        };

        Ok(CouchdbSetupConfig {
            url,
            admin_user: env.required("COUCHDB_ADMIN_USER")?,
            admin_password: env.secret("COUCHDB_ADMIN_PASSWORD")?,
            controller_user: env.required("COUCHDB_CONTROLLER_USER")?,
            controller_password: env.secret("COUCHDB_CONTROLLER_PASSWORD")?,
            invoker_user: env.required("COUCHDB_INVOKER_USER")?,
            invoker_password: env.secret("COUCHDB_INVOKER_PASSWORD")?,
            db_prefix: env.or("COUCHDB_DB_PREFIX", DEFAULT_PREFIX),
            single_node: env.boolean("COUCHDB_SINGLE_NODE", true)?,
            namespaces: parse_namespaces(&env.secret("OPENWHISK_NAMESPACES")?)?,
            nuvolaris_password: env.secret("NUVOLARIS_PASSWORD")?,
            nuvolaris_email: env.or("NUVOLARIS_EMAIL", "nuvolaris@nuvolaris.io"),
            metadata,
            wait: env.seconds("COUCHDB_WAIT_SECONDS", 120)?,
            timeout: env.seconds("COUCHDB_TIMEOUT_SECONDS", 10)?,
            bcrypt_cost,
        })
    }
}

/// Parses `name=uuid:key` entries. Errors name the entry by position and
/// namespace only, never the auth value.
pub fn parse_namespaces(value: &Secret) -> Result<Vec<NamespaceAuth>, SetupError> {
    let invalid = |reason: String| SetupError::InvalidEnv {
        name: "OPENWHISK_NAMESPACES",
        reason,
    };
    let mut out: Vec<NamespaceAuth> = Vec::new();
    let entries = value
        .expose()
        .split([',', '\n'])
        .map(str::trim)
        .filter(|e| !e.is_empty());
    for (i, entry) in entries.enumerate() {
        let (name, auth) = entry
            .split_once('=')
            .ok_or_else(|| invalid(format!("entry {} is not name=uuid:key", i + 1)))?;
        let name = name.trim();
        let (uuid, key) = auth
            .trim()
            .split_once(':')
            .filter(|(u, k)| !u.is_empty() && !k.is_empty() && !k.contains(':'))
            .ok_or_else(|| invalid(format!("auth of namespace {name:?} is not uuid:key")))?;
        if name.is_empty() || name.contains('/') {
            return Err(invalid(format!(
                "entry {} has an invalid namespace name",
                i + 1
            )));
        }
        if out.iter().any(|n| n.name == name) {
            return Err(invalid(format!("namespace {name:?} is listed twice")));
        }
        out.push(NamespaceAuth {
            name: name.to_string(),
            uuid: uuid.to_string(),
            key: Secret::new(key),
        });
    }
    if out.is_empty() {
        return Err(invalid("no namespace given".into()));
    }
    Ok(out)
}

/// Runs the CouchDB setup. See the module documentation for the steps.
pub async fn run_couchdb_setup(cfg: CouchdbSetupConfig) -> Result<SetupReport, SetupError> {
    let started = Instant::now();
    let db = JsonClient::new(&cfg.url, &cfg.admin_user, &cfg.admin_password, cfg.timeout);
    tracing::info!(url = %db.base(), admin = %cfg.admin_user, "couchdb setup");
    let mut report = SetupReport::default();

    wait_ready(&db, cfg.wait).await?;
    if cfg.single_node {
        report.record("cluster single_node", enable_single_node(&db).await?);
    }
    report.record(
        "config query_server_config/reduce_limit",
        ensure_config(&db, "query_server_config", "reduce_limit", "false").await?,
    );
    for (user, password) in [
        (&cfg.controller_user, &cfg.controller_password),
        (&cfg.invoker_user, &cfg.invoker_password),
    ] {
        report.record(
            format!("user {user}"),
            ensure_user(&db, user, password).await?,
        );
    }

    let members = json!({
        "admins": { "names": [], "roles": [] },
        "members": { "names": [cfg.controller_user, cfg.invoker_user], "roles": [] },
    });
    for (name, docs) in DATABASES {
        let dbn = format!("{}{name}", cfg.db_prefix);
        report.record(format!("database {dbn}"), ensure_db(&db, &dbn).await?);
        report.record(
            format!("security {dbn}"),
            ensure_security(&db, &dbn, &members).await?,
        );
        for d in docs {
            let doc: Value = serde_json::from_str(d.json).map_err(|e| SetupError::Json {
                step: format!("embedded design document {}", d.file),
                source: e,
            })?;
            let id = doc["_id"].as_str().unwrap_or_default().to_string();
            let outcome = ensure_doc(&db, &dbn, &id, |_| Ok(doc.clone())).await?;
            report.record(format!("document {dbn}/{id}"), outcome);
        }
    }

    let subjects = format!("{}subjects", cfg.db_prefix);
    for ns in &cfg.namespaces {
        let doc = subject_doc(ns);
        let outcome = ensure_doc(&db, &subjects, &ns.name, |current| {
            Ok(overlay(current, &doc))
        })
        .await?;
        report.record(format!("document {subjects}/{}", ns.name), outcome);
    }

    let users_metadata = format!("{}users_metadata", cfg.db_prefix);
    report.record(
        format!("database {users_metadata}"),
        ensure_db(&db, &users_metadata).await?,
    );
    let outcome = ensure_doc(&db, &users_metadata, "nuvolaris", |current| {
        nuvolaris_metadata_doc(&cfg, current)
    })
    .await?;
    report.record(format!("document {users_metadata}/nuvolaris"), outcome);

    for name in ["users_metadata", "subjects", "whisks"] {
        let key = format!("{}{name}", cfg.db_prefix);
        report.record(
            format!("config compactions/{key}"),
            ensure_config(&db, "compactions", &key, COMPACTION_RULE).await?,
        );
    }

    report.elapsed = started.elapsed();
    tracing::info!(%report, "couchdb setup done");
    Ok(report)
}

/// Waits until `GET /` answers 200 (CouchDB's welcome), bounded by `wait`.
/// Connection errors and other statuses (503 while starting) are retried.
pub(super) async fn wait_ready(db: &JsonClient, wait: Duration) -> Result<(), SetupError> {
    let mut backoff = Backoff::new(wait);
    loop {
        let step = "wait for couchdb";
        let last_error = match db.send(step, Method::GET, "/", None).await {
            Ok(r) if r.status == StatusCode::OK => return Ok(()),
            // The admin is configured before CouchDB listens: a rejected
            // password will not get better by waiting.
            Ok(r) if r.status == StatusCode::UNAUTHORIZED => return Err(r.into_error(step)),
            Ok(r) => format!("HTTP {}: {}", r.status.as_u16(), r.snippet()),
            Err(e) => e.to_string(),
        };
        tracing::debug!(reason = %last_error, "couchdb not ready");
        if !backoff.wait().await {
            return Err(SetupError::NotReady {
                service: "couchdb",
                address: db.base().to_string(),
                seconds: wait.as_secs(),
                last_error,
            });
        }
    }
}

async fn enable_single_node(db: &JsonClient) -> Result<Outcome, SetupError> {
    let step = "cluster setup";
    let r = db.send(step, Method::GET, "/_cluster_setup", None).await?;
    if r.status != StatusCode::OK {
        return Err(r.into_error(step));
    }
    let state = r.body["state"].as_str().unwrap_or_default();
    if matches!(state, "single_node_enabled" | "cluster_finished") {
        return Ok(Outcome::Unchanged);
    }
    let body = json!({
        "action": "enable_single_node",
        "singlenode": true,
        "bind_address": "0.0.0.0",
        "port": 5984,
    });
    let r = db
        .send(step, Method::POST, "/_cluster_setup", Some(&body))
        .await?;
    match r.status {
        StatusCode::OK | StatusCode::CREATED => Ok(Outcome::Created),
        _ => Err(r.into_error(step)),
    }
}

/// Sets one node config value when it differs. Values are JSON strings.
async fn ensure_config(
    db: &JsonClient,
    section: &str,
    key: &str,
    value: &str,
) -> Result<Outcome, SetupError> {
    let step = format!("config {section}/{key}");
    let path = format!(
        "{CONFIG_API}/{}/{}",
        encode_segment(section),
        encode_segment(key)
    );
    let r = db.send(&step, Method::GET, &path, None).await?;
    let outcome = match r.status {
        StatusCode::OK if r.body.as_str() == Some(value) => return Ok(Outcome::Unchanged),
        StatusCode::OK => Outcome::Updated,
        StatusCode::NOT_FOUND => Outcome::Created,
        _ => return Err(r.into_error(&step)),
    };
    let r = db
        .send(&step, Method::PUT, &path, Some(&Value::from(value)))
        .await?;
    if r.status != StatusCode::OK {
        return Err(r.into_error(&step));
    }
    Ok(outcome)
}

/// Creates the database when missing.
async fn ensure_db(db: &JsonClient, name: &str) -> Result<Outcome, SetupError> {
    let step = format!("database {name}");
    let path = format!("/{}", encode_segment(name));
    let r = db.send(&step, Method::GET, &path, None).await?;
    match r.status {
        StatusCode::OK => return Ok(Outcome::Unchanged),
        StatusCode::NOT_FOUND => {}
        _ => return Err(r.into_error(&step)),
    }
    let r = db.send(&step, Method::PUT, &path, None).await?;
    match r.status {
        StatusCode::CREATED | StatusCode::ACCEPTED => Ok(Outcome::Created),
        // Created concurrently by another run between our GET and PUT.
        StatusCode::PRECONDITION_FAILED => Ok(Outcome::Unchanged),
        _ => Err(r.into_error(&step)),
    }
}

/// Sets the database `_security` object when it differs.
async fn ensure_security(
    db: &JsonClient,
    name: &str,
    desired: &Value,
) -> Result<Outcome, SetupError> {
    let step = format!("security {name}");
    let path = format!("/{}/_security", encode_segment(name));
    let r = db.send(&step, Method::GET, &path, None).await?;
    if r.status != StatusCode::OK {
        return Err(r.into_error(&step));
    }
    if &r.body == desired {
        return Ok(Outcome::Unchanged);
    }
    // A new database has an empty (or admin-only) security object.
    let outcome = if r.body.get("members").is_none_or(|m| m["names"].is_null()) {
        Outcome::Created
    } else {
        Outcome::Updated
    };
    let r = db.send(&step, Method::PUT, &path, Some(desired)).await?;
    match r.status {
        StatusCode::OK | StatusCode::CREATED => Ok(outcome),
        _ => Err(r.into_error(&step)),
    }
}

/// Creates or updates the user document in `_users`. The stored document
/// holds a password hash, so the password is checked by authenticating as the
/// user (`GET /_session` with its credentials) instead of comparing hashes.
async fn ensure_user(
    db: &JsonClient,
    user: &str,
    password: &Secret,
) -> Result<Outcome, SetupError> {
    let step = format!("user {user}");
    let id = format!("org.couchdb.user:{user}");
    let path = format!("/_users/{}", encode_segment(&id));
    for _ in 0..MAX_CONFLICTS {
        let r = db.send(&step, Method::GET, &path, None).await?;
        let (outcome, rev) = match r.status {
            StatusCode::NOT_FOUND => (Outcome::Created, None),
            StatusCode::OK => {
                let shape_ok = r.body["name"] == user
                    && r.body["type"] == "user"
                    && r.body["roles"] == json!([]);
                if shape_ok && password_accepted(db, &step, user, password).await? {
                    return Ok(Outcome::Unchanged);
                }
                (Outcome::Updated, r.body["_rev"].as_str().map(String::from))
            }
            _ => return Err(r.into_error(&step)),
        };
        let mut doc = json!({
            "_id": id,
            "name": user,
            "password": password.expose(),
            "roles": [],
            "type": "user",
        });
        if let Some(rev) = rev {
            doc["_rev"] = Value::from(rev);
        }
        let r = db.send(&step, Method::PUT, &path, Some(&doc)).await?;
        match r.status {
            StatusCode::OK | StatusCode::CREATED | StatusCode::ACCEPTED => return Ok(outcome),
            StatusCode::CONFLICT => continue,
            _ => return Err(r.into_error(&step)),
        }
    }
    Err(SetupError::Conflict {
        step,
        attempts: MAX_CONFLICTS,
    })
}

async fn password_accepted(
    db: &JsonClient,
    step: &str,
    user: &str,
    password: &Secret,
) -> Result<bool, SetupError> {
    let r = db
        .send_with_credentials(step, Method::GET, "/_session", user, password)
        .await?;
    Ok(r.status == StatusCode::OK && r.body["userCtx"]["name"] == user)
}

/// Creates or updates one document. `desired` builds the wanted content from
/// the current document (if any); it is compared with the stored one ignoring
/// `_rev`, and written with the current `_rev` only when different. A 409
/// (another writer in between) re-reads and retries.
pub(super) async fn ensure_doc(
    db: &JsonClient,
    dbn: &str,
    id: &str,
    desired: impl Fn(Option<&Value>) -> Result<Value, SetupError>,
) -> Result<Outcome, SetupError> {
    let step = format!("document {dbn}/{id}");
    let path = format!("/{}/{}", encode_segment(dbn), encode_segment(id));
    for _ in 0..MAX_CONFLICTS {
        let r: Response = db.send(&step, Method::GET, &path, None).await?;
        let current = match r.status {
            StatusCode::OK => Some(r.body),
            StatusCode::NOT_FOUND => None,
            _ => return Err(r.into_error(&step)),
        };
        let mut doc = desired(current.as_ref())?;
        let outcome = match &current {
            None => Outcome::Created,
            Some(cur) => {
                let mut stored = cur.clone();
                if let Some(o) = stored.as_object_mut() {
                    o.remove("_rev");
                }
                if stored == doc {
                    return Ok(Outcome::Unchanged);
                }
                doc["_rev"] = cur["_rev"].clone();
                Outcome::Updated
            }
        };
        let r = db.send(&step, Method::PUT, &path, Some(&doc)).await?;
        match r.status {
            StatusCode::OK | StatusCode::CREATED | StatusCode::ACCEPTED => return Ok(outcome),
            StatusCode::CONFLICT => {
                tracing::debug!(%step, "update conflict, re-reading");
                continue;
            }
            _ => return Err(r.into_error(&step)),
        }
    }
    Err(SetupError::Conflict {
        step,
        attempts: MAX_CONFLICTS,
    })
}

/// The current document (without `_rev`) with the `owned` fields set.
/// Fields written by others survive: `blocked` on a subject (set by an
/// operator to block a namespace), `userenv` on the metadata document (the
/// user's secrets, written by the whisk-system `secrets` action). The
/// original overwrote whole documents and so dropped them.
pub(super) fn overlay(current: Option<&Value>, owned: &Value) -> Value {
    let mut doc = match current {
        Some(Value::Object(c)) => {
            let mut c = c.clone();
            c.remove("_rev");
            c
        }
        _ => serde_json::Map::new(),
    };
    if let Value::Object(o) = owned {
        for (k, v) in o {
            doc.insert(k.clone(), v.clone());
        }
    }
    Value::Object(doc)
}

/// The subject document of one namespace (the original's `subject.json`).
pub(super) fn subject_doc(ns: &NamespaceAuth) -> Value {
    json!({
        "_id": ns.name,
        "subject": ns.name,
        "namespaces": [{ "name": ns.name, "uuid": ns.uuid, "key": ns.key.expose() }],
    })
}

/// The bcrypt hash of `password` for a metadata document: the `password` stored in `current`
/// when it still verifies (bcrypt salts every hash, so a fresh one would change the document on
/// every run), a new one otherwise.
pub(super) fn password_hash(
    password: &Secret,
    current: Option<&Value>,
    cost: u32,
) -> Result<String, SetupError> {
    let password = password.expose();
    let stored = current
        .and_then(|c| c["password"].as_str())
        .filter(|h| bcrypt::verify(password, h).unwrap_or(false));
    match stored {
        Some(h) => Ok(h.to_string()),
        None => Ok(bcrypt::hash(password, cost)?),
    }
}

/// Deletes one document when it exists (a 409 from a concurrent writer re-reads and retries).
pub(super) async fn delete_doc(
    db: &JsonClient,
    dbn: &str,
    id: &str,
) -> Result<Outcome, SetupError> {
    let step = format!("delete document {dbn}/{id}");
    let path = format!("/{}/{}", encode_segment(dbn), encode_segment(id));
    for _ in 0..MAX_CONFLICTS {
        let r = db.send(&step, Method::GET, &path, None).await?;
        let rev = match r.status {
            StatusCode::NOT_FOUND => return Ok(Outcome::Unchanged),
            StatusCode::OK => r.body["_rev"].as_str().unwrap_or_default().to_string(),
            _ => return Err(r.into_error(&step)),
        };
        let with_rev = format!("{path}?rev={}", encode_segment(&rev));
        let r = db.send(&step, Method::DELETE, &with_rev, None).await?;
        match r.status {
            StatusCode::OK | StatusCode::ACCEPTED => return Ok(Outcome::Deleted),
            StatusCode::NOT_FOUND => return Ok(Outcome::Unchanged),
            StatusCode::CONFLICT => continue,
            _ => return Err(r.into_error(&step)),
        }
    }
    Err(SetupError::Conflict {
        step,
        attempts: MAX_CONFLICTS,
    })
}

/// The `nuvolaris` user-metadata document (the original's `user_metadata.json`
/// rendered from `NuvolarisMetadata`). bcrypt salts every hash, so the stored
/// hash is kept when it still verifies against the configured password: that
/// keeps the document unchanged across runs.
fn nuvolaris_metadata_doc(
    cfg: &CouchdbSetupConfig,
    current: Option<&Value>,
) -> Result<Value, SetupError> {
    let hash = password_hash(&cfg.nuvolaris_password, current, cfg.bcrypt_cost)?;
    let mut entries: Vec<(String, String)> = cfg
        .metadata
        .iter()
        .map(|(k, v)| (k.clone(), v.expose().to_string()))
        .collect();
    if let Some(ns) = cfg.namespaces.iter().find(|n| n.name == "nuvolaris")
        && !entries.iter().any(|(k, _)| k == "AUTH")
    {
        entries.push(("AUTH".into(), format!("{}:{}", ns.uuid, ns.key.expose())));
    }
    let rank = |k: &str| {
        METADATA_ORDER
            .iter()
            .position(|o| *o == k)
            .unwrap_or(METADATA_ORDER.len())
    };
    entries.sort_by(|(a, _), (b, _)| rank(a).cmp(&rank(b)).then(a.cmp(b)));
    let env: Vec<Value> = entries
        .into_iter()
        .map(|(key, value)| json!({ "key": key, "value": value }))
        .collect();
    let mut owned = json!({
        "_id": "nuvolaris",
        "login": "nuvolaris",
        "password": hash,
        "email": cfg.nuvolaris_email,
        "env": env,
    });
    // The nuvolaris user has no quota; keep one if an administrator set it.
    if current.and_then(|c| c.get("quota")).is_none() {
        owned["quota"] = json!([]);
    }
    Ok(overlay(current, &owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base_vars() -> Vec<(String, String)> {
        [
            ("COUCHDB_ADMIN_USER", "whisk_admin"),
            ("COUCHDB_ADMIN_PASSWORD", "adm1n"),
            ("COUCHDB_CONTROLLER_USER", "controller_admin"),
            ("COUCHDB_CONTROLLER_PASSWORD", "c0ntr"),
            ("COUCHDB_INVOKER_USER", "invoker_admin"),
            ("COUCHDB_INVOKER_PASSWORD", "inv0k"),
            (
                "OPENWHISK_NAMESPACES",
                "whisk-system=u1:k1,\nnuvolaris=u2:k2",
            ),
            ("NUVOLARIS_PASSWORD", "nuvpw"),
            ("NUVOLARIS_BCRYPT_COST", "4"),
            ("NUVOLARIS_METADATA_REDIS_URL", "redis://x"),
            ("NUVOLARIS_METADATA_ZZZ", "last"),
            ("NUVOLARIS_METADATA_MONGODB_URL", "mongodb://y"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn env_list_matches_what_from_vars_reads() {
        let dummy = |v: &EnvVar| match v.name {
            "OPENWHISK_NAMESPACES" => "nuvolaris=u:k".to_string(),
            n => format!("value-of-{n}"),
        };
        let minimal: Vec<(String, String)> = COUCHDB_ENV
            .iter()
            .filter(|v| v.default.is_none())
            .map(|v| (v.name.to_string(), dummy(v)))
            .collect();
        let cfg = CouchdbSetupConfig::from_vars(minimal.clone()).unwrap();
        assert_eq!(cfg.url, "http://couchdb:5984");
        assert_eq!(cfg.bcrypt_cost.to_string(), "12");
        for (i, (name, _)) in minimal.iter().enumerate() {
            let mut without = minimal.clone();
            without.remove(i);
            match CouchdbSetupConfig::from_vars(without) {
                Err(SetupError::MissingEnv(n)) => assert_eq!(n, name),
                other => panic!("{name} not required: {other:?}"),
            }
        }
        // Defaults written out explicitly give the same configuration.
        let mut explicit = minimal.clone();
        explicit.extend(
            COUCHDB_ENV
                .iter()
                .filter_map(|v| Some((v.name.to_string(), v.default?.to_string()))),
        );
        let explicit = CouchdbSetupConfig::from_vars(explicit).unwrap();
        assert_eq!(format!("{explicit:?}"), format!("{cfg:?}"));
    }

    #[test]
    fn settings_round_trip_through_the_job_environment() {
        let mut cfg = CouchdbSetupConfig::from_vars(base_vars()).unwrap();
        crate::setup::tests::assert_round_trip(&cfg);
        cfg.db_prefix = "other_".into();
        cfg.single_node = false;
        cfg.wait = Duration::from_secs(7);
        crate::setup::tests::assert_round_trip(&cfg);
        let env = cfg.to_env();
        assert!(
            env.plain
                .iter()
                .all(|(_, v)| !["adm1n", "c0ntr", "inv0k", "nuvpw"].contains(&v.as_str())),
            "secrets stay out of the plain values"
        );
    }

    #[test]
    fn config_from_vars_with_defaults() {
        let cfg = CouchdbSetupConfig::from_vars(base_vars()).unwrap();
        assert_eq!(cfg.url, "http://couchdb:5984");
        assert_eq!(cfg.db_prefix, "nuvolaris_");
        assert!(cfg.single_node);
        assert_eq!(cfg.namespaces.len(), 2);
        assert_eq!(cfg.namespaces[0].name, "whisk-system");
        assert_eq!(cfg.namespaces[1].uuid, "u2");
        assert_eq!(cfg.bcrypt_cost, 4);
        let debug = format!("{cfg:?}");
        for secret in ["adm1n", "c0ntr", "inv0k", "k1", "k2", "nuvpw", "redis://x"] {
            assert!(!debug.contains(secret), "{secret} leaked in {debug}");
        }
    }

    #[test]
    fn config_rejects_credentials_in_url_and_missing_secrets() {
        let mut vars = base_vars();
        vars.push(("COUCHDB_URL".into(), "http://a:b@couchdb:5984".into()));
        assert!(matches!(
            CouchdbSetupConfig::from_vars(vars),
            Err(SetupError::InvalidEnv {
                name: "COUCHDB_URL",
                ..
            })
        ));
        let vars: Vec<_> = base_vars()
            .into_iter()
            .filter(|(k, _)| k != "NUVOLARIS_PASSWORD")
            .collect();
        assert!(matches!(
            CouchdbSetupConfig::from_vars(vars),
            Err(SetupError::MissingEnv("NUVOLARIS_PASSWORD"))
        ));
    }

    #[test]
    fn namespace_errors_do_not_show_the_key() {
        for bad in ["nuvolaris=u:k:x", "nuvolaris", "=u:k", "a=u:k,a=u:k", " "] {
            let err = parse_namespaces(&Secret::new(bad)).unwrap_err().to_string();
            assert!(!err.contains("u:k"), "{err}");
        }
    }

    #[test]
    fn metadata_document_shape_order_and_stable_hash() {
        let cfg = CouchdbSetupConfig::from_vars(base_vars()).unwrap();
        let doc = nuvolaris_metadata_doc(&cfg, None).unwrap();
        assert_eq!(doc["_id"], "nuvolaris");
        assert_eq!(doc["login"], "nuvolaris");
        assert_eq!(doc["email"], "nuvolaris@nuvolaris.io");
        assert_eq!(doc["quota"], json!([]));
        let keys: Vec<&str> = doc["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["AUTH", "MONGODB_URL", "REDIS_URL", "ZZZ"]);
        assert_eq!(doc["env"][0]["value"], "u2:k2");
        let hash = doc["password"].as_str().unwrap();
        assert!(bcrypt::verify("nuvpw", hash).unwrap());
        // Same password: the stored hash is kept, so the document is equal.
        assert_eq!(nuvolaris_metadata_doc(&cfg, Some(&doc)).unwrap(), doc);
        // Changed password: a new hash.
        let mut other = cfg.clone();
        other.nuvolaris_password = Secret::new("changed");
        let doc2 = nuvolaris_metadata_doc(&other, Some(&doc)).unwrap();
        assert!(bcrypt::verify("changed", doc2["password"].as_str().unwrap()).unwrap());
    }

    #[test]
    fn subject_document_splits_the_auth() {
        let ns = NamespaceAuth {
            name: "whisk-system".into(),
            uuid: "789c46b1-71f6-4ed5-8c54-816aa4f8c502".into(),
            key: Secret::new("abcd"),
        };
        assert_eq!(
            subject_doc(&ns),
            json!({
                "_id": "whisk-system",
                "subject": "whisk-system",
                "namespaces": [{
                    "name": "whisk-system",
                    "uuid": "789c46b1-71f6-4ed5-8c54-816aa4f8c502",
                    "key": "abcd"
                }]
            })
        );
    }
}
