//! Server-side apply in dependency order, prune by label, readiness checks: one shared
//! mechanism used for every component, so a component only renders objects.
//!
//! - [`prepare()`] (pure): namespace, labels, ownerReference, content hash, order.
//! - [`Applier::apply_all`]: server-side apply (field manager [`MANAGER`], forced), skipping
//!   objects whose live copy carries the same content hash, so a no-op reconcile writes nothing.
//! - [`Applier::prune`]: deletes labelled children that the current render no longer contains.
//! - [`Applier::index`]: one metadata LIST per kind of the Whisk's labelled children, shared by
//!   [`Applier::apply_all_with`] (no GET per object) and [`Applier::prune_indexed`].
//! - [`evaluate`]: readiness of the applied workloads and Jobs.
//!
//! The layer is generic: it knows objects and their owner ([`OwnerInfo`]), never components, so
//! every controller (Whisk, WhiskUser, Workflows) reuses it; children are told apart by an owner
//! label whose key names the owner's kind (see [`OwnerInfo::label`]).
//!
//! Pruning policy: PersistentVolumeClaims, PersistentVolumes, Namespaces and CRDs are never
//! deleted by the operator (see [`kinds::KnownKind::prunable`]). Data therefore survives
//! disabling a component and deleting the Whisk CR; a PVC is removed by hand when its data is
//! no longer wanted. Because PVCs do carry an ownerReference, Kubernetes garbage collection
//! would remove them with the CR: to keep data, `prepare` does not add one to PVCs
//! (StatefulSet volumeClaimTemplates are not owned by the CR either).
//!
//! Drift: an object is re-applied when its rendered content changes (hash annotation
//! [`ANNOTATION_APPLIED_HASH`]), when it is missing, or when another manager owns a field the
//! operator sets (managedFields: a `kubectl edit` or `scale`), which puts the field back. Fields
//! the operator never sets stay as edited. Otherwise nothing is written: a no-op reconcile makes
//! zero writes.

pub mod annotations;
pub mod claims;
pub mod hold;
pub mod kinds;
pub mod migrate;
pub mod prepare;
pub mod readiness;

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use kube::api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PropagationPolicy};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Api, Client};
use serde_json::Value;

pub use prepare::{OwnerInfo, content_hash, operator_labels, prepare};
pub use readiness::{ComponentHealth, Evaluation, FailedJob, evaluate};

use prepare::str_at;

/// A rendered Kubernetes object: a full object with apiVersion, kind and metadata.
pub type Object = serde_json::Value;

/// Annotation that tells the apply step how to treat an object.
pub const APPLY_POLICY_ANNOTATION: &str = "nuvolaris.org/apply-policy";
/// Create the object when missing, never change it afterwards (users own its content).
pub const CREATE_ONLY: &str = "create-only";

/// Field manager of every server-side apply, and `app.kubernetes.io/managed-by` value.
pub const MANAGER: &str = "nuvolaris-operator";
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const LABEL_WHISK: &str = "nuvolaris.org/whisk";
/// Namespace of the owning Whisk; lets cluster-scoped children of two CRs with the same name
/// in different namespaces be told apart. (Children of other kinds: see [`OwnerInfo::label`].)
pub const LABEL_WHISK_NAMESPACE: &str = "nuvolaris.org/whisk-namespace";
pub const LABEL_COMPONENT: &str = "nuvolaris.org/component";
/// Hash of the applied content, compared before applying to skip unchanged objects.
pub const ANNOTATION_APPLIED_HASH: &str = "nuvolaris.org/applied-hash";

/// The server's own words for an API error (e.g. `Service "couchdb-np" is invalid:
/// spec.ports[0].nodePort: Invalid value: 30984: provided port is already allocated`), without
/// the client's debug dump; for other errors their first line. Short enough for a condition.
pub fn describe(err: &kube::Error) -> String {
    let text = match err {
        kube::Error::Api(status) if !status.message.is_empty() => status.message.clone(),
        kube::Error::Api(status) => format!("{} (HTTP {})", status.reason, status.code),
        other => other.to_string(),
    };
    let line = text.lines().next().unwrap_or_default();
    truncate(line, 300)
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{action} {object}: {}", describe(.source))]
    Kube {
        action: &'static str,
        object: String,
        #[source]
        source: kube::Error,
    },
    #[error("rendered object lacks apiVersion, kind or metadata.name: {0}")]
    Malformed(String),
    #[error("CustomResourceDefinition {name} not established within {seconds}s")]
    NotEstablished { name: String, seconds: u64 },
    #[error("kind {kind} ({api_version}) is not served by the cluster: {}", describe(.source))]
    UnknownKind {
        api_version: String,
        kind: String,
        #[source]
        source: kube::Error,
    },
}

