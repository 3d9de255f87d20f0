//! `nuvolaris-operator diff -f CR`: what applying a Whisk would change on the live cluster,
//! object by object — the `kubectl diff` of an installation.
//!
//! It runs the operator's own pipeline without writing anything: the CR is admitted offline
//! ([`crate::offline::read_whisk`]), the cluster facts and the generated Secret are read as the
//! controller reads them (the Secret is never created: the keys the configuration needs and
//! the Secret lacks are reported as adopted from the live installation, or as values that would
//! be generated), the operator's render step renders, [`crate::apply::prepare`]
//! prepares, and each object goes through the apply layer's decision ([`Applier::plan`]).
//! What would be applied is server-side applied with `dryRun=All` (the operator's field
//! manager, forced) and compared with the live copy; what prune would delete comes from the
//! apply layer's own selection ([`crate::apply::LiveIndex::prune_candidates`]).
//!
//! Fields the server owns (`managedFields`, `resourceVersion`, `generation`, `uid`,
//! `creationTimestamp`, `status`) are left out. Secret values are never printed: every value
//! of a Secret's `data`/`stringData` reads `***`, with `(changed)` when it would change; in the
//! Whisk itself, values under keys naming a password, auth key, secret or token are masked too.
//!
//! The render call is [`render`], the one place to re-point when the render API changes.

use std::collections::BTreeMap;

use kube::api::{DynamicObject, Patch, PatchParams};
use kube::core::ApiResource;
use kube::{Api, Client};
use serde_json::{Map, Value, json};

use crate::apply::{Applier, ApplyError, Object, OwnerInfo, Step, operator_labels};
use crate::components::ComponentRender;
use crate::config::{
    ClusterFacts, Config, Flavour, GENERATED_SECRET_NAME, GeneratedKey, GeneratedSecrets,
};
use crate::controller::reconcile::Plan;
use crate::controller::{self, facts, secrets, takeover};
use crate::crd::Whisk;
use crate::offline::{self, OfflineError};

/// Field manager of the dry run of the Whisk itself (what `kubectl apply --server-side` uses).
const USER_MANAGER: &str = "kubectl";
/// The owner uid used while the Whisk does not exist yet.
const UNKNOWN_UID: &str = "00000000-0000-0000-0000-000000000000";
/// How a masked value reads.
const MASK: &str = "***";
const MASK_CHANGED: &str = "*** (changed)";
const MASK_GENERATED: &str = "*** (generated)";
const MASK_ADOPTED: &str = "*** (adopted)";

#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error(transparent)]
    Offline(#[from] OfflineError),
    #[error(transparent)]
    Controller(#[from] controller::Error),
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error("the operator would not apply this Whisk: {0}")]
    InvalidSpec(String),
    #[error(
        "unknown Kubernetes flavour {0:?} (expected kind, k3s, microk8s, eks, gke, aks, lks, openshift or generic)"
    )]
    Flavour(String),
    #[error("{what}: {source}")]
    Kube {
        what: &'static str,
        #[source]
        source: kube::Error,
    },
    #[error("cannot serialise the Whisk: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// The diff of one installation.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Diff {
    /// Unified diffs, one per changed object, with `(new)`/`(deleted by prune)` markers.
    pub text: String,
    /// The objects that would change, as `apiVersion Kind namespace/name`.
    pub changed: Vec<String>,
    /// Objects that would be left as they are.
    pub unchanged: usize,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty()
    }
}

/// The diff for the Whisk in the file `path`. `flavour` renders for that Kubernetes flavour
/// instead of the one the spec names or the nodes suggest.
pub async fn diff_file(
    client: &Client,
    path: &std::path::Path,
    flavour: Option<&str>,
) -> Result<Diff, DiffError> {
    let whisk = offline::read_whisk(path)?;
    diff_whisk(client, whisk, flavour).await
}

/// The operator's render step, as the controller runs it.
fn render(
    whisk: &Whisk,
    facts: &ClusterFacts,
    generated: &GeneratedSecrets,
) -> Result<Vec<ComponentRender>, String> {
    controller::render_whisk(whisk, facts, generated).map_err(|e| e.to_string())
}

