//! What the operator knows about the kinds it renders: scope, REST plural and apply order.
//!
//! Knowing the common kinds up front saves a discovery round trip per kind; kinds missing from
//! the table are resolved through API discovery (see `apply::Applier`).

/// One known kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

/// The kinds the components render (core and the third-party ones the original operator used):
/// the one registry of kinds. Components name the ones they create (`Component::kinds`), the
/// controller watches those, prune lists every prunable one, `deploy/operator/rbac.yaml` grants
/// them (checked by a test).
pub const NAMESPACE: KnownKind = k("", "v1", "Namespace", "namespaces", false, false);
pub const SERVICE_ACCOUNT: KnownKind = k("", "v1", "ServiceAccount", "serviceaccounts", true, true);
pub const SECRET: KnownKind = k("", "v1", "Secret", "secrets", true, true);
pub const CONFIG_MAP: KnownKind = k("", "v1", "ConfigMap", "configmaps", true, true);
pub const SERVICE: KnownKind = k("", "v1", "Service", "services", true, true);
pub const POD: KnownKind = k("", "v1", "Pod", "pods", true, true);
pub const PERSISTENT_VOLUME_CLAIM: KnownKind = k(
    "",
    "v1",
    "PersistentVolumeClaim",
    "persistentvolumeclaims",
    true,
    false,
);
pub const PERSISTENT_VOLUME: KnownKind = k(
    "",
    "v1",
    "PersistentVolume",
    "persistentvolumes",
    false,
    false,
);
pub const STATEFUL_SET: KnownKind = k("apps", "v1", "StatefulSet", "statefulsets", true, true);
pub const DEPLOYMENT: KnownKind = k("apps", "v1", "Deployment", "deployments", true, true);
pub const DAEMON_SET: KnownKind = k("apps", "v1", "DaemonSet", "daemonsets", true, true);
pub const JOB: KnownKind = k("batch", "v1", "Job", "jobs", true, true);
pub const CRON_JOB: KnownKind = k("batch", "v1", "CronJob", "cronjobs", true, true);
pub const INGRESS: KnownKind = k(
    "networking.k8s.io",
    "v1",
    "Ingress",
    "ingresses",
    true,
    true,
);
pub const INGRESS_CLASS: KnownKind = k(
    "networking.k8s.io",
    "v1",
    "IngressClass",
    "ingressclasses",
    false,
    true,
);
pub const NETWORK_POLICY: KnownKind = k(
    "networking.k8s.io",
    "v1",
    "NetworkPolicy",
    "networkpolicies",
    true,
    true,
);
pub const ROLE: KnownKind = k(
    "rbac.authorization.k8s.io",
    "v1",
    "Role",
    "roles",
    true,
    true,
);
pub const ROLE_BINDING: KnownKind = k(
    "rbac.authorization.k8s.io",
    "v1",
    "RoleBinding",
    "rolebindings",
    true,
    true,
);
pub const CLUSTER_ROLE: KnownKind = k(
    "rbac.authorization.k8s.io",
    "v1",
    "ClusterRole",
    "clusterroles",
    false,
    true,
);
pub const CLUSTER_ROLE_BINDING: KnownKind = k(
    "rbac.authorization.k8s.io",
    "v1",
    "ClusterRoleBinding",
    "clusterrolebindings",
    false,
    true,
);
pub const STORAGE_CLASS: KnownKind = k(
    "storage.k8s.io",
    "v1",
    "StorageClass",
    "storageclasses",
    false,
    true,
);
pub const PRIORITY_CLASS: KnownKind = k(
    "scheduling.k8s.io",
    "v1",
    "PriorityClass",
    "priorityclasses",
    false,
    true,
);
pub const POD_DISRUPTION_BUDGET: KnownKind = k(
    "policy",
    "v1",
    "PodDisruptionBudget",
    "poddisruptionbudgets",
    true,
    true,
);
pub const CUSTOM_RESOURCE_DEFINITION: KnownKind = k(
    "apiextensions.k8s.io",
    "v1",
    "CustomResourceDefinition",
    "customresourcedefinitions",
    false,
    false,
);
pub const VALIDATING_WEBHOOK_CONFIGURATION: KnownKind = k(
    "admissionregistration.k8s.io",
    "v1",
    "ValidatingWebhookConfiguration",
    "validatingwebhookconfigurations",
    false,
    true,
);
pub const MUTATING_WEBHOOK_CONFIGURATION: KnownKind = k(
    "admissionregistration.k8s.io",
    "v1",
    "MutatingWebhookConfiguration",
    "mutatingwebhookconfigurations",
    false,
    true,
);
pub const CLUSTER_ISSUER: KnownKind = k(
    "cert-manager.io",
    "v1",
    "ClusterIssuer",
    "clusterissuers",
    false,
    true,
);
pub const ISSUER: KnownKind = k("cert-manager.io", "v1", "Issuer", "issuers", true, true);
pub const CERTIFICATE: KnownKind = k(
    "cert-manager.io",
    "v1",
    "Certificate",
    "certificates",
    true,
    true,
);
pub const ROUTE: KnownKind = k("route.openshift.io", "v1", "Route", "routes", true, true);
pub const TRAEFIK_MIDDLEWARE: KnownKind = k(
    "traefik.io",
    "v1alpha1",
    "Middleware",
    "middlewares",
    true,
    true,
);
pub const TRAEFIK_MIDDLEWARE_LEGACY: KnownKind = k(
    "traefik.containo.us",
    "v1alpha1",
    "Middleware",
    "middlewares",
    true,
    true,
);
pub const KUBEGRES: KnownKind = k(
    "kubegres.reactive-tech.io",
    "v1",
    "Kubegres",
    "kubegres",
    true,
    true,
);
pub const MONGODB_COMMUNITY: KnownKind = k(
    "mongodbcommunity.mongodb.com",
    "v1",
    "MongoDBCommunity",
    "mongodbcommunity",
    true,
    true,
);

