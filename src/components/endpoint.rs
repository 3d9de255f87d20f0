//! The apihost endpoint: what publishes the OpenWhisk API.
//!
//! Deploys, through the shared [`web`](super::web) mechanism (nginx or Traefik Ingresses,
//! OpenShift Routes, by cluster): `apihost-info` (`/api/info`), `apihost` (`/api/v1`),
//! `apihost-my` (`/api/my` → the `nuvolaris` web actions) and, except on kind, `apihost-www-my`
//! for `www.<apihost>`. Unlike the original they carry owner references, so deleting the Whisk
//! removes them.

use super::kit::Overlay;
use super::web::{self, Target, WebRoute};
use super::{Component, ConfigAnnotation, RenderError, Support};
use crate::apply::kinds::{self, KnownKind};
use crate::config::{Config, Flavour};
use crate::crd::ComponentId;

pub struct Endpoint;

impl Component for Endpoint {
    fn id(&self) -> ComponentId {
        ComponentId::Endpoint
    }

    /// An endpoint without its backend (the controller in a mode not built yet) is not
    /// rendered either.
    fn support(&self, cfg: &Config) -> Support {
        match super::openwhisk::Openwhisk.support(cfg) {
            Support::Unsupported(reason) => {
                Support::Unsupported(format!("its backend is not deployed: {reason}"))
            }
            Support::Supported => Support::Supported,
        }
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        let mut overlay = Overlay::new(self.id(), &cfg.namespace);
        for route in routes(cfg) {
            for object in web::publish(&route, &cfg.publisher, &cfg.namespace) {
                overlay = overlay.object(&object);
            }
        }
        Ok(overlay)
    }

    /// `apihost`, with its scheme: the `ops` CLI polls it until it is not `<scheme>://pending`.
    /// Not in the users' environment: `ops` would export it as `APIHOST`, which its tasks use
    /// for the host without its scheme.
    fn config_annotations(&self, cfg: &Config) -> Vec<ConfigAnnotation> {
        let apihost = cfg
            .apihost
            .url()
            .unwrap_or_else(|| format!("{}://pending", cfg.apihost.scheme()));
        vec![ConfigAnnotation::plain("apihost", apihost).not_user_env()]
    }

    fn kinds(&self) -> &'static [KnownKind] {
        &[
            kinds::INGRESS,
            kinds::TRAEFIK_MIDDLEWARE,
            kinds::TRAEFIK_MIDDLEWARE_LEGACY,
            kinds::ROUTE,
        ]
    }
}

/// The routes of the API: (name, path, what the path becomes on the controller).
const ROUTES: [(&str, &str, &str); 3] = [
    ("apihost-info", "/api/info", "/"),
    ("apihost", "/api/v1", "/api/v1/"),
    ("apihost-my", "/api/my", "/api/v1/web/nuvolaris/"),
];

fn routes(cfg: &Config) -> Vec<WebRoute> {
    let host = cfg.apihost.host.clone();
    let route = |name: &str, host: Option<String>, path: &str, to: &str, secret: &str| WebRoute {
        name: name.to_owned(),
        host,
        path: path.to_owned(),
        target: Target::Replace(to.to_owned()),
        service: "controller".to_owned(),
        port: 3233,
        route_backend: Some(("controller-ip".to_owned(), 8080)),
        tls_secret: cfg.tls.then(|| secret.to_owned()),
        timeout_seconds: seconds(&cfg.controller.limits.time_max),
    };
    let mut routes: Vec<WebRoute> = ROUTES
        .iter()
        .map(|(name, path, to)| route(name, host.clone(), path, to, "nuvolaris-crt"))
        .collect();
    let www = host
        .as_deref()
        .filter(|h| !h.contains("www") && cfg.flavour != Flavour::Kind);
    if let Some(host) = www {
        let (_, path, to) = ROUTES[2];
        routes.push(route(
            "apihost-www-my",
            Some(format!("www.{host}")),
            path,
            to,
            "nuvolaris-crt-www",
        ));
    }
    routes
}

/// Seconds of an OpenWhisk duration such as `5min`, `300s`, `1h` or `100ms` (rounded up).
/// The original multiplied by the first letter only, so `100ms` became 6000 seconds.
pub fn seconds(duration: &str) -> u64 {
    let duration = duration.trim();
    let digits: String = duration.chars().take_while(char::is_ascii_digit).collect();
    let value: u64 = digits.parse().unwrap_or(0);
    let unit = duration[digits.len()..].trim();
    match unit {
        "ms" => value.div_ceil(1000),
        "" | "s" | "sec" | "second" | "seconds" => value,
        "m" | "min" | "minute" | "minutes" => value * 60,
        "h" | "hour" | "hours" => value * 3600,
        "d" | "day" | "days" => value * 86400,
        _ => 300,
    }
}

#[cfg(test)]
mod tests {
    use super::seconds;

    #[test]
    fn durations_in_seconds() {
        assert_eq!(seconds("5min"), 300);
        assert_eq!(seconds("100ms"), 1);
        assert_eq!(seconds("1h"), 3600);
        assert_eq!(seconds("45s"), 45);
        assert_eq!(seconds("7"), 7);
    }
}