/// What an apply or prune did. `writes()` is the number of mutating API calls.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ApplyReport {
    /// Objects server-side applied (created or changed).
    pub applied: usize,
    /// Objects skipped because the live copy has the same content hash.
    pub unchanged: usize,
    /// Jobs deleted because their (immutable) template changed; created on a later pass.
    pub recreated: usize,
    /// Objects waiting for a previous deletion to finish before they can be applied.
    pub pending: usize,
    /// Objects deleted by prune or cleanup.
    pub deleted: usize,
    /// Objects taken over from client-side `kubectl apply` (see [`migrate`]).
    pub migrated: usize,
}

impl ApplyReport {
    pub fn writes(&self) -> usize {
        self.applied + self.recreated + self.deleted + self.migrated
    }

    pub fn add(&mut self, other: &ApplyReport) {
        self.applied += other.applied;
        self.unchanged += other.unchanged;
        self.recreated += other.recreated;
        self.pending += other.pending;
        self.deleted += other.deleted;
        self.migrated += other.migrated;
    }
}

/// Identity of an object for prune decisions (the API version does not matter).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    pub group: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectKey {
    pub fn of(object: &Object) -> Option<ObjectKey> {
        let (group, _) = kinds::split_api_version(str_at(object, &["apiVersion"])?);
        Some(ObjectKey {
            group: group.to_string(),
            kind: str_at(object, &["kind"])?.to_string(),
            namespace: str_at(object, &["metadata", "namespace"]).map(str::to_string),
            name: str_at(object, &["metadata", "name"])?.to_string(),
        })
    }
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// A resolved kind: how to reach it through the dynamic API.
#[derive(Debug, Clone)]
struct Resolved {
    resource: ApiResource,
    namespaced: bool,
}

/// The live children of one Whisk, listed once per reconcile (metadata only).
#[derive(Debug, Default, Clone)]
pub struct LiveIndex {
    /// Objects missing here (not created yet, or created without the owner labels, e.g. by
    /// the Python operator) are looked up with a GET by `apply_all_with`.
    objects: std::collections::HashMap<ObjectKey, IndexedObject>,
}

#[derive(Debug, Clone)]
struct IndexedObject {
    metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    resolved: Resolved,
}

impl LiveIndex {
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    pub fn contains(&self, key: &ObjectKey) -> bool {
        self.objects.contains_key(key)
    }

    /// The live metadata of an indexed object.
    pub fn metadata(
        &self,
        key: &ObjectKey,
    ) -> Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta> {
        self.objects.get(key).map(|o| &o.metadata)
    }

    /// The indexed objects of one component (label [`LABEL_COMPONENT`]).
    pub fn component_keys<'a>(&'a self, component: &'a str) -> impl Iterator<Item = &'a ObjectKey> {
        self.objects.iter().filter_map(move |(key, object)| {
            let labels = object.metadata.labels.as_ref()?;
            (labels.get(LABEL_COMPONENT).map(String::as_str) == Some(component)).then_some(key)
        })
    }

    /// What prune deletes given the objects to `keep`, in deletion order: every indexed object
    /// not kept and not already being deleted, except the kinds never pruned
    /// ([`kinds::KnownKind::prunable`]); exposure and workloads before their configuration.
    pub fn prune_candidates(&self, keep: &BTreeSet<ObjectKey>) -> Vec<&ObjectKey> {
        let mut doomed: Vec<&ObjectKey> = self
            .objects
            .iter()
            .filter(|(key, object)| {
                !keep.contains(*key)
                    && object.metadata.deletion_timestamp.is_none()
                    && kinds::known(&key.group, &key.kind).is_none_or(|k| k.prunable)
            })
            .map(|(key, _)| key)
            .collect();
        doomed.sort_by_key(|key| {
            (
                std::cmp::Reverse(kinds::apply_rank(&key.kind)),
                (*key).clone(),
            )
        });
        doomed
    }

