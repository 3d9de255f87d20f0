//! One reconcile of one Whisk. Never blocks on a rollout: it applies what is rendered, looks at
//! readiness once, writes the status if it changed and requeues (soon while something is in
//! progress, every few minutes otherwise as a drift check).
//!
//! [`apply_whisk`] reads as its steps: [`read_inputs`] (cluster facts, generated passwords),
//! render (pure, through `Context::render`), [`Plan::new`] (prepare objects, what to keep),
//! one LIST per kind, [`install`] per component (apply, readiness, failed setup Jobs), [`prune`],
//! then [`report`] (Events, status, when to look again).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{DynamicObject, Patch, PatchParams};
use kube::core::{ApiResource, DeserializeGuard, error_boundary::InvalidObject};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::runtime::finalizer::{self, finalizer};
use kube::{Api, Resource, ResourceExt};
use serde_json::{Value, json};

use super::ops_config::ConfigPlan;
use super::status::{ComponentOutcome, Outcome, Verdict, desired_status, needs_write};
use super::{Context, Error, Whisk, facts, secrets, takeover};
use crate::apply::annotations::{Published, publish_config_map_annotations};
use crate::apply::{
    ApplyReport, ComponentHealth, LiveIndex, MANAGER, ObjectKey, OwnerInfo, kinds_of, prepare,
};
use crate::components::{ComponentRender, RenderError, RenderedComponent};
use crate::config::{ClusterFacts, Config, GENERATED_SECRET_NAME, GeneratedSecrets, OPS_CONFIGMAP};
use crate::crd::{ComponentId, WhiskStatus};

/// Our finalizer: cluster-scoped children (which garbage collection cannot reach through an
/// ownerReference) are deleted before the Whisk goes away.
pub const FINALIZER: &str = "nuvolaris.org/cleanup";
/// The finalizer the Python (kopf) operator put on Whisks; removed on sight, or deleting an
/// existing Whisk would hang forever.
pub const LEGACY_FINALIZER: &str = "kopf.zalando.org/KopfFinalizerMarker";

pub const REQUEUE_PROGRESSING: Duration = Duration::from_secs(10);
pub const REQUEUE_SETTLED: Duration = Duration::from_secs(300);
/// Cleanup gives up (and releases the Whisk) this long after deletion was requested.
pub const CLEANUP_DEADLINE: Duration = Duration::from_secs(60);

fn whisk_resource() -> ApiResource {
    ApiResource::erase::<Whisk>(&())
}

fn key_of(meta: &ObjectMeta) -> String {
    format!(
        "{}/{}",
        meta.namespace.as_deref().unwrap_or(""),
        meta.name.as_deref().unwrap_or("")
    )
}

fn reference_of(meta: &ObjectMeta) -> ObjectReference {
    ObjectReference {
        api_version: Some(Whisk::api_version(&()).into_owned()),
        kind: Some(Whisk::kind(&()).into_owned()),
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        uid: meta.uid.clone(),
        ..ObjectReference::default()
    }
}

fn kube_err(what: &'static str) -> impl FnOnce(kube::Error) -> Error {
    move |source| Error::Kube { what, source }
}

/// Entry point of the controller for one (possibly malformed) Whisk.
pub async fn reconcile(
    guard: Arc<DeserializeGuard<Whisk>>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    let started = Instant::now();
    let key = key_of(guard.meta());
    let result = match &guard.0 {
        Ok(whisk) => reconcile_whisk(whisk, &ctx).await,
        Err(invalid) => reconcile_malformed(invalid, &ctx).await,
    };
    let outcome = match &result {
        Ok(_) => {
            ctx.backoff.reset(&key);
            "ok"
        }
        Err(_) => "error",
    };
    ctx.metrics
        .reconciled(outcome, started.elapsed().as_secs_f64());
    result
}

/// Per-object exponential backoff (1 s doubling to 5 min), reset by the next success.
pub fn error_policy(guard: Arc<DeserializeGuard<Whisk>>, err: &Error, ctx: Arc<Context>) -> Action {
    let key = key_of(guard.meta());
    let delay = ctx.backoff.next_delay(&key);
    ctx.metrics.failed(err.category());
    tracing::warn!(whisk = %key, error = %err, retry_in = ?delay, "reconcile failed");
    Action::requeue(delay)
}

async fn publish(ctx: &Context, meta: &ObjectMeta, type_: EventType, reason: &str, note: String) {
    publish_to(ctx, &reference_of(meta), type_, reason, note).await
}

/// Records an Event about any object (Whisk, WhiskUser, Workflows).
pub(super) async fn publish_to(
    ctx: &Context,
    reference: &ObjectReference,
    type_: EventType,
    reason: &str,
    note: String,
) {
    let event = Event {
        type_,
        reason: reason.into(),
        note: Some(note.chars().take(1000).collect()),
        action: "Reconcile".into(),
        secondary: None,
    };
    // Events are best effort: failing to record one must not fail the reconcile.
    if let Err(err) = ctx.recorder.publish(&event, reference).await {
        tracing::debug!(error = %err, "could not publish event");
    } else {
        ctx.metrics.wrote(1);
    }
}

