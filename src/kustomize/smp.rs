//! Strategic merge patch with kustomize's semantics: kyaml `merge2` walked with the
//! embedded Kubernetes OpenAPI merge keys and `ListIncreaseDirection: Prepend`.
//!
//! Summary of the rules reproduced here (see `kyaml/yaml/merge2`, `kyaml/yaml/walk`):
//! - maps merge field by field; an explicit `null` clears a field;
//! - `$patch: delete|replace|merge` on maps, and as a `{$patch: ...}` element of a list;
//! - lists whose schema says `x-kubernetes-patch-strategy: merge` merge by their merge keys
//!   (`x-kubernetes-list-map-keys` when present), patch items first, then the remaining base
//!   items; all other lists (and every list of a kind with no schema) are replaced.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::tables::{FIELDS, RESOURCES};

const DIRECTIVE: &str = "$patch";

#[derive(Clone, Copy)]
struct FieldInfo {
    child: Option<&'static str>,
    merge: bool,
    keys: &'static [&'static str],
}

static FIELD_INDEX: LazyLock<HashMap<(&'static str, &'static str), FieldInfo>> =
    LazyLock::new(|| {
        FIELDS
            .iter()
            .map(|row| {
                (
                    (row.def, row.field),
                    FieldInfo {
                        child: row.child,
                        merge: row.merge,
                        keys: &row.keys,
                    },
                )
            })
            .collect()
    });

/// The schema position of a node: the OpenAPI definition of the object, or for a list
/// field, its merge information and element definition.
#[derive(Clone, Copy, Default)]
struct Schema {
    /// Definition of this node when it is an object (or of the elements when a list).
    def: Option<&'static str>,
    /// For a list: whether it merges as associative and by which keys.
    list: Option<(bool, &'static [&'static str])>,
}

impl Schema {
    fn for_resource(v: &Value) -> Schema {
        let api = v.get("apiVersion").and_then(Value::as_str);
        let kind = v.get("kind").and_then(Value::as_str);
        let (Some(api), Some(kind)) = (api, kind) else {
            return Schema::default();
        };
        let def = RESOURCES
            .iter()
            .find(|(a, k, _)| *a == api && *k == kind)
            .map(|(_, _, d)| *d);
        Schema { def, list: None }
    }
    fn field(&self, key: &str) -> Schema {
        let Some(def) = self.def else {
            return Schema::default();
        };
        match FIELD_INDEX.get(&(def, key)) {
            Some(fi) => Schema {
                def: fi.child,
                list: Some((fi.merge, fi.keys)),
            },
            None => Schema::default(),
        }
    }
    fn element(&self) -> Schema {
        Schema {
            def: self.def,
            list: None,
        }
    }
    fn associative(&self) -> Option<&'static [&'static str]> {
        match self.list {
            Some((true, keys)) => Some(keys),
            _ => None,
        }
    }
}

/// Applies `patch` to `target`. `Ok(None)` means the patch deleted the whole resource.
pub(crate) fn merge(target: Value, patch: &Value) -> Result<Option<Value>, String> {
    let schema = Schema::for_resource(&target);
    let schema = if schema.def.is_some() {
        schema
    } else {
        Schema::for_resource(patch)
    };
    walk(Some(target), Some(patch.clone()), schema, "")
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "map",
        Value::Array(_) => "sequence",
        _ => "scalar",
    }
}

fn same_kind(a: &Value, b: &Value) -> bool {
    matches!(
        (a, b),
        (Value::Object(_), Value::Object(_)) | (Value::Array(_), Value::Array(_))
    ) || (!a.is_object() && !a.is_array() && !b.is_object() && !b.is_array())
}

/// Walks one position. `None` in = missing; `Some(Null)` = explicit null.
/// `None` out = clear the field.
fn walk(
    dest: Option<Value>,
    origin: Option<Value>,
    schema: Schema,
    path: &str,
) -> Result<Option<Value>, String> {
    // kyaml's Kind(): the kind of the first non-null source.
    let first = [&dest, &origin]
        .into_iter()
        .flatten()
        .find(|v| !v.is_null())
        .cloned();
    let Some(first) = first else {
        // all sources null or missing: keep a null that is only in the base
        return Ok(match (dest, origin) {
            (Some(Value::Null), None) => Some(Value::Null),
            _ => None,
        });
    };
    for v in [&dest, &origin].into_iter().flatten() {
        if !v.is_null() && !same_kind(v, &first) {
            return Err(format!(
                "wrong node kind at `{}`: expected {} but got {}",
                path.trim_start_matches('.'),
                kind_name(&first),
                kind_name(v)
            ));
        }
    }
    // Nothing to merge in: kyaml still walks the base (associative lists get re-keyed).
    let Some(origin) = origin else {
        return match dest {
            Some(d) => walk_base_only(d, schema, path).map(Some),
            None => Ok(None),
        };
    };
    match first {
        Value::Object(_) => walk_map(dest, origin, schema, path),
        Value::Array(_) => walk_list(dest, origin, schema, path),
        _ => Ok(if origin.is_null() { None } else { Some(origin) }),
    }
}

