//! Taking over a live installation (the Python operator's, or any this operator did not apply)
//! without losing data. The other halves: credentials are adopted (`secrets`), the apihost is
//! kept (`config::apihost`), the Whisk's metadata and status are put in order (`reconcile`),
//! client-side-applied objects are taken over (`apply::migrate`).
//!
//! - In-memory workloads ([`hold_in_memory`]): a running workload whose data lives only in
//!   memory keeps its live pod template until the user allows the restart with the Whisk
//!   annotation [`ALLOW_RESTART_ANNOTATION`] (`redis`, a comma-separated list of component keys,
//!   or `*`); then this version's template is applied and its pods roll once.
//! - Claims ([`keep_live_claims`]): a StatefulSet whose live claim templates differ from this
//!   version's (the original's separate claims) keeps running on its live claims
//!   (`apply::claims`).
//! - Claims owned by the Whisk that this version does not render ([`release_claims`]) lose that
//!   owner reference: this version never deletes a claim.
//! - Leftovers ([`remove_leftovers`]): objects of the original that this version replaces
//!   (`Component::leftovers`) are deleted once their component is Ready and holds nothing.

use std::collections::BTreeSet;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Api;
use kube::api::{DeleteParams, DynamicObject, Preconditions};
use kube::core::{ApiResource, GroupVersionKind};

use super::reconcile::Plan;
use super::status::{ComponentOutcome, Outcome};
use crate::apply::claims;
use crate::apply::hold::{self, HELD_ANNOTATION};
use crate::apply::{Applier, ApplyError, LABEL_MANAGED_BY, LiveIndex, MANAGER, ObjectKey};
use crate::crd::ComponentId;

/// On the Whisk: the components whose in-memory workloads may restart to take this version's pod
/// template (`redis`, `redis,other`, or `*` for all).
pub const ALLOW_RESTART_ANNOTATION: &str = "nuvolaris.org/allow-restart";

/// Whether the Whisk's annotations allow `component`'s in-memory workloads to restart.
pub fn allows_restart(meta: &ObjectMeta, component: ComponentId) -> bool {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get(ALLOW_RESTART_ANNOTATION))
        .is_some_and(|value| {
            value
                .split(',')
                .map(str::trim)
                .any(|item| item == "*" || item == component.key())
        })
}

/// A workload that keeps its live pod template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub component: ComponentId,
    pub object: ObjectKey,
    /// First held in this reconcile (it was not applied by this operator before).
    pub newly: bool,
}

/// Replaces, in `plan`, the pod template of every in-memory workload that must keep its live one
/// ([`hold::must_hold`]) by the live template. Reads only (a GET of each workload this operator
/// did not apply, or holds): `diff` shows what the controller would do.
pub(crate) async fn hold_in_memory(
    applier: &Applier,
    whisk: &ObjectMeta,
    plan: &mut Plan,
    index: &LiveIndex,
) -> Result<Vec<Held>, ApplyError> {
    let mut held = Vec::new();
    for component in plan.rendered_mut() {
        let consent = allows_restart(whisk, component.id);
        for object in component.objects.iter_mut() {
            if !hold::is_in_memory(object) {
                continue;
            }
            let Some(key) = ObjectKey::of(object) else {
                continue;
            };
            // ours and not held (the usual case): decided from the index, no read
            if let Some(indexed) = index.metadata(&key)
                && !hold::must_hold(object, Some(indexed), consent)
            {
                continue;
            }
            let Some(live) = applier.live(object).await? else {
                continue;
            };
            let meta: Option<ObjectMeta> = live
                .get("metadata")
                .cloned()
                .and_then(|m| serde_json::from_value(m).ok());
            if !hold::must_hold(object, meta.as_ref(), consent) {
                continue;
            }
            let Some(kept) = hold::hold(object, &live) else {
                continue;
            };
            let newly = meta
                .as_ref()
                .and_then(|m| m.annotations.as_ref())
                .is_none_or(|a| !a.contains_key(HELD_ANNOTATION));
            *object = kept;
            held.push(Held {
                component: component.id,
                object: key,
                newly,
            });
        }
    }
    Ok(held)
}

