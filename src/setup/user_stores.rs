//! The per-user steps of `setup user` in the object store and the databases: MinIO (account,
//! data and web buckets, quotas, anonymous read of the web bucket, a policy confining the
//! account to its buckets) or SeaweedFS (an identity with actions on its buckets only, the
//! buckets and their quotas, anonymous read of the web bucket), PostgreSQL (role, database, schema) and FerretDB (its PostgreSQL
//! role and its schema in FerretDB's database) and Milvus (user, database, role). Each store is an `Option` of [`super::UserSetupConfig`]: `None` when the
//! installation does not have it; inside, `user: None` when the user has it off.
//!
//! A store the user switches off loses the user's access, not its data: the MinIO account and
//! its policy are removed (the buckets stay), the PostgreSQL roles can no longer log in (the
//! databases stay). Deleting the WhiskUser removes everything, buckets and databases included,
//! like the original's `mc rb --force` and `DROP DATABASE`.

use super::milvus::{MilvusAdmin, ROLE_PRIVILEGES};
use super::minio;
use super::minio_admin::MinioAdmin;
use super::object_store::{INDEX_KEY, Probe, index_page, is_key_refused, is_transport, wait_for};
use super::postgres::{PgServer, address, name};
use super::s3::{S3Client, S3Credentials, policy};
use super::seaweedfs::{
    ANONYMOUS, Filer, IDENTITIES, USER_ACTIONS, ensure_identity, ensure_quota, read_identity,
    remove_identity_actions,
};
use super::{Env, Outcome, Secret, SetupEnv, SetupError, SetupReport, SetupStep, comma_list};
use hyper::StatusCode;
use serde_json::json;

/// The user's side of the object store.
#[derive(Debug, Clone, PartialEq)]
pub struct UserBuckets {
    /// The account's secret key (`spec.object-storage.password`); its access key is the login.
    pub secret_key: Secret,
    /// The data bucket, when on.
    pub data: Option<String>,
    /// The web bucket (anonymous read, `index.html`), when on.
    pub route: Option<String>,
    /// Hard quota of each bucket in MB; `None` is no quota (`auto`).
    pub quota_mb: Option<u64>,
}

impl UserBuckets {
    /// The buckets that are on: data, then web.
    fn buckets(&self) -> impl Iterator<Item = &String> {
        self.data.iter().chain(self.route.iter())
    }
}

/// How the setup administers the installation's object store.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectStoreAdmin {
    /// MinIO: S3 and admin API calls signed as its root user.
    Minio(S3Credentials),
    /// SeaweedFS: identities and buckets written through its filer at this URL.
    Seaweedfs { filer_url: String },
}

/// The installation's object store (`url`: its S3 endpoint) and the user's buckets.
#[derive(Debug, Clone, PartialEq)]
pub struct UserObjectStore {
    pub url: String,
    pub admin: ObjectStoreAdmin,
    pub user: Option<UserBuckets>,
}

/// The user's database: its name and the password of the user's role.
#[derive(Debug, Clone, PartialEq)]
pub struct UserDatabase {
    pub database: String,
    pub password: Secret,
}

/// A PostgreSQL server (the Postgres component's, or the one FerretDB stores into).
#[derive(Debug, Clone, PartialEq)]
pub struct UserPostgres {
    pub server: PgServer,
    pub user: Option<UserDatabase>,
    /// Extensions created in the user's database (Postgres only; the original's `vector`).
    pub extensions: Vec<String>,
    /// FerretDB only: the PostgreSQL database FerretDB stores into (each MongoDB database is a
    /// schema of it).
    pub ferretdb_database: String,
}

/// The installation's Milvus, administered as `root`.
#[derive(Debug, Clone, PartialEq)]
pub struct UserMilvus {
    pub url: String,
    pub root_password: Secret,
    pub user: Option<UserDatabase>,
}

/// The user's Milvus role (the original's `<login>_role`).
pub fn milvus_role(login: &str) -> String {
    format!("{login}_role")
}

/// The names of the user's Postgres entries: role `<login>`, schema `<login>_schema`.
pub fn postgres_names(login: &str) -> (String, String) {
    (login.to_owned(), format!("{login}_schema"))
}

