//! In-cluster setup steps that talk to the data services.
//!
//! They run as Kubernetes Jobs of the operator's own image
//! (`nuvolaris-operator setup couchdb`, `… setup redis`, `… setup minio`, `… setup whisk-system`,
//! …). The object stores are set up over their HTTP APIs with the reusable clients [`s3`] (SigV4
//! S3 requests, any S3 service) and [`minio_admin`] (MinIO's admin API, with the encrypted
//! bodies of [`sio`]).
//! Every step is idempotent: it reads the current state first and writes only
//! when it differs, so a Job can be re-run on every reconcile (and must be
//! re-run after Redis restarts: its ACLs live in memory only).
//!
//! Each step's settings are one type ([`CouchdbSetupConfig`], [`RedisSetupConfig`],
//! [`whisk_system::WhiskSystemConfig`]) that
//! implements [`SetupSettings`]: the operator writes it into the Job's environment with
//! [`SetupSettings::to_env`] (secret values into a generated Secret loaded with `envFrom`), the
//! setup command reads it back with [`SetupSettings::from_vars`]; a round-trip test per step
//! keeps the two sides together. Secrets are held in [`Secret`], whose `Debug`/`Display` never
//! show the value, and are never logged.
//!
//! The same environment mechanism serves every command of the operator's image that a Job or a
//! CronJob runs ([`JobCommand`]): the setup steps here, and the periodic tasks of
//! [`crate::periodic`] (`nuvolaris-operator cron`, `nuvolaris-operator quota`).

pub mod actions;
mod couchdb;
mod design;
pub(crate) mod http;
pub mod milvus;
mod minio;
pub mod minio_admin;
pub mod mongodb;
pub mod object_store;
pub mod postgres;
mod redis;
pub(crate) mod resp;
pub mod s3;
mod seaweedfs;
pub mod sio;
mod user;
pub mod user_stores;
pub mod whisk_system;

use std::fmt;
use std::time::Duration;

pub use crate::secret::Secret;

pub use couchdb::{
    COUCHDB_ENV, CouchdbSetupConfig, METADATA_ENV_PREFIX, NamespaceAuth, parse_namespaces,
    run_couchdb_setup,
};
pub use milvus::{MILVUS_ENV, MilvusAdmin, MilvusSetupConfig, run_milvus_setup};
pub use minio::{MINIO_ENV, MinioSetupConfig, run_minio_setup};
pub use mongodb::{MONGODB_ENV, MongodbSetupConfig, run_mongodb_setup};
pub use postgres::{POSTGRES_ENV, PgAdmin, PgServer, PostgresSetupConfig, run_postgres_setup};
pub use redis::{REDIS_ENV, RedisSetupConfig, run_redis_setup};
pub use seaweedfs::{SEAWEEDFS_ENV, SeaweedfsSetupConfig, run_seaweedfs_setup};
pub use user::{
    QUOTA_ENV_PREFIX, USER_ENV, UserAction, UserRedisTarget, UserSetupConfig, run_user_setup,
    split_auth,
};

/// One environment variable read by a setup command, so the Job manifests can
/// be generated (or checked) from the same list the code reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvVar {
    pub name: &'static str,
    /// Set it from a Secret (`secretKeyRef`), never as a literal value.
    pub secret: bool,
    /// Default when unset; `None` means the variable is required.
    pub default: Option<&'static str>,
}

pub(crate) const fn required(name: &'static str, secret: bool) -> EnvVar {
    EnvVar {
        name,
        secret,
        default: None,
    }
}

pub(crate) const fn optional(name: &'static str, default: &'static str) -> EnvVar {
    EnvVar {
        name,
        secret: false,
        default: Some(default),
    }
}

/// The setup steps, each run as a Job of the operator's own image:
/// `nuvolaris-operator setup <step>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SetupStep {
    /// Databases, users and design documents of CouchDB.
    Couchdb,
    /// The `nuvolaris` ACL user of Redis.
    Redis,
    /// MinIO's buckets, user and policy.
    Minio,
    /// SeaweedFS's identities, buckets and quotas.
    Seaweedfs,
    /// The `nuvolaris` database, user and schema of PostgreSQL.
    Postgres,
    /// FerretDB's PostgreSQL role and database.
    Mongodb,
    /// Milvus's `nuvolaris` user, database and role.
    Milvus,
    /// The whisk-system package `nuv` and its actions, over the OpenWhisk REST API.
    WhiskSystem,
    /// The data-plane entries of one WhiskUser (run by the WhiskUser controller).
    User,
}

