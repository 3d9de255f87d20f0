//! Holding the pod template of a workload whose data lives only in memory (Redis without
//! persistence): a new pod template restarts its pods, and a restart loses the data.
//!
//! A component marks such a workload with [`IN_MEMORY_ANNOTATION`] (`Overlay::in_memory`).
//! When one runs already and was not applied by this operator (a takeover of the Python
//! operator's installation), the operator applies it with the live pod template instead of its
//! own, and marks it [`HELD_ANNOTATION`]: everything else (labels, owner, the fields it owns) is
//! taken over, nothing restarts. It keeps doing so, at no cost (the content hash is stable),
//! until the user consents to the restart (the controller's `nuvolaris.org/allow-restart`);
//! then the rendered template is applied and the pods roll once. A workload this operator
//! applied itself and that is not held is never held: its changes are the user's.

use serde_json::{Map, Value};

use super::prepare::{content_hash, str_at};
use super::{ANNOTATION_APPLIED_HASH, Object};

/// On a workload: its data lives only in its pods' memory.
pub const IN_MEMORY_ANNOTATION: &str = "nuvolaris.org/data";
pub const IN_MEMORY: &str = "in-memory";
/// On a held workload: it runs the pod template it had before this operator took it over.
pub const HELD_ANNOTATION: &str = "nuvolaris.org/held-pod-template";

/// Whether the rendered `object` is a workload whose data lives only in memory.
pub fn is_in_memory(object: &Object) -> bool {
    str_at(object, &["metadata", "annotations", IN_MEMORY_ANNOTATION]) == Some(IN_MEMORY)
}

/// Whether applying the in-memory workload `desired` must keep the pod template of `live` (its
/// live metadata): it runs, and either was not applied by this operator or is held already;
/// `consent` (to a restart) lifts the hold.
pub fn must_hold(
    desired: &Object,
    live: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>,
    consent: bool,
) -> bool {
    let Some(live) = live else {
        // nothing runs: nothing to lose
        return false;
    };
    if consent || !is_in_memory(desired) || live.deletion_timestamp.is_some() {
        return false;
    }
    let annotations = live.annotations.as_ref();
    let applied_by_us = annotations.is_some_and(|a| a.contains_key(ANNOTATION_APPLIED_HASH));
    let held = annotations.is_some_and(|a| a.contains_key(HELD_ANNOTATION));
    !applied_by_us || held
}

/// `desired` (prepared) with the pod template of `live` (the whole live object), marked held
/// and hashed again. `None` when `live` has no pod template.
pub fn hold(desired: &Object, live: &Value) -> Option<Object> {
    let mut template = live.pointer("/spec/template")?.clone();
    drop_nulls(&mut template);
    let mut held = desired.clone();
    *held.pointer_mut("/spec/template")? = template;
    let metadata = held.get_mut("metadata")?.as_object_mut()?;
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()?;
    annotations.remove(ANNOTATION_APPLIED_HASH);
    annotations.insert(
        HELD_ANNOTATION.into(),
        Value::String("until nuvolaris.org/allow-restart".into()),
    );
    let hash = content_hash(&held);
    held.pointer_mut("/metadata/annotations")?
        .as_object_mut()?
        .insert(ANNOTATION_APPLIED_HASH.into(), Value::String(hash));
    Some(held)
}

/// The API server writes `creationTimestamp: null` into pod templates; an apply must not state
/// nulls (they would mean "remove").
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use serde_json::json;

    use super::*;

    fn desired() -> Object {
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "redis", "annotations": {
                IN_MEMORY_ANNOTATION: IN_MEMORY, ANNOTATION_APPLIED_HASH: "new"}},
            "spec": {"template": {"spec": {"containers": [{"name": "redis", "image": "new"}]}}}})
    }

    fn live(annotations: &[(&str, &str)]) -> ObjectMeta {
        ObjectMeta {
            annotations: Some(
                annotations
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn a_running_workload_of_someone_else_is_held_until_consent() {
        let original = live(&[("kubectl.kubernetes.io/last-applied-configuration", "{}")]);
        assert!(must_hold(&desired(), Some(&original), false));
        assert!(!must_hold(&desired(), Some(&original), true), "consent");
        assert!(!must_hold(&desired(), None, false), "nothing runs");
        let held = live(&[(ANNOTATION_APPLIED_HASH, "x"), (HELD_ANNOTATION, "y")]);
        assert!(must_hold(&desired(), Some(&held), false), "still held");
        let ours = live(&[(ANNOTATION_APPLIED_HASH, "x")]);
        assert!(
            !must_hold(&desired(), Some(&ours), false),
            "changes of our own are the user's"
        );
        let mut persistent = desired();
        persistent["metadata"]["annotations"]
            .as_object_mut()
            .unwrap()
            .remove(IN_MEMORY_ANNOTATION);
        assert!(!must_hold(&persistent, Some(&original), false));
    }

    #[test]
    fn a_held_object_runs_the_live_template_with_a_stable_hash() {
        let live = json!({"metadata": {"name": "redis"}, "spec": {"template": {
            "metadata": {"creationTimestamp": null, "labels": {"name": "redis"}},
            "spec": {"containers": [{"name": "redis", "image": "old"}]}}}});
        let held = hold(&desired(), &live).expect("held");
        assert_eq!(
            held["spec"]["template"]["spec"]["containers"][0]["image"],
            "old"
        );
        assert_eq!(
            held["spec"]["template"]["metadata"],
            json!({"labels": {"name": "redis"}}),
            "no nulls applied"
        );
        let annotations = &held["metadata"]["annotations"];
        assert!(annotations.get(HELD_ANNOTATION).is_some());
        assert_ne!(annotations[ANNOTATION_APPLIED_HASH], "new");
        assert_eq!(hold(&desired(), &live), Some(held.clone()), "deterministic");
        // applied and read back, the same live template gives the same hash
        let again = hold(&desired(), &held).expect("held");
        assert_eq!(
            again["metadata"]["annotations"][ANNOTATION_APPLIED_HASH],
            held["metadata"]["annotations"][ANNOTATION_APPLIED_HASH]
        );
        assert_eq!(hold(&desired(), &json!({"spec": {}})), None);
    }
}
