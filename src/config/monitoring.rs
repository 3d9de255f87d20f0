//! The monitoring stack's configuration: Prometheus with kube-state-metrics, and Alertmanager
//! with its Slack and e-mail receivers when enabled.

use super::{ConfigError, positive};
use crate::crd::{AlertManagerSpec, WhiskSpec};
use crate::secret::Secret;

/// The original's images.
pub const PROMETHEUS_IMAGE: &str = "quay.io/prometheus/prometheus:v2.43.1";
pub const CONFIG_RELOADER_IMAGE: &str =
    "quay.io/prometheus-operator/prometheus-config-reloader:v0.65.1";
pub const KUBE_STATE_METRICS_IMAGE: &str =
    "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.8.0";
pub const ALERTMANAGER_IMAGE: &str = "quay.io/prometheus/alertmanager:v0.25.0";

/// The SMTP relay of the e-mail receiver (the original's: the `gmail` section).
pub const SMARTHOST: &str = "smtp.gmail.com:587";

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Monitoring {
    /// Claim `nuvolaris-prometheus-server-pvc`, in GiB.
    pub prometheus_volume_gi: u32,
    /// `monitoring.alert-manager.enabled`.
    pub alertmanager: Option<Alertmanager>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Alertmanager {
    /// Claim `storage-nuvolaris-prometheus-alertmanager`, in GiB.
    pub volume_gi: u32,
    pub slack: Option<Slack>,
    pub email: Option<Email>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Slack {
    pub channel: String,
    /// The incoming-webhook URL: a credential (it posts to the channel).
    #[serde(skip)]
    pub api_url: Secret,
    /// Receives every alert the other routes do not take.
    pub default: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Email {
    pub to: String,
    pub from: String,
    pub username: String,
    #[serde(skip)]
    pub password: Secret,
    pub default: bool,
}

impl Monitoring {
    /// The settings; checked only when `enabled` (a disabled stack's leftovers block nothing).
    pub(super) fn from_spec(spec: &WhiskSpec, enabled: bool) -> Result<Monitoring, ConfigError> {
        let monitoring = spec.monitoring.clone().unwrap_or_default();
        let am = monitoring.alert_manager.clone().unwrap_or_default();
        let alertmanager = if am.enabled.unwrap_or(false) {
            Some(alertmanager(&am, enabled)?)
        } else {
            None
        };
        Ok(Monitoring {
            prometheus_volume_gi: positive(
                monitoring.prometheus.as_ref().and_then(|p| p.volume_size),
            )
            .unwrap_or(10),
            alertmanager,
        })
    }
}

fn alertmanager(am: &AlertManagerSpec, check: bool) -> Result<Alertmanager, ConfigError> {
    // A receiver needs what it sends with; the original rendered empty strings (or its own
    // pod's environment) and Alertmanager failed later, far from the spec.
    let required = |value: Option<&String>, field: &str| -> Result<String, ConfigError> {
        match value.map(|v| v.trim()).filter(|v| !v.is_empty()) {
            Some(v) => Ok(v.to_owned()),
            None if !check => Ok(String::new()),
            None => Err(ConfigError::invalid(
                format!("monitoring.alert-manager.{field}"),
                format!(
                    "monitoring.alert-manager.{field} is required when the receiver is enabled"
                ),
            )),
        }
    };
    let slack = match am.slack.as_ref().filter(|s| s.enabled.unwrap_or(false)) {
        None => None,
        Some(s) => Some(Slack {
            channel: s
                .slack_channel_name
                .clone()
                .filter(|c| !c.trim().is_empty())
                .unwrap_or_else(|| "#monitoring-nuvolaris".to_owned()),
            api_url: Secret::new(required(s.slack_api_url.as_ref(), "slack.slack_api_url")?),
            default: s.default.unwrap_or(false),
        }),
    };
    let email = match am.gmail.as_ref().filter(|g| g.enabled.unwrap_or(false)) {
        None => None,
        Some(g) => Some(Email {
            to: required(g.to.as_ref(), "gmail.to")?,
            from: required(g.from.as_ref(), "gmail.from")?,
            username: required(g.username.as_ref(), "gmail.username")?,
            password: Secret::new(required(g.password.as_ref(), "gmail.password")?),
            // `gmail.false` is the key the original read by mistake (inventory §18.8)
            default: g.default.or(g.false_).unwrap_or(false),
        }),
    };
    Ok(Alertmanager {
        volume_gi: positive(am.volume_size).unwrap_or(2),
        slack,
        email,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn monitoring(value: serde_json::Value) -> Result<Monitoring, ConfigError> {
        let spec: WhiskSpec = serde_json::from_value(json!({"monitoring": value})).expect("spec");
        Monitoring::from_spec(&spec, true)
    }

    #[test]
    fn alertmanager_is_optional_and_receivers_follow_their_switches() {
        let m = monitoring(json!({})).expect("valid");
        assert_eq!(
            (m.prometheus_volume_gi, m.alertmanager.is_none()),
            (10, true)
        );
        let m = monitoring(json!({"alert-manager": {"enabled": true, "volume-size": 3,
            "slack": {"enabled": true, "default": true, "slack_api_url": "https://hooks.example/x"},
            "gmail": {"enabled": false}}}))
        .expect("valid");
        let am = m.alertmanager.expect("enabled");
        let slack = am.slack.expect("slack on");
        assert_eq!(
            (
                slack.channel.as_str(),
                slack.api_url.expose(),
                slack.default
            ),
            ("#monitoring-nuvolaris", "https://hooks.example/x", true)
        );
        assert!(am.email.is_none());
        assert_eq!(am.volume_gi, 3);
    }

    #[test]
    fn an_enabled_receiver_without_credentials_is_invalid_with_the_field() {
        let err = monitoring(json!({"alert-manager": {"enabled": true,
            "slack": {"enabled": true, "slack_api_url": " "}}}))
        .expect_err("no webhook");
        assert!(
            matches!(&err, ConfigError::Invalid { field, .. } if field == "monitoring.alert-manager.slack.slack_api_url"),
            "{err:?}"
        );
        let err = monitoring(json!({"alert-manager": {"enabled": true,
            "gmail": {"enabled": true, "to": "a@b.c", "from": "d@e.f", "username": "u"}}}))
        .expect_err("no password");
        assert!(
            matches!(&err, ConfigError::Invalid { field, .. } if field == "monitoring.alert-manager.gmail.password"),
            "{err:?}"
        );
        // the original's misspelt `gmail.false` still means default
        let m = monitoring(json!({"alert-manager": {"enabled": true,
            "gmail": {"enabled": true, "false": true, "to": "a@b.c", "from": "d@e.f",
                      "username": "u", "password": "p"}}}))
        .expect("valid");
        assert!(
            m.alertmanager
                .and_then(|a| a.email)
                .is_some_and(|e| e.default)
        );
    }
}
