//! `setup couchdb` against a real CouchDB-protocol server: pouchdb-server
//! (Node.js, in-memory mode, admin user from its config file), installed
//! outside the repository by `tools/testdeps/couchdb.sh`, which the tests run
//! (it returns at once when the cache is there). When npm or the install is
//! missing the tests fail with that reason.
//!
//! What pouchdb-server 4.2 lacks, and how it is covered here:
//! * `/_cluster_setup` (CouchDB 2.x+ only): answered by a MOCK in the test
//!   proxy below — for that endpoint only. It keeps the state
//!   (`cluster_disabled` → `single_node_enabled`), checks the admin
//!   credentials and the request body, and the tests assert the exact calls.
//! * `/_node/_local/_config/...` (CouchDB 2.x node config API): pouchdb-server
//!   implements the same config semantics at the CouchDB 1.x path
//!   `/_config/...`; the proxy rewrites the path and the real server answers.
//!
//! Everything else (`_users` and `/_session`, databases, `_security`,
//! documents with revisions and 409 conflicts) goes to pouchdb-server
//! unchanged.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode, header};
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use nuvolaris_operator::setup::{
    CouchdbSetupConfig, Outcome, Secret, SetupError, SetupSettings, run_couchdb_setup,
};

const ADMIN: &str = "whisk_admin";
const ADMIN_PASSWORD: &str = "adm-S3cret-pw";
const CONTROLLER_PASSWORD: &str = "ctl-S3cret-pw";
const INVOKER_PASSWORD: &str = "inv-S3cret-pw";
const NUVOLARIS_PASSWORD: &str = "nuv-S3cret-pw";
const WHISK_SYSTEM_UUID: &str = "789c46b1-71f6-4ed5-8c54-816aa4f8c502";
const WHISK_SYSTEM_KEY: &str =
    "wskKEY00abczO3xKCLHD4TGIunWhRUtVfzGrrT4Lmn8NrLcLTRHIaGHKEnBMGSwVhpS";
const NUVOLARIS_UUID: &str = "cbd68075-dac2-475e-8c07-d62a30c7e683";
const NUVOLARIS_KEY: &str = "nuvKEY00CI4arBxDGGo2WnqVvFwOSJvW6tdd9h2Kwd7GptEZk3kbKxIVaEAeKRpL";
const METADATA_SECRET: &str = "s3-S3cret-key";

// ---------------------------------------------------------------- helpers

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn http_client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Path of the pouchdb-server binary, installing it when missing.
fn pouchdb_server_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/testdeps/couchdb.sh");
        let out = Command::new("bash")
            .arg(script)
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
        assert!(
            out.status.success(),
            "{script} failed: pouchdb-server is required for these tests (needs npm)"
        );
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
    .clone()
}