impl SetupStep {
    /// The argument of `nuvolaris-operator setup`.
    pub fn name(self) -> &'static str {
        match self {
            SetupStep::Couchdb => "couchdb",
            SetupStep::Redis => "redis",
            SetupStep::Minio => "minio",
            SetupStep::Seaweedfs => "seaweedfs",
            SetupStep::Postgres => "postgres",
            SetupStep::Mongodb => "mongodb",
            SetupStep::Milvus => "milvus",
            SetupStep::WhiskSystem => "whisk-system",
            SetupStep::User => "user",
        }
    }

    /// Name of the Job (and of the generated Secret `<job>-auth-<hash>` with its secrets).
    pub fn job(self) -> &'static str {
        match self {
            SetupStep::Couchdb => "couchdb-init",
            SetupStep::Redis => "redis-init",
            SetupStep::Minio => "minio-init",
            SetupStep::Seaweedfs => "seaweedfs-init",
            SetupStep::Postgres => "postgres-init",
            SetupStep::Mongodb => "mongodb-init",
            SetupStep::Milvus => "milvus-init",
            SetupStep::WhiskSystem => "whisk-system-init",
            // the WhiskUser controller names each user's Job `<user>-user-setup`
            SetupStep::User => "user-setup",
        }
    }

    /// Name of the Job's container.
    pub fn container(self) -> &'static str {
        match self {
            SetupStep::Couchdb => "init-couchdb",
            SetupStep::Redis => "init-redis",
            SetupStep::Minio => "init-minio",
            SetupStep::Seaweedfs => "init-seaweedfs",
            SetupStep::Postgres => "init-postgres",
            SetupStep::Mongodb => "init-mongodb",
            SetupStep::Milvus => "init-milvus",
            SetupStep::WhiskSystem => "init-whisk-system",
            SetupStep::User => "setup-user",
        }
    }

    /// Every variable the step reads.
    pub fn variables(self) -> &'static [EnvVar] {
        match self {
            SetupStep::Couchdb => COUCHDB_ENV,
            SetupStep::Redis => REDIS_ENV,
            SetupStep::Minio => MINIO_ENV,
            SetupStep::Seaweedfs => SEAWEEDFS_ENV,
            SetupStep::Postgres => POSTGRES_ENV,
            SetupStep::Mongodb => MONGODB_ENV,
            SetupStep::Milvus => MILVUS_ENV,
            SetupStep::WhiskSystem => whisk_system::WHISK_SYSTEM_ENV,
            SetupStep::User => USER_ENV,
        }
    }

    /// Runs the step with the settings in the process environment; returns its one-line
    /// summary.
    pub async fn run_from_env(self) -> Result<String, SetupError> {
        Ok(match self {
            SetupStep::Couchdb => run_couchdb_setup(CouchdbSetupConfig::from_env()?)
                .await?
                .to_string(),
            SetupStep::Redis => run_redis_setup(RedisSetupConfig::from_env()?)
                .await?
                .to_string(),
            SetupStep::Minio => run_minio_setup(MinioSetupConfig::from_env()?)
                .await?
                .to_string(),
            SetupStep::Seaweedfs => run_seaweedfs_setup(SeaweedfsSetupConfig::from_env()?)
                .await?
                .to_string(),
            SetupStep::Postgres => run_postgres_setup(PostgresSetupConfig::from_env()?)
                .await?
                .to_string(),
            SetupStep::Mongodb => run_mongodb_setup(MongodbSetupConfig::from_env()?)
                .await?
                .to_string(),
            SetupStep::Milvus => run_milvus_setup(MilvusSetupConfig::from_env()?)
                .await?
                .to_string(),
            SetupStep::User => run_user_setup(UserSetupConfig::from_env()?)
                .await?
                .to_string(),
            SetupStep::WhiskSystem => whisk_system::run_whisk_system_setup(
                whisk_system::WhiskSystemConfig::from_env()?,
                std::env::var(whisk_system::CONTENT_HASH_ENV).ok(),
            )
            .await?
            .to_string(),
        })
    }
}

