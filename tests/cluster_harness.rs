//! Integration tests of the local control plane itself (tools/cluster/cluster.sh):
//! the behaviours the operator's tests rely on — workloads get Running/Ready Pods,
//! volumes bind, Jobs complete, garbage collection and namespace deletion work,
//! CRDs and server-side apply work, kubectl can talk to it.
mod support;

use std::process::Command;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace, PersistentVolumeClaim, Pod, ServiceAccount,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use kube::{Api, Resource};
use serde_json::json;
use support::{TestNamespace, cond, wait_deleted, wait_for, wait_for_list};

const FIELD_MANAGER: &str = "cluster-harness-test";

fn from_json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).expect("test object must deserialize")
}

fn deployment(name: &str, replicas: i32) -> Deployment {
    from_json(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": name },
        "spec": {
            "replicas": replicas,
            "selector": { "matchLabels": { "app": name } },
            "template": {
                "metadata": { "labels": { "app": name } },
                "spec": { "containers": [{ "name": "main", "image": "registry.invalid/never-pulled:1" }] }
            }
        }
    }))
}

fn uid_of<K: Resource>(obj: &K) -> String {
    obj.meta().uid.clone().expect("a stored object has a uid")
}

#[tokio::test]
async fn deployment_pods_become_running_and_ready() {
    let client = support::cluster().await;
    let ns = TestNamespace::create(&client, "harness-deploy").await;
    let deployments: Api<Deployment> = ns.api();
    deployments
        .create(&PostParams::default(), &deployment("web", 3))
        .await
        .expect("create deployment");

    wait_for(
        &deployments,
        "web",
        "deployment web to have 3 ready replicas",
        cond::deployment_ready(),
    )
    .await;

    let pods: Api<Pod> = ns.api();
    let pods = wait_for_list(
        &pods,
        "app=web",
        "3 running and ready pods of web",
        |pods| {
            pods.len() == 3
                && pods.iter().all(|p| {
                    cond::is_pod_ready(p)
                        && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
                })
        },
    )
    .await;
    for pod in &pods {
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .unwrap_or_default();
        assert!(
            node.starts_with("kwok-node-"),
            "pod scheduled on a fake node, got {node:?}"
        );
    }
    ns.cleanup().await;
}

#[tokio::test]
async fn new_namespace_gets_default_service_account() {
    let client = support::cluster().await;
    let ns = TestNamespace::create(&client, "harness-sa").await;
    let accounts: Api<ServiceAccount> = ns.api();
    wait_for(
        &accounts,
        "default",
        "the default ServiceAccount",
        cond::is_created(),
    )
    .await;
    ns.cleanup().await;
}

#[tokio::test]
async fn statefulset_with_volume_claims_becomes_ready() {
    let client = support::cluster().await;
    let ns = TestNamespace::create(&client, "harness-sts").await;
    let sets: Api<StatefulSet> = ns.api();
    let sts: StatefulSet = from_json(json!({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": { "name": "db" },
        "spec": {
            "serviceName": "db",
            "replicas": 2,
            "selector": { "matchLabels": { "app": "db" } },
            "template": {
                "metadata": { "labels": { "app": "db" } },
                "spec": { "containers": [{
                    "name": "db",
                    "image": "registry.invalid/never-pulled:1",
                    "volumeMounts": [{ "name": "data", "mountPath": "/data" }]
                }] }
            },
            // No storageClassName: the default StorageClass must be used.
            "volumeClaimTemplates": [{
                "metadata": { "name": "data" },
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": { "requests": { "storage": "1Gi" } }
                }
            }]
        }
    }));
    sets.create(&PostParams::default(), &sts)
        .await
        .expect("create statefulset");

    wait_for(
        &sets,
        "db",
        "statefulset db to have 2 ready replicas",
        cond::statefulset_ready(),
    )
    .await;

    let claims: Api<PersistentVolumeClaim> = ns.api();
    for name in ["data-db-0", "data-db-1"] {
        let pvc = wait_for(&claims, name, "the PVC to be Bound", cond::pvc_bound()).await;
        let spec = pvc.spec.expect("pvc spec");
        assert!(spec.volume_name.is_some(), "{name} is bound to a volume");
        assert!(
            spec.storage_class_name.is_some(),
            "{name} got the default StorageClass"
        );
    }
    let pods: Api<Pod> = ns.api();
    for name in ["db-0", "db-1"] {
        wait_for(
            &pods,
            name,
            "statefulset pod to be Ready",
            cond::pod_ready(),
        )
        .await;
    }
    ns.cleanup().await;
}

