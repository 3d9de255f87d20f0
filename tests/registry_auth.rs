//! The registry component's credentials on a real registry (the CNCF distribution server v3.0.0,
//! `tools/testdeps/registry.sh`, the server of the original's `registry:3.0.0` image): the
//! htpasswd file the operator renders is the registry's password file, and an image push (two
//! blob uploads and a manifest) succeeds with the password of the spec — also with the `auth` of
//! the rendered pull Secret — while a wrong password is refused at every step.

mod support;

use base64::Engine;
use nuvolaris_operator::crd::Whisk;
use nuvolaris_operator::offline;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::servers::http::{self, HttpResponse};
use support::servers::{Registry, random_secret};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The objects of the registry component rendered for a Whisk with this registry user and
/// password (mode internal, on a generic cluster).
fn rendered_registry(user: &str, password: &str) -> Vec<Value> {
    let whisk: Whisk = serde_json::from_value(json!({
        "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
        "metadata": {"name": "controller", "namespace": "nuvolaris"},
        "spec": {
            "components": {"registry": true},
            "registry": {"mode": "internal", "auth": {"username": user, "password": password}},
        },
    }))
    .expect("a Whisk");
    let rendered = offline::render_whisk(&whisk, Some("generic")).expect("renders");
    serde_yaml_ng::Deserializer::from_str(&rendered.yaml)
        .map(|d| Value::deserialize(d).expect("YAML"))
        .filter(|o| o["metadata"]["labels"]["nuvolaris.org/component"] == "registry")
        .collect()
}

fn secret_data(objects: &[Value], name_prefix: &str, key: &str) -> String {
    let secret = objects
        .iter()
        .find(|o| {
            o["kind"] == "Secret"
                && o["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with(name_prefix))
        })
        .unwrap_or_else(|| panic!("no Secret {name_prefix}*"));
    let data = secret["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("{name_prefix}: no key {key}"));
    let bytes = B64
        .decode(data.replace('\n', ""))
        .expect("base64 Secret data");
    String::from_utf8(bytes).expect("UTF-8")
}

fn request(
    registry: &Registry,
    authorization: &str,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> HttpResponse {
    let mut headers = vec![("Authorization", authorization)];
    if let Some(content_type) = content_type {
        headers.push(("Content-Type", content_type));
    }
    http::request(registry.address, method, path, &headers, body)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// Uploads one blob (monolithic: POST an upload session, PUT the content with its digest).
/// Returns the status of the step that failed, or the digest.
fn upload_blob(
    registry: &Registry,
    authorization: &str,
    repository: &str,
    content: &[u8],
) -> Result<String, u16> {
    let start = request(
        registry,
        authorization,
        "POST",
        &format!("/v2/{repository}/blobs/uploads/"),
        None,
        b"",
    );
    if start.status != 202 {
        return Err(start.status);
    }
    let location = start.header("location").expect("an upload Location");
    let location = location
        .strip_prefix(&format!("http://{}", registry.address))
        .unwrap_or(location);
    let separator = if location.contains('?') { '&' } else { '?' };
    let digest = digest(content);
    let put = request(
        registry,
        authorization,
        "PUT",
        &format!("{location}{separator}digest={digest}"),
        Some("application/octet-stream"),
        content,
    );
    if put.status != 201 {
        return Err(put.status);
    }
    Ok(digest)
}

/// Pushes a one-layer OCI image `repository:tag`; the first refused step's status on failure.
fn push_image(registry: &Registry, authorization: &str, repository: &str) -> Result<(), u16> {
    let layer = random_secret(4096).into_bytes();
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layer_digest = upload_blob(registry, authorization, repository, &layer)?;
    let config_digest = upload_blob(registry, authorization, repository, config)?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer_digest, "size": layer.len()}],
    })
    .to_string();
    let put = request(
        registry,
        authorization,
        "PUT",
        &format!("/v2/{repository}/manifests/v1"),
        Some("application/vnd.oci.image.manifest.v1+json"),
        manifest.as_bytes(),
    );
    match put.status {
        201 => Ok(()),
        status => Err(status),
    }
}

