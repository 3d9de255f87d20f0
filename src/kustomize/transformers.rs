//! The builtin transformers: namespace, prefix/suffix, labels, annotations, replicas, images.
//! Field specs follow kustomize v5.5's `api/internal/konfig/builtinpluginconsts`; they are
//! walked by the shared `fieldspec` module.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

use super::fieldspec::{CreateKind, FieldSpec, fs, fs_v1, node_kind, set_entries, set_scalar};
use super::model::{ImageSpec, ReplicaSpec};
use super::select::Res;

/// metadataLabelsFieldSpecs (kustomize's templateLabels).
const METADATA_LABELS: &[FieldSpec] = &[
    fs("", "", "metadata/labels", true),
    fs_v1(
        "ReplicationController",
        "spec/template/metadata/labels",
        true,
    ),
    fs("", "Deployment", "spec/template/metadata/labels", true),
    fs("", "ReplicaSet", "spec/template/metadata/labels", true),
    fs("", "DaemonSet", "spec/template/metadata/labels", true),
    fs("apps", "StatefulSet", "spec/template/metadata/labels", true),
    fs(
        "apps",
        "StatefulSet",
        "spec/volumeClaimTemplates[]/metadata/labels",
        true,
    ),
    fs("batch", "Job", "spec/template/metadata/labels", true),
    fs("batch", "CronJob", "spec/jobTemplate/metadata/labels", true),
    fs(
        "batch",
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/labels",
        true,
    ),
];

/// commonLabelFieldSpecs before the metadata ones: selectors and affinity terms.
const SELECTOR_LABELS: &[FieldSpec] = &[
    fs_v1("Service", "spec/selector", true),
    fs_v1("ReplicationController", "spec/selector", true),
    fs("", "Deployment", "spec/selector/matchLabels", true),
    fs("apps", "Deployment", AFFINITY_PREFERRED, false),
    fs("apps", "Deployment", AFFINITY_REQUIRED, false),
    fs("apps", "Deployment", ANTI_AFFINITY_PREFERRED, false),
    fs("apps", "Deployment", ANTI_AFFINITY_REQUIRED, false),
    fs("apps", "Deployment", TOPOLOGY_SPREAD, false),
    fs("", "ReplicaSet", "spec/selector/matchLabels", true),
    fs("", "DaemonSet", "spec/selector/matchLabels", true),
    fs("apps", "StatefulSet", "spec/selector/matchLabels", true),
    fs("apps", "StatefulSet", AFFINITY_PREFERRED, false),
    fs("apps", "StatefulSet", AFFINITY_REQUIRED, false),
    fs("apps", "StatefulSet", ANTI_AFFINITY_PREFERRED, false),
    fs("apps", "StatefulSet", ANTI_AFFINITY_REQUIRED, false),
    fs("apps", "StatefulSet", TOPOLOGY_SPREAD, false),
    fs("batch", "Job", "spec/selector/matchLabels", false),
    fs(
        "batch",
        "CronJob",
        "spec/jobTemplate/spec/selector/matchLabels",
        false,
    ),
    fs(
        "policy",
        "PodDisruptionBudget",
        "spec/selector/matchLabels",
        false,
    ),
    fs(
        "networking.k8s.io",
        "NetworkPolicy",
        "spec/podSelector/matchLabels",
        false,
    ),
    fs(
        "networking.k8s.io",
        "NetworkPolicy",
        "spec/ingress/from/podSelector/matchLabels",
        false,
    ),
    fs(
        "networking.k8s.io",
        "NetworkPolicy",
        "spec/egress/to/podSelector/matchLabels",
        false,
    ),
];

const AFFINITY_PREFERRED: &str = "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels";
const AFFINITY_REQUIRED: &str = "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels";
const ANTI_AFFINITY_PREFERRED: &str = "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels";
const ANTI_AFFINITY_REQUIRED: &str = "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels";
const TOPOLOGY_SPREAD: &str =
    "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels";

