//! `nuvolaris-operator setup whisk-system`: deploys the package `nuv` and its
//! nine actions ([`super::actions`]) into the `whisk-system` namespace over
//! the OpenWhisk REST API — what the original did with `wsk project deploy`
//! and a rendered manifest.
//!
//! 1. `PUT /api/v1/namespaces/<ns>/packages/nuv?overwrite=true`;
//! 2. for each action, `PUT /api/v1/namespaces/<ns>/actions/nuv/<name>?overwrite=true`
//!    with `exec: {kind: "python:3", code: <base64 zip>, binary: true}`, the
//!    admin inputs as parameters marked `init` (the runtime hands them to the
//!    action process as environment variables, never as request arguments),
//!    and the annotations `web-export: true`, `raw-http` (true for the raw
//!    actions), `final: true` (a request cannot override a parameter) and
//!    `provide-api-key: false` (the actions never need the whisk-system key).
//!
//! Every request is retried with backoff, until one deadline for the whole
//! run, on connection failures, timeouts, 5xx, 429 and 409 (a concurrent
//! update of the same entity); a 401/403 ends the run at once (a wrong key
//! does not get better by waiting), as does any other 4xx, with OpenWhisk's
//! message. Secrets (the auth key, the CouchDB password) are never logged.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use base64::Engine;
use hyper::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::actions::{
    PACKAGE, RUNTIME_KIND, SystemAction, WebExport, all_inputs, hex, system_actions,
};
use super::http::{JsonClient, encode_segment};
use super::{
    Backoff, Env, EnvVar, Secret, SetupEnv, SetupError, SetupSettings, SetupStep, optional,
    required,
};

/// The environment of `setup whisk-system` (see [`WhiskSystemConfig`]).
pub const WHISK_SYSTEM_ENV: &[EnvVar] = &[
    optional("OPENWHISK_API_HOST", "http://controller:3233"),
    optional("WHISK_SYSTEM_NAMESPACE", "whisk-system"),
    required("WHISK_SYSTEM_AUTH", true),
    optional("COUCHDB_HOST", "couchdb"),
    optional("COUCHDB_PORT", "5984"),
    required("COUCHDB_ADMIN_USER", false),
    required("COUCHDB_ADMIN_PASSWORD", true),
    optional("COUCHDB_DB_PREFIX", "nuvolaris_"),
    optional("MINIO_HOST", "nuvolaris-minio"),
    optional("MINIO_PORT", "9000"),
    optional("WHISK_SYSTEM_DEPLOY_SECONDS", "120"),
    optional("WHISK_SYSTEM_TIMEOUT_SECONDS", "30"),
    // what the operator rendered: in the Job's Secret, so that the Job (and the deployment) is
    // re-run when the actions or their inputs change, and only then
    EnvVar {
        name: CONTENT_HASH_ENV,
        secret: true,
        default: Some(""),
    },
];

/// The [`WhiskSystemConfig::content_hash`] the operator rendered into the Job.
pub const CONTENT_HASH_ENV: &str = "WHISK_SYSTEM_CONTENT_HASH";

/// Which environment variable gives each action input.
const INPUT_ENV: [(&str, &str); 7] = [
    ("couchdb_host", "COUCHDB_HOST"),
    ("couchdb_port", "COUCHDB_PORT"),
    ("couchdb_user", "COUCHDB_ADMIN_USER"),
    ("couchdb_password", "COUCHDB_ADMIN_PASSWORD"),
    ("couchdb_db_prefix", "COUCHDB_DB_PREFIX"),
    ("minio_host", "MINIO_HOST"),
    ("minio_port", "MINIO_PORT"),
];

