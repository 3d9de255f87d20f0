//! The etcd the operator renders, on a real etcd: the control plane's own build
//! (`tools/cluster/cluster.sh build`; 3.6 where the image has 3.5). etcd reads its flags from
//! `ETCD_*` variables, so the test starts it with the variables of the rendered StatefulSet
//! (addresses and paths moved to the test's loopback ports and temp dir) and the generated JWT
//! key from the rendered Secret, then does what the bitnami image does with the root password
//! (root user and role, auth enabled) and logs in: the token must be an ES256 JWT signed with
//! that key, and the quota the one configured.

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

use base64::Engine;
use nuvolaris_operator::components::{self, ComponentRender};
use nuvolaris_operator::config::{ClusterFacts, Config, GeneratedSecrets};
use nuvolaris_operator::crd::{ComponentId, Whisk};
use serde_json::{Value, json};
use support::servers::{ServerProcess, free_port, http, loopback, server_dir, write_file};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The control plane's etcd; panics with the command that builds it when missing.
fn etcd_binary() -> PathBuf {
    let out = Command::new("bash")
        .arg(support::repo_root().join("tools/cluster/cluster.sh"))
        .arg("cache-dir")
        .output()
        .expect("run cluster.sh cache-dir");
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("etcd");
    assert!(
        path.exists(),
        "no etcd at {}: run tools/cluster/cluster.sh build",
        path.display()
    );
    path
}

/// The etcd component rendered for `spec`, with freshly generated secrets (a real key).
fn render(spec: Value) -> Vec<Value> {
    let keys = components::generated_secret_keys();
    let secrets = GeneratedSecrets(
        keys.iter()
            .map(|k| (k.name.to_owned(), k.generate()))
            .collect(),
    );
    let whisk: Whisk = serde_json::from_value(json!({
        "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
        "metadata": {"name": "controller", "namespace": "nuvolaris"},
        "spec": spec,
    }))
    .expect("a Whisk");
    let cfg = Config::from_whisk(&whisk, &ClusterFacts::default(), &secrets).expect("config");
    components::render_all(&cfg)
        .expect("renders")
        .into_iter()
        .find_map(|r| match r {
            ComponentRender::Rendered(c) if c.id == ComponentId::Etcd => Some(c.objects),
            _ => None,
        })
        .expect("etcd is rendered")
}

/// A Secret's `data` value (the kustomize output wraps long base64 lines, as Go's decoder on
/// the API server allows).
fn secret_value(secret: &Value, key: &str) -> Vec<u8> {
    let text: String = secret["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key}"))
        .split_whitespace()
        .collect();
    B64.decode(text).expect("base64")
}

fn find<'a>(objects: &'a [Value], kind: &str, prefix: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| {
            o["kind"] == kind
                && o["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with(prefix))
        })
        .unwrap_or_else(|| panic!("no {kind} {prefix}*"))
}

