//! `setup milvus` against a STAND-IN for Milvus's REST API v2: no real Milvus runs here.
//!
//! milvus-lite (the only Milvus installable here, tools/testdeps/milvus-lite.sh) serves the gRPC
//! API only, without users, roles or privileges, so it cannot answer any call of this setup.
//! The stand-in implements, in memory, the documented subset the setup uses (milvus.io REST
//! reference v2, `POST /v2/vectordb/<resource>/<action>`, `Authorization: Bearer <user>:<pw>`,
//! answers `{"code": 0, "data": …}` or `{"code": N, "message": …}`): `databases/list|create`,
//! `users/list|create|describe|update_password|grant_role`, `roles/list|create|describe|
//! grant_privilege_v2`. It checks the token on every call (code 1800 when refused; only root
//! may administer), the required body fields (code 1100 when missing) and that referenced
//! users, roles and databases exist (code 65535). Every call is recorded.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::{Value, json};

use nuvolaris_operator::setup::{MilvusSetupConfig, Outcome, Secret, SetupError, run_milvus_setup};

const ROOT_PASSWORD: &str = "r00t@:#'\"pw";

#[derive(Default)]
struct Model {
    users: BTreeMap<String, String>,
    databases: BTreeSet<String>,
    roles: BTreeSet<String>,
    /// role → (privilege, database)
    grants: BTreeMap<String, BTreeSet<(String, String)>>,
    user_roles: BTreeMap<String, BTreeSet<String>>,
    /// (path, caller) of every call, in order
    calls: Vec<(String, String)>,
}

type Shared = Arc<Mutex<Model>>;

