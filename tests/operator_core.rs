//! The operator runtime against the local control plane (tests/support): apply and prune, and
//! the Whisk controller end to end with a stand-in render step (so these tests exercise the
//! runtime — apply, readiness, prune, status, events, finalizer — whatever the components
//! render today).
mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Secret, Service};
use k8s_openapi::api::events::v1::Event as KubeEvent;
use k8s_openapi::api::rbac::v1::ClusterRole;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client, Resource, ResourceExt};
use nuvolaris_operator::apply::{self, Applier, ObjectKey, OwnerInfo};
use nuvolaris_operator::components::{self, ComponentRender, RenderError, RenderedComponent};
use nuvolaris_operator::config::{ClusterFacts, Config, GENERATED_SECRET_NAME, GeneratedSecrets};
use nuvolaris_operator::controller::reconcile::{FINALIZER, LEGACY_FINALIZER};
use nuvolaris_operator::controller::{self, ControllerOptions};
use nuvolaris_operator::crd::ComponentId;
use nuvolaris_operator::crd::Whisk;
use nuvolaris_operator::health::Health;
use nuvolaris_operator::metrics::Metrics;
use serde_json::{Value, json};
use support::requests::counting_client;
use support::{TestNamespace, cond, wait_deleted, wait_for, wait_for_list};

const TEST_MANAGER: &str = "operator-core-test";

fn obj<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("test object must deserialize")
}

// ---------------------------------------------------------------------------------------------
// The stand-in render step: what each "component" deploys is small but has the shapes that
// matter (Secret, Service, StatefulSet, setup Job, ConfigMap, PVC, Deployment, a cluster-scoped
// object), so readiness, prune and cleanup are all exercised.

fn labels(app: &str) -> Value {
    json!({"app": app})
}

fn workload(kind: &str, name: &str) -> Value {
    let mut spec = json!({
        "replicas": 1,
        "selector": {"matchLabels": labels(name)},
        "template": {
            "metadata": {"labels": labels(name)},
            "spec": {"containers": [{"name": "main", "image": "registry.invalid/never-pulled:1"}]}
        }
    });
    if kind == "StatefulSet" {
        spec["serviceName"] = json!(name);
    }
    json!({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": spec})
}

fn job(name: &str, image: &str) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
        "spec": {"backoffLimit": 1, "template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "main", "image": image}]
        }}}
    })
}

fn invalid(message: &str) -> RenderError {
    RenderError::Invalid {
        field: "components".into(),
        message: message.into(),
    }
}

fn fake_render(
    whisk: &Whisk,
    facts: &ClusterFacts,
    secrets: &GeneratedSecrets,
) -> Result<Vec<ComponentRender>, RenderError> {
    let spec = serde_json::to_value(&whisk.spec).map_err(|e| invalid(&e.to_string()))?;
    let on = |c: &str| {
        spec.pointer(&format!("/components/{c}"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    if on("kafka") && !on("zookeeper") {
        return Err(invalid("kafka requires zookeeper"));
    }
    // the controller resolved every key the configuration needs
    if !Config::missing_generated(whisk, facts, secrets)
        .map_err(RenderError::from)?
        .is_empty()
    {
        return Err(RenderError::Internal("generated secrets incomplete".into()));
    }
    let ns = whisk.namespace().unwrap_or_default();
    let rendered = |id: ComponentId, objects: Vec<Value>, setup_jobs: Vec<String>| {
        ComponentRender::Rendered(RenderedComponent {
            id,
            objects,
            setup_jobs,
            annotations: Default::default(),
            dependencies: Vec::new(),
        })
    };
    let mut out = Vec::new();
    out.push(if on("couchdb") {
        rendered(
            ComponentId::Couchdb,
            vec![
                // Deliberately out of order: the apply step orders by kind.
                job("couchdb-init", "registry.invalid/init:1"),
                workload("StatefulSet", "couchdb"),
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "couchdb"},
                       "spec": {"selector": labels("couchdb"), "ports": [{"port": 5984}]}}),
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "couchdb-auth"},
                       "stringData": {"user": "admin"}}),
            ],
            vec!["couchdb-init".into()],
        )
    } else {
        ComponentRender::Disabled(ComponentId::Couchdb)
    });
    out.push(if on("redis") {
        rendered(
            ComponentId::Redis,
            vec![
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "redis-conf"}, "data": {"redis.conf": "port 6379"}}),
                json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "redis-data"},
                       "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
                workload("Deployment", "redis"),
            ],
            vec![],
        )
    } else {
        ComponentRender::Disabled(ComponentId::Redis)
    });
    out.push(if on("openwhisk") {
        rendered(
            ComponentId::Openwhisk,
            vec![
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                        "metadata": {"name": format!("nuvolaris-test-{ns}")},
                        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
            ],
            vec![],
        )
    } else {
        ComponentRender::Disabled(ComponentId::Openwhisk)
    });
    out.push(if on("milvus") {
        ComponentRender::NotImplemented(ComponentId::Milvus)
    } else {
        ComponentRender::Disabled(ComponentId::Milvus)
    });
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// An operator instance running inside the test.