/// kyaml walks every base field, also those the patch does not mention: associative lists
/// go through the element merge with no patch elements (deduplicating by merge keys).
fn walk_base_only(v: Value, schema: Schema, path: &str) -> Result<Value, String> {
    match v {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, fv) in map {
                let mut fs = schema.field(&k);
                if fs.def.is_none()
                    && fs.list.is_none()
                    && fv.is_object()
                    && Schema::for_resource(&fv).def.is_some()
                {
                    fs = Schema::for_resource(&fv);
                }
                let sub = format!("{path}.{k}");
                out.insert(k, walk_base_only(fv, fs, &sub)?);
            }
            Ok(Value::Object(out))
        }
        Value::Array(_) => match schema.associative() {
            Some(keys) => merge_elements(v, Value::Array(Vec::new()), schema, keys, path, false),
            None => Ok(v),
        },
        other => Ok(other),
    }
}

enum Directive {
    Merge,
    Replace,
    Delete,
}

fn parse_directive(v: &str) -> Result<Directive, String> {
    match v {
        "merge" => Ok(Directive::Merge),
        "replace" => Ok(Directive::Replace),
        "delete" => Ok(Directive::Delete),
        other => Err(format!("unknown patch strategy '{other}'")),
    }
}

/// Removes and returns the map directive of a patch map.
fn take_map_directive(origin: &mut Value) -> Result<Directive, String> {
    let Some(map) = origin.as_object_mut() else {
        return Ok(Directive::Merge);
    };
    match map.remove(DIRECTIVE) {
        None => Ok(Directive::Merge),
        Some(Value::String(s)) => parse_directive(&s),
        Some(other) => Err(format!("unknown patch strategy '{other}'")),
    }
}

/// Removes and returns the list directive: the first element that is a map with a
/// `$patch` field counts only when that is its sole field.
fn take_list_directive(origin: &mut Value) -> Result<Directive, String> {
    let Some(items) = origin.as_array_mut() else {
        return Ok(Directive::Merge);
    };
    let Some(pos) = items
        .iter()
        .position(|e| e.as_object().is_some_and(|m| m.contains_key(DIRECTIVE)))
    else {
        return Ok(Directive::Merge);
    };
    let elem = &items[pos];
    let map = elem.as_object().map(|m| m.len()).unwrap_or(0);
    if map > 1 {
        return Ok(Directive::Merge);
    }
    let d = match elem.get(DIRECTIVE) {
        Some(Value::String(s)) => parse_directive(s)?,
        Some(other) => return Err(format!("unknown patch strategy '{other}'")),
        None => Directive::Merge,
    };
    // kyaml elides with ElementSetter{Keys: [$patch], Values: [v]}: every element whose
    // `$patch` has that value goes, whatever its other fields.
    let value = match &d {
        Directive::Merge => "merge",
        Directive::Replace => "replace",
        Directive::Delete => "delete",
    };
    element_setter(items, None, &[DIRECTIVE], &[value.to_string()]);
    Ok(d)
}

fn walk_map(
    dest: Option<Value>,
    mut origin: Value,
    schema: Schema,
    path: &str,
) -> Result<Option<Value>, String> {
    let base = match dest {
        Some(d) if !d.is_null() => {
            if origin.is_null() {
                return Ok(None);
            }
            let explicit = origin.get(DIRECTIVE).is_some();
            match take_map_directive(&mut origin)? {
                Directive::Delete => return Ok(None),
                // the patch becomes the node, cleaned of directives and nulls
                Directive::Replace => return clean(origin, schema),
                Directive::Merge => {
                    let mut d = d;
                    // when kyaml walks a patch against itself the directive is removed
                    // from the one shared node
                    if explicit && let Some(m) = d.as_object_mut() {
                        m.remove(DIRECTIVE);
                    }
                    d
                }
            }
        }
        _ => return clean(origin, schema),
    };
    merge_fields(base, origin, schema, path).map(Some)
}

