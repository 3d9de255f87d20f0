//! In-cluster setup steps that talk to the data services.
//!
//! They run as Kubernetes Jobs of the operator's own image
//! (`nuvolaris-operator setup couchdb`, `nuvolaris-operator setup redis`).
//! Every step is idempotent: it reads the current state first and writes only
//! when it differs, so a Job can be re-run on every reconcile (and must be
//! re-run after Redis restarts: its ACLs live in memory only).
//!
//! Configuration comes from environment variables (secrets through
//! `secretKeyRef`), see [`CouchdbSetupConfig::from_env`] and
//! [`RedisSetupConfig::from_env`]. Secrets are held in [`Secret`], whose
//! `Debug`/`Display` never show the value, and are never logged.

pub mod actions;
mod couchdb;
mod design;
mod http;
mod redis;
mod resp;
pub mod whisk_system;

use std::fmt;
use std::time::Duration;

pub use couchdb::{
    COUCHDB_ENV, CouchdbSetupConfig, METADATA_ENV_PREFIX, NamespaceAuth, parse_namespaces,
    run_couchdb_setup,
};
pub use redis::{REDIS_ENV, RedisSetupConfig, run_redis_setup};

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

const fn required(name: &'static str, secret: bool) -> EnvVar {
    EnvVar {
        name,
        secret,
        default: None,
    }
}

const fn optional(name: &'static str, default: &'static str) -> EnvVar {
    EnvVar {
        name,
        secret: false,
        default: Some(default),
    }
}

/// A secret value (password, auth key). Formatting it never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The clear value, to put on the wire only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
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
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
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
        )
    }
}

/// Reads environment variables through a lookup function, so `from_env` and
/// the tests share the parsing code without touching the process environment.
struct Env<F: Fn(&str) -> Option<String>>(F);

impl<F: Fn(&str) -> Option<String>> Env<F> {
    fn opt(&self, name: &'static str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    fn or(&self, name: &'static str, default: &str) -> String {
        self.opt(name).unwrap_or_else(|| default.to_string())
    }

    fn required(&self, name: &'static str) -> Result<String, SetupError> {
        self.opt(name).ok_or(SetupError::MissingEnv(name))
    }

    /// Secrets are not trimmed: a password may legitimately end in a space.
    fn secret(&self, name: &'static str) -> Result<Secret, SetupError> {
        match (self.0)(name) {
            Some(v) if !v.is_empty() => Ok(Secret(v)),
            _ => Err(SetupError::MissingEnv(name)),
        }
    }

    fn seconds(&self, name: &'static str, default: u64) -> Result<Duration, SetupError> {
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

    fn boolean(&self, name: &'static str, default: bool) -> Result<bool, SetupError> {
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
struct Backoff {
    next: Duration,
    deadline: tokio::time::Instant,
}

impl Backoff {
    fn new(total: Duration) -> Self {
        Self::until(tokio::time::Instant::now() + total)
    }

    /// A backoff that stops at an absolute deadline (shared by several steps).
    fn until(deadline: tokio::time::Instant) -> Self {
        Backoff {
            next: Duration::from_millis(100),
            deadline,
        }
    }

    /// Sleeps before the next attempt; false when the deadline has passed.
    async fn wait(&mut self) -> bool {
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
mod tests {
    use super::*;

    #[test]
    fn secret_never_formats_its_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s}"), "***");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(s.expose(), "hunter2");
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