#[tokio::test]
async fn job_pod_completes_and_job_succeeds() {
    let client = support::cluster().await;
    let ns = TestNamespace::create(&client, "harness-job").await;
    let jobs: Api<Job> = ns.api();
    let job: Job = from_json(json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": { "name": "once" },
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": { "labels": { "app": "once" } },
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{ "name": "main", "image": "registry.invalid/never-pulled:1" }]
                }
            }
        }
    }));
    jobs.create(&PostParams::default(), &job)
        .await
        .expect("create job");

    let done = wait_for(
        &jobs,
        "once",
        "job once to complete",
        cond::is_job_completed(),
    )
    .await;
    assert_eq!(
        done.status.and_then(|s| s.succeeded),
        Some(1),
        "exactly one pod succeeded"
    );

    let pods: Api<Pod> = ns.api();
    let pods = wait_for_list(&pods, "app=once", "the job's pod to be Succeeded", |pods| {
        !pods.is_empty()
            && pods
                .iter()
                .all(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Succeeded"))
    })
    .await;
    assert_eq!(pods.len(), 1);
    ns.cleanup().await;
}

#[tokio::test]
async fn deleting_an_owner_garbage_collects_its_children() {
    let client = support::cluster().await;
    let ns = TestNamespace::create(&client, "harness-gc").await;

    // Two levels of ownership built by controllers: Deployment -> ReplicaSet -> Pods.
    let deployments: Api<Deployment> = ns.api();
    let created = deployments
        .create(&PostParams::default(), &deployment("owner", 2))
        .await
        .expect("create deployment");
    wait_for(
        &deployments,
        "owner",
        "deployment owner to be ready",
        cond::deployment_ready(),
    )
    .await;

    // One level built by hand: ConfigMap -> ConfigMap.
    let maps: Api<ConfigMap> = ns.api();
    let parent = maps
        .create(
            &PostParams::default(),
            &from_json(json!({ "metadata": { "name": "parent" } })),
        )
        .await
        .expect("create parent configmap");
    let child: ConfigMap = from_json(json!({
        "metadata": {
            "name": "child",
            "ownerReferences": [{
                "apiVersion": "v1", "kind": "ConfigMap", "name": "parent", "uid": uid_of(&parent)
            }]
        }
    }));
    let child = maps
        .create(&PostParams::default(), &child)
        .await
        .expect("create child configmap");

    deployments
        .delete("owner", &DeleteParams::background())
        .await
        .expect("delete deployment");
    maps.delete("parent", &DeleteParams::background())
        .await
        .expect("delete parent");

    wait_deleted(
        &deployments,
        "owner",
        &uid_of(&created),
        "deployment owner to be deleted",
    )
    .await;
    let replicasets: Api<ReplicaSet> = ns.api();
    wait_for_list(
        &replicasets,
        "app=owner",
        "the ReplicaSet to be garbage-collected",
        |rs| rs.is_empty(),
    )
    .await;
    let pods: Api<Pod> = ns.api();
    wait_for_list(
        &pods,
        "app=owner",
        "the pods to be garbage-collected",
        |pods| pods.is_empty(),
    )
    .await;
    wait_deleted(
        &maps,
        "child",
        &uid_of(&child),
        "the child ConfigMap to be garbage-collected",
    )
    .await;
    ns.cleanup().await;
}