/// The names of the user's FerretDB entries (the original's): role `<login>_ferretdb`,
/// MongoDB database `<database>_ferretdb`, which FerretDB keeps as a schema of that name.
pub fn ferretdb_names(login: &str, database: &str) -> (String, String) {
    (format!("{login}_ferretdb"), format!("{database}_ferretdb"))
}

/// The canned policy of the user's account.
pub fn policy_name(login: &str) -> String {
    format!("{login}_rw_policy")
}

// ---- the Job environment --------------------------------------------------------------------

pub(super) fn write_env(
    mut env: SetupEnv<SetupStep>,
    store: Option<&UserObjectStore>,
    postgres: Option<&UserPostgres>,
    mongodb: Option<&UserPostgres>,
) -> SetupEnv<SetupStep> {
    if let Some(store) = store {
        env = match &store.admin {
            ObjectStoreAdmin::Minio(root) => env
                .value("MINIO_URL", &store.url)
                .value("MINIO_ROOT_USER", &root.access_key)
                .secret("MINIO_ROOT_PASSWORD", &root.secret_key),
            ObjectStoreAdmin::Seaweedfs { filer_url } => env
                .value("SEAWEEDFS_S3_URL", &store.url)
                .value("SEAWEEDFS_FILER_URL", filer_url),
        };
        if let Some(user) = &store.user {
            env = env.secret("USER_S3_SECRET_KEY", &user.secret_key);
            if let Some(bucket) = &user.data {
                env = env.value("USER_S3_DATA_BUCKET", bucket);
            }
            if let Some(bucket) = &user.route {
                env = env.value("USER_S3_ROUTE_BUCKET", bucket);
            }
            if let Some(mb) = user.quota_mb {
                env = env.value("USER_S3_QUOTA_MB", mb);
            }
        }
    }
    // one superuser password for both: FerretDB stores into the Postgres component's server
    if let Some(pg) = postgres.or(mongodb) {
        env = env.secret("POSTGRES_SUPERUSER_PASSWORD", &pg.server.password);
    }
    for (pg, addr, database, password) in [
        (
            postgres,
            "POSTGRES_ADDR",
            "USER_POSTGRES_DATABASE",
            "USER_POSTGRES_PASSWORD",
        ),
        (
            mongodb,
            "FERRETDB_POSTGRES_ADDR",
            "USER_MONGODB_DATABASE",
            "USER_MONGODB_PASSWORD",
        ),
    ] {
        let Some(pg) = pg else { continue };
        env = env.value(addr, &pg.server.address);
        if let Some(user) = &pg.user {
            env = env
                .value(database, &user.database)
                .secret(password, &user.password);
        }
    }
    if let Some(pg) = mongodb {
        env = env.value("FERRETDB_DATABASE", &pg.ferretdb_database);
    }
    if let Some(pg) = postgres.filter(|pg| !pg.extensions.is_empty()) {
        env = env.value("USER_POSTGRES_EXTENSIONS", pg.extensions.join(","));
    }
    env
}

pub(super) fn write_milvus_env(
    mut env: SetupEnv<SetupStep>,
    milvus: Option<&UserMilvus>,
) -> SetupEnv<SetupStep> {
    if let Some(milvus) = milvus {
        env = env
            .value("MILVUS_URL", &milvus.url)
            .secret("MILVUS_ROOT_PASSWORD", &milvus.root_password);
        if let Some(user) = &milvus.user {
            env = env
                .value("USER_MILVUS_DATABASE", &user.database)
                .secret("USER_MILVUS_PASSWORD", &user.password);
        }
    }
    env
}

pub(super) fn read_milvus_env<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    login: &str,
) -> Result<Option<UserMilvus>, SetupError> {
    let Some(url) = env.opt("MILVUS_URL") else {
        return Ok(None);
    };
    if !url.starts_with("http://") || url.contains('@') {
        return Err(SetupError::InvalidEnv {
            name: "MILVUS_URL",
            reason: "expected http://host:port without credentials".into(),
        });
    }
    let user = env
        .opt("USER_MILVUS_PASSWORD")
        .map(|password| UserDatabase {
            database: env.or("USER_MILVUS_DATABASE", login),
            password: Secret::new(password),
        });
    Ok(Some(UserMilvus {
        url,
        root_password: env.secret("MILVUS_ROOT_PASSWORD")?,
        user,
    }))
}