/// Configuration of `setup whisk-system`.
///
/// | env var | default | meaning |
/// |---|---|---|
/// | `OPENWHISK_API_HOST` | `http://controller:3233` | the controller's REST API (http) |
/// | `WHISK_SYSTEM_NAMESPACE` | `whisk-system` | the namespace to deploy into |
/// | `WHISK_SYSTEM_AUTH` | required (secret) | its auth, `uuid:key` |
/// | `COUCHDB_HOST`, `COUCHDB_PORT` | `couchdb`, `5984` | inputs `couchdb_host`, `couchdb_port` |
/// | `COUCHDB_ADMIN_USER` | required | input `couchdb_user` |
/// | `COUCHDB_ADMIN_PASSWORD` | required (secret) | input `couchdb_password` |
/// | `COUCHDB_DB_PREFIX` | `nuvolaris_` | input `couchdb_db_prefix` |
/// | `MINIO_HOST`, `MINIO_PORT` | `nuvolaris-minio`, `9000` | inputs of `content` |
/// | `WHISK_SYSTEM_DEPLOY_SECONDS` | `120` | deadline of the whole deployment, retries included |
/// | `WHISK_SYSTEM_TIMEOUT_SECONDS` | `30` | timeout of one request |
/// | `WHISK_SYSTEM_CONTENT_HASH` | none (secret) | the content hash the operator rendered (a mismatch is logged: the Job's image has other actions than the operator) |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhiskSystemConfig {
    pub api_host: String,
    pub namespace: String,
    pub auth_uuid: String,
    pub auth_key: Secret,
    /// Every input of [`all_inputs`], by input name.
    pub inputs: BTreeMap<String, Secret>,
    pub deadline: Duration,
    pub timeout: Duration,
}

impl WhiskSystemConfig {
    /// The environment [`WhiskSystemConfig::from_vars`] reads back as `self`: plain values
    /// (for the Job spec) and secret values (for a Secret the Job loads), like
    /// `SetupSettings::to_env` of the other steps. Defaults are written too, so the Job shows
    /// every input the actions get.
    pub fn to_vars(&self) -> WhiskSystemEnv {
        let mut plain = vec![
            ("OPENWHISK_API_HOST".to_string(), self.api_host.clone()),
            ("WHISK_SYSTEM_NAMESPACE".to_string(), self.namespace.clone()),
            (
                "WHISK_SYSTEM_DEPLOY_SECONDS".to_string(),
                self.deadline.as_secs().to_string(),
            ),
            (
                "WHISK_SYSTEM_TIMEOUT_SECONDS".to_string(),
                self.timeout.as_secs().to_string(),
            ),
        ];
        let mut secret = vec![(
            "WHISK_SYSTEM_AUTH".to_string(),
            Secret::new(format!("{}:{}", self.auth_uuid, self.auth_key.expose())),
        )];
        for (input, var) in INPUT_ENV {
            let Some(value) = self.inputs.get(input) else {
                continue;
            };
            let is_secret = WHISK_SYSTEM_ENV.iter().any(|v| v.name == var && v.secret);
            if is_secret {
                secret.push((var.to_string(), value.clone()));
            } else {
                plain.push((var.to_string(), value.expose().to_string()));
            }
        }
        WhiskSystemEnv { plain, secret }
    }

    /// Checks what the REST calls rely on: a plain-http API host without
    /// credentials, a namespace name, and every input the actions take.
    pub fn validate(&self) -> Result<(), SetupError> {
        let invalid = |name, reason: &str| SetupError::InvalidEnv {
            name,
            reason: reason.to_string(),
        };
        let authority = self
            .api_host
            .strip_prefix("http://")
            .ok_or_else(|| {
                invalid(
                    "OPENWHISK_API_HOST",
                    "expected an http:// URL (the in-cluster controller, e.g. http://controller:3233)",
                )
            })?
            .trim_end_matches('/');
        if authority.is_empty() || authority.contains(['@', '/']) {
            return Err(invalid(
                "OPENWHISK_API_HOST",
                "expected http://host:port without credentials or path",
            ));
        }
        if self.namespace.is_empty() || self.namespace.contains('/') {
            return Err(invalid(
                "WHISK_SYSTEM_NAMESPACE",
                "expected a namespace name",
            ));
        }
        if let Some(missing) = all_inputs()
            .into_iter()
            .find(|i| !self.inputs.contains_key(*i))
        {
            return Err(SetupError::InvalidEnv {
                name: "inputs",
                reason: format!("the action input {missing} is not set"),
            });
        }
        Ok(())
    }

