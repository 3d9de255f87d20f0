//! The manifests and templates the operator ships, embedded at build time (see `build.rs`).

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The contents of an embedded file, by its path relative to the repository
/// (for example `deploy/couchdb/couchdb-svc.yaml`).
pub fn file(path: &str) -> Option<&'static str> {
    FILES
        .binary_search_by(|(p, _)| (*p).cmp(path))
        .ok()
        .map(|i| FILES[i].1)
}

/// The embedded files directly or indirectly under `dir` (no trailing slash), sorted by path.
pub fn files_under(dir: &str) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
    FILES
        .iter()
        .filter(move |(p, _)| {
            p.strip_prefix(dir)
                .is_some_and(|rest| rest.starts_with('/'))
        })
        .copied()
}
