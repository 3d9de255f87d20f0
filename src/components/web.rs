//! HTTP routes into the cluster, published the way the cluster understands them: one shared
//! mechanism for every component that exposes something on a host (the apihost endpoint, object
//! storage, the static web server, the registry, tenants).
//!
//! - nginx-style ingress controllers (kind, generic, the clouds): an Ingress with regular
//!   expression paths and `nginx.ingress.kubernetes.io/*` annotations;
//! - Traefik (the ingress class `traefik`, on any flavour; k3s and microk8s by default): an
//!   Ingress with plain `Prefix` paths and a Middleware (`replacePathRegex` or `addPrefix`) named
//!   in its `router.middlewares` annotation — Traefik does not route nginx regular expressions;
//! - OpenShift: a Route.
//!
//! TLS follows `components.tls` (never on kind): a cert-manager `cluster-issuer` annotation and a
//! `tls` block naming the secret on Ingresses, `kubernetes.io/tls-acme` and edge termination on
//! Routes.

use serde_json::{Map, Value, json};

use crate::apply::Object;
use crate::config::Publisher;

/// The ClusterIssuer the TLS component creates.
pub const CLUSTER_ISSUER: &str = "letsencrypt-issuer";

/// What happens to the path on its way to the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Unchanged.
    Same,
    /// `<path>/rest` becomes `<to>rest` (e.g. `/api/my/x` → `/api/v1/web/nuvolaris/x`); `to`
    /// ends with `/`.
    Replace(String),
    /// Every path gets `prefix` in front (e.g. `/index.html` → `/nuvolaris-web/index.html`).
    Prefix(String),
}

/// One published route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebRoute {
    /// Name of the Ingress or Route (and of its Middleware, with `-add-prefix`).
    pub name: String,
    /// `None`: any host (while the apihost is not known yet).
    pub host: Option<String>,
    /// The path prefix it serves, e.g. `/api/info` or `/`.
    pub path: String,
    pub target: Target,
    pub service: String,
    pub port: u16,
    /// OpenShift Routes may point elsewhere than the Ingress backend (the controller's Routes
    /// target `controller-ip`).
    pub route_backend: Option<(String, u16)>,
    /// The TLS secret when TLS is on.
    pub tls_secret: Option<String>,
    /// Proxy timeouts.
    pub timeout_seconds: u64,
}

/// The objects that publish `route` with `publisher`, in `namespace`.
pub fn publish(route: &WebRoute, publisher: &Publisher, namespace: &str) -> Vec<Object> {
    match publisher {
        Publisher::Nginx { class } => vec![nginx_ingress(route, class.as_deref())],
        Publisher::Traefik {
            class,
            middleware_api_version,
        } => traefik(route, class.as_deref(), middleware_api_version, namespace),
        Publisher::OpenshiftRoute => vec![openshift_route(route)],
    }
}

/// The backend and TLS part shared by both kinds of Ingress.
fn ingress(
    route: &WebRoute,
    class: Option<&str>,
    mut annotations: Map<String, Value>,
    path: String,
    path_type: &str,
) -> Object {
    annotations.insert(
        "nginx.ingress.kubernetes.io/proxy-body-size".into(),
        json!("1024m"),
    );
    if route.tls_secret.is_some() {
        annotations.insert(
            "cert-manager.io/cluster-issuer".into(),
            json!(CLUSTER_ISSUER),
        );
    }
    let mut rule = json!({"http": {"paths": [{
        "path": path,
        "pathType": path_type,
        "backend": {"service": {"name": route.service, "port": {"number": route.port}}},
    }]}});
    if let Some(host) = &route.host {
        rule["host"] = json!(host);
    }
    let mut spec = json!({"rules": [rule]});
    if let Some(class) = class {
        spec["ingressClassName"] = json!(class);
    }
    if let (Some(secret), Some(host)) = (&route.tls_secret, &route.host) {
        spec["tls"] = json!([{"hosts": [host], "secretName": secret}]);
    }
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": route.name, "annotations": annotations},
        "spec": spec,
    })
}

/// The regular expression of the rest of the path after the prefix (the original's).
const REST: &str = "(/|$)(.*)";

