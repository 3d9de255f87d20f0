//! The pure half of applying: namespace, labels, ownerReference, content hash and order.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::kinds::{apply_rank, is_cluster_scoped};
use super::{ANNOTATION_APPLIED_HASH, LABEL_COMPONENT, LABEL_MANAGED_BY, MANAGER, Object};

/// The custom resource that owns the objects (a Whisk, a WhiskUser, a Workflows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerInfo {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub uid: String,
    pub namespace: String,
}

impl OwnerInfo {
    /// The key of the label naming the owner: `nuvolaris.org/<kind>` (`nuvolaris.org/whisk` for
    /// a Whisk), so children of different kinds of owner never match each other's selector.
    pub fn label(&self) -> String {
        format!("nuvolaris.org/{}", self.kind.to_ascii_lowercase())
    }

    /// The key of the label naming the owner's namespace (`nuvolaris.org/whisk-namespace`).
    pub fn namespace_label(&self) -> String {
        format!("{}-namespace", self.label())
    }

    /// The label selector matching every child of this owner.
    pub fn selector(&self) -> String {
        format!(
            "{LABEL_MANAGED_BY}={MANAGER},{}={},{}={}",
            self.label(),
            self.name,
            self.namespace_label(),
            self.namespace
        )
    }
}

/// Prepares rendered objects of one component for server-side apply:
/// - namespaced objects without a namespace get the owner's namespace;
/// - every object gets the operator's labels (managed-by, whisk, whisk-namespace, component);
/// - namespaced objects in the owner's namespace get a controller ownerReference to the CR, so
///   Kubernetes garbage-collects them with it (cluster-scoped objects and objects in other
///   namespaces cannot carry one: they are cleaned up by label, see `prune_all`);
/// - the annotation [`ANNOTATION_APPLIED_HASH`] records a hash of everything else, so a later
///   apply of the same content can be skipped without a write;
/// - objects are ordered by kind ([`apply_rank`]); the render order is kept within a kind.
///
/// Values that are not objects are dropped: the render step only produces objects.
pub fn prepare(objects: Vec<Object>, owner: &OwnerInfo, component: &str) -> Vec<Object> {
    let mut prepared: Vec<Object> = objects
        .into_iter()
        .filter_map(|object| prepare_one(object, owner, component))
        .collect();
    prepared.sort_by_key(|object| apply_rank(str_at(object, &["kind"]).unwrap_or("")));
    prepared
}

fn prepare_one(mut object: Object, owner: &OwnerInfo, component: &str) -> Option<Object> {
    let api_version = str_at(&object, &["apiVersion"])?.to_string();
    let kind = str_at(&object, &["kind"])?.to_string();
    let root = object.as_object_mut()?;
    let metadata = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !metadata.is_object() {
        *metadata = Value::Object(Map::new());
    }
    let metadata = metadata.as_object_mut()?;
    let cluster_scoped = is_cluster_scoped(&api_version, &kind);
    if cluster_scoped {
        // A namespace on a cluster-scoped object is rejected by some API versions; drop it.
        metadata.remove("namespace");
    } else if metadata
        .get("namespace")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        metadata.insert("namespace".into(), Value::String(owner.namespace.clone()));
    }

    let labels = metadata
        .entry("labels")
        .or_insert_with(|| Value::Object(Map::new()));
    if !labels.is_object() {
        *labels = Value::Object(Map::new());
    }
    if let Some(labels) = labels.as_object_mut() {
        for (key, value) in operator_labels(owner, component) {
            labels.insert(key, Value::String(value));
        }
    }

    let same_namespace =
        metadata.get("namespace").and_then(Value::as_str) == Some(owner.namespace.as_str());
    // PVCs get no ownerReference: their data must survive the deletion of the CR.
    if !cluster_scoped && same_namespace && kind != "PersistentVolumeClaim" {
        let reference = json!({
            "apiVersion": owner.api_version,
            "kind": owner.kind,
            "name": owner.name,
            "uid": owner.uid,
            "controller": true,
            "blockOwnerDeletion": true,
        });
        let refs = metadata
            .entry("ownerReferences")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Some(refs) = refs.as_array_mut() {
            refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(owner.uid.as_str()));
            // Only one controller reference is allowed: ours replaces any other.
            for other in refs.iter_mut() {
                if let Some(other) = other.as_object_mut() {
                    other.remove("controller");
                }
            }
            refs.push(reference);
        }
    }

    // The hash covers the object as it will be applied, minus the hash itself.
    if let Some(annotations) = metadata
        .get_mut("annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.remove(ANNOTATION_APPLIED_HASH);
        if annotations.is_empty() {
            metadata.remove("annotations");
        }
    }
    let hash = content_hash(&object);
    let metadata = object.get_mut("metadata")?.as_object_mut()?;
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if !annotations.is_object() {
        *annotations = Value::Object(Map::new());
    }
    annotations
        .as_object_mut()?
        .insert(ANNOTATION_APPLIED_HASH.into(), Value::String(hash));
    Some(object)
}

