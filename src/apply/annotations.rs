//! Annotations the operator keeps on an object it does not own, such as the `ops` CLI's
//! `cm/config`: server-side applied under a field manager of their own, so only the keys the
//! operator publishes are its, a key it stops publishing (a disabled component's) is removed by
//! the API server, and every other key and field of the object stays as others wrote it.
//! Created when missing (empty but for the annotations); never deleted, never pruned.
//! Sticky keys keep the value the manager published before (a status that is not known again
//! yet).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Patch, PatchParams};
use kube::{Api, Client};
use serde_json::json;

use super::ApplyError;

/// The field manager of the published annotations (apart from [`super::MANAGER`], whose
/// objects carry a content hash).
pub const ANNOTATIONS_MANAGER: &str = "nuvolaris-operator-annotations";

/// What publishing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    Unchanged,
    Written,
}

/// Makes the annotations of the ConfigMap `namespace/name` that [`ANNOTATIONS_MANAGER`] owns
/// exactly `annotations`, plus the `sticky` keys it already owns, with their live values. One
/// read; a write only when something differs.
pub async fn publish_config_map_annotations(
    client: &Client,
    namespace: &str,
    name: &str,
    annotations: &BTreeMap<String, String>,
    sticky: &BTreeSet<String>,
) -> Result<Published, ApplyError> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let shown = format!("ConfigMap {namespace}/{name}");
    let live = api.get_opt(name).await.map_err(|source| ApplyError::Kube {
        action: "read",
        object: shown.clone(),
        source,
    })?;
    let owned = live.as_ref().map(owned_annotations).unwrap_or_default();
    let annotations = &with_sticky(annotations, sticky, &owned);
    let unchanged = match &live {
        Some(_) => owned == *annotations,
        // nothing to publish: no reason to create the ConfigMap
        None => annotations.is_empty(),
    };
    if unchanged {
        return Ok(Published::Unchanged);
    }
    let patch = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "annotations": annotations},
    });
    api.patch(
        name,
        &PatchParams::apply(ANNOTATIONS_MANAGER).force(),
        &Patch::Apply(patch),
    )
    .await
    .map_err(|source| ApplyError::Kube {
        action: "annotate",
        object: shown,
        source,
    })?;
    Ok(Published::Written)
}

/// `annotations` and the `sticky` keys of `owned` (what the manager published before) that
/// `annotations` does not set.
fn with_sticky(
    annotations: &BTreeMap<String, String>,
    sticky: &BTreeSet<String>,
    owned: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut out = annotations.clone();
    for key in sticky {
        if let Some(value) = owned.get(key) {
            out.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    out
}

/// The annotations of `live` that [`ANNOTATIONS_MANAGER`] owns, with their live values.
fn owned_annotations(live: &ConfigMap) -> BTreeMap<String, String> {
    let values = live.metadata.annotations.clone().unwrap_or_default();
    let owned_keys: Vec<String> = live
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter(|entry| entry.manager.as_deref() == Some(ANNOTATIONS_MANAGER))
        .filter_map(|entry| entry.fields_v1.as_ref())
        .filter_map(|fields| fields.0.pointer("/f:metadata/f:annotations"))
        .filter_map(|annotations| annotations.as_object())
        .flat_map(|annotations| annotations.keys())
        .filter_map(|key| key.strip_prefix("f:"))
        .map(str::to_owned)
        .collect();
    owned_keys
        .into_iter()
        .filter_map(|key| values.get(&key).map(|value| (key.clone(), value.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{FieldsV1, ManagedFieldsEntry};

    #[test]
    fn sticky_keys_keep_what_was_published_and_nothing_else() {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let owned = map(&[("status", "failed"), ("old", "x")]);
        let sticky = BTreeSet::from(["status".to_owned(), "never".to_owned()]);
        assert_eq!(
            with_sticky(&map(&[("apihost", "http://h")]), &sticky, &owned),
            map(&[("apihost", "http://h"), ("status", "failed")]),
            "kept: a sticky key published before; gone: a key no longer published"
        );
        assert_eq!(
            with_sticky(&map(&[("status", "created")]), &sticky, &owned),
            map(&[("status", "created")]),
            "a value for the key replaces the kept one"
        );
    }

    #[test]
    fn only_the_annotations_of_our_manager_count() {
        let live: ConfigMap = serde_json::from_value(json!({
            "metadata": {
                "name": "config",
                "annotations": {"apihost": "http://x", "mine": "1", "theirs": "2"},
            },
        }))
        .expect("a ConfigMap");
        let mut live = live;
        live.metadata.managed_fields = Some(vec![
            ManagedFieldsEntry {
                manager: Some(ANNOTATIONS_MANAGER.into()),
                fields_v1: Some(FieldsV1(json!({"f:metadata": {"f:annotations": {
                    "f:apihost": {}, "f:mine": {}, "f:gone": {}
                }}}))),
                ..ManagedFieldsEntry::default()
            },
            ManagedFieldsEntry {
                manager: Some("kubectl".into()),
                fields_v1: Some(FieldsV1(
                    json!({"f:metadata": {"f:annotations": {"f:theirs": {}}}}),
                )),
                ..ManagedFieldsEntry::default()
            },
        ]);
        let owned = owned_annotations(&live);
        assert_eq!(
            owned,
            BTreeMap::from([
                ("apihost".to_owned(), "http://x".to_owned()),
                ("mine".to_owned(), "1".to_owned()),
            ])
        );
    }
}
