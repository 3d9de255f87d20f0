//! kustomize's field-spec walk (`api/filters/fieldspec`), shared by the transformers that
//! write through field specs: labels, annotations, namespace, replicas, images.
//!
//! The walk is ported literally because its corner cases show in the output:
//! - a path segment ending in `[]` names a list that is never created; a null one becomes
//!   an empty list (kustomize takes the `[]` as a hint for the node kind);
//! - other segments are created only when the spec says `create` and the transformer
//!   has a kind of node to create (labels/annotations: maps, namespace/replicas: scalars);
//!   a null map on such a path is turned into a map;
//! - lists met on the way are traversed element by element with the same remaining path;
//! - a scalar met before the end of the path is an error, not a skip.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::select::Res;

/// A kustomize field spec: which objects (group/version/kind, empty = any) and which path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldSpec {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub path: &'static str,
    pub create: bool,
}

/// A field spec for any object of `kind` (empty = every kind) in `group` (empty = any).
pub(crate) const fn fs(
    group: &'static str,
    kind: &'static str,
    path: &'static str,
    create: bool,
) -> FieldSpec {
    FieldSpec {
        group,
        version: "",
        kind,
        path,
        create,
    }
}

/// Same, restricted to API version `v1` (kustomize's Service and ReplicationController specs).
pub(crate) const fn fs_v1(kind: &'static str, path: &'static str, create: bool) -> FieldSpec {
    FieldSpec {
        group: "",
        version: "v1",
        kind,
        path,
        create,
    }
}

/// The node a transformer writes at the end of its paths, so what it creates there when a
/// spec says `create` (kustomize's `CreateKind`; the transformers without one never create).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CreateKind {
    Map,
    Scalar,
}

/// The kind of node the walk gives to a missing or null field it may fill in.
#[derive(Clone, Copy)]
enum NodeKind {
    Map,
    Scalar,
    List,
}

impl NodeKind {
    fn empty(self) -> Value {
        match self {
            NodeKind::Map => Value::Object(Map::new()),
            // the setter replaces it; kustomize creates an empty scalar node too
            NodeKind::Scalar => Value::String(String::new()),
            NodeKind::List => Value::Array(Vec::new()),
        }
    }
}

impl FieldSpec {
    /// kustomize `isMatchGVK`: an empty group, version or kind matches anything.
    pub fn applies_to(&self, r: &Res) -> bool {
        (self.kind.is_empty() || self.kind == r.kind())
            && (self.group.is_empty() || self.group == r.group())
            && (self.version.is_empty() || self.version == r.version())
    }

    /// Walks this spec's path in `r` (when the spec applies to it) and calls `set` on each
    /// node found at its end. Errors name the spec's path and the object.
    pub fn apply(
        &self,
        r: &mut Res,
        create: Option<CreateKind>,
        set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
    ) -> Result<(), String> {
        if !self.applies_to(r) {
            return Ok(());
        }
        let create = create.filter(|_| self.create);
        walk_path(&mut r.obj, self.path, create, set).map_err(|e| {
            format!(
                "considering field '{}' of {}: {e}",
                self.path,
                r.id_string()
            )
        })
    }
}

/// The walk of one path in one object (for callers with their own notion of which objects
/// a path applies to, like the name-reference rewrite).
pub(crate) fn walk_path(
    obj: &mut Value,
    path: &str,
    create: Option<CreateKind>,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    walk(obj, &split_path(path), create, set)
}

/// Splits a field-spec path on `/`, honouring `\/` as a literal slash (kyaml
/// `PathSplitter`; a leading `/` is allowed).
pub(crate) fn split_path(path: &str) -> Vec<Cow<'_, str>> {
    let path = match path.strip_prefix('/') {
        Some(rest) if !rest.is_empty() => rest,
        _ => path,
    };
    if !path.contains('\\') {
        return path.split('/').map(Cow::Borrowed).collect();
    }
    let mut out: Vec<Cow<str>> = Vec::new();
    for part in path.split('/') {
        match out.last_mut() {
            Some(last) if last.ends_with('\\') => {
                let joined = format!("{}/{part}", &last[..last.len() - 1]);
                *last = Cow::Owned(joined);
            }
            _ => out.push(Cow::Borrowed(part)),
        }
    }
    out
}

/// kustomize `fieldspec.Filter.filter`.
fn walk(
    node: &mut Value,
    segs: &[Cow<str>],
    create: Option<CreateKind>,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    let Some((first, rest)) = segs.split_first() else {
        return set(node);
    };
    match node {
        Value::Null => Ok(()),
        // a list met on the way: every element, with the whole remaining path
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|i| walk(i, segs, create, set)),
        Value::Object(map) => walk_field(map, first, rest, create, set),
        _ => Err("expected sequence or mapping node".into()),
    }
}

