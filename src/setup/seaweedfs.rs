//! `nuvolaris-operator setup seaweedfs`: what the original did with `weed shell` through
//! `kubectl exec`, over SeaweedFS's HTTP APIs instead:
//!
//! 1. the identities (`s3.configure`): SeaweedFS keeps one JSON file per identity in its filer,
//!    `/etc/iam/identities/<name>.json`, and the S3 gateway reloads them when they change. The
//!    setup writes them through the filer's HTTP API: the `nuvolaris` user with its key and
//!    `Read`, `Write`, `List`, `Tagging`, `Admin` on both buckets, and `anonymous` with `Read`
//!    and `List` on the web bucket only (the original gave anonymous `Read` on every bucket).
//!    Identities are merged, not replaced: actions and keys added by others stay;
//! 2. the buckets `nuvolaris-data` and `nuvolaris-web` (`s3.bucket.create`), over S3 as the
//!    `nuvolaris` user, and their quota (`s3.bucket.quota`) with SeaweedFS's S3 extension
//!    `PUT /<bucket>?seaweedfs-quota`;
//! 3. `index.html` in the web bucket, uploaded once (the original posted it to the filer);
//! 4. the accounts other components ask for ([`StoreAccount`], Milvus's `miniomilvus`): each
//!    an identity with the user's actions on its own bucket only (`s3.configure -user=…
//!    -buckets=…`), and that bucket with its quota, created as the account itself (only it may
//!    administer that bucket).
//!
//! With no identity at all SeaweedFS's S3 gateway accepts every request; the first identity
//! written turns authentication on: the setup goes on only once the gateway refuses the user's
//! key with a wrong secret. Each step reads first and writes only what differs.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode, Uri, header};
use serde_json::{Value, json};

use super::http::HttpClient;
use super::object_store::{
    AccountVars, INDEX_KEY, Probe, StoreAccount, index_page, is_key_refused, is_transport, wait_for,
};
use super::s3::{S3Client, S3Credentials, S3Request};
use super::{
    Env, EnvVar, Outcome, Secret, SetupEnv, SetupError, SetupReport, SetupSettings, SetupStep,
    optional, required,
};
use crate::config::storage::{DATA_BUCKET, STATIC_BUCKET};

/// The environment of `setup seaweedfs` (see [`SeaweedfsSetupConfig`]). No `SEAWEEDFS_PORT` or
/// `_HOST`: Kubernetes' service links define those for the Service `seaweedfs`.
pub const SEAWEEDFS_ENV: &[EnvVar] = &[
    optional("SEAWEEDFS_S3_URL", DEFAULT_S3_URL),
    optional("SEAWEEDFS_FILER_URL", DEFAULT_FILER_URL),
    optional("SEAWEEDFS_USER", DEFAULT_USER),
    required("SEAWEEDFS_USER_SECRET_KEY", true),
    optional("SEAWEEDFS_DATA_BUCKET", DATA_BUCKET),
    optional("SEAWEEDFS_STATIC_BUCKET", STATIC_BUCKET),
    optional("SEAWEEDFS_BUCKET_QUOTA_MB", "1024"),
    optional("SEAWEEDFS_WAIT_SECONDS", "120"),
    optional("SEAWEEDFS_TIMEOUT_SECONDS", "10"),
    ACCOUNTS.declared()[0],
    ACCOUNTS.declared()[1],
];

/// Where the other components' accounts travel (see [`AccountVars`]).
const ACCOUNTS: AccountVars = AccountVars {
    list: "SEAWEEDFS_ACCOUNTS",
    secret_keys: "SEAWEEDFS_ACCOUNT_SECRET_KEYS",
};

