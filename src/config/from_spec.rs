//! `Config::from_whisk`: the spec, the cluster facts and the generated passwords, resolved into
//! one typed configuration with the original's defaults.

use std::collections::BTreeMap;

use super::apihost::{ApiHost, ApiHostInputs};
use super::flavour::{self, Flavour};
use super::image::with_tag;
use super::secrets::{NUVOLARIS_AUTH, NUVOLARIS_PASSWORD, WHISK_SYSTEM_AUTH};
use super::{
    ClusterFacts, Config, ConfigError, Controller, CouchDb, Cron, Enabled, GeneratedKey,
    GeneratedSecrets, Invoker, Kafka, Minio, Mode, Monitoring, Publisher, Quota, Redis, Registry,
    Runtimes, Scheduling, Seaweedfs, SecretShape, Zookeeper, node_settings,
};
use crate::crd::{self, ComponentId, KubeFlavour, Whisk};
use crate::secret::Secret;

/// This operator's image, used by the setup Jobs unless the pod's own image is known.
pub const OPERATOR_IMAGE: &str = concat!(
    "ghcr.io/nuvolaris/nuvolaris-operator:",
    env!("CARGO_PKG_VERSION")
);

impl Config {
    /// Resolves the configuration of `whisk`. Pure: everything it needs is in its arguments.
    pub fn from_whisk(
        whisk: &Whisk,
        facts: &ClusterFacts,
        secrets: &GeneratedSecrets,
    ) -> Result<Config, ConfigError> {
        let spec = &whisk.spec;
        let name = whisk
            .metadata
            .name
            .clone()
            .unwrap_or_else(|| "controller".to_owned());
        let namespace = whisk
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "nuvolaris".to_owned());

        let nuv = spec.nuvolaris.clone().unwrap_or_default();
        let labels = node_settings(facts);
        let flavour = match nuv.kube {
            Some(kube) if kube != KubeFlavour::Auto => {
                Flavour::parse(kube.as_str()).ok_or_else(|| {
                    ConfigError::invalid("nuvolaris.kube", format!("unknown flavour {kube:?}"))
                })?
            }
            _ => flavour::detect(&facts.nodes),
        };
        let switches = spec.components.clone().unwrap_or_default();
        let enabled = Enabled::from_spec(&switches, flavour);
        if switches.minio.unwrap_or(false) && switches.seaweedfs.unwrap_or(false) {
            return Err(ConfigError::invalid(
                "components.minio",
                "components.minio and components.seaweedfs cannot both be enabled",
            ));
        }
        check_messaging(&enabled)?;

        let storage_class =
            explicit(nuv.storageclass.as_deref()).or(facts.default_storage_class.clone());
        let ingress_class = explicit(nuv.ingressclass.as_deref())
            .or(facts.default_ingress_class.clone())
            .or_else(|| Some(default_ingress_class(flavour).to_owned()));

        let publisher = if flavour == Flavour::Openshift {
            Publisher::OpenshiftRoute
        } else if ingress_class.as_deref() == Some("traefik") {
            Publisher::Traefik {
                class: ingress_class.clone(),
                middleware_api_version: facts
                    .traefik_middleware_api
                    .clone()
                    .unwrap_or_else(|| "traefik.io/v1alpha1".to_owned()),
            }
        } else {
            Publisher::Nginx {
                class: ingress_class.clone(),
            }
        };
        let tls = switches.tls.unwrap_or(false) && flavour != Flavour::Kind;

        let host = explicit(nuv.apihost.as_deref()).or_else(|| labels.get("apihost").cloned());
        let port = nuv
            .apiport
            .and_then(|p| u16::try_from(p).ok())
            .or_else(|| labels.get("apiport").and_then(|p| p.parse().ok()));
        let protocol = nuv
            .protocol
            .map(|p| match p {
                crd::ApiProtocol::Http => "http".to_owned(),
                crd::ApiProtocol::Https => "https".to_owned(),
                crd::ApiProtocol::Auto => "auto".to_owned(),
            })
            .or_else(|| labels.get("protocol").cloned());
        let apihost = ApiHost::compute(&ApiHostInputs {
            host: host.as_deref(),
            port,
            protocol: protocol.as_deref(),
            tls: switches.tls.unwrap_or(false),
            flavour,
            load_balancer: facts.ingress_load_balancer.as_deref(),
            live: facts.live_apihost.as_deref(),
        });

