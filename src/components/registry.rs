//! The image registry (`components.registry`), where the `ops` CLI pushes the images of actions.
//!
//! Internal mode deploys: StatefulSet `registry` (pod `registry-0`, volume claim `registry-pvc`),
//! Service `nuvolaris-registry-svc` (NodePort 32000), the generated Secret
//! `registry-auth-secret-<hash>` with the htpasswd file (bcrypt), the pull Secret
//! `registry-pull-secret` (`kubernetes.io/dockerconfigjson`) and, with `registry.ingress.enabled`,
//! the route `registry` for `img.<apihost>` (through [`web`](super::web)). External mode deploys
//! the two Secrets only. With the registry on, the controller's action pods pull through the pull
//! Secret (`usePrivateRegistry`, see `config::openwhisk`). `cm/config` gets `registry_host`,
//! `registry_internal_host`, `registry_username`, `registry_password` and `registry_url`.

use std::sync::Mutex;

use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::kit::{Overlay, VolumeClaim, Workload};
use super::web::{self, Target, WebRoute};
use super::{Component, ConfigAnnotation, Leftover, RenderError};
use crate::apply::kinds::{self, KnownKind};
use crate::config::registry::{SERVICE, SERVICE_HOST};
use crate::config::{self, Config, GeneratedKey};
use crate::crd::ComponentId;

pub struct Registry;

const REGISTRY: Workload = Workload::stateful_set("registry");
/// The pull Secret's name: the controller's pod template names it.
pub const PULL_SECRET: &str = "registry-pull-secret";
/// bcrypt cost of the htpasswd entry: the registry checks it on every request (a push makes
/// dozens), so the cost trades against push time; 10 is bcrypt's usual default.
pub const HTPASSWD_COST: u32 = 10;

impl Component for Registry {
    fn id(&self) -> ComponentId {
        ComponentId::Registry
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        let r = &cfg.registry;
        let htpasswd = htpasswd(&r.username, r.password.expose(), r.htpasswd_salt.expose())
            .map_err(|message| RenderError::Defect {
                component: self.id(),
                message,
            })?;
        let mut overlay = Overlay::new(self.id(), &cfg.namespace)
            .secret("registry-auth-secret", [("htpasswd", htpasswd.as_str())])
            .object(&pull_secret(&r.pull_host, &r.username, r.password.expose()));
        if !r.internal {
            return Ok(overlay);
        }
        overlay = overlay
            .base("registry", &["statefulset.yaml", "service.yaml"])?
            .image("registry", &r.image)
            .volume_claim(&VolumeClaim {
                name: "registry",
                container: REGISTRY.container("registry"),
                mount_path: "/var/lib/registry",
                size_gi: r.volume_size_gi,
                storage_class: cfg.storage_class.clone(),
            })?
            .scheduling(REGISTRY, cfg.scheduling, "registry")?;
        if let Some(host) = &r.route_host {
            let route = WebRoute {
                name: "registry".to_owned(),
                host: Some(host.clone()),
                path: "/".to_owned(),
                target: Target::Same,
                service: SERVICE.to_owned(),
                port: 5000,
                route_backend: None,
                tls_secret: cfg.tls.then(|| "nuvolaris-registry-crt".to_owned()),
                timeout_seconds: super::endpoint::seconds(&cfg.controller.limits.time_max),
            };
            for object in web::publish(&route, &cfg.publisher, &cfg.namespace) {
                overlay = overlay.object(&object);
            }
        }
        Ok(overlay)
    }

    /// What the `ops` CLI reads to push images (`registry_password` creates its own pull secret).
    fn config_annotations(&self, cfg: &Config) -> Vec<ConfigAnnotation> {
        let r = &cfg.registry;
        let internal_host = if r.internal {
            SERVICE_HOST
        } else {
            r.host.as_str()
        };
        let mut annotations = vec![
            ConfigAnnotation::plain("registry_host", &r.host),
            ConfigAnnotation::plain("registry_internal_host", internal_host),
            ConfigAnnotation::plain("registry_username", &r.username),
            ConfigAnnotation::credential("registry_password", r.password.expose()),
        ];
        if let Some(url) = &r.url {
            annotations.push(ConfigAnnotation::plain("registry_url", url));
        }
        annotations
    }