type Stores = (
    Option<UserObjectStore>,
    Option<UserPostgres>,
    Option<UserPostgres>,
);

pub(super) fn read_env<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    login: &str,
    timeout: std::time::Duration,
) -> Result<Stores, SetupError> {
    let checked = |name: &'static str| -> Result<Option<String>, SetupError> {
        let Some(url) = env.opt(name) else {
            return Ok(None);
        };
        S3Client::check_endpoint(name, &url)?;
        Ok(Some(url))
    };
    let admin_and_url = match checked("MINIO_URL")? {
        Some(url) => Some((
            ObjectStoreAdmin::Minio(S3Credentials::new(
                env.required("MINIO_ROOT_USER")?,
                env.secret("MINIO_ROOT_PASSWORD")?,
            )),
            url,
        )),
        None => match checked("SEAWEEDFS_S3_URL")? {
            Some(url) => Some((
                ObjectStoreAdmin::Seaweedfs {
                    filer_url: checked("SEAWEEDFS_FILER_URL")?
                        .ok_or(SetupError::MissingEnv("SEAWEEDFS_FILER_URL"))?,
                },
                url,
            )),
            None => None,
        },
    };
    let store = match admin_and_url {
        None => None,
        Some((admin, url)) => {
            let user = match env.opt("USER_S3_SECRET_KEY") {
                None => None,
                Some(key) => Some(UserBuckets {
                    secret_key: Secret::new(key),
                    data: env.opt("USER_S3_DATA_BUCKET"),
                    route: env.opt("USER_S3_ROUTE_BUCKET"),
                    quota_mb: match env.opt("USER_S3_QUOTA_MB") {
                        None => None,
                        Some(v) => Some(v.parse().map_err(|_| SetupError::InvalidEnv {
                            name: "USER_S3_QUOTA_MB",
                            reason: "expected a number of MB".into(),
                        })?),
                    },
                }),
            };
            Some(UserObjectStore { url, admin, user })
        }
    };
    let pg = |addr: &'static str, database: &'static str, password: &'static str| {
        if env.opt(addr).is_none() {
            return Ok::<_, SetupError>(None);
        }
        let server = PgServer {
            timeout,
            ..PgServer::new(
                address(env, addr, "")?,
                env.secret("POSTGRES_SUPERUSER_PASSWORD")?,
            )
        };
        let user = match env.opt(password) {
            None => None,
            Some(secret) => Some(UserDatabase {
                database: name(env, database, login)?,
                password: Secret::new(secret),
            }),
        };
        Ok(Some(UserPostgres {
            server,
            user,
            extensions: Vec::new(),
            ferretdb_database: String::new(),
        }))
    };
    let mut postgres = pg(
        "POSTGRES_ADDR",
        "USER_POSTGRES_DATABASE",
        "USER_POSTGRES_PASSWORD",
    )?;
    if let Some(pg) = postgres.as_mut() {
        pg.extensions = env
            .opt("USER_POSTGRES_EXTENSIONS")
            .map(|list| comma_list(&list))
            .unwrap_or_default();
    }
    let mut mongodb = pg(
        "FERRETDB_POSTGRES_ADDR",
        "USER_MONGODB_DATABASE",
        "USER_MONGODB_PASSWORD",
    )?;
    if let Some(pg) = mongodb.as_mut() {
        pg.ferretdb_database = name(env, "FERRETDB_DATABASE", "ferretdb")?;
    }
    Ok((store, postgres, mongodb))
}

// ---- MinIO ----------------------------------------------------------------------------------

async fn minio_admin(
    store: &UserObjectStore,
    cfg: &super::UserSetupConfig,
) -> Result<(S3Client, MinioAdmin), SetupError> {
    let ObjectStoreAdmin::Minio(root) = &store.admin else {
        return Err(SetupError::InvalidEnv {
            name: "MINIO_URL",
            reason: "the object store is not MinIO".into(),
        });
    };
    let root = S3Client::new(&store.url, root.clone(), cfg.timeout)?;
    let admin = MinioAdmin::new(root.clone())?;
    wait_for("minio", &store.url, cfg.wait, || async {
        match admin.s3().list_buckets().await {
            Ok(_) => Ok(Probe::Ready),
            Err(e) if is_transport(&e) || is_key_refused(&e) => Ok(Probe::NotYet(e.to_string())),
            Err(e) => Err(e),
        }
    })
    .await?;
    Ok((root, admin))
}