/// kustomize `fieldspec.Filter.handleMap`: looks up (or creates) the field `seg` of `map`.
fn walk_field(
    map: &mut Map<String, Value>,
    seg: &str,
    rest: &[Cow<str>],
    create: Option<CreateKind>,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    let (name, is_list) = match seg.strip_suffix("[]") {
        Some(name) => (name, true),
        None => (seg, false),
    };
    if name.is_empty() {
        return Err("cannot set or create an empty field name".into());
    }
    // What a missing field is created as (only with `create`, never a list), and what a
    // null field turns into (also the `[]` hint).
    let kind = match create {
        _ if is_list => Some(NodeKind::List),
        None => None,
        Some(_) if !rest.is_empty() => Some(NodeKind::Map),
        Some(CreateKind::Map) => Some(NodeKind::Map),
        Some(CreateKind::Scalar) => Some(NodeKind::Scalar),
    };
    if !map.contains_key(name) {
        match kind {
            Some(k) if create.is_some() && !is_list => {
                map.insert(name.to_string(), k.empty());
            }
            _ => return Ok(()),
        }
    }
    let Some(field) = map.get_mut(name) else {
        return Ok(());
    };
    if field.is_null()
        && let Some(k) = kind
    {
        *field = k.empty();
    }
    walk(field, rest, create, set)
}

/// The setter of the labels and annotations transformers (kyaml `FieldSetter` with a
/// name): sets the entries in a map; a null node is left alone, anything else is an error.
pub(crate) fn set_entries(
    entries: &BTreeMap<String, String>,
) -> impl FnMut(&mut Value) -> Result<(), String> + '_ {
    move |node| match node {
        Value::Object(m) => {
            for (k, v) in entries {
                m.insert(k.clone(), Value::from(v.clone()));
            }
            Ok(())
        }
        Value::Null => Ok(()),
        other => Err(format!(
            "wrong node kind: expected a map but got {}",
            node_kind(other)
        )),
    }
}

/// The setter of the namespace and replicas transformers (kyaml `FieldSetter` without a
/// name): replaces a scalar or null node; a map or list there is an error.
pub(crate) fn set_scalar(value: Value) -> impl FnMut(&mut Value) -> Result<(), String> {
    move |node| match node {
        Value::Object(_) | Value::Array(_) => Err(format!(
            "wrong node kind: expected a scalar but got {}",
            node_kind(node)
        )),
        _ => {
            *node = value.clone();
            Ok(())
        }
    }
}

pub(crate) fn node_kind(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "a map",
        Value::Array(_) => "a list",
        _ => "a scalar",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn res(v: Value) -> Res {
        Res::new(v)
    }

    fn labels() -> BTreeMap<String, String> {
        [("app".to_string(), "x".to_string())].into_iter().collect()
    }

    const CLAIMS: FieldSpec = fs(
        "apps",
        "StatefulSet",
        "spec/volumeClaimTemplates[]/metadata/labels",
        true,
    );

    #[test]
    fn list_segments_are_never_created_and_null_lists_become_empty() {
        let l = labels();
        let mut r = res(json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "s"}, "spec": {}}));
        CLAIMS
            .apply(&mut r, Some(CreateKind::Map), &mut set_entries(&l))
            .unwrap();
        assert_eq!(r.obj["spec"], json!({}));

        let mut r = res(json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "s"}, "spec": {"volumeClaimTemplates": null}}));
        CLAIMS
            .apply(&mut r, Some(CreateKind::Map), &mut set_entries(&l))
            .unwrap();
        assert_eq!(r.obj["spec"], json!({"volumeClaimTemplates": []}));

        let mut r = res(json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "s"}, "spec": {"volumeClaimTemplates": [{"spec": {}}]}}));
        CLAIMS
            .apply(&mut r, Some(CreateKind::Map), &mut set_entries(&l))
            .unwrap();
        assert_eq!(
            r.obj["spec"]["volumeClaimTemplates"],
            json!([{"metadata": {"labels": {"app": "x"}}, "spec": {}}])
        );
    }

    #[test]
    fn scalars_on_the_path_are_errors_and_nulls_without_create_stop() {
        let l = labels();
        let spec = fs("", "Deployment", "spec/selector/matchLabels", true);
        let mut r = res(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d"}, "spec": {"selector": "x"}}));
        let err = spec
            .apply(&mut r, Some(CreateKind::Map), &mut set_entries(&l))
            .unwrap_err();
        assert!(err.contains("spec/selector/matchLabels"), "{err}");

        let no_create = fs("", "Deployment", "spec/selector/matchLabels", false);
        let mut r = res(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d"}, "spec": {"selector": null}}));
        no_create
            .apply(&mut r, Some(CreateKind::Map), &mut set_entries(&l))
            .unwrap();
        assert_eq!(r.obj["spec"], json!({"selector": null}));
    }

    #[test]
    fn escaped_slashes_stay_in_one_segment() {
        assert_eq!(
            split_path(r"metadata/annotations/a.io\/b"),
            vec!["metadata", "annotations", "a.io/b"]
        );
        assert_eq!(split_path("/spec/x"), vec!["spec", "x"]);
    }
}
