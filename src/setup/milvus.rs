//! `nuvolaris-operator setup milvus`: the `nuvolaris` user, database and role of Milvus, over
//! Milvus's REST API v2 (`POST /v2/vectordb/...`, `Authorization: Bearer <user>:<password>`),
//! as the root user, as the original did, but reading before writing so that a second run
//! changes nothing:
//!
//! - user: `users/list`; missing → `users/create`; present → its password checked by
//!   `databases/list` with its own token, `users/update_password` when refused;
//! - database: `databases/list`; missing → `databases/create`;
//! - role: `roles/list`; missing → `roles/create`; its grants from `roles/describe`, missing
//!   ones by `roles/grant_privilege_v2` (`DatabaseAdmin` and `CollectionAdmin` on the database);
//! - `users/describe`; role not granted → `users/grant_role`.
//!
//! Every answer is HTTP 200 with `{"code": 0, "data": …}`, or `{"code": N, "message": …}` on
//! failure. [`MilvusAdmin`] is the reusable part (tenants' users use it too).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hyper::Method;
use serde_json::{Value, json};

use super::http::JsonClient;
use super::{
    Backoff, Env, EnvVar, Outcome, Secret, SetupEnv, SetupError, SetupReport, SetupSettings,
    SetupStep, optional, required,
};

/// The environment of `setup milvus` (see [`MilvusSetupConfig`]).
pub const MILVUS_ENV: &[EnvVar] = &[
    optional("MILVUS_URL", "http://nuvolaris-milvus:19530"),
    optional("MILVUS_ROOT_USER", "root"),
    required("MILVUS_ROOT_PASSWORD", true),
    optional("MILVUS_DATABASE", "nuvolaris"),
    optional("MILVUS_USER", "nuvolaris"),
    required("MILVUS_USER_PASSWORD", true),
    optional("MILVUS_ROLE", "nuvolaris_role"),
    optional("MILVUS_WAIT_SECONDS", "600"),
    optional("MILVUS_TIMEOUT_SECONDS", "30"),
];

