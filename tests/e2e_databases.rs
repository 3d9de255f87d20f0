//! The database components end to end on the local control plane: Postgres (Kubegres),
//! FerretDB and etcd enabled → Ready, with their `cm/config` annotations; Milvus waiting for
//! its object store; FerretDB and etcd disabled → pruned, claims kept, annotations gone.
//!
//! STAND-IN: the Kubegres controller cannot be built here (the Go module proxy refuses its
//! module, github.com/reactive-tech/kubegres and reactive-tech.io/kubegres), so the test runs a
//! stand-in for it, [`kubegres_stand_in`], a kube-rs controller that does what Kubegres 1.18
//! does for a `Kubegres` resource, as far as the operator can see it: the ConfigMap
//! `base-kubegres-config`, the Services `<name>` (primary) and `<name>-replica`, one StatefulSet
//! per database `<name>-<n>` (pod `<name>-<n>-0`), deployed one at a time, each a blocking
//! operation in `status.blockingOperation` until its pod is ready, `status.enforcedReplicas`
//! counting them; every object it creates is owned by the Kubegres and annotated
//! `nuvolaris.org/test: kubegres-stand-in`. The Kubegres CRD and the controller's own
//! manifests are applied by the operator (its Deployment's pod is simulated by kwok).
//! Everything else is the real operator on the real API server; pods are kwok's.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Pod, Service};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Api, Client, Resource, ResourceExt};
use nuvolaris_operator::components::postgres::kubegres::Kubegres;
use nuvolaris_operator::crd::Whisk;
use serde_json::{Value, json};
use support::operator::{ready_for_generation, start_operator, status};
use support::{TestNamespace, cond, wait_for};

const STAND_IN: &str = "kubegres-stand-in";

// ------------------------------------------------------------- the Kubegres stand-in

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct StandInError(String);

/// One pass of the stand-in over a Kubegres: its children as Kubegres creates them, then its
/// status.
async fn reconcile_kubegres(
    kg: Arc<Kubegres>,
    client: Arc<Client>,
) -> Result<Action, StandInError> {
    let err = |e: kube::Error| StandInError(e.to_string());
    let ns = kg.namespace().unwrap_or_default();
    let name = kg.name_any();
    let owner = kg
        .controller_owner_ref(&())
        .ok_or_else(|| StandInError("no uid".into()))?;
    let meta = |object_name: &str, labels: Value| {
        json!({"name": object_name, "namespace": ns, "labels": labels,
               "annotations": {"nuvolaris.org/test": STAND_IN},
               "ownerReferences": [owner]})
    };
    let apply = PatchParams::apply(STAND_IN).force();
    let config_maps: Api<ConfigMap> = Api::namespaced((*client).clone(), &ns);
    config_maps
        .patch(
            "base-kubegres-config",
            &apply,
            &Patch::Apply(json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": meta("base-kubegres-config", json!({})),
                "data": {"postgres.conf": "listen_addresses = '*'\n"},
            })),
        )
        .await
        .map_err(err)?;
    let services: Api<Service> = Api::namespaced((*client).clone(), &ns);
    for (service, role) in [
        (name.clone(), "primary"),
        (format!("{name}-replica"), "replica"),
    ] {
        services
            .patch(
                &service,
                &apply,
                &Patch::Apply(json!({
                    "apiVersion": "v1", "kind": "Service",
                    "metadata": meta(&service, json!({"app": name, "replicationRole": role})),
                    "spec": {"clusterIP": "None", "ports": [{"name": "postgres", "port": 5432}],
                             "selector": {"app": name, "replicationRole": role}},
                })),
            )
            .await
            .map_err(err)?;
    }
    let spec = &kg.spec;
    let wanted = spec.replicas.unwrap_or(1).max(1);
    let statefulsets: Api<StatefulSet> = Api::namespaced((*client).clone(), &ns);
    let mut enforced = 0;
    // null deletes it (a merge patch): Kubegres leaves it empty when nothing is in progress
    let mut blocking = Value::Null;
    for index in 1..=wanted {
        let sts_name = format!("{name}-{index}");
        let role = if index == 1 { "primary" } else { "replica" };
        let labels = json!({"app": name, "index": index.to_string(), "replicationRole": role});
        let mut claim = json!({"accessModes": ["ReadWriteOnce"],
                               "resources": {"requests": {"storage": spec.database.size}}});
        if let Some(class) = &spec.database.storage_class_name {
            claim["storageClassName"] = json!(class);
        }
        statefulsets
            .patch(&sts_name, &apply, &Patch::Apply(json!({
                "apiVersion": "apps/v1", "kind": "StatefulSet",
                "metadata": meta(&sts_name, labels.clone()),
                "spec": {
                    "replicas": 1,
                    "serviceName": name,
                    "selector": {"matchLabels": {"app": name, "index": index.to_string()}},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{
                            "name": format!("{name}-{index}"),
                            "image": spec.image,
                            "env": spec.env,
                            "ports": [{"containerPort": 5432}],
                            "volumeMounts": [{"name": "postgres-db", "mountPath": "/var/lib/postgresql/data"}],
                        }]},
                    },
                    "volumeClaimTemplates": [{"metadata": {"name": "postgres-db"}, "spec": claim}],
                },
            })))
            .await
            .map_err(err)?;
        enforced = index;
        let ready = statefulsets
            .get_opt(&sts_name)
            .await
            .map_err(err)?
            .and_then(|s| s.status)
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0)
            >= 1;
        if !ready {
            // Kubegres deploys one database at a time and waits for it to be ready.
            let operation = if index == 1 {
                "Primary DB count spec enforcement"
            } else {
                "Replica DB count spec enforcement"
            };
            blocking = json!({"operationId": operation, "stepId": format!("{} DB deploying", if index == 1 { "Primary" } else { "Replica" }),
                              "statefulSetOperation": {"instanceIndex": index, "name": sts_name}});
            break;
        }
    }
    let api: Api<Kubegres> = Api::namespaced((*client).clone(), &ns);
    api.patch_status(
        &name,
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {
            "enforcedReplicas": enforced,
            "lastCreatedInstanceIndex": enforced,
            "blockingOperation": blocking,
        }})),
    )
    .await
    .map_err(err)?;
    Ok(Action::await_change())
}

