//! The WhiskUser controller: level-triggered like the Whisk one, and built on the same shared
//! machinery — [`crate::users::render_user`] (pure) renders the user's routes and its setup Job,
//! `apply` prepares, applies (no-op when unchanged), prunes and judges readiness with the user
//! as owner (label `nuvolaris.org/whiskuser`), the status is written by server-side apply only
//! when it changes, Events accompany changes and errors.
//!
//! Where the data-plane work runs: in the Job `<name>-user-setup`, a Job of the operator's own
//! image (`nuvolaris-operator setup user`), as for the Whisk's setup steps. Why: the operator
//! may run outside the cluster (`cargo run -- run`, `dev.sh`), where the stores' Service names
//! do not resolve; the reconcile never blocks on a slow store (it looks at the Job once and
//! requeues); a failed Job is re-run by the shared retry; its Secret holds the credentials, so
//! they never appear in the Job spec, in logs, Events or status.
//!
//! Waiting: a user whose namespace has no Whisk yet, or whose Whisk has not set up CouchDB and
//! the stores the user wants (Redis, the object store, Postgres, FerretDB, Milvus), is reported `Ready=False` with reason `WaitingForWhisk` and
//! looked at again when a Whisk changes (watched) or after [`REQUEUE_WAITING`].
//!
//! Delete (finalizer `nuvolaris.org/cleanup`): the setup Job is removed, the Job
//! `<name>-user-delete` removes the subject, the ACL user and the metadata document, and the
//! user is released when it completes — or, bounded, when it failed or [`DELETE_DEADLINE`]
//! has passed since the deletion request (a Warning Event says what may be left). The CLI's
//! uninstall waits 60 s before stripping finalizers; this stays well under. Routes and Jobs go
//! with the user through their ownerReference.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PropagationPolicy};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, Resource, ResourceExt};
use serde_json::{Value, json};

use super::reconcile::{FINALIZER, finalizer_removal_patch, publish_to};
use super::status::{CONDITION_DEGRADED, CONDITION_PROGRESSING, CONDITION_READY, condition};
use super::{Context, Error, facts};
use crate::apply::{ComponentHealth, MANAGER, ObjectKey, OwnerInfo, kinds_of, prepare};
use crate::config::{Config, GeneratedSecrets};
use crate::crd::{
    ComponentId, ComponentState, Whisk, WhiskCreateStatus, WhiskUser, WhiskUserStatus,
};
use crate::setup::UserAction;
use crate::users::{STATUS_KEYS, StoreState, USER_COMPONENT, UserError, render_user};

/// Requeue while the setup Job runs (its completion also wakes the user through the Job watch).
pub const REQUEUE_PROGRESSING: Duration = Duration::from_secs(10);
/// Requeue while waiting for the Whisk (a Whisk change also wakes the user).
pub const REQUEUE_WAITING: Duration = Duration::from_secs(30);
/// Drift check of a settled user.
pub const REQUEUE_SETTLED: Duration = Duration::from_secs(300);
/// A deleted user is released at the latest this long after the deletion request.
pub const DELETE_DEADLINE: Duration = Duration::from_secs(45);
/// How often a pending delete looks at its Job.
const DELETE_POLL: Duration = Duration::from_secs(2);

fn kube_err(what: &'static str) -> impl FnOnce(kube::Error) -> Error {
    move |source| Error::Kube { what, source }
}

fn key_of(user: &WhiskUser) -> String {
    format!(
        "{}/{}",
        user.namespace().unwrap_or_default(),
        user.name_any()
    )
}

fn reference(user: &WhiskUser) -> ObjectReference {
    user.object_ref(&())
}

fn owner_of(user: &WhiskUser) -> Result<OwnerInfo, Error> {
    Ok(OwnerInfo {
        api_version: WhiskUser::api_version(&()).into_owned(),
        kind: WhiskUser::kind(&()).into_owned(),
        name: user
            .metadata
            .name
            .clone()
            .ok_or(Error::MissingMetadata("name"))?,
        uid: user
            .metadata
            .uid
            .clone()
            .ok_or(Error::MissingMetadata("uid"))?,
        namespace: user
            .namespace()
            .ok_or(Error::MissingMetadata("namespace"))?,
    })
}

