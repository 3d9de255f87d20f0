//! Truthful status with the real components on the local control plane: a configuration this
//! version cannot install keeps what runs and says so; an API error reads as a short sentence
//! (object, field, the server's words); `nuvolaris.nodeports: false` lets a second installation
//! share the cluster.

mod support;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};

use nuvolaris_operator::crd::Whisk;
use serde_json::{Value, json};
use support::operator::{condition, controller_is, start_operator, status};
use support::{TestNamespace, wait_for};

fn minimal(namespace: &str, nuvolaris: Value) -> Whisk {
    serde_json::from_value(json!({
        "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
        "metadata": {"name": "controller", "namespace": namespace},
        "spec": {
            "nuvolaris": nuvolaris,
            "components": {"openwhisk": true, "couchdb": true, "redis": true},
        },
    }))
    .expect("a Whisk")
}

/// Deletes the Whisk while its operator still runs (its finalizer must be removed), then waits.
async fn delete_whisk(whisks: &Api<Whisk>) {
    let uid = whisks
        .get("controller")
        .await
        .expect("the Whisk")
        .metadata
        .uid
        .expect("a uid");
    whisks
        .delete("controller", &Default::default())
        .await
        .expect("delete the Whisk");
    support::wait_deleted(whisks, "controller", &uid, "the Whisk deleted").await;
}

async fn set_components(whisks: &Api<Whisk>, components: Value) {
    whisks
        .patch(
            "controller",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"components": components}})),
        )
        .await
        .expect("patch components");
}

/// A configuration this version cannot install: static content on a COSI object store only
/// (the schema admits it; the static server is built for MinIO and SeaweedFS).
const UNSUPPORTED: &str = "static";

#[tokio::test]
async fn a_configuration_this_version_cannot_install_keeps_what_runs_and_says_so() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "status-mode").await;
    let operator = start_operator(&client, &ns.name);
    // The `ops` CLI creates an empty `cm/config` first; what it (or anyone) put there stays.
    let configs = ns.api::<ConfigMap>();
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
    let whisks = ns.api::<Whisk>();
    // no NodePorts: this test runs beside others that install the same components
    whisks
        .create(
            &PostParams::default(),
            &minimal(&ns.name, json!({"nodeports": false})),
        )
        .await
        .expect("create");
    wait_for(&whisks, "controller", "Ready", controller_is("Ready")).await;
    let annotations = |cm: &ConfigMap| cm.metadata.annotations.clone().unwrap_or_default();
    let config = configs.get("config").await.expect("cm/config");
    assert_eq!(
        annotations(&config).get("apihost").map(String::as_str),
        Some("http://pending"),
        "no apihost and no load balancer yet: pending, with its scheme"
    );
    assert_eq!(
        annotations(&config).get("cli/own").map(String::as_str),
        Some("kept")
    );
    let controller_uid = ns
        .api::<StatefulSet>()
        .get("controller")
        .await
        .expect("controller")
        .metadata
        .uid;

    // A configuration this version cannot install: not Ready, said why, nothing else touched.
    set_components(&whisks, json!({ UNSUPPORTED: true, "cosi": true })).await;
    let degraded = wait_for(&whisks, "controller", "Degraded", controller_is("Degraded")).await;
    let s = status(&degraded);
    assert_eq!(s["whisk_create"][UNSUPPORTED], "?", "{s}");
    for running in ["openwhisk", "endpoint", "couchdb", "redis"] {
        assert_eq!(s["whisk_create"][running], "on", "{running}: {s}");
    }
    assert_eq!(condition(&degraded, "Ready")["status"], "False");
    let message = condition(&degraded, "Degraded")["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains(UNSUPPORTED) && message.contains("COSI"),
        "{message}"
    );

    // What runs for it (left by a version that installed it) is kept, reconcile after
    // reconcile, while it stays enabled.
    let left = ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some("left-by-another-version".into()),
            labels: Some(
                [
                    ("app.kubernetes.io/managed-by", "nuvolaris-operator"),
                    ("nuvolaris.org/whisk", "controller"),
                    ("nuvolaris.org/whisk-namespace", ns.name.as_str()),
                    ("nuvolaris.org/component", UNSUPPORTED),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            ),
            ..Default::default()
        },
        ..Default::default()
    };
    let left_uid = configs
        .create(&PostParams::default(), &left)
        .await
        .expect("create what runs")
        .metadata
        .uid
        .unwrap_or_default();
    // a spec change makes the operator reconcile (and prune) again
    whisks
        .patch(
            "controller",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"nuvolaris": {"ingresslb": "auto"}}})),
        )
        .await
        .expect("touch the spec");
    wait_for(
        &whisks,
        "controller",
        "Degraded for the new generation",
        controller_is("Degraded"),
    )
    .await;
    configs
        .get("left-by-another-version")
        .await
        .expect("kept while the component is enabled and not installable");
    let controller = ns
        .api::<StatefulSet>()
        .get("controller")
        .await
        .expect("the running controller is kept");
    assert_eq!(controller.metadata.uid, controller_uid, "not re-created");

    // Disabled again: Ready, and its leftovers are pruned like any disabled component's.
    set_components(&whisks, json!({ UNSUPPORTED: false, "cosi": false })).await;
    wait_for(&whisks, "controller", "Ready again", controller_is("Ready")).await;
    support::wait_deleted(
        &configs,
        "left-by-another-version",
        &left_uid,
        "pruned once disabled",
    )
    .await;

    // OpenWhisk off: its endpoint's annotation goes, the CLI's stays.
    set_components(&whisks, json!({"openwhisk": false})).await;
    wait_for(
        &whisks,
        "controller",
        "Ready without openwhisk",
        controller_is("Ready"),
    )
    .await;
    let config = configs.get("config").await.expect("cm/config");
    assert!(!annotations(&config).contains_key("apihost"), "{config:?}");
    assert_eq!(
        annotations(&config).get("cli/own").map(String::as_str),
        Some("kept")
    );

    delete_whisk(&whisks).await;
    operator.stop();
    ns.cleanup().await;
}

