//! CRD tests: every sample CR of the original operator (read from
//! `../shared/reference`) and our own samples deserialize into the typed
//! specs, pass the generated schema (types, enums, ranges, patterns, unknown
//! fields as `kubectl --validate=strict` sees them) and its CEL rules; the
//! committed `deploy/crds/crds.yaml` matches the generated one.
//!
//! Regenerate the committed CRDs with `UPDATE_CRDS=1 cargo test --test crd_samples`.

use std::collections::BTreeSet;

use kube::CustomResourceExt;
use kube::core::cel;
use nuvolaris_operator::crd::{self, Whisk, WhiskUser, Workflows, validate};
use serde_json::{Value, json};

// ---------------------------------------------------------------- helpers

// Shared with crd_apiserver.rs; each test crate uses a subset.
#[allow(dead_code)]
mod crd_support;
use crd_support::{Verdict, kind_of, reference, repo, sample_crs, yaml_docs, yaml_docs_str};

fn schema_of(
    crd: &k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
) -> Value {
    let version = &crd.spec.versions[0];
    let schema = version
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.as_ref())
        .expect("CRD has an openAPIV3Schema");
    serde_json::to_value(schema).expect("schema to JSON")
}

/// Each kind with its openAPIV3Schema.
fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        ("Whisk", schema_of(&Whisk::crd())),
        ("WhiskUser", schema_of(&WhiskUser::crd())),
        ("Workflows", schema_of(&Workflows::crd())),
    ]
}

/// The fields an offline rejection names, as a sorted set (`<nil>` for none).
fn offline_verdict(document: &Value) -> Verdict {
    match validate::admit(document) {
        Ok(_) => Verdict::Accept,
        Err(rejection) => {
            let fields: BTreeSet<String> = rejection
                .errors()
                .iter()
                .map(|e| {
                    if e.field.is_empty() {
                        "<nil>".to_string()
                    } else {
                        e.field.clone()
                    }
                })
                .collect();
            Verdict::Reject(fields.into_iter().collect())
        }
    }
}

/// Every error the API server would report for a resource of `kind` with `spec` (the offline
/// admission of the library: schema, then CEL).
fn validate_spec(kind: &str, spec: &Value) -> Vec<String> {
    admission_errors(&crd_support::resource(kind, "test", spec.clone()))
}

fn admission_errors(document: &Value) -> Vec<String> {
    match validate::admit(document) {
        Ok(_) => Vec::new(),
        Err(rejection) => rejection.errors().iter().map(ToString::to_string).collect(),
    }
}

/// Parse `spec` into the typed spec of `kind`, and serialise it back.
fn typed_round_trip(kind: &str, spec: &Value) -> Result<Value, String> {
    fn rt<T: serde::de::DeserializeOwned + serde::Serialize>(
        spec: &Value,
    ) -> Result<Value, String> {
        let typed: T = serde_json::from_value(spec.clone()).map_err(|e| e.to_string())?;
        serde_json::to_value(&typed).map_err(|e| e.to_string())
    }
    match kind {
        "Whisk" => rt::<crd::WhiskSpec>(spec),
        "WhiskUser" => rt::<crd::WhiskUserSpec>(spec),
        "Workflows" => rt::<crd::WorkflowsSpec>(spec),
        other => Err(format!("unexpected kind {other}")),
    }
}

fn whisk_spec(spec: Value) -> Value {
    spec
}

// ---------------------------------------------------------------- samples

