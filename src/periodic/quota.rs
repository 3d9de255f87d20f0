//! `nuvolaris-operator quota`: the quota checker, run by the CronJob `quota-checker` on the
//! schedule `quota.schedule` (every ten minutes by default). The port of the original's
//! `quota_checker` (inventory-components §12.5):
//!
//! - **PostgreSQL** (`components.postgres`): `pg_database_size` of each WhiskUser's database
//!   (`spec.postgres.database`, role `spec.namespace`) against `spec.postgres.quota`;
//! - **FerretDB** (`components.mongodb`): the sum of `pg_total_relation_size` of the relations
//!   of the user's schema `<spec.mongodb.database>_ferretdb` (role `<namespace>_ferretdb`) in
//!   FerretDB's PostgreSQL database (`ferretdb`: FerretDB 1.x keeps each MongoDB database as a
//!   schema of that name, see `setup::user_stores`), against `spec.mongodb.quota`;
//! - **Redis** (`components.redis`): the `MEMORY USAGE` of every key under the user's prefix
//!   (`spec.redis.prefix`, else the namespace, with a trailing `:`), against `spec.redis.quota`.
//!
//! Quotas are in MB (`× 1024 × 1024`; the original multiplied by 1014 for Redis and FerretDB);
//! `auto` or no quota means none. The outcome is written, as by the original, in the WhiskUser
//! annotations `postgres_db_quota_reached`, `ferret_db_quota_reached` and
//! `redis_db_quota_reached` (`"true"`/`"false"`), only when it changes.
//!
//! Enforcement, as the original did it: at or over the quota the user becomes read-only — in
//! PostgreSQL every privilege on the database, its schemas, tables and sequences is revoked from
//! the role and `CONNECT`, `USAGE` and `SELECT` granted back; in FerretDB's database, where the
//! user has only its schema, the role loses `CREATE` on the schema and every privilege but
//! `SELECT` on its tables and sequences (below the quota: `CREATE` and `ALL` back); in Redis
//! the ACL user gets `-@all +@read +info +del` (it can still read and delete). Under the quota
//! again, a user marked `true` gets its privileges back (`GRANT ALL …`, ACL `+@all`) and the mark
//! `false`. Unlike the original, the read-only state is re-applied on every run while the user is
//! over its quota (Redis ACLs live in memory and a role owning its tables can grant itself
//! privileges back), a missing ACL user is not created (the mark stays: whoever recreates the
//! user reads it), and the role is the user's, not the database name (bug §18.9).
//!
//! The checker lists WhiskUsers and patches their annotations through the API server with the
//! CronJob's ServiceAccount `nuvolaris-quota`, and reads the PostgreSQL superuser's password from
//! the Secret the Postgres component deploys. A WhiskUser it cannot read or enforce is reported
//! and skipped; the others are still checked. Passwords are never logged.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::{Duration, Instant};

use futures::StreamExt;

use k8s_openapi::api::core::v1::Secret as KubeSecret;
use kube::api::{DynamicObject, ListParams, Patch, PatchParams};
use kube::core::ApiResource;
use kube::{Api, Client};
use serde_json::{Value, json};

use super::{PeriodicTask, TaskSettings};
use crate::crd::WhiskUser;
use crate::setup::postgres as pg;
use crate::setup::resp::{Connection, Reply};
use crate::setup::{Env, EnvVar, Secret, SetupEnv, SetupError, optional, required};

/// The environment of `nuvolaris-operator quota` (see [`QuotaSettings`]).
pub const QUOTA_ENV: &[EnvVar] = &[
    required("QUOTA_NAMESPACE", false),
    optional("REDIS_ADDR", ""),
    required("REDIS_PASSWORD", true),
    optional("POSTGRES_HOST", ""),
    optional("POSTGRES_PORT", "5432"),
    optional("POSTGRES_USER", "postgres"),
    optional("POSTGRES_PASSWORD_SECRET", POSTGRES_SECRET),
    optional("POSTGRES_PASSWORD_KEY", POSTGRES_SECRET_KEY),
    optional("QUOTA_FERRETDB", "false"),
    optional("QUOTA_DEADLINE_SECONDS", "300"),
    optional("QUOTA_TIMEOUT_SECONDS", "10"),
];

/// The Secret of the Postgres component with the superuser's password (the original's names).
pub const POSTGRES_SECRET: &str = "postgres-nuvolaris-secret";
pub const POSTGRES_SECRET_KEY: &str = "superUserPassword";
/// The WhiskUser annotations, as the original named them.
pub const POSTGRES_ANNOTATION: &str = "postgres_db_quota_reached";
pub const FERRETDB_ANNOTATION: &str = "ferret_db_quota_reached";
pub const REDIS_ANNOTATION: &str = "redis_db_quota_reached";