        let mut namespaces: BTreeMap<String, Secret> = spec
            .openwhisk
            .as_ref()
            .and_then(|o| o.namespaces.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, Secret::new(v)))
            .collect();
        for (namespace, key) in [
            ("whisk-system", WHISK_SYSTEM_AUTH),
            ("nuvolaris", NUVOLARIS_AUTH),
        ] {
            if !namespaces.contains_key(namespace) {
                namespaces.insert(namespace.to_owned(), secrets.get(key)?);
            }
        }
        for (namespace, auth) in &namespaces {
            validate_auth(namespace, auth.expose())?;
        }

        let operator_image = facts
            .operator_image
            .clone()
            .or_else(|| {
                spec.operator.as_ref().and_then(|o| {
                    o.image
                        .as_ref()
                        .map(|image| with_tag(image, o.tag.as_deref(), env!("CARGO_PKG_VERSION")))
                })
            })
            .unwrap_or_else(|| OPERATOR_IMAGE.to_owned());

        // a component's keys are generated or adopted only while it is enabled
        let scoped = |id: ComponentId, keys: &[super::GeneratedKey]| {
            secrets.for_component(enabled.contains(id), keys)
        };
        let registry = Registry::from_spec(
            spec,
            flavour,
            &apihost,
            &scoped(ComponentId::Registry, super::registry::GENERATED),
            enabled.contains(ComponentId::Registry),
        )?;
        let minio = Minio::from_spec(
            spec,
            &apihost,
            enabled.contains(ComponentId::Minio),
            &scoped(ComponentId::Minio, super::minio::GENERATED),
        )?;
        let seaweedfs = Seaweedfs::from_spec(
            spec,
            &apihost,
            enabled.contains(ComponentId::Seaweedfs),
            &scoped(ComponentId::Seaweedfs, super::seaweedfs::GENERATED),
        )?;
        let private_registry = enabled.contains(ComponentId::Registry);
        let mode = if enabled.contains(ComponentId::Invoker) {
            Mode::Enterprise
        } else {
            Mode::Standalone
        };
        let zookeeper = Zookeeper::from_spec(spec);
        let kafka = Kafka::from_spec(spec, &zookeeper);
        let invoker = Invoker::from_spec(
            spec,
            &namespace,
            private_registry,
            enabled.contains(ComponentId::Invoker),
        )?;

        Ok(Config {
            name,
            namespace,
            flavour,
            pod_security: flavour.needs_pod_security_with(storage_class.as_deref()),
            storage_class,
            ingress_class,
            publisher,
            tls,
            acme: super::Tls::from_spec(spec.tls.as_ref(), enabled.contains(ComponentId::Tls))?,
            scheduling: Scheduling {
                affinity: nuv.affinity.unwrap_or(false),
                tolerations: nuv.tolerations.unwrap_or(false),
            },
            node_ports: nuv.nodeports.unwrap_or(true),
            publish_credentials: nuv.publishcredentials.unwrap_or(true),
            operator_image,
            // A disabled component's keys are neither generated nor adopted.
            couchdb: CouchDb::from_spec(
                spec,
                flavour,
                &secrets.for_component(
                    enabled.contains(ComponentId::Couchdb),
                    super::couchdb::GENERATED,
                ),
            )?,
            redis: Redis::from_spec(
                spec,
                &secrets.for_component(
                    enabled.contains(ComponentId::Redis),
                    super::redis::GENERATED,
                ),
            )?,
            controller: Controller::from_spec(spec, private_registry, mode)?,
            invoker,
            zookeeper,
            kafka,
            monitoring: Monitoring::from_spec(spec, enabled.contains(ComponentId::Monitoring))?,
            runtimes: Runtimes::from_spec(&nuv, facts),
            registry,
            cron: Cron::from_spec(spec.scheduler.as_ref(), enabled.contains(ComponentId::Cron))?,
            quota: Quota::from_spec(spec.quota.as_ref(), enabled.contains(ComponentId::Quota))?,
            apihost,
            minio,
            seaweedfs,
            postgres: super::Postgres::from_spec(
                spec,
                &scoped(ComponentId::Postgres, super::postgres::GENERATED),
            )?,
            mongodb: super::Mongodb::from_spec(
                spec,
                &scoped(ComponentId::Mongodb, super::mongodb::GENERATED),
            )?,
            etcd: super::Etcd::from_spec(spec, &scoped(ComponentId::Etcd, super::etcd::GENERATED))?,
            milvus: super::Milvus::from_spec(
                spec,
                &scoped(ComponentId::Milvus, super::milvus::GENERATED),
            )?,
            enabled,
            namespaces,
            nuvolaris_password: secrets.given_or(nuv.password.as_ref(), NUVOLARIS_PASSWORD)?,
            nuvolaris_email: nuv
                .email
                .clone()
                .unwrap_or_else(|| "nuvolaris@nuvolaris.io".to_owned()),
        })
    }
}

