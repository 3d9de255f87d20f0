//! PostgreSQL, run by the Kubegres controller (also on with `components.mongodb`: FerretDB
//! stores into it).
//!
//! Deploys: the Kubegres controller (its CRD, generated from [`kubegres`]; ServiceAccount,
//! RBAC, Deployment `kubegres-controller-manager`), the Secret `postgres-nuvolaris-secret`
//! (superuser and replication passwords), the ConfigMap `nuvolaris-postgres-conf`, the
//! `Kubegres` resource `nuvolaris-postgres` (Kubegres then creates the StatefulSets
//! `nuvolaris-postgres-<n>`, so the primary pod is `nuvolaris-postgres-1-0`, and the Services
//! `nuvolaris-postgres` and `nuvolaris-postgres-replica`), the backup StatefulSet
//! `nuvolaris-postgres-backup` when backups are on, and the setup Job `postgres-init`
//! (`nuvolaris-operator setup postgres`: the `nuvolaris` database, user and schema). Ready when
//! the Kubegres resource's own status says so and the Job has completed.

pub mod kubegres;

use base64::Engine;
use kube::CustomResourceExt;
use serde_json::{Value, json};

use super::kit::{
    Overlay, VolumeClaim, Workload, core_node_affinity, core_tolerations, url_userinfo,
};
use super::{Component, ConfigAnnotation, RenderError};
use crate::apply::kinds::{self, KnownKind};
use crate::apply::{APPLY_POLICY_ANNOTATION, CREATE_ONLY};
use crate::config::postgres::{CLUSTER_NAME, DATABASE, USER};
use crate::config::{self, Config, GeneratedKey};
use crate::crd::ComponentId;
use crate::setup::{PostgresSetupConfig, SetupSettings};

pub struct Postgres;

/// The Secret Kubegres reads the passwords from (the quota checker reads it too).
pub const SECRET: &str = "postgres-nuvolaris-secret";
const CONTROLLER: Workload = Workload::deployment("kubegres-controller-manager");
const BACKUP: Workload = Workload::stateful_set("nuvolaris-postgres-backup");

impl Component for Postgres {
    fn id(&self) -> ComponentId {
        ComponentId::Postgres
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        let pg = &cfg.postgres;
        let crd = kubegres_crd()
            .as_ref()
            .map_err(|e| self.defect(format!("the Kubegres CRD does not serialize: {e}")))?;
        let encode = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let secret = json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": SECRET},
            "type": "Opaque",
            "data": {
                "superUserPassword": encode(pg.admin_password.expose()),
                "replicationUserPassword": encode(pg.replication_password.expose()),
                "nuvolarisUserPassword": encode(pg.nuvolaris_password.expose()),
            },
        });
        let setup = PostgresSetupConfig::new(
            format!("{}:{}", pg.host, pg.port),
            pg.admin_password.clone(),
            DATABASE,
            USER,
            pg.nuvolaris_password.clone(),
        );
        let mut overlay = Overlay::new(self.id(), &cfg.namespace)
            .object(crd)
            .base(
                "postgres",
                &["kubegres-operator.yaml", "postgres-conf.yaml"],
            )?
            .image("reactivetechio/kubegres", config::postgres::KUBEGRES_IMAGE)
            .object(&secret)
            .object(&kubegres_resource(cfg))
            .setup_job(&setup.to_env(), &cfg.operator_image)
            .scheduling(CONTROLLER, cfg.scheduling, "kubegres")?;
        if let Some(schedule) = &pg.backup_schedule {
            // With a single database there is no replica to dump from.
            let source = if pg.replicas > 1 {
                format!("{CLUSTER_NAME}-replica")
            } else {
                CLUSTER_NAME.to_owned()
            };
            overlay = overlay
                .base("postgres", &["backup.yaml"])?
                .image(
                    "ghcr.io/nuvolaris/pg-dumper",
                    config::postgres::BACKUP_IMAGE,
                )
                .env(
                    BACKUP.container("nuvolaris-postgres-backup"),
                    &[
                        ("BACKUP_SCHEDULE", schedule.as_str()),
                        ("BACKUP_SOURCE_DB_HOST_NAME", source.as_str()),
                    ],
                )?
                .volume_claim(&VolumeClaim {
                    name: "nuvolaris-postgres-backup",
                    container: BACKUP.container("nuvolaris-postgres-backup"),
                    mount_path: "/var/lib/backup",
                    size_gi: pg.volume_size_gi,
                    storage_class: cfg.storage_class.clone(),
                })?
                .scheduling(BACKUP, cfg.scheduling, "nuvolaris-postgres-backup")?;
        }
        Ok(overlay)
    }

    fn config_annotations(&self, cfg: &Config) -> Vec<ConfigAnnotation> {
        let pg = &cfg.postgres;
        let host = format!("{}.{}.svc.cluster.local", pg.host, cfg.namespace);
        let url = format!(
            "postgresql://{}:{}@{host}:{}/{}",
            url_userinfo(USER),
            url_userinfo(pg.nuvolaris_password.expose()),
            pg.port,
            DATABASE
        );
        vec![
            ConfigAnnotation::plain("postgres_host", host),
            ConfigAnnotation::plain("postgres_port", pg.port.to_string()),
            ConfigAnnotation::plain("postgres_database", DATABASE),
            ConfigAnnotation::plain("postgres_username", USER),
            ConfigAnnotation::credential("postgres_password", pg.nuvolaris_password.expose()),
            ConfigAnnotation::credential("postgres_url", url),
        ]
    }

    fn generated_secrets(&self) -> &'static [GeneratedKey] {
        config::postgres::GENERATED
    }

    fn kinds(&self) -> &'static [KnownKind] {
        &[
            kinds::CUSTOM_RESOURCE_DEFINITION,
            kinds::SERVICE_ACCOUNT,
            kinds::ROLE,
            kinds::ROLE_BINDING,
            kinds::CLUSTER_ROLE,
            kinds::CLUSTER_ROLE_BINDING,
            kinds::SECRET,
            kinds::CONFIG_MAP,
            kinds::DEPLOYMENT,
            kinds::STATEFUL_SET,
            kinds::KUBEGRES,
            kinds::JOB,
        ]
    }
}

