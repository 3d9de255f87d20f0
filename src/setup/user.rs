//! `nuvolaris-operator setup user`: the data-plane entries of one `WhiskUser` (the original's
//! `whisk_user_create` and `whisk_user_delete`, §12 of the inventory), run by the WhiskUser
//! controller as the Job `<user>-user-setup` (apply) or `<user>-user-delete` (delete).
//!
//! Apply (`USER_ACTION=apply`), each step idempotent — read first, write only what differs:
//! 1. the OpenWhisk subject `<p>subjects/<login>` with the user's `uuid:key` (fields others
//!    wrote, such as `blocked`, are kept);
//! 2. Redis, when the installation has it: the ACL user `<login>` confined to `<prefix>:*`
//!    when the user has Redis on, no ACL user when it is off (so disabling converges);
//! 3. the metadata document `<p>users_metadata/<login>`: bcrypt hash of the password (kept
//!    while it verifies), e-mail, the `env` entries the `login` action returns, the quotas;
//!    `userenv` (the user's own secrets, written by the `secrets` action) is kept.
//!
//! Delete (`USER_ACTION=delete`): the subject, the ACL user and the metadata document. Every
//! store is attempted even when one fails (the first error is returned), so an unreachable
//! store does not keep the others from being cleaned; the controller bounds the wait.
//!
//! The original also updated only the password and the quotas on a change (§12.3); here every
//! run converges the whole state.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::couchdb::{delete_doc, ensure_doc, overlay, password_hash, subject_doc, wait_ready};
use super::http::JsonClient;
use super::redis::{connect_as_default, delete_acl_user, ensure_acl_user, persist_acl};
use super::user_stores::{self, PgStore, UserMilvus, UserObjectStore, UserPostgres};
use super::{
    Env, EnvVar, METADATA_ENV_PREFIX, NamespaceAuth, Outcome, Secret, SetupEnv, SetupError,
    SetupReport, SetupSettings, SetupStep, optional, required,
};

/// Prefix of the `USER_QUOTA_<KEY>` variables: one `quota` entry `<KEY>` (`OBJECT_STORAGE`,
/// `MONGODB`, `REDIS`, `POSTGRES`) of the metadata document each.
pub const QUOTA_ENV_PREFIX: &str = "USER_QUOTA_";

/// The environment of `setup user` (see [`UserSetupConfig`]).
pub const USER_ENV: &[EnvVar] = &[
    optional("USER_ACTION", "apply"),
    required("USER_LOGIN", false),
    required("USER_EMAIL", false),
    required("USER_PASSWORD", true),
    required("USER_AUTH", true),
    optional("COUCHDB_URL", "http://couchdb:5984"),
    required("COUCHDB_ADMIN_USER", false),
    required("COUCHDB_ADMIN_PASSWORD", true),
    optional("COUCHDB_DB_PREFIX", "nuvolaris_"),
    optional("REDIS_ADDR", ""),
    EnvVar {
        name: "REDIS_DEFAULT_PASSWORD",
        secret: true,
        default: Some(""),
    },
    EnvVar {
        name: "USER_REDIS_PASSWORD",
        secret: true,
        default: Some(""),
    },
    optional("USER_REDIS_PREFIX", ""),
    optional("MINIO_URL", ""),
    optional("SEAWEEDFS_S3_URL", ""),
    optional("SEAWEEDFS_FILER_URL", ""),
    optional("MINIO_ROOT_USER", ""),
    EnvVar {
        name: "MINIO_ROOT_PASSWORD",
        secret: true,
        default: Some(""),
    },
    EnvVar {
        name: "USER_S3_SECRET_KEY",
        secret: true,
        default: Some(""),
    },
    optional("USER_S3_DATA_BUCKET", ""),
    optional("USER_S3_ROUTE_BUCKET", ""),
    optional("USER_S3_QUOTA_MB", ""),
    optional("POSTGRES_ADDR", ""),
    optional("FERRETDB_POSTGRES_ADDR", ""),
    EnvVar {
        name: "POSTGRES_SUPERUSER_PASSWORD",
        secret: true,
        default: Some(""),
    },
    optional("USER_POSTGRES_DATABASE", ""),
    EnvVar {
        name: "USER_POSTGRES_PASSWORD",
        secret: true,
        default: Some(""),
    },
    optional("USER_POSTGRES_EXTENSIONS", ""),
    optional("FERRETDB_DATABASE", "ferretdb"),
    optional("USER_MONGODB_DATABASE", ""),
    EnvVar {
        name: "USER_MONGODB_PASSWORD",
        secret: true,
        default: Some(""),
    },
    optional("MILVUS_URL", ""),
    EnvVar {
        name: "MILVUS_ROOT_PASSWORD",
        secret: true,
        default: Some(""),
    },
    optional("USER_MILVUS_DATABASE", ""),
    EnvVar {
        name: "USER_MILVUS_PASSWORD",
        secret: true,
        default: Some(""),
    },
    optional("USER_WAIT_SECONDS", "60"),
    optional("USER_TIMEOUT_SECONDS", "10"),
    optional("NUVOLARIS_BCRYPT_COST", "12"),
    optional(QUOTA_ENV_PREFIX, ""),
    // the prefix of the `NUVOLARIS_METADATA_<KEY>` variables (values may be credentials)
    EnvVar {
        name: METADATA_ENV_PREFIX,
        secret: true,
        default: Some(""),
    },
];