/// commonAnnotationFieldSpecs.
const ANNOTATIONS: &[FieldSpec] = &[
    fs("", "", "metadata/annotations", true),
    fs_v1(
        "ReplicationController",
        "spec/template/metadata/annotations",
        true,
    ),
    fs("", "Deployment", "spec/template/metadata/annotations", true),
    fs("", "ReplicaSet", "spec/template/metadata/annotations", true),
    fs("", "DaemonSet", "spec/template/metadata/annotations", true),
    fs(
        "",
        "StatefulSet",
        "spec/template/metadata/annotations",
        true,
    ),
    fs("batch", "Job", "spec/template/metadata/annotations", true),
    fs(
        "batch",
        "CronJob",
        "spec/jobTemplate/metadata/annotations",
        true,
    ),
    fs(
        "batch",
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/annotations",
        true,
    ),
];

/// namespaceFieldSpecs besides `metadata/name` of a Namespace (done through the id).
const NAMESPACE_FIELDS: &[FieldSpec] = &[
    fs(
        "apiregistration.k8s.io",
        "APIService",
        "spec/service/namespace",
        true,
    ),
    fs(
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        "spec/conversion/webhook/clientConfig/service/namespace",
        false,
    ),
];

/// replicasFieldSpecs.
const REPLICAS: &[FieldSpec] = &[
    fs("", "Deployment", "spec/replicas", true),
    fs("", "ReplicationController", "spec/replicas", true),
    fs("", "ReplicaSet", "spec/replicas", true),
    fs("", "StatefulSet", "spec/replicas", true),
];

/// imagesFieldSpecs (v5.5 has none for image volumes). `create` is moot: the images
/// transformer has no kind of node to create, so these never create anything.
const IMAGES: &[FieldSpec] = &[
    fs("", "", "spec/containers[]/image", true),
    fs("", "", "spec/initContainers[]/image", true),
    fs("", "", "spec/template/spec/containers[]/image", true),
    fs("", "", "spec/template/spec/initContainers[]/image", true),
];

/// Runs `specs` over `r` with the labels/annotations setter (kustomize applies one key
/// at a time, which only matters for which error comes first).
fn add_entries(
    r: &mut Res,
    specs: &[FieldSpec],
    entries: &BTreeMap<String, String>,
) -> Result<(), String> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut set = set_entries(entries);
    for spec in specs {
        spec.apply(r, Some(CreateKind::Map), &mut set)?;
    }
    Ok(())
}

/// commonLabels, or a `labels` entry with includeSelectors.
pub(crate) fn common_labels(r: &mut Res, labels: &BTreeMap<String, String>) -> Result<(), String> {
    add_entries(r, SELECTOR_LABELS, labels)?;
    add_entries(r, METADATA_LABELS, labels)
}

/// A `labels` entry without includeSelectors: metadata only, or also the templates.
pub(crate) fn plain_labels(
    r: &mut Res,
    labels: &BTreeMap<String, String>,
    include_templates: bool,
) -> Result<(), String> {
    if include_templates {
        add_entries(r, METADATA_LABELS, labels)
    } else {
        add_entries(r, &METADATA_LABELS[..1], labels)
    }
}

pub(crate) fn common_annotations(
    r: &mut Res,
    annotations: &BTreeMap<String, String>,
) -> Result<(), String> {
    add_entries(r, ANNOTATIONS, annotations)
}

/// The namespace transformer.
pub(crate) fn namespace(r: &mut Res, ns: &str) -> Result<(), String> {
    r.store_previous_id();
    if r.kind() == "Namespace" && r.api_version() == "v1" {
        r.set_id(Some(ns), None);
        return Ok(());
    }
    if !r.cluster_scoped() {
        r.set_id(None, Some(ns));
    }
    if (r.kind() == "RoleBinding" || r.kind() == "ClusterRoleBinding")
        && let Some(Value::Array(subjects)) = r.obj.get_mut("subjects")
    {
        for s in subjects {
            if s.get("name").and_then(Value::as_str) == Some("default")
                && let Some(m) = s.as_object_mut()
            {
                m.insert("namespace".into(), Value::from(ns));
            }
        }
    }
    let mut set = set_scalar(Value::from(ns));
    for spec in NAMESPACE_FIELDS {
        spec.apply(r, Some(CreateKind::Scalar), &mut set)?;
    }
    Ok(())
}