/// A command of the operator's image run by a Job or a CronJob: what it is called with, the name
/// of its Job (or CronJob) and container, and the variables it reads.
pub trait JobCommand: Copy + Eq + fmt::Debug {
    /// The arguments of `nuvolaris-operator`, e.g. `["setup", "couchdb"]` or `["cron"]`.
    fn args(self) -> Vec<&'static str>;
    /// Name of the Job or CronJob (and of the generated Secret `<job>-auth-<hash>`).
    fn job(self) -> &'static str;
    /// Name of its container.
    fn container(self) -> &'static str;
    /// Every variable it reads.
    fn variables(self) -> &'static [EnvVar];
}

impl JobCommand for SetupStep {
    fn args(self) -> Vec<&'static str> {
        vec!["setup", self.name()]
    }

    fn job(self) -> &'static str {
        SetupStep::job(self)
    }

    fn container(self) -> &'static str {
        SetupStep::container(self)
    }

    fn variables(self) -> &'static [EnvVar] {
        SetupStep::variables(self)
    }
}

/// The settings of one setup step, written by the operator into the Job's environment and read
/// back by the setup command.
pub trait SetupSettings: Sized {
    const STEP: SetupStep;

    /// The environment that [`SetupSettings::from_vars`] reads back as `self`.
    fn to_env(&self) -> SetupEnv;

    /// Reads the settings from the given variables.
    fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, SetupError>;

    /// Reads the settings from the process environment.
    fn from_env() -> Result<Self, SetupError> {
        Self::from_vars(std::env::vars())
    }
}

/// The environment of a Job running `step` (a setup step, or any other [`JobCommand`]): plain
/// values (in the Job spec, in order) and secret values (in the generated Secret the Job loads
/// with `envFrom`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupEnv<C: JobCommand = SetupStep> {
    pub step: C,
    pub plain: Vec<(String, String)>,
    pub secret: Vec<(String, Secret)>,
}

impl<C: JobCommand> SetupEnv<C> {
    pub fn new(step: C) -> SetupEnv<C> {
        SetupEnv {
            step,
            plain: Vec::new(),
            secret: Vec::new(),
        }
    }

    /// A plain value the operator sets.
    pub fn value(mut self, name: &str, value: impl fmt::Display) -> SetupEnv<C> {
        self.plain.push((name.to_owned(), value.to_string()));
        self
    }

    /// A tuning value, written only when it differs from the command's default, so the Job shows
    /// what was chosen.
    pub fn tuning<T: fmt::Display + PartialEq>(
        self,
        name: &str,
        value: T,
        default: T,
    ) -> SetupEnv<C> {
        if value == default {
            self
        } else {
            self.value(name, value)
        }
    }

    /// A secret value.
    pub fn secret(mut self, name: &str, value: &Secret) -> SetupEnv<C> {
        self.secret.push((name.to_owned(), value.clone()));
        self
    }

    /// Every variable, as the process environment of the Job would hold it.
    pub fn vars(&self) -> Vec<(String, String)> {
        self.plain
            .iter()
            .cloned()
            .chain(
                self.secret
                    .iter()
                    .map(|(k, v)| (k.clone(), v.expose().to_owned())),
            )
            .collect()
    }
}

