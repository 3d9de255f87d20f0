//! Name-reference rewriting (kustomize `FixBackReferences`, `api/filters/nameref`): after
//! prefixes, suffixes and hashes changed names, fields that referred to the old names are
//! pointed at the new ones. Only references to resources of the same build are touched.

use serde_json::Value;

use super::fieldspec::walk_path;
use super::select::{Res, ns_equal};
use super::tables::NAME_REFERENCES;

struct Candidate {
    name: String,
    namespace: String,
}

/// Rewrites every name reference in `resources`. Errors when a reference is ambiguous.
pub(crate) fn fix_back_references(resources: &mut [Res]) -> Result<(), String> {
    for i in 0..resources.len() {
        let (kind, group) = (
            resources[i].kind().to_string(),
            resources[i].group().to_string(),
        );
        let referrer_ns = resources[i].namespace().to_string();
        let referrer_cluster = resources[i].cluster_scoped();
        let mut obj = std::mem::take(&mut resources[i].obj);
        let mut result = Ok(());
        for (ref_kind, ref_group, rr_kind, rr_group, path) in NAME_REFERENCES.iter() {
            if *rr_kind != kind || (!rr_group.is_empty() && *rr_group != group) {
                continue;
            }
            let role_ref_kind = if path.ends_with("roleRef/name") {
                obj.pointer("/roleRef/kind")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            } else {
                None
            };
            if role_ref_kind.as_deref().is_some_and(|k| k != *ref_kind) {
                continue;
            }
            let ctx = Ctx {
                resources,
                ref_kind,
                ref_group,
                referrer_ns: &referrer_ns,
                referrer_cluster,
            };
            // kustomize walks every referrer field spec (also with nothing to rewrite), so a
            // malformed path (a scalar where a map or list is due) is an error here too
            if let Err(e) = walk_path(&mut obj, path, None, &mut |node| update(node, &ctx)) {
                result = Err(format!("{} at {path}: {e}", resources[i].id_string()));
                break;
            }
        }
        resources[i].obj = obj;
        result?;
    }
    Ok(())
}

struct Ctx<'a> {
    resources: &'a [Res],
    ref_kind: &'a str,
    ref_group: &'a str,
    referrer_ns: &'a str,
    referrer_cluster: bool,
}

/// kustomize `nameref.Filter.set`: a name, a `{name, namespace}` map, or a list of them.
fn update(v: &mut Value, ctx: &Ctx) -> Result<(), String> {
    if let Value::Array(items) = v {
        for item in items {
            match item {
                Value::Null | Value::String(_) | Value::Object(_) => update(item, ctx)?,
                other => {
                    return Err(format!(
                        "`{other}` is expected to be either a string or a map of string"
                    ));
                }
            }
        }
        return Ok(());
    }
    match v {
        Value::String(old) => {
            if let Some(c) = select(ctx, old, None)? {
                *v = Value::from(c.name);
            }
        }
        Value::Object(map) => {
            // e.g. RoleBinding subjects, webhook clientConfig.service: {name, namespace}
            if map
                .get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| k != ctx.ref_kind)
            {
                return Ok(());
            }
            let Some(old) = map.get("name").and_then(Value::as_str).map(str::to_string) else {
                return Ok(());
            };
            let ns = map
                .get("namespace")
                .and_then(Value::as_str)
                .map(str::to_string);
            if let Some(c) = select(ctx, &old, ns.as_deref())? {
                map.insert("name".into(), Value::from(c.name));
                // kustomize also sets the namespace of a reference that had none (a
                // RoleBinding subject naming a ServiceAccount of the build gets its namespace).
                if !c.namespace.is_empty() {
                    map.insert("namespace".into(), Value::from(c.namespace));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn select(ctx: &Ctx, old: &str, want_ns: Option<&str>) -> Result<Option<Candidate>, String> {
    let candidates: Vec<&Res> = ctx
        .resources
        .iter()
        .filter(|r| r.kind() == ctx.ref_kind)
        .filter(|r| ctx.ref_group.is_empty() || r.group() == ctx.ref_group)
        .filter(|r| r.prev.iter().any(|(n, _)| n == old))
        .filter(|r| match want_ns {
            Some(ns) => {
                ns_equal(r.namespace(), ns) || r.prev.iter().any(|(_, pns)| ns_equal(pns, ns))
            }
            None => true,
        })
        .filter(|r| {
            ctx.referrer_cluster
                || r.cluster_scoped()
                || r.kind() == "ServiceAccount"
                || want_ns.is_some()
                || ns_equal(r.namespace(), ctx.referrer_ns)
        })
        .collect();
    match candidates.as_slice() {
        [] => Ok(None),
        [first, rest @ ..] => {
            if rest.iter().any(|r| r.name() != first.name()) {
                let ids: Vec<String> = candidates.iter().map(|r| r.id_string()).collect();
                return Err(format!(
                    "found multiple possible referrals for `{old}`: {}",
                    ids.join(", ")
                ));
            }
            Ok(Some(Candidate {
                name: first.name().to_string(),
                namespace: first.namespace().to_string(),
            }))
        }
    }
}
