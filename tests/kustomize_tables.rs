//! The kustomize engine's data tables (src/kustomize/tables/*.tsv) are exactly what their
//! generator (tools/kustomize-tables, a Go program reading the kustomize modules kubectl 1.32
//! embeds) writes today: the committed data is regenerated into a temporary directory and
//! compared file by file.
//!
//! Needs the Go toolchain and the module cache or the Go module proxy (the first run
//! downloads the modules in tools/kustomize-tables/go.sum and builds the generator; later
//! runs take a few seconds). Without `go` the test FAILS with the reason.
//!
//! To regenerate after changing the generator: `task kustomize-tables`, or
//! `cd tools/kustomize-tables && go run . ../../src/kustomize/tables`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tsv_names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("readable dir entry").file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tsv"))
        .collect()
}

#[test]
fn committed_tables_equal_the_generators_output() {
    let out = tempfile::tempdir().expect("temp dir");
    let run = Command::new("go")
        .args(["run", "-mod=readonly", "."])
        .arg(out.path())
        .current_dir(repo().join("tools/kustomize-tables"))
        // the pinned modules of go.mod/go.sum (never updated), with the installed toolchain
        .env("GOTOOLCHAIN", "local")
        .output()
        .unwrap_or_else(|e| {
            panic!("the Go toolchain (`go`) is required to regenerate the kustomize tables: {e}")
        });
    assert!(
        run.status.success(),
        "tools/kustomize-tables failed ({}): {}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );

    let committed_dir = repo().join("src/kustomize/tables");
    let committed = tsv_names(&committed_dir);
    let generated = tsv_names(out.path());
    assert_eq!(
        committed, generated,
        "src/kustomize/tables holds other files than the generator writes"
    );
    for name in &generated {
        let want = std::fs::read_to_string(out.path().join(name)).expect("generated table");
        let have = std::fs::read_to_string(committed_dir.join(name)).expect("committed table");
        if let Some((i, (w, h))) = want
            .lines()
            .zip(have.lines())
            .enumerate()
            .find(|(_, (w, h))| w != h)
        {
            panic!(
                "src/kustomize/tables/{name} line {}: committed {h:?}, generator {w:?}; \
                 regenerate with `task kustomize-tables`",
                i + 1
            );
        }
        assert_eq!(
            have.lines().count(),
            want.lines().count(),
            "src/kustomize/tables/{name}: line count differs from the generator's; \
             regenerate with `task kustomize-tables`"
        );
        assert_eq!(
            have, want,
            "src/kustomize/tables/{name} differs from the generator's output (line endings?)"
        );
    }
}
