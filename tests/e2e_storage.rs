//! The object stores and the static web server end to end on the local control plane (kwok:
//! pods run and Jobs complete without running anything, so the setup steps themselves are
//! proven against real servers in `setup_minio` and `setup_seaweedfs`): enable, Ready with the
//! status keys and the `s3_*` annotations of `cm/config`; switch MinIO for SeaweedFS; disable,
//! pruned with the volume claims kept and the annotations gone (others' stay); bad input is
//! NotValid with the field and applies nothing. Prints apply → Ready times.

mod support;

use std::collections::BTreeMap;
use std::time::Instant;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use nuvolaris_operator::crd::Whisk;
use serde_json::{Value, json};
use support::operator::{controller_is, start_operator, status};
use support::{TestNamespace, wait_for};

fn whisk(namespace: &str, spec: Value) -> Whisk {
    serde_json::from_value(json!({
        "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
        "metadata": {"name": "controller", "namespace": namespace},
        "spec": spec,
    }))
    .expect("a Whisk")
}

async fn patch_spec(whisks: &Api<Whisk>, spec: Value) {
    whisks
        .patch(
            "controller",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": spec})),
        )
        .await
        .expect("patch the spec");
}

async fn annotations(configs: &Api<ConfigMap>) -> BTreeMap<String, String> {
    configs
        .get("config")
        .await
        .expect("cm/config")
        .metadata
        .annotations
        .unwrap_or_default()
}

async fn exists<K>(api: &Api<K>, name: &str) -> bool
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug + kube::Resource,
{
    api.get_opt(name).await.expect("get").is_some()
}

fn host(ingress: &Ingress) -> Option<String> {
    ingress.spec.as_ref()?.rules.as_ref()?.first()?.host.clone()
}

/// The `ops` CLI's empty `cm/config`, with a key of its own that must stay.
async fn cli_config(configs: &Api<ConfigMap>) {
    configs
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": "config", "annotations": {"cli/own": "kept"}}
            }))
            .expect("a ConfigMap"),
        )
        .await
        .expect("create cm/config");
}

