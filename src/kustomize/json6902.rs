//! JSON 6902 patches as kustomize v5.5 applies them: with evanphx/json-patch v4.12
//! (`patch.go`), not strict RFC 6902. The differences show in the output, so they are
//! ported literally:
//! - no operation creates missing parents (an `add` under an absent map fails);
//! - `replace` of a missing key of an existing map sets it (v4's map `get` never fails);
//! - list indices may be negative (counted from the end) or zero-padded (`01`);
//! - a missing or null value is the same to `test` (`test` against `null` passes for an
//!   absent path), and `copy` from a missing key copies a null;
//! - the first segment of a path is dropped unread (`data/x` is the root field `x`).
//!
//! kustomize's own part around the library (`PatchTransformer.transformJson6902`) is in
//! [`apply_to_resource`].

use serde_json::{Map, Value};

use super::select::{Res, metadata_mut};

/// Applies `ops` (the decoded patch: a list of operations) to one resource, as kustomize's
/// PatchTransformer does. The current id is stored as a previous one first (so references
/// follow a rename made by the patch). The patch sees the object as kustomize holds it
/// during a build, with its build annotations in `metadata.annotations` (its id history,
/// ...): so `metadata.annotations` always exists for it (an `add` of one annotation works
/// on an object without any), and a `copy` of the annotations carries the build ones along.
/// Afterwards the annotations are written back as strings, the build ones taken out again.
pub(crate) fn apply_to_resource(r: &mut Res, ops: &Value) -> Result<(), String> {
    r.store_previous_id();
    let build = r.build_annotations();
    let internal = add_build_annotations(&mut r.obj, &build);
    apply(&mut r.obj, ops)?;
    restore_annotations(&mut r.obj, &internal, &build);
    // kustomize reads every resource back after a patch (`GetValidatedMetadata`): a patch
    // may not take away the kind, nor the name (but of a List)
    if r.kind().is_empty() {
        return Err("the patched object has no kind".into());
    }
    if r.name().is_empty() && !r.kind().ends_with("List") {
        return Err("the patched object has no metadata.name".into());
    }
    Ok(())
}

const INTERNAL_PREFIX: &str = "internal.config.kubernetes.io/";

/// Puts the build annotations into `metadata.annotations` (a missing, null or non-map
/// field becomes a map, as kyaml's SetAnnotations does) and returns every
/// `internal.config.kubernetes.io/` annotation the object then has, which kustomize keeps
/// across the patch.
fn add_build_annotations(
    obj: &mut Value,
    build: &[(&'static str, String)],
) -> Vec<(String, String)> {
    let Some(meta) = metadata_mut(obj) else {
        return Vec::new();
    };
    let mut annotations: Map<String, Value> = match meta.remove("annotations") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for (k, v) in build {
        annotations.insert((*k).to_string(), Value::from(v.clone()));
    }
    let internal = annotations
        .iter()
        .filter(|(k, _)| k.starts_with(INTERNAL_PREFIX))
        .map(|(k, v)| (k.clone(), scalar_text(v)))
        .collect();
    meta.insert("annotations".into(), Value::Object(annotations));
    internal
}

/// kustomize after a JSON 6902 patch: `SetAnnotations(GetAnnotations() + internal ones)`
/// (every value as its scalar text, no field when empty); then the build annotations,
/// which this engine tracks outside the object, come out again.
fn restore_annotations(
    obj: &mut Value,
    internal: &[(String, String)],
    build: &[(&'static str, String)],
) {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let mut strings: Map<String, Value> = match meta.get("annotations") {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(scalar_text(v))))
            .collect(),
        _ => Map::new(),
    };
    for (k, v) in internal {
        strings.insert(k.clone(), Value::from(v.clone()));
    }
    for (k, _) in build {
        strings.remove(*k);
    }
    if strings.is_empty() {
        meta.remove("annotations");
    } else {
        meta.insert("annotations".into(), Value::Object(strings));
    }
}

/// The text kyaml reads from a scalar node.
fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Bool(_) | Value::Number(_) => v.to_string(),
        Value::Array(_) | Value::Object(_) => String::new(),
    }
}

