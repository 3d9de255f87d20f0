//! Monitoring: Prometheus (scrape jobs for what the installation runs, alert rules), the
//! config reloader, kube-state-metrics and, when enabled, Alertmanager with Slack and e-mail
//! receivers.
//!
//! Deploys: Deployments and Services `nuvolaris-prometheus-server` (9999, node port 30299) and
//! `nuvolaris-prometheus-kube-state-metrics`, ConfigMap `nuvolaris-prometheus-server`
//! (prometheus.yml, alerting_rules.yml, recording_rules.yml), claim
//! `nuvolaris-prometheus-server-pvc`, their ServiceAccounts and, per installation, the
//! ClusterRoles and ClusterRoleBindings `<name>-<namespace>` that let Prometheus discover and
//! scrape the nodes and kube-state-metrics list the cluster's objects. With Alertmanager:
//! Deployment, Service and ServiceAccount `nuvolaris-prometheus-alertmanager`, the generated
//! ConfigMap `nuvolaris-prometheus-alertmanager-<hash>` (alertmanager.yml), the generated
//! Secret `nuvolaris-prometheus-alertmanager-receivers-<hash>` (the Slack webhook URL and the
//! SMTP password, read through `*_file` settings: never in a ConfigMap) and the claim
//! `storage-nuvolaris-prometheus-alertmanager`.
//!
//! The configuration files are built as data and serialized, so no value can break their
//! YAML; tests/monitoring_conf.rs checks them with the real `promtool` and `amtool`.

use minijinja::context;
use serde_json::{Value, json};

use super::kit::{MountedClaim, Overlay, Workload};
use super::{Component, RenderError};
use crate::apply::kinds::{self, KnownKind};
use crate::config::kafka::{KAFKA_METRICS_PORT, KAFKA_SERVICE, KAFKA_VOLUME_METRICS_PORT};
use crate::config::monitoring::{self as settings, Alertmanager, SMARTHOST};
use crate::config::{Config, Mode};
use crate::crd::ComponentId;

pub struct Monitoring;

const PROMETHEUS: Workload = Workload::deployment("nuvolaris-prometheus-server");
const KUBE_STATE_METRICS: Workload =
    Workload::deployment("nuvolaris-prometheus-kube-state-metrics");
const ALERTMANAGER: Workload = Workload::deployment("nuvolaris-prometheus-alertmanager");

/// The ConfigMap Prometheus reads (a fixed name: the reloader applies changes in place).
pub const PROMETHEUS_CONFIGMAP: &str = "nuvolaris-prometheus-server";
/// Where the server mounts it.
pub const PROMETHEUS_CONFIG_DIR: &str = "/etc/config";
/// Where Alertmanager finds the receivers' credentials.
pub const RECEIVERS_DIR: &str = "/etc/alertmanager-secrets";
const RECEIVERS_SECRET: &str = "nuvolaris-prometheus-alertmanager-receivers";
const ALERTMANAGER_PORT: u16 = 9093;
/// The images' own user (`nobody`), for the pod security patch.
const NOBODY: u32 = 65534;