struct Operator {
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), controller::Error>>,
}

impl Operator {
    fn start(client: &Client, namespace: Option<String>, selector: Option<String>) -> Operator {
        let metrics = Arc::new(Metrics::new());
        let health = Arc::new(Health::default());
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let opts = ControllerOptions {
            namespace,
            selector,
            concurrency: 4,
            crd_wait: Duration::from_secs(60),
            render: Arc::new(fake_render),
        };
        let task = tokio::spawn(controller::run(
            client.clone(),
            opts,
            health.clone(),
            metrics.clone(),
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            },
        ));
        Operator {
            metrics,
            health,
            stop,
            task,
        }
    }

    async fn shutdown(self) {
        let _ = self.stop.send(true);
        match tokio::time::timeout(Duration::from_secs(30), self.task).await {
            Ok(Ok(Ok(()))) => {}
            other => panic!("operator did not stop cleanly: {other:?}"),
        }
    }

    /// Waits until `n` more reconciles have finished.
    async fn reconciles(&self, n: u64) {
        let mut rx = self.metrics.subscribe_reconciles();
        let target = *rx.borrow() + n;
        tokio::time::timeout(support::WAIT_TIMEOUT, rx.wait_for(|done| *done >= target))
            .await
            .expect("timed out waiting for reconciles")
            .expect("metrics dropped");
    }
}

fn whisk(name: &str, components: Value, extra_labels: Value) -> Whisk {
    obj(json!({
        "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
        "metadata": {"name": name, "labels": extra_labels},
        "spec": {"components": components}
    }))
}

/// Creates `controller` with the couchdb and redis stand-ins enabled.
async fn create_couchdb_redis_whisk(whisks: &Api<Whisk>) {
    whisks
        .create(
            &PostParams::default(),
            &whisk(
                "controller",
                json!({"couchdb": true, "redis": true}),
                json!({}),
            ),
        )
        .await
        .expect("create whisk");
}

fn status_of(w: &Whisk) -> Value {
    serde_json::to_value(w)
        .ok()
        .and_then(|v| v.get("status").cloned())
        .unwrap_or(Value::Null)
}

