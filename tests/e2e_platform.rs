//! The platform services end to end on the local control plane, with the real operator: the
//! registry, TLS issuer, cron executor and quota checker appear (their StatefulSet, CronJobs,
//! Secrets, ServiceAccount, the ClusterIssuer, the `registry_*` annotations of `cm/config`) and
//! report `on`; disabled, they are pruned (the registry's volume claim stays); the Whisk deleted,
//! the cluster-scoped ClusterIssuer is gone too.
//!
//! cert-manager does not run here: the test installs a minimal ClusterIssuer CRD (any content
//! accepted) so that the API server serves the kind.

mod support;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Secret, ServiceAccount};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Api, Client};
use nuvolaris_operator::crd::Whisk;
use serde_json::json;
use support::operator::{start_operator, status};
use support::{TestNamespace, cond, wait_deleted, wait_for};

/// `whisk_create.<key>` of every `(key, value)` for the current generation.
fn components_are(
    expected: &'static [(&'static str, &'static str)],
) -> impl Fn(Option<&Whisk>) -> bool {
    move |w: Option<&Whisk>| {
        w.is_some_and(|w| {
            let s = status(w);
            s["observedGeneration"].as_i64() == w.metadata.generation
                && expected
                    .iter()
                    .all(|(key, value)| s["whisk_create"][key] == *value)
        })
    }
}

/// cert-manager's ClusterIssuer kind, served without cert-manager (schema: anything).
async fn install_cluster_issuer_crd(client: &Client) {
    let crd: CustomResourceDefinition = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "clusterissuers.cert-manager.io"},
        "spec": {
            "group": "cert-manager.io", "scope": "Cluster",
            "names": {"kind": "ClusterIssuer", "plural": "clusterissuers",
                      "singular": "clusterissuer", "listKind": "ClusterIssuerList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                          "schema": {"openAPIV3Schema": {"type": "object",
                                     "x-kubernetes-preserve-unknown-fields": true}}}],
        },
    }))
    .expect("a CRD");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.patch(
        "clusterissuers.cert-manager.io",
        &PatchParams::apply("nuvolaris-tests").force(),
        &Patch::Apply(&crd),
    )
    .await
    .expect("install the ClusterIssuer CRD");
    wait_for(
        &crds,
        "clusterissuers.cert-manager.io",
        "CRD established",
        cond::is_crd_established(),
    )
    .await;
}

fn cluster_issuers(client: &Client) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("cert-manager.io", "v1", "ClusterIssuer");
    Api::all_with(client.clone(), &ApiResource::from_gvk(&gvk))
}