/// A patch subtree with nothing under it in the base: kyaml merges it with itself, which
/// drops nulls, applies `$patch` directives and removes directive list elements (only in
/// associative lists; other lists are taken verbatim).
fn clean(mut v: Value, schema: Schema) -> Result<Option<Value>, String> {
    match &mut v {
        Value::Null => Ok(None),
        Value::Object(_) => {
            if let Directive::Delete = take_map_directive(&mut v)? {
                return Ok(None);
            }
            let Value::Object(map) = v else {
                return Ok(None);
            };
            let mut out = Map::new();
            for (k, fv) in map {
                if let Some(c) = clean(fv, schema.field(&k))? {
                    out.insert(k, c);
                }
            }
            Ok(Some(Value::Object(out)))
        }
        Value::Array(_) => {
            let Some(keys) = schema.associative() else {
                return Ok(Some(v));
            };
            if let Directive::Delete = take_list_directive(&mut v)? {
                return Ok(None);
            }
            let copy = v.clone();
            merge_elements(copy, v, schema, keys, "", true).map(Some)
        }
        _ => Ok(Some(v)),
    }
}

fn merge_fields(base: Value, origin: Value, schema: Schema, path: &str) -> Result<Value, String> {
    let Value::Object(mut base) = base else {
        return Ok(base);
    };
    let Value::Object(origin) = origin else {
        return Ok(Value::Object(base));
    };
    // kyaml visits the union of field names; base-only fields are walked too.
    let base_only: Vec<String> = base
        .keys()
        .filter(|k| !origin.contains_key(*k))
        .cloned()
        .collect();
    for key in base_only {
        if let Some(dv) = base.remove(&key) {
            let mut fs = schema.field(&key);
            if fs.def.is_none()
                && fs.list.is_none()
                && dv.is_object()
                && Schema::for_resource(&dv).def.is_some()
            {
                fs = Schema::for_resource(&dv);
            }
            let sub = format!("{path}.{key}");
            base.insert(key, walk_base_only(dv, fs, &sub)?);
        }
    }
    for (key, ov) in origin {
        let dv = base.remove(&key);
        let mut field_schema = schema.field(&key);
        if field_schema.def.is_none()
            && field_schema.list.is_none()
            && let Some(obj) = dv.as_ref().filter(|v| v.is_object())
        {
            // a nested object carrying apiVersion/kind gets its own schema (kyaml GetSchema)
            let s = Schema::for_resource(obj);
            if s.def.is_some() {
                field_schema = s;
            }
        }
        let sub = format!("{path}.{key}");
        if let Some(v) = walk(dv, Some(ov), field_schema, &sub)? {
            base.insert(key, v);
        }
    }
    Ok(Value::Object(base))
}

fn walk_list(
    dest: Option<Value>,
    mut origin: Value,
    schema: Schema,
    path: &str,
) -> Result<Option<Value>, String> {
    let Some(keys) = schema.associative() else {
        // non-associative: the patch replaces (a null clears)
        return Ok(if origin.is_null() { None } else { Some(origin) });
    };
    let dest = match dest {
        Some(d) if !d.is_null() => {
            if origin.is_null() {
                return Ok(None);
            }
            match take_list_directive(&mut origin)? {
                Directive::Delete => return Ok(None),
                Directive::Replace => {
                    let copy = origin.clone();
                    return merge_elements(copy, origin, schema, keys, path, true).map(Some);
                }
                Directive::Merge => d,
            }
        }
        // no base list: kyaml takes the patch list as is (directives included) and walks
        // it against itself
        _ => {
            let copy = origin.clone();
            return merge_elements(copy, origin, schema, keys, path, true).map(Some);
        }
    };
    merge_elements(dest, origin, schema, keys, path, false).map(Some)
}

/// The text kyaml compares merge-key values in (the scalar node's value).
fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// kyaml `ElementValuesList` for one element: "" for a missing, null or empty field.
fn element_values(e: &Value, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .map(|k| match e.get(*k) {
            None | Some(Value::Null) => String::new(),
            Some(Value::Object(m)) if m.is_empty() => String::new(),
            Some(Value::Array(a)) if a.is_empty() => String::new(),
            Some(v) => scalar_text(v),
        })
        .collect()
}

/// kyaml `FieldMatcher{Name, StringValue}`: the field exists and, unless the wanted value
/// is empty, has that value.
fn field_matches(e: &Value, key: &str, want: &str) -> bool {
    match e.get(key) {
        None => false,
        Some(v) => want.is_empty() || scalar_text(v) == want,
    }
}

/// kyaml `MatchElementList(keys, values)`: the first map element whose fields all exist
/// with exactly these values.
fn find_element(list: &[Value], keys: &[&str], values: &[String]) -> Option<usize> {
    if keys.len() != values.len() {
        return None;
    }
    list.iter().position(|e| {
        e.is_object()
            && keys
                .iter()
                .zip(values)
                .all(|(k, v)| e.get(*k).is_some_and(|f| scalar_text(f) == *v))
    })
}

