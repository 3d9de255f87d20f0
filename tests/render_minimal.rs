//! Offline render of the minimal CR against a golden file: what the operator applies for the
//! installation users start with, byte for byte. Regenerate with `UPDATE_GOLDEN=1 cargo test
//! --test render_minimal` after an intended change, and review the diff.

use std::path::{Path, PathBuf};

use nuvolaris_operator::offline;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn golden(name: &str) -> PathBuf {
    repo().join("tests/golden").join(name)
}

fn check(flavour: &str) {
    let sample = repo().join("deploy/samples/minimal.yaml");
    let rendered = offline::render_file(&sample, Some(flavour)).expect("the sample renders");
    assert!(rendered.warnings.is_empty(), "{:?}", rendered.warnings);
    let again = offline::render_file(&sample, Some(flavour)).expect("renders twice");
    assert_eq!(rendered.yaml, again.yaml, "render is deterministic");

    let path = golden(&format!("minimal-{flavour}.yaml"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &rendered.yaml).expect("write golden file");
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (create it with UPDATE_GOLDEN=1)", path.display()));
    assert!(
        rendered.yaml == expected,
        "render of the minimal CR ({flavour}) differs from {}; if intended, regenerate with UPDATE_GOLDEN=1 and review the diff",
        path.display()
    );
}

#[test]
fn minimal_cr_on_kind_matches_the_golden_file() {
    check("kind");
}

#[test]
fn minimal_cr_on_a_generic_cluster_matches_the_golden_file() {
    check("generic");
}

/// `render -f` admits the CR as the API server would first: a CR `kubectl apply` rejects is
/// rejected with one `error:` line per field and exit status 1, before anything renders;
/// YAML is read as kubectl reads it (`on`/`yes` are booleans).
#[test]
fn render_rejects_what_the_api_server_rejects() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |text: &str| {
        let file = dir.path().join("cr.yaml");
        std::fs::write(&file, text).expect("write CR");
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_nuvolaris-operator"))
            .args(["render", "-f"])
            .arg(&file)
            .output()
            .expect("run render");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let head = "apiVersion: nuvolaris.org/v1\nkind: Whisk\nmetadata:\n  name: controller\n  namespace: nuvolaris\n";
    let (code, out, err) = run(&format!(
        "{head}spec:\n  components: {{openwhisk: yes, couchdb: on}}\n  couchdb:\n    port: 70000\n    volume-size: -1\n  controller:\n    port: \"http\"\n"
    ));
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty(), "nothing renders: {out}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(lines.iter().all(|l| l.starts_with("error: ")), "{err}");
    for expected in [
        "spec.couchdb.port: Invalid value: 70000: spec.couchdb.port in body should be less than or equal to 65535",
        "spec.couchdb.volume-size: Invalid value: -1: spec.couchdb.volume-size in body should be greater than or equal to 1",
        "spec.controller.port: Invalid value: \"http\": port must be a number between 1 and 65535",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    let mut wrong = head.replace("nuvolaris.org/v1", "nuvolaris.org/v2");
    wrong.push_str("spec: {}\n");
    let (code, _, err) = run(&wrong);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("apiVersion: Unsupported value: \"nuvolaris.org/v2\""),
        "{err}"
    );
    let (code, out, err) = run(&format!("{head}spec:\n  components: {{couchdb: yes}}\n"));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("kind: StatefulSet"), "{out}");
}
