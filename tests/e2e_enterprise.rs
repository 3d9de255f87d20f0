//! The enterprise installation end to end on the local control plane: the enterprise sample
//! (controller with Kafka, invoker, ZooKeeper, Kafka, monitoring) reaches Ready, a reconcile
//! with nothing to change writes nothing, a runtimes edit restarts the invoker and the
//! controller, switching to standalone removes the invoker, Kafka and ZooKeeper (their claims
//! kept) and switching back reuses them; bad input is NotValid (or refused by the API server)
//! with the field; monitoring with Alertmanager installs under the operator's own RBAC.
//! Prints the figures (install time, writes).

mod support;

use std::collections::BTreeSet;
use std::time::Instant;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Api, Client, ResourceExt};
use nuvolaris_operator::crd::Whisk;
use serde_json::{Value, json};
use support::operator::{condition, controller_is, start_operator_with, status};
use support::requests::{counting_client, counting_client_as};
use support::{TestNamespace, wait_deleted, wait_for};

const USER: &str = "e2e-user";

/// The enterprise sample in `namespace`, without NodePorts (other tests install the same
/// Services beside it).
fn enterprise_sample(namespace: &str) -> Whisk {
    let text = std::fs::read_to_string(support::repo_root().join("deploy/samples/enterprise.yaml"))
        .expect("read the sample");
    let mut cr: Value = serde_yaml_ng::from_str(&text).expect("the sample is YAML");
    cr["metadata"]["namespace"] = json!(namespace);
    cr["spec"]["nuvolaris"]["nodeports"] = json!(false);
    serde_json::from_value(cr).expect("the sample is a Whisk")
}

async fn patch_spec(whisks: &Api<Whisk>, spec: Value) {
    whisks
        .patch(
            "controller",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": spec })),
        )
        .await
        .expect("patch the Whisk spec");
}

/// `kind/name` of the Whisk's children labelled with one of `components`.
async fn children_of(client: &Client, ns: &str, components: &[&str]) -> BTreeSet<String> {
    let kinds = [
        ("apps", "v1", "StatefulSet", "statefulsets"),
        ("apps", "v1", "Deployment", "deployments"),
        ("", "v1", "Service", "services"),
        ("", "v1", "ConfigMap", "configmaps"),
        ("", "v1", "Secret", "secrets"),
        ("", "v1", "ServiceAccount", "serviceaccounts"),
        ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims"),
        ("rbac.authorization.k8s.io", "v1", "Role", "roles"),
        (
            "rbac.authorization.k8s.io",
            "v1",
            "RoleBinding",
            "rolebindings",
        ),
    ];
    let mut out = BTreeSet::new();
    for (g, v, k, p) in kinds {
        let ar = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(g, v, k), p);
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
        let selector = format!(
            "app.kubernetes.io/managed-by=nuvolaris-operator,nuvolaris.org/whisk=controller,nuvolaris.org/component in ({})",
            components.join(",")
        );
        for object in api
            .list(&ListParams::default().labels(&selector))
            .await
            .expect("list children")
        {
            if object.metadata.deletion_timestamp.is_none() {
                out.insert(format!("{k}/{}", object.name_any()));
            }
        }
    }
    out
}

fn pod_template(sts: &StatefulSet) -> k8s_openapi::api::core::v1::PodTemplateSpec {
    sts.spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default()
}

fn env_names(sts: &StatefulSet) -> Vec<String> {
    pod_template(sts)
        .spec
        .map(|p| {
            p.containers[0]
                .env
                .iter()
                .flatten()
                .map(|e| e.name.clone())
                .collect()
        })
        .unwrap_or_default()
}

fn runtimes_hash(sts: &StatefulSet) -> Option<String> {
    pod_template(sts)
        .metadata
        .and_then(|m| m.annotations)
        .and_then(|a| a.get("nuvolaris.org/runtimes-hash").cloned())
}

const MESSAGING: [&str; 3] = ["invoker", "kafka", "zookeeper"];
const CLAIMS: [&str; 3] = [
    "zookeeper-pvc-data",
    "zookeeper-pvc-datalog",
    "kafka-pvc-data",
];

