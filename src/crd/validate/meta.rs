//! `metadata` of a custom resource as the API server reads it: decoded strictly into
//! `ObjectMeta` (wrong types and unknown fields are errors), then `ValidateObjectMetaAccessor`
//! (name, namespace, labels, annotations, finalizers, ownerReferences) with its messages.

use std::sync::LazyLock;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use regex::Regex;
use serde_json::{Map, Value};

use super::error::{ErrorType, FieldError};

/// The decoding step: fields of `metadata` of the wrong type, then unknown fields (as the
/// strict decoder reports them, `metadata.foo`). An error here stops the request.
pub fn decode_errors(metadata: &Value) -> Vec<FieldError> {
    let Some(map) = metadata.as_object() else {
        return vec![FieldError::new(
            "metadata",
            ErrorType::TypeInvalid,
            Some(Value::from(kind_name(metadata))),
            "must be of type object",
        )];
    };
    let mut errors = Vec::new();
    for (key, value) in map {
        // one field at a time, so the error names the field
        let single = Value::Object(Map::from_iter([(key.clone(), value.clone())]));
        if let Err(e) = serde_json::from_value::<ObjectMeta>(single) {
            errors.push(FieldError::invalid(
                format!("metadata.{key}"),
                value.clone(),
                format!("cannot be decoded: {e}"),
            ));
        }
    }
    if !errors.is_empty() {
        return errors;
    }
    // ObjectMeta ignores what it does not know: what does not come back is unknown.
    let decoded = serde_json::from_value::<ObjectMeta>(metadata.clone())
        .ok()
        .and_then(|m| serde_json::to_value(m).ok())
        .unwrap_or(Value::Null);
    let mut unknown = Vec::new();
    not_round_tripped(metadata, &decoded, "metadata", &mut unknown);
    unknown.into_iter().map(FieldError::unknown).collect()
}

fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Keys with a value in `given` that are missing from `decoded` (recursively).
fn not_round_tripped(given: &Value, decoded: &Value, path: &str, out: &mut Vec<String>) {
    match (given, decoded) {
        (Value::Object(g), Value::Object(d)) => {
            for (key, value) in g {
                match d.get(key) {
                    None if !value.is_null() => out.push(format!("{path}.{key}")),
                    Some(back) => not_round_tripped(value, back, &format!("{path}.{key}"), out),
                    None => {}
                }
            }
        }
        (Value::Array(g), Value::Array(d)) => {
            for (i, (value, back)) in g.iter().zip(d).enumerate() {
                not_round_tripped(value, back, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

const DNS1123_LABEL: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const LABEL_KEY: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";

static LABEL_RE: LazyLock<Regex> = LazyLock::new(|| anchored(DNS1123_LABEL));
static SUBDOMAIN_RE: LazyLock<Regex> =
    LazyLock::new(|| anchored(&format!("{DNS1123_LABEL}(\\.{DNS1123_LABEL})*")));
static LABEL_KEY_RE: LazyLock<Regex> = LazyLock::new(|| anchored(LABEL_KEY));
static LABEL_VALUE_RE: LazyLock<Regex> = LazyLock::new(|| anchored(&format!("({LABEL_KEY})?")));

fn anchored(pattern: &str) -> Regex {
    // constant patterns: a failure is a bug caught by every test
    Regex::new(&format!("^{pattern}$")).expect("constant regex compiles")
}

/// apimachinery's `RegexError`, its spacing included.
fn regex_error(message: &str, pattern: &str, examples: &[&str]) -> String {
    let examples: Vec<String> = examples.iter().map(|e| format!("'{e}', ")).collect();
    format!(
        "{message} (e.g. {}regex used for validation is '{pattern}')",
        examples.join(" or ")
    )
}

fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

fn dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 253 {
        errs.push(max_len_error(253));
    }
    if !SUBDOMAIN_RE.is_match(value) {
        errs.push(regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            &format!("{DNS1123_LABEL}(\\.{DNS1123_LABEL})*"),
            &["example.com"],
        ));
    }
    errs
}

fn dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !LABEL_RE.is_match(value) {
        if SUBDOMAIN_RE.is_match(value) {
            errs.push("must not contain dots".to_owned());
        } else {
            errs.push(regex_error(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
                DNS1123_LABEL,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

const LABEL_KEY_MESSAGE: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/// `IsQualifiedName` (label keys, annotation keys, finalizers).
fn qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_owned());
            } else {
                errs.extend(
                    dns1123_subdomain(prefix)
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            name
        }
        _ => {
            return vec![format!(
                "a valid label key {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(
                    LABEL_KEY_MESSAGE,
                    LABEL_KEY,
                    &["MyName", "my.name", "123-abc"]
                )
            )];
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_owned());
    } else if name.len() > 63 {
        errs.push(format!("name part {}", max_len_error(63)));
    }
    if !LABEL_KEY_RE.is_match(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                LABEL_KEY_MESSAGE,
                LABEL_KEY,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

fn label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !LABEL_VALUE_RE.is_match(value) {
        errs.push(regex_error(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
            &format!("({LABEL_KEY})?"),
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

const ANNOTATIONS_LIMIT: usize = 256 * 1024;

/// `ValidateObjectMetaAccessor` for a namespaced resource whose namespace kubectl fills in
/// when the document has none (so an absent namespace is not an error here).
pub fn validation_errors(metadata: &ObjectMeta) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let invalid = |field: &str, value: &str, messages: Vec<String>| -> Vec<FieldError> {
        messages
            .into_iter()
            .map(|m| FieldError::invalid(field, Value::from(value), m))
            .collect()
    };
    if let Some(generate) = metadata.generate_name.as_deref().filter(|g| !g.is_empty()) {
        // a trailing dash is fine in a prefix
        let masked = match generate.strip_suffix('-') {
            Some(stem) if generate.len() > 1 => format!("{stem}a"),
            _ => generate.to_owned(),
        };
        errors.extend(invalid(
            "metadata.generateName",
            generate,
            dns1123_subdomain(&masked),
        ));
    }
    match metadata.name.as_deref().filter(|n| !n.is_empty()) {
        None => errors.push(FieldError::required(
            "metadata.name",
            "name or generateName is required",
        )),
        Some(name) => errors.extend(invalid("metadata.name", name, dns1123_subdomain(name))),
    }
    if let Some(namespace) = metadata.namespace.as_deref().filter(|n| !n.is_empty()) {
        errors.extend(invalid(
            "metadata.namespace",
            namespace,
            dns1123_label(namespace),
        ));
    }
    // generation, uid, resourceVersion and the timestamps are reset by a create
    for (key, value) in metadata.labels.iter().flatten() {
        errors.extend(invalid("metadata.labels", key, qualified_name(key)));
        errors.extend(invalid("metadata.labels", value, label_value(value)));
    }
    let annotations = metadata.annotations.clone().unwrap_or_default();
    for key in annotations.keys() {
        errors.extend(invalid(
            "metadata.annotations",
            key,
            qualified_name(&key.to_lowercase()),
        ));
    }
    let size: usize = annotations.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > ANNOTATIONS_LIMIT {
        errors.push(FieldError::new(
            "metadata.annotations",
            ErrorType::TooLong,
            None,
            format!("may not be more than {ANNOTATIONS_LIMIT} bytes"),
        ));
    }
    let references = metadata.owner_references.clone().unwrap_or_default();
    for (i, reference) in references.iter().enumerate() {
        let field = |name: &str| format!("metadata.ownerReferences[{i}].{name}");
        let version = reference
            .api_version
            .rsplit_once('/')
            .map_or(reference.api_version.as_str(), |(_, v)| v);
        if version.is_empty() {
            errors.push(FieldError::invalid(
                field("apiVersion"),
                Value::from(reference.api_version.clone()),
                "version must not be empty",
            ));
        }
        for (name, value) in [
            ("kind", &reference.kind),
            ("name", &reference.name),
            ("uid", &reference.uid),
        ] {
            if value.is_empty() {
                errors.push(FieldError::invalid(
                    field(name),
                    Value::from(""),
                    "must not be empty",
                ));
            }
        }
    }
    let controllers = references
        .iter()
        .filter(|r| r.controller == Some(true))
        .count();
    if controllers > 1 {
        errors.push(FieldError::invalid(
            "metadata.ownerReferences",
            serde_json::to_value(&references).unwrap_or(Value::Null),
            "Only one reference can have Controller set to true",
        ));
    }
    for finalizer in metadata.finalizers.iter().flatten() {
        errors.extend(invalid(
            "metadata.finalizers",
            finalizer,
            qualified_name(finalizer),
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(value: Value) -> ObjectMeta {
        serde_json::from_value(value).expect("metadata")
    }

    #[test]
    fn names_and_labels() {
        assert!(
            validation_errors(&meta(
                json!({"name": "controller", "namespace": "nuvolaris"})
            ))
            .is_empty()
        );
        let errors = validation_errors(&meta(json!({
            "name": "Controller", "namespace": "a.b",
            "labels": {"ok/x": "v", "bad key": "-v"}, "finalizers": ["nuvolaris.org/cleanup"]
        })));
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "metadata.name",
                "metadata.namespace",
                "metadata.labels",
                "metadata.labels"
            ]
        );
        assert!(errors[0].to_string().starts_with(
            "metadata.name: Invalid value: \"Controller\": a lowercase RFC 1123 subdomain"
        ));
        assert_eq!(errors[1].detail, "must not contain dots");
        assert_eq!(
            validation_errors(&meta(json!({})))[0].to_string(),
            "metadata.name: Required value: name or generateName is required"
        );
    }

    #[test]
    fn decoding_names_wrong_types_then_unknown_fields() {
        let errors = decode_errors(&json!({"name": "x", "labels": "app=x"}));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "metadata.labels");
        let errors = decode_errors(&json!({
            "name": "x", "nmae": "y", "labels": null,
            "ownerReferences": [{"apiVersion": "v1", "kind": "K", "name": "n", "uid": "u", "bogus": 1}]
        }));
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["metadata.nmae", "metadata.ownerReferences[0].bogus"]
        );
        assert_eq!(decode_errors(&json!("x"))[0].field, "metadata");
    }
}