impl Config {
    /// Step one of resolving the generated passwords: the keys this configuration needs (the
    /// spec leaves their values out, their component is enabled) that `secrets` lacks. The
    /// controller adopts or generates exactly these (`controller::secrets`), then step two is
    /// [`Config::from_whisk`] itself. An invalid spec is reported as such, whatever is missing.
    pub fn missing_generated(
        whisk: &Whisk,
        facts: &ClusterFacts,
        secrets: &GeneratedSecrets,
    ) -> Result<Vec<GeneratedKey>, ConfigError> {
        let mut probe = secrets.clone();
        let mut missing = Vec::new();
        loop {
            match Config::from_whisk(whisk, facts, &probe) {
                Ok(_) => return Ok(missing),
                Err(ConfigError::MissingGenerated(key)) if !probe.0.contains_key(key.name) => {
                    // a stand-in of the right shape, so that the resolution goes on
                    probe.0.insert(key.name.to_owned(), key.placeholder());
                    missing.push(key);
                }
                Err(err) => return Err(err),
            }
        }
    }
}

/// The enterprise mode's dependencies: the invoker talks to Kafka and ZooKeeper, Kafka keeps
/// its metadata in ZooKeeper. The original deployed them anyway, to wait for each other forever.
fn check_messaging(enabled: &Enabled) -> Result<(), ConfigError> {
    let needs = [
        (ComponentId::Invoker, ComponentId::Kafka),
        (ComponentId::Invoker, ComponentId::Zookeeper),
        (ComponentId::Kafka, ComponentId::Zookeeper),
    ];
    for (component, dependency) in needs {
        if enabled.contains(component) && !enabled.contains(dependency) {
            let field = format!("components.{}", component.key());
            return Err(ConfigError::invalid(
                field.clone(),
                format!(
                    "{field} needs components.{}: enable it too, or disable {}",
                    dependency.key(),
                    component.key()
                ),
            ));
        }
    }
    Ok(())
}

/// A spec value that is set and not "auto".
fn explicit(value: Option<&str>) -> Option<String> {
    value
        .filter(|v| !v.is_empty() && *v != "auto")
        .map(str::to_owned)
}

fn default_ingress_class(flavour: Flavour) -> &'static str {
    match flavour {
        Flavour::Microk8s => "public",
        Flavour::K3s => "traefik",
        _ => "nginx",
    }
}

