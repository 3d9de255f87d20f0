//! The Whisk status: computed purely from the reconcile outcome and the previous status.
//!
//! Contract kept from the original operator: `.status.whisk_create.<component>` is
//! `on` (deployed and ready), `off` (disabled), `error` (apply failed or a setup Job failed) or
//! `?` (being deployed, or enabled but not implemented by this operator version).
//! `.status.whisk_create.controller` is always written (never omitted, so a stale value written
//! by the Python operator cannot survive): `Ready` when every enabled, implemented component is
//! ready; otherwise `Progressing`, `Degraded` (some component failed) or `NotValid` (the spec
//! was rejected). Keys written by others are kept.
//!
//! Added: `conditions` `Ready`, `Progressing`, `Degraded` (reason, message,
//! observedGeneration; lastTransitionTime kept while the status does not change) and
//! `observedGeneration`. Components enabled but not implemented do not hold back `Ready`
//! (there is nothing to wait for); they are listed in `Degraded` (reason
//! `ComponentsNotImplemented`).

use serde_json::{Map, Value, json};

/// What happened to one component in this reconcile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ready,
    Progressing(String),
    Failed(String),
    Disabled,
    NotImplemented,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentOutcome {
    pub name: String,
    pub outcome: Outcome,
}

/// The result of a reconcile, as far as the status is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Components(Vec<ComponentOutcome>),
    /// The spec was rejected; nothing was applied or deleted.
    Invalid(String),
}

pub const CONDITION_READY: &str = "Ready";
pub const CONDITION_PROGRESSING: &str = "Progressing";
pub const CONDITION_DEGRADED: &str = "Degraded";

const MAX_MESSAGE: usize = 1024;

/// A short summary used for the controller key, the conditions and the requeue decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub controller: &'static str,
    pub ready: bool,
    pub waiting: Vec<String>,
    pub failed: Vec<String>,
    pub not_implemented: Vec<String>,
    pub invalid: Option<String>,
}

impl Verdict {
    pub fn summary(&self) -> Summary {
        let mut summary = Summary {
            controller: "Ready",
            ready: true,
            waiting: Vec::new(),
            failed: Vec::new(),
            not_implemented: Vec::new(),
            invalid: None,
        };
        match self {
            Verdict::Invalid(message) => {
                summary.controller = "NotValid";
                summary.ready = false;
                summary.invalid = Some(message.clone());
            }
            Verdict::Components(outcomes) => {
                for c in outcomes {
                    match &c.outcome {
                        Outcome::Ready | Outcome::Disabled => {}
                        Outcome::Progressing(m) => summary.waiting.push(format!("{}: {m}", c.name)),
                        Outcome::Failed(m) => summary.failed.push(format!("{}: {m}", c.name)),
                        Outcome::NotImplemented => summary.not_implemented.push(c.name.clone()),
                    }
                }
                if !summary.failed.is_empty() {
                    summary.controller = "Degraded";
                    summary.ready = false;
                } else if !summary.waiting.is_empty() {
                    summary.controller = "Progressing";
                    summary.ready = false;
                }
            }
        }
        summary
    }
}

