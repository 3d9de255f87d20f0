//! `nuvolaris-operator setup postgres`: the `nuvolaris` database, user and schema in the
//! Kubegres cluster, over the PostgreSQL wire protocol (tokio-postgres), as the superuser.
//!
//! The original created them once, from Kubegres' init script on the primary's first start,
//! with the password pasted into the SQL (a quote broke it; a later change was never applied),
//! and ran per-user SQL with `kubectl cp` + `exec psql`. Here every step reads the catalog first
//! and writes only what differs, so the Job can run on every change:
//!
//! - role `nuvolaris` (LOGIN): created, or its password updated when logging in with it fails;
//!   the password travels as a SCRAM-SHA-256 verifier computed here, never in clear;
//! - database `nuvolaris` owned by it, CONNECT revoked from PUBLIC;
//! - schema `nuvolaris_schema` owned by it, first on the database's `search_path`;
//! - extensions (`vector`) in the database.
//!
//! [`PgServer`] and [`PgAdmin`] are the reusable part (tenants' databases use them too); names
//! are always quoted identifiers and values bind parameters, so any name or password works.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};

use super::{
    Backoff, Env, EnvVar, Outcome, Secret, SetupEnv, SetupError, SetupReport, SetupSettings,
    SetupStep, comma_list, optional, required,
};

/// The environment of `setup postgres` (see [`PostgresSetupConfig`]).
pub const POSTGRES_ENV: &[EnvVar] = &[
    optional("POSTGRES_ADDR", "nuvolaris-postgres:5432"),
    optional("POSTGRES_SUPERUSER", "postgres"),
    required("POSTGRES_SUPERUSER_PASSWORD", true),
    optional("POSTGRES_DATABASE", "nuvolaris"),
    optional("POSTGRES_USER", "nuvolaris"),
    required("POSTGRES_USER_PASSWORD", true),
    optional("POSTGRES_EXTENSIONS", "vector"),
    optional("POSTGRES_WAIT_SECONDS", "300"),
    optional("POSTGRES_TIMEOUT_SECONDS", "10"),
];

/// How long the setup steps on the installation's PostgreSQL wait for it by default.
pub(super) const DEFAULT_WAIT: Duration = Duration::from_secs(300);
/// Default timeout of one connection attempt or statement.
pub(super) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A PostgreSQL server and the superuser the setup connects as.
#[derive(Debug, Clone, PartialEq)]
pub struct PgServer {
    /// `host:port`.
    pub address: String,
    pub superuser: String,
    pub password: Secret,
    /// Timeout of one connection attempt or statement.
    pub timeout: Duration,
}

/// Configuration of `setup postgres`.
///
/// | env var | default | meaning |
/// |---|---|---|
/// | `POSTGRES_ADDR` | `nuvolaris-postgres:5432` | `host:port` of the primary |
/// | `POSTGRES_SUPERUSER` | `postgres` | the role the setup acts as |
/// | `POSTGRES_SUPERUSER_PASSWORD` | required (secret) | its password |
/// | `POSTGRES_DATABASE` | `nuvolaris` | database to keep |
/// | `POSTGRES_USER` | `nuvolaris` | its owner, a LOGIN role |
/// | `POSTGRES_USER_PASSWORD` | required (secret) | the owner's password |
/// | `POSTGRES_EXTENSIONS` | `vector` | extensions to create in the database (comma separated) |
/// | `POSTGRES_WAIT_SECONDS` | `300` | how long to wait for the server to accept the superuser |
/// | `POSTGRES_TIMEOUT_SECONDS` | `10` | timeout of one connection or statement |
///
/// `POSTGRES_ADDR`, not `…_HOST`/`…_PORT`: Kubernetes injects `<SERVICE>_PORT=tcp://…`
/// variables for Services.
#[derive(Debug, Clone, PartialEq)]
pub struct PostgresSetupConfig {
    pub server: PgServer,
    pub database: String,
    pub user: String,
    pub password: Secret,
    pub extensions: Vec<String>,
    pub wait: Duration,
}

