//! The first working installation, end to end on the local control plane: the minimal CR
//! (openwhisk standalone, couchdb, redis) with the real components, then the changes a user
//! makes — a new controller image, redis disabled, the runtimes manifest edited — and deletion.

mod support;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Pod, Secret, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::core::{DynamicObject, GroupVersionKind};
use kube::discovery::ApiResource;
use kube::{Api, Client, ResourceExt};
use nuvolaris_operator::crd::Whisk;
use serde_json::{Value, json};
use support::operator::{ready_for_generation, start_operator, status};
use support::{TestNamespace, cond, wait_for};

const USER: &str = "e2e-user";

/// The operator's children, by label.
const CHILDREN: &str =
    "app.kubernetes.io/managed-by=nuvolaris-operator,nuvolaris.org/whisk=controller";

fn children() -> ListParams {
    ListParams::default().labels(CHILDREN)
}

/// Waits until no child of kind `K` is left.
async fn no_children<K>(api: Api<K>, what: &str)
where
    K: Clone
        + std::fmt::Debug
        + Send
        + Sync
        + serde::de::DeserializeOwned
        + kube::Resource
        + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    support::wait_for_list(&api, CHILDREN, what, |items| items.is_empty()).await;
}

/// Waits until the object `name` (as it exists now) is deleted.
async fn deleted<K>(api: Api<K>, name: &str, what: &str)
where
    K: Clone + std::fmt::Debug + Send + serde::de::DeserializeOwned + kube::Resource + 'static,
{
    let uid = api.get(name).await.ok().and_then(|o| o.meta().uid.clone());
    if let Some(uid) = uid {
        support::wait_deleted(&api, name, &uid, what).await;
    }
}

/// Kinds the minimal installation creates.
fn kinds() -> Vec<ApiResource> {
    [
        ("apps", "v1", "StatefulSet", "statefulsets"),
        ("batch", "v1", "Job", "jobs"),
        ("", "v1", "Service", "services"),
        ("", "v1", "ConfigMap", "configmaps"),
        ("", "v1", "Secret", "secrets"),
        ("", "v1", "ServiceAccount", "serviceaccounts"),
        ("rbac.authorization.k8s.io", "v1", "Role", "roles"),
        (
            "rbac.authorization.k8s.io",
            "v1",
            "RoleBinding",
            "rolebindings",
        ),
        ("networking.k8s.io", "v1", "Ingress", "ingresses"),
    ]
    .into_iter()
    .map(|(g, v, k, p)| ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(g, v, k), p))
    .collect()
}

