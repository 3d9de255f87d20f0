//! The engine's data from kustomize (the Kubernetes v1.21.2 OpenAPI built into kyaml, and the
//! builtin name-reference configuration): the tab-separated files in `tables/`, written by
//! `tools/kustomize-tables` (its README says what each holds and how it is derived; never edit
//! them by hand), embedded here and parsed once, at first use.
//!
//! The files are compiled in, so they are no run-time input: the tests below parse every one,
//! which makes the `expect` on first use unreachable in a tested build.

use std::sync::LazyLock;

/// One field of an OpenAPI definition that matters for a strategic merge.
pub(super) struct FieldRow {
    pub def: &'static str,
    pub field: &'static str,
    /// The definition of the field's value (or list elements) when a merge strategy lies
    /// below it.
    pub child: Option<&'static str>,
    /// Whether the list merges as an associative list (patch strategy `merge`).
    pub merge: bool,
    /// The list's keys (`x-kubernetes-list-map-keys`, else `x-kubernetes-patch-merge-key`).
    pub keys: Vec<&'static str>,
}

pub(super) static FIELDS: LazyLock<Vec<FieldRow>> = LazyLock::new(|| {
    table::<6>("fields.tsv", include_str!("tables/fields.tsv"))
        .and_then(|rows| rows.into_iter().map(field_row).collect())
        .expect("the embedded kustomize table parses (tested)")
});

/// (apiVersion, kind, definition)
pub(super) static RESOURCES: LazyLock<Vec<(&str, &str, &str)>> = LazyLock::new(|| {
    table::<3>("resources.tsv", include_str!("tables/resources.tsv"))
        .map(|rows| rows.into_iter().map(|(_, [a, k, d])| (a, k, d)).collect())
        .expect("the embedded kustomize table parses (tested)")
});

/// (apiVersion, kind) of the cluster-scoped kinds.
pub(super) static CLUSTER_SCOPED: LazyLock<Vec<(&str, &str)>> = LazyLock::new(|| {
    table::<2>(
        "cluster_scoped.tsv",
        include_str!("tables/cluster_scoped.tsv"),
    )
    .map(|rows| rows.into_iter().map(|(_, [a, k])| (a, k)).collect())
    .expect("the embedded kustomize table parses (tested)")
});

/// Name references (kustomize builtinpluginconsts/namereference.go), as rows:
/// (referral kind, referral group, referrer kind, referrer group, field path).
pub(super) static NAME_REFERENCES: LazyLock<Vec<NameReference>> = LazyLock::new(|| {
    table::<5>(
        "name_references.tsv",
        include_str!("tables/name_references.tsv"),
    )
    .map(|rows| {
        rows.into_iter()
            .map(|(_, [rk, rg, k, g, p])| (rk, rg, k, g, p))
            .collect()
    })
    .expect("the embedded kustomize table parses (tested)")
});

pub(super) type NameReference = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// A malformed line of an embedded table.
#[derive(Debug, thiserror::Error)]
#[error("src/kustomize/tables/{file} line {line}: {reason}")]
pub(super) struct TableError {
    file: &'static str,
    line: usize,
    reason: String,
}

/// The rows of a table with `N` tab-separated columns, with their line numbers; `#` lines are
/// comments, and `-` is an empty cell (so that no line ends in whitespace).
fn table<const N: usize>(
    file: &'static str,
    text: &'static str,
) -> Result<Vec<(usize, [&'static str; N])>, TableError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#'))
        .map(|(i, l)| {
            let cells: Vec<&str> = l
                .split('\t')
                .map(|c| if c == "-" { "" } else { c })
                .collect();
            let n = cells.len();
            <[&str; N]>::try_from(cells)
                .map(|row| (i + 1, row))
                .map_err(|_| TableError {
                    file,
                    line: i + 1,
                    reason: format!("{n} columns, expected {N}"),
                })
        })
        .collect()
}

fn field_row(
    (line, [def, field, child, array, merge, keys]): (usize, [&'static str; 6]),
) -> Result<FieldRow, TableError> {
    let flag = |v: &str, column: &str| match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(TableError {
            file: "fields.tsv",
            line,
            reason: format!("{column} is {v:?}, expected true or false"),
        }),
    };
    // whether the field is a list: recorded for readers, the walk sees it in the data
    flag(array, "is array")?;
    Ok(FieldRow {
        def,
        field,
        child: (!child.is_empty()).then_some(child),
        merge: flag(merge, "merges")?,
        keys: if keys.is_empty() {
            Vec::new()
        } else {
            keys.split(',').collect()
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(def: &str, name: &str) -> &'static FieldRow {
        FIELDS
            .iter()
            .find(|r| r.def == def && r.field == name)
            .unwrap_or_else(|| panic!("no row for {def}.{name}"))
    }

    #[test]
    fn every_table_parses_with_its_known_rows() {
        let containers = field("io.k8s.api.core.v1.PodSpec", "containers");
        assert_eq!(containers.child, Some("io.k8s.api.core.v1.Container"));
        assert!(containers.merge);
        assert_eq!(containers.keys, ["name"]);
        let ports = field("io.k8s.api.core.v1.Container", "ports");
        assert_eq!((ports.child, ports.merge), (None, true));
        assert_eq!(ports.keys, ["containerPort", "protocol"]);
        let finalizers = field(
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "finalizers",
        );
        assert!(finalizers.merge && finalizers.keys.is_empty());
        let items = field("io.k8s.api.apps.v1.DeploymentList", "items");
        assert_eq!(items.child, Some("io.k8s.api.apps.v1.Deployment"));
        assert!(!items.merge);

        assert!(RESOURCES.contains(&("apps/v1", "Deployment", "io.k8s.api.apps.v1.Deployment")));
        assert!(RESOURCES.contains(&("v1", "ConfigMap", "io.k8s.api.core.v1.ConfigMap")));

        assert!(CLUSTER_SCOPED.contains(&("v1", "Namespace")));
        assert!(CLUSTER_SCOPED.contains(&("rbac.authorization.k8s.io/v1", "ClusterRole")));
        assert!(!CLUSTER_SCOPED.contains(&("v1", "ConfigMap")));

        assert_eq!(
            NAME_REFERENCES.first(),
            Some(&(
                "Deployment",
                "",
                "HorizontalPodAutoscaler",
                "",
                "spec/scaleTargetRef/name"
            ))
        );
        assert!(NAME_REFERENCES.contains(&(
            "ConfigMap",
            "",
            "Deployment",
            "",
            "spec/template/spec/volumes/configMap/name"
        )));
        // kustomize's own spelling of the group, kept as it is
        assert!(NAME_REFERENCES.contains(&(
            "IngressClass",
            "networking.k8s.io/v1",
            "Ingress",
            "",
            "spec/ingressClassName"
        )));
    }

    #[test]
    fn dashes_are_empty_cells_and_a_malformed_line_is_an_error() {
        let rows = table::<3>("x.tsv", "# comment\na\t-\tc\n").expect("well formed");
        assert_eq!(rows, [(2, ["a", "", "c"])]);
        let err = table::<3>("x.tsv", "# comment\na\tb\tc\na\tb\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "src/kustomize/tables/x.tsv line 3: 2 columns, expected 3"
        );
        let err = field_row((7, ["D", "f", "", "yes", "false", ""]))
            .err()
            .expect("a bad flag is an error");
        assert_eq!(
            err.to_string(),
            "src/kustomize/tables/fields.tsv line 7: is array is \"yes\", expected true or false"
        );
    }
}
