//! Builds the zips of the whisk-system `nuv` actions from `actions/nuv/`,
//! reproducibly: entries in byte order of their names, no directory
//! entries, a fixed timestamp (1980-01-01, the ZIP epoch) and mode 0644,
//! stored uncompressed. The same sources always give the same bytes.
//!
//! Shared by `build.rs` (which embeds the zips) and the unit tests of
//! `setup::actions` (which rebuild them and compare).
//!
//! Layout: every directory `actions/nuv/<action>/` with a `__main__.py` is
//! one action; `actions/nuv/nuvlib/` is copied into every zip as `nuvlib/`.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The shared package copied into every action zip.
pub const SHARED_PACKAGE: &str = "nuvlib";

/// The action directories under `nuv_dir`, sorted by name: (name, path).
pub fn action_dirs(nuv_dir: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(nuv_dir)? {
        let path = entry?.path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        if path.is_dir() && name != SHARED_PACKAGE && path.join("__main__.py").is_file() {
            dirs.push((name, path));
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// The zip of one action: its directory's files plus the shared package.
pub fn action_zip(action_dir: &Path, nuv_dir: &Path) -> std::io::Result<Vec<u8>> {
    let mut files = Vec::new();
    collect(action_dir, "", &mut files)?;
    collect(&nuv_dir.join(SHARED_PACKAGE), SHARED_PACKAGE, &mut files)?;
    files.sort();
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for (name, path) in files {
        writer
            .start_file(name.as_str(), options)
            .map_err(std::io::Error::other)?;
        writer.write_all(&std::fs::read(&path)?)?;
    }
    Ok(writer.finish().map_err(std::io::Error::other)?.into_inner())
}

/// Every source file under `dir` as (name in the zip, path). Python byte
/// code, caches and dot files are left out.
fn collect(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with('.') || name == "__pycache__" || name.ends_with(".pyc") {
            continue;
        }
        let zip_name = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        };
        if path.is_dir() {
            collect(&path, &zip_name, out)?;
        } else {
            out.push((zip_name, path));
        }
    }
    Ok(())
}