    /// A digest of what a deployment installs: namespace, package, every
    /// action (name, kind, web flags, inputs, zip) and the input values.
    /// Equal digests mean a re-deployment would change nothing, so a caller
    /// can deploy only when it changes. It is derived from secrets (the
    /// CouchDB password), so treat it as sensitive-adjacent: it reveals no
    /// value, but do not publish it next to guessable inputs.
    pub fn content_hash(&self) -> String {
        let mut digest = Sha256::new();
        let mut field = |bytes: &[u8]| {
            digest.update((bytes.len() as u64).to_be_bytes());
            digest.update(bytes);
        };
        field(b"nuvolaris whisk-system deployment v1");
        field(self.namespace.as_bytes());
        field(PACKAGE.as_bytes());
        field(RUNTIME_KIND.as_bytes());
        for action in system_actions() {
            field(action.name.as_bytes());
            field(&[u8::from(action.web == WebExport::Raw)]);
            for input in action.inputs {
                field(input.as_bytes());
            }
            field(action.zip_sha256().as_bytes());
        }
        for (name, value) in &self.inputs {
            field(name.as_bytes());
            field(value.expose().as_bytes());
        }
        hex(&digest.finalize())
    }
}

impl SetupSettings for WhiskSystemConfig {
    const STEP: SetupStep = SetupStep::WhiskSystem;

    /// [`WhiskSystemConfig::to_vars`] and the content hash, in the Job's Secret.
    fn to_env(&self) -> SetupEnv {
        let WhiskSystemEnv { plain, secret } = self.to_vars();
        let mut env = SetupEnv::new(Self::STEP);
        for (name, value) in plain {
            env = env.value(&name, value);
        }
        for (name, value) in secret {
            env = env.secret(&name, &value);
        }
        env.secret(CONTENT_HASH_ENV, &Secret::new(self.content_hash()))
    }

    fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, SetupError> {
        let vars: BTreeMap<String, String> = vars.into_iter().collect();
        let env = Env(|k: &str| vars.get(k).cloned());
        let default_of = |name: &str| {
            WHISK_SYSTEM_ENV
                .iter()
                .find(|v| v.name == name)
                .and_then(|v| v.default)
        };
        let mut inputs = BTreeMap::new();
        for (input, var) in INPUT_ENV {
            let spec = WHISK_SYSTEM_ENV
                .iter()
                .find(|v| v.name == var)
                .expect("every input variable is listed in WHISK_SYSTEM_ENV");
            let value = match (spec.secret, default_of(var)) {
                (true, _) => env.secret(spec.name)?,
                (false, Some(default)) => Secret::new(env.or(spec.name, default)),
                (false, None) => Secret::new(env.required(spec.name)?),
            };
            inputs.insert(input.to_string(), value);
        }
        let auth = env.secret("WHISK_SYSTEM_AUTH")?;
        let (uuid, key) = auth
            .expose()
            .trim()
            .split_once(':')
            .filter(|(u, k)| !u.is_empty() && !k.is_empty() && !k.contains(':'))
            .ok_or(SetupError::InvalidEnv {
                name: "WHISK_SYSTEM_AUTH",
                reason: "expected uuid:key".into(),
            })?;
        let cfg = WhiskSystemConfig {
            api_host: env.or("OPENWHISK_API_HOST", "http://controller:3233"),
            namespace: env.or("WHISK_SYSTEM_NAMESPACE", "whisk-system"),
            auth_uuid: uuid.to_string(),
            auth_key: Secret::new(key),
            inputs,
            deadline: env.seconds("WHISK_SYSTEM_DEPLOY_SECONDS", 120)?,
            timeout: env.seconds("WHISK_SYSTEM_TIMEOUT_SECONDS", 30)?,
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

/// The environment of `setup whisk-system`, split by secrecy (see [`WhiskSystemConfig::to_vars`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhiskSystemEnv {
    /// Values for the Job spec.
    pub plain: Vec<(String, String)>,
    /// Values for the Secret the Job loads.
    pub secret: Vec<(String, Secret)>,
}

/// One entity the run deployed and how many requests it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedEntity {
    /// `package nuv` or `action nuv/<name>`.
    pub name: String,
    pub attempts: u32,
}

/// The result of a deployment.
#[derive(Debug, Clone)]
pub struct WhiskSystemReport {
    pub entities: Vec<DeployedEntity>,
    /// [`WhiskSystemConfig::content_hash`] of what was deployed.
    pub content_hash: String,
    pub elapsed: Duration,
}

impl WhiskSystemReport {
    /// Requests sent, retries included.
    pub fn requests(&self) -> u32 {
        self.entities.iter().map(|e| e.attempts).sum()
    }
}

impl fmt::Display for WhiskSystemReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} entities deployed in {} ms with {} requests",
            self.entities.len(),
            self.elapsed.as_millis(),
            self.requests()
        )
    }
}