    /// The live copy of an indexed object (a GET: the index holds metadata only).
    pub async fn fetch(
        &self,
        client: &Client,
        key: &ObjectKey,
    ) -> Result<Option<Value>, ApplyError> {
        let Some(object) = self.objects.get(key) else {
            return Ok(None);
        };
        let api: Api<DynamicObject> = match (&key.namespace, object.resolved.namespaced) {
            (Some(ns), true) => Api::namespaced_with(client.clone(), ns, &object.resolved.resource),
            _ => Api::all_with(client.clone(), &object.resolved.resource),
        };
        let found = api
            .get_opt(&key.name)
            .await
            .map_err(|source| ApplyError::Kube {
                action: "read",
                object: key.to_string(),
                source,
            })?;
        Ok(found.and_then(|o| serde_json::to_value(o).ok()))
    }
}

/// Whether someone other than the operator took over fields the operator sets (a `kubectl
/// edit`, a script): an Update moves the ownership of the fields it changes to its manager, so
/// another manager owning a field of the rendered object means drift. Then the unchanged hash
/// is not enough and the object is applied again, which puts those fields back. Status writes
/// (subresources) do not count, nor do fields the operator never sets (those stay as edited).
fn edited_by_others(
    live: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    desired: &Object,
) -> bool {
    let Some(entries) = live.managed_fields.as_ref() else {
        return false;
    };
    entries.iter().any(|e| {
        e.manager.as_deref() != Some(MANAGER)
            && e.subresource.as_deref().unwrap_or("").is_empty()
            && e.fields_v1
                .as_ref()
                .is_some_and(|f| owns_any(&f.0, desired))
    })
}

/// Whether a managedFields `fieldsV1` tree names a field that `desired` sets.
fn owns_any(fields: &serde_json::Value, desired: &Object) -> bool {
    let Some(fields) = fields.as_object() else {
        return false;
    };
    fields.iter().any(|(key, sub)| {
        if let Some(name) = key.strip_prefix("f:") {
            // the bookkeeping of the operator itself is not drift
            if name == "nuvolaris.org/applied-hash" {
                return false;
            }
            match desired.get(name) {
                None => false,
                Some(child) => {
                    let leaf = sub
                        .as_object()
                        .is_none_or(|m| m.is_empty() || m.len() == 1 && m.contains_key("."));
                    leaf || owns_any(sub, child)
                }
            }
        } else if let Some(item_key) = key.strip_prefix("k:") {
            // a list item by its merge key, e.g. k:{"name":"controller"}
            let Ok(item_key) =
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(item_key)
            else {
                return false;
            };
            desired.as_array().is_some_and(|items| {
                items
                    .iter()
                    .filter(|item| item_key.iter().all(|(k, v)| item.get(k) == Some(v)))
                    .any(|item| owns_any(sub, item))
            })
        } else if let Some(value) = key.strip_prefix("v:") {
            // a set item by value
            let Ok(value) = serde_json::from_str::<serde_json::Value>(value) else {
                return false;
            };
            desired
                .as_array()
                .is_some_and(|items| items.contains(&value))
        } else {
            false
        }
    })
}

/// What applying one prepared object does, decided from its live metadata alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The live copy carries the same content hash and nobody else took over its fields.
    Unchanged,
    /// A create-only object (`nuvolaris.org/apply-policy: create-only`) that exists: users own
    /// its content.
    CreateOnly,
    /// The live copy is being deleted: it is applied once it is gone.
    WaitForDeletion,
    /// A Job whose (immutable) template changed: deleted now, created again on a later pass.
    ReplaceJob,
    /// Server-side apply (which creates it when missing).
    Apply,
}

/// The decision of [`Applier::apply_all_with`] for `object` given its live metadata.
pub fn decide(
    object: &Object,
    live: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>,
) -> Step {
    let Some(live) = live else {
        return Step::Apply;
    };
    if live.deletion_timestamp.is_some() {
        return Step::WaitForDeletion;
    }
    let is_job = str_at(object, &["kind"]) == Some("Job")
        && str_at(object, &["apiVersion"]) == Some("batch/v1");
    let desired_hash = str_at(
        object,
        &["metadata", "annotations", ANNOTATION_APPLIED_HASH],
    );
    let live_hash = live
        .annotations
        .as_ref()
        .and_then(|a| a.get(ANNOTATION_APPLIED_HASH))
        .map(String::as_str);
    if desired_hash.is_some()
        && live_hash == desired_hash
        && (is_job || !edited_by_others(live, object))
    {
        return Step::Unchanged;
    }
    if str_at(
        object,
        &["metadata", "annotations", APPLY_POLICY_ANNOTATION],
    ) == Some(CREATE_ONLY)
    {
        return Step::CreateOnly;
    }
    if is_job {
        return Step::ReplaceJob;
    }
    Step::Apply
}