/// Removes `names` from the finalizers of the Whisk. The merge patch carries the
/// resourceVersion read, so a concurrent change makes it fail (409) instead of losing one.
async fn remove_finalizers(
    ctx: &Context,
    meta: &ObjectMeta,
    names: &[&str],
) -> Result<bool, Error> {
    let Some(patch) = finalizer_removal_patch(meta, names) else {
        return Ok(false);
    };
    let (Some(name), Some(namespace)) = (meta.name.as_deref(), meta.namespace.as_deref()) else {
        return Err(Error::MissingMetadata("name or namespace"));
    };
    let api: Api<DynamicObject> =
        Api::namespaced_with(ctx.client.clone(), namespace, &whisk_resource());
    api.patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .map_err(kube_err("remove finalizer"))?;
    ctx.metrics.wrote(1);
    Ok(true)
}

/// Annotations kopf kept on the objects it handled (diff base, handler progress).
pub const LEGACY_ANNOTATION_PREFIX: &str = "kopf.zalando.org/";

/// The merge patch that removes `names` from the finalizers and, when the kopf finalizer goes,
/// kopf's bookkeeping annotations too; `None` when none of `names` is present.
pub fn finalizer_removal_patch(meta: &ObjectMeta, names: &[&str]) -> Option<Value> {
    let current = meta.finalizers.clone().unwrap_or_default();
    let remaining: Vec<&String> = current
        .iter()
        .filter(|f| !names.contains(&f.as_str()))
        .collect();
    if remaining.len() == current.len() {
        return None;
    }
    let mut patch =
        json!({"metadata": {"finalizers": remaining, "resourceVersion": meta.resource_version}});
    if names.contains(&LEGACY_FINALIZER) {
        let stale: serde_json::Map<String, Value> = meta
            .annotations
            .iter()
            .flatten()
            .filter(|(key, _)| key.starts_with(LEGACY_ANNOTATION_PREFIX))
            .map(|(key, _)| (key.clone(), Value::Null))
            .collect();
        if !stale.is_empty() {
            patch["metadata"]["annotations"] = Value::Object(stale);
        }
    }
    Some(patch)
}

/// The merge patch that puts the Whisk's metadata in order before anything else: kopf's
/// finalizer and bookkeeping annotations removed, our finalizer added (unless it is being
/// deleted); `None` when there is nothing to do. Carries the resourceVersion read, so a
/// concurrent change makes it fail (409) instead of losing one.
pub fn metadata_patch(meta: &ObjectMeta) -> Option<Value> {
    let current = meta.finalizers.clone().unwrap_or_default();
    let mut finalizers: Vec<String> = current
        .iter()
        .filter(|f| f.as_str() != LEGACY_FINALIZER)
        .cloned()
        .collect();
    if meta.deletion_timestamp.is_none() && !finalizers.iter().any(|f| f == FINALIZER) {
        finalizers.push(FINALIZER.to_owned());
    }
    let stale: serde_json::Map<String, Value> = meta
        .annotations
        .iter()
        .flatten()
        .filter(|(key, _)| key.starts_with(LEGACY_ANNOTATION_PREFIX))
        .map(|(key, _)| (key.clone(), Value::Null))
        .collect();
    if finalizers == current && stale.is_empty() {
        return None;
    }
    let mut patch = json!({"metadata": {"resourceVersion": meta.resource_version}});
    if finalizers != current {
        patch["metadata"]["finalizers"] = json!(finalizers);
    }
    if !stale.is_empty() {
        patch["metadata"]["annotations"] = Value::Object(stale);
    }
    Some(patch)
}

