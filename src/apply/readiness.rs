//! Readiness of applied objects. The judgement is pure (typed object → health); `evaluate`
//! only fetches the live workloads.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use kube::{Api, Client};

use super::ApplyError;
use super::Object;
use super::kinds::{self, StatusCheck, StatusReadiness};
use super::prepare::str_at;

/// The health of one component (or one object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentHealth {
    Ready,
    /// Not there yet; the message says what is awaited.
    Progressing(String),
    /// Will not get there without a change (e.g. a setup Job failed).
    Failed(String),
}

impl ComponentHealth {
    pub fn is_ready(&self) -> bool {
        matches!(self, ComponentHealth::Ready)
    }

    /// Combines the health of parts: any failure wins, then anything in progress.
    pub fn combine(parts: impl IntoIterator<Item = ComponentHealth>) -> ComponentHealth {
        let mut failed = Vec::new();
        let mut progressing = Vec::new();
        for part in parts {
            match part {
                ComponentHealth::Ready => {}
                ComponentHealth::Progressing(message) => progressing.push(message),
                ComponentHealth::Failed(message) => failed.push(message),
            }
        }
        if !failed.is_empty() {
            ComponentHealth::Failed(failed.join("; "))
        } else if !progressing.is_empty() {
            ComponentHealth::Progressing(progressing.join("; "))
        } else {
            ComponentHealth::Ready
        }
    }
}

fn generation_observed(generation: Option<i64>, observed: Option<i64>) -> bool {
    match (generation, observed) {
        (Some(generation), Some(observed)) => observed >= generation,
        (Some(_), None) => false,
        (None, _) => true,
    }
}

pub fn statefulset_health(sts: &StatefulSet) -> ComponentHealth {
    let name = sts.metadata.name.as_deref().unwrap_or("?");
    let want = sts.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let Some(status) = &sts.status else {
        return ComponentHealth::Progressing(format!("StatefulSet {name}: no status yet"));
    };
    if !generation_observed(sts.metadata.generation, status.observed_generation) {
        return ComponentHealth::Progressing(format!(
            "StatefulSet {name}: spec change not observed yet"
        ));
    }
    let ready = status.ready_replicas.unwrap_or(0);
    if ready < want {
        return ComponentHealth::Progressing(format!("StatefulSet {name}: {ready}/{want} ready"));
    }
    let on_delete = sts
        .spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.type_.as_deref())
        == Some("OnDelete");
    let rolled = match (&status.current_revision, &status.update_revision) {
        (Some(current), Some(update)) => current == update,
        _ => true,
    };
    if !on_delete && (!rolled || status.updated_replicas.unwrap_or(0) < want) {
        return ComponentHealth::Progressing(format!("StatefulSet {name}: rolling out"));
    }
    ComponentHealth::Ready
}

pub fn deployment_health(dep: &Deployment) -> ComponentHealth {
    let name = dep.metadata.name.as_deref().unwrap_or("?");
    let want = dep.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let Some(status) = &dep.status else {
        return ComponentHealth::Progressing(format!("Deployment {name}: no status yet"));
    };
    if !generation_observed(dep.metadata.generation, status.observed_generation) {
        return ComponentHealth::Progressing(format!(
            "Deployment {name}: spec change not observed yet"
        ));
    }
    let conditions = status.conditions.as_deref().unwrap_or_default();
    if let Some(stuck) = conditions.iter().find(|c| {
        c.type_ == "Progressing"
            && c.status == "False"
            && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
    }) {
        return ComponentHealth::Failed(format!(
            "Deployment {name}: {}",
            stuck
                .message
                .as_deref()
                .unwrap_or("progress deadline exceeded")
        ));
    }
    let available = conditions
        .iter()
        .any(|c| c.type_ == "Available" && c.status == "True");
    let updated = status.updated_replicas.unwrap_or(0);
    let total = status.replicas.unwrap_or(0);
    if !available || updated < want || total > updated {
        return ComponentHealth::Progressing(format!(
            "Deployment {name}: {}/{want} available, {updated} updated",
            status.available_replicas.unwrap_or(0)
        ));
    }
    ComponentHealth::Ready
}