/// Whether the run creates the user's entries or removes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAction {
    Apply,
    Delete,
}

impl UserAction {
    fn as_str(self) -> &'static str {
        match self {
            UserAction::Apply => "apply",
            UserAction::Delete => "delete",
        }
    }
}

/// The user's Redis, when the installation has Redis.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRedisTarget {
    /// `host:port` of the installation's Redis.
    pub address: String,
    pub default_password: Secret,
    /// The user's ACL password and key prefix (ending with `:`); `None` when the user has Redis
    /// off, which removes its ACL user.
    pub user: Option<(Secret, String)>,
}

/// Configuration of `setup user`.
///
/// | env var | default | meaning |
/// |---|---|---|
/// | `USER_ACTION` | `apply` | `apply` or `delete` |
/// | `USER_LOGIN` | required | the OpenWhisk namespace (subject, ACL user, metadata id) |
/// | `USER_EMAIL` | required | e-mail in the metadata document |
/// | `USER_PASSWORD` | required (secret) | login password, stored as bcrypt |
/// | `USER_AUTH` | required (secret) | `uuid:key` of the subject |
/// | `COUCHDB_URL` | `http://couchdb:5984` | CouchDB base URL |
/// | `COUCHDB_ADMIN_USER` / `COUCHDB_ADMIN_PASSWORD` | required (password secret) | CouchDB admin |
/// | `COUCHDB_DB_PREFIX` | `nuvolaris_` | database prefix |
/// | `REDIS_ADDR` | none | the installation's Redis; unset: the installation has none |
/// | `REDIS_DEFAULT_PASSWORD` | with `REDIS_ADDR` (secret) | password of Redis' `default` user |
/// | `USER_REDIS_PASSWORD` | none (secret) | the user's ACL password; unset: the user has Redis off |
/// | `USER_REDIS_PREFIX` | `<login>` | key prefix (`:` appended when missing) |
/// | `MINIO_URL` | none | the installation's MinIO; unset: it has none |
/// | `MINIO_ROOT_USER` / `MINIO_ROOT_PASSWORD` | with `MINIO_URL` (password secret) | its root user |
/// | `SEAWEEDFS_S3_URL` / `SEAWEEDFS_FILER_URL` | none | the installation's SeaweedFS (without `MINIO_URL`) |
/// | `USER_S3_SECRET_KEY` | none (secret) | the account's key; unset: the user has storage off |
/// | `USER_S3_DATA_BUCKET` / `USER_S3_ROUTE_BUCKET` | none | the data and web buckets, when on |
/// | `USER_S3_QUOTA_MB` | none | hard quota of each bucket; unset: none |
/// | `POSTGRES_ADDR` | none | `host:port` of the installation's Postgres; unset: none |
/// | `FERRETDB_POSTGRES_ADDR` | none | the PostgreSQL FerretDB stores into; unset: no FerretDB |
/// | `POSTGRES_SUPERUSER_PASSWORD` | with either (secret) | the `postgres` superuser's password |
/// | `USER_POSTGRES_DATABASE` / `USER_POSTGRES_PASSWORD` | `<login>` / none (secret) | the user's database and role password; no password: Postgres off |
/// | `USER_POSTGRES_EXTENSIONS` | none | extensions created in it, comma-separated |
/// | `FERRETDB_DATABASE` | `ferretdb` | the PostgreSQL database FerretDB stores into |
/// | `USER_MONGODB_DATABASE` / `USER_MONGODB_PASSWORD` | `<login>` / none (secret) | the user's FerretDB database (`<db>_ferretdb`) and role password; no password: off |
/// | `MILVUS_URL` | none | the installation's Milvus (REST); unset: it has none |
/// | `MILVUS_ROOT_PASSWORD` | with `MILVUS_URL` (secret) | Milvus' `root` password |
/// | `USER_MILVUS_DATABASE` / `USER_MILVUS_PASSWORD` | `<login>` / none (secret) | the user's database and password; no password: Milvus off |
/// | `USER_QUOTA_<KEY>` | none | `quota` entries of the metadata document |
/// | `NUVOLARIS_METADATA_<KEY>` | none (secret) | `env` entries of the metadata document |
/// | `USER_WAIT_SECONDS` | `60` | how long to wait for each store to answer |
/// | `USER_TIMEOUT_SECONDS` | `10` | timeout of one request |
/// | `NUVOLARIS_BCRYPT_COST` | `12` | bcrypt cost |
#[derive(Debug, Clone, PartialEq)]
pub struct UserSetupConfig {
    pub action: UserAction,
    pub login: String,
    pub email: String,
    pub password: Secret,
    /// The subject's auth: the uuid and the key.
    pub auth: (String, Secret),
    pub couchdb_url: String,
    pub couchdb_admin: (String, Secret),
    pub db_prefix: String,
    pub redis: Option<UserRedisTarget>,
    /// The installation's MinIO and the user's buckets.
    pub object_store: Option<UserObjectStore>,
    /// The installation's Postgres and the user's database.
    pub postgres: Option<UserPostgres>,
    /// The PostgreSQL FerretDB stores into and the user's MongoDB database.
    pub mongodb: Option<UserPostgres>,
    /// The installation's Milvus and the user's database.
    pub milvus: Option<UserMilvus>,
    /// `quota` entries of the metadata document, in this order.
    pub quota: Vec<(String, String)>,
    /// `env` entries of the metadata document, in this order.
    pub metadata: Vec<(String, Secret)>,
    pub wait: Duration,
    pub timeout: Duration,
    pub bcrypt_cost: u32,
}

