//! etcd's configuration (the metadata store of Milvus).

use super::{ConfigError, GeneratedKey, GeneratedSecrets, LiveSource, at_least_one};
use crate::crd::WhiskSpec;
use crate::secret::Secret;

pub const ETCD_IMAGE: &str = "docker.io/bitnamilegacy/etcd:3.5.17-debian-12-r0";
pub const NAME: &str = "nuvolaris-etcd";
pub const CLIENT_PORT: u16 = 2379;
pub const ROOT_USER: &str = "root";

/// The root password: `nuvolaris-etcd-secret` in the original, `nuvolaris-etcd-secret-<hash>`
/// here (etcd keeps it in its data: a new one would lock Milvus out).
pub const ROOT_PASSWORD: GeneratedKey = GeneratedKey::password("etcd-root-password")
    .kept_in(&[LiveSource::secret("nuvolaris-etcd-secret", "rootPassword")]);
/// The key etcd signs its JWT auth tokens with (the original shipped one fixed RSA key to
/// everyone: not adopted; tokens are short-lived, a new key only makes clients log in again).
pub const JWT_KEY: GeneratedKey = GeneratedKey::ec_private_key("etcd-jwt-key");
pub const GENERATED: &[GeneratedKey] = &[ROOT_PASSWORD, JWT_KEY];

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Etcd {
    pub image: String,
    pub replicas: u32,
    pub volume_size_gi: u32,
    /// `ETCD_AUTO_COMPACTION_RETENTION` (hours, or a duration such as `30m`).
    pub auto_compaction_retention: String,
    pub quota_backend_bytes: u64,
    pub memory_request: String,
    pub memory_limit: String,
    #[serde(skip)]
    pub root_password: Secret,
    #[serde(skip)]
    pub jwt_key: Secret,
}

impl Etcd {
    pub(super) fn from_spec(
        spec: &WhiskSpec,
        secrets: &GeneratedSecrets,
    ) -> Result<Etcd, ConfigError> {
        let etcd = spec.etcd().cloned().unwrap_or_default();
        let resources = etcd.resources.clone().unwrap_or_default();
        let retention = etcd
            .auto_compaction_retention()
            .map(|r| r.as_text())
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| "1".to_owned());
        if !retention
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.')
        {
            return Err(ConfigError::invalid(
                "etcd.auto-compaction-retention",
                format!(
                    "etcd.auto-compaction-retention must be hours or a duration such as 30m, not {retention:?}"
                ),
            ));
        }
        let quota = match etcd.quota_backend_bytes {
            None => 2_147_483_648,
            Some(q) => u64::try_from(q).ok().filter(|q| *q > 0).ok_or_else(|| {
                ConfigError::invalid(
                    "etcd.quota-backend-bytes",
                    "etcd.quota-backend-bytes must be a positive number of bytes",
                )
            })?,
        };
        Ok(Etcd {
            image: ETCD_IMAGE.to_owned(),
            replicas: at_least_one(etcd.replicas, "etcd.replicas", 1)?,
            volume_size_gi: at_least_one(etcd.volume_size, "etcd.volume-size", 5)?,
            auto_compaction_retention: retention,
            quota_backend_bytes: quota,
            memory_request: resources.mem_req.unwrap_or_else(|| "256Mi".to_owned()),
            memory_limit: resources.mem_lim.unwrap_or_else(|| "384Mi".to_owned()),
            root_password: secrets.given_or(
                etcd.root.as_ref().and_then(|r| r.password.as_ref()),
                ROOT_PASSWORD,
            )?,
            jwt_key: secrets.get(JWT_KEY)?,
        })
    }

    /// The client endpoints of the members, `<pod>.<headless service>.<namespace>.svc…:2379`.
    pub fn endpoints(&self, namespace: &str) -> Vec<String> {
        (0..self.replicas)
            .map(|i| {
                format!("{NAME}-{i}.{NAME}-headless.{namespace}.svc.cluster.local:{CLIENT_PORT}")
            })
            .collect()
    }
}
