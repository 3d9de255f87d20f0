//! Embeds `deploy/` and `templates/` into the binary, so the operator reads its manifests from
//! memory: nothing is unpacked or written to disk at run time (the original untarred `deploy/`
//! onto a volume and wrote kustomizations into it).
//!
//! Also builds the zips of the whisk-system `nuv` actions from `actions/nuv/`
//! (reproducibly, see `build/action_zips.rs`) and embeds them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[path = "build/action_zips.rs"]
mod action_zips;

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
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out_dir.join("assets.rs"), code).expect("write generated assets.rs");
    embed_action_zips(&root, &out_dir);
}

/// Writes each action's zip to `OUT_DIR/actions/<name>.zip` and
/// `OUT_DIR/action_zips.rs` listing them.
fn embed_action_zips(root: &Path, out_dir: &Path) {
    println!("cargo:rerun-if-changed=actions");
    println!("cargo:rerun-if-changed=build/action_zips.rs");
    let nuv = root.join("actions/nuv");
    let zips_dir = out_dir.join("actions");
    std::fs::create_dir_all(&zips_dir).expect("create OUT_DIR/actions");
    let mut code = String::from(
        "/// The zip of every whisk-system `nuv` action: (action name, zip bytes), sorted by name.\npub static ACTION_ZIPS: &[(&str, &[u8])] = &[\n",
    );
    let dirs = action_zips::action_dirs(&nuv).expect("list actions/nuv");
    for (name, dir) in dirs {
        let zip = action_zips::action_zip(&dir, &nuv)
            .unwrap_or_else(|e| panic!("build the zip of action {name}: {e}"));
        let file = zips_dir.join(format!("{name}.zip"));
        std::fs::write(&file, zip).expect("write action zip");
        writeln!(
            code,
            "    ({name:?}, include_bytes!({:?})),",
            file.display()
        )
        .expect("write to String");
    }
    code.push_str("];\n");
    std::fs::write(out_dir.join("action_zips.rs"), code).expect("write generated action_zips.rs");
}
