//! The whisk-system package `nuv`: the nine Python actions the `ops` CLI
//! calls (`…/api/v1/web/whisk-system/nuv/<name>`), their zips and how each is
//! deployed.
//!
//! The sources are in `actions/nuv/` (see `actions/README.md`); `build.rs`
//! zips them reproducibly (`build/action_zips.rs`) and embeds the zips, so
//! the operator deploys them from memory.

use sha2::{Digest, Sha256};

include!(concat!(env!("OUT_DIR"), "/action_zips.rs"));

/// The package that holds the actions, in the `whisk-system` namespace.
pub const PACKAGE: &str = "nuv";
/// The runtime kind of every action (OpenWhisk's default Python runtime).
pub const RUNTIME_KIND: &str = "python:3";

/// Inputs of the actions that read the users' data in CouchDB, as the admin.
/// `couchdb_db_prefix` is optional in the actions (default `nuvolaris_`).
pub const COUCHDB_INPUTS: &[&str] = &[
    "couchdb_host",
    "couchdb_port",
    "couchdb_user",
    "couchdb_password",
    "couchdb_db_prefix",
];
/// Inputs of `content`, which talks to MinIO with the caller's own keys.
pub const MINIO_INPUTS: &[&str] = &["minio_host", "minio_port"];

/// How an action is exported on `/api/v1/web`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebExport {
    /// `web-export`: a JSON-object body becomes the action's arguments.
    Web,
    /// `web-export` + `raw-http`: the action gets the body as `__ow_body`.
    Raw,
}

/// One action of the package.
#[derive(Debug, Clone, Copy)]
pub struct SystemAction {
    pub name: &'static str,
    pub web: WebExport,
    /// The admin inputs it is deployed with (as init parameters).
    pub inputs: &'static [&'static str],
    /// Its code: a zip with `__main__.py` and the shared `nuvlib` package.
    pub zip: &'static [u8],
}

impl SystemAction {
    /// The SHA-256 of the zip, hex.
    pub fn zip_sha256(&self) -> String {
        hex(&Sha256::digest(self.zip))
    }
}

/// How each action is deployed (the original's manifest: all web, six raw).
const CATALOGUE: [(&str, WebExport, &[&str]); 9] = [
    ("login", WebExport::Web, COUCHDB_INPUTS),
    ("secrets", WebExport::Web, COUCHDB_INPUTS),
    ("content", WebExport::Web, MINIO_INPUTS),
    ("redis", WebExport::Raw, COUCHDB_INPUTS),
    ("psql", WebExport::Raw, COUCHDB_INPUTS),
    ("minio", WebExport::Raw, COUCHDB_INPUTS),
    ("devel_upload", WebExport::Raw, COUCHDB_INPUTS),
    ("ferretdb", WebExport::Raw, COUCHDB_INPUTS),
    ("devel_download", WebExport::Raw, COUCHDB_INPUTS),
];

/// The actions in deployment order (the original manifest's order).
pub fn system_actions() -> impl Iterator<Item = SystemAction> {
    CATALOGUE.iter().map(|&(name, web, inputs)| SystemAction {
        name,
        web,
        inputs,
        zip: zip_of(name),
    })
}

/// Every input some action needs, each once, in first-use order.
pub fn all_inputs() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for (_, _, inputs) in CATALOGUE {
        for name in inputs {
            if !names.contains(name) {
                names.push(name);
            }
        }
    }
    names
}

fn zip_of(name: &str) -> &'static [u8] {
    ACTION_ZIPS
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .map(|i| ACTION_ZIPS[i].1)
        // A catalogue entry without sources is a build mistake the unit tests catch.
        .unwrap_or_default()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[path = "../../build/action_zips.rs"]
mod action_zips;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::io::Read;
    use std::path::Path;

    fn nuv_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("actions/nuv")
    }

    fn entries(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a valid zip");
        (0..archive.len())
            .map(|i| {
                let mut file = archive.by_index(i).unwrap();
                let mut data = Vec::new();
                file.read_to_end(&mut data).unwrap();
                (file.name().expect("a UTF-8 entry name").to_string(), data)
            })
            .collect()
    }

    #[test]
    fn the_catalogue_and_the_sources_name_the_same_nine_actions() {
        let catalogue: BTreeSet<&str> = CATALOGUE.iter().map(|(n, _, _)| *n).collect();
        let built: BTreeSet<&str> = ACTION_ZIPS.iter().map(|(n, _)| *n).collect();
        assert_eq!(catalogue, built);
        assert_eq!(catalogue.len(), 9);
        let raw: Vec<&str> = system_actions()
            .filter(|a| a.web == WebExport::Raw)
            .map(|a| a.name)
            .collect();
        assert_eq!(
            raw,
            [
                "redis",
                "psql",
                "minio",
                "devel_upload",
                "ferretdb",
                "devel_download"
            ]
        );
    }

    #[test]
    fn every_zip_has_main_and_the_shared_package_and_nothing_else() {
        for action in system_actions() {
            let names: Vec<String> = entries(action.zip).into_iter().map(|(n, _)| n).collect();
            assert!(
                names.iter().any(|n| n == "__main__.py"),
                "{}: {names:?}",
                action.name
            );
            for required in ["nuvlib/__init__.py", "nuvlib/web.py", "nuvlib/users.py"] {
                assert!(
                    names.iter().any(|n| n == required),
                    "{}: {names:?}",
                    action.name
                );
            }
            assert!(
                names
                    .iter()
                    .all(|n| n.ends_with(".py") && !n.contains("__pycache__")),
                "{}: {names:?}",
                action.name
            );
            let mut sorted = names.clone();
            sorted.sort();
            assert_eq!(names, sorted, "{}: entries in name order", action.name);
        }
    }

    #[test]
    fn zips_are_reproducible_and_equal_to_the_embedded_ones() {
        let nuv = nuv_dir();
        for (name, dir) in action_zips::action_dirs(&nuv).unwrap() {
            let first = action_zips::action_zip(&dir, &nuv).unwrap();
            let second = action_zips::action_zip(&dir, &nuv).unwrap();
            assert_eq!(
                hex(&Sha256::digest(&first)),
                hex(&Sha256::digest(&second)),
                "{name}: two builds differ"
            );
            assert_eq!(
                hex(&Sha256::digest(&first)),
                hex(&Sha256::digest(zip_of(&name))),
                "{name}: the embedded zip is not what the sources give (rebuild)"
            );
        }
    }

    #[test]
    fn zip_entries_carry_no_build_time_or_machine_state() {
        let mut archive =
            zip::ZipArchive::new(std::io::Cursor::new(zip_of("login"))).expect("a valid zip");
        for i in 0..archive.len() {
            let file = archive.by_index(i).unwrap();
            assert_eq!(file.last_modified(), Some(zip::DateTime::default()));
            assert_eq!(file.unix_mode(), Some(0o100644));
            assert_eq!(file.compression(), zip::CompressionMethod::Stored);
        }
    }

    #[test]
    fn the_zip_main_is_the_action_source() {
        for action in system_actions() {
            let source = std::fs::read(nuv_dir().join(action.name).join("__main__.py")).unwrap();
            let main = entries(action.zip)
                .into_iter()
                .find(|(n, _)| n == "__main__.py")
                .unwrap()
                .1;
            assert_eq!(main, source, "{}", action.name);
        }
    }

    #[test]
    fn inputs_are_listed_once() {
        let inputs = all_inputs();
        assert_eq!(inputs.len(), COUCHDB_INPUTS.len() + MINIO_INPUTS.len());
        assert_eq!(inputs[0], "couchdb_host");
    }
}