/// The body of the package PUT (OpenWhisk's `PackagePut`).
pub fn package_body() -> Value {
    json!({ "publish": false, "annotations": [], "parameters": [] })
}

/// The body of one action's PUT (OpenWhisk's `ActionPut`). Input values are
/// secrets: the body is only ever sent, never logged.
pub fn action_body(
    action: &SystemAction,
    inputs: &BTreeMap<String, Secret>,
) -> Result<Value, SetupError> {
    let parameters = action
        .inputs
        .iter()
        .map(|name| {
            let value = inputs.get(*name).ok_or_else(|| SetupError::InvalidEnv {
                name: "inputs",
                reason: format!("the input {name} of action {} is not set", action.name),
            })?;
            Ok(json!({ "key": name, "value": value.expose(), "init": true }))
        })
        .collect::<Result<Vec<Value>, SetupError>>()?;
    Ok(json!({
        "publish": false,
        "exec": {
            "kind": RUNTIME_KIND,
            "code": base64::engine::general_purpose::STANDARD.encode(action.zip),
            "binary": true,
        },
        "parameters": parameters,
        "annotations": [
            { "key": "web-export", "value": true },
            { "key": "raw-http", "value": action.web == WebExport::Raw },
            { "key": "final", "value": true },
            { "key": "provide-api-key", "value": false },
        ],
    }))
}

/// `setup whisk-system`: deploys, after checking that the actions are those the operator
/// rendered the Job for (`expected_hash`, [`CONTENT_HASH_ENV`]); a different hash means the Job
/// runs another image than the operator, and is logged (what this image has is deployed).
pub async fn run_whisk_system_setup(
    cfg: WhiskSystemConfig,
    expected_hash: Option<String>,
) -> Result<WhiskSystemReport, SetupError> {
    let hash = cfg.content_hash();
    match expected_hash.as_deref().map(str::trim) {
        Some(expected) if !expected.is_empty() && expected != hash => tracing::warn!(
            "the actions of this image differ from those the operator rendered the Job for (different operator and Job images?): deploying this image's"
        ),
        _ => {}
    }
    deploy_whisk_system(&cfg).await
}

