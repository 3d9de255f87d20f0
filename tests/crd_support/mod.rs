//! Sample discovery shared by the CRD test crates.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The original operator's tree; CI checks `../shared` out beside the repo.
pub fn reference() -> PathBuf {
    let dir = repo().join("../shared/reference/openserverless-operator");
    assert!(
        dir.is_dir(),
        "reference samples not found at {} (CI must check out ../shared beside the repo)",
        dir.display()
    );
    dir
}

pub fn yaml_docs(path: &Path) -> Vec<Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    yaml_docs_str(&text, &path.display().to_string())
}

pub fn yaml_docs_str(text: &str, what: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("parsing {what}: {e}")))
        .filter(|v| !v.is_null())
        .collect()
}

pub fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

/// Every nuvolaris.org CR among the original's samples and ours, with its file.
pub fn sample_crs() -> Vec<(String, Value)> {
    let reference = reference();
    let mut files = vec![reference.join("deploy/nuvolaris-operator/whisk.yaml")];
    yaml_files(&reference.join("tests"), &mut files);
    yaml_files(&repo().join("tests/samples"), &mut files);
    let mut crs = Vec::new();
    for file in files {
        for doc in yaml_docs(&file) {
            let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
            if api == "nuvolaris.org/v1" {
                crs.push((file.display().to_string(), doc));
            }
        }
    }
    crs
}

pub fn kind_of(cr: &Value) -> &str {
    cr.get("kind").and_then(Value::as_str).unwrap_or("")
}