/// The user's account, buckets, quotas and anonymous read of the web bucket, in MinIO or
/// SeaweedFS; with the user's storage off, no account (the buckets stay).
pub(super) async fn apply_object_store(
    store: &UserObjectStore,
    cfg: &super::UserSetupConfig,
    report: &mut SetupReport,
) -> Result<(), SetupError> {
    match &store.admin {
        ObjectStoreAdmin::Minio(_) => apply_minio(store, cfg, report).await,
        ObjectStoreAdmin::Seaweedfs { filer_url } => {
            apply_seaweedfs(store, filer_url, cfg, report).await
        }
    }
}

/// The user's buckets (with their objects) and account, in MinIO or SeaweedFS.
pub(super) async fn delete_object_store(
    store: &UserObjectStore,
    cfg: &super::UserSetupConfig,
    report: &mut SetupReport,
) -> Result<(), SetupError> {
    match &store.admin {
        ObjectStoreAdmin::Minio(_) => delete_minio(store, cfg, report).await,
        ObjectStoreAdmin::Seaweedfs { filer_url } => {
            delete_seaweedfs(store, filer_url, cfg, report).await
        }
    }
}

/// The user's account, buckets, quotas and policy; with the user's storage off, no account.
async fn apply_minio(
    store: &UserObjectStore,
    cfg: &super::UserSetupConfig,
    report: &mut SetupReport,
) -> Result<(), SetupError> {
    let (root, admin) = minio_admin(store, cfg).await?;
    let login = &cfg.login;
    let policy_name = policy_name(login);
    let Some(user) = &store.user else {
        let removed = admin.remove_user(login).await?;
        report.record(format!("minio user {login}"), deleted(removed));
        let removed = admin.remove_canned_policy(&policy_name).await?;
        report.record(format!("policy {policy_name}"), deleted(removed));
        return Ok(());
    };
    let quota = user.quota_mb.map(|mb| mb * 1024 * 1024);
    let mut buckets: Vec<&str> = Vec::new();
    for bucket in user.buckets() {
        let outcome = root.ensure_bucket(bucket).await?;
        report.record(format!("bucket {bucket}"), outcome);
        let outcome = if admin.bucket_quota(bucket).await? == quota {
            Outcome::Unchanged
        } else {
            admin.set_bucket_quota(bucket, quota).await?;
            Outcome::Updated
        };
        report.record(format!("quota of {bucket}"), outcome);
        buckets.push(bucket);
    }
    if let Some(web) = &user.route {
        let outcome = root
            .ensure_bucket_policy(web, &policy::anonymous_read(web))
            .await?;
        report.record(format!("anonymous download of {web}"), outcome);
        let outcome = root
            .ensure_object(
                web,
                INDEX_KEY,
                index_page()?.as_bytes().to_vec(),
                "text/html",
            )
            .await?;
        report.record(format!("object {web}/{INDEX_KEY}"), outcome);
    }

    let account = S3Credentials::new(login.clone(), user.secret_key.clone());
    let outcome = minio::ensure_user(&admin, &root, &account).await?;
    report.record(format!("minio user {login}"), outcome);

    // An account without buckets gets a policy on none (the policy API refuses an empty
    // resource list, so a name that cannot be a bucket stands in).
    let resources: Vec<&str> = if buckets.is_empty() {
        vec!["-none-"]
    } else {
        buckets.clone()
    };
    minio::ensure_policy(&admin, report, login, &policy_name, &resources).await?;
    Ok(())
}

/// The buckets (with their objects), the account and its policy.
async fn delete_minio(
    store: &UserObjectStore,
    cfg: &super::UserSetupConfig,
    report: &mut SetupReport,
) -> Result<(), SetupError> {
    let (root, admin) = minio_admin(store, cfg).await?;
    if let Some(user) = &store.user {
        for bucket in user.buckets() {
            let removed = root.delete_bucket(bucket, true).await?;
            report.record(format!("bucket {bucket}"), deleted(removed));
        }
    }
    let removed = admin.remove_user(&cfg.login).await?;
    report.record(format!("minio user {}", cfg.login), deleted(removed));
    let name = policy_name(&cfg.login);
    let removed = admin.remove_canned_policy(&name).await?;
    report.record(format!("policy {name}"), deleted(removed));
    Ok(())
}