const DEFAULT_PREFIX: &str = "nuvolaris_";
const DEFAULT_URL: &str = "http://couchdb:5984";
const DEFAULT_WAIT: Duration = Duration::from_secs(60);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl UserSetupConfig {
    /// Settings with the command's defaults for everything the operator does not choose.
    pub fn new(
        login: String,
        email: String,
        password: Secret,
        auth: (String, Secret),
        couchdb_url: String,
        couchdb_admin: (String, Secret),
    ) -> UserSetupConfig {
        UserSetupConfig {
            action: UserAction::Apply,
            login,
            email,
            password,
            auth,
            couchdb_url,
            couchdb_admin,
            db_prefix: DEFAULT_PREFIX.to_owned(),
            redis: None,
            object_store: None,
            postgres: None,
            mongodb: None,
            milvus: None,
            quota: Vec::new(),
            metadata: Vec::new(),
            wait: DEFAULT_WAIT,
            timeout: DEFAULT_TIMEOUT,
            bcrypt_cost: bcrypt::DEFAULT_COST,
        }
    }
}

/// Splits `uuid:key` (the CRD has checked the shape; this checks it again for the Job's input).
/// Errors never show the value.
pub fn split_auth(auth: &Secret) -> Result<(String, Secret), SetupError> {
    let (uuid, key) = auth
        .expose()
        .split_once(':')
        .filter(|(u, k)| !u.is_empty() && k.len() >= 64 && !k.contains(':'))
        .ok_or(SetupError::InvalidEnv {
            name: "USER_AUTH",
            reason: "expected uuid:key with a key of 64 or more characters".into(),
        })?;
    Ok((uuid.to_owned(), Secret::new(key)))
}

