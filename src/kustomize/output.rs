//! Output order (kustomize's legacy sort) and multi-document YAML.

use std::cmp::Ordering;

use super::Object;
use super::select::Res;

const ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];
const ORDER_LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

fn type_order(kind: &str) -> i64 {
    if let Some(i) = ORDER_FIRST.iter().position(|k| *k == kind) {
        return i as i64 - ORDER_FIRST.len() as i64;
    }
    if let Some(i) = ORDER_LAST.iter().position(|k| *k == kind) {
        return 1 + i as i64;
    }
    0
}

fn or_default<'a>(s: &'a str, d: &'a str) -> &'a str {
    if s.is_empty() { d } else { s }
}

fn gvk_sort_string(r: &Res) -> String {
    format!(
        "{}_{}_{}",
        or_default(r.group(), "~G"),
        or_default(r.version(), "~V"),
        or_default(r.kind(), "~K")
    )
}

fn gvk_string(r: &Res) -> String {
    format!(
        "{}.{}.{}",
        or_default(r.kind(), "[noKind]"),
        or_default(r.version(), "[noVer]"),
        or_default(r.group(), "[noGrp]")
    )
}

fn id_sort_string(r: &Res) -> String {
    format!(
        "{}|{}|{}",
        gvk_string(r),
        or_default(r.namespace(), "~X"),
        or_default(r.name(), "~N")
    )
}

/// kustomize's legacy order (`SortOrderTransformer`, the default of `kustomize build`).
pub(crate) fn legacy_sort(resources: &mut [Res]) {
    resources.sort_by(|a, b| {
        let same_gvk = a.group() == b.group() && a.version() == b.version() && a.kind() == b.kind();
        if !same_gvk {
            let (ia, ib) = (type_order(a.kind()), type_order(b.kind()));
            if ia != ib {
                return ia.cmp(&ib);
            }
            let (sa, sb) = (gvk_sort_string(a), gvk_sort_string(b));
            if a.kind() == "Namespace"
                && b.kind() == "Namespace"
                && (a.group().is_empty() || b.group().is_empty())
            {
                return sb.cmp(&sa);
            }
            return sa.cmp(&sb);
        }
        match id_sort_string(a).cmp(&id_sort_string(b)) {
            Ordering::Equal => Ordering::Equal,
            o => o,
        }
    });
}

/// Multi-document YAML, documents separated by `---` like `kubectl kustomize`.
pub fn to_yaml(objects: &[Object]) -> String {
    let mut out = String::new();
    for (i, o) in objects.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        super::yaml::write_document(&mut out, o);
    }
    out
}