#[tokio::test]
async fn a_taken_node_port_is_a_short_sentence_and_nodeports_off_fits_a_second_installation() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let first = TestNamespace::create(&client, "status-first").await;
    let second = TestNamespace::create(&client, "status-second").await;
    let operator_first = start_operator(&client, &first.name);
    let operator_second = start_operator(&client, &second.name);

    let first_whisks = first.api::<Whisk>();
    first_whisks
        .create(&PostParams::default(), &minimal(&first.name, json!({})))
        .await
        .expect("create the first");
    wait_for(
        &first_whisks,
        "controller",
        "first Ready",
        controller_is("Ready"),
    )
    .await;

    // The second asks for the same NodePorts: the API server refuses; the status says which
    // Service and field, in the server's words, with no client debug dump.
    let second_whisks = second.api::<Whisk>();
    second_whisks
        .create(&PostParams::default(), &minimal(&second.name, json!({})))
        .await
        .expect("create the second");
    let degraded = wait_for(
        &second_whisks,
        "controller",
        "second Degraded",
        controller_is("Degraded"),
    )
    .await;
    let message = condition(&degraded, "Degraded")["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("already allocated") && message.contains("nodePort"),
        "{message}"
    );
    assert!(
        message.contains("couchdb: ") && message.contains("Service"),
        "names the component and the object: {message}"
    );
    for dump in ["Status {", "ListMeta", "Some(", "ApiError"] {
        assert!(!message.contains(dump), "debug dump {dump:?} in {message}");
    }

    // Without NodePorts the second installation fits.
    second_whisks
        .patch(
            "controller",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"nuvolaris": {"nodeports": false}}})),
        )
        .await
        .expect("nodeports off");
    wait_for(
        &second_whisks,
        "controller",
        "second Ready",
        controller_is("Ready"),
    )
    .await;
    let services = second.api::<Service>();
    for name in ["couchdb-np", "controller"] {
        let spec = services
            .get(name)
            .await
            .expect("service")
            .spec
            .expect("spec");
        assert_eq!(spec.type_.as_deref(), Some("ClusterIP"), "{name}");
        assert!(
            spec.ports.iter().flatten().all(|p| p.node_port.is_none()),
            "{name} has no node port"
        );
    }

    delete_whisk(&first_whisks).await;
    delete_whisk(&second_whisks).await;
    operator_first.stop();
    operator_second.stop();
    first.cleanup().await;
    second.cleanup().await;
}
