//! Taking over objects created by the Python operator, which used client-side `kubectl apply`.
//!
//! Those objects' fields are owned by the manager `kubectl-client-side-apply` (operation
//! Update). A server-side apply by us only removes fields that *we* owned and no longer set, so
//! fields the old manifests had and ours do not would stay forever ("stuck fields",
//! kubernetes#99003). Like client-go's `csaupgrade`, we move the client-side-apply ownership to
//! our own Apply entry once, before the first apply, and drop the last-applied annotation.
//!
//! The same holds for a custom resource's status written by kopf (merge patches, manager
//! `kopf`): keys this operator does not write (`whisk_create.ingress`, `status.kopf`) would stay
//! forever. [`take_over_status`] moves every other manager's ownership of `.status` into our
//! Apply entry of the status subresource, so that our next status apply drops what it no longer
//! states.

use serde_json::{Map, Value, json};

/// Managers whose ownership is taken over.
pub const CLIENT_SIDE_APPLY_MANAGERS: &[&str] = &["kubectl-client-side-apply"];
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

fn is_client_side_apply(entry: &Value) -> bool {
    let manager = entry.get("manager").and_then(Value::as_str).unwrap_or("");
    CLIENT_SIDE_APPLY_MANAGERS.contains(&manager)
        && entry.get("operation").and_then(Value::as_str) == Some("Update")
        && entry
            .get("subresource")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
}