#[test]
fn the_rendered_htpasswd_lets_the_right_password_push_and_refuses_a_wrong_one() {
    let (user, password) = ("opsuser", random_secret(16));
    let objects = rendered_registry(user, &password);
    let htpasswd = secret_data(&objects, "registry-auth-secret-", "htpasswd");
    assert!(
        htpasswd.starts_with(&format!("{user}:$2")),
        "an htpasswd bcrypt line: {htpasswd}"
    );
    assert!(
        !htpasswd.contains(&password),
        "the password is stored hashed only"
    );
    let registry = Registry::start_with_htpasswd(user.to_owned(), password.clone(), &htpasswd);

    let right = Registry::basic_auth(user, &password);
    let catalog = request(&registry, &right, "GET", "/v2/", None, b"");
    assert_eq!(catalog.status, 200, "{}", catalog.text());
    push_image(&registry, &right, "nuvolaris/hello").expect("a push with the right password");
    let pulled = http::request(
        registry.address,
        "GET",
        "/v2/nuvolaris/hello/manifests/v1",
        &[
            ("Authorization", right.as_str()),
            ("Accept", "application/vnd.oci.image.manifest.v1+json"),
        ],
        b"",
    )
    .expect("GET the manifest");
    assert_eq!(pulled.status, 200, "{}", pulled.text());

    // the pull Secret authenticates to the same registry
    let docker_config: Value = serde_json::from_str(&secret_data(
        &objects,
        "registry-pull-secret",
        ".dockerconfigjson",
    ))
    .expect("a docker config");
    let auths = docker_config["auths"].as_object().expect("auths");
    assert_eq!(
        auths.keys().collect::<Vec<_>>(),
        ["nuvolaris-registry-svc:5000"],
        "generic cluster: the Service's host"
    );
    let entry = auths.values().next().expect("one entry");
    assert_eq!(entry["username"], user);
    let from_pull_secret = format!("Basic {}", entry["auth"].as_str().expect("auth"));
    push_image(&registry, &from_pull_secret, "nuvolaris/from-pull-secret")
        .expect("a push with the pull Secret's credentials");

    // a wrong password, or another user, is refused at every step
    for wrong in [
        Registry::basic_auth(user, &format!("{password}x")),
        Registry::basic_auth(user, ""),
        Registry::basic_auth("someone", &password),
    ] {
        let probe = request(&registry, &wrong, "GET", "/v2/", None, b"");
        assert_eq!(probe.status, 401, "{}", probe.text());
        assert_eq!(
            push_image(&registry, &wrong, "nuvolaris/intruder"),
            Err(401),
            "the first step of the push is refused"
        );
    }
    let anonymous =
        http::get(registry.address, "/v2/nuvolaris/hello/manifests/v1").expect("anonymous GET");
    assert_eq!(anonymous.status, 401);
}

#[test]
fn on_kind_the_pull_secret_names_the_nodes_mirror() {
    let whisk: Whisk = serde_json::from_value(json!({
        "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
        "metadata": {"name": "controller", "namespace": "nuvolaris"},
        "spec": {"components": {"registry": true}},
    }))
    .expect("a Whisk");
    let rendered = offline::render_whisk(&whisk, Some("kind")).expect("renders");
    let objects: Vec<Value> = serde_yaml_ng::Deserializer::from_str(&rendered.yaml)
        .map(|d| Value::deserialize(d).expect("YAML"))
        .collect();
    let config: Value = serde_json::from_str(&secret_data(
        &objects,
        "registry-pull-secret",
        ".dockerconfigjson",
    ))
    .expect("docker config");
    assert!(config["auths"]["127.0.0.1:32000"].is_object(), "{config}");
    let service = objects
        .iter()
        .find(|o| o["kind"] == "Service" && o["metadata"]["name"] == "nuvolaris-registry-svc")
        .expect("the registry Service");
    assert_eq!(service["spec"]["ports"][0]["nodePort"], 32000);
}
