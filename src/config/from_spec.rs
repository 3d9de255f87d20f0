//! `Config::from_whisk`: the spec, the cluster facts and the generated passwords, resolved into
//! one typed configuration with the original's defaults.

use std::collections::BTreeMap;

use super::apihost::{ApiHost, ApiHostInputs};
use super::flavour::{self, Flavour};
use super::{
    ClusterFacts, Components, Config, ConfigError, Controller, CouchDb, Credentials,
    GeneratedSecrets, Limits, Redis, Resources, Runtimes, Secret,
};
use crate::crd::{self, KubeFlavour, Whisk, WhiskSpec};

/// Image defaults of the original (its Dockerfile and base manifests).
pub const CONTROLLER_IMAGE: &str = "ghcr.io/nuvolaris/openwhisk-controller";
pub const CONTROLLER_TAG: &str = "3.1.0-mastrogpt.2402101445";
pub const COUCHDB_IMAGE: &str = "apache/couchdb:2.3";
/// CouchDB image that runs under OpenShift's random uids.
pub const COUCHDB_IMAGE_OPENSHIFT: &str = "ghcr.io/nuvolaris/couchdb:2.3.1-nuvolaris.23101915";
pub const REDIS_IMAGE: &str = "docker.io/bitnamilegacy/redis:8.2.1";
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
        let generated = |key: &str| -> Result<Secret, ConfigError> {
            secrets
                .0
                .get(key)
                .map(|v| Secret(v.clone()))
                .ok_or_else(|| ConfigError::Invalid(format!("generated secret {key} is missing")))
        };
        let given_or = |value: Option<&String>, key: &str| -> Result<Secret, ConfigError> {
            match value.filter(|v| !v.is_empty()) {
                Some(v) => Ok(Secret(v.clone())),
                None => generated(key),
            }
        };

        let nuv = spec.nuvolaris.clone().unwrap_or_default();
        let labels = node_settings(facts);
        let flavour = match nuv.kube {
            Some(kube) if kube != KubeFlavour::Auto => Flavour::parse(kube.as_str())
                .ok_or_else(|| ConfigError::Invalid(format!("unknown flavour {kube:?}")))?,
            _ => flavour::detect(&facts.nodes),
        };
        let components = components(spec);
        if components.minio && components.seaweedfs {
            return Err(ConfigError::Invalid(
                "components.minio and components.seaweedfs cannot both be enabled".to_owned(),
            ));
        }

        let storage_class =
            explicit(nuv.storageclass.as_deref()).or(facts.default_storage_class.clone());
        let ingress_class = explicit(nuv.ingressclass.as_deref())
            .or(facts.default_ingress_class.clone())
            .or_else(|| Some(default_ingress_class(flavour).to_owned()));

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
            tls: components.tls,
            flavour,
            load_balancer: facts.ingress_load_balancer.as_deref(),
        });

        let couchdb_spec = spec.couchdb.clone().unwrap_or_default();
        let user = |u: &Option<crd::UserPassword>| {
            u.as_ref()
                .and_then(|u| u.user.clone())
                .filter(|u| !u.is_empty())
        };
        let password = |u: &Option<crd::UserPassword>| u.as_ref().and_then(|u| u.password.clone());
        let couchdb = CouchDb {
            image: if flavour == Flavour::Openshift {
                COUCHDB_IMAGE_OPENSHIFT
            } else {
                COUCHDB_IMAGE
            }
            .to_owned(),
            host: couchdb_spec
                .host
                .clone()
                .unwrap_or_else(|| "couchdb".to_owned()),
            port: couchdb_spec
                .port
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or(5984),
            volume_size_gi: positive(couchdb_spec.volume_size).unwrap_or(10),
            resources: spec
                .configs
                .as_ref()
                .and_then(|c| c.couchdb.as_ref())
                .and_then(|c| c.resources.as_ref())
                .and_then(|r| resources(r, ("1", "1G", "2G"))),
            admin: Credentials {
                user: user(&couchdb_spec.admin).unwrap_or_else(|| "whisk_admin".to_owned()),
                password: given_or(
                    password(&couchdb_spec.admin).as_ref(),
                    "couchdb-admin-password",
                )?,
            },
            controller: Credentials {
                user: user(&couchdb_spec.controller)
                    .unwrap_or_else(|| "controller_admin".to_owned()),
                password: given_or(
                    password(&couchdb_spec.controller).as_ref(),
                    "couchdb-controller-password",
                )?,
            },
            invoker: Credentials {
                user: user(&couchdb_spec.invoker).unwrap_or_else(|| "invoker_admin".to_owned()),
                password: given_or(
                    password(&couchdb_spec.invoker).as_ref(),
                    "couchdb-invoker-password",
                )?,
            },
        };

        let redis_spec = spec.redis.clone().unwrap_or_default();
        let prefix = redis_spec
            .nuvolaris
            .as_ref()
            .and_then(|n| n.prefix.clone())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "nuvolaris".to_owned());
        let redis = Redis {
            image: REDIS_IMAGE.to_owned(),
            persistence: redis_spec.persistence_enabled.unwrap_or(false),
            volume_size_gi: positive(redis_spec.volume_size).unwrap_or(10),
            maxmemory: redis_spec
                .maxmemory
                .clone()
                .or(redis_spec.max_memory.clone())
                .unwrap_or_else(|| "1000mb".to_owned()),
            prefix: format!("{}:", prefix.trim_end_matches(':')),
            default_password: given_or(
                redis_spec
                    .default
                    .as_ref()
                    .and_then(|d| d.password.as_ref()),
                "redis-default-password",
            )?,
            nuvolaris_password: given_or(
                redis_spec
                    .nuvolaris
                    .as_ref()
                    .and_then(|n| n.password.as_ref()),
                "redis-nuvolaris-password",
            )?,
        };

        let controller = controller(spec, &components);

        let mut namespaces: BTreeMap<String, Secret> = spec
            .openwhisk
            .as_ref()
            .and_then(|o| o.namespaces.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, Secret(v)))
            .collect();
        for (namespace, key) in [
            ("whisk-system", "whisk-system-auth"),
            ("nuvolaris", "nuvolaris-auth"),
        ] {
            if !namespaces.contains_key(namespace) {
                namespaces.insert(namespace.to_owned(), generated(key)?);
            }
        }
        for (namespace, auth) in &namespaces {
            validate_auth(namespace, auth.expose())?;
        }

        let runtimes = Runtimes {
            manifest: facts
                .runtimes_json
                .clone()
                .unwrap_or_else(|| crate::components::runtimes::default_manifest().to_owned()),
            from_cluster: facts.runtimes_json.is_some(),
            preload_only_apache: nuv
                .preload
                .as_ref()
                .and_then(|p| p.only_apache)
                .or(nuv.preloader.as_ref().and_then(|p| p.only_apache))
                .unwrap_or(true),
        };

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

        Ok(Config {
            name,
            namespace,
            flavour,
            pod_security: flavour.needs_pod_security_with(storage_class.as_deref()),
            storage_class,
            ingress_class,
            apihost,
            affinity: nuv.affinity.unwrap_or(false),
            tolerations: nuv.tolerations.unwrap_or(false),
            operator_image,
            components,
            couchdb,
            redis,
            controller,
            runtimes,
            namespaces,
            nuvolaris_password: given_or(nuv.password.as_ref(), "nuvolaris-password")?,
            nuvolaris_email: nuv
                .email
                .clone()
                .unwrap_or_else(|| "nuvolaris@nuvolaris.io".to_owned()),
        })
    }
}

