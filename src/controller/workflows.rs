//! The Workflows controller (the original's `workflows.py`, §13 of the inventory): a
//! `Workflows` runs its steps as the Job `<name>-create` — one container per step, `args`
//! `k=v` from the step's parameters, env `_WORKFLOW_`, `_NAMESPACE_`, `_INSTANCE_`, `_JOB_`,
//! `_ACTION_`, `_APIHOST_` and `_AUTH_` (the installation's `nuvolaris` auth, from the Secret
//! `<name>-workflow-auth`, never in the Job) plus the spec's env — and, when deleted, the Job
//! `<name>-delete` (finalizer; bounded by [`DELETE_DEADLINE`]).
//!
//! Differences from the original: both Jobs are owned by the Workflows (garbage-collected with
//! it; the original never removed `<name>-delete`); a spec change re-creates `<name>-create`
//! (the shared apply re-creates a Job whose template changed; the original had no update
//! handler); `_AUTH_` comes from a Secret; `status.total` is the number of steps and
//! `status.count` the number of them that succeeded.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Api, Resource, ResourceExt};
use serde_json::{Value, json};

use super::reconcile::{FINALIZER, finalizer_removal_patch};
use super::{Context, Error};
use crate::apply::{ComponentHealth, MANAGER, Object, ObjectKey, OwnerInfo, kinds_of, prepare};
use crate::config::Config;
use crate::crd::{Workflows, WorkflowsStatus};

/// A deleted Workflows is released at the latest this long after the deletion request.
pub const DELETE_DEADLINE: Duration = Duration::from_secs(45);
const COMPONENT: &str = "workflows";

fn kube_err(what: &'static str) -> impl FnOnce(kube::Error) -> Error {
    move |source| Error::Kube { what, source }
}

fn owner_of(wf: &Workflows) -> Result<OwnerInfo, Error> {
    Ok(OwnerInfo {
        api_version: Workflows::api_version(&()).into_owned(),
        kind: Workflows::kind(&()).into_owned(),
        name: wf
            .metadata
            .name
            .clone()
            .ok_or(Error::MissingMetadata("name"))?,
        uid: wf
            .metadata
            .uid
            .clone()
            .ok_or(Error::MissingMetadata("uid"))?,
        namespace: wf.namespace().ok_or(Error::MissingMetadata("namespace"))?,
    })
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The Job `<name>-<action>` and the Secret with `_AUTH_` (pure).
pub fn render(wf: &Workflows, action: &str, cfg: Option<&Config>) -> Vec<Object> {
    let name = wf.name_any();
    let namespace = wf.namespace().unwrap_or_default();
    let job = format!("{name}-{action}");
    let secret = format!("{name}-workflow-auth");
    let auth = cfg.and_then(|c| c.namespaces.get("nuvolaris"));
    let apihost = cfg.and_then(|c| c.apihost.url());
    let image = wf.spec.image.clone().unwrap_or_else(|| "busybox".into());
    let containers: Vec<Value> = wf
        .spec
        .workflows
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let step_name = step.name.clone().unwrap_or_else(|| format!("step-{i}"));
            let mut env = vec![
                json!({"name": "_WORKFLOW_", "value": step_name}),
                json!({"name": "_NAMESPACE_", "value": namespace}),
                json!({"name": "_INSTANCE_", "value": name}),
                json!({"name": "_JOB_", "value": job}),
                json!({"name": "_ACTION_", "value": action}),
            ];
            if let Some(apihost) = &apihost {
                env.push(json!({"name": "_APIHOST_", "value": apihost}));
            }
            if auth.is_some() {
                env.push(json!({"name": "_AUTH_", "valueFrom": {"secretKeyRef": {"name": secret, "key": "auth"}}}));
            }
            for (key, value) in wf.spec.env.iter().flatten() {
                env.push(json!({"name": key, "value": text(value)}));
            }
            let args: Vec<String> = step
                .parameters
                .iter()
                .flatten()
                .map(|(k, v)| format!("{k}={}", text(v)))
                .collect();
            let mut container = json!({
                "name": step_name,
                "image": image,
                "env": env,
                "args": args,
                "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
            });
            if let Some(command) = &wf.spec.command {
                container["command"] = json!(command);
            }
            container
        })
        .collect();
    let mut objects = Vec::new();
    if let Some(auth) = auth {
        objects.push(json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": secret, "namespace": namespace},
            "type": "Opaque",
            "stringData": {"auth": auth.expose()},
        }));
    }
    objects.push(json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": job, "namespace": namespace, "labels": {"group": "workflow"}},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": {"labels": {"group": "workflow", "job": job}},
                "spec": {"restartPolicy": "Never", "containers": containers},
            },
        },
    }));
    objects
}