impl SetupSettings for UserSetupConfig {
    const STEP: SetupStep = SetupStep::User;

    fn to_env(&self) -> SetupEnv {
        let mut env = SetupEnv::new(Self::STEP)
            .tuning("USER_ACTION", self.action.as_str(), "apply")
            .value("USER_LOGIN", &self.login)
            .value("USER_EMAIL", &self.email)
            .tuning("COUCHDB_URL", self.couchdb_url.as_str(), DEFAULT_URL)
            .value("COUCHDB_ADMIN_USER", &self.couchdb_admin.0)
            .tuning("COUCHDB_DB_PREFIX", self.db_prefix.as_str(), DEFAULT_PREFIX)
            .tuning(
                "USER_WAIT_SECONDS",
                self.wait.as_secs(),
                DEFAULT_WAIT.as_secs(),
            )
            .tuning(
                "USER_TIMEOUT_SECONDS",
                self.timeout.as_secs(),
                DEFAULT_TIMEOUT.as_secs(),
            )
            .tuning(
                "NUVOLARIS_BCRYPT_COST",
                self.bcrypt_cost,
                bcrypt::DEFAULT_COST,
            );
        if let Some(redis) = &self.redis {
            env = env.value("REDIS_ADDR", &redis.address);
            if let Some((_, prefix)) = &redis.user {
                env = env.value("USER_REDIS_PREFIX", prefix);
            }
        }
        for (key, value) in &self.quota {
            env = env.value(&format!("{QUOTA_ENV_PREFIX}{key}"), value);
        }
        env = env
            .secret("USER_PASSWORD", &self.password)
            .secret(
                "USER_AUTH",
                &Secret::new(format!("{}:{}", self.auth.0, self.auth.1.expose())),
            )
            .secret("COUCHDB_ADMIN_PASSWORD", &self.couchdb_admin.1);
        if let Some(redis) = &self.redis {
            env = env.secret("REDIS_DEFAULT_PASSWORD", &redis.default_password);
            if let Some((password, _)) = &redis.user {
                env = env.secret("USER_REDIS_PASSWORD", password);
            }
        }
        for (key, value) in &self.metadata {
            env = env.secret(&format!("{METADATA_ENV_PREFIX}{key}"), value);
        }
        let env = user_stores::write_env(
            env,
            self.object_store.as_ref(),
            self.postgres.as_ref(),
            self.mongodb.as_ref(),
        );
        user_stores::write_milvus_env(env, self.milvus.as_ref())
    }

    fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, SetupError> {
        let vars: BTreeMap<String, String> = vars.into_iter().collect();
        let env = Env(|k: &str| vars.get(k).cloned());
        let action = match env.or("USER_ACTION", "apply").as_str() {
            "apply" => UserAction::Apply,
            "delete" => UserAction::Delete,
            other => {
                return Err(SetupError::InvalidEnv {
                    name: "USER_ACTION",
                    reason: format!("expected apply or delete, got {other:?}"),
                });
            }
        };
        let login = env.required("USER_LOGIN")?;
        if login.contains(['/', ':', ' ']) {
            return Err(SetupError::InvalidEnv {
                name: "USER_LOGIN",
                reason: "must not contain '/', ':' or spaces".into(),
            });
        }
        let couchdb_url = env.or("COUCHDB_URL", DEFAULT_URL);
        if !couchdb_url.starts_with("http://") || couchdb_url.contains('@') {
            return Err(SetupError::InvalidEnv {
                name: "COUCHDB_URL",
                reason: "expected http://host:port without credentials".into(),
            });
        }
        let redis = match env.opt("REDIS_ADDR") {
            None => None,
            Some(address) => {
                let user = match vars.get("USER_REDIS_PASSWORD").filter(|p| !p.is_empty()) {
                    None => None,
                    Some(password) => {
                        let mut prefix = env.opt("USER_REDIS_PREFIX").unwrap_or(login.clone());
                        if !prefix.ends_with(':') {
                            prefix.push(':');
                        }
                        Some((Secret::new(password), prefix))
                    }
                };
                Some(UserRedisTarget {
                    address,
                    default_password: env.secret("REDIS_DEFAULT_PASSWORD")?,
                    user,
                })
            }
        };
        let prefixed = |prefix: &str| -> Vec<(String, String)> {
            vars.iter()
                .filter_map(|(k, v)| {
                    let key = k.strip_prefix(prefix)?;
                    (!key.is_empty() && !v.is_empty()).then(|| (key.to_owned(), v.clone()))
                })
                .collect()
        };
        let bcrypt_cost = match env.opt("NUVOLARIS_BCRYPT_COST") {
            None => bcrypt::DEFAULT_COST,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|c| (4..=31).contains(c))
                .ok_or(SetupError::InvalidEnv {
                    name: "NUVOLARIS_BCRYPT_COST",
                    reason: "expected a number from 4 to 31".into(),
                })?,
        };
        let timeout = env.seconds("USER_TIMEOUT_SECONDS", DEFAULT_TIMEOUT.as_secs())?;
        let (object_store, postgres, mongodb) = user_stores::read_env(&env, &login, timeout)?;
        let milvus = user_stores::read_milvus_env(&env, &login)?;
        Ok(UserSetupConfig {
            action,
            milvus,
            object_store,
            postgres,
            mongodb,
            email: env.required("USER_EMAIL")?,
            password: env.secret("USER_PASSWORD")?,
            auth: split_auth(&env.secret("USER_AUTH")?)?,
            couchdb_url,
            couchdb_admin: (
                env.required("COUCHDB_ADMIN_USER")?,
                env.secret("COUCHDB_ADMIN_PASSWORD")?,
            ),
            db_prefix: env.or("COUCHDB_DB_PREFIX", DEFAULT_PREFIX),
            redis,
            quota: prefixed(QUOTA_ENV_PREFIX),
            metadata: prefixed(METADATA_ENV_PREFIX)
                .into_iter()
                .map(|(k, v)| (k, Secret::new(v)))
                .collect(),
            wait: env.seconds("USER_WAIT_SECONDS", DEFAULT_WAIT.as_secs())?,
            timeout,
            bcrypt_cost,
            login,
        })
    }
}

/// Runs `setup user`: apply or delete, see the module documentation.
pub async fn run_user_setup(cfg: UserSetupConfig) -> Result<SetupReport, SetupError> {
    let started = Instant::now();
    tracing::info!(user = %cfg.login, action = cfg.action.as_str(), "user setup");
    let mut report = match cfg.action {
        UserAction::Apply => apply(&cfg).await?,
        UserAction::Delete => delete(&cfg).await?,
    };
    report.elapsed = started.elapsed();
    tracing::info!(%report, "user setup done");
    Ok(report)
}

fn couchdb(cfg: &UserSetupConfig) -> JsonClient {
    JsonClient::new(
        &cfg.couchdb_url,
        &cfg.couchdb_admin.0,
        &cfg.couchdb_admin.1,
        cfg.timeout,
    )
}