const DEFAULT_DEADLINE: Duration = Duration::from_secs(300);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const MB: u64 = 1024 * 1024;
/// Keys asked per `SCAN` step (at most as many `MEMORY USAGE` commands per pipelined batch).
const SCAN_COUNT: &str = "1000";
/// PostgreSQL databases changed at once (one connection each).
const PG_CONCURRENCY: usize = 4;

/// Where the Redis of the installation is.
#[derive(Debug, Clone, PartialEq)]
pub struct RedisTarget {
    /// `host:port`.
    pub address: String,
    /// Password of the `default` user.
    pub password: Secret,
}

/// Where the PostgreSQL of the installation is, and which Secret holds the superuser's password.
#[derive(Debug, Clone, PartialEq)]
pub struct PostgresTarget {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password_secret: String,
    pub password_key: String,
}

/// Settings of `nuvolaris-operator quota`.
///
/// | env var | default | meaning |
/// |---|---|---|
/// | `QUOTA_NAMESPACE` | required | namespace of the WhiskUsers (and of the Postgres Secret) |
/// | `REDIS_ADDR` | unset: Redis not checked | `host:port` of Redis |
/// | `REDIS_PASSWORD` | required with `REDIS_ADDR` (secret) | password of its `default` user |
/// | `POSTGRES_HOST` | unset: PostgreSQL not checked | host of PostgreSQL |
/// | `POSTGRES_PORT`, `POSTGRES_USER` | `5432`, `postgres` | its port and superuser |
/// | `POSTGRES_PASSWORD_SECRET`, `POSTGRES_PASSWORD_KEY` | `postgres-nuvolaris-secret`, `superUserPassword` | the Secret (in `QUOTA_NAMESPACE`) and key of the superuser's password |
/// | `QUOTA_FERRETDB` | `false` | also check the FerretDB databases (`components.mongodb`) |
/// | `QUOTA_DEADLINE_SECONDS` | `300` | deadline of the whole run |
/// | `QUOTA_TIMEOUT_SECONDS` | `10` | timeout of one connection or command |
#[derive(Debug, Clone, PartialEq)]
pub struct QuotaSettings {
    pub namespace: String,
    pub redis: Option<RedisTarget>,
    pub postgres: Option<PostgresTarget>,
    pub ferretdb: bool,
    pub deadline: Duration,
    pub timeout: Duration,
}

