//! A STAND-IN for Milvus's REST API v2: no real Milvus runs here. milvus-lite (the only Milvus
//! installable here, tools/testdeps/milvus-lite.sh) serves the gRPC API only, without users,
//! roles or privileges, so it cannot answer the setup's calls.
//!
//! It implements, in memory, the documented subset the setups use (milvus.io REST reference v2,
//! `POST /v2/vectordb/<resource>/<action>`, `Authorization: Bearer <user>:<pw>`, answers
//! `{"code": 0, "data": …}` or `{"code": N, "message": …}`): `databases/list|create|drop`,
//! `collections/list`, `users/list|create|describe|update_password|grant_role|revoke_role|drop`,
//! `roles/list|create|describe|grant_privilege_v2|revoke_privilege_v2|drop`. It checks the
//! token on every call (code 1800 when refused; only root may administer), the required body
//! fields (code 1100 when missing), that referenced users, roles and databases exist (code
//! 65535), and Milvus's rules for drops: a role with grants or users, and a database with
//! collections, cannot be dropped. Every call is recorded.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::{Value, json};

pub const ROOT_PASSWORD: &str = "r00t@:#'\"pw";

#[derive(Default)]
pub struct Model {
    pub users: BTreeMap<String, String>,
    pub databases: BTreeSet<String>,
    pub roles: BTreeSet<String>,
    /// role → (privilege, database)
    pub grants: BTreeMap<String, BTreeSet<(String, String)>>,
    pub user_roles: BTreeMap<String, BTreeSet<String>>,
    /// (path, caller) of every call, in order
    pub calls: Vec<(String, String)>,
    /// database → collections
    pub collections: BTreeMap<String, BTreeSet<String>>,
}

pub type Shared = Arc<Mutex<Model>>;

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
        "users/revoke_role" => {
            let name = need!("userName");
            let role = need!("roleName");
            if let Some(roles) = m.user_roles.get_mut(&name) {
                roles.remove(&role);
            }
            ok(json!({}))
        }
        "users/drop" => {
            let name = need!("userName");
            m.users.remove(&name);
            m.user_roles.remove(&name);
            ok(json!({}))
        }
        "roles/revoke_privilege_v2" => {
            let role = need!("roleName");
            let privilege = need!("privilege");
            let db = need!("dbName");
            need!("collectionName");
            if let Some(grants) = m.grants.get_mut(&role) {
                grants.remove(&(privilege, db));
            }
            ok(json!({}))
        }
        "roles/drop" => {
            let role = need!("roleName");
            if m.grants.get(&role).is_some_and(|g| !g.is_empty())
                || m.user_roles.values().any(|r| r.contains(&role))
            {
                return fail(65535, "the role has privileges or users");
            }
            m.roles.remove(&role);
            ok(json!({}))
        }
        "collections/list" => {
            let db = field("dbName").unwrap_or_else(|| "default".to_owned());
            let names: Vec<String> = m
                .collections
                .get(&db)
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            ok(json!(names))
        }
        "collections/drop" => {
            let db = field("dbName").unwrap_or_else(|| "default".to_owned());
            let name = need!("collectionName");
            if let Some(c) = m.collections.get_mut(&db) {
                c.remove(&name);
            }
            ok(json!({}))
        }
        "databases/drop" => {
            let db = need!("dbName");
            if m.collections.get(&db).is_some_and(|c| !c.is_empty()) {
                return fail(65535, "the database has collections");
            }
            m.databases.remove(&db);
            ok(json!({}))
        }
        _ => fail(404, "no such endpoint in the stand-in"),
    }
}

/// Starts the stand-in with the root user; returns its URL and model.
pub async fn stand_in() -> (String, Shared) {
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