fn condition(w: &Whisk, type_: &str) -> Value {
    status_of(w)["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == type_).cloned())
        .unwrap_or(Value::Null)
}

fn controller_is(value: &'static str) -> impl Fn(Option<&Whisk>) -> bool {
    move |w| w.is_some_and(|w| status_of(w)["whisk_create"]["controller"] == value)
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn apply_skips_unchanged_objects_recreates_changed_jobs_and_prunes_orphans() {
    let client = support::cluster().await;
    let ns = TestNamespace::create(&client, "rt-apply").await;
    // A real owner, or garbage collection would delete the children at once.
    let owner_cm = ns
        .api::<ConfigMap>()
        .create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": "owner"}})),
        )
        .await
        .expect("create owner");
    let owner = OwnerInfo {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name: "owner".into(),
        uid: owner_cm.uid().expect("uid"),
        namespace: ns.name.clone(),
    };
    let applier = Applier::new(client.clone());
    let render = |image: &str| {
        apply::prepare(
            vec![
                job("setup", image),
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1"}}),
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "extra"}, "data": {"b": "2"}}),
                json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
                       "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
            ],
            &owner,
            "demo",
        )
    };

    let first = applier
        .apply_all(&render("registry.invalid/a:1"))
        .await
        .expect("first apply");
    assert_eq!(first.applied, 4, "{first:?}");
    let again = applier
        .apply_all(&render("registry.invalid/a:1"))
        .await
        .expect("second apply");
    assert_eq!(again.writes(), 0, "a no-op apply writes nothing: {again:?}");
    assert_eq!(again.unchanged, 4);

    let settings = ns
        .api::<ConfigMap>()
        .get("settings")
        .await
        .expect("settings");
    assert_eq!(
        settings
            .labels()
            .get(apply::LABEL_COMPONENT)
            .map(String::as_str),
        Some("demo")
    );
    assert_eq!(settings.owner_references()[0].uid, owner.uid);
    let managers: Vec<_> = settings
        .managed_fields()
        .iter()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(
        managers.contains(&apply::MANAGER.to_string()),
        "{managers:?}"
    );

    // A changed Job template cannot be patched: the Job is deleted, then created again.
    let jobs = ns.api::<Job>();
    let old_uid = jobs.get("setup").await.expect("job").uid().expect("uid");
    let changed = applier
        .apply_all(&render("registry.invalid/b:2"))
        .await
        .expect("apply changed job");
    assert_eq!((changed.recreated, changed.pending), (1, 1), "{changed:?}");
    wait_deleted(&jobs, "setup", &old_uid, "old setup job deleted").await;
    let recreated = applier
        .apply_all(&render("registry.invalid/b:2"))
        .await
        .expect("apply after delete");
    assert_eq!(recreated.applied, 1, "{recreated:?}");
    let image = jobs
        .get("setup")
        .await
        .expect("new job")
        .spec
        .and_then(|s| s.template.spec)
        .map(|s| s.containers[0].image.clone());
    assert_eq!(image.flatten().as_deref(), Some("registry.invalid/b:2"));

    // Prune: keep everything but "extra" and the PVC; the PVC survives anyway (data policy).
    let keep: BTreeSet<ObjectKey> = render("registry.invalid/b:2")
        .iter()
        .filter_map(ObjectKey::of)
        .filter(|k| k.name != "extra" && k.kind != "PersistentVolumeClaim")
        .collect();
    // The owner label selector is built from the owner: here the ConfigMap "owner".
    let pruned = applier
        .prune(&owner, &keep, &[], false)
        .await
        .expect("prune");
    assert_eq!(pruned.deleted, 1, "{pruned:?}");
    assert!(
        ns.api::<ConfigMap>()
            .get_opt("extra")
            .await
            .expect("get")
            .is_none_or(|c| c.metadata.deletion_timestamp.is_some())
    );
    assert!(
        ns.api::<ConfigMap>()
            .get_opt("settings")
            .await
            .expect("get")
            .is_some()
    );
    assert!(
        ns.api::<PersistentVolumeClaim>()
            .get_opt("data")
            .await
            .expect("get")
            .is_some(),
        "PVCs are never pruned"
    );
    ns.cleanup().await;
}

