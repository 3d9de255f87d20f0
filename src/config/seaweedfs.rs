//! SeaweedFS's configuration (`spec.seaweedfs`).

use super::storage::{self, StoreRoutes};
use super::{
    ApiHost, ConfigError, Credentials, GeneratedKey, GeneratedSecrets, LiveSource, positive,
};
use crate::crd::WhiskSpec;

/// SeaweedFS 4.53, the version the setup is tested against (the original ran 3.97, which has
/// neither the S3 quota extension nor the per-identity files the setup writes).
pub const SEAWEEDFS_IMAGE: &str = "chrislusf/seaweedfs:4.53";
/// The Service of the S3, filer and master ports.
pub const SERVICE: &str = "seaweedfs";
/// The filer's HTTP port on the Service.
pub const FILER_PORT: u16 = 9090;

/// The `nuvolaris` identity's secret key: the original set it with `weed shell` and published it
/// as `s3_secret_key` (with SeaweedFS on, the annotation is SeaweedFS's).
pub const NUVOLARIS_PASSWORD: GeneratedKey = GeneratedKey::password("seaweedfs-nuvolaris-password")
    .kept_in(&[
        LiveSource::secret("seaweedfs-init-auth-", "SEAWEEDFS_USER_SECRET_KEY"),
        LiveSource::annotation("s3_secret_key"),
    ]);
pub const GENERATED: &[GeneratedKey] = &[NUVOLARIS_PASSWORD];

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Seaweedfs {
    pub image: String,
    pub volume_size_gi: u32,
    /// The quota of each bucket, in MiB.
    pub bucket_quota_mb: u32,
    pub routes: StoreRoutes,
    /// The `nuvolaris` identity the installation's clients use (`s3_access_key`).
    #[serde(skip)]
    pub user: Credentials,
}

impl Seaweedfs {
    pub(super) fn from_spec(
        spec: &WhiskSpec,
        apihost: &ApiHost,
        enabled: bool,
        secrets: &GeneratedSecrets,
    ) -> Result<Seaweedfs, ConfigError> {
        let seaweedfs = spec.seaweedfs.clone().unwrap_or_default();
        let given = seaweedfs.nuvolaris.clone().unwrap_or_default();
        let user = Credentials {
            user: given
                .user
                .filter(|u| !u.trim().is_empty())
                .unwrap_or_else(|| "nuvolaris".to_owned()),
            password: secrets.given_or(given.password.as_ref(), NUVOLARIS_PASSWORD)?,
        };
        if enabled {
            storage::check_key_pair("seaweedfs.nuvolaris", &user.user, &user.password)?;
        }
        Ok(Seaweedfs {
            image: SEAWEEDFS_IMAGE.to_owned(),
            volume_size_gi: positive(seaweedfs.volume_size).unwrap_or(60),
            bucket_quota_mb: positive(seaweedfs.default_bucket_quota).unwrap_or(1024),
            routes: StoreRoutes::from_spec(
                seaweedfs.ingress.as_ref(),
                "seaweedfs",
                "filer",
                apihost,
            )?,
            user,
        })
    }
}
