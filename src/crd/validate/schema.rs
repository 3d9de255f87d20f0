//! The structural-schema steps of the API server for a custom resource, on `serde_json`
//! values and the CRD's `openAPIV3Schema` as JSON, in its order:
//!
//! 1. [`unknown_fields`]: pruning (`apiextensions-apiserver/pkg/apiserver/schema/pruning`);
//!    with kubectl's default strict field validation every pruned field is an error.
//! 2. [`drop_non_nullable_nulls`] and [`apply_defaults`]: what decoding does before validation.
//! 3. [`check`]: the OpenAPI validation of `k8s.io/kube-openapi/pkg/validation/validate`, with
//!    its messages (`spec.x in body should be greater than or equal to 1`) and its quirks
//!    (a number that is out of its `format`'s range is reported with no field path).
//!
//! Only the keywords of structural schemas are implemented ([`SUPPORTED_KEYWORDS`]); the
//! tests check that the operator's CRDs use nothing else.

use serde_json::{Map, Value};

use super::error::{ErrorType, FieldError};

/// Schema keywords this module understands (a structural schema has no `$ref`, `anyOf` of
/// types, etc.; `x-kubernetes-validations` is evaluated by CEL, `description`/`title` are docs).
pub const SUPPORTED_KEYWORDS: &[&str] = &[
    "type",
    "format",
    "nullable",
    "enum",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "pattern",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "description",
    "title",
    "x-kubernetes-int-or-string",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-validations",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
];

/// String formats this module checks; the others the API server knows (`uri`, `email`, …) are
/// not used by the operator's schemas (a test keeps it so). `int32`/`int64` are numeric ranges.
pub const CHECKED_FORMATS: &[&str] = &["int32", "int64", "date-time"];

fn flag(schema: &Value, key: &str) -> bool {
    schema.get(key).and_then(Value::as_bool) == Some(true)
}

fn property<'a>(schema: &'a Value, key: &str) -> Option<&'a Value> {
    schema.get("properties").and_then(|p| p.get(key))
}

/// `additionalProperties` as a schema (a map's values).
fn additional(schema: &Value) -> Option<&Value> {
    schema.get("additionalProperties").filter(|s| s.is_object())
}

fn child_schema<'a>(schema: &'a Value, key: &str) -> Option<&'a Value> {
    property(schema, key).or_else(|| additional(schema))
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

// ------------------------------------------------------------------------------------- pruning

/// Fields of `object` (a whole resource) that the schema does not declare, as the pruning
/// algorithm reports them (sorted, `spec.a.b`, `spec.list[0].c`); `apiVersion`, `kind` and
/// `metadata` at the root are not the schema's business. Unknown fields are removed.
pub fn unknown_fields(schema: &Value, object: &mut Value) -> Vec<String> {
    let mut found = Vec::new();
    if let Value::Object(map) = object {
        prune_map(Some(schema), map, "", true, &mut found);
    }
    found.sort();
    found
}

const META_FIELDS: [&str; 3] = ["apiVersion", "kind", "metadata"];

fn prune(schema: Option<&Value>, value: &mut Value, path: &str, found: &mut Vec<String>) {
    if let Some(s) = schema
        && flag(s, "x-kubernetes-preserve-unknown-fields")
    {
        skip_prune(s, value, path, found);
        return;
    }
    match value {
        Value::Object(map) => prune_map(schema, map, path, false, found),
        Value::Array(items) => {
            let item_schema = schema.and_then(|s| s.get("items"));
            for (i, item) in items.iter_mut().enumerate() {
                prune(item_schema, item, &format!("{path}[{i}]"), found);
            }
        }
        _ => {}
    }
}

fn prune_map(
    schema: Option<&Value>,
    map: &mut Map<String, Value>,
    path: &str,
    resource_root: bool,
    found: &mut Vec<String>,
) {
    let mut unknown = Vec::new();
    for (key, child) in map.iter_mut() {
        if resource_root && META_FIELDS.contains(&key.as_str()) {
            continue;
        }
        match schema.and_then(|s| child_schema(s, key)) {
            Some(sub) => prune(Some(sub), child, &join(path, key), found),
            None => unknown.push(key.clone()),
        }
    }
    for key in unknown {
        found.push(join(path, &key));
        map.remove(&key);
    }
}

/// Under `x-kubernetes-preserve-unknown-fields`: unknown fields stay, declared ones are pruned.
fn skip_prune(schema: &Value, value: &mut Value, path: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if let Some(sub) = child_schema(schema, key) {
                    prune(Some(sub), child, &join(path, key), found);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    skip_prune(item_schema, item, &format!("{path}[{i}]"), found);
                }
            }
        }
        _ => {}
    }
}

