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
}

impl ApiHost {
    /// Computes the apihost as the original does for kind and generic clusters, without its bug
    /// of always answering `miniops.me` in auto mode: an explicit host wins, else the ingress
    /// load balancer's address (an IPv4 address gets `.nip.io`), else it is pending.
    pub fn compute(inputs: &ApiHostInputs<'_>) -> ApiHost {
        let explicit = inputs.host.filter(|h| !h.is_empty() && *h != "auto");
        let host = explicit.or(inputs.load_balancer).map(with_nip_io);
        let https = match inputs.protocol {
            Some("http") => false,
            Some("https") => true,
            _ => inputs.flavour != Flavour::Kind && inputs.tls,
        };
        ApiHost {
            host,
            port: inputs.port,
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