/// evanphx/json-patch v4 `Patch.Apply`: the operations in order, stopping at the first
/// error (the document is then left part-patched; the build fails anyway).
pub(crate) fn apply(doc: &mut Value, ops: &Value) -> Result<(), String> {
    let Value::Array(ops) = ops else {
        return Err("a JSON 6902 patch must be a list of operations".into());
    };
    for op in ops {
        let Value::Object(op) = op else {
            return Err(format!("a JSON 6902 operation must be a map, got `{op}`"));
        };
        let kind = op.get("op").and_then(Value::as_str).unwrap_or("unknown");
        match kind {
            "add" => add(doc, op),
            "remove" => remove(doc, op),
            "replace" => replace(doc, op),
            "move" => move_op(doc, op),
            "test" => test(doc, op),
            "copy" => copy(doc, op),
            other => Err(format!("Unexpected kind: {other}")),
        }?;
    }
    Ok(())
}

/// A string field of an operation (`path`, `from`); a missing or null one is an error.
fn string_field<'a>(op: &'a Map<String, Value>, field: &str) -> Result<&'a str, String> {
    match op.get(field) {
        None | Some(Value::Null) => Err(format!("operation missing {field} field")),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!("operation {field} `{other}` is not a string")),
    }
}

/// The operation's value: `None` when the field is absent, `Some(Null)` for `null`.
fn value(op: &Map<String, Value>) -> Option<Value> {
    op.get("value").cloned()
}

/// RFC 6901 unescaping (`~1` is `/`, `~0` is `~`), left to right.
fn decode_key(k: &str) -> String {
    let mut out = String::with_capacity(k.len());
    let mut chars = k.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('~', Some('1')) => {
                chars.next();
                out.push('/');
            }
            ('~', Some('0')) => {
                chars.next();
                out.push('~');
            }
            _ => out.push(c),
        }
    }
    out
}

/// evanphx `findObject`: the map or list holding the last segment of `path`, and that
/// segment. Every segment but the first and the last must lead to a map or a list (a
/// missing key, a null, a scalar or a bad index: no container). The first segment is
/// skipped unread, as in the library.
fn find_container<'a>(doc: &'a mut Value, path: &str) -> Option<(&'a mut Value, String)> {
    let split: Vec<&str> = path.split('/').collect();
    if split.len() < 2 {
        return None;
    }
    let mut cur = doc;
    for part in &split[1..split.len() - 1] {
        let part = decode_key(part);
        let next = match cur {
            Value::Object(m) => m.get_mut(&part)?,
            Value::Array(items) => {
                let i = get_index(items.len(), &part).ok()?;
                &mut items[i]
            }
            _ => return None,
        };
        if !next.is_object() && !next.is_array() {
            return None;
        }
        cur = next;
    }
    Some((cur, decode_key(split[split.len() - 1])))
}

/// Go `strconv.Atoi` on a list index.
fn parse_index(key: &str) -> Result<i64, String> {
    key.parse::<i64>()
        .map_err(|_| format!("strconv.Atoi: parsing {key:?}: invalid syntax"))
}

fn invalid_index(i: i64) -> String {
    format!("Unable to access invalid index: {i}: invalid index referenced")
}

/// `partialArray.get`/`set`: an existing element, negative indices from the end.
fn get_index(len: usize, key: &str) -> Result<usize, String> {
    let len = len as i64;
    let mut i = parse_index(key)?;
    if i < 0 {
        if i < -len {
            return Err(invalid_index(i));
        }
        i += len;
    }
    if i >= len {
        return Err(invalid_index(i));
    }
    Ok(i as usize)
}

/// `partialArray.add`: `-` appends; an index may be the length (append) or negative
/// (counted from the end of the list grown by one).
fn add_index(len: usize, key: &str) -> Result<usize, String> {
    if key == "-" {
        return Ok(len);
    }
    let size = len as i64 + 1;
    let mut i = parse_index(key)
        .map_err(|e| format!("value was not a proper array index: '{key}': {e}"))?;
    if i >= size {
        return Err(invalid_index(i));
    }
    if i < 0 {
        if i < -size {
            return Err(invalid_index(i));
        }
        i += size;
    }
    Ok(i as usize)
}

/// `partialArray.remove`: the upper bound is checked before negative indices are turned.
fn remove_index(len: usize, key: &str) -> Result<usize, String> {
    let len = len as i64;
    let mut i = parse_index(key)?;
    if i >= len {
        return Err(invalid_index(i));
    }
    if i < 0 {
        if i < -len {
            return Err(invalid_index(i));
        }
        i += len;
    }
    Ok(i as usize)
}