#[tokio::test]
async fn whisk_gets_children_status_and_a_no_op_reconcile_writes_nothing() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "rt-create").await;
    let operator = Operator::start(&client, Some(ns.name.clone()), None);
    let whisks = ns.api::<Whisk>();
    let started = Instant::now();
    whisks
        .create(
            &PostParams::default(),
            &whisk(
                "controller",
                json!({"couchdb": true, "redis": true}),
                json!({}),
            ),
        )
        .await
        .expect("create whisk");

    let ready = wait_for(&whisks, "controller", "whisk Ready", controller_is("Ready")).await;
    let install_time = started.elapsed();
    let status = status_of(&ready);
    assert_eq!(status["whisk_create"]["couchdb"], "on");
    assert_eq!(status["whisk_create"]["redis"], "on");
    assert_eq!(status["whisk_create"]["openwhisk"], "off");
    assert_eq!(status["whisk_create"]["milvus"], "off");
    assert_eq!(condition(&ready, "Ready")["status"], "True");
    assert_eq!(condition(&ready, "Degraded")["status"], "False");
    assert_eq!(
        status["observedGeneration"],
        json!(ready.metadata.generation)
    );
    assert!(ready.finalizers().contains(&FINALIZER.to_string()));
    assert!(operator.health.is_ready(), "ready after the first list");

    // Children carry the operator's labels and the Whisk as controller owner.
    let sts = ns
        .api::<StatefulSet>()
        .get("couchdb")
        .await
        .expect("couchdb statefulset");
    assert_eq!(
        sts.labels().get(apply::LABEL_WHISK).map(String::as_str),
        Some("controller")
    );
    assert_eq!(
        sts.labels()
            .get(apply::LABEL_MANAGED_BY)
            .map(String::as_str),
        Some(apply::MANAGER)
    );
    let owner = &sts.owner_references()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str(), owner.controller),
        ("Whisk", ready.uid().unwrap().as_str(), Some(true))
    );
    ns.api::<Service>()
        .get("couchdb")
        .await
        .expect("couchdb service");
    let init = ns
        .api::<Job>()
        .get("couchdb-init")
        .await
        .expect("setup job");
    assert!(
        init.status.and_then(|s| s.succeeded).unwrap_or(0) >= 1,
        "Ready waited for the setup job"
    );
    assert!(
        ns.api::<PersistentVolumeClaim>()
            .get("redis-data")
            .await
            .expect("pvc")
            .owner_references()
            .is_empty(),
        "PVCs are not owned"
    );

    // Generated passwords: every key (the spec gives none, couchdb and redis are on), owned by
    // the Whisk.
    let generated = ns
        .api::<Secret>()
        .get(GENERATED_SECRET_NAME)
        .await
        .expect("generated secret");
    let keys: Vec<&String> = generated
        .data
        .as_ref()
        .map(|d| d.keys().collect())
        .unwrap_or_default();
    // the installation's keys and those of the two enabled components, nothing of the others
    let expected = nuvolaris_operator::config::secrets::CORE_KEYS.len()
        + [ComponentId::Couchdb, ComponentId::Redis]
            .iter()
            .filter_map(|id| components::component(*id))
            .map(|c| c.generated_secrets().len())
            .sum::<usize>();
    assert_eq!(keys.len(), expected, "{keys:?}");
    assert_eq!(generated.owner_references()[0].uid, ready.uid().unwrap());

    // A no-op reconcile: let the reconcile that wrote the status finish, then trigger another.
    operator.reconciles(1).await;
    let writes_before = operator.metrics.api_writes.get();
    let secret_version = generated.resource_version();
    whisks
        .patch(
            "controller",
            &PatchParams::apply(TEST_MANAGER),
            &Patch::Apply(json!({
                "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
                "metadata": {"name": "controller", "annotations": {"test/poke": "1"}}
            })),
        )
        .await
        .expect("poke");
    operator.reconciles(1).await;
    let writes_after = operator.metrics.api_writes.get();
    assert_eq!(
        writes_after, writes_before,
        "API writes during a no-op reconcile"
    );
    let generated = ns
        .api::<Secret>()
        .get(GENERATED_SECRET_NAME)
        .await
        .expect("generated secret");
    assert_eq!(
        generated.resource_version(),
        secret_version,
        "generated passwords never rewritten"
    );
    eprintln!(
        "FIGURE install-to-Ready (stand-in components on the local control plane): {install_time:?}; writes during no-op reconcile: {}",
        writes_after - writes_before
    );

    // An enabled component this version does not implement: not Ready, and said why; what
    // runs stays.
    whisks
        .patch(
            "controller",
            &PatchParams::apply(TEST_MANAGER),
            &Patch::Apply(json!({
                "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
                "metadata": {"name": "controller"},
                "spec": {"components": {"couchdb": true, "redis": true, "milvus": true}}
            })),
        )
        .await
        .expect("enable milvus");
    let degraded = wait_for(
        &whisks,
        "controller",
        "whisk Degraded",
        controller_is("Degraded"),
    )
    .await;
    assert_eq!(status_of(&degraded)["whisk_create"]["milvus"], "?");
    assert_eq!(status_of(&degraded)["whisk_create"]["couchdb"], "on");
    assert_eq!(condition(&degraded, "Ready")["status"], "False");
    assert_eq!(
        condition(&degraded, "Ready")["reason"],
        "ComponentsNotImplemented"
    );
    let message = condition(&degraded, "Degraded")["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("milvus"), "{message}");
    ns.api::<StatefulSet>()
        .get("couchdb")
        .await
        .expect("couchdb keeps running");

    operator.shutdown().await;
    ns.cleanup().await;
}