/// Entry point of the controller for one WhiskUser.
pub async fn reconcile(user: Arc<WhiskUser>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = Instant::now();
    let result = reconcile_user(&user, &ctx).await;
    match &result {
        Ok(_) => ctx.backoff.reset(&format!("wsku:{}", key_of(&user))),
        Err(err) => tracing::debug!(user = %key_of(&user), error = %err, "user reconcile failed"),
    }
    ctx.metrics.reconciled(
        if result.is_ok() { "ok" } else { "error" },
        started.elapsed().as_secs_f64(),
    );
    result
}

/// Per-user exponential backoff, as for Whisks.
pub fn error_policy(user: Arc<WhiskUser>, err: &Error, ctx: Arc<Context>) -> Action {
    let delay = ctx.backoff.next_delay(&format!("wsku:{}", key_of(&user)));
    ctx.metrics.failed(err.category());
    tracing::warn!(user = %key_of(&user), error = %err, retry_in = ?delay, "user reconcile failed");
    Action::requeue(delay)
}

async fn reconcile_user(user: &WhiskUser, ctx: &Context) -> Result<Action, Error> {
    let has_finalizer = user.finalizers().iter().any(|f| f == FINALIZER);
    if user.metadata.deletion_timestamp.is_some() {
        if !has_finalizer {
            return Ok(Action::await_change());
        }
        return match cleanup(user, ctx).await? {
            Some(action) => Ok(action),
            None => {
                remove_finalizer(user, ctx).await?;
                Ok(Action::await_change())
            }
        };
    }
    if !has_finalizer {
        add_finalizer(user, ctx).await?;
        // the watch brings the new version
        return Ok(Action::await_change());
    }
    apply_user(user, ctx).await
}

async fn add_finalizer(user: &WhiskUser, ctx: &Context) -> Result<(), Error> {
    let mut finalizers = user.finalizers().to_vec();
    finalizers.push(FINALIZER.to_owned());
    let patch = json!({"metadata": {
        "finalizers": finalizers,
        "resourceVersion": user.resource_version(),
    }});
    users_api(user, ctx)?
        .patch(
            &user.name_any(),
            &PatchParams::default(),
            &Patch::Merge(patch),
        )
        .await
        .map_err(kube_err("add finalizer"))?;
    ctx.metrics.wrote(1);
    Ok(())
}

async fn remove_finalizer(user: &WhiskUser, ctx: &Context) -> Result<(), Error> {
    if let Some(patch) = finalizer_removal_patch(&user.metadata, &[FINALIZER]) {
        users_api(user, ctx)?
            .patch(
                &user.name_any(),
                &PatchParams::default(),
                &Patch::Merge(patch),
            )
            .await
            .map_err(kube_err("remove finalizer"))?;
        ctx.metrics.wrote(1);
    }
    Ok(())
}

fn users_api(user: &WhiskUser, ctx: &Context) -> Result<Api<WhiskUser>, Error> {
    let namespace = user
        .namespace()
        .ok_or(Error::MissingMetadata("namespace"))?;
    Ok(Api::namespaced(ctx.client.clone(), &namespace))
}

/// Why a user cannot be set up yet, or the installation it belongs to.
enum Installation {
    Waiting(String),
    Ready(Box<Config>),
}

