//! The generated CRDs against a real kube-apiserver: they install and become
//! Established (so every CEL rule compiles within the cost budget), every
//! sample CR passes server-side strict validation, and bad specs are rejected
//! with the expected messages.
//!
//! It runs on the local control plane (started by the test support when it is not up, failing
//! with the reason when it cannot start). It installs the three CRDs (server-side apply) and only
//! dry-runs the CRs, in a throw-away namespace it deletes at the end.

#[allow(dead_code)]
mod crd_support;
mod support;

use std::time::Duration;

use crd_support::{kind_of, sample_crs};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::core::Request;
use kube::runtime::wait::{await_condition, conditions};
use nuvolaris_operator::crd;
use serde_json::{Value, json};

async fn client() -> Client {
    support::cluster().await
}

async fn install_crds(client: &Client) {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let pp = PatchParams::apply("nuvolaris-operator").force();
    for crd in crd::crds() {
        let name = crd.metadata.name.clone().expect("CRD name");
        api.patch(&name, &pp, &Patch::Apply(&crd))
            .await
            .unwrap_or_else(|e| panic!("the API server rejected CRD {name}: {e}"));
        let established = await_condition(api.clone(), &name, conditions::is_crd_established());
        tokio::time::timeout(Duration::from_secs(60), established)
            .await
            .unwrap_or_else(|_| panic!("CRD {name} not Established within 60s"))
            .expect("watching the CRD");
    }
}

/// Dry-run create of `object` with strict field validation, as `kubectl
/// create --validate=strict` does (unknown fields are errors, not pruned).
async fn dry_run(client: &Client, ns: &str, object: &Value) -> Result<(), String> {
    let plural = match kind_of(object) {
        "Whisk" => "whisks",
        "WhiskUser" => "whisksusers",
        "Workflows" => "workflows",
        other => panic!("unexpected kind {other}"),
    };
    let path = format!("/apis/nuvolaris.org/v1/namespaces/{ns}/{plural}");
    let body = serde_json::to_vec(object).expect("object to JSON");
    let mut request = Request::new(path)
        .create(&PostParams::default(), body)
        .expect("create request");
    let uri = format!("{}?dryRun=All&fieldValidation=Strict", request.uri().path());
    *request.uri_mut() = uri.parse().expect("valid URI");
    client
        .request::<Value>(request)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn in_namespace(mut object: Value, ns: &str) -> Value {
    object["metadata"]["namespace"] = json!(ns);
    object
}

#[tokio::test]
async fn crds_install_and_validate_samples_on_a_real_apiserver() {
    let client = client().await;
    install_crds(&client).await;

    let ns = format!("crd-test-{}", std::process::id());
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace: Namespace =
        serde_json::from_value(json!({"metadata": {"name": ns}})).expect("namespace");
    namespaces
        .create(&PostParams::default(), &namespace)
        .await
        .expect("create test namespace");

    let mut failures = Vec::new();
    let samples = sample_crs();
    for (file, cr) in &samples {
        if let Err(e) = dry_run(&client, &ns, &in_namespace(cr.clone(), &ns)).await {
            failures.push(format!("{file}: {e}"));
        }
    }

    let rejected = [
        (
            json!({"components": {"minio": true, "seaweedfs": true}}),
            "minio and seaweedfs cannot both be enabled",
        ),
        (
            json!({"components": {"static": true}}),
            "static requires an object store",
        ),
        (
            json!({"nuvolaris": {"kube": "minikube"}}),
            "Unsupported value",
        ),
        (
            json!({"controller": {"port": "70000"}}),
            "port must be a number between 1 and 65535",
        ),
        (
            json!({"couchdb": {"port": 0}}),
            "greater than or equal to 1",
        ),
        (
            json!({"postgres": {"replicas": 0}}),
            "greater than or equal to 1",
        ),
        (
            json!({"configs": {"limits": {"concurrency": {"limit-min": 5, "limit-max": 1}}}}),
            "limit-min <= limit-std <= limit-max",
        ),
        (
            json!({"openwhisk": {"namespaces": {"nuvolaris": "nocolon"}}}),
            "should match",
        ),
        (json!({"couchdb": {"volumesize": 3}}), "unknown field"),
    ];
    for (spec, needle) in rejected {
        let object = json!({
            "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
            "metadata": {"name": "rejected", "namespace": ns}, "spec": spec,
        });
        match dry_run(&client, &ns, &object).await {
            Ok(()) => failures.push(format!("accepted {spec}, expected {needle:?}")),
            Err(e) if !e.contains(needle) => {
                failures.push(format!("{spec}: expected {needle:?}, got {e}"))
            }
            Err(_) => {}
        }
    }

    namespaces
        .delete(&ns, &DeleteParams::default())
        .await
        .expect("delete test namespace");
    assert!(samples.len() >= 20, "only {} samples", samples.len());
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