/// The container `add`: a map key is set, a list element inserted.
fn container_add(container: &mut Value, key: &str, val: Value) -> Result<(), String> {
    match container {
        Value::Object(m) => {
            m.insert(key.to_string(), val);
            Ok(())
        }
        Value::Array(items) => {
            let i = add_index(items.len(), key)?;
            items.insert(i, val);
            Ok(())
        }
        _ => Err("invalid state detected".into()),
    }
}

/// The container `get`: `Ok(None)` for a missing map key (never an error in v4); a list
/// index must exist.
fn container_get(container: &Value, key: &str) -> Result<Option<Value>, String> {
    match container {
        Value::Object(m) => Ok(m.get(key).cloned()),
        Value::Array(items) => Ok(Some(items[get_index(items.len(), key)?].clone())),
        _ => Err("invalid state detected".into()),
    }
}

fn container_remove(container: &mut Value, key: &str) -> Result<(), String> {
    match container {
        Value::Object(m) => match m.remove(key) {
            Some(_) => Ok(()),
            None => Err(format!(
                "Unable to remove nonexistent key: {key}: missing value"
            )),
        },
        Value::Array(items) => {
            let i = remove_index(items.len(), key)?;
            items.remove(i);
            Ok(())
        }
        _ => Err("invalid state detected".into()),
    }
}

fn add(doc: &mut Value, op: &Map<String, Value>) -> Result<(), String> {
    let path = string_field(op, "path")?;
    let Some((container, key)) = find_container(doc, path) else {
        return Err(format!(
            "add operation does not apply: doc is missing path: {path:?}: missing value"
        ));
    };
    container_add(container, &key, value(op).unwrap_or(Value::Null))
        .map_err(|e| format!("error in add for path: '{path}': {e}"))
}

fn remove(doc: &mut Value, op: &Map<String, Value>) -> Result<(), String> {
    let path = string_field(op, "path")?;
    let Some((container, key)) = find_container(doc, path) else {
        return Err(format!(
            "remove operation does not apply: doc is missing path: {path:?}: missing value"
        ));
    };
    container_remove(container, &key)
        .map_err(|e| format!("error in remove for path: '{path}': {e}"))
}

fn replace(doc: &mut Value, op: &Map<String, Value>) -> Result<(), String> {
    let path = string_field(op, "path")?;
    let val = value(op).unwrap_or(Value::Null);
    if path.is_empty() {
        // The whole document. v4 also takes a list here, which is no Kubernetes object.
        if !val.is_object() {
            return Err("replace operation value must be an object".into());
        }
        *doc = val;
        return Ok(());
    }
    let Some((container, key)) = find_container(doc, path) else {
        return Err(format!(
            "replace operation does not apply: doc is missing path: {path}: missing value"
        ));
    };
    match container {
        Value::Object(m) => {
            m.insert(key, val);
        }
        Value::Array(items) => {
            let i = get_index(items.len(), &key).map_err(|_| {
                format!(
                    "replace operation does not apply: doc is missing key: {path}: missing value"
                )
            })?;
            items[i] = val;
        }
        _ => return Err("invalid state detected".into()),
    }
    Ok(())
}

fn move_op(doc: &mut Value, op: &Map<String, Value>) -> Result<(), String> {
    let from = string_field(op, "from")?;
    let Some((container, key)) = find_container(doc, from) else {
        return Err(format!(
            "move operation does not apply: doc is missing from path: {from}: missing value"
        ));
    };
    let val = container_get(container, &key)
        .map_err(|e| format!("error in move for path: '{key}': {e}"))?;
    container_remove(container, &key)
        .map_err(|e| format!("error in move for path: '{key}': {e}"))?;
    let path = string_field(op, "path")?;
    let Some((container, key)) = find_container(doc, path) else {
        return Err(format!(
            "move operation does not apply: doc is missing destination path: {path}: missing value"
        ));
    };
    container_add(container, &key, val.unwrap_or(Value::Null))
        .map_err(|e| format!("error in move for path: '{path}': {e}"))
}

fn test(doc: &mut Value, op: &Map<String, Value>) -> Result<(), String> {
    let path = string_field(op, "path")?;
    let want = value(op);
    let failed = || format!("testing value {path} failed: test failed");
    if path.is_empty() {
        return if want.as_ref() == Some(doc) {
            Ok(())
        } else {
            Err(failed())
        };
    }
    let Some((container, key)) = find_container(doc, path) else {
        return Err(format!(
            "test operation does not apply: is missing path: {path}: missing value"
        ));
    };
    let got = container_get(container, &key)
        .map_err(|e| format!("error in test for path: '{path}': {e}"))?;
    match (got.filter(|v| !v.is_null()), want) {
        // the library dereferences the absent value here and crashes: an error all the same
        (None, None) => Err(format!("test operation at {path} has no value")),
        (None, Some(Value::Null)) => Ok(()),
        (Some(g), Some(w)) if g == w => Ok(()),
        _ => Err(failed()),
    }
}