/// The user's installation: the Whisk of its namespace (the one named `controller` when there
/// are several, as the `ops` CLI names it), its configuration, and whether the components the
/// user needs are set up.
async fn installation(user: &WhiskUser, ctx: &Context) -> Result<Installation, Error> {
    let namespace = user
        .namespace()
        .ok_or(Error::MissingMetadata("namespace"))?;
    let (whisk, cfg) = match whisk_config(ctx, &namespace).await? {
        Ok(found) => found,
        Err(why) => return Ok(Installation::Waiting(why)),
    };
    let status = whisk
        .status
        .as_ref()
        .and_then(|s| s.whisk_create.clone())
        .unwrap_or_else(WhiskCreateStatus::default);
    let mut needed = vec![ComponentId::Couchdb];
    let spec = &user.spec;
    let storage = spec.object_storage.as_ref().is_some_and(|s| {
        s.data.as_ref().is_some_and(|b| b.enabled) || s.route.as_ref().is_some_and(|b| b.enabled)
    });
    // the stores the user wants, as the installation provides them
    for (component, wanted) in [
        (
            ComponentId::Redis,
            spec.redis.as_ref().is_some_and(|r| r.enabled),
        ),
        (ComponentId::Minio, storage),
        (ComponentId::Seaweedfs, storage),
        (
            ComponentId::Postgres,
            spec.postgres.as_ref().is_some_and(|d| d.enabled),
        ),
        (
            ComponentId::Mongodb,
            spec.mongodb.as_ref().is_some_and(|d| d.enabled),
        ),
        (
            ComponentId::Milvus,
            spec.milvus.as_ref().is_some_and(|d| d.enabled),
        ),
    ] {
        if wanted && cfg.enabled(component) {
            needed.push(component);
        }
    }
    let pending: Vec<&str> = needed
        .iter()
        .filter(|c| status.get(**c) != Some(ComponentState::On))
        .map(|c| c.key())
        .collect();
    if !pending.is_empty() {
        return Ok(Installation::Waiting(format!(
            "the Whisk {} has not set up {} yet",
            whisk.name_any(),
            pending.join(", ")
        )));
    }
    Ok(Installation::Ready(cfg))
}

/// The Whisk of `namespace` (the one named `controller` when there are several, as the `ops`
/// CLI names it) and its configuration, or why there is none yet. Shared by the WhiskUser and
/// Workflows controllers.
pub(super) async fn whisk_config(
    ctx: &Context,
    namespace: &str,
) -> Result<Result<(Whisk, Box<Config>), String>, Error> {
    let whisks: Api<Whisk> = Api::namespaced(ctx.client.clone(), namespace);
    let mut list = whisks
        .list(&ListParams::default())
        .await
        .map_err(kube_err("list whisks"))?
        .items;
    list.sort_by_key(|w| (w.name_any() != "controller", w.name_any()));
    let Some(whisk) = list
        .into_iter()
        .find(|w| w.metadata.deletion_timestamp.is_none())
    else {
        return Ok(Err(format!(
            "no Whisk in namespace {namespace}: waiting for one to be installed"
        )));
    };
    let generated = match super::secrets::read(&ctx.client, namespace).await? {
        Some(values) => GeneratedSecrets(values),
        None => {
            return Ok(Err(format!(
                "the Whisk {} has not generated its passwords yet",
                whisk.name_any()
            )));
        }
    };
    let ingresslb = whisk
        .spec
        .nuvolaris
        .as_ref()
        .and_then(|n| n.ingresslb.as_deref())
        .filter(|v| *v != "auto");
    let facts = facts::read(&ctx.client, namespace, ingresslb).await?;
    match Config::from_whisk(&whisk, &facts, &generated) {
        Ok(cfg) => Ok(Ok((whisk, Box::new(cfg)))),
        Err(err) => Ok(Err(format!(
            "the Whisk {} cannot be installed: {err}",
            whisk.name_any()
        ))),
    }
}

/// What the status says about a user.
enum Verdict {
    Waiting(String),
    Invalid(String),
    Setup {
        stores: BTreeMap<&'static str, StoreState>,
        health: ComponentHealth,
        errors: Vec<String>,
    },
}