/// `prepare` guesses the scope of kinds it does not know; discovery has the final word: a
/// cluster-scoped object carries neither a namespace nor a (namespaced) owner.
fn scoped<'a>(object: &'a Object, resolved: &Resolved) -> std::borrow::Cow<'a, Object> {
    let namespaced_fields = object
        .get("metadata")
        .is_some_and(|m| m.get("namespace").is_some());
    if resolved.namespaced || !namespaced_fields {
        return std::borrow::Cow::Borrowed(object);
    }
    let mut fixed = object.clone();
    if let Some(meta) = fixed.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("namespace");
        meta.remove("ownerReferences");
    }
    std::borrow::Cow::Owned(fixed)
}

/// One object's endpoint and live metadata.
struct Target {
    api: Api<DynamicObject>,
    resolved: Resolved,
    name: String,
    shown: String,
    live: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>,
}

/// Applies rendered objects through the dynamic API. Keeps a cache of kind → REST resource
/// for kinds outside [`kinds::KNOWN_KINDS`] (filled by discovery, dropped on a 404).
pub struct Applier {
    client: Client,
    discovered: Mutex<HashMap<(String, String, String), Resolved>>,
    /// Kinds prune may not list (403: the operator's RBAC does not cover them, so it cannot
    /// have created them either) or the cluster does not serve (404), skipped until the
    /// instant: spares a failing call per kind on every reconcile.
    unlistable: Mutex<HashMap<String, std::time::Instant>>,
}

/// How long apply waits for a CRD it applied to be established.
pub const CRD_ESTABLISHED_WITHIN: std::time::Duration = std::time::Duration::from_secs(30);

/// How long a kind that could not be listed is skipped by prune.
const UNLISTABLE_FOR: std::time::Duration = std::time::Duration::from_secs(600);

fn is_status(err: &kube::Error, code: u16) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == code)
}

impl Applier {
    pub fn new(client: Client) -> Self {
        Applier {
            client,
            discovered: Mutex::new(HashMap::new()),
            unlistable: Mutex::new(HashMap::new()),
        }
    }

    async fn resolve(&self, api_version: &str, kind: &str) -> Result<Resolved, ApplyError> {
        let (group, version) = kinds::split_api_version(api_version);
        let gvk = GroupVersionKind::gvk(group, version, kind);
        if let Some(known) = kinds::known(group, kind).filter(|k| k.version == version) {
            return Ok(Resolved {
                resource: ApiResource::from_gvk_with_plural(&gvk, known.plural),
                namespaced: known.namespaced,
            });
        }
        let key = (group.to_string(), version.to_string(), kind.to_string());
        if let Some(found) = self.cache_get(&key) {
            return Ok(found);
        }
        let (resource, capabilities) = kube::discovery::pinned_kind(&self.client, &gvk)
            .await
            .map_err(|source| ApplyError::UnknownKind {
                api_version: api_version.to_string(),
                kind: kind.to_string(),
                source,
            })?;
        let resolved = Resolved {
            resource,
            namespaced: capabilities.scope == kube::discovery::Scope::Namespaced,
        };
        if let Ok(mut cache) = self.discovered.lock() {
            cache.insert(key, resolved.clone());
        }
        Ok(resolved)
    }

    fn cache_get(&self, key: &(String, String, String)) -> Option<Resolved> {
        self.discovered.lock().ok()?.get(key).cloned()
    }

    fn skipped(&self, key: &str) -> bool {
        self.unlistable
            .lock()
            .ok()
            .and_then(|m| m.get(key).copied())
            .is_some_and(|until| std::time::Instant::now() < until)
    }

    fn skip(&self, key: &str) {
        if let Ok(mut map) = self.unlistable.lock() {
            map.insert(key.to_string(), std::time::Instant::now() + UNLISTABLE_FOR);
        }
    }

    fn forget(&self, api_version: &str, kind: &str) {
        let (group, version) = kinds::split_api_version(api_version);
        if let Ok(mut cache) = self.discovered.lock() {
            cache.remove(&(group.to_string(), version.to_string(), kind.to_string()));
        }
    }

    fn api(&self, resolved: &Resolved, namespace: Option<&str>) -> Api<DynamicObject> {
        match (resolved.namespaced, namespace) {
            (true, Some(ns)) => Api::namespaced_with(self.client.clone(), ns, &resolved.resource),
            (true, None) => Api::default_namespaced_with(self.client.clone(), &resolved.resource),
            (false, _) => Api::all_with(self.client.clone(), &resolved.resource),
        }
    }

