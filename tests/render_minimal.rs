//! Offline render of the original's minimal CR (openwhisk, couchdb and redis on; invoker off).

use std::path::{Path, PathBuf};

use nuvolaris_operator::offline;

fn minimal_cr() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/samples/minimal.yaml")
}

#[test]
fn minimal_cr_renders() {
    let rendered = offline::render_file(&minimal_cr(), Some("kind")).expect("renders");
    println!("{}", rendered.yaml);
}
