//! What the object stores (MinIO, SeaweedFS) publish alike: the `s3_*` annotations of
//! `cm/config` and the routes of their S3 API and console.

use super::ConfigAnnotation;
use super::web::{Target, WebRoute};
use crate::config::storage::{DATA_BUCKET, ObjectStore, S3_PORT, STATIC_BUCKET, StoreRoutes};
use crate::config::{Config, Credentials, Flavour};

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
