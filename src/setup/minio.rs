//! `nuvolaris-operator setup minio`: what the original did with `mc` after MinIO started, over
//! MinIO's own HTTP APIs (S3 and the admin API, signed as the root user):
//!
//! 1. the buckets `nuvolaris-data` and `nuvolaris-web`, anonymous download on the web bucket
//!    (`mc anonymous set download`: a bucket policy), and its `index.html` uploaded once;
//! 2. the `nuvolaris` user with its secret key (`mc admin user add`), kept in step: a user whose
//!    key no longer signs (the CR's password changed) gets the new key;
//! 3. the canned policy `nuvolaris_rw_policy` (every S3 action on both buckets and their
//!    objects) attached to the user (`mc admin policy create|attach`);
//! 4. the accounts other components ask for ([`StoreAccount`], Milvus's `miniomilvus`), each
//!    with its bucket and the policy `<account>_rw_policy` on that bucket only, attached
//!    (`mc admin user add`, `mc mb`, the original's `miniomilvus_rw_policy`).
//!
//! Each step reads first and writes only what differs, so a rerun changes nothing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::minio_admin::MinioAdmin;
use super::object_store::{
    AccountVars, INDEX_KEY, Probe, StoreAccount, index_page, is_key_refused, is_transport, wait_for,
};
use super::s3::{S3Client, S3Credentials, policy};
use super::{
    Env, EnvVar, Outcome, SetupEnv, SetupError, SetupReport, SetupSettings, SetupStep, optional,
    required,
};
use crate::config::storage::{DATA_BUCKET, STATIC_BUCKET};

/// The environment of `setup minio` (see [`MinioSetupConfig`]).
pub const MINIO_ENV: &[EnvVar] = &[
    optional("MINIO_URL", "http://nuvolaris-minio:9000"),
    required("MINIO_ROOT_USER", false),
    required("MINIO_ROOT_PASSWORD", true),
    optional("MINIO_USER", "nuvolaris"),
    required("MINIO_USER_SECRET_KEY", true),
    optional("MINIO_DATA_BUCKET", DATA_BUCKET),
    optional("MINIO_STATIC_BUCKET", STATIC_BUCKET),
    optional("MINIO_POLICY", DEFAULT_POLICY),
    optional("MINIO_WAIT_SECONDS", "120"),
    optional("MINIO_TIMEOUT_SECONDS", "10"),
    ACCOUNTS.declared()[0],
    ACCOUNTS.declared()[1],
];

/// Where the other components' accounts travel (see [`AccountVars`]).
const ACCOUNTS: AccountVars = AccountVars {
    list: "MINIO_ACCOUNTS",
    secret_keys: "MINIO_ACCOUNT_SECRET_KEYS",
};

/// Configuration of `setup minio`.
///
/// | env var | default | meaning |
/// |---|---|---|
/// | `MINIO_URL` | `http://nuvolaris-minio:9000` | S3 and admin API (http, no credentials or path) |
/// | `MINIO_ROOT_USER` | required | the root user (`MINIO_ROOT_USER` of the server) |
/// | `MINIO_ROOT_PASSWORD` | required (secret) | its password |
/// | `MINIO_USER` | `nuvolaris` | the user to create (its access key) |
/// | `MINIO_USER_SECRET_KEY` | required (secret) | its secret key |
/// | `MINIO_DATA_BUCKET` | `nuvolaris-data` | the data bucket |
/// | `MINIO_STATIC_BUCKET` | `nuvolaris-web` | the bucket anyone may read, with `index.html` |
/// | `MINIO_POLICY` | `nuvolaris_rw_policy` | the canned policy giving the user both buckets |
/// | `MINIO_WAIT_SECONDS` | `120` | how long to wait for MinIO to accept requests |
/// | `MINIO_TIMEOUT_SECONDS` | `10` | timeout of one HTTP request |
/// | `MINIO_ACCOUNTS` | `[]` | other accounts: JSON list of `{user, bucket, quota_mb}` (no quota on MinIO) |
/// | `MINIO_ACCOUNT_SECRET_KEYS` | `{}` (secret) | their secret keys: JSON object user → key |
#[derive(Debug, Clone, PartialEq)]
pub struct MinioSetupConfig {
    pub url: String,
    pub root: S3Credentials,
    pub user: S3Credentials,
    pub data_bucket: String,
    pub static_bucket: String,
    pub policy: String,
    pub accounts: Vec<StoreAccount>,
    pub wait: Duration,
    pub timeout: Duration,
}