/// kyaml `ElementSetter{Element, Keys, Values}`: replaces every matching element with
/// `element` (or deletes them when `None`), appending it when nothing matched. Like kyaml,
/// it also drops null and empty-map elements along the way.
fn element_setter(
    list: &mut Vec<Value>,
    element: Option<&Value>,
    keys: &[&str],
    values: &[String],
) {
    let mapping_setter =
        !keys.is_empty() && !keys[0].is_empty() && !values.is_empty() && !values[0].is_empty();
    let mut out = Vec::with_capacity(list.len() + 1);
    let mut found_any = false;
    for e in list.drain(..) {
        let empty = e.is_null() || e.as_object().is_some_and(|m| m.is_empty());
        if empty {
            continue;
        }
        if !e.is_object() && mapping_setter {
            out.push(e);
            continue;
        }
        // kyaml keeps the previous match result for keys without a value
        let mut matched: Option<bool> = None;
        for (j, k) in keys.iter().enumerate() {
            if j < values.len() {
                matched = Some(e.is_object() && field_matches(&e, k, &values[j]));
            }
            if matched != Some(true) {
                break;
            }
        }
        if matched != Some(true) {
            if !values.is_empty() {
                out.push(e);
            }
            continue;
        }
        found_any = true;
        if let Some(el) = element {
            out.push(el.clone());
        }
    }
    *list = out;
    if let Some(el) = element
        && !found_any
    {
        list.push(el.clone());
    }
}

/// kyaml `appendListNode(dst, src, keys)`.
fn append_list(dst: &mut Vec<Value>, src: Vec<Value>, keys: &[&str]) {
    for elem in src {
        let mut v: Vec<String> = Vec::new();
        for k in keys {
            match elem.get(*k) {
                None => dst.push(elem.clone()),
                Some(f) => v.push(scalar_text(f)),
            }
        }
        if keys.len() > 1 {
            element_setter(dst, None, keys, &v);
        }
        element_setter(dst, Some(&elem), keys, &v);
    }
}

/// kyaml `mergeValues`: with several keys, tuples that agree where both are set (an empty
/// value is a wildcard) are the same element.
fn merge_value_tuples(list: &mut [Vec<String>]) {
    for i in 0..list.len() {
        for j in 0..list.len() {
            if let Some(m) = match_tuples(&list[i], &list[j]) {
                list[i] = m.clone();
                list[j] = m;
            }
        }
    }
}

fn match_tuples(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len() != b.len() {
        return None;
    }
    let mut common = false;
    let mut out = Vec::with_capacity(a.len());
    for (x, y) in a.iter().zip(b) {
        if x == y {
            common = true;
            out.push(x.clone());
        } else if !x.is_empty() && !y.is_empty() {
            return None;
        } else if !x.is_empty() {
            out.push(x.clone());
        } else {
            out.push(y.clone());
        }
    }
    common.then_some(out)
}

