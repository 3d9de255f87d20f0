//! Custom resource types of the operator, generated into CRDs from Rust.
//!
//! - [`Whisk`] (`whisks.nuvolaris.org`, `wsk`): one OpenServerless installation.
//! - [`WhiskUser`] (`whisksusers.nuvolaris.org`, `wsku`): one user namespace.
//! - [`Workflows`] (`workflows.nuvolaris.org`): Jobs run on create/delete.
//!
//! [`validate`] admits a resource offline the way the API server does with these CRDs.
//!
//! The committed `deploy/crds/crds.yaml` is [`crds_yaml`]'s output; a test
//! fails when it drifts (regenerate with `UPDATE_CRDS=1 cargo test --test crd_samples`).

mod component;
mod status;
mod types;
mod user;
pub mod validate;
mod whisk;
mod workflows;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceColumnDefinition, CustomResourceDefinition,
};
use kube::CustomResourceExt;

pub use component::ComponentId;
pub use status::{
    ComponentState, ControllerState, LEGACY_STATUS_KEYS, WhiskCreateStatus, WhiskStatus,
    WhiskUserStatus, WorkflowsStatus,
};
pub use types::{
    ApiProtocol, KubeFlavour, LoggingLevel, NumberOrString, PORT_RULE, PORT_RULE_MESSAGE,
    PasswordOnly, Port, RegistryMode, Resources, ServiceProtocol, UserPassword,
};
pub use user::{UserBucket, UserDatabase, UserObjectStorage, UserRedis, WhiskUser, WhiskUserSpec};
pub use whisk::*;
pub use workflows::{WorkflowStep, Workflows, WorkflowsSpec};

/// API group of every resource.
pub const GROUP: &str = "nuvolaris.org";
/// API version of every resource.
pub const VERSION: &str = "v1";

/// The operator's CRDs, in a fixed order: Whisk, WhiskUser, Workflows.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![whisk_crd(), WhiskUser::crd(), Workflows::crd()]
}

/// The Whisk CRD with its printer columns: the overall status, then one column per
/// [`ComponentId::PRINTED`] component.
pub fn whisk_crd() -> CustomResourceDefinition {
    let column = |name: String, path: String| CustomResourceColumnDefinition {
        description: Some(name.clone()),
        json_path: path,
        name,
        priority: Some(0),
        type_: "string".to_owned(),
        ..CustomResourceColumnDefinition::default()
    };
    let mut columns = vec![column(
        "Status".to_owned(),
        ".status.whisk_create.controller".to_owned(),
    )];
    columns.extend(
        ComponentId::PRINTED
            .iter()
            .map(|c| column(c.column(), format!(".status.whisk_create.{}", c.key()))),
    );
    let mut crd = Whisk::crd();
    for version in &mut crd.spec.versions {
        version.additional_printer_columns = Some(columns.clone());
    }
    crd
}

