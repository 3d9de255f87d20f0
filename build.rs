//! Embeds `deploy/` and `templates/` into the binary, so the operator reads its manifests from
//! memory: nothing is unpacked or written to disk at run time (the original untarred `deploy/`
//! onto a volume and wrote kustomizations into it).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for top in ["deploy", "templates"] {
        println!("cargo:rerun-if-changed={top}");
        collect(&root.join(top), &mut files);
    }
    // Sorted as strings (not path components): `assets::file` binary-searches on them.
    let mut files: Vec<(String, PathBuf)> = files
        .into_iter()
        .map(|file| {
            let rel = file.strip_prefix(&root).expect("collected under the root");
            (rel.to_string_lossy().replace('\\', "/"), file)
        })
        .collect();
    files.sort();
    let mut code = String::from(
        "/// Every file of `deploy/` and `templates/`: (path relative to the repository, contents).\npub static FILES: &[(&str, &str)] = &[\n",
    );
    for (rel, file) in &files {
        writeln!(code, "    ({rel:?}, include_str!({:?})),", file.display())
            .expect("write to String");
    }
    code.push_str("];\n");
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("assets.rs");
    std::fs::write(out, code).expect("write generated assets.rs");
}
