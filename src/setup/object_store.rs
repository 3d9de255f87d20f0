//! What the MinIO and SeaweedFS setups share: the default page of the static bucket, the
//! bounded wait for a service and the accounts other components ask the store for
//! ([`StoreAccount`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use serde_json::{Value, json};

use super::s3::S3Credentials;
use super::{Backoff, Env, EnvVar, JobCommand, Secret, SetupEnv, SetupError};

/// The object every static bucket starts with.
pub const INDEX_KEY: &str = "index.html";

/// The default `index.html` (embedded from `deploy/content/index.html`).
pub fn index_page() -> Result<&'static str, SetupError> {
    crate::assets::file("deploy/content/index.html").ok_or(SetupError::MissingEnv(
        "embedded deploy/content/index.html (a build defect)",
    ))
}

/// What one readiness probe found.
pub(crate) enum Probe {
    Ready,
    /// Not yet: why, for the final error.
    NotYet(String),
}

/// Probes until ready, with backoff, for at most `wait`. A probe's `Err` is final.
pub(crate) async fn wait_for<F, Fut>(
    service: &'static str,
    address: &str,
    wait: Duration,
    mut probe: F,
) -> Result<(), SetupError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Probe, SetupError>>,
{
    let mut backoff = Backoff::new(wait);
    loop {
        let last_error = match probe().await? {
            Probe::Ready => return Ok(()),
            Probe::NotYet(reason) => reason,
        };
        tracing::debug!(service, reason = %last_error, "not ready");
        if !backoff.wait().await {
            return Err(SetupError::NotReady {
                service,
                address: address.to_owned(),
                seconds: wait.as_secs(),
                last_error,
            });
        }
    }
}

/// S3 error codes that mean "this key is not (yet) known or not this secret".
pub(crate) fn is_key_refused(error: &SetupError) -> bool {
    matches!(
        error,
        SetupError::S3 { code, .. }
            if code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch"
    )
}

/// Transport errors (connection refused while the server starts, timeouts).
pub(crate) fn is_transport(error: &SetupError) -> bool {
    matches!(error, SetupError::Http { .. })
}

/// An account of its own, with a bucket of its own, that a component using the object store
/// asks for (Milvus: `miniomilvus` on `vectors`, see `Component::store_accounts`). The store's
/// setup creates both and gives the account every S3 action on that bucket and nothing else;
/// a changed secret key is applied. SeaweedFS gives the bucket `quota_mb` MiB; MinIO buckets
/// have no quota (as in the original).
#[derive(Debug, Clone, PartialEq)]
pub struct StoreAccount {
    pub credentials: S3Credentials,
    pub bucket: String,
    pub quota_mb: u32,
}

/// How the accounts travel in a setup Job: names, buckets and quotas as a JSON list in the
/// plain variable `list`, the secret keys as a JSON object (access key → secret key) in the
/// secret variable `secret_keys`, which the Job reads from its generated Secret.
pub(crate) struct AccountVars {
    pub list: &'static str,
    pub secret_keys: &'static str,
}

impl AccountVars {
    /// The two variables, for the command's `EnvVar` list (both optional: no account).
    pub(crate) const fn declared(&self) -> [EnvVar; 2] {
        [
            EnvVar {
                name: self.list,
                secret: false,
                default: Some("[]"),
            },
            EnvVar {
                name: self.secret_keys,
                secret: true,
                default: Some("{}"),
            },
        ]
    }

    /// `env` with the accounts, if any.
    pub(crate) fn write<C: JobCommand>(
        &self,
        env: SetupEnv<C>,
        accounts: &[StoreAccount],
    ) -> SetupEnv<C> {
        if accounts.is_empty() {
            return env;
        }
        let list: Vec<Value> = accounts
            .iter()
            .map(|a| json!({"user": a.credentials.access_key, "bucket": a.bucket, "quota_mb": a.quota_mb}))
            .collect();
        let keys: serde_json::Map<String, Value> = accounts
            .iter()
            .map(|a| {
                (
                    a.credentials.access_key.clone(),
                    json!(a.credentials.secret_key.expose()),
                )
            })
            .collect();
        env.value(self.list, Value::Array(list)).secret(
            self.secret_keys,
            &Secret::new(Value::Object(keys).to_string()),
        )
    }