fn nginx_ingress(route: &WebRoute, class: Option<&str>) -> Object {
    let timeout = json!(route.timeout_seconds.to_string());
    let mut annotations = Map::new();
    for key in ["connect", "send", "read"] {
        annotations.insert(
            format!("nginx.ingress.kubernetes.io/proxy-{key}-timeout"),
            timeout.clone(),
        );
    }
    let prefix = route.path.trim_end_matches('/');
    let path = match &route.target {
        Target::Same => route.path.clone(),
        Target::Replace(to) => {
            annotations.insert(
                "nginx.ingress.kubernetes.io/use-regex".into(),
                json!("true"),
            );
            annotations.insert(
                "nginx.ingress.kubernetes.io/rewrite-target".into(),
                json!(format!("{to}$2")),
            );
            format!("{prefix}{REST}")
        }
        Target::Prefix(to) => {
            annotations.insert(
                "nginx.ingress.kubernetes.io/use-regex".into(),
                json!("true"),
            );
            annotations.insert(
                "nginx.ingress.kubernetes.io/rewrite-target".into(),
                json!(format!("{}/$1", to.trim_end_matches('/'))),
            );
            format!("{prefix}/(.*)")
        }
    };
    ingress(route, class, annotations, path, "ImplementationSpecific")
}

fn traefik(
    route: &WebRoute,
    class: Option<&str>,
    middleware_api_version: &str,
    namespace: &str,
) -> Vec<Object> {
    let timeout = json!(route.timeout_seconds.to_string());
    let mut annotations = Map::new();
    for key in ["readTimeout", "writeTimeout", "idleTimeout"] {
        annotations.insert(
            format!("traefik.ingress.kubernetes.io/transport.respondingTimeouts.{key}"),
            timeout.clone(),
        );
    }
    let middleware_name = format!("{}-add-prefix", route.name);
    let middleware_spec = match &route.target {
        Target::Same => None,
        Target::Replace(to) => Some(json!({"replacePathRegex": {
            "regex": format!("^{}{REST}", route.path.trim_end_matches('/')),
            "replacement": format!("{to}$2"),
        }})),
        Target::Prefix(to) => Some(json!({"addPrefix": {"prefix": to.trim_end_matches('/')}})),
    };
    let mut objects = Vec::new();
    if let Some(spec) = middleware_spec {
        annotations.insert(
            "traefik.ingress.kubernetes.io/router.middlewares".into(),
            json!(format!("{namespace}-{middleware_name}@kubernetescrd")),
        );
        objects.push(json!({
            "apiVersion": middleware_api_version,
            "kind": "Middleware",
            "metadata": {"name": middleware_name},
            "spec": spec,
        }));
    }
    objects.insert(
        0,
        ingress(route, class, annotations, route.path.clone(), "Prefix"),
    );
    objects
}