impl QuotaSettings {
    /// Settings with the command's defaults for the rest.
    pub fn new(
        namespace: String,
        redis: Option<RedisTarget>,
        postgres: Option<PostgresTarget>,
        ferretdb: bool,
    ) -> QuotaSettings {
        QuotaSettings {
            namespace,
            redis,
            postgres,
            ferretdb,
            deadline: DEFAULT_DEADLINE,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl PostgresTarget {
    /// The Postgres component's service and Secret, as the original named them.
    pub fn nuvolaris() -> PostgresTarget {
        PostgresTarget {
            host: "nuvolaris-postgres".to_owned(),
            port: 5432,
            user: "postgres".to_owned(),
            password_secret: POSTGRES_SECRET.to_owned(),
            password_key: POSTGRES_SECRET_KEY.to_owned(),
        }
    }
}

impl TaskSettings for QuotaSettings {
    const TASK: PeriodicTask = PeriodicTask::Quota;

    fn to_env(&self) -> SetupEnv<PeriodicTask> {
        let mut env = SetupEnv::new(Self::TASK).value("QUOTA_NAMESPACE", &self.namespace);
        if let Some(redis) = &self.redis {
            env = env
                .value("REDIS_ADDR", &redis.address)
                .secret("REDIS_PASSWORD", &redis.password);
        }
        if let Some(pg) = &self.postgres {
            env = env
                .value("POSTGRES_HOST", &pg.host)
                .tuning("POSTGRES_PORT", pg.port, 5432)
                .tuning("POSTGRES_USER", pg.user.as_str(), "postgres")
                .tuning(
                    "POSTGRES_PASSWORD_SECRET",
                    pg.password_secret.as_str(),
                    POSTGRES_SECRET,
                )
                .tuning(
                    "POSTGRES_PASSWORD_KEY",
                    pg.password_key.as_str(),
                    POSTGRES_SECRET_KEY,
                );
        }
        env.tuning("QUOTA_FERRETDB", self.ferretdb, false)
            .tuning(
                "QUOTA_DEADLINE_SECONDS",
                self.deadline.as_secs(),
                DEFAULT_DEADLINE.as_secs(),
            )
            .tuning(
                "QUOTA_TIMEOUT_SECONDS",
                self.timeout.as_secs(),
                DEFAULT_TIMEOUT.as_secs(),
            )
    }

    fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, SetupError> {
        let vars: BTreeMap<String, String> = vars.into_iter().collect();
        let env = Env(|k: &str| vars.get(k).cloned());
        let redis = match env.opt("REDIS_ADDR") {
            None => None,
            Some(address) => {
                if !address.contains(':') || address.contains('/') || address.contains('@') {
                    return Err(SetupError::InvalidEnv {
                        name: "REDIS_ADDR",
                        reason: "expected host:port".into(),
                    });
                }
                Some(RedisTarget {
                    address,
                    password: env.secret("REDIS_PASSWORD")?,
                })
            }
        };
        let postgres = match env.opt("POSTGRES_HOST") {
            None => None,
            Some(host) => Some(PostgresTarget {
                host,
                port: env.or("POSTGRES_PORT", "5432").parse().map_err(|_| {
                    SetupError::InvalidEnv {
                        name: "POSTGRES_PORT",
                        reason: "expected a port number".into(),
                    }
                })?,
                user: env.or("POSTGRES_USER", "postgres"),
                password_secret: env.or("POSTGRES_PASSWORD_SECRET", POSTGRES_SECRET),
                password_key: env.or("POSTGRES_PASSWORD_KEY", POSTGRES_SECRET_KEY),
            }),
        };
        Ok(QuotaSettings {
            namespace: env.required("QUOTA_NAMESPACE")?,
            redis,
            postgres,
            ferretdb: env.boolean("QUOTA_FERRETDB", false)?,
            deadline: env.seconds("QUOTA_DEADLINE_SECONDS", DEFAULT_DEADLINE.as_secs())?,
            timeout: env.seconds("QUOTA_TIMEOUT_SECONDS", DEFAULT_TIMEOUT.as_secs())?,
        })
    }
}

/// Why a run failed as a whole (one user's failure is counted in the report instead).
#[derive(Debug, thiserror::Error)]
pub enum QuotaError {
    #[error("list WhiskUsers in {namespace}: {source}")]
    ListUsers {
        namespace: String,
        #[source]
        source: kube::Error,
    },
    #[error("read the PostgreSQL password from Secret {namespace}/{name}: {reason}")]
    PostgresPassword {
        namespace: String,
        name: String,
        reason: String,
    },
    #[error("PostgreSQL at {address}: {reason}")]
    Postgres { address: String, reason: String },
    #[error("Redis at {address}: {reason}")]
    Redis { address: String, reason: String },
    #[error("the run did not finish within {0:?}")]
    Deadline(Duration),
}

/// Which service a quota is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Postgres,
    Ferretdb,
    Redis,
}

impl Service {
    pub fn annotation(self) -> &'static str {
        match self {
            Service::Postgres => POSTGRES_ANNOTATION,
            Service::Ferretdb => FERRETDB_ANNOTATION,
            Service::Redis => REDIS_ANNOTATION,
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Postgres => "postgres",
            Service::Ferretdb => "ferretdb",
            Service::Redis => "redis",
        })
    }
}

/// One quota of one WhiskUser.
#[derive(Debug, Clone, PartialEq)]
struct Quota {
    /// The WhiskUser's name.
    user: String,
    service: Service,
    /// Database (Postgres), schema in FerretDB's database (FerretDB) or key prefix (Redis).
    target: String,
    /// The PostgreSQL role or the Redis ACL user.
    role: String,
    limit_bytes: u64,
    /// The annotation as found: whether the user is marked over quota.
    marked: Option<bool>,
}

/// What one run found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuotaReport {
    /// Quotas checked.
    pub checked: usize,
    /// At or over the quota.
    pub over: usize,
    /// Newly made read-only.
    pub blocked: usize,
    /// Given write access back.
    pub unblocked: usize,
    /// Quotas that could not be read or enforced (each logged).
    pub failed: usize,
    /// WhiskUsers or quotas skipped as invalid (each logged).
    pub invalid: usize,
    pub elapsed: Duration,
}

impl fmt::Display for QuotaReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} quotas checked, {} over: {} made read-only, {} given write access back, {} failed, {} invalid ({} ms)",
            self.checked,
            self.over,
            self.blocked,
            self.unblocked,
            self.failed,
            self.invalid,
            self.elapsed.as_millis()
        )
    }
}

/// Runs the checker once.
pub async fn run_quota(
    settings: &QuotaSettings,
    client: Client,
) -> Result<QuotaReport, QuotaError> {
    let started = Instant::now();
    let mut report = tokio::time::timeout(settings.deadline, run(settings, client))
        .await
        .map_err(|_| QuotaError::Deadline(settings.deadline))??;
    report.elapsed = started.elapsed();
    Ok(report)
}