#[tokio::test]
async fn disabling_a_component_prunes_its_objects_but_keeps_its_data() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "rt-disable").await;
    let operator = Operator::start(&client, Some(ns.name.clone()), None);
    let whisks = ns.api::<Whisk>();
    create_couchdb_redis_whisk(&whisks).await;
    wait_for(&whisks, "controller", "whisk Ready", controller_is("Ready")).await;
    let redis = ns
        .api::<Deployment>()
        .get("redis")
        .await
        .expect("redis deployment");

    whisks
        .patch(
            "controller",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"components": {"redis": false}}})),
        )
        .await
        .expect("disable redis");
    wait_deleted(
        &ns.api::<Deployment>(),
        "redis",
        &redis.uid().unwrap(),
        "redis deployment pruned",
    )
    .await;
    let off = wait_for(&whisks, "controller", "redis off", |w: Option<&Whisk>| {
        w.is_some_and(|w| {
            status_of(w)["whisk_create"]["redis"] == "off"
                && status_of(w)["whisk_create"]["controller"] == "Ready"
        })
    })
    .await;
    assert_eq!(
        status_of(&off)["observedGeneration"],
        json!(off.metadata.generation)
    );
    assert!(
        ns.api::<ConfigMap>()
            .get_opt("redis-conf")
            .await
            .expect("get")
            .is_none_or(|c| c.metadata.deletion_timestamp.is_some())
    );
    assert!(
        ns.api::<PersistentVolumeClaim>()
            .get_opt("redis-data")
            .await
            .expect("get")
            .is_some(),
        "data survives disable"
    );
    assert!(
        ns.api::<StatefulSet>()
            .get_opt("couchdb")
            .await
            .expect("get")
            .is_some(),
        "other components untouched"
    );

    operator.shutdown().await;
    ns.cleanup().await;
}

#[tokio::test]
async fn deleting_a_whisk_cleans_cluster_scoped_children_and_releases_it() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "rt-delete").await;
    let operator = Operator::start(&client, Some(ns.name.clone()), None);
    let whisks = ns.api::<Whisk>();
    let created = whisks
        .create(
            &PostParams::default(),
            &whisk("controller", json!({"openwhisk": true}), json!({})),
        )
        .await
        .expect("create whisk");
    wait_for(&whisks, "controller", "whisk Ready", controller_is("Ready")).await;
    let roles: Api<ClusterRole> = Api::all(client.clone());
    let role_name = format!("nuvolaris-test-{}", ns.name);
    assert!(roles.get_opt(&role_name).await.expect("get").is_some());

    whisks
        .delete("controller", &DeleteParams::default())
        .await
        .expect("delete whisk");
    wait_deleted(
        &whisks,
        "controller",
        &created.uid().unwrap(),
        "whisk released by the finalizer",
    )
    .await;
    assert!(
        roles
            .get_opt(&role_name)
            .await
            .expect("get")
            .is_none_or(|r| r.metadata.deletion_timestamp.is_some()),
        "cluster-scoped child deleted by cleanup"
    );
    operator.shutdown().await;
    ns.cleanup().await;
}

