//! The whisk-system actions: the package `nuv` the `ops` CLI calls
//! (`/api/v1/web/whisk-system/nuv/<action>`), deployed into the controller once it runs.
//!
//! Deploys: the setup Job `whisk-system-init` (`nuvolaris-operator setup whisk-system`, over the
//! controller's REST API, see `setup::whisk_system`) and its generated Secret
//! `whisk-system-init-auth-<hash>` with the whisk-system key, the CouchDB admin password the
//! actions get as inputs, and the content hash of the actions and their inputs. The Job is
//! re-created, so the package re-deployed, only when that Secret or the Job's plain values
//! change: new actions (a new operator version), new inputs — not on every reconcile.
//!
//! Publishes `system_action_status` on `cm/config`: `created` once the Job has succeeded,
//! `failed` once it has failed (the `ops` CLI waits for `created`).

use std::collections::BTreeMap;
use std::time::Duration;

use super::kit::Overlay;
use super::{Component, ConfigAnnotation, RenderError, Support};
use crate::apply::kinds::{self, KnownKind};
use crate::config::Config;
use crate::crd::ComponentId;
use crate::secret::Secret;
use crate::setup::SetupSettings;
use crate::setup::whisk_system::WhiskSystemConfig;

pub struct WhiskSystem;

/// The OpenWhisk namespace of the package, and its key in `spec.openwhisk.namespaces`.
const NAMESPACE: &str = "whisk-system";
/// The controller's Service (`deploy/openwhisk-standalone`), in the installation's namespace.
const API_HOST: &str = "http://controller:3233";
/// The Job starts with the controller, which takes a while to answer: the whole deployment may
/// wait this long (the Job then fails and is re-run, see `apply`).
const DEADLINE: Duration = Duration::from_secs(300);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The database prefix of `setup couchdb`.
const DB_PREFIX: &str = "nuvolaris_";
/// Where `content` finds MinIO: the original's Service and port (the MinIO component's
/// settings, once it exists, belong here).
const MINIO_HOST: &str = "nuvolaris-minio";
const MINIO_PORT: u16 = 9000;

/// The key `ops` waits on.
pub const STATUS_ANNOTATION: &str = "system_action_status";

impl Component for WhiskSystem {
    fn id(&self) -> ComponentId {
        ComponentId::WhiskSystem
    }

    /// Without its controller (in a mode not built yet) there is nothing to deploy into.
    fn support(&self, cfg: &Config) -> Support {
        match super::openwhisk::Openwhisk.support(cfg) {
            Support::Unsupported(reason) => {
                Support::Unsupported(format!("its controller is not deployed: {reason}"))
            }
            Support::Supported => Support::Supported,
        }
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        let settings = settings(cfg)?;
        Ok(Overlay::new(self.id(), &cfg.namespace)
            .setup_job(&settings.to_env(), &cfg.operator_image))
    }

    fn config_annotations(&self, _cfg: &Config) -> Vec<ConfigAnnotation> {
        vec![
            ConfigAnnotation::plain(STATUS_ANNOTATION, "created").when_ready(),
            ConfigAnnotation::plain(STATUS_ANNOTATION, "failed").when_failed(),
        ]
    }

    fn kinds(&self) -> &'static [KnownKind] {
        &[kinds::SECRET, kinds::JOB]
    }
}