impl Postgres {
    fn defect(&self, message: String) -> RenderError {
        RenderError::Defect {
            component: self.id(),
            message,
        }
    }
}

/// The Kubegres CRD as JSON, generated once per process (its schema embeds the pod types).
/// Created when missing, never changed: the `ops` CLI installs it too (nuvolaris-permissions),
/// and the operator it runs may not change cluster-scoped objects.
fn kubegres_crd() -> &'static Result<Value, String> {
    static CRD: std::sync::OnceLock<Result<Value, String>> = std::sync::OnceLock::new();
    CRD.get_or_init(|| {
        let mut crd = serde_json::to_value(kubegres::Kubegres::crd()).map_err(|e| e.to_string())?;
        crd["metadata"]["annotations"] = json!({APPLY_POLICY_ANNOTATION: CREATE_ONLY});
        Ok(crd)
    })
}

/// The `Kubegres` resource: the databases, their volumes, configuration and passwords.
fn kubegres_resource(cfg: &Config) -> Value {
    let pg = &cfg.postgres;
    let secret_env = |name: &str, key: &str| json!({"name": name, "valueFrom": {"secretKeyRef": {"name": SECRET, "key": key}}});
    let mut database = json!({"size": format!("{}Gi", pg.volume_size_gi)});
    if let Some(class) = &cfg.storage_class {
        database["storageClassName"] = json!(class);
    }
    let mut spec = json!({
        "replicas": pg.replicas,
        "image": pg.image,
        "database": database,
        "customConfig": "nuvolaris-postgres-conf",
        "failover": {"isDisabled": !pg.failover},
        "env": [
            secret_env("POSTGRES_PASSWORD", "superUserPassword"),
            secret_env("POSTGRES_REPLICATION_PASSWORD", "replicationUserPassword"),
        ],
    });
    let mut scheduler = serde_json::Map::new();
    if cfg.scheduling.affinity {
        scheduler.insert("affinity".into(), core_node_affinity());
    }
    if cfg.scheduling.tolerations {
        scheduler.insert("tolerations".into(), core_tolerations());
    }
    if !scheduler.is_empty() {
        spec["scheduler"] = Value::Object(scheduler);
    }
    if let Some(resources) = &pg.resources {
        spec["resources"] = json!({
            "requests": {"cpu": resources.cpu_request, "memory": resources.memory_request},
            "limits": {"cpu": resources.cpu_limit, "memory": resources.memory_limit},
        });
    }
    json!({
        "apiVersion": "kubegres.reactive-tech.io/v1",
        "kind": "Kubegres",
        "metadata": {"name": CLUSTER_NAME},
        "spec": spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kubegres_resource_matches_the_generated_types() {
        let secrets = crate::config::GeneratedSecrets::placeholders(
            &crate::components::generated_secret_keys(),
        );
        let whisk: crate::crd::Whisk = serde_json::from_value(json!({
            "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
            "metadata": {"name": "controller", "namespace": "ns"},
            "spec": {"components": {"postgres": true},
                     "nuvolaris": {"affinity": true, "tolerations": true},
                     "postgres": {"replicas": 3, "failover": true, "resources": {"cpu-req": "1"}}},
        }))
        .expect("a Whisk");
        let cfg = Config::from_whisk(&whisk, &Default::default(), &secrets).expect("config");
        let object = kubegres_resource(&cfg);
        let typed: kubegres::Kubegres = serde_json::from_value(object.clone()).expect("a Kubegres");
        assert_eq!(typed.spec.replicas, Some(3));
        assert!(!typed.spec.failover.is_disabled);
        assert!(
            typed
                .spec
                .scheduler
                .as_ref()
                .expect("scheduler")
                .affinity
                .is_some()
        );
        assert_eq!(
            serde_json::to_value(&typed).expect("serializes")["spec"],
            object["spec"],
            "nothing is lost in the typed form"
        );
    }
}
