//! The OpenWhisk design documents, embedded from `deploy/couchdb-init/design/`.

/// A design document to install into one database (by its name without prefix).
pub(crate) struct DesignDoc {
    pub file: &'static str,
    pub json: &'static str,
}

macro_rules! design {
    ($path:literal) => {
        DesignDoc {
            file: $path,
            json: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/deploy/couchdb-init/design/",
                $path
            )),
        }
    };
}

const SNAPSHOT_FILTERS: DesignDoc = design!("snapshotFilters.json");

/// The databases (name without prefix) and their design documents, in the
/// order the original init installed them.
pub(crate) const DATABASES: [(&str, &[DesignDoc]); 3] = [
    (
        "subjects",
        &[
            design!("subjects/subjects.v2.0.0.json"),
            SNAPSHOT_FILTERS,
            design!("subjects/namespaceThrottlings.json"),
        ],
    ),
    (
        "activations",
        &[
            design!("activations/whisks.v2.1.0.json"),
            design!("activations/whisks-filters.v2.1.1.json"),
            SNAPSHOT_FILTERS,
            design!("activations/activations.json"),
            design!("activations/logCleanup.json"),
        ],
    ),
    (
        "whisks",
        &[design!("whisks/whisks.v2.1.0.json"), SNAPSHOT_FILTERS],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn every_design_document_parses_and_has_a_design_id() {
        let mut count = 0;
        for (_, docs) in DATABASES {
            for d in docs {
                let v: Value = serde_json::from_str(d.json).unwrap();
                let id = v["_id"].as_str().unwrap();
                assert!(id.starts_with("_design/"), "{}: {id}", d.file);
                let functions = v.get("views").or(v.get("filters")).unwrap();
                assert!(!functions.as_object().unwrap().is_empty(), "{}", d.file);
                count += 1;
            }
        }
        assert_eq!(count, 10);
    }

    #[test]
    fn subjects_identities_view_emits_by_name_and_by_uuid_key() {
        // The controller authenticates by [uuid, key] and looks up by [name].
        let v: Value = serde_json::from_str(DATABASES[0].1[0].json).unwrap();
        let map = v["views"]["identities"]["map"].as_str().unwrap();
        assert!(map.contains("emit([namespace.name], v)"));
        assert!(map.contains("emit([namespace.uuid, namespace.key], v)"));
        assert!(map.contains("!doc.blocked"));
    }
}