fn deleted(removed: bool) -> Outcome {
    if removed {
        Outcome::Deleted
    } else {
        Outcome::Unchanged
    }
}

// ---- PostgreSQL and FerretDB ----------------------------------------------------------------

/// Which of the two PostgreSQL-backed stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PgStore {
    Postgres,
    Ferretdb,
}

impl PgStore {
    fn role(self, login: &str) -> String {
        match self {
            PgStore::Postgres => postgres_names(login).0,
            PgStore::Ferretdb => ferretdb_names(login, "").0,
        }
    }

    fn label(self) -> &'static str {
        match self {
            PgStore::Postgres => "postgres",
            PgStore::Ferretdb => "ferretdb",
        }
    }
}

/// Postgres: role `<login>`, the database it owns, the schema `<login>_schema` first on the
/// search_path, the extensions. FerretDB: role `<login>_ferretdb`, CONNECT on FerretDB's
/// database, the schema `<database>_ferretdb` (the user's MongoDB database) owned by the role.
/// With the store off for the user, its role can no longer log in.
pub(super) async fn apply_pg(
    kind: PgStore,
    pg: &UserPostgres,
    cfg: &super::UserSetupConfig,
    report: &mut SetupReport,
) -> Result<(), SetupError> {
    let admin = pg.server.admin("postgres", cfg.wait).await?;
    let label = kind.label();
    let role = kind.role(&cfg.login);
    let Some(user) = &pg.user else {
        let outcome = admin.disable_login(&role).await?;
        report.record(format!("{label} role {role}"), outcome);
        return Ok(());
    };
    match kind {
        PgStore::Postgres => {
            let database = &user.database;
            let (role_outcome, database_outcome) = admin
                .ensure_role_then_database(&pg.server, &role, &user.password, database)
                .await?;
            report.record(format!("{label} role {role}"), role_outcome);
            report.record(format!("{label} database {database}"), database_outcome);
            let in_database = pg.server.admin(database, pg.server.timeout).await?;
            let schema = postgres_names(&cfg.login).1;
            let outcome = in_database.ensure_schema(&schema, &role).await?;
            report.record(format!("{label} schema {schema}"), outcome);
            let outcome = in_database.ensure_search_path(&[&schema, "public"]).await?;
            report.record(format!("{label} search_path of {database}"), outcome);
            for extension in &pg.extensions {
                let outcome = in_database.ensure_extension(extension, None).await?;
                report.record(
                    format!("{label} extension {extension} in {database}"),
                    outcome,
                );
            }
        }
        PgStore::Ferretdb => {
            let shared = &pg.ferretdb_database;
            // the role logs in to FerretDB's database: CONNECT first, then the password check
            let grant = admin
                .ensure_database_grant(shared, &role, &["CONNECT"])
                .await;
            let role_outcome = admin
                .ensure_role(&pg.server, &role, &user.password, shared)
                .await?;
            let grant = match grant {
                Ok(outcome) if role_outcome != Outcome::Created => outcome,
                // the role did not exist yet: grant now
                _ => {
                    admin
                        .ensure_database_grant(shared, &role, &["CONNECT"])
                        .await?
                }
            };
            report.record(format!("{label} role {role}"), role_outcome);
            report.record(format!("{label} connect on {shared} to {role}"), grant);
            let in_shared = pg.server.admin(shared, pg.server.timeout).await?;
            let schema = ferretdb_names(&cfg.login, &user.database).1;
            let outcome = in_shared.ensure_schema(&schema, &role).await?;
            report.record(format!("{label} schema {schema}"), outcome);
        }
    }
    Ok(())
}