/// kyaml `validateKeys`: keep only keys that have a value in some tuple.
fn valid_keys(
    all: &[Vec<String>],
    values: &[String],
    keys: &[&'static str],
) -> (Vec<&'static str>, Vec<String>) {
    let mut set = vec![false; keys.len()];
    for t in all {
        for (i, v) in t.iter().enumerate() {
            if !v.is_empty() {
                set[i] = true;
            }
        }
    }
    if !set.iter().any(|s| *s) {
        return (keys.to_vec(), values.to_vec());
    }
    let vk = keys
        .iter()
        .zip(&set)
        .filter(|(_, s)| **s)
        .map(|(k, _)| *k)
        .collect();
    let vv = values
        .iter()
        .zip(&set)
        .filter(|(v, s)| !v.is_empty() || **s)
        .map(|(v, _)| v.clone())
        .collect();
    (vk, vv)
}

/// `aliased`: kyaml walks the patch list against itself (no base list, or a replaced one);
/// the "base" elements are then the patch elements and see every change made to them.
fn merge_elements(
    dest: Value,
    origin: Value,
    schema: Schema,
    keys: &'static [&'static str],
    path: &str,
    aliased: bool,
) -> Result<Value, String> {
    let Value::Array(mut dest) = dest else {
        return Ok(dest);
    };
    let Value::Array(origin) = origin else {
        return Ok(Value::Array(dest));
    };
    let elem_schema = schema.element();

    if keys.is_empty() {
        // primitive associative list (e.g. finalizers): union, patch values first
        let mut out: Vec<Value> = Vec::new();
        for v in origin.iter().chain(dest.iter()) {
            if !out.iter().any(|o| scalar_text(o) == scalar_text(v)) {
                out.push(v.clone());
            }
        }
        return Ok(Value::Array(out));
    }

    // kyaml elementValues: key tuples of the patch elements, then of the base elements
    let mut tuples: Vec<Vec<String>> = Vec::new();
    for e in origin.iter().chain(dest.iter()) {
        let t = element_values(e, keys);
        if !tuples.contains(&t) {
            tuples.push(t);
        }
    }
    if keys.len() > 1 {
        merge_value_tuples(&mut tuples);
    }
    let all = tuples.clone();
    let mut added: Vec<Value> = Vec::new();
    let mut last_keys: Vec<&'static str> = keys.to_vec();
    for values in &tuples {
        let (vkeys, vvals) = valid_keys(&all, values, keys);
        last_keys = vkeys.clone();
        // kyaml elementValueList: look elements up by the keys this tuple has values for
        let (lkeys, lvals) = valid_keys(std::slice::from_ref(values), values, keys);
        let dpos = find_element(&dest, &lkeys, &lvals);
        let oelem = find_element(&origin, &lkeys, &lvals).map(|p| origin[p].clone());
        let delem = dpos.map(|p| dest[p].clone());
        // Merging happens in place in the base element unless the patch element replaces
        // it ($patch: replace) or there is no base element.
        let in_place = delem.is_some()
            && oelem
                .as_ref()
                .and_then(|o| o.get(DIRECTIVE))
                .is_none_or(|d| d == "merge");
        let sub = format!("{path}[{}]", vvals.join(","));
        let val = walk(delem, oelem, elem_schema, &sub)?;
        let empty = match &val {
            None | Some(Value::Null) => true,
            Some(Value::Object(m)) => m.is_empty(),
            _ => false,
        };
        if empty {
            element_setter(&mut dest, None, &vkeys, &vvals);
            continue;
        }
        let Some(mut val) = val else { continue };
        for (k, v) in vkeys.iter().zip(&vvals) {
            if let Some(m) = val.as_object_mut()
                && !m.contains_key(*k)
                && !v.is_empty()
            {
                let parsed = super::yaml::parse_one(v, super::yaml::Typing::Kyaml)
                    .unwrap_or_else(|_| Value::from(v.clone()));
                m.insert((*k).to_string(), parsed);
            }
        }
        if (in_place || aliased)
            && let Some(p) = dpos
        {
            dest[p] = val.clone();
        }
        element_setter(&mut added, Some(&val), &vkeys, &vvals);
    }
    if !tuples.is_empty() {
        append_list(&mut added, dest, &last_keys);
        return Ok(Value::Array(added));
    }
    Ok(Value::Array(dest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dep(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
               "spec": {"template": {"spec": spec}}})
    }

    #[test]
    fn verified_case_from_anchors() {
        let base = dep(json!({
            "containers": [
                {"name": "a", "image": "a", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]},
                {"name": "b", "image": "b"}
            ],
            "tolerations": [{"key": "k1"}],
            "volumes": [{"name": "v1", "emptyDir": {}}]
        }));
        let patch = dep(json!({
            "containers": [
                {"name": "c", "image": "c"},
                {"name": "a", "env": [{"name": "Z", "value": "3"}, {"name": "X", "$patch": "delete"}]},
                {"name": "b", "$patch": "delete"}
            ],
            "tolerations": [{"key": "k2"}],
            "volumes": [{"$patch": "replace"}, {"name": "v2", "emptyDir": {}}]
        }));
        let out = merge(base, &patch).unwrap().unwrap();
        let spec = &out["spec"]["template"]["spec"];
        assert_eq!(
            spec["containers"],
            json!([
                {"name": "c", "image": "c"},
                {"name": "a", "image": "a", "env": [{"name": "Z", "value": "3"}, {"name": "Y", "value": "2"}]}
            ])
        );
        assert_eq!(spec["tolerations"], json!([{"key": "k2"}]));
        assert_eq!(spec["volumes"], json!([{"name": "v2", "emptyDir": {}}]));
    }

    #[test]
    fn null_deletes_and_directive_deletes_resource() {
        let base = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "1", "b": "2"}}});
        let patch = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": null}}});
        let out = merge(base.clone(), &patch).unwrap().unwrap();
        assert_eq!(out["metadata"]["labels"], json!({"b": "2"}));
        let del = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "$patch": "delete"});
        assert!(merge(base, &del).unwrap().is_none());
    }
}