    /// Server-side applies `objects` (already [`prepare()`]d) in order. Stops at the first error:
    /// later objects may depend on the failed one.
    pub async fn apply_all(&self, objects: &[Object]) -> Result<ApplyReport, ApplyError> {
        self.apply_all_with(objects, None).await
    }

    /// [`Applier::apply_all`], reading the live state of already labelled objects from `index`
    /// instead of one GET each.
    pub async fn apply_all_with(
        &self,
        objects: &[Object],
        index: Option<&LiveIndex>,
    ) -> Result<ApplyReport, ApplyError> {
        let mut report = ApplyReport::default();
        for object in objects {
            self.apply_one(object, index, &mut report).await?;
        }
        Ok(report)
    }

    /// The REST endpoint of `object` and its live metadata (from `index`, else a GET).
    async fn lookup(
        &self,
        object: &Object,
        index: Option<&LiveIndex>,
    ) -> Result<Target, ApplyError> {
        let malformed = || ApplyError::Malformed(truncate(&object.to_string(), 200));
        let api_version = str_at(object, &["apiVersion"]).ok_or_else(malformed)?;
        let kind = str_at(object, &["kind"]).ok_or_else(malformed)?;
        let name = str_at(object, &["metadata", "name"]).ok_or_else(malformed)?;
        let namespace = str_at(object, &["metadata", "namespace"]);
        let shown = ObjectKey::of(object)
            .map(|k| k.to_string())
            .unwrap_or_default();
        let resolved = self.resolve(api_version, kind).await?;
        let api = self.api(&resolved, namespace);
        let indexed = index
            .zip(ObjectKey::of(object))
            .and_then(|(index, key)| index.objects.get(&key))
            .map(|o| o.metadata.clone());
        let live = match indexed {
            Some(metadata) => Some(metadata),
            None => match api.get_metadata_opt(name).await {
                Ok(live) => live.map(|l| l.metadata),
                Err(err) => {
                    if is_status(&err, 404) {
                        // The kind itself vanished (CRD removed): rediscover next time.
                        self.forget(api_version, kind);
                    }
                    return Err(ApplyError::Kube {
                        action: "read",
                        object: shown,
                        source: err,
                    });
                }
            },
        };
        Ok(Target {
            api,
            resolved,
            name: name.to_owned(),
            shown,
            live,
        })
    }

    /// What applying `object` would do now (the decision [`Applier::apply_all_with`] takes).
    pub async fn plan(
        &self,
        object: &Object,
        index: Option<&LiveIndex>,
    ) -> Result<Step, ApplyError> {
        let target = self.lookup(object, index).await?;
        Ok(decide(object, target.live.as_ref()))
    }

    /// The whole live copy of `object`, if it exists.
    pub async fn live(&self, object: &Object) -> Result<Option<Value>, ApplyError> {
        let target = self.lookup(object, None).await?;
        if target.live.is_none() {
            return Ok(None);
        }
        match target.api.get_opt(&target.name).await {
            Ok(found) => Ok(found.and_then(|o| serde_json::to_value(o).ok())),
            Err(source) => Err(ApplyError::Kube {
                action: "read",
                object: target.shown,
                source,
            }),
        }
    }

    /// The object as a server-side apply of `object` would leave it (field manager
    /// [`MANAGER`], forced, `dryRun=All`): nothing is written.
    pub async fn dry_run_apply(&self, object: &Object) -> Result<Value, ApplyError> {
        let target = self.lookup(object, None).await?;
        let object = scoped(object, &target.resolved);
        let mut params = PatchParams::apply(MANAGER).force();
        params.dry_run = true;
        let applied = target
            .api
            .patch(&target.name, &params, &Patch::Apply(object.as_ref()))
            .await
            .map_err(|source| ApplyError::Kube {
                action: "dry-run apply",
                object: target.shown,
                source,
            })?;
        serde_json::to_value(applied).map_err(|e| ApplyError::Malformed(e.to_string()))
    }