/// Replaces, in `plan`, the claim templates of every StatefulSet that must keep the live ones
/// ([`claims::must_check`], [`claims::keep_claims`]): a StatefulSet of the original whose data
/// is on a separate claim. Reads only (a GET of each such StatefulSet); returns the objects kept.
pub(crate) async fn keep_live_claims(
    applier: &Applier,
    plan: &mut Plan,
    index: &LiveIndex,
) -> Result<Vec<ObjectKey>, ApplyError> {
    let mut kept = Vec::new();
    for component in plan.rendered_mut() {
        for object in component.objects.iter_mut() {
            if !claims::has_claim_templates(object) {
                continue;
            }
            let Some(key) = ObjectKey::of(object) else {
                continue;
            };
            // ours and not kept (the usual case): decided from the index, no read
            if let Some(indexed) = index.metadata(&key)
                && !claims::must_check(object, Some(indexed))
            {
                continue;
            }
            let Some(live) = applier.live(object).await? else {
                continue;
            };
            let meta: Option<ObjectMeta> = live
                .get("metadata")
                .cloned()
                .and_then(|m| serde_json::from_value(m).ok());
            if !claims::must_check(object, meta.as_ref()) {
                continue;
            }
            if let Some(on_live_claims) = claims::keep_claims(object, &live) {
                *object = on_live_claims;
                kept.push(key);
            }
        }
    }
    Ok(kept)
}

/// The Event note for workloads first held in this reconcile, `None` when there are none.
pub fn held_note(held: &[Held]) -> Option<String> {
    let newly: Vec<&Held> = held.iter().filter(|h| h.newly).collect();
    if newly.is_empty() {
        return None;
    }
    let components: BTreeSet<&str> = newly.iter().map(|h| h.component.key()).collect();
    let objects: Vec<String> = newly.iter().map(|h| h.object.to_string()).collect();
    Some(format!(
        "{} keep the pod template they run with: their data lives only in memory and this \
         version's template would restart them. Annotate the Whisk {ALLOW_RESTART_ANNOTATION}={} \
         to apply it (the pods restart once; their in-memory data is lost)",
        objects.join(", "),
        components.into_iter().collect::<Vec<_>>().join(",")
    ))
}

/// Deletes the leftovers of the Ready components that hold nothing: each only when it exists,
/// was not applied by this operator and belongs to the Whisk `owner_uid` (ownerReference).
/// Returns how many were deleted; errors are reported, not fatal.
pub async fn remove_leftovers(
    client: &kube::Client,
    namespace: &str,
    owner_uid: &str,
    outcomes: &[ComponentOutcome],
    held: &[Held],
) -> Result<usize, ApplyError> {
    let mut deleted = 0;
    for outcome in outcomes {
        if outcome.outcome != Outcome::Ready || held.iter().any(|h| h.component == outcome.id) {
            continue;
        }
        let Some(component) = crate::components::component(outcome.id) else {
            continue;
        };
        for leftover in component.leftovers() {
            let kind = leftover.kind;
            let gvk = GroupVersionKind::gvk(kind.group, kind.version, kind.kind);
            let resource = ApiResource::from_gvk_with_plural(&gvk, kind.plural);
            let api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), namespace, &resource);
            let shown = format!("{} {namespace}/{}", kind.kind, leftover.name);
            let live = api
                .get_metadata_opt(leftover.name)
                .await
                .map_err(|source| ApplyError::Kube {
                    action: "read",
                    object: shown.clone(),
                    source,
                })?;
            let Some(live) = live else { continue };
            let meta = &live.metadata;
            let ours = meta
                .labels
                .as_ref()
                .and_then(|l| l.get(LABEL_MANAGED_BY))
                .is_some_and(|m| m == MANAGER);
            let owned = meta
                .owner_references
                .iter()
                .flatten()
                .any(|r| r.uid == owner_uid);
            if ours || !owned || meta.deletion_timestamp.is_some() {
                continue;
            }
            let params = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: meta.uid.clone(),
                    resource_version: None,
                }),
                ..DeleteParams::default()
            };
            match api.delete(leftover.name, &params).await {
                Ok(_) => {
                    tracing::info!(object = %shown, component = outcome.id.key(), "removed a leftover of the previous installation");
                    deleted += 1;
                }
                Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => {}
                Err(source) => {
                    return Err(ApplyError::Kube {
                        action: "delete",
                        object: shown,
                        source,
                    });
                }
            }
        }
    }
    Ok(deleted)
}