/// Errors of the setup commands. Messages name users, databases and steps,
/// never secret values.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("missing required environment variable {0}")]
    MissingEnv(&'static str),
    #[error("invalid environment variable {name}: {reason}")]
    InvalidEnv { name: &'static str, reason: String },
    #[error("{service} at {address} did not become ready within {seconds}s: {last_error}")]
    NotReady {
        service: &'static str,
        address: String,
        seconds: u64,
        last_error: String,
    },
    #[error("{step}: HTTP request failed: {reason}")]
    Http { step: String, reason: String },
    #[error("{step}: unexpected HTTP status {status}: {body}")]
    Status {
        step: String,
        status: u16,
        body: String,
    },
    #[error("{step}: invalid JSON from the server: {source}")]
    Json {
        step: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{step}: PostgreSQL: {reason}")]
    Postgres { step: String, reason: String },
    #[error("{step}: Milvus: {reason}")]
    Milvus { step: String, reason: String },
    #[error("{step}: Redis error: {reason}")]
    Redis { step: String, reason: String },
    #[error(
        "{step}: OpenWhisk at {api_host} refused the whisk-system auth (HTTP {status}); check the whisk-system key (openwhisk.namespaces.whisk-system of the Whisk spec)"
    )]
    Unauthorized {
        step: String,
        status: u16,
        api_host: String,
    },
    #[error("{step}: gave up after {attempts} conflicting updates")]
    Conflict { step: String, attempts: u32 },
    #[error("bcrypt hashing failed: {0}")]
    Bcrypt(#[from] bcrypt::BcryptError),
    /// An S3 or MinIO admin request refused: the server's error code and message.
    #[error("{operation}: HTTP {status} {code}: {message}")]
    S3 {
        operation: String,
        status: u16,
        code: String,
        message: String,
    },
    #[error("{step}: {source}")]
    Crypto {
        step: String,
        #[source]
        source: sio::CryptoError,
    },
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    /// Removed (a user's entries on delete, or a store the user no longer has).
    Deleted,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Deleted => "deleted",
        })
    }
}

/// One step of a setup run: a name that identifies the object (user, database,
/// document or config key; never a secret) and what was done to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub name: String,
    pub outcome: Outcome,
}

/// The result of a setup run.
#[derive(Debug, Clone, Default)]
pub struct SetupReport {
    pub steps: Vec<Step>,
    pub elapsed: Duration,
}

/// The non-empty, trimmed items of a comma-separated list.
pub(crate) fn comma_list(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

impl SetupReport {
    fn record(&mut self, name: impl Into<String>, outcome: Outcome) {
        let name = name.into();
        tracing::info!(step = %name, %outcome, "setup step");
        self.steps.push(Step { name, outcome });
    }

    /// True when the run wrote nothing (every step was already in place).
    pub fn is_unchanged(&self) -> bool {
        self.steps.iter().all(|s| s.outcome == Outcome::Unchanged)
    }

    /// Number of steps with the given outcome.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.steps.iter().filter(|s| s.outcome == outcome).count()
    }

    /// Outcome of the step with this name, if it ran.
    pub fn outcome_of(&self, name: &str) -> Option<Outcome> {
        self.steps
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.outcome)
    }
}

impl fmt::Display for SetupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} steps in {} ms: {} created, {} updated, {} unchanged",
            self.steps.len(),
            self.elapsed.as_millis(),
            self.count(Outcome::Created),
            self.count(Outcome::Updated),
            self.count(Outcome::Unchanged)
        )?;
        match self.count(Outcome::Deleted) {
            0 => Ok(()),
            deleted => write!(f, ", {deleted} deleted"),
        }
    }
}

/// Reads environment variables through a lookup function, so `from_env` and
/// the tests share the parsing code without touching the process environment.
pub(crate) struct Env<F: Fn(&str) -> Option<String>>(pub(crate) F);

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub(crate) fn opt(&self, name: &'static str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    pub(crate) fn or(&self, name: &'static str, default: &str) -> String {
        self.opt(name).unwrap_or_else(|| default.to_string())
    }

    pub(crate) fn required(&self, name: &'static str) -> Result<String, SetupError> {
        self.opt(name).ok_or(SetupError::MissingEnv(name))
    }

    /// Secrets are not trimmed: a password may legitimately end in a space.
    pub(crate) fn secret(&self, name: &'static str) -> Result<Secret, SetupError> {
        match (self.0)(name) {
            Some(v) if !v.is_empty() => Ok(Secret::new(v)),
            _ => Err(SetupError::MissingEnv(name)),
        }
    }

    pub(crate) fn seconds(&self, name: &'static str, default: u64) -> Result<Duration, SetupError> {
        match self.opt(name) {
            None => Ok(Duration::from_secs(default)),
            Some(v) => {
                v.parse::<u64>()
                    .map(Duration::from_secs)
                    .map_err(|e| SetupError::InvalidEnv {
                        name,
                        reason: format!("expected whole seconds: {e}"),
                    })
            }
        }
    }

    pub(crate) fn boolean(&self, name: &'static str, default: bool) -> Result<bool, SetupError> {
        match self.opt(name).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if matches!(v.as_str(), "true" | "1" | "yes") => Ok(true),
            Some(v) if matches!(v.as_str(), "false" | "0" | "no") => Ok(false),
            Some(v) => Err(SetupError::InvalidEnv {
                name,
                reason: format!("expected true or false, got {v:?}"),
            }),
        }
    }
}

