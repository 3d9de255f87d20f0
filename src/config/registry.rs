//! The image registry's configuration (`spec.registry`, `components.registry`).

use super::{ApiHost, ConfigError, Extract, Flavour, GeneratedKey, GeneratedSecrets, LiveSource};
use crate::crd::{RegistryMode, WhiskSpec};
use crate::secret::Secret;

/// The original's image (distribution, the CNCF registry).
pub const REGISTRY_IMAGE: &str = "registry:3.0.0";
/// The registry's Service, as every client names it (`nuvolaris-registry-svc:5000`).
pub const SERVICE: &str = "nuvolaris-registry-svc";
pub const SERVICE_HOST: &str = "nuvolaris-registry-svc:5000";
/// What the kind node's containerd mirrors: the NodePort 32000 on the node itself.
pub const KIND_PULL_HOST: &str = "127.0.0.1:32000";

/// The registry password the CR leaves out (the original's default was `4pwdregistry`).
/// Kept from the pull Secret (both operators': `auths.<host>.password`) or the original's
/// `registry_password` annotation.
pub const PASSWORD: GeneratedKey = GeneratedKey::password("registry-password").kept_in(&[
    LiveSource::Secret {
        prefix: "registry-pull-secret",
        key: ".dockerconfigjson",
        extract: Extract::Regex(r#""password":\s*"([^"\\]+)""#),
    },
    LiveSource::annotation("registry_password"),
]);
/// A random value per installation from which the htpasswd salt is derived, so the bcrypt hash
/// (hence the Secret and the pod) changes only when the password does.
pub const HTPASSWD_SALT: GeneratedKey = GeneratedKey::password("registry-htpasswd-salt");
pub const GENERATED: &[GeneratedKey] = &[PASSWORD, HTPASSWD_SALT];

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Registry {
    /// In the cluster (StatefulSet, Service, claim) or elsewhere (only the Secrets).
    pub internal: bool,
    pub image: String,
    pub volume_size_gi: u32,
    pub username: String,
    #[serde(skip)]
    pub password: Secret,
    #[serde(skip)]
    pub htpasswd_salt: Secret,
    /// Where images are pushed and pulled (`registry_host`): the explicit hostname, else
    /// `img.<apihost>` with the ingress on, else the Service.
    pub host: String,
    /// The host of the `registry` route (`registry.ingress.enabled`, internal mode): `None` while
    /// the apihost it derives from is pending.
    pub route_host: Option<String>,
    /// `registry_url`: `<scheme>://<route host>` when published.
    pub url: Option<String>,
    /// The registry the pull secret authenticates to (on kind the node's mirror of the NodePort).
    pub pull_host: String,
}

impl Registry {
    /// `enabled`: whether `components.registry` is on (the hostname is checked only then).
    pub(super) fn from_spec(
        spec: &WhiskSpec,
        flavour: Flavour,
        apihost: &ApiHost,
        secrets: &GeneratedSecrets,
        enabled: bool,
    ) -> Result<Registry, ConfigError> {
        let registry = spec.registry.clone().unwrap_or_default();
        let internal = registry.mode.unwrap_or(RegistryMode::Internal) == RegistryMode::Internal;
        let auth = registry.auth.clone().unwrap_or_default();
        let hostname = registry
            .hostname
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty() && *h != "auto");
        let ingress = internal
            && registry
                .ingress
                .as_ref()
                .and_then(|i| i.enabled)
                .unwrap_or(false);
        if let Some(host) = hostname
            && !is_host(host)
        {
            return Err(ConfigError::invalid(
                "registry.hostname",
                format!(
                    "registry.hostname must be a host name (with an optional port), not {host:?}"
                ),
            ));
        }
        if enabled && !internal && hostname.is_none() {
            return Err(ConfigError::invalid(
                "registry.hostname",
                "registry.hostname must name the external registry when registry.mode is external",
            ));
        }
        let route_host = match (ingress, hostname) {
            (false, _) => None,
            (true, Some(host)) => Some(host.to_owned()),
            (true, None) => apihost.host.as_ref().map(|h| format!("img.{h}")),
        };
        let host = hostname
            .map(str::to_owned)
            .or_else(|| route_host.clone())
            .unwrap_or_else(|| SERVICE_HOST.to_owned());
        let pull_host = if internal && flavour == Flavour::Kind {
            KIND_PULL_HOST.to_owned()
        } else {
            host.clone()
        };
        Ok(Registry {
            internal,
            image: REGISTRY_IMAGE.to_owned(),
            volume_size_gi: registry
                .volume_size
                .and_then(|v| u32::try_from(v).ok())
                .filter(|v| *v > 0)
                .unwrap_or(20),
            username: auth
                .username
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| "openserverless".to_owned()),
            // read only when enabled: a disabled registry needs no generated values
            password: match enabled {
                true => secrets.given_or(auth.password.as_ref(), PASSWORD)?,
                false => Secret::default(),
            },
            htpasswd_salt: match enabled {
                true => secrets.get(HTPASSWD_SALT)?,
                false => Secret::default(),
            },
            url: route_host
                .as_ref()
                .map(|h| format!("{}://{h}", apihost.scheme())),
            route_host,
            host,
            pull_host,
        })
    }
}

/// `host` or `host:port`, letters, digits, `-` and `.` only.
fn is_host(value: &str) -> bool {
    let (host, port) = match value.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (value, None),
    };
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0))
}