async fn apply_user(user: &WhiskUser, ctx: &Context) -> Result<Action, Error> {
    let owner = owner_of(user)?;
    let cfg = match installation(user, ctx).await? {
        Installation::Waiting(why) => {
            report(user, ctx, Verdict::Waiting(why), 0).await?;
            return Ok(Action::requeue(REQUEUE_WAITING));
        }
        Installation::Ready(cfg) => cfg,
    };
    let rendered = match render_user(user, &cfg, UserAction::Apply) {
        Ok(rendered) => rendered,
        Err(UserError::Waiting(why)) => {
            report(user, ctx, Verdict::Waiting(why), 0).await?;
            return Ok(Action::requeue(REQUEUE_WAITING));
        }
        Err(UserError::Invalid(why)) => {
            report(user, ctx, Verdict::Invalid(why), 0).await?;
            return Ok(Action::requeue(REQUEUE_SETTLED));
        }
        Err(err @ UserError::Defect(_)) => return Err(Error::Components(err.to_string())),
    };
    let objects = prepare(rendered.objects, &owner, USER_COMPONENT);
    let index = ctx
        .applier
        .index(&owner, &kinds_of(&objects), false)
        .await?;
    let keep: BTreeSet<ObjectKey> = objects.iter().filter_map(ObjectKey::of).collect();
    let mut errors = Vec::new();
    let mut writes = 0;
    let mut health = ComponentHealth::Progressing("applying".into());
    let mut retry_in = None;
    match ctx.applier.apply_all_with(&objects, Some(&index)).await {
        Err(err) => errors.push(err.to_string()),
        Ok(report) => {
            writes += report.writes();
            if report.pending == 0 {
                match crate::apply::evaluate(&ctx.client, &objects).await {
                    Err(err) => errors.push(err.to_string()),
                    Ok(evaluation) => {
                        match ctx.applier.retry_failed_jobs(&evaluation.failed_jobs).await {
                            Ok((retried, wait)) => {
                                writes += retried.writes();
                                retry_in = wait;
                            }
                            Err(err) => errors.push(err.to_string()),
                        }
                        health = evaluation.health;
                    }
                }
            }
        }
    }
    match ctx.applier.prune_indexed(&index, &keep).await {
        Ok(report) => writes += report.writes(),
        Err(err) => errors.push(format!("prune: {err}")),
    }
    ctx.metrics.wrote(writes);
    let waiting = !health.is_ready();
    let failed = matches!(health, ComponentHealth::Failed(_));
    let verdict = Verdict::Setup {
        stores: rendered.stores,
        health,
        errors: errors.clone(),
    };
    report(user, ctx, verdict, writes).await?;
    if !errors.is_empty() {
        return Err(Error::Components(errors.join("; ")));
    }
    Ok(if failed {
        Action::requeue(retry_in.unwrap_or(REQUEUE_PROGRESSING).min(REQUEUE_SETTLED))
    } else if waiting {
        Action::requeue(REQUEUE_PROGRESSING)
    } else {
        Action::requeue(REQUEUE_SETTLED)
    })
}