    fn generated_secrets(&self) -> &'static [GeneratedKey] {
        config::registry::GENERATED
    }

    /// The original's htpasswd Secret, replaced by `registry-auth-secret-<hash>`.
    fn leftovers(&self) -> &'static [Leftover] {
        &[Leftover {
            kind: kinds::SECRET,
            name: "registry-auth-secret",
        }]
    }

    fn kinds(&self) -> &'static [KnownKind] {
        &[
            kinds::SECRET,
            kinds::SERVICE,
            kinds::STATEFUL_SET,
            kinds::INGRESS,
            kinds::TRAEFIK_MIDDLEWARE,
            kinds::TRAEFIK_MIDDLEWARE_LEGACY,
            kinds::ROUTE,
        ]
    }
}

/// The `kubernetes.io/dockerconfigjson` Secret for `host` (fixed name: other components' pod
/// templates name it).
fn pull_secret(host: &str, user: &str, password: &str) -> serde_json::Value {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let config = json!({"auths": {host: {
        "username": user,
        "password": password,
        "auth": b64(&format!("{user}:{password}")),
    }}});
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": PULL_SECRET},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": b64(&config.to_string())},
    })
}

/// The htpasswd line `user:<bcrypt>` of the registry. The salt is derived from the
/// installation's random `registry-htpasswd-salt`, so the same password gives the same line on
/// every render (the Secret's hashed name, hence the pod, changes only with the password). The
/// hash is kept in memory for the next renders: bcrypt is slow on purpose.
pub fn htpasswd(user: &str, password: &str, salt_secret: &str) -> Result<String, String> {
    type Memo = Vec<([u8; 32], String)>;
    static MEMO: Mutex<Memo> = Mutex::new(Vec::new());
    const MEMO_SIZE: usize = 16;
    let key: [u8; 32] = Sha256::new()
        .chain_update(salt_secret.len().to_be_bytes())
        .chain_update(salt_secret)
        .chain_update(user.len().to_be_bytes())
        .chain_update(user)
        .chain_update(password)
        .finalize()
        .into();
    let memo = || MEMO.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, line)) = memo().iter().find(|(k, _)| *k == key) {
        return Ok(line.clone());
    }
    let salt: [u8; 32] = Sha256::new()
        .chain_update(b"nuvolaris-operator registry htpasswd salt\0")
        .chain_update(salt_secret)
        .finalize()
        .into();
    let mut salt16 = [0u8; 16];
    salt16.copy_from_slice(&salt[..16]);
    let hash = bcrypt::hash_with_salt(password, HTPASSWD_COST, salt16)
        .map_err(|e| format!("bcrypt: {e}"))?
        .format_for_version(bcrypt::Version::TwoY);
    let line = format!("{user}:{hash}\n");
    let mut memo = memo();
    if memo.len() >= MEMO_SIZE {
        memo.remove(0);
    }
    memo.push((key, line.clone()));
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_htpasswd_line_is_stable_and_verifies() {
        let line = htpasswd("ops", "pw:1", "salt-a").unwrap();
        assert_eq!(line, htpasswd("ops", "pw:1", "salt-a").unwrap(), "memo");
        let (user, hash) = line.trim_end().split_once(':').unwrap();
        assert_eq!(user, "ops");
        assert!(hash.starts_with("$2y$10$"), "{hash}");
        assert!(bcrypt::verify("pw:1", hash).unwrap());
        assert!(!bcrypt::verify("pw:2", hash).unwrap());
        assert_ne!(
            line,
            htpasswd("ops", "pw:1", "salt-b").unwrap(),
            "per installation"
        );
        assert_ne!(line, htpasswd("ops", "pw:2", "salt-a").unwrap());
    }

    #[test]
    fn the_pull_secret_is_a_docker_config() {
        let secret = pull_secret("127.0.0.1:32000", "ops", "pw");
        let data = secret["data"][".dockerconfigjson"].as_str().unwrap();
        let config: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::STANDARD
                .decode(data)
                .unwrap(),
        )
        .unwrap();
        let auth = &config["auths"]["127.0.0.1:32000"];
        assert_eq!(auth["username"], "ops");
        assert_eq!(
            auth["auth"],
            base64::engine::general_purpose::STANDARD.encode("ops:pw")
        );
    }
}
