//! The object stores and the static web server as rendered offline, against golden files
//! (MinIO and SeaweedFS, kind and generic), their `cm/config` annotations, and bad input:
//! what the API server refuses (`render -f` admits the CR first) and what the operator refuses
//! (an ingress host that is not a DNS name, a key MinIO would not take) — NotValid with the
//! field, nothing rendered. Regenerate the golden files with
//! `UPDATE_GOLDEN=1 cargo test --test render_storage` after an intended change, and review.

use std::path::{Path, PathBuf};

use nuvolaris_operator::components::{self, ConfigAnnotation};
use nuvolaris_operator::config::{ClusterFacts, Config, ConfigError, GeneratedSecrets, NodeFacts};
use nuvolaris_operator::crd::{ComponentId, Whisk};
use nuvolaris_operator::offline;
use serde::Deserialize;
use serde_json::{Value, json};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

const STORAGE: [&str; 3] = ["minio", "seaweedfs", "static"];

/// The storage components' objects of the offline render of `sample` for `flavour`, as YAML.
fn storage_objects(sample: &str, flavour: &str) -> (String, Vec<Value>) {
    let rendered = offline::render_file(&repo().join(sample), Some(flavour)).expect("renders");
    assert!(rendered.warnings.is_empty(), "{:?}", rendered.warnings);
    let objects: Vec<Value> = serde_yaml_ng::Deserializer::from_str(&rendered.yaml)
        .map(|doc| Value::deserialize(doc).expect("valid YAML"))
        .filter(|o| {
            STORAGE
                .iter()
                .any(|c| o["metadata"]["labels"]["nuvolaris.org/component"] == *c)
        })
        .collect();
    let yaml = objects
        .iter()
        .map(|o| serde_yaml_ng::to_string(o).expect("YAML"))
        .collect::<Vec<_>>()
        .join("---\n");
    (yaml, objects)
}

fn check_golden(name: &str, yaml: &str) {
    let path: PathBuf = repo().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, yaml).expect("write golden file");
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (create it with UPDATE_GOLDEN=1)", path.display()));
    assert!(
        yaml == expected,
        "{} differs; if intended, regenerate with UPDATE_GOLDEN=1 and review the diff",
        path.display()
    );
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn names(objects: &[Value], kind: &str) -> Vec<String> {
    let mut names: Vec<String> = objects
        .iter()
        .filter(|o| o["kind"] == kind)
        .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

fn host(ingress: &Value) -> &str {
    ingress["spec"]["rules"][0]["host"].as_str().unwrap_or("")
}

#[test]
fn minio_on_kind() {
    let (yaml, objects) = storage_objects("tests/samples/storage-minio.yaml", "kind");
    let deployment = find(&objects, "Deployment", "minio-deployment");
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    assert_eq!(
        (labels["app"].as_str(), labels["name"].as_str()),
        (Some("minio"), Some("minio"))
    );
    let claim = find(&objects, "PersistentVolumeClaim", "minio-pv-claim");
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "10Gi");
    assert!(
        claim["metadata"].get("ownerReferences").is_none(),
        "a claim outlives the Whisk"
    );
    // the root user comes from the generated Secret, not from plain values
    let env = &deployment["spec"]["template"]["spec"]["containers"][0]["env"];
    assert!(env.to_string().contains("secretKeyRef"), "{env}");
    assert!(
        !yaml.contains("minio-root-S3cret"),
        "no password in plain sight"
    );
    assert_eq!(
        names(&objects, "Ingress"),
        [
            "apihost-static-ingress",
            "minio-console",
            "minio-s3",
            "minio-upload"
        ],
        "no www route on kind"
    );
    assert_eq!(host(find(&objects, "Ingress", "minio-s3")), "s3.localhost");
    let console = host(find(&objects, "Ingress", "minio-console"));
    assert_eq!(
        console, "minio.localhost",
        "the console has a host of its own"
    );
    let job = find(&objects, "Job", "minio-init");
    assert_eq!(
        job["spec"]["template"]["spec"]["containers"][0]["args"],
        json!(["setup", "minio"])
    );
    check_golden("storage-minio-kind.yaml", &yaml);
}

#[test]
fn minio_on_a_generic_cluster() {
    let (yaml, objects) = storage_objects("tests/samples/storage-minio.yaml", "generic");
    assert!(
        names(&objects, "Ingress").contains(&"www-nuvolaris-static-ingress".to_owned()),
        "www.<apihost> except on kind"
    );
    check_golden("storage-minio-generic.yaml", &yaml);
}