/// The status for a verdict (pure).
fn desired_status(
    user: &WhiskUser,
    verdict: &Verdict,
    now: &Time,
) -> (WhiskUserStatus, Option<(EventType, &'static str, String)>) {
    let previous = user.status.clone().unwrap_or_default();
    let generation = user.metadata.generation;
    let mut keys: BTreeMap<String, Value> = previous.whisk_user_create.clone().unwrap_or_default();
    let (ready, progressing, degraded, reason, message) = match verdict {
        Verdict::Waiting(why) => (false, true, false, "WaitingForWhisk", why.clone()),
        Verdict::Invalid(why) => (false, false, true, "InvalidSpec", why.clone()),
        Verdict::Setup {
            stores,
            health,
            errors,
        } => {
            let wanted_state = match health {
                ComponentHealth::Ready => ComponentState::On,
                ComponentHealth::Failed(_) => ComponentState::Error,
                ComponentHealth::Progressing(_) => ComponentState::Unknown,
            };
            let mut not_built = Vec::new();
            for key in STATUS_KEYS {
                let state = match stores.get(key).copied().unwrap_or(StoreState::Off) {
                    StoreState::Wanted => wanted_state,
                    StoreState::Off => ComponentState::Off,
                    StoreState::NotBuilt => {
                        not_built.push(key);
                        ComponentState::Unknown
                    }
                };
                keys.insert(key.to_owned(), json!(state.as_str()));
            }
            if !errors.is_empty() {
                (false, false, true, "ApplyFailed", errors.join("; "))
            } else {
                match health {
                    ComponentHealth::Failed(m) => (false, false, true, "SetupFailed", m.clone()),
                    ComponentHealth::Progressing(m) => (false, true, false, "SettingUp", m.clone()),
                    ComponentHealth::Ready if !not_built.is_empty() => (
                        true,
                        false,
                        true,
                        "StoresNotImplemented",
                        format!(
                            "set up, except what this version does not build yet: {}",
                            not_built.join(", ")
                        ),
                    ),
                    ComponentHealth::Ready => (
                        true,
                        false,
                        false,
                        "UserReady",
                        "every store of the user is set up".to_owned(),
                    ),
                }
            }
        }
    };
    let conditions: Vec<Condition> = vec![
        condition(
            &previous.conditions,
            CONDITION_READY,
            ready,
            reason,
            message.clone(),
            generation,
            now,
        ),
        condition(
            &previous.conditions,
            CONDITION_PROGRESSING,
            progressing,
            if progressing {
                reason
            } else {
                "ReconcileComplete"
            },
            if progressing {
                message.clone()
            } else {
                "nothing in progress".into()
            },
            generation,
            now,
        ),
        condition(
            &previous.conditions,
            CONDITION_DEGRADED,
            degraded,
            if degraded { reason } else { "AsExpected" },
            if degraded {
                message.clone()
            } else {
                "no problems".into()
            },
            generation,
            now,
        ),
    ];
    let event = if degraded && !matches!(verdict, Verdict::Setup { .. } if ready) {
        Some((EventType::Warning, reason, message))
    } else if ready {
        Some((EventType::Normal, "Ready", message))
    } else if matches!(verdict, Verdict::Waiting(_)) {
        Some((EventType::Normal, reason, message))
    } else {
        None
    };
    (
        WhiskUserStatus {
            whisk_user_create: Some(keys),
            conditions,
            observed_generation: generation,
        },
        event,
    )
}

/// Writes the status when it changed (server-side apply), with an Event for the change.
async fn report(
    user: &WhiskUser,
    ctx: &Context,
    verdict: Verdict,
    writes: usize,
) -> Result<(), Error> {
    if writes > 0 {
        let note = format!("applied the user's objects ({writes} writes)");
        publish_to(ctx, &reference(user), EventType::Normal, "Applied", note).await;
    }
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let (desired, event) = desired_status(user, &verdict, &now);
    if user.status.as_ref() == Some(&desired) {
        return Ok(());
    }
    let body = json!({
        "apiVersion": WhiskUser::api_version(&()),
        "kind": WhiskUser::kind(&()),
        "status": desired,
    });
    users_api(user, ctx)?
        .patch_status(
            &user.name_any(),
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(body),
        )
        .await
        .map_err(kube_err("write user status"))?;
    ctx.metrics.wrote(1);
    if let Some((type_, reason, note)) = event {
        publish_to(ctx, &reference(user), type_, reason, note).await;
    }
    Ok(())
}

/// Removes the user's data-plane entries. `None`: done (or given up at the deadline), release
/// the user; `Some`: look again.
async fn cleanup(user: &WhiskUser, ctx: &Context) -> Result<Option<Action>, Error> {
    let waited = user
        .metadata
        .deletion_timestamp
        .as_ref()
        .map(|t| {
            let now = k8s_openapi::jiff::Timestamp::now();
            (now.as_second() - t.0.as_second()).max(0) as u64
        })
        .unwrap_or(0);
    let overdue = waited >= DELETE_DEADLINE.as_secs();
    match delete_entries(user, ctx).await {
        Ok(Some(action)) if !overdue => Ok(Some(action)),
        Ok(Some(_)) => {
            give_up(user, ctx, "the delete Job did not finish in time").await;
            Ok(None)
        }
        Ok(None) => Ok(None),
        Err(err) if overdue => {
            give_up(user, ctx, &err.to_string()).await;
            Ok(None)
        }
        Err(err) => Err(err),
    }
}

async fn give_up(user: &WhiskUser, ctx: &Context, why: &str) {
    tracing::warn!(user = %key_of(user), reason = why, "user delete incomplete: releasing the user");
    let note = format!(
        "released after {}s without a complete delete ({why}); the user's entries in the stores may remain",
        DELETE_DEADLINE.as_secs()
    );
    publish_to(
        ctx,
        &reference(user),
        EventType::Warning,
        "CleanupIncomplete",
        note,
    )
    .await;
}

async fn delete_entries(user: &WhiskUser, ctx: &Context) -> Result<Option<Action>, Error> {
    let owner = owner_of(user)?;
    let cfg = match installation(user, ctx).await? {
        Installation::Ready(cfg) => cfg,
        // No installation (or one without the stores set up): nothing to remove.
        Installation::Waiting(why) => {
            tracing::info!(user = %key_of(user), reason = %why, "user deleted: no store to clean");
            return Ok(None);
        }
    };
    let rendered = match render_user(user, &cfg, UserAction::Delete) {
        Ok(rendered) => rendered,
        Err(err) => {
            tracing::info!(user = %key_of(user), error = %err, "user deleted: nothing to clean");
            return Ok(None);
        }
    };
    // The setup Job must not write while the delete removes.
    let jobs: Api<Job> = Api::namespaced(ctx.client.clone(), &owner.namespace);
    let setup_job = crate::users::job_name(&owner.name, UserAction::Apply);
    let background = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Background),
        ..DeleteParams::default()
    };
    match jobs.delete(&setup_job, &background).await {
        Ok(_) => ctx.metrics.wrote(1),
        Err(kube::Error::Api(status)) if status.code == 404 => {}
        Err(source) => {
            return Err(Error::Kube {
                what: "delete the setup job",
                source,
            });
        }
    }
    let objects = prepare(rendered.objects, &owner, USER_COMPONENT);
    let report = ctx.applier.apply_all(&objects).await?;
    ctx.metrics.wrote(report.writes());
    let evaluation = crate::apply::evaluate(&ctx.client, &objects).await?;
    match evaluation.health {
        ComponentHealth::Ready => {
            tracing::info!(user = %key_of(user), "user's entries deleted");
            Ok(None)
        }
        ComponentHealth::Failed(why) => {
            give_up(user, ctx, &why).await;
            Ok(None)
        }
        ComponentHealth::Progressing(_) => Ok(Some(Action::requeue(DELETE_POLL))),
    }
}

