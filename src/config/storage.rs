//! What the object stores (MinIO, SeaweedFS) and the static web server share: the buckets, the
//! S3 endpoint other components use, and the hosts of the published S3 and console routes.

use super::{ApiHost, ConfigError};
use crate::crd::S3IngressSpec;

/// The bucket of the installation's data (`s3_bucket_data`).
pub const DATA_BUCKET: &str = "nuvolaris-data";
/// The bucket the static web server serves (`s3_bucket_static`), readable by anyone.
pub const STATIC_BUCKET: &str = "nuvolaris-web";
/// The S3 port of both stores' Services.
pub const S3_PORT: u16 = 9000;

/// Which store serves S3 (the `s3_provider` annotation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Provider {
    Minio,
    Seaweedfs,
}

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Provider::Minio => "minio",
            Provider::Seaweedfs => "seaweedfs",
        }
    }
}

/// The installation's object store as its clients see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ObjectStore {
    pub provider: Provider,
    /// The Service serving S3 on [`S3_PORT`].
    pub service: String,
    /// Its fully qualified name in the installation's namespace.
    pub host: String,
}

impl ObjectStore {
    pub fn new(provider: Provider, service: &str, namespace: &str) -> ObjectStore {
        ObjectStore {
            provider,
            service: service.to_owned(),
            host: format!("{service}.{namespace}.svc.cluster.local"),
        }
    }

    /// `http://<host>:9000`.
    pub fn url(&self) -> String {
        format!("http://{}:{S3_PORT}", self.host)
    }
}

/// The hosts of a store's published routes: `None` when the route is off, or while its host
/// derives from an apihost that is not known yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct StoreRoutes {
    /// The S3 API (`s3.<apihost>` unless the spec names a host).
    pub s3: Option<String>,
    /// The console (`<console_prefix>.<apihost>` unless the spec names a host).
    pub console: Option<String>,
}

impl StoreRoutes {
    /// `section` is the spec section (`minio` or `seaweedfs`), for error fields.
    pub(super) fn from_spec(
        spec: Option<&S3IngressSpec>,
        section: &str,
        console_prefix: &str,
        apihost: &ApiHost,
    ) -> Result<StoreRoutes, ConfigError> {
        let spec = spec.cloned().unwrap_or_default();
        let host = |enabled: Option<bool>, given: Option<&String>, field: &str, prefix: &str| {
            let field = format!("{section}.ingress.{field}");
            let explicit = given
                .map(|h| h.trim())
                .filter(|h| !h.is_empty() && *h != "auto");
            if let Some(host) = explicit {
                check_host(&field, host)?;
            }
            if !enabled.unwrap_or(false) {
                return Ok(None);
            }
            Ok(match explicit {
                Some(host) => Some(host.to_owned()),
                None => apihost.host.as_ref().map(|h| format!("{prefix}.{h}")),
            })
        };
        Ok(StoreRoutes {
            s3: host(
                spec.s3_enabled,
                spec.s3_hostname.as_ref(),
                "s3-hostname",
                "s3",
            )?,
            console: host(
                spec.console_enabled,
                spec.console_hostname.as_ref(),
                "console-hostname",
                console_prefix,
            )?,
        })
    }
}

/// A host name an Ingress accepts: a lowercase RFC 1123 DNS name (labels of letters, digits
/// and `-`, not starting or ending with `-`, at most 63 characters; 253 in all).
pub fn check_host(field: &str, host: &str) -> Result<(), ConfigError> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if host.len() <= 253 && host.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            field,
            format!(
                "{field} must be a DNS name (lowercase letters, digits, '-' and '.'), not {host:?}"
            ),
        ))
    }
}

/// The credentials given in the spec: an access key and secret key MinIO and the S3 clients
/// accept (MinIO refuses access keys under 3 and secret keys under 8 characters).
pub(super) fn check_key_pair(
    section: &str,
    user: &str,
    secret: &crate::secret::Secret,
) -> Result<(), ConfigError> {
    if user.len() < 3
        || user
            .chars()
            .any(|c| c.is_whitespace() || c == ',' || c == '/')
    {
        let field = format!("{section}.user");
        return Err(ConfigError::invalid(
            field.clone(),
            format!("{field} must have at least 3 characters, without spaces, ',' or '/'"),
        ));
    }
    if secret.expose().len() < 8 {
        // never echo the value
        let field = format!("{section}.password");
        return Err(ConfigError::invalid(
            field.clone(),
            format!("{field} must have at least 8 characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apihost(host: Option<&str>) -> ApiHost {
        ApiHost {
            host: host.map(str::to_owned),
            port: None,
            https: false,
        }
    }

    #[test]
    fn routes_derive_from_the_apihost_unless_named() {
        let spec = S3IngressSpec {
            s3_enabled: Some(true),
            s3_hostname: Some("auto".into()),
            console_enabled: Some(true),
            console_hostname: Some("console.example.org".into()),
        };
        let routes = StoreRoutes::from_spec(
            Some(&spec),
            "minio",
            "minio",
            &apihost(Some("api.example.org")),
        )
        .expect("valid");
        assert_eq!(routes.s3.as_deref(), Some("s3.api.example.org"));
        assert_eq!(routes.console.as_deref(), Some("console.example.org"));
        let pending =
            StoreRoutes::from_spec(Some(&spec), "minio", "minio", &apihost(None)).expect("valid");
        assert_eq!(pending.s3, None, "no apihost yet: no route");
        assert_eq!(pending.console.as_deref(), Some("console.example.org"));
        let off =
            StoreRoutes::from_spec(None, "minio", "minio", &apihost(Some("a.b"))).expect("valid");
        assert_eq!(off, StoreRoutes::default());
    }

    #[test]
    fn host_names_must_be_dns_names() {
        for bad in [
            "S3.example.org",
            "s3 .org",
            "-a.org",
            "a..org",
            "a_b.org",
            "http://a.org",
        ] {
            let spec = S3IngressSpec {
                s3_enabled: Some(false),
                s3_hostname: Some(bad.into()),
                ..S3IngressSpec::default()
            };
            let err = StoreRoutes::from_spec(Some(&spec), "seaweedfs", "filer", &apihost(None))
                .expect_err(bad);
            let ConfigError::Invalid { field, .. } = err else {
                panic!("{bad}: not invalid input");
            };
            assert_eq!(field, "seaweedfs.ingress.s3-hostname");
        }
        check_host("f", "s3.api-1.example.org").expect("valid");
    }
}
