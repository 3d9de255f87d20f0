//! Offline renders of the enterprise installation and of the monitoring stack against golden
//! files, on kind and on a generic cluster: the enterprise sample's ZooKeeper, Kafka, invoker
//! and controller, and monitoring without and with Alertmanager. Regenerate with
//! `UPDATE_GOLDEN=1 cargo test --test render_enterprise` after an intended change, and review.

use std::path::{Path, PathBuf};

use nuvolaris_operator::offline;
use serde::Deserialize;
use serde_json::Value;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The objects of `components` in the offline render of `sample` for `flavour`, as YAML.
fn objects_of(sample: &str, flavour: &str, components: &[&str]) -> (String, Vec<Value>) {
    let path = repo().join(sample);
    let rendered = offline::render_file(&path, Some(flavour)).expect("renders");
    assert!(rendered.warnings.is_empty(), "{:?}", rendered.warnings);
    let again = offline::render_file(&path, Some(flavour)).expect("renders twice");
    assert_eq!(rendered.yaml, again.yaml, "render is deterministic");
    let objects: Vec<Value> = serde_yaml_ng::Deserializer::from_str(&rendered.yaml)
        .map(|doc| Value::deserialize(doc).expect("valid YAML"))
        .filter(|o| {
            o["metadata"]["labels"]["nuvolaris.org/component"]
                .as_str()
                .is_some_and(|c| components.contains(&c))
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

const ENTERPRISE: [&str; 4] = ["zookeeper", "kafka", "invoker", "openwhisk"];

fn kinds_and_names(objects: &[Value]) -> Vec<String> {
    objects
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap_or(""),
                o["metadata"]["name"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn the_enterprise_sample_matches_the_golden_files() {
    for flavour in ["kind", "generic"] {
        let (yaml, objects) = objects_of("deploy/samples/enterprise.yaml", flavour, &ENTERPRISE);
        let names = kinds_and_names(&objects);
        for expected in [
            "StatefulSet/zookeeper",
            "StatefulSet/kafka",
            "StatefulSet/invoker",
            "StatefulSet/controller",
            "Service/controller-ip",
            "PersistentVolumeClaim/kafka-pvc-data",
        ] {
            assert!(names.contains(&expected.to_owned()), "{flavour}: {names:?}");
        }
        // ZooKeeper, Kafka, then the invoker and the controller: the installation order
        let position = |name: &str| names.iter().position(|n| n == name);
        assert!(
            position("StatefulSet/zookeeper") < position("StatefulSet/kafka")
                && position("StatefulSet/kafka") < position("StatefulSet/invoker")
                && position("StatefulSet/invoker") < position("StatefulSet/controller"),
            "{names:?}"
        );
        check_golden(&format!("enterprise-{flavour}.yaml"), &yaml);
    }
}

#[test]
fn monitoring_without_alertmanager_matches_the_golden_files() {
    for flavour in ["kind", "generic"] {
        let (yaml, objects) = objects_of("tests/samples/monitoring.yaml", flavour, &["monitoring"]);
        assert!(
            !kinds_and_names(&objects)
                .iter()
                .any(|n| n.contains("alertmanager")),
            "{flavour}"
        );
        check_golden(&format!("monitoring-{flavour}.yaml"), &yaml);
    }
}

#[test]
fn monitoring_with_alertmanager_matches_the_golden_files() {
    for flavour in ["kind", "generic"] {
        let (yaml, objects) = objects_of(
            "tests/samples/monitoring-alertmanager.yaml",
            flavour,
            &["monitoring"],
        );
        assert!(
            kinds_and_names(&objects)
                .contains(&"Deployment/nuvolaris-prometheus-alertmanager".to_owned()),
            "{flavour}"
        );
        for object in objects.iter().filter(|o| o["kind"] == "ConfigMap") {
            let text = object.to_string();
            assert!(
                !text.contains("an-app-password") && !text.contains("XXXXXXXX"),
                "a credential in {}",
                object["metadata"]["name"]
            );
        }
        check_golden(&format!("monitoring-alertmanager-{flavour}.yaml"), &yaml);
    }
}
