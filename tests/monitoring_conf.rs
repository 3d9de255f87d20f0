//! The configuration files the monitoring component renders, checked by the real tools of the
//! versions the original deploys: `promtool check config` / `check rules` (Prometheus 2.43.1)
//! and `amtool check-config` (Alertmanager 0.25.0), built from Go modules
//! (`tools/testdeps/promtool.sh`, `amtool.sh`). They are taken from the rendered ConfigMaps,
//! for monitoring alone and for the enterprise installation, with and without Alertmanager and
//! with every combination of receivers.

mod support;

use nuvolaris_operator::components::monitoring::PROMETHEUS_CONFIG_DIR;
use nuvolaris_operator::components::{self, ComponentRender};
use nuvolaris_operator::config::{ClusterFacts, Config, GeneratedSecrets};
use nuvolaris_operator::crd::{ComponentId, Whisk};
use serde_json::{Value, json};
use support::servers::{amtool_check_config, promtool_check_config, promtool_check_rules};

fn config(spec: Value) -> Config {
    let whisk: Whisk = serde_json::from_value(json!({
        "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
        "metadata": {"name": "controller", "namespace": "nuvolaris"},
        "spec": spec,
    }))
    .expect("a Whisk");
    let secrets = GeneratedSecrets::placeholders(&components::generated_secret_keys());
    Config::from_whisk(&whisk, &ClusterFacts::default(), &secrets).expect("a valid spec")
}

/// The ConfigMaps the monitoring component renders.
fn config_maps(cfg: &Config) -> Vec<Value> {
    components::render_all(cfg)
        .expect("renders")
        .into_iter()
        .find_map(|r| match r {
            ComponentRender::Rendered(r) if r.id == ComponentId::Monitoring => Some(r.objects),
            _ => None,
        })
        .expect("monitoring is rendered")
        .into_iter()
        .filter(|o| o["kind"] == "ConfigMap")
        .collect()
}

