//! Keeping the claims of a StatefulSet taken over: its `volumeClaimTemplates` are immutable, and
//! the data is on the claims it runs with.
//!
//! The Python operator gave some StatefulSets a separate PVC mounted as a pod volume (the
//! registry's `registry-pvc`) where this version renders a volume claim template of the same
//! name. Applying the rendered StatefulSet over the live one is refused (immutable field), and
//! recreating it would start on an empty claim. So when a live StatefulSet's claim templates
//! differ from the rendered ones, it is applied with the live claim templates, and each rendered
//! template the live object lacks becomes the pod volume the live template mounts under that
//! name (the live claim): same data, same pods' volumes; everything else is this version's. The
//! object is marked [`KEPT_CLAIMS_ANNOTATION`] so that later reconciles keep doing so (at no
//! cost: the content hash is stable).

use serde_json::{Map, Value};

use super::prepare::{content_hash, str_at};
use super::{ANNOTATION_APPLIED_HASH, Object};

/// On a StatefulSet: it runs on the claims it had before this operator took it over.
pub const KEPT_CLAIMS_ANNOTATION: &str = "nuvolaris.org/kept-claims";

/// Whether the rendered `object` has claim templates (only those can differ from a live one).
pub fn has_claim_templates(object: &Object) -> bool {
    str_at(object, &["kind"]) == Some("StatefulSet")
        && object
            .pointer("/spec/volumeClaimTemplates")
            .and_then(Value::as_array)
            .is_some_and(|t| !t.is_empty())
}

/// Whether applying `desired` needs a look at the live object: it runs, and either was not
/// applied by this operator or keeps its claims already.
pub fn must_check(
    desired: &Object,
    live: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>,
) -> bool {
    let Some(live) = live else {
        return false;
    };
    let annotations = live.annotations.as_ref();
    has_claim_templates(desired)
        && (annotations.is_none_or(|a| !a.contains_key(ANNOTATION_APPLIED_HASH))
            || annotations.is_some_and(|a| a.contains_key(KEPT_CLAIMS_ANNOTATION)))
}

