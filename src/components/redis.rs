//! Redis: the key-value store of actions, with the `nuvolaris` ACL user.
//!
//! Deploys: StatefulSet `redis` (pod `redis-0`; volume claim `redis-pvc` when persistence is
//! on), Service `redis`, the generated Secret `redis-conf-<hash>` holding redis.conf, and the
//! Job `redis-init` that runs `nuvolaris-operator setup redis`.

use minijinja::context;

use super::kit::Overlay;
use super::{RenderError, setup_env};
use crate::config::Config;

pub const NAME: &str = "redis";

/// The Job whose completion means that the ACL user is in place.
pub const SETUP_JOBS: &[&str] = &["redis-init"];

pub fn enabled(cfg: &Config) -> bool {
    cfg.components.redis
}

pub fn overlay(cfg: &Config) -> Result<Overlay, RenderError> {
    let redis = &cfg.redis;
    let conf = crate::render::render("redis/redis.conf", context! {
        default_password => redis.default_password.expose(),
        nuvolaris_password => redis.nuvolaris_password.expose(),
        prefix => redis.prefix.clone(), maxmemory => redis.maxmemory.clone(), persistence => redis.persistence,
    })
    .map_err(|e| RenderError::Component { component: NAME, message: e.to_string() })?;
    let mut overlay = Overlay::new(NAME, &cfg.namespace)
        .base(
            NAME,
            &["statefulset.yaml", "service.yaml", "setup-job.yaml"],
        )?
        .secret("redis-conf", [("redis-conf", conf.as_str())])
        .secret("redis-init-auth", setup_env::redis_secret(cfg))
        .patch(
            "common/setup-job-env.yaml",
            setup_env::redis_context(cfg, "redis-init-auth"),
        )?
        .image("docker.io/bitnamilegacy/redis", &redis.image)
        .image("nuvolaris-operator", &cfg.operator_image);
    if redis.persistence {
        overlay = overlay.patch(
            "common/volume-claim.yaml",
            context! {
                name => "redis", container => "redis", mount_path => "/bitnami/redis/data",
                size_gi => redis.volume_size_gi, storage_class => cfg.storage_class.clone(),
            },
        )?;
    }
    if cfg.pod_security {
        overlay = overlay.patch(
            "common/pod-security.yaml",
            context! { kind => "StatefulSet", name => "redis" },
        )?;
    }
    if cfg.affinity || cfg.tolerations {
        overlay = overlay.patch(
            "common/affinity.yaml",
            context! {
                kind => "StatefulSet", name => "redis", affinity => cfg.affinity,
                tolerations => cfg.tolerations, anti_affinity_name => "redis",
            },
        )?;
    }
    Ok(overlay)
}