async fn apply(cfg: &UserSetupConfig) -> Result<SetupReport, SetupError> {
    let mut report = SetupReport::default();
    let db = couchdb(cfg);
    wait_ready(&db, cfg.wait).await?;

    let subjects = format!("{}subjects", cfg.db_prefix);
    let subject = subject_doc(&NamespaceAuth {
        name: cfg.login.clone(),
        uuid: cfg.auth.0.clone(),
        key: cfg.auth.1.clone(),
    });
    let outcome = ensure_doc(&db, &subjects, &cfg.login, |current| {
        Ok(overlay(current, &subject))
    })
    .await?;
    report.record(format!("document {subjects}/{}", cfg.login), outcome);

    if let Some(redis) = &cfg.redis {
        let mut conn = connect_as_default(
            &redis.address,
            &redis.default_password,
            cfg.wait,
            cfg.timeout,
        )
        .await?;
        let outcome = match &redis.user {
            Some((password, prefix)) => {
                ensure_acl_user(&mut conn, &cfg.login, password, prefix).await?
            }
            None => delete_acl_user(&mut conn, &cfg.login).await?,
        };
        report.record(format!("acl user {}", cfg.login), outcome);
        if outcome != Outcome::Unchanged {
            persist_acl(&mut conn, &mut report).await?;
        }
    }

    if let Some(store) = &cfg.object_store {
        user_stores::apply_object_store(store, cfg, &mut report).await?;
    }
    if let Some(pg) = &cfg.postgres {
        user_stores::apply_pg(PgStore::Postgres, pg, cfg, &mut report).await?;
    }
    if let Some(pg) = &cfg.mongodb {
        user_stores::apply_pg(PgStore::Ferretdb, pg, cfg, &mut report).await?;
    }
    if let Some(milvus) = &cfg.milvus {
        user_stores::apply_milvus(milvus, cfg, &mut report).await?;
    }

    let users_metadata = format!("{}users_metadata", cfg.db_prefix);
    let outcome = ensure_doc(&db, &users_metadata, &cfg.login, |current| {
        metadata_doc(cfg, current)
    })
    .await?;
    report.record(format!("document {users_metadata}/{}", cfg.login), outcome);
    Ok(report)
}

/// Removes every entry of the user, store by store; a failing store does not stop the others.
async fn delete(cfg: &UserSetupConfig) -> Result<SetupReport, SetupError> {
    let mut report = SetupReport::default();
    let mut first_error: Option<SetupError> = None;
    let mut keep = |result: Result<(), SetupError>| {
        if let Err(err) = result {
            tracing::warn!(error = %err, "user delete step failed");
            first_error.get_or_insert(err);
        }
    };

    let db = couchdb(cfg);
    let couch = async {
        wait_ready(&db, cfg.wait).await?;
        let mut steps = Vec::new();
        for database in ["subjects", "users_metadata"] {
            let dbn = format!("{}{database}", cfg.db_prefix);
            let outcome = delete_doc(&db, &dbn, &cfg.login).await?;
            steps.push((format!("document {dbn}/{}", cfg.login), outcome));
        }
        Ok::<_, SetupError>(steps)
    };
    keep(couch.await.map(|steps| {
        for (name, outcome) in steps {
            report.record(name, outcome);
        }
    }));

    if let Some(redis) = &cfg.redis {
        let acl = async {
            let mut conn = connect_as_default(
                &redis.address,
                &redis.default_password,
                cfg.wait,
                cfg.timeout,
            )
            .await?;
            let outcome = delete_acl_user(&mut conn, &cfg.login).await?;
            let mut persisted = SetupReport::default();
            if outcome != Outcome::Unchanged {
                persist_acl(&mut conn, &mut persisted).await?;
            }
            Ok::<_, SetupError>((outcome, persisted))
        };
        keep(acl.await.map(|(outcome, persisted)| {
            report.record(format!("acl user {}", cfg.login), outcome);
            report.steps.extend(persisted.steps);
        }));
    }
    if let Some(store) = &cfg.object_store {
        let mut steps = SetupReport::default();
        keep(
            user_stores::delete_object_store(store, cfg, &mut steps)
                .await
                .map(|()| report.steps.extend(steps.steps)),
        );
    }
    for (kind, pg) in [
        (PgStore::Postgres, &cfg.postgres),
        (PgStore::Ferretdb, &cfg.mongodb),
    ] {
        if let Some(pg) = pg {
            let mut steps = SetupReport::default();
            keep(
                user_stores::delete_pg(kind, pg, cfg, &mut steps)
                    .await
                    .map(|()| report.steps.extend(steps.steps)),
            );
        }
    }
    if let Some(milvus) = &cfg.milvus {
        let mut steps = SetupReport::default();
        keep(
            user_stores::delete_milvus(milvus, cfg, &mut steps)
                .await
                .map(|()| report.steps.extend(steps.steps)),
        );
    }
    match first_error {
        Some(err) => Err(err),
        None => Ok(report),
    }
}