#[tokio::test]
async fn the_kopf_finalizer_is_removed_so_old_whisks_stay_deletable() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "rt-kopf").await;
    let whisks = ns.api::<Whisk>();
    let mut old = whisk("controller", json!({"couchdb": true}), json!({}));
    old.meta_mut().finalizers = Some(vec![LEGACY_FINALIZER.to_string()]);
    old.meta_mut().annotations = Some(
        [(
            "kopf.zalando.org/last-handled-configuration".to_string(),
            "{\"spec\": {}}".to_string(),
        )]
        .into(),
    );
    whisks
        .create(&PostParams::default(), &old)
        .await
        .expect("create whisk with the kopf finalizer");
    let operator = Operator::start(&client, Some(ns.name.clone()), None);
    let migrated = wait_for(
        &whisks,
        "controller",
        "kopf finalizer replaced by ours",
        |w: Option<&Whisk>| {
            w.is_some_and(|w| {
                let f = w.finalizers();
                !f.contains(&LEGACY_FINALIZER.to_string())
                    && f.contains(&FINALIZER.to_string())
                    && !w
                        .annotations()
                        .keys()
                        .any(|k| k.starts_with("kopf.zalando.org/"))
            })
        },
    )
    .await;
    whisks
        .delete("controller", &DeleteParams::default())
        .await
        .expect("delete");
    wait_deleted(
        &whisks,
        "controller",
        &migrated.uid().unwrap(),
        "whisk deleted",
    )
    .await;
    operator.shutdown().await;
    ns.cleanup().await;
}

#[tokio::test]
async fn an_invalid_whisk_is_degraded_while_another_namespace_still_reconciles() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let bad_ns = TestNamespace::create(&client, "rt-invalid").await;
    let good_ns = TestNamespace::create(&client, "rt-valid").await;
    // One operator for all namespaces, limited to this test's Whisks by a label.
    let run = format!("run-{:08x}", rand::random::<u32>());
    let operator = Operator::start(&client, None, Some(format!("nuvolaris.org/test-run={run}")));
    let label = json!({"nuvolaris.org/test-run": run});
    let bad = bad_ns.api::<Whisk>();
    let good = good_ns.api::<Whisk>();
    bad.create(
        &PostParams::default(),
        &whisk(
            "controller",
            json!({"kafka": true, "couchdb": true}),
            label.clone(),
        ),
    )
    .await
    .expect("create invalid whisk");
    good.create(
        &PostParams::default(),
        &whisk("controller", json!({"couchdb": true}), label),
    )
    .await
    .expect("create valid whisk");

    let invalid = wait_for(
        &bad,
        "controller",
        "invalid whisk NotValid",
        controller_is("NotValid"),
    )
    .await;
    let degraded = condition(&invalid, "Degraded");
    assert_eq!(
        (degraded["status"].as_str(), degraded["reason"].as_str()),
        (Some("True"), Some("InvalidSpec"))
    );
    assert!(
        degraded["message"]
            .as_str()
            .unwrap_or("")
            .contains("kafka requires zookeeper"),
        "{degraded}"
    );
    assert_eq!(condition(&invalid, "Ready")["status"], "False");
    assert!(
        bad_ns
            .api::<StatefulSet>()
            .get_opt("couchdb")
            .await
            .expect("get")
            .is_none(),
        "nothing applied for an invalid spec"
    );
    wait_for(
        &good,
        "controller",
        "valid whisk Ready",
        controller_is("Ready"),
    )
    .await;
    wait_for_list(
        &bad_ns.api::<KubeEvent>(),
        "",
        "InvalidSpec warning event",
        |events| {
            events.iter().any(|e| {
                e.reason.as_deref() == Some("InvalidSpec") && e.type_.as_deref() == Some("Warning")
            })
        },
    )
    .await;

    // Fixing the spec recovers without a restart.
    bad.patch(
        "controller",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"components": {"kafka": false}}})),
    )
    .await
    .expect("fix spec");
    wait_for(
        &bad,
        "controller",
        "fixed whisk Ready",
        controller_is("Ready"),
    )
    .await;
    operator.shutdown().await;
    bad_ns.cleanup().await;
    good_ns.cleanup().await;
}

