//! The Whisk status: computed purely from the reconcile outcome and the previous status, as the
//! typed [`WhiskStatus`].
//!
//! Contract kept from the original operator: `.status.whisk_create.<component>` is
//! `on` (deployed and ready), `off` (disabled), `error` (apply failed or a setup Job failed) or
//! `?` (being deployed, or enabled but not installable by this version).
//! `.status.whisk_create.controller` is always written (never omitted, so a stale value written
//! by the Python operator cannot survive): `Ready` only when every enabled component is installed
//! and ready; otherwise `Progressing` (something is on its way), `Degraded` (a component failed,
//! or is enabled but not installable by this version, or the operator hit a defect) or
//! `NotValid` (the spec was rejected). Keys this version does not know are carried over when
//! this operator wrote them; those other managers wrote (the Python operator's kopf:
//! `whisk_create.ingress`, `status.kopf`, …) are taken over and dropped by the controller
//! (`apply::migrate::take_over_status`).
//!
//! Added: `conditions` `Ready`, `Progressing`, `Degraded` (reason, message,
//! observedGeneration; lastTransitionTime kept while the status does not change) and
//! `observedGeneration`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use crate::crd::{ComponentId, ComponentState, ControllerState, WhiskCreateStatus, WhiskStatus};

/// What happened to one component in this reconcile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ready,
    Progressing(String),
    Failed(String),
    Disabled,
    /// Enabled but not implemented by this version.
    NotImplemented,
    /// Enabled but not installable as configured by this version; what runs is kept.
    Unsupported(String),
}