pub fn daemonset_health(ds: &DaemonSet) -> ComponentHealth {
    let name = ds.metadata.name.as_deref().unwrap_or("?");
    let Some(status) = &ds.status else {
        return ComponentHealth::Progressing(format!("DaemonSet {name}: no status yet"));
    };
    if !generation_observed(ds.metadata.generation, status.observed_generation) {
        return ComponentHealth::Progressing(format!(
            "DaemonSet {name}: spec change not observed yet"
        ));
    }
    let want = status.desired_number_scheduled;
    let ready = status.number_ready;
    if ready < want || status.updated_number_scheduled.unwrap_or(0) < want {
        return ComponentHealth::Progressing(format!("DaemonSet {name}: {ready}/{want} ready"));
    }
    ComponentHealth::Ready
}

pub fn job_health(job: &Job) -> ComponentHealth {
    let name = job.metadata.name.as_deref().unwrap_or("?");
    let conditions = job
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let is_true = |kind: &str| {
        conditions
            .iter()
            .find(|c| c.type_ == kind && c.status == "True")
    };
    if let Some(failed) = is_true("Failed") {
        return ComponentHealth::Failed(format!(
            "Job {name} failed: {}{}",
            failed.reason.as_deref().unwrap_or("Failed"),
            failed
                .message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ));
    }
    if is_true("Complete").is_some() {
        return ComponentHealth::Ready;
    }
    ComponentHealth::Progressing(format!("Job {name}: not complete yet"))
}

/// The health of an object of a custom kind, judged by its rule (see
/// [`kinds::STATUS_READINESS`]): failed when a failure check holds, ready when every ready
/// check holds, else progressing, naming the first check that does not hold yet.
pub fn status_health(rule: &StatusReadiness, object: &Object) -> ComponentHealth {
    let name = str_at(object, &["metadata", "name"]).unwrap_or("?");
    let kind = rule.kind.kind;
    if let Some(failed) = rule.failed.iter().find(|check| holds(check, object)) {
        return ComponentHealth::Failed(format!("{kind} {name}: {}", describe(failed, object)));
    }
    match rule.ready.iter().find(|check| !holds(check, object)) {
        None => ComponentHealth::Ready,
        Some(waiting) => ComponentHealth::Progressing(format!(
            "{kind} {name}: waiting for {}",
            describe(waiting, object)
        )),
    }
}

fn holds(check: &StatusCheck, object: &Object) -> bool {
    match check {
        StatusCheck::Equal(a, b) => match (object.pointer(a), object.pointer(b)) {
            (Some(a), Some(b)) => !a.is_null() && a == b,
            _ => false,
        },
        StatusCheck::Empty(path) => match object.pointer(path) {
            None | Some(serde_json::Value::Null) => true,
            Some(serde_json::Value::String(s)) => s.is_empty(),
            Some(_) => false,
        },
        StatusCheck::True(path) => object.pointer(path) == Some(&serde_json::Value::Bool(true)),
        StatusCheck::Condition(kind) => object
            .pointer("/status/conditions")
            .and_then(serde_json::Value::as_array)
            .is_some_and(|conditions| {
                conditions
                    .iter()
                    .any(|c| c["type"] == *kind && c["status"] == "True")
            }),
    }
}

/// A check and the values it looks at, for status messages.
fn describe(check: &StatusCheck, object: &Object) -> String {
    let value = |path: &str| {
        object
            .pointer(path)
            .map(|v| v.to_string())
            .unwrap_or_else(|| "none".to_owned())
    };
    match check {
        StatusCheck::Equal(a, b) => format!("{a} = {b} ({} of {})", value(a), value(b)),
        StatusCheck::Empty(path) => format!("no {path} ({})", value(path)),
        StatusCheck::True(path) => format!("{path} is true"),
        StatusCheck::Condition(kind) => format!("condition {kind}"),
    }
}