/// The labels the operator puts on every child of one CR.
pub fn operator_labels(owner: &OwnerInfo, component: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_MANAGED_BY.to_owned(), MANAGER.to_owned()),
        (owner.label(), owner.name.clone()),
        (owner.namespace_label(), owner.namespace.clone()),
        (LABEL_COMPONENT.to_owned(), component.to_owned()),
    ])
}

/// SHA-256 of a canonical JSON form (keys sorted at every level), first 20 hex digits.
/// Canonical so that the map order of the renderer cannot change the hash.
pub fn content_hash(value: &Value) -> String {
    let mut hasher = Sha256::new();
    write_canonical(value, &mut hasher);
    let digest = hasher.finalize();
    digest
        .iter()
        .take(10)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn write_canonical(value: &Value, hasher: &mut Sha256) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            hasher.update(b"{");
            for key in keys {
                hasher.update(Value::String(key.clone()).to_string().as_bytes());
                hasher.update(b":");
                if let Some(inner) = map.get(key) {
                    write_canonical(inner, hasher);
                }
                hasher.update(b",");
            }
            hasher.update(b"}");
        }
        Value::Array(items) => {
            hasher.update(b"[");
            for item in items {
                write_canonical(item, hasher);
                hasher.update(b",");
            }
            hasher.update(b"]");
        }
        scalar => hasher.update(scalar.to_string().as_bytes()),
    }
}