/// The diff for an (admitted) Whisk.
pub async fn diff_whisk(
    client: &Client,
    mut whisk: Whisk,
    flavour: Option<&str>,
) -> Result<Diff, DiffError> {
    // kubectl puts a resource without a namespace in the context's namespace
    let namespace = whisk
        .metadata
        .namespace
        .get_or_insert_with(|| client.default_namespace().to_owned())
        .clone();
    let name = whisk.metadata.name.clone().unwrap_or_default();
    if let Some(flavour) = flavour {
        let parsed = Flavour::parse(flavour).ok_or_else(|| DiffError::Flavour(flavour.into()))?;
        let mut value = serde_json::to_value(&whisk)?;
        value["spec"]["nuvolaris"]["kube"] = json!(parsed.as_str());
        whisk = serde_json::from_value(value)?;
    }
    let mut out = Diff::default();

    // the Whisk itself, as `kubectl apply --server-side` would change it
    let whisks: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        &namespace,
        &ApiResource::erase::<Whisk>(&()),
    );
    let live_whisk = whisks
        .get_opt(&name)
        .await
        .map_err(|source| DiffError::Kube {
            what: "read the Whisk",
            source,
        })?;
    let mut document = serde_json::to_value(&whisk)?;
    if let Some(map) = document.as_object_mut() {
        map.remove("status");
    }
    let mut params = PatchParams::apply(USER_MANAGER).force();
    params.dry_run = true;
    let applied_whisk = whisks
        .patch(&name, &params, &Patch::Apply(&document))
        .await
        .map_err(|source| DiffError::Kube {
            what: "dry-run apply of the Whisk",
            source,
        })?;
    let live_whisk_value = live_whisk.as_ref().map(serde_json::to_value).transpose()?;
    compare(
        &mut out,
        live_whisk_value,
        Some(serde_json::to_value(&applied_whisk)?),
        Marker::None,
    );

    // the pipeline of the controller, reading only
    let owner = OwnerInfo {
        api_version: "nuvolaris.org/v1".to_owned(),
        kind: "Whisk".to_owned(),
        name: name.clone(),
        uid: live_whisk
            .and_then(|w| w.metadata.uid)
            .unwrap_or_else(|| UNKNOWN_UID.to_owned()),
        namespace: namespace.clone(),
    };
    let whisk_json = serde_json::to_value(&whisk)?;
    let ingresslb = whisk_json
        .pointer("/spec/nuvolaris/ingresslb")
        .and_then(Value::as_str)
        .filter(|v| *v != "auto");
    let facts = facts::read(client, &namespace, ingresslb).await?;
    let existing = secrets::read(client, &namespace).await?;
    let generated =
        generated_secret(&mut out, client, &owner, &whisk, &facts, existing.as_ref()).await?;
    let renders = render(&whisk, &facts, &generated).map_err(DiffError::InvalidSpec)?;

    // what the controller would apply and keep, by the controller's own plan
    let mut plan = Plan::new(renders, &owner, facts.operator_image.as_deref());
    let applier = Applier::new(client.clone());
    let index = applier.index(&owner, &plan.kinds, false).await?;
    takeover::hold_in_memory(&applier, &whisk.metadata, &mut plan, &index).await?;
    takeover::keep_live_claims(&applier, &mut plan, &index).await?;
    let keep = plan.keep(&index);
    let objects: Vec<&Object> = plan.objects().collect();

    for object in objects {
        match applier.plan(object, Some(&index)).await? {
            Step::Unchanged | Step::CreateOnly => out.unchanged += 1,
            Step::WaitForDeletion => {
                let live = applier.live(object).await?;
                compare(&mut out, live, Some(object.clone()), Marker::Pending);
            }
            Step::ReplaceJob => {
                let live = applier.live(object).await?;
                let projected = live.as_ref().map(|l| project(l, object));
                compare(&mut out, projected, Some(object.clone()), Marker::Replaced);
            }
            Step::Apply => {
                let live = applier.live(object).await?;
                let applied = applier.dry_run_apply(object).await?;
                compare(&mut out, live, Some(applied), Marker::None);
            }
        }
    }
    for key in index.prune_candidates(&keep) {
        let live = index.fetch(client, key).await?;
        if live.is_some() {
            compare(&mut out, live, None, Marker::None);
        }
    }
    Ok(out)
}