/// The status value of one component.
pub fn component_value(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Ready => "on",
        Outcome::Progressing(_) | Outcome::NotImplemented => "?",
        Outcome::Failed(_) => "error",
        Outcome::Disabled => "off",
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

/// The desired `.status`, given the previous one (`Value::Null` when absent).
pub fn desired_status(
    verdict: &Verdict,
    previous: &Value,
    generation: Option<i64>,
    now: &str,
) -> Value {
    let summary = verdict.summary();
    let mut whisk_create = Map::new();
    // Keep what others (or earlier versions) wrote, so an SSA by us never drops it.
    if let Some(old) = previous.get("whisk_create").and_then(Value::as_object) {
        for (key, value) in old {
            if value.is_string() {
                whisk_create.insert(key.clone(), value.clone());
            }
        }
    }
    if let Verdict::Components(outcomes) = verdict {
        for c in outcomes {
            whisk_create.insert(
                c.name.clone(),
                Value::String(component_value(&c.outcome).into()),
            );
        }
    }
    whisk_create.insert(
        "controller".into(),
        Value::String(summary.controller.into()),
    );

    let (ready_reason, ready_message) = if let Some(invalid) = &summary.invalid {
        ("InvalidSpec", invalid.clone())
    } else if !summary.failed.is_empty() {
        ("ComponentFailed", summary.failed.join("; "))
    } else if !summary.waiting.is_empty() {
        ("WaitingForComponents", summary.waiting.join("; "))
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
    } else {
        (
            false,
            "ReconcileComplete",
            "all objects applied".to_string(),
        )
    };
    let (degraded, degraded_reason, degraded_message) = if let Some(invalid) = &summary.invalid {
        (true, "InvalidSpec", invalid.clone())
    } else if !summary.failed.is_empty() {
        (true, "ComponentFailed", summary.failed.join("; "))
    } else if !summary.not_implemented.is_empty() {
        (
            true,
            "ComponentsNotImplemented",
            format!(
                "enabled but not implemented by this operator version: {}",
                summary.not_implemented.join(", ")
            ),
        )
    } else {
        (false, "AsExpected", "no problems".to_string())
    };
    let previous_conditions = previous
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let condition = |type_: &str, status: bool, reason: &str, message: String| -> Value {
        let status = if status { "True" } else { "False" };
        let kept_time = previous_conditions
            .iter()
            .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))
            .filter(|c| c.get("status").and_then(Value::as_str) == Some(status))
            .and_then(|c| c.get("lastTransitionTime"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut c = json!({
            "type": type_,
            "status": status,
            "reason": reason,
            "message": truncate(message),
            "lastTransitionTime": kept_time.unwrap_or_else(|| now.to_string()),
        });
        if let Some(generation) = generation {
            c["observedGeneration"] = json!(generation);
        }
        c
    };
    let conditions = vec![
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
    ];
    let mut status = json!({
        "whisk_create": whisk_create,
        "conditions": conditions,
    });
    if let Some(generation) = generation {
        status["observedGeneration"] = json!(generation);
    }
    status
}

/// Whether writing `desired` would change anything in `previous` (lastTransitionTime aside:
/// it is carried over when nothing else changed).
pub fn needs_write(previous: &Value, desired: &Value) -> bool {
    if previous.get("observedGeneration") != desired.get("observedGeneration") {
        return true;
    }
    let old_create = previous.get("whisk_create");
    if let Some(new_create) = desired.get("whisk_create").and_then(Value::as_object) {
        for (key, value) in new_create {
            if old_create.and_then(|o| o.get(key)) != Some(value) {
                return true;
            }
        }
    }
    let old_conditions = previous
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for new in desired
        .get("conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(old) = old_conditions
            .iter()
            .find(|c| c.get("type") == new.get("type"))
        else {
            return true;
        };
        for field in ["status", "reason", "message", "observedGeneration"] {
            if old.get(field) != new.get(field) {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(name: &str, outcome: Outcome) -> ComponentOutcome {
        ComponentOutcome {
            name: name.into(),
            outcome,
        }
    }

    fn cond<'a>(status: &'a Value, type_: &str) -> &'a Value {
        status["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == type_)
            .unwrap()
    }

    #[test]
    fn all_ready_means_controller_ready() {
        let verdict = Verdict::Components(vec![
            outcome("couchdb", Outcome::Ready),
            outcome("redis", Outcome::Ready),
            outcome("minio", Outcome::Disabled),
        ]);
        let s = desired_status(&verdict, &Value::Null, Some(3), "T1");
        assert_eq!(s["whisk_create"]["couchdb"], "on");
        assert_eq!(s["whisk_create"]["minio"], "off");
        assert_eq!(s["whisk_create"]["controller"], "Ready");
        assert_eq!(cond(&s, "Ready")["status"], "True");
        assert_eq!(cond(&s, "Progressing")["status"], "False");
        assert_eq!(cond(&s, "Degraded")["status"], "False");
        assert_eq!(cond(&s, "Ready")["observedGeneration"], 3);
        assert_eq!(s["observedGeneration"], 3);
    }

    #[test]
    fn one_waiting_component_holds_back_ready() {
        let verdict = Verdict::Components(vec![
            outcome(
                "couchdb",
                Outcome::Progressing("StatefulSet couchdb: 0/1 ready".into()),
            ),
            outcome("redis", Outcome::Ready),
        ]);
        let s = desired_status(&verdict, &Value::Null, Some(1), "T1");
        assert_eq!(s["whisk_create"]["couchdb"], "?");
        assert_eq!(s["whisk_create"]["controller"], "Progressing");
        assert_eq!(cond(&s, "Ready")["status"], "False");
        assert_eq!(cond(&s, "Progressing")["status"], "True");
        assert!(
            cond(&s, "Progressing")["message"]
                .as_str()
                .unwrap()
                .contains("couchdb: StatefulSet couchdb: 0/1")
        );
    }

    #[test]
    fn failure_is_error_and_degraded() {
        let verdict = Verdict::Components(vec![
            outcome(
                "couchdb",
                Outcome::Failed("Job couchdb-init failed: BackoffLimitExceeded".into()),
            ),
            outcome("redis", Outcome::Progressing("x".into())),
        ]);
        let s = desired_status(&verdict, &Value::Null, Some(1), "T1");
        assert_eq!(s["whisk_create"]["couchdb"], "error");
        assert_eq!(s["whisk_create"]["controller"], "Degraded");
        assert_eq!(cond(&s, "Degraded")["status"], "True");
        assert_eq!(cond(&s, "Degraded")["reason"], "ComponentFailed");
        assert!(
            cond(&s, "Degraded")["message"]
                .as_str()
                .unwrap()
                .contains("couchdb-init")
        );
    }

    #[test]
    fn not_implemented_is_unknown_does_not_block_ready_but_is_reported() {
        let verdict = Verdict::Components(vec![
            outcome("couchdb", Outcome::Ready),
            outcome("milvus", Outcome::NotImplemented),
        ]);
        let s = desired_status(&verdict, &Value::Null, Some(1), "T1");
        assert_eq!(s["whisk_create"]["milvus"], "?");
        assert_eq!(s["whisk_create"]["controller"], "Ready");
        assert_eq!(cond(&s, "Degraded")["status"], "True");
        assert_eq!(cond(&s, "Degraded")["reason"], "ComponentsNotImplemented");
        assert!(
            cond(&s, "Degraded")["message"]
                .as_str()
                .unwrap()
                .contains("milvus")
        );
    }

    #[test]
    fn invalid_spec_keeps_component_values() {
        let previous =
            json!({"whisk_create": {"couchdb": "on", "controller": "Ready", "kopf": {"x": 1}}});
        let s = desired_status(
            &Verdict::Invalid("minio and seaweedfs".into()),
            &previous,
            Some(2),
            "T1",
        );
        assert_eq!(s["whisk_create"]["couchdb"], "on");
        assert_eq!(s["whisk_create"]["controller"], "NotValid");
        assert!(
            s["whisk_create"].get("kopf").is_none(),
            "only string values are carried"
        );
        assert_eq!(cond(&s, "Degraded")["reason"], "InvalidSpec");
        assert_eq!(cond(&s, "Ready")["status"], "False");
    }

    #[test]
    fn transition_time_kept_while_status_unchanged_and_no_write_needed() {
        let verdict = Verdict::Components(vec![outcome("couchdb", Outcome::Ready)]);
        let first = desired_status(&verdict, &Value::Null, Some(1), "T1");
        let second = desired_status(&verdict, &first, Some(1), "T2");
        assert_eq!(cond(&second, "Ready")["lastTransitionTime"], "T1");
        assert!(!needs_write(&first, &second));

        let waiting =
            Verdict::Components(vec![outcome("couchdb", Outcome::Progressing("x".into()))]);
        let third = desired_status(&waiting, &second, Some(1), "T3");
        assert_eq!(cond(&third, "Ready")["lastTransitionTime"], "T3");
        assert_eq!(cond(&third, "Degraded")["lastTransitionTime"], "T1");
        assert!(needs_write(&second, &third));
    }

    #[test]
    fn generation_change_needs_write() {
        let verdict = Verdict::Components(vec![outcome("couchdb", Outcome::Ready)]);
        let first = desired_status(&verdict, &Value::Null, Some(1), "T1");
        let second = desired_status(&verdict, &first, Some(2), "T2");
        assert!(needs_write(&first, &second));
        assert!(needs_write(&Value::Null, &first));
    }

    #[test]
    fn long_messages_are_truncated() {
        let verdict = Verdict::Invalid("x".repeat(5000));
        let s = desired_status(&verdict, &Value::Null, None, "T");
        assert!(cond(&s, "Ready")["message"].as_str().unwrap().len() <= MAX_MESSAGE + 3);
        assert!(s.get("observedGeneration").is_none());
    }
}
