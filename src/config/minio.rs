//! MinIO's configuration (`spec.minio`).

use super::storage::{self, StoreRoutes};
use super::{
    ApiHost, ConfigError, Credentials, GeneratedKey, GeneratedSecrets, LiveSource, positive,
};
use crate::crd::WhiskSpec;

/// The original's image (bitnami's build of MinIO, before bitnami moved it to `bitnamilegacy`).
pub const MINIO_IMAGE: &str = "bitnamilegacy/minio:2025.6.13";
/// The Service of the S3 and console ports.
pub const SERVICE: &str = "nuvolaris-minio";

/// The root password: MinIO keeps it in its process env only, but a new one would lock the setup
/// out of the users and policies it made. The original put it in a plain env value.
pub const ROOT_PASSWORD: GeneratedKey = GeneratedKey::password("minio-root-password").kept_in(&[
    LiveSource::secret("minio-auth-", "root_password"),
    LiveSource::env("Deployment", "minio-deployment", "MINIO_ROOT_PASSWORD"),
]);
/// The `nuvolaris` user's secret key: the original published it as `s3_secret_key` (MinIO and
/// SeaweedFS are alternatives: with MinIO on, the annotation is MinIO's).
pub const NUVOLARIS_PASSWORD: GeneratedKey = GeneratedKey::password("minio-nuvolaris-password")
    .kept_in(&[
        LiveSource::secret("minio-init-auth-", "MINIO_USER_SECRET_KEY"),
        LiveSource::annotation("s3_secret_key"),
    ]);
pub const GENERATED: &[GeneratedKey] = &[ROOT_PASSWORD, NUVOLARIS_PASSWORD];

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Minio {
    pub image: String,
    pub volume_size_gi: u32,
    pub routes: StoreRoutes,
    /// The root user (`MINIO_ROOT_USER`/`_PASSWORD`), which the setup signs admin calls as.
    #[serde(skip)]
    pub root: Credentials,
    /// The `nuvolaris` user the installation's clients use (`s3_access_key`).
    #[serde(skip)]
    pub user: Credentials,
}

impl Minio {
    pub(super) fn from_spec(
        spec: &WhiskSpec,
        apihost: &ApiHost,
        enabled: bool,
        secrets: &GeneratedSecrets,
    ) -> Result<Minio, ConfigError> {
        let minio = spec.minio.clone().unwrap_or_default();
        let user = |given: Option<&String>, default: &str| {
            given
                .filter(|u| !u.trim().is_empty())
                .cloned()
                .unwrap_or_else(|| default.to_owned())
        };
        let admin = minio.admin.clone().unwrap_or_default();
        let nuvolaris = minio.nuvolaris.clone().unwrap_or_default();
        let root = Credentials {
            user: user(admin.user.as_ref(), "minio"),
            password: secrets.given_or(admin.password.as_ref(), ROOT_PASSWORD)?,
        };
        let nuvolaris = Credentials {
            user: user(nuvolaris.user.as_ref(), "nuvolaris"),
            password: secrets.given_or(nuvolaris.password.as_ref(), NUVOLARIS_PASSWORD)?,
        };
        if enabled {
            storage::check_key_pair("minio.admin", &root.user, &root.password)?;
            storage::check_key_pair("minio.nuvolaris", &nuvolaris.user, &nuvolaris.password)?;
        }
        Ok(Minio {
            image: MINIO_IMAGE.to_owned(),
            volume_size_gi: positive(minio.volume_size).unwrap_or(5),
            routes: StoreRoutes::from_spec(minio.ingress.as_ref(), "minio", "minio", apihost)?,
            root,
            user: nuvolaris,
        })
    }
}
