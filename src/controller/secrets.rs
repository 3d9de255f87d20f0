//! The Secret of generated passwords: created once, completed when keys are missing, never
//! overwritten. Values are never logged.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

use super::Error;
use crate::apply::{MANAGER, OwnerInfo, operator_labels};
use crate::config::{GENERATED_SECRET_NAME, GeneratedKey, GeneratedSecrets};

/// Component label of the generated Secret.
pub const SECRET_COMPONENT: &str = "operator";

/// The `keys` missing from `existing`.
pub fn missing_keys(
    keys: &[GeneratedKey],
    existing: &BTreeMap<String, String>,
) -> Vec<GeneratedKey> {
    keys.iter()
        .copied()
        .filter(|key| !existing.contains_key(key.name))
        .collect()
}

fn generate(keys: &[GeneratedKey]) -> BTreeMap<String, String> {
    keys.iter()
        .map(|key| (key.name.to_owned(), key.generate()))
        .collect()
}

fn decode(data: BTreeMap<String, ByteString>) -> BTreeMap<String, String> {
    data.into_iter()
        .map(|(key, value)| (key, String::from_utf8_lossy(&value.0).into_owned()))
        .collect()
}

/// The values of the generated Secret in `namespace`, `None` when it does not exist. Reads
/// only (what `nuvolaris-operator diff` uses; [`ensure`] writes what is missing).
pub async fn read(
    client: &Client,
    namespace: &str,
) -> Result<Option<BTreeMap<String, String>>, Error> {
    Ok(read_secret(client, namespace)
        .await?
        .map(|secret| decode(secret.data.unwrap_or_default())))
}

async fn read_secret(client: &Client, namespace: &str) -> Result<Option<Secret>, Error> {
    Api::<Secret>::namespaced(client.clone(), namespace)
        .get_opt(GENERATED_SECRET_NAME)
        .await
        .map_err(|source| Error::Kube {
            what: "read generated secret",
            source,
        })
}

/// Returns the generated passwords of `owner`, creating the Secret or its missing `keys` first.
/// The second value says whether anything was written.
pub async fn ensure(
    client: &Client,
    owner: &OwnerInfo,
    keys: &[GeneratedKey],
) -> Result<(GeneratedSecrets, bool), Error> {
    let api = Api::<Secret>::namespaced(client.clone(), &owner.namespace);
    let existing = read_secret(client, &owner.namespace).await?;
    let Some(existing) = existing else {
        let values = generate(keys);
        let secret: Secret = serde_json::from_value(json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": GENERATED_SECRET_NAME,
                "namespace": owner.namespace,
                "labels": operator_labels(owner, SECRET_COMPONENT),
                "ownerReferences": [{
                    "apiVersion": owner.api_version,
                    "kind": owner.kind,
                    "name": owner.name,
                    "uid": owner.uid,
                    "controller": true,
                    "blockOwnerDeletion": true,
                }],
            },
            "type": "Opaque",
            "stringData": values,
        }))
        .map_err(Error::Serialize)?;
        // Create, never apply: a create fails (409) rather than overwrite a Secret that
        // appeared meanwhile; the retry then reads it.
        api.create(
            &PostParams {
                field_manager: Some(MANAGER.into()),
                ..PostParams::default()
            },
            &secret,
        )
        .await
        .map_err(|source| Error::Kube {
            what: "create generated secret",
            source,
        })?;
        tracing::info!(namespace = %owner.namespace, secret = GENERATED_SECRET_NAME, "generated passwords");
        return Ok((GeneratedSecrets(values), true));
    };
    let mut values = decode(existing.data.unwrap_or_default());
    let missing = missing_keys(keys, &values);
    if missing.is_empty() {
        return Ok((GeneratedSecrets(values), false));
    }
    let added = generate(&missing);
    // A merge patch adds keys and leaves every existing value alone.
    api.patch(
        GENERATED_SECRET_NAME,
        &PatchParams {
            field_manager: Some(MANAGER.into()),
            ..PatchParams::default()
        },
        &Patch::Merge(json!({ "stringData": added })),
    )
    .await
    .map_err(|source| Error::Kube {
        what: "add generated secret keys",
        source,
    })?;
    tracing::info!(keys = ?missing.iter().map(|k| k.name).collect::<Vec<_>>(), "generated missing passwords");
    values.extend(added);
    Ok((GeneratedSecrets(values), true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absent_keys_are_missing() {
        let keys = crate::components::generated_secret_keys();
        let mut existing: BTreeMap<String, String> = BTreeMap::new();
        assert_eq!(missing_keys(&keys, &existing).len(), keys.len());
        existing.insert("couchdb-admin-password".into(), "kept".into());
        let missing = missing_keys(&keys, &existing);
        assert!(!missing.iter().any(|k| k.name == "couchdb-admin-password"));
        assert_eq!(missing.len(), keys.len() - 1);
    }

    #[test]
    fn decoding_keeps_values() {
        let data = BTreeMap::from([("k".to_string(), ByteString(b"v".to_vec()))]);
        assert_eq!(decode(data).get("k").map(String::as_str), Some("v"));
    }
}
