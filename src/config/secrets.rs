//! Passwords and keys the CR leaves out: generated randomly once by the controller and kept in
//! the Secret [`GENERATED_SECRET_NAME`] (in the CR's namespace, owned by the CR). Each component
//! declares the keys it needs ([`GeneratedKey`] constants next to its configuration); existing
//! values are never changed.

use std::collections::BTreeMap;

use super::ConfigError;
use crate::secret::Secret;

/// Name of the Secret holding the generated passwords.
pub const GENERATED_SECRET_NAME: &str = "nuvolaris-generated";

/// What a generated value looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretShape {
    /// 32 alphanumerics.
    Password,
    /// An OpenWhisk auth key: `<uuid>:<64 alphanumerics>`.
    OpenWhiskAuth,
    /// An ECDSA P-256 private key, PKCS#8 PEM (e.g. etcd's JWT signing key).
    EcPrivateKey,
}

/// One key of the generated Secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneratedKey {
    pub name: &'static str,
    pub shape: SecretShape,
}

impl GeneratedKey {
    pub const fn password(name: &'static str) -> GeneratedKey {
        GeneratedKey {
            name,
            shape: SecretShape::Password,
        }
    }

    pub const fn auth(name: &'static str) -> GeneratedKey {
        GeneratedKey {
            name,
            shape: SecretShape::OpenWhiskAuth,
        }
    }

    pub const fn ec_private_key(name: &'static str) -> GeneratedKey {
        GeneratedKey {
            name,
            shape: SecretShape::EcPrivateKey,
        }
    }

    /// A fresh random value of this key's shape.
    pub fn generate(self) -> String {
        use rand::Rng;
        use rand::distr::Alphanumeric;
        let random = |n: usize| -> String {
            rand::rng()
                .sample_iter(&Alphanumeric)
                .take(n)
                .map(char::from)
                .collect()
        };
        match self.shape {
            SecretShape::Password => random(32),
            SecretShape::OpenWhiskAuth => {
                let hex = |n: usize| -> String {
                    let mut rng = rand::rng();
                    (0..n)
                        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
                        .collect()
                };
                format!(
                    "{}-{}-{}-{}-{}:{}",
                    hex(8),
                    hex(4),
                    hex(4),
                    hex(4),
                    hex(12),
                    random(64)
                )
            }
            SecretShape::EcPrivateKey => ec_private_key_pem(),
        }
    }

    /// A fixed stand-in of the right shape, for offline renders (deterministic output).
    pub fn placeholder(self) -> String {
        match self.shape {
            SecretShape::Password => format!("generated-{}", self.name),
            SecretShape::OpenWhiskAuth => format!(
                "00000000-0000-0000-0000-000000000000:{:x<64}",
                format!("generated-{}", self.name)
            ),
            SecretShape::EcPrivateKey => format!(
                "-----BEGIN PRIVATE KEY-----\ngenerated-{}\n-----END PRIVATE KEY-----\n",
                self.name
            ),
        }
    }
}

/// A fresh ECDSA P-256 key as PKCS#8 PEM, from the system's random source.
fn ec_private_key_pem() -> String {
    use base64::Engine;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    let rng = ring::rand::SystemRandom::new();
    // Only fails when the system has no random source, where nothing else would work either.
    let Ok(document) = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng) else {
        panic!("no system random source to generate a key");
    };
    let encoded = base64::engine::general_purpose::STANDARD.encode(document.as_ref());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    pem
}

/// The installation-wide keys that belong to no single component: the auth keys of the
/// `whisk-system` and `nuvolaris` OpenWhisk namespaces and the `nuvolaris` user's password.
pub const WHISK_SYSTEM_AUTH: GeneratedKey = GeneratedKey::auth("whisk-system-auth");
pub const NUVOLARIS_AUTH: GeneratedKey = GeneratedKey::auth("nuvolaris-auth");
pub const NUVOLARIS_PASSWORD: GeneratedKey = GeneratedKey::password("nuvolaris-password");
pub const CORE_KEYS: &[GeneratedKey] = &[NUVOLARIS_PASSWORD, WHISK_SYSTEM_AUTH, NUVOLARIS_AUTH];

/// The content of the generated Secret, by key.
#[derive(Clone, Default, PartialEq)]
pub struct GeneratedSecrets(pub BTreeMap<String, String>);

impl std::fmt::Debug for GeneratedSecrets {
    // Never print secret values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl GeneratedSecrets {
    /// The generated value of `key`. Missing means the controller did not ensure the key: an
    /// operator defect, not the user's fault.
    pub fn get(&self, key: GeneratedKey) -> Result<Secret, ConfigError> {
        self.0
            .get(key.name)
            .map(Secret::new)
            .ok_or(ConfigError::MissingGenerated(key.name))
    }

    /// The spec's value when it gives a non-empty one, else the generated `key`.
    pub fn given_or(
        &self,
        value: Option<&String>,
        key: GeneratedKey,
    ) -> Result<Secret, ConfigError> {
        match value.filter(|v| !v.is_empty()) {
            Some(v) => Ok(Secret::new(v.clone())),
            None => self.get(key),
        }
    }

    /// Stand-ins for every key, for offline renders.
    pub fn placeholders<'a>(keys: impl IntoIterator<Item = &'a GeneratedKey>) -> GeneratedSecrets {
        GeneratedSecrets(
            keys.into_iter()
                .map(|k| (k.name.to_owned(), k.placeholder()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_values_have_their_shape() {
        assert_eq!(NUVOLARIS_PASSWORD.generate().len(), 32);
        let auth = NUVOLARIS_AUTH.generate();
        let (uuid, key) = auth.split_once(':').expect("uuid:key");
        assert_eq!((uuid.len(), key.len()), (36, 64));
        assert_ne!(NUVOLARIS_AUTH.generate(), auth, "random");
        assert!(NUVOLARIS_AUTH.placeholder().starts_with("00000000-"));
        let key = GeneratedKey::ec_private_key("k").generate();
        assert!(key.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{key}");
        assert!(key.ends_with("-----END PRIVATE KEY-----\n"));
        assert_ne!(GeneratedKey::ec_private_key("k").generate(), key, "random");
    }
}