/// Deploys the package and its actions. See the module documentation.
pub async fn deploy_whisk_system(cfg: &WhiskSystemConfig) -> Result<WhiskSystemReport, SetupError> {
    cfg.validate()?;
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + cfg.deadline;
    let client = JsonClient::new(&cfg.api_host, &cfg.auth_uuid, &cfg.auth_key, cfg.timeout);
    let base = format!("/api/v1/namespaces/{}", encode_segment(&cfg.namespace));
    tracing::info!(api_host = %cfg.api_host, namespace = %cfg.namespace, package = PACKAGE, "deploying whisk-system actions");

    let mut entities = Vec::new();
    let step = format!("package {PACKAGE}");
    let path = format!("{base}/packages/{}?overwrite=true", encode_segment(PACKAGE));
    let attempts = put(&client, cfg, &step, &path, &package_body(), deadline).await?;
    entities.push(DeployedEntity {
        name: step,
        attempts,
    });
    for action in system_actions() {
        let step = format!("action {PACKAGE}/{}", action.name);
        let path = format!(
            "{base}/actions/{}/{}?overwrite=true",
            encode_segment(PACKAGE),
            encode_segment(action.name)
        );
        let body = action_body(&action, &cfg.inputs)?;
        let attempts = put(&client, cfg, &step, &path, &body, deadline).await?;
        tracing::info!(%step, attempts, "deployed");
        entities.push(DeployedEntity {
            name: step,
            attempts,
        });
    }
    let report = WhiskSystemReport {
        entities,
        content_hash: cfg.content_hash(),
        elapsed: started.elapsed(),
    };
    tracing::info!(%report, "whisk-system actions deployed");
    Ok(report)
}

/// Whether a status is worth another attempt.
fn retryable(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::CONFLICT
}