// -------------------------------------------------------------------------- nulls and defaults

/// Removes `null` values of fields that are neither nullable nor defaulted (the API server
/// drops them silently: `PruneNonNullableNullsWithoutDefaults`).
pub fn drop_non_nullable_nulls(schema: &Value, value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|key, child| {
                let sub = child_schema(schema, key);
                !(child.is_null()
                    && sub.is_some_and(|s| !flag(s, "nullable") && s.get("default").is_none()))
            });
            for (key, child) in map.iter_mut() {
                if let Some(sub) = child_schema(schema, key) {
                    drop_non_nullable_nulls(sub, child);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items {
                    drop_non_nullable_nulls(item_schema, item);
                }
            }
        }
        _ => {}
    }
}

/// Fills absent (or non-nullable `null`) fields that have a `default` (structural defaulting).
pub fn apply_defaults(schema: &Value, value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (key, sub) in properties {
                    let Some(default) = sub.get("default") else {
                        continue;
                    };
                    let missing = match map.get(key) {
                        None => true,
                        Some(v) => v.is_null() && !flag(sub, "nullable"),
                    };
                    if missing {
                        map.insert(key.clone(), default.clone());
                    }
                }
            }
            for (key, child) in map.iter_mut() {
                if let Some(sub) = child_schema(schema, key) {
                    apply_defaults(sub, child);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items {
                    apply_defaults(item_schema, item);
                }
            }
        }
        _ => {}
    }
}

// --------------------------------------------------------------------------------- validation

/// Every OpenAPI validation error of `value` against `schema`; `path` names `value`
/// (`""` for a whole resource, `"status"` for a status checked on its own).
pub fn check(schema: &Value, value: &Value, path: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    check_node(schema, value, path, &mut errors);
    errors
}

/// The field path of an error at `path` (kube-openapi names root children `.spec`).
fn field_of(path: &str) -> String {
    path.trim_start_matches('.').to_owned()
}

fn types_of(schema: &Value) -> Vec<&str> {
    if flag(schema, "x-kubernetes-int-or-string") {
        return vec!["integer", "string"];
    }
    schema
        .get("type")
        .and_then(Value::as_str)
        .into_iter()
        .collect()
}

/// The JSON type and Go format a decoded value has (`schemaInfoForType`).
fn data_type(value: &Value) -> (&'static str, &'static str) {
    match value {
        Value::Bool(_) => ("boolean", ""),
        Value::String(_) => ("string", ""),
        Value::Number(n) if n.is_f64() => ("number", "float64"),
        Value::Number(_) => ("integer", "int64"),
        Value::Array(_) => ("array", ""),
        Value::Object(_) => ("object", ""),
        Value::Null => ("null", ""),
    }
}

fn is_integral(value: &Value) -> bool {
    value.as_f64().is_some_and(|f| f.fract() == 0.0)
}

/// `errors.InvalidType`: the message names the expected type, the value is the actual one.
fn invalid_type(path: &str, expected: &str, actual: &str) -> FieldError {
    FieldError::new(
        field_of(path),
        ErrorType::TypeInvalid,
        Some(Value::from(actual)),
        format!("{path} in body must be of type {expected}: \"{actual}\""),
    )
}

fn check_node(schema: &Value, value: &Value, path: &str, errors: &mut Vec<FieldError>) {
    let types = types_of(schema);
    let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
    if value.is_null() {
        if !types.is_empty() && !flag(schema, "nullable") {
            errors.push(invalid_type(path, &types.join(","), "null"));
        }
        check_enum(schema, value, path, errors);
        return;
    }
    if !types.is_empty() || !format.is_empty() {
        check_type(&types, format, value, path, errors);
    }
    match value {
        Value::String(s) => {
            check_string(schema, s, path, errors);
            if format == "date-time" && chrono::DateTime::parse_from_rfc3339(s).is_err() {
                errors.push(invalid_type(path, format, s));
            }
        }
        Value::Number(_) => check_number(schema, &types, format, value, path, errors),
        Value::Array(items) => check_array(schema, items, path, errors),
        _ => {}
    }
    check_enum(schema, value, path, errors);
    if let Value::Object(map) = value {
        check_object(schema, map, path, errors);
    }
}