#[tokio::test]
async fn an_operator_restarted_mid_install_converges() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "rt-restart").await;
    let first = Operator::start(&client, Some(ns.name.clone()), None);
    let whisks = ns.api::<Whisk>();
    create_couchdb_redis_whisk(&whisks).await;
    // Stop as soon as the install has begun.
    wait_for(
        &ns.api::<StatefulSet>(),
        "couchdb",
        "install started",
        cond::is_created(),
    )
    .await;
    first.shutdown().await;

    let second = Operator::start(&client, Some(ns.name.clone()), None);
    let ready = wait_for(
        &whisks,
        "controller",
        "whisk Ready after restart",
        controller_is("Ready"),
    )
    .await;
    assert_eq!(status_of(&ready)["whisk_create"]["couchdb"], "on");
    assert_eq!(status_of(&ready)["whisk_create"]["redis"], "on");
    second.shutdown().await;
    ns.cleanup().await;
}

#[tokio::test]
async fn the_minimal_sample_installs_with_the_real_components() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "rt-real").await;
    let sample = std::fs::read_to_string(support::repo_root().join("deploy/samples/minimal.yaml"))
        .expect("read sample");
    let mut cr: Value = serde_yaml_ng::from_str(&sample).expect("sample is YAML");
    cr["metadata"]["namespace"] = json!(ns.name);
    let cr: Whisk = obj(cr);

    let metrics = Arc::new(Metrics::new());
    let (operator_client, requests) = counting_client().await;
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(controller::run(
        operator_client,
        ControllerOptions::new(Some(ns.name.clone())),
        Arc::new(Health::default()),
        metrics.clone(),
        async move {
            let _ = stopped.wait_for(|s| *s).await;
        },
    ));
    let whisks = ns.api::<Whisk>();
    let started = Instant::now();
    whisks
        .create(&PostParams::default(), &cr)
        .await
        .expect("create the sample whisk");
    let ready = wait_for(
        &whisks,
        "controller",
        "sample whisk Ready",
        controller_is("Ready"),
    )
    .await;
    let install_time = started.elapsed();
    let status = status_of(&ready);
    for component in ["couchdb", "redis", "openwhisk"] {
        assert_eq!(
            status["whisk_create"][component], "on",
            "{component}: {status}"
        );
    }
    ns.api::<StatefulSet>()
        .get("couchdb")
        .await
        .expect("couchdb statefulset");

    // Zero writes on a no-op reconcile, with the real render.
    let mut done = metrics.subscribe_reconciles();
    let wait_next = |rx: &mut tokio::sync::watch::Receiver<u64>| {
        let target = *rx.borrow() + 1;
        let mut rx = rx.clone();
        async move {
            tokio::time::timeout(support::WAIT_TIMEOUT, rx.wait_for(|n| *n >= target))
                .await
                .expect("timed out waiting for a reconcile")
                .expect("metrics dropped");
        }
    };
    wait_next(&mut done).await;
    let before = metrics.api_writes.get();
    let requests_before = requests.snapshot();
    whisks
        .patch(
            "controller",
            &PatchParams::apply(TEST_MANAGER),
            &Patch::Apply(json!({
                "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
                "metadata": {"name": "controller", "annotations": {"test/poke": "1"}}
            })),
        )
        .await
        .expect("poke");
    wait_next(&mut done).await;
    let writes = metrics.api_writes.get() - before;
    let requests_after = requests.snapshot();
    let delta = |kind: &str| {
        requests_after.get(kind).copied().unwrap_or(0)
            - requests_before.get(kind).copied().unwrap_or(0)
    };
    eprintln!(
        "FIGURE API requests of one no-op reconcile (real components): {} reads, {} writes",
        delta("read"),
        delta("write")
    );
    assert_eq!(
        delta("write"),
        0,
        "the operator's client sent writes during a no-op reconcile"
    );
    eprintln!(
        "FIGURE minimal sample (real components, kwok) install-to-Ready: {install_time:?}; API writes for the install: {before}; writes during no-op reconcile: {writes}"
    );
    assert_eq!(
        writes, 0,
        "API writes during a no-op reconcile with the real components"
    );

    let _ = stop.send(true);
    task.await.expect("join").expect("operator ran cleanly");
    ns.cleanup().await;
}