/// Configuration of `setup seaweedfs`.
///
/// | env var | default | meaning |
/// |---|---|---|
/// | `SEAWEEDFS_S3_URL` | `http://seaweedfs:9000` | the S3 gateway |
/// | `SEAWEEDFS_FILER_URL` | `http://seaweedfs:9090` | the filer's HTTP API |
/// | `SEAWEEDFS_USER` | `nuvolaris` | the identity to create (also its access key) |
/// | `SEAWEEDFS_USER_SECRET_KEY` | required (secret) | its secret key |
/// | `SEAWEEDFS_DATA_BUCKET` | `nuvolaris-data` | the data bucket |
/// | `SEAWEEDFS_STATIC_BUCKET` | `nuvolaris-web` | the bucket anyone may read, with `index.html` |
/// | `SEAWEEDFS_BUCKET_QUOTA_MB` | `1024` | the quota of each bucket, in MiB |
/// | `SEAWEEDFS_WAIT_SECONDS` | `120` | how long to wait for SeaweedFS and for the identity to load |
/// | `SEAWEEDFS_TIMEOUT_SECONDS` | `10` | timeout of one HTTP request |
/// | `SEAWEEDFS_ACCOUNTS` | `[]` | other accounts: JSON list of `{user, bucket, quota_mb}` |
/// | `SEAWEEDFS_ACCOUNT_SECRET_KEYS` | `{}` (secret) | their secret keys: JSON object user → key |
#[derive(Debug, Clone, PartialEq)]
pub struct SeaweedfsSetupConfig {
    pub s3_url: String,
    pub filer_url: String,
    pub user: S3Credentials,
    pub data_bucket: String,
    pub static_bucket: String,
    pub bucket_quota_mb: u32,
    pub accounts: Vec<StoreAccount>,
    pub wait: Duration,
    pub timeout: Duration,
}

const DEFAULT_S3_URL: &str = "http://seaweedfs:9000";
const DEFAULT_FILER_URL: &str = "http://seaweedfs:9090";
const DEFAULT_USER: &str = "nuvolaris";
const DEFAULT_QUOTA_MB: u32 = 1024;
const DEFAULT_WAIT: Duration = Duration::from_secs(120);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the filer keeps the identities.
pub(super) const IDENTITIES: &str = "/etc/iam/identities";
/// The identity of unsigned requests.
pub(super) const ANONYMOUS: &str = "anonymous";
/// What the user may do on its buckets (the original's `s3.configure -actions`).
pub(super) const USER_ACTIONS: [&str; 5] = ["Read", "Write", "List", "Tagging", "Admin"];

