//! MinIO's admin API (`/minio/admin/v3/...`), the calls `mc admin user|policy` make: requests
//! signed like S3 requests (SigV4, service `s3`) as the root user, with the bodies of the user
//! and policy-attachment calls encrypted with the root user's secret key in madmin's format
//! ([`super::sio`]). Written from madmin-go v3.0.109 (`user-commands.go`,
//! `policy-commands.go`), the client of the MinIO server the tests run.

use std::collections::BTreeMap;

use hyper::body::Bytes;
use hyper::{Method, StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};

use super::s3::{S3Client, S3Request, S3Response};
use super::{Secret, SetupError, sio};

const PREFIX: &str = "/minio/admin/v3";

/// What the admin API says about a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub enabled: bool,
    /// The canned policies attached to the user.
    pub policies: Vec<String>,
}

#[derive(Deserialize)]
struct RawUserInfo {
    #[serde(default, rename = "policyName")]
    policy_name: String,
    #[serde(default)]
    status: String,
}

impl From<RawUserInfo> for UserInfo {
    fn from(raw: RawUserInfo) -> UserInfo {
        UserInfo {
            enabled: raw.status == "enabled",
            policies: super::comma_list(&raw.policy_name),
        }
    }
}

/// A MinIO server's admin API, called as its root user.
#[derive(Debug, Clone)]
pub struct MinioAdmin {
    client: S3Client,
}

impl MinioAdmin {
    /// `client` must sign as the root user (or a user with the admin actions).
    pub fn new(client: S3Client) -> Result<MinioAdmin, SetupError> {
        if client.secret_key().is_none() {
            return Err(SetupError::InvalidEnv {
                name: "MinIO admin credentials",
                reason: "the admin API needs signed requests".into(),
            });
        }
        Ok(MinioAdmin { client })
    }

    /// The S3 client it signs with.
    pub fn s3(&self) -> &S3Client {
        &self.client
    }

    /// `/minio/health/ready` answers 200 (the server accepts requests).
    pub async fn ready(&self) -> Result<bool, SetupError> {
        let response = self
            .client
            .send(
                "minio readiness",
                S3Request::new(Method::GET, "/minio/health/ready"),
            )
            .await?;
        Ok(response.status == StatusCode::OK)
    }

    /// `GET user-info`: the user, or `None` when there is no such user.
    pub async fn user_info(&self, user: &str) -> Result<Option<UserInfo>, SetupError> {
        let operation = format!("minio user-info {user}");
        let request =
            S3Request::new(Method::GET, format!("{PREFIX}/user-info")).query("accessKey", user);
        let response = self.client.send(&operation, request).await?;
        if response.status == StatusCode::NOT_FOUND
            || response.error_code().as_deref() == Some("XMinioAdminNoSuchUser")
        {
            return Ok(None);
        }
        let raw: RawUserInfo = json_body(&operation, expect_ok(&operation, response)?)?;
        Ok(Some(raw.into()))
    }

    /// `PUT add-user` (encrypted body): creates the user or sets its secret key and status.
    pub async fn set_user(
        &self,
        user: &str,
        secret_key: &Secret,
        enabled: bool,
    ) -> Result<(), SetupError> {
        let operation = format!("minio add-user {user}");
        let body = json!({
            "secretKey": secret_key.expose(),
            "status": if enabled { "enabled" } else { "disabled" },
        });
        let encrypted = self
            .encrypt(&operation, body.to_string().into_bytes())
            .await?;
        let request = S3Request::new(Method::PUT, format!("{PREFIX}/add-user"))
            .query("accessKey", user)
            .body(encrypted);
        expect_ok(&operation, self.client.send(&operation, request).await?)?;
        Ok(())
    }

