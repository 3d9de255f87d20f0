//! The ACME issuer of the apihost certificates (`spec.tls`).

use super::ConfigError;
use crate::crd::TlsSpec;

/// The original's default: Let's Encrypt's staging directory (certificates browsers do not
/// trust); the `ops` CLI writes the production one.
pub const ACME_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Tls {
    /// E-mail registered with the ACME server.
    pub email: String,
    /// The ACME directory.
    pub server_url: String,
}

impl Tls {
    /// `enabled`: whether TLS is on (then the e-mail must be an address: ACME refuses others).
    pub(super) fn from_spec(spec: Option<&TlsSpec>, enabled: bool) -> Result<Tls, ConfigError> {
        let spec = spec.cloned().unwrap_or_default();
        let email = spec
            .acme_registered_email
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| "nuvolaris@nuvolaris.io".to_owned());
        if enabled && !is_email(&email) {
            return Err(ConfigError::invalid(
                "tls.acme-registered-email",
                format!(
                    "tls.acme-registered-email must be an e-mail address when components.tls is on, not {email:?}"
                ),
            ));
        }
        Ok(Tls {
            email,
            server_url: spec
                .acme_server_url
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| ACME_STAGING.to_owned()),
        })
    }
}

/// `local@domain.tld`, without spaces: what an ACME server accepts as a contact.
fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !value.chars().any(char::is_whitespace)
        && !domain.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_acme_email_must_be_an_address_when_tls_is_on() {
        let spec = |email: &str| TlsSpec {
            acme_registered_email: Some(email.into()),
            acme_server_url: None,
        };
        assert!(Tls::from_spec(Some(&spec("ops@example.org")), true).is_ok());
        for bad in [
            "none",
            "ops@",
            "@example.org",
            "ops@localhost",
            "a b@example.org",
            "a@b@c.org",
        ] {
            let err = Tls::from_spec(Some(&spec(bad)), true).expect_err(bad);
            assert!(
                err.to_string().contains("tls.acme-registered-email"),
                "{err}"
            );
        }
        // off: the `ops` CLI writes "none" when TLS is not asked for
        assert!(Tls::from_spec(Some(&spec("none")), false).is_ok());
        let default = Tls::from_spec(None, false).expect("defaults");
        assert_eq!(default.server_url, ACME_STAGING);
    }
}