impl SeaweedfsSetupConfig {
    /// Settings with the command's defaults for everything the operator does not choose.
    pub fn new(
        s3_url: String,
        filer_url: String,
        user: S3Credentials,
        bucket_quota_mb: u32,
    ) -> SeaweedfsSetupConfig {
        SeaweedfsSetupConfig {
            s3_url,
            filer_url,
            user,
            data_bucket: DATA_BUCKET.to_owned(),
            static_bucket: STATIC_BUCKET.to_owned(),
            bucket_quota_mb,
            accounts: Vec::new(),
            wait: DEFAULT_WAIT,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl SetupSettings for SeaweedfsSetupConfig {
    const STEP: SetupStep = SetupStep::Seaweedfs;

    fn to_env(&self) -> SetupEnv {
        let env = SetupEnv::new(Self::STEP)
            .value("SEAWEEDFS_S3_URL", &self.s3_url)
            .value("SEAWEEDFS_FILER_URL", &self.filer_url)
            .tuning(
                "SEAWEEDFS_USER",
                self.user.access_key.as_str(),
                DEFAULT_USER,
            )
            .tuning(
                "SEAWEEDFS_DATA_BUCKET",
                self.data_bucket.as_str(),
                DATA_BUCKET,
            )
            .tuning(
                "SEAWEEDFS_STATIC_BUCKET",
                self.static_bucket.as_str(),
                STATIC_BUCKET,
            )
            .tuning(
                "SEAWEEDFS_BUCKET_QUOTA_MB",
                self.bucket_quota_mb,
                DEFAULT_QUOTA_MB,
            )
            .tuning(
                "SEAWEEDFS_WAIT_SECONDS",
                self.wait.as_secs(),
                DEFAULT_WAIT.as_secs(),
            )
            .tuning(
                "SEAWEEDFS_TIMEOUT_SECONDS",
                self.timeout.as_secs(),
                DEFAULT_TIMEOUT.as_secs(),
            )
            .secret("SEAWEEDFS_USER_SECRET_KEY", &self.user.secret_key);
        ACCOUNTS.write(env, &self.accounts)
    }

    fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, SetupError> {
        let vars: BTreeMap<String, String> = vars.into_iter().collect();
        let env = Env(|k: &str| vars.get(k).cloned());
        let s3_url = env.or("SEAWEEDFS_S3_URL", DEFAULT_S3_URL);
        let filer_url = env.or("SEAWEEDFS_FILER_URL", DEFAULT_FILER_URL);
        for (name, url) in [
            ("SEAWEEDFS_S3_URL", &s3_url),
            ("SEAWEEDFS_FILER_URL", &filer_url),
        ] {
            S3Client::check_endpoint(name, url)?;
        }
        let user = env.or("SEAWEEDFS_USER", DEFAULT_USER);
        if !user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(SetupError::InvalidEnv {
                name: "SEAWEEDFS_USER",
                reason: "letters, digits, '-', '_' and '.' only (it names a file)".into(),
            });
        }
        let bucket_quota_mb = match env.opt("SEAWEEDFS_BUCKET_QUOTA_MB") {
            None => DEFAULT_QUOTA_MB,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|q| *q > 0)
                .ok_or(SetupError::InvalidEnv {
                    name: "SEAWEEDFS_BUCKET_QUOTA_MB",
                    reason: format!("expected a positive number of MiB, got {v:?}"),
                })?,
        };
        let accounts = ACCOUNTS.read(&env, &user)?;
        Ok(SeaweedfsSetupConfig {
            s3_url,
            filer_url,
            user: S3Credentials::new(user, env.secret("SEAWEEDFS_USER_SECRET_KEY")?),
            accounts,
            data_bucket: env.or("SEAWEEDFS_DATA_BUCKET", DATA_BUCKET),
            static_bucket: env.or("SEAWEEDFS_STATIC_BUCKET", STATIC_BUCKET),
            bucket_quota_mb,
            wait: env.seconds("SEAWEEDFS_WAIT_SECONDS", DEFAULT_WAIT.as_secs())?,
            timeout: env.seconds("SEAWEEDFS_TIMEOUT_SECONDS", DEFAULT_TIMEOUT.as_secs())?,
        })
    }
}

/// Runs the SeaweedFS setup (see the module documentation).
pub async fn run_seaweedfs_setup(cfg: SeaweedfsSetupConfig) -> Result<SetupReport, SetupError> {
    let started = Instant::now();
    tracing::info!(s3 = %cfg.s3_url, filer = %cfg.filer_url, user = %cfg.user.access_key, "seaweedfs setup");
    let filer = Filer::new(&cfg.filer_url, cfg.timeout)?;
    let s3 = S3Client::new(&cfg.s3_url, cfg.user.clone(), cfg.timeout)?;
    wait_for("seaweedfs filer", &cfg.filer_url, cfg.wait, || async {
        match filer.get("/healthz", "wait for the filer").await {
            Ok((StatusCode::OK, _)) => Ok(Probe::Ready),
            Ok((status, _)) => Ok(Probe::NotYet(format!("/healthz answered {status}"))),
            Err(e) if is_transport(&e) => Ok(Probe::NotYet(e.to_string())),
            Err(e) => Err(e),
        }
    })
    .await?;
    let mut report = SetupReport::default();

    let buckets = [cfg.data_bucket.as_str(), cfg.static_bucket.as_str()];
    let user_actions: Vec<String> = USER_ACTIONS
        .iter()
        .flat_map(|a| buckets.iter().map(move |b| format!("{a}:{b}")))
        .collect();
    let outcome = ensure_identity(
        &filer,
        &cfg.user.access_key,
        Some((&cfg.user.access_key, &cfg.user.secret_key)),
        &user_actions,
    )
    .await?;
    report.record(format!("identity {}", cfg.user.access_key), outcome);
    let anonymous_actions = [
        format!("Read:{}", cfg.static_bucket),
        format!("List:{}", cfg.static_bucket),
    ];
    let outcome = ensure_identity(&filer, ANONYMOUS, None, &anonymous_actions).await?;
    report.record(format!("identity {ANONYMOUS}"), outcome);

    // The gateway reloads identities shortly after the filer has them. Until then a gateway
    // that had no identity accepts any signature, so the user's key signing is not enough:
    // the same key with a wrong secret must be refused too (authentication is on).
    let wrong_secret = S3Credentials::new(
        cfg.user.access_key.clone(),
        Secret::new(format!("{}-wrong", cfg.user.secret_key.expose())),
    );
    let impostor = S3Client::new(&cfg.s3_url, wrong_secret, cfg.timeout)?;
    wait_for("seaweedfs s3", &cfg.s3_url, cfg.wait, || async {
        match s3.list_buckets().await {
            Ok(_) => {}
            Err(e) if is_transport(&e) || is_key_refused(&e) => {
                return Ok(Probe::NotYet(format!(
                    "{} not accepted yet: {e}",
                    cfg.user.access_key
                )));
            }
            Err(e) => return Err(e),
        }
        match impostor.list_buckets().await {
            Err(e) if is_key_refused(&e) => Ok(Probe::Ready),
            Ok(_) => Ok(Probe::NotYet(
                "a wrong secret is still accepted: authentication not on yet".to_owned(),
            )),
            Err(e) if is_transport(&e) => Ok(Probe::NotYet(e.to_string())),
            Err(e) => Err(e),
        }
    })
    .await?;

    for bucket in buckets {
        let outcome = s3.ensure_bucket(bucket).await?;
        report.record(format!("bucket {bucket}"), outcome);
        let outcome = ensure_quota(&s3, bucket, cfg.bucket_quota_mb).await?;
        report.record(format!("quota of {bucket}"), outcome);
    }
    let outcome = s3
        .ensure_object(
            &cfg.static_bucket,
            INDEX_KEY,
            index_page()?.as_bytes().to_vec(),
            "text/html",
        )
        .await?;
    report.record(format!("object {}/{INDEX_KEY}", cfg.static_bucket), outcome);

    for account in &cfg.accounts {
        ensure_account(&filer, &cfg, account, &mut report).await?;
    }

    report.elapsed = started.elapsed();
    tracing::info!(%report, "seaweedfs setup done");
    Ok(report)
}

/// Another component's account: its identity with the user's actions on its bucket, then,
/// once the gateway accepts its key, the bucket and its quota, made as the account itself.
async fn ensure_account(
    filer: &Filer,
    cfg: &SeaweedfsSetupConfig,
    account: &StoreAccount,
    report: &mut SetupReport,
) -> Result<(), SetupError> {
    let name = &account.credentials.access_key;
    let actions: Vec<String> = USER_ACTIONS
        .iter()
        .map(|a| format!("{a}:{}", account.bucket))
        .collect();
    let outcome = ensure_identity(
        filer,
        name,
        Some((name, &account.credentials.secret_key)),
        &actions,
    )
    .await?;
    report.record(format!("identity {name}"), outcome);
    let s3 = S3Client::new(&cfg.s3_url, account.credentials.clone(), cfg.timeout)?;
    // Authentication is on (the user's wait): a key not yet loaded, or a secret not yet
    // reloaded, is refused until the gateway reads the identity.
    wait_for("seaweedfs s3", &cfg.s3_url, cfg.wait, || async {
        match s3.list_buckets().await {
            // AccessDenied: authenticated, not allowed: the key is known
            Ok(_) => Ok(Probe::Ready),
            Err(SetupError::S3 { code, .. }) if code == "AccessDenied" => Ok(Probe::Ready),
            Err(e) if is_transport(&e) || is_key_refused(&e) => {
                Ok(Probe::NotYet(format!("{name} not accepted yet: {e}")))
            }
            Err(e) => Err(e),
        }
    })
    .await?;
    let outcome = s3.ensure_bucket(&account.bucket).await?;
    report.record(format!("bucket {}", account.bucket), outcome);
    let outcome = ensure_quota(&s3, &account.bucket, account.quota_mb).await?;
    report.record(format!("quota of {}", account.bucket), outcome);
    Ok(())
}

/// The identity `name` exists, enabled, with `credential` (access key, secret key) active and
/// `actions` among its actions. What else it holds stays.
pub(super) async fn ensure_identity(
    filer: &Filer,
    name: &str,
    credential: Option<(&str, &Secret)>,
    actions: &[String],
) -> Result<Outcome, SetupError> {
    let path = format!("{IDENTITIES}/{name}.json");
    let step = format!("identity {name}");
    let current = match filer.get(&path, &step).await? {
        (StatusCode::OK, body) => Some(serde_json::from_slice::<Value>(&body).map_err(
            |source| SetupError::Json {
                step: step.clone(),
                source,
            },
        )?),
        (StatusCode::NOT_FOUND, _) => None,
        (status, _) => {
            return Err(SetupError::Status {
                step,
                status: status.as_u16(),
                body: String::new(),
            });
        }
    };
    let (wanted, outcome) = merged_identity(current.as_ref(), name, credential, actions);
    if outcome != Outcome::Unchanged {
        filer.put_json(&path, &wanted, &step).await?;
    }
    Ok(outcome)
}

/// The identity `name` as the filer holds it, `None` when there is none.
pub(super) async fn read_identity(filer: &Filer, name: &str) -> Result<Option<Value>, SetupError> {
    let path = format!("{IDENTITIES}/{name}.json");
    let step = format!("identity {name}");
    match filer.get(&path, &step).await? {
        (StatusCode::OK, body) => Ok(Some(serde_json::from_slice::<Value>(&body).map_err(
            |source| SetupError::Json {
                step: step.clone(),
                source,
            },
        )?)),
        (StatusCode::NOT_FOUND, _) => Ok(None),
        (status, _) => Err(SetupError::Status {
            step,
            status: status.as_u16(),
            body: String::new(),
        }),
    }
}

/// The identity `name` without `actions` (others' actions stay): whether that changed it.
pub(super) async fn remove_identity_actions(
    filer: &Filer,
    name: &str,
    actions: &[String],
) -> Result<Outcome, SetupError> {
    let Some(mut identity) = read_identity(filer, name).await? else {
        return Ok(Outcome::Unchanged);
    };
    let have: Vec<Value> = identity["actions"].as_array().cloned().unwrap_or_default();
    let kept: Vec<Value> = have
        .iter()
        .filter(|a| !actions.iter().any(|x| a.as_str() == Some(x)))
        .cloned()
        .collect();
    if kept.len() == have.len() {
        return Ok(Outcome::Unchanged);
    }
    identity["actions"] = Value::Array(kept);
    filer
        .put_json(
            &format!("{IDENTITIES}/{name}.json"),
            &identity,
            &format!("identity {name}"),
        )
        .await?;
    Ok(Outcome::Updated)
}

/// `current` with what this setup needs added, and whether that changed anything.
fn merged_identity(
    current: Option<&Value>,
    name: &str,
    credential: Option<(&str, &Secret)>,
    actions: &[String],
) -> (Value, Outcome) {
    let Some(current) = current.filter(|c| c.is_object()) else {
        let mut identity = json!({"name": name, "actions": actions});
        if let Some((access_key, secret_key)) = credential {
            identity["credentials"] = json!([{
                "access_key": access_key,
                "secret_key": secret_key.expose(),
                "status": "Active",
            }]);
        }
        return (identity, Outcome::Created);
    };
    let mut identity = current.clone();
    identity["name"] = json!(name);
    if identity.get("disabled").and_then(Value::as_bool) == Some(true) {
        identity["disabled"] = json!(false);
    }
    let mut have: Vec<Value> = identity["actions"].as_array().cloned().unwrap_or_default();
    for action in actions {
        if !have.iter().any(|a| a.as_str() == Some(action)) {
            have.push(json!(action));
        }
    }
    identity["actions"] = Value::Array(have);
    if let Some((access_key, secret_key)) = credential {
        let mut credentials = identity["credentials"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let wanted = json!({
            "access_key": access_key,
            "secret_key": secret_key.expose(),
            "status": "Active",
        });
        match credentials
            .iter_mut()
            .find(|c| c["access_key"].as_str() == Some(access_key))
        {
            Some(existing) => *existing = wanted,
            None => credentials.push(wanted),
        }
        identity["credentials"] = Value::Array(credentials);
    }
    let outcome = if &identity == current {
        Outcome::Unchanged
    } else {
        Outcome::Updated
    };
    (identity, outcome)
}

/// The bucket's quota is `quota_mb` MiB, enforced.
pub(super) async fn ensure_quota(
    s3: &S3Client,
    bucket: &str,
    quota_mb: u32,
) -> Result<Outcome, SetupError> {
    let operation = format!("quota of {bucket}");
    let current = s3
        .send(
            &operation,
            S3Request::new(Method::GET, format!("/{bucket}")).query("seaweedfs-quota", ""),
        )
        .await?;
    if !current.is_success() {
        return Err(current.into_error(&operation));
    }
    let current: Value =
        serde_json::from_slice(&current.body).map_err(|source| SetupError::Json {
            step: operation.clone(),
            source,
        })?;
    let wanted_bytes = u64::from(quota_mb) * 1024 * 1024;
    // answered in bytes: {"quota_size": n, "quota_unit": "B", "quota_enabled": bool}
    let size = current["quota_size"].as_u64().unwrap_or(0);
    let enabled = current["quota_enabled"].as_bool().unwrap_or(false);
    let outcome = match (size, enabled) {
        (s, true) if s == wanted_bytes => return Ok(Outcome::Unchanged),
        (0, _) => Outcome::Created,
        _ => Outcome::Updated,
    };
    let body = json!({"quota_size": quota_mb, "quota_unit": "MB", "quota_enabled": true});
    let response = s3
        .send(
            &operation,
            S3Request::new(Method::PUT, format!("/{bucket}"))
                .query("seaweedfs-quota", "")
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.to_string()),
        )
        .await?;
    if !response.is_success() {
        return Err(response.into_error(&operation));
    }
    Ok(outcome)
}

/// The filer's HTTP API: files by path.
pub(super) struct Filer {
    http: HttpClient,
    base: String,
}

impl Filer {
    pub(super) fn new(url: &str, timeout: Duration) -> Result<Filer, SetupError> {
        let base = S3Client::anonymous(url, timeout)?.endpoint().to_owned();
        Ok(Filer {
            http: HttpClient::new(timeout),
            base,
        })
    }