    /// The accounts in the environment, checked: names that name a file and an S3 bucket,
    /// each with its secret key, none twice and none the store's own user (`own_user`).
    pub(crate) fn read<F: Fn(&str) -> Option<String>>(
        &self,
        env: &Env<F>,
        own_user: &str,
    ) -> Result<Vec<StoreAccount>, SetupError> {
        let invalid = |name: &'static str, reason: String| SetupError::InvalidEnv { name, reason };
        let Some(list) = env.opt(self.list) else {
            return Ok(Vec::new());
        };
        let list: Vec<AccountEntry> = serde_json::from_str(&list).map_err(|e| {
            invalid(
                self.list,
                format!("expected a JSON list of {{user, bucket, quota_mb}}: {e}"),
            )
        })?;
        if list.is_empty() {
            return Ok(Vec::new());
        }
        // Never echo the secret keys' JSON: serde's message may quote it.
        let keys: BTreeMap<String, String> = env
            .secret(self.secret_keys)
            .ok()
            .and_then(|keys| serde_json::from_str(keys.expose()).ok())
            .ok_or_else(|| {
                invalid(
                    self.secret_keys,
                    "expected a JSON object of access key to secret key".into(),
                )
            })?;
        let mut accounts: Vec<StoreAccount> = Vec::new();
        for entry in list {
            if !is_account_name(&entry.user) || entry.user == own_user {
                return Err(invalid(
                    self.list,
                    format!(
                        "account {:?}: letters, digits, '-', '_' and '.' only, at least 3, and not the store's own user",
                        entry.user
                    ),
                ));
            }
            if !is_bucket_name(&entry.bucket) {
                return Err(invalid(
                    self.list,
                    format!(
                        "bucket {:?} of {}: 3 to 63 lowercase letters, digits, '-' and '.'",
                        entry.bucket, entry.user
                    ),
                ));
            }
            if entry.quota_mb == 0 {
                return Err(invalid(
                    self.list,
                    format!("quota of bucket {}: at least 1 MiB", entry.bucket),
                ));
            }
            if accounts
                .iter()
                .any(|a| a.credentials.access_key == entry.user || a.bucket == entry.bucket)
            {
                return Err(invalid(
                    self.list,
                    format!("account {} or bucket {} twice", entry.user, entry.bucket),
                ));
            }
            let secret_key = keys
                .get(&entry.user)
                .filter(|k| !k.is_empty())
                .ok_or_else(|| {
                    invalid(
                        self.secret_keys,
                        format!("no secret key for account {}", entry.user),
                    )
                })?;
            accounts.push(StoreAccount {
                credentials: S3Credentials::new(entry.user, Secret::new(secret_key.clone())),
                bucket: entry.bucket,
                quota_mb: entry.quota_mb,
            });
        }
        Ok(accounts)
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountEntry {
    user: String,
    bucket: String,
    quota_mb: u32,
}

/// An access key that is also a file name (SeaweedFS keeps one file per identity) and long
/// enough for MinIO (3 characters at least).
fn is_account_name(name: &str) -> bool {
    (3..=128).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// An S3 bucket name (the rules both stores apply).
fn is_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-.".contains(c))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::SetupStep;

    const VARS: AccountVars = AccountVars {
        list: "T_ACCOUNTS",
        secret_keys: "T_ACCOUNT_SECRET_KEYS",
    };

    fn read(list: &str, keys: &str) -> Result<Vec<StoreAccount>, SetupError> {
        let vars: BTreeMap<String, String> = [
            (VARS.list.to_owned(), list.to_owned()),
            (VARS.secret_keys.to_owned(), keys.to_owned()),
        ]
        .into_iter()
        .collect();
        VARS.read(&Env(|k: &str| vars.get(k).cloned()), "nuvolaris")
    }

    #[test]
    fn accounts_travel_as_a_plain_list_and_secret_keys() {
        let account = StoreAccount {
            credentials: S3Credentials::new("miniomilvus", Secret::new(" S3cret\"{}:@\n ")),
            bucket: "vectors".into(),
            quota_mb: 7,
        };
        let env = VARS.write(
            SetupEnv::new(SetupStep::Minio),
            std::slice::from_ref(&account),
        );
        assert_eq!(env.secret.len(), 1);
        assert!(!env.plain[0].1.contains("S3cret"), "{:?}", env.plain);
        let vars: BTreeMap<String, String> = env.vars().into_iter().collect();
        let read = VARS
            .read(&Env(|k: &str| vars.get(k).cloned()), "nuvolaris")
            .expect("reads back");
        assert_eq!(read, [account]);
        assert!(
            VARS.write(SetupEnv::new(SetupStep::Minio), &[])
                .vars()
                .is_empty()
        );
        let none = VARS.read(&Env(|_: &str| None), "nuvolaris");
        assert_eq!(none.expect("no account"), []);
    }

    #[test]
    fn bad_accounts_are_refused_with_the_variable_named_and_no_secret_shown() {
        let keys = r#"{"miniomilvus":"top-secret"}"#;
        for (list, keys, wanted) in [
            ("not json", keys, "T_ACCOUNTS"),
            (
                r#"[{"user":"m/x","bucket":"vectors","quota_mb":1}]"#,
                keys,
                "T_ACCOUNTS",
            ),
            (
                r#"[{"user":"nuvolaris","bucket":"vectors","quota_mb":1}]"#,
                keys,
                "T_ACCOUNTS",
            ),
            (
                r#"[{"user":"miniomilvus","bucket":"Vectors","quota_mb":1}]"#,
                keys,
                "T_ACCOUNTS",
            ),
            (
                r#"[{"user":"miniomilvus","bucket":"vectors","quota_mb":0}]"#,
                keys,
                "T_ACCOUNTS",
            ),
            (
                r#"[{"user":"miniomilvus","bucket":"vectors","quota_mb":1},{"user":"miniomilvus","bucket":"other","quota_mb":1}]"#,
                keys,
                "T_ACCOUNTS",
            ),
            (
                r#"[{"user":"other","bucket":"vectors","quota_mb":1}]"#,
                keys,
                "T_ACCOUNT_SECRET_KEYS",
            ),
            (
                r#"[{"user":"miniomilvus","bucket":"vectors","quota_mb":1}]"#,
                "top-secret",
                "T_ACCOUNT_SECRET_KEYS",
            ),
        ] {
            let err = read(list, keys).expect_err(list);
            let message = err.to_string();
            assert!(message.contains(wanted), "{list}: {message}");
            assert!(!message.contains("top-secret"), "{message}");
        }
    }
}
