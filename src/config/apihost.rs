//! The public address of the OpenWhisk API.

use std::net::Ipv4Addr;

use super::flavour::Flavour;

/// Where users reach the API, e.g. `http://localhost:3233` or `https://api.example.com`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiHost {
    /// `None` while nothing says what it is (no explicit host, no load balancer address yet).
    pub host: Option<String>,
    pub port: Option<u16>,
    pub https: bool,
}

/// What the apihost is computed from.
pub struct ApiHostInputs<'a> {
    /// `spec.nuvolaris.apihost`, or the `nuvolaris.io/apihost` node label; "auto" means detect.
    pub host: Option<&'a str>,
    pub port: Option<u16>,
    /// `spec.nuvolaris.protocol`: "http", "https" or "auto".
    pub protocol: Option<&'a str>,
    pub tls: bool,
    pub flavour: Flavour,
    /// Hostname or IP of the ingress load balancer, if known.
    pub load_balancer: Option<&'a str>,
    /// The apihost the live installation publishes (`cm/config`'s `apihost`, or the host of the
    /// `apihost` Ingress), as `<scheme>://<host>[:<port>]`.
    pub live: Option<&'a str>,
}

/// Whether `url` names an apihost (`<scheme>://<host>[:<port>]`, not pending).
pub fn is_known(url: &str) -> bool {
    parse_live(url).is_some()
}

/// The parts of a live apihost URL; `None` for a pending or malformed one.
fn parse_live(url: &str) -> Option<(String, Option<u16>, bool)> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let https = match scheme {
        "http" => false,
        "https" => true,
        _ => return None,
    };
    let authority = rest.split('/').next()?;
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port.parse::<u16>().ok()?)),
        None => (authority, None),
    };
    (!host.is_empty() && host != "pending").then(|| (host.to_owned(), port, https))
}

impl ApiHost {
    /// Computes the apihost as the original does for kind and generic clusters, without its bug
    /// of always answering `miniops.me` in auto mode: an explicit host wins; else the live
    /// installation keeps the one it publishes (scheme and port included, unless the spec sets
    /// them), so a takeover or a moved load balancer never changes users' URLs behind their
    /// back; else the ingress load balancer's address (an IPv4 address gets `.nip.io`); else it
    /// is pending.
    pub fn compute(inputs: &ApiHostInputs<'_>) -> ApiHost {
        let explicit = inputs.host.filter(|h| !h.is_empty() && *h != "auto");
        let live = explicit
            .is_none()
            .then(|| inputs.live.and_then(parse_live))
            .flatten();
        let host = match (&explicit, &live) {
            (Some(host), _) => Some(with_nip_io(host)),
            (None, Some((host, _, _))) => Some(host.clone()),
            (None, None) => inputs.load_balancer.map(with_nip_io),
        };
        let https = match (inputs.protocol, &live) {
            (Some("http"), _) => false,
            (Some("https"), _) => true,
            (_, Some((_, _, https))) => *https,
            _ => inputs.flavour != Flavour::Kind && inputs.tls,
        };
        ApiHost {
            host,
            port: inputs
                .port
                .or_else(|| live.as_ref().and_then(|(_, port, _)| *port)),
            https,
        }
    }

    pub fn scheme(&self) -> &'static str {
        if self.https { "https" } else { "http" }
    }

    /// The URL, or `None` while pending.
    pub fn url(&self) -> Option<String> {
        let host = self.host.as_deref()?;
        Some(match self.port {
            Some(port) => format!("{}://{host}:{port}", self.scheme()),
            None => format!("{}://{host}", self.scheme()),
        })
    }
}

/// An IPv4 address is not a usable virtual host: the original appends `.nip.io`.
fn with_nip_io(host: &str) -> String {
    if host.parse::<Ipv4Addr>().is_ok() {
        format!("{host}.nip.io")
    } else {
        host.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs<'a>(host: Option<&'a str>, lb: Option<&'a str>) -> ApiHostInputs<'a> {
        ApiHostInputs {
            host,
            port: None,
            protocol: None,
            tls: false,
            flavour: Flavour::Generic,
            load_balancer: lb,
            live: None,
        }
    }

    #[test]
    fn a_live_installation_keeps_its_apihost_until_the_spec_says_otherwise() {
        let mut i = inputs(Some("auto"), Some("1.2.3.4"));
        i.live = Some("http://miniops.me");
        assert_eq!(
            ApiHost::compute(&i).url().as_deref(),
            Some("http://miniops.me"),
            "not the load balancer's"
        );
        i.live = Some("https://localhost:3233");
        assert_eq!(
            ApiHost::compute(&i).url().as_deref(),
            Some("https://localhost:3233"),
            "scheme and port kept"
        );
        i.protocol = Some("http");
        i.port = Some(80);
        assert_eq!(
            ApiHost::compute(&i).url().as_deref(),
            Some("http://localhost:80"),
            "the spec's protocol and port win"
        );
        i.host = Some("api.example.org");
        assert_eq!(
            ApiHost::compute(&i).url().as_deref(),
            Some("http://api.example.org:80"),
            "the spec's host wins"
        );
        for pending in ["http://pending", "https://pending", "garbage", ""] {
            let mut i = inputs(None, Some("lb.example.net"));
            i.live = Some(pending);
            assert_eq!(
                ApiHost::compute(&i).url().as_deref(),
                Some("http://lb.example.net"),
                "{pending:?} is not an apihost"
            );
        }
    }

    #[test]
    fn explicit_host_wins_and_ips_get_nip_io() {
        let a = ApiHost::compute(&inputs(Some("api.example.com"), Some("1.2.3.4")));
        assert_eq!(a.url().as_deref(), Some("http://api.example.com"));
        let a = ApiHost::compute(&inputs(Some("10.0.0.7"), None));
        assert_eq!(a.url().as_deref(), Some("http://10.0.0.7.nip.io"));
    }

    #[test]
    fn auto_uses_the_load_balancer_not_miniops() {
        let a = ApiHost::compute(&inputs(Some("auto"), Some("lb.example.net")));
        assert_eq!(a.url().as_deref(), Some("http://lb.example.net"));
        let a = ApiHost::compute(&inputs(Some("auto"), None));
        assert_eq!(
            a.url(),
            None,
            "pending until the load balancer has an address"
        );
    }

    #[test]
    fn protocol_rules() {
        let mut i = inputs(Some("localhost"), None);
        i.port = Some(3233);
        i.flavour = Flavour::Kind;
        i.tls = true;
        assert_eq!(
            ApiHost::compute(&i).url().as_deref(),
            Some("http://localhost:3233")
        );
        i.flavour = Flavour::Generic;
        assert_eq!(
            ApiHost::compute(&i).url().as_deref(),
            Some("https://localhost:3233")
        );
        i.protocol = Some("http");
        assert_eq!(
            ApiHost::compute(&i).url().as_deref(),
            Some("http://localhost:3233")
        );
    }
}