/// namePrefix / nameSuffix; CRDs, APIServices and Namespaces keep their names.
pub(crate) fn prefix_suffix(r: &mut Res, prefix: &str, suffix: &str) {
    if r.kind() == "CustomResourceDefinition"
        || r.kind() == "Namespace"
        || (r.kind() == "APIService" && r.group() == "apiregistration.k8s.io")
    {
        return;
    }
    let new = format!("{prefix}{}{suffix}", r.name());
    r.store_previous_id();
    r.set_id(Some(&new), None);
    if !prefix.is_empty() {
        r.prefixes.push(prefix.to_string());
    }
    if !suffix.is_empty() {
        r.suffixes.push(suffix.to_string());
    }
}

/// The replicas transformer for one entry: every resource that has (or had) the name and
/// a kind of the replicas field specs; returns whether any matched.
pub(crate) fn replicas(resources: &mut [Res], spec: &ReplicaSpec) -> Result<bool, String> {
    let mut found = false;
    let mut set = set_scalar(Value::from(spec.count));
    for fspec in REPLICAS {
        for r in resources.iter_mut() {
            let named = r.name() == spec.name || r.prev.iter().any(|(n, _)| *n == spec.name);
            if named && fspec.applies_to(r) {
                found = true;
                fspec.apply(r, Some(CreateKind::Scalar), &mut set)?;
            }
        }
    }
    Ok(found)
}

/// A compiled `images` entry.
pub(crate) struct ImageRule {
    matcher: Option<Regex>,
    spec: ImageSpec,
}

impl ImageRule {
    pub fn new(spec: &ImageSpec) -> Self {
        // The name goes into the regex unescaped, as in kustomize; an invalid regex
        // matches nothing.
        let pattern = format!(
            "^{}(:[a-zA-Z0-9_.{{}}-]*)?(@[a-zA-Z0-9]+([.+_-][a-zA-Z0-9]+)*:[a-zA-Z0-9_.{{}}-]*)?$",
            spec.name
        );
        ImageRule {
            matcher: Regex::new(&pattern).ok(),
            spec: spec.clone(),
        }
    }

    fn rewrite(&self, image: &str) -> Option<String> {
        if !self.matcher.as_ref()?.is_match(image) {
            return None;
        }
        let (mut name, mut tag, mut digest) = split_image(image);
        let s = &self.spec;
        let nonempty = |o: &Option<String>| o.clone().filter(|x| !x.is_empty());
        if let Some(n) = nonempty(&s.new_name) {
            name = n;
        }
        match (
            nonempty(&s.new_tag),
            nonempty(&s.digest),
            nonempty(&s.tag_suffix),
        ) {
            (Some(t), Some(d), _) => {
                tag = t;
                digest = d;
            }
            (Some(t), None, _) => {
                tag = t;
                digest = String::new();
            }
            (None, Some(d), _) => {
                tag = String::new();
                digest = d;
            }
            (None, None, Some(suffix)) => {
                tag.push_str(&suffix);
                digest = String::new();
            }
            (None, None, None) => {}
        }
        let mut out = name;
        if !tag.is_empty() {
            out.push(':');
            out.push_str(&tag);
        }
        if !digest.is_empty() {
            out.push('@');
            out.push_str(&digest);
        }
        Some(out)
    }

    /// Rewrites the images of one resource (CRDs are skipped), as kustomize does: its legacy
    /// filter over every `containers`/`initContainers` list, then the images field specs.
    /// Both run, so an image they both reach is rewritten twice (visible with `tagSuffix`).
    pub fn apply(&self, r: &mut Res) -> Result<(), String> {
        if r.kind() == "CustomResourceDefinition" {
            return Ok(());
        }
        self.walk_containers(&mut r.obj)
            .map_err(|e| format!("{}: {e}", r.id_string()))?;
        let mut set = |node: &mut Value| self.set_image(node);
        for spec in IMAGES {
            spec.apply(r, None, &mut set)?;
        }
        Ok(())
    }