async fn run(settings: &QuotaSettings, client: Client) -> Result<QuotaReport, QuotaError> {
    let resource = ApiResource::erase::<WhiskUser>(&());
    let users: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &settings.namespace, &resource);
    let list =
        users
            .list(&ListParams::default())
            .await
            .map_err(|source| QuotaError::ListUsers {
                namespace: settings.namespace.clone(),
                source,
            })?;
    let mut report = QuotaReport::default();
    let mut quotas = Vec::new();
    for user in &list.items {
        for service in [Service::Postgres, Service::Ferretdb, Service::Redis] {
            let wanted = match service {
                Service::Postgres => settings.postgres.is_some(),
                Service::Ferretdb => settings.postgres.is_some() && settings.ferretdb,
                Service::Redis => settings.redis.is_some(),
            };
            if !wanted {
                continue;
            }
            match quota_of(user, service) {
                Ok(Some(quota)) => quotas.push(quota),
                Ok(None) => {}
                Err(reason) => {
                    report.invalid += 1;
                    let name = user.metadata.name.as_deref().unwrap_or("?");
                    tracing::warn!(whiskuser = name, %service, %reason, "quota skipped");
                }
            }
        }
    }
    let mut decisions = Vec::new();
    let (pg_quotas, redis_quotas): (Vec<Quota>, Vec<Quota>) = quotas
        .into_iter()
        .partition(|q| q.service != Service::Redis);
    if let (Some(target), false) = (&settings.postgres, pg_quotas.is_empty()) {
        let password = postgres_password(&client, &settings.namespace, target).await?;
        decisions.extend(check_postgres(target, &password, settings.timeout, pg_quotas).await?);
    }
    if let (Some(target), false) = (&settings.redis, redis_quotas.is_empty()) {
        decisions.extend(check_redis(target, settings.timeout, redis_quotas).await?);
    }
    for (quota, outcome) in decisions {
        report.checked += 1;
        match outcome {
            Err(reason) => {
                report.failed += 1;
                tracing::warn!(whiskuser = %quota.user, service = %quota.service, %reason, "quota check failed");
                continue;
            }
            Ok(Usage { bytes, changed }) => {
                let over = bytes >= quota.limit_bytes;
                report.over += usize::from(over);
                tracing::info!(whiskuser = %quota.user, service = %quota.service, bytes, limit = quota.limit_bytes, over, "quota");
                if quota.marked.unwrap_or(false) != over
                    && let Err(e) = annotate(&users, &quota.user, quota.service, over).await
                {
                    report.failed += 1;
                    tracing::warn!(whiskuser = %quota.user, error = %e, "cannot annotate");
                    continue;
                }
                if changed {
                    if over {
                        report.blocked += 1;
                    } else {
                        report.unblocked += 1;
                    }
                }
            }
        }
    }
    Ok(report)
}

/// The quota of `service` of one WhiskUser, `None` when it has none (or the service is off).
fn quota_of(user: &DynamicObject, service: Service) -> Result<Option<Quota>, String> {
    let spec = user.data.get("spec").cloned().unwrap_or(Value::Null);
    let section = match service {
        Service::Postgres => "postgres",
        Service::Ferretdb => "mongodb",
        Service::Redis => "redis",
    };
    let Some(section) = spec.get(section).filter(|s| s.is_object()) else {
        return Ok(None);
    };
    if section.get("enabled").and_then(Value::as_bool) == Some(false) {
        return Ok(None);
    }
    let limit_mb = match section.get("quota") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() || s.trim() == "auto" => return Ok(None),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        Some(Value::Number(n)) => n.as_u64(),
        Some(_) => None,
    }
    .ok_or_else(|| {
        format!(
            "quota {} is not a number of MB or auto",
            section.get("quota").unwrap_or(&Value::Null)
        )
    })?;
    let namespace = spec
        .get("namespace")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or("spec.namespace is missing")?;
    let text = |key: &str| {
        section
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    // the names `setup user` gives (crate::users): the database defaults to the namespace,
    // folded to lower case like the original's unquoted names
    let database = text("database").unwrap_or(namespace).to_lowercase();
    let (target, role) = match service {
        Service::Postgres => (database, namespace.to_lowercase()),
        Service::Ferretdb => {
            let (role, schema) =
                crate::setup::user_stores::ferretdb_names(&namespace.to_lowercase(), &database);
            (schema, role)
        }
        Service::Redis => {
            let prefix = text("prefix").unwrap_or(namespace);
            let prefix = if prefix.ends_with(':') {
                prefix.to_owned()
            } else {
                format!("{prefix}:")
            };
            (prefix, namespace.to_owned())
        }
    };
    let marked = user
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(service.annotation()))
        .map(|v| v == "true");
    Ok(Some(Quota {
        user: user
            .metadata
            .name
            .clone()
            .ok_or("a WhiskUser without a name")?,
        service,
        target,
        role,
        limit_bytes: limit_mb.saturating_mul(MB),
        marked,
    }))
}

/// The usage found and whether enforcement changed the user's access.
struct Usage {
    bytes: u64,
    changed: bool,
}

async fn annotate(
    users: &Api<DynamicObject>,
    name: &str,
    service: Service,
    over: bool,
) -> Result<(), kube::Error> {
    let patch = json!({"metadata": {"annotations": {service.annotation(): over.to_string()}}});
    users
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map(|_| ())
}