#[test]
fn every_sample_cr_parses_validates_and_round_trips() {
    let crs = sample_crs();
    let kinds: BTreeSet<&str> = crs.iter().map(|(_, cr)| kind_of(cr)).collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["Whisk", "WhiskUser", "Workflows"]),
        "the samples must cover all three kinds"
    );
    assert!(
        crs.len() >= 20,
        "expected at least 20 sample CRs, found {}",
        crs.len()
    );

    let mut failures = Vec::new();
    for (file, cr) in &crs {
        let kind = kind_of(cr);
        let spec = cr.get("spec").cloned().unwrap_or(Value::Null);
        // The whole object must deserialize into the typed resource.
        let typed = match kind {
            "Whisk" => serde_json::from_value::<Whisk>(cr.clone()).map(|_| ()),
            "WhiskUser" => serde_json::from_value::<WhiskUser>(cr.clone()).map(|_| ()),
            "Workflows" => serde_json::from_value::<Workflows>(cr.clone()).map(|_| ()),
            other => panic!("{file}: unexpected kind {other}"),
        };
        if let Err(e) = typed {
            failures.push(format!("{file} ({kind}): does not deserialize: {e}"));
            continue;
        }
        for err in admission_errors(cr) {
            failures.push(format!("{file} ({kind}): {err}"));
        }
        // Lossless: every field of the sample is either modelled or kept in `extra`.
        match typed_round_trip(kind, &spec) {
            Ok(back) if back == spec => {}
            Ok(back) => failures.push(format!(
                "{file} ({kind}): typed round trip changed the spec\n  in:  {spec}\n  out: {back}"
            )),
            Err(e) => failures.push(format!("{file} ({kind}): {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} sample failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Fields of the samples that land in `extra` (accepted through
/// preserve-unknown, not modelled because no code reads them).
#[test]
fn only_known_legacy_fields_are_unmodelled() {
    let mut unmodelled = BTreeSet::new();
    for (_, cr) in sample_crs().iter().filter(|(_, cr)| kind_of(cr) == "Whisk") {
        let whisk: Whisk = serde_json::from_value(cr.clone()).expect("sample parses");
        unmodelled.extend(whisk.spec.extra.keys().map(|k| format!("spec.{k}")));
        if let Some(c) = &whisk.spec.components {
            unmodelled.extend(c.extra.keys().map(|k| format!("spec.components.{k}")));
        }
    }
    assert_eq!(
        unmodelled,
        BTreeSet::from([
            "spec.components.s3bucket".to_string(),
            "spec.s3".to_string()
        ]),
        "a sample uses a field the typed spec does not model"
    );
}

// ---------------------------------------------------------------- coverage

/// Every concrete config key the original operator reads (inventory-core §3.7,
/// 206 keys without the `state.*` cache and the `openwhisk.namespaces.*` prefix).
const ORIGINAL_CONFIG_KEYS: [&str; 206] = [
    "components.cosi",
    "components.couchdb",
    "components.cron",
    "components.etcd",
    "components.invoker",
    "components.kafka",
    "components.milvus",
    "components.minio",
    "components.mongodb",
    "components.monitoring",
    "components.openwhisk",
    "components.postgres",
    "components.quota",
    "components.redis",
    "components.registry",
    "components.seaweedfs",
    "components.static",
    "components.tls",
    "components.zookeeper",
    "config.apihost",
    "configs.controller.javaOpts",
    "configs.controller.loggingLevel",
    "configs.controller.replicas",
    "configs.controller.resources.cpu-lim",
    "configs.controller.resources.cpu-req",
    "configs.controller.resources.mem-lim",
    "configs.controller.resources.mem-req",
    "configs.couchdb.resources.cpu-lim",
    "configs.couchdb.resources.cpu-req",
    "configs.couchdb.resources.mem-lim",
    "configs.couchdb.resources.mem-req",
    "configs.invoker.containerPool.userMemory",
    "configs.invoker.javaOpts",
    "configs.invoker.kubernetes.action_namespace",
    "configs.invoker.kubernetes.port_forwarding_enabled",
    "configs.invoker.kubernetes.timeouts_logs",
    "configs.invoker.kubernetes.timeouts_run",
    "configs.invoker.kubernetes.user_pod_affinity_enabled",
    "configs.invoker.kubernetes.user_pod_affinity_key",
    "configs.invoker.kubernetes.user_pod_affinity_value",
    "configs.invoker.loggingLevel",
    "configs.invoker.replicas",
    "configs.invoker.resources.cpu-lim",
    "configs.invoker.resources.cpu-req",
    "configs.invoker.resources.mem-lim",
    "configs.invoker.resources.mem-req",
    "configs.limits.actions.invokes-concurrent",
    "configs.limits.actions.invokes-perMinute",
    "configs.limits.actions.sequence-maxLength",
    "configs.limits.activations.max_allowed_payload",
    "configs.limits.concurrency.limit-max",
    "configs.limits.concurrency.limit-min",
    "configs.limits.concurrency.limit-std",
    "configs.limits.loadbalancer.blackbox-fraction",
    "configs.limits.loadbalancer.timeout-factor",
    "configs.limits.memory.limit-max",
    "configs.limits.memory.limit-min",
    "configs.limits.memory.limit-std",
    "configs.limits.time.limit-max",
    "configs.limits.time.limit-min",
    "configs.limits.time.limit-std",
    "configs.limits.triggers.fires-perMinute",
    "controller.host",
    "controller.image",
    "controller.port",
    "controller.protocol",
    "controller.tag",
    "cosi.bucket_storageclass",
    "cosi.ingress.s3-enabled",
    "cosi.ingress.s3-hostname",
    "cosi.max_bucket_limit",
    "cosi.namespace",
    "cosi.object_store_name",
    "cosi.rgwservice_name",
    "cosi.rgwservice_port",
    "couchdb.admin.password",
    "couchdb.admin.user",
    "couchdb.controller.password",
    "couchdb.controller.user",
    "couchdb.host",
    "couchdb.invoker.password",
    "couchdb.invoker.user",
    "couchdb.port",
    "couchdb.volume-size",
    "etcd.auto_compaction_retention",
    "etcd.quota-backend-bytes",
    "etcd.replicas",
    "etcd.resources.cpu-lim",
    "etcd.resources.cpu-req",
    "etcd.resources.mem-lim",
    "etcd.resources.mem-req",
    "etcd.root.password",
    "etcd.volume-size",
    "invoker.host",
    "invoker.image",
    "invoker.port",
    "invoker.protocol",
    "invoker.tag",
    "kafka.volume-size",
    "milvus.admin.user",
    "milvus.host",
    "milvus.nuvolaris.password",
    "milvus.password.etcd",
    "milvus.password.root",
    "milvus.password.s3",
    "milvus.port",
    "milvus.proxy.max-role-num",
    "milvus.proxy.max-user-num",
    "milvus.replicas",
    "milvus.root-coord.max-database-num",
    "milvus.volume-size.bucket",
    "milvus.volume-size.cluster",
    "milvus.volume-size.journal",
    "milvus.volume-size.ledgers",
    "milvus.volume-size.zookeeper",
    "minio.admin.password",
    "minio.admin.user",
    "minio.host",
    "minio.ingress.console-enabled",
    "minio.ingress.console-hostname",
    "minio.ingress.s3-enabled",
    "minio.ingress.s3-hostname",
    "minio.nuvolaris.password",
    "minio.nuvolaris.user",
    "minio.port",
    "minio.volume-size",
    "mongodb.admin.password",
    "mongodb.admin.user",
    "mongodb.exposedExternally",
    "mongodb.nuvolaris.password",
    "mongodb.nuvolaris.user",
    "mongodb.useOperator",
    "mongodb.volume-size",
    "monitoring.alert-manager.enabled",
    "monitoring.alert-manager.gmail.enabled",
    "monitoring.alert-manager.gmail.false",
    "monitoring.alert-manager.gmail.from",
    "monitoring.alert-manager.gmail.password",
    "monitoring.alert-manager.gmail.to",
    "monitoring.alert-manager.gmail.username",
    "monitoring.alert-manager.slack.default",
    "monitoring.alert-manager.slack.enabled",
    "monitoring.alert-manager.slack.slack_api_url",
    "monitoring.alert-manager.slack.slack_channel_name",
    "monitoring.alert-manager.volume-size",
    "monitoring.prometheus.volume-size",
    "nuvolaris.affinity",
    "nuvolaris.apihost",
    "nuvolaris.apiport",
    "nuvolaris.email",
    "nuvolaris.ingressclass",
    "nuvolaris.ingresslb",
    "nuvolaris.kafka.url",
    "nuvolaris.kube",
    "nuvolaris.password",
    "nuvolaris.preload.only-apache",
    "nuvolaris.preloader.only_apache",
    "nuvolaris.protocol",
    "nuvolaris.provisioner",
    "nuvolaris.slim",
    "nuvolaris.storageclass",
    "nuvolaris.tolerations",
    "nuvolaris.zookeeper.url",
    "openwhisk.namespaces.nuvolaris",
    "openwhisk.namespaces.whisk-system",
    "operator.image",
    "operator.tag",
    "postgres.admin.password",
    "postgres.backup.enabled",
    "postgres.backup.schedule",
    "postgres.failover",
    "postgres.nuvolaris.password",
    "postgres.replicas",
    "postgres.volume-size",
    "quota.schedule",
    "redis.default.password",
    "redis.maxmemory",
    "redis.nuvolaris.password",
    "redis.nuvolaris.prefix",
    "redis.persistence-enabled",
    "redis.resources.cpu-lim",
    "redis.resources.cpu-req",
    "redis.resources.mem-lim",
    "redis.resources.mem-req",
    "redis.volume-size",
    "registry.auth.password",
    "registry.auth.username",
    "registry.hostname",
    "registry.ingress.enabled",
    "registry.mode",
    "registry.volume-size",
    "scheduler.schedule",
    "seaweedfs.default-bucket-quota",
    "seaweedfs.host",
    "seaweedfs.ingress.console-enabled",
    "seaweedfs.ingress.console-hostname",
    "seaweedfs.ingress.s3-enabled",
    "seaweedfs.ingress.s3-hostname",
    "seaweedfs.nuvolaris.password",
    "seaweedfs.nuvolaris.user",
    "seaweedfs.port",
    "seaweedfs.volume-size",
    "tls.acme-registered-email",
    "tls.acme-server-url",
    "zookeeper.data-volume-size",
    "zookeeper.log-volume-size",
];

/// Keys the original computes at run time; they are not spec fields.
const COMPUTED_KEYS: [&str; 3] = [
    "config.apihost",
    "nuvolaris.kafka.url",
    "nuvolaris.zookeeper.url",
];

/// Whether a dotted spec path is declared by `schema` (maps accept any key).
fn schema_has_path(schema: &Value, path: &str) -> bool {
    let mut node = schema;
    for part in path.split('.') {
        if let Some(next) = node.get("properties").and_then(|p| p.get(part)) {
            node = next;
        } else if let Some(next) = node.get("additionalProperties").filter(|s| s.is_object()) {
            node = next;
        } else {
            return false;
        }
    }
    true
}

/// The original whisk CRD's spec schema. Its `milvus.volume-size.bucket` has a
/// duplicated `type: integer` line that a strict YAML parser rejects, so
/// consecutive identical lines are collapsed before parsing.
fn original_whisk_spec_schema() -> Value {
    let path = reference().join("deploy/nuvolaris-permissions/whisk-crd.yaml");
    let text = std::fs::read_to_string(&path).expect("original whisk CRD");
    let mut cleaned = Vec::new();
    for line in text.lines() {
        if line.trim() == "type: integer"
            && cleaned
                .last()
                .is_some_and(|l: &&str| l.trim() == "type: integer")
        {
            continue;
        }
        cleaned.push(line);
    }
    let docs = yaml_docs_str(&cleaned.join("\n"), &path.display().to_string());
    docs[0]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"].clone()
}

fn leaf_paths(schema: &Value, prefix: &str, out: &mut Vec<String>) {
    match schema.get("properties").and_then(Value::as_object) {
        Some(props) => {
            for (k, v) in props {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaf_paths(v, &p, out);
            }
        }
        None => out.push(prefix.to_string()),
    }
}

#[test]
fn schema_declares_every_config_key_the_original_reads() {
    let ours = schema_of(&Whisk::crd())["properties"]["spec"].clone();
    let original = original_whisk_spec_schema();
    let missing_here: Vec<_> = ORIGINAL_CONFIG_KEYS
        .iter()
        .filter(|k| !COMPUTED_KEYS.contains(k))
        .filter(|k| !schema_has_path(&ours, k))
        .collect();
    assert!(
        missing_here.is_empty(),
        "config keys not in our schema: {missing_here:?}"
    );

    // The inventory says 56 of these keys were absent from the original schema;
    // operator.image/tag come from the environment there.
    let absent_in_original: Vec<_> = ORIGINAL_CONFIG_KEYS
        .iter()
        .filter(|k| !COMPUTED_KEYS.contains(k) && !k.starts_with("operator."))
        .filter(|k| !schema_has_path(&original, k))
        .collect();
    assert_eq!(absent_in_original.len(), 56, "{absent_in_original:?}");
}

#[test]
fn schema_declares_every_field_of_the_original_crds() {
    let original = original_whisk_spec_schema();
    let ours = schema_of(&Whisk::crd())["properties"]["spec"].clone();
    let mut paths = Vec::new();
    leaf_paths(&original, "", &mut paths);
    assert!(
        paths.len() > 150,
        "parsed only {} original paths",
        paths.len()
    );
    let missing: Vec<_> = paths
        .iter()
        .filter(|p| !schema_has_path(&ours, p))
        .collect();
    assert!(
        missing.is_empty(),
        "original Whisk fields missing: {missing:?}"
    );

    for (file, ours) in [
        ("whisk-user-crd.yaml", schema_of(&WhiskUser::crd())),
        ("workflows-crd.yaml", schema_of(&Workflows::crd())),
    ] {
        let docs = yaml_docs(&reference().join("deploy/nuvolaris-permissions").join(file));
        let original =
            &docs[0]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
        let mut paths = Vec::new();
        leaf_paths(original, "", &mut paths);
        let ours = &ours["properties"]["spec"];
        let missing: Vec<_> = paths
            .iter()
            .filter(|p| {
                // workflows[].name: arrays are declared through `items`.
                let p = p.replace("workflows.", "workflows.items.");
                !schema_has_path(ours, &p) && !has_items_path(ours, &p)
            })
            .collect();
        assert!(missing.is_empty(), "{file}: fields missing: {missing:?}");
    }
}

fn has_items_path(schema: &Value, path: &str) -> bool {
    let mut node = schema;
    for part in path.split('.') {
        node = if part == "items" {
            match node.get("items") {
                Some(n) => n,
                None => return false,
            }
        } else {
            match node.get("properties").and_then(|p| p.get(part)) {
                Some(n) => n,
                None => return false,
            }
        };
    }
    true
}

// ---------------------------------------------------------------- rejections

/// The admission corpus (shared with the differential test on the API server, crd_apiserver):
/// the offline validator admits what it should and names exactly the expected fields.
#[test]
fn offline_admission_matches_the_corpus() {
    let cases = crd_support::admission_cases("test", &schemas());
    let mut failures = Vec::new();
    for case in &cases {
        let expected = match &case.verdict {
            Verdict::Accept => Verdict::Accept,
            Verdict::Reject(fields) => {
                let set: BTreeSet<String> = fields.iter().cloned().collect();
                Verdict::Reject(set.into_iter().collect())
            }
        };
        let got = offline_verdict(&case.document);
        if got != expected {
            failures.push(format!(
                "{}: expected {expected:?}, got {got:?}: {:?}",
                case.name,
                admission_errors(&case.document)
            ));
        }
    }
    let cel_cases = cases.iter().filter(|c| c.name.starts_with("CEL ")).count();
    assert!(cel_cases >= 9, "only {cel_cases} CEL rule cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn assert_rejected(spec: Value, needle: &str) {
    let errs = validate_spec("Whisk", &spec);
    assert!(
        errs.iter().any(|e| e.contains(needle)),
        "expected an error containing {needle:?} for {spec}, got {errs:?}"
    );
}

#[test]
fn cel_rejects_minio_and_seaweedfs_together() {
    assert_rejected(
        whisk_spec(json!({"components": {"openwhisk": true, "minio": true, "seaweedfs": true}})),
        "minio and seaweedfs cannot both be enabled",
    );
    assert!(
        validate_spec(
            "Whisk",
            &json!({"components": {"minio": true, "seaweedfs": false}})
        )
        .is_empty()
    );
    assert!(validate_spec("Whisk", &json!({"components": {"seaweedfs": true}})).is_empty());
}

#[test]
fn cel_rejects_static_without_object_store() {
    assert_rejected(
        json!({"components": {"static": true, "minio": false}}),
        "static requires an object store",
    );
    for store in ["minio", "seaweedfs", "cosi"] {
        let spec = json!({"components": {"static": true, store: true}});
        assert!(validate_spec("Whisk", &spec).is_empty(), "{spec}");
    }
}

#[test]
fn cel_rejects_concurrency_limits_out_of_order() {
    assert_rejected(
        json!({"configs": {"limits": {"concurrency": {"limit-min": 5, "limit-std": 1, "limit-max": 10}}}}),
        "limit-min <= limit-std <= limit-max",
    );
    assert_rejected(
        json!({"configs": {"limits": {"concurrency": {"limit-min": 5, "limit-max": 1}}}}),
        "limit-min <= limit-std <= limit-max",
    );
    let ok = json!({"configs": {"limits": {"concurrency": {"limit-min": 1, "limit-std": 8, "limit-max": 250}}}});
    assert!(validate_spec("Whisk", &ok).is_empty());
}

#[test]
fn ports_must_be_in_range() {
    assert_rejected(
        json!({"couchdb": {"port": 0}}),
        "should be greater than or equal to 1",
    );
    assert_rejected(
        json!({"couchdb": {"port": 70000}}),
        "should be less than or equal to 65535",
    );
    assert_rejected(
        json!({"nuvolaris": {"apiport": 65536}}),
        "should be less than or equal to 65535",
    );
    assert_rejected(
        json!({"controller": {"port": 70000}}),
        "port must be a number between 1 and 65535",
    );
    assert_rejected(
        json!({"controller": {"port": "70000"}}),
        "port must be a number between 1 and 65535",
    );
    assert_rejected(
        json!({"minio": {"port": "http"}}),
        "port must be a number between 1 and 65535",
    );
    assert_rejected(
        json!({"invoker": {"port": 0}}),
        "port must be a number between 1 and 65535",
    );
    for port in [json!(3233), json!("3233"), json!(1), json!("65535")] {
        let spec = json!({"controller": {"port": port}, "cosi": {"rgwservice_port": port}});
        assert!(validate_spec("Whisk", &spec).is_empty(), "{spec}");
    }
}

#[test]
fn replicas_and_sizes_must_be_positive() {
    assert_rejected(
        json!({"postgres": {"replicas": 0}}),
        "should be greater than or equal to 1",
    );
    assert_rejected(
        json!({"configs": {"invoker": {"replicas": 0}}}),
        "should be greater than or equal to 1",
    );
    assert_rejected(
        json!({"configs": {"controller": {"replicas": -1}}}),
        "should be greater than or equal to 1",
    );
    assert_rejected(
        json!({"etcd": {"replicas": 0}}),
        "should be greater than or equal to 1",
    );
    assert_rejected(
        json!({"milvus": {"replicas": 0}}),
        "should be greater than or equal to 1",
    );
    assert_rejected(
        json!({"couchdb": {"volume-size": 0}}),
        "should be greater than or equal to 1",
    );
}

#[test]
fn enums_reject_unknown_values() {
    assert_rejected(
        json!({"nuvolaris": {"kube": "minikube"}}),
        "Unsupported value",
    );
    assert_rejected(
        json!({"nuvolaris": {"protocol": "ftp"}}),
        "Unsupported value",
    );
    assert_rejected(
        json!({"configs": {"controller": {"loggingLevel": "VERBOSE"}}}),
        "Unsupported value",
    );
    assert_rejected(json!({"registry": {"mode": "hybrid"}}), "Unsupported value");
    for flavour in [
        "auto",
        "kind",
        "k3s",
        "microk8s",
        "eks",
        "gke",
        "aks",
        "lks",
        "openshift",
        "generic",
    ] {
        let spec = json!({"nuvolaris": {"kube": flavour}});
        assert!(validate_spec("Whisk", &spec).is_empty(), "{spec}");
        let typed: crd::WhiskSpec = serde_json::from_value(spec).expect("flavour parses");
        let kube = typed.nuvolaris.and_then(|n| n.kube).expect("kube set");
        assert_eq!(kube.as_str(), flavour);
    }
}

#[test]
fn types_and_unknown_nested_fields_are_rejected() {
    assert_rejected(
        json!({"components": {"openwhisk": "yes"}}),
        "must be of type boolean",
    );
    assert_rejected(
        json!({"couchdb": {"volume-size": "10"}}),
        "must be of type integer",
    );
    assert_rejected(json!({"couchdb": {"volumesize": 10}}), "unknown field");
    assert_rejected(
        json!({"openwhisk": {"namespaces": {"nuvolaris": "no-colon"}}}),
        "should match",
    );
    // Unknown top-level sections and component toggles are preserved, as in the original.
    assert!(
        validate_spec(
            "Whisk",
            &json!({"s3": {"id": "x"}, "components": {"s3bucket": false}})
        )
        .is_empty()
    );
}

#[test]
fn whisk_user_requires_identity_fields() {
    let errs = validate_spec("WhiskUser", &json!({"email": "a@b.c"}));
    for field in ["password", "namespace", "auth"] {
        assert!(
            errs.iter()
                .any(|e| e == &format!("spec.{field}: Required value")),
            "{errs:?}"
        );
    }
    let bad_auth = json!({"email": "a@b.c", "password": "p", "namespace": "n", "auth": "nocolon"});
    assert!(
        validate_spec("WhiskUser", &bad_auth)
            .iter()
            .any(|e| e.contains("should match"))
    );
}

// ---------------------------------------------------------------- CRD shape

#[test]
fn every_cel_rule_compiles() {
    let mut rules = 0;
    for crd in crd::crds() {
        let schema = schema_of(&crd);
        let compiled = cel::compile_schema(&schema);
        let errors: Vec<String> = compiled
            .compilation_errors()
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{:?}: {errors:?}", crd.metadata.name);
        rules += count_rules(&schema);
    }
    assert!(rules >= 4, "expected at least 4 CEL rules, found {rules}");
}

fn count_rules(schema: &Value) -> usize {
    let here = schema
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let children: usize = match schema {
        Value::Object(map) => map
            .iter()
            .filter(|(k, _)| k.as_str() != "x-kubernetes-validations")
            .map(|(_, v)| count_rules(v))
            .sum(),
        Value::Array(items) => items.iter().map(count_rules).sum(),
        _ => 0,
    };
    here + children
}

#[test]
fn committed_crds_match_the_generated_ones() {
    let path = repo().join("deploy/crds/crds.yaml");
    let generated = crd::crds_yaml();
    if std::env::var_os("UPDATE_CRDS").is_some() {
        std::fs::create_dir_all(path.parent().expect("has parent")).expect("create deploy/crds");
        std::fs::write(&path, &generated).expect("write deploy/crds/crds.yaml");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: regenerate it with `UPDATE_CRDS=1 cargo test --test crd_samples` and commit it",
        path.display()
    );
    // And it parses back as the same three CRDs.
    let docs = yaml_docs_str(&committed, "deploy/crds/crds.yaml");
    let names: Vec<_> = docs
        .iter()
        .map(|d| d["metadata"]["name"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        names,
        [
            "whisks.nuvolaris.org",
            "whisksusers.nuvolaris.org",
            "workflows.nuvolaris.org"
        ]
    );
}

/// Our own `whisk-every-field.yaml` must set every leaf of the Whisk schema
/// (legacy fields excepted), so the sample test exercises the whole schema.
#[test]
fn every_field_sample_covers_the_whole_whisk_schema() {
    const LEGACY: [&str; 7] = [
        "ectd",
        "openwhisk.limits",
        "mongodb.exposed",
        "postgres.admin.replicas-password",
        "minio.nuvolaris.root-user",
        "minio.nuvolaris.root-password",
        "status",
    ];
    let ours = schema_of(&Whisk::crd())["properties"]["spec"].clone();
    let mut paths = Vec::new();
    leaf_paths(&ours, "", &mut paths);
    let sample = yaml_docs(&repo().join("tests/samples/whisk-every-field.yaml"))
        .pop()
        .expect("one document");
    let not_set: Vec<_> = paths
        .iter()
        .filter(|p| {
            !LEGACY
                .iter()
                .any(|l| p.as_str() == *l || p.starts_with(&format!("{l}.")))
        })
        .filter(|p| {
            let mut node = &sample["spec"];
            for part in p.split('.') {
                node = &node[part];
            }
            node.is_null()
        })
        .collect();
    assert!(paths.len() > 200, "only {} schema leaves", paths.len());
    assert!(
        not_set.is_empty(),
        "whisk-every-field.yaml does not set: {not_set:?}"
    );
}

/// A status as the Python operator left it (plus kopf's bookkeeping) and as
/// this operator writes it must both pass the status schema.
#[test]
fn status_schema_accepts_old_and_new_statuses() {
    let schema = schema_of(&Whisk::crd());
    let status_schema = &schema["properties"]["status"];
    let old = json!({
        "whisk_create": {"controller": "Ready", "openwhisk": "on", "whisk-system": "on", "preloader": "?", "extra": "kept"},
        "kopf": {"progress": {}}
    });
    let mut new = crd::WhiskStatus::default();
    let mut create = crd::WhiskCreateStatus {
        controller: Some(crd::ControllerState::Ready),
        ..Default::default()
    };
    create.set(crd::ComponentId::Couchdb, crd::ComponentState::On);
    new.whisk_create = Some(create);
    new.observed_generation = Some(3);
    new.conditions = vec![
        serde_json::from_value(json!({
            "type": "Ready", "status": "True", "reason": "Reconciled", "message": "all components ready",
            "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 3
        }))
        .expect("condition"),
    ];
    for status in [old, serde_json::to_value(&new).expect("status to JSON")] {
        let errs = validate::schema::check(status_schema, &status, "status");
        assert!(errs.is_empty(), "{status}: {errs:?}");
    }
    let bad = json!({"conditions": [{"type": "Ready", "status": "Maybe"}]});
    let errs: Vec<String> = validate::schema::check(status_schema, &bad, "status")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        errs.iter()
            .any(|e| e == "status.conditions[0].reason: Required value"),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(|e| e.contains("Unsupported value")),
        "{errs:?}"
    );
}

#[test]
fn null_toggles_read_as_off_in_cel_rules() {
    let spec = json!({"components": {"minio": null, "seaweedfs": true, "static": true}});
    assert!(
        validate_spec("Whisk", &spec).is_empty(),
        "{:?}",
        validate_spec("Whisk", &spec)
    );
    assert_rejected(
        json!({"components": {"static": true, "minio": null}}),
        "static requires an object store",
    );
}

#[test]
fn unknown_top_level_sections_are_reported() {
    let spec: crd::WhiskSpec = serde_json::from_value(
        json!({"s3": {"id": "x"}, "coucdb": {"port": 1}, "couchdb": {"port": 2}}),
    )
    .expect("parses");
    assert_eq!(spec.unknown_sections(), ["coucdb"]);
}