/// Entry point of the controller for one Workflows.
pub async fn reconcile(wf: Arc<Workflows>, ctx: Arc<Context>) -> Result<Action, Error> {
    let api: Api<Workflows> = Api::namespaced(
        ctx.client.clone(),
        &wf.namespace().ok_or(Error::MissingMetadata("namespace"))?,
    );
    let has_finalizer = wf.finalizers().iter().any(|f| f == FINALIZER);
    if wf.metadata.deletion_timestamp.is_some() {
        if !has_finalizer {
            return Ok(Action::await_change());
        }
        if let Some(action) = run_jobs(&wf, &ctx, "delete").await? {
            let waited = wf
                .metadata
                .deletion_timestamp
                .as_ref()
                .map(|t| k8s_openapi::jiff::Timestamp::now().as_second() - t.0.as_second())
                .unwrap_or(0);
            if waited < DELETE_DEADLINE.as_secs() as i64 {
                return Ok(action);
            }
            tracing::warn!(workflows = %wf.name_any(), "delete Job not done in time: releasing");
        }
        if let Some(patch) = finalizer_removal_patch(&wf.metadata, &[FINALIZER]) {
            api.patch(
                &wf.name_any(),
                &PatchParams::default(),
                &Patch::Merge(patch),
            )
            .await
            .map_err(kube_err("remove finalizer"))?;
            ctx.metrics.wrote(1);
        }
        return Ok(Action::await_change());
    }
    if !has_finalizer {
        let mut finalizers = wf.finalizers().to_vec();
        finalizers.push(FINALIZER.to_owned());
        let patch = json!({"metadata": {"finalizers": finalizers, "resourceVersion": wf.resource_version()}});
        api.patch(
            &wf.name_any(),
            &PatchParams::default(),
            &Patch::Merge(patch),
        )
        .await
        .map_err(kube_err("add finalizer"))?;
        ctx.metrics.wrote(1);
        return Ok(Action::await_change());
    }
    let action = run_jobs(&wf, &ctx, "create").await?;
    Ok(action.unwrap_or(Action::requeue(Duration::from_secs(300))))
}

/// Applies the Job of `action` (and prunes the other one); writes the status. `Some`: the Job
/// is still running, look again then.
async fn run_jobs(wf: &Workflows, ctx: &Context, action: &str) -> Result<Option<Action>, Error> {
    let owner = owner_of(wf)?;
    let cfg = match super::user::whisk_config(ctx, &owner.namespace).await? {
        Ok((_, cfg)) => Some(cfg),
        Err(why) => {
            tracing::debug!(workflows = %owner.name, reason = %why, "no installation: no _APIHOST_/_AUTH_");
            None
        }
    };
    let objects = prepare(render(wf, action, cfg.as_deref()), &owner, COMPONENT);
    let index = ctx
        .applier
        .index(&owner, &kinds_of(&objects), false)
        .await?;
    let keep: BTreeSet<ObjectKey> = objects.iter().filter_map(ObjectKey::of).collect();
    let report = ctx.applier.apply_all_with(&objects, Some(&index)).await?;
    let pruned = ctx.applier.prune_indexed(&index, &keep).await?;
    ctx.metrics.wrote(report.writes() + pruned.writes());
    let evaluation = crate::apply::evaluate(&ctx.client, &objects).await?;
    if action == "create" {
        write_status(wf, ctx, &owner).await?;
    }
    Ok(match evaluation.health {
        ComponentHealth::Progressing(_) => Some(Action::requeue(Duration::from_secs(5))),
        _ => None,
    })
}