    async fn apply_one(
        &self,
        object: &Object,
        index: Option<&LiveIndex>,
        report: &mut ApplyReport,
    ) -> Result<(), ApplyError> {
        let target = self.lookup(object, index).await?;
        let (api, name, shown) = (&target.api, target.name.as_str(), &target.shown);
        let wrap = |action: &'static str| {
            let shown = shown.clone();
            move |source| ApplyError::Kube {
                action,
                object: shown,
                source,
            }
        };
        match decide(object, target.live.as_ref()) {
            Step::WaitForDeletion => {
                report.pending += 1;
                return Ok(());
            }
            Step::Unchanged | Step::CreateOnly => {
                report.unchanged += 1;
                return Ok(());
            }
            Step::ReplaceJob => {
                // A Job's template is immutable: replace the Job; it is created again on the
                // next pass, once the old one is gone.
                let params = DeleteParams {
                    propagation_policy: Some(PropagationPolicy::Background),
                    ..DeleteParams::default()
                };
                match api.delete(name, &params).await {
                    Ok(_) => {}
                    Err(err) if is_status(&err, 404) => {}
                    Err(err) => return Err(wrap("delete")(err)),
                }
                tracing::info!(object = %shown, "job changed: deleted for re-creation");
                report.recreated += 1;
                report.pending += 1;
                return Ok(());
            }
            Step::Apply => {}
        }
        if let Some(live) = &target.live {
            let managed: Vec<Value> = live
                .managed_fields
                .iter()
                .flatten()
                .filter_map(|entry| serde_json::to_value(entry).ok())
                .collect();
            if let Some(upgraded) = migrate::upgrade_managed_fields(&managed, MANAGER) {
                // Guarded by the resourceVersion read: a concurrent change fails it (409) and the
                // next reconcile retries with fresh data.
                let takeover = serde_json::json!({"metadata": {
                    "resourceVersion": live.resource_version,
                    "managedFields": upgraded,
                    "annotations": {migrate::LAST_APPLIED_ANNOTATION: null},
                }});
                api.patch(name, &PatchParams::default(), &Patch::Merge(takeover))
                    .await
                    .map_err(wrap("take over from client-side apply"))?;
                tracing::info!(object = %shown, "took over fields from client-side kubectl apply");
                report.migrated += 1;
            }
        }
        let object = scoped(object, &target.resolved);
        let params = PatchParams::apply(MANAGER).force();
        api.patch(name, &params, &Patch::Apply(object.as_ref()))
            .await
            .map_err(wrap("apply"))?;
        tracing::debug!(object = %shown, "applied");
        report.applied += 1;
        if str_at(object.as_ref(), &["kind"]) == Some("CustomResourceDefinition") {
            self.await_established(object.as_ref()).await?;
        }
        Ok(())
    }

    /// Waits (bounded by [`CRD_ESTABLISHED_WITHIN`]) until a just applied CRD serves its kind,
    /// so that the objects of that kind, applied next, find it; and forgets that the kind could
    /// not be listed before.
    async fn await_established(&self, crd: &Object) -> Result<(), ApplyError> {
        use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
        use kube::runtime::wait::{await_condition, conditions};
        let name = str_at(crd, &["metadata", "name"]).unwrap_or_default();
        let api: Api<CustomResourceDefinition> = Api::all(self.client.clone());
        let established = await_condition(api, name, conditions::is_crd_established());
        match tokio::time::timeout(CRD_ESTABLISHED_WITHIN, established).await {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => {
                tracing::debug!(crd = name, error = %err, "watch for the CRD's Established condition failed");
                return Err(ApplyError::NotEstablished {
                    name: name.to_owned(),
                    seconds: CRD_ESTABLISHED_WITHIN.as_secs(),
                });
            }
            Err(_) => {
                return Err(ApplyError::NotEstablished {
                    name: name.to_owned(),
                    seconds: CRD_ESTABLISHED_WITHIN.as_secs(),
                });
            }
        }
        let group = str_at(crd, &["spec", "group"]).unwrap_or_default();
        let kind = str_at(crd, &["spec", "names", "kind"]).unwrap_or_default();
        let versions = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.get("name").and_then(Value::as_str));
        for version in versions {
            let api_version = format!("{group}/{version}");
            self.forget(&api_version, kind);
            if let Ok(mut map) = self.unlistable.lock() {
                map.remove(&format!("{api_version}/{kind}"));
            }
        }
        Ok(())
    }

    /// Deletes failed Jobs that failed long enough ago ([`readiness::retry_failed_job`]), so
    /// that the next apply creates them again. Returns what was deleted and, if some Job must
    /// still wait, how long.
    pub async fn retry_failed_jobs(
        &self,
        jobs: &[FailedJob],
    ) -> Result<(ApplyReport, Option<std::time::Duration>), ApplyError> {
        let mut report = ApplyReport::default();
        let mut next: Option<std::time::Duration> = None;
        for job in jobs {
            match readiness::retry_failed_job(job.failed_for) {
                Err(wait) => next = Some(next.map_or(wait, |n| n.min(wait))),
                Ok(()) => {
                    let api: Api<k8s_openapi::api::batch::v1::Job> =
                        Api::namespaced(self.client.clone(), &job.namespace);
                    let params = DeleteParams {
                        propagation_policy: Some(PropagationPolicy::Background),
                        ..DeleteParams::default()
                    };
                    match api.delete(&job.name, &params).await {
                        Ok(_) => {
                            tracing::info!(job = %job.name, namespace = %job.namespace, "failed job deleted: it runs again");
                            report.recreated += 1;
                        }
                        Err(err) if is_status(&err, 404) => {}
                        Err(source) => {
                            return Err(ApplyError::Kube {
                                action: "delete failed job",
                                object: format!("Job {}/{}", job.namespace, job.name),
                                source,
                            });
                        }
                    }
                }
            }
        }
        Ok((report, next))
    }

    /// Lists (metadata only, by label) the children of `owner`: every prunable known kind plus
    /// `extra` kinds (`(apiVersion, kind)`, e.g. the kinds of the current render); kinds the
    /// cluster does not serve or the operator may not list are skipped. One LIST per kind
    /// replaces a GET per object in [`Applier::apply_all_with`] and serves
    /// [`Applier::prune_indexed`].
    pub async fn index(
        &self,
        owner: &OwnerInfo,
        extra: &[(String, String)],
        cluster_scoped_only: bool,
    ) -> Result<LiveIndex, ApplyError> {
        let mut index = LiveIndex::default();
        let selector = owner.selector();
        let mut targets: Vec<(String, String)> = kinds::KNOWN_KINDS
            .iter()
            .filter(|k| k.prunable)
            .map(|k| (k.api_version(), k.kind.to_string()))
            .collect();
        for (api_version, kind) in extra {
            let (group, _) = kinds::split_api_version(api_version);
            let listed = targets
                .iter()
                .any(|(v, k)| k == kind && kinds::split_api_version(v).0 == group);
            if !listed {
                targets.push((api_version.clone(), kind.clone()));
            }
        }
        for (api_version, kind) in targets {
            let skip_key = format!("{api_version}/{kind}");
            if self.skipped(&skip_key) {
                continue;
            }
            let resolved = match self.resolve(&api_version, &kind).await {
                Ok(resolved) => resolved,
                Err(ApplyError::UnknownKind { .. }) => {
                    self.skip(&skip_key);
                    continue;
                }
                Err(err) => return Err(err),
            };
            if cluster_scoped_only && resolved.namespaced {
                continue;
            }
            // Namespaced children live in the CR's namespace (see `prepare`).
            let api: Api<DynamicObject> = if resolved.namespaced {
                Api::namespaced_with(self.client.clone(), &owner.namespace, &resolved.resource)
            } else {
                Api::all_with(self.client.clone(), &resolved.resource)
            };
            let list = match api
                .list_metadata(&ListParams::default().labels(&selector))
                .await
            {
                Ok(list) => list,
                Err(err) if is_status(&err, 404) || is_status(&err, 403) => {
                    tracing::debug!(kind = %skip_key, error = %err, "skipping a kind that cannot be listed");
                    self.skip(&skip_key);
                    continue;
                }
                Err(source) => {
                    return Err(ApplyError::Kube {
                        action: "list",
                        object: kind.clone(),
                        source,
                    });
                }
            };
            let (group, _) = kinds::split_api_version(&api_version);
            for item in list.items {
                let Some(name) = item.metadata.name.clone() else {
                    continue;
                };
                let key = ObjectKey {
                    group: group.to_string(),
                    kind: kind.clone(),
                    namespace: item.metadata.namespace.clone(),
                    name,
                };
                index.objects.insert(
                    key,
                    IndexedObject {
                        metadata: item.metadata,
                        resolved: resolved.clone(),
                    },
                );
            }
        }
        Ok(index)
    }

    /// Deletes the indexed objects that are not in `keep`, except the kinds never pruned
    /// ([`kinds::KnownKind::prunable`]), exposure and workloads before their configuration.
    pub async fn prune_indexed(
        &self,
        index: &LiveIndex,
        keep: &BTreeSet<ObjectKey>,
    ) -> Result<ApplyReport, ApplyError> {
        let mut report = ApplyReport::default();
        let doomed: Vec<(&ObjectKey, &IndexedObject)> = index
            .prune_candidates(keep)
            .into_iter()
            .filter_map(|key| index.objects.get_key_value(key))
            .collect();
        for (key, object) in doomed {
            let api = self.api(&object.resolved, key.namespace.as_deref());
            let params = DeleteParams {
                propagation_policy: Some(PropagationPolicy::Background),
                ..DeleteParams::default()
            };
            match api.delete(&key.name, &params).await {
                Ok(_) => {
                    tracing::info!(object = %key, "pruned");
                    report.deleted += 1;
                }
                Err(err) if is_status(&err, 404) => {}
                Err(source) => {
                    return Err(ApplyError::Kube {
                        action: "delete",
                        object: key.to_string(),
                        source,
                    });
                }
            }
        }
        Ok(report)
    }

    /// Deletes the children of `owner` (found by label) that are not in `keep`:
    /// [`Applier::index`] then [`Applier::prune_indexed`].
    pub async fn prune(
        &self,
        owner: &OwnerInfo,
        keep: &BTreeSet<ObjectKey>,
        extra: &[(String, String)],
        cluster_scoped_only: bool,
    ) -> Result<ApplyReport, ApplyError> {
        let index = self.index(owner, extra, cluster_scoped_only).await?;
        self.prune_indexed(&index, keep).await
    }
}

