//! `setup whisk-system` (the REST deployment of the package `nuv`) against a
//! STAND-IN for the OpenWhisk controller: no real OpenWhisk runs here.
//!
//! The stand-in serves the subset of the REST API the deployment uses
//! (`PUT …/packages/<p>` and `PUT …/actions/<p>/<a>`, `?overwrite`, basic
//! auth), keeps the entities in memory, and checks every request body the
//! way OpenWhisk's published API schema describes it
//! (core/controller/src/main/resources/apiv1swagger.json: `PackagePut`,
//! `ActionPut`, `ActionExec`, `ActionLimits`, `KeyValue`), plus what the
//! controller enforces beyond the schema: parameters as Parameter.scala
//! reads them (`key` string, `value` present, `init` boolean), `exec.kind` one
//! of the runtimes manifest (`deploy/runtimes/runtimes.json`; the schema's
//! enum is out of date and lacks `python:3`), code for a non-blackbox kind,
//! the package existing before its actions, 409 for an existing entity
//! without `overwrite=true`. Failures are injected per request (a scripted
//! status) or by not listening at all.

use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::net::TcpListener as StdListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use base64::Engine;
use serde_json::{Value, json};

use nuvolaris_operator::setup::SetupError;
use nuvolaris_operator::setup::SetupSettings;
use nuvolaris_operator::setup::actions::{WebExport, system_actions};
use nuvolaris_operator::setup::whisk_system::{WhiskSystemConfig, deploy_whisk_system};

const UUID: &str = "789c46b1-71f6-4ed5-8c54-816aa4f8c502";
const KEY: &str = "wskKEY00abczO3xKCLHD4TGIunWhRUtVfzGrrT4Lmn8NrLcLTRHIaGHKEnBMGSwVhpS";
const COUCHDB_PASSWORD: &str = "adm-S3cret-pw";

// ---------------------------------------------------------------- stand-in

#[derive(Debug, Clone)]
struct Recorded {
    path: String,
    query: String,
    status: u16,
    body: Value,
}

#[derive(Default, Clone)]
struct StandIn {
    packages: BTreeMap<String, Value>,
    actions: BTreeMap<String, Value>,
    /// Statuses answered, in order, to the next requests instead of processing them.
    inject: VecDeque<u16>,
    /// Answer every request with this status (after `inject` runs out).
    always: Option<u16>,
    requests: Vec<Recorded>,
}

type Shared = Arc<Mutex<StandIn>>;

fn runtime_kinds() -> Vec<String> {
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/deploy/runtimes/runtimes.json"
        ))
        .unwrap(),
    )
    .unwrap();
    manifest["runtimes"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|list| list.as_array().unwrap().iter())
        .map(|r| r["kind"].as_str().unwrap().to_string())
        .collect()
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "error": message, "code": "standin" }).to_string(),
    )
        .into_response()
}

fn string_field(body: &Value, field: &str) -> Result<(), String> {
    match body.get(field) {
        None => Ok(()),
        Some(Value::String(s)) if !s.is_empty() => Ok(()),
        Some(other) => Err(format!("{field} must be a non-empty string, got {other}")),
    }
}

/// `KeyValue` arrays; parameters also as Parameter.scala reads them.
fn key_values(body: &Value, field: &str, parameters: bool) -> Result<(), String> {
    let Some(list) = body.get(field) else {
        return Ok(());
    };
    let items = list
        .as_array()
        .ok_or_else(|| format!("{field} must be an array"))?;
    for item in items {
        let object = item
            .as_object()
            .ok_or_else(|| format!("{field}: {item} is not an object"))?;
        if !object.get("key").is_some_and(Value::is_string) {
            return Err(format!("{field}: key must be a string in {item}"));
        }
        if parameters {
            if !object.contains_key("value") {
                return Err(format!("{field}: {item} has no value"));
            }
            if object.get("init").is_some_and(|i| !i.is_boolean()) {
                return Err(format!("{field}: init must be a boolean in {item}"));
            }
        }
    }
    Ok(())
}

/// What `PackagePut` and `ActionPut` share.
fn entity(body: &Value) -> Result<(), String> {
    if !body.is_object() {
        return Err("the body must be a JSON object".into());
    }
    for field in ["namespace", "name", "version"] {
        string_field(body, field)?;
    }
    if body.get("publish").is_some_and(|p| !p.is_boolean()) {
        return Err("publish must be a boolean".into());
    }
    key_values(body, "annotations", false)?;
    key_values(body, "parameters", true)
}