fn copy(doc: &mut Value, op: &Map<String, Value>) -> Result<(), String> {
    let from = string_field(op, "from")?;
    let Some((container, key)) = find_container(doc, from) else {
        return Err(format!(
            "copy operation does not apply: doc is missing from path: {from}: missing value"
        ));
    };
    let val = container_get(container, &key)
        .map_err(|e| format!("error in copy for from: '{from}': {e}"))?;
    let path = string_field(op, "path")?;
    let Some((container, key)) = find_container(doc, path) else {
        return Err(format!(
            "copy operation does not apply: doc is missing destination path: {path}: missing value"
        ));
    };
    container_add(container, &key, val.unwrap_or(Value::Null))
        .map_err(|e| format!("error while adding value during copy: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patched(doc: Value, ops: Value) -> Result<Value, String> {
        let mut doc = doc;
        apply(&mut doc, &ops).map(|()| doc)
    }

    #[test]
    fn add_does_not_create_parents_but_replace_sets_a_missing_key() {
        let doc = json!({"metadata": {"name": "x"}});
        assert!(
            patched(
                doc.clone(),
                json!([{"op": "add", "path": "/spec/a/b", "value": 1}])
            )
            .is_err()
        );
        assert_eq!(
            patched(
                doc.clone(),
                json!([{"op": "replace", "path": "/metadata/labels", "value": {"a": "b"}}])
            )
            .unwrap(),
            json!({"metadata": {"name": "x", "labels": {"a": "b"}}})
        );
        assert!(
            patched(
                doc,
                json!([{"op": "replace", "path": "/spec/x", "value": 1}])
            )
            .is_err()
        );
    }

    #[test]
    fn list_indices_follow_the_library() {
        let doc = json!({"l": ["a", "b", "c"]});
        let out = patched(
            doc.clone(),
            json!([
                {"op": "add", "path": "/l/-1", "value": "end"},
                {"op": "remove", "path": "/l/-1"},
                {"op": "replace", "path": "/l/-3", "value": "A"},
                {"op": "add", "path": "/l/01", "value": "ins"},
                {"op": "add", "path": "/l/4", "value": "last"}
            ]),
        )
        .unwrap();
        assert_eq!(out, json!({"l": ["A", "ins", "b", "c", "last"]}));
        assert!(
            patched(
                doc.clone(),
                json!([{"op": "add", "path": "/l/4", "value": 1}])
            )
            .is_err()
        );
        assert!(
            patched(
                doc.clone(),
                json!([{"op": "replace", "path": "/l/3", "value": 1}])
            )
            .is_err()
        );
        assert!(patched(doc, json!([{"op": "add", "path": "/l/x", "value": 1}])).is_err());
    }

    #[test]
    fn test_copy_and_move() {
        let doc = json!({"a": {"b": 1}, "n": null});
        let out = patched(
            doc.clone(),
            json!([
                {"op": "test", "path": "/missing", "value": null},
                {"op": "test", "path": "/n", "value": null},
                {"op": "test", "path": "/a", "value": {"b": 1}},
                {"op": "copy", "from": "/missing", "path": "/c"},
                {"op": "move", "from": "/a/b", "path": "/m~1k"}
            ]),
        )
        .unwrap();
        assert_eq!(out, json!({"a": {}, "n": null, "c": null, "m/k": 1}));
        assert!(
            patched(
                doc.clone(),
                json!([{"op": "test", "path": "/a/b", "value": 2}])
            )
            .is_err()
        );
        assert!(patched(doc.clone(), json!([{"op": "test", "path": "/a/b"}])).is_err());
        assert!(patched(doc.clone(), json!([{"op": "remove", "path": "/zz"}])).is_err());
        assert!(patched(doc, json!([{"op": "bogus", "path": "/a"}])).is_err());
    }

    #[test]
    fn first_segment_is_not_read() {
        let out = patched(json!({}), json!([{"op": "add", "path": "x/y", "value": 1}])).unwrap();
        assert_eq!(out, json!({"y": 1}));
        assert!(patched(json!({}), json!([{"op": "add", "path": "y", "value": 1}])).is_err());
    }
}