/// Container states that will not fix themselves without a change (or only after long
/// back-offs): reported so that e.g. a crash-looping database is visible in the status.
const STUCK_REASONS: &[&str] = &[
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
];

/// The stuck containers among `pods`, as "pod/container: reason: message".
pub fn pod_problems(pods: &[Pod]) -> Vec<String> {
    let mut problems = Vec::new();
    for pod in pods {
        let pod_name = pod.metadata.name.as_deref().unwrap_or("?");
        let statuses = pod.status.iter().flat_map(|s| {
            s.init_container_statuses
                .iter()
                .flatten()
                .chain(s.container_statuses.iter().flatten())
        });
        for status in statuses {
            let Some(waiting) = status.state.as_ref().and_then(|st| st.waiting.as_ref()) else {
                continue;
            };
            let reason = waiting.reason.as_deref().unwrap_or("");
            if STUCK_REASONS.contains(&reason) {
                let message = waiting
                    .message
                    .as_deref()
                    .map(|m| format!(": {}", m.chars().take(200).collect::<String>()))
                    .unwrap_or_default();
                problems.push(format!(
                    "pod {pod_name} container {}: {reason}{message}",
                    status.name
                ));
            }
        }
    }
    problems
}

/// `matchLabels` of a workload's selector as a label selector string.
fn selector_of(object: &Object) -> Option<String> {
    let labels = object.pointer("/spec/selector/matchLabels")?.as_object()?;
    let parts: Vec<String> = labels
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
        .collect();
    (!parts.is_empty()).then(|| parts.join(","))
}

/// For a workload still progressing, looks at its pods: stuck containers make it `Failed`.
async fn with_pod_problems(
    client: &Client,
    namespace: &str,
    object: &Object,
    health: ComponentHealth,
) -> Result<ComponentHealth, kube::Error> {
    let ComponentHealth::Progressing(message) = health else {
        return Ok(health);
    };
    let Some(selector) = selector_of(object) else {
        return Ok(ComponentHealth::Progressing(message));
    };
    let pods = Api::<Pod>::namespaced(client.clone(), namespace)
        .list(&ListParams::default().labels(&selector))
        .await?
        .items;
    let problems = pod_problems(&pods);
    if problems.is_empty() {
        Ok(ComponentHealth::Progressing(message))
    } else {
        Ok(ComponentHealth::Failed(format!(
            "{message}; {}",
            problems.join("; ")
        )))
    }
}

/// A Job whose Failed condition is true.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedJob {
    pub namespace: String,
    pub name: String,
    /// Time since the Job failed (zero when the API gave no transition time).
    pub failed_for: std::time::Duration,
}

/// How long a failed setup Job is left in place (for `kubectl logs`) before it is deleted so
/// that the next reconcile runs it again: setup steps are idempotent, and a transient failure
/// (a database still starting) must heal without a spec change.
pub const FAILED_JOB_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(120);

/// Whether to retry a Job that failed `failed_for` ago: `Ok(())` now, or `Err(wait)`.
pub fn retry_failed_job(failed_for: std::time::Duration) -> Result<(), std::time::Duration> {
    if failed_for >= FAILED_JOB_RETRY_AFTER {
        Ok(())
    } else {
        Err(FAILED_JOB_RETRY_AFTER - failed_for)
    }
}

fn failed_for(job: &Job) -> Option<std::time::Duration> {
    let failed = job
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Failed" && c.status == "True")?;
    let since = failed
        .last_transition_time
        .as_ref()
        .map(|t| (k8s_openapi::jiff::Timestamp::now().as_second() - t.0.as_second()).max(0))
        .unwrap_or(0);
    Some(std::time::Duration::from_secs(since as u64))
}

