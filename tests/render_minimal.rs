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
