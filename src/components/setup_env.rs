//! The environment of the setup Jobs (`nuvolaris-operator setup couchdb|redis`), derived from the
//! configuration. Passwords go into a generated Secret loaded with `envFrom`; a new password
//! changes the Secret's hashed name, hence the Job, which is then re-created and re-run.

use minijinja::{Value, context};

use crate::config::Config;

/// Sensitive variables of `setup couchdb`.
pub fn couchdb_secret(cfg: &Config) -> Vec<(&'static str, String)> {
    let db = &cfg.couchdb;
    let namespaces = cfg
        .namespaces
        .iter()
        .map(|(name, auth)| format!("{name}={}", auth.expose()))
        .collect::<Vec<_>>()
        .join(",");
    vec![
        (
            "COUCHDB_ADMIN_PASSWORD",
            db.admin.password.expose().to_owned(),
        ),
        (
            "COUCHDB_CONTROLLER_PASSWORD",
            db.controller.password.expose().to_owned(),
        ),
        (
            "COUCHDB_INVOKER_PASSWORD",
            db.invoker.password.expose().to_owned(),
        ),
        ("OPENWHISK_NAMESPACES", namespaces),
        (
            "NUVOLARIS_PASSWORD",
            cfg.nuvolaris_password.expose().to_owned(),
        ),
    ]
}

/// Template context of the `couchdb-init` environment patch.
pub fn couchdb_context(cfg: &Config, secret: &str) -> Value {
    let db = &cfg.couchdb;
    context! {
        job => "couchdb-init", container => "init-couchdb", secret,
        env => vec![
            ("COUCHDB_URL", format!("http://{}:{}", db.host, db.port)),
            ("COUCHDB_ADMIN_USER", db.admin.user.clone()),
            ("COUCHDB_CONTROLLER_USER", db.controller.user.clone()),
            ("COUCHDB_INVOKER_USER", db.invoker.user.clone()),
            ("NUVOLARIS_EMAIL", cfg.nuvolaris_email.clone()),
        ],
    }
}

/// Sensitive variables of `setup redis`.
pub fn redis_secret(cfg: &Config) -> Vec<(&'static str, String)> {
    vec![
        (
            "REDIS_DEFAULT_PASSWORD",
            cfg.redis.default_password.expose().to_owned(),
        ),
        (
            "REDIS_NUVOLARIS_PASSWORD",
            cfg.redis.nuvolaris_password.expose().to_owned(),
        ),
    ]
}

/// Template context of the `redis-init` environment patch.
pub fn redis_context(cfg: &Config, secret: &str) -> Value {
    context! {
        job => "redis-init", container => "init-redis", secret,
        env => vec![
            ("REDIS_ADDR", "redis:6379".to_owned()),
            ("REDIS_NUVOLARIS_PREFIX", cfg.redis.prefix.clone()),
        ],
    }
}
