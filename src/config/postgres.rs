//! PostgreSQL's configuration: the Kubegres cluster `nuvolaris-postgres`, its backup, and the
//! `nuvolaris` database and user the setup keeps.

use super::{
    ConfigError, GeneratedKey, GeneratedSecrets, LiveSource, Resources, at_least_one, resources,
};
use crate::crd::WhiskSpec;
use crate::secret::Secret;

pub const POSTGRES_IMAGE: &str = "pgvector/pgvector:pg16";
pub const KUBEGRES_IMAGE: &str = "reactivetechio/kubegres:1.18";
pub const BACKUP_IMAGE: &str = "ghcr.io/nuvolaris/pg-dumper:16.3.2405222002";

/// The Kubegres resource; Kubegres names the primary's Service after it.
pub const CLUSTER_NAME: &str = "nuvolaris-postgres";
pub const PORT: u16 = 5432;
pub const SUPERUSER: &str = "postgres";
/// The database and user the operator keeps for the platform (`postgres_*` of `cm/config`).
pub const DATABASE: &str = "nuvolaris";
pub const USER: &str = "nuvolaris";

/// The Secret Kubegres reads the passwords from, the same name in both operators (PostgreSQL
/// keeps them in its data directory: new ones would lock everything out).
const SECRET: &str = "postgres-nuvolaris-secret";

pub const ADMIN_PASSWORD: GeneratedKey =
    GeneratedKey::password("postgres-admin-password").kept_in(&[
        LiveSource::secret(SECRET, "superUserPassword"),
        LiveSource::secret("postgres-init-auth-", "POSTGRES_SUPERUSER_PASSWORD"),
    ]);
pub const REPLICATION_PASSWORD: GeneratedKey =
    GeneratedKey::password("postgres-replication-password")
        .kept_in(&[LiveSource::secret(SECRET, "replicationUserPassword")]);
pub const NUVOLARIS_PASSWORD: GeneratedKey = GeneratedKey::password("postgres-nuvolaris-password")
    .kept_in(&[
        LiveSource::secret(SECRET, "nuvolarisUserPassword"),
        LiveSource::secret("postgres-init-auth-", "POSTGRES_USER_PASSWORD"),
    ]);
pub const GENERATED: &[GeneratedKey] = &[ADMIN_PASSWORD, REPLICATION_PASSWORD, NUVOLARIS_PASSWORD];

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Postgres {
    pub image: String,
    /// Databases in the Kubegres cluster: one primary, the rest streaming replicas.
    pub replicas: u32,
    pub volume_size_gi: u32,
    /// Kubegres promotes a replica when the primary fails.
    pub failover: bool,
    /// A pg_dumpall of the cluster on this cron schedule, when backups are on.
    pub backup_schedule: Option<String>,
    pub resources: Option<Resources>,
    /// `primary` Service host (in the installation's namespace).
    pub host: String,
    pub port: u16,
    #[serde(skip)]
    pub admin_password: Secret,
    #[serde(skip)]
    pub replication_password: Secret,
    #[serde(skip)]
    pub nuvolaris_password: Secret,
}

impl Postgres {
    pub(super) fn from_spec(
        spec: &WhiskSpec,
        secrets: &GeneratedSecrets,
    ) -> Result<Postgres, ConfigError> {
        let pg = spec.postgres.clone().unwrap_or_default();
        let admin = pg.admin.clone().unwrap_or_default();
        let backup = pg.backup.clone().unwrap_or_default();
        Ok(Postgres {
            image: POSTGRES_IMAGE.to_owned(),
            replicas: at_least_one(pg.replicas, "postgres.replicas", 2)?,
            volume_size_gi: at_least_one(pg.volume_size, "postgres.volume-size", 10)?,
            failover: pg.failover.unwrap_or(false),
            backup_schedule: backup.enabled.unwrap_or(false).then(|| {
                backup
                    .schedule
                    .clone()
                    .filter(|s| !s.trim().is_empty())
                    .unwrap_or_else(|| "30 * * * *".to_owned())
            }),
            resources: pg
                .resources
                .as_ref()
                .and_then(|r| resources(r, ("500m", "256Mi", "1Gi"))),
            host: CLUSTER_NAME.to_owned(),
            port: PORT,
            admin_password: secrets.given_or(admin.password.as_ref(), ADMIN_PASSWORD)?,
            // The original read the admin password's key here; the CRD's own field wins now.
            replication_password: secrets
                .given_or(admin.replica_password.as_ref(), REPLICATION_PASSWORD)?,
            nuvolaris_password: secrets.given_or(
                pg.nuvolaris.as_ref().and_then(|n| n.password.as_ref()),
                NUVOLARIS_PASSWORD,
            )?,
        })
    }
}