fn template_names(object: &Value) -> Vec<String> {
    let mut names: Vec<String> = object
        .pointer("/spec/volumeClaimTemplates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.pointer("/metadata/name")?.as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// `desired` (prepared) on the claims of `live` (the whole live StatefulSet), marked and hashed
/// again; `None` when their claim templates agree (nothing to keep).
pub fn keep_claims(desired: &Object, live: &Value) -> Option<Object> {
    if template_names(desired) == template_names(live) {
        return None;
    }
    let live_templates: Vec<Value> = live
        .pointer("/spec/volumeClaimTemplates")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut t| {
            // what the API server added; immutable, compared after defaulting
            if let Some(t) = t.as_object_mut() {
                t.remove("status");
            }
            t
        })
        .collect();
    let live_names = template_names(live);
    let live_volumes: Vec<Value> = live
        .pointer("/spec/template/spec/volumes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut kept = desired.clone();
    let mut replaced = Vec::new();
    for name in template_names(desired) {
        if live_names.contains(&name) {
            continue;
        }
        // the live pods mount it under this name: their claim
        let volume = live_volumes.iter().find(|v| {
            v.get("name").and_then(Value::as_str) == Some(name.as_str())
                && v.get("persistentVolumeClaim").is_some()
        })?;
        let pod = kept.pointer_mut("/spec/template/spec")?.as_object_mut()?;
        let volumes = pod
            .entry("volumes")
            .or_insert_with(|| Value::Array(Vec::new()))
            .as_array_mut()?;
        volumes.retain(|v| v.get("name").and_then(Value::as_str) != Some(name.as_str()));
        volumes.push(volume.clone());
        replaced.push(name);
    }
    let spec = kept.get_mut("spec")?.as_object_mut()?;
    if live_templates.is_empty() {
        spec.remove("volumeClaimTemplates");
    } else {
        spec.insert("volumeClaimTemplates".into(), Value::Array(live_templates));
    }
    let metadata = kept.get_mut("metadata")?.as_object_mut()?;
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()?;
    annotations.remove(ANNOTATION_APPLIED_HASH);
    annotations.insert(
        KEPT_CLAIMS_ANNOTATION.into(),
        Value::String(replaced.join(",")),
    );
    let hash = content_hash(&kept);
    kept.pointer_mut("/metadata/annotations")?
        .as_object_mut()?
        .insert(ANNOTATION_APPLIED_HASH.into(), Value::String(hash));
    Some(kept)
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use serde_json::json;

    use super::*;

    fn desired() -> Object {
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "registry", "annotations": {ANNOTATION_APPLIED_HASH: "new"}},
            "spec": {
                "template": {"spec": {
                    "containers": [{"name": "registry", "volumeMounts": [
                        {"name": "registry-pvc", "mountPath": "/var/lib/registry"}]}],
                    "volumes": [{"name": "auth", "secret": {"secretName": "a"}}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "registry-pvc"},
                    "spec": {"resources": {"requests": {"storage": "20Gi"}}}}]}})
    }

    /// The original's: a separate claim mounted as a pod volume.
    fn original() -> Value {
        json!({"metadata": {"name": "registry"}, "spec": {"template": {"spec": {
            "containers": [{"name": "registry"}],
            "volumes": [
                {"name": "registry-pvc", "persistentVolumeClaim": {"claimName": "registry-pvc"}},
                {"name": "auth-volume", "secret": {"secretName": "registry-auth-secret"}}]}}}})
    }

    #[test]
    fn a_separate_claim_of_the_original_stays_the_pods_volume() {
        let kept = keep_claims(&desired(), &original()).expect("kept");
        assert!(kept.pointer("/spec/volumeClaimTemplates").is_none());
        assert_eq!(
            kept["spec"]["template"]["spec"]["volumes"],
            json!([{"name": "auth", "secret": {"secretName": "a"}},
                {"name": "registry-pvc", "persistentVolumeClaim": {"claimName": "registry-pvc"}}])
        );
        let annotations = &kept["metadata"]["annotations"];
        assert_eq!(annotations[KEPT_CLAIMS_ANNOTATION], "registry-pvc");
        assert_ne!(annotations[ANNOTATION_APPLIED_HASH], "new");
        assert_eq!(
            keep_claims(&desired(), &original()),
            Some(kept),
            "stable hash"
        );
    }

    #[test]
    fn agreeing_claims_or_an_unknown_volume_are_left_alone() {
        let same = json!({"spec": {"volumeClaimTemplates": [
            {"metadata": {"name": "registry-pvc"}, "status": {"phase": "Pending"}}]}});
        assert_eq!(keep_claims(&desired(), &same), None);
        // the live pods do not mount a claim of that name: nothing safe to keep
        let other = json!({"spec": {"template": {"spec": {"volumes": []}}}});
        assert_eq!(keep_claims(&desired(), &other), None);
    }

    #[test]
    fn only_a_running_statefulset_not_ours_or_kept_is_checked() {
        let meta = |annotations: &[&str]| ObjectMeta {
            annotations: Some(
                annotations
                    .iter()
                    .map(|k| (k.to_string(), "x".to_string()))
                    .collect(),
            ),
            ..ObjectMeta::default()
        };
        assert!(must_check(&desired(), Some(&meta(&[]))));
        assert!(!must_check(&desired(), None));
        assert!(!must_check(
            &desired(),
            Some(&meta(&[ANNOTATION_APPLIED_HASH]))
        ));
        assert!(must_check(
            &desired(),
            Some(&meta(&[ANNOTATION_APPLIED_HASH, KEPT_CLAIMS_ANNOTATION]))
        ));
        let mut no_claims = desired();
        no_claims["spec"]
            .as_object_mut()
            .unwrap()
            .remove("volumeClaimTemplates");
        assert!(!must_check(&no_claims, Some(&meta(&[]))));
    }
}