/// A pouchdb-server child process (in memory), killed when dropped.
struct PouchServer {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for PouchServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_pouchdb() -> PouchServer {
    let server = spawn_pouchdb();
    wait_for_pouchdb(server.port).await;
    server
}

/// Starts pouchdb-server without waiting for it to listen.
fn spawn_pouchdb() -> PouchServer {
    let bin = pouchdb_server_bin();
    let dir = tempfile::tempdir().unwrap();
    // The admin is declared in the config file; pouchdb-server hashes it on start.
    std::fs::write(
        dir.path().join("config.json"),
        json!({
            "admins": { ADMIN: ADMIN_PASSWORD },
            "log": { "file": dir.path().join("log.txt") },
        })
        .to_string(),
    )
    .unwrap();
    let port = free_port();
    let child = Command::new(&bin)
        .args(["--in-memory", "--no-stdout-logs", "--host", "127.0.0.1"])
        .args(["--port", &port.to_string(), "--config", "config.json"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    PouchServer {
        child,
        port,
        _dir: dir,
    }
}

/// Waits (bounded) until pouchdb-server answers, so that timings measure the
/// setup only.
async fn wait_for_pouchdb(port: u16) {
    let client = http_client();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let req = Request::get(format!("http://127.0.0.1:{port}/"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        if let Ok(r) = client.request(req).await
            && r.status() == StatusCode::OK
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "pouchdb-server did not answer on port {port} within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One request seen by the proxy.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    body: Vec<u8>,
}

/// The proxy between the setup and pouchdb-server (see the module docs).
#[derive(Clone)]
struct Proxy {
    upstream: String,
    client: HttpClient,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// MOCK state of `/_cluster_setup`.
    cluster_state: Arc<Mutex<String>>,
    /// When set, the next PUT to this path is preceded by a concurrent update
    /// of the same document sent straight to pouchdb-server, so the setup's
    /// PUT gets a real 409 from the real server.
    race_on: Arc<Mutex<Option<String>>>,
}

impl Proxy {
    async fn start(pouch_port: u16, cluster_state: &str) -> (Proxy, String) {
        let proxy = Proxy {
            upstream: format!("http://127.0.0.1:{pouch_port}"),
            client: http_client(),
            seen: Arc::default(),
            cluster_state: Arc::new(Mutex::new(cluster_state.to_string())),
            race_on: Arc::default(),
        };
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(proxy.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (proxy, url)
    }

    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut self.seen.lock().unwrap())
    }
}

async fn handle(
    axum::extract::State(p): axum::extract::State<Proxy>,
    req: axum::extract::Request,
) -> axum::response::Response {
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map_or("/".to_string(), |x| x.as_str().to_string());
    let headers = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), usize::MAX)
        .await
        .unwrap();
    p.seen.lock().unwrap().push(Seen {
        method: method.to_string(),
        path: path.clone(),
        body: body.to_vec(),
    });
    let reply = |status: StatusCode, v: Value| {
        axum::response::Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(v.to_string()))
            .unwrap()
    };

    if path == "/_cluster_setup" {
        // MOCK of CouchDB 2.x /_cluster_setup (pouchdb-server has none).
        if headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            != Some(&basic(ADMIN, ADMIN_PASSWORD))
        {
            return reply(StatusCode::UNAUTHORIZED, json!({"error": "unauthorized"}));
        }
        let mut state = p.cluster_state.lock().unwrap();
        return match method {
            Method::GET => reply(StatusCode::OK, json!({ "state": *state })),
            Method::POST => {
                let v: Value = serde_json::from_slice(&body).unwrap_or_default();
                if v["action"] == "enable_single_node" && v["singlenode"] == true {
                    *state = "single_node_enabled".into();
                    reply(StatusCode::CREATED, json!({"ok": true}))
                } else {
                    reply(StatusCode::BAD_REQUEST, json!({"error": "bad_request"}))
                }
            }
            _ => reply(StatusCode::METHOD_NOT_ALLOWED, json!({})),
        };
    }

    let race = {
        let mut race_on = p.race_on.lock().unwrap();
        if method == Method::PUT && race_on.as_deref() == Some(path.as_str()) {
            race_on.take()
        } else {
            None
        }
    };
    if let Some(doc_path) = race {
        concurrent_update(&p, &doc_path).await;
    }

    // CouchDB 2.x node config API → pouchdb-server's CouchDB 1.x config API.
    let target = match path.strip_prefix("/_node/_local/_config") {
        Some(rest) => format!("/_config{rest}"),
        None => path,
    };
    let mut forward = Request::builder()
        .method(method)
        .uri(format!("{}{target}", p.upstream));
    for (k, v) in headers.iter().filter(|(k, _)| *k != header::HOST) {
        forward = forward.header(k, v);
    }
    let resp = match p
        .client
        .request(forward.body(Full::new(body)).unwrap())
        .await
    {
        Ok(r) => r,
        // pouchdb-server not listening yet: answer like a gateway would.
        Err(_) => return reply(StatusCode::BAD_GATEWAY, json!({"error": "upstream down"})),
    };
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    axum::response::Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from(bytes))
        .unwrap()
}

/// Another writer: adds a field to the document (creating it if missing).
async fn concurrent_update(p: &Proxy, doc_path: &str) {
    let url = format!("{}{doc_path}", p.upstream);
    let auth = basic(ADMIN, ADMIN_PASSWORD);
    let get = Request::get(&url)
        .header(header::AUTHORIZATION, &auth)
        .body(Full::new(Bytes::new()))
        .unwrap();
    let r = p.client.request(get).await.unwrap();
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    let mut doc: Value = serde_json::from_slice(&bytes).unwrap();
    if doc.get("error").is_some() {
        doc = json!({});
    }
    doc["touched_by_another_writer"] = json!(true);
    let put = Request::put(&url)
        .header(header::AUTHORIZATION, &auth)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(doc.to_string())))
        .unwrap();
    let status = p.client.request(put).await.unwrap().status();
    assert!(status.is_success(), "concurrent update failed: {status}");
}