fn components(spec: &WhiskSpec) -> Components {
    let c = spec.components.clone().unwrap_or_default();
    let on = |v: Option<bool>| v.unwrap_or(false);
    Components {
        openwhisk: on(c.openwhisk),
        invoker: on(c.invoker),
        couchdb: on(c.couchdb),
        redis: on(c.redis),
        tls: on(c.tls),
        registry: on(c.registry),
        cron: on(c.cron),
        minio: on(c.minio),
        seaweedfs: on(c.seaweedfs),
        static_: on(c.static_),
        postgres: on(c.postgres),
        mongodb: on(c.mongodb),
        zookeeper: on(c.zookeeper),
        kafka: on(c.kafka),
        monitoring: on(c.monitoring),
        quota: on(c.quota),
        etcd: on(c.etcd),
        milvus: on(c.milvus),
    }
}

fn controller(spec: &WhiskSpec, components: &Components) -> Controller {
    let configs = spec.configs.clone().unwrap_or_default();
    let ctrl = configs.controller.clone().unwrap_or_default();
    let limits = configs.limits.clone().unwrap_or_default();
    let actions = limits.actions.clone().unwrap_or_default();
    let time = limits.time.clone().unwrap_or_default();
    let memory = limits.memory.clone().unwrap_or_default();
    let concurrency = limits.concurrency.clone().unwrap_or_default();
    let count =
        |v: Option<i32>, default: u32| v.and_then(|v| u32::try_from(v).ok()).unwrap_or(default);
    let image = spec
        .controller
        .as_ref()
        .and_then(|c| {
            c.image
                .as_ref()
                .map(|image| with_tag(image, c.tag.as_deref(), CONTROLLER_TAG))
        })
        .unwrap_or_else(|| format!("{CONTROLLER_IMAGE}:{CONTROLLER_TAG}"));
    Controller {
        image,
        java_opts: ctrl
            .java_opts
            .clone()
            .unwrap_or_else(|| "-Xmx2048M".to_owned()),
        user_memory: configs
            .invoker
            .as_ref()
            .and_then(|i| i.container_pool.as_ref())
            .and_then(|p| p.user_memory.clone())
            .unwrap_or_else(|| "2048m".to_owned()),
        resources: ctrl
            .resources
            .as_ref()
            .and_then(|r| resources(r, ("1", "1G", "2G"))),
        use_private_registry: components.registry,
        limits: Limits {
            invokes_per_minute: count(actions.invokes_per_minute, 60),
            invokes_concurrent: count(actions.invokes_concurrent, 30),
            fires_per_minute: count(
                limits.triggers.as_ref().and_then(|t| t.fires_per_minute),
                60,
            ),
            sequence_max_length: count(actions.sequence_max_length, 50),
            activation_payload_max: limits
                .activations
                .as_ref()
                .and_then(|a| a.max_allowed_payload)
                .and_then(|v| u64::try_from(v).ok())
                .unwrap_or(1_048_576),
            time_min: time.limit_min.clone().unwrap_or_else(|| "100ms".to_owned()),
            time_std: time.limit_std.clone().unwrap_or_else(|| "1min".to_owned()),
            time_max: time.limit_max.clone().unwrap_or_else(|| "5min".to_owned()),
            memory_min: memory
                .limit_min
                .clone()
                .unwrap_or_else(|| "128m".to_owned()),
            memory_std: memory
                .limit_std
                .clone()
                .unwrap_or_else(|| "256m".to_owned()),
            memory_max: memory
                .limit_max
                .clone()
                .unwrap_or_else(|| "512m".to_owned()),
            concurrency_min: count(concurrency.limit_min, 1),
            concurrency_std: count(concurrency.limit_std, 1),
            concurrency_max: count(concurrency.limit_max, 1),
        },
    }
}