impl PostgresSetupConfig {
    /// Settings with the command's defaults for everything the operator does not choose.
    pub fn new(
        address: String,
        superuser_password: Secret,
        database: &str,
        user: &str,
        password: Secret,
    ) -> PostgresSetupConfig {
        PostgresSetupConfig {
            server: PgServer::new(address, superuser_password),
            database: database.to_owned(),
            user: user.to_owned(),
            password,
            extensions: vec!["vector".to_owned()],
            wait: DEFAULT_WAIT,
        }
    }

    /// The schema the user owns and finds first: `<user>_schema`.
    pub fn schema(&self) -> String {
        format!("{}_schema", self.user)
    }
}

impl SetupSettings for PostgresSetupConfig {
    const STEP: SetupStep = SetupStep::Postgres;

    fn to_env(&self) -> SetupEnv {
        SetupEnv::new(Self::STEP)
            .value("POSTGRES_ADDR", &self.server.address)
            .tuning(
                "POSTGRES_SUPERUSER",
                self.server.superuser.as_str(),
                "postgres",
            )
            .value("POSTGRES_DATABASE", &self.database)
            .value("POSTGRES_USER", &self.user)
            .value("POSTGRES_EXTENSIONS", self.extensions.join(","))
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
            .secret("POSTGRES_USER_PASSWORD", &self.password)
    }

    fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, SetupError> {
        let vars: BTreeMap<String, String> = vars.into_iter().collect();
        let env = Env(|k: &str| vars.get(k).cloned());
        let extensions = match vars.get("POSTGRES_EXTENSIONS") {
            // set but empty: no extension
            Some(list) => comma_list(list),
            None => vec!["vector".to_owned()],
        };
        Ok(PostgresSetupConfig {
            server: PgServer::from_env(&env)?,
            database: name(&env, "POSTGRES_DATABASE", "nuvolaris")?,
            user: name(&env, "POSTGRES_USER", "nuvolaris")?,
            password: env.secret("POSTGRES_USER_PASSWORD")?,
            extensions,
            wait: env.seconds("POSTGRES_WAIT_SECONDS", DEFAULT_WAIT.as_secs())?,
        })
    }
}

/// `host:port`, checked.
pub(super) fn address<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    name: &'static str,
    default: &str,
) -> Result<String, SetupError> {
    let address = env.or(name, default);
    match address.rsplit_once(':') {
        Some((host, port))
            if !host.is_empty() && !host.contains(['/', '@']) && port.parse::<u16>().is_ok() =>
        {
            Ok(address)
        }
        _ => Err(SetupError::InvalidEnv {
            name,
            reason: "expected host:port".into(),
        }),
    }
}

/// A role, database or schema name: anything PostgreSQL accepts as a quoted identifier.
pub(super) fn name<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    var: &'static str,
    default: &str,
) -> Result<String, SetupError> {
    let value = env.or(var, default);
    if value.contains('\0') || value.len() > 63 {
        return Err(SetupError::InvalidEnv {
            name: var,
            reason: "a PostgreSQL name has at most 63 bytes and no NUL".into(),
        });
    }
    Ok(value)
}

/// `"name"`: a quoted identifier (embedded quotes doubled), whatever the name holds.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'`: a string literal (standard_conforming_strings: only quotes are special).
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Settings of one connection: `host`, `port`, as `user` with `password` to `database`;
/// `timeout` bounds the TCP connect (see [`connect`] for the whole handshake).
pub(crate) fn connection_config(
    host: &str,
    port: u16,
    user: &str,
    password: &Secret,
    database: &str,
    application: &str,
    timeout: Duration,
) -> tokio_postgres::Config {
    let mut config = tokio_postgres::Config::new();
    config
        .host(host)
        .port(port)
        .user(user)
        .password(password.expose())
        .dbname(database)
        .application_name(application)
        .connect_timeout(timeout);
    config
}

/// Why [`connect`] failed.
#[derive(Debug)]
pub(crate) enum ConnectError {
    /// The handshake did not finish within the timeout.
    TimedOut(Duration),
    Postgres(tokio_postgres::Error),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::TimedOut(timeout) => write!(f, "no connection within {timeout:?}"),
            ConnectError::Postgres(err) => f.write_str(&server_message(err)),
        }
    }
}

