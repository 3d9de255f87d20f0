//! Passwords and keys the CR leaves out, kept in the Secret [`GENERATED_SECRET_NAME`] (in the CR's
//! namespace, owned by the CR). Each component declares the keys it needs ([`GeneratedKey`]
//! constants next to its configuration) and, for each, where a live installation keeps the value
//! in use ([`LiveSource`]: the Python operator's Secrets, ConfigMaps, env values and `cm/config`
//! annotations, or this operator's own generated Secrets).
//!
//! The rule, for every component: **a credential in use is never changed.** A key the
//! configuration needs (the spec leaves the value out, the component is enabled: see
//! `Config::missing_generated`) and the Secret lacks is *adopted* from the first live source that
//! holds a value of the key's shape; only when none does (a fresh installation) is it generated
//! randomly. Once in the Secret, a value is never changed. The Secret holds only what was
//! generated or adopted: a value the spec gives is never copied there.

use std::collections::BTreeMap;

use super::ConfigError;
use crate::secret::Secret;

/// Name of the Secret holding the generated passwords.
pub const GENERATED_SECRET_NAME: &str = "nuvolaris-generated";

/// What a generated value looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretShape {
    /// 32 alphanumerics.
    Password,
    /// An OpenWhisk auth key: `<uuid>:<64 alphanumerics>`.
    OpenWhiskAuth,
    /// An ECDSA P-256 private key, PKCS#8 PEM (e.g. etcd's JWT signing key).
    EcPrivateKey,
}

impl SecretShape {
    /// Whether `value` can be a value of this shape (an adopted value must be usable).
    pub fn accepts(self, value: &str) -> bool {
        match self {
            SecretShape::Password => !value.is_empty(),
            SecretShape::OpenWhiskAuth => value.split_once(':').is_some_and(|(uuid, key)| {
                uuid.len() == 36
                    && uuid.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
                    && key.len() >= 64
            }),
            SecretShape::EcPrivateKey => value.contains("-----BEGIN PRIVATE KEY-----"),
        }
    }
}

/// One key of the generated Secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneratedKey {
    pub name: &'static str,
    pub shape: SecretShape,
    /// Where a live installation keeps the value, in the order they are tried.
    pub live: &'static [LiveSource],
}

impl GeneratedKey {
    pub const fn password(name: &'static str) -> GeneratedKey {
        GeneratedKey {
            name,
            shape: SecretShape::Password,
            live: &[],
        }
    }

    pub const fn auth(name: &'static str) -> GeneratedKey {
        GeneratedKey {
            name,
            shape: SecretShape::OpenWhiskAuth,
            live: &[],
        }
    }

    pub const fn ec_private_key(name: &'static str) -> GeneratedKey {
        GeneratedKey {
            name,
            shape: SecretShape::EcPrivateKey,
            live: &[],
        }
    }

    /// The same key, adopted from `sources` when a live installation has it.
    pub const fn kept_in(self, sources: &'static [LiveSource]) -> GeneratedKey {
        GeneratedKey {
            live: sources,
            ..self
        }
    }

    /// The first value of this key's shape that one of its live sources holds; `fetched` gives
    /// the live object a source names (`None` when it does not exist).
    pub fn adopt<'a>(
        self,
        mut fetched: impl FnMut(&LiveObject) -> Option<&'a serde_json::Value>,
    ) -> Option<(String, &'static LiveSource)> {
        self.live.iter().find_map(|source| {
            let value = source.read(fetched(&source.object())?)?;
            self.shape.accepts(&value).then_some((value, source))
        })
    }

    /// A fresh random value of this key's shape.
    pub fn generate(self) -> String {
        use rand::Rng;
        use rand::distr::Alphanumeric;
        let random = |n: usize| -> String {
            rand::rng()
                .sample_iter(&Alphanumeric)
                .take(n)
                .map(char::from)
                .collect()
        };
        match self.shape {
            SecretShape::Password => random(32),
            SecretShape::OpenWhiskAuth => {
                let hex = |n: usize| -> String {
                    let mut rng = rand::rng();
                    (0..n)
                        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
                        .collect()
                };
                format!(
                    "{}-{}-{}-{}-{}:{}",
                    hex(8),
                    hex(4),
                    hex(4),
                    hex(4),
                    hex(12),
                    random(64)
                )
            }
            SecretShape::EcPrivateKey => ec_private_key_pem(),
        }
    }

    /// A fixed stand-in of the right shape, for offline renders (deterministic output).
    pub fn placeholder(self) -> String {
        match self.shape {
            SecretShape::Password => format!("generated-{}", self.name),
            SecretShape::OpenWhiskAuth => format!(
                "00000000-0000-0000-0000-000000000000:{:x<64}",
                format!("generated-{}", self.name)
            ),
            SecretShape::EcPrivateKey => format!(
                "-----BEGIN PRIVATE KEY-----\ngenerated-{}\n-----END PRIVATE KEY-----\n",
                self.name
            ),
        }
    }
}

