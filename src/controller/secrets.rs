//! The Secret of generated passwords: created when a key is first needed, completed when keys
//! are missing, never overwritten. A missing key is first looked for in the live installation
//! (its [`GeneratedKey::live`] sources: the Python operator's objects, or this operator's own
//! setup Secrets) and adopted; only a key no source holds is generated (see
//! `config::secrets`). Values are never logged: only key names and where they came from.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Api, Client};
use serde_json::{Value, json};

use super::Error;
use crate::apply::{MANAGER, OwnerInfo, kinds, operator_labels};
use crate::config::{
    GENERATED_SECRET_NAME, GeneratedKey, GeneratedSecrets, LiveObject, LiveSource,
};

/// Component label of the generated Secret.
pub const SECRET_COMPONENT: &str = "operator";

/// Where the value of a resolved key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Found in the live installation (the description of the source, never the value).
    Adopted(String),
    Generated,
}

/// What [`ensure`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ensured {
    /// The keys added to the Secret, and where each value came from.
    pub added: Vec<(&'static str, Origin)>,
}

impl Ensured {
    pub fn wrote(&self) -> bool {
        !self.added.is_empty()
    }

    /// The adopted keys as `key (from source)`, for an Event.
    pub fn adopted(&self) -> Vec<String> {
        self.added
            .iter()
            .filter_map(|(key, origin)| match origin {
                Origin::Adopted(source) => Some(format!("{key} (from {source})")),
                Origin::Generated => None,
            })
            .collect()
    }
}

fn decode(data: BTreeMap<String, ByteString>) -> BTreeMap<String, String> {
    data.into_iter()
        .map(|(key, value)| (key, String::from_utf8_lossy(&value.0).into_owned()))
        .collect()
}

fn is_absent(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 404 || s.code == 403)
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

/// The live objects the sources of `keys` name, as JSON (absent or unreadable ones are left
/// out: a source the operator may not read cannot hold the value it needs).
async fn fetch_live(
    client: &Client,
    namespace: &str,
    keys: &[GeneratedKey],
) -> Result<BTreeMap<LiveObject, Value>, Error> {
    let wanted: std::collections::BTreeSet<LiveObject> = keys
        .iter()
        .flat_map(|key| key.live.iter().map(LiveSource::object))
        .collect();
    let mut found = BTreeMap::new();
    let mut secrets: Option<Vec<Secret>> = None;
    for object in wanted {
        let value = match object {
            LiveObject::SecretNamed(prefix) => {
                if secrets.is_none() {
                    let api = Api::<Secret>::namespaced(client.clone(), namespace);
                    secrets = Some(match api.list(&ListParams::default()).await {
                        Ok(list) => list.items,
                        Err(err) if is_absent(&err) => Vec::new(),
                        Err(source) => {
                            return Err(Error::Kube {
                                what: "list secrets to adopt credentials",
                                source,
                            });
                        }
                    });
                }
                // kustomize's hashed names: the newest one is the one in use
                secrets
                    .iter()
                    .flatten()
                    .filter(|s| {
                        s.metadata
                            .name
                            .as_deref()
                            .is_some_and(|n| n.starts_with(prefix))
                    })
                    .max_by_key(|s| s.metadata.creation_timestamp.clone())
                    .map(serde_json::to_value)
                    .transpose()
                    .map_err(Error::Serialize)?
            }
            LiveObject::ConfigMap(name) => {
                let api = Api::<ConfigMap>::namespaced(client.clone(), namespace);
                match api.get_opt(name).await {
                    Ok(cm) => cm
                        .map(serde_json::to_value)
                        .transpose()
                        .map_err(Error::Serialize)?,
                    Err(err) if is_absent(&err) => None,
                    Err(source) => {
                        return Err(Error::Kube {
                            what: "read a configmap to adopt credentials",
                            source,
                        });
                    }
                }
            }
            LiveObject::Workload(kind, name) => {
                let Some(known) = kinds::KNOWN_KINDS.iter().find(|k| k.kind == kind) else {
                    continue;
                };
                let gvk = GroupVersionKind::gvk(known.group, known.version, known.kind);
                let resource = ApiResource::from_gvk_with_plural(&gvk, known.plural);
                let api: Api<DynamicObject> =
                    Api::namespaced_with(client.clone(), namespace, &resource);
                match api.get_opt(name).await {
                    Ok(o) => o
                        .map(serde_json::to_value)
                        .transpose()
                        .map_err(Error::Serialize)?,
                    Err(err) if is_absent(&err) => None,
                    Err(source) => {
                        return Err(Error::Kube {
                            what: "read a workload to adopt credentials",
                            source,
                        });
                    }
                }
            }
        };
        if let Some(value) = value {
            found.insert(object, value);
        }
    }
    Ok(found)
}

