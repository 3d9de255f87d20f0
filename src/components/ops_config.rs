//! What an installation tells the `ops` CLI, built generically from every component (pure):
//!
//! - the annotations of `cm/config`: each component's [`Component::config_annotations`], without
//!   credentials when `spec.nuvolaris.publishcredentials` is false ([`published`]);
//! - `<name>_version = <image>` for every rendered workload whose pod template is annotated
//!   `whisks.nuvolaris.org/annotate-version: "true"` ([`version_annotations`]), and the
//!   operator's own `nuvolaris-operator_version` ([`operator_version`]);
//! - the `env` list of the `nuvolaris` user's metadata document, from the same annotations
//!   ([`user_metadata_env`]), handed to `setup couchdb`.
//!
//! The controller publishes the annotations (`controller::ops_config`), choosing those that
//! depend on a component's outcome ([`super::Publish`]).

use serde_json::Value;

use super::{Component, ConfigAnnotation, Object, Publish, implemented};
use crate::config::Config;
use crate::secret::Secret;

/// The pod-template annotation that asks for a `<name>_version` annotation on `cm/config`.
pub const ANNOTATE_VERSION: &str = "whisks.nuvolaris.org/annotate-version";
/// The `name` label of the operator's own pod (`deploy/operator`), as the original's.
pub const OPERATOR_NAME: &str = "nuvolaris-operator";

/// `annotations` as the spec allows them on `cm/config`: credentials only when
/// `publish_credentials` is on.
pub fn published(annotations: Vec<ConfigAnnotation>, cfg: &Config) -> Vec<ConfigAnnotation> {
    annotations
        .into_iter()
        .filter(|a| cfg.publish_credentials || !a.credential)
        .collect()
}

/// `<pod label name>_version = <first container's image>` for each workload among `objects`
/// whose pod template carries [`ANNOTATE_VERSION`] `"true"` (what the original read from the
/// running pods). The first workload with a given name wins.
pub fn version_annotations<'a>(
    objects: impl IntoIterator<Item = &'a Object>,
) -> Vec<ConfigAnnotation> {
    let mut versions: Vec<ConfigAnnotation> = Vec::new();
    for object in objects {
        let Some(template) = pod_template(object) else {
            continue;
        };
        let annotated = template
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(ANNOTATE_VERSION))
            .and_then(Value::as_str)
            == Some("true");
        let name = template
            .pointer("/metadata/labels/name")
            .and_then(Value::as_str);
        let image = template
            .pointer("/spec/containers/0/image")
            .and_then(Value::as_str);
        let (true, Some(name), Some(image)) = (annotated, name, image) else {
            continue;
        };
        let key = version_key(name);
        if !versions.iter().any(|v| v.key == key) {
            versions.push(ConfigAnnotation::plain(key, image).not_user_env());
        }
    }
    versions
}

/// `nuvolaris-operator_version`: the image the operator runs as, when it knows it.
pub fn operator_version(image: &str) -> ConfigAnnotation {
    ConfigAnnotation::plain(version_key(OPERATOR_NAME), image).not_user_env()
}

fn version_key(name: &str) -> String {
    format!("{name}_version")
}

/// The pod template of a workload (Deployment, StatefulSet, DaemonSet, Job, ReplicaSet:
/// `spec.template`; CronJob: `spec.jobTemplate.spec.template`), or a Pod itself.
fn pod_template(object: &Object) -> Option<&Value> {
    match object.get("kind").and_then(Value::as_str)? {
        "Pod" => Some(object),
        "CronJob" => object.pointer("/spec/jobTemplate/spec/template"),
        _ => object.pointer("/spec/template"),
    }
}

/// One `env` entry of the `nuvolaris` user's metadata document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataEntry {
    /// Upper-cased, e.g. `REDIS_URL`.
    pub key: String,
    pub value: Secret,
    /// From a credential annotation (the value is a secret).
    pub credential: bool,
}