/// `(apiVersion, kind)` of each object, deduplicated.
pub fn kinds_of(objects: &[Object]) -> Vec<(String, String)> {
    let mut seen: Vec<(String, String)> = Vec::new();
    for object in objects {
        if let (Some(api_version), Some(kind)) = (
            object.get("apiVersion").and_then(Value::as_str),
            object.get("kind").and_then(Value::as_str),
        ) {
            let pair = (api_version.to_string(), kind.to_string());
            if !seen.contains(&pair) {
                seen.push(pair);
            }
        }
    }
    seen
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn object_key_ignores_version() {
        let a = ObjectKey::of(&json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "a", "namespace": "n"}})).unwrap();
        let b = ObjectKey::of(&json!({"apiVersion": "networking.k8s.io/v1beta1", "kind": "Ingress", "metadata": {"name": "a", "namespace": "n"}})).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "Ingress n/a");
    }

    #[test]
    fn writes_count_mutations_only() {
        let report = ApplyReport {
            applied: 2,
            unchanged: 5,
            recreated: 1,
            pending: 1,
            deleted: 3,
            migrated: 1,
        };
        assert_eq!(report.writes(), 7);
        assert_eq!(ApplyReport::default().writes(), 0);
    }

    #[test]
    fn kinds_are_deduplicated_in_order() {
        let objects = vec![
            json!({"apiVersion": "v1", "kind": "Secret"}),
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet"}),
            json!({"apiVersion": "v1", "kind": "Secret"}),
        ];
        assert_eq!(
            kinds_of(&objects),
            vec![
                ("v1".to_string(), "Secret".to_string()),
                ("apps/v1".into(), "StatefulSet".into())
            ]
        );
    }
}

