//! Offline admission of the operator's custom resources: what the API server does with a
//! `kubectl apply` (strict field validation, kubectl's default) of a Whisk, WhiskUser or
//! Workflows, against the CRDs this binary generates — so `render` fails exactly where
//! `kubectl apply` would, with the API server's field paths and messages.
//!
//! The steps, in the API server's order (k8s 1.36 `apiextensions-apiserver`):
//! 1. kubectl's REST mapping: `apiVersion` and `kind` must name one of the CRDs;
//! 2. decoding: `metadata` must decode as `ObjectMeta`; fields the schema does not declare
//!    (outside `x-kubernetes-preserve-unknown-fields`) are errors ([`schema::unknown_fields`]);
//! 3. non-nullable `null`s are dropped, defaults filled; `status` is ignored (the CRDs have a
//!    status subresource: neither create nor update takes it from the request);
//! 4. validation: `metadata` ([`meta`]), the OpenAPI schema ([`schema::check`]) and, unless an
//!    error of type, enum, required or size came first (then a note says rules were skipped,
//!    for a CRD that has rules), the CEL rules
//!    (`x-kubernetes-validations`, evaluated by kube's `cel` feature; a rule does not run on a
//!    `null` value, as on the API server).
//!
//! On success the object comes back as the API server would store it.

mod error;
mod meta;
pub mod schema;

use std::sync::LazyLock;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::CustomResourceExt;
use kube::core::cel;
use serde_json::{Number, Value};

pub use error::{ErrorType, FieldError, Rejection};

use super::{GROUP, VERSION, Whisk, WhiskUser, Workflows};

/// The API server's message when CEL rules were skipped because of earlier errors.
pub const CEL_SKIPPED: &str = "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation";

/// A custom resource as the API server would store it.
#[derive(Debug, Clone, PartialEq)]
pub struct Admitted {
    /// `Whisk`, `WhiskUser` or `Workflows`.
    pub kind: &'static str,
    pub object: Value,
}

struct Crd {
    kind: &'static str,
    schema: Value,
    rules: cel::CompiledSchema,
    /// Whether the schema has CEL rules at all (without, the API server has no CEL validator).
    has_rules: bool,
}

fn has_rules(schema: &Value) -> bool {
    match schema {
        Value::Object(map) => {
            map.contains_key("x-kubernetes-validations") || map.values().any(has_rules)
        }
        Value::Array(items) => items.iter().any(has_rules),
        _ => false,
    }
}

/// The kinds this operator serves, with their schemas and compiled CEL rules (compiled once).
static CRDS: LazyLock<Vec<Crd>> = LazyLock::new(|| {
    [
        ("Whisk", Whisk::crd()),
        ("WhiskUser", WhiskUser::crd()),
        ("Workflows", Workflows::crd()),
    ]
    .into_iter()
    .map(|(kind, crd)| {
        let schema = crd
            .spec
            .versions
            .first()
            .and_then(|v| v.schema.as_ref())
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .and_then(|s| serde_json::to_value(s).ok())
            .unwrap_or(Value::Null);
        let rules = cel::compile_schema(&schema);
        Crd {
            kind,
            has_rules: has_rules(&schema),
            schema,
            rules,
        }
    })
    .collect()
});

/// The `openAPIV3Schema` of `kind` as JSON.
pub fn schema_for(kind: &str) -> Option<&'static Value> {
    CRDS.iter().find(|c| c.kind == kind).map(|c| &c.schema)
}

/// The API version every kind is served at.
pub fn api_version() -> String {
    format!("{GROUP}/{VERSION}")
}

/// Admits `document` (one resource, as parsed from YAML or JSON) or says why the API server
/// would not.
pub fn admit(document: &Value) -> Result<Admitted, Rejection> {
    let reject = |errors: Vec<FieldError>| Err(Rejection(errors));
    let crd = resolve_kind(document).map_err(Rejection)?;
    let mut object = document.clone();
    normalize_numbers(&mut object);

    // decoding
    if let Some(metadata) = object.get("metadata") {
        let errors = meta::decode_errors(metadata);
        if !errors.is_empty() {
            return reject(errors);
        }
    }
    let mut unknown: Vec<FieldError> = Vec::new();
    let fields = schema::unknown_fields(&crd.schema, &mut object);
    unknown.extend(fields.into_iter().map(FieldError::unknown));
    if !unknown.is_empty() {
        return reject(unknown);
    }
    schema::drop_non_nullable_nulls(&crd.schema, &mut object);
    schema::apply_defaults(&crd.schema, &mut object);
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
    }

    // validation
    let metadata: ObjectMeta = object
        .get("metadata")
        .map(|m| serde_json::from_value(m.clone()).unwrap_or_default())
        .unwrap_or_default();
    let mut errors = meta::validation_errors(&metadata);
    errors.extend(schema::check(&crd.schema, &object, ""));
    if !crd.has_rules {
        // no CEL validator, no note about skipped rules
    } else if errors.iter().any(|e| e.error_type.blocks_cel()) {
        errors.push(FieldError::invalid("", Value::Null, CEL_SKIPPED));
    } else {
        errors.extend(cel_errors(crd, &object));
    }
    if errors.is_empty() {
        Ok(Admitted {
            kind: crd.kind,
            object,
        })
    } else {
        reject(errors)
    }
}