/// Moves other managers' ownership of the Whisk's `.status` (kopf's merge patches) to ours
/// (`apply::migrate::take_over_status`), so that the next status apply drops what this operator
/// does not write. Returns the `whisk_create` keys taken over, `None` when there was nothing to
/// take over.
async fn take_over_status(
    ctx: &Context,
    meta: &ObjectMeta,
) -> Result<Option<BTreeSet<String>>, Error> {
    let entries: Vec<Value> = meta
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|entry| serde_json::to_value(entry).ok())
        .collect();
    let api_version = Whisk::api_version(&());
    let Some((managed, taken)) =
        crate::apply::migrate::take_over_status(&entries, MANAGER, &api_version)
    else {
        return Ok(None);
    };
    let (Some(name), Some(namespace)) = (meta.name.as_deref(), meta.namespace.as_deref()) else {
        return Err(Error::MissingMetadata("name or namespace"));
    };
    let api: Api<DynamicObject> =
        Api::namespaced_with(ctx.client.clone(), namespace, &whisk_resource());
    let patch = json!({"metadata": {
        "resourceVersion": meta.resource_version,
        "managedFields": managed,
    }});
    api.patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .map_err(kube_err("take over the status fields of other managers"))?;
    ctx.metrics.wrote(1);
    let keys = taken
        .get("f:whisk_create")
        .and_then(Value::as_object)
        .map(|fields| {
            fields
                .keys()
                .filter_map(|k| k.strip_prefix("f:"))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    tracing::info!(whisk = %key_of(meta), taken = ?keys, "took over status fields written by others");
    Ok(Some(keys))
}

/// Writes `.status` by server-side apply when it would change; returns whether it wrote.
/// Status fields other managers wrote (kopf) are taken over first and, unless this operator
/// writes them too, dropped.
async fn write_status(
    ctx: &Context,
    meta: &ObjectMeta,
    previous: &WhiskStatus,
    verdict: &Verdict,
) -> Result<bool, Error> {
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let taken = take_over_status(ctx, meta).await?;
    let mut previous = previous.clone();
    if let (Some(keys), Some(whisk_create)) = (&taken, previous.whisk_create.as_mut()) {
        // what others wrote is not carried over
        whisk_create.extra.retain(|key, _| !keys.contains(key));
    }
    let desired = desired_status(verdict, &previous, meta.generation, &now);
    if taken.is_none() && !needs_write(&previous, &desired) {
        return Ok(false);
    }
    let (Some(name), Some(namespace)) = (meta.name.as_deref(), meta.namespace.as_deref()) else {
        return Err(Error::MissingMetadata("name or namespace"));
    };
    let api: Api<DynamicObject> =
        Api::namespaced_with(ctx.client.clone(), namespace, &whisk_resource());
    let body = json!({
        "apiVersion": Whisk::api_version(&()),
        "kind": Whisk::kind(&()),
        "status": desired,
    });
    api.patch_status(
        name,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(body),
    )
    .await
    .map_err(kube_err("write status"))?;
    ctx.metrics.wrote(1);
    Ok(true)
}

async fn reconcile_whisk(whisk: &Whisk, ctx: &Arc<Context>) -> Result<Action, Error> {
    let namespace = whisk
        .namespace()
        .ok_or(Error::MissingMetadata("namespace"))?;
    if let Some(patch) = metadata_patch(whisk.meta()) {
        // One write: kopf's finalizer and annotations out, ours in, under our field manager
        // (kube-runtime's finalizer helper would add it without one).
        let api: Api<Whisk> = Api::namespaced(ctx.client.clone(), &namespace);
        api.patch(
            &whisk.name_any(),
            &PatchParams {
                field_manager: Some(MANAGER.into()),
                ..PatchParams::default()
            },
            &Patch::Merge(patch),
        )
        .await
        .map_err(kube_err("set the finalizer"))?;
        ctx.metrics.wrote(1);
        tracing::info!(whisk = %key_of(whisk.meta()), "finalizer set (kopf's bookkeeping removed)");
        // The object changed: the watch brings the new version.
        return Ok(Action::await_change());
    }
    let api: Api<Whisk> = Api::namespaced(ctx.client.clone(), &namespace);
    let ctx = ctx.clone();
    finalizer(
        &api,
        FINALIZER,
        Arc::new(whisk.clone()),
        |event| async move {
            match event {
                finalizer::Event::Apply(whisk) => apply_whisk(&whisk, &ctx).await,
                finalizer::Event::Cleanup(whisk) => cleanup(whisk.meta(), &ctx).await,
            }
        },
    )
    .await
    .map_err(|err| Error::Finalizer(Box::new(err)))
}

/// A Whisk that does not match the schema this operator knows: report it, touch nothing.
async fn reconcile_malformed(invalid: &InvalidObject, ctx: &Context) -> Result<Action, Error> {
    let meta = &invalid.metadata;
    if meta.deletion_timestamp.is_some() {
        // It must still be deletable: clean up by label and let it go.
        cleanup(meta, ctx).await?;
        remove_finalizers(ctx, meta, &[FINALIZER, LEGACY_FINALIZER]).await?;
        return Ok(Action::await_change());
    }
    let (Some(name), Some(namespace)) = (meta.name.as_deref(), meta.namespace.as_deref()) else {
        return Err(Error::MissingMetadata("name or namespace"));
    };
    let api: Api<DynamicObject> =
        Api::namespaced_with(ctx.client.clone(), namespace, &whisk_resource());
    // Lenient: a status this version cannot read is treated as empty, never as an error.
    let previous: WhiskStatus = api
        .get_opt(name)
        .await
        .map_err(kube_err("read whisk"))?
        .and_then(|o| o.data.get("status").cloned())
        .and_then(|status| serde_json::from_value(status).ok())
        .unwrap_or_default();
    let message = format!("the Whisk does not match the schema: {}", invalid.error);
    tracing::warn!(whisk = %key_of(meta), %message, "malformed Whisk: nothing applied");
    if write_status(ctx, meta, &previous, &Verdict::Invalid(message.clone())).await? {
        publish(ctx, meta, EventType::Warning, "InvalidSpec", message).await;
    }
    Ok(Action::await_change())
}

fn owner_of(whisk: &Whisk) -> Result<OwnerInfo, Error> {
    Ok(OwnerInfo {
        api_version: Whisk::api_version(&()).into_owned(),
        kind: Whisk::kind(&()).into_owned(),
        name: whisk
            .meta()
            .name
            .clone()
            .ok_or(Error::MissingMetadata("name"))?,
        uid: whisk
            .meta()
            .uid
            .clone()
            .ok_or(Error::MissingMetadata("uid"))?,
        namespace: whisk
            .namespace()
            .ok_or(Error::MissingMetadata("namespace"))?,
    })
}

/// The render failed: say why (the user's spec, or the operator's defect), touch nothing.
async fn reject(
    ctx: &Context,
    whisk: &Whisk,
    previous: &WhiskStatus,
    err: RenderError,
) -> Result<Action, Error> {
    let (verdict, reason) = if err.is_invalid_input() {
        tracing::warn!(whisk = %key_of(whisk.meta()), error = %err, "invalid spec: nothing applied");
        (Verdict::Invalid(err.to_string()), "InvalidSpec")
    } else {
        tracing::error!(whisk = %key_of(whisk.meta()), error = ?err, "operator error while rendering: nothing applied");
        (Verdict::Defect(err.to_string()), "OperatorError")
    };
    let message = match &verdict {
        Verdict::Invalid(m) | Verdict::Defect(m) => m.clone(),
        Verdict::Components(_) => String::new(),
    };
    if write_status(ctx, whisk.meta(), previous, &verdict).await? {
        publish(ctx, whisk.meta(), EventType::Warning, reason, message).await;
    }
    Ok(Action::requeue(REQUEUE_SETTLED))
}

/// The pipeline: facts → generated secrets → config → render → (hold of in-memory workloads) →
/// apply + readiness per component → prune → leftovers → status.
pub async fn apply_whisk(whisk: &Whisk, ctx: &Context) -> Result<Action, Error> {
    let owner = owner_of(whisk)?;
    let previous = whisk.status.clone().unwrap_or_default();
    let (facts, generated) = read_inputs(whisk, &owner, ctx).await?;
    let renders = match (ctx.render)(whisk, &facts, &generated) {
        Ok(renders) => renders,
        Err(err) => return reject(ctx, whisk, &previous, err).await,
    };
    let mut plan = Plan::new(renders, &owner, facts.operator_image.as_deref());
    let index = ctx.applier.index(&owner, &plan.kinds, false).await?;
    let held = takeover::hold_in_memory(&ctx.applier, whisk.meta(), &mut plan, &index).await?;
    takeover::keep_live_claims(&ctx.applier, &mut plan, &index).await?;
    if let Some(note) = takeover::held_note(&held) {
        tracing::warn!(whisk = %key_of(whisk.meta()), "{note}");
        publish(ctx, whisk.meta(), EventType::Warning, "RestartHeld", note).await;
    }
    let keep = plan.keep(&index);
    let mut run = Run::default();
    let mut outcomes = Vec::new();
    for render in plan.renders {
        let id = render.id();
        let outcome = match render {
            ComponentRender::Disabled(_) => Outcome::Disabled,
            ComponentRender::NotImplemented(_) => Outcome::NotImplemented,
            ComponentRender::Unsupported { reason, .. } => Outcome::Unsupported(reason),
            ComponentRender::Rendered(component) => {
                match unmet_dependency(&component.dependencies, &outcomes) {
                    Some(waiting) => waiting,
                    None => install(ctx, component, &index, &mut run).await,
                }
            }
        };
        outcomes.push(ComponentOutcome { id, outcome });
    }
    publish_config(ctx, &owner, &plan.config, &mut outcomes, &mut run).await;
    prune(ctx, &index, &keep, &mut run).await;
    match takeover::remove_leftovers(&ctx.client, &owner.namespace, &owner.uid, &outcomes, &held)
        .await
    {
        Ok(deleted) => run.total.deleted += deleted,
        Err(err) => {
            tracing::warn!(error = ?err, "cannot remove the leftovers of the previous installation");
            run.errors.push(format!("leftovers: {err}"));
        }
    }
    match takeover::release_claims(&ctx.client, &owner.namespace, &owner.uid).await {
        Ok(released) => run.total.migrated += released,
        Err(err) => {
            tracing::warn!(error = ?err, "cannot release the claims of the previous installation");
            run.errors.push(format!("claims: {err}"));
        }
    }
    report(ctx, whisk, &previous, Verdict::Components(outcomes), run).await
}

/// What the render step needs from the cluster: its facts and the generated passwords, resolved
/// in two steps: the keys the configuration needs that the Secret lacks, then those adopted
/// from the live installation or generated (`secrets::ensure`).
async fn read_inputs(
    whisk: &Whisk,
    owner: &OwnerInfo,
    ctx: &Context,
) -> Result<(ClusterFacts, GeneratedSecrets), Error> {
    let ingresslb = whisk
        .spec
        .nuvolaris
        .as_ref()
        .and_then(|n| n.ingresslb.as_deref())
        .filter(|v| *v != "auto");
    let facts = facts::read(&ctx.client, &owner.namespace, ingresslb).await?;
    let existing = secrets::read(&ctx.client, &owner.namespace).await?;
    let current = GeneratedSecrets(existing.clone().unwrap_or_default());
    let missing = match Config::missing_generated(whisk, &facts, &current) {
        Ok(missing) => missing,
        // Nothing is generated for a spec the render rejects: stand-ins let it say why.
        Err(_) => {
            let mut filled = current;
            for key in crate::components::generated_secret_keys() {
                filled
                    .0
                    .entry(key.name.to_owned())
                    .or_insert_with(|| key.placeholder());
            }
            return Ok((facts, filled));
        }
    };
    let (generated, ensured) =
        secrets::ensure(&ctx.client, owner, existing.as_ref(), &missing).await?;
    if ensured.wrote() {
        ctx.metrics.wrote(1);
    }
    let adopted = ensured.adopted();
    if !adopted.is_empty() {
        let note = format!(
            "kept the credentials of the live installation in {GENERATED_SECRET_NAME}: {}",
            adopted.join(", ")
        );
        publish(
            ctx,
            whisk.meta(),
            EventType::Normal,
            "CredentialsAdopted",
            note,
        )
        .await;
    }
    Ok((facts, generated))
}

/// The rendered installation, prepared for apply (pure): the objects with the operator's
/// labels and owner, and the kinds to look at, so one LIST per kind serves apply and prune.
pub(crate) struct Plan {
    renders: Vec<ComponentRender>,
    /// What prune must leave: every rendered object and the generated Secret.
    rendered: BTreeSet<ObjectKey>,
    /// Components enabled but not rendered (not implemented, or unsupported as configured):
    /// their live objects are kept, so a configuration this version cannot install never
    /// tears down what runs.
    kept_components: Vec<&'static str>,
    /// The kinds to list: every kind rendered.
    pub(crate) kinds: Vec<(String, String)>,
    /// What the installation publishes on `cm/config`.
    config: ConfigPlan,
}

impl Plan {
    /// `operator_image`: the image the operator runs as, when known (its version is published).
    pub(crate) fn new(
        renders: Vec<ComponentRender>,
        owner: &OwnerInfo,
        operator_image: Option<&str>,
    ) -> Plan {
        let mut rendered = BTreeSet::from([ObjectKey {
            group: String::new(),
            kind: "Secret".into(),
            namespace: Some(owner.namespace.clone()),
            name: GENERATED_SECRET_NAME.into(),
        }]);
        let mut kinds = Vec::new();
        let mut kept_components = Vec::new();
        let config = ConfigPlan::new(&renders, operator_image);
        let renders = renders
            .into_iter()
            .map(|render| match render {
                ComponentRender::Rendered(mut component) => {
                    component.objects = prepare(component.objects, owner, component.id.key());
                    rendered.extend(component.objects.iter().filter_map(ObjectKey::of));
                    kinds.extend(kinds_of(&component.objects));
                    ComponentRender::Rendered(component)
                }
                other => {
                    if !matches!(other, ComponentRender::Disabled(_)) {
                        kept_components.push(other.id().key());
                    }
                    other
                }
            })
            .collect();
        Plan {
            renders,
            rendered,
            kept_components,
            kinds,
            config,
        }
    }

    /// The rendered components, for the steps that adjust their prepared objects (the hold of
    /// in-memory workloads, `controller::takeover`).
    pub(crate) fn rendered_mut(&mut self) -> impl Iterator<Item = &mut RenderedComponent> {
        self.renders.iter_mut().filter_map(|render| match render {
            ComponentRender::Rendered(component) => Some(component),
            _ => None,
        })
    }

    /// Every prepared object, in installation order.
    pub(crate) fn objects(&self) -> impl Iterator<Item = &crate::apply::Object> {
        self.renders.iter().flat_map(|render| match render {
            ComponentRender::Rendered(component) => component.objects.as_slice(),
            _ => &[],
        })
    }

    /// The objects prune must leave alone.
    pub(crate) fn keep(&self, index: &LiveIndex) -> BTreeSet<ObjectKey> {
        let mut keep = self.rendered.clone();
        for component in &self.kept_components {
            keep.extend(index.component_keys(component).cloned());
        }
        keep
    }
}

/// Why a component cannot be installed yet: a dependency that is not ready in this reconcile
/// (its objects stay as they are, neither applied nor pruned), or one that is not enabled.
/// `None` when every dependency is ready.
pub(crate) fn unmet_dependency(
    dependencies: &[ComponentId],
    outcomes: &[ComponentOutcome],
) -> Option<Outcome> {
    for dependency in dependencies {
        let key = dependency.key();
        let outcome = outcomes
            .iter()
            .find(|o| o.id == *dependency)
            .map(|o| &o.outcome);
        match outcome {
            Some(Outcome::Ready) => {}
            Some(Outcome::Disabled) => {
                return Some(Outcome::Failed(format!(
                    "needs {key}, which is disabled: enable components.{key}"
                )));
            }
            Some(Outcome::Failed(_)) => {
                return Some(Outcome::Progressing(format!(
                    "waiting for {key}, which failed"
                )));
            }
            Some(Outcome::NotImplemented | Outcome::Unsupported(_)) => {
                return Some(Outcome::Progressing(format!(
                    "waiting for {key}, which this version cannot install"
                )));
            }
            Some(Outcome::Progressing(_)) | None => {
                return Some(Outcome::Progressing(format!("waiting for {key}")));
            }
        }
    }
    None
}

/// What one reconcile did, across components.
#[derive(Default)]
struct Run {
    total: ApplyReport,
    /// Components that had something written.
    changed: Vec<&'static str>,
    errors: Vec<String>,
    /// When a failed setup Job is due for another run.
    retry_in: Option<Duration>,
}

/// Applies one component's objects, then judges its readiness and re-runs failed setup Jobs
/// that are due.
async fn install(
    ctx: &Context,
    component: RenderedComponent,
    index: &LiveIndex,
    run: &mut Run,
) -> Outcome {
    let started = Instant::now();
    let key = component.id.key();
    let outcome = match ctx
        .applier
        .apply_all_with(&component.objects, Some(index))
        .await
    {
        Err(err) => {
            tracing::warn!(component = key, error = ?err, "apply failed");
            run.errors.push(format!("{key}: {err}"));
            Outcome::Failed(err.to_string())
        }
        Ok(report) => {
            if report.writes() > 0 {
                run.changed.push(key);
            }
            run.total.add(&report);
            if report.pending > 0 {
                Outcome::Progressing("waiting for replaced objects to be deleted".into())
            } else {
                readiness(ctx, &component, run).await
            }
        }
    };
    ctx.metrics
        .component_done(key, started.elapsed().as_secs_f64());
    outcome
}

async fn readiness(ctx: &Context, component: &RenderedComponent, run: &mut Run) -> Outcome {
    let key = component.id.key();
    let evaluation = match crate::apply::evaluate(&ctx.client, &component.objects).await {
        Ok(evaluation) => evaluation,
        Err(err) => {
            tracing::warn!(component = key, error = ?err, "readiness unknown");
            run.errors.push(format!("{key}: {err}"));
            return Outcome::Progressing(format!("readiness unknown: {err}"));
        }
    };
    match ctx.applier.retry_failed_jobs(&evaluation.failed_jobs).await {
        Ok((retried, wait)) => {
            run.total.add(&retried);
            let due = wait.or((retried.recreated > 0).then_some(REQUEUE_PROGRESSING));
            if let Some(due) = due {
                run.retry_in = Some(run.retry_in.map_or(due, |r| r.min(due)));
            }
        }
        Err(err) => {
            tracing::warn!(component = key, error = ?err, "cannot re-run a failed setup Job");
            run.errors.push(format!("{key}: {err}"));
        }
    }
    match evaluation.health {
        ComponentHealth::Ready => Outcome::Ready,
        ComponentHealth::Progressing(m) => Outcome::Progressing(m),
        ComponentHealth::Failed(m) => Outcome::Failed(m),
    }
}

/// Publishes the installation's annotations on the `ops` CLI's `cm/config`, those that depend
/// on an outcome by this reconcile's outcomes; a failure fails the components that publish
/// there.
async fn publish_config(
    ctx: &Context,
    owner: &OwnerInfo,
    config: &ConfigPlan,
    outcomes: &mut [ComponentOutcome],
    run: &mut Run,
) {
    let resolved = config.resolve(outcomes);
    match publish_config_map_annotations(
        &ctx.client,
        &owner.namespace,
        OPS_CONFIGMAP,
        &resolved.values,
        &resolved.sticky,
    )
    .await
    {
        Ok(Published::Unchanged) => {}
        Ok(Published::Written) => {
            ctx.metrics.wrote(1);
            run.total.applied += 1;
        }
        Err(err) => {
            tracing::warn!(error = ?err, "cannot publish the cm/config annotations");
            let publishers = &resolved.publishers;
            for outcome in outcomes.iter_mut().filter(|o| publishers.contains(&o.id)) {
                outcome.outcome = Outcome::Failed(format!("cm/config: {err}"));
            }
            run.errors.push(format!("cm/config: {err}"));
        }
    }
}

/// Deletes the labelled children the render no longer contains. Runs even when a component
/// failed: what to keep comes from the render, not from the apply.
async fn prune(ctx: &Context, index: &LiveIndex, keep: &BTreeSet<ObjectKey>, run: &mut Run) {
    match ctx.applier.prune_indexed(index, keep).await {
        Ok(report) => run.total.add(&report),
        Err(err) => {
            tracing::warn!(error = ?err, "prune failed");
            run.errors.push(format!("prune: {err}"));
        }
    }
}

/// Events and status for what the reconcile did, and when to look again.
async fn report(
    ctx: &Context,
    whisk: &Whisk,
    previous: &WhiskStatus,
    verdict: Verdict,
    run: Run,
) -> Result<Action, Error> {
    ctx.metrics.wrote(run.total.writes());
    if run.total.writes() > 0 {
        let changed = if run.changed.is_empty() {
            "none".to_string()
        } else {
            run.changed.join(", ")
        };
        let note = format!(
            "applied {} objects, deleted {} (components changed: {changed})",
            run.total.applied + run.total.recreated,
            run.total.deleted,
        );
        publish(ctx, whisk.meta(), EventType::Normal, "Applied", note).await;
    }

    let summary = verdict.summary();
    if write_status(ctx, whisk.meta(), previous, &verdict).await? {
        if !summary.failed.is_empty() {
            let note = summary.failed.join("; ");
            publish(
                ctx,
                whisk.meta(),
                EventType::Warning,
                "ComponentFailed",
                note,
            )
            .await;
        } else if summary.ready {
            let note = "every enabled component is ready".into();
            publish(ctx, whisk.meta(), EventType::Normal, "Ready", note).await;
        }
    }
    if !run.errors.is_empty() {
        let message = run.errors.join("; ");
        publish(
            ctx,
            whisk.meta(),
            EventType::Warning,
            "ApplyFailed",
            message.clone(),
        )
        .await;
        return Err(Error::Components(message));
    }
    if !summary.waiting.is_empty() || run.total.pending > 0 {
        Ok(Action::requeue(REQUEUE_PROGRESSING))
    } else if let Some(retry_in) = run.retry_in {
        Ok(Action::requeue(retry_in.min(REQUEUE_SETTLED)))
    } else {
        Ok(Action::requeue(REQUEUE_SETTLED))
    }
}

/// Deletes the cluster-scoped children (namespaced ones go with the Whisk through their
/// ownerReference; PVCs stay, see `apply`). Bounded: once [`CLEANUP_DEADLINE`] has passed since
/// the deletion request, failures are logged and the Whisk is released anyway.
pub async fn cleanup(meta: &ObjectMeta, ctx: &Context) -> Result<Action, Error> {
    let (Some(name), Some(namespace)) = (meta.name.as_deref(), meta.namespace.as_deref()) else {
        return Err(Error::MissingMetadata("name or namespace"));
    };
    let waited = meta
        .deletion_timestamp
        .as_ref()
        .map(|t| {
            let now = k8s_openapi::jiff::Timestamp::now();
            (now.as_second() - t.0.as_second()).max(0) as u64
        })
        .unwrap_or(0);
    let remaining = CLEANUP_DEADLINE.saturating_sub(Duration::from_secs(waited));
    let owner = OwnerInfo {
        api_version: Whisk::api_version(&()).into_owned(),
        kind: Whisk::kind(&()).into_owned(),
        name: name.to_owned(),
        uid: meta.uid.clone().unwrap_or_default(),
        namespace: namespace.to_owned(),
    };
    let keep_nothing = BTreeSet::new();
    let prune = ctx.applier.prune(&owner, &keep_nothing, &[], true);
    let result = match tokio::time::timeout(remaining.max(Duration::from_secs(1)), prune).await {
        Ok(Ok(report)) => {
            ctx.metrics.wrote(report.writes());
            tracing::info!(whisk = %key_of(meta), deleted = report.deleted, "cleanup done");
            Ok(Action::await_change())
        }
        Ok(Err(err)) => Err(Error::Apply(err)),
        Err(_) => Err(Error::Components("cleanup timed out".into())),
    };
    match result {
        Err(err) if waited >= CLEANUP_DEADLINE.as_secs() => {
            tracing::warn!(whisk = %key_of(meta), error = %err, "cleanup incomplete after the deadline: releasing the Whisk");
            publish(
                ctx,
                meta,
                EventType::Warning,
                "CleanupIncomplete",
                err.to_string(),
            )
            .await;
            Ok(Action::await_change())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kopf_finalizer_and_annotations_are_removed_together() {
        let meta = ObjectMeta {
            finalizers: Some(vec![LEGACY_FINALIZER.into(), "other/keep".into()]),
            annotations: Some(
                [
                    (
                        "kopf.zalando.org/last-handled-configuration".to_string(),
                        "{}".to_string(),
                    ),
                    (
                        "kopf.zalando.org/whisk_create".to_string(),
                        "{}".to_string(),
                    ),
                    ("user/keep".to_string(), "x".to_string()),
                ]
                .into(),
            ),
            resource_version: Some("42".into()),
            ..ObjectMeta::default()
        };
        let patch = finalizer_removal_patch(&meta, &[LEGACY_FINALIZER]).unwrap();
        assert_eq!(patch["metadata"]["finalizers"], json!(["other/keep"]));
        assert_eq!(patch["metadata"]["resourceVersion"], "42");
        let annotations = patch["metadata"]["annotations"].as_object().unwrap();
        assert_eq!(annotations.len(), 2);
        assert!(annotations.values().all(Value::is_null));
        assert!(!annotations.contains_key("user/keep"));
    }

    #[test]
    fn a_component_waits_for_its_dependencies() {
        let outcome = |id, outcome| ComponentOutcome { id, outcome };
        let deps = [ComponentId::Etcd, ComponentId::Minio];
        assert_eq!(unmet_dependency(&[], &[]), None);
        let ready = [
            outcome(ComponentId::Minio, Outcome::Ready),
            outcome(ComponentId::Etcd, Outcome::Ready),
        ];
        assert_eq!(unmet_dependency(&deps, &ready), None);
        let progressing = [
            outcome(ComponentId::Minio, Outcome::Ready),
            outcome(ComponentId::Etcd, Outcome::Progressing("0/1 ready".into())),
        ];
        assert_eq!(
            unmet_dependency(&deps, &progressing),
            Some(Outcome::Progressing("waiting for etcd".into()))
        );
        let disabled = [
            outcome(ComponentId::Minio, Outcome::Ready),
            outcome(ComponentId::Etcd, Outcome::Disabled),
        ];
        assert!(matches!(
            unmet_dependency(&deps, &disabled),
            Some(Outcome::Failed(m)) if m.contains("components.etcd")
        ));
        let unknown = [outcome(ComponentId::Etcd, Outcome::Ready)];
        assert_eq!(
            unmet_dependency(&deps, &unknown),
            Some(Outcome::Progressing("waiting for minio".into())),
            "a dependency not installed before is not ready"
        );
    }

    #[test]
    fn the_metadata_of_a_kopf_whisk_is_put_in_order_in_one_patch() {
        let meta = ObjectMeta {
            finalizers: Some(vec![LEGACY_FINALIZER.into(), "other/keep".into()]),
            annotations: Some(
                [
                    (
                        "kopf.zalando.org/last-handled-configuration".to_string(),
                        "{}".to_string(),
                    ),
                    ("user/keep".to_string(), "x".to_string()),
                ]
                .into(),
            ),
            resource_version: Some("7".into()),
            ..ObjectMeta::default()
        };
        let patch = metadata_patch(&meta).expect("a patch");
        assert_eq!(
            patch["metadata"]["finalizers"],
            json!(["other/keep", FINALIZER])
        );
        assert_eq!(
            patch["metadata"]["annotations"],
            json!({"kopf.zalando.org/last-handled-configuration": null})
        );
        assert_eq!(patch["metadata"]["resourceVersion"], "7");
        // in order: nothing to do
        let done = ObjectMeta {
            finalizers: Some(vec![FINALIZER.into()]),
            ..ObjectMeta::default()
        };
        assert_eq!(metadata_patch(&done), None);
        // a Whisk being deleted does not get our finalizer back
        let deleting = ObjectMeta {
            finalizers: Some(vec![LEGACY_FINALIZER.into()]),
            deletion_timestamp: Some(Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH)),
            ..ObjectMeta::default()
        };
        assert_eq!(
            metadata_patch(&deleting).expect("a patch")["metadata"]["finalizers"],
            json!([])
        );
        // kopf's annotations go even without its finalizer
        let annotated = ObjectMeta {
            finalizers: Some(vec![FINALIZER.into()]),
            annotations: Some(
                [(
                    "kopf.zalando.org/whisk_create".to_string(),
                    "{}".to_string(),
                )]
                .into(),
            ),
            ..ObjectMeta::default()
        };
        let patch = metadata_patch(&annotated).expect("a patch");
        assert!(patch["metadata"].get("finalizers").is_none());
    }

    #[test]
    fn nothing_to_remove_means_no_patch() {
        let meta = ObjectMeta {
            finalizers: Some(vec![FINALIZER.into()]),
            ..ObjectMeta::default()
        };
        assert_eq!(finalizer_removal_patch(&meta, &[LEGACY_FINALIZER]), None);
        assert!(finalizer_removal_patch(&meta, &[FINALIZER, LEGACY_FINALIZER]).is_some());
    }
}