    fn uri(&self, path: &str, step: &str) -> Result<Uri, SetupError> {
        format!("{}{path}", self.base)
            .parse()
            .map_err(|e| SetupError::Http {
                step: step.to_owned(),
                reason: format!("bad filer path: {e}"),
            })
    }

    pub(super) async fn get(
        &self,
        path: &str,
        step: &str,
    ) -> Result<(StatusCode, Bytes), SetupError> {
        let request = Request::get(self.uri(path, step)?)
            .body(Full::new(Bytes::new()))
            .map_err(|e| SetupError::Http {
                step: step.to_owned(),
                reason: e.to_string(),
            })?;
        let response = self.http.send(step, request).await?;
        Ok((response.status, response.body))
    }

    /// Deletes a file, or a directory with everything under it: returns whether there was
    /// one (the filer answers a delete of a missing path with success: asked first).
    pub(super) async fn delete(&self, path: &str, step: &str) -> Result<bool, SetupError> {
        if self.get(path, step).await?.0 == StatusCode::NOT_FOUND {
            return Ok(false);
        }
        let request = Request::delete(self.uri(
            &format!("{path}?recursive=true&ignoreRecursiveError=true"),
            step,
        )?)
        .body(Full::new(Bytes::new()))
        .map_err(|e| SetupError::Http {
            step: step.to_owned(),
            reason: e.to_string(),
        })?;
        let response = self.http.send(step, request).await?;
        match response.status {
            StatusCode::NOT_FOUND => Ok(false),
            status if status.is_success() => Ok(true),
            status => Err(SetupError::Status {
                step: step.to_owned(),
                status: status.as_u16(),
                body: String::new(),
            }),
        }
    }