#[tokio::test]
async fn objects_created_by_client_side_kubectl_apply_are_taken_over_without_stuck_fields() {
    let client = support::cluster().await;
    let ns = TestNamespace::create(&client, "rt-csa").await;
    // What the Python operator did: `kubectl apply` (client-side).
    let manifest = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "legacy", "namespace": ns.name},
        "data": {"kept": "1", "dropped": "old"}});
    let mut kubectl = std::process::Command::new("kubectl")
        .args([
            "--kubeconfig",
            &support::kubeconfig_path().to_string_lossy(),
            "apply",
            "-f",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("run kubectl (installed on the project machines)");
    use std::io::Write;
    kubectl
        .stdin
        .take()
        .expect("stdin")
        .write_all(manifest.to_string().as_bytes())
        .expect("write manifest");
    assert!(
        kubectl.wait().expect("kubectl").success(),
        "kubectl apply failed"
    );

    let owner_cm = ns
        .api::<ConfigMap>()
        .create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": "owner"}})),
        )
        .await
        .expect("create owner");
    let owner = OwnerInfo {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name: "owner".into(),
        uid: owner_cm.uid().expect("uid"),
        namespace: ns.name.clone(),
    };
    let ours = apply::prepare(
        vec![
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "legacy"}, "data": {"kept": "2"}}),
        ],
        &owner,
        "demo",
    );
    let report = Applier::new(client.clone())
        .apply_all(&ours)
        .await
        .expect("apply");
    assert_eq!((report.migrated, report.applied), (1, 1), "{report:?}");
    let live = ns.api::<ConfigMap>().get("legacy").await.expect("get");
    let data = live.data.clone().unwrap_or_default();
    assert_eq!(data.get("kept").map(String::as_str), Some("2"));
    assert!(
        !data.contains_key("dropped"),
        "a field only the old manifest had is removed: {data:?}"
    );
    assert!(
        !live
            .annotations()
            .contains_key(apply::migrate::LAST_APPLIED_ANNOTATION)
    );
    let managers: Vec<String> = live
        .managed_fields()
        .iter()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(
        !managers.iter().any(|m| m == "kubectl-client-side-apply"),
        "{managers:?}"
    );
    ns.cleanup().await;
}

#[tokio::test]
async fn kinds_outside_the_built_in_table_are_resolved_by_discovery() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "rt-discovery").await;
    let owner_cm = ns
        .api::<ConfigMap>()
        .create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": "owner"}})),
        )
        .await
        .expect("create owner");
    let owner = OwnerInfo {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name: "owner".into(),
        uid: owner_cm.uid().expect("uid"),
        namespace: ns.name.clone(),
    };
    // `Whisk` is not in the built-in kind table: its REST path comes from API discovery.
    let objects = apply::prepare(
        vec![
            json!({"apiVersion": "nuvolaris.org/v1", "kind": "Whisk", "metadata": {"name": "discovered"},
                    "spec": {"components": {"redis": true}}}),
        ],
        &owner,
        "demo",
    );
    let applier = Applier::new(client.clone());
    assert_eq!(applier.apply_all(&objects).await.expect("apply").applied, 1);
    assert_eq!(
        applier.apply_all(&objects).await.expect("reapply").writes(),
        0
    );
    let live = ns
        .api::<Whisk>()
        .get("discovered")
        .await
        .expect("applied whisk");
    assert_eq!(
        live.labels()
            .get(apply::LABEL_COMPONENT)
            .map(String::as_str),
        Some("demo")
    );
    // And prune finds it through the same discovery.
    let extra = apply::kinds_of(&objects);
    let pruned = applier
        .prune(&owner, &BTreeSet::new(), &extra, false)
        .await
        .expect("prune");
    assert!(pruned.deleted >= 1, "{pruned:?}");
    ns.cleanup().await;
}
