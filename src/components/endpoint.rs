//! The apihost endpoint: the Ingresses that publish the OpenWhisk API.
//!
//! Deploys, for the kind and generic flavours (nginx-style ingress controllers): Ingresses
//! `apihost-info` (`/api/info`), `apihost` (`/api/v1`), `apihost-my` (`/api/my` → the
//! `nuvolaris` web actions) and, except on kind, `apihost-www-my` for `www.<apihost>`.
//! Unlike the original they carry owner references, so deleting the Whisk removes them.

use minijinja::context;

use super::kit::Overlay;
use super::{Component, RenderError, Support};
use crate::apply::kinds::{self, KnownKind};
use crate::config::{Config, Flavour};
use crate::crd::ComponentId;

pub struct Endpoint;

struct Route {
    name: &'static str,
    path_regex: &'static str,
    rewrite: &'static str,
}

const ROUTES: &[Route] = &[
    Route {
        name: "apihost-info",
        path_regex: "/api/info(/|$)(.*)",
        rewrite: "/$2",
    },
    Route {
        name: "apihost",
        path_regex: "/api/v1(/|$)(.*)",
        rewrite: "/api/v1/$2",
    },
    Route {
        name: "apihost-my",
        path_regex: "/api/my(/|$)(.*)",
        rewrite: "/api/v1/web/nuvolaris/$2",
    },
];

impl Component for Endpoint {
    fn id(&self) -> ComponentId {
        ComponentId::Endpoint
    }

    /// OpenShift needs Routes and k3s/microk8s Traefik middlewares, not implemented yet; and an
    /// endpoint without its backend (the controller in a mode not built yet) is not rendered.
    fn support(&self, cfg: &Config) -> Support {
        if let Support::Unsupported(reason) = super::openwhisk::Openwhisk.support(cfg) {
            return Support::Unsupported(format!("its backend is not deployed: {reason}"));
        }
        if matches!(
            cfg.flavour,
            Flavour::Openshift | Flavour::K3s | Flavour::Microk8s
        ) {
            return Support::Unsupported(format!(
                "the {} flavour's endpoint is not supported by this version",
                cfg.flavour
            ));
        }
        Support::Supported
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        overlay(cfg)
    }

    fn kinds(&self) -> &'static [KnownKind] {
        &[kinds::INGRESS]
    }
}

fn overlay(cfg: &Config) -> Result<Overlay, RenderError> {
    let host = cfg.apihost.host.clone();
    let tls = cfg.apihost.https;
    let timeout_seconds = seconds(&cfg.controller.limits.time_max);
    let mut overlay = Overlay::new(ComponentId::Endpoint, &cfg.namespace);
    for route in ROUTES {
        overlay = overlay.resource_template("endpoint/ingress.yaml", context! {
            name => route.name, path_regex => route.path_regex, rewrite => route.rewrite,
            host => host.clone(), tls, tls_secret => "nuvolaris-crt", ingress_class => cfg.ingress_class.clone(),
            timeout_seconds,
        })?;
    }
    let www = host
        .as_deref()
        .filter(|h| !h.contains("www") && cfg.flavour != Flavour::Kind);
    if let Some(host) = www {
        overlay = overlay.resource_template("endpoint/ingress.yaml", context! {
            name => "apihost-www-my", path_regex => ROUTES[2].path_regex, rewrite => ROUTES[2].rewrite,
            host => format!("www.{host}"), tls, tls_secret => "nuvolaris-crt-www",
            ingress_class => cfg.ingress_class.clone(), timeout_seconds,
        })?;
    }
    Ok(overlay)
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
