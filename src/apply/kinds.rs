//! What the operator knows about the kinds it renders: scope, REST plural and apply order.
//!
//! Knowing the common kinds up front saves a discovery round trip per kind; kinds missing from
//! the table are resolved through API discovery (see `apply::Applier`).

/// One known kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownKind {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    /// Whether `prune` deletes leftovers of this kind. False for kinds whose deletion loses
    /// data or reaches beyond the installation (PVCs, PersistentVolumes, Namespaces, CRDs).
    pub prunable: bool,
}

const fn k(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    prunable: bool,
) -> KnownKind {
    KnownKind {
        group,
        version,
        kind,
        plural,
        namespaced,
        prunable,
    }
}

/// The kinds the components render (core and the third-party ones the original operator used).
pub const KNOWN_KINDS: &[KnownKind] = &[
    k("", "v1", "Namespace", "namespaces", false, false),
    k("", "v1", "ServiceAccount", "serviceaccounts", true, true),
    k("", "v1", "Secret", "secrets", true, true),
    k("", "v1", "ConfigMap", "configmaps", true, true),
    k("", "v1", "Service", "services", true, true),
    k("", "v1", "Pod", "pods", true, true),
    k(
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
        false,
    ),
    k(
        "",
        "v1",
        "PersistentVolume",
        "persistentvolumes",
        false,
        false,
    ),
    k("apps", "v1", "StatefulSet", "statefulsets", true, true),
    k("apps", "v1", "Deployment", "deployments", true, true),
    k("apps", "v1", "DaemonSet", "daemonsets", true, true),
    k("batch", "v1", "Job", "jobs", true, true),
    k("batch", "v1", "CronJob", "cronjobs", true, true),
    k(
        "networking.k8s.io",
        "v1",
        "Ingress",
        "ingresses",
        true,
        true,
    ),
    k(
        "networking.k8s.io",
        "v1",
        "IngressClass",
        "ingressclasses",
        false,
        true,
    ),
    k(
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        true,
        true,
    ),
    k(
        "rbac.authorization.k8s.io",
        "v1",
        "Role",
        "roles",
        true,
        true,
    ),
    k(
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        true,
        true,
    ),
    k(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        false,
        true,
    ),
    k(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
        true,
    ),
    k(
        "storage.k8s.io",
        "v1",
        "StorageClass",
        "storageclasses",
        false,
        true,
    ),
    k(
        "scheduling.k8s.io",
        "v1",
        "PriorityClass",
        "priorityclasses",
        false,
        true,
    ),
    k(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
        true,
    ),
    k(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
        false,
    ),
    k(
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
        true,
    ),
    k(
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
        true,
    ),
    k(
        "cert-manager.io",
        "v1",
        "ClusterIssuer",
        "clusterissuers",
        false,
        true,
    ),
    k("cert-manager.io", "v1", "Issuer", "issuers", true, true),
    k(
        "cert-manager.io",
        "v1",
        "Certificate",
        "certificates",
        true,
        true,
    ),
    k("route.openshift.io", "v1", "Route", "routes", true, true),
    k(
        "traefik.io",
        "v1alpha1",
        "Middleware",
        "middlewares",
        true,
        true,
    ),
    k(
        "traefik.containo.us",
        "v1alpha1",
        "Middleware",
        "middlewares",
        true,
        true,
    ),
    k(
        "kubegres.reactive-tech.io",
        "v1",
        "Kubegres",
        "kubegres",
        true,
        true,
    ),
    k(
        "mongodbcommunity.mongodb.com",
        "v1",
        "MongoDBCommunity",
        "mongodbcommunity",
        true,
        true,
    ),
];

/// Splits `group/version` (or a bare core `version`) into (group, version).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    }
}

/// Looks up a kind by group and kind name (any version: the scope does not depend on it).
pub fn known(group: &str, kind: &str) -> Option<&'static KnownKind> {
    KNOWN_KINDS
        .iter()
        .find(|known| known.group == group && known.kind == kind)
}

/// Kinds that are cluster-scoped whatever their group, by name. Used when the kind is not in
/// [`KNOWN_KINDS`] and no discovery is at hand (the pure `prepare` step).
const CLUSTER_SCOPED_NAMES: &[&str] = &[
    "Namespace",
    "Node",
    "ClusterRole",
    "ClusterRoleBinding",
    "StorageClass",
    "ClusterIssuer",
    "CustomResourceDefinition",
    "PersistentVolume",
    "IngressClass",
    "PriorityClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
    "CSIDriver",
    "VolumeSnapshotClass",
    "RuntimeClass",
];

/// Whether objects of this kind live outside namespaces.
pub fn is_cluster_scoped(api_version: &str, kind: &str) -> bool {
    let (group, _) = split_api_version(api_version);
    match known(group, kind) {
        Some(known) => !known.namespaced,
        None => CLUSTER_SCOPED_NAMES.contains(&kind),
    }
}

/// Apply order: what others depend on first, workloads after their configuration (a changed
/// ConfigMap or Secret must exist before Pods restart), then one-shot Jobs, then exposure
/// (Ingress) and anything unknown.
pub fn apply_rank(kind: &str) -> u8 {
    match kind {
        "Namespace" => 0,
        "CustomResourceDefinition" => 1,
        "PriorityClass" | "StorageClass" | "IngressClass" => 2,
        "ServiceAccount" => 3,
        "ClusterRole" | "Role" => 4,
        "ClusterRoleBinding" | "RoleBinding" => 5,
        "Secret" => 6,
        "ConfigMap" => 7,
        "PersistentVolume" => 8,
        "PersistentVolumeClaim" => 9,
        "Service" => 10,
        "StatefulSet" => 11,
        "Deployment" => 12,
        "DaemonSet" => 13,
        "Job" => 14,
        "CronJob" => 15,
        "Ingress" => 16,
        _ => 17,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_of_known_and_unknown_kinds() {
        assert!(is_cluster_scoped("v1", "Namespace"));
        assert!(is_cluster_scoped(
            "rbac.authorization.k8s.io/v1",
            "ClusterRole"
        ));
        assert!(is_cluster_scoped("cert-manager.io/v1", "ClusterIssuer"));
        assert!(is_cluster_scoped("example.com/v1", "PriorityClass"));
        assert!(!is_cluster_scoped("apps/v1", "StatefulSet"));
        assert!(!is_cluster_scoped("example.com/v1", "Widget"));
    }

    #[test]
    fn core_api_version_has_empty_group() {
        assert_eq!(split_api_version("v1"), ("", "v1"));
        assert_eq!(split_api_version("apps/v1"), ("apps", "v1"));
    }

    #[test]
    fn data_kinds_are_never_pruned() {
        for kind in [
            "PersistentVolumeClaim",
            "PersistentVolume",
            "Namespace",
            "CustomResourceDefinition",
        ] {
            let group = if kind == "CustomResourceDefinition" {
                "apiextensions.k8s.io"
            } else {
                ""
            };
            assert!(
                !known(group, kind).map(|k| k.prunable).unwrap_or(true),
                "{kind}"
            );
        }
    }
}