/// The user's metadata document (the original's `user_metadata.json`): what the `login` action
/// returns. `env` keeps the given order; `AUTH` comes first (the `login` action needs it).
fn metadata_doc(cfg: &UserSetupConfig, current: Option<&Value>) -> Result<Value, SetupError> {
    let hash = password_hash(&cfg.password, current, cfg.bcrypt_cost)?;
    let mut env = vec![json!({
        "key": "AUTH",
        "value": format!("{}:{}", cfg.auth.0, cfg.auth.1.expose()),
    })];
    env.extend(
        cfg.metadata
            .iter()
            .filter(|(key, _)| key != "AUTH")
            .map(|(key, value)| json!({"key": key, "value": value.expose()})),
    );
    let quota: Vec<Value> = cfg
        .quota
        .iter()
        .map(|(key, value)| json!({"key": key, "value": value}))
        .collect();
    let owned = json!({
        "_id": cfg.login,
        "login": cfg.login,
        "password": hash,
        "email": cfg.email,
        "env": env,
        "quota": quota,
    });
    Ok(overlay(current, &owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "MlXh0Dq2mr4keWqiMfgUWIEIvPtB6LsQfUdg4KQdEuAAqaGyMLczaw61IXhzPFeA";

    fn sample() -> UserSetupConfig {
        let mut cfg = UserSetupConfig::new(
            "devel".into(),
            "devel@example.com".into(),
            Secret::new("exjT3XRR"),
            (
                "c3a47ffa-4742-427d-a16a-c4dd5eb75f03".into(),
                Secret::new(KEY),
            ),
            "http://couchdb:5984".into(),
            ("whisk_admin".into(), Secret::new("adm-S3cret")),
        );
        cfg.redis = Some(UserRedisTarget {
            address: "redis:6379".into(),
            default_password: Secret::new("def-S3cret"),
            user: Some((Secret::new("6wBwUXxFgbEt"), "devel:".into())),
        });
        cfg.quota = vec![("REDIS".into(), "auto".into())];
        cfg.metadata = vec![("REDIS_URL".into(), Secret::new("redis://devel:pw@redis"))];
        cfg.bcrypt_cost = 4;
        cfg
    }

    #[test]
    fn settings_round_trip_through_the_job_environment() {
        let mut cfg = sample();
        crate::setup::tests::assert_round_trip(&cfg);
        cfg.action = UserAction::Delete;
        cfg.redis.as_mut().unwrap().user = None;
        crate::setup::tests::assert_round_trip(&cfg);
        cfg.redis = None;
        cfg.wait = Duration::from_secs(5);
        crate::setup::tests::assert_round_trip(&cfg);
        let mut stores = with_stores();
        crate::setup::tests::assert_round_trip(&stores);
        let env = stores.to_env();
        for secret in [
            "s3-S3cret",
            "root-S3cret",
            "pg-S3cret",
            "mongo-S3cret",
            "su-S3cret",
        ] {
            assert!(
                env.plain.iter().all(|(_, v)| !v.contains(secret)),
                "{secret} in the plain values"
            );
        }
        // every store off for the user, the installation's still there
        stores.object_store.as_mut().unwrap().user = None;
        stores.postgres.as_mut().unwrap().user = None;
        stores.mongodb.as_mut().unwrap().user = None;
        stores.milvus.as_mut().unwrap().user = None;
        crate::setup::tests::assert_round_trip(&stores);
        let mut weed = with_stores();
        weed.object_store.as_mut().unwrap().admin =
            super::super::user_stores::ObjectStoreAdmin::Seaweedfs {
                filer_url: "http://seaweedfs:9090".into(),
            };
        crate::setup::tests::assert_round_trip(&weed);
        let env = sample().to_env();
        for secret in [
            "exjT3XRR",
            KEY,
            "adm-S3cret",
            "def-S3cret",
            "6wBwUXxFgbEt",
            "redis://devel",
        ] {
            assert!(
                env.plain.iter().all(|(_, v)| !v.contains(secret)),
                "{secret} in the plain values"
            );
        }
    }

    fn with_stores() -> UserSetupConfig {
        use super::super::postgres::PgServer;
        use super::super::s3::S3Credentials;
        use super::super::user_stores::{ObjectStoreAdmin, UserBuckets, UserDatabase};
        let mut cfg = sample();
        cfg.object_store = Some(UserObjectStore {
            url: "http://nuvolaris-minio:9000".into(),
            admin: ObjectStoreAdmin::Minio(S3Credentials::new("minio", Secret::new("root-S3cret"))),
            user: Some(UserBuckets {
                secret_key: Secret::new("s3-S3cret"),
                data: Some("devel-data".into()),
                route: None,
                quota_mb: Some(20),
            }),
        });
        let server = PgServer {
            address: "nuvolaris-postgres:5432".into(),
            superuser: "postgres".into(),
            password: Secret::new("su-S3cret"),
            timeout: DEFAULT_TIMEOUT,
        };
        cfg.postgres = Some(UserPostgres {
            server: server.clone(),
            user: Some(UserDatabase {
                database: "devel".into(),
                password: Secret::new("pg-S3cret"),
            }),
            extensions: vec!["vector".into()],
            ferretdb_database: String::new(),
        });
        cfg.mongodb = Some(UserPostgres {
            server,
            user: Some(UserDatabase {
                database: "devel".into(),
                password: Secret::new("mongo-S3cret"),
            }),
            extensions: Vec::new(),
            ferretdb_database: "ferretdb".into(),
        });
        cfg.milvus = Some(UserMilvus {
            url: "http://nuvolaris-milvus:19530".into(),
            root_password: Secret::new("milvus-root-S3cret"),
            user: Some(UserDatabase {
                database: "devel".into(),
                password: Secret::new("milvus-S3cret"),
            }),
        });
        cfg
    }

    #[test]
    fn auth_errors_never_show_the_key() {
        for bad in [
            "nocolon",
            "u:short",
            &format!("u:{KEY}:x"),
            &format!(":{KEY}"),
        ] {
            let err = split_auth(&Secret::new(bad)).unwrap_err().to_string();
            assert!(!err.contains(KEY) && !err.contains("short"), "{err}");
        }
        assert_eq!(split_auth(&Secret::new(format!("u:{KEY}"))).unwrap().0, "u");
    }

    #[test]
    fn metadata_document_shape_and_stable_hash() {
        let cfg = sample();
        let doc = metadata_doc(&cfg, None).unwrap();
        assert_eq!(doc["_id"], "devel");
        assert_eq!(doc["login"], "devel");
        assert_eq!(doc["email"], "devel@example.com");
        assert_eq!(doc["env"][0]["key"], "AUTH");
        assert_eq!(doc["env"][1]["key"], "REDIS_URL");
        assert_eq!(doc["quota"], json!([{"key": "REDIS", "value": "auto"}]));
        assert!(bcrypt::verify("exjT3XRR", doc["password"].as_str().unwrap()).unwrap());
        let mut stored = doc.clone();
        stored["userenv"] = json!({"MY": "secret"});
        let again = metadata_doc(&cfg, Some(&stored)).unwrap();
        assert_eq!(again, stored, "same password, user's env kept: unchanged");
    }
}