/// A fresh ECDSA P-256 key as PKCS#8 PEM, from the system's random source.
fn ec_private_key_pem() -> String {
    use base64::Engine;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    let rng = ring::rand::SystemRandom::new();
    // Only fails when the system has no random source, where nothing else would work either.
    let Ok(document) = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng) else {
        panic!("no system random source to generate a key");
    };
    let encoded = base64::engine::general_purpose::STANDARD.encode(document.as_ref());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    pem
}

/// A live object a [`LiveSource`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LiveObject {
    /// The newest Secret whose name starts with this prefix (kustomize's hashed names).
    SecretNamed(&'static str),
    ConfigMap(&'static str),
    /// A workload (`StatefulSet`, `Deployment` or `Job`) by kind and name.
    Workload(&'static str, &'static str),
}

/// How a value is taken out of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extract {
    /// The whole text.
    Whole,
    /// The first capture group of a regular expression (e.g. `requirepass` in a redis.conf).
    Regex(&'static str),
    /// The string value of a key of a JSON object (e.g. the original's `NUVOLARIS_CONFIG`).
    JsonKey(&'static str),
}

impl Extract {
    /// The value in `text`, if any (never empty).
    pub fn from(self, text: &str) -> Option<String> {
        let value = match self {
            Extract::Whole => Some(text.to_owned()),
            Extract::Regex(pattern) => regex::Regex::new(pattern)
                .ok()?
                .captures(text)?
                .get(1)
                .map(|m| m.as_str().to_owned()),
            Extract::JsonKey(key) => serde_json::from_str::<serde_json::Value>(text)
                .ok()?
                .get(key)?
                .as_str()
                .map(str::to_owned),
        };
        value.filter(|v| !v.is_empty())
    }
}

/// Where a live installation keeps the value of a [`GeneratedKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveSource {
    /// `data[key]` of the newest Secret whose name starts with `prefix`.
    Secret {
        prefix: &'static str,
        key: &'static str,
        extract: Extract,
    },
    /// `data[key]` of a ConfigMap.
    ConfigMap {
        name: &'static str,
        key: &'static str,
        extract: Extract,
    },
    /// The plain `value` of the variable `env` of a container (or init container) of a
    /// workload's pod template: `kind` is `StatefulSet`, `Deployment` or `Job`.
    Env {
        kind: &'static str,
        name: &'static str,
        env: &'static str,
        extract: Extract,
    },
    /// An annotation of the `ops` CLI's ConfigMap `config`, where the original published
    /// credentials (`redis_password`, `s3_secret_key`, …).
    OpsAnnotation { key: &'static str, extract: Extract },
}

impl LiveSource {
    /// The whole value of `data[key]` of the newest Secret whose name starts with `prefix`.
    pub const fn secret(prefix: &'static str, key: &'static str) -> LiveSource {
        LiveSource::Secret {
            prefix,
            key,
            extract: Extract::Whole,
        }
    }

    /// The plain `value` of the variable `env` of a workload's pod template.
    pub const fn env(kind: &'static str, name: &'static str, env: &'static str) -> LiveSource {
        LiveSource::Env {
            kind,
            name,
            env,
            extract: Extract::Whole,
        }
    }

    /// The whole `cm/config` annotation `key`.
    pub const fn annotation(key: &'static str) -> LiveSource {
        LiveSource::OpsAnnotation {
            key,
            extract: Extract::Whole,
        }
    }

    /// The live object this source reads.
    pub fn object(&self) -> LiveObject {
        match *self {
            LiveSource::Secret { prefix, .. } => LiveObject::SecretNamed(prefix),
            LiveSource::ConfigMap { name, .. } => LiveObject::ConfigMap(name),
            LiveSource::Env { kind, name, .. } => LiveObject::Workload(kind, name),
            LiveSource::OpsAnnotation { .. } => LiveObject::ConfigMap(super::OPS_CONFIGMAP),
        }
    }

    /// The value this source holds in `object` (the live object of [`LiveSource::object`], as
    /// JSON), if any.
    pub fn read(&self, object: &serde_json::Value) -> Option<String> {
        match *self {
            LiveSource::Secret { key, extract, .. } => {
                use base64::Engine;
                let encoded = object.get("data")?.get(key)?.as_str()?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .ok()?;
                extract.from(&String::from_utf8(bytes).ok()?)
            }
            LiveSource::ConfigMap { key, extract, .. } => {
                extract.from(object.get("data")?.get(key)?.as_str()?)
            }
            LiveSource::Env { env, extract, .. } => {
                let pod = object.pointer("/spec/template/spec")?;
                ["containers", "initContainers"]
                    .iter()
                    .filter_map(|list| pod.get(list)?.as_array())
                    .flatten()
                    .filter_map(|container| container.get("env")?.as_array())
                    .flatten()
                    .filter(|var| var.get("name").and_then(|n| n.as_str()) == Some(env))
                    .find_map(|var| extract.from(var.get("value")?.as_str()?))
            }
            LiveSource::OpsAnnotation { key, extract } => extract.from(
                object
                    .pointer("/metadata/annotations")?
                    .get(key)?
                    .as_str()?,
            ),
        }
    }

    /// Where the value came from, for logs and Events (never the value).
    pub fn describe(&self) -> String {
        match self {
            LiveSource::Secret { prefix, key, .. } => format!("Secret {prefix}* key {key}"),
            LiveSource::ConfigMap { name, key, .. } => format!("ConfigMap {name} key {key}"),
            LiveSource::Env {
                kind, name, env, ..
            } => format!("{kind} {name} env {env}"),
            LiveSource::OpsAnnotation { key, .. } => {
                format!("ConfigMap {} annotation {key}", super::OPS_CONFIGMAP)
            }
        }
    }
}

/// The Python operator's couchdb-init Job: its env `NUVOLARIS_CONFIG` holds the whole spec as
/// flat JSON, defaults applied (`couchdb.admin.password`, `openwhisk.namespaces.nuvolaris`, …).
pub const fn original_config(key: &'static str) -> LiveSource {
    LiveSource::Env {
        kind: "Job",
        name: "couchdb-init",
        env: "NUVOLARIS_CONFIG",
        extract: Extract::JsonKey(key),
    }
}

/// A key of this operator's `couchdb-init-auth-<hash>` Secret (the env of the CouchDB setup).
pub const fn couchdb_setup_env(key: &'static str, extract: Extract) -> LiveSource {
    LiveSource::Secret {
        prefix: "couchdb-init-auth-",
        key,
        extract,
    }
}

/// The installation-wide keys that belong to no single component: the auth keys of the
/// `whisk-system` and `nuvolaris` OpenWhisk namespaces and the `nuvolaris` user's password.
pub const WHISK_SYSTEM_AUTH: GeneratedKey = GeneratedKey::auth("whisk-system-auth").kept_in(&[
    original_config("openwhisk.namespaces.whisk-system"),
    couchdb_setup_env(
        "OPENWHISK_NAMESPACES",
        Extract::Regex(r"(?:^|[,\n])whisk-system=([^,\n]+)"),
    ),
]);
pub const NUVOLARIS_AUTH: GeneratedKey = GeneratedKey::auth("nuvolaris-auth").kept_in(&[
    original_config("openwhisk.namespaces.nuvolaris"),
    couchdb_setup_env(
        "OPENWHISK_NAMESPACES",
        Extract::Regex(r"(?:^|[,\n])nuvolaris=([^,\n]+)"),
    ),
]);
pub const NUVOLARIS_PASSWORD: GeneratedKey =
    GeneratedKey::password("nuvolaris-password").kept_in(&[
        original_config("nuvolaris.password"),
        couchdb_setup_env("NUVOLARIS_PASSWORD", Extract::Whole),
    ]);
pub const CORE_KEYS: &[GeneratedKey] = &[NUVOLARIS_PASSWORD, WHISK_SYSTEM_AUTH, NUVOLARIS_AUTH];

/// The content of the generated Secret, by key.
#[derive(Clone, Default, PartialEq)]
pub struct GeneratedSecrets(pub BTreeMap<String, String>);

impl std::fmt::Debug for GeneratedSecrets {
    // Never print secret values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl GeneratedSecrets {
    /// The generated value of `key`. Missing means the controller did not ensure the key: an
    /// operator defect, not the user's fault.
    pub fn get(&self, key: GeneratedKey) -> Result<Secret, ConfigError> {
        self.0
            .get(key.name)
            .map(Secret::new)
            .ok_or(ConfigError::MissingGenerated(key))
    }

    /// The spec's value when it gives a non-empty one, else the generated `key`.
    pub fn given_or(
        &self,
        value: Option<&String>,
        key: GeneratedKey,
    ) -> Result<Secret, ConfigError> {
        match value.filter(|v| !v.is_empty()) {
            Some(v) => Ok(Secret::new(v.clone())),
            None => self.get(key),
        }
    }

    /// What a component's settings read: these secrets when it is `enabled`; otherwise stand-ins
    /// fill its `keys` in, since nothing of a disabled component is rendered and its keys must be
    /// neither generated nor adopted.
    pub fn for_component(
        &self,
        enabled: bool,
        keys: &[GeneratedKey],
    ) -> std::borrow::Cow<'_, GeneratedSecrets> {
        if enabled {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut filled = self.clone();
        for key in keys {
            filled
                .0
                .entry(key.name.to_owned())
                .or_insert_with(|| key.placeholder());
        }
        std::borrow::Cow::Owned(filled)
    }

    /// Stand-ins for every key, for offline renders.
    pub fn placeholders<'a>(keys: impl IntoIterator<Item = &'a GeneratedKey>) -> GeneratedSecrets {
        GeneratedSecrets(
            keys.into_iter()
                .map(|k| (k.name.to_owned(), k.placeholder()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::{couchdb, redis};

    /// The objects of a live installation of the Python operator, as the API returns them.
    fn original_installation() -> BTreeMap<LiveObject, serde_json::Value> {
        let config = json!({
            "couchdb.admin.password": "some_passw0rd",
            "couchdb.invoker.password": "s0meP@ass2",
            "nuvolaris.password": "nuvpassw0rd",
            "openwhisk.namespaces.nuvolaris": format!("cbd68075-dac2-475e-8c07-d62a30c7e683:{}", "k".repeat(64)),
            "openwhisk.namespaces.whisk-system": "not-an-auth-key",
        });
        BTreeMap::from([
            (
                LiveObject::SecretNamed("couchdb-auth-"),
                json!({"data": {"db_password": "c29tZV9wYXNzdzByZA=="}}),
            ),
            (
                LiveObject::ConfigMap("redis-cm"),
                json!({"data": {"redis-conf": "requirepass s0meP@ass3\n\n# bitnami\nmaxmemory 1000mb\nsave \"\"\n"}}),
            ),
            (
                LiveObject::ConfigMap("config"),
                json!({"metadata": {"annotations": {
                    "apihost": "http://localhost:3233",
                    "redis_url": "redis://nuvolaris:p@ss:word@redis:6379",
                }}}),
            ),
            (
                LiveObject::Workload("StatefulSet", "controller"),
                json!({"spec": {"template": {"spec": {"containers": [{"name": "controller", "env": [
                    {"name": "CONFIG_whisk_couchdb_controller_password", "value": "s0meP@ass1"},
                    {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                ]}]}}}}),
            ),
            (
                LiveObject::Workload("Job", "couchdb-init"),
                json!({"spec": {"template": {"spec": {"containers": [{"name": "init-couchdb", "env": [
                    {"name": "NUVOLARIS_CONFIG", "value": config.to_string()},
                ]}]}}}}),
            ),
        ])
    }

    fn adopted(key: GeneratedKey) -> Option<String> {
        let live = original_installation();
        key.adopt(|object| live.get(object)).map(|(value, _)| value)
    }

    #[test]
    fn the_credentials_of_a_live_original_installation_are_found() {
        assert_eq!(
            adopted(couchdb::ADMIN_PASSWORD).as_deref(),
            Some("some_passw0rd")
        );
        assert_eq!(
            adopted(couchdb::CONTROLLER_PASSWORD).as_deref(),
            Some("s0meP@ass1")
        );
        assert_eq!(
            adopted(couchdb::INVOKER_PASSWORD).as_deref(),
            Some("s0meP@ass2")
        );
        assert_eq!(
            adopted(redis::DEFAULT_PASSWORD).as_deref(),
            Some("s0meP@ass3")
        );
        // from the URL: the password may hold '@' and ':'
        assert_eq!(
            adopted(redis::NUVOLARIS_PASSWORD).as_deref(),
            Some("p@ss:word")
        );
        assert_eq!(adopted(NUVOLARIS_PASSWORD).as_deref(), Some("nuvpassw0rd"));
        assert!(adopted(NUVOLARIS_AUTH).is_some_and(|a| a.ends_with(&"k".repeat(64))));
        // a value that is not of the key's shape is not adopted
        assert_eq!(adopted(WHISK_SYSTEM_AUTH), None);
    }

    /// The objects the original applies for `capture` (`orig-applied/`), as the API returns them
    /// (a Secret's `stringData` ends up in `data`).
    fn captured(capture: &str) -> Vec<serde_json::Value> {
        use base64::Engine;
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/reference/orig-applied")
            .join(capture);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (CI checks ../shared out beside the repo)",
                path.display()
            )
        });
        serde_yaml_ng::Deserializer::from_str(&text)
            .filter_map(|doc| {
                use serde::Deserialize;
                let mut object = serde_json::Value::deserialize(doc).ok()?;
                if let Some(plain) = object.get("stringData").cloned() {
                    let data = object["data"].as_object().cloned().unwrap_or_default();
                    let mut data = serde_json::Value::Object(data);
                    for (key, value) in plain.as_object()? {
                        data[key] = json!(
                            base64::engine::general_purpose::STANDARD.encode(value.as_str()?)
                        );
                    }
                    object["data"] = data;
                }
                object.is_object().then_some(object)
            })
            .collect()
    }

    /// What `key` adopts from the objects of `capture`.
    fn adopted_from(capture: &[serde_json::Value], key: GeneratedKey) -> Option<String> {
        let named = |kind: &str, pick: &dyn Fn(&str) -> bool| {
            capture
                .iter()
                .find(|o| o["kind"] == kind && o["metadata"]["name"].as_str().is_some_and(pick))
        };
        key.adopt(|object| match *object {
            LiveObject::SecretNamed(prefix) => named("Secret", &|n| n.starts_with(prefix)),
            LiveObject::ConfigMap(name) => named("ConfigMap", &|n| n == name),
            LiveObject::Workload(kind, name) => named(kind, &|n| n == name),
        })
        .map(|(value, _)| value)
    }

    #[test]
    fn every_credential_the_original_applied_is_found_where_it_put_it() {
        use crate::config::{etcd, milvus, minio, postgres, registry};
        // the sample CRs' values (tests/kind/whisk.yaml and whisk-full.yaml of the original)
        let whisk = captured("whisk-kind.yaml");
        for (key, value) in [
            (registry::PASSWORD, "4pwdregistry"),
            (minio::ROOT_PASSWORD, "minioadmin"),
            (etcd::ROOT_PASSWORD, "0therPa55"),
            (milvus::ROOT_PASSWORD, "An0therPa55"),
            (milvus::S3_PASSWORD, "8_d$8zCrl7\u{a3}m"),
            (couchdb::ADMIN_PASSWORD, "some_passw0rd"),
        ] {
            assert_eq!(
                adopted_from(&whisk, key).as_deref(),
                Some(value),
                "{}",
                key.name
            );
        }
        let full = captured("whisk-full-kind.yaml");
        for (key, value) in [
            (postgres::ADMIN_PASSWORD, "0therPa55"),
            // the original ignored `admin.replica-password`: the superuser's is in use
            (postgres::REPLICATION_PASSWORD, "0therPa55"),
            (postgres::NUVOLARIS_PASSWORD, "s0meP@ass3"),
            (minio::ROOT_PASSWORD, "minioadmin"),
            (etcd::ROOT_PASSWORD, "0therPa55"),
        ] {
            assert_eq!(
                adopted_from(&full, key).as_deref(),
                Some(value),
                "{}",
                key.name
            );
        }
        // the original's etcd JWT key is RSA, shipped to everyone: not adopted
        assert_eq!(adopted_from(&whisk, etcd::JWT_KEY), None);
    }

    #[test]
    fn the_credentials_the_original_published_on_cm_config_are_found() {
        use crate::config::{milvus, minio, mongodb, registry, seaweedfs};
        let config = json!({"metadata": {"annotations": {
            "s3_secret_key": "s3:secret@key",
            "registry_password": "4pwdregistry",
            "milvus_token": "nuvolaris:Nuv0:therPa55",
            "mongodb_url": "mongodb://nuvolaris:s0meP@ass3@nuvolaris-mongodb-0.nuvolaris-mongodb-svc:27017/nuvolaris?authMechanism=PLAIN",
        }}});
        let from_config = |key: GeneratedKey| {
            key.adopt(|object| (*object == LiveObject::ConfigMap("config")).then_some(&config))
                .map(|(value, _)| value)
        };
        for (key, value) in [
            (minio::NUVOLARIS_PASSWORD, "s3:secret@key"),
            (seaweedfs::NUVOLARIS_PASSWORD, "s3:secret@key"),
            (registry::PASSWORD, "4pwdregistry"),
            (milvus::NUVOLARIS_PASSWORD, "Nuv0:therPa55"),
            (mongodb::PASSWORD, "s0meP@ass3"),
        ] {
            assert_eq!(from_config(key).as_deref(), Some(value), "{}", key.name);
        }
    }

    #[test]
    fn a_fresh_installation_has_nothing_to_adopt() {
        for key in [
            couchdb::ADMIN_PASSWORD,
            redis::NUVOLARIS_PASSWORD,
            NUVOLARIS_AUTH,
        ] {
            assert_eq!(key.adopt(|_| None), None, "{}", key.name);
        }
    }

    #[test]
    fn this_operators_own_setup_secrets_are_sources_too() {
        let namespaces = format!(
            "whisk-system=789c46b1-71f6-4ed5-8c54-816aa4f8c502:{},nuvolaris=x",
            "w".repeat(64)
        );
        use base64::Engine;
        let encode = |v: &str| base64::engine::general_purpose::STANDARD.encode(v);
        let secret = json!({"data": {"OPENWHISK_NAMESPACES": encode(&namespaces)}});
        let found = WHISK_SYSTEM_AUTH.adopt(|object| {
            (*object == LiveObject::SecretNamed("couchdb-init-auth-")).then_some(&secret)
        });
        let (value, source) = found.expect("adopted");
        assert!(value.starts_with("789c46b1-") && value.ends_with(&"w".repeat(64)));
        assert_eq!(
            source.describe(),
            "Secret couchdb-init-auth-* key OPENWHISK_NAMESPACES"
        );
        // `nuvolaris=x` is not an auth key
        assert_eq!(
            NUVOLARIS_AUTH.adopt(|object| {
                (*object == LiveObject::SecretNamed("couchdb-init-auth-")).then_some(&secret)
            }),
            None
        );
    }

    #[test]
    fn a_disabled_component_reads_stand_ins() {
        let secrets = GeneratedSecrets::default();
        assert!(
            secrets
                .for_component(true, redis::GENERATED)
                .get(redis::DEFAULT_PASSWORD)
                .is_err()
        );
        let filled = secrets.for_component(false, redis::GENERATED);
        assert_eq!(
            filled
                .get(redis::DEFAULT_PASSWORD)
                .expect("filled")
                .expose(),
            redis::DEFAULT_PASSWORD.placeholder()
        );
    }

    #[test]
    fn generated_values_have_their_shape() {
        assert_eq!(NUVOLARIS_PASSWORD.generate().len(), 32);
        let auth = NUVOLARIS_AUTH.generate();
        let (uuid, key) = auth.split_once(':').expect("uuid:key");
        assert_eq!((uuid.len(), key.len()), (36, 64));
        assert_ne!(NUVOLARIS_AUTH.generate(), auth, "random");
        assert!(NUVOLARIS_AUTH.placeholder().starts_with("00000000-"));
        let key = GeneratedKey::ec_private_key("k").generate();
        assert!(key.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{key}");
        assert!(key.ends_with("-----END PRIVATE KEY-----\n"));
        assert_ne!(GeneratedKey::ec_private_key("k").generate(), key, "random");
    }
}
