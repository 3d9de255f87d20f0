//! Sample discovery shared by the CRD test crates.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The original operator's tree; CI checks `../shared` out beside the repo.
pub fn reference() -> PathBuf {
    let dir = repo().join("../shared/reference/openserverless-operator");
    assert!(
        dir.is_dir(),
        "reference samples not found at {} (CI must check out ../shared beside the repo)",
        dir.display()
    );
    dir
}

pub fn yaml_docs(path: &Path) -> Vec<Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    yaml_docs_str(&text, &path.display().to_string())
}

pub fn yaml_docs_str(text: &str, what: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("parsing {what}: {e}")))
        .filter(|v| !v.is_null())
        .collect()
}

pub fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

/// Every nuvolaris.org CR among the original's samples and ours, with its file.
pub fn sample_crs() -> Vec<(String, Value)> {
    let reference = reference();
    let mut files = vec![reference.join("deploy/nuvolaris-operator/whisk.yaml")];
    yaml_files(&reference.join("tests"), &mut files);
    yaml_files(&repo().join("tests/samples"), &mut files);
    let mut crs = Vec::new();
    for file in files {
        for doc in yaml_docs(&file) {
            let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
            if api == "nuvolaris.org/v1" {
                crs.push((file.display().to_string(), doc));
            }
        }
    }
    crs
}

pub fn kind_of(cr: &Value) -> &str {
    cr.get("kind").and_then(Value::as_str).unwrap_or("")
}

// ------------------------------------------------------------------ the admission corpus

/// What the API server does with a case: admit it, or reject it naming exactly these fields
/// (`<nil>` where it names none).
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Accept,
    Reject(Vec<String>),
}

/// One resource for the admission corpus, shared by the offline validator's tests
/// (crd_samples) and the differential test against the API server (crd_apiserver).
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub document: Value,
    pub verdict: Verdict,
}

/// A resource of `kind` named `case` in namespace `ns` with `spec`.
pub fn resource(kind: &str, ns: &str, spec: Value) -> Value {
    serde_json::json!({
        "apiVersion": "nuvolaris.org/v1", "kind": kind,
        "metadata": {"name": "case", "namespace": ns}, "spec": spec,
    })
}

fn reject(fields: &[&str]) -> Verdict {
    Verdict::Reject(fields.iter().map(|f| f.to_string()).collect())
}

/// A valid WhiskUser auth, as `ops admin adduser` generates them: a UUID and a 64-character key.
pub const USER_AUTH: &str = "c3a47ffa-4742-427d-a16a-c4dd5eb75f03:MlXh0Dq2mr4keWqiMfgUWIEIvPtB6LsQfUdg4KQdEuAAqaGyMLczaw61IXhzPFeA";

/// The message of the error the API server adds when CEL rules were skipped.
pub const CEL_SKIPPED_FIELD: &str = "<nil>";

/// Sets `value` at the dotted `path` of `doc`, creating objects on the way.
pub fn set_path(doc: &mut Value, path: &str, value: Value) {
    let mut node = doc;
    for part in path.split('.') {
        if !node.is_object() {
            *node = serde_json::json!({});
        }
        node = node
            .as_object_mut()
            .expect("just made an object")
            .entry(part.to_string())
            .or_insert(Value::Null);
    }
    *node = value;
}

/// Every `x-kubernetes-validations` rule of `schema`: (dotted path, message).
pub fn cel_rule_locations(schema: &Value, path: &str, out: &mut Vec<(String, String)>) {
    for rule in schema
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let message = rule["message"].as_str().unwrap_or("").to_string();
        out.push((path.to_string(), message));
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (key, sub) in props {
            let child = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            cel_rule_locations(sub, &child, out);
        }
    }
    if let Some(items) = schema.get("items") {
        cel_rule_locations(items, &format!("{path}[*]"), out);
    }
}