/// GET against pouchdb-server directly (not through the proxy).
async fn get(port: u16, path: &str, auth: &str) -> (StatusCode, Value) {
    let req = Request::get(format!("http://127.0.0.1:{port}{path}"))
        .header(header::AUTHORIZATION, auth)
        .header(header::ACCEPT, "application/json")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let r = http_client().request(req).await.unwrap();
    let status = r.status();
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn admin_get(port: u16, path: &str) -> Value {
    let (status, v) = get(port, path, &basic(ADMIN, ADMIN_PASSWORD)).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {v}");
    v
}

async fn admin_put(port: u16, path: &str, doc: &Value) {
    let req = Request::put(format!("http://127.0.0.1:{port}{path}"))
        .header(header::AUTHORIZATION, basic(ADMIN, ADMIN_PASSWORD))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(doc.to_string())))
        .unwrap();
    let status = http_client().request(req).await.unwrap().status();
    assert!(status.is_success(), "PUT {path}: {status}");
}

fn vars(url: &str, prefix: &str) -> Vec<(String, String)> {
    [
        ("COUCHDB_URL", url.to_string()),
        ("COUCHDB_ADMIN_USER", ADMIN.into()),
        ("COUCHDB_ADMIN_PASSWORD", ADMIN_PASSWORD.into()),
        ("COUCHDB_CONTROLLER_USER", "controller_admin".into()),
        ("COUCHDB_CONTROLLER_PASSWORD", CONTROLLER_PASSWORD.into()),
        ("COUCHDB_INVOKER_USER", "invoker_admin".into()),
        ("COUCHDB_INVOKER_PASSWORD", INVOKER_PASSWORD.into()),
        ("COUCHDB_DB_PREFIX", prefix.into()),
        (
            "OPENWHISK_NAMESPACES",
            format!(
                "whisk-system={WHISK_SYSTEM_UUID}:{WHISK_SYSTEM_KEY},\
                 nuvolaris={NUVOLARIS_UUID}:{NUVOLARIS_KEY}"
            ),
        ),
        ("NUVOLARIS_PASSWORD", NUVOLARIS_PASSWORD.into()),
        ("NUVOLARIS_EMAIL", "admin@example.org".into()),
        ("NUVOLARIS_METADATA_S3_SECRET_KEY", METADATA_SECRET.into()),
        ("NUVOLARIS_METADATA_REDIS_PREFIX", "nuvolaris:".into()),
        ("COUCHDB_WAIT_SECONDS", "10".into()),
        ("COUCHDB_TIMEOUT_SECONDS", "5".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Captures everything logged in this test binary (all levels). Global:
/// tracing caches callsite interest across threads, so thread-local
/// subscribers in parallel tests would miss events.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl LogBuffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn logs() -> &'static LogBuffer {
    static LOGS: OnceLock<LogBuffer> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = LogBuffer::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(logs.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
}

/// Every revision, security object and config value the setup manages.
async fn snapshot(port: u16, prefix: &str) -> Value {
    let mut out = serde_json::Map::new();
    for db in ["subjects", "activations", "whisks", "users_metadata"] {
        let dbn = format!("{prefix}{db}");
        let all = admin_get(port, &format!("/{dbn}/_all_docs")).await;
        let revs: Vec<Value> = all["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| json!([r["id"], r["value"]["rev"]]))
            .collect();
        out.insert(format!("{dbn} docs"), Value::from(revs));
        let security = admin_get(port, &format!("/{dbn}/_security")).await;
        out.insert(format!("{dbn} security"), security);
    }
    for user in ["controller_admin", "invoker_admin"] {
        let doc = admin_get(port, &format!("/_users/org.couchdb.user:{user}")).await;
        out.insert(format!("user {user}"), doc["_rev"].clone());
    }
    out.insert("config".into(), admin_get(port, "/_config").await);
    Value::Object(out)
}

fn embedded(file: &str) -> Value {
    let path = format!(
        "{}/deploy/couchdb-init/design/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn without_rev(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("_rev");
    v
}

// ------------------------------------------------------------------ tests

#[tokio::test]
async fn first_run_creates_everything_second_run_changes_nothing() {
    let logs = logs();
    let pouch = start_pouchdb().await;
    let (proxy, url) = Proxy::start(pouch.port, "cluster_disabled").await;
    let port = pouch.port;
    let p = "nuvolaris_";

    let t = Instant::now();
    let first = run_couchdb_setup(CouchdbSetupConfig::from_vars(vars(&url, p)).unwrap())
        .await
        .unwrap();
    let first_time = t.elapsed();
    let first_calls = proxy.take();
    assert_eq!(first.count(Outcome::Updated), 0, "{first:?}");
    assert_eq!(first.count(Outcome::Unchanged), 0, "{first:?}");
    // 1 cluster + 1 config + 2 users + 3×(db + security) + 10 design docs
    // + 2 subjects + users_metadata db + metadata doc + 3 compactions.
    assert_eq!(first.steps.len(), 27, "{first:?}");

    // Cluster setup (MOCK endpoint): state read, then one enable_single_node.
    let cluster: Vec<&Seen> = first_calls
        .iter()
        .filter(|s| s.path == "/_cluster_setup")
        .collect();
    assert_eq!(cluster.len(), 2, "{cluster:?}");
    assert_eq!(cluster[0].method, "GET");
    assert_eq!(cluster[1].method, "POST");
    let body: Value = serde_json::from_slice(&cluster[1].body).unwrap();
    assert_eq!(
        body,
        json!({"action": "enable_single_node", "singlenode": true,
               "bind_address": "0.0.0.0", "port": 5984})
    );
    assert_eq!(*proxy.cluster_state.lock().unwrap(), "single_node_enabled");

    // Node config (real pouchdb-server, CouchDB 1.x path).
    assert_eq!(
        admin_get(port, "/_config/query_server_config/reduce_limit").await,
        "false"
    );
    for db in ["users_metadata", "subjects", "whisks"] {
        assert_eq!(
            admin_get(port, &format!("/_config/compactions/nuvolaris_{db}")).await,
            r#"[{db_fragmentation, "60%"}, {view_fragmentation, "60%"}]"#
        );
    }

    // Users: documents in _users, and they can log in.
    for (user, pw) in [
        ("controller_admin", CONTROLLER_PASSWORD),
        ("invoker_admin", INVOKER_PASSWORD),
    ] {
        let doc = admin_get(port, &format!("/_users/org.couchdb.user:{user}")).await;
        assert_eq!(doc["type"], "user");
        assert_eq!(doc["roles"], json!([]));
        assert!(doc.get("password").is_none(), "password stored in clear");
        let (status, session) = get(port, "/_session", &basic(user, pw)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(session["userCtx"]["name"], user);
    }

    // Databases, security and design documents.
    let security = json!({
        "admins": {"names": [], "roles": []},
        "members": {"names": ["controller_admin", "invoker_admin"], "roles": []},
    });
    let expected_docs: [(&str, &[&str]); 3] = [
        (
            "subjects",
            &[
                "subjects/subjects.v2.0.0.json",
                "snapshotFilters.json",
                "subjects/namespaceThrottlings.json",
            ],
        ),
        (
            "activations",
            &[
                "activations/whisks.v2.1.0.json",
                "activations/whisks-filters.v2.1.1.json",
                "snapshotFilters.json",
                "activations/activations.json",
                "activations/logCleanup.json",
            ],
        ),
        (
            "whisks",
            &["whisks/whisks.v2.1.0.json", "snapshotFilters.json"],
        ),
    ];
    for (db, files) in expected_docs {
        assert_eq!(
            admin_get(port, &format!("/nuvolaris_{db}/_security")).await,
            security
        );
        for file in files {
            let want = embedded(file);
            let id = want["_id"].as_str().unwrap();
            let got = admin_get(port, &format!("/nuvolaris_{db}/{id}")).await;
            assert_eq!(without_rev(got), want, "{db}/{id}");
        }
    }

    // Subjects: one document per namespace, auth split into uuid and key.
    let ws = admin_get(port, "/nuvolaris_subjects/whisk-system").await;
    assert_eq!(
        without_rev(ws),
        json!({"_id": "whisk-system", "subject": "whisk-system",
               "namespaces": [{"name": "whisk-system", "uuid": WHISK_SYSTEM_UUID,
                               "key": WHISK_SYSTEM_KEY}]})
    );
    let nv = admin_get(port, "/nuvolaris_subjects/nuvolaris").await;
    assert_eq!(nv["namespaces"][0]["uuid"], NUVOLARIS_UUID);

    // users_metadata/nuvolaris: bcrypt hash, e-mail, env entries.
    let meta = admin_get(port, "/nuvolaris_users_metadata/nuvolaris").await;
    assert_eq!(meta["login"], "nuvolaris");
    assert_eq!(meta["email"], "admin@example.org");
    assert_eq!(meta["quota"], json!([]));
    let hash = meta["password"].as_str().unwrap();
    assert!(hash.starts_with("$2"), "not a bcrypt hash");
    assert!(bcrypt::verify(NUVOLARIS_PASSWORD, hash).unwrap());
    assert_eq!(
        meta["env"],
        json!([
            {"key": "AUTH", "value": format!("{NUVOLARIS_UUID}:{NUVOLARIS_KEY}")},
            {"key": "REDIS_PREFIX", "value": "nuvolaris:"},
            {"key": "S3_SECRET_KEY", "value": METADATA_SECRET},
        ])
    );

    // Second run: every step unchanged, no write request at all, same revisions.
    let before = snapshot(port, p).await;
    let t = Instant::now();
    let second = run_couchdb_setup(CouchdbSetupConfig::from_vars(vars(&url, p)).unwrap())
        .await
        .unwrap();
    let second_time = t.elapsed();
    assert!(second.is_unchanged(), "{second:?}");
    assert_eq!(second.steps.len(), first.steps.len());
    let writes: Vec<String> = proxy
        .take()
        .iter()
        .filter(|s| s.method != "GET")
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert!(writes.is_empty(), "second run wrote: {writes:?}");
    assert_eq!(snapshot(port, p).await, before);

    // Secrets never reach the logs or the report (clear or as basic auth).
    let text = logs.text();
    assert!(
        text.contains("document nuvolaris_subjects/whisk-system"),
        "{text}"
    );
    let report = format!("{first:?}{first}{second:?}");
    for secret in [
        ADMIN_PASSWORD,
        CONTROLLER_PASSWORD,
        INVOKER_PASSWORD,
        NUVOLARIS_PASSWORD,
        WHISK_SYSTEM_KEY,
        NUVOLARIS_KEY,
        METADATA_SECRET,
        &basic(ADMIN, ADMIN_PASSWORD)[6..],
    ] {
        assert!(!text.contains(secret), "secret in logs");
        assert!(!report.contains(secret), "secret in report");
    }
    eprintln!(
        "couchdb setup vs pouchdb-server: first run {first_time:?} ({} requests), \
         second run {second_time:?}",
        first_calls.len()
    );
}

#[tokio::test]
async fn changed_credentials_update_only_what_changed() {
    logs();
    let pouch = start_pouchdb().await;
    let (proxy, url) = Proxy::start(pouch.port, "cluster_finished").await;
    let p = "upd_";
    let first = run_couchdb_setup(CouchdbSetupConfig::from_vars(vars(&url, p)).unwrap())
        .await
        .unwrap();
    // Cluster already finished: read only, no POST (MOCK endpoint).
    assert_eq!(
        first.outcome_of("cluster single_node"),
        Some(Outcome::Unchanged)
    );
    assert!(
        !proxy
            .take()
            .iter()
            .any(|s| s.path == "/_cluster_setup" && s.method != "GET")
    );

    // Fields written by others: an operator blocks the namespace, the
    // `secrets` action stores user secrets. The setup must keep them.
    let port = pouch.port;
    let mut ws = admin_get(port, "/upd_subjects/whisk-system").await;
    ws["blocked"] = json!(true);
    admin_put(port, "/upd_subjects/whisk-system", &ws).await;
    let mut meta = admin_get(port, "/upd_users_metadata/nuvolaris").await;
    meta["userenv"] = json!([{"key": "MY_SECRET", "value": "user-value"}]);
    admin_put(port, "/upd_users_metadata/nuvolaris", &meta).await;
    let untouched = run_couchdb_setup(CouchdbSetupConfig::from_vars(vars(&url, p)).unwrap())
        .await
        .unwrap();
    assert!(untouched.is_unchanged(), "{untouched:?}");

    let mut cfg = CouchdbSetupConfig::from_vars(vars(&url, p)).unwrap();
    cfg.controller_password = Secret::new("new-controller-pw");
    cfg.namespaces[0].key = Secret::new("newWhiskSystemKey");
    cfg.nuvolaris_password = Secret::new("new-nuvolaris-pw");
    let second = run_couchdb_setup(cfg).await.unwrap();
    let changed: Vec<&str> = second
        .steps
        .iter()
        .filter(|s| s.outcome != Outcome::Unchanged)
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(
        changed,
        [
            "user controller_admin",
            "document upd_subjects/whisk-system",
            "document upd_users_metadata/nuvolaris",
        ]
    );
    assert!(
        changed
            .iter()
            .all(|n| second.outcome_of(n) == Some(Outcome::Updated))
    );

    let (status, _) = get(
        port,
        "/_session",
        &basic("controller_admin", "new-controller-pw"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let ws = admin_get(port, "/upd_subjects/whisk-system").await;
    assert_eq!(ws["namespaces"][0]["key"], "newWhiskSystemKey");
    assert_eq!(ws["blocked"], true);
    assert!(ws["_rev"].as_str().unwrap().starts_with("3-"));
    let meta = admin_get(port, "/upd_users_metadata/nuvolaris").await;
    assert!(bcrypt::verify("new-nuvolaris-pw", meta["password"].as_str().unwrap()).unwrap());
    assert_eq!(meta["userenv"][0]["value"], "user-value");
}

#[tokio::test]
async fn unreachable_couchdb_fails_within_the_wait() {
    logs();
    let mut cfg =
        CouchdbSetupConfig::from_vars(vars(&format!("http://127.0.0.1:{}", free_port()), "x_"))
            .unwrap();
    cfg.wait = Duration::from_secs(1);
    let t = Instant::now();
    let err = run_couchdb_setup(cfg).await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(
        matches!(
            err,
            SetupError::NotReady {
                service: "couchdb",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn wrong_admin_password_is_reported_without_the_password() {
    logs();
    let pouch = start_pouchdb().await;
    let url = format!("http://127.0.0.1:{}", pouch.port);
    let mut cfg = CouchdbSetupConfig::from_vars(vars(&url, "bad_")).unwrap();
    cfg.admin_password = Secret::new("wrong-admin-pw");
    cfg.wait = Duration::from_secs(20);
    // A rejected admin password is final: no waiting until COUCHDB_WAIT_SECONDS.
    let t = Instant::now();
    let err = run_couchdb_setup(cfg).await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert!(
        matches!(err, SetupError::Status { status: 401, .. }),
        "{err}"
    );
    let msg = err.to_string();
    assert!(msg.contains("401"), "{msg}");
    assert!(!msg.contains("wrong-admin-pw"), "{msg}");
}

#[tokio::test]
async fn waits_for_a_server_that_is_still_starting() {
    logs();
    // No wait here: the setup's own bounded backoff has to cover the start-up
    // of the real server (the proxy answers 502 until pouchdb listens).
    let pouch = spawn_pouchdb();
    let (_proxy, url) = Proxy::start(pouch.port, "cluster_disabled").await;
    let mut cfg = CouchdbSetupConfig::from_vars(vars(&url, "late_")).unwrap();
    cfg.wait = Duration::from_secs(20);
    let report = run_couchdb_setup(cfg).await.unwrap();
    assert_eq!(report.count(Outcome::Created), report.steps.len());
}

#[tokio::test]
async fn a_concurrent_writer_409_is_resolved_by_rereading() {
    logs();
    let pouch = start_pouchdb().await;
    let (proxy, url) = Proxy::start(pouch.port, "cluster_disabled").await;
    let p = "race_";
    let doc_path = "/race_subjects/whisk-system";

    // Create race: another writer creates the subject between GET (404) and PUT.
    *proxy.race_on.lock().unwrap() = Some(doc_path.into());
    let first = run_couchdb_setup(CouchdbSetupConfig::from_vars(vars(&url, p)).unwrap())
        .await
        .unwrap();
    assert!(
        proxy.race_on.lock().unwrap().is_none(),
        "race not triggered"
    );
    let conflicts = proxy
        .take()
        .iter()
        .filter(|s| s.method == "PUT" && s.path == doc_path)
        .count();
    assert_eq!(conflicts, 2, "one PUT got 409, the retry succeeded");
    // The other writer's document lacked the owned fields: the setup updated
    // it, keeping the other writer's own field (the setup owns only
    // _id/subject/namespaces of a subject).
    assert_eq!(
        first.outcome_of("document race_subjects/whisk-system"),
        Some(Outcome::Updated)
    );
    let doc = admin_get(pouch.port, doc_path).await;
    assert_eq!(doc["touched_by_another_writer"], true, "{doc}");
    assert_eq!(doc["namespaces"][0]["key"], WHISK_SYSTEM_KEY);
    assert!(doc["_rev"].as_str().unwrap().starts_with("2-"), "{doc}");

    // Update race: the stored document changes between GET and PUT.
    let mut cfg = CouchdbSetupConfig::from_vars(vars(&url, p)).unwrap();
    cfg.namespaces[0].key = Secret::new("rotatedKey");
    *proxy.race_on.lock().unwrap() = Some(doc_path.into());
    let second = run_couchdb_setup(cfg).await.unwrap();
    assert!(
        proxy.race_on.lock().unwrap().is_none(),
        "race not triggered"
    );
    assert_eq!(
        second.outcome_of("document race_subjects/whisk-system"),
        Some(Outcome::Updated)
    );
    let doc = admin_get(pouch.port, doc_path).await;
    assert_eq!(doc["namespaces"][0]["key"], "rotatedKey");
    // 2 (first run) → 3 (other writer) → 4 (setup after re-reading).
    assert!(doc["_rev"].as_str().unwrap().starts_with("4-"), "{doc}");
}

/// The operator re-runs `setup couchdb` when the components' annotations change (the env list
/// is in the Job's Secret): only the metadata document is rewritten, with the new env list, the
/// user's own secrets and the password hash kept. Prints the time of that upsert.
#[tokio::test]
async fn a_changed_env_list_rewrites_only_the_metadata_document() {
    logs();
    let pouch = start_pouchdb().await;
    let (proxy, url) = Proxy::start(pouch.port, "cluster_finished").await;
    let p = "env_";
    run_couchdb_setup(CouchdbSetupConfig::from_vars(vars(&url, p)).unwrap())
        .await
        .unwrap();
    let port = pouch.port;
    let path = "/env_users_metadata/nuvolaris";
    let mut meta = admin_get(port, path).await;
    meta["userenv"] = json!([{"key": "MY_SECRET", "value": "user-value"}]);
    admin_put(port, path, &meta).await;
    let hash = admin_get(port, path).await["password"].clone();
    proxy.take();

    // S3 switched off, a Redis URL added.
    let changed_vars: Vec<(String, String)> = vars(&url, p)
        .into_iter()
        .filter(|(k, _)| k != "NUVOLARIS_METADATA_S3_SECRET_KEY")
        .chain([(
            "NUVOLARIS_METADATA_REDIS_URL".to_owned(),
            "redis://nuvolaris:pw@redis:6379".to_owned(),
        )])
        .collect();
    let t = Instant::now();
    let report = run_couchdb_setup(CouchdbSetupConfig::from_vars(changed_vars.clone()).unwrap())
        .await
        .unwrap();
    let upsert = t.elapsed();
    let changed: Vec<&str> = report
        .steps
        .iter()
        .filter(|s| s.outcome != Outcome::Unchanged)
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(changed, ["document env_users_metadata/nuvolaris"]);
    let writes: Vec<String> = proxy
        .take()
        .iter()
        .filter(|s| s.method != "GET")
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(writes, [format!("PUT {path}")]);
    let meta = admin_get(port, path).await;
    assert_eq!(
        meta["env"],
        json!([
            {"key": "AUTH", "value": format!("{NUVOLARIS_UUID}:{NUVOLARIS_KEY}")},
            {"key": "REDIS_PREFIX", "value": "nuvolaris:"},
            {"key": "REDIS_URL", "value": "redis://nuvolaris:pw@redis:6379"},
        ])
    );
    assert_eq!(meta["userenv"][0]["value"], "user-value");
    assert_eq!(meta["password"], hash, "same password: the hash is kept");

    let t = Instant::now();
    let again = run_couchdb_setup(CouchdbSetupConfig::from_vars(changed_vars).unwrap())
        .await
        .unwrap();
    let unchanged = t.elapsed();
    assert!(again.is_unchanged(), "{again:?}");
    eprintln!(
        "setup couchdb with a changed metadata env (one document upserted) vs pouchdb-server: \
         {upsert:?}; nothing to change: {unchanged:?}"
    );
}