async fn postgres_password(
    client: &Client,
    namespace: &str,
    target: &PostgresTarget,
) -> Result<Secret, QuotaError> {
    let error = |reason: String| QuotaError::PostgresPassword {
        namespace: namespace.to_owned(),
        name: target.password_secret.clone(),
        reason,
    };
    let secret = Api::<KubeSecret>::namespaced(client.clone(), namespace)
        .get(&target.password_secret)
        .await
        .map_err(|e| error(e.to_string()))?;
    let value = secret
        .data
        .as_ref()
        .and_then(|d| d.get(&target.password_key))
        .ok_or_else(|| error(format!("no key {}", target.password_key)))?;
    let text = String::from_utf8(value.0.clone())
        .map_err(|_| error(format!("key {} is not UTF-8", target.password_key)))?;
    Ok(Secret::new(text))
}

// ------------------------------------------------------------------ PostgreSQL

async fn pg_connect(
    target: &PostgresTarget,
    password: &Secret,
    database: &str,
    timeout: Duration,
) -> Result<tokio_postgres::Client, String> {
    let config = pg::connection_config(
        &target.host,
        target.port,
        &target.user,
        password,
        database,
        "nuvolaris-quota",
        timeout,
    );
    pg::connect(&config, timeout)
        .await
        .map_err(|e| e.to_string())
}

async fn check_postgres(
    target: &PostgresTarget,
    password: &Secret,
    timeout: Duration,
    quotas: Vec<Quota>,
) -> Result<Vec<(Quota, Result<Usage, String>)>, QuotaError> {
    let address = format!("{}:{}", target.host, target.port);
    let fail = |reason: String| QuotaError::Postgres {
        address: address.clone(),
        reason,
    };
    let admin = pg_connect(target, password, "postgres", timeout)
        .await
        .map_err(fail)?;
    let database_sizes = pg_sizes(
        &admin,
        "SELECT datname::text, pg_database_size(datname) FROM pg_database WHERE datallowconn",
    )
    .await
    .map_err(fail)?;
    // FerretDB's database, when it is asked about: a failure there fails its quotas only
    let schema_sizes = if quotas.iter().any(|q| q.service == Service::Ferretdb) {
        match pg_connect(target, password, FERRETDB_DATABASE, timeout).await {
            Ok(client) => pg_sizes(&client, SCHEMA_SIZES).await,
            Err(reason) => Err(reason),
        }
        .map_err(|reason| format!("FerretDB's database {FERRETDB_DATABASE}: {reason}"))
    } else {
        Ok(HashMap::new())
    };
    // one connection per database to change: a few at a time
    let out = futures::stream::iter(quotas)
        .map(|quota| {
            let bytes = match quota.service {
                Service::Ferretdb => schema_sizes.as_ref().map_err(Clone::clone).and_then(|s| {
                    s.get(&quota.target).copied().ok_or_else(|| {
                        format!(
                            "schema {} does not exist in {FERRETDB_DATABASE}",
                            quota.target
                        )
                    })
                }),
                _ => database_sizes
                    .get(&quota.target)
                    .copied()
                    .ok_or_else(|| format!("database {} does not exist", quota.target)),
            };
            async move {
                let outcome = match bytes {
                    Err(reason) => Err(reason),
                    Ok(bytes) => pg_enforce(target, password, timeout, &quota, bytes).await,
                };
                (quota, outcome)
            }
        })
        .buffer_unordered(PG_CONCURRENCY)
        .collect()
        .await;
    Ok(out)
}

/// FerretDB's PostgreSQL database, where each user's MongoDB database is a schema.
const FERRETDB_DATABASE: &str = crate::config::mongodb::DATABASE;

/// The size of each schema: its tables (with their indexes and TOAST), materialized views and
/// sequences; indexes and TOAST tables are counted with their table.
const SCHEMA_SIZES: &str = "SELECT n.nspname::text, COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint \
     FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'm', 'S') \
     GROUP BY n.nspname";

/// `name → bytes` from a query of `(text, bigint)` rows.
async fn pg_sizes(
    client: &tokio_postgres::Client,
    query: &str,
) -> Result<HashMap<String, u64>, String> {
    Ok(client
        .query(query, &[])
        .await
        .map_err(|e| pg::server_message(&e))?
        .iter()
        .map(|row| {
            let bytes = u64::try_from(row.get::<_, i64>(1)).unwrap_or(0);
            (row.get::<_, String>(0), bytes)
        })
        .collect())
}