/// [`crds`] as one multi-document YAML stream, deterministic byte for byte
/// (struct fields serialise in declaration order, maps are sorted).
pub fn crds_yaml() -> String {
    let mut out = String::new();
    for crd in crds() {
        // A CRD is plain strings, numbers and maps built from our own types,
        // so serialising it cannot fail; a failure is a bug in this module.
        let doc = serde_yaml_ng::to_string(&crd)
            .expect("a CustomResourceDefinition always serialises to YAML");
        out.push_str("---\n");
        out.push_str(&doc);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn version_of(
        crd: &CustomResourceDefinition,
    ) -> &k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinitionVersion
    {
        assert_eq!(crd.spec.versions.len(), 1);
        &crd.spec.versions[0]
    }

    fn schema_json(crd: &CustomResourceDefinition) -> Value {
        let schema = version_of(crd)
            .schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .expect("schema");
        serde_json::to_value(schema).expect("schema to JSON")
    }

    #[test]
    fn names_scope_and_subresources_match_the_original() {
        let expected = [
            (
                "whisks.nuvolaris.org",
                "Whisk",
                "whisks",
                Some("whisk"),
                vec!["wsk"],
            ),
            (
                "whisksusers.nuvolaris.org",
                "WhiskUser",
                "whisksusers",
                Some("whiskuser"),
                vec!["wsku"],
            ),
            (
                "workflows.nuvolaris.org",
                "Workflows",
                "workflows",
                Some("workflows"),
                vec![],
            ),
        ];
        let crds = crds();
        assert_eq!(crds.len(), expected.len());
        for (crd, (name, kind, plural, singular, short)) in crds.iter().zip(expected) {
            assert_eq!(crd.metadata.name.as_deref(), Some(name));
            assert_eq!(crd.spec.group, GROUP);
            assert_eq!(crd.spec.scope, "Namespaced");
            assert_eq!(crd.spec.names.kind, kind);
            assert_eq!(crd.spec.names.plural, plural);
            assert_eq!(crd.spec.names.singular.as_deref(), singular);
            assert_eq!(
                crd.spec.names.short_names.clone().unwrap_or_default(),
                short
            );
            let version = version_of(crd);
            assert_eq!(version.name, VERSION);
            assert!(version.served && version.storage);
            let status = version
                .subresources
                .as_ref()
                .and_then(|s| s.status.as_ref());
            assert!(status.is_some(), "{name}: status subresource");
        }
    }

    #[test]
    fn whisk_printer_columns_read_whisk_create_in_the_original_order() {
        let crd = whisk_crd();
        let columns = version_of(&crd)
            .additional_printer_columns
            .clone()
            .unwrap_or_default();
        let paths: Vec<_> = columns.iter().map(|c| c.json_path.as_str()).collect();
        let mut expected = vec![".status.whisk_create.controller".to_string()];
        expected.extend(
            ComponentId::PRINTED
                .iter()
                .map(|c| format!(".status.whisk_create.{}", c.key())),
        );
        assert_eq!(paths, expected);
        assert_eq!(columns[0].name, "Status");
        assert!(
            columns
                .iter()
                .all(|c| c.type_ == "string" && c.priority == Some(0))
        );
    }

    #[test]
    fn user_and_workflows_printer_columns() {
        let crd = WhiskUser::crd();
        let user: Vec<_> = version_of(&crd)
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|c| (c.name.as_str(), c.json_path.as_str()))
            .collect();
        assert_eq!(
            user,
            [
                ("CouchDB", ".status.whisk_user_create.couchdb"),
                ("MongoDB", ".status.whisk_user_create.mongodb"),
                ("Redis", ".status.whisk_user_create.redis"),
                ("ObjectStorage", ".status.whisk_user_create.storage_data"),
                ("Route", ".status.whisk_user_create.storage_route"),
            ]
        );
        let crd = Workflows::crd();
        let wf: Vec<_> = version_of(&crd)
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|c| (c.name.as_str(), c.type_.as_str()))
            .collect();
        assert_eq!(
            wf,
            [("total", "integer"), ("count", "integer"), ("Age", "date")]
        );
    }

    #[test]
    fn unknown_fields_are_preserved_where_the_original_preserved_them() {
        let whisk = schema_json(&Whisk::crd());
        let preserve = |v: &Value| v["x-kubernetes-preserve-unknown-fields"] == json!(true);
        assert!(preserve(&whisk["properties"]["spec"]));
        assert!(preserve(
            &whisk["properties"]["spec"]["properties"]["components"]
        ));
        assert!(!preserve(
            &whisk["properties"]["spec"]["properties"]["couchdb"]
        ));
        assert!(preserve(&whisk["properties"]["status"]));
        assert!(preserve(
            &whisk["properties"]["status"]["properties"]["whisk_create"]
        ));
        let conditions = &whisk["properties"]["status"]["properties"]["conditions"];
        assert_eq!(conditions["x-kubernetes-list-type"], json!("map"));

        let user = schema_json(&WhiskUser::crd());
        assert!(preserve(&user["properties"]["spec"]));
        for section in ["redis", "object-storage", "mongodb", "postgres", "milvus"] {
            assert!(
                preserve(&user["properties"]["spec"]["properties"][section]),
                "{section}"
            );
        }
        assert!(preserve(
            &user["properties"]["status"]["properties"]["whisk_user_create"]
        ));
    }

    #[test]
    fn components_carry_the_exclusive_storage_rule() {
        let whisk = schema_json(&Whisk::crd());
        let rules =
            whisk["properties"]["spec"]["properties"]["components"]["x-kubernetes-validations"]
                .as_array()
                .cloned()
                .unwrap_or_default();
        assert!(
            rules
                .iter()
                .any(|r| r["message"] == json!("minio and seaweedfs cannot both be enabled")),
            "{rules:?}"
        );
        let kube = &whisk["properties"]["spec"]["properties"]["nuvolaris"]["properties"]["kube"];
        assert_eq!(
            kube["enum"],
            json!([
                "auto",
                "kind",
                "k3s",
                "microk8s",
                "eks",
                "gke",
                "aks",
                "lks",
                "openshift",
                "generic"
            ])
        );
    }

    #[test]
    fn crds_yaml_is_deterministic_multi_document() {
        let first = crds_yaml();
        assert_eq!(first, crds_yaml());
        assert_eq!(first.matches("\n---\n").count() + 1, 3);
        assert!(first.starts_with("---\napiVersion: apiextensions.k8s.io/v1\n"));
    }

    #[test]
    fn component_state_uses_the_original_spelling() {
        for (state, wire) in [
            (ComponentState::On, "on"),
            (ComponentState::Off, "off"),
            (ComponentState::Error, "error"),
            (ComponentState::Unknown, "?"),
        ] {
            assert_eq!(serde_json::to_value(state).expect("ser"), json!(wire));
            assert_eq!(
                serde_json::from_value::<ComponentState>(json!(wire)).expect("de"),
                state
            );
        }
        // What an older operator might have written never breaks reading the status.
        assert_eq!(
            serde_json::from_value::<ComponentState>(json!(true)).expect("de"),
            ComponentState::Unknown
        );
        assert_eq!(ComponentState::from_enabled(false), ComponentState::Off);
    }

    #[test]
    fn status_written_by_the_python_operator_round_trips() {
        let original = json!({
            "whisk_create": {
                "openwhisk": "on", "invoker": "off", "couchdb": "on", "kafka": "off",
                "redis": "on", "mongodb": "off", "cron": "on", "tls": "off",
                "endpoint": "on", "issuer": "?", "ingress": "?", "minio": "on",
                "static": "on", "zookeeper": "off", "quota": "off", "etcd": "off",
                "milvus": "off", "preloader": "on", "registry": "off", "seaweedfs": "off",
                "postgres": "error", "monitoring": "off", "whisk-system": "on",
                "controller": "Ready", "something-new": "on"
            }
        });
        let status: WhiskStatus = serde_json::from_value(original.clone()).expect("parses");
        let create = status.whisk_create.clone().expect("whisk_create");
        assert_eq!(create.controller, Some(ControllerState::Ready));
        assert_eq!(
            create.get(ComponentId::WhiskSystem),
            Some(ComponentState::On)
        );
        assert_eq!(
            create.get(ComponentId::Postgres),
            Some(ComponentState::Error)
        );
        assert_eq!(create.extra.get("something-new"), Some(&json!("on")));
        assert_eq!(serde_json::to_value(&status).expect("ser"), original);
    }

    #[test]
    fn whisk_create_status_sets_by_component() {
        let mut create = WhiskCreateStatus::default();
        create.set(ComponentId::Static, ComponentState::Off);
        create.set(ComponentId::Preloader, ComponentState::On);
        let value = serde_json::to_value(&create).expect("ser");
        assert_eq!(value, json!({"static": "off", "preloader": "on"}));
        for id in ComponentId::ALL {
            assert_eq!(ComponentId::from_key(id.key()), Some(*id), "{id}");
        }
        assert_eq!(ComponentId::from_key("nonsense"), None);
        assert_eq!(
            ControllerState::parse("NotValid"),
            ControllerState::NotValid
        );
        assert_eq!(ControllerState::parse("Odd").as_str(), "Odd");
    }

    #[test]
    fn accessors_resolve_legacy_spellings() {
        let spec: WhiskSpec = serde_json::from_value(json!({
            "components": {"couchdb": true, "static": true, "s3bucket": false},
            "ectd": {"auto-compaction-retention": "3"},
            "redis": {"max-memory": "100mb"},
            "openwhisk": {"namespaces": {"whisk-system": "a:b", "nuvolaris": "c:d"}},
            "controller": {"port": "3233"}
        }))
        .expect("parses");
        let components = spec.components();
        assert!(components.couchdb_enabled() && components.static_enabled());
        assert!(!components.minio_enabled());
        assert_eq!(components.extra.get("s3bucket"), Some(&json!(false)));
        let etcd = spec.etcd().expect("ectd is the fallback");
        assert_eq!(
            etcd.auto_compaction_retention()
                .map(NumberOrString::as_text)
                .as_deref(),
            Some("3")
        );
        assert_eq!(
            spec.redis.as_ref().and_then(RedisSpec::max_memory),
            Some("100mb")
        );
        let ow = spec.openwhisk.as_ref().expect("openwhisk");
        assert_eq!(ow.whisk_system_auth(), Some("a:b"));
        assert_eq!(ow.nuvolaris_auth(), Some("c:d"));
        let port = spec
            .controller
            .as_ref()
            .and_then(|c| c.port.as_ref())
            .and_then(Port::number);
        assert_eq!(port, Some(3233));
    }
}