#[tokio::test]
async fn minio_and_static_then_seaweedfs_then_nothing() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "e2e-storage").await;
    let operator = start_operator(&client, &ns.name);
    let configs = ns.api::<ConfigMap>();
    cli_config(&configs).await;
    let whisks = ns.api::<Whisk>();
    let started = Instant::now();
    whisks
        .create(
            &PostParams::default(),
            &whisk(
                &ns.name,
                json!({
                    // no NodePorts: other tests run beside this one
                    "nuvolaris": {"apihost": "api.example.org", "nodeports": false},
                    "components": {"minio": true, "static": true},
                    "minio": {"ingress": {"s3-enabled": true, "console-enabled": true}},
                }),
            ),
        )
        .await
        .expect("create");
    let ready = wait_for(
        &whisks,
        "controller",
        "Ready with MinIO",
        controller_is("Ready"),
    )
    .await;
    let minio_ready = started.elapsed();
    let s = status(&ready);
    assert_eq!(s["whisk_create"]["minio"], "on", "{s}");
    assert_eq!(s["whisk_create"]["static"], "on", "{s}");
    assert_eq!(s["whisk_create"]["seaweedfs"], "off", "{s}");

    // What runs.
    let deployment = ns
        .api::<Deployment>()
        .get("minio-deployment")
        .await
        .expect("minio-deployment");
    let labels = deployment
        .spec
        .and_then(|s| s.template.metadata)
        .and_then(|m| m.labels)
        .unwrap_or_default();
    assert_eq!(labels.get("app").map(String::as_str), Some("minio"));
    let pods = ns
        .api::<k8s_openapi::api::core::v1::Pod>()
        .list(&ListParams::default().labels("app=minio"))
        .await
        .expect("pods");
    assert_eq!(pods.items.len(), 1, "the `ops` CLI waits on -l app=minio");
    let claims = ns.api::<PersistentVolumeClaim>();
    let claim = claims.get("minio-pv-claim").await.expect("minio-pv-claim");
    assert!(
        claim.metadata.owner_references.is_none(),
        "a claim has no owner"
    );
    assert!(exists(&ns.api::<Service>(), "nuvolaris-minio").await);
    let job = ns.api::<Job>().get("minio-init").await.expect("minio-init");
    assert_eq!(job.status.and_then(|s| s.succeeded), Some(1));
    assert!(exists(&ns.api::<StatefulSet>(), "nuvolaris-static").await);
    let ingresses = ns.api::<Ingress>();
    for (name, expected) in [
        ("minio-upload", "api.example.org"),
        ("minio-s3", "s3.api.example.org"),
        ("minio-console", "minio.api.example.org"),
        ("apihost-static-ingress", "api.example.org"),
        ("www-nuvolaris-static-ingress", "www.api.example.org"),
    ] {
        let ingress = ingresses.get(name).await.expect(name);
        assert_eq!(host(&ingress).as_deref(), Some(expected), "{name}");
    }
    let published = annotations(&configs).await;
    let expected_host = format!("nuvolaris-minio.{}.svc.cluster.local", ns.name);
    for (key, value) in [
        ("s3_host", expected_host.as_str()),
        ("s3_port", "9000"),
        ("s3_access_key", "nuvolaris"),
        ("s3_provider", "minio"),
        ("s3_bucket_data", "nuvolaris-data"),
        ("s3_bucket_static", "nuvolaris-web"),
        ("s3_api_url", "http://s3.api.example.org"),
        ("s3_console_url", "http://minio.api.example.org"),
        ("cli/own", "kept"),
    ] {
        assert_eq!(published.get(key).map(String::as_str), Some(value), "{key}");
    }
    assert!(
        published
            .get("s3_secret_key")
            .is_some_and(|k| k.len() == 32),
        "the generated key"
    );

    // MinIO out, SeaweedFS in: one reconcile prunes one and installs the other.
    let started = Instant::now();
    patch_spec(
        &whisks,
        json!({"components": {"minio": false, "seaweedfs": true}}),
    )
    .await;
    let ready = wait_for(
        &whisks,
        "controller",
        "Ready with SeaweedFS",
        controller_is("Ready"),
    )
    .await;
    let switch_ready = started.elapsed();
    let s = status(&ready);
    assert_eq!(
        (&s["whisk_create"]["minio"], &s["whisk_create"]["seaweedfs"]),
        (&json!("off"), &json!("on")),
        "{s}"
    );
    assert!(
        !exists(&ns.api::<Deployment>(), "minio-deployment").await,
        "pruned"
    );
    assert!(!exists(&ingresses, "minio-s3").await, "pruned");
    assert!(exists(&claims, "minio-pv-claim").await, "the claim is kept");
    assert!(exists(&ns.api::<StatefulSet>(), "seaweedfs").await);
    assert!(exists(&claims, "seaweedfs-pvc").await);
    let job = ns
        .api::<Job>()
        .get("seaweedfs-init")
        .await
        .expect("seaweedfs-init");
    assert_eq!(job.status.and_then(|s| s.succeeded), Some(1));
    let published = annotations(&configs).await;
    assert_eq!(
        published.get("s3_provider").map(String::as_str),
        Some("seaweedfs")
    );
    assert_eq!(
        published.get("s3_host"),
        Some(&format!("seaweedfs.{}.svc.cluster.local", ns.name))
    );
    assert_eq!(published.get("s3_api_url"), None, "its routes are off");
    // the static server now proxies to SeaweedFS: its configuration (and name) changed
    let statics = ns
        .api::<StatefulSet>()
        .get("nuvolaris-static")
        .await
        .expect("sts");
    let volumes = serde_json::to_string(&statics.spec.expect("spec").template.spec).expect("json");
    let maps = ns
        .api::<ConfigMap>()
        .list(&ListParams::default())
        .await
        .expect("list");
    let conf = maps
        .items
        .iter()
        .filter_map(|c| c.metadata.name.clone())
        .filter(|n| n.starts_with("nginx-static-conf-cm-"))
        .collect::<Vec<_>>();
    assert_eq!(conf.len(), 1, "the old ConfigMap is pruned: {conf:?}");
    assert!(volumes.contains(&conf[0]), "{volumes}");

    // Everything off: pruned, claims kept, annotations gone, the CLI's kept.
    patch_spec(
        &whisks,
        json!({"components": {"seaweedfs": false, "static": false}}),
    )
    .await;
    let ready = wait_for(
        &whisks,
        "controller",
        "Ready without storage",
        controller_is("Ready"),
    )
    .await;
    let s = status(&ready);
    for key in ["minio", "seaweedfs", "static"] {
        assert_eq!(s["whisk_create"][key], "off", "{key}: {s}");
    }
    assert!(
        !exists(&ns.api::<StatefulSet>(), "seaweedfs").await,
        "pruned"
    );
    assert!(
        !exists(&ns.api::<StatefulSet>(), "nuvolaris-static").await,
        "pruned"
    );
    assert!(
        !exists(&ingresses, "apihost-static-ingress").await,
        "pruned"
    );
    // the standalone claims, and the static server's cache claim of its claim template
    for claim in [
        "minio-pv-claim",
        "seaweedfs-pvc",
        "nuvolaris-static-pvc-nuvolaris-static-0",
    ] {
        assert!(exists(&claims, claim).await, "{claim} is kept");
    }
    let published = annotations(&configs).await;
    assert!(
        !published.keys().any(|k| k.starts_with("s3_")),
        "{published:?}"
    );
    assert_eq!(published.get("cli/own").map(String::as_str), Some("kept"));

    println!(
        "apply -> Ready on the local control plane: MinIO + static {} ms, switch to SeaweedFS {} ms",
        minio_ready.as_millis(),
        switch_ready.as_millis()
    );
    operator.stop();
    ns.cleanup().await;
}