impl Component for Monitoring {
    fn id(&self) -> ComponentId {
        ComponentId::Monitoring
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        let m = &cfg.monitoring;
        let files = PrometheusFiles::of(cfg);
        let config_map = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": PROMETHEUS_CONFIGMAP, "labels": {
                "app.kubernetes.io/component": "server",
                "app.kubernetes.io/instance": "nuvolaris-prometheus",
                "app.kubernetes.io/name": "prometheus",
            }},
            "data": {
                "prometheus.yml": yaml(&files.prometheus)?,
                "alerting_rules.yml": yaml(&files.alerting_rules)?,
                "recording_rules.yml": yaml(&files.recording_rules)?,
            },
        });
        let mut overlay = Overlay::new(self.id(), &cfg.namespace)
            .base(
                "monitoring",
                &[
                    "serviceaccounts.yaml",
                    "prometheus.yaml",
                    "kube-state-metrics.yaml",
                ],
            )?
            .object(&config_map)
            .persistent_volume_claim(&MountedClaim {
                name: "nuvolaris-prometheus-server-pvc",
                size_gi: m.prometheus_volume_gi,
                storage_class: cfg.storage_class.clone(),
            })?;
        for object in cluster_rbac(&cfg.namespace) {
            overlay = overlay.object(&object);
        }
        overlay = overlay
            .image("quay.io/prometheus/prometheus", settings::PROMETHEUS_IMAGE)
            .image(
                "quay.io/prometheus-operator/prometheus-config-reloader",
                settings::CONFIG_RELOADER_IMAGE,
            )
            .image(
                "registry.k8s.io/kube-state-metrics/kube-state-metrics",
                settings::KUBE_STATE_METRICS_IMAGE,
            )
            .scheduling(PROMETHEUS, cfg.scheduling, "prometheus")?
            .scheduling(KUBE_STATE_METRICS, cfg.scheduling, "kube-state-metrics")?;
        if cfg.pod_security {
            overlay = overlay.pod_security_as(PROMETHEUS, NOBODY)?;
        }
        if let Some(am) = &m.alertmanager {
            overlay = alertmanager(overlay, cfg, am)?;
        }
        Ok(overlay)
    }

    fn kinds(&self) -> &'static [KnownKind] {
        &[
            kinds::SERVICE_ACCOUNT,
            kinds::CLUSTER_ROLE,
            kinds::CLUSTER_ROLE_BINDING,
            kinds::SECRET,
            kinds::CONFIG_MAP,
            kinds::PERSISTENT_VOLUME_CLAIM,
            kinds::SERVICE,
            kinds::DEPLOYMENT,
        ]
    }
}

fn alertmanager(overlay: Overlay, cfg: &Config, am: &Alertmanager) -> Result<Overlay, RenderError> {
    let mut credentials: Vec<(&str, &str)> = Vec::new();
    if let Some(slack) = &am.slack {
        credentials.push(("slack_api_url", slack.api_url.expose()));
    }
    if let Some(email) = &am.email {
        credentials.push(("smtp_password", email.password.expose()));
    }
    let mut overlay = overlay
        .base("alertmanager", &["alertmanager.yaml"])?
        .config_map(
            "nuvolaris-prometheus-alertmanager",
            [("alertmanager.yml", yaml(&alertmanager_yml(am))?)],
        )
        .persistent_volume_claim(&MountedClaim {
            name: "storage-nuvolaris-prometheus-alertmanager",
            size_gi: am.volume_gi,
            storage_class: cfg.storage_class.clone(),
        })?
        .image(
            "quay.io/prometheus/alertmanager",
            settings::ALERTMANAGER_IMAGE,
        )
        .scheduling(ALERTMANAGER, cfg.scheduling, "alertmanager")?;
    if !credentials.is_empty() {
        overlay = overlay.secret(RECEIVERS_SECRET, credentials).patch(
            "alertmanager/receivers-secret.yaml",
            context! { dir => RECEIVERS_DIR, secret => RECEIVERS_SECRET },
        )?;
    }
    if cfg.pod_security {
        overlay = overlay.pod_security_as(ALERTMANAGER, NOBODY)?;
    }
    Ok(overlay)
}

fn yaml(value: &Value) -> Result<String, RenderError> {
    serde_yaml_ng::to_string(value).map_err(|e| RenderError::Defect {
        component: ComponentId::Monitoring,
        message: format!("cannot serialize a configuration file: {e}"),
    })
}

/// The files of the Prometheus ConfigMap, as data.
pub struct PrometheusFiles {
    pub prometheus: Value,
    pub alerting_rules: Value,
    pub recording_rules: Value,
}

impl PrometheusFiles {
    pub fn of(cfg: &Config) -> PrometheusFiles {
        let kafka = cfg.enabled(ComponentId::Kafka);
        PrometheusFiles {
            prometheus: prometheus_yml(cfg, kafka),
            alerting_rules: alerting_rules(&cfg.namespace, kafka),
            recording_rules: recording_rules(),
        }
    }
}