#[test]
fn seaweedfs_on_kind() {
    let (yaml, objects) = storage_objects("tests/samples/storage-seaweedfs.yaml", "kind");
    find(&objects, "StatefulSet", "seaweedfs");
    let claim = find(&objects, "PersistentVolumeClaim", "seaweedfs-pvc");
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "20Gi");
    let job = find(&objects, "Job", "seaweedfs-init");
    let env = job["spec"]["template"]["spec"]["containers"][0]["env"].to_string();
    assert!(
        env.contains("SEAWEEDFS_BUCKET_QUOTA_MB") && env.contains("2048"),
        "{env}"
    );
    // the generated ConfigMap's hashed name is what the static server mounts
    let config = names(&objects, "ConfigMap");
    assert!(
        config.len() == 1 && config[0].starts_with("nginx-static-conf-cm-"),
        "{config:?}"
    );
    let sts = find(&objects, "StatefulSet", "nuvolaris-static");
    assert_eq!(
        sts["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"],
        json!(config[0])
    );
    let init = &sts["spec"]["template"]["spec"]["initContainers"][0]["command"][2];
    assert!(
        init.as_str()
            .is_some_and(|c| c.contains("seaweedfs.nuvolaris.svc.cluster.local")),
        "{init}"
    );
    check_golden("storage-seaweedfs-kind.yaml", &yaml);
}

#[test]
fn seaweedfs_on_a_generic_cluster_with_a_storage_class() {
    let path = repo().join("tests/samples/storage-seaweedfs.yaml");
    let mut whisk = offline::read_whisk(&path).expect("sample");
    whisk
        .spec
        .nuvolaris
        .get_or_insert_with(Default::default)
        .storageclass = Some("fast".into());
    let rendered = offline::render_whisk(&whisk, Some("generic")).expect("renders");
    let objects: Vec<Value> = serde_yaml_ng::Deserializer::from_str(&rendered.yaml)
        .map(|doc| Value::deserialize(doc).expect("valid YAML"))
        .collect();
    let claim = find(&objects, "PersistentVolumeClaim", "seaweedfs-pvc");
    assert_eq!(
        claim["spec"]["storageClassName"], "fast",
        "the storage class reaches the claim (the original dropped it)"
    );
    let (yaml, objects) = storage_objects("tests/samples/storage-seaweedfs.yaml", "generic");
    assert_eq!(
        host(find(&objects, "Ingress", "seaweedfs-s3")),
        "s3.example.org"
    );
    assert_eq!(
        host(find(&objects, "Ingress", "seaweedfs-filer")),
        "filer.api.example.org"
    );
    check_golden("storage-seaweedfs-generic.yaml", &yaml);
}

fn config(spec: Value, flavour: &str) -> Result<Config, ConfigError> {
    let whisk: Whisk = serde_json::from_value(json!({
        "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
        "metadata": {"name": "controller", "namespace": "ns1"},
        "spec": spec,
    }))
    .expect("a Whisk");
    let facts = ClusterFacts {
        nodes: vec![NodeFacts {
            labels: [("nuvolaris.io/kube".to_owned(), flavour.to_owned())].into(),
            ..NodeFacts::default()
        }],
        ..ClusterFacts::default()
    };
    let secrets = GeneratedSecrets::placeholders(&components::generated_secret_keys());
    Config::from_whisk(&whisk, &facts, &secrets)
}

fn annotations(cfg: &Config, id: ComponentId) -> Vec<ConfigAnnotation> {
    components::component(id)
        .expect("implemented")
        .config_annotations(cfg)
}

fn value<'a>(annotations: &'a [ConfigAnnotation], key: &str) -> Option<&'a str> {
    annotations
        .iter()
        .find(|a| a.key == key)
        .map(|a| a.value.as_str())
}