/// Postgres: the user's database and role. FerretDB: the user's schema and role.
pub(super) async fn delete_pg(
    kind: PgStore,
    pg: &UserPostgres,
    cfg: &super::UserSetupConfig,
    report: &mut SetupReport,
) -> Result<(), SetupError> {
    let label = kind.label();
    let role = kind.role(&cfg.login);
    let admin = match kind {
        PgStore::Postgres => {
            let admin = pg.server.admin("postgres", cfg.wait).await?;
            if let Some(user) = &pg.user {
                let removed = admin.drop_database(&user.database).await?;
                report.record(
                    format!("{label} database {}", user.database),
                    deleted(removed),
                );
            }
            admin
        }
        PgStore::Ferretdb => {
            // DROP OWNED BY runs where the role's grants are: FerretDB's database
            let admin = pg.server.admin(&pg.ferretdb_database, cfg.wait).await?;
            if let Some(user) = &pg.user {
                let schema = ferretdb_names(&cfg.login, &user.database).1;
                let removed = admin.drop_schema(&schema).await?;
                report.record(format!("{label} schema {schema}"), deleted(removed));
            }
            admin
        }
    };
    let removed = admin.drop_role(&role).await?;
    report.record(format!("{label} role {role}"), deleted(removed));
    Ok(())
}

// ---- Milvus ---------------------------------------------------------------------------------

async fn milvus_admin(
    milvus: &UserMilvus,
    cfg: &super::UserSetupConfig,
) -> Result<MilvusAdmin, SetupError> {
    let admin = MilvusAdmin::new(&milvus.url, "root", &milvus.root_password, cfg.timeout);
    admin.wait_ready(cfg.wait).await?;
    Ok(admin)
}

/// User `<login>`, its database, role `<login>_role` admin of that database, granted to the
/// user; with Milvus off for the user, no user (the database and role stay).
pub(super) async fn apply_milvus(
    milvus: &UserMilvus,
    cfg: &super::UserSetupConfig,
    report: &mut SetupReport,
) -> Result<(), SetupError> {
    let admin = milvus_admin(milvus, cfg).await?;
    let login = &cfg.login;
    let Some(user) = &milvus.user else {
        let removed = admin.drop_user(login).await?;
        report.record(format!("milvus user {login}"), deleted(removed));
        return Ok(());
    };
    let role = milvus_role(login);
    let outcome = admin.ensure_user(login, &user.password).await?;
    report.record(format!("milvus user {login}"), outcome);
    let outcome = admin.ensure_database(&user.database).await?;
    report.record(format!("milvus database {}", user.database), outcome);
    let outcome = admin
        .ensure_role(&role, &user.database, ROLE_PRIVILEGES)
        .await?;
    report.record(format!("milvus role {role}"), outcome);
    let outcome = admin.ensure_user_role(login, &role).await?;
    report.record(format!("milvus role {role} of {login}"), outcome);
    Ok(())
}

/// The user, its role and its database (with its collections).
pub(super) async fn delete_milvus(
    milvus: &UserMilvus,
    cfg: &super::UserSetupConfig,
    report: &mut SetupReport,
) -> Result<(), SetupError> {
    let admin = milvus_admin(milvus, cfg).await?;
    let login = &cfg.login;
    let removed = admin.drop_user(login).await?;
    report.record(format!("milvus user {login}"), deleted(removed));
    let role = milvus_role(login);
    let removed = admin.drop_role(&role).await?;
    report.record(format!("milvus role {role}"), deleted(removed));
    if let Some(user) = &milvus.user {
        let removed = admin.drop_database(&user.database).await?;
        report.record(
            format!("milvus database {}", user.database),
            deleted(removed),
        );
    }
    Ok(())
}

// ---- SeaweedFS ------------------------------------------------------------------------------

async fn seaweedfs_filer(
    filer_url: &str,
    cfg: &super::UserSetupConfig,
) -> Result<Filer, SetupError> {
    let filer = Filer::new(filer_url, cfg.timeout)?;
    wait_for("seaweedfs filer", filer_url, cfg.wait, || async {
        match filer.get("/healthz", "wait for the filer").await {
            Ok((StatusCode::OK, _)) => Ok(Probe::Ready),
            Ok((status, _)) => Ok(Probe::NotYet(format!("/healthz answered {status}"))),
            Err(e) if is_transport(&e) => Ok(Probe::NotYet(e.to_string())),
            Err(e) => Err(e),
        }
    })
    .await?;
    Ok(filer)
}

fn identity_path(login: &str) -> String {
    format!("{IDENTITIES}/{login}.json")
}

fn anonymous_actions(web: &str) -> Vec<String> {
    vec![format!("Read:{web}"), format!("List:{web}")]
}

