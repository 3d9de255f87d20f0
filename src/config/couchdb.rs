//! CouchDB's configuration.

use super::secrets::{couchdb_setup_env, original_config};
use super::{
    ConfigError, Credentials, Extract, Flavour, GeneratedKey, GeneratedSecrets, LiveSource,
    Resources, positive, resources,
};
use crate::crd::{self, WhiskSpec};

pub const COUCHDB_IMAGE: &str = "apache/couchdb:2.3";
/// CouchDB image that runs under OpenShift's random uids.
pub const COUCHDB_IMAGE_OPENSHIFT: &str = "ghcr.io/nuvolaris/couchdb:2.3.1-nuvolaris.23101915";

/// A key of the controller's environment: the original's plain values, or this operator's
/// `controller-couchdb-auth-<hash>` Secret.
const fn controller_env(env: &'static str) -> LiveSource {
    LiveSource::Env {
        kind: "StatefulSet",
        name: "controller",
        env,
        extract: Extract::Whole,
    }
}

const fn controller_secret(key: &'static str) -> LiveSource {
    LiveSource::Secret {
        prefix: "controller-couchdb-auth-",
        key,
        extract: Extract::Whole,
    }
}

/// The admin password is in the `couchdb-auth-<hash>` Secret of both operators (CouchDB itself
/// keeps it on its volume: a new one would lock everything out).
pub const ADMIN_PASSWORD: GeneratedKey =
    GeneratedKey::password("couchdb-admin-password").kept_in(&[
        LiveSource::Secret {
            prefix: "couchdb-auth-",
            key: "db_password",
            extract: Extract::Whole,
        },
        controller_env("CONFIG_whisk_couchdb_password"),
        original_config("couchdb.admin.password"),
    ]);
pub const CONTROLLER_PASSWORD: GeneratedKey = GeneratedKey::password("couchdb-controller-password")
    .kept_in(&[
        controller_secret("controller_password"),
        controller_env("CONFIG_whisk_couchdb_controller_password"),
        original_config("couchdb.controller.password"),
        couchdb_setup_env("COUCHDB_CONTROLLER_PASSWORD", Extract::Whole),
    ]);
pub const INVOKER_PASSWORD: GeneratedKey = GeneratedKey::password("couchdb-invoker-password")
    .kept_in(&[
        original_config("couchdb.invoker.password"),
        couchdb_setup_env("COUCHDB_INVOKER_PASSWORD", Extract::Whole),
    ]);
pub const GENERATED: &[GeneratedKey] = &[ADMIN_PASSWORD, CONTROLLER_PASSWORD, INVOKER_PASSWORD];

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CouchDb {
    pub image: String,
    /// Service host and port the controller and the setup use.
    pub host: String,
    pub port: u16,
    pub volume_size_gi: u32,
    /// Set only when the spec gives `configs.couchdb.resources`.
    pub resources: Option<Resources>,
    #[serde(skip)]
    pub admin: Credentials,
    #[serde(skip)]
    pub controller: Credentials,
    #[serde(skip)]
    pub invoker: Credentials,
}

impl CouchDb {
    pub(super) fn from_spec(
        spec: &WhiskSpec,
        flavour: Flavour,
        secrets: &GeneratedSecrets,
    ) -> Result<CouchDb, ConfigError> {
        let couchdb = spec.couchdb.clone().unwrap_or_default();
        let credentials = |given: &Option<crd::UserPassword>,
                           default_user: &str,
                           key: GeneratedKey|
         -> Result<Credentials, ConfigError> {
            let user = given
                .as_ref()
                .and_then(|u| u.user.clone())
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| default_user.to_owned());
            let password =
                secrets.given_or(given.as_ref().and_then(|u| u.password.as_ref()), key)?;
            Ok(Credentials { user, password })
        };
        Ok(CouchDb {
            image: if flavour == Flavour::Openshift {
                COUCHDB_IMAGE_OPENSHIFT
            } else {
                COUCHDB_IMAGE
            }
            .to_owned(),
            host: couchdb.host.clone().unwrap_or_else(|| "couchdb".to_owned()),
            port: couchdb
                .port
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or(5984),
            volume_size_gi: positive(couchdb.volume_size).unwrap_or(10),
            resources: spec
                .configs
                .as_ref()
                .and_then(|c| c.couchdb.as_ref())
                .and_then(|c| c.resources.as_ref())
                .and_then(|r| resources(r, ("1", "1G", "2G"))),
            admin: credentials(&couchdb.admin, "whisk_admin", ADMIN_PASSWORD)?,
            controller: credentials(&couchdb.controller, "controller_admin", CONTROLLER_PASSWORD)?,
            invoker: credentials(&couchdb.invoker, "invoker_admin", INVOKER_PASSWORD)?,
        })
    }
}