/// The generated passwords the render uses: the live ones; for the keys the configuration
/// needs and the Secret lacks, the values a live installation holds (reported as adopted) or
/// placeholders (reported as values that would be generated) — the controller's own two steps.
async fn generated_secret(
    out: &mut Diff,
    client: &Client,
    owner: &OwnerInfo,
    whisk: &Whisk,
    facts: &ClusterFacts,
    existing: Option<&BTreeMap<String, String>>,
) -> Result<GeneratedSecrets, DiffError> {
    let mut values = existing.cloned().unwrap_or_default();
    let missing: Vec<GeneratedKey> =
        match Config::missing_generated(whisk, facts, &GeneratedSecrets(values.clone())) {
            Ok(missing) => missing,
            // the render reports the invalid spec; nothing would be generated
            Err(_) => {
                for key in crate::components::generated_secret_keys() {
                    values
                        .entry(key.name.to_owned())
                        .or_insert_with(|| key.placeholder());
                }
                return Ok(GeneratedSecrets(values));
            }
        };
    if missing.is_empty() {
        return Ok(GeneratedSecrets(values));
    }
    let adopted = secrets::adoptable(client, &owner.namespace, &missing).await?;
    let masked = |keys: &mut dyn Iterator<Item = (&str, &str)>| -> Map<String, Value> {
        keys.map(|(k, v)| (k.to_owned(), json!(v))).collect()
    };
    let metadata = json!({
        "name": GENERATED_SECRET_NAME,
        "namespace": owner.namespace,
        "labels": operator_labels(owner, secrets::SECRET_COMPONENT),
    });
    let live_data = masked(&mut values.keys().map(|k| (k.as_str(), MASK)));
    let mut new_data = live_data.clone();
    new_data.extend(masked(&mut missing.iter().map(|k| {
        let mask = if adopted.contains_key(k.name) {
            MASK_ADOPTED
        } else {
            MASK_GENERATED
        };
        (k.name, mask)
    })));
    let secret = |data: Map<String, Value>| json!({"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": "Opaque", "data": data});
    let live = existing.map(|_| secret(live_data));
    // already masked: `compare` must not mask again
    emit(out, live, Some(secret(new_data)), Marker::None);
    for key in missing {
        let value = match adopted.get(key.name) {
            Some((value, _)) => value.clone(),
            None => key.placeholder(),
        };
        values.insert(key.name.to_owned(), value);
    }
    Ok(GeneratedSecrets(values))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    /// Being deleted: applied again once it is gone.
    Pending,
    /// A Job replaced because its template changed.
    Replaced,
}

/// Adds the diff of `live` → `applied` (either may be absent) to `out`, cleaned and masked.
fn compare(out: &mut Diff, live: Option<Value>, applied: Option<Value>, marker: Marker) {
    let mut live = live.map(clean);
    let mut applied = applied.map(clean);
    mask(live.as_mut(), applied.as_mut());
    emit(out, live, applied, marker);
}

fn emit(out: &mut Diff, live: Option<Value>, applied: Option<Value>, marker: Marker) {
    let Some(shown) = applied.as_ref().or(live.as_ref()) else {
        return;
    };
    let id = identity(shown);
    let before = live.as_ref().map(yaml).unwrap_or_default();
    let after = applied.as_ref().map(yaml).unwrap_or_default();
    if before == after && marker == Marker::None {
        out.unchanged += 1;
        return;
    }
    let note = match (&live, &applied, marker) {
        (None, Some(_), _) => " (new)",
        (Some(_), None, _) => " (deleted by prune)",
        (_, _, Marker::Pending) => " (being deleted: applied again once it is gone)",
        (_, _, Marker::Replaced) => " (replaced: deleted and created again)",
        _ => "",
    };
    out.text.push_str(&format!(
        "--- live/{}{note}\n+++ applied/{}\n",
        id.file, id.file
    ));
    out.text.push_str(&unified(&before, &after, 3));
    out.changed.push(id.shown);
}

struct Identity {
    /// `apps.v1.StatefulSet.nuvolaris.couchdb`, like kubectl diff's file names.
    file: String,
    /// `apps/v1 StatefulSet nuvolaris/couchdb`.
    shown: String,
}

fn identity(object: &Value) -> Identity {
    let text = |path: &str| object.pointer(path).and_then(Value::as_str).unwrap_or("");
    let (api_version, kind) = (text("/apiVersion"), text("/kind"));
    let (namespace, name) = (text("/metadata/namespace"), text("/metadata/name"));
    let mut parts: Vec<&str> = api_version.split('/').collect();
    parts.push(kind);
    if !namespace.is_empty() {
        parts.push(namespace);
    }
    parts.push(name);
    let shown = if namespace.is_empty() {
        format!("{api_version} {kind} {name}")
    } else {
        format!("{api_version} {kind} {namespace}/{name}")
    };
    Identity {
        file: parts.join("."),
        shown,
    }
}

/// Without what the server owns.
fn clean(mut object: Value) -> Value {
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for field in [
                "managedFields",
                "resourceVersion",
                "generation",
                "uid",
                "creationTimestamp",
            ] {
                meta.remove(field);
            }
        }
    }
    object
}