/// The identity `<login>` (the original's `s3.configure -user=<ns>`): its key, `Read`, `Write`,
/// `List`, `Tagging`, `Admin` on its buckets only — the whole identity is the user's, so a
/// bucket switched off or renamed leaves it. Then, signed as the user, the buckets, their quota
/// and the web bucket's `index.html`; `anonymous` may read and list the web bucket.
async fn apply_seaweedfs(
    store: &UserObjectStore,
    filer_url: &str,
    cfg: &super::UserSetupConfig,
    report: &mut SetupReport,
) -> Result<(), SetupError> {
    let filer = seaweedfs_filer(filer_url, cfg).await?;
    let login = &cfg.login;
    let step = format!("identity {login}");
    let Some(user) = &store.user else {
        let removed = filer.delete(&identity_path(login), &step).await?;
        report.record(step, deleted(removed));
        return Ok(());
    };
    let buckets: Vec<&String> = user.buckets().collect();
    let actions: Vec<String> = USER_ACTIONS
        .iter()
        .flat_map(|a| buckets.iter().map(move |b| format!("{a}:{b}")))
        .collect();
    let wanted = json!({
        "name": login,
        "credentials": [{
            "access_key": login,
            "secret_key": user.secret_key.expose(),
            "status": "Active",
        }],
        "actions": actions,
    });
    let outcome = match read_identity(&filer, login).await? {
        None => Outcome::Created,
        Some(current) if current == wanted => Outcome::Unchanged,
        Some(_) => Outcome::Updated,
    };
    if outcome != Outcome::Unchanged {
        filer
            .put_json(&identity_path(login), &wanted, &step)
            .await?;
    }
    report.record(step, outcome);
    if let Some(web) = &user.route {
        let outcome = ensure_identity(&filer, ANONYMOUS, None, &anonymous_actions(web)).await?;
        report.record(format!("identity {ANONYMOUS}"), outcome);
    }

    // the gateway reloads identities shortly after the filer has them
    let s3 = S3Client::new(
        &store.url,
        S3Credentials::new(login.clone(), user.secret_key.clone()),
        cfg.timeout,
    )?;
    wait_for("seaweedfs s3", &store.url, cfg.wait, || async {
        match s3.list_buckets().await {
            Ok(_) => Ok(Probe::Ready),
            Err(e) if is_transport(&e) || is_key_refused(&e) => {
                Ok(Probe::NotYet(format!("{login} not accepted yet: {e}")))
            }
            Err(e) => Err(e),
        }
    })
    .await?;
    for bucket in &buckets {
        let outcome = s3.ensure_bucket(bucket).await?;
        report.record(format!("bucket {bucket}"), outcome);
        if let Some(mb) = user.quota_mb {
            let mb = u32::try_from(mb).map_err(|_| SetupError::InvalidEnv {
                name: "USER_S3_QUOTA_MB",
                reason: "too large for SeaweedFS".into(),
            })?;
            let outcome = ensure_quota(&s3, bucket, mb).await?;
            report.record(format!("quota of {bucket}"), outcome);
        }
    }
    if let Some(web) = &user.route {
        let outcome = s3
            .ensure_object(
                web,
                INDEX_KEY,
                index_page()?.as_bytes().to_vec(),
                "text/html",
            )
            .await?;
        report.record(format!("object {web}/{INDEX_KEY}"), outcome);
    }
    Ok(())
}

/// The buckets (their filer directories, with every object), the anonymous read of the web
/// bucket and the identity.
async fn delete_seaweedfs(
    store: &UserObjectStore,
    filer_url: &str,
    cfg: &super::UserSetupConfig,
    report: &mut SetupReport,
) -> Result<(), SetupError> {
    let filer = seaweedfs_filer(filer_url, cfg).await?;
    let login = &cfg.login;
    if let Some(user) = &store.user {
        for bucket in user.buckets() {
            let step = format!("bucket {bucket}");
            let removed = filer.delete(&format!("/buckets/{bucket}"), &step).await?;
            report.record(step, deleted(removed));
        }
        if let Some(web) = &user.route {
            let outcome =
                remove_identity_actions(&filer, ANONYMOUS, &anonymous_actions(web)).await?;
            report.record(format!("identity {ANONYMOUS}"), outcome);
        }
    }
    let step = format!("identity {login}");
    let removed = filer.delete(&identity_path(login), &step).await?;
    report.record(step, deleted(removed));
    Ok(())
}