fn package_put(body: &Value) -> Result<(), String> {
    entity(body)?;
    if let Some(binding) = body.get("binding") {
        let ok = binding.as_object().is_some_and(|b| {
            b.iter()
                .all(|(k, v)| !matches!(k.as_str(), "namespace" | "name") || v.is_string())
        });
        if !ok {
            return Err("binding must be {namespace, name} strings".into());
        }
    }
    Ok(())
}

fn action_put(body: &Value, kinds: &[String]) -> Result<(), String> {
    entity(body)?;
    if let Some(names) = body.get("delAnnotations")
        && !names
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string))
    {
        return Err("delAnnotations must be an array of strings".into());
    }
    if let Some(limits) = body.get("limits") {
        let limits = limits.as_object().ok_or("limits must be an object")?;
        for (name, value) in limits {
            let int32 = value.as_i64().is_some_and(|v| i32::try_from(v).is_ok());
            if ["timeout", "memory", "logs", "concurrency", "instances"].contains(&name.as_str())
                && !int32
            {
                return Err(format!("limits.{name} must be an int32"));
            }
        }
    }
    let exec = body
        .get("exec")
        .and_then(Value::as_object)
        .ok_or("exec must be an object")?;
    for field in ["kind", "code", "image", "main"] {
        if exec.get(field).is_some_and(|v| !v.is_string()) {
            return Err(format!("exec.{field} must be a string"));
        }
    }
    if exec.get("binary").is_some_and(|v| !v.is_boolean()) {
        return Err("exec.binary must be a boolean".into());
    }
    let kind = exec
        .get("kind")
        .and_then(Value::as_str)
        .ok_or("exec.kind is required")?;
    if kind != "blackbox" && kind != "sequence" && !kinds.iter().any(|k| k == kind) {
        return Err(format!("kind {kind} is not in the runtimes manifest"));
    }
    if kind != "sequence" && kind != "blackbox" && !exec.get("code").is_some_and(Value::is_string) {
        return Err("exec.code is required".into());
    }
    Ok(())
}

async fn handle(
    state: Shared,
    kinds: Arc<Vec<String>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    package: String,
    action: Option<String>,
) -> Response {
    let query = uri.query().unwrap_or_default().to_string();
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut s = state.lock().unwrap();
    let outcome = (|| {
        if let Some(status) = s.inject.pop_front().or(s.always) {
            return error(StatusCode::from_u16(status).unwrap(), "injected failure");
        }
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{UUID}:{KEY}"))
        );
        if headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            != Some(&expected)
        {
            return error(
                StatusCode::UNAUTHORIZED,
                "The supplied authentication is invalid",
            );
        }
        if headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            != Some("application/json")
        {
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected application/json",
            );
        }
        let overwrite = match query
            .split('&')
            .find_map(|kv| kv.strip_prefix("overwrite="))
        {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => return error(StatusCode::BAD_REQUEST, &format!("overwrite={other}")),
        };
        let check = match &action {
            None => package_put(&parsed),
            Some(_) => action_put(&parsed, &kinds),
        };
        if let Err(reason) = check {
            return error(StatusCode::BAD_REQUEST, &reason);
        }
        let (store, name) = match &action {
            None => (&mut s.packages, package.clone()),
            Some(a) => {
                if !s.packages.contains_key(&package) {
                    return error(
                        StatusCode::NOT_FOUND,
                        "The requested resource does not exist.",
                    );
                }
                (&mut s.actions, format!("{package}/{a}"))
            }
        };
        if store.contains_key(&name) && !overwrite {
            return error(StatusCode::CONFLICT, "resource already exists");
        }
        store.insert(name.clone(), parsed.clone());
        let mut answer = parsed.clone();
        answer["name"] = json!(name);
        answer["version"] = json!("0.0.1");
        if let Some(exec) = answer.get_mut("exec").and_then(Value::as_object_mut) {
            exec.remove("code");
        }
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            answer.to_string(),
        )
            .into_response()
    })();
    s.requests.push(Recorded {
        path: uri.path().to_string(),
        query,
        status: outcome.status().as_u16(),
        body: parsed,
    });
    outcome
}

fn router(state: Shared) -> Router {
    let kinds = Arc::new(runtime_kinds());
    let (k1, k2) = (kinds.clone(), kinds);
    let (s1, s2) = (state.clone(), state);
    Router::new()
        .route(
            "/api/v1/namespaces/{ns}/packages/{package}",
            put(
                move |Path((_ns, package)): Path<(String, String)>,
                      uri: Uri,
                      headers: HeaderMap,
                      body: Bytes| {
                    handle(s1.clone(), k1.clone(), uri, headers, body, package, None)
                },
            ),
        )
        .route(
            "/api/v1/namespaces/{ns}/actions/{package}/{action}",
            put(
                move |Path((_ns, package, action)): Path<(String, String, String)>,
                      uri: Uri,
                      headers: HeaderMap,
                      body: Bytes| {
                    handle(
                        s2.clone(),
                        k2.clone(),
                        uri,
                        headers,
                        body,
                        package,
                        Some(action),
                    )
                },
            ),
        )
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "The requested resource does not exist.",
            )
        })
}

