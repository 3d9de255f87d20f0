//! Milvus's configuration: a standalone Milvus on etcd and the object store.

use super::{ConfigError, Extract, GeneratedKey, GeneratedSecrets, LiveSource, at_least_one};
use crate::crd::{ComponentId, WhiskSpec};
use crate::secret::Secret;

pub const MILVUS_IMAGE: &str = "milvusdb/milvus:v2.5.2";
pub const NAME: &str = "nuvolaris-milvus";
pub const PORT: u16 = 19530;
/// The object store bucket Milvus keeps its segments in.
pub const BUCKET: &str = "vectors";
/// The object store account Milvus uses.
pub const S3_USER: &str = "miniomilvus";
/// The database, user and role the setup keeps (`milvus_*` of `cm/config`).
pub const DATABASE: &str = "nuvolaris";
pub const USER: &str = "nuvolaris";
pub const ROLE: &str = "nuvolaris_role";

/// `defaultRootPassword` of the original's `user.yaml` (the ConfigMap `nuvolaris-milvus`; here a
/// Secret). Milvus keeps it in etcd after the first start: a new one would lock the setup out.
pub const ROOT_PASSWORD: GeneratedKey = GeneratedKey::password("milvus-root-password").kept_in(&[
    LiveSource::secret("milvus-init-auth-", "MILVUS_ROOT_PASSWORD"),
    LiveSource::ConfigMap {
        name: NAME,
        key: "user.yaml",
        extract: Extract::Regex(r"(?m)^\s*defaultRootPassword:[ \t]*(\S+)[ \t]*$"),
    },
]);
/// The `nuvolaris` user's: the original published it in `milvus_token` (`nuvolaris:<password>`).
pub const NUVOLARIS_PASSWORD: GeneratedKey = GeneratedKey::password("milvus-nuvolaris-password")
    .kept_in(&[
        LiveSource::secret("milvus-init-auth-", "MILVUS_USER_PASSWORD"),
        LiveSource::OpsAnnotation {
            key: "milvus_token",
            extract: Extract::Regex(r"^[^:]*:(.+)$"),
        },
    ]);
/// The object store account `miniomilvus`'s: the original's Secret `nuvolaris-milvus-s3-secret`.
pub const S3_PASSWORD: GeneratedKey =
    GeneratedKey::password("milvus-s3-password").kept_in(&[LiveSource::secret(
        "nuvolaris-milvus-s3-secret",
        "secretkey",
    )]);
pub const GENERATED: &[GeneratedKey] = &[ROOT_PASSWORD, NUVOLARIS_PASSWORD, S3_PASSWORD];

/// The object store Milvus uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ObjectStore {
    Minio,
    Seaweedfs,
}

impl ObjectStore {
    pub fn component(self) -> ComponentId {
        match self {
            ObjectStore::Minio => ComponentId::Minio,
            ObjectStore::Seaweedfs => ComponentId::Seaweedfs,
        }
    }

    /// The S3 endpoint's Service and port.
    pub fn endpoint(self) -> (&'static str, u16) {
        match self {
            ObjectStore::Minio => ("nuvolaris-minio", 9000),
            ObjectStore::Seaweedfs => ("seaweedfs", 9000),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Milvus {
    pub image: String,
    pub replicas: u32,
    pub volume_size_gi: u32,
    pub max_database_num: u32,
    pub max_role_num: u32,
    pub max_user_num: u32,
    /// SeaweedFS only: the bucket's quota in MB.
    pub bucket_quota_mb: u32,
    pub object_store: ObjectStore,
    #[serde(skip)]
    pub root_password: Secret,
    #[serde(skip)]
    pub nuvolaris_password: Secret,
    #[serde(skip)]
    pub s3_password: Secret,
}

impl Milvus {
    pub(super) fn from_spec(
        spec: &WhiskSpec,
        secrets: &GeneratedSecrets,
    ) -> Result<Milvus, ConfigError> {
        let milvus = spec.milvus.clone().unwrap_or_default();
        let volumes = milvus.volume_size.clone().unwrap_or_default();
        let passwords = milvus.password.clone().unwrap_or_default();
        let proxy = milvus.proxy.clone().unwrap_or_default();
        let seaweedfs = spec
            .components
            .as_ref()
            .and_then(|c| c.seaweedfs)
            .unwrap_or(false);
        Ok(Milvus {
            image: MILVUS_IMAGE.to_owned(),
            replicas: at_least_one(milvus.replicas, "milvus.replicas", 1)?,
            volume_size_gi: at_least_one(volumes.cluster, "milvus.volume-size.cluster", 10)?,
            max_database_num: at_least_one(
                milvus.root_coord.and_then(|r| r.max_database_num),
                "milvus.root-coord.max-database-num",
                64,
            )?,
            max_role_num: at_least_one(proxy.max_role_num, "milvus.proxy.max-role-num", 10)?,
            max_user_num: at_least_one(proxy.max_user_num, "milvus.proxy.max-user-num", 100)?,
            bucket_quota_mb: at_least_one(volumes.bucket, "milvus.volume-size.bucket", 10240)?,
            object_store: if seaweedfs {
                ObjectStore::Seaweedfs
            } else {
                ObjectStore::Minio
            },
            root_password: secrets.given_or(passwords.root.as_ref(), ROOT_PASSWORD)?,
            nuvolaris_password: secrets.given_or(
                milvus.nuvolaris.as_ref().and_then(|n| n.password.as_ref()),
                NUVOLARIS_PASSWORD,
            )?,
            s3_password: secrets.given_or(passwords.s3.as_ref(), S3_PASSWORD)?,
        })
        .and_then(Milvus::check_passwords)
    }

    /// Milvus clients send `user:password` in an HTTP header or gRPC metadata: control
    /// characters cannot be carried there, so such a password could never be used.
    fn check_passwords(self) -> Result<Milvus, ConfigError> {
        for (field, password) in [
            ("milvus.password.root", &self.root_password),
            ("milvus.nuvolaris.password", &self.nuvolaris_password),
        ] {
            if password.expose().chars().any(char::is_control) {
                return Err(ConfigError::invalid(
                    field,
                    format!(
                        "{field} cannot hold control characters (newlines, tabs): Milvus clients send it in a header"
                    ),
                ));
            }
        }
        // The store's account: MinIO refuses secret keys under 8 characters (never echo it).
        if self.s3_password.expose().len() < 8 {
            return Err(ConfigError::invalid(
                "milvus.password.s3",
                "milvus.password.s3 must have at least 8 characters (an object store secret key)",
            ));
        }
        Ok(self)
    }
}