fn post(addr: SocketAddr, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(token) = token {
        headers.push(("Authorization", token));
    }
    let response = http::request(addr, "POST", path, &headers, body.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    let value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    (response.status, value)
}

#[test]
fn the_rendered_etcd_runs_with_root_auth_and_its_generated_jwt_key() {
    let quota = 4_294_967_296u64;
    let objects = render(json!({
        "components": {"etcd": true},
        "etcd": {"quota-backend-bytes": quota, "auto_compaction_retention": "2", "root": {"password": "r00t@:#'\" pw"}},
    }));
    let sts = find(&objects, "StatefulSet", "nuvolaris-etcd");
    let env: Vec<(String, String)> = sts["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .expect("env")
        .iter()
        .filter_map(|e| {
            Some((
                e["name"].as_str()?.to_owned(),
                e["value"].as_str()?.to_owned(),
            ))
        })
        .collect();
    let rendered = |name: &str| {
        env.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("the StatefulSet does not set {name}"))
    };
    let jwt_secret = find(&objects, "Secret", "nuvolaris-etcd-jwt-token");
    let key = secret_value(jwt_secret, "jwt-token.pem");
    let root_secret = find(&objects, "Secret", "nuvolaris-etcd-secret");
    let root_password =
        String::from_utf8(secret_value(root_secret, "rootPassword")).expect("utf-8");
    assert_eq!(root_password, "r00t@:#'\" pw");

    let dir = server_dir("etcd");
    let key_file = dir.path().join("jwt-token.pem");
    write_file(&key_file, &key);
    let client = loopback(free_port());
    let peer = loopback(free_port());
    let name = "nuvolaris-etcd-0";
    let mut command = Command::new(etcd_binary());
    // The rendered values, except where they name the pod's DNS names and the image's paths.
    let auth_token = rendered("ETCD_AUTH_TOKEN").replace(
        "/opt/bitnami/etcd/certs/token/jwt-token.pem",
        &key_file.display().to_string(),
    );
    assert!(auth_token.contains("sign-method=ES256"), "{auth_token}");
    command
        .env_clear()
        .env("ETCD_NAME", name)
        .env("ETCD_DATA_DIR", dir.path().join("data"))
        .env("ETCD_LISTEN_CLIENT_URLS", format!("http://{client}"))
        .env("ETCD_ADVERTISE_CLIENT_URLS", format!("http://{client}"))
        .env("ETCD_LISTEN_PEER_URLS", format!("http://{peer}"))
        .env("ETCD_INITIAL_ADVERTISE_PEER_URLS", format!("http://{peer}"))
        .env("ETCD_INITIAL_CLUSTER", format!("{name}=http://{peer}"))
        .env("ETCD_AUTH_TOKEN", auth_token);
    for kept in [
        "ETCD_LOG_LEVEL",
        "ETCD_INITIAL_CLUSTER_TOKEN",
        "ETCD_INITIAL_CLUSTER_STATE",
        "ETCD_AUTO_COMPACTION_RETENTION",
        "ETCD_QUOTA_BACKEND_BYTES",
    ] {
        command.env(kept, rendered(kept));
    }
    // The names the operator renders for the members: `<pod>=http://<pod>.<headless>…:2380`.
    assert_eq!(
        rendered("ETCD_INITIAL_CLUSTER"),
        "nuvolaris-etcd-0=http://nuvolaris-etcd-0.nuvolaris-etcd-headless.nuvolaris.svc.cluster.local:2380"
    );
    let mut etcd = ServerProcess::spawn("etcd", command, dir);
    etcd.wait_ready("/health answers true", || {
        let response = http::get(client, "/health").map_err(|e| e.to_string())?;
        response
            .text()
            .contains("\"health\":\"true\"")
            .then_some(())
            .ok_or_else(|| response.text())
    });

    // What the bitnami image does with ETCD_ROOT_PASSWORD on first start.
    for (path, body) in [
        ("/v3/auth/role/add", json!({"name": "root"})),
        (
            "/v3/auth/user/add",
            json!({"name": "root", "password": root_password}),
        ),
        (
            "/v3/auth/user/grant",
            json!({"user": "root", "role": "root"}),
        ),
        ("/v3/auth/enable", json!({})),
    ] {
        let (status, answer) = post(client, path, None, body);
        assert_eq!(status, 200, "{path}: {answer}");
    }
    let (status, answer) = post(
        client,
        "/v3/auth/authenticate",
        None,
        json!({"name": "root", "password": root_password}),
    );
    assert_eq!(status, 200, "{answer}");
    let token = answer["token"].as_str().expect("a token").to_owned();
    let header = token.split('.').next().expect("a JWT");
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .expect("base64url"),
    )
    .expect("JSON header");
    assert_eq!(
        header["alg"], "ES256",
        "signed with the generated key: {header}"
    );

    let put = json!({"key": B64.encode("milvus/x"), "value": B64.encode("1")});
    let (status, answer) = post(client, "/v3/kv/put", Some(&token), put.clone());
    assert_eq!(status, 200, "root writes with its token: {answer}");
    let (status, _) = post(client, "/v3/kv/put", None, put);
    assert_ne!(status, 200, "without a token, auth refuses");

    let metrics = http::get(client, "/metrics").expect("metrics").text();
    let in_force = metrics
        .lines()
        .find_map(|l| l.strip_prefix("etcd_server_quota_backend_bytes "))
        .and_then(|v| v.trim().parse::<f64>().ok());
    assert_eq!(
        in_force,
        Some(quota as f64),
        "the configured quota is in force"
    );
    drop(etcd);
}

#[test]
fn three_members_get_a_disruption_budget_and_each_other_as_peers() {
    let objects = render(json!({"components": {"etcd": true}, "etcd": {"replicas": 3}}));
    let sts = find(&objects, "StatefulSet", "nuvolaris-etcd");
    assert_eq!(sts["spec"]["replicas"], 3);
    let env = sts["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .expect("env");
    let cluster = env
        .iter()
        .find(|e| e["name"] == "ETCD_INITIAL_CLUSTER")
        .and_then(|e| e["value"].as_str())
        .expect("initial cluster");
    assert_eq!(cluster.split(',').count(), 3, "{cluster}");
    let pdb = find(&objects, "PodDisruptionBudget", "nuvolaris-etcd");
    assert_eq!(pdb["spec"]["minAvailable"], "51%");
    let single = render(json!({"components": {"etcd": true}}));
    assert!(single.iter().all(|o| o["kind"] != "PodDisruptionBudget"));
}