/// kube-openapi's `typeValidator`, numeric formats included.
fn check_type(
    types: &[&str],
    format: &str,
    value: &Value,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    let (actual, actual_format) = data_type(value);
    let contains = |t: &str| types.contains(&t);
    let float_int = actual == "number" && is_integral(value) && contains("integer");
    let int_float = actual == "integer" && contains("number");
    let string_or_array = value.is_string() || value.is_array();
    let numeric_schema = contains("number") || contains("integer");
    if !(string_or_array
        || format.is_empty()
        || contains(actual)
        || actual_format == format
        || float_int
        || int_float)
    {
        errors.push(invalid_type(path, format, actual_format));
    } else if !(numeric_schema || format.is_empty()) && string_or_array {
        // a string (or list) with a string format: the format validator decides
    } else if !(contains(actual) || float_int || int_float) {
        errors.push(invalid_type(path, &types.join(","), actual));
    }
}

fn check_string(schema: &Value, s: &str, path: &str, errors: &mut Vec<FieldError>) {
    let length = s.chars().count() as u64;
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && length > max
    {
        errors.push(FieldError::new(
            field_of(path),
            ErrorType::TooLong,
            None,
            format!("may not be more than {max} bytes"),
        ));
        return;
    }
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && length < min
    {
        errors.push(FieldError::invalid(
            field_of(path),
            Value::from(s),
            format!("{path} in body should be at least {min} chars long"),
        ));
        return;
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        match regex::Regex::new(pattern) {
            Ok(re) if re.is_match(s) => {}
            Ok(_) => errors.push(FieldError::invalid(
                field_of(path),
                Value::from(s),
                format!("{path} in body should match '{pattern}'"),
            )),
            Err(e) => errors.push(FieldError::invalid(
                field_of(path),
                Value::from(s),
                format!("{path} in body should match '{pattern}, but pattern is invalid: {e}'"),
            )),
        }
    }
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)` then `ParseInt(…, 32|64)`: whether a number
/// fits the integer format without loss.
fn fits_integer_format(value: &Value, format: &str) -> bool {
    let bits = if format == "int32" { 32 } else { 64 };
    let (min, max) = if bits == 32 {
        (i32::MIN as i128, i32::MAX as i128)
    } else {
        (i64::MIN as i128, i64::MAX as i128)
    };
    if let Some(i) = value.as_i64() {
        return (min..=max).contains(&(i as i128));
    }
    if let Some(u) = value.as_u64() {
        return (u as i128) <= max;
    }
    match value.as_f64() {
        Some(f) if f.fract() == 0.0 && f.is_finite() => {
            (min as f64) <= f && f <= (max as f64) && f.abs() < 9.3e18
        }
        _ => false,
    }
}

fn check_number(
    schema: &Value,
    types: &[&str],
    format: &str,
    value: &Value,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    // the range of the type's format is checked only for a single numeric type
    let integer_format = match types {
        ["integer"] => Some(if format == "int32" { "int32" } else { "int64" }),
        _ => None,
    };
    if let Some(int_format) = integer_format
        && !fits_integer_format(value, int_format)
    {
        let message = if format == "int32" || format == "int64" {
            format!("Checked value must be of type integer with format {format} in {path}")
        } else {
            format!("Checked value must be of type integer (default format) in {path}")
        };
        // a plain error in kube-openapi: the API server reports it without a field path
        errors.push(FieldError::invalid("", Value::from(""), message));
    }
    let Some(n) = value.as_f64() else {
        return;
    };
    let bad = |message: String| FieldError::invalid(field_of(path), value.clone(), message);
    if let Some(factor) = schema.get("multipleOf").and_then(Value::as_f64)
        && factor > 0.0
        && (n / factor).fract() != 0.0
    {
        errors.push(bad(format!(
            "{path} in body should be a multiple of {}",
            go_float(factor)
        )));
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        let exclusive = flag(schema, "exclusiveMaximum");
        if (exclusive && n >= max) || (!exclusive && n > max) {
            let op = if exclusive {
                "less than"
            } else {
                "less than or equal to"
            };
            errors.push(bad(format!(
                "{path} in body should be {op} {}",
                go_float(max)
            )));
        }
    }
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        let exclusive = flag(schema, "exclusiveMinimum");
        if (exclusive && n <= min) || (!exclusive && n < min) {
            let op = if exclusive {
                "greater than"
            } else {
                "greater than or equal to"
            };
            errors.push(bad(format!(
                "{path} in body should be {op} {}",
                go_float(min)
            )));
        }
    }
}

/// Go's `%v` of a float64 bound (`65535`, `0.5`).
fn go_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn check_array(schema: &Value, items: &[Value], path: &str, errors: &mut Vec<FieldError>) {
    if let Some(item_schema) = schema.get("items") {
        for (i, item) in items.iter().enumerate() {
            check_node(item_schema, item, &format!("{path}[{i}]"), errors);
        }
    }
    let count = items.len() as u64;
    if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
        && count < min
    {
        errors.push(FieldError::invalid(
            field_of(path),
            Value::from(count),
            format!("{path} in body should have at least {min} items"),
        ));
    }
    if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
        && count > max
    {
        let noun = if max == 1 { "item" } else { "items" };
        errors.push(FieldError::new(
            field_of(path),
            ErrorType::TooMany,
            Some(Value::from(count)),
            format!("must have at most {max} {noun}"),
        ));
    }
    if flag(schema, "uniqueItems")
        && items
            .iter()
            .enumerate()
            .any(|(i, a)| items[..i].contains(a))
    {
        errors.push(FieldError::invalid(
            field_of(path),
            Value::Array(items.to_vec()),
            format!("{path} in body shouldn't contain duplicates"),
        ));
    }
    check_list_type(schema, items, path, errors);
}

/// `x-kubernetes-list-type: set|map`: no two equal items, no two items with the same keys.
fn check_list_type(schema: &Value, items: &[Value], path: &str, errors: &mut Vec<FieldError>) {
    let key_of = |item: &Value| -> Value {
        match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("map") => {
                let keys: Map<String, Value> = schema
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .filter_map(|k| item.get(k).map(|v| (k.to_owned(), v.clone())))
                    .collect();
                Value::Object(keys)
            }
            _ => item.clone(),
        }
    };
    if !matches!(
        schema.get("x-kubernetes-list-type").and_then(Value::as_str),
        Some("set" | "map")
    ) {
        return;
    }
    let keys: Vec<Value> = items.iter().map(key_of).collect();
    for (i, key) in keys.iter().enumerate() {
        if keys[..i].contains(key) {
            errors.push(FieldError::new(
                format!("{}[{i}]", field_of(path)),
                ErrorType::Duplicate,
                Some(key.clone()),
                "",
            ));
        }
    }
}

/// kube-openapi's enum check; the API server lists the allowed values, JSON-encoded unless
/// they are strings, each quoted.
fn check_enum(schema: &Value, value: &Value, path: &str, errors: &mut Vec<FieldError>) {
    let Some(allowed) = schema.get("enum").and_then(Value::as_array) else {
        return;
    };
    if allowed.is_empty() || allowed.contains(value) {
        return;
    }
    let listed: Vec<String> = allowed
        .iter()
        .map(|v| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Value::from(text).to_string()
        })
        .collect();
    errors.push(FieldError::new(
        field_of(path),
        ErrorType::NotSupported,
        Some(value.clone()),
        format!("supported values: {}", listed.join(", ")),
    ));
}

fn check_object(
    schema: &Value,
    map: &Map<String, Value>,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    let count = map.len() as u64;
    if let Some(min) = schema.get("minProperties").and_then(Value::as_u64)
        && count < min
    {
        errors.push(FieldError::invalid(
            field_of(path),
            Value::from(count),
            format!("{path} in body should have at least {min} properties"),
        ));
    }
    if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64)
        && count > max
    {
        let noun = if max == 1 { "item" } else { "items" };
        errors.push(FieldError::new(
            field_of(path),
            ErrorType::TooMany,
            Some(Value::from(count)),
            format!("must have at most {max} {noun}"),
        ));
    }
    if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
        for key in map.keys().filter(|k| property(schema, k).is_none()) {
            errors.push(FieldError::new(
                field_of(path),
                ErrorType::Forbidden,
                None,
                format!("{path}.{key} in body is a forbidden property"),
            ));
        }
    } else if let Some(values) = additional(schema) {
        for (key, child) in map.iter().filter(|(k, _)| property(schema, k).is_none()) {
            check_node(values, child, &format!("{path}.{key}"), errors);
        }
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (key, sub) in properties {
            if let Some(child) = map.get(key) {
                check_node(sub, child, &join(path, key), errors);
            }
        }
    }
    for required in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !map.contains_key(required) {
            errors.push(FieldError::required(
                field_of(&format!("{path}.{required}")),
                "",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(schema: &Value, value: &Value) -> Vec<String> {
        check(schema, value, "spec")
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn numbers_follow_kube_openapi() {
        let port =
            json!({"type": "integer", "format": "int32", "minimum": 1.0, "maximum": 65535.0});
        let schema = json!({"type": "object", "properties": {"port": port}});
        assert_eq!(
            messages(&schema, &json!({"port": 70000})),
            [
                "spec.port: Invalid value: 70000: spec.port in body should be less than or equal to 65535"
            ]
        );
        assert_eq!(
            messages(&schema, &json!({"port": 0})),
            ["spec.port: Invalid value: 0: spec.port in body should be greater than or equal to 1"]
        );
        assert_eq!(
            messages(&schema, &json!({"port": "80"})),
            [
                "spec.port: Invalid value: \"string\": spec.port in body must be of type integer: \"string\""
            ]
        );
        // out of int32: reported without a field path, and the maximum too
        assert_eq!(
            messages(&schema, &json!({"port": 5_000_000_000_i64})),
            [
                "<nil>: Invalid value: \"\": Checked value must be of type integer with format int32 in spec.port",
                "spec.port: Invalid value: 5000000000: spec.port in body should be less than or equal to 65535"
            ]
        );
        // a boolean where an int32 goes: the format is the expected type
        assert_eq!(
            messages(&schema, &json!({"port": true})),
            ["spec.port: Invalid value: \"\": spec.port in body must be of type int32: \"\""]
        );
        assert!(messages(&schema, &json!({"port": 443})).is_empty());
    }

    #[test]
    fn int_or_string_enum_pattern_required() {
        let schema = json!({
            "type": "object",
            "required": ["auth"],
            "properties": {
                "port": {"x-kubernetes-int-or-string": true, "nullable": true},
                "kube": {"type": "string", "enum": ["kind", "generic"]},
                "auth": {"type": "string", "pattern": "^[^:]+:[^:]+$"},
            }
        });
        assert!(messages(&schema, &json!({"port": "80", "auth": "a:b"})).is_empty());
        assert!(messages(&schema, &json!({"port": null, "auth": "a:b"})).is_empty());
        assert_eq!(
            messages(
                &schema,
                &json!({"port": true, "kube": "minikube", "auth": "ab"})
            ),
            [
                "spec.auth: Invalid value: \"ab\": spec.auth in body should match '^[^:]+:[^:]+$'",
                "spec.kube: Unsupported value: \"minikube\": supported values: \"kind\", \"generic\"",
                "spec.port: Invalid value: \"boolean\": spec.port in body must be of type integer,string: \"boolean\"",
            ]
        );
        assert_eq!(messages(&schema, &json!({})), ["spec.auth: Required value"]);
    }

    #[test]
    fn pruning_reports_unknown_fields_outside_preserved_sections() {
        let schema = json!({
            "type": "object",
            "properties": {"spec": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": true,
                "properties": {
                    "couchdb": {"type": "object", "properties": {"port": {"type": "integer"}}},
                    "steps": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
                }
            }}
        });
        let mut object = json!({
            "apiVersion": "x/v1", "kind": "X", "metadata": {"name": "n"},
            "spec": {"s3": {"id": 1}, "couchdb": {"port": 1, "volumesize": 3},
                     "steps": [{"name": "a", "nmae": "b"}]},
            "extra": true
        });
        assert_eq!(
            unknown_fields(&schema, &mut object),
            ["extra", "spec.couchdb.volumesize", "spec.steps[0].nmae"]
        );
        assert_eq!(object["spec"]["s3"], json!({"id": 1}));
        assert_eq!(object["spec"]["couchdb"], json!({"port": 1}));
        assert_eq!(object["metadata"], json!({"name": "n"}));
    }

    #[test]
    fn nulls_are_dropped_or_defaulted_like_the_api_server() {
        let schema = json!({"type": "object", "properties": {
            "a": {"type": "string"},
            "b": {"type": "string", "nullable": true},
            "c": {"type": "boolean", "default": false},
            "d": {"type": "boolean", "default": true},
        }});
        let mut value = json!({"a": null, "b": null, "c": null});
        drop_non_nullable_nulls(&schema, &mut value);
        apply_defaults(&schema, &mut value);
        assert_eq!(value, json!({"b": null, "c": false, "d": true}));
    }

    #[test]
    fn list_types_reject_duplicates() {
        let schema = json!({"type": "array", "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["type"],
            "items": {"type": "object", "properties": {"type": {"type": "string"}}}});
        let errors = check(
            &schema,
            &json!([{"type": "A"}, {"type": "A"}]),
            "status.conditions",
        );
        assert_eq!(
            errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["status.conditions[1]: Duplicate value: {\"type\":\"A\"}"]
        );
    }
}