/// `live` reduced to the fields `desired` sets (list items by position): what a replaced Job's
/// operator-set fields look like now.
fn project(live: &Value, desired: &Value) -> Value {
    match (live, desired) {
        (Value::Object(l), Value::Object(d)) => Value::Object(
            d.keys()
                .filter_map(|k| l.get(k).map(|v| (k.clone(), project(v, &d[k]))))
                .collect(),
        ),
        (Value::Array(l), Value::Array(d)) if l.len() == d.len() => {
            Value::Array(l.iter().zip(d).map(|(a, b)| project(a, b)).collect())
        }
        _ => live.clone(),
    }
}

fn is_secret(object: &Value) -> bool {
    object.get("apiVersion").and_then(Value::as_str) == Some("v1")
        && object.get("kind").and_then(Value::as_str) == Some("Secret")
}

/// Secret values and the Whisk's password-like fields, masked in both versions (a changed
/// value reads `*** (changed)` on the applied side).
fn mask(mut live: Option<&mut Value>, mut applied: Option<&mut Value>) {
    let secret =
        live.as_deref().is_some_and(is_secret) || applied.as_deref().is_some_and(is_secret);
    if secret {
        for field in ["data", "stringData"] {
            let before = live
                .as_deref()
                .and_then(|l| l.get(field))
                .cloned()
                .unwrap_or(Value::Null);
            if let Some(map) = applied
                .as_deref_mut()
                .and_then(|a| a.get_mut(field))
                .and_then(Value::as_object_mut)
            {
                for (key, value) in map.iter_mut() {
                    let changed = before.get(key).is_some_and(|old| old != value);
                    *value = json!(if changed { MASK_CHANGED } else { MASK });
                }
            }
            if let Some(map) = live
                .as_deref_mut()
                .and_then(|l| l.get_mut(field))
                .and_then(Value::as_object_mut)
            {
                map.values_mut().for_each(|v| *v = json!(MASK));
            }
        }
        // client-side apply keeps the whole Secret in an annotation
        for object in [live.as_deref_mut(), applied.as_deref_mut()]
            .into_iter()
            .flatten()
        {
            if let Some(annotation) = object.pointer_mut(
                "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration",
            ) {
                *annotation = json!(MASK);
            }
        }
        return;
    }
    let whisk = |o: &Value| o.get("kind").and_then(Value::as_str) == Some("Whisk");
    if live.as_deref().is_some_and(whisk) || applied.as_deref().is_some_and(whisk) {
        let before = live.as_deref().and_then(|l| l.get("spec")).cloned();
        if let Some(spec) = applied.and_then(|a| a.get_mut("spec")) {
            mask_sensitive(spec, before.as_ref(), false);
        }
        if let Some(spec) = live.and_then(|l| l.get_mut("spec")) {
            mask_sensitive(spec, None, false);
        }
    }
}

fn sensitive_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "auth", "secret", "token"]
        .iter()
        .any(|word| key.contains(word))
        // openwhisk.namespaces maps namespace names to auth keys
        || key == "namespaces"
}

/// Masks every scalar under a sensitive key; `before` marks changed values.
fn mask_sensitive(value: &mut Value, before: Option<&Value>, inside: bool) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                let old = before.and_then(|b| b.get(key));
                mask_sensitive(child, old, inside || sensitive_key(key));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                mask_sensitive(item, before.and_then(|b| b.get(i)), inside);
            }
        }
        Value::Null => {}
        scalar if inside => {
            let changed = before.is_some_and(|b| b != scalar);
            *scalar = json!(if changed { MASK_CHANGED } else { MASK });
        }
        _ => {}
    }
}