/// An OpenWhisk auth key is `<uuid>:<key>` with a key of at least 64 characters.
fn validate_auth(namespace: &str, auth: &str) -> Result<(), ConfigError> {
    if SecretShape::OpenWhiskAuth.accepts(auth) {
        Ok(())
    } else {
        // never echo the key itself
        let field = format!("openwhisk.namespaces.{namespace}");
        Err(ConfigError::invalid(
            field.clone(),
            format!("{field} must be <uuid>:<key> with a key of at least 64 characters"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::{
        CONTROLLER_IMAGE, CONTROLLER_TAG, GeneratedKey, NodeFacts, couchdb, minio, redis,
        seaweedfs, secrets,
    };

    fn all_keys() -> Vec<GeneratedKey> {
        let mut keys = secrets::CORE_KEYS.to_vec();
        keys.extend(couchdb::GENERATED);
        keys.extend(redis::GENERATED);
        keys.extend(minio::GENERATED);
        keys.extend(seaweedfs::GENERATED);
        for generated in [
            crate::config::postgres::GENERATED,
            crate::config::mongodb::GENERATED,
            crate::config::etcd::GENERATED,
            crate::config::milvus::GENERATED,
        ] {
            keys.extend(generated);
        }
        keys
    }

    fn whisk(spec: serde_json::Value) -> Whisk {
        serde_json::from_value(json!({
            "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
            "metadata": { "name": "controller", "namespace": "nuvolaris" },
            "spec": spec,
        }))
        .expect("a valid Whisk")
    }

    fn generated() -> GeneratedSecrets {
        GeneratedSecrets(
            all_keys()
                .into_iter()
                .map(|k| (k.name.to_owned(), k.generate()))
                .collect(),
        )
    }

    fn config(spec: serde_json::Value, facts: &ClusterFacts) -> Result<Config, ConfigError> {
        Config::from_whisk(&whisk(spec), facts, &generated())
    }

    #[test]
    fn an_empty_spec_gets_the_original_defaults_and_generated_passwords() {
        let secrets = generated();
        let cfg = Config::from_whisk(&whisk(json!({})), &ClusterFacts::default(), &secrets)
            .expect("valid");
        assert_eq!(cfg.couchdb.admin.user, "whisk_admin");
        assert_eq!(
            cfg.couchdb.admin.password.expose(),
            secrets.0["couchdb-admin-password"]
        );
        assert_eq!(cfg.couchdb.controller.user, "controller_admin");
        assert_eq!(
            (
                cfg.couchdb.host.as_str(),
                cfg.couchdb.port,
                cfg.couchdb.volume_size_gi
            ),
            ("couchdb", 5984, 10)
        );
        assert_eq!(cfg.redis.prefix, "nuvolaris:");
        assert_eq!(cfg.redis.maxmemory, "1000mb");
        assert_eq!(
            cfg.controller.image,
            format!("{CONTROLLER_IMAGE}:{CONTROLLER_TAG}")
        );
        assert_eq!(cfg.controller.java_opts, "-Xmx2048M");
        assert_eq!(cfg.controller.limits.invokes_per_minute, 60);
        assert_eq!(cfg.controller.limits.time_max, "5min");
        assert!(
            cfg.namespaces.contains_key("whisk-system") && cfg.namespaces.contains_key("nuvolaris")
        );
        assert!(cfg.runtimes.preload_only_apache);
        assert_eq!(cfg.flavour, Flavour::Generic);
        assert_eq!(
            cfg.apihost.url(),
            None,
            "no host and no load balancer: pending"
        );
        assert!(
            cfg.couchdb.resources.is_none(),
            "resources only when the spec gives a cpu request"
        );
    }

    #[test]
    fn the_enterprise_mode_needs_kafka_and_zookeeper_and_derives_their_urls() {
        let facts = ClusterFacts::default();
        let field = |spec: serde_json::Value| match config(spec, &facts) {
            Err(ConfigError::Invalid { field, .. }) => field,
            other => panic!("invalid spec expected, got {other:?}"),
        };
        assert_eq!(
            field(json!({"components": {"openwhisk": true, "invoker": true, "zookeeper": true}})),
            "components.invoker"
        );
        assert_eq!(
            field(json!({"components": {"kafka": true}})),
            "components.kafka"
        );
        let cfg = config(
            json!({"components": {"openwhisk": true, "invoker": true, "kafka": true, "zookeeper": true},
                   "zookeeper": {"data-volume-size": 3}, "kafka": {"volume-size": 4}}),
            &facts,
        )
        .expect("valid");
        assert_eq!(cfg.controller.mode, Mode::Enterprise);
        assert_eq!(cfg.controller.limits.invokes_per_minute, 999);
        assert_eq!(cfg.zookeeper.connect(), "zookeeper-0.zookeeper:2181");
        assert_eq!(cfg.kafka.zookeeper_connect, cfg.zookeeper.connect());
        assert_eq!(cfg.kafka.bootstrap(), "kafka:9092");
        assert_eq!(
            (cfg.zookeeper.data_volume_gi, cfg.zookeeper.log_volume_gi),
            (3, 5)
        );
        assert_eq!(cfg.kafka.volume_gi, 4);
        assert_eq!(cfg.invoker.kubernetes.action_namespace, "nuvolaris");
        let standalone = config(json!({"components": {"openwhisk": true}}), &facts).expect("valid");
        assert_eq!(standalone.controller.mode, Mode::Standalone);
    }

    #[test]
    fn the_spec_wins_over_generated_values_and_defaults() {
        let cfg = config(
            json!({
                "couchdb": { "admin": { "user": "admin", "password": "0123" } },
                "redis": { "nuvolaris": { "prefix": "tenant::" } },
                "controller": { "image": "localhost:5000/ow/controller", "tag": "7" },
                "nuvolaris": { "kube": "k3s", "storageclass": "fast", "ingressclass": "auto" },
                "configs": { "couchdb": { "resources": { "cpu-req": "250m" } } },
            }),
            &ClusterFacts {
                default_storage_class: Some("standard".into()),
                ..ClusterFacts::default()
            },
        )
        .expect("valid");
        assert_eq!(cfg.couchdb.admin.password.expose(), "0123");
        assert_eq!(cfg.redis.prefix, "tenant:");
        assert_eq!(cfg.controller.image, "localhost:5000/ow/controller:7");
        assert_eq!(cfg.flavour, Flavour::K3s);
        assert_eq!(cfg.storage_class.as_deref(), Some("fast"));
        assert_eq!(
            cfg.ingress_class.as_deref(),
            Some("traefik"),
            "auto: the flavour's default"
        );
        let resources = cfg.couchdb.resources.expect("resources");
        assert_eq!(
            (
                resources.cpu_request.as_str(),
                resources.memory_limit.as_str()
            ),
            ("250m", "2G")
        );
    }

    #[test]
    fn node_labels_fill_in_what_the_spec_leaves_out() {
        let facts = ClusterFacts {
            nodes: vec![NodeFacts {
                labels: [
                    ("nuvolaris.io/kube", "kind"),
                    ("nuvolaris.io/apihost", "localhost"),
                    ("nuvolaris.io/apiport", "3233"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
                ..NodeFacts::default()
            }],
            ..ClusterFacts::default()
        };
        let cfg = config(json!({ "components": { "tls": true } }), &facts).expect("valid");
        assert_eq!(cfg.flavour, Flavour::Kind);
        assert_eq!(
            cfg.apihost.url().as_deref(),
            Some("http://localhost:3233"),
            "kind is always http"
        );
        let cfg = config(
            json!({ "nuvolaris": { "apihost": "api.example.org" } }),
            &facts,
        )
        .expect("valid");
        assert_eq!(
            cfg.apihost.url().as_deref(),
            Some("http://api.example.org:3233"),
            "the spec's host wins"
        );
    }

    #[test]
    fn invalid_specs_are_rejected_without_echoing_secrets() {
        let err = config(
            json!({ "openwhisk": { "namespaces": { "nuvolaris": "not-an-auth-secret-value" } } }),
            &ClusterFacts::default(),
        )
        .expect_err("invalid auth");
        let message = err.to_string();
        assert!(
            message.contains("openwhisk.namespaces.nuvolaris"),
            "{message}"
        );
        assert!(
            !message.contains("not-an-auth-secret-value"),
            "the key is never echoed: {message}"
        );
        let err = config(
            json!({ "components": { "minio": true, "seaweedfs": true } }),
            &ClusterFacts::default(),
        )
        .expect_err("exclusive storage");
        assert!(
            err.to_string().contains("minio and components.seaweedfs"),
            "{err}"
        );
    }

    #[test]
    fn database_settings_get_the_original_defaults_and_refuse_zero() {
        let cfg = config(json!({}), &ClusterFacts::default()).expect("valid");
        assert_eq!(
            (cfg.postgres.replicas, cfg.postgres.volume_size_gi),
            (2, 10)
        );
        assert_eq!(cfg.postgres.backup_schedule, None);
        assert_eq!((cfg.etcd.replicas, cfg.etcd.volume_size_gi), (1, 5));
        assert_eq!(cfg.etcd.quota_backend_bytes, 2_147_483_648);
        assert_eq!(cfg.etcd.auto_compaction_retention, "1");
        assert_eq!(cfg.mongodb.volume_size_gi, 10);
        assert_eq!(cfg.milvus.max_database_num, 64);
        let cfg = config(
            json!({"postgres": {"backup": {"enabled": true}, "admin": {"replica-password": "r"}},
                   "ectd": {"auto-compaction-retention": "30m"}}),
            &ClusterFacts::default(),
        )
        .expect("valid");
        assert_eq!(cfg.postgres.backup_schedule.as_deref(), Some("30 * * * *"));
        assert_eq!(
            cfg.postgres.replication_password.expose(),
            "r",
            "the CRD's field is read"
        );
        assert_eq!(
            cfg.etcd.auto_compaction_retention, "30m",
            "the misspelt block too"
        );
        // Admission refuses these first; a CR that skipped it still gets a clear error.
        for (spec, field) in [
            (json!({"postgres": {"replicas": 0}}), "postgres.replicas"),
            (json!({"etcd": {"volume-size": -3}}), "etcd.volume-size"),
            (json!({"milvus": {"replicas": 0}}), "milvus.replicas"),
            (
                json!({"etcd": {"auto-compaction-retention": "1h; rm"}}),
                "etcd.auto-compaction-retention",
            ),
        ] {
            let err = config(spec, &ClusterFacts::default()).expect_err(field);
            assert!(
                matches!(&err, ConfigError::Invalid { field: f, .. } if f == field),
                "{err}"
            );
        }
    }

    #[test]
    fn only_the_keys_the_spec_leaves_out_of_enabled_components_are_missing() {
        let facts = ClusterFacts::default();
        let none = GeneratedSecrets::default();
        let names = |keys: Vec<GeneratedKey>| keys.iter().map(|k| k.name).collect::<Vec<_>>();
        // everything left out, couchdb and redis on: every key of the installation and of those two
        let all = Config::missing_generated(
            &whisk(json!({"components": {"couchdb": true, "redis": true}})),
            &facts,
            &none,
        )
        .expect("valid");
        let mut expected: Vec<GeneratedKey> = secrets::CORE_KEYS.to_vec();
        expected.extend(couchdb::GENERATED);
        expected.extend(redis::GENERATED);
        let mut all = names(all);
        all.sort();
        let mut expected = names(expected);
        expected.sort();
        assert_eq!(all, expected);
        // the original's minimal sample: only the Redis user's password is left out
        let minimal = whisk(json!({
            "components": {"couchdb": true, "redis": true},
            "nuvolaris": {"password": "nuvpassw0rd"},
            "openwhisk": {"namespaces": {
                "whisk-system": format!("789c46b1-71f6-4ed5-8c54-816aa4f8c502:{}", "a".repeat(64)),
                "nuvolaris": format!("cbd68075-dac2-475e-8c07-d62a30c7e683:{}", "b".repeat(64)),
            }},
            "couchdb": {"admin": {"password": "a"}, "controller": {"password": "c"},
                        "invoker": {"password": "i"}},
            "redis": {"default": {"password": "d"}},
        }));
        let missing = Config::missing_generated(&minimal, &facts, &none).expect("valid");
        assert_eq!(names(missing), ["redis-nuvolaris-password"]);
        // a disabled component's keys are not needed, even when the spec leaves them out
        let no_redis = whisk(json!({"components": {"couchdb": true, "redis": false}}));
        let missing = names(Config::missing_generated(&no_redis, &facts, &none).expect("valid"));
        assert!(
            !missing.iter().any(|k| k.starts_with("redis-")),
            "{missing:?}"
        );
        // what the Secret has is not missing; the config then resolves with it
        let generated = generated();
        assert!(
            Config::missing_generated(&no_redis, &facts, &generated)
                .expect("valid")
                .is_empty()
        );
        Config::from_whisk(
            &no_redis,
            &facts,
            &GeneratedSecrets(
                generated
                    .0
                    .into_iter()
                    .filter(|(k, _)| !k.starts_with("redis-"))
                    .collect(),
            ),
        )
        .expect("a disabled component needs no generated key");
        // an invalid spec is reported as such
        let invalid = whisk(json!({"components": {"minio": true, "seaweedfs": true}}));
        assert!(matches!(
            Config::missing_generated(&invalid, &facts, &none),
            Err(ConfigError::Invalid { .. })
        ));
    }

    #[test]
    fn generated_auth_keys_have_the_openwhisk_shape() {
        for _ in 0..20 {
            let auth = NUVOLARIS_AUTH.generate();
            validate_auth("nuvolaris", &auth).expect("a generated auth key is valid");
        }
        assert_eq!(redis::DEFAULT_PASSWORD.generate().len(), 32);
    }
}