fn file(config_maps: &[Value], prefix: &str, key: &str) -> Option<String> {
    config_maps
        .iter()
        .filter(|o| {
            o["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with(prefix))
        })
        .find_map(|o| o["data"][key].as_str().map(str::to_owned))
}

const ENTERPRISE: [&str; 5] = ["openwhisk", "invoker", "kafka", "zookeeper", "couchdb"];

fn spec(components: &[&str], alert_manager: Value) -> Value {
    let mut switches = serde_json::Map::new();
    switches.insert("monitoring".into(), json!(true));
    for c in components {
        switches.insert((*c).into(), json!(true));
    }
    json!({"components": switches, "monitoring": {"alert-manager": alert_manager}})
}

/// Where Kubernetes mounts the pod's service account token and the cluster's CA.
const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount/";

/// prometheus.yml and its rule files pass `promtool check config` (which loads the rule files
/// and checks that the credential files exist) and `promtool check rules`. The pod's mount
/// directories are made relative, with the files the pod would have there beside the
/// configuration.
fn check_prometheus(cfg: &Config) -> String {
    let maps = config_maps(cfg);
    let prometheus =
        file(&maps, "nuvolaris-prometheus-server", "prometheus.yml").expect("prometheus.yml");
    let alerting = file(&maps, "nuvolaris-prometheus-server", "alerting_rules.yml")
        .expect("alerting_rules.yml");
    let recording = file(&maps, "nuvolaris-prometheus-server", "recording_rules.yml")
        .expect("recording_rules.yml");
    let local = prometheus
        .replace(&format!("{PROMETHEUS_CONFIG_DIR}/"), "")
        .replace(SERVICE_ACCOUNT_DIR, "serviceaccount/");
    let report = promtool_check_config(
        &local,
        &[
            ("alerting_rules.yml", &alerting),
            ("recording_rules.yml", &recording),
            ("serviceaccount/token", "a-service-account-token"),
            ("serviceaccount/ca.crt", ""),
        ],
    )
    .unwrap_or_else(|report| panic!("promtool refuses prometheus.yml:\n{report}\n{prometheus}"));
    for rules in [&alerting, &recording] {
        promtool_check_rules(rules)
            .unwrap_or_else(|report| panic!("promtool refuses the rules:\n{report}\n{rules}"));
    }
    assert!(report.contains("SUCCESS"), "{report}");
    prometheus
}

#[test]
fn prometheus_yml_and_its_rules_pass_promtool() {
    let alone = check_prometheus(&config(spec(&[], json!({}))));
    assert!(!alone.contains("kafka"), "{alone}");
    let enterprise = check_prometheus(&config(spec(&ENTERPRISE, json!({"enabled": true}))));
    for job in [
        "ow-controller",
        "kafka",
        "kafka-volume",
        "kube-state-metrics",
        "cadvisor",
    ] {
        assert!(
            enterprise.contains(&format!("job_name: {job}\n")),
            "{job}: {enterprise}"
        );
    }
    assert!(enterprise.contains("nuvolaris-prometheus-alertmanager:9093"));
}

#[test]
fn a_broken_rule_is_refused_by_the_same_check() {
    // the checks above can fail: the same tool refuses a rule with a bad expression
    let broken = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up ==\n";
    assert!(promtool_check_rules(broken).is_err());
}

#[test]
fn alertmanager_yml_passes_amtool_for_every_receiver_choice() {
    let slack = |default: bool| {
        json!({"enabled": true, "default": default, "slack_channel_name": "#ops",
               "slack_api_url": "https://hooks.slack.com/services/T0/B0/x"})
    };
    let gmail = |default: bool| {
        json!({"enabled": true, "default": default, "to": "ops@example.org",
               "from": "alerts@example.org", "username": "alerts@example.org", "password": "p"})
    };
    let cases = [
        ("no receiver", json!({"enabled": true}), "null"),
        (
            "slack",
            json!({"enabled": true, "slack": slack(true)}),
            "slack-notifications",
        ),
        (
            "e-mail",
            json!({"enabled": true, "gmail": gmail(true)}),
            "email-receiver",
        ),
        (
            "both, slack first",
            json!({"enabled": true, "slack": slack(true), "gmail": gmail(true)}),
            "slack-notifications",
        ),
        (
            "both, no default",
            json!({"enabled": true, "slack": slack(false), "gmail": gmail(false)}),
            "null",
        ),
        // the original's sample: placeholders left by an unset environment are still text
        (
            "the original's whisk-full sample",
            json!({"enabled": true, "volume-size": 2,
                "slack": {"enabled": true, "default": true, "slack_channel_name": "#monitoring-nuvolaris",
                          "slack_api_url": "${SLACK_API_URL}"},
                "gmail": {"enabled": true, "default": false, "from": "${ALERT_EMAIL_FROM}",
                          "to": "${ALERT_EMAIL_TO}", "username": "${GMAIL_USERNAME}",
                          "password": "${GMAIL_PASSWORD}"}}),
            "slack-notifications",
        ),
    ];
    for (case, alert_manager, receiver) in cases {
        let cfg = config(spec(&ENTERPRISE, alert_manager));
        let maps = config_maps(&cfg);
        let yml = file(
            &maps,
            "nuvolaris-prometheus-alertmanager",
            "alertmanager.yml",
        )
        .unwrap_or_else(|| panic!("{case}: no alertmanager.yml"));
        let report = amtool_check_config(&yml)
            .unwrap_or_else(|report| panic!("{case}: amtool refuses:\n{report}\n{yml}"));
        assert!(report.contains("SUCCESS"), "{case}: {report}");
        let parsed: Value = serde_yaml_ng::from_str(&yml).expect("YAML");
        assert_eq!(parsed["route"]["receiver"], receiver, "{case}: {yml}");
        // credentials are files from the Secret, never in the ConfigMap
        for secret in ["hooks.slack.com", "${SLACK_API_URL}", "${GMAIL_PASSWORD}"] {
            assert!(
                !yml.contains(secret),
                "{case}: {secret} in alertmanager.yml"
            );
        }
    }
    // without Alertmanager there is no alertmanager.yml, and no alerting section
    let maps = config_maps(&config(spec(&[], json!({"enabled": false}))));
    assert!(
        file(
            &maps,
            "nuvolaris-prometheus-alertmanager",
            "alertmanager.yml"
        )
        .is_none()
    );
}

#[test]
fn every_alert_has_a_severity_the_routes_know() {
    let maps = config_maps(&config(spec(&ENTERPRISE, json!({"enabled": true}))));
    let rules: Value = serde_yaml_ng::from_str(
        &file(&maps, "nuvolaris-prometheus-server", "alerting_rules.yml").expect("rules"),
    )
    .expect("YAML");
    let alerts: Vec<&Value> = rules["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .collect();
    assert!(alerts.len() >= 8, "{rules}");
    for alert in alerts {
        let severity = alert["labels"]["severity"].as_str().unwrap_or_default();
        assert!(
            ["critical", "warning"].contains(&severity),
            "{}: severity {severity:?}",
            alert["alert"]
        );
    }
}
