//! Which Kubernetes distribution we run on, detected from node labels as the original did.

use std::fmt;

use super::NodeFacts;

/// The Kubernetes flavours the original distinguishes; some change images, ingress classes,
/// pod security and the apihost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    Kind,
    K3s,
    Microk8s,
    Eks,
    Gke,
    Aks,
    Lks,
    Openshift,
    Generic,
}

impl Flavour {
    pub fn parse(name: &str) -> Option<Flavour> {
        Some(match name {
            "kind" => Flavour::Kind,
            "k3s" => Flavour::K3s,
            "microk8s" => Flavour::Microk8s,
            "eks" => Flavour::Eks,
            "gke" => Flavour::Gke,
            "aks" => Flavour::Aks,
            "lks" => Flavour::Lks,
            "openshift" => Flavour::Openshift,
            "generic" => Flavour::Generic,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Flavour::Kind => "kind",
            Flavour::K3s => "k3s",
            Flavour::Microk8s => "microk8s",
            Flavour::Eks => "eks",
            Flavour::Gke => "gke",
            Flavour::Aks => "aks",
            Flavour::Lks => "lks",
            Flavour::Openshift => "openshift",
            Flavour::Generic => "generic",
        }
    }

    /// Clouds and generic clusters enforce non-root pods (the original's `applypodsecurity`;
    /// its k3s-with-rook case is covered by [`Flavour::needs_pod_security_with`]).
    pub fn needs_pod_security_with(self, storage_class: Option<&str>) -> bool {
        match self {
            Flavour::Eks | Flavour::Gke | Flavour::Aks | Flavour::Generic => true,
            Flavour::K3s => storage_class.is_some_and(|sc| sc.contains("rook")),
            _ => false,
        }
    }
}

impl fmt::Display for Flavour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Detects the flavour from node labels, with the original's rules: for each node the first
/// matching label wins, a later node overrides an earlier one; a `nuvolaris.io/kube` label is
/// the fallback (that is how kind is recognised); otherwise `generic`.
pub fn detect(nodes: &[NodeFacts]) -> Flavour {
    let mut detected = None;
    let mut labelled = None;
    for node in nodes {
        if let Some(kube) = node
            .labels
            .get("nuvolaris.io/kube")
            .and_then(|v| Flavour::parse(v))
        {
            labelled = Some(kube);
        }
        if let Some(flavour) = node.labels.iter().find_map(|(k, v)| by_label(k, v)) {
            detected = Some(flavour);
        }
    }
    detected.or(labelled).unwrap_or(Flavour::Generic)
}

fn by_label(key: &str, value: &str) -> Option<Flavour> {
    if key.contains("eksctl.io") || key.contains("k8s.io/cloud-provider-aws") {
        Some(Flavour::Eks)
    } else if key.contains("microk8s.io") {
        Some(Flavour::Microk8s)
    } else if key.contains("lke.linode.com") {
        Some(Flavour::Lks)
    } else if key.contains("node.openshift.io") {
        Some(Flavour::Openshift)
    } else if key.ends_with("kubernetes.io/instance-type") && value == "k3s" {
        Some(Flavour::K3s)
    } else if key.contains("cloud.google.com/gke") {
        Some(Flavour::Gke)
    } else if key.contains("kubernetes.azure.com") {
        Some(Flavour::Aks)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(labels: &[(&str, &str)]) -> NodeFacts {
        NodeFacts {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..NodeFacts::default()
        }
    }

    #[test]
    fn detects_each_cloud_from_its_labels() {
        let cases = [
            (("alpha.eksctl.io/cluster-name", "x"), Flavour::Eks),
            (("k8s.io/cloud-provider-aws", "x"), Flavour::Eks),
            (("microk8s.io/cluster", "true"), Flavour::Microk8s),
            (("lke.linode.com/pool-id", "1"), Flavour::Lks),
            (("node.openshift.io/os_id", "rhcos"), Flavour::Openshift),
            (("node.kubernetes.io/instance-type", "k3s"), Flavour::K3s),
            (("cloud.google.com/gke-nodepool", "p"), Flavour::Gke),
            (("kubernetes.azure.com/role", "agent"), Flavour::Aks),
        ];
        for ((k, v), want) in cases {
            assert_eq!(detect(&[node(&[(k, v)])]), want, "{k}={v}");
        }
    }

    #[test]
    fn kind_comes_from_the_nuvolaris_label_and_unknown_is_generic() {
        assert_eq!(
            detect(&[node(&[("nuvolaris.io/kube", "kind")])]),
            Flavour::Kind
        );
        assert_eq!(
            detect(&[node(&[("kubernetes.io/os", "linux")])]),
            Flavour::Generic
        );
        assert_eq!(detect(&[]), Flavour::Generic);
        // an instance type other than k3s is not k3s
        assert_eq!(
            detect(&[node(&[("node.kubernetes.io/instance-type", "m5.large")])]),
            Flavour::Generic
        );
    }
}