/// `kind/name` → resourceVersion of every child of the Whisk.
async fn child_versions(client: &Client, ns: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for ar in kinds() {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
        for obj in api.list(&children()).await.expect("list children") {
            out.insert(
                format!("{}/{}", ar.kind, obj.name_any()),
                obj.resource_version().unwrap_or_default(),
            );
        }
    }
    out
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

#[tokio::test]
async fn the_minimal_installation_reaches_ready_and_follows_changes() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "e2e-minimal").await;

    let operator = start_operator(&client, &ns.name);

    // The sample CR, in this test's namespace.
    let sample = std::fs::read_to_string(support::repo_root().join("deploy/samples/minimal.yaml"))
        .expect("read sample");
    let mut cr: Value = serde_yaml_ng::from_str(&sample).expect("sample is YAML");
    cr["metadata"]["namespace"] = json!(ns.name);
    let cr: Whisk = serde_json::from_value(cr).expect("sample is a Whisk");
    let whisks = ns.api::<Whisk>();
    whisks
        .create(&PostParams::default(), &cr)
        .await
        .expect("create the Whisk");

    // Ready, with the original's status contract.
    let ready = wait_for(&whisks, "controller", "Whisk Ready", ready_for_generation()).await;
    let s = status(&ready);
    for component in ["preloader", "couchdb", "redis", "openwhisk", "endpoint"] {
        assert_eq!(s["whisk_create"][component], "on", "{component} in {s}");
    }
    assert_eq!(s["whisk_create"]["controller"], "Ready", "{s}");
    assert_eq!(s["whisk_create"]["invoker"], "off", "{s}");

    // The objects and pods the `ops` CLI waits for.
    for pod in ["couchdb-0", "redis-0", "controller-0"] {
        wait_for(&ns.api::<Pod>(), pod, "pod Ready", cond::pod_ready()).await;
    }
    for job in ["couchdb-init", "redis-init", "preload-runtimes"] {
        wait_for(
            &ns.api::<Job>(),
            job,
            "setup job complete",
            cond::is_job_completed(),
        )
        .await;
    }
    for svc in [
        "couchdb",
        "couchdb-np",
        "redis",
        "controller",
        "controller-ip",
        "debugger",
    ] {
        ns.api::<Service>()
            .get(svc)
            .await
            .unwrap_or_else(|e| panic!("service {svc}: {e}"));
    }
    for ing in ["apihost", "apihost-info", "apihost-my"] {
        ns.api::<Ingress>()
            .get(ing)
            .await
            .unwrap_or_else(|e| panic!("ingress {ing}: {e}"));
    }
    for cm in ["openwhisk-runtimes", "openwhisk-pod-templates"] {
        ns.api::<ConfigMap>()
            .get(cm)
            .await
            .unwrap_or_else(|e| panic!("configmap {cm}: {e}"));
    }
    let couchdb = ns
        .api::<StatefulSet>()
        .get("couchdb")
        .await
        .expect("couchdb");
    let labels = couchdb
        .spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    assert_eq!(labels.get("name").map(String::as_str), Some("couchdb"));
    assert_eq!(
        labels.get("app").map(String::as_str),
        Some("nuvolaris-couchdb")
    );
    let secrets: Vec<String> = ns
        .api::<Secret>()
        .list(&ListParams::default())
        .await
        .expect("secrets")
        .items
        .iter()
        .map(|s| s.name_any())
        .collect();
    assert!(
        secrets.iter().any(|n| n.starts_with("couchdb-auth-")),
        "hashed couchdb-auth secret in {secrets:?}"
    );
    assert!(
        secrets.iter().any(|n| n == "nuvolaris-generated"),
        "generated passwords secret in {secrets:?}"
    );

    // A new controller image changes the controller StatefulSet and nothing else.
    let before = child_versions(&client, &ns.name).await;
    patch_spec(
        &whisks,
        json!({ "controller": { "image": "registry.example.org:5000/ow/controller:e2e" } }),
    )
    .await;
    let sts = wait_for(
        &ns.api::<StatefulSet>(),
        "controller",
        "controller image updated",
        |s: Option<&StatefulSet>| {
            s.and_then(|s| s.spec.as_ref())
                .and_then(|s| s.template.spec.as_ref())
                .is_some_and(|p| {
                    p.containers[0].image.as_deref()
                        == Some("registry.example.org:5000/ow/controller:e2e")
                })
        },
    )
    .await;
    assert!(sts.spec.is_some());
    wait_for(
        &whisks,
        "controller",
        "Whisk Ready again",
        ready_for_generation(),
    )
    .await;
    let after = child_versions(&client, &ns.name).await;
    let changed: Vec<&String> = before
        .keys()
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert_eq!(
        changed,
        vec!["StatefulSet/controller"],
        "only the controller StatefulSet may change"
    );
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "no object added or removed"
    );

    // A manual edit of a field the operator sets is reverted (drift correction).
    ns.api::<StatefulSet>()
        .patch(
            "couchdb",
            &PatchParams {
                field_manager: Some(USER.to_owned()),
                ..PatchParams::default()
            },
            &Patch::Merge(json!({ "spec": { "replicas": 3 } })),
        )
        .await
        .expect("edit couchdb by hand");
    wait_for(
        &ns.api::<StatefulSet>(),
        "couchdb",
        "manual edit reverted",
        |s: Option<&StatefulSet>| {
            s.and_then(|s| s.spec.as_ref())
                .is_some_and(|s| s.replicas == Some(1))
        },
    )
    .await;
    wait_for(
        &whisks,
        "controller",
        "Whisk Ready after the revert",
        ready_for_generation(),
    )
    .await;

    // An edited runtimes manifest re-runs the preload and restarts the controller.
    let runtimes_hash = |s: &StatefulSet| {
        s.spec
            .as_ref()
            .and_then(|s| s.template.metadata.as_ref())
            .and_then(|m| m.annotations.as_ref())
            .and_then(|a| a.get("nuvolaris.org/runtimes-hash").cloned())
    };
    let old_hash = runtimes_hash(&sts);
    let manifest = json!({ "runtimes": { "nodejs": [ { "kind": "nodejs:21", "default": true,
        "image": { "prefix": "apache", "name": "openserverless-runtime-nodejs", "tag": "v21-e2e" } } ] } });
    ns.api::<ConfigMap>()
        .patch("openwhisk-runtimes", &PatchParams::apply(USER).force(),
            &Patch::Apply(json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "openwhisk-runtimes" },
                "data": { "runtimes.json": manifest.to_string() } })))
        .await
        .expect("edit the runtimes manifest");
    wait_for(
        &ns.api::<Job>(),
        "preload-runtimes",
        "preload job re-created for the new manifest",
        |j: Option<&Job>| {
            j.and_then(|j| j.spec.as_ref()).is_some_and(|s| {
                let images: Vec<_> = s
                    .template
                    .spec
                    .as_ref()
                    .map(|p| {
                        p.containers
                            .iter()
                            .filter_map(|c| c.image.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                images == ["apache/openserverless-runtime-nodejs:v21-e2e"]
            })
        },
    )
    .await;
    let sts = wait_for(
        &ns.api::<StatefulSet>(),
        "controller",
        "controller restarted for the new manifest",
        |s: Option<&StatefulSet>| {
            s.is_some_and(|s| runtimes_hash(s).is_some() && runtimes_hash(s) != old_hash)
        },
    )
    .await;
    assert!(runtimes_hash(&sts).is_some());
    let cm = ns
        .api::<ConfigMap>()
        .get("openwhisk-runtimes")
        .await
        .expect("runtimes configmap");
    assert!(
        cm.data.unwrap_or_default()["runtimes.json"].contains("v21-e2e"),
        "the operator keeps the user's manifest"
    );

    // Disabling redis prunes its objects and says so in status.
    patch_spec(&whisks, json!({ "components": { "redis": false } })).await;
    let off = wait_for(&whisks, "controller", "redis off", |w: Option<&Whisk>| {
        w.is_some_and(|w| status(w)["whisk_create"]["redis"] == "off") && ready_for_generation()(w)
    })
    .await;
    assert_eq!(status(&off)["whisk_create"]["couchdb"], "on");
    deleted(ns.api::<StatefulSet>(), "redis", "redis statefulset pruned").await;
    let left = child_versions(&client, &ns.name).await;
    let redis_left: Vec<&String> = left.keys().filter(|k| k.contains("redis")).collect();
    assert!(
        redis_left.is_empty(),
        "redis objects left after disabling: {redis_left:?}"
    );

    // Deleting the Whisk removes everything but the data (PVCs).
    let uid = ready.metadata.uid.clone().expect("the Whisk has a uid");
    whisks
        .delete("controller", &DeleteParams::default())
        .await
        .expect("delete the Whisk");
    support::wait_deleted(
        &whisks,
        "controller",
        &uid,
        "Whisk deleted (finalizer released)",
    )
    .await;
    no_children(ns.api::<StatefulSet>(), "statefulsets collected").await;
    no_children(ns.api::<Job>(), "jobs collected").await;
    no_children(ns.api::<Service>(), "services collected").await;
    no_children(ns.api::<ConfigMap>(), "configmaps collected").await;
    no_children(ns.api::<Secret>(), "secrets collected").await;
    no_children(ns.api::<Ingress>(), "ingresses collected").await;
    let pvcs = ns
        .api::<PersistentVolumeClaim>()
        .list(&ListParams::default())
        .await
        .expect("pvcs");
    assert!(
        pvcs.items
            .iter()
            .any(|p| p.name_any() == "couchdb-pvc-couchdb-0"),
        "CouchDB's data survives the deletion"
    );

    operator
        .stop_and_join()
        .await
        .expect("operator ran cleanly");
    ns.cleanup().await;
}