    /// `GET list-users` (encrypted answer): every user by access key.
    pub async fn list_users(&self) -> Result<BTreeMap<String, UserInfo>, SetupError> {
        let operation = "minio list-users";
        let response = self
            .client
            .send(
                operation,
                S3Request::new(Method::GET, format!("{PREFIX}/list-users")),
            )
            .await?;
        let encrypted = expect_ok(operation, response)?.body;
        let plain = self.decrypt(operation, encrypted).await?;
        let users: BTreeMap<String, RawUserInfo> =
            serde_json::from_slice(&plain).map_err(|source| SetupError::Json {
                step: operation.to_owned(),
                source,
            })?;
        Ok(users.into_iter().map(|(k, v)| (k, v.into())).collect())
    }

    /// `GET info-canned-policy` (v2): the policy document, or `None` when there is none.
    pub async fn canned_policy(&self, name: &str) -> Result<Option<Value>, SetupError> {
        let operation = format!("minio info-canned-policy {name}");
        let request = S3Request::new(Method::GET, format!("{PREFIX}/info-canned-policy"))
            .query("name", name)
            .query("v", "2");
        let response = self.client.send(&operation, request).await?;
        if response.status == StatusCode::NOT_FOUND
            || response.error_code().as_deref() == Some("XMinioAdminNoSuchPolicy")
        {
            return Ok(None);
        }
        let info: Value = json_body(&operation, expect_ok(&operation, response)?)?;
        Ok(info.get("Policy").cloned())
    }

    /// `PUT add-canned-policy`: creates or replaces the policy (plain JSON body).
    pub async fn add_canned_policy(&self, name: &str, policy: &Value) -> Result<(), SetupError> {
        let operation = format!("minio add-canned-policy {name}");
        let request = S3Request::new(Method::PUT, format!("{PREFIX}/add-canned-policy"))
            .query("name", name)
            .body(policy.to_string());
        expect_ok(&operation, self.client.send(&operation, request).await?)?;
        Ok(())
    }

    /// `POST idp/builtin/policy/attach` (encrypted body and answer): attaches canned policies
    /// to a user. Attaching what is attached already is not an error.
    pub async fn attach_policies(&self, user: &str, policies: &[&str]) -> Result<(), SetupError> {
        let operation = format!("minio attach {} to {user}", policies.join(","));
        let body = json!({"policies": policies, "user": user});
        let encrypted = self
            .encrypt(&operation, body.to_string().into_bytes())
            .await?;
        let request = S3Request::new(Method::POST, format!("{PREFIX}/idp/builtin/policy/attach"))
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(encrypted);
        let response = self.client.send(&operation, request).await?;
        if response.error_code().as_deref() == Some("XMinioAdminPolicyChangeAlreadyApplied") {
            return Ok(());
        }
        expect_ok(&operation, response)?;
        Ok(())
    }

    /// `DELETE remove-user`: returns whether there was such a user.
    pub async fn remove_user(&self, user: &str) -> Result<bool, SetupError> {
        if self.user_info(user).await?.is_none() {
            return Ok(false);
        }
        let operation = format!("minio remove-user {user}");
        let request = S3Request::new(Method::DELETE, format!("{PREFIX}/remove-user"))
            .query("accessKey", user);
        expect_ok(&operation, self.client.send(&operation, request).await?)?;
        Ok(true)
    }

    /// `DELETE remove-canned-policy`: returns whether there was such a policy.
    pub async fn remove_canned_policy(&self, name: &str) -> Result<bool, SetupError> {
        if self.canned_policy(name).await?.is_none() {
            return Ok(false);
        }
        let operation = format!("minio remove-canned-policy {name}");
        let request = S3Request::new(Method::DELETE, format!("{PREFIX}/remove-canned-policy"))
            .query("name", name);
        expect_ok(&operation, self.client.send(&operation, request).await?)?;
        Ok(true)
    }