    /// Writes a file as a multipart upload: only that form makes the filer keep a file under
    /// `/etc` inside its metadata, where SeaweedFS reads identities from (a plain PUT stores
    /// it in volume chunks, and the gateway then finds the identity empty).
    pub(super) async fn put_json(
        &self,
        path: &str,
        value: &Value,
        step: &str,
    ) -> Result<(), SetupError> {
        let boundary: String = {
            use rand::Rng;
            let mut rng = rand::rng();
            (0..32)
                .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
                .collect()
        };
        let name = path.rsplit('/').next().unwrap_or(path);
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/json\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(value.to_string().as_bytes());
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let request = Request::post(self.uri(path, step)?)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| SetupError::Http {
                step: step.to_owned(),
                reason: e.to_string(),
            })?;
        let response = self.http.send(step, request).await?;
        if response.status.is_success() {
            Ok(())
        } else {
            // the filer's error bodies name the path, never the content
            Err(SetupError::Status {
                step: step.to_owned(),
                status: response.status.as_u16(),
                body: String::from_utf8_lossy(&response.body)
                    .chars()
                    .take(200)
                    .collect(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::tests::assert_round_trip;

    fn cfg() -> SeaweedfsSetupConfig {
        SeaweedfsSetupConfig::new(
            "http://seaweedfs.ns.svc.cluster.local:9000".into(),
            "http://seaweedfs.ns.svc.cluster.local:9090".into(),
            S3Credentials::new("nuvolaris", Secret::new("user-S3cret")),
            512,
        )
    }

    #[test]
    fn settings_round_trip_through_the_job_environment() {
        assert_round_trip(&cfg());
        let mut with_account = cfg();
        with_account.accounts = vec![StoreAccount {
            credentials: S3Credentials::new("miniomilvus", Secret::new("milvus-S3cret")),
            bucket: "vectors".into(),
            quota_mb: 10240,
        }];
        assert_round_trip(&with_account);
        assert!(
            with_account
                .to_env()
                .plain
                .iter()
                .all(|(_, v)| !v.contains("S3cret"))
        );
        let env = cfg().to_env();
        assert!(env.plain.iter().all(|(_, v)| !v.contains("S3cret")));
        let mut vars = env.vars();
        vars.push(("SEAWEEDFS_BUCKET_QUOTA_MB".into(), "lots".into()));
        vars.retain(|(k, v)| k != "SEAWEEDFS_BUCKET_QUOTA_MB" || v == "lots");
        let err = SeaweedfsSetupConfig::from_vars(vars).expect_err("not a number");
        assert!(
            err.to_string().contains("SEAWEEDFS_BUCKET_QUOTA_MB"),
            "{err}"
        );
    }

    #[test]
    fn identities_are_merged_not_replaced() {
        let secret = Secret::new("s3cret-1");
        let actions = vec!["Read:web".to_owned(), "Write:web".to_owned()];
        let (created, outcome) =
            merged_identity(None, "nuvolaris", Some(("nuvolaris", &secret)), &actions);
        assert_eq!(outcome, Outcome::Created);
        assert_eq!(created["credentials"][0]["secret_key"], "s3cret-1");
        let (same, outcome) = merged_identity(
            Some(&created),
            "nuvolaris",
            Some(("nuvolaris", &secret)),
            &actions,
        );
        assert_eq!((same, outcome), (created.clone(), Outcome::Unchanged));

        // someone added an action and a key; the password changed
        let mut edited = created.clone();
        edited["actions"]
            .as_array_mut()
            .expect("actions")
            .push(json!("Read:other"));
        edited["credentials"]
            .as_array_mut()
            .expect("credentials")
            .push(json!({"access_key": "extra", "secret_key": "x", "status": "Active"}));
        let new_secret = Secret::new("s3cret-2");
        let (merged, outcome) = merged_identity(
            Some(&edited),
            "nuvolaris",
            Some(("nuvolaris", &new_secret)),
            &actions,
        );
        assert_eq!(outcome, Outcome::Updated);
        assert_eq!(merged["actions"].as_array().map(Vec::len), Some(3));
        assert_eq!(merged["credentials"].as_array().map(Vec::len), Some(2));
        assert_eq!(merged["credentials"][0]["secret_key"], "s3cret-2");

        let (anonymous, _) = merged_identity(None, "anonymous", None, &actions);
        assert!(anonymous.get("credentials").is_none());
    }
}
