//! `nuvolaris-operator setup redis`: creates or updates the `nuvolaris` ACL
//! user over RESP.
//!
//! The original ran `redis-cli` through `kubectl exec` with
//! `ACL SETUSER nuvolaris`, `… ON >pw`, `… +@all ~<prefix>*`. Those are
//! additive, so an old password stayed valid after a change. Here one
//! `ACL SETUSER <user> reset on >pw ~<prefix>* +@all` sets the exact state
//! atomically, and only when `ACL GETUSER` shows a difference.
//!
//! ACLs live in memory unless Redis has an `aclfile` (the nuvolaris redis.conf
//! has none), so this Job must run again after Redis restarts. When an
//! `aclfile` is configured, `ACL SAVE` persists the change.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::resp::{Connection, Reply, RespError};
use super::{
    Backoff, Env, EnvVar, Outcome, Secret, SetupEnv, SetupError, SetupReport, SetupSettings,
    SetupStep, optional, required,
};

/// The environment of `setup redis` (see [`RedisSetupConfig`]).
pub const REDIS_ENV: &[EnvVar] = &[
    optional("REDIS_ADDR", "redis:6379"),
    required("REDIS_DEFAULT_PASSWORD", true),
    optional("REDIS_NUVOLARIS_USER", "nuvolaris"),
    required("REDIS_NUVOLARIS_PASSWORD", true),
    optional("REDIS_NUVOLARIS_PREFIX", "nuvolaris:"),
    optional("REDIS_WAIT_SECONDS", "120"),
    optional("REDIS_TIMEOUT_SECONDS", "10"),
];

/// Configuration of `setup redis`.
///
/// | env var | default | meaning |
/// |---|---|---|
/// | `REDIS_ADDR` | `redis:6379` | `host:port` of the Redis service |
/// | `REDIS_DEFAULT_PASSWORD` | required (secret) | password of the `default` user (`requirepass`) |
/// | `REDIS_NUVOLARIS_USER` | `nuvolaris` | ACL user to create |
/// | `REDIS_NUVOLARIS_PASSWORD` | required (secret) | its password |
/// | `REDIS_NUVOLARIS_PREFIX` | `nuvolaris:` | key prefix it may use (`:` appended when missing) |
/// | `REDIS_WAIT_SECONDS` | `120` | how long to wait for Redis to accept commands |
/// | `REDIS_TIMEOUT_SECONDS` | `10` | timeout of one connect or command |
///
/// `REDIS_ADDR` rather than `REDIS_HOST`/`REDIS_PORT`: Kubernetes service
/// links inject `REDIS_PORT=tcp://…` into pods of a namespace with a `redis`
/// Service.
#[derive(Debug, Clone, PartialEq)]
pub struct RedisSetupConfig {
    pub address: String,
    pub default_password: Secret,
    pub user: String,
    pub password: Secret,
    pub prefix: String,
    pub wait: Duration,
    pub timeout: Duration,
}