/// kubectl's REST mapping of `apiVersion` and `kind` to one of the CRDs.
fn resolve_kind(document: &Value) -> Result<&'static Crd, Vec<FieldError>> {
    let Some(map) = document.as_object() else {
        return Err(vec![FieldError::invalid(
            "",
            document.clone(),
            "a Kubernetes object must be a mapping",
        )]);
    };
    let mut errors = Vec::new();
    let mut text = |field: &str| match map.get(field) {
        None | Some(Value::Null) => {
            errors.push(FieldError::required(field, ""));
            None
        }
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            errors.push(FieldError::invalid(
                field,
                other.clone(),
                "must be a string",
            ));
            None
        }
    };
    let api = text("apiVersion");
    let kind = text("kind");
    let crd = kind
        .as_deref()
        .and_then(|k| CRDS.iter().find(|c| c.kind == k));
    if let Some(kind) = &kind
        && crd.is_none()
    {
        let known: Vec<String> = CRDS
            .iter()
            .map(|c| Value::from(c.kind).to_string())
            .collect();
        errors.push(FieldError::new(
            "kind",
            ErrorType::NotSupported,
            Some(Value::from(kind.clone())),
            format!("supported values: {}", known.join(", ")),
        ));
    }
    if let Some(api) = api
        && api != api_version()
    {
        errors.push(FieldError::new(
            "apiVersion",
            ErrorType::NotSupported,
            Some(Value::from(api)),
            format!("supported values: \"{}\"", api_version()),
        ));
    }
    match crd {
        Some(crd) if errors.is_empty() => Ok(crd),
        _ => Err(errors),
    }
}

/// Numbers as they reach the API server through kubectl (Go's JSON encoding and decoding):
/// an integral float is an integer, an integer beyond int64 is a float.
pub fn normalize_numbers(value: &mut Value) {
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64()
                && n.is_f64()
                && f.fract() == 0.0
                && f.abs() < 9.2e18
            {
                *n = Number::from(f as i64);
            } else if n.is_u64()
                && n.as_i64().is_none()
                && let Some(f) = n.as_f64().and_then(Number::from_f64)
            {
                *n = f;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize_numbers),
        Value::Object(map) => map.values_mut().for_each(normalize_numbers),
        _ => {}
    }
}

static CEL: LazyLock<cel::Validator> = LazyLock::new(cel::Validator::new);

/// The CEL rules' errors, as the API server words them.
fn cel_errors(crd: &Crd, object: &Value) -> Vec<FieldError> {
    let Err(failures) = CEL.validate_compiled(&crd.rules, object, None) else {
        return Vec::new();
    };
    failures
        .into_vec()
        .into_iter()
        .filter_map(|failure| {
            let value = lookup(object, &failure.field_path);
            // the API server does not evaluate rules on a null (or absent) value
            if value.is_none_or(Value::is_null) {
                return None;
            }
            let node_type = schema_at(&crd.schema, &failure.field_path)
                .and_then(|s| s.get("type"))
                .and_then(Value::as_str);
            let shown = match node_type {
                Some("object" | "array") => None,
                _ => value.cloned(),
            };
            let error_type = match failure.reason.as_deref() {
                Some("FieldValueForbidden") => ErrorType::Forbidden,
                Some("FieldValueRequired") => ErrorType::Required,
                Some("FieldValueDuplicate") => ErrorType::Duplicate,
                _ => ErrorType::Invalid,
            };
            Some(FieldError::new(
                failure.field_path,
                error_type,
                shown,
                failure.message,
            ))
        })
        .collect()
}

/// Path segments of `spec.a.b[0].c`: keys and indexes.
fn segments(path: &str) -> Vec<Result<&str, usize>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            out.push(Ok(&rest[..open]));
            rest = &rest[open..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let Some(close) = stripped.find(']') else {
                    break;
                };
                if let Ok(i) = stripped[..close].parse() {
                    out.push(Err(i));
                }
                rest = &stripped[close + 1..];
            }
        } else {
            out.push(Ok(rest));
        }
    }
    out
}

fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    segments(path)
        .into_iter()
        .try_fold(value, |node, segment| match segment {
            Ok(key) => node.get(key),
            Err(i) => node.get(i),
        })
}