async fn pg_enforce(
    target: &PostgresTarget,
    password: &Secret,
    timeout: Duration,
    quota: &Quota,
    bytes: u64,
) -> Result<Usage, String> {
    let over = bytes >= quota.limit_bytes;
    if over {
        // re-applied while over: a role owning its tables can grant itself privileges back
        pg_set_read_only(target, password, timeout, quota, true).await?;
        Ok(Usage {
            bytes,
            changed: quota.marked != Some(true),
        })
    } else if quota.marked == Some(true) {
        pg_set_read_only(target, password, timeout, quota, false).await?;
        Ok(Usage {
            bytes,
            changed: true,
        })
    } else {
        Ok(Usage {
            bytes,
            changed: false,
        })
    }
}

/// Makes `quota.role` read-only on `quota.target` (or gives write access back), in one
/// transaction: on the whole database as the original's statements did (Postgres), on its
/// schema only (FerretDB).
async fn pg_set_read_only(
    target: &PostgresTarget,
    password: &Secret,
    timeout: Duration,
    quota: &Quota,
    read_only: bool,
) -> Result<(), String> {
    let database = match quota.service {
        Service::Ferretdb => FERRETDB_DATABASE,
        _ => quota.target.as_str(),
    };
    let client = pg_connect(target, password, database, timeout).await?;
    let role_exists = client
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&quota.role])
        .await
        .map_err(|e| pg::server_message(&e))?
        .is_some();
    if !role_exists {
        return Err(format!("role {} does not exist", quota.role));
    }
    if quota.service == Service::Ferretdb {
        let sql = schema_access_sql(&quota.target, &quota.role, read_only);
        return client
            .batch_execute(&sql)
            .await
            .map_err(|e| pg::server_message(&e));
    }
    let schemas: Vec<String> = client
        .query(
            "SELECT nspname::text FROM pg_namespace WHERE nspname NOT IN ('information_schema', 'pg_catalog', 'pg_toast') AND nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%'",
            &[],
        )
        .await
        .map_err(|e| pg::server_message(&e))?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let (db, role) = (pg::quote_ident(&quota.target), pg::quote_ident(&quota.role));
    let mut sql = String::from("BEGIN;\n");
    if read_only {
        sql.push_str(&format!(
            "REVOKE ALL PRIVILEGES ON DATABASE {db} FROM {role};\n"
        ));
        for schema in &schemas {
            let s = pg::quote_ident(schema);
            sql.push_str(&format!(
                "REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {role};\n\
                 REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {role};\n\
                 REVOKE ALL ON SCHEMA {s} FROM {role};\n\
                 REVOKE ALL ON SCHEMA {s} FROM PUBLIC;\n\
                 GRANT USAGE ON SCHEMA {s} TO {role};\n\
                 GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {role};\n\
                 GRANT SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {role};\n\
                 ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT ON TABLES TO {role};\n\
                 ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT ON SEQUENCES TO {role};\n"
            ));
        }
        sql.push_str(&format!("GRANT CONNECT ON DATABASE {db} TO {role};\n"));
    } else {
        sql.push_str(&format!(
            "GRANT ALL PRIVILEGES ON DATABASE {db} TO {role};\n"
        ));
        for schema in &schemas {
            let s = pg::quote_ident(schema);
            sql.push_str(&format!(
                "GRANT ALL ON ALL TABLES IN SCHEMA {s} TO {role};\n\
                 GRANT ALL ON ALL SEQUENCES IN SCHEMA {s} TO {role};\n\
                 GRANT ALL ON SCHEMA {s} TO {role};\n\
                 ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT ALL ON TABLES TO {role};\n\
                 ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT ALL ON SEQUENCES TO {role};\n"
            ));
        }
    }
    sql.push_str("COMMIT;\n");
    client
        .batch_execute(&sql)
        .await
        .map_err(|e| pg::server_message(&e))
}

/// FerretDB: read-only is no `CREATE` on the schema (no new collection, no change to FerretDB's
/// metadata table) and nothing but `SELECT` on its tables and sequences; the schema and its
/// tables are the role's own, so write access back is `CREATE` and `ALL` on them.
fn schema_access_sql(schema: &str, role: &str, read_only: bool) -> String {
    let (s, role) = (pg::quote_ident(schema), pg::quote_ident(role));
    if read_only {
        format!(
            "BEGIN;\n\
             REVOKE CREATE ON SCHEMA {s} FROM {role};\n\
             REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {role};\n\
             REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {role};\n\
             GRANT USAGE ON SCHEMA {s} TO {role};\n\
             GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {role};\n\
             GRANT SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {role};\n\
             COMMIT;\n"
        )
    } else {
        format!(
            "BEGIN;\n\
             GRANT USAGE, CREATE ON SCHEMA {s} TO {role};\n\
             GRANT ALL ON ALL TABLES IN SCHEMA {s} TO {role};\n\
             GRANT ALL ON ALL SEQUENCES IN SCHEMA {s} TO {role};\n\
             COMMIT;\n"
        )
    }
}

// ------------------------------------------------------------------ Redis