async fn secret_names(ns: &TestNamespace) -> Vec<String> {
    let mut names: Vec<String> = ns
        .api::<Secret>()
        .list(&ListParams::default().labels("nuvolaris.org/whisk=controller"))
        .await
        .expect("list Secrets")
        .items
        .into_iter()
        .filter_map(|s| s.metadata.name)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn platform_services_appear_are_pruned_when_disabled_and_the_issuer_goes_with_the_whisk() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    install_cluster_issuer_crd(&client).await;
    let ns = TestNamespace::create(&client, "platform").await;
    let configs = ns.api::<ConfigMap>();
    configs
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "config"}})).expect("a ConfigMap"),
        )
        .await
        .expect("create cm/config");
    let operator = start_operator(&client, &ns.name);
    let whisks = ns.api::<Whisk>();
    let whisk: Whisk = serde_json::from_value(json!({
        "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
        "metadata": {"name": "controller", "namespace": ns.name},
        "spec": {
            // no NodePorts: other tests run beside this one
            "nuvolaris": {"kube": "generic", "apihost": "api.example.org", "nodeports": false},
            "components": {"registry": true, "tls": true, "cron": true, "quota": true,
                           "redis": true},
            "tls": {"acme-registered-email": "ops@example.org"},
            "registry": {"ingress": {"enabled": true}, "auth": {"username": "opsuser"}},
            // once a year: the test does not wait for runs
            "scheduler": {"schedule": "0 0 1 1 *"},
            "quota": {"schedule": "0 0 1 1 *"},
        },
    }))
    .expect("a Whisk");
    whisks
        .create(&PostParams::default(), &whisk)
        .await
        .expect("create the Whisk");
    let on = &[
        ("registry", "on"),
        ("tls", "on"),
        ("cron", "on"),
        ("quota", "on"),
        // redis (the quota checker's store) too: Ready needs every enabled component
        ("redis", "on"),
    ];
    let ready = wait_for(
        &whisks,
        "controller",
        "platform services on",
        components_are(on),
    )
    .await;
    assert_eq!(
        status(&ready)["whisk_create"]["controller"],
        "Ready",
        "{}",
        status(&ready)
    );

    // what each one deploys
    let cronjobs = ns.api::<CronJob>();
    for name in ["cron-init", "quota-checker"] {
        let cronjob = cronjobs
            .get(name)
            .await
            .unwrap_or_else(|e| panic!("CronJob {name}: {e}"));
        let spec = cronjob.spec;
        assert_eq!(spec.schedule, "0 0 1 1 *");
        assert_eq!(spec.concurrency_policy.as_deref(), Some("Forbid"));
    }
    let quota_pod = cronjobs.get("quota-checker").await.expect("quota-checker");
    let pod_spec = quota_pod
        .spec
        .job_template
        .spec
        .and_then(|j| j.template.spec)
        .expect("pod spec");
    assert_eq!(
        pod_spec.service_account_name.as_deref(),
        Some("nuvolaris-quota")
    );
    ns.api::<ServiceAccount>()
        .get("nuvolaris-quota")
        .await
        .expect("the quota checker's ServiceAccount");
    ns.api::<StatefulSet>()
        .get("registry")
        .await
        .expect("the registry");
    let secrets = secret_names(&ns).await;
    for prefix in [
        "registry-auth-secret-",
        "registry-pull-secret",
        "cron-init-auth-",
        "quota-checker-auth-",
    ] {
        assert!(
            secrets.iter().any(|s| s.starts_with(prefix)),
            "{prefix}* in {secrets:?}"
        );
    }
    let issuers = cluster_issuers(&client);
    let issuer = issuers
        .get("letsencrypt-issuer")
        .await
        .expect("the ClusterIssuer");
    assert_eq!(issuer.data["spec"]["acme"]["email"], "ops@example.org");
    let issuer_uid = issuer.metadata.uid.clone().expect("uid");
    let annotations = |cm: &ConfigMap| cm.metadata.annotations.clone().unwrap_or_default();
    let config = configs.get("config").await.expect("cm/config");
    let a = annotations(&config);
    assert_eq!(
        a.get("registry_host").map(String::as_str),
        Some("img.api.example.org")
    );
    assert_eq!(
        a.get("registry_internal_host").map(String::as_str),
        Some("nuvolaris-registry-svc:5000")
    );
    assert_eq!(
        a.get("registry_username").map(String::as_str),
        Some("opsuser")
    );
    assert_eq!(
        a.get("registry_url").map(String::as_str),
        Some("https://img.api.example.org")
    );
    assert!(
        a.get("registry_password").is_some_and(|p| p.len() >= 16),
        "a generated password"
    );

    // disabled: pruned, annotations gone; the registry's volume claim kept
    let claims = ns.api::<PersistentVolumeClaim>();
    let claim = claims
        .get("registry-pvc-registry-0")
        .await
        .expect("the StatefulSet's claim of the registry");
    let claim_uid = claim.metadata.uid.clone();
    whisks
        .patch(
            "controller",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"spec": {"components": {"registry": false, "cron": false, "quota": false}}}),
            ),
        )
        .await
        .expect("disable");
    let off = &[
        ("registry", "off"),
        ("cron", "off"),
        ("quota", "off"),
        ("tls", "on"),
    ];
    wait_for(
        &whisks,
        "controller",
        "platform services off",
        components_are(off),
    )
    .await;
    for name in ["cron-init", "quota-checker"] {
        let uid = cronjobs
            .get_opt(name)
            .await
            .expect("get")
            .and_then(|c| c.metadata.uid);
        if let Some(uid) = uid {
            wait_deleted(&cronjobs, name, &uid, "CronJob pruned").await;
        }
    }
    let sts = ns.api::<StatefulSet>();
    if let Some(uid) = sts
        .get_opt("registry")
        .await
        .expect("get")
        .and_then(|s| s.metadata.uid)
    {
        wait_deleted(&sts, "registry", &uid, "registry pruned").await;
    }
    let accounts = ns.api::<ServiceAccount>();
    let account = accounts.get_opt("nuvolaris-quota").await.expect("get");
    if let Some(uid) = account.and_then(|a| a.metadata.uid) {
        wait_deleted(&accounts, "nuvolaris-quota", &uid, "ServiceAccount pruned").await;
    }
    let secrets = secret_names(&ns).await;
    assert!(
        !secrets.iter().any(|s| s.starts_with("registry-")
            || s.starts_with("cron-init-")
            || s.starts_with("quota-checker-")),
        "{secrets:?}"
    );
    let config = configs.get("config").await.expect("cm/config");
    assert!(
        !annotations(&config)
            .keys()
            .any(|k| k.starts_with("registry_")),
        "{config:?}"
    );
    let kept = claims
        .get("registry-pvc-registry-0")
        .await
        .expect("the claim is kept");
    assert_eq!(
        kept.metadata.uid, claim_uid,
        "volume claims are never pruned"
    );
    assert!(kept.metadata.deletion_timestamp.is_none());

    // the Whisk deleted: the finalizer removes the cluster-scoped ClusterIssuer
    whisks
        .delete("controller", &DeleteParams::default())
        .await
        .expect("delete the Whisk");
    wait_deleted(
        &issuers,
        "letsencrypt-issuer",
        &issuer_uid,
        "ClusterIssuer deleted",
    )
    .await;
    let whisk_gone = whisks.get_opt("controller").await.expect("get");
    if let Some(w) = whisk_gone {
        wait_deleted(
            &whisks,
            "controller",
            &w.metadata.uid.unwrap_or_default(),
            "Whisk gone",
        )
        .await;
    }
    operator.stop();
    ns.cleanup().await;
}
