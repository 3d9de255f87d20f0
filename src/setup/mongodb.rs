//! `nuvolaris-operator setup mongodb`: FerretDB's own PostgreSQL role and database, over the
//! PostgreSQL wire protocol as the superuser (the same [`PgAdmin`] steps as `setup postgres`).
//!
//! FerretDB (1.x, PostgreSQL backend) keeps every MongoDB database as a schema of one
//! PostgreSQL database and, with PLAIN authentication, acts as the PostgreSQL role whose name
//! and password the MongoDB client gives: `mongodb_url`'s user is this role. The original stored
//! FerretDB's data in the `nuvolaris` database as the `nuvolaris` user of Postgres.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::postgres::{DEFAULT_TIMEOUT, DEFAULT_WAIT, PgServer, name};
use super::{
    Env, EnvVar, Secret, SetupEnv, SetupError, SetupReport, SetupSettings, SetupStep, optional,
    required,
};

/// The environment of `setup mongodb` (see [`MongodbSetupConfig`]).
pub const MONGODB_ENV: &[EnvVar] = &[
    optional("POSTGRES_ADDR", "nuvolaris-postgres:5432"),
    optional("POSTGRES_SUPERUSER", "postgres"),
    required("POSTGRES_SUPERUSER_PASSWORD", true),
    optional("FERRETDB_DATABASE", "ferretdb"),
    optional("FERRETDB_USER", "ferretdb"),
    required("FERRETDB_PASSWORD", true),
    optional("POSTGRES_WAIT_SECONDS", "300"),
    optional("POSTGRES_TIMEOUT_SECONDS", "10"),
];

/// Configuration of `setup mongodb`.
///
/// | env var | default | meaning |
/// |---|---|---|
/// | `POSTGRES_ADDR` | `nuvolaris-postgres:5432` | `host:port` of the primary |
/// | `POSTGRES_SUPERUSER` | `postgres` | the role the setup acts as |
/// | `POSTGRES_SUPERUSER_PASSWORD` | required (secret) | its password |
/// | `FERRETDB_DATABASE` | `ferretdb` | the database FerretDB stores into |
/// | `FERRETDB_USER` | `ferretdb` | its owner, FerretDB's role |
/// | `FERRETDB_PASSWORD` | required (secret) | the role's password |
/// | `POSTGRES_WAIT_SECONDS` | `300` | how long to wait for the server |
/// | `POSTGRES_TIMEOUT_SECONDS` | `10` | timeout of one connection or statement |
#[derive(Debug, Clone, PartialEq)]
pub struct MongodbSetupConfig {
    pub server: PgServer,
    pub database: String,
    pub user: String,
    pub password: Secret,
    pub wait: Duration,
}

impl MongodbSetupConfig {
    pub fn new(
        address: String,
        superuser_password: Secret,
        database: &str,
        user: &str,
        password: Secret,
    ) -> MongodbSetupConfig {
        MongodbSetupConfig {
            server: PgServer::new(address, superuser_password),
            database: database.to_owned(),
            user: user.to_owned(),
            password,
            wait: DEFAULT_WAIT,
        }
    }
}

impl SetupSettings for MongodbSetupConfig {
    const STEP: SetupStep = SetupStep::Mongodb;

    fn to_env(&self) -> SetupEnv {
        SetupEnv::new(Self::STEP)
            .value("POSTGRES_ADDR", &self.server.address)
            .tuning(
                "POSTGRES_SUPERUSER",
                self.server.superuser.as_str(),
                "postgres",
            )
            .value("FERRETDB_DATABASE", &self.database)
            .value("FERRETDB_USER", &self.user)
            .tuning(
                "POSTGRES_WAIT_SECONDS",
                self.wait.as_secs(),
                DEFAULT_WAIT.as_secs(),
            )
            .tuning(
                "POSTGRES_TIMEOUT_SECONDS",
                self.server.timeout.as_secs(),
                DEFAULT_TIMEOUT.as_secs(),
            )
            .secret("POSTGRES_SUPERUSER_PASSWORD", &self.server.password)
            .secret("FERRETDB_PASSWORD", &self.password)
    }

    fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, SetupError> {
        let vars: BTreeMap<String, String> = vars.into_iter().collect();
        let env = Env(|k: &str| vars.get(k).cloned());
        Ok(MongodbSetupConfig {
            server: PgServer::from_env(&env)?,
            database: name(&env, "FERRETDB_DATABASE", "ferretdb")?,
            user: name(&env, "FERRETDB_USER", "ferretdb")?,
            password: env.secret("FERRETDB_PASSWORD")?,
            wait: env.seconds("POSTGRES_WAIT_SECONDS", DEFAULT_WAIT.as_secs())?,
        })
    }
}

/// Runs the FerretDB setup: its role, then its database.
pub async fn run_mongodb_setup(cfg: MongodbSetupConfig) -> Result<SetupReport, SetupError> {
    let started = Instant::now();
    tracing::info!(address = %cfg.server.address, database = %cfg.database, user = %cfg.user, "mongodb (ferretdb) setup");
    let mut report = SetupReport::default();
    let admin = cfg.server.admin("postgres", cfg.wait).await?;
    // A new role cannot log in before its database exists: create both, then check the
    // password of an existing role by logging in.
    let role = admin
        .ensure_role_then_database(&cfg.server, &cfg.user, &cfg.password, &cfg.database)
        .await?;
    report.record(format!("role {}", cfg.user), role.0);
    report.record(format!("database {}", cfg.database), role.1);
    report.elapsed = started.elapsed();
    tracing::info!(%report, "mongodb setup done");
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_the_job_environment() {
        let mut cfg = MongodbSetupConfig::new(
            "nuvolaris-postgres:5432".into(),
            Secret::new("s"),
            "ferretdb",
            "ferretdb",
            Secret::new("@:#'\"\n"),
        );
        crate::setup::tests::assert_round_trip(&cfg);
        cfg.wait = Duration::from_secs(1);
        crate::setup::tests::assert_round_trip(&cfg);
    }
}