async fn check_redis(
    target: &RedisTarget,
    timeout: Duration,
    quotas: Vec<Quota>,
) -> Result<Vec<(Quota, Result<Usage, String>)>, QuotaError> {
    let fail = |reason: String| QuotaError::Redis {
        address: target.address.clone(),
        reason,
    };
    let mut redis = Connection::connect(&target.address, timeout)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let auth = redis
        .command(&[b"AUTH", target.password.expose().as_bytes()])
        .await
        .map_err(|e| fail(e.to_string()))?;
    if let Reply::Error(e) = auth {
        return Err(fail(format!("AUTH refused: {e}")));
    }
    let prefixes: Vec<&str> = quotas.iter().map(|q| q.target.as_str()).collect();
    let usage = usage_by_prefix(&mut redis, &prefixes).await.map_err(fail)?;
    let mut out = Vec::new();
    for quota in quotas {
        let bytes = usage.get(quota.target.as_str()).copied().unwrap_or(0);
        let outcome = enforce_redis(&mut redis, &quota, bytes).await;
        out.push((quota, outcome));
    }
    Ok(out)
}

async fn enforce_redis(redis: &mut Connection, quota: &Quota, bytes: u64) -> Result<Usage, String> {
    let over = bytes >= quota.limit_bytes;
    let changed = if over {
        set_acl(redis, &quota.role, true).await?;
        quota.marked != Some(true)
    } else if quota.marked == Some(true) {
        set_acl(redis, &quota.role, false).await?;
        true
    } else {
        false
    };
    Ok(Usage { bytes, changed })
}

/// The `MEMORY USAGE` of the keys under each prefix, in one pass over the keyspace: `SCAN` by
/// steps, the keys matched to the prefixes here, each step's `MEMORY USAGE` commands pipelined.
/// The original ran a Lua `SCAN MATCH` loop inside Redis once per user: a walk of the whole
/// keyspace per user, blocking every other client while it ran.
async fn usage_by_prefix(
    redis: &mut Connection,
    prefixes: &[&str],
) -> Result<HashMap<String, u64>, String> {
    let mut usage: HashMap<String, u64> = prefixes.iter().map(|p| (p.to_string(), 0)).collect();
    let mut cursor = b"0".to_vec();
    loop {
        let reply = redis
            .command(&[b"SCAN", &cursor, b"COUNT", SCAN_COUNT.as_bytes()])
            .await
            .map_err(|e| e.to_string())?;
        let Reply::Array(Some(parts)) = reply else {
            return Err(format!("unexpected SCAN reply {reply:?}"));
        };
        let (Some(Reply::Bulk(Some(next))), Some(Reply::Array(Some(keys)))) =
            (parts.first(), parts.get(1))
        else {
            return Err("unexpected SCAN reply".into());
        };
        // each key with the prefixes it is under (a prefix may extend another)
        let matched: Vec<(&[u8], Vec<&str>)> = keys
            .iter()
            .filter_map(|k| match k {
                Reply::Bulk(Some(k)) => Some(k.as_slice()),
                _ => None,
            })
            .filter_map(|k| {
                let owners: Vec<&str> = prefixes
                    .iter()
                    .copied()
                    .filter(|p| k.starts_with(p.as_bytes()))
                    .collect();
                (!owners.is_empty()).then_some((k, owners))
            })
            .collect();
        if !matched.is_empty() {
            let commands: Vec<Vec<&[u8]>> = matched
                .iter()
                .map(|(k, _)| vec![b"MEMORY".as_slice(), b"USAGE", k])
                .collect();
            let replies = redis.pipeline(&commands).await.map_err(|e| e.to_string())?;
            for ((_, owners), reply) in matched.iter().zip(replies) {
                let bytes = match reply {
                    Reply::Integer(n) => u64::try_from(n).unwrap_or(0),
                    // a key deleted between SCAN and MEMORY USAGE
                    Reply::Bulk(None) => 0,
                    Reply::Error(e) => return Err(format!("MEMORY USAGE: {e}")),
                    other => return Err(format!("unexpected MEMORY USAGE reply {other:?}")),
                };
                for owner in owners {
                    *usage.entry((*owner).to_owned()).or_default() += bytes;
                }
            }
        }
        if next.as_slice() == b"0" {
            return Ok(usage);
        }
        cursor = next.clone();
    }
}