const DEFAULT_WAIT: Duration = Duration::from_secs(600);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The privileges the role gets on its database (the original's, as privilege groups).
pub const ROLE_PRIVILEGES: &[&str] = &["DatabaseAdmin", "CollectionAdmin"];

/// Configuration of `setup milvus`.
///
/// | env var | default | meaning |
/// |---|---|---|
/// | `MILVUS_URL` | `http://nuvolaris-milvus:19530` | Milvus's REST endpoint |
/// | `MILVUS_ROOT_USER` | `root` | the user the setup acts as |
/// | `MILVUS_ROOT_PASSWORD` | required (secret) | its password |
/// | `MILVUS_DATABASE` | `nuvolaris` | database to create |
/// | `MILVUS_USER` | `nuvolaris` | user to create |
/// | `MILVUS_USER_PASSWORD` | required (secret) | its password |
/// | `MILVUS_ROLE` | `nuvolaris_role` | its role, admin of the database |
/// | `MILVUS_WAIT_SECONDS` | `600` | how long to wait for Milvus to answer |
/// | `MILVUS_TIMEOUT_SECONDS` | `30` | timeout of one request |
#[derive(Debug, Clone, PartialEq)]
pub struct MilvusSetupConfig {
    pub url: String,
    pub root_user: String,
    pub root_password: Secret,
    pub database: String,
    pub user: String,
    pub password: Secret,
    pub role: String,
    pub wait: Duration,
    pub timeout: Duration,
}

impl MilvusSetupConfig {
    pub fn new(url: String, root_password: Secret, password: Secret) -> MilvusSetupConfig {
        MilvusSetupConfig {
            url,
            root_user: "root".to_owned(),
            root_password,
            database: "nuvolaris".to_owned(),
            user: "nuvolaris".to_owned(),
            password,
            role: "nuvolaris_role".to_owned(),
            wait: DEFAULT_WAIT,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl SetupSettings for MilvusSetupConfig {
    const STEP: SetupStep = SetupStep::Milvus;

    fn to_env(&self) -> SetupEnv {
        SetupEnv::new(Self::STEP)
            .value("MILVUS_URL", &self.url)
            .tuning("MILVUS_ROOT_USER", self.root_user.as_str(), "root")
            .value("MILVUS_DATABASE", &self.database)
            .value("MILVUS_USER", &self.user)
            .value("MILVUS_ROLE", &self.role)
            .tuning(
                "MILVUS_WAIT_SECONDS",
                self.wait.as_secs(),
                DEFAULT_WAIT.as_secs(),
            )
            .tuning(
                "MILVUS_TIMEOUT_SECONDS",
                self.timeout.as_secs(),
                DEFAULT_TIMEOUT.as_secs(),
            )
            .secret("MILVUS_ROOT_PASSWORD", &self.root_password)
            .secret("MILVUS_USER_PASSWORD", &self.password)
    }

    fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, SetupError> {
        let vars: BTreeMap<String, String> = vars.into_iter().collect();
        let env = Env(|k: &str| vars.get(k).cloned());
        let url = env.or("MILVUS_URL", "http://nuvolaris-milvus:19530");
        if !url.starts_with("http://") && !url.starts_with("https://") {
            return Err(SetupError::InvalidEnv {
                name: "MILVUS_URL",
                reason: "expected an http:// or https:// URL".into(),
            });
        }
        let user_name = |var: &'static str, default: &str| -> Result<String, SetupError> {
            let value = env.or(var, default);
            // Milvus names: a letter or underscore, then letters, digits and underscores.
            let valid = value
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if valid {
                Ok(value)
            } else {
                Err(SetupError::InvalidEnv {
                    name: var,
                    reason: "a Milvus name has letters, digits and underscores only".into(),
                })
            }
        };
        // The password travels in an HTTP header (`Bearer user:password`), as with every
        // Milvus client: control characters cannot.
        let password = |var: &'static str| -> Result<Secret, SetupError> {
            let value = env.secret(var)?;
            if value.expose().chars().any(char::is_control) {
                return Err(SetupError::InvalidEnv {
                    name: var,
                    reason: "a Milvus password cannot hold control characters (newlines, tabs)"
                        .into(),
                });
            }
            Ok(value)
        };
        Ok(MilvusSetupConfig {
            url,
            root_user: user_name("MILVUS_ROOT_USER", "root")?,
            root_password: password("MILVUS_ROOT_PASSWORD")?,
            database: user_name("MILVUS_DATABASE", "nuvolaris")?,
            user: user_name("MILVUS_USER", "nuvolaris")?,
            password: password("MILVUS_USER_PASSWORD")?,
            role: user_name("MILVUS_ROLE", "nuvolaris_role")?,
            wait: env.seconds("MILVUS_WAIT_SECONDS", DEFAULT_WAIT.as_secs())?,
            timeout: env.seconds("MILVUS_TIMEOUT_SECONDS", DEFAULT_TIMEOUT.as_secs())?,
        })
    }
}

/// Milvus's error codes for a refused token (authentication, then "not authorized").
const AUTH_ERRORS: &[i64] = &[1800, 2];

fn milvus_err(step: &str, reason: impl std::fmt::Display) -> SetupError {
    SetupError::Milvus {
        step: step.to_owned(),
        reason: reason.to_string(),
    }
}

/// `{user}:{password}`, Milvus's token.
fn token(user: &str, password: &Secret) -> Secret {
    Secret::new(format!("{user}:{}", password.expose()))
}

/// A Milvus REST client acting as an administrator (root).
pub struct MilvusAdmin {
    client: JsonClient,
}

/// What one call answered: `code` 0 and `data`, or an error code and message.
struct Answer {
    code: i64,
    data: Value,
    message: String,
}

impl MilvusAdmin {
    pub fn new(url: &str, user: &str, password: &Secret, timeout: Duration) -> MilvusAdmin {
        MilvusAdmin {
            client: JsonClient::with_bearer(url, &token(user, password), timeout),
        }
    }

    async fn call_as(
        &self,
        step: &str,
        path: &str,
        body: Value,
        token: Option<&Secret>,
    ) -> Result<Answer, SetupError> {
        let path = format!("/v2/vectordb/{path}");
        let response = match token {
            None => {
                self.client
                    .send(step, Method::POST, &path, Some(&body))
                    .await?
            }
            Some(token) => {
                self.client
                    .send_with_bearer(step, Method::POST, &path, Some(&body), token)
                    .await?
            }
        };
        if !response.status.is_success() {
            return Err(response.into_error(step));
        }
        let code = response.body["code"].as_i64().unwrap_or(-1);
        Ok(Answer {
            code,
            data: response.body["data"].clone(),
            message: response.body["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        })
    }

    /// One call as the administrator; a non-zero code is an error naming the step.
    async fn call(&self, step: &str, path: &str, body: Value) -> Result<Value, SetupError> {
        let answer = self.call_as(step, path, body, None).await?;
        if answer.code != 0 {
            return Err(milvus_err(
                step,
                format!("{path}: code {}: {}", answer.code, answer.message),
            ));
        }
        Ok(answer.data)
    }

    /// Waits up to `wait` until Milvus answers `databases/list` to the administrator. A refused
    /// token is final.
    pub async fn wait_ready(&self, wait: Duration) -> Result<(), SetupError> {
        let mut backoff = Backoff::new(wait);
        loop {
            let last_error = match self
                .call_as("wait for milvus", "databases/list", json!({}), None)
                .await
            {
                Ok(answer) if answer.code == 0 => return Ok(()),
                Ok(answer) if AUTH_ERRORS.contains(&answer.code) => {
                    return Err(milvus_err(
                        "log in as root",
                        format!(
                            "Milvus at {} refused the root credentials (code {}: {}); check the Milvus root password of the Whisk spec",
                            self.client.base(),
                            answer.code,
                            answer.message
                        ),
                    ));
                }
                Ok(answer) => format!("code {}: {}", answer.code, answer.message),
                Err(err) => err.to_string(),
            };
            if !backoff.wait().await {
                return Err(SetupError::NotReady {
                    service: "milvus",
                    address: self.client.base().to_owned(),
                    seconds: wait.as_secs(),
                    last_error,
                });
            }
        }
    }

    fn names(data: &Value) -> Vec<String> {
        data.as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    }

    /// The user with `password`: created, or its password reset when it does not log in.
    pub async fn ensure_user(&self, user: &str, password: &Secret) -> Result<Outcome, SetupError> {
        let step = format!("user {user}");
        let users = Self::names(&self.call(&step, "users/list", json!({})).await?);
        if !users.iter().any(|u| u == user) {
            self.call(
                &step,
                "users/create",
                json!({"userName": user, "password": password.expose()}),
            )
            .await?;
            return Ok(Outcome::Created);
        }
        let own = self
            .call_as(
                &step,
                "databases/list",
                json!({}),
                Some(&token(user, password)),
            )
            .await?;
        if own.code == 0 {
            return Ok(Outcome::Unchanged);
        }
        if !AUTH_ERRORS.contains(&own.code) {
            return Err(milvus_err(
                &step,
                format!(
                    "databases/list as {user}: code {}: {}",
                    own.code, own.message
                ),
            ));
        }
        // An administrator may reset a password without the old one.
        self.call(
            &step,
            "users/update_password",
            json!({"userName": user, "password": "", "newPassword": password.expose()}),
        )
        .await?;
        Ok(Outcome::Updated)
    }

    pub async fn ensure_database(&self, database: &str) -> Result<Outcome, SetupError> {
        let step = format!("database {database}");
        let databases = Self::names(&self.call(&step, "databases/list", json!({})).await?);
        if databases.iter().any(|d| d == database) {
            return Ok(Outcome::Unchanged);
        }
        self.call(&step, "databases/create", json!({"dbName": database}))
            .await?;
        Ok(Outcome::Created)
    }

    /// The role with `privileges` on every collection of `database`.
    pub async fn ensure_role(
        &self,
        role: &str,
        database: &str,
        privileges: &[&str],
    ) -> Result<Outcome, SetupError> {
        let step = format!("role {role}");
        let roles = Self::names(&self.call(&step, "roles/list", json!({})).await?);
        let mut outcome = Outcome::Unchanged;
        if !roles.iter().any(|r| r == role) {
            self.call(&step, "roles/create", json!({"roleName": role}))
                .await?;
            outcome = Outcome::Created;
        }
        let grants = self
            .call(&step, "roles/describe", json!({"roleName": role}))
            .await?;
        for privilege in privileges {
            let granted = grants.as_array().into_iter().flatten().any(|g| {
                g["privilege"] == *privilege && (g["dbName"] == database || g["dbName"] == "*")
            });
            if granted {
                continue;
            }
            self.call(
                &step,
                "roles/grant_privilege_v2",
                json!({"roleName": role, "privilege": privilege, "dbName": database,
                       "collectionName": "*"}),
            )
            .await?;
            if outcome == Outcome::Unchanged {
                outcome = Outcome::Updated;
            }
        }
        Ok(outcome)
    }

    pub async fn ensure_user_role(&self, user: &str, role: &str) -> Result<Outcome, SetupError> {
        let step = format!("role {role} of {user}");
        let roles = Self::names(
            &self
                .call(&step, "users/describe", json!({"userName": user}))
                .await?,
        );
        if roles.iter().any(|r| r == role) {
            return Ok(Outcome::Unchanged);
        }
        self.call(
            &step,
            "users/grant_role",
            json!({"userName": user, "roleName": role}),
        )
        .await?;
        Ok(Outcome::Updated)
    }

    /// The user is gone (`users/drop`; Milvus drops its role bindings with it). Returns
    /// whether there was one.
    pub async fn drop_user(&self, user: &str) -> Result<bool, SetupError> {
        let step = format!("drop user {user}");
        let users = Self::names(&self.call(&step, "users/list", json!({})).await?);
        if !users.iter().any(|u| u == user) {
            return Ok(false);
        }
        self.call(&step, "users/drop", json!({"userName": user}))
            .await?;
        Ok(true)
    }

    /// The role is gone: its privileges revoked first (Milvus refuses to drop a role that has
    /// some). Returns whether there was one.
    pub async fn drop_role(&self, role: &str) -> Result<bool, SetupError> {
        let step = format!("drop role {role}");
        let roles = Self::names(&self.call(&step, "roles/list", json!({})).await?);
        if !roles.iter().any(|r| r == role) {
            return Ok(false);
        }
        let grants = self
            .call(&step, "roles/describe", json!({"roleName": role}))
            .await?;
        for grant in grants.as_array().into_iter().flatten() {
            self.call(
                &step,
                "roles/revoke_privilege_v2",
                json!({"roleName": role, "privilege": grant["privilege"],
                       "dbName": grant["dbName"], "collectionName": "*"}),
            )
            .await?;
        }
        self.call(&step, "roles/drop", json!({"roleName": role}))
            .await?;
        Ok(true)
    }

    /// The database is gone, with its collections (Milvus refuses to drop a database that has
    /// some). Returns whether there was one.
    pub async fn drop_database(&self, database: &str) -> Result<bool, SetupError> {
        let step = format!("drop database {database}");
        let databases = Self::names(&self.call(&step, "databases/list", json!({})).await?);
        if !databases.iter().any(|d| d == database) {
            return Ok(false);
        }
        let collections = Self::names(
            &self
                .call(&step, "collections/list", json!({"dbName": database}))
                .await?,
        );
        for collection in collections {
            self.call(
                &step,
                "collections/drop",
                json!({"dbName": database, "collectionName": collection}),
            )
            .await?;
        }
        self.call(&step, "databases/drop", json!({"dbName": database}))
            .await?;
        Ok(true)
    }
}

/// Runs the Milvus setup: wait for Milvus, then user, database, role, grant.
pub async fn run_milvus_setup(cfg: MilvusSetupConfig) -> Result<SetupReport, SetupError> {
    let started = Instant::now();
    tracing::info!(url = %cfg.url, user = %cfg.user, database = %cfg.database, "milvus setup");
    let admin = MilvusAdmin::new(&cfg.url, &cfg.root_user, &cfg.root_password, cfg.timeout);
    admin.wait_ready(cfg.wait).await?;
    let mut report = SetupReport::default();
    let outcome = admin.ensure_user(&cfg.user, &cfg.password).await?;
    report.record(format!("user {}", cfg.user), outcome);
    let outcome = admin.ensure_database(&cfg.database).await?;
    report.record(format!("database {}", cfg.database), outcome);
    let outcome = admin
        .ensure_role(&cfg.role, &cfg.database, ROLE_PRIVILEGES)
        .await?;
    report.record(format!("role {}", cfg.role), outcome);
    let outcome = admin.ensure_user_role(&cfg.user, &cfg.role).await?;
    report.record(format!("role {} of {}", cfg.role, cfg.user), outcome);
    report.elapsed = started.elapsed();
    tracing::info!(%report, "milvus setup done");
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_the_job_environment() {
        let mut cfg = MilvusSetupConfig::new(
            "http://nuvolaris-milvus:19530".into(),
            Secret::new("r@:#'\""),
            Secret::new("n :@#'\""),
        );
        crate::setup::tests::assert_round_trip(&cfg);
        cfg.role = "other_role".into();
        cfg.timeout = Duration::from_secs(3);
        crate::setup::tests::assert_round_trip(&cfg);
    }

    #[test]
    fn names_and_urls_are_checked() {
        let base = |extra: (&str, &str)| {
            vec![
                ("MILVUS_ROOT_PASSWORD".to_string(), "r".to_string()),
                ("MILVUS_USER_PASSWORD".to_string(), "p".to_string()),
                (extra.0.to_string(), extra.1.to_string()),
            ]
        };
        for bad in [
            ("MILVUS_USER", "a-b"),
            ("MILVUS_DATABASE", "1db"),
            ("MILVUS_URL", "milvus:19530"),
        ] {
            let err = MilvusSetupConfig::from_vars(base(bad)).expect_err(bad.0);
            assert!(err.to_string().contains(bad.0), "{err}");
        }
    }
}
