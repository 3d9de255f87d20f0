//! FerretDB's configuration: the MongoDB protocol on its own PostgreSQL database and user.

use super::{ConfigError, Extract, GeneratedKey, GeneratedSecrets, LiveSource, at_least_one};
use crate::crd::WhiskSpec;
use crate::secret::Secret;

pub const FERRETDB_IMAGE: &str = "ghcr.io/nuvolaris/ferretdb:1.6.0";
/// The PostgreSQL database FerretDB stores every MongoDB database in (one schema each).
pub const DATABASE: &str = "ferretdb";
/// FerretDB's PostgreSQL role, the user of `mongodb_url`.
pub const USER: &str = "ferretdb";
/// The MongoDB database of `mongodb_url`.
pub const MONGO_DATABASE: &str = "nuvolaris";
pub const PORT: u16 = 27017;

/// The password of `mongodb_url`: the original's URL carried the Postgres `nuvolaris` user's
/// (FerretDB authenticated as it); this version's role `ferretdb` keeps it, so clients' password
/// does not change.
pub const PASSWORD: GeneratedKey = GeneratedKey::password("mongodb-ferretdb-password").kept_in(&[
    LiveSource::secret("mongodb-init-auth-", "FERRETDB_PASSWORD"),
    LiveSource::OpsAnnotation {
        key: "mongodb_url",
        extract: Extract::Regex(r"^mongodb://[^:/@]*:(.*)@[^@]*$"),
    },
]);
pub const GENERATED: &[GeneratedKey] = &[PASSWORD];

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Mongodb {
    pub image: String,
    pub volume_size_gi: u32,
    #[serde(skip)]
    pub password: Secret,
}

impl Mongodb {
    pub(super) fn from_spec(
        spec: &WhiskSpec,
        secrets: &GeneratedSecrets,
    ) -> Result<Mongodb, ConfigError> {
        let mongodb = spec.mongodb.clone().unwrap_or_default();
        Ok(Mongodb {
            image: FERRETDB_IMAGE.to_owned(),
            volume_size_gi: at_least_one(mongodb.volume_size, "mongodb.volume-size", 10)?,
            password: secrets.given_or(
                mongodb.nuvolaris.as_ref().and_then(|n| n.password.as_ref()),
                PASSWORD,
            )?,
        })
    }
}