/// Runs the WhiskUser controller until `shutdown` completes: users, their Jobs and Ingresses
/// (metadata watches on the children it labels), and the Whisks (a Whisk change wakes every
/// user of its namespace: a user waiting for its installation starts at once).
pub async fn run(
    ctx: Arc<Context>,
    namespace: Option<String>,
    concurrency: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    use futures::StreamExt;
    use kube::runtime::controller::{self, Controller};
    use kube::runtime::reflector::ObjectRef;
    use kube::runtime::watcher;

    let client = ctx.client.clone();
    let ns = namespace.as_deref();
    let users: Api<WhiskUser> = super::api_for(&client, ns);
    let controller = Controller::new(users, watcher::Config::default().any_semantic());
    let store = controller.store();
    let mut controller = controller.owns(super::api_for::<Job>(&client, ns), super::child_watch());
    // The routes: a deleted or edited Ingress is put back.
    let ingress = crate::apply::kinds::INGRESS;
    let gvk = kube::core::GroupVersionKind::gvk(ingress.group, ingress.version, ingress.kind);
    let resource = kube::core::ApiResource::from_gvk_with_plural(&gvk, ingress.plural);
    let api: Api<kube::api::DynamicObject> = match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    controller = controller.owns_with(api, resource, super::child_watch());
    controller
        .watches(
            super::api_for::<Whisk>(&client, ns),
            watcher::Config::default().any_semantic(),
            move |whisk: Whisk| {
                let namespace = whisk.namespace();
                store
                    .state()
                    .into_iter()
                    .filter(|u| u.namespace() == namespace)
                    .map(|u| ObjectRef::from_obj(u.as_ref()))
                    .collect::<Vec<_>>()
            },
        )
        .with_config(
            controller::Config::default()
                .debounce(Duration::from_secs(1))
                .concurrency(concurrency),
        )
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            match result {
                Ok((object, _)) => tracing::debug!(user = %object, "reconciled"),
                Err(controller::Error::ReconcilerFailed(err, object)) => {
                    tracing::warn!(user = %object, error = %err, "user reconcile failed")
                }
                Err(err) => tracing::warn!(error = %err, "user controller"),
            }
        })
        .await;
    tracing::info!("user controller stopped");
}
