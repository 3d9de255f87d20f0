//! Redis's configuration.

use super::{ConfigError, Extract, GeneratedKey, GeneratedSecrets, LiveSource, positive};
use crate::crd::WhiskSpec;
use crate::secret::Secret;

pub const REDIS_IMAGE: &str = "docker.io/bitnamilegacy/redis:8.2.1";

/// A key of this operator's `redis-init-auth-<hash>` Secret (the env of the Redis setup).
const fn setup_env(key: &'static str) -> LiveSource {
    LiveSource::Secret {
        prefix: "redis-init-auth-",
        key,
        extract: Extract::Whole,
    }
}

/// `requirepass`: the original's redis.conf is the ConfigMap `redis-cm` (unquoted values).
pub const DEFAULT_PASSWORD: GeneratedKey = GeneratedKey::password("redis-default-password")
    .kept_in(&[
        setup_env("REDIS_DEFAULT_PASSWORD"),
        LiveSource::ConfigMap {
            name: "redis-cm",
            key: "redis-conf",
            extract: Extract::Regex(r"(?m)^[ \t]*requirepass[ \t]+(\S.*?)[ \t]*$"),
        },
    ]);
/// The `nuvolaris` ACL user's password: the original published it on `cm/config`.
pub const NUVOLARIS_PASSWORD: GeneratedKey = GeneratedKey::password("redis-nuvolaris-password")
    .kept_in(&[
        setup_env("REDIS_NUVOLARIS_PASSWORD"),
        LiveSource::OpsAnnotation {
            key: "redis_password",
            extract: Extract::Whole,
        },
        LiveSource::OpsAnnotation {
            key: "redis_url",
            extract: Extract::Regex(r"^redis://[^:/@]*:(.*)@[^@]*$"),
        },
    ]);
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