    /// kustomize `imageTagUpdater.SetImageValue`: the image must be a scalar.
    fn set_image(&self, node: &mut Value) -> Result<(), String> {
        let image = match &*node {
            Value::Object(_) | Value::Array(_) => {
                return Err(format!(
                    "wrong node kind: expected a scalar but got {}",
                    node_kind(node)
                ));
            }
            Value::Null => return Ok(()),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if let Some(new) = self.rewrite(&image) {
            *node = Value::from(new);
        }
        Ok(())
    }

    /// kustomize's legacy filter: any `containers`/`initContainers` sequence, anywhere
    /// (children first, like its walk).
    fn walk_containers(&self, v: &mut Value) -> Result<(), String> {
        match v {
            Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    self.walk_containers(child)?;
                    if (k == "containers" || k == "initContainers")
                        && let Value::Array(items) = child
                    {
                        for c in items.iter_mut() {
                            match c {
                                Value::Object(m) => {
                                    if let Some(img) = m.get_mut("image") {
                                        self.set_image(img)?;
                                    }
                                }
                                Value::Null => {}
                                other => {
                                    return Err(format!(
                                        "an element of `{k}`: wrong node kind: expected a map but got {}",
                                        node_kind(other)
                                    ));
                                }
                            }
                        }
                    }
                }
            }
            Value::Array(items) => {
                for i in items {
                    self.walk_containers(i)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// kustomize `image.Split`: the tag separator is searched after the first `/`.
fn split_image(image: &str) -> (String, String, String) {
    let slash = match image.find('/') {
        Some(i) if i > 0 => i,
        _ => 0,
    };
    let search = &image[slash..];
    let at = search.find('@');
    let colon = search.find(':');
    match (colon, at) {
        (None, None) => (image.to_string(), String::new(), String::new()),
        (c, Some(a)) if c.is_none_or(|c| a < c) => {
            let a = a + slash;
            (
                image[..a].to_string(),
                String::new(),
                image[a + 1..].to_string(),
            )
        }
        (Some(c), Some(a)) => {
            let (a, c) = (a + slash, c + slash);
            (
                image[..c].to_string(),
                image[c + 1..a].to_string(),
                image[a + 1..].to_string(),
            )
        }
        (Some(c), None) => {
            let c = c + slash;
            (
                image[..c].to_string(),
                image[c + 1..].to_string(),
                String::new(),
            )
        }
        // unreachable: (None, Some) is covered by the second arm
        (None, Some(_)) => (image.to_string(), String::new(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_handles_registry_ports_and_digests() {
        assert_eq!(
            split_image("localhost:5000/app:1.0"),
            ("localhost:5000/app".into(), "1.0".into(), String::new())
        );
        assert_eq!(
            split_image("nginx@sha256:abc"),
            ("nginx".into(), String::new(), "sha256:abc".into())
        );
        assert_eq!(
            split_image("nginx:1@sha256:abc"),
            ("nginx".into(), "1".into(), "sha256:abc".into())
        );
    }

    #[test]
    fn rewrite_rules() {
        let rule = |t: Option<&str>, d: Option<&str>| {
            ImageRule::new(&ImageSpec {
                name: "nginx".into(),
                new_name: Some("reg/nginx".into()),
                new_tag: t.map(Into::into),
                digest: d.map(Into::into),
                tag_suffix: None,
            })
        };
        assert_eq!(
            rule(Some("2"), None).rewrite("nginx:1@sha256:x").as_deref(),
            Some("reg/nginx:2")
        );
        assert_eq!(
            rule(None, Some("sha256:y")).rewrite("nginx:1").as_deref(),
            Some("reg/nginx@sha256:y")
        );
        assert_eq!(rule(Some("2"), None).rewrite("nginxx:1"), None);
    }
}