/// Every known kind.
pub const KNOWN_KINDS: &[KnownKind] = &[
    NAMESPACE,
    SERVICE_ACCOUNT,
    SECRET,
    CONFIG_MAP,
    SERVICE,
    POD,
    PERSISTENT_VOLUME_CLAIM,
    PERSISTENT_VOLUME,
    STATEFUL_SET,
    DEPLOYMENT,
    DAEMON_SET,
    JOB,
    CRON_JOB,
    INGRESS,
    INGRESS_CLASS,
    NETWORK_POLICY,
    ROLE,
    ROLE_BINDING,
    CLUSTER_ROLE,
    CLUSTER_ROLE_BINDING,
    STORAGE_CLASS,
    PRIORITY_CLASS,
    POD_DISRUPTION_BUDGET,
    CUSTOM_RESOURCE_DEFINITION,
    VALIDATING_WEBHOOK_CONFIGURATION,
    MUTATING_WEBHOOK_CONFIGURATION,
    CLUSTER_ISSUER,
    ISSUER,
    CERTIFICATE,
    ROUTE,
    TRAEFIK_MIDDLEWARE,
    TRAEFIK_MIDDLEWARE_LEGACY,
    KUBEGRES,
    MONGODB_COMMUNITY,
];

/// How the apply layer judges whether an object of a custom kind is ready: from the object's
/// own status, as its controller documents it. Data only, one entry per kind; the built-in
/// workloads (StatefulSet, Deployment, DaemonSet, Job) are judged in `apply::readiness`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusReadiness {
    pub kind: KnownKind,
    /// Ready when every check holds.
    pub ready: &'static [StatusCheck],
    /// Failed (waiting will not help) when any check holds.
    pub failed: &'static [StatusCheck],
}

/// One check on an object, with JSON pointers into it (`/status/...`, `/spec/...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusCheck {
    /// The two fields are present and equal.
    Equal(&'static str, &'static str),
    /// The field is absent, null or the empty string.
    Empty(&'static str),
    /// The field is `true`.
    True(&'static str),
    /// `/status/conditions` has a condition of this type with status "True".
    Condition(&'static str),
}

/// The custom kinds judged by their status.
pub const STATUS_READINESS: &[StatusReadiness] = &[StatusReadiness {
    // Kubegres writes no conditions: it counts the StatefulSets it has deployed
    // (`enforcedReplicas`) and keeps a blocking operation (deploy a database, wait until its
    // pod is ready) in `blockingOperation` until it completes; a timed-out one stops it.
    kind: KUBEGRES,
    ready: &[
        StatusCheck::Equal("/status/enforcedReplicas", "/spec/replicas"),
        StatusCheck::Empty("/status/blockingOperation/operationId"),
    ],
    failed: &[StatusCheck::True("/status/blockingOperation/hasTimedOut")],
}];

/// The readiness rule of a custom kind, if it has one.
pub fn status_readiness(group: &str, kind: &str) -> Option<&'static StatusReadiness> {
    STATUS_READINESS
        .iter()
        .find(|rule| rule.kind.group == group && rule.kind.kind == kind)
}

impl KnownKind {
    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

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