/// prometheus.yml: the jobs of what this installation runs (the controller's metrics exist in
/// enterprise mode only, Kafka's when Kafka is on: a job without a target would fire alerts).
fn prometheus_yml(cfg: &Config, kafka: bool) -> Value {
    let statics = |job: &str, target: String| json!({"job_name": job, "static_configs": [{"targets": [target]}]});
    let kubelet = |job: &str, path: Option<&str>| {
        let mut job = json!({
            "job_name": job,
            "kubernetes_sd_configs": [{"role": "node"}],
            "scheme": "https",
            // kubelets usually serve self-signed certificates
            "tls_config": {
                "ca_file": "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
                "insecure_skip_verify": true,
            },
            "authorization": {
                "credentials_file": "/var/run/secrets/kubernetes.io/serviceaccount/token",
            },
        });
        if let Some(path) = path {
            job["metrics_path"] = json!(path);
        }
        job
    };
    let mut jobs = vec![statics("prometheus", "localhost:9999".to_owned())];
    if cfg.enabled(ComponentId::Openwhisk) && cfg.controller.mode == Mode::Enterprise {
        jobs.push(statics("ow-controller", "controller:3233".to_owned()));
    }
    if kafka {
        jobs.push(statics(
            "kafka",
            format!("{KAFKA_SERVICE}:{KAFKA_METRICS_PORT}"),
        ));
        jobs.push(statics(
            "kafka-volume",
            format!("{KAFKA_SERVICE}:{KAFKA_VOLUME_METRICS_PORT}"),
        ));
    }
    jobs.push(statics(
        "kube-state-metrics",
        format!("{}:8080", KUBE_STATE_METRICS.name),
    ));
    jobs.push(kubelet("kubelet", None));
    jobs.push(kubelet("cadvisor", Some("/metrics/cadvisor")));
    let mut config = json!({
        "global": {"scrape_interval": "1m", "scrape_timeout": "10s", "evaluation_interval": "1m"},
        "rule_files": [
            format!("{PROMETHEUS_CONFIG_DIR}/recording_rules.yml"),
            format!("{PROMETHEUS_CONFIG_DIR}/alerting_rules.yml"),
        ],
        "scrape_configs": jobs,
    });
    if cfg.monitoring.alertmanager.is_some() {
        config["alerting"] = json!({"alertmanagers": [{
            "scheme": "http",
            "static_configs": [{"targets": [format!("{}:{ALERTMANAGER_PORT}", ALERTMANAGER.name)]}],
        }]});
    }
    config
}

/// One alerting rule. `severity` is what Alertmanager routes on (critical, warning).
fn alert(
    name: &str,
    expr: String,
    wait: &str,
    severity: &str,
    service: &str,
    title: &str,
) -> Value {
    json!({
        "alert": name,
        "expr": expr,
        "for": wait,
        "labels": {"severity": severity, "service": service},
        "annotations": {"title": title},
    })
}