fn schema_at<'a>(schema: &'a Value, path: &str) -> Option<&'a Value> {
    segments(path)
        .into_iter()
        .try_fold(schema, |node, segment| match segment {
            Ok(key) => node
                .get("properties")
                .and_then(|p| p.get(key))
                .or_else(|| node.get("additionalProperties").filter(|a| a.is_object())),
            Err(_) => node.get("items"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn whisk(spec: Value) -> Value {
        json!({"apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
               "metadata": {"name": "controller", "namespace": "nuvolaris"}, "spec": spec})
    }

    fn errors(document: &Value) -> Vec<String> {
        match admit(document) {
            Ok(_) => Vec::new(),
            Err(rejection) => rejection.0.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn kinds_and_versions_are_mapped_like_kubectl() {
        let mut doc = whisk(json!({}));
        doc["apiVersion"] = json!("nuvolaris.org/v2");
        assert_eq!(
            errors(&doc),
            [
                "apiVersion: Unsupported value: \"nuvolaris.org/v2\": supported values: \"nuvolaris.org/v1\""
            ]
        );
        doc["apiVersion"] = json!("nuvolaris.org/v1");
        doc["kind"] = json!("Wisk");
        assert_eq!(
            errors(&doc),
            [
                "kind: Unsupported value: \"Wisk\": supported values: \"Whisk\", \"WhiskUser\", \"Workflows\""
            ]
        );
        assert_eq!(
            errors(&json!({"metadata": {"name": "x"}})),
            ["apiVersion: Required value", "kind: Required value"]
        );
    }

    #[test]
    fn unknown_fields_stop_before_validation() {
        assert_eq!(
            errors(&whisk(json!({"couchdb": {"volumesize": 3, "port": 0}}))),
            ["unknown field \"spec.couchdb.volumesize\""]
        );
    }

    #[test]
    fn schema_errors_block_cel_but_ranges_do_not() {
        let got = errors(&whisk(
            json!({"nuvolaris": {"kube": "minikube"}, "components": {"minio": true, "seaweedfs": true}}),
        ));
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].starts_with("spec.nuvolaris.kube: Unsupported value"));
        assert_eq!(got[1], format!("<nil>: Invalid value: null: {CEL_SKIPPED}"));
        let got = errors(&whisk(
            json!({"couchdb": {"port": 0}, "components": {"minio": true, "seaweedfs": true}}),
        ));
        assert_eq!(
            got,
            [
                "spec.couchdb.port: Invalid value: 0: spec.couchdb.port in body should be greater than or equal to 1",
                "spec.components: Invalid value: minio and seaweedfs cannot both be enabled",
            ]
        );
    }

    #[test]
    fn cel_rules_skip_nulls_and_show_scalars() {
        assert!(errors(&whisk(json!({"controller": {"port": null}}))).is_empty());
        assert_eq!(
            errors(&whisk(json!({"controller": {"port": "70000"}}))),
            [
                "spec.controller.port: Invalid value: \"70000\": port must be a number between 1 and 65535"
            ]
        );
    }

    #[test]
    fn admitted_object_is_what_the_api_server_stores() {
        let doc = json!({"apiVersion": "nuvolaris.org/v1", "kind": "WhiskUser",
            "metadata": {"name": "u"},
            "spec": {"email": "a@b.c", "password": "p", "namespace": "users",
                     "auth": format!("c3a47ffa-4742-427d-a16a-c4dd5eb75f03:{}", "k".repeat(64)),
                     "redis": {"enabled": null, "prefix": "x"}, "mongodb": null},
            "status": {"anything": 1.0}});
        let admitted = admit(&doc).expect("valid");
        assert_eq!(admitted.kind, "WhiskUser");
        assert_eq!(admitted.object.get("status"), None);
        assert_eq!(admitted.object["spec"]["redis"]["enabled"], json!(false));
    }

    #[test]
    fn numbers_are_normalised_like_kubectl() {
        let mut v = json!({"a": 3.0, "b": 2.5, "c": u64::MAX, "d": 7});
        normalize_numbers(&mut v);
        assert_eq!(v["a"], json!(3));
        assert_eq!(v["b"], json!(2.5));
        assert!(v["c"].is_f64());
        assert_eq!(v["d"], json!(7));
    }

    /// Every keyword and format of the operator's schemas is one this module checks.
    #[test]
    fn the_schemas_use_only_what_is_checked() {
        fn walk(schema: &Value, path: &str, found: &mut Vec<String>) {
            let Some(map) = schema.as_object() else {
                return;
            };
            for (key, value) in map {
                if !schema::SUPPORTED_KEYWORDS.contains(&key.as_str()) {
                    found.push(format!("{path}: keyword {key}"));
                }
                if key == "format"
                    && !value
                        .as_str()
                        .is_some_and(|f| schema::CHECKED_FORMATS.contains(&f))
                {
                    found.push(format!("{path}: format {value}"));
                }
            }
            for (name, sub) in map
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                walk(sub, &format!("{path}.{name}"), found);
            }
            for key in ["items", "additionalProperties"] {
                if let Some(sub) = map.get(key) {
                    walk(sub, &format!("{path}.{key}"), found);
                }
            }
        }
        let mut found = Vec::new();
        for crd in CRDS.iter() {
            assert!(crd.rules.compilation_errors().is_empty(), "{}", crd.kind);
            walk(&crd.schema, crd.kind, &mut found);
        }
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn paths_resolve_keys_and_indexes() {
        let v = json!({"spec": {"list": [{"a": 1}, {"a": [5, 6]}]}});
        assert_eq!(lookup(&v, "spec.list[1].a[1]"), Some(&json!(6)));
        assert_eq!(lookup(&v, "spec.nothing"), None);
    }
}