fn openshift_route(route: &WebRoute) -> Object {
    let mut annotations = Map::new();
    annotations.insert(
        "haproxy.router.openshift.io/timeout".into(),
        json!(format!("{}s", route.timeout_seconds)),
    );
    if route.tls_secret.is_some() {
        annotations.insert("kubernetes.io/tls-acme".into(), json!("true"));
    }
    let rewrite = match &route.target {
        Target::Same => None,
        Target::Replace(to) => Some(to.clone()),
        Target::Prefix(to) => Some(format!("{}/", to.trim_end_matches('/'))),
    };
    if let Some(rewrite) = rewrite {
        annotations.insert(
            "haproxy.router.openshift.io/rewrite-target".into(),
            json!(rewrite),
        );
        // the ACME exposer must not copy the rewrite onto its challenge route
        annotations.insert(
            "http.exposer.acme.openshift.io/filter-out-annotations".into(),
            json!("rewrite-target"),
        );
    }
    let (service, port) = route
        .route_backend
        .clone()
        .unwrap_or((route.service.clone(), route.port));
    let mut spec = json!({
        "path": route.path,
        "to": {"kind": "Service", "name": service},
        "port": {"targetPort": port},
    });
    if let Some(host) = &route.host {
        spec["host"] = json!(host);
    }
    if route.tls_secret.is_some() {
        spec["tls"] = json!({"termination": "edge"});
    }
    json!({
        "apiVersion": "route.openshift.io/v1",
        "kind": "Route",
        "metadata": {"name": route.name, "labels": {"app": route.name}, "annotations": annotations},
        "spec": spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(target: Target, tls: bool) -> WebRoute {
        WebRoute {
            name: "apihost-my".into(),
            host: Some("api.example.org".into()),
            path: "/api/my".into(),
            target,
            service: "controller".into(),
            port: 3233,
            route_backend: Some(("controller-ip".into(), 8080)),
            tls_secret: tls.then(|| "nuvolaris-crt".into()),
            timeout_seconds: 300,
        }
    }

    fn traefik_publisher() -> Publisher {
        Publisher::Traefik {
            class: Some("traefik".into()),
            middleware_api_version: "traefik.io/v1alpha1".into(),
        }
    }

    #[test]
    fn nginx_uses_regular_expressions_and_rewrite_annotations() {
        let publisher = Publisher::Nginx {
            class: Some("nginx".into()),
        };
        let objects = publish(
            &route(Target::Replace("/api/v1/web/nuvolaris/".into()), false),
            &publisher,
            "ns",
        );
        let ingress = &objects[0];
        assert_eq!(objects.len(), 1);
        assert_eq!(
            ingress["spec"]["rules"][0]["http"]["paths"][0]["path"],
            "/api/my(/|$)(.*)"
        );
        let annotations = &ingress["metadata"]["annotations"];
        assert_eq!(
            annotations["nginx.ingress.kubernetes.io/rewrite-target"],
            "/api/v1/web/nuvolaris/$2"
        );
        assert!(
            ingress["spec"].get("tls").is_none(),
            "TLS off: no tls block"
        );
        assert!(annotations.get("cert-manager.io/cluster-issuer").is_none());
    }

    #[test]
    fn traefik_gets_prefix_paths_and_a_middleware() {
        let objects = publish(
            &route(Target::Replace("/api/v1/web/nuvolaris/".into()), true),
            &traefik_publisher(),
            "nuvolaris",
        );
        assert_eq!(objects.len(), 2);
        let (ingress, middleware) = (&objects[0], &objects[1]);
        let path = &ingress["spec"]["rules"][0]["http"]["paths"][0];
        assert_eq!(
            (path["path"].as_str(), path["pathType"].as_str()),
            (Some("/api/my"), Some("Prefix"))
        );
        assert_eq!(
            ingress["metadata"]["annotations"]["traefik.ingress.kubernetes.io/router.middlewares"],
            "nuvolaris-apihost-my-add-prefix@kubernetescrd"
        );
        assert_eq!(middleware["kind"], "Middleware");
        assert_eq!(middleware["metadata"]["name"], "apihost-my-add-prefix");
        assert_eq!(
            middleware["spec"]["replacePathRegex"]["replacement"],
            "/api/v1/web/nuvolaris/$2"
        );
        assert_eq!(ingress["spec"]["tls"][0]["secretName"], "nuvolaris-crt");
        assert_eq!(
            ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"],
            CLUSTER_ISSUER
        );
        // the middleware's regular expression is a valid one, anchored
        let regex = middleware["spec"]["replacePathRegex"]["regex"]
            .as_str()
            .unwrap();
        let re = regex::Regex::new(regex).expect("valid");
        assert_eq!(
            re.replace("/api/my/hello", "/api/v1/web/nuvolaris/$2"),
            "/api/v1/web/nuvolaris/hello"
        );
    }

    #[test]
    fn a_prefix_target_on_every_publisher() {
        let target = Target::Prefix("/nuvolaris-web".into());
        let nginx = publish(
            &route(target.clone(), false),
            &Publisher::Nginx { class: None },
            "ns",
        );
        assert_eq!(
            nginx[0]["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"],
            "/nuvolaris-web/$1"
        );
        assert!(nginx[0]["spec"].get("ingressClassName").is_none());
        let traefik = publish(&route(target.clone(), false), &traefik_publisher(), "ns");
        assert_eq!(traefik[1]["spec"]["addPrefix"]["prefix"], "/nuvolaris-web");
        let routes = publish(&route(target, true), &Publisher::OpenshiftRoute, "ns");
        assert_eq!(routes[0]["kind"], "Route");
        assert_eq!(
            routes[0]["metadata"]["annotations"]["haproxy.router.openshift.io/rewrite-target"],
            "/nuvolaris-web/"
        );
        assert_eq!(routes[0]["spec"]["to"]["name"], "controller-ip");
        assert_eq!(routes[0]["spec"]["tls"]["termination"], "edge");
    }

    #[test]
    fn same_path_means_no_rewrite_and_no_middleware() {
        let traefik = publish(&route(Target::Same, false), &traefik_publisher(), "ns");
        assert_eq!(traefik.len(), 1);
        let nginx = publish(
            &route(Target::Same, false),
            &Publisher::Nginx { class: None },
            "ns",
        );
        assert!(
            nginx[0]["metadata"]["annotations"]
                .get("nginx.ingress.kubernetes.io/rewrite-target")
                .is_none()
        );
    }
}