/// A JSON answer (Milvus answers HTTP 200 with the outcome in `code`).
type Answer = ([(axum::http::HeaderName, &'static str); 1], String);

fn answer(body: Value) -> Answer {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
}

fn ok(data: Value) -> Answer {
    answer(json!({"code": 0, "data": data}))
}

fn fail(code: i64, message: &str) -> Answer {
    answer(json!({"code": code, "message": message}))
}

async fn vectordb(
    State(state): State<Shared>,
    Path((resource, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let mut m = state.lock().unwrap();
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    let (user, password) = token.split_once(':').unwrap_or(("", ""));
    let path = format!("{resource}/{action}");
    m.calls.push((path.clone(), user.to_owned()));
    if m.users.get(user).map(String::as_str) != Some(password) {
        return fail(1800, "user hasn't authenticated");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return fail(1100, "invalid JSON body");
    };
    let field = |name: &str| body[name].as_str().map(str::to_owned);
    macro_rules! need {
        ($name:expr) => {
            match field($name) {
                Some(value) => value,
                None => return fail(1100, &format!("missing required parameter {}", $name)),
            }
        };
    }
    if path == "databases/list" {
        return ok(json!(m.databases.iter().collect::<Vec<_>>()));
    }
    if user != "root" {
        return fail(1800, "permission denied: not root");
    }
    match path.as_str() {
        "databases/create" => {
            let db = need!("dbName");
            if !m.databases.insert(db) {
                return fail(65535, "database already exist");
            }
            ok(json!({}))
        }
        "users/list" => ok(json!(m.users.keys().collect::<Vec<_>>())),
        "users/create" => {
            let name = need!("userName");
            let password = need!("password");
            if m.users.contains_key(&name) {
                return fail(65535, "user already exists");
            }
            m.users.insert(name, password);
            ok(json!({}))
        }
        "users/update_password" => {
            let name = need!("userName");
            need!("password");
            let new = need!("newPassword");
            match m.users.get_mut(&name) {
                Some(stored) => {
                    *stored = new;
                    ok(json!({}))
                }
                None => fail(65535, "user not found"),
            }
        }
        "users/describe" => {
            let name = need!("userName");
            if !m.users.contains_key(&name) {
                return fail(65535, "user not found");
            }
            let roles: Vec<String> = m
                .user_roles
                .get(&name)
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            ok(json!(roles))
        }
        "users/grant_role" => {
            let name = need!("userName");
            let role = need!("roleName");
            if !m.users.contains_key(&name) || !m.roles.contains(&role) {
                return fail(65535, "user or role not found");
            }
            m.user_roles.entry(name).or_default().insert(role);
            ok(json!({}))
        }
        "roles/list" => ok(json!(m.roles.iter().collect::<Vec<_>>())),
        "roles/create" => {
            let role = need!("roleName");
            if !m.roles.insert(role) {
                return fail(65535, "role already exists");
            }
            ok(json!({}))
        }
        "roles/describe" => {
            let role = need!("roleName");
            if !m.roles.contains(&role) {
                return fail(65535, "role not found");
            }
            let grants: Vec<Value> = m
                .grants
                .get(&role)
                .into_iter()
                .flatten()
                .map(|(privilege, db)| json!({"objectType": "Global", "objectName": "*", "privilege": privilege, "dbName": db, "grantor": "root"}))
                .collect();
            ok(json!(grants))
        }
        "roles/grant_privilege_v2" => {
            let role = need!("roleName");
            let privilege = need!("privilege");
            let db = need!("dbName");
            need!("collectionName");
            if !m.roles.contains(&role) || !m.databases.contains(&db) {
                return fail(65535, "role or database not found");
            }
            m.grants.entry(role).or_default().insert((privilege, db));
            ok(json!({}))
        }
        _ => fail(404, "no such endpoint in the stand-in"),
    }
}

/// Starts the stand-in with the root user; returns its URL and model.
async fn stand_in() -> (String, Shared) {
    let model = Model {
        users: [("root".to_owned(), ROOT_PASSWORD.to_owned())].into(),
        databases: ["default".to_owned()].into(),
        ..Model::default()
    };
    let state: Shared = Arc::new(Mutex::new(model));
    let app = Router::new()
        .route("/v2/vectordb/{resource}/{action}", post(vectordb))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, state)
}

fn settings(url: &str, password: &str) -> MilvusSetupConfig {
    let mut cfg = MilvusSetupConfig::new(
        url.to_owned(),
        Secret::new(ROOT_PASSWORD),
        Secret::new(password),
    );
    cfg.wait = Duration::from_secs(5);
    cfg.timeout = Duration::from_secs(5);
    cfg
}

const WRITES: &[&str] = &[
    "users/create",
    "users/update_password",
    "users/grant_role",
    "databases/create",
    "roles/create",
    "roles/grant_privilege_v2",
];

fn writes(state: &Shared) -> Vec<String> {
    state
        .lock()
        .unwrap()
        .calls
        .iter()
        .filter(|(path, _)| WRITES.contains(&path.as_str()))
        .map(|(path, _)| path.clone())
        .collect()
}

#[tokio::test]
async fn setup_milvus_creates_then_changes_nothing_then_follows_a_new_password() {
    let (url, state) = stand_in().await;
    let password = "nuv@:#'\" pw";
    let started = Instant::now();
    let first = run_milvus_setup(settings(&url, password))
        .await
        .expect("first run");
    let first_ms = started.elapsed().as_millis();
    for step in [
        "user nuvolaris",
        "database nuvolaris",
        "role nuvolaris_role",
    ] {
        assert_eq!(
            first.outcome_of(step),
            Some(Outcome::Created),
            "{step}: {first:?}"
        );
    }
    assert_eq!(
        first.outcome_of("role nuvolaris_role of nuvolaris"),
        Some(Outcome::Updated)
    );
    {
        let m = state.lock().unwrap();
        assert_eq!(m.users.get("nuvolaris").map(String::as_str), Some(password));
        assert!(m.databases.contains("nuvolaris"));
        let grants = &m.grants["nuvolaris_role"];
        for privilege in ["DatabaseAdmin", "CollectionAdmin"] {
            assert!(
                grants.contains(&(privilege.to_owned(), "nuvolaris".to_owned())),
                "{grants:?}"
            );
        }
        assert!(m.user_roles["nuvolaris"].contains("nuvolaris_role"));
    }
    let writes_after_first = writes(&state).len();

    let started = Instant::now();
    let second = run_milvus_setup(settings(&url, password))
        .await
        .expect("second run");
    let second_ms = started.elapsed().as_millis();
    assert!(second.is_unchanged(), "{second:?}");
    assert_eq!(
        writes(&state).len(),
        writes_after_first,
        "no write on the second run"
    );
    assert!(
        state
            .lock()
            .unwrap()
            .calls
            .iter()
            .any(|(path, user)| path == "databases/list" && user == "nuvolaris"),
        "the user's password is checked with its own token"
    );

    let third = run_milvus_setup(settings(&url, "changed"))
        .await
        .expect("new password");
    assert_eq!(
        third.outcome_of("user nuvolaris"),
        Some(Outcome::Updated),
        "{third:?}"
    );
    assert_eq!(
        state
            .lock()
            .unwrap()
            .users
            .get("nuvolaris")
            .map(String::as_str),
        Some("changed")
    );
    println!(
        "figure: setup milvus against the REST stand-in: first run {first_ms} ms, no-op rerun {second_ms} ms"
    );
}

#[tokio::test]
async fn setup_milvus_refuses_wrong_root_credentials_at_once() {
    let (url, _state) = stand_in().await;
    let mut cfg = settings(&url, "pw");
    cfg.root_password = Secret::new("not-the-root-password");
    cfg.wait = Duration::from_secs(60);
    let started = Instant::now();
    let err = run_milvus_setup(cfg)
        .await
        .expect_err("wrong root password");
    assert!(started.elapsed() < Duration::from_secs(10), "not retried");
    let message = err.to_string();
    assert!(
        message.contains("refused the root credentials"),
        "{message}"
    );
    assert!(!message.contains("not-the-root-password"), "{message}");
}

#[tokio::test]
async fn setup_milvus_gives_up_on_a_milvus_that_does_not_answer() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = settings(&format!("http://127.0.0.1:{port}"), "pw");
    cfg.wait = Duration::from_secs(1);
    let err = run_milvus_setup(cfg).await.expect_err("nothing listens");
    assert!(
        matches!(
            err,
            SetupError::NotReady {
                service: "milvus",
                ..
            }
        ),
        "{err}"
    );
}