/// Readiness of one component's objects, and its failed Jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub health: ComponentHealth,
    pub failed_jobs: Vec<FailedJob>,
}

/// Fetches the live workloads among `objects` (prepared, so they carry their namespace) and
/// judges them, naming the Jobs that failed. Other kinds count as ready once applied: they have
/// no rollout to wait for.
pub async fn evaluate(client: &Client, objects: &[Object]) -> Result<Evaluation, ApplyError> {
    let mut parts = Vec::new();
    let mut failed_jobs = Vec::new();
    for object in objects {
        let (Some(api_version), Some(kind), Some(name)) = (
            str_at(object, &["apiVersion"]),
            str_at(object, &["kind"]),
            str_at(object, &["metadata", "name"]),
        ) else {
            continue;
        };
        let namespace = str_at(object, &["metadata", "namespace"]).unwrap_or("default");
        let missing = || ComponentHealth::Progressing(format!("{kind} {name}: not created yet"));
        let wrap = |source| ApplyError::Kube {
            action: "read",
            object: format!("{kind} {namespace}/{name}"),
            source,
        };
        let health = match (api_version, kind) {
            ("apps/v1", "StatefulSet") => Api::<StatefulSet>::namespaced(client.clone(), namespace)
                .get_opt(name)
                .await
                .map_err(wrap)?
                .map_or_else(missing, |o| statefulset_health(&o)),
            ("apps/v1", "Deployment") => Api::<Deployment>::namespaced(client.clone(), namespace)
                .get_opt(name)
                .await
                .map_err(wrap)?
                .map_or_else(missing, |o| deployment_health(&o)),
            ("apps/v1", "DaemonSet") => Api::<DaemonSet>::namespaced(client.clone(), namespace)
                .get_opt(name)
                .await
                .map_err(wrap)?
                .map_or_else(missing, |o| daemonset_health(&o)),
            ("batch/v1", "Job") => {
                let job = Api::<Job>::namespaced(client.clone(), namespace)
                    .get_opt(name)
                    .await
                    .map_err(wrap)?;
                if let Some(failed_for) = job.as_ref().and_then(failed_for) {
                    failed_jobs.push(FailedJob {
                        namespace: namespace.to_string(),
                        name: name.to_string(),
                        failed_for,
                    });
                }
                job.map_or_else(missing, |o| job_health(&o))
            }
            _ => match kinds::status_readiness(kinds::split_api_version(api_version).0, kind) {
                Some(rule) => {
                    let (group, version) = kinds::split_api_version(api_version);
                    let resource = kube::discovery::ApiResource::from_gvk_with_plural(
                        &kube::core::GroupVersionKind::gvk(group, version, kind),
                        rule.kind.plural,
                    );
                    let api: Api<kube::core::DynamicObject> =
                        Api::namespaced_with(client.clone(), namespace, &resource);
                    match api.get_opt(name).await.map_err(wrap)? {
                        None => missing(),
                        Some(live) => serde_json::to_value(&live)
                            .map(|live| status_health(rule, &live))
                            .unwrap_or_else(|e| {
                                ComponentHealth::Progressing(format!("{kind} {name}: {e}"))
                            }),
                    }
                }
                None => ComponentHealth::Ready,
            },
        };
        let health = if matches!(kind, "StatefulSet" | "Deployment" | "DaemonSet") {
            with_pod_problems(client, namespace, object, health)
                .await
                .map_err(wrap)?
        } else {
            health
        };
        parts.push(health);
    }
    Ok(Evaluation {
        health: ComponentHealth::combine(parts),
        failed_jobs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sts(value: serde_json::Value) -> StatefulSet {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn statefulset_ready_only_when_all_replicas_ready_and_rolled_out() {
        let base = json!({"metadata": {"name": "couchdb", "generation": 2}, "spec": {"replicas": 1, "selector": {}, "template": {}, "serviceName": "couchdb"}});
        let mut s = base.clone();
        assert!(matches!(
            statefulset_health(&sts(s.clone())),
            ComponentHealth::Progressing(_)
        ));
        s["status"] = json!({"replicas": 1, "observedGeneration": 2, "readyReplicas": 0});
        assert!(
            matches!(statefulset_health(&sts(s.clone())), ComponentHealth::Progressing(m) if m.contains("0/1"))
        );
        s["status"] = json!({"replicas": 1, "observedGeneration": 2, "readyReplicas": 1, "updatedReplicas": 1, "currentRevision": "a", "updateRevision": "b"});
        assert!(
            matches!(statefulset_health(&sts(s.clone())), ComponentHealth::Progressing(m) if m.contains("rolling"))
        );
        s["status"] = json!({"replicas": 1, "observedGeneration": 1, "readyReplicas": 1, "updatedReplicas": 1, "currentRevision": "b", "updateRevision": "b"});
        assert!(
            matches!(statefulset_health(&sts(s.clone())), ComponentHealth::Progressing(m) if m.contains("not observed"))
        );
        s["status"]["observedGeneration"] = json!(2);
        assert_eq!(statefulset_health(&sts(s)), ComponentHealth::Ready);
    }

    #[test]
    fn deployment_needs_available_and_updated() {
        let mut d = json!({"metadata": {"name": "api", "generation": 1}, "spec": {"replicas": 2, "selector": {}, "template": {}},
            "status": {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2,
                "conditions": [{"type": "Available", "status": "True"}]}});
        let dep = |v: &serde_json::Value| serde_json::from_value::<Deployment>(v.clone()).unwrap();
        assert_eq!(deployment_health(&dep(&d)), ComponentHealth::Ready);
        d["status"]["replicas"] = json!(3);
        assert!(matches!(
            deployment_health(&dep(&d)),
            ComponentHealth::Progressing(_)
        ));
        d["status"]["conditions"] = json!([{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "too slow"}]);
        assert!(
            matches!(deployment_health(&dep(&d)), ComponentHealth::Failed(m) if m.contains("too slow"))
        );
    }

    #[test]
    fn job_complete_failed_or_running() {
        let job = |conditions: serde_json::Value| -> Job {
            serde_json::from_value(
                json!({"metadata": {"name": "couchdb-init"}, "status": {"conditions": conditions}}),
            )
            .unwrap()
        };
        assert_eq!(
            job_health(&job(json!([{"type": "Complete", "status": "True"}]))),
            ComponentHealth::Ready
        );
        let failed = job_health(&job(
            json!([{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]),
        ));
        assert!(
            matches!(&failed, ComponentHealth::Failed(m) if m.contains("couchdb-init") && m.contains("BackoffLimitExceeded")),
            "{failed:?}"
        );
        assert!(matches!(
            job_health(&job(json!([]))),
            ComponentHealth::Progressing(_)
        ));
    }

    #[test]
    fn failed_jobs_are_retried_after_a_pause() {
        use std::time::Duration;
        assert_eq!(
            retry_failed_job(Duration::from_secs(0)),
            Err(FAILED_JOB_RETRY_AFTER)
        );
        assert_eq!(
            retry_failed_job(Duration::from_secs(100)),
            Err(Duration::from_secs(20))
        );
        assert_eq!(retry_failed_job(FAILED_JOB_RETRY_AFTER), Ok(()));
        let job: Job =
            serde_json::from_value(json!({"metadata": {"name": "j"}, "status": {"conditions": [
            {"type": "Failed", "status": "True", "lastTransitionTime": "2020-01-01T00:00:00Z"}]}}))
            .unwrap();
        assert!(failed_for(&job).unwrap() > FAILED_JOB_RETRY_AFTER);
        let running: Job = serde_json::from_value(json!({"metadata": {"name": "j"}})).unwrap();
        assert_eq!(failed_for(&running), None);
    }

    #[test]
    fn stuck_containers_are_reported() {
        let pods: Vec<Pod> = serde_json::from_value(json!([
            {"metadata": {"name": "couchdb-0"}, "status": {"containerStatuses": [
                {"name": "couchdb", "image": "i", "imageID": "", "ready": false, "restartCount": 5,
                 "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}}}
            ]}},
            {"metadata": {"name": "redis-0"}, "status": {"containerStatuses": [
                {"name": "redis", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
                 "state": {"waiting": {"reason": "ContainerCreating"}}}
            ]}}
        ]))
        .unwrap();
        let problems = pod_problems(&pods);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("pod couchdb-0 container couchdb: CrashLoopBackOff: back-off"),
            "{problems:?}"
        );
    }

    #[test]
    fn selector_from_match_labels() {
        let sts = json!({"spec": {"selector": {"matchLabels": {"app": "couchdb", "name": "x"}}}});
        assert_eq!(selector_of(&sts).as_deref(), Some("app=couchdb,name=x"));
        assert_eq!(selector_of(&json!({"spec": {}})), None);
    }

    #[test]
    fn a_kubegres_is_judged_by_its_own_status() {
        let rule = kinds::status_readiness("kubegres.reactive-tech.io", "Kubegres")
            .expect("Kubegres has a rule");
        let mut kubegres = json!({"metadata": {"name": "pg"}, "spec": {"replicas": 2}});
        assert!(matches!(
            status_health(rule, &kubegres),
            ComponentHealth::Progressing(_)
        ));
        kubegres["status"] = json!({"enforcedReplicas": 1, "blockingOperation": {
            "operationId": "Replica DB count spec enforcement", "stepId": "Replica DB deploying",
            "statefulSetOperation": {"instanceIndex": 2, "name": "pg-2"}}});
        let health = status_health(rule, &kubegres);
        assert!(
            matches!(&health, ComponentHealth::Progressing(m) if m.contains("enforcedReplicas") && m.contains("1 of 2")),
            "{health:?}"
        );
        kubegres["status"]["enforcedReplicas"] = json!(2);
        assert!(
            matches!(status_health(rule, &kubegres), ComponentHealth::Progressing(m) if m.contains("operationId"))
        );
        kubegres["status"]["blockingOperation"]["hasTimedOut"] = json!(true);
        assert!(
            matches!(status_health(rule, &kubegres), ComponentHealth::Failed(m) if m.contains("hasTimedOut"))
        );
        kubegres["status"]["blockingOperation"] = json!({});
        kubegres["status"]["previousBlockingOperation"] =
            json!({"operationId": "x", "hasTimedOut": false});
        assert_eq!(status_health(rule, &kubegres), ComponentHealth::Ready);
    }

    #[test]
    fn a_condition_check_reads_status_conditions() {
        const RULE: StatusReadiness = StatusReadiness {
            kind: kinds::KUBEGRES,
            ready: &[StatusCheck::Condition("Ready")],
            failed: &[],
        };
        let ready = json!({"metadata": {"name": "x"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        assert_eq!(status_health(&RULE, &ready), ComponentHealth::Ready);
        let not = json!({"metadata": {"name": "x"}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}});
        assert!(
            matches!(status_health(&RULE, &not), ComponentHealth::Progressing(m) if m.contains("condition Ready"))
        );
    }

    #[test]
    fn combine_prefers_failure_then_progress() {
        use ComponentHealth::*;
        assert_eq!(ComponentHealth::combine([Ready, Ready]), Ready);
        assert_eq!(
            ComponentHealth::combine([Ready, Progressing("a".into())]),
            Progressing("a".into())
        );
        assert_eq!(
            ComponentHealth::combine([
                Progressing("a".into()),
                Failed("b".into()),
                Failed("c".into())
            ]),
            Failed("b; c".into())
        );
        assert_eq!(ComponentHealth::combine([]), Ready);
    }
}