/// The `env` entries of the `nuvolaris` user's metadata: the annotations every enabled
/// component publishes while enabled ([`Publish::Enabled`]) and marked for the users'
/// environment, credentials included (the document is read only by `login`, with the
/// `nuvolaris` password), keys upper-cased as the original's (`redis_url` → `REDIS_URL`),
/// sorted by key, the first component's value winning.
pub fn user_metadata_env(cfg: &Config) -> Vec<MetadataEntry> {
    let mut env: Vec<MetadataEntry> = Vec::new();
    let components = implemented().filter(|c: &&dyn Component| cfg.enabled(c.id()));
    for annotation in components.flat_map(|c| c.config_annotations(cfg)) {
        if annotation.when != Publish::Enabled || !annotation.user_env {
            continue;
        }
        let key = env_key(&annotation.key);
        if !key.is_empty() && !env.iter().any(|e| e.key == key) {
            env.push(MetadataEntry {
                key,
                value: Secret::new(annotation.value),
                credential: annotation.credential,
            });
        }
    }
    env.sort_by(|a, b| a.key.cmp(&b.key));
    env
}

/// `value` percent-encoded for the user or password part of a URL (`redis://user:pw@host`):
/// everything but RFC 3986's unreserved characters, so a password with `@`, `:` or `/` keeps
/// the URL parseable (the original used Python's `quote`, which leaves `/` as is).
pub fn url_userinfo(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `s3_api_url` → `S3_API_URL`; anything but letters and digits becomes `_`, so the key is a
/// valid environment variable name and a valid `ops` configuration key.
fn env_key(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::{ClusterFacts, GeneratedSecrets};
    use crate::crd::Whisk;

    fn config(spec: Value) -> Config {
        let whisk: Whisk = serde_json::from_value(json!({
            "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
            "metadata": {"name": "controller", "namespace": "nuvolaris"},
            "spec": spec,
        }))
        .expect("a Whisk");
        let secrets = GeneratedSecrets::placeholders(&super::super::generated_secret_keys());
        Config::from_whisk(&whisk, &ClusterFacts::default(), &secrets).expect("valid")
    }

    fn keys(env: &[MetadataEntry]) -> Vec<&str> {
        env.iter().map(|e| e.key.as_str()).collect()
    }

    #[test]
    fn the_metadata_env_is_what_enabled_components_publish_for_users() {
        let spec = json!({"components": {"openwhisk": true, "couchdb": true, "redis": true},
                          "redis": {"nuvolaris": {"password": "p@ss"}}});
        let env = user_metadata_env(&config(spec.clone()));
        assert_eq!(
            keys(&env),
            [
                "REDIS_ALT_URL",
                "REDIS_PASSWORD",
                "REDIS_PORT",
                "REDIS_PREFIX",
                "REDIS_PROVIDER",
                "REDIS_SERVICE",
                "REDIS_URL"
            ],
            "no APIHOST (not for users), no status, no versions"
        );
        let value = |key: &str| {
            env.iter()
                .find(|e| e.key == key)
                .map(|e| e.value.expose().to_owned())
        };
        let credentials: Vec<&str> = env
            .iter()
            .filter(|e| e.credential)
            .map(|e| e.key.as_str())
            .collect();
        assert_eq!(
            credentials,
            ["REDIS_ALT_URL", "REDIS_PASSWORD", "REDIS_URL"]
        );
        assert_eq!(
            value("REDIS_URL").as_deref(),
            Some("redis://nuvolaris:p%40ss@redis:6379")
        );
        assert_eq!(value("REDIS_PASSWORD").as_deref(), Some("p@ss"));

        // credentials stay in the metadata when cm/config does not get them
        let mut private = spec.clone();
        private["nuvolaris"] = json!({"publishcredentials": false});
        assert_eq!(user_metadata_env(&config(private)), env);

        let mut no_redis = spec;
        no_redis["components"]["redis"] = json!(false);
        assert!(user_metadata_env(&config(no_redis)).is_empty());
    }

    #[test]
    fn credentials_are_published_unless_the_spec_says_no() {
        let spec = json!({"components": {"openwhisk": true, "redis": true}});
        let annotations = super::super::redis::Redis.config_annotations(&config(spec.clone()));
        let credentials: Vec<&str> = annotations
            .iter()
            .filter(|a| a.credential)
            .map(|a| a.key.as_str())
            .collect();
        assert_eq!(
            credentials,
            ["redis_url", "redis_alt_url", "redis_password"]
        );
        let all = published(annotations.clone(), &config(spec.clone()));
        assert_eq!(all, annotations, "published by default");
        let mut private = spec;
        private["nuvolaris"] = json!({"publishcredentials": false});
        let kept: Vec<String> = published(annotations, &config(private))
            .into_iter()
            .map(|a| a.key)
            .collect();
        assert_eq!(
            kept,
            [
                "redis_prefix",
                "redis_service",
                "redis_port",
                "redis_provider"
            ]
        );
    }

    fn workload(kind: &str, name: &str, annotate: Option<&str>, image: &str) -> Object {
        let mut template = json!({
            "metadata": {"labels": {"name": name}},
            "spec": {"containers": [{"name": "main", "image": image}, {"name": "side", "image": "side:1"}]},
        });
        if let Some(value) = annotate {
            template["metadata"]["annotations"] = json!({ANNOTATE_VERSION: value});
        }
        if kind == "CronJob" {
            json!({"kind": kind, "metadata": {"name": name},
                   "spec": {"jobTemplate": {"spec": {"template": template}}}})
        } else {
            json!({"kind": kind, "metadata": {"name": name}, "spec": {"template": template}})
        }
    }

    #[test]
    fn versions_come_from_annotated_pod_templates_only() {
        let objects = vec![
            workload("StatefulSet", "couchdb", Some("true"), "apache/couchdb:2.3"),
            workload("Deployment", "static", Some("true"), "nginx:1"),
            workload("Job", "couchdb-init", Some("true"), "op:1"),
            workload("CronJob", "cron", Some("true"), "cron:2"),
            // not annotated, annotated "false", no name label: no version
            workload("StatefulSet", "kafka", None, "kafka:3"),
            workload("StatefulSet", "zookeeper", Some("false"), "zk:3"),
            json!({"kind": "Deployment", "spec": {"template": {
                "metadata": {"annotations": {ANNOTATE_VERSION: "true"}},
                "spec": {"containers": [{"image": "x:1"}]}}}}),
            json!({"kind": "Service", "metadata": {"name": "couchdb"}}),
            // a second workload with the same pod name: the first one wins
            workload("StatefulSet", "couchdb", Some("true"), "other:9"),
        ];
        let versions: Vec<(String, String)> = version_annotations(&objects)
            .into_iter()
            .map(|a| {
                assert!(!a.credential && !a.user_env && a.when == Publish::Enabled);
                (a.key, a.value)
            })
            .collect();
        let expected: Vec<(String, String)> = [
            ("couchdb_version", "apache/couchdb:2.3"),
            ("static_version", "nginx:1"),
            ("couchdb-init_version", "op:1"),
            ("cron_version", "cron:2"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(versions, expected);
        assert_eq!(operator_version("op:2").key, "nuvolaris-operator_version");
    }

    #[test]
    fn url_userinfo_keeps_urls_parseable() {
        assert_eq!(url_userinfo("Abc-1._~"), "Abc-1._~");
        assert_eq!(url_userinfo("p@ss:w/rd é"), "p%40ss%3Aw%2Frd%20%C3%A9");
    }

    #[test]
    fn env_keys_are_upper_case_configuration_keys() {
        assert_eq!(env_key("s3_api_url"), "S3_API_URL");
        assert_eq!(env_key("redis-url.x"), "REDIS_URL_X");
    }
}