#[cfg(test)]
mod drift_tests {
    use serde_json::json;

    use super::owns_any;

    #[test]
    fn a_field_the_operator_sets_owned_by_someone_else_is_drift() {
        let desired = json!({
            "metadata": { "labels": { "app": "couchdb" }, "annotations": { "nuvolaris.org/applied-hash": "x" } },
            "spec": { "replicas": 1, "template": { "spec": { "containers": [
                { "name": "couchdb", "image": "apache/couchdb:2.3" }
            ] } } },
        });
        // `kubectl scale` / `kubectl edit` of replicas
        assert!(owns_any(
            &json!({ "f:spec": { "f:replicas": {} } }),
            &desired
        ));
        // a changed image, by list-item key
        let image = json!({ "f:spec": { "f:template": { "f:spec": { "f:containers": {
            "k:{\"name\":\"couchdb\"}": { ".": {}, "f:image": {} }
        } } } } });
        assert!(owns_any(&image, &desired));
        // fields the operator never sets (an extra annotation, another container) are not drift
        assert!(!owns_any(
            &json!({ "f:metadata": { "f:annotations": { "f:note": {} } } }),
            &desired
        ));
        let other = json!({ "f:spec": { "f:template": { "f:spec": { "f:containers": {
            "k:{\"name\":\"sidecar\"}": { ".": {}, "f:image": {} }
        } } } } });
        assert!(!owns_any(&other, &desired));
        assert!(!owns_any(
            &json!({ "f:metadata": { "f:annotations": { "f:nuvolaris.org/applied-hash": {} } } }),
            &desired
        ));
    }
}