#[tokio::test]
async fn deleting_a_namespace_finishes() {
    let client = support::cluster().await;
    let ns = TestNamespace::create(&client, "harness-nsdel").await;
    // Content that needs the namespace controller, GC and kwok (bound pods) to go away.
    let deployments: Api<Deployment> = ns.api();
    deployments
        .create(&PostParams::default(), &deployment("app", 1))
        .await
        .expect("create deployment");
    wait_for(
        &deployments,
        "app",
        "deployment app to be ready",
        cond::deployment_ready(),
    )
    .await;
    let maps: Api<ConfigMap> = ns.api();
    maps.create(
        &PostParams::default(),
        &from_json(json!({ "metadata": { "name": "cfg" } })),
    )
    .await
    .expect("create configmap");

    let namespaces: Api<Namespace> = Api::all(client.clone());
    let uid = uid_of(&namespaces.get(&ns.name).await.expect("get namespace"));
    namespaces
        .delete(&ns.name, &DeleteParams::default())
        .await
        .expect("delete namespace");
    wait_deleted(
        &namespaces,
        &ns.name,
        &uid,
        "the namespace deletion to finish",
    )
    .await;
}

#[tokio::test]
async fn crd_and_server_side_applied_custom_resource() {
    let client = support::cluster().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": { "name": "widgets.harness.nuvolaris.org" },
        "spec": {
            "group": "harness.nuvolaris.org",
            "names": { "kind": "Widget", "plural": "widgets", "singular": "widget" },
            "scope": "Namespaced",
            "versions": [{
                "name": "v1",
                "served": true,
                "storage": true,
                "subresources": { "status": {} },
                "schema": { "openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {
                            "type": "object",
                            "properties": {
                                "size": { "type": "integer" },
                                "color": { "type": "string" }
                            }
                        },
                        "status": { "type": "object", "x-kubernetes-preserve-unknown-fields": true }
                    }
                } }
            }]
        }
    });
    // Apply (not create): idempotent when the test reruns against the same cluster.
    let ssa = PatchParams::apply(FIELD_MANAGER).force();
    crds.patch("widgets.harness.nuvolaris.org", &ssa, &Patch::Apply(&crd))
        .await
        .expect("apply CRD");
    wait_for(
        &crds,
        "widgets.harness.nuvolaris.org",
        "the CRD to be Established",
        cond::is_crd_established(),
    )
    .await;

    let ns = TestNamespace::create(&client, "harness-crd").await;
    let gvk = GroupVersionKind::gvk("harness.nuvolaris.org", "v1", "Widget");
    let resource = ApiResource::from_gvk(&gvk);
    let widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns.name, &resource);
    let widget = json!({
        "apiVersion": "harness.nuvolaris.org/v1",
        "kind": "Widget",
        "metadata": { "name": "w1" },
        "spec": { "size": 3, "color": "blue" }
    });
    // Requests are routed by the CRD handler, which serves a CRD once Established;
    // no discovery is needed because the ApiResource is built from the GVK.
    let applied = widgets
        .patch("w1", &ssa, &Patch::Apply(&widget))
        .await
        .expect("server-side apply of the custom resource");
    assert_eq!(applied.data["spec"]["size"], json!(3));
    assert_eq!(applied.data["spec"]["color"], json!("blue"));
    let managers: Vec<_> = applied
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(
        managers.iter().any(|m| m == FIELD_MANAGER),
        "managed fields record the applier: {managers:?}"
    );

    // A second apply by the same manager changes a field in place.
    let changed = json!({
        "apiVersion": "harness.nuvolaris.org/v1",
        "kind": "Widget",
        "metadata": { "name": "w1" },
        "spec": { "size": 5, "color": "blue" }
    });
    let updated = widgets
        .patch("w1", &ssa, &Patch::Apply(&changed))
        .await
        .expect("re-apply");
    assert_eq!(updated.data["spec"]["size"], json!(5));
    ns.cleanup().await;
}

#[tokio::test]
async fn kubectl_get_nodes_shows_ready_nodes() {
    let _client = support::cluster().await;
    let kubeconfig = support::kubeconfig_path();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["get", "nodes", "--no-headers"])
            .output()
    })
    .await
    .expect("join")
    .expect("kubectl must be installed");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "kubectl get nodes failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let ready: Vec<&str> = stdout
        .lines()
        .filter(|line| line.split_whitespace().nth(1) == Some("Ready"))
        .collect();
    assert!(
        ready.len() >= 2,
        "at least two Ready fake nodes, got:\n{stdout}"
    );
}