#[tokio::test]
async fn the_enterprise_installation_reaches_ready_and_switches_modes_both_ways() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "e2e-enterprise").await;
    let (operator_client, requests) = counting_client().await;
    let operator = start_operator_with(operator_client, &ns.name);
    let whisks = ns.api::<Whisk>();
    let statefulsets = ns.api::<StatefulSet>();

    let started = Instant::now();
    whisks
        .create(&PostParams::default(), &enterprise_sample(&ns.name))
        .await
        .expect("create the enterprise Whisk");
    let ready = wait_for(
        &whisks,
        "controller",
        "enterprise Ready",
        controller_is("Ready"),
    )
    .await;
    let install_time = started.elapsed();
    let install_writes = operator.metrics.api_writes.get();
    let s = status(&ready);
    for component in [
        "zookeeper",
        "kafka",
        "invoker",
        "openwhisk",
        "endpoint",
        "couchdb",
        "redis",
        "monitoring",
    ] {
        assert_eq!(s["whisk_create"][component], "on", "{component}: {s}");
    }
    let controller = statefulsets.get("controller").await.expect("controller");
    let controller_uid = controller.metadata.uid.clone();
    assert!(
        env_names(&controller).contains(&"KAFKA_HOSTS".to_owned()),
        "enterprise controller"
    );
    for claim in CLAIMS {
        wait_for(
            &ns.api::<PersistentVolumeClaim>(),
            claim,
            "claim bound",
            support::cond::pvc_bound(),
        )
        .await;
    }
    let claim_uids: Vec<Option<String>> = {
        let mut uids = Vec::new();
        for claim in CLAIMS {
            uids.push(
                ns.api::<PersistentVolumeClaim>()
                    .get(claim)
                    .await
                    .expect("claim")
                    .metadata
                    .uid,
            );
        }
        uids
    };

    // A reconcile with nothing to change writes nothing.
    operator.next_reconcile().await;
    let writes_before = operator.metrics.api_writes.get();
    let requests_before = requests.snapshot();
    whisks
        .patch(
            "controller",
            &PatchParams::apply(USER),
            &Patch::Apply(json!({
                "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
                "metadata": {"name": "controller", "annotations": {"test/poke": "1"}}
            })),
        )
        .await
        .expect("poke");
    operator.next_reconcile().await;
    let no_op_writes = operator.metrics.api_writes.get() - writes_before;
    let no_op_requests = requests.since(&requests_before, "write");
    let no_op_reads = requests.since(&requests_before, "read");
    eprintln!(
        "FIGURE enterprise sample (kwok) apply-to-Ready: {install_time:?}; API writes for the install: {install_writes}; no-op reconcile: {no_op_writes} writes (client: {no_op_requests} writes, {no_op_reads} reads)"
    );
    assert_eq!(no_op_writes, 0, "writes during a no-op reconcile");
    assert_eq!(
        no_op_requests, 0,
        "the client sent writes during a no-op reconcile"
    );

    // A new runtimes manifest restarts the invoker as well as the controller.
    let invoker_hash = runtimes_hash(&statefulsets.get("invoker").await.expect("invoker"));
    let controller_hash = runtimes_hash(&controller);
    assert!(invoker_hash.is_some() && invoker_hash == controller_hash);
    let manifest = json!({ "runtimes": { "nodejs": [ { "kind": "nodejs:21", "default": true,
        "image": { "prefix": "apache", "name": "openserverless-runtime-nodejs", "tag": "v21-e2e" } } ] } });
    ns.api::<ConfigMap>()
        .patch(
            "openwhisk-runtimes",
            &PatchParams::apply(USER).force(),
            &Patch::Apply(json!({ "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": { "name": "openwhisk-runtimes" },
                "data": { "runtimes.json": manifest.to_string() } })),
        )
        .await
        .expect("edit the runtimes manifest");
    for name in ["invoker", "controller"] {
        wait_for(
            &statefulsets,
            name,
            "restarted for the new manifest",
            |s: Option<&StatefulSet>| {
                s.is_some_and(|s| runtimes_hash(s).is_some() && runtimes_hash(s) != invoker_hash)
            },
        )
        .await;
    }
    wait_for(
        &whisks,
        "controller",
        "Ready after the edit",
        controller_is("Ready"),
    )
    .await;

    // Standalone: the invoker, Kafka and ZooKeeper go (their claims stay), the controller is
    // updated in place, the standalone-only objects come back.
    patch_spec(
        &whisks,
        json!({"components": {"invoker": false, "kafka": false, "zookeeper": false}}),
    )
    .await;
    let standalone = wait_for(
        &whisks,
        "controller",
        "standalone Ready",
        controller_is("Ready"),
    )
    .await;
    for component in MESSAGING {
        assert_eq!(status(&standalone)["whisk_create"][component], "off");
    }
    let left: BTreeSet<String> = children_of(&client, &ns.name, &MESSAGING).await;
    let claims: BTreeSet<String> = CLAIMS
        .iter()
        .map(|c| format!("PersistentVolumeClaim/{c}"))
        .collect();
    assert_eq!(
        left, claims,
        "only the claims are left of the messaging components"
    );
    let controller = statefulsets.get("controller").await.expect("controller");
    assert_eq!(controller.metadata.uid, controller_uid, "updated in place");
    assert!(!env_names(&controller).contains(&"KAFKA_HOSTS".to_owned()));
    assert_eq!(
        pod_template(&controller)
            .spec
            .and_then(|p| p.service_account_name),
        Some("nuvolaris-openwhisk-core".to_owned())
    );
    let openwhisk = children_of(&client, &ns.name, &["openwhisk"]).await;
    for expected in [
        "Service/debugger",
        "Role/openwhisk-core-role",
        "ServiceAccount/nuvolaris-openwhisk-core",
        "ConfigMap/openwhisk-pod-templates",
        "Service/controller-ip",
    ] {
        assert!(openwhisk.contains(expected), "{expected} in {openwhisk:?}");
    }
    assert!(
        !openwhisk.contains("ServiceAccount/openwhisk-core"),
        "{openwhisk:?}"
    );

    // Back to enterprise: the same claims, the standalone-only objects gone.
    patch_spec(
        &whisks,
        json!({"components": {"invoker": true, "kafka": true, "zookeeper": true}}),
    )
    .await;
    wait_for(
        &whisks,
        "controller",
        "enterprise Ready again",
        controller_is("Ready"),
    )
    .await;
    for (claim, uid) in CLAIMS.iter().zip(&claim_uids) {
        let again = ns
            .api::<PersistentVolumeClaim>()
            .get(claim)
            .await
            .expect("claim");
        assert_eq!(
            &again.metadata.uid, uid,
            "{claim}: the same claim, the same data"
        );
    }
    let openwhisk = children_of(&client, &ns.name, &["openwhisk"]).await;
    for gone in ["Service/debugger", "Role/openwhisk-core-role"] {
        assert!(!openwhisk.contains(gone), "{gone} in {openwhisk:?}");
    }
    let invoker = children_of(&client, &ns.name, &["invoker"]).await;
    assert!(
        invoker.contains("ConfigMap/openwhisk-pod-templates"),
        "the pod templates follow the invoker: {invoker:?}"
    );
    let controller = statefulsets.get("controller").await.expect("controller");
    assert_eq!(controller.metadata.uid, controller_uid);
    assert!(env_names(&controller).contains(&"KAFKA_HOSTS".to_owned()));

    operator.stop();
    ns.cleanup().await;
}