/// Truncated exponential backoff used while waiting for a service to come up:
/// 100 ms, 200 ms, … capped at 2 s, never past the deadline.
pub(crate) struct Backoff {
    next: Duration,
    deadline: tokio::time::Instant,
}

impl Backoff {
    pub(crate) fn new(total: Duration) -> Self {
        Self::until(tokio::time::Instant::now() + total)
    }

    /// A backoff that stops at an absolute deadline (shared by several steps).
    pub(crate) fn until(deadline: tokio::time::Instant) -> Self {
        Backoff {
            next: Duration::from_millis(100),
            deadline,
        }
    }

    /// Sleeps before the next attempt; false when the deadline has passed.
    pub(crate) async fn wait(&mut self) -> bool {
        let now = tokio::time::Instant::now();
        if now >= self.deadline {
            return false;
        }
        let pause = self.next.min(self.deadline - now);
        tokio::time::sleep(pause).await;
        self.next = (self.next * 2).min(Duration::from_secs(2));
        true
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `from_vars(to_env(x)) == x`, and every variable written is one the step declares, with
    /// the right secrecy: the writing and the reading side cannot drift apart.
    pub(crate) fn assert_round_trip<S>(settings: &S)
    where
        S: SetupSettings + PartialEq + fmt::Debug,
    {
        let env = settings.to_env();
        assert_eq!(env.step, S::STEP);
        assert_env_round_trip(settings, &env, S::from_vars);
    }

    /// What [`assert_round_trip`] checks, for any [`JobCommand`]'s settings: every variable
    /// written is declared with the right secrecy, and `read(env)` gives `settings` back.
    pub(crate) fn assert_env_round_trip<C, S, R>(settings: &S, env: &SetupEnv<C>, read: R)
    where
        C: JobCommand,
        S: PartialEq + fmt::Debug,
        R: Fn(Vec<(String, String)>) -> Result<S, SetupError>,
    {
        let declared = env.step.variables();
        for (name, secret) in env
            .plain
            .iter()
            .map(|(n, _)| (n, false))
            .chain(env.secret.iter().map(|(n, _)| (n, true)))
        {
            let var = declared
                .iter()
                .find(|v| v.name == name || (name.starts_with(v.name) && v.name.ends_with('_')))
                .unwrap_or_else(|| panic!("{name} is not a variable of {:?}", env.step));
            assert_eq!(var.secret, secret, "{name}: secrecy");
        }
        let back = read(env.vars()).expect("the written environment reads back");
        assert_eq!(&back, settings, "round trip of {:?}", env.step);
    }

    #[test]
    fn env_parsing() {
        let env = Env(|k: &str| match k {
            "A" => Some(" x ".into()),
            "EMPTY" => Some("".into()),
            "B" => Some("no".into()),
            "N" => Some("7".into()),
            "BAD" => Some("7s".into()),
            _ => None,
        });
        assert_eq!(env.opt("A").as_deref(), Some("x"));
        assert_eq!(env.opt("EMPTY"), None);
        assert!(matches!(
            env.required("MISSING"),
            Err(SetupError::MissingEnv("MISSING"))
        ));
        assert!(!env.boolean("B", true).unwrap());
        assert!(env.boolean("MISSING", true).unwrap());
        assert_eq!(env.seconds("N", 1).unwrap(), Duration::from_secs(7));
        assert!(matches!(
            env.seconds("BAD", 1),
            Err(SetupError::InvalidEnv { name: "BAD", .. })
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_stops_at_deadline() {
        let start = tokio::time::Instant::now();
        let mut b = Backoff::new(Duration::from_secs(5));
        let mut attempts = 0;
        while b.wait().await {
            attempts += 1;
        }
        let waited = start.elapsed();
        assert!(waited >= Duration::from_secs(5) && waited < Duration::from_millis(5100));
        // 0.1+0.2+0.4+0.8+1.6 = 3.1 s, then 1.9 s clipped to the deadline.
        assert_eq!(attempts, 6);
    }
}