/// Read-only (`-@all +@read +info +del`) or full access (`+@all`) for the ACL user `user`,
/// which is left alone when it does not exist (creating it would make a user without password).
async fn set_acl(redis: &mut Connection, user: &str, read_only: bool) -> Result<(), String> {
    let exists = !redis
        .command(&[b"ACL", b"GETUSER", user.as_bytes()])
        .await
        .map_err(|e| e.to_string())?
        .is_null();
    if !exists {
        tracing::warn!(user, "no such Redis ACL user: only the WhiskUser is marked");
        return Ok(());
    }
    let rules: &[&[u8]] = if read_only {
        &[b"-@all", b"+@read", b"+info", b"+del"]
    } else {
        &[b"+@all"]
    };
    let mut args: Vec<&[u8]> = vec![b"ACL", b"SETUSER", user.as_bytes()];
    args.extend_from_slice(rules);
    match redis.command(&args).await.map_err(|e| e.to_string())? {
        Reply::Error(e) => Err(format!("ACL SETUSER {user}: {e}")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> QuotaSettings {
        QuotaSettings::new(
            "nuvolaris".into(),
            Some(RedisTarget {
                address: "redis:6379".into(),
                password: Secret::new("s3cret pw"),
            }),
            Some(PostgresTarget::nuvolaris()),
            true,
        )
    }

    #[test]
    fn settings_round_trip() {
        crate::periodic::tests::assert_round_trip(&settings());
        crate::periodic::tests::assert_round_trip(&QuotaSettings::new(
            "ns".into(),
            None,
            None,
            false,
        ));
        let mut tuned = settings();
        tuned.postgres = Some(PostgresTarget {
            host: "pg".into(),
            port: 6543,
            user: "admin".into(),
            password_secret: "pg-secret".into(),
            password_key: "password".into(),
        });
        tuned.deadline = Duration::from_secs(30);
        crate::periodic::tests::assert_round_trip(&tuned);
    }

    fn user(spec: Value, annotations: &[(&str, &str)]) -> DynamicObject {
        let mut object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "nuvolaris.org/v1", "kind": "WhiskUser",
            "metadata": {"name": "alice", "namespace": "nuvolaris"},
            "spec": spec,
        }))
        .unwrap();
        object.metadata.annotations = Some(
            annotations
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        object
    }

    #[test]
    fn quotas_are_read_from_the_spec() {
        let u = user(
            json!({"namespace": "Alice", "postgres": {"enabled": true, "database": "AliceDB", "quota": "10"},
                   "mongodb": {"enabled": true, "database": "mdb", "quota": "auto"},
                   "redis": {"enabled": true, "quota": "2"}}),
            &[(REDIS_ANNOTATION, "true")],
        );
        let pg = quota_of(&u, Service::Postgres).unwrap().unwrap();
        assert_eq!((pg.target.as_str(), pg.role.as_str()), ("alicedb", "alice"));
        assert_eq!(pg.limit_bytes, 10 * MB);
        assert_eq!(pg.marked, None);
        assert_eq!(quota_of(&u, Service::Ferretdb).unwrap(), None, "auto: none");
        // FerretDB: the schema and role `setup user` makes; the database defaults to the namespace
        let f = user(
            json!({"namespace": "carol", "mongodb": {"enabled": true, "database": "CDB", "quota": "1"}}),
            &[],
        );
        let ferretdb = quota_of(&f, Service::Ferretdb).unwrap().unwrap();
        assert_eq!(
            (ferretdb.target.as_str(), ferretdb.role.as_str()),
            ("cdb_ferretdb", "carol_ferretdb")
        );
        let f = user(
            json!({"namespace": "carol", "mongodb": {"enabled": true, "quota": "1"}}),
            &[],
        );
        let ferretdb = quota_of(&f, Service::Ferretdb).unwrap().unwrap();
        assert_eq!(ferretdb.target, "carol_ferretdb");
        let redis = quota_of(&u, Service::Redis).unwrap().unwrap();
        assert_eq!(
            (redis.target.as_str(), redis.role.as_str()),
            ("Alice:", "Alice")
        );
        assert_eq!(redis.marked, Some(true));
        let bad = user(json!({"namespace": "a", "redis": {"quota": "2GB"}}), &[]);
        let err = quota_of(&bad, Service::Redis).unwrap_err();
        assert!(err.contains("2GB"), "{err}");
        let off = user(
            json!({"namespace": "a", "redis": {"enabled": false, "quota": "2"}}),
            &[],
        );
        assert_eq!(quota_of(&off, Service::Redis).unwrap(), None);
    }

    #[test]
    fn ferretdb_read_only_is_on_the_schema_only() {
        let sql = schema_access_sql("cdb_ferretdb", "carol_ferretdb", true);
        assert!(sql.contains("REVOKE CREATE ON SCHEMA \"cdb_ferretdb\" FROM \"carol_ferretdb\""));
        assert!(sql.contains("GRANT SELECT ON ALL TABLES IN SCHEMA \"cdb_ferretdb\""));
        assert!(!sql.contains("DATABASE"), "{sql}");
        let sql = schema_access_sql("cdb_ferretdb", "carol_ferretdb", false);
        assert!(sql.contains("GRANT USAGE, CREATE ON SCHEMA \"cdb_ferretdb\""));
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(pg::quote_ident("we\"ird"), "\"we\"\"ird\"");
    }
}
