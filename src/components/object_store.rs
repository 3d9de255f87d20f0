//! What the object stores (MinIO, SeaweedFS) publish alike: the `s3_*` annotations of
//! `cm/config`, the routes of their S3 API and console, and the accounts other components ask
//! them for.

use super::web::{Target, WebRoute};
use super::{ConfigAnnotation, Support, implemented};
use crate::config::storage::{DATA_BUCKET, ObjectStore, S3_PORT, STATIC_BUCKET, StoreRoutes};
use crate::config::{Config, Credentials, Flavour};
use crate::setup::object_store::StoreAccount;

/// Proxy timeouts of the storage routes (the original's).
pub const TIMEOUT_SECONDS: u64 = 300;

/// The `s3_*` annotations the `ops` CLI and the whisk-system actions read.
pub fn s3_annotations(
    cfg: &Config,
    store: &ObjectStore,
    user: &Credentials,
    routes: &StoreRoutes,
) -> Vec<ConfigAnnotation> {
    let scheme = cfg.apihost.scheme();
    let mut annotations = vec![
        ConfigAnnotation::plain("s3_host", &store.host),
        ConfigAnnotation::plain("s3_port", S3_PORT.to_string()),
        ConfigAnnotation::plain("s3_access_key", &user.user),
        ConfigAnnotation::credential("s3_secret_key", user.password.expose()),
        ConfigAnnotation::plain("s3_provider", store.provider.name()),
        ConfigAnnotation::plain("s3_bucket_data", DATA_BUCKET),
        ConfigAnnotation::plain("s3_bucket_static", STATIC_BUCKET),
    ];
    // On kind the `ops` CLI maps the S3 NodePort to the host's port 9000.
    let api_url = if cfg.flavour == Flavour::Kind {
        Some(format!("http://localhost:{S3_PORT}"))
    } else {
        routes.s3.as_ref().map(|host| format!("{scheme}://{host}"))
    };
    if let Some(url) = api_url {
        annotations.push(ConfigAnnotation::plain("s3_api_url", url));
    }
    if let Some(host) = &routes.console {
        annotations.push(ConfigAnnotation::plain(
            "s3_console_url",
            format!("{scheme}://{host}"),
        ));
    }
    annotations
}

/// The names of a store's two routes and where they lead.
pub struct RouteNames {
    pub s3: &'static str,
    pub console: &'static str,
    pub service: &'static str,
    pub console_port: u16,
}

/// The S3 API and console routes that are on and have a host.
pub fn store_routes(cfg: &Config, routes: &StoreRoutes, names: &RouteNames) -> Vec<WebRoute> {
    let route = |name: &str, host: &String, port: u16| WebRoute {
        name: name.to_owned(),
        host: Some(host.clone()),
        path: "/".to_owned(),
        target: Target::Same,
        service: names.service.to_owned(),
        port,
        route_backend: None,
        tls_secret: cfg.tls.then(|| format!("nuvolaris-{name}-crt")),
        timeout_seconds: TIMEOUT_SECONDS,
    };
    let mut out = Vec::new();
    if let Some(host) = &routes.s3 {
        out.push(route(names.s3, host, S3_PORT));
    }
    if let Some(host) = &routes.console {
        out.push(route(names.console, host, names.console_port));
    }
    out
}

/// The accounts the enabled, installable components ask the object store for
/// ([`super::Component::store_accounts`]), for the store's setup Job. A component that is
/// disabled no longer asks: its account and bucket stay (as its claims do), unused.
pub fn store_accounts(cfg: &Config) -> Vec<StoreAccount> {
    implemented()
        .filter(|c| cfg.enabled(c.id()) && c.support(cfg) == Support::Supported)
        .flat_map(|c| c.store_accounts(cfg))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::components::test_support::{config, find, rendered};
    use crate::components::{minio::Minio, seaweedfs::Seaweedfs};

    fn job_env<'a>(objects: &'a [Value], job: &str, name: &str) -> Option<&'a Value> {
        find(objects, "Job", job)["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .and_then(|env| env.iter().find(|e| e["name"] == name))
            .map(|e| &e["value"])
    }

    #[test]
    fn the_store_setup_makes_the_accounts_of_the_enabled_components_only() {
        let spec = |milvus: bool, store: &str| {
            json!({"components": {"milvus": milvus, store: true},
                   "milvus": {"volume-size": {"bucket": 512}}})
        };
        let with_milvus = rendered(&Minio, &config(spec(true, "minio")));
        let accounts = job_env(&with_milvus, "minio-init", "MINIO_ACCOUNTS").expect("listed");
        assert_eq!(
            serde_json::from_str::<Value>(accounts.as_str().expect("a string")).expect("JSON"),
            json!([{"user": "miniomilvus", "bucket": "vectors", "quota_mb": 512}])
        );
        let without = rendered(&Minio, &config(spec(false, "minio")));
        assert_eq!(job_env(&without, "minio-init", "MINIO_ACCOUNTS"), None);

        let weed = rendered(&Seaweedfs, &config(spec(true, "seaweedfs")));
        let accounts = job_env(&weed, "seaweedfs-init", "SEAWEEDFS_ACCOUNTS").expect("listed");
        assert!(
            accounts.as_str().is_some_and(|a| a.contains("miniomilvus")),
            "{accounts}"
        );
    }
}