/// Releases the claims of the previous installation from the Whisk `owner_uid`: a claim this
/// operator does not render (the registry's separate `registry-pvc`, Pulsar's claims) would be
/// deleted with the Whisk through the owner reference the original gave it, while this version
/// never deletes a claim. Returns how many were released.
pub async fn release_claims(
    client: &kube::Client,
    namespace: &str,
    owner_uid: &str,
) -> Result<usize, ApplyError> {
    use k8s_openapi::api::core::v1::PersistentVolumeClaim;
    use kube::api::{ListParams, Patch, PatchParams};
    let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace);
    let claims = api
        .list_metadata(&ListParams::default())
        .await
        .map_err(|source| ApplyError::Kube {
            action: "list",
            object: format!("PersistentVolumeClaims {namespace}"),
            source,
        })?;
    let mut released = 0;
    for claim in claims.items {
        let meta = &claim.metadata;
        let ours = meta
            .labels
            .as_ref()
            .and_then(|l| l.get(LABEL_MANAGED_BY))
            .is_some_and(|m| m == MANAGER);
        if !meta
            .owner_references
            .iter()
            .flatten()
            .any(|r| r.uid == owner_uid)
        {
            continue;
        }
        let Some(name) = meta.name.as_deref() else {
            continue;
        };
        if ours || meta.deletion_timestamp.is_some() {
            continue;
        }
        // the other owners stay; the resourceVersion makes it fail (409) if the list changed
        let owners: Vec<_> = meta
            .owner_references
            .iter()
            .flatten()
            .filter(|r| r.uid != owner_uid)
            .collect();
        let patch = serde_json::json!({"metadata": {
            "resourceVersion": meta.resource_version,
            "ownerReferences": owners,
        }});
        let shown = format!("PersistentVolumeClaim {namespace}/{name}");
        match api
            .patch(
                name,
                &PatchParams {
                    field_manager: Some(MANAGER.to_owned()),
                    ..PatchParams::default()
                },
                &Patch::Merge(&patch),
            )
            .await
        {
            Ok(_) => {
                tracing::info!(object = %shown, "released a claim of the previous installation from the Whisk");
                released += 1;
            }
            Err(kube::Error::Api(status)) if matches!(status.code, 404 | 409) => {}
            Err(source) => {
                return Err(ApplyError::Kube {
                    action: "patch",
                    object: shown,
                    source,
                });
            }
        }
    }
    Ok(released)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whisk(allow: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            annotations: allow
                .map(|v| [(ALLOW_RESTART_ANNOTATION.to_string(), v.to_string())].into()),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn consent_names_components_or_all() {
        assert!(!allows_restart(&whisk(None), ComponentId::Redis));
        assert!(allows_restart(&whisk(Some("redis")), ComponentId::Redis));
        assert!(allows_restart(
            &whisk(Some("couchdb, redis")),
            ComponentId::Redis
        ));
        assert!(allows_restart(&whisk(Some("*")), ComponentId::Redis));
        assert!(!allows_restart(&whisk(Some("couchdb")), ComponentId::Redis));
        assert!(!allows_restart(
            &whisk(Some("redis-cm")),
            ComponentId::Redis
        ));
    }

    #[test]
    fn the_note_says_how_to_consent_and_only_once() {
        let key = ObjectKey {
            group: "apps".into(),
            kind: "StatefulSet".into(),
            namespace: Some("nuvolaris".into()),
            name: "redis".into(),
        };
        let mut held = vec![Held {
            component: ComponentId::Redis,
            object: key,
            newly: true,
        }];
        let note = held_note(&held).expect("a note");
        assert!(
            note.contains("StatefulSet nuvolaris/redis")
                && note.contains("nuvolaris.org/allow-restart=redis"),
            "{note}"
        );
        held[0].newly = false;
        assert_eq!(held_note(&held), None);
    }
}