/// A value at a rule's location that violates the rule with `message`.
fn violating_value(message: &str) -> Option<Value> {
    use serde_json::json;
    Some(match message {
        "port must be a number between 1 and 65535" => json!("http"),
        "minio and seaweedfs cannot both be enabled" => json!({"minio": true, "seaweedfs": true}),
        m if m.starts_with("static requires an object store") => json!({"static": true}),
        m if m.starts_with("concurrency limits must satisfy") => {
            json!({"limit-min": 5, "limit-max": 1})
        }
        _ => return None,
    })
}

/// The corpus: valid and invalid resources of every kind (`schemas` maps a kind to its
/// openAPIV3Schema, for the generated CEL cases).
pub fn admission_cases(ns: &str, schemas: &[(&str, Value)]) -> Vec<Case> {
    use serde_json::json;
    let whisk = |spec: Value| resource("Whisk", ns, spec);
    let mut cases = Vec::new();
    let mut add = |name: &str, document: Value, verdict: Verdict| {
        cases.push(Case {
            name: name.to_string(),
            document,
            verdict,
        })
    };

    // accepted
    add("empty whisk spec", whisk(json!({})), Verdict::Accept);
    add(
        "null toggles read as off",
        whisk(json!({"components": {"minio": null, "seaweedfs": true, "static": true}})),
        Verdict::Accept,
    );
    add(
        "ports as numbers and strings",
        whisk(
            json!({"controller": {"port": "3233"}, "invoker": {"port": 1},
                     "cosi": {"rgwservice_port": "65535"}, "couchdb": {"port": 5984}}),
        ),
        Verdict::Accept,
    );
    add(
        "unknown sections are preserved",
        whisk(json!({"s3": {"id": "x"}, "components": {"s3bucket": false}})),
        Verdict::Accept,
    );
    add(
        "an integral float is an integer",
        whisk(json!({"couchdb": {"port": 5984.0, "volume-size": 10.0}})),
        Verdict::Accept,
    );
    add(
        "null of a nullable section",
        whisk(json!({"couchdb": null, "redis": {"persistence-enabled": null}})),
        Verdict::Accept,
    );
    add(
        "whisk user with defaults",
        resource(
            "WhiskUser",
            ns,
            json!({"email": "a@b.c", "password": "p", "namespace": "alice", "auth": USER_AUTH,
                   "redis": {"enabled": null}}),
        ),
        Verdict::Accept,
    );
    // WhiskUser identity: what `ops admin adduser` writes is accepted, the rest rejected
    let user = |field: &str, value: Value| {
        let mut spec = json!({"email": "a@b.c", "password": "p", "namespace": "alice",
                              "auth": USER_AUTH});
        spec[field] = value;
        resource("WhiskUser", ns, spec)
    };
    for (name, field, value) in [
        ("user namespace too short", "namespace", json!("abcd")),
        ("user namespace not lowercase", "namespace", json!("Alice")),
        ("user namespace with a dot", "namespace", json!("alice.b")),
        (
            "user namespace ending with a dash",
            "namespace",
            json!("alice-"),
        ),
        (
            "user auth without a uuid",
            "auth",
            json!(format!("a:{}", "k".repeat(64))),
        ),
        (
            "user auth key too short",
            "auth",
            json!(format!("{}:{}", &USER_AUTH[..36], "k".repeat(63))),
        ),
        (
            "user auth with two colons",
            "auth",
            json!(format!("{USER_AUTH}:x")),
        ),
        ("user e-mail without a domain", "email", json!("alice")),
        ("user empty password", "password", json!("")),
    ] {
        add(
            name,
            user(field, value),
            reject(&[&format!("spec.{field}")]),
        );
    }
    add(
        "user namespace of 63 characters",
        user("namespace", json!(format!("a{}", "-b".repeat(31)))),
        Verdict::Accept,
    );
    add(
        "workflows with parameters",
        resource(
            "Workflows",
            ns,
            json!({"image": "busybox", "workflows": [{"name": "a", "parameters": {"X": "1"}}]}),
        ),
        Verdict::Accept,
    );
    add(
        "status is not taken from a create",
        {
            let mut doc = whisk(json!({}));
            doc["status"] =
                json!({"whisk_create": {"couchdb": "sideways"}, "observedGeneration": "x"});
            doc
        },
        Verdict::Accept,
    );

    // mapping
    let mut doc = whisk(json!({}));
    doc["apiVersion"] = json!("nuvolaris.org/v2");
    add("unknown apiVersion", doc, reject(&["apiVersion"]));
    let mut doc = whisk(json!({}));
    doc["kind"] = json!("Wisk");
    add("wrong kind", doc, reject(&["kind"]));

    // decoding: unknown fields
    add(
        "unknown field",
        whisk(json!({"couchdb": {"volumesize": 3}})),
        reject(&["spec.couchdb.volumesize"]),
    );
    add(
        "unknown fields win over invalid values",
        whisk(json!({"couchdb": {"volumesize": 3, "port": 0}, "redis": {"bogus": true}})),
        reject(&["spec.couchdb.volumesize", "spec.redis.bogus"]),
    );
    add(
        "unknown field inside a scalar",
        whisk(json!({"couchdb": {"port": {"number": 1}}})),
        reject(&["spec.couchdb.port.number"]),
    );
    add(
        "unknown field in a list item",
        resource(
            "Workflows",
            ns,
            json!({"workflows": [{"name": "a", "nmae": "b"}]}),
        ),
        reject(&["spec.workflows[0].nmae"]),
    );
    add(
        "unknown metadata field",
        {
            let mut doc = whisk(json!({}));
            doc["metadata"]["nmae"] = json!("x");
            doc
        },
        reject(&["metadata.nmae"]),
    );
    add(
        "unknown field in the status",
        {
            let mut doc = whisk(json!({}));
            doc["status"] =
                json!({"conditions": [{"type": "Ready", "status": "True", "bogus": 1}]});
            doc
        },
        reject(&["status.conditions[0].bogus"]),
    );

    // metadata
    add(
        "name not a DNS subdomain",
        {
            let mut doc = whisk(json!({}));
            doc["metadata"]["name"] = json!("Controller");
            doc
        },
        reject(&["metadata.name"]),
    );
    add(
        "name missing",
        {
            let mut doc = whisk(json!({}));
            doc["metadata"].as_object_mut().map(|m| m.remove("name"));
            doc
        },
        reject(&["metadata.name", CEL_SKIPPED_FIELD]),
    );
    add(
        "bad label value",
        {
            let mut doc = whisk(json!({}));
            doc["metadata"]["labels"] = json!({"app": "-x-"});
            doc
        },
        reject(&["metadata.labels"]),
    );

    // schema
    add(
        "negative volume size",
        whisk(json!({"couchdb": {"volume-size": -1}})),
        reject(&["spec.couchdb.volume-size"]),
    );
    add(
        "port 70000",
        whisk(json!({"couchdb": {"port": 70000}})),
        reject(&["spec.couchdb.port"]),
    );
    add(
        "port 0",
        whisk(json!({"couchdb": {"port": 0}})),
        reject(&["spec.couchdb.port"]),
    );
    add(
        "api port 65536",
        whisk(json!({"nuvolaris": {"apiport": 65536}})),
        reject(&["spec.nuvolaris.apiport"]),
    );
    add(
        "replicas 0",
        whisk(json!({"postgres": {"replicas": 0}, "configs": {"controller": {"replicas": -1}}})),
        reject(&["spec.postgres.replicas", "spec.configs.controller.replicas"]),
    );
    add(
        "beyond int32",
        whisk(json!({"couchdb": {"port": 5_000_000_000_i64}})),
        reject(&[CEL_SKIPPED_FIELD, "spec.couchdb.port"]),
    );
    add(
        "fractional number for an integer",
        whisk(json!({"couchdb": {"volume-size": 1.5}})),
        reject(&[CEL_SKIPPED_FIELD, "spec.couchdb.volume-size"]),
    );
    add(
        "string for a boolean",
        whisk(json!({"components": {"openwhisk": "yes"}})),
        reject(&["spec.components.openwhisk", CEL_SKIPPED_FIELD]),
    );
    add(
        "string for an integer",
        whisk(json!({"couchdb": {"volume-size": "10"}})),
        reject(&["spec.couchdb.volume-size", CEL_SKIPPED_FIELD]),
    );
    add(
        "boolean for an int32",
        whisk(json!({"couchdb": {"port": true}})),
        reject(&["spec.couchdb.port", CEL_SKIPPED_FIELD]),
    );
    add(
        "list for a section",
        whisk(json!({"couchdb": ["port"]})),
        reject(&["spec.couchdb", CEL_SKIPPED_FIELD]),
    );
    add(
        "port out of range as a string",
        whisk(json!({"controller": {"port": "70000"}})),
        reject(&["spec.controller.port"]),
    );
    add(
        "boolean for an int-or-string port",
        whisk(json!({"controller": {"port": true}})),
        reject(&["spec.controller.port", CEL_SKIPPED_FIELD]),
    );
    add(
        "bad enum",
        whisk(json!({"nuvolaris": {"kube": "minikube"}})),
        reject(&["spec.nuvolaris.kube", CEL_SKIPPED_FIELD]),
    );
    add(
        "bad enums and a CEL violation",
        whisk(
            json!({"nuvolaris": {"protocol": "ftp"}, "registry": {"mode": "hybrid"},
                     "components": {"minio": true, "seaweedfs": true}}),
        ),
        reject(&[
            "spec.nuvolaris.protocol",
            "spec.registry.mode",
            CEL_SKIPPED_FIELD,
        ]),
    );
    add(
        "range error and a CEL violation",
        whisk(json!({"couchdb": {"port": 0}, "components": {"static": true}})),
        reject(&["spec.couchdb.port", "spec.components"]),
    );
    add(
        "pattern",
        whisk(json!({"openwhisk": {"namespaces": {"nuvolaris": "nocolon"}}})),
        reject(&["spec.openwhisk.namespaces.nuvolaris"]),
    );
    add(
        "spec missing",
        {
            let mut doc = whisk(json!({}));
            doc.as_object_mut().map(|m| m.remove("spec"));
            doc
        },
        reject(&["spec", CEL_SKIPPED_FIELD]),
    );
    add(
        "null spec",
        whisk(Value::Null),
        reject(&["spec", CEL_SKIPPED_FIELD]),
    );
    add(
        "whisk user without identity",
        resource("WhiskUser", ns, json!({"email": "a@b.c"})),
        // no CEL rules in this CRD: no note about skipped rules
        reject(&["spec.auth", "spec.namespace", "spec.password"]),
    );
    add(
        "whisk user bad auth",
        resource(
            "WhiskUser",
            ns,
            json!({"email": "a@b.c", "password": "p", "namespace": "alice", "auth": "nocolon"}),
        ),
        reject(&["spec.auth"]),
    );
    add(
        "null list item",
        resource("Workflows", ns, json!({"workflows": [null]})),
        reject(&["spec.workflows[0]"]),
    );

    // every CEL rule, violated where it is declared
    for (kind, schema) in schemas {
        let mut rules = Vec::new();
        cel_rule_locations(schema, "", &mut rules);
        for (path, message) in rules {
            let value = violating_value(&message).unwrap_or_else(|| {
                panic!("no violating value for the CEL rule {message:?} at {kind} {path}")
            });
            assert!(
                !path.contains("[*]"),
                "rule inside a list at {path}: extend the corpus"
            );
            let mut doc = resource(kind, ns, json!({}));
            set_path(&mut doc, &path, value);
            add(&format!("CEL {path}: {message}"), doc, reject(&[&path]));
        }
    }
    cases
}