#[tokio::test]
async fn bad_enterprise_input_is_refused_with_the_field() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "e2e-ent-bad").await;
    let (operator_client, _requests) = counting_client().await;
    let operator = start_operator_with(operator_client, &ns.name);
    let whisks = ns.api::<Whisk>();

    // A heap larger than the memory limit passes the schema: the operator says NotValid.
    let mut cr = enterprise_sample(&ns.name);
    let mut spec = serde_json::to_value(&cr.spec).expect("spec");
    spec["configs"]["invoker"]["javaOpts"] = json!("-Xmx4g");
    spec["configs"]["invoker"]["resources"] = json!({"cpu-req": "1", "mem-lim": "2G"});
    cr.spec = serde_json::from_value(spec).expect("spec");
    whisks
        .create(&PostParams::default(), &cr)
        .await
        .expect("create");
    let invalid = wait_for(&whisks, "controller", "NotValid", controller_is("NotValid")).await;
    let message = condition(&invalid, "Degraded")["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("configs.invoker.javaOpts") && message.contains("memory limit"),
        "{message}"
    );
    assert!(
        ns.api::<StatefulSet>()
            .list(&ListParams::default())
            .await
            .expect("list")
            .items
            .is_empty(),
        "nothing applied for an invalid spec"
    );

    // The enterprise mode without its messaging: NotValid, naming the switch.
    patch_spec(
        &whisks,
        json!({"configs": {"invoker": {"javaOpts": "-Xmx1G"}}, "components": {"kafka": false}}),
    )
    .await;
    let invalid = wait_for(&whisks, "controller", "NotValid", controller_is("NotValid")).await;
    let message = condition(&invalid, "Degraded")["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("components.invoker needs components.kafka"),
        "{message}"
    );

    // Zero replicas and an unknown logging level never reach the operator: the API server
    // refuses them, naming the field (as `render -f` does offline).
    for (patch, field) in [
        (
            json!({"configs": {"invoker": {"replicas": 0}}}),
            "spec.configs.invoker.replicas",
        ),
        (
            json!({"configs": {"controller": {"loggingLevel": "VERBOSE"}}}),
            "spec.configs.controller.loggingLevel",
        ),
    ] {
        let err = whisks
            .patch(
                "controller",
                &PatchParams::default(),
                &Patch::Merge(json!({ "spec": patch })),
            )
            .await
            .expect_err("refused by the schema");
        let text = err.to_string();
        assert!(text.contains(field), "{field}: {text}");
        let mut offline = serde_json::to_value(&cr).expect("the CR");
        merge_patch(&mut offline["spec"], &patch);
        let rejection =
            nuvolaris_operator::crd::validate::admit(&offline).expect_err("refused offline too");
        assert!(
            rejection
                .errors()
                .iter()
                .any(|e| e.to_string().contains(field)),
            "{field}: {:?}",
            rejection.errors()
        );
    }

    operator.stop();
    ns.cleanup().await;
}