const DEFAULT_POLICY: &str = "nuvolaris_rw_policy";
const DEFAULT_USER: &str = "nuvolaris";
const DEFAULT_URL: &str = "http://nuvolaris-minio:9000";
const DEFAULT_WAIT: Duration = Duration::from_secs(120);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl MinioSetupConfig {
    /// Settings with the command's defaults for everything the operator does not choose.
    pub fn new(url: String, root: S3Credentials, user: S3Credentials) -> MinioSetupConfig {
        MinioSetupConfig {
            url,
            root,
            user,
            data_bucket: DATA_BUCKET.to_owned(),
            static_bucket: STATIC_BUCKET.to_owned(),
            policy: DEFAULT_POLICY.to_owned(),
            accounts: Vec::new(),
            wait: DEFAULT_WAIT,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl SetupSettings for MinioSetupConfig {
    const STEP: SetupStep = SetupStep::Minio;

    fn to_env(&self) -> SetupEnv {
        let env = SetupEnv::new(Self::STEP)
            .value("MINIO_URL", &self.url)
            .value("MINIO_ROOT_USER", &self.root.access_key)
            .tuning("MINIO_USER", self.user.access_key.as_str(), DEFAULT_USER)
            .tuning("MINIO_DATA_BUCKET", self.data_bucket.as_str(), DATA_BUCKET)
            .tuning(
                "MINIO_STATIC_BUCKET",
                self.static_bucket.as_str(),
                STATIC_BUCKET,
            )
            .tuning("MINIO_POLICY", self.policy.as_str(), DEFAULT_POLICY)
            .tuning(
                "MINIO_WAIT_SECONDS",
                self.wait.as_secs(),
                DEFAULT_WAIT.as_secs(),
            )
            .tuning(
                "MINIO_TIMEOUT_SECONDS",
                self.timeout.as_secs(),
                DEFAULT_TIMEOUT.as_secs(),
            )
            .secret("MINIO_ROOT_PASSWORD", &self.root.secret_key)
            .secret("MINIO_USER_SECRET_KEY", &self.user.secret_key);
        ACCOUNTS.write(env, &self.accounts)
    }

    fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, SetupError> {
        let vars: BTreeMap<String, String> = vars.into_iter().collect();
        let env = Env(|k: &str| vars.get(k).cloned());
        let url = env.or("MINIO_URL", DEFAULT_URL);
        // the same checks as the client's, with the variable's name
        S3Client::check_endpoint("MINIO_URL", &url)?;
        let user = env.or("MINIO_USER", DEFAULT_USER);
        let accounts = ACCOUNTS.read(&env, &user)?;
        Ok(MinioSetupConfig {
            url,
            root: S3Credentials::new(
                env.required("MINIO_ROOT_USER")?,
                env.secret("MINIO_ROOT_PASSWORD")?,
            ),
            user: S3Credentials::new(user, env.secret("MINIO_USER_SECRET_KEY")?),
            accounts,
            data_bucket: env.or("MINIO_DATA_BUCKET", DATA_BUCKET),
            static_bucket: env.or("MINIO_STATIC_BUCKET", STATIC_BUCKET),
            policy: env.or("MINIO_POLICY", DEFAULT_POLICY),
            wait: env.seconds("MINIO_WAIT_SECONDS", DEFAULT_WAIT.as_secs())?,
            timeout: env.seconds("MINIO_TIMEOUT_SECONDS", DEFAULT_TIMEOUT.as_secs())?,
        })
    }
}

/// Runs the MinIO setup (see the module documentation).
pub async fn run_minio_setup(cfg: MinioSetupConfig) -> Result<SetupReport, SetupError> {
    let started = Instant::now();
    tracing::info!(url = %cfg.url, root = %cfg.root.access_key, user = %cfg.user.access_key, "minio setup");
    let root = S3Client::new(&cfg.url, cfg.root.clone(), cfg.timeout)?;
    let admin = MinioAdmin::new(root.clone())?;
    wait_ready(&admin, &cfg).await?;
    let mut report = SetupReport::default();

    for bucket in [&cfg.data_bucket, &cfg.static_bucket] {
        let outcome = root.ensure_bucket(bucket).await?;
        report.record(format!("bucket {bucket}"), outcome);
    }
    let outcome = root
        .ensure_bucket_policy(
            &cfg.static_bucket,
            &policy::anonymous_read(&cfg.static_bucket),
        )
        .await?;
    report.record(
        format!("anonymous download of {}", cfg.static_bucket),
        outcome,
    );
    let outcome = root
        .ensure_object(
            &cfg.static_bucket,
            INDEX_KEY,
            index_page()?.as_bytes().to_vec(),
            "text/html",
        )
        .await?;
    report.record(format!("object {}/{INDEX_KEY}", cfg.static_bucket), outcome);

    let outcome = ensure_user(&admin, &root, &cfg.user).await?;
    report.record(format!("user {}", cfg.user.access_key), outcome);

    ensure_policy(
        &admin,
        &mut report,
        &cfg.user.access_key,
        &cfg.policy,
        &[&cfg.data_bucket, &cfg.static_bucket],
    )
    .await?;

    for account in &cfg.accounts {
        let outcome = root.ensure_bucket(&account.bucket).await?;
        report.record(format!("bucket {}", account.bucket), outcome);
        let outcome = ensure_user(&admin, &root, &account.credentials).await?;
        report.record(format!("user {}", account.credentials.access_key), outcome);
        ensure_policy(
            &admin,
            &mut report,
            &account.credentials.access_key,
            &format!("{}_rw_policy", account.credentials.access_key),
            &[&account.bucket],
        )
        .await?;
    }

    report.elapsed = started.elapsed();
    tracing::info!(%report, "minio setup done");
    Ok(report)
}

/// Waits until MinIO is ready and accepts the root user's signature, for at most `cfg.wait`
/// (a refused root key is retried too: while a new root password rolls the Deployment, the
/// old server may still answer).
async fn wait_ready(admin: &MinioAdmin, cfg: &MinioSetupConfig) -> Result<(), SetupError> {
    wait_for("minio", &cfg.url, cfg.wait, || async {
        match admin.ready().await {
            Ok(true) => {}
            Ok(false) => return Ok(Probe::NotYet("/minio/health/ready is not 200".into())),
            Err(e) if is_transport(&e) => return Ok(Probe::NotYet(e.to_string())),
            Err(e) => return Err(e),
        }
        match admin.s3().list_buckets().await {
            Ok(_) => Ok(Probe::Ready),
            Err(e) if is_transport(&e) || is_key_refused(&e) => Ok(Probe::NotYet(e.to_string())),
            Err(e) => Err(e),
        }
    })
    .await
}

/// The canned policy `name` gives every S3 action on `buckets` and their objects, and is
/// attached to `user`.
pub(super) async fn ensure_policy(
    admin: &MinioAdmin,
    report: &mut SetupReport,
    user: &str,
    name: &str,
    buckets: &[&str],
) -> Result<(), SetupError> {
    let wanted = policy::read_write(buckets);
    let outcome = match admin.canned_policy(name).await? {
        None => Outcome::Created,
        Some(current) if policy::normalized(&current) == policy::normalized(&wanted) => {
            Outcome::Unchanged
        }
        Some(_) => Outcome::Updated,
    };
    if outcome != Outcome::Unchanged {
        admin.add_canned_policy(name, &wanted).await?;
    }
    report.record(format!("policy {name}"), outcome);

    let attached = admin
        .user_info(user)
        .await?
        .is_some_and(|info| info.policies.iter().any(|p| p == name));
    let outcome = if attached {
        Outcome::Unchanged
    } else {
        admin.attach_policies(user, &[name]).await?;
        Outcome::Created
    };
    report.record(format!("policy {name} of user {user}"), outcome);
    Ok(())
}

/// The user exists, is enabled and signs with `user.secret_key`.
pub(super) async fn ensure_user(
    admin: &MinioAdmin,
    root: &S3Client,
    user: &S3Credentials,
) -> Result<Outcome, SetupError> {
    let outcome = match admin.user_info(&user.access_key).await? {
        None => Outcome::Created,
        Some(info) if !info.enabled => Outcome::Updated,
        Some(_) => {
            // The admin API never shows a secret key: a signed request tells whether it is
            // the current one. AccessDenied means authenticated but not allowed: the key is.
            match root.with_credentials(user.clone()).list_buckets().await {
                Ok(_) => Outcome::Unchanged,
                Err(SetupError::S3 { code, .. }) if code == "AccessDenied" => Outcome::Unchanged,
                Err(e) if is_key_refused(&e) => Outcome::Updated,
                Err(e) => return Err(e),
            }
        }
    };
    if outcome != Outcome::Unchanged {
        admin
            .set_user(&user.access_key, &user.secret_key, true)
            .await?;
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::Secret;
    use crate::setup::tests::assert_round_trip;

    fn cfg() -> MinioSetupConfig {
        MinioSetupConfig::new(
            "http://nuvolaris-minio.ns.svc.cluster.local:9000".into(),
            S3Credentials::new("minioadmin", Secret::new("root-S3cret")),
            S3Credentials::new("nuvolaris", Secret::new("user-S3cret")),
        )
    }

    #[test]
    fn settings_round_trip_through_the_job_environment() {
        assert_round_trip(&cfg());
        let mut tuned = cfg();
        tuned.policy = "other".into();
        tuned.wait = Duration::from_secs(5);
        assert_round_trip(&tuned);
        tuned.accounts = vec![StoreAccount {
            credentials: S3Credentials::new("miniomilvus", Secret::new("a\"c@:#\n{}S3cret")),
            bucket: "vectors".into(),
            quota_mb: 10240,
        }];
        assert_round_trip(&tuned);
        let env = tuned.to_env();
        assert!(
            env.plain.iter().all(|(_, v)| !v.contains("S3cret")),
            "secrets only in the Secret: {:?}",
            env.plain
        );
        let env = cfg().to_env();
        assert!(
            env.plain.iter().all(|(_, v)| !v.contains("S3cret")),
            "secrets only in the Secret: {:?}",
            env.plain
        );
    }

    #[test]
    fn bad_settings_are_refused_without_echoing_secrets() {
        let mut vars = cfg().to_env().vars();
        vars.retain(|(k, _)| k != "MINIO_URL");
        vars.push(("MINIO_URL".into(), "http://root:pw@minio:9000".into()));
        let err = MinioSetupConfig::from_vars(vars).expect_err("credentials in the URL");
        assert!(!err.to_string().contains("pw@"), "{err}");
        let mut vars = cfg().to_env().vars();
        vars.retain(|(k, _)| k != "MINIO_USER_SECRET_KEY");
        assert!(matches!(
            MinioSetupConfig::from_vars(vars),
            Err(SetupError::MissingEnv("MINIO_USER_SECRET_KEY"))
        ));
    }
}