#[test]
fn the_s3_annotations_of_cm_config() {
    let cfg = config(
        json!({
            "components": {"minio": true},
            "nuvolaris": {"apihost": "api.example.org", "protocol": "https"},
            "minio": {"nuvolaris": {"password": "user-S3cret"}, "ingress": {"s3-enabled": true, "console-enabled": true}},
        }),
        "generic",
    )
    .expect("valid");
    let minio = annotations(&cfg, ComponentId::Minio);
    assert_eq!(
        value(&minio, "s3_host"),
        Some("nuvolaris-minio.ns1.svc.cluster.local")
    );
    assert_eq!(value(&minio, "s3_port"), Some("9000"));
    assert_eq!(value(&minio, "s3_access_key"), Some("nuvolaris"));
    assert_eq!(value(&minio, "s3_provider"), Some("minio"));
    assert_eq!(value(&minio, "s3_bucket_data"), Some("nuvolaris-data"));
    assert_eq!(value(&minio, "s3_bucket_static"), Some("nuvolaris-web"));
    assert_eq!(
        value(&minio, "s3_api_url"),
        Some("https://s3.api.example.org")
    );
    assert_eq!(
        value(&minio, "s3_console_url"),
        Some("https://minio.api.example.org")
    );
    let secret = minio
        .iter()
        .find(|a| a.key == "s3_secret_key")
        .expect("s3_secret_key");
    assert!(secret.credential && secret.value == "user-S3cret");
    assert!(
        minio.iter().filter(|a| a.credential).count() == 1,
        "only the secret key is a credential"
    );

    let cfg = config(json!({"components": {"seaweedfs": true}}), "kind").expect("valid");
    let weed = annotations(&cfg, ComponentId::Seaweedfs);
    assert_eq!(value(&weed, "s3_provider"), Some("seaweedfs"));
    assert_eq!(
        value(&weed, "s3_host"),
        Some("seaweedfs.ns1.svc.cluster.local")
    );
    assert_eq!(
        value(&weed, "s3_api_url"),
        Some("http://localhost:9000"),
        "kind"
    );
    assert_eq!(value(&weed, "s3_console_url"), None, "console off");
    assert!(
        value(&weed, "s3_secret_key").is_some_and(|k| k.starts_with("generated-")),
        "a generated key when the CR has none"
    );
    // no apihost yet and the routes on: no route and no URL until it is known
    let cfg = config(
        json!({"components": {"seaweedfs": true}, "seaweedfs": {"ingress": {"s3-enabled": true}}}),
        "generic",
    )
    .expect("valid");
    assert_eq!(cfg.seaweedfs.routes.s3, None);
    assert_eq!(
        value(&annotations(&cfg, ComponentId::Seaweedfs), "s3_api_url"),
        None
    );
}

#[test]
fn the_operator_refuses_hosts_and_keys_it_cannot_use() {
    for (spec, field) in [
        (
            json!({"components": {"minio": true}, "minio": {"ingress": {"s3-enabled": true, "s3-hostname": "S3 Bucket"}}}),
            "minio.ingress.s3-hostname",
        ),
        (
            json!({"components": {"seaweedfs": true}, "seaweedfs": {"ingress": {"console-hostname": "filer_1.example.org"}}}),
            "seaweedfs.ingress.console-hostname",
        ),
        (
            json!({"components": {"minio": true}, "minio": {"admin": {"password": "short"}}}),
            "minio.admin.password",
        ),
        (
            json!({"components": {"minio": true}, "minio": {"nuvolaris": {"user": "a b"}}}),
            "minio.nuvolaris.user",
        ),
    ] {
        let err = config(spec.clone(), "generic").expect_err(&spec.to_string());
        let ConfigError::Invalid {
            field: got,
            message,
        } = err
        else {
            panic!("{spec}: not invalid input: {err}");
        };
        assert_eq!(got, field, "{message}");
        assert!(!message.contains("short"), "never the password: {message}");
    }
    // a disabled store's settings are not checked
    config(
        json!({"components": {"minio": false}, "minio": {"admin": {"password": "short"}}}),
        "generic",
    )
    .expect("minio is off");
}

/// `render -f`: one error line naming the field, exit status 1, nothing on stdout.
fn render_fails(spec_yaml: &str, expected: &[&str]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("cr.yaml");
    std::fs::write(
        &file,
        format!(
            "apiVersion: nuvolaris.org/v1\nkind: Whisk\nmetadata:\n  name: controller\n  namespace: nuvolaris\nspec:\n{spec_yaml}"
        ),
    )
    .expect("write CR");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_nuvolaris-operator"))
        .args(["render", "-f"])
        .arg(&file)
        .output()
        .expect("run render");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing renders");
    for line in expected {
        assert!(stderr.contains(line), "{line:?} not in: {stderr}");
    }
    assert!(stderr.lines().all(|l| l.starts_with("error: ")), "{stderr}");
}

#[test]
fn render_refuses_bad_storage_settings() {
    // what the API server refuses: quotas and sizes are numbers
    render_fails(
        "  components: {seaweedfs: true}\n  seaweedfs:\n    default-bucket-quota: lots\n    volume-size: 0\n",
        &[
            "spec.seaweedfs.default-bucket-quota: Invalid value: \"string\"",
            "spec.seaweedfs.volume-size: Invalid value: 0",
        ],
    );
    render_fails(
        "  components: {minio: true}\n  minio:\n    volume-size: ten\n",
        &["spec.minio.volume-size: Invalid value: \"string\""],
    );
    // what the operator refuses
    render_fails(
        "  components: {minio: true, static: true}\n  minio:\n    ingress: {s3-enabled: true, s3-hostname: \"s3.Example.org\"}\n",
        &["minio.ingress.s3-hostname must be a DNS name"],
    );
}