/// The alerts of the installation: unreachable targets, restarting or memory-starved
/// containers and filling volumes of its namespace, busy nodes, Kafka's heap and disk, and a
/// Prometheus that cannot load its configuration.
fn alerting_rules(namespace: &str, kafka: bool) -> Value {
    let ns = serde_json::to_string(namespace).unwrap_or_default();
    let mut groups = vec![
        json!({"name": "nuvolaris-targets", "rules": [
            alert("TargetDown", "up == 0".to_owned(), "5m", "critical", "prometheus",
                "{{ $labels.job }} target {{ $labels.instance }} is down"),
        ]}),
        json!({"name": "nuvolaris-pods", "rules": [
            alert("ContainerRestarted",
                format!("increase(kube_pod_container_status_restarts_total{{namespace={ns}}}[5m]) > 0"),
                "0m", "warning", "nuvolaris",
                "container {{ $labels.container }} of {{ $labels.pod }} restarted"),
            alert("ContainerNearMemoryLimit",
                format!("max by (pod, container) (container_memory_working_set_bytes{{namespace={ns}, container!=\"\"}}) / max by (pod, container) (container_spec_memory_limit_bytes{{namespace={ns}, container!=\"\"}} > 0) > 0.9"),
                "5m", "critical", "nuvolaris",
                "container {{ $labels.container }} of {{ $labels.pod }} uses more than 90% of its memory limit"),
            alert("VolumeNearlyFull",
                format!("kubelet_volume_stats_used_bytes{{namespace={ns}}} / kubelet_volume_stats_capacity_bytes{{namespace={ns}}} > 0.9"),
                "5m", "critical", "nuvolaris",
                "volume {{ $labels.persistentvolumeclaim }} is more than 90% full"),
        ]}),
        json!({"name": "nuvolaris-nodes", "rules": [
            alert("NodeMemoryHigh",
                "sum by (instance) (container_memory_working_set_bytes{id=\"/\"}) / sum by (instance) (machine_memory_bytes) > 0.9".to_owned(),
                "5m", "critical", "kubernetes",
                "node {{ $labels.instance }} uses more than 90% of its memory"),
            alert("NodeCpuHigh",
                "sum by (instance) (rate(container_cpu_usage_seconds_total{id=\"/\"}[5m])) / sum by (instance) (machine_cpu_cores) > 0.9".to_owned(),
                "5m", "critical", "kubernetes",
                "node {{ $labels.instance }} uses more than 90% of its CPUs"),
        ]}),
        json!({"name": "nuvolaris-prometheus", "rules": [
            alert("PrometheusConfigReloadFailed",
                "prometheus_config_last_reload_successful == 0".to_owned(),
                "5m", "warning", "prometheus",
                "Prometheus cannot load its new configuration"),
        ]}),
    ];
    if kafka {
        groups.push(json!({"name": "nuvolaris-kafka", "rules": [
            alert("KafkaHeapHigh",
                "jvm_memory_bytes_used{job=\"kafka\", area=\"heap\"} / jvm_memory_bytes_max{job=\"kafka\", area=\"heap\"} > 0.9".to_owned(),
                "5m", "warning", "kafka",
                "Kafka {{ $labels.instance }} uses more than 90% of its heap"),
            alert("KafkaVolumeNearlyFull",
                "volume_percentage_used{job=\"kafka-volume\"} > 90".to_owned(),
                "5m", "warning", "kafka",
                "Kafka's data volume is more than 90% full"),
        ]}));
    }
    json!({"groups": groups})
}

/// Aggregates the dashboards and rules reuse.
fn recording_rules() -> Value {
    json!({"groups": [{"name": "nuvolaris-aggregates", "rules": [
        {"record": "namespace_pod_container:container_cpu_usage_seconds:rate5m",
         "expr": "sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{container!=\"\"}[5m]))"},
        {"record": "namespace_pod_container:container_memory_working_set_bytes",
         "expr": "sum by (namespace, pod, container) (container_memory_working_set_bytes{container!=\"\"})"},
    ]}]})
}