impl Outcome {
    /// The component's value in `status.whisk_create`.
    pub fn state(&self) -> ComponentState {
        match self {
            Outcome::Ready => ComponentState::On,
            Outcome::Progressing(_) | Outcome::NotImplemented | Outcome::Unsupported(_) => {
                ComponentState::Unknown
            }
            Outcome::Failed(_) => ComponentState::Error,
            Outcome::Disabled => ComponentState::Off,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentOutcome {
    pub id: ComponentId,
    pub outcome: Outcome,
}

/// The result of a reconcile, as far as the status is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Components(Vec<ComponentOutcome>),
    /// The spec was rejected; nothing was applied or deleted.
    Invalid(String),
    /// The operator could not render the installation because of its own defect; nothing was
    /// applied or deleted.
    Defect(String),
}

pub const CONDITION_READY: &str = "Ready";
pub const CONDITION_PROGRESSING: &str = "Progressing";
pub const CONDITION_DEGRADED: &str = "Degraded";

const MAX_MESSAGE: usize = 1024;

/// A short summary used for the controller key, the conditions and the requeue decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub controller: ControllerState,
    pub ready: bool,
    pub waiting: Vec<String>,
    pub failed: Vec<String>,
    pub not_implemented: Vec<String>,
    pub unsupported: Vec<String>,
    pub invalid: Option<String>,
    pub defect: Option<String>,
}

impl Verdict {
    pub fn summary(&self) -> Summary {
        let mut summary = Summary {
            controller: ControllerState::Ready,
            ready: true,
            waiting: Vec::new(),
            failed: Vec::new(),
            not_implemented: Vec::new(),
            unsupported: Vec::new(),
            invalid: None,
            defect: None,
        };
        match self {
            Verdict::Invalid(message) => {
                summary.controller = ControllerState::NotValid;
                summary.ready = false;
                summary.invalid = Some(message.clone());
            }
            Verdict::Defect(message) => {
                summary.controller = ControllerState::Degraded;
                summary.ready = false;
                summary.defect = Some(message.clone());
            }
            Verdict::Components(outcomes) => {
                for c in outcomes {
                    let key = c.id.key();
                    match &c.outcome {
                        Outcome::Ready | Outcome::Disabled => {}
                        Outcome::Progressing(m) => summary.waiting.push(format!("{key}: {m}")),
                        Outcome::Failed(m) => summary.failed.push(format!("{key}: {m}")),
                        Outcome::NotImplemented => summary.not_implemented.push(key.to_owned()),
                        Outcome::Unsupported(m) => summary.unsupported.push(format!("{key}: {m}")),
                    }
                }
                if !summary.failed.is_empty()
                    || !summary.not_implemented.is_empty()
                    || !summary.unsupported.is_empty()
                {
                    summary.controller = ControllerState::Degraded;
                    summary.ready = false;
                }
                if !summary.waiting.is_empty() {
                    if summary.failed.is_empty() {
                        summary.controller = ControllerState::Progressing;
                    }
                    summary.ready = false;
                }
            }
        }
        summary
    }
}

impl Summary {
    /// What is not installable by this version, in one sentence (empty when all is).
    fn missing(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.not_implemented.is_empty() {
            parts.push(format!(
                "enabled but not implemented by this operator version: {}",
                self.not_implemented.join(", ")
            ));
        }
        if !self.unsupported.is_empty() {
            parts.push(format!(
                "not installable as configured (what is deployed is kept): {}",
                self.unsupported.join("; ")
            ));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

fn truncate(text: String) -> String {
    if text.len() <= MAX_MESSAGE {
        return text;
    }
    let mut end = MAX_MESSAGE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// One condition, keeping the `lastTransitionTime` of the `previous` one of the same type and
/// status (shared by every kind the operator reports on: Whisk, WhiskUser).
pub fn condition(
    previous: &[Condition],
    type_: &str,
    status: bool,
    reason: &str,
    message: String,
    generation: Option<i64>,
    now: &Time,
) -> Condition {
    let status = if status { "True" } else { "False" };
    let kept_time = previous
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .map(|c| c.last_transition_time.clone());
    Condition {
        type_: type_.to_owned(),
        status: status.to_owned(),
        reason: reason.to_owned(),
        message: truncate(message),
        last_transition_time: kept_time.unwrap_or_else(|| now.clone()),
        observed_generation: generation,
    }
}

/// The desired `.status`, given the previous one.
pub fn desired_status(
    verdict: &Verdict,
    previous: &WhiskStatus,
    generation: Option<i64>,
    now: &Time,
) -> WhiskStatus {
    let summary = verdict.summary();
    let old = previous.whisk_create.clone().unwrap_or_default();
    let mut whisk_create = WhiskCreateStatus {
        controller: Some(summary.controller.clone()),
        // Keep what earlier versions of this operator wrote (the controller takes what other
        // managers wrote out of `previous` first: it is dropped).
        extra: old
            .extra
            .iter()
            .filter(|(_, value)| value.is_string())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        components: old.components.clone(),
    };
    if let Verdict::Components(outcomes) = verdict {
        for c in outcomes {
            whisk_create.set(c.id, c.outcome.state());
        }
    }

    let missing = summary.missing();
    let (ready_reason, ready_message) = if let Some(invalid) = &summary.invalid {
        ("InvalidSpec", invalid.clone())
    } else if let Some(defect) = &summary.defect {
        ("OperatorError", defect.clone())
    } else if !summary.failed.is_empty() {
        ("ComponentFailed", summary.failed.join("; "))
    } else if !summary.waiting.is_empty() {
        ("WaitingForComponents", summary.waiting.join("; "))
    } else if let Some(missing) = &missing {
        ("ComponentsNotImplemented", missing.clone())
    } else {
        (
            "AllComponentsReady",
            "every enabled component is ready".to_string(),
        )
    };
    let (progressing, progressing_reason, progressing_message) = if !summary.waiting.is_empty() {
        (true, "WaitingForComponents", summary.waiting.join("; "))
    } else if summary.invalid.is_some() {
        (
            false,
            "InvalidSpec",
            "nothing applied: the spec is invalid".to_string(),
        )
    } else if summary.defect.is_some() {
        (
            false,
            "OperatorError",
            "nothing applied: the operator could not render the installation".to_string(),
        )
    } else {
        (
            false,
            "ReconcileComplete",
            "all objects applied".to_string(),
        )
    };
    let (degraded, degraded_reason, degraded_message) = if let Some(invalid) = &summary.invalid {
        (true, "InvalidSpec", invalid.clone())
    } else if let Some(defect) = &summary.defect {
        (true, "OperatorError", format!("operator error: {defect}"))
    } else if !summary.failed.is_empty() {
        (true, "ComponentFailed", summary.failed.join("; "))
    } else if let Some(missing) = missing {
        (true, "ComponentsNotImplemented", missing)
    } else {
        (false, "AsExpected", "no problems".to_string())
    };
    let condition = |type_: &str, status: bool, reason: &str, message: String| -> Condition {
        condition(
            &previous.conditions,
            type_,
            status,
            reason,
            message,
            generation,
            now,
        )
    };
    WhiskStatus {
        whisk_create: Some(whisk_create),
        conditions: vec![
            condition(CONDITION_READY, summary.ready, ready_reason, ready_message),
            condition(
                CONDITION_PROGRESSING,
                progressing,
                progressing_reason,
                progressing_message,
            ),
            condition(
                CONDITION_DEGRADED,
                degraded,
                degraded_reason,
                degraded_message,
            ),
        ],
        observed_generation: generation,
    }
}

/// Whether writing `desired` would change anything in `previous` (lastTransitionTime aside:
/// it is carried over when nothing else changed).
pub fn needs_write(previous: &WhiskStatus, desired: &WhiskStatus) -> bool {
    if previous.observed_generation != desired.observed_generation {
        return true;
    }
    let old = previous.whisk_create.clone().unwrap_or_default();
    let new = desired.whisk_create.clone().unwrap_or_default();
    if new.controller.is_some() && old.controller != new.controller {
        return true;
    }
    if new
        .components
        .iter()
        .any(|(id, state)| old.get(*id) != Some(*state))
    {
        return true;
    }
    if new.extra.iter().any(|(k, v)| old.extra.get(k) != Some(v)) {
        return true;
    }
    desired.conditions.iter().any(|new| {
        previous
            .conditions
            .iter()
            .find(|c| c.type_ == new.type_)
            .is_none_or(|old| {
                old.status != new.status
                    || old.reason != new.reason
                    || old.message != new.message
                    || old.observed_generation != new.observed_generation
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outcome(id: ComponentId, outcome: Outcome) -> ComponentOutcome {
        ComponentOutcome { id, outcome }
    }

    fn time(s: &str) -> Time {
        Time(s.parse().expect("a timestamp"))
    }

    const T1: &str = "2026-01-01T00:00:01Z";
    const T2: &str = "2026-01-01T00:00:02Z";
    const T3: &str = "2026-01-01T00:00:03Z";

    fn cond<'a>(status: &'a WhiskStatus, type_: &str) -> &'a Condition {
        status
            .conditions
            .iter()
            .find(|c| c.type_ == type_)
            .expect("condition")
    }

    fn state(status: &WhiskStatus, id: ComponentId) -> &'static str {
        status
            .whisk_create
            .as_ref()
            .and_then(|w| w.get(id))
            .map(|s| s.as_str())
            .unwrap_or("")
    }

    fn controller(status: &WhiskStatus) -> String {
        status
            .whisk_create
            .as_ref()
            .and_then(|w| w.controller.clone())
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default()
    }

    fn empty() -> WhiskStatus {
        WhiskStatus::default()
    }

    #[test]
    fn all_ready_means_controller_ready() {
        let verdict = Verdict::Components(vec![
            outcome(ComponentId::Couchdb, Outcome::Ready),
            outcome(ComponentId::Redis, Outcome::Ready),
            outcome(ComponentId::Minio, Outcome::Disabled),
        ]);
        let s = desired_status(&verdict, &empty(), Some(3), &time(T1));
        assert_eq!(state(&s, ComponentId::Couchdb), "on");
        assert_eq!(state(&s, ComponentId::Minio), "off");
        assert_eq!(controller(&s), "Ready");
        assert_eq!(cond(&s, "Ready").status, "True");
        assert_eq!(cond(&s, "Progressing").status, "False");
        assert_eq!(cond(&s, "Degraded").status, "False");
        assert_eq!(cond(&s, "Ready").observed_generation, Some(3));
        assert_eq!(s.observed_generation, Some(3));
    }

    #[test]
    fn one_waiting_component_holds_back_ready() {
        let verdict = Verdict::Components(vec![
            outcome(
                ComponentId::Couchdb,
                Outcome::Progressing("StatefulSet couchdb: 0/1 ready".into()),
            ),
            outcome(ComponentId::Redis, Outcome::Ready),
        ]);
        let s = desired_status(&verdict, &empty(), Some(1), &time(T1));
        assert_eq!(state(&s, ComponentId::Couchdb), "?");
        assert_eq!(controller(&s), "Progressing");
        assert_eq!(cond(&s, "Ready").status, "False");
        assert_eq!(cond(&s, "Progressing").status, "True");
        assert!(
            cond(&s, "Progressing")
                .message
                .contains("couchdb: StatefulSet couchdb: 0/1")
        );
    }

    #[test]
    fn failure_is_error_and_degraded() {
        let verdict = Verdict::Components(vec![
            outcome(
                ComponentId::Couchdb,
                Outcome::Failed("Job couchdb-init failed: BackoffLimitExceeded".into()),
            ),
            outcome(ComponentId::Redis, Outcome::Progressing("x".into())),
        ]);
        let s = desired_status(&verdict, &empty(), Some(1), &time(T1));
        assert_eq!(state(&s, ComponentId::Couchdb), "error");
        assert_eq!(controller(&s), "Degraded");
        assert_eq!(cond(&s, "Degraded").status, "True");
        assert_eq!(cond(&s, "Degraded").reason, "ComponentFailed");
        assert!(cond(&s, "Degraded").message.contains("couchdb-init"));
    }

    #[test]
    fn an_enabled_component_that_is_not_implemented_is_not_ready() {
        let verdict = Verdict::Components(vec![
            outcome(ComponentId::Couchdb, Outcome::Ready),
            outcome(ComponentId::Milvus, Outcome::NotImplemented),
        ]);
        let s = desired_status(&verdict, &empty(), Some(1), &time(T1));
        assert_eq!(state(&s, ComponentId::Milvus), "?");
        assert_eq!(controller(&s), "Degraded");
        assert_eq!(cond(&s, "Ready").status, "False");
        assert_eq!(cond(&s, "Ready").reason, "ComponentsNotImplemented");
        assert_eq!(cond(&s, "Degraded").status, "True");
        assert_eq!(cond(&s, "Degraded").reason, "ComponentsNotImplemented");
        assert!(cond(&s, "Degraded").message.contains("milvus"));
    }

    #[test]
    fn an_unsupported_configuration_is_not_ready_and_says_what_is_kept() {
        let verdict = Verdict::Components(vec![outcome(
            ComponentId::Openwhisk,
            Outcome::Unsupported("the enterprise mode is not supported".into()),
        )]);
        let s = desired_status(&verdict, &empty(), Some(1), &time(T1));
        assert_eq!(controller(&s), "Degraded");
        assert_eq!(cond(&s, "Ready").status, "False");
        let message = &cond(&s, "Degraded").message;
        assert!(
            message.contains("openwhisk: the enterprise mode") && message.contains("kept"),
            "{message}"
        );
    }

    #[test]
    fn invalid_spec_keeps_component_values() {
        let previous: WhiskStatus = serde_json::from_value(
            json!({"whisk_create": {"couchdb": "on", "controller": "Ready", "kopf": {"x": 1}}}),
        )
        .unwrap();
        let s = desired_status(
            &Verdict::Invalid("minio and seaweedfs".into()),
            &previous,
            Some(2),
            &time(T1),
        );
        assert_eq!(state(&s, ComponentId::Couchdb), "on");
        assert_eq!(controller(&s), "NotValid");
        assert!(
            !s.whisk_create.as_ref().unwrap().extra.contains_key("kopf"),
            "only string values are carried"
        );
        assert_eq!(cond(&s, "Degraded").reason, "InvalidSpec");
        assert_eq!(cond(&s, "Ready").status, "False");
    }

    #[test]
    fn an_operator_defect_is_degraded_not_the_users_fault() {
        let s = desired_status(
            &Verdict::Defect("couchdb: template broken".into()),
            &empty(),
            Some(2),
            &time(T1),
        );
        assert_eq!(controller(&s), "Degraded");
        assert_eq!(cond(&s, "Degraded").reason, "OperatorError");
        assert!(cond(&s, "Degraded").message.starts_with("operator error"));
    }

    #[test]
    fn transition_time_kept_while_status_unchanged_and_no_write_needed() {
        let verdict = Verdict::Components(vec![outcome(ComponentId::Couchdb, Outcome::Ready)]);
        let first = desired_status(&verdict, &empty(), Some(1), &time(T1));
        let second = desired_status(&verdict, &first, Some(1), &time(T2));
        assert_eq!(cond(&second, "Ready").last_transition_time, time(T1));
        assert!(!needs_write(&first, &second));

        let waiting = Verdict::Components(vec![outcome(
            ComponentId::Couchdb,
            Outcome::Progressing("x".into()),
        )]);
        let third = desired_status(&waiting, &second, Some(1), &time(T3));
        assert_eq!(cond(&third, "Ready").last_transition_time, time(T3));
        assert_eq!(cond(&third, "Degraded").last_transition_time, time(T1));
        assert!(needs_write(&second, &third));
    }

    #[test]
    fn generation_change_needs_write() {
        let verdict = Verdict::Components(vec![outcome(ComponentId::Couchdb, Outcome::Ready)]);
        let first = desired_status(&verdict, &empty(), Some(1), &time(T1));
        let second = desired_status(&verdict, &first, Some(2), &time(T2));
        assert!(needs_write(&first, &second));
        assert!(needs_write(&empty(), &first));
    }

    #[test]
    fn long_messages_are_truncated() {
        let verdict = Verdict::Invalid("x".repeat(5000));
        let s = desired_status(&verdict, &empty(), None, &time(T1));
        assert!(cond(&s, "Ready").message.len() <= MAX_MESSAGE + 3);
        assert!(s.observed_generation.is_none());
    }
}