/// Connects (no TLS: in-cluster traffic), the whole handshake within `timeout`, and drives the
/// connection in the background until the client is dropped.
pub(crate) async fn connect(
    config: &tokio_postgres::Config,
    timeout: Duration,
) -> Result<Client, ConnectError> {
    let (client, connection) = tokio::time::timeout(timeout, config.connect(NoTls))
        .await
        .map_err(|_| ConnectError::TimedOut(timeout))?
        .map_err(ConnectError::Postgres)?;
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::debug!(error = %err, "postgres connection closed");
        }
    });
    Ok(client)
}

/// The server's message with its SQLSTATE (the error's `Display` alone is often just "db error").
pub(crate) fn server_message(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => err.to_string(),
    }
}

fn pg_err(step: &str, err: impl std::fmt::Display) -> SetupError {
    SetupError::Postgres {
        step: step.to_owned(),
        reason: err.to_string(),
    }
}

/// Why a connection attempt failed: worth retrying (the server is starting) or not.
enum Attempt {
    Retry(String),
    Fatal(SetupError),
}

impl PgServer {
    /// The server at `address` as `postgres`, with the default timeout.
    pub fn new(address: String, superuser_password: Secret) -> PgServer {
        PgServer {
            address,
            superuser: "postgres".to_owned(),
            password: superuser_password,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The server from `POSTGRES_ADDR`, `POSTGRES_SUPERUSER`, `POSTGRES_SUPERUSER_PASSWORD` and
    /// `POSTGRES_TIMEOUT_SECONDS` (the variables `setup postgres` and `setup mongodb` share).
    pub(super) fn from_env<F: Fn(&str) -> Option<String>>(
        env: &Env<F>,
    ) -> Result<PgServer, SetupError> {
        Ok(PgServer {
            address: address(env, "POSTGRES_ADDR", "nuvolaris-postgres:5432")?,
            superuser: name(env, "POSTGRES_SUPERUSER", "postgres")?,
            password: env.secret("POSTGRES_SUPERUSER_PASSWORD")?,
            timeout: env.seconds("POSTGRES_TIMEOUT_SECONDS", DEFAULT_TIMEOUT.as_secs())?,
        })
    }

    fn config(&self, user: &str, password: &Secret, database: &str) -> tokio_postgres::Config {
        let (host, port) = self
            .address
            .rsplit_once(':')
            .map(|(h, p)| (h.to_owned(), p.parse().unwrap_or(5432)))
            .unwrap_or((self.address.clone(), 5432));
        connection_config(
            host.trim_start_matches('[').trim_end_matches(']'),
            port,
            user,
            password,
            database,
            "nuvolaris-operator-setup",
            self.timeout,
        )
    }

    async fn try_connect(
        &self,
        user: &str,
        password: &Secret,
        database: &str,
    ) -> Result<Client, ConnectError> {
        connect(&self.config(user, password, database), self.timeout).await
    }

    /// Connects as the superuser to `database`, waiting up to `wait` while the server starts
    /// (refused connections, "the database system is starting up"). A refused password is
    /// final: waiting cannot fix it.
    pub async fn admin(&self, database: &str, wait: Duration) -> Result<PgAdmin, SetupError> {
        let mut backoff = Backoff::new(wait);
        loop {
            let attempt = match self
                .try_connect(&self.superuser, &self.password, database)
                .await
            {
                Ok(client) => {
                    return Ok(PgAdmin {
                        client,
                        database: database.to_owned(),
                        timeout: self.timeout,
                    });
                }
                Err(err) => classify(&err, &self.superuser, &self.address),
            };
            let last_error = match attempt {
                Attempt::Fatal(err) => return Err(err),
                Attempt::Retry(reason) => reason,
            };
            tracing::debug!(address = %self.address, reason = %last_error, "postgres not ready");
            if !backoff.wait().await {
                return Err(SetupError::NotReady {
                    service: "postgres",
                    address: self.address.clone(),
                    seconds: wait.as_secs(),
                    last_error,
                });
            }
        }
    }

    /// Whether `user` can log in to `database` with `password` (false when the server refuses
    /// the password; other failures are errors).
    pub async fn password_works(
        &self,
        user: &str,
        password: &Secret,
        database: &str,
    ) -> Result<bool, SetupError> {
        match self.try_connect(user, password, database).await {
            Ok(_) => Ok(true),
            Err(ConnectError::Postgres(err)) if err.code() == Some(&SqlState::INVALID_PASSWORD) => {
                Ok(false)
            }
            Err(ConnectError::Postgres(err)) => Err(pg_err(&format!("log in as {user}"), err)),
            Err(err) => Err(pg_err(&format!("log in as {user}"), err)),
        }
    }
}

fn classify(err: &ConnectError, user: &str, address: &str) -> Attempt {
    let err = match err {
        ConnectError::TimedOut(_) => return Attempt::Retry(err.to_string()),
        ConnectError::Postgres(err) => err,
    };
    match err.code() {
        Some(code) if *code == SqlState::INVALID_PASSWORD => Attempt::Fatal(pg_err(
            &format!("log in as {user}"),
            format!(
                "PostgreSQL at {address} refused the password of {user}; check the postgres admin password of the Whisk spec"
            ),
        )),
        Some(code) if *code == SqlState::CANNOT_CONNECT_NOW => Attempt::Retry(err.to_string()),
        Some(code) if code.code().starts_with("28") => {
            Attempt::Fatal(pg_err(&format!("log in as {user}"), err))
        }
        _ => Attempt::Retry(err.to_string()),
    }
}

/// A superuser connection to one database.
pub struct PgAdmin {
    client: Client,
    database: String,
    timeout: Duration,
}

impl PgAdmin {
    async fn query_opt(
        &self,
        step: &str,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Option<tokio_postgres::Row>, SetupError> {
        tokio::time::timeout(self.timeout, self.client.query_opt(sql, params))
            .await
            .map_err(|_| pg_err(step, "timed out"))?
            .map_err(|e| pg_err(step, e))
    }

    async fn execute(&self, step: &str, sql: &str) -> Result<(), SetupError> {
        tokio::time::timeout(self.timeout, self.client.batch_execute(sql))
            .await
            .map_err(|_| pg_err(step, "timed out"))?
            .map_err(|e| pg_err(step, e))
    }

    /// The LOGIN role `role` with `password`: created when missing; its password set when
    /// logging in to `login_database` with it fails (the server keeps only a verifier).
    pub async fn ensure_role(
        &self,
        server: &PgServer,
        role: &str,
        password: &Secret,
        login_database: &str,
    ) -> Result<Outcome, SetupError> {
        let step = format!("role {role}");
        let verifier = quote_literal(&postgres_protocol::password::scram_sha_256(
            password.expose().as_bytes(),
        ));
        let found = self
            .query_opt(
                &step,
                "SELECT rolcanlogin FROM pg_roles WHERE rolname = $1",
                &[&role],
            )
            .await?;
        let Some(row) = found else {
            self.execute(
                &step,
                &format!(
                    "CREATE ROLE {} LOGIN PASSWORD {verifier}",
                    quote_ident(role)
                ),
            )
            .await?;
            return Ok(Outcome::Created);
        };
        let can_login: bool = row.get(0);
        if can_login
            && server
                .password_works(role, password, login_database)
                .await?
        {
            return Ok(Outcome::Unchanged);
        }
        self.execute(
            &step,
            &format!("ALTER ROLE {} LOGIN PASSWORD {verifier}", quote_ident(role)),
        )
        .await?;
        Ok(Outcome::Updated)
    }

    /// A LOGIN role and the database it owns (see [`PgAdmin::ensure_role`] and
    /// [`PgAdmin::ensure_database`]): a new role is created with its password before its
    /// database; an existing one's password is checked by logging in to the database after.
    pub async fn ensure_role_then_database(
        &self,
        server: &PgServer,
        role: &str,
        password: &Secret,
        database: &str,
    ) -> Result<(Outcome, Outcome), SetupError> {
        let step = format!("role {role}");
        let exists = self
            .query_opt(&step, "SELECT 1 FROM pg_roles WHERE rolname = $1", &[&role])
            .await?
            .is_some();
        if exists {
            let database_outcome = self.ensure_database(database, role).await?;
            let role_outcome = self.ensure_role(server, role, password, database).await?;
            Ok((role_outcome, database_outcome))
        } else {
            let role_outcome = self.ensure_role(server, role, password, database).await?;
            let database = self.ensure_database(database, role).await?;
            Ok((role_outcome, database))
        }
    }

    /// The database `database` owned by `owner`, CONNECT revoked from PUBLIC (roles connect
    /// through their own grants or ownership).
    pub async fn ensure_database(
        &self,
        database: &str,
        owner: &str,
    ) -> Result<Outcome, SetupError> {
        let step = format!("database {database}");
        let found = self
            .query_opt(
                &step,
                "SELECT pg_get_userbyid(datdba)::text, EXISTS (SELECT 1 FROM aclexplode(coalesce(datacl, acldefault('d', datdba))) a WHERE a.grantee = 0 AND a.privilege_type = 'CONNECT') FROM pg_database WHERE datname = $1",
                &[&database],
            )
            .await?;
        let mut outcome = Outcome::Unchanged;
        let public_connect = match found {
            None => {
                self.execute(
                    &step,
                    &format!(
                        "CREATE DATABASE {} OWNER {}",
                        quote_ident(database),
                        quote_ident(owner)
                    ),
                )
                .await?;
                outcome = Outcome::Created;
                true
            }
            Some(row) => {
                let current: String = row.get(0);
                if current != owner {
                    self.execute(
                        &step,
                        &format!(
                            "ALTER DATABASE {} OWNER TO {}",
                            quote_ident(database),
                            quote_ident(owner)
                        ),
                    )
                    .await?;
                    outcome = Outcome::Updated;
                }
                row.get(1)
            }
        };
        if public_connect {
            self.execute(
                &step,
                &format!(
                    "REVOKE CONNECT ON DATABASE {} FROM PUBLIC",
                    quote_ident(database)
                ),
            )
            .await?;
            if outcome == Outcome::Unchanged {
                outcome = Outcome::Updated;
            }
        }
        Ok(outcome)
    }

    /// Grants `privileges` (e.g. `CONNECT`, `CREATE`) on `database` to `role`, those missing.
    pub async fn ensure_database_grant(
        &self,
        database: &str,
        role: &str,
        privileges: &[&str],
    ) -> Result<Outcome, SetupError> {
        let step = format!("grant on database {database} to {role}");
        let mut missing = Vec::new();
        for privilege in privileges {
            let row = self
                .query_opt(
                    &step,
                    "SELECT has_database_privilege($1, $2, $3)",
                    &[&role, &database, privilege],
                )
                .await?;
            if !row.is_some_and(|r| r.get::<_, bool>(0)) {
                missing.push(*privilege);
            }
        }
        if missing.is_empty() {
            return Ok(Outcome::Unchanged);
        }
        self.execute(
            &step,
            &format!(
                "GRANT {} ON DATABASE {} TO {}",
                missing.join(", "),
                quote_ident(database),
                quote_ident(role)
            ),
        )
        .await?;
        Ok(Outcome::Updated)
    }

    /// In this connection's database: the schema `schema` owned by `owner`.
    pub async fn ensure_schema(&self, schema: &str, owner: &str) -> Result<Outcome, SetupError> {
        let step = format!("schema {schema} in {}", self.database);
        let found = self
            .query_opt(
                &step,
                "SELECT pg_get_userbyid(nspowner)::text FROM pg_namespace WHERE nspname = $1",
                &[&schema],
            )
            .await?;
        match found {
            None => {
                self.execute(
                    &step,
                    &format!(
                        "CREATE SCHEMA {} AUTHORIZATION {}",
                        quote_ident(schema),
                        quote_ident(owner)
                    ),
                )
                .await?;
                Ok(Outcome::Created)
            }
            Some(row) if row.get::<_, String>(0) == owner => Ok(Outcome::Unchanged),
            Some(_) => {
                self.execute(
                    &step,
                    &format!(
                        "ALTER SCHEMA {} OWNER TO {}",
                        quote_ident(schema),
                        quote_ident(owner)
                    ),
                )
                .await?;
                Ok(Outcome::Updated)
            }
        }
    }

    /// In this connection's database: the database-wide `search_path` default, `schemas`
    /// (quoted identifiers, in order).
    pub async fn ensure_search_path(&self, schemas: &[&str]) -> Result<Outcome, SetupError> {
        let step = format!("search_path of {}", self.database);
        let path = schemas
            .iter()
            .map(|s| quote_ident(s))
            .collect::<Vec<_>>()
            .join(", ");
        // As the server stores it: identifiers quoted only where needed (its quote_ident).
        let names: Vec<String> = schemas.iter().map(|s| (*s).to_owned()).collect();
        let canonical: String = self
            .query_opt(
                &step,
                "SELECT array_to_string(ARRAY(SELECT quote_ident(x) FROM unnest($1::text[]) WITH ORDINALITY AS t(x, n) ORDER BY n), ', ')",
                &[&names],
            )
            .await?
            .map(|row| row.get(0))
            .unwrap_or_default();
        let wanted = format!("search_path={canonical}");
        let current = self
            .query_opt(
                &step,
                "SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = $1 AND s.setrole = 0",
                &[&self.database],
            )
            .await?
            .map(|row| row.get::<_, Vec<String>>(0))
            .unwrap_or_default();
        if current.contains(&wanted) {
            return Ok(Outcome::Unchanged);
        }
        self.execute(
            &step,
            &format!(
                "ALTER DATABASE {} SET search_path TO {path}",
                quote_ident(&self.database)
            ),
        )
        .await?;
        Ok(Outcome::Updated)
    }

    /// The database is gone: its sessions are ended first (`DROP DATABASE` refuses while a
    /// client is connected). Returns whether there was one.
    pub async fn drop_database(&self, database: &str) -> Result<bool, SetupError> {
        let step = format!("drop database {database}");
        let found = self
            .query_opt(
                &step,
                "SELECT 1 FROM pg_database WHERE datname = $1",
                &[&database],
            )
            .await?;
        if found.is_none() {
            return Ok(false);
        }
        self.query_opt(
            &step,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&database],
        )
        .await?;
        self.execute(
            &step,
            &format!("DROP DATABASE IF EXISTS {}", quote_ident(database)),
        )
        .await?;
        Ok(true)
    }

    /// The role is gone, with what it owns or was granted in this connection's database
    /// (`DROP OWNED BY`); its sessions are ended first. Returns whether there was one.
    pub async fn drop_role(&self, role: &str) -> Result<bool, SetupError> {
        let step = format!("drop role {role}");
        let found = self
            .query_opt(&step, "SELECT 1 FROM pg_roles WHERE rolname = $1", &[&role])
            .await?;
        if found.is_none() {
            return Ok(false);
        }
        self.query_opt(
            &step,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = $1",
            &[&role],
        )
        .await?;
        self.execute(
            &step,
            &format!(
                "DROP OWNED BY {role}; DROP ROLE {role}",
                role = quote_ident(role)
            ),
        )
        .await?;
        Ok(true)
    }

    /// In this connection's database: the schema is gone, with everything in it. Returns
    /// whether there was one.
    pub async fn drop_schema(&self, schema: &str) -> Result<bool, SetupError> {
        let step = format!("drop schema {schema} in {}", self.database);
        let found = self
            .query_opt(
                &step,
                "SELECT 1 FROM pg_namespace WHERE nspname = $1",
                &[&schema],
            )
            .await?;
        if found.is_none() {
            return Ok(false);
        }
        self.execute(
            &step,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", quote_ident(schema)),
        )
        .await?;
        Ok(true)
    }

    /// The role, when it exists, can no longer log in (its data stays); its sessions are ended.
    /// Returns whether that changed anything.
    pub async fn disable_login(&self, role: &str) -> Result<Outcome, SetupError> {
        let step = format!("disable role {role}");
        let can_login = self
            .query_opt(
                &step,
                "SELECT rolcanlogin FROM pg_roles WHERE rolname = $1",
                &[&role],
            )
            .await?
            .is_some_and(|row| row.get::<_, bool>(0));
        if !can_login {
            return Ok(Outcome::Unchanged);
        }
        self.execute(&step, &format!("ALTER ROLE {} NOLOGIN", quote_ident(role)))
            .await?;
        self.query_opt(
            &step,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = $1",
            &[&role],
        )
        .await?;
        Ok(Outcome::Updated)
    }

    /// In this connection's database: the extension, in `schema` (else the default one).
    pub async fn ensure_extension(
        &self,
        extension: &str,
        schema: Option<&str>,
    ) -> Result<Outcome, SetupError> {
        let step = format!("extension {extension} in {}", self.database);
        let found = self
            .query_opt(
                &step,
                "SELECT 1 FROM pg_extension WHERE extname = $1",
                &[&extension],
            )
            .await?;
        if found.is_some() {
            return Ok(Outcome::Unchanged);
        }
        let with_schema = schema
            .map(|s| format!(" WITH SCHEMA {}", quote_ident(s)))
            .unwrap_or_default();
        self.execute(
            &step,
            &format!(
                "CREATE EXTENSION IF NOT EXISTS {}{with_schema}",
                quote_ident(extension)
            ),
        )
        .await?;
        Ok(Outcome::Created)
    }
}

/// Runs the Postgres setup: role, database, schema, search_path, extensions.
pub async fn run_postgres_setup(cfg: PostgresSetupConfig) -> Result<SetupReport, SetupError> {
    let started = Instant::now();
    tracing::info!(address = %cfg.server.address, database = %cfg.database, user = %cfg.user, "postgres setup");
    let mut report = SetupReport::default();
    let deadline = cfg.wait;
    let admin = cfg.server.admin("postgres", deadline).await?;
    let (role, database) = admin
        .ensure_role_then_database(&cfg.server, &cfg.user, &cfg.password, &cfg.database)
        .await?;
    report.record(format!("role {}", cfg.user), role);
    report.record(format!("database {}", cfg.database), database);
    let in_database = cfg.server.admin(&cfg.database, cfg.server.timeout).await?;
    let schema = cfg.schema();
    let outcome = in_database.ensure_schema(&schema, &cfg.user).await?;
    report.record(format!("schema {schema}"), outcome);
    let outcome = in_database.ensure_search_path(&[&schema, "public"]).await?;
    report.record(format!("search_path of {}", cfg.database), outcome);
    for extension in &cfg.extensions {
        let outcome = in_database.ensure_extension(extension, None).await?;
        report.record(format!("extension {extension}"), outcome);
    }
    report.elapsed = started.elapsed();
    tracing::info!(%report, "postgres setup done");
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_the_job_environment() {
        let mut cfg = PostgresSetupConfig::new(
            "nuvolaris-postgres:5432".into(),
            Secret::new("s@:#'\"\n"),
            "nuvolaris",
            "nuvolaris",
            Secret::new("p@ss:w#rd'\"\nx"),
        );
        crate::setup::tests::assert_round_trip(&cfg);
        cfg.extensions.clear();
        cfg.server.superuser = "admin".into();
        cfg.wait = Duration::from_secs(5);
        crate::setup::tests::assert_round_trip(&cfg);
    }

    #[test]
    fn identifiers_and_literals_are_quoted() {
        assert_eq!(quote_ident("nuvolaris"), "\"nuvolaris\"");
        assert_eq!(quote_ident("a\"b; DROP"), "\"a\"\"b; DROP\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }

    #[test]
    fn bad_addresses_and_names_are_refused() {
        let vars = |extra: &[(&str, &str)]| {
            let mut v: Vec<(String, String)> = vec![
                ("POSTGRES_SUPERUSER_PASSWORD".into(), "s".into()),
                ("POSTGRES_USER_PASSWORD".into(), "p".into()),
            ];
            v.extend(extra.iter().map(|(k, x)| (k.to_string(), x.to_string())));
            v
        };
        assert!(PostgresSetupConfig::from_vars(vars(&[])).is_ok());
        for (var, value) in [
            ("POSTGRES_ADDR", "tcp://10.0.0.1:5432"),
            ("POSTGRES_ADDR", "host"),
            ("POSTGRES_DATABASE", &"x".repeat(64)),
        ] {
            let err = PostgresSetupConfig::from_vars(vars(&[(var, value)])).expect_err(var);
            assert!(err.to_string().contains(var), "{err}");
        }
        assert!(matches!(
            PostgresSetupConfig::from_vars(vec![("POSTGRES_USER_PASSWORD".into(), "p".into())]),
            Err(SetupError::MissingEnv("POSTGRES_SUPERUSER_PASSWORD"))
        ));
    }
}
