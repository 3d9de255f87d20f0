//! Redis's configuration.

use super::{ConfigError, GeneratedKey, GeneratedSecrets, positive};
use crate::crd::WhiskSpec;
use crate::secret::Secret;

pub const REDIS_IMAGE: &str = "docker.io/bitnamilegacy/redis:8.2.1";

pub const DEFAULT_PASSWORD: GeneratedKey = GeneratedKey::password("redis-default-password");
pub const NUVOLARIS_PASSWORD: GeneratedKey = GeneratedKey::password("redis-nuvolaris-password");
pub const GENERATED: &[GeneratedKey] = &[DEFAULT_PASSWORD, NUVOLARIS_PASSWORD];

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Redis {
    pub image: String,
    pub persistence: bool,
    pub volume_size_gi: u32,
    /// `maxmemory` of redis.conf, e.g. "1000mb".
    pub maxmemory: String,
    /// Key prefix of the `nuvolaris` user, always ending with ':'.
    pub prefix: String,
    #[serde(skip)]
    pub default_password: Secret,
    #[serde(skip)]
    pub nuvolaris_password: Secret,
}

impl Redis {
    pub(super) fn from_spec(
        spec: &WhiskSpec,
        secrets: &GeneratedSecrets,
    ) -> Result<Redis, ConfigError> {
        let redis = spec.redis.clone().unwrap_or_default();
        let prefix = redis
            .nuvolaris
            .as_ref()
            .and_then(|n| n.prefix.clone())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "nuvolaris".to_owned());
        Ok(Redis {
            image: REDIS_IMAGE.to_owned(),
            persistence: redis.persistence_enabled.unwrap_or(false),
            volume_size_gi: positive(redis.volume_size).unwrap_or(10),
            maxmemory: redis
                .maxmemory
                .clone()
                .or(redis.max_memory.clone())
                .unwrap_or_else(|| "1000mb".to_owned()),
            prefix: format!("{}:", prefix.trim_end_matches(':')),
            default_password: secrets.given_or(
                redis.default.as_ref().and_then(|d| d.password.as_ref()),
                DEFAULT_PASSWORD,
            )?,
            nuvolaris_password: secrets.given_or(
                redis.nuvolaris.as_ref().and_then(|n| n.password.as_ref()),
                NUVOLARIS_PASSWORD,
            )?,
        })
    }
}