#[tokio::test]
async fn bad_storage_input_is_refused_with_the_field_and_nothing_is_applied() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "e2e-storage-bad").await;
    let operator = start_operator(&client, &ns.name);
    let whisks = ns.api::<Whisk>();

    // The API server refuses what is not a number (sent as is: such a CR cannot even be a
    // typed Whisk here).
    let raw: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &ns.name, &ApiResource::erase::<Whisk>(&()));
    for (spec, field) in [
        (
            json!({"components": {"seaweedfs": true}, "seaweedfs": {"default-bucket-quota": "lots"}}),
            "spec.seaweedfs.default-bucket-quota",
        ),
        (
            json!({"components": {"minio": true}, "minio": {"volume-size": "ten"}}),
            "spec.minio.volume-size",
        ),
    ] {
        let object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
            "metadata": {"name": "controller", "namespace": ns.name},
            "spec": spec,
        }))
        .expect("a dynamic object");
        let message = match raw.create(&PostParams::default(), &object).await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted {spec}"),
        };
        assert!(message.contains(field), "{message}");
    }

    // The operator refuses a host that is not a DNS name: NotValid, with the field.
    whisks
        .create(
            &PostParams::default(),
            &whisk(
                &ns.name,
                json!({
                    "nuvolaris": {"nodeports": false},
                    "components": {"minio": true},
                    "minio": {"ingress": {"s3-enabled": true, "s3-hostname": "S3 Bucket"}},
                }),
            ),
        )
        .await
        .expect("create");
    let refused = wait_for(&whisks, "controller", "NotValid", controller_is("NotValid")).await;
    let conditions = status(&refused)["conditions"].to_string();
    assert!(
        conditions.contains("minio.ingress.s3-hostname"),
        "{conditions}"
    );
    for (kind, present) in [
        (
            "Deployment",
            exists(&ns.api::<Deployment>(), "minio-deployment").await,
        ),
        (
            "Service",
            exists(&ns.api::<Service>(), "nuvolaris-minio").await,
        ),
        (
            "PersistentVolumeClaim",
            exists(&ns.api::<PersistentVolumeClaim>(), "minio-pv-claim").await,
        ),
        ("Job", exists(&ns.api::<Job>(), "minio-init").await),
    ] {
        assert!(!present, "nothing applied, yet a {kind} exists");
    }
    operator.stop();
    ns.cleanup().await;
}