/// The values a live installation in `namespace` holds for `keys` (reads only; what `diff`
/// shows and [`ensure`] adopts), with the description of their source.
pub async fn adoptable(
    client: &Client,
    namespace: &str,
    keys: &[GeneratedKey],
) -> Result<BTreeMap<&'static str, (String, String)>, Error> {
    let live = fetch_live(client, namespace, keys).await?;
    Ok(keys
        .iter()
        .filter_map(|key| {
            let (value, source) = key.adopt(|object| live.get(object))?;
            Some((key.name, (value, source.describe())))
        })
        .collect())
}

/// Resolves `missing` (the keys the configuration needs that `existing`, the Secret's content,
/// lacks; see `Config::missing_generated`): adopted from the live installation, else generated,
/// and added to the Secret of `owner` — created when it does not exist, but only when there is
/// something to hold. Returns every value and what was added.
pub async fn ensure(
    client: &Client,
    owner: &OwnerInfo,
    existing: Option<&BTreeMap<String, String>>,
    missing: &[GeneratedKey],
) -> Result<(GeneratedSecrets, Ensured), Error> {
    let mut values = existing.cloned().unwrap_or_default();
    let missing: Vec<GeneratedKey> = missing
        .iter()
        .copied()
        .filter(|key| !values.contains_key(key.name))
        .collect();
    if missing.is_empty() {
        return Ok((GeneratedSecrets(values), Ensured::default()));
    }
    let mut adopted = adoptable(client, &owner.namespace, &missing).await?;
    let mut added = BTreeMap::new();
    let mut ensured = Ensured::default();
    for key in &missing {
        let (value, origin) = match adopted.remove(key.name) {
            Some((value, source)) => (value, Origin::Adopted(source)),
            None => (key.generate(), Origin::Generated),
        };
        added.insert(key.name.to_owned(), value);
        ensured.added.push((key.name, origin));
    }
    let api = Api::<Secret>::namespaced(client.clone(), &owner.namespace);
    match existing {
        None => {
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
                "stringData": added,
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
        }
        Some(_) => {
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
        }
    }
    let generated: Vec<&str> = ensured
        .added
        .iter()
        .filter(|(_, origin)| *origin == Origin::Generated)
        .map(|(key, _)| *key)
        .collect();
    tracing::info!(namespace = %owner.namespace, secret = GENERATED_SECRET_NAME,
        adopted = ?ensured.adopted(), generated = ?generated, "resolved missing passwords");
    values.extend(added);
    Ok((GeneratedSecrets(values), ensured))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_adopted_keys_are_listed_for_the_event() {
        let ensured = Ensured {
            added: vec![
                (
                    "a",
                    Origin::Adopted("ConfigMap redis-cm key redis-conf".into()),
                ),
                ("b", Origin::Generated),
            ],
        };
        assert!(ensured.wrote());
        assert_eq!(
            ensured.adopted(),
            ["a (from ConfigMap redis-cm key redis-conf)"]
        );
        assert!(!Ensured::default().wrote());
    }

    #[test]
    fn decoding_keeps_values() {
        let data = BTreeMap::from([("k".to_string(), ByteString(b"v".to_vec()))]);
        assert_eq!(decode(data).get("k").map(String::as_str), Some("v"));
    }
}