/// The settings of `setup whisk-system`: the whisk-system key and the CouchDB admin inputs.
fn settings(cfg: &Config) -> Result<WhiskSystemConfig, RenderError> {
    let defect = |message: String| RenderError::Defect {
        component: ComponentId::WhiskSystem,
        message,
    };
    let auth = cfg
        .namespaces
        .get(NAMESPACE)
        .ok_or_else(|| defect(format!("no auth key for the {NAMESPACE} namespace")))?;
    // Config::from_whisk has checked the `uuid:key` shape; never echo the key
    let (uuid, key) = auth
        .expose()
        .split_once(':')
        .ok_or_else(|| defect(format!("the {NAMESPACE} auth key is not uuid:key")))?;
    let db = &cfg.couchdb;
    let inputs: BTreeMap<String, Secret> = [
        ("couchdb_host", db.host.clone()),
        ("couchdb_port", db.port.to_string()),
        ("couchdb_user", db.admin.user.clone()),
        ("couchdb_password", db.admin.password.expose().to_owned()),
        ("couchdb_db_prefix", DB_PREFIX.to_owned()),
        ("minio_host", MINIO_HOST.to_owned()),
        ("minio_port", MINIO_PORT.to_string()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), Secret::new(value)))
    .collect();
    let settings = WhiskSystemConfig {
        api_host: API_HOST.to_owned(),
        namespace: NAMESPACE.to_owned(),
        auth_uuid: uuid.to_owned(),
        auth_key: Secret::new(key),
        inputs,
        deadline: DEADLINE,
        timeout: REQUEST_TIMEOUT,
    };
    settings.validate().map_err(|e| defect(e.to_string()))?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::components::{ComponentRender, render_all};
    use crate::config::{ClusterFacts, GeneratedSecrets};
    use crate::crd::Whisk;

    fn config(spec: Value) -> Config {
        let whisk: Whisk = serde_json::from_value(json!({
            "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
            "metadata": {"name": "controller", "namespace": "nuvolaris"},
            "spec": spec,
        }))
        .expect("a Whisk");
        let secrets = GeneratedSecrets::placeholders(&crate::components::generated_secret_keys());
        Config::from_whisk(&whisk, &ClusterFacts::default(), &secrets).expect("valid")
    }

    fn job_secret(cfg: &Config) -> String {
        let built = WhiskSystem
            .overlay(cfg)
            .expect("renders")
            .build()
            .expect("builds");
        assert_eq!(built.setup_jobs, ["whisk-system-init"]);
        let job = built
            .objects
            .iter()
            .find(|o| o["kind"] == "Job")
            .expect("the Job");
        assert_eq!(
            job["spec"]["template"]["spec"]["containers"][0]["args"],
            json!(["setup", "whisk-system"])
        );
        job.pointer("/spec/template/spec/containers/0/envFrom/0/secretRef/name")
            .and_then(Value::as_str)
            .expect("the Job loads its Secret")
            .to_owned()
    }

    #[test]
    fn the_job_is_re_run_only_when_what_it_deploys_changes() {
        let spec = json!({"components": {"openwhisk": true, "couchdb": true}});
        let cfg = config(spec.clone());
        let secret = job_secret(&cfg);
        assert!(secret.starts_with("whisk-system-init-auth-"), "{secret}");
        // what does not reach the actions leaves the Job as it is
        let mut other = spec.clone();
        other["controller"] = json!({"image": "registry.example.org/controller", "tag": "2"});
        other["components"]["redis"] = json!(true);
        assert_eq!(job_secret(&config(other)), secret);
        // a new CouchDB admin password (an input of the actions) re-runs it
        let mut other = spec;
        other["couchdb"] = json!({"admin": {"password": "changed-password"}});
        assert_ne!(job_secret(&config(other)), secret);
    }

    #[test]
    fn the_settings_carry_the_admin_inputs_and_the_whisk_system_key() {
        let cfg = config(json!({"components": {"openwhisk": true}}));
        let settings = settings(&cfg).expect("settings");
        let auth = cfg.namespaces[NAMESPACE].expose();
        assert_eq!(
            format!("{}:{}", settings.auth_uuid, settings.auth_key.expose()),
            auth
        );
        assert_eq!(
            settings.inputs["couchdb_password"].expose(),
            cfg.couchdb.admin.password.expose()
        );
        assert_eq!(settings.inputs["couchdb_user"].expose(), "whisk_admin");
        assert_eq!(settings.api_host, "http://controller:3233");
    }

    #[test]
    fn the_status_annotation_follows_the_outcome_and_the_component_follows_openwhisk() {
        let on = config(json!({"components": {"openwhisk": true}}));
        let rendered = render_all(&on).expect("renders");
        let whisk_system = rendered
            .iter()
            .find(|r| r.id() == ComponentId::WhiskSystem)
            .expect("listed");
        let ComponentRender::Rendered(component) = whisk_system else {
            panic!("not rendered: {whisk_system:?}");
        };
        let by_outcome: Vec<(&str, super::super::Publish)> = component
            .annotations
            .iter()
            .map(|a| (a.value.as_str(), a.when))
            .collect();
        assert_eq!(
            by_outcome,
            [
                ("created", super::super::Publish::Ready),
                ("failed", super::super::Publish::Failed)
            ]
        );
        let off = config(json!({"components": {"openwhisk": false}}));
        assert!(
            render_all(&off)
                .expect("renders")
                .contains(&ComponentRender::Disabled(ComponentId::WhiskSystem))
        );
    }
}