async fn write_status(wf: &Workflows, ctx: &Context, owner: &OwnerInfo) -> Result<(), Error> {
    let jobs: Api<Job> = Api::namespaced(ctx.client.clone(), &owner.namespace);
    let succeeded = match jobs.get_opt(&format!("{}-create", owner.name)).await {
        Ok(Some(job)) => job.status.and_then(|s| s.succeeded).unwrap_or(0),
        Ok(None) => 0,
        Err(source) => {
            return Err(Error::Kube {
                what: "read workflow job",
                source,
            });
        }
    };
    let total = wf.spec.workflows.len() as i64;
    // A Job with one pod of several containers succeeds as a whole.
    let count = if succeeded > 0 { total } else { 0 };
    let desired = WorkflowsStatus {
        total: Some(total),
        count: Some(count),
    };
    if wf.status.as_ref() == Some(&desired) {
        return Ok(());
    }
    let api: Api<Workflows> = Api::namespaced(ctx.client.clone(), &owner.namespace);
    let body = json!({
        "apiVersion": Workflows::api_version(&()),
        "kind": Workflows::kind(&()),
        "status": desired,
    });
    api.patch_status(
        &owner.name,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(body),
    )
    .await
    .map_err(kube_err("write workflows status"))?;
    ctx.metrics.wrote(1);
    Ok(())
}

/// Errors back off like the other controllers.
pub fn error_policy(wf: Arc<Workflows>, err: &Error, ctx: Arc<Context>) -> Action {
    let delay = ctx.backoff.next_delay(&format!(
        "workflows:{}/{}",
        wf.namespace().unwrap_or_default(),
        wf.name_any()
    ));
    ctx.metrics.failed(err.category());
    tracing::warn!(workflows = %wf.name_any(), error = %err, retry_in = ?delay, "workflows reconcile failed");
    Action::requeue(delay)
}

/// Runs the Workflows controller until `shutdown` completes (Workflows and their Jobs).
pub async fn run(
    ctx: Arc<Context>,
    namespace: Option<String>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    use futures::StreamExt;
    use kube::runtime::controller::{self, Controller};
    use kube::runtime::watcher;

    let client = ctx.client.clone();
    let ns = namespace.as_deref();
    Controller::new(
        super::api_for::<Workflows>(&client, ns),
        watcher::Config::default().any_semantic(),
    )
    .owns(super::api_for::<Job>(&client, ns), super::child_watch())
    .with_config(controller::Config::default().debounce(Duration::from_secs(1)))
    .graceful_shutdown_on(shutdown)
    .run(reconcile, error_policy, ctx)
    .for_each(|result| async move {
        if let Err(err) = result {
            tracing::debug!(error = %err, "workflows controller");
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn one_container_per_step_with_parameters_as_args() {
        let wf: Workflows = serde_json::from_value(json!({
            "apiVersion": "nuvolaris.org/v1", "kind": "Workflows",
            "metadata": {"name": "wf", "namespace": "nuvolaris"},
            "spec": {"image": "busybox", "command": ["sh", "-c"], "env": {"A": 1},
                     "workflows": [{"name": "one", "parameters": {"X": "1"}}, {"name": "two"}]},
        }))
        .unwrap();
        let objects = render(&wf, "create", None);
        let job = &objects[0];
        assert_eq!(job["metadata"]["name"], "wf-create");
        let containers = job["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(containers.len(), 2);
        assert_eq!(containers[0]["args"], json!(["X=1"]));
        assert_eq!(containers[0]["command"], json!(["sh", "-c"]));
        let env: BTreeMap<&str, &Value> = containers[0]["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["name"].as_str().unwrap(), &e["value"]))
            .collect();
        assert_eq!(env["_WORKFLOW_"], "one");
        assert_eq!(env["_ACTION_"], "create");
        assert_eq!(env["A"], "1");
        assert!(!env.contains_key("_AUTH_"), "no installation: no auth");
    }
}