/// The string at a path of object keys.
pub fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(value, |current, key| current.get(*key))?
        .as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::{LABEL_WHISK, LABEL_WHISK_NAMESPACE};

    fn owner() -> OwnerInfo {
        OwnerInfo {
            api_version: "nuvolaris.org/v1".into(),
            kind: "Whisk".into(),
            name: "controller".into(),
            uid: "uid-1".into(),
            namespace: "nuvolaris".into(),
        }
    }

    fn obj(api_version: &str, kind: &str, name: &str) -> Value {
        json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}})
    }

    #[test]
    fn namespaced_objects_get_namespace_labels_and_owner() {
        let out = prepare(
            vec![obj("apps/v1", "StatefulSet", "couchdb")],
            &owner(),
            "couchdb",
        );
        let meta = &out[0]["metadata"];
        assert_eq!(meta["namespace"], "nuvolaris");
        assert_eq!(meta["labels"][LABEL_MANAGED_BY], "nuvolaris-operator");
        assert_eq!(meta["labels"][LABEL_WHISK], "controller");
        assert_eq!(meta["labels"][LABEL_COMPONENT], "couchdb");
        let refs = meta["ownerReferences"].as_array().unwrap();
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0]["uid"], "uid-1");
        assert_eq!(refs[0]["kind"], "Whisk");
        assert_eq!(refs[0]["controller"], true);
        assert_eq!(refs[0]["blockOwnerDeletion"], true);
        assert!(meta["annotations"][ANNOTATION_APPLIED_HASH].is_string());
    }

    #[test]
    fn cluster_scoped_objects_get_labels_but_no_namespace_or_owner() {
        let mut role = obj("rbac.authorization.k8s.io/v1", "ClusterRole", "r");
        role["metadata"]["namespace"] = json!("nuvolaris");
        let out = prepare(vec![role], &owner(), "openwhisk");
        let meta = &out[0]["metadata"];
        assert!(meta.get("namespace").is_none());
        assert!(meta.get("ownerReferences").is_none());
        assert_eq!(meta["labels"][LABEL_WHISK], "controller");
    }

    #[test]
    fn objects_in_another_namespace_keep_it_and_get_no_owner() {
        let mut cm = obj("v1", "ConfigMap", "c");
        cm["metadata"]["namespace"] = json!("elsewhere");
        let out = prepare(vec![cm], &owner(), "x");
        assert_eq!(out[0]["metadata"]["namespace"], "elsewhere");
        assert!(out[0]["metadata"].get("ownerReferences").is_none());
    }

    #[test]
    fn existing_labels_are_kept_and_owner_reference_not_duplicated() {
        let mut cm = obj("v1", "ConfigMap", "c");
        cm["metadata"]["labels"] = json!({"app": "couchdb"});
        let once = prepare(vec![cm], &owner(), "couchdb");
        let twice = prepare(once.clone(), &owner(), "couchdb");
        assert_eq!(twice[0]["metadata"]["labels"]["app"], "couchdb");
        assert_eq!(
            twice[0]["metadata"]["ownerReferences"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(once, twice, "prepare is idempotent");
    }

    #[test]
    fn order_is_by_kind_and_stable_within_a_kind() {
        let input = vec![
            obj("networking.k8s.io/v1", "Ingress", "ing"),
            obj("batch/v1", "Job", "init"),
            obj("apps/v1", "Deployment", "dep"),
            obj("apps/v1", "StatefulSet", "sts"),
            obj("v1", "Service", "svc"),
            obj("v1", "PersistentVolumeClaim", "pvc"),
            obj("v1", "ConfigMap", "cm-b"),
            obj("v1", "ConfigMap", "cm-a"),
            obj("v1", "Secret", "sec"),
            obj("rbac.authorization.k8s.io/v1", "RoleBinding", "rb"),
            obj("rbac.authorization.k8s.io/v1", "Role", "role"),
            obj("v1", "ServiceAccount", "sa"),
            obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "crd"),
            obj("v1", "Namespace", "ns"),
            obj("example.com/v1", "Widget", "w"),
            obj("batch/v1", "CronJob", "cron"),
            obj("apps/v1", "DaemonSet", "ds"),
        ];
        let names: Vec<String> = prepare(input, &owner(), "c")
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "ns", "crd", "sa", "role", "rb", "sec", "cm-b", "cm-a", "pvc", "svc", "sts", "dep",
                "ds", "init", "cron", "ing", "w"
            ]
        );
    }

    #[test]
    fn hash_depends_on_content_not_on_key_order() {
        let a = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}});
        let b = json!({"data": {"b": "2", "a": "1"}, "metadata": {"name": "c"}, "kind": "ConfigMap", "apiVersion": "v1"});
        let mut c = a.clone();
        c["data"]["a"] = json!("changed");
        assert_eq!(content_hash(&a), content_hash(&b));
        assert_ne!(content_hash(&a), content_hash(&c));
        let pa = prepare(vec![a], &owner(), "x");
        let pc = prepare(vec![c], &owner(), "x");
        assert_ne!(
            pa[0]["metadata"]["annotations"][ANNOTATION_APPLIED_HASH],
            pc[0]["metadata"]["annotations"][ANNOTATION_APPLIED_HASH]
        );
    }

    #[test]
    fn pvcs_are_not_owned_so_data_survives_cr_deletion() {
        let out = prepare(
            vec![obj("v1", "PersistentVolumeClaim", "data")],
            &owner(),
            "couchdb",
        );
        assert_eq!(out[0]["metadata"]["namespace"], "nuvolaris");
        assert_eq!(out[0]["metadata"]["labels"][LABEL_WHISK], "controller");
        assert!(out[0]["metadata"].get("ownerReferences").is_none());
    }

    #[test]
    fn non_objects_are_dropped() {
        let out = prepare(vec![json!("text"), json!({"kind": "X"})], &owner(), "x");
        assert!(out.is_empty());
    }

    #[test]
    fn selector_names_the_owner() {
        assert_eq!(
            owner().selector(),
            "app.kubernetes.io/managed-by=nuvolaris-operator,nuvolaris.org/whisk=controller,nuvolaris.org/whisk-namespace=nuvolaris"
        );
        assert_eq!(owner().label(), LABEL_WHISK);
        assert_eq!(owner().namespace_label(), LABEL_WHISK_NAMESPACE);
    }

    #[test]
    fn owners_of_other_kinds_have_their_own_labels() {
        let user = OwnerInfo {
            kind: "WhiskUser".into(),
            ..owner()
        };
        assert_eq!(user.label(), "nuvolaris.org/whiskuser");
        assert!(!user.selector().contains("nuvolaris.org/whisk="));
        let labels = operator_labels(&user, "redis");
        assert!(labels.contains_key("nuvolaris.org/whiskuser-namespace"));
        assert!(!labels.contains_key(LABEL_WHISK));
    }
}