const DEFAULT_USER: &str = "nuvolaris";
const DEFAULT_WAIT: Duration = Duration::from_secs(120);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl RedisSetupConfig {
    /// Settings with the command's defaults for everything the operator does not choose.
    pub fn new(
        address: String,
        default_password: Secret,
        password: Secret,
        prefix: String,
    ) -> RedisSetupConfig {
        RedisSetupConfig {
            address,
            default_password,
            user: DEFAULT_USER.to_owned(),
            password,
            prefix,
            wait: DEFAULT_WAIT,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl SetupSettings for RedisSetupConfig {
    const STEP: SetupStep = SetupStep::Redis;

    fn to_env(&self) -> SetupEnv {
        SetupEnv::new(Self::STEP)
            .value("REDIS_ADDR", &self.address)
            .tuning("REDIS_NUVOLARIS_USER", self.user.as_str(), DEFAULT_USER)
            .value("REDIS_NUVOLARIS_PREFIX", &self.prefix)
            .tuning(
                "REDIS_WAIT_SECONDS",
                self.wait.as_secs(),
                DEFAULT_WAIT.as_secs(),
            )
            .tuning(
                "REDIS_TIMEOUT_SECONDS",
                self.timeout.as_secs(),
                DEFAULT_TIMEOUT.as_secs(),
            )
            .secret("REDIS_DEFAULT_PASSWORD", &self.default_password)
            .secret("REDIS_NUVOLARIS_PASSWORD", &self.password)
    }

    fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, SetupError> {
        let vars: BTreeMap<String, String> = vars.into_iter().collect();
        let env = Env(|k: &str| vars.get(k).cloned());
        let address = env.or("REDIS_ADDR", "redis:6379");
        if !address.contains(':') || address.contains('/') || address.contains('@') {
            return Err(SetupError::InvalidEnv {
                name: "REDIS_ADDR",
                reason: "expected host:port".into(),
            });
        }
        let user = env.or("REDIS_NUVOLARIS_USER", DEFAULT_USER);
        if user.chars().any(|c| c.is_whitespace()) {
            return Err(SetupError::InvalidEnv {
                name: "REDIS_NUVOLARIS_USER",
                reason: "must not contain whitespace".into(),
            });
        }
        let mut prefix = env.or("REDIS_NUVOLARIS_PREFIX", "nuvolaris:");
        if !prefix.ends_with(':') {
            prefix.push(':');
        }
        Ok(RedisSetupConfig {
            address,
            default_password: env.secret("REDIS_DEFAULT_PASSWORD")?,
            user,
            password: env.secret("REDIS_NUVOLARIS_PASSWORD")?,
            prefix,
            wait: env.seconds("REDIS_WAIT_SECONDS", 120)?,
            timeout: env.seconds("REDIS_TIMEOUT_SECONDS", 10)?,
        })
    }
}

fn redis_err(step: &str, reason: impl std::fmt::Display) -> SetupError {
    SetupError::Redis {
        step: step.to_string(),
        reason: reason.to_string(),
    }
}

/// Runs the Redis setup: wait for Redis, authenticate as `default`, then make
/// the ACL user match the configuration.
pub async fn run_redis_setup(cfg: RedisSetupConfig) -> Result<SetupReport, SetupError> {
    let started = Instant::now();
    tracing::info!(address = %cfg.address, user = %cfg.user, prefix = %cfg.prefix, "redis setup");
    let mut conn = connect_ready(&cfg).await?;
    let mut report = SetupReport::default();

    let step = format!("acl user {}", cfg.user);
    let outcome = ensure_acl_user(&mut conn, &cfg.user, &cfg.password, &cfg.prefix).await?;
    report.record(step, outcome);

    if outcome != Outcome::Unchanged {
        persist_acl(&mut conn, &mut report).await?;
    }
    report.elapsed = started.elapsed();
    tracing::info!(%report, "redis setup done");
    Ok(report)
}

/// Makes the ACL user `user` exactly: on, only `password`, every command, only the keys under
/// `prefix` (which ends with `:`). Writes (one atomic `ACL SETUSER … reset …`) only when
/// `ACL GETUSER` shows a difference.
pub(super) async fn ensure_acl_user(
    conn: &mut Connection,
    user: &str,
    password: &Secret,
    prefix: &str,
) -> Result<Outcome, SetupError> {
    let step = format!("acl user {user}");
    let current = expect_ok(
        &step,
        conn.command(&[b"ACL", b"GETUSER", user.as_bytes()]).await,
    )?;
    let outcome = if current.is_null() {
        Outcome::Created
    } else if acl_matches(&current, password, prefix) {
        Outcome::Unchanged
    } else {
        Outcome::Updated
    };
    if outcome != Outcome::Unchanged {
        let password_rule = format!(">{}", password.expose());
        let keys_rule = format!("~{prefix}*");
        let reply = conn
            .command(&[
                b"ACL",
                b"SETUSER",
                user.as_bytes(),
                b"reset",
                b"on",
                password_rule.as_bytes(),
                keys_rule.as_bytes(),
                b"+@all",
            ])
            .await;
        // Redis quotes a rejected modifier in its error; never the password.
        let reply = expect_ok(&step, reply).map_err(|e| match e {
            SetupError::Redis { step, reason } => SetupError::Redis {
                step,
                reason: reason.replace(password.expose(), "***"),
            },
            other => other,
        })?;
        if reply != Reply::Simple("OK".into()) {
            return Err(redis_err(&step, format!("unexpected reply {reply:?}")));
        }
    }
    Ok(outcome)
}

/// Removes the ACL user `user` when it exists.
pub(super) async fn delete_acl_user(
    conn: &mut Connection,
    user: &str,
) -> Result<Outcome, SetupError> {
    let step = format!("delete acl user {user}");
    match expect_ok(
        &step,
        conn.command(&[b"ACL", b"DELUSER", user.as_bytes()]).await,
    )? {
        Reply::Integer(0) => Ok(Outcome::Unchanged),
        Reply::Integer(_) => Ok(Outcome::Deleted),
        other => Err(redis_err(&step, format!("unexpected reply {other:?}"))),
    }
}

/// Writes the ACL file when Redis has one; otherwise ACLs are memory-only.
pub(super) async fn persist_acl(
    conn: &mut Connection,
    report: &mut SetupReport,
) -> Result<(), SetupError> {
    let step = "acl file";
    let reply = expect_ok(step, conn.command(&[b"CONFIG", b"GET", b"aclfile"]).await)?;
    let aclfile = match &reply {
        Reply::Array(Some(items)) => items.get(1).and_then(Reply::as_text).unwrap_or_default(),
        _ => String::new(),
    };
    if aclfile.is_empty() {
        tracing::info!("redis has no aclfile: the ACL user lives in memory until the next restart");
        return Ok(());
    }
    let reply = expect_ok(step, conn.command(&[b"ACL", b"SAVE"]).await)?;
    if reply != Reply::Simple("OK".into()) {
        return Err(redis_err(step, format!("ACL SAVE answered {reply:?}")));
    }
    report.record(format!("{step} {aclfile}"), Outcome::Updated);
    Ok(())
}

/// Turns transport errors and `-ERR` replies into a [`SetupError`].
fn expect_ok(step: &str, reply: Result<Reply, RespError>) -> Result<Reply, SetupError> {
    match reply {
        Ok(Reply::Error(e)) => Err(redis_err(step, e)),
        Ok(r) => Ok(r),
        Err(e) => Err(redis_err(step, e)),
    }
}

/// Connects, authenticates and waits until Redis answers PING (it answers
/// `-LOADING` while it loads its dataset). Connection failures and LOADING are
/// retried with backoff until `cfg.wait`; a rejected password is final.
async fn connect_ready(cfg: &RedisSetupConfig) -> Result<Connection, SetupError> {
    connect_as_default(&cfg.address, &cfg.default_password, cfg.wait, cfg.timeout).await
}

/// [`connect_ready`] with explicit settings: the address, the `default` user's password, how
/// long to wait for Redis and the timeout of one connect or command.
pub(super) async fn connect_as_default(
    address: &str,
    default_password: &Secret,
    wait: Duration,
    timeout: Duration,
) -> Result<Connection, SetupError> {
    let mut backoff = Backoff::new(wait);
    loop {
        let last_error = match try_connect(address, default_password, timeout).await {
            Ok(conn) => return Ok(conn),
            Err(Attempt::Fatal(e)) => return Err(e),
            Err(Attempt::Retry(reason)) => reason,
        };
        tracing::debug!(%address, reason = %last_error, "redis not ready");
        if !backoff.wait().await {
            return Err(SetupError::NotReady {
                service: "redis",
                address: address.to_owned(),
                seconds: wait.as_secs(),
                last_error,
            });
        }
    }
}

enum Attempt {
    Retry(String),
    Fatal(SetupError),
}

async fn try_connect(
    address: &str,
    default_password: &Secret,
    timeout: Duration,
) -> Result<Connection, Attempt> {
    let mut conn = Connection::connect(address, timeout)
        .await
        .map_err(|e| Attempt::Retry(e.to_string()))?;
    let auth = conn
        .command(&[b"AUTH", default_password.expose().as_bytes()])
        .await
        .map_err(|e| Attempt::Retry(e.to_string()))?;
    match auth {
        Reply::Simple(_) => {}
        Reply::Error(e) if e.starts_with("LOADING") => return Err(Attempt::Retry(e)),
        // WRONGPASS, or "no password configured": retrying cannot help.
        Reply::Error(e) => return Err(Attempt::Fatal(redis_err("auth as default", e))),
        other => {
            return Err(Attempt::Fatal(redis_err(
                "auth as default",
                format!("unexpected reply {other:?}"),
            )));
        }
    }
    match conn.command(&[b"PING"]).await {
        Ok(Reply::Simple(_)) => Ok(conn),
        Ok(Reply::Error(e)) if e.starts_with("LOADING") => Err(Attempt::Retry(e)),
        Ok(other) => Err(Attempt::Fatal(redis_err(
            "ping",
            format!("unexpected reply {other:?}"),
        ))),
        Err(e) => Err(Attempt::Retry(e.to_string())),
    }
}

/// True when the `ACL GETUSER` reply already grants exactly this:
/// enabled, only the configured password, all commands, only the prefix keys,
/// no extra selectors. Handles the Redis 6 (keys as a list of patterns) and
/// Redis 7 (keys as one `~pattern` string) formats.
fn acl_matches(reply: &Reply, password: &Secret, prefix: &str) -> bool {
    let Reply::Array(Some(items)) = reply else {
        return false;
    };
    let fields: BTreeMap<String, &Reply> = items
        .chunks(2)
        .filter_map(|kv| match kv {
            [k, v] => k.as_text().map(|k| (k, v)),
            _ => None,
        })
        .collect();
    let texts = |r: Option<&&Reply>| -> Option<Vec<String>> {
        match r {
            Some(Reply::Array(Some(xs))) => xs.iter().map(Reply::as_text).collect(),
            _ => None,
        }
    };
    let flags = texts(fields.get("flags")).unwrap_or_default();
    let enabled = flags.iter().any(|f| f == "on") && !flags.iter().any(|f| f == "nopass");

    let hash = hex(&Sha256::digest(password.expose().as_bytes()));
    let password_ok = texts(fields.get("passwords")) == Some(vec![hash]);

    let commands_ok = fields.get("commands").and_then(|r| r.as_text()).as_deref() == Some("+@all");

    let pattern = format!("{prefix}*");
    let keys_ok = match fields.get("keys") {
        Some(Reply::Array(_)) => texts(fields.get("keys")) == Some(vec![pattern]),
        Some(r) => r.as_text() == Some(format!("~{pattern}")),
        None => false,
    };
    let no_selectors = match fields.get("selectors") {
        None => true,
        Some(Reply::Array(Some(xs))) => xs.is_empty(),
        Some(_) => false,
    };
    enabled && password_ok && commands_ok && keys_ok && no_selectors
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn settings_round_trip_through_the_job_environment() {
        let mut cfg = RedisSetupConfig::new(
            "redis:6379".into(),
            Secret::new("d"),
            Secret::new("n"),
            "tenant:".into(),
        );
        crate::setup::tests::assert_round_trip(&cfg);
        cfg.user = "other".into();
        cfg.timeout = Duration::from_secs(3);
        crate::setup::tests::assert_round_trip(&cfg);
    }

    #[test]
    fn env_list_matches_what_from_vars_reads() {
        let minimal: Vec<(String, String)> = REDIS_ENV
            .iter()
            .filter(|v| v.default.is_none())
            .map(|v| (v.name.to_string(), "x".to_string()))
            .collect();
        let cfg = RedisSetupConfig::from_vars(minimal.clone()).unwrap();
        for (i, (name, _)) in minimal.iter().enumerate() {
            let mut without = minimal.clone();
            without.remove(i);
            match RedisSetupConfig::from_vars(without) {
                Err(SetupError::MissingEnv(n)) => assert_eq!(n, name),
                other => panic!("{name} not required: {other:?}"),
            }
        }
        let mut explicit = minimal;
        explicit.extend(
            REDIS_ENV
                .iter()
                .filter_map(|v| Some((v.name.to_string(), v.default?.to_string()))),
        );
        let explicit = RedisSetupConfig::from_vars(explicit).unwrap();
        assert_eq!(format!("{explicit:?}"), format!("{cfg:?}"));
    }

    #[test]
    fn config_defaults_and_prefix_colon() {
        let cfg = RedisSetupConfig::from_vars(vars(&[
            ("REDIS_DEFAULT_PASSWORD", "d"),
            ("REDIS_NUVOLARIS_PASSWORD", "n"),
            ("REDIS_NUVOLARIS_PREFIX", "tenant"),
        ]))
        .unwrap();
        assert_eq!(cfg.address, "redis:6379");
        assert_eq!(cfg.user, "nuvolaris");
        assert_eq!(cfg.prefix, "tenant:");
        assert_eq!(cfg.wait, Duration::from_secs(120));
        assert!(!format!("{cfg:?}").contains("\"d\""));
    }

    #[test]
    fn config_requires_passwords_and_checks_address() {
        assert!(matches!(
            RedisSetupConfig::from_vars(vars(&[("REDIS_NUVOLARIS_PASSWORD", "n")])),
            Err(SetupError::MissingEnv("REDIS_DEFAULT_PASSWORD"))
        ));
        assert!(matches!(
            RedisSetupConfig::from_vars(vars(&[
                ("REDIS_DEFAULT_PASSWORD", "d"),
                ("REDIS_NUVOLARIS_PASSWORD", "n"),
                ("REDIS_ADDR", "tcp://10.0.0.1:6379"),
            ])),
            Err(SetupError::InvalidEnv {
                name: "REDIS_ADDR",
                ..
            })
        ));
    }

    fn bulk(s: &str) -> Reply {
        Reply::Bulk(Some(s.as_bytes().to_vec()))
    }

    fn getuser(keys: Reply, password: &str) -> Reply {
        Reply::Array(Some(vec![
            bulk("flags"),
            Reply::Array(Some(vec![bulk("on"), bulk("sanitize-payload")])),
            bulk("passwords"),
            Reply::Array(Some(vec![bulk(&hex(&Sha256::digest(password.as_bytes())))])),
            bulk("commands"),
            bulk("+@all"),
            bulk("keys"),
            keys,
            bulk("channels"),
            bulk(""),
            bulk("selectors"),
            Reply::Array(Some(vec![])),
        ]))
    }

    #[test]
    fn acl_comparison_redis6_and_redis7_formats() {
        let cfg = RedisSetupConfig::from_vars(vars(&[
            ("REDIS_DEFAULT_PASSWORD", "d"),
            ("REDIS_NUVOLARIS_PASSWORD", "pw"),
        ]))
        .unwrap();
        assert!(acl_matches(
            &getuser(bulk("~nuvolaris:*"), "pw"),
            &cfg.password,
            &cfg.prefix
        ));
        let (pw, prefix) = (&cfg.password, cfg.prefix.as_str());
        assert!(acl_matches(
            &getuser(Reply::Array(Some(vec![bulk("nuvolaris:*")])), "pw"),
            pw,
            prefix
        ));
        assert!(!acl_matches(
            &getuser(bulk("~nuvolaris:*"), "old"),
            pw,
            prefix
        ));
        assert!(!acl_matches(&getuser(bulk("~other:*"), "pw"), pw, prefix));
        assert!(!acl_matches(&Reply::Bulk(None), pw, prefix));
    }
}