/// The monitoring component, run by an operator acting with `deploy/operator/rbac.yaml`'s
/// ClusterRole: the API server refuses cluster roles that grant more than their creator holds,
/// so this proves the operator's RBAC covers what monitoring grants. Alertmanager off removes
/// what it had; deleting the Whisk removes the cluster roles.
#[tokio::test]
async fn monitoring_installs_with_the_operators_own_rbac_and_alertmanager_comes_and_goes() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "e2e-monitoring").await;
    let operator_role = format!("nuvolaris-operator-{}", ns.name);
    grant_operator_rbac(&client, &ns.name, &operator_role).await;
    let (operator_client, _requests) =
        counting_client_as(Some(format!("system:serviceaccount:{}:operator", ns.name))).await;
    // the client really acts as the operator: what its role lacks is refused
    let refused = Api::<k8s_openapi::api::core::v1::Namespace>::all(operator_client.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": format!("{}-x", ns.name)}}))
                .expect("a Namespace"),
        )
        .await
        .expect_err("the operator may not create namespaces");
    assert!(refused.to_string().contains("forbidden"), "{refused}");
    let operator = start_operator_with(operator_client, &ns.name);

    let whisks = ns.api::<Whisk>();
    let cr: Whisk = serde_json::from_value(json!({
        "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
        "metadata": {"name": "controller", "namespace": ns.name},
        "spec": {
            "nuvolaris": {"nodeports": false},
            "components": {"monitoring": true},
            "monitoring": {"alert-manager": {"enabled": true,
                "slack": {"enabled": true, "default": true, "slack_api_url": "https://hooks.example.org/T/B/e2e-webhook"}}},
        },
    }))
    .expect("a Whisk");
    whisks
        .create(&PostParams::default(), &cr)
        .await
        .expect("create");
    let ready = wait_for(
        &whisks,
        "controller",
        "monitoring Ready",
        controller_is("Ready"),
    )
    .await;
    assert_eq!(status(&ready)["whisk_create"]["monitoring"], "on");
    let cluster_roles = Api::<ClusterRole>::all(client.clone());
    let bindings = Api::<ClusterRoleBinding>::all(client.clone());
    let per_installation = |account: &str| format!("{account}-{}", ns.name);
    for account in [
        "nuvolaris-prometheus-server",
        "nuvolaris-prometheus-kube-state-metrics",
    ] {
        cluster_roles
            .get(&per_installation(account))
            .await
            .expect("cluster role");
        let binding = bindings
            .get(&per_installation(account))
            .await
            .expect("binding");
        let subject = binding.subjects.unwrap_or_default();
        assert_eq!(subject[0].namespace.as_deref(), Some(ns.name.as_str()));
    }
    for deployment in [
        "nuvolaris-prometheus-server",
        "nuvolaris-prometheus-kube-state-metrics",
        "nuvolaris-prometheus-alertmanager",
    ] {
        wait_for(
            &ns.api::<Deployment>(),
            deployment,
            "available",
            support::cond::deployment_ready(),
        )
        .await;
    }
    for cm in ns
        .api::<ConfigMap>()
        .list(&ListParams::default())
        .await
        .expect("list")
    {
        assert!(
            !serde_json::to_string(&cm.data)
                .unwrap_or_default()
                .contains("e2e-webhook"),
            "the webhook URL in ConfigMap {}",
            cm.name_any()
        );
    }
    let receivers: Vec<Secret> = ns
        .api::<Secret>()
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .filter(|s| {
            s.name_any()
                .starts_with("nuvolaris-prometheus-alertmanager-receivers-")
        })
        .collect();
    assert_eq!(receivers.len(), 1, "the receivers' Secret");

    // Alertmanager off: everything of it goes but its claim, Prometheus stops alerting to it.
    patch_spec(
        &whisks,
        json!({"monitoring": {"alert-manager": {"enabled": false}}}),
    )
    .await;
    wait_for(
        &whisks,
        "controller",
        "Ready without Alertmanager",
        controller_is("Ready"),
    )
    .await;
    let left = children_of(&client, &ns.name, &["monitoring"]).await;
    let alertmanager: Vec<&String> = left.iter().filter(|n| n.contains("alertmanager")).collect();
    assert_eq!(
        alertmanager,
        ["PersistentVolumeClaim/storage-nuvolaris-prometheus-alertmanager"],
        "{left:?}"
    );
    let prometheus = ns
        .api::<ConfigMap>()
        .get("nuvolaris-prometheus-server")
        .await
        .expect("prometheus config");
    let yml = prometheus
        .data
        .and_then(|d| d.get("prometheus.yml").cloned())
        .unwrap_or_default();
    assert!(!yml.contains("alertmanager"), "{yml}");
    assert!(
        ns.api::<ServiceAccount>()
            .get_opt("nuvolaris-prometheus-alertmanager")
            .await
            .expect("get")
            .is_none()
    );

    // Deleting the Whisk removes the per-installation cluster roles (no owner reference can).
    let uid = cluster_roles
        .get(&per_installation("nuvolaris-prometheus-server"))
        .await
        .expect("cluster role")
        .metadata
        .uid
        .unwrap_or_default();
    whisks
        .delete("controller", &DeleteParams::default())
        .await
        .expect("delete the Whisk");
    wait_deleted(
        &cluster_roles,
        &per_installation("nuvolaris-prometheus-server"),
        &uid,
        "cluster role removed with the Whisk",
    )
    .await;

    operator.stop();
    let _ = cluster_roles
        .delete(&operator_role, &DeleteParams::default())
        .await;
    let _ = bindings
        .delete(&operator_role, &DeleteParams::default())
        .await;
    ns.cleanup().await;
}