/// Starts the stand-in on `listener`; returns its shared state.
fn serve(listener: StdListener, state: Shared) {
    listener.set_nonblocking(true).unwrap();
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router(state)).await.unwrap();
    });
}

async fn stand_in() -> (String, Shared) {
    let listener = StdListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = Shared::default();
    serve(listener, state.clone());
    (url, state)
}

fn config(api_host: &str, key: &str, deadline: Duration) -> WhiskSystemConfig {
    WhiskSystemConfig::from_vars(
        [
            ("OPENWHISK_API_HOST", api_host),
            ("WHISK_SYSTEM_AUTH", &format!("{UUID}:{key}")),
            ("COUCHDB_ADMIN_USER", "whisk_admin"),
            ("COUCHDB_ADMIN_PASSWORD", COUCHDB_PASSWORD),
            (
                "WHISK_SYSTEM_DEPLOY_SECONDS",
                &deadline.as_secs().to_string(),
            ),
            ("WHISK_SYSTEM_TIMEOUT_SECONDS", "5"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    )
    .unwrap()
}

fn annotation(body: &Value, key: &str) -> Value {
    body["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| a["value"].clone())
        .unwrap_or(Value::Null)
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn deploys_the_package_then_every_action_and_again_over_it() {
    let (url, state) = stand_in().await;
    let cfg = config(&url, KEY, Duration::from_secs(10));
    let started = Instant::now();
    let report = deploy_whisk_system(&cfg).await.unwrap();
    let first = started.elapsed();
    assert_eq!(report.entities.len(), 10);
    assert_eq!(report.requests(), 10, "no retry needed");
    assert_eq!(report.content_hash, cfg.content_hash());

    let s = state.lock().unwrap().clone();
    let paths: Vec<&str> = s.requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths[0], "/api/v1/namespaces/whisk-system/packages/nuv");
    let expected: Vec<String> = system_actions()
        .map(|a| format!("/api/v1/namespaces/whisk-system/actions/nuv/{}", a.name))
        .collect();
    assert_eq!(
        paths[1..],
        expected.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(
        s.requests
            .iter()
            .all(|r| r.status == 200 && r.query == "overwrite=true")
    );

    for action in system_actions() {
        let body = &s.actions[&format!("nuv/{}", action.name)];
        assert_eq!(body["exec"]["kind"], "python:3");
        let zip = base64::engine::general_purpose::STANDARD
            .decode(body["exec"]["code"].as_str().unwrap())
            .unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        let mut main = String::new();
        archive
            .by_name("__main__.py")
            .unwrap()
            .read_to_string(&mut main)
            .unwrap();
        assert!(main.contains(&format!("whisk-system/nuv/{}", action.name)));
        assert_eq!(annotation(body, "web-export"), json!(true));
        assert_eq!(
            annotation(body, "raw-http"),
            json!(action.web == WebExport::Raw)
        );
        assert_eq!(annotation(body, "final"), json!(true));
        let parameters = body["parameters"].as_array().unwrap();
        let keys: Vec<&str> = parameters
            .iter()
            .map(|p| p["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, action.inputs);
        assert!(parameters.iter().all(|p| p["init"] == true));
    }

    // A second run overwrites what is there.
    let started = Instant::now();
    let again = deploy_whisk_system(&cfg).await.unwrap();
    let second = started.elapsed();
    assert_eq!(again.requests(), 10);
    assert_eq!(state.lock().unwrap().actions.len(), 9);
    let bytes: usize = s.requests.iter().map(|r| r.body.to_string().len()).sum();
    println!(
        "figure: REST deployment of package nuv + 9 actions against the stand-in: {} ms first, {} ms again ({} KiB of request bodies)",
        first.as_millis(),
        second.as_millis(),
        bytes / 1024
    );
}

#[tokio::test]
async fn a_wrong_key_fails_at_once_with_a_clear_message() {
    let (url, state) = stand_in().await;
    let err = deploy_whisk_system(&config(&url, "wrongKEY", Duration::from_secs(10)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SetupError::Unauthorized { status: 401, .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("whisk-system"), "{message}");
    assert!(
        !message.contains("wrongKEY") && !message.contains(COUCHDB_PASSWORD),
        "{message}"
    );
    assert_eq!(state.lock().unwrap().requests.len(), 1, "401 is final");
}

#[tokio::test]
async fn server_errors_and_conflicts_are_retried() {
    let (url, state) = stand_in().await;
    state.lock().unwrap().inject = VecDeque::from([503, 502, 409, 500]);
    let report = deploy_whisk_system(&config(&url, KEY, Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!(report.entities[0].attempts, 5, "{report:?}");
    assert!(report.entities[1..].iter().all(|e| e.attempts == 1));
    let statuses: Vec<u16> = state
        .lock()
        .unwrap()
        .requests
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses[..5], [503, 502, 409, 500, 200]);
}

#[tokio::test]
async fn a_bad_request_is_final_with_openwhisks_message() {
    let (url, state) = stand_in().await;
    state.lock().unwrap().inject = VecDeque::from([400]);
    let err = deploy_whisk_system(&config(&url, KEY, Duration::from_secs(10)))
        .await
        .unwrap_err();
    match &err {
        SetupError::Status { step, status, body } => {
            assert_eq!((step.as_str(), *status), ("package nuv", 400));
            assert!(body.contains("injected failure"), "{body}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(state.lock().unwrap().requests.len(), 1);
}

#[tokio::test]
async fn connection_refused_is_retried_until_the_controller_listens() {
    // Reserve a port, then free it: nothing listens there at first.
    let port = StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let state = Shared::default();
    let cfg = config(&url, KEY, Duration::from_secs(30));
    let deploy = tokio::spawn(async move { deploy_whisk_system(&cfg).await });
    // The scenario: the controller comes up a little after the setup Job starts.
    tokio::time::sleep(Duration::from_millis(400)).await;
    serve(
        StdListener::bind(("127.0.0.1", port)).unwrap(),
        state.clone(),
    );
    let report = deploy.await.unwrap().unwrap();
    assert!(report.entities[0].attempts >= 2, "{report:?}");
    assert_eq!(state.lock().unwrap().actions.len(), 9);
}

#[tokio::test]
async fn gives_up_at_the_deadline_when_the_controller_keeps_failing() {
    let (url, state) = stand_in().await;
    state.lock().unwrap().always = Some(503);
    let started = Instant::now();
    let err = deploy_whisk_system(&config(&url, KEY, Duration::from_secs(2)))
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    match &err {
        SetupError::NotReady { last_error, .. } => {
            assert!(
                last_error.contains("package nuv") && last_error.contains("HTTP 503"),
                "{last_error}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(8),
        "{elapsed:?}"
    );
    let attempts = state.lock().unwrap().requests.len();
    assert!(
        (3..=30).contains(&attempts),
        "bounded retries, got {attempts}"
    );
}

/// The stand-in refuses what OpenWhisk would: its checks can fail.
#[tokio::test]
async fn the_stand_in_rejects_requests_openwhisk_would_reject() {
    let (url, _state) = stand_in().await;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<Bytes>>();
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{UUID}:{KEY}"))
    );
    let send = |path: &str, body: Value| {
        let request = hyper::Request::put(format!("{url}{path}"))
            .header(header::AUTHORIZATION, &auth)
            .header(header::CONTENT_TYPE, "application/json")
            .body(http_body_util::Full::new(Bytes::from(body.to_string())))
            .unwrap();
        let response = client.request(request);
        async move { response.await.unwrap().status().as_u16() }
    };
    let pkg = "/api/v1/namespaces/whisk-system/packages/nuv";
    let act = "/api/v1/namespaces/whisk-system/actions/nuv/a";
    let code = json!({"kind": "python:3", "code": "x"});
    assert_eq!(
        send(act, json!({"exec": code})).await,
        404,
        "no package yet"
    );
    assert_eq!(send(pkg, json!({"publish": "no"})).await, 400);
    assert_eq!(
        send(pkg, json!({"parameters": [{"key": 1, "value": 1}]})).await,
        400
    );
    assert_eq!(send(pkg, json!({})).await, 200);
    assert_eq!(send(pkg, json!({})).await, 409, "exists, no overwrite");
    assert_eq!(
        send(&format!("{pkg}?overwrite=maybe"), json!({})).await,
        400
    );
    assert_eq!(
        send(act, json!({"exec": {"kind": "python:9", "code": "x"}})).await,
        400
    );
    assert_eq!(
        send(act, json!({"exec": {"kind": "python:3"}})).await,
        400,
        "no code"
    );
    assert_eq!(
        send(
            act,
            json!({"exec": code, "parameters": [{"key": "k", "value": 1, "init": "yes"}]})
        )
        .await,
        400
    );
    assert_eq!(
        send(act, json!({"exec": code, "limits": {"timeout": "60s"}})).await,
        400
    );
    assert_eq!(
        send(act, json!({"exec": code, "annotations": {"k": "v"}})).await,
        400
    );
    assert_eq!(send(act, json!({"exec": code})).await, 200);
}