/// One PUT, retried until it succeeds, fails for good, or the deadline
/// passes. Returns the number of attempts.
async fn put(
    client: &JsonClient,
    cfg: &WhiskSystemConfig,
    step: &str,
    path: &str,
    body: &Value,
    deadline: tokio::time::Instant,
) -> Result<u32, SetupError> {
    let mut backoff = Backoff::until(deadline);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let last_error = match client.send(step, Method::PUT, path, Some(body)).await {
            Ok(r) if r.status.is_success() => return Ok(attempts),
            Ok(r) if matches!(r.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => {
                return Err(SetupError::Unauthorized {
                    step: step.to_string(),
                    status: r.status.as_u16(),
                    api_host: cfg.api_host.clone(),
                });
            }
            Ok(r) if retryable(r.status) => {
                format!("HTTP {}: {}", r.status.as_u16(), r.snippet())
            }
            Ok(r) => return Err(r.into_error(step)),
            Err(SetupError::Http { reason, .. }) => reason,
            Err(e) => return Err(e),
        };
        tracing::warn!(%step, attempts, reason = %last_error, "OpenWhisk request failed, retrying");
        if !backoff.wait().await {
            return Err(SetupError::NotReady {
                service: "OpenWhisk",
                address: cfg.api_host.clone(),
                seconds: cfg.deadline.as_secs(),
                last_error: format!("{step}: {attempts} attempts, last: {last_error}"),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH: &str = "789c46b1-71f6-4ed5-8c54-816aa4f8c502:wskKEY00abcz";

    fn vars(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = [
            ("WHISK_SYSTEM_AUTH", AUTH),
            ("COUCHDB_ADMIN_USER", "whisk_admin"),
            ("COUCHDB_ADMIN_PASSWORD", "adm1n-pw"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        v.extend(extra.iter().map(|(k, x)| (k.to_string(), x.to_string())));
        v
    }

    #[test]
    fn reads_the_environment_with_defaults() {
        let cfg = WhiskSystemConfig::from_vars(vars(&[])).unwrap();
        assert_eq!(cfg.api_host, "http://controller:3233");
        assert_eq!(cfg.namespace, "whisk-system");
        assert_eq!(cfg.auth_uuid, "789c46b1-71f6-4ed5-8c54-816aa4f8c502");
        assert_eq!(cfg.auth_key.expose(), "wskKEY00abcz");
        let inputs: BTreeMap<&str, &str> = cfg
            .inputs
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose()))
            .collect();
        assert_eq!(
            inputs,
            BTreeMap::from([
                ("couchdb_db_prefix", "nuvolaris_"),
                ("couchdb_host", "couchdb"),
                ("couchdb_password", "adm1n-pw"),
                ("couchdb_port", "5984"),
                ("couchdb_user", "whisk_admin"),
                ("minio_host", "nuvolaris-minio"),
                ("minio_port", "9000"),
            ])
        );
        assert_eq!(cfg.deadline, Duration::from_secs(120));
        assert!(!format!("{cfg:?}").contains("adm1n-pw"));
        assert!(!format!("{cfg:?}").contains("wskKEY00abcz"));
    }

    #[test]
    fn required_variables_and_bad_values_are_reported_by_name() {
        for name in [
            "WHISK_SYSTEM_AUTH",
            "COUCHDB_ADMIN_USER",
            "COUCHDB_ADMIN_PASSWORD",
        ] {
            let without: Vec<_> = vars(&[]).into_iter().filter(|(k, _)| k != name).collect();
            match WhiskSystemConfig::from_vars(without) {
                Err(SetupError::MissingEnv(n)) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
        for (name, value) in [
            ("WHISK_SYSTEM_AUTH", "no-colon"),
            ("OPENWHISK_API_HOST", "https://controller:3233"),
            ("OPENWHISK_API_HOST", "http://user:pw@controller:3233"),
            ("WHISK_SYSTEM_NAMESPACE", "a/b"),
            ("WHISK_SYSTEM_DEPLOY_SECONDS", "2m"),
        ] {
            let mut v = vars(&[]);
            v.retain(|(k, _)| k != name);
            v.push((name.to_string(), value.to_string()));
            match WhiskSystemConfig::from_vars(v) {
                Err(SetupError::InvalidEnv { name: n, reason }) => {
                    assert_eq!(n, name);
                    assert!(!reason.contains("wskKEY"), "{reason}");
                }
                other => panic!("{name}={value}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_env_list_names_every_variable_read() {
        for (_, var) in INPUT_ENV {
            assert!(WHISK_SYSTEM_ENV.iter().any(|v| v.name == var), "{var}");
        }
        let secrets: Vec<&str> = WHISK_SYSTEM_ENV
            .iter()
            .filter(|v| v.secret)
            .map(|v| v.name)
            .collect();
        assert_eq!(
            secrets,
            [
                "WHISK_SYSTEM_AUTH",
                "COUCHDB_ADMIN_PASSWORD",
                "WHISK_SYSTEM_CONTENT_HASH"
            ]
        );
    }

    #[test]
    fn settings_round_trip_through_the_job_environment() {
        let cfg = WhiskSystemConfig::from_vars(vars(&[
            ("COUCHDB_HOST", "couchdb.nuvolaris.svc.cluster.local"),
            ("WHISK_SYSTEM_DEPLOY_SECONDS", "300"),
        ]))
        .unwrap();
        crate::setup::tests::assert_round_trip(&cfg);
        let env = cfg.to_env();
        let hash = env
            .secret
            .iter()
            .find(|(name, _)| name == CONTENT_HASH_ENV)
            .map(|(_, value)| value.expose().to_owned());
        assert_eq!(hash, Some(cfg.content_hash()), "the hash is in the Secret");
        assert!(
            env.plain.iter().all(|(_, v)| !v.contains("adm1n-pw")),
            "no secret among the plain values"
        );
    }

    #[test]
    fn action_bodies_carry_the_zip_init_inputs_and_annotations() {
        let cfg = WhiskSystemConfig::from_vars(vars(&[])).unwrap();
        for action in system_actions() {
            let body = action_body(&action, &cfg.inputs).unwrap();
            assert_eq!(body["exec"]["kind"], "python:3");
            assert_eq!(body["exec"]["binary"], true);
            let code = base64::engine::general_purpose::STANDARD
                .decode(body["exec"]["code"].as_str().unwrap())
                .unwrap();
            assert_eq!(code, action.zip);
            let parameters = body["parameters"].as_array().unwrap();
            assert_eq!(parameters.len(), action.inputs.len());
            assert!(parameters.iter().all(|p| p["init"] == true));
            let annotation = |key: &str| {
                body["annotations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|a| a["key"] == key)
                    .map(|a| a["value"].clone())
            };
            assert_eq!(annotation("web-export"), Some(json!(true)));
            assert_eq!(
                annotation("raw-http"),
                Some(json!(action.web == WebExport::Raw))
            );
            assert_eq!(annotation("final"), Some(json!(true)));
            assert_eq!(annotation("provide-api-key"), Some(json!(false)));
        }
        let login = system_actions().find(|a| a.name == "login").unwrap();
        let body = action_body(&login, &cfg.inputs).unwrap();
        let password = body["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["key"] == "couchdb_password")
            .unwrap();
        assert_eq!(password["value"], "adm1n-pw");
    }

    #[test]
    fn content_hash_follows_what_is_deployed() {
        let cfg = WhiskSystemConfig::from_vars(vars(&[])).unwrap();
        let same = WhiskSystemConfig::from_vars(vars(&[])).unwrap();
        assert_eq!(cfg.content_hash(), same.content_hash());
        assert_eq!(cfg.content_hash().len(), 64);
        let other_password = WhiskSystemConfig::from_vars(
            vars(&[])
                .into_iter()
                .map(|(k, v)| {
                    if k == "COUCHDB_ADMIN_PASSWORD" {
                        (k, "changed".into())
                    } else {
                        (k, v)
                    }
                })
                .collect::<Vec<_>>(),
        )
        .unwrap();
        assert_ne!(cfg.content_hash(), other_password.content_hash());
        let other_host =
            WhiskSystemConfig::from_vars(vars(&[("MINIO_HOST", "minio.example")])).unwrap();
        assert_ne!(cfg.content_hash(), other_host.content_hash());
        // Where it is deployed from (the API host, the request timeout) is not what.
        let elsewhere = WhiskSystemConfig::from_vars(vars(&[
            ("OPENWHISK_API_HOST", "http://other:3233"),
            ("WHISK_SYSTEM_TIMEOUT_SECONDS", "5"),
        ]))
        .unwrap();
        assert_eq!(cfg.content_hash(), elsewhere.content_hash());
    }

    #[test]
    fn to_vars_reads_back_the_same_configuration() {
        let cfg = WhiskSystemConfig::from_vars(vars(&[
            ("COUCHDB_HOST", "couchdb.nuvolaris.svc.cluster.local"),
            ("WHISK_SYSTEM_DEPLOY_SECONDS", "300"),
        ]))
        .unwrap();
        let WhiskSystemEnv { plain, secret } = cfg.to_vars();
        for (name, _) in &plain {
            let var = WHISK_SYSTEM_ENV.iter().find(|v| v.name == name).unwrap();
            assert!(!var.secret, "{name} written as a plain value");
        }
        for (name, _) in &secret {
            let var = WHISK_SYSTEM_ENV.iter().find(|v| v.name == name).unwrap();
            assert!(var.secret, "{name} written as a secret");
        }
        let all = plain
            .into_iter()
            .chain(secret.into_iter().map(|(k, v)| (k, v.expose().to_string())));
        assert_eq!(WhiskSystemConfig::from_vars(all).unwrap(), cfg);
    }

    #[test]
    fn which_statuses_are_retried() {
        for s in [500, 502, 503, 504, 429, 409] {
            assert!(retryable(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [400, 401, 403, 404, 413] {
            assert!(!retryable(StatusCode::from_u16(s).unwrap()), "{s}");
        }
    }
}
