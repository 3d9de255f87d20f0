//! The static web server: nginx serving the object store's public bucket on the apihost
//! (with `components.static`, next to MinIO or SeaweedFS).
//!
//! Deploys: the generated ConfigMap `nginx-static-conf-cm-<hash>` (`default.conf` proxying to
//! the store, `nginx.conf`), the Service `nuvolaris-static-svc`, the StatefulSet
//! `nuvolaris-static` with its cache claim `nuvolaris-static-pvc`, and the routes
//! `apihost-static-ingress` (`/` of the apihost → `/nuvolaris-web/…`) and, except on kind,
//! `www-nuvolaris-static-ingress` for `www.<apihost>`.

use minijinja::context;

use super::kit::{Overlay, VolumeClaim, Workload};
use super::object_store::TIMEOUT_SECONDS;
use super::web::{self, Target, WebRoute};
use super::{Component, Leftover, RenderError, Support};
use crate::apply::kinds::{self, KnownKind};
use crate::config::storage::STATIC_BUCKET;
use crate::config::{Config, Flavour};
use crate::crd::ComponentId;

pub struct StaticContent;

const STATIC: Workload = Workload::stateful_set("nuvolaris-static");
/// The port nginx listens on.
pub const PORT: u16 = 8080;
pub const NGINX_IMAGE: &str = "nginxinc/nginx-unprivileged:1.24";
/// The image of the init container that waits for the store's name.
pub const BUSYBOX_IMAGE: &str = "busybox:1.36.0";

impl Component for StaticContent {
    fn id(&self) -> ComponentId {
        ComponentId::Static
    }

    /// The CRD also lets a COSI bucket back the static content; that is not built yet.
    fn support(&self, cfg: &Config) -> Support {
        match cfg.object_store() {
            Some(_) => Support::Supported,
            None => Support::Unsupported(
                "it needs MinIO or SeaweedFS (a COSI object store is not supported yet)".into(),
            ),
        }
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        let store = cfg.object_store().ok_or_else(|| RenderError::Defect {
            component: self.id(),
            message: "rendered without an object store".into(),
        })?;
        let defect = |e: crate::render::TemplateError| RenderError::Defect {
            component: self.id(),
            message: e.to_string(),
        };
        let default_conf = default_conf(&store.url(), PORT).map_err(defect)?;
        let nginx_conf = nginx_conf("/etc/nginx/conf.d").map_err(defect)?;
        let mut overlay = Overlay::new(self.id(), &cfg.namespace)
            .base("nginx-static", &["service.yaml", "statefulset.yaml"])?
            .config_map(
                "nginx-static-conf-cm",
                [("default.conf", default_conf), ("nginx.conf", nginx_conf)],
            )
            .patch(
                "static/wait-for-store.yaml",
                context! { image => BUSYBOX_IMAGE, host => store.host },
            )?
            .volume_claim(&VolumeClaim {
                name: "nuvolaris-static",
                container: STATIC.container("nuvolaris-static"),
                mount_path: "/var/cache/nginx",
                size_gi: 1,
                storage_class: cfg.storage_class.clone(),
            })?
            .scheduling(STATIC, cfg.scheduling, "nuvolaris-static")?;
        for route in routes(cfg) {
            for object in web::publish(&route, &cfg.publisher, &cfg.namespace) {
                overlay = overlay.object(&object);
            }
        }
        Ok(overlay)
    }

    /// The original's nginx configuration, replaced by `nginx-static-conf-cm-<hash>`.
    fn leftovers(&self) -> &'static [Leftover] {
        &[Leftover {
            kind: kinds::CONFIG_MAP,
            name: "nginx-static-conf-cm",
        }]
    }

    fn kinds(&self) -> &'static [KnownKind] {
        &[
            kinds::CONFIG_MAP,
            kinds::SERVICE,
            kinds::STATEFUL_SET,
            kinds::INGRESS,
            kinds::TRAEFIK_MIDDLEWARE,
            kinds::TRAEFIK_MIDDLEWARE_LEGACY,
            kinds::ROUTE,
        ]
    }
}

/// nginx's server configuration: listen on `listen`, proxy to the store at `store_url`
/// (`http://host:port`).
pub fn default_conf(store_url: &str, listen: u16) -> Result<String, crate::render::TemplateError> {
    crate::render::render(
        "static/default.conf",
        context! { store_url => store_url, listen => listen },
    )
}

/// nginx's main configuration, including the server configurations of `conf_dir`.
pub fn nginx_conf(conf_dir: &str) -> Result<String, crate::render::TemplateError> {
    crate::render::render("static/nginx.conf", context! { conf_dir => conf_dir })
}

/// `/` of the apihost (any host while it is pending), and of `www.<apihost>` except on kind.
fn routes(cfg: &Config) -> Vec<WebRoute> {
    let route = |name: &str, host: Option<String>, secret: &str| WebRoute {
        name: name.to_owned(),
        host,
        path: "/".to_owned(),
        target: Target::Prefix(format!("/{STATIC_BUCKET}")),
        service: "nuvolaris-static-svc".to_owned(),
        port: PORT,
        route_backend: None,
        tls_secret: cfg.tls.then(|| secret.to_owned()),
        timeout_seconds: TIMEOUT_SECONDS,
    };
    let host = cfg.apihost.host.clone();
    let mut routes = vec![route(
        "apihost-static-ingress",
        host.clone(),
        "nuvolaris-crt",
    )];
    let www = host
        .as_deref()
        .filter(|h| !h.contains("www") && cfg.flavour != Flavour::Kind);
    if let Some(host) = www {
        routes.push(route(
            "www-nuvolaris-static-ingress",
            Some(format!("www.{host}")),
            "nuvolaris-crt-www",
        ));
    }
    routes
}