    /// `GET get-bucket-quota`: the hard quota in bytes, `None` when the bucket has none.
    pub async fn bucket_quota(&self, bucket: &str) -> Result<Option<u64>, SetupError> {
        let operation = format!("minio get-bucket-quota {bucket}");
        let request = S3Request::new(Method::GET, format!("{PREFIX}/get-bucket-quota"))
            .query("bucket", bucket);
        let info: Value = json_body(
            &operation,
            expect_ok(&operation, self.client.send(&operation, request).await?)?,
        )?;
        // newer servers answer `size`, older ones `quota` (both bytes); 0 is no quota
        let bytes = ["size", "quota"]
            .iter()
            .find_map(|k| info.get(*k).and_then(Value::as_u64).filter(|b| *b > 0));
        Ok(bytes)
    }

    /// `PUT set-bucket-quota`: a hard quota of `bytes`, or none with `None` (`mc quota set` /
    /// `mc quota clear`).
    pub async fn set_bucket_quota(
        &self,
        bucket: &str,
        bytes: Option<u64>,
    ) -> Result<(), SetupError> {
        let operation = format!("minio set-bucket-quota {bucket}");
        let bytes = bytes.unwrap_or(0);
        let body = json!({"quota": bytes, "size": bytes, "quotatype": "hard"});
        let request = S3Request::new(Method::PUT, format!("{PREFIX}/set-bucket-quota"))
            .query("bucket", bucket)
            .body(body.to_string());
        expect_ok(&operation, self.client.send(&operation, request).await?)?;
        Ok(())
    }

    /// Argon2id takes ~64 MiB and noticeable CPU: off the async threads.
    async fn encrypt(&self, operation: &str, plain: Vec<u8>) -> Result<Vec<u8>, SetupError> {
        let secret = self.secret();
        let result = tokio::task::spawn_blocking(move || {
            sio::encrypt_data(secret.expose().as_bytes(), &plain)
        })
        .await;
        self.crypto_result(operation, result)
    }

    async fn decrypt(&self, operation: &str, encrypted: Bytes) -> Result<Vec<u8>, SetupError> {
        let secret = self.secret();
        let result = tokio::task::spawn_blocking(move || {
            sio::decrypt_data(secret.expose().as_bytes(), &encrypted)
        })
        .await;
        self.crypto_result(operation, result)
    }

    fn secret(&self) -> Secret {
        // new() refuses a client without credentials
        self.client.secret_key().cloned().unwrap_or_default()
    }

    fn crypto_result(
        &self,
        operation: &str,
        result: Result<Result<Vec<u8>, sio::CryptoError>, tokio::task::JoinError>,
    ) -> Result<Vec<u8>, SetupError> {
        match result {
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(source)) => Err(SetupError::Crypto {
                step: operation.to_owned(),
                source,
            }),
            Err(join) => Err(SetupError::Http {
                step: operation.to_owned(),
                reason: format!("encryption task failed: {join}"),
            }),
        }
    }
}

fn expect_ok(operation: &str, response: S3Response) -> Result<S3Response, SetupError> {
    if response.is_success() {
        Ok(response)
    } else {
        Err(response.into_error(operation))
    }
}

fn json_body<T: serde::de::DeserializeOwned>(
    operation: &str,
    response: S3Response,
) -> Result<T, SetupError> {
    serde_json::from_slice(&response.body).map_err(|source| SetupError::Json {
        step: operation.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_lists_attached_policies() {
        let raw: RawUserInfo = serde_json::from_str(
            r#"{"policyName":"readwrite,nuvolaris_rw_policy","status":"enabled","memberOf":[]}"#,
        )
        .expect("json");
        let info = UserInfo::from(raw);
        assert!(info.enabled);
        assert_eq!(info.policies, ["readwrite", "nuvolaris_rw_policy"]);
        let raw: RawUserInfo = serde_json::from_str(r#"{"status":"disabled"}"#).expect("json");
        assert_eq!(
            UserInfo::from(raw),
            UserInfo {
                enabled: false,
                policies: vec![]
            }
        );
    }

    #[test]
    fn the_admin_api_needs_credentials() {
        let anonymous = S3Client::anonymous("http://minio:9000", std::time::Duration::from_secs(1))
            .expect("endpoint");
        assert!(MinioAdmin::new(anonymous).is_err());
    }
}