/// Deep union of two fieldsV1 trees.
fn union(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                match into.get_mut(key) {
                    Some(existing) => union(existing, value),
                    None => {
                        into.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (into, from) => *into = from.clone(),
    }
}

fn drop_last_applied(fields: &mut Value) {
    let Some(metadata) = fields.get_mut("f:metadata").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(annotations) = metadata
        .get_mut("f:annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.remove(&format!("f:{LAST_APPLIED_ANNOTATION}"));
        if annotations.is_empty() {
            metadata.remove("f:annotations");
        }
    }
    let metadata_empty = metadata.is_empty();
    if metadata_empty && let Some(root) = fields.as_object_mut() {
        root.remove("f:metadata");
    }
}

/// The managedFields with every client-side-apply entry folded into `manager`'s Apply entry,
/// or `None` when there is none (nothing to do).
pub fn upgrade_managed_fields(entries: &[Value], manager: &str) -> Option<Vec<Value>> {
    let (csa, mut rest): (Vec<&Value>, Vec<Value>) = {
        let mut csa = Vec::new();
        let mut rest = Vec::new();
        for entry in entries {
            if is_client_side_apply(entry) {
                csa.push(entry);
            } else {
                rest.push(entry.clone());
            }
        }
        (csa, rest)
    };
    let first = csa.first()?;
    let mut fields = Value::Object(Map::new());
    for entry in &csa {
        if let Some(f) = entry.get("fieldsV1") {
            union(&mut fields, f);
        }
    }
    drop_last_applied(&mut fields);
    let ours = rest.iter_mut().find(|e| {
        e.get("manager").and_then(Value::as_str) == Some(manager)
            && e.get("operation").and_then(Value::as_str) == Some("Apply")
    });
    match ours {
        Some(entry) => {
            let mut merged = entry
                .get("fieldsV1")
                .cloned()
                .unwrap_or(Value::Object(Map::new()));
            union(&mut merged, &fields);
            entry["fieldsV1"] = merged;
        }
        None => rest.push(json!({
            "manager": manager,
            "operation": "Apply",
            "apiVersion": first.get("apiVersion").cloned().unwrap_or(Value::Null),
            "fieldsType": "FieldsV1",
            "fieldsV1": fields,
            "time": first.get("time").cloned().unwrap_or(Value::Null),
        })),
    }
    Some(rest)
}

fn is_status_apply_of(entry: &Value, manager: &str) -> bool {
    entry.get("manager").and_then(Value::as_str) == Some(manager)
        && entry.get("operation").and_then(Value::as_str) == Some("Apply")
        && entry.get("subresource").and_then(Value::as_str) == Some("status")
}

/// The managedFields with every other manager's ownership of `.status` (status subresource or
/// main resource alike) moved into `manager`'s Apply entry of the status subresource (created
/// with `api_version` when missing); entries left owning nothing are dropped. Also returns the
/// `f:status` tree taken over. `None` when no other manager owns anything under `.status`.
pub fn take_over_status(
    entries: &[Value],
    manager: &str,
    api_version: &str,
) -> Option<(Vec<Value>, Value)> {
    let mut taken = Value::Object(Map::new());
    let mut time = None;
    let mut rest = Vec::new();
    for entry in entries {
        let foreign_status = (!is_status_apply_of(entry, manager))
            .then(|| entry.pointer("/fieldsV1/f:status"))
            .flatten();
        let Some(status) = foreign_status else {
            rest.push(entry.clone());
            continue;
        };
        union(&mut taken, status);
        time = time.or_else(|| entry.get("time").cloned());
        let mut entry = entry.clone();
        if let Some(fields) = entry.get_mut("fieldsV1").and_then(Value::as_object_mut) {
            fields.remove("f:status");
            if fields.is_empty() {
                continue;
            }
        }
        rest.push(entry);
    }
    if taken.as_object().is_none_or(Map::is_empty) {
        return None;
    }
    match rest.iter_mut().find(|e| is_status_apply_of(e, manager)) {
        Some(ours) => {
            let mut fields = ours
                .get("fieldsV1")
                .cloned()
                .unwrap_or(Value::Object(Map::new()));
            let mut status = fields
                .get("f:status")
                .cloned()
                .unwrap_or(Value::Object(Map::new()));
            union(&mut status, &taken);
            fields["f:status"] = status;
            ours["fieldsV1"] = fields;
        }
        None => rest.push(json!({
            "manager": manager,
            "operation": "Apply",
            "apiVersion": api_version,
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:status": taken.clone()},
            "subresource": "status",
            "time": time.unwrap_or(Value::Null),
        })),
    }
    Some((rest, taken))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kopfs_status_fields_become_ours() {
        let kopf = json!({"manager": "kopf", "operation": "Update", "apiVersion": "nuvolaris.org/v1",
            "time": "2025-01-01T00:00:00Z", "subresource": "status", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:status": {".": {}, "f:kopf": {".": {}, "f:progress": {}},
                "f:whisk_create": {".": {}, "f:ingress": {}, "f:couchdb": {}}}}});
        // kopf wrote its finalizer and annotations on the main resource; before the CRD had a
        // status subresource, status too
        let kopf_main = json!({"manager": "kopf", "operation": "Update", "apiVersion": "nuvolaris.org/v1",
            "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:finalizers": {}},
                "f:status": {"f:whisk_create": {"f:whisk-system": {}}}}});
        let user = json!({"manager": "kubectl-client-side-apply", "operation": "Update",
            "fieldsV1": {"f:spec": {"f:components": {}}}});
        let ours = json!({"manager": "nuvolaris-operator", "operation": "Apply", "subresource": "status",
            "apiVersion": "nuvolaris.org/v1", "fieldsV1": {"f:status": {"f:conditions": {}}}});
        let (entries, taken) = take_over_status(
            &[kopf, kopf_main, user.clone(), ours],
            "nuvolaris-operator",
            "nuvolaris.org/v1",
        )
        .expect("something to take over");
        assert_eq!(entries.len(), 3, "{entries:#?}");
        assert_eq!(
            entries[0]["fieldsV1"],
            json!({"f:metadata": {"f:finalizers": {}}}),
            "kopf keeps what is not status"
        );
        assert_eq!(entries[1], user);
        let status = &entries[2]["fieldsV1"]["f:status"];
        assert!(status.get("f:conditions").is_some());
        for key in ["f:ingress", "f:couchdb", "f:whisk-system"] {
            assert!(status["f:whisk_create"].get(key).is_some(), "{key}");
        }
        assert!(status.pointer("/f:kopf/f:progress").is_some());
        assert!(taken["f:whisk_create"].get("f:whisk-system").is_some());
        assert!(taken.get("f:conditions").is_none(), "ours is not taken");
    }

    #[test]
    fn nothing_to_take_over_from_ourselves() {
        let ours = json!({"manager": "nuvolaris-operator", "operation": "Apply", "subresource": "status",
            "fieldsV1": {"f:status": {"f:conditions": {}}}});
        let user = json!({"manager": "kubectl", "operation": "Update", "fieldsV1": {"f:spec": {}}});
        assert_eq!(
            take_over_status(&[ours, user], "nuvolaris-operator", "nuvolaris.org/v1"),
            None
        );
    }

    #[test]
    fn our_status_entry_is_created_when_missing() {
        let kopf = json!({"manager": "kopf", "operation": "Update", "time": "t",
            "fieldsV1": {"f:status": {"f:whisk_create": {"f:ingress": {}}}}});
        let (entries, _) =
            take_over_status(&[kopf], "nuvolaris-operator", "nuvolaris.org/v1").expect("taken");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0]["subresource"], "status");
        assert_eq!(entries[0]["operation"], "Apply");
        assert_eq!(entries[0]["time"], "t");
    }

    fn csa_entry() -> Value {
        json!({
            "manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "v1",
            "fieldsType": "FieldsV1", "time": "2024-01-01T00:00:00Z",
            "fieldsV1": {
                "f:data": {".": {}, "f:a": {}, "f:old": {}},
                "f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}}
            }
        })
    }

    #[test]
    fn nothing_to_do_without_client_side_apply() {
        let entries =
            vec![json!({"manager": "nuvolaris-operator", "operation": "Apply", "fieldsV1": {}})];
        assert_eq!(upgrade_managed_fields(&entries, "nuvolaris-operator"), None);
        let patch = vec![
            json!({"manager": "kubectl-client-side-apply", "operation": "Update", "subresource": "status"}),
        ];
        assert_eq!(upgrade_managed_fields(&patch, "nuvolaris-operator"), None);
    }

    #[test]
    fn ownership_moves_to_our_apply_entry() {
        let other = json!({"manager": "kube-controller-manager", "operation": "Update", "fieldsV1": {"f:x": {}}});
        let out =
            upgrade_managed_fields(&[csa_entry(), other.clone()], "nuvolaris-operator").unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], other);
        let ours = &out[1];
        assert_eq!(ours["manager"], "nuvolaris-operator");
        assert_eq!(ours["operation"], "Apply");
        assert_eq!(ours["apiVersion"], "v1");
        assert!(ours["fieldsV1"]["f:data"].get("f:old").is_some());
        assert_eq!(
            ours["fieldsV1"]["f:metadata"]["f:annotations"],
            json!({".": {}})
        );
    }

    #[test]
    fn merges_into_an_existing_apply_entry() {
        let ours = json!({"manager": "nuvolaris-operator", "operation": "Apply", "apiVersion": "v1",
                          "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}}}});
        let out = upgrade_managed_fields(&[csa_entry(), ours], "nuvolaris-operator").unwrap();
        assert_eq!(out.len(), 1);
        let fields = &out[0]["fieldsV1"];
        assert!(fields["f:metadata"]["f:labels"].get("f:app").is_some());
        assert!(fields["f:data"].get("f:a").is_some());
    }
}