/// `nuvolaris.io/<key>` node labels (the original's kind nodes carry apihost, apiport, protocol
/// and kube this way). They fill in what the spec leaves out; the spec wins.
fn node_settings(facts: &ClusterFacts) -> BTreeMap<String, String> {
    facts
        .nodes
        .iter()
        .flat_map(|n| n.labels.iter())
        .filter_map(|(k, v)| {
            k.strip_prefix("nuvolaris.io/")
                .map(|k| (k.to_owned(), v.clone()))
        })
        .collect()
}

/// A spec value that is set and not "auto".
fn explicit(value: Option<&str>) -> Option<String> {
    value
        .filter(|v| !v.is_empty() && *v != "auto")
        .map(str::to_owned)
}

fn positive(value: Option<i32>) -> Option<u32> {
    value.and_then(|v| u32::try_from(v).ok()).filter(|v| *v > 0)
}

/// Requests and limits, set only when the spec gives a CPU request (as the original did),
/// with its defaults for the rest.
fn resources(
    spec: &crd::Resources,
    (cpu_lim, mem_req, mem_lim): (&str, &str, &str),
) -> Option<Resources> {
    let cpu_request = spec.cpu_req.clone()?;
    Some(Resources {
        cpu_request,
        cpu_limit: spec.cpu_lim.clone().unwrap_or_else(|| cpu_lim.to_owned()),
        memory_request: spec.mem_req.clone().unwrap_or_else(|| mem_req.to_owned()),
        memory_limit: spec.mem_lim.clone().unwrap_or_else(|| mem_lim.to_owned()),
    })
}

/// `image` with `tag` appended unless the reference already carries one.
fn with_tag(image: &str, tag: Option<&str>, default_tag: &str) -> String {
    match crate::components::kit::split_image(image) {
        (_, Some(_)) => image.to_owned(),
        (name, None) => format!(
            "{name}:{}",
            tag.filter(|t| !t.is_empty()).unwrap_or(default_tag)
        ),
    }
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
    let valid = auth.split_once(':').is_some_and(|(uuid, key)| {
        uuid.len() == 36
            && uuid.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
            && key.len() >= 64
    });
    if valid {
        Ok(())
    } else {
        // never echo the key itself
        Err(ConfigError::Invalid(format!(
            "openwhisk.namespaces.{namespace} must be <uuid>:<key> with a key of at least 64 characters"
        )))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::{GENERATED_SECRET_KEYS, NodeFacts};

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
            GENERATED_SECRET_KEYS
                .iter()
                .map(|k| ((*k).to_owned(), crate::config::generate_secret_value(k)))
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
    fn generated_auth_keys_have_the_openwhisk_shape() {
        for _ in 0..20 {
            let auth = crate::config::generate_secret_value("nuvolaris-auth");
            validate_auth("nuvolaris", &auth).expect("a generated auth key is valid");
        }
        assert_eq!(
            crate::config::generate_secret_value("redis-default-password").len(),
            32
        );
    }
}