/// Runs the stand-in for the Kubegres resources of `namespace` until the test ends.
fn kubegres_stand_in(client: Client, namespace: &str) -> tokio::task::JoinHandle<()> {
    let kubegres: Api<Kubegres> = Api::namespaced(client.clone(), namespace);
    let statefulsets: Api<StatefulSet> = Api::namespaced(client.clone(), namespace);
    let client = Arc::new(client);
    tokio::spawn(async move {
        Controller::new(kubegres, watcher::Config::default())
            .owns(statefulsets, watcher::Config::default())
            .run(
                reconcile_kubegres,
                |_, error, _| {
                    eprintln!("kubegres stand-in: {error}");
                    Action::requeue(Duration::from_secs(1))
                },
                client,
            )
            .for_each(|_| async {})
            .await;
    })
}

// ------------------------------------------------------------- the test

fn annotations(cm: &ConfigMap) -> BTreeMap<String, String> {
    cm.metadata.annotations.clone().unwrap_or_default()
}

#[tokio::test]
async fn postgres_ferretdb_and_etcd_reach_ready_and_leave_their_claims_when_disabled() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "e2e-databases").await;

    let operator = start_operator(&client, &ns.name);

    let whisks = ns.api::<Whisk>();
    let cr: Whisk = serde_json::from_value(json!({
        "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
        "metadata": {"name": "controller", "namespace": ns.name},
        "spec": {
            "components": {"postgres": true, "mongodb": true, "etcd": true},
            "postgres": {"replicas": 2, "volume-size": 2, "nuvolaris": {"password": "@p:a#s's\"w\nord"}},
            "etcd": {"replicas": 3},
        },
    }))
    .expect("a Whisk");
    let started = Instant::now();
    whisks
        .create(&PostParams::default(), &cr)
        .await
        .expect("create the Whisk");

    // The operator applies the Kubegres CRD; the stand-in starts once it serves the kind.
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    wait_for(
        &crds,
        "kubegres.kubegres.reactive-tech.io",
        "Kubegres CRD established",
        cond::is_crd_established(),
    )
    .await;
    let stand_in = kubegres_stand_in(client.clone(), &ns.name);

    // FerretDB waits for Postgres: its StatefulSet comes only after Postgres is ready.
    let ready = wait_for(&whisks, "controller", "Whisk Ready", ready_for_generation()).await;
    let apply_to_ready = started.elapsed();
    let s = status(&ready);
    for component in ["postgres", "mongodb", "etcd"] {
        assert_eq!(s["whisk_create"][component], "on", "{component} in {s}");
    }
    assert_eq!(s["whisk_create"]["controller"], "Ready", "{s}");
    assert_eq!(s["whisk_create"]["milvus"], "off", "{s}");

    // What the `ops` CLI waits for, and the setup Jobs.
    for pod in [
        "nuvolaris-postgres-1-0",
        "nuvolaris-postgres-2-0",
        "nuvolaris-mongodb-0",
        "nuvolaris-etcd-2",
    ] {
        wait_for(&ns.api::<Pod>(), pod, "pod Ready", cond::pod_ready()).await;
    }
    for job in ["postgres-init", "mongodb-init"] {
        wait_for(
            &ns.api::<Job>(),
            job,
            "setup job complete",
            cond::is_job_completed(),
        )
        .await;
    }
    let kubegres = ns
        .api::<Kubegres>()
        .get("nuvolaris-postgres")
        .await
        .expect("the Kubegres");
    assert_eq!(kubegres.spec.replicas, Some(2));
    let kg_status = kubegres.status.expect("status");
    assert_eq!(kg_status.enforced_replicas, Some(2));
    assert!(
        kg_status
            .blocking_operation
            .is_none_or(|b| b.operation_id.is_empty())
    );
    let mongodb_pod_created = ns
        .api::<StatefulSet>()
        .get("nuvolaris-mongodb")
        .await
        .expect("ferretdb")
        .metadata
        .creation_timestamp;
    let primary_created = ns
        .api::<StatefulSet>()
        .get("nuvolaris-postgres-1")
        .await
        .expect("primary")
        .metadata
        .creation_timestamp;
    assert!(
        mongodb_pod_created >= primary_created,
        "FerretDB is installed after Postgres"
    );
    ns.api::<StatefulSet>()
        .get("nuvolaris-postgres-1")
        .await
        .expect("the stand-in's primary");
    ns.api::<Service>()
        .get("nuvolaris-postgres")
        .await
        .expect("the primary Service");

    // cm/config: the annotations the `ops` CLI reads, the password percent-encoded in URLs.
    let config = wait_for(
        &ns.api::<ConfigMap>(),
        "config",
        "postgres and mongodb annotations",
        |cm: Option<&ConfigMap>| {
            cm.is_some_and(|cm| {
                annotations(cm).contains_key("mongodb_url")
                    && annotations(cm).contains_key("postgres_url")
            })
        },
    )
    .await;
    let published = annotations(&config);
    assert_eq!(
        published["postgres_host"],
        format!("nuvolaris-postgres.{}.svc.cluster.local", ns.name)
    );
    assert_eq!(published["postgres_port"], "5432");
    assert_eq!(published["postgres_database"], "nuvolaris");
    assert_eq!(published["postgres_username"], "nuvolaris");
    assert_eq!(published["postgres_password"], "@p:a#s's\"w\nord");
    assert_eq!(
        published["postgres_url"],
        format!(
            "postgresql://nuvolaris:%40p%3Aa%23s%27s%22w%0Aord@nuvolaris-postgres.{}.svc.cluster.local:5432/nuvolaris",
            ns.name
        )
    );
    assert!(
        published["mongodb_url"].starts_with("mongodb://ferretdb:") &&
        published["mongodb_url"].ends_with(&format!("@nuvolaris-mongodb-0.nuvolaris-mongodb-svc.{}.svc.cluster.local:27017/nuvolaris?connectTimeoutMS=60000&authMechanism=PLAIN", ns.name)),
        "{}", published["mongodb_url"]
    );

    // Milvus enabled with MinIO: it is applied once etcd and MinIO are ready, then reaches Ready.
    whisks
        .patch(
            "controller",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"components": {"milvus": true, "minio": true}}})),
        )
        .await
        .expect("enable milvus");
    wait_for(
        &whisks,
        "controller",
        "milvus and minio on",
        |w: Option<&Whisk>| {
            w.is_some_and(|w| {
                let s = status(w);
                s["observedGeneration"].as_i64() == w.metadata.generation
                    && s["whisk_create"]["milvus"] == "on"
                    && s["whisk_create"]["minio"] == "on"
            })
        },
    )
    .await;
    assert!(
        ns.api::<k8s_openapi::api::apps::v1::Deployment>()
            .get_opt("nuvolaris-milvus-standalone")
            .await
            .expect("get")
            .is_some(),
        "the Milvus Deployment is applied once its dependencies are ready"
    );

    // FerretDB, etcd and Milvus off: their workloads go, their claims and Postgres stay.
    whisks
        .patch("controller", &PatchParams::default(), &Patch::Merge(json!({"spec": {"components": {"milvus": false, "minio": false, "mongodb": false, "etcd": false}}})))
        .await
        .expect("disable");
    wait_for(
        &whisks,
        "controller",
        "Whisk Ready with postgres only",
        ready_for_generation(),
    )
    .await;
    for sts in ["nuvolaris-mongodb", "nuvolaris-etcd"] {
        let api = ns.api::<StatefulSet>();
        if let Some(live) = api.get_opt(sts).await.expect("get") {
            support::wait_deleted(&api, sts, &live.uid().unwrap_or_default(), "pruned").await;
        }
    }
    let claims: Vec<String> = ns
        .api::<PersistentVolumeClaim>()
        .list(&ListParams::default())
        .await
        .expect("claims")
        .items
        .iter()
        .map(|c| c.name_any())
        .collect();
    for claim in [
        "nuvolaris-mongodb-pvc-nuvolaris-mongodb-0",
        "nuvolaris-etc-data-nuvolaris-etcd-0",
    ] {
        assert!(
            claims.contains(&claim.to_owned()),
            "{claim} is kept: {claims:?}"
        );
    }
    let config = wait_for(
        &ns.api::<ConfigMap>(),
        "config",
        "mongodb annotation removed",
        |cm: Option<&ConfigMap>| cm.is_some_and(|cm| !annotations(cm).contains_key("mongodb_url")),
    )
    .await;
    assert!(
        annotations(&config).contains_key("postgres_url"),
        "postgres stays"
    );
    ns.api::<StatefulSet>()
        .get("nuvolaris-postgres-1")
        .await
        .expect("postgres stays");

    println!(
        "figure: apply → Ready (postgres with 2 databases via the Kubegres stand-in, ferretdb, etcd with 3 members; kwok pods): {:.1} s",
        apply_to_ready.as_secs_f64()
    );
    stand_in.abort();
    let _ = operator.stop_and_join().await;
    ns.cleanup().await;
}