/// A ServiceAccount `operator` in `namespace` bound, cluster-wide, to a copy named `role` of
/// the operator's ClusterRole from `deploy/operator/rbac.yaml`.
async fn grant_operator_rbac(client: &Client, namespace: &str, role: &str) {
    let text = std::fs::read_to_string(support::repo_root().join("deploy/operator/rbac.yaml"))
        .expect("read rbac.yaml");
    let rules = serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| <Value as serde::Deserialize>::deserialize(doc).expect("YAML"))
        .find(|o| o["kind"] == "ClusterRole" && o["metadata"]["name"] == "nuvolaris-operator")
        .map(|o| o["rules"].clone())
        .expect("the operator's ClusterRole");
    let role_object: ClusterRole =
        serde_json::from_value(json!({"metadata": {"name": role}, "rules": rules})).expect("role");
    Api::<ClusterRole>::all(client.clone())
        .create(&PostParams::default(), &role_object)
        .await
        .expect("create the operator's role");
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": role},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": "operator", "namespace": namespace}],
    }))
    .expect("binding");
    Api::<ClusterRoleBinding>::all(client.clone())
        .create(&PostParams::default(), &binding)
        .await
        .expect("bind the operator's role");
    Api::<ServiceAccount>::namespaced(client.clone(), namespace)
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "operator"}})).expect("sa"),
        )
        .await
        .expect("create the operator's service account");
}

/// RFC 7386 JSON merge patch, as the API server applies `Patch::Merge`.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(fields) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    for (key, value) in fields {
        if value.is_null() {
            if let Some(map) = target.as_object_mut() {
                map.remove(key);
            }
        } else {
            merge_patch(&mut target[key], value);
        }
    }
}