/// The object as YAML with sorted keys (so both sides line up).
fn yaml(object: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let ordered: BTreeMap<&String, Value> =
                    map.iter().map(|(k, v)| (k, sorted(v))).collect();
                Value::Object(ordered.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    crate::kustomize::to_yaml(&[sorted(object)])
}

/// A unified diff of two texts (`diff -u` style hunks with `context` lines around changes).
pub fn unified(before: &str, after: &str, context: usize) -> String {
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    // longest common subsequence table, from the end
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // the edit script: (tag, line index in a, line index in b)
    let mut ops: Vec<(char, usize, usize)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', i, j));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', i, j));
            i += 1;
        } else {
            ops.push(('+', i, j));
            j += 1;
        }
    }
    let changes: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    let mut out = String::new();
    let mut k = 0;
    while k < changes.len() {
        // a hunk: changes closer than 2×context share one
        let start = changes[k].saturating_sub(context);
        let mut last = changes[k];
        while k + 1 < changes.len() && changes[k + 1] <= last + 2 * context + 1 {
            k += 1;
            last = changes[k];
        }
        let end = (last + context + 1).min(ops.len());
        let hunk = &ops[start..end];
        let (a_start, b_start) = (hunk[0].1, hunk[0].2);
        let a_len = hunk.iter().filter(|o| o.0 != '+').count();
        let b_len = hunk.iter().filter(|o| o.0 != '-').count();
        let from = |s: usize, len: usize| if len == 0 { s } else { s + 1 };
        out.push_str(&format!(
            "@@ -{},{a_len} +{},{b_len} @@\n",
            from(a_start, a_len),
            from(b_start, b_len)
        ));
        for &(tag, ai, bj) in hunk {
            let line = if tag == '+' { b[bj] } else { a[ai] };
            out.push(tag);
            out.push_str(line);
            out.push('\n');
        }
        k += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unified_diff_hunks() {
        let before = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";
        let after = "a\nb\nC\nd\ne\nf\ng\nh\ni\nj\nk\n";
        assert_eq!(
            unified(before, after, 1),
            "@@ -2,3 +2,3 @@\n b\n-c\n+C\n d\n@@ -10,1 +10,2 @@\n j\n+k\n"
        );
        assert_eq!(unified("", "x\ny\n", 3), "@@ -0,0 +1,2 @@\n+x\n+y\n");
        assert_eq!(unified("x\n", "", 3), "@@ -1,1 +0,0 @@\n-x\n");
        assert_eq!(unified("same\n", "same\n", 3), "");
    }

    #[test]
    fn secrets_are_masked_and_changes_marked() {
        let mut live = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"a": "b2xk", "b": "c2FtZQ=="}});
        let mut applied = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"a": "bmV3", "b": "c2FtZQ==", "c": "YWRkZWQ="}});
        mask(Some(&mut live), Some(&mut applied));
        assert_eq!(live["data"], json!({"a": MASK, "b": MASK}));
        assert_eq!(
            applied["data"],
            json!({"a": MASK_CHANGED, "b": MASK, "c": MASK})
        );
    }

    #[test]
    fn whisk_passwords_are_masked() {
        let mut live = json!({"kind": "Whisk", "spec": {"couchdb": {"admin": {"password": "old", "user": "admin"}},
            "openwhisk": {"namespaces": {"nuvolaris": "a:b"}}}});
        let mut applied = json!({"kind": "Whisk", "spec": {"couchdb": {"admin": {"password": "new", "user": "admin"}},
            "openwhisk": {"namespaces": {"nuvolaris": "a:b"}}}});
        mask(Some(&mut live), Some(&mut applied));
        assert_eq!(
            applied["spec"]["couchdb"]["admin"],
            json!({"password": MASK_CHANGED, "user": "admin"})
        );
        assert_eq!(live["spec"]["couchdb"]["admin"]["password"], json!(MASK));
        assert_eq!(
            applied["spec"]["openwhisk"]["namespaces"]["nuvolaris"],
            json!(MASK)
        );
    }

    #[test]
    fn a_replaced_job_shows_only_the_fields_the_operator_sets() {
        let live = json!({"metadata": {"name": "init", "labels": {"job-name": "init", "a": "1"}},
            "spec": {"template": {"spec": {"containers": [
                {"name": "c", "image": "old", "terminationMessagePath": "/dev/termination-log"}
            ]}}, "completions": 1}});
        let desired = json!({"metadata": {"name": "init", "labels": {"a": "1"}},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "new"}]}}}});
        assert_eq!(
            project(&live, &desired),
            json!({"metadata": {"name": "init", "labels": {"a": "1"}},
                "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "old"}]}}}})
        );
    }

    #[test]
    fn emitted_entries_carry_markers() {
        let object = json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "couchdb", "namespace": "nuvolaris", "uid": "x", "resourceVersion": "1"},
            "spec": {"replicas": 1}, "status": {"ready": 1}});
        let mut out = Diff::default();
        compare(&mut out, None, Some(object.clone()), Marker::None);
        compare(
            &mut out,
            Some(object.clone()),
            Some(object.clone()),
            Marker::None,
        );
        compare(&mut out, Some(object), None, Marker::None);
        assert_eq!(
            out.changed,
            [
                "apps/v1 StatefulSet nuvolaris/couchdb",
                "apps/v1 StatefulSet nuvolaris/couchdb"
            ]
        );
        assert_eq!(out.unchanged, 1);
        assert!(out.text.starts_with(
            "--- live/apps.v1.StatefulSet.nuvolaris.couchdb (new)\n+++ applied/apps.v1.StatefulSet.nuvolaris.couchdb\n@@ -0,0 +1,"
        ));
        assert!(out.text.contains(" (deleted by prune)\n"));
        assert!(!out.text.contains("resourceVersion") && !out.text.contains("ready"));
    }
}
