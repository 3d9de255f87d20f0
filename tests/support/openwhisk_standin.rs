//! A STAND-IN for the OpenWhisk controller's REST API: no real OpenWhisk can run here.
//!
//! It serves what the cron executor calls, as the controller answers it
//! (core/controller/src/main/resources/apiv1swagger.json):
//! `POST /api/v1/namespaces/<ns>/actions/[<pkg>/]<name>?blocking=false&result=false` answers
//! 202 `{"activationId": …}` and `PUT …?overwrite=true` (an action update) answers 200 with the
//! updated annotations; both check basic auth against the namespace's `uuid:key` (401 with
//! OpenWhisk's message otherwise, as the controller does for any other namespace's key too).
//! Every request is recorded, so tests assert what was invoked, how often and with which
//! credentials; failures are injected per action (a status answered once).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine;
use serde_json::{Value, json};

/// One request the stand-in answered.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// `<ns>/actions/[<pkg>/]<name>`, after `/api/v1/namespaces/`.
    pub path: String,
    pub query: String,
    pub status: u16,
    pub body: Value,
}

#[derive(Default)]
struct State_ {
    /// `namespace` → `uuid:key`.
    keys: HashMap<String, String>,
    /// `<ns>/actions/...` → statuses to answer next, instead of processing.
    inject: HashMap<String, Vec<u16>>,
    requests: Vec<Recorded>,
    activations: u64,
}

/// The running stand-in (on a tokio task of the test's runtime).
#[derive(Clone)]
pub struct OpenWhiskStandIn {
    pub url: String,
    state: Arc<Mutex<State_>>,
}

impl OpenWhiskStandIn {
    /// Starts it on a free port, knowing these namespaces' `uuid:key`.
    pub async fn start(keys: impl IntoIterator<Item = (String, String)>) -> OpenWhiskStandIn {
        let state = Arc::new(Mutex::new(State_ {
            keys: keys.into_iter().collect(),
            ..State_::default()
        }));
        let app = Router::new()
            .route("/api/v1/namespaces/{*path}", any(handle))
            .fallback(|| async {
                error(
                    StatusCode::NOT_FOUND,
                    "The requested resource does not exist.",
                )
            })
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the stand-in");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the stand-in serves");
        });
        OpenWhiskStandIn { url, state }
    }

    /// The next request to `<ns>/actions/...` gets `status` instead of being processed.
    pub fn fail_next(&self, path: &str, status: u16) {
        let mut state = self.state.lock().unwrap();
        state
            .inject
            .entry(path.to_owned())
            .or_default()
            .push(status);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// How many successful invocations each action got (`<ns>/actions/...` → count).
    pub fn invocations(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for r in self.requests() {
            if r.method == "POST" && r.status == 202 {
                *counts.entry(r.path).or_default() += 1;
            }
        }
        counts
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"error": message, "code": "standin"}).to_string(),
    )
        .into_response()
}

async fn handle(
    State(state): State<Arc<Mutex<State_>>>,
    Path(path): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = uri.query().unwrap_or_default().to_owned();
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut s = state.lock().unwrap();
    let answer = (|| {
        if let Some(status) = s
            .inject
            .get_mut(&path)
            .and_then(|q| (!q.is_empty()).then(|| q.remove(0)))
        {
            return error(StatusCode::from_u16(status).unwrap(), "injected failure");
        }
        let namespace = path.split('/').next().unwrap_or_default();
        let expected = s.keys.get(namespace).map(|auth| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(auth)
            )
        });
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if expected.is_none() || given != expected.as_deref() {
            return error(
                StatusCode::UNAUTHORIZED,
                "The supplied authentication is invalid",
            );
        }
        if !path.contains("/actions/") {
            return error(
                StatusCode::NOT_FOUND,
                "The requested resource does not exist.",
            );
        }
        match method {
            Method::POST => {
                let blocking = query.split('&').any(|kv| kv == "blocking=true");
                if blocking {
                    return error(StatusCode::BAD_REQUEST, "the executor never blocks");
                }
                if !(parsed.is_object() || body.is_empty()) {
                    return error(StatusCode::BAD_REQUEST, "the parameters must be an object");
                }
                s.activations += 1;
                let id = format!("{:032x}", s.activations);
                (
                    StatusCode::ACCEPTED,
                    [(header::CONTENT_TYPE, "application/json")],
                    json!({"activationId": id}).to_string(),
                )
                    .into_response()
            }
            Method::PUT => {
                if !query.split('&').any(|kv| kv == "overwrite=true") {
                    return error(StatusCode::CONFLICT, "resource already exists");
                }
                let annotations_ok = parsed["annotations"].as_array().is_some_and(|a| {
                    a.iter()
                        .all(|kv| kv["key"].is_string() && kv.get("value").is_some())
                });
                if !annotations_ok {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "annotations must be key/value pairs",
                    );
                }
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    json!({"annotations": parsed["annotations"]}).to_string(),
                )
                    .into_response()
            }
            _ => error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
        }
    })();
    s.requests.push(Recorded {
        method: method.to_string(),
        path,
        query,
        status: answer.status().as_u16(),
        body: parsed,
    });
    answer
}
