//! The generated CRDs against a real kube-apiserver: they install and become
//! Established (so every CEL rule compiles within the cost budget), every
//! sample CR passes server-side strict validation, and bad specs are rejected
//! with the expected messages. The differential test runs the admission corpus
//! (tests/crd_support) through the API server and through the offline validator
//! (`crd::validate`, what `render -f` uses): both must accept and reject the same
//! resources, naming the same fields.
//!
//! It runs on the local control plane (started by the test support when it is not up, failing
//! with the reason when it cannot start). It installs the three CRDs (server-side apply) and only
//! dry-runs the CRs, in a throw-away namespace it deletes at the end.

#[allow(dead_code)]
mod crd_support;
mod support;

use std::time::Duration;

use std::collections::BTreeSet;

use crd_support::{Verdict, admission_cases, kind_of, sample_crs};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use kube::core::Request;
use kube::runtime::wait::{await_condition, conditions};
use nuvolaris_operator::crd::{self, validate};
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

/// What the API server (with kubectl's REST mapping in front, as for `kubectl apply`) does
/// with `object`: a dry-run create with strict field validation. A rejection names the fields
/// of the Status causes, or of the strict decoder's message.
async fn server_verdict(client: &Client, object: &Value) -> (Verdict, String) {
    let api_version = object["apiVersion"].as_str().unwrap_or("");
    let kind = kind_of(object);
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let (resource, _) = match kube::discovery::pinned_kind(client, &gvk).await {
        Ok(found) => found,
        Err(e) => {
            // kubectl: `no matches for kind "K" in version "G/V"`; the field at fault is the
            // kind when the group serves no such kind at any version
            let group_kinds: Vec<String> = crd::crds()
                .iter()
                .map(|c| c.spec.names.kind.clone())
                .collect();
            let field = if group_kinds.iter().any(|k| k == kind) {
                "apiVersion"
            } else {
                "kind"
            };
            return (Verdict::Reject(vec![field.to_string()]), e.to_string());
        }
    };
    let ns = object["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default");
    let path = format!("/apis/{api_version}/namespaces/{ns}/{}", resource.plural);
    let body = serde_json::to_vec(object).expect("object to JSON");
    let mut request = Request::new(path)
        .create(&PostParams::default(), body)
        .expect("create request");
    let uri = format!("{}?dryRun=All&fieldValidation=Strict", request.uri().path());
    *request.uri_mut() = uri.parse().expect("valid URI");
    match client.request::<Value>(request).await {
        Ok(_) => (Verdict::Accept, String::new()),
        Err(kube::Error::Api(status)) => {
            let mut fields: BTreeSet<String> = status
                .details
                .iter()
                .flat_map(|d| d.causes.iter())
                .map(|c| c.field.clone())
                .filter(|f| !f.is_empty())
                .collect();
            let unknown = regex::Regex::new(r#"unknown field "([^"]+)""#).expect("regex");
            fields.extend(
                unknown
                    .captures_iter(&status.message)
                    .map(|c| c[1].to_string()),
            );
            if fields.is_empty() {
                fields.insert(format!("(no field) {}", status.message));
            }
            // each error as `field: message`, the way the offline validator prints it
            let mut errors: Vec<String> = status
                .details
                .iter()
                .flat_map(|d| d.causes.iter())
                .map(|c| format!("{}: {}", c.field, c.message))
                .collect();
            errors.extend(
                unknown
                    .captures_iter(&status.message)
                    .map(|c| c[0].to_string()),
            );
            if errors.is_empty() {
                errors.push(status.message.clone());
            }
            errors.sort();
            (
                Verdict::Reject(fields.into_iter().collect()),
                errors.join("\n"),
            )
        }
        Err(e) => panic!("dry-run create failed without a Status: {e}"),
    }
}

fn offline_verdict(object: &Value) -> (Verdict, String) {
    match validate::admit(object) {
        Ok(_) => (Verdict::Accept, String::new()),
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
            let mut errors: Vec<String> =
                rejection.errors().iter().map(|e| e.to_string()).collect();
            errors.sort();
            (
                Verdict::Reject(fields.into_iter().collect()),
                errors.join("\n"),
            )
        }
    }
}

/// The differential test: the offline validator and the API server agree on every case of
/// the corpus and every sample (accept or reject, and the fields a rejection names).
#[tokio::test]
async fn offline_validation_agrees_with_the_api_server() {
    let client = client().await;
    install_crds(&client).await;
    let namespace = support::TestNamespace::create(&client, "crd-differential").await;
    let ns = namespace.name.clone();

    let schemas: Vec<(String, Value)> = crd::crds()
        .iter()
        .map(|c| {
            let schema = c.spec.versions[0]
                .schema
                .as_ref()
                .and_then(|s| s.open_api_v3_schema.as_ref())
                .map(|s| serde_json::to_value(s).expect("schema to JSON"))
                .expect("schema");
            (c.spec.names.kind.clone(), schema)
        })
        .collect();
    let schemas: Vec<(&str, Value)> = schemas
        .iter()
        .map(|(k, s)| (k.as_str(), s.clone()))
        .collect();
    let mut cases: Vec<(String, Value)> = admission_cases(&ns, &schemas)
        .into_iter()
        .map(|c| (c.name, c.document))
        .collect();
    cases.extend(
        sample_crs()
            .into_iter()
            .map(|(file, cr)| (file, in_namespace(cr, &ns))),
    );

    let mut disagreements = Vec::new();
    let (mut accepted, mut rejected) = (0, 0);
    let mut worded_alike = 0;
    let mut worded_differently = Vec::new();
    for (name, document) in &cases {
        let (server, server_message) = server_verdict(&client, document).await;
        let (offline, offline_message) = offline_verdict(document);
        match &server {
            Verdict::Accept => accepted += 1,
            Verdict::Reject(_) => rejected += 1,
        }
        if matches!(server, Verdict::Reject(_)) && server == offline {
            if server_message == offline_message {
                worded_alike += 1;
            } else {
                worded_differently.push(format!(
                    "{name}:\n  API server: {server_message}\n  offline:    {offline_message}"
                ));
            }
        }
        if server != offline {
            disagreements.push(format!(
                "{name}:\n  API server: {server:?} {server_message}\n  offline:    {offline:?} {offline_message}"
            ));
        }
    }
    namespace.cleanup().await;
    println!(
        "{} cases: {accepted} accepted, {rejected} rejected by the API server; {worded_alike} \
         rejections worded exactly alike offline, these differently:\n{}",
        cases.len(),
        worded_differently.join("\n")
    );
    assert!(rejected >= 30, "only {rejected} rejected cases");
    assert!(accepted >= 25, "only {accepted} accepted cases");
    // Only kubectl's own REST-mapping errors (no API server message to match) may differ.
    let mapping = ["unknown apiVersion:", "wrong kind:"];
    let unexpected: Vec<&String> = worded_differently
        .iter()
        .filter(|w| !mapping.iter().any(|m| w.starts_with(m)))
        .collect();
    assert!(
        unexpected.is_empty(),
        "rejections worded differently: {unexpected:#?}"
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