/// alertmanager.yml: critical and warning alerts to Slack, critical ones by e-mail, the
/// default receiver as chosen (`default: true`), else `null` (the alerts are only shown in
/// Alertmanager). Credentials are read from [`RECEIVERS_DIR`].
pub fn alertmanager_yml(am: &Alertmanager) -> Value {
    let mut receivers = vec![json!({"name": "null"})];
    let mut routes = Vec::new();
    let mut default = "null";
    let mut global = serde_json::Map::new();
    if let Some(slack) = &am.slack {
        global.insert(
            "slack_api_url_file".into(),
            json!(format!("{RECEIVERS_DIR}/slack_api_url")),
        );
        receivers.push(json!({"name": "slack-notifications", "slack_configs": [{
            "channel": slack.channel,
            "send_resolved": true,
            "title": "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}",
            "text": "{{ range .Alerts }}*{{ .Annotations.title }}* ({{ .Labels.severity }})\n{{ end }}",
        }]}));
        routes.push(
            json!({"receiver": "slack-notifications", "group_wait": "10s",
            "matchers": ["severity=~\"critical|warning\""], "continue": true}),
        );
        if slack.default {
            default = "slack-notifications";
        }
    }
    if let Some(email) = &am.email {
        receivers.push(json!({"name": "email-receiver", "email_configs": [{
            "to": email.to,
            "from": email.from,
            "smarthost": SMARTHOST,
            "auth_username": email.username,
            "auth_identity": email.username,
            "auth_password_file": format!("{RECEIVERS_DIR}/smtp_password"),
        }]}));
        routes.push(json!({"receiver": "email-receiver", "group_wait": "10s",
            "matchers": ["severity=\"critical\""], "continue": true}));
        if email.default && default == "null" {
            default = "email-receiver";
        }
    }
    let mut route = json!({
        "receiver": default,
        "group_wait": "10s",
        "group_interval": "5m",
        "repeat_interval": "10m",
    });
    if !routes.is_empty() {
        route["routes"] = json!(routes);
    }
    let mut config = json!({
        "route": route,
        "receivers": receivers,
        "templates": ["/etc/alertmanager/*.tmpl"],
    });
    if !global.is_empty() {
        config["global"] = Value::Object(global);
    }
    config
}

/// Rules that let Prometheus discover the nodes and read their kubelets' metrics (cAdvisor
/// included): nothing more.
const PROMETHEUS_RULES: &[(&str, &[&str], &[&str])] = &[
    ("", &["nodes"], &["get", "list", "watch"]),
    ("", &["nodes/metrics"], &["get"]),
];

/// What kube-state-metrics lists and watches: the resources of its `--resources` argument,
/// Secrets excluded (listing them returns their values).
const KUBE_STATE_METRICS_RULES: &[(&str, &[&str], &[&str])] = &[
    (
        "",
        &[
            "configmaps",
            "endpoints",
            "limitranges",
            "namespaces",
            "nodes",
            "persistentvolumeclaims",
            "persistentvolumes",
            "pods",
            "replicationcontrollers",
            "resourcequotas",
            "services",
        ],
        &["list", "watch"],
    ),
    (
        "apps",
        &["daemonsets", "deployments", "replicasets", "statefulsets"],
        &["list", "watch"],
    ),
    ("batch", &["cronjobs", "jobs"], &["list", "watch"]),
    (
        "autoscaling",
        &["horizontalpodautoscalers"],
        &["list", "watch"],
    ),
    (
        "networking.k8s.io",
        &["ingresses", "networkpolicies"],
        &["list", "watch"],
    ),
    ("policy", &["poddisruptionbudgets"], &["list", "watch"]),
    ("coordination.k8s.io", &["leases"], &["list", "watch"]),
    (
        "certificates.k8s.io",
        &["certificatesigningrequests"],
        &["list", "watch"],
    ),
    (
        "storage.k8s.io",
        &["storageclasses", "volumeattachments"],
        &["list", "watch"],
    ),
    (
        "admissionregistration.k8s.io",
        &[
            "mutatingwebhookconfigurations",
            "validatingwebhookconfigurations",
        ],
        &["list", "watch"],
    ),
];

