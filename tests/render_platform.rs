//! The platform services rendered offline: the registry, TLS issuer, cron executor and quota
//! checker of `tests/samples/platform.yaml` against a golden file, and the bad input they refuse
//! with one line naming the field (`render -f` exits 1). Regenerate the golden file with
//! `UPDATE_GOLDEN=1 cargo test --test render_platform` after an intended change, and review.

use std::path::{Path, PathBuf};

use nuvolaris_operator::crd::Whisk;
use nuvolaris_operator::offline;
use serde::Deserialize;
use serde_json::{Value, json};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

const PLATFORM: [&str; 4] = ["registry", "tls", "cron", "quota"];

fn platform_objects(yaml: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(yaml)
        .map(|doc| Value::deserialize(doc).expect("valid YAML"))
        .filter(|o| {
            o["metadata"]["labels"]["nuvolaris.org/component"]
                .as_str()
                .is_some_and(|c| PLATFORM.contains(&c))
        })
        .collect()
}

#[test]
fn the_platform_sample_matches_the_golden_file() {
    let rendered =
        offline::render_file(&repo().join("tests/samples/platform.yaml"), Some("generic"))
            .expect("renders");
    assert!(rendered.warnings.is_empty(), "{:?}", rendered.warnings);
    let objects = platform_objects(&rendered.yaml);
    let mut names: Vec<String> = objects
        .iter()
        .map(|o| {
            let name = o["metadata"]["name"].as_str().unwrap_or("?");
            // generated Secrets end with a content hash
            let name = name
                .rsplit_once('-')
                .filter(|(_, hash)| hash.len() == 10 && name.contains("-auth"))
                .map_or(name, |(base, _)| base);
            format!("{} {name}", o["kind"].as_str().unwrap_or("?"))
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "ClusterIssuer letsencrypt-issuer",
            "CronJob cron-init",
            "CronJob quota-checker",
            "Ingress registry",
            "Role nuvolaris-quota-role",
            "RoleBinding nuvolaris-quota-rb",
            "Secret cron-init-auth",
            "Secret quota-checker-auth",
            "Secret registry-auth-secret",
            "Secret registry-pull-secret",
            "Service nuvolaris-registry-svc",
            "ServiceAccount nuvolaris-quota",
            "StatefulSet registry",
        ]
    );
    // no secret value in a CronJob: the CouchDB and Redis passwords are in their Secrets
    for cronjob in objects.iter().filter(|o| o["kind"] == "CronJob") {
        let text = cronjob.to_string();
        assert!(!text.contains("generated-"), "a password in {text}");
    }
    let yaml = objects
        .iter()
        .map(|o| serde_yaml_ng::to_string(o).expect("YAML"))
        .collect::<Vec<_>>()
        .join("---\n");
    let path: PathBuf = repo().join("tests/golden/platform-generic.yaml");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &yaml).expect("write golden file");
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (create it with UPDATE_GOLDEN=1)", path.display()));
    assert!(
        yaml == expected,
        "{} differs; if intended, regenerate with UPDATE_GOLDEN=1 and review the diff",
        path.display()
    );
}

fn whisk(spec: Value) -> Whisk {
    serde_json::from_value(json!({
        "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
        "metadata": {"name": "controller", "namespace": "nuvolaris"},
        "spec": spec,
    }))
    .expect("a Whisk")
}

#[test]
fn bad_platform_input_is_refused_naming_the_field() {
    let cases = [
        (
            json!({"components": {"tls": true}, "tls": {"acme-registered-email": "none"}}),
            "tls.acme-registered-email must be an e-mail address",
        ),
        (
            json!({"components": {"cron": true}, "scheduler": {"schedule": "every minute"}}),
            "scheduler.schedule: \"every minute\"",
        ),
        (
            json!({"components": {"quota": true}, "quota": {"schedule": "*/0 * * * *"}}),
            "quota.schedule: \"*/0 * * * *\"",
        ),
        (
            json!({"components": {"cron": true}, "scheduler": {"schedule": "0 0 * * * *"}}),
            "more than five fields",
        ),
        (
            json!({"components": {"registry": true}, "registry": {"mode": "external"}}),
            "registry.hostname must name the external registry",
        ),
        (
            json!({"components": {"registry": true}, "registry": {"hostname": "img example.org"}}),
            "registry.hostname must be a host name",
        ),
    ];
    for (spec, expected) in cases {
        let err = match offline::render_whisk(&whisk(spec.clone()), Some("generic")) {
            Ok(_) => panic!("{spec} renders"),
            Err(err) => err.to_string(),
        };
        assert!(err.contains(expected), "{spec}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
    // a component that is off is not checked (the `ops` CLI writes `none` without --tls)
    for spec in [
        json!({"components": {"tls": false}, "tls": {"acme-registered-email": "none"}}),
        json!({"components": {"cron": false}, "scheduler": {"schedule": "never"}}),
        json!({"components": {"registry": false}, "registry": {"mode": "external"}}),
    ] {
        offline::render_whisk(&whisk(spec.clone()), Some("generic"))
            .unwrap_or_else(|e| panic!("{spec}: {e}"));
    }
    // on kind TLS never applies: nothing to check
    offline::render_whisk(
        &whisk(json!({"components": {"tls": true}, "tls": {"acme-registered-email": "none"}})),
        Some("kind"),
    )
    .expect("renders on kind");
}

#[test]
fn render_f_prints_one_error_line_and_exits_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("cr.yaml");
    std::fs::write(
        &file,
        "apiVersion: nuvolaris.org/v1\nkind: Whisk\nmetadata:\n  name: controller\n  namespace: nuvolaris\n\
         spec:\n  components: {cron: true}\n  scheduler:\n    schedule: \"61 * * * *\"\n",
    )
    .expect("write CR");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_nuvolaris-operator"))
        .args(["render", "-f"])
        .arg(&file)
        .output()
        .expect("run render");
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(output.stdout.is_empty());
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains("scheduler.schedule"),
        "{err}"
    );
}