/// The ClusterRoles and ClusterRoleBindings of Prometheus and kube-state-metrics, named
/// `<service account>-<namespace>`: cluster-scoped, so two installations never share one.
pub fn cluster_rbac(namespace: &str) -> Vec<Value> {
    let mut objects = Vec::new();
    for (account, rules) in [
        (PROMETHEUS.name, PROMETHEUS_RULES),
        (KUBE_STATE_METRICS.name, KUBE_STATE_METRICS_RULES),
    ] {
        let name = format!("{account}-{namespace}");
        let rules: Vec<Value> = rules
            .iter()
            .map(|(group, resources, verbs)| {
                json!({"apiGroups": [group], "resources": resources, "verbs": verbs})
            })
            .collect();
        objects.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": name},
            "rules": rules,
        }));
        objects.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
        }));
    }
    objects
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::test_support::{config, find, rendered};

    fn names(objects: &[Value]) -> Vec<String> {
        objects
            .iter()
            .map(|o| {
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap_or(""),
                    o["metadata"]["name"].as_str().unwrap_or("")
                )
            })
            .collect()
    }

    #[test]
    fn without_alertmanager_nothing_of_it_is_rendered_and_nothing_fails() {
        let cfg = config(json!({"components": {"monitoring": true}}));
        let objects = rendered(&Monitoring, &cfg);
        assert!(
            !names(&objects).iter().any(|n| n.contains("alertmanager")),
            "{:?}",
            names(&objects)
        );
        let prometheus: Value = serde_yaml_ng::from_str(
            find(&objects, "ConfigMap", PROMETHEUS_CONFIGMAP)["data"]["prometheus.yml"]
                .as_str()
                .unwrap_or_default(),
        )
        .expect("prometheus.yml is YAML");
        assert!(prometheus.get("alerting").is_none());
        let jobs: Vec<&str> = prometheus["scrape_configs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|j| j["job_name"].as_str())
            .collect();
        assert_eq!(
            jobs,
            ["prometheus", "kube-state-metrics", "kubelet", "cadvisor"],
            "no controller metrics in standalone, no Kafka when it is off"
        );
        let binding = find(
            &objects,
            "ClusterRoleBinding",
            "nuvolaris-prometheus-server-nuvolaris",
        );
        assert_eq!(binding["subjects"][0]["namespace"], "nuvolaris");
    }

    #[test]
    fn receivers_read_their_credentials_from_a_secret() {
        let cfg = config(json!({
            "components": {"monitoring": true, "openwhisk": true, "invoker": true, "kafka": true, "zookeeper": true},
            "monitoring": {"alert-manager": {"enabled": true,
                "slack": {"enabled": true, "default": true, "slack_api_url": "https://hooks.example/T/B/secret-token"},
                "gmail": {"enabled": true, "to": "ops@example.org", "from": "am@example.org",
                          "username": "am@example.org", "password": "smtp-secret"}}},
        }));
        let objects = rendered(&Monitoring, &cfg);
        for object in &objects {
            if object["kind"] == "ConfigMap" {
                let text = object.to_string();
                assert!(
                    !text.contains("secret-token") && !text.contains("smtp-secret"),
                    "credentials in ConfigMap {}",
                    object["metadata"]["name"]
                );
            }
        }
        let secret = find(&objects, "Secret", RECEIVERS_SECRET);
        assert_eq!(secret["data"].as_object().map(|d| d.len()), Some(2));
        let deployment = find(&objects, "Deployment", ALERTMANAGER.name);
        let volume = deployment
            .pointer("/spec/template/spec/volumes")
            .and_then(Value::as_array)
            .and_then(|v| v.iter().find(|v| v["name"] == "receivers"))
            .expect("the receivers volume");
        assert_eq!(volume["secret"]["secretName"], secret["metadata"]["name"]);
        let am: Value = serde_yaml_ng::from_str(
            find(&objects, "ConfigMap", "nuvolaris-prometheus-alertmanager")["data"]["alertmanager.yml"]
                .as_str()
                .unwrap_or_default(),
        )
        .expect("alertmanager.yml is YAML");
        assert_eq!(am["route"]["receiver"], "slack-notifications");
        assert_eq!(
            am["global"]["slack_api_url_file"],
            format!("{RECEIVERS_DIR}/slack_api_url")
        );
        let prometheus: Value = serde_yaml_ng::from_str(
            find(&objects, "ConfigMap", PROMETHEUS_CONFIGMAP)["data"]["prometheus.yml"]
                .as_str()
                .unwrap_or_default(),
        )
        .expect("prometheus.yml is YAML");
        assert_eq!(
            prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"][0],
            "nuvolaris-prometheus-alertmanager:9093"
        );
        let jobs = prometheus["scrape_configs"].to_string();
        assert!(
            jobs.contains("ow-controller") && jobs.contains("kafka:9071"),
            "{jobs}"
        );
    }
}
