//! The builtin transformers: namespace, prefix/suffix, labels, annotations, replicas, images.
//! Field specs follow kustomize's `api/internal/konfig/builtinpluginconsts`.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::{Map, Value};

use super::model::{ImageSpec, ReplicaSpec};
use super::select::Res;

/// A kustomize field spec: where (which kinds, which path) a transformer writes.
struct FieldSpec {
    group: Option<&'static str>,
    kind: Option<&'static str>,
    path: &'static str,
    create: bool,
}

const fn fs(
    group: Option<&'static str>,
    kind: Option<&'static str>,
    path: &'static str,
    create: bool,
) -> FieldSpec {
    FieldSpec {
        group,
        kind,
        path,
        create,
    }
}

/// metadataLabelsFieldSpecs (= templateLabels)
const METADATA_LABELS: &[FieldSpec] = &[
    fs(None, None, "metadata/labels", true),
    fs(
        None,
        Some("ReplicationController"),
        "spec/template/metadata/labels",
        true,
    ),
    fs(
        None,
        Some("Deployment"),
        "spec/template/metadata/labels",
        true,
    ),
    fs(
        None,
        Some("ReplicaSet"),
        "spec/template/metadata/labels",
        true,
    ),
    fs(
        None,
        Some("DaemonSet"),
        "spec/template/metadata/labels",
        true,
    ),
    fs(
        Some("apps"),
        Some("StatefulSet"),
        "spec/template/metadata/labels",
        true,
    ),
    fs(
        Some("batch"),
        Some("Job"),
        "spec/template/metadata/labels",
        true,
    ),
    fs(
        Some("batch"),
        Some("CronJob"),
        "spec/jobTemplate/metadata/labels",
        true,
    ),
    fs(
        Some("batch"),
        Some("CronJob"),
        "spec/jobTemplate/spec/template/metadata/labels",
        true,
    ),
];

const AFFINITY_PATHS: &[&str] = &[
    "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
    "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
];

/// commonLabelFieldSpecs without the metadata ones.
const SELECTOR_LABELS: &[FieldSpec] = &[
    fs(None, Some("Service"), "spec/selector", true),
    fs(None, Some("ReplicationController"), "spec/selector", true),
    fs(None, Some("Deployment"), "spec/selector/matchLabels", true),
    fs(None, Some("ReplicaSet"), "spec/selector/matchLabels", true),
    fs(None, Some("DaemonSet"), "spec/selector/matchLabels", true),
    fs(
        Some("apps"),
        Some("StatefulSet"),
        "spec/selector/matchLabels",
        true,
    ),
    fs(
        Some("batch"),
        Some("Job"),
        "spec/selector/matchLabels",
        false,
    ),
    fs(
        Some("batch"),
        Some("CronJob"),
        "spec/jobTemplate/spec/selector/matchLabels",
        false,
    ),
    fs(
        Some("policy"),
        Some("PodDisruptionBudget"),
        "spec/selector/matchLabels",
        false,
    ),
    fs(
        Some("networking.k8s.io"),
        Some("NetworkPolicy"),
        "spec/podSelector/matchLabels",
        false,
    ),
    fs(
        Some("networking.k8s.io"),
        Some("NetworkPolicy"),
        "spec/ingress/from/podSelector/matchLabels",
        false,
    ),
    fs(
        Some("networking.k8s.io"),
        Some("NetworkPolicy"),
        "spec/egress/to/podSelector/matchLabels",
        false,
    ),
    fs(
        Some("apps"),
        Some("StatefulSet"),
        "spec/volumeClaimTemplates[]/metadata/labels",
        true,
    ),
];

const ANNOTATIONS: &[FieldSpec] = &[
    fs(None, None, "metadata/annotations", true),
    fs(
        None,
        Some("ReplicationController"),
        "spec/template/metadata/annotations",
        true,
    ),
    fs(
        None,
        Some("Deployment"),
        "spec/template/metadata/annotations",
        true,
    ),
    fs(
        None,
        Some("ReplicaSet"),
        "spec/template/metadata/annotations",
        true,
    ),
    fs(
        None,
        Some("DaemonSet"),
        "spec/template/metadata/annotations",
        true,
    ),
    fs(
        None,
        Some("StatefulSet"),
        "spec/template/metadata/annotations",
        true,
    ),
    fs(
        Some("batch"),
        Some("Job"),
        "spec/template/metadata/annotations",
        true,
    ),
    fs(
        Some("batch"),
        Some("CronJob"),
        "spec/jobTemplate/metadata/annotations",
        true,
    ),
    fs(
        Some("batch"),
        Some("CronJob"),
        "spec/jobTemplate/spec/template/metadata/annotations",
        true,
    ),
];

fn applies(spec: &FieldSpec, r: &Res) -> bool {
    spec.kind.is_none_or(|k| k == r.kind()) && spec.group.is_none_or(|g| g == r.group())
}

/// Visits the node at `path` (segments split on `/`, sequences traversed element-wise);
/// missing maps are created when `create`. `f` receives the final slot (Null if created).
fn visit_path(v: &mut Value, segs: &[&str], create: bool, f: &mut dyn FnMut(&mut Value)) {
    if let Value::Array(items) = v {
        for item in items {
            visit_path(item, segs, create, f);
        }
        return;
    }
    let Some((first, rest)) = segs.split_first() else {
        f(v);
        return;
    };
    let key = first.strip_suffix("[]").unwrap_or(first);
    let Value::Object(map) = v else { return };
    if !map.contains_key(key) {
        if !create {
            return;
        }
        let init = if rest.is_empty() {
            Value::Null
        } else {
            Value::Object(Map::new())
        };
        map.insert(key.to_string(), init);
    }
    if let Some(next) = map.get_mut(key) {
        if next.is_null() && !rest.is_empty() {
            if !create {
                return;
            }
            *next = Value::Object(Map::new());
        }
        visit_path(next, rest, create, f);
    }
}

/// Splits a field-spec path on `/`, honouring `\/` as a literal slash.
pub(crate) fn split_path(path: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'/') => {
                chars.next();
                if let Some(last) = out.last_mut() {
                    last.push('/');
                }
            }
            '/' => out.push(String::new()),
            c => {
                if let Some(last) = out.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    out
}

fn add_entries(r: &mut Res, specs: &[FieldSpec], entries: &BTreeMap<String, String>) {
    if entries.is_empty() {
        return;
    }
    for spec in specs {
        if !applies(spec, r) {
            continue;
        }
        let segs: Vec<&str> = spec.path.split('/').collect();
        visit_path(&mut r.obj, &segs, spec.create, &mut |slot| {
            if slot.is_null() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(m) = slot {
                for (k, v) in entries {
                    m.insert(k.clone(), Value::from(v.clone()));
                }
            }
        });
    }
}

/// commonLabels, or a `labels` entry with includeSelectors.
pub(crate) fn common_labels(r: &mut Res, labels: &BTreeMap<String, String>) {
    add_entries(r, METADATA_LABELS, labels);
    add_entries(r, SELECTOR_LABELS, labels);
    for p in AFFINITY_PATHS {
        for kind in ["Deployment", "StatefulSet"] {
            let spec = fs(Some("apps"), Some(kind), p, false);
            add_entries(r, std::slice::from_ref(&spec), labels);
        }
    }
}

/// A `labels` entry without includeSelectors.
pub(crate) fn plain_labels(
    r: &mut Res,
    labels: &BTreeMap<String, String>,
    include_templates: bool,
) {
    if include_templates {
        add_entries(r, METADATA_LABELS, labels);
        add_entries(r, &SELECTOR_LABELS[SELECTOR_LABELS.len() - 1..], labels);
    } else {
        add_entries(r, &METADATA_LABELS[..1], labels);
    }
}

pub(crate) fn common_annotations(r: &mut Res, annotations: &BTreeMap<String, String>) {
    add_entries(r, ANNOTATIONS, annotations);
}

/// The namespace transformer.
pub(crate) fn namespace(r: &mut Res, ns: &str) {
    if r.kind() == "Namespace" && r.api_version() == "v1" {
        r.set_id(Some(ns), None);
        return;
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
    let extra: &[(&str, &str, &str, bool)] = &[
        (
            "apiregistration.k8s.io",
            "APIService",
            "spec/service/namespace",
            true,
        ),
        (
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            "spec/conversion/webhook/clientConfig/service/namespace",
            false,
        ),
    ];
    for (group, kind, path, create) in extra {
        if r.group() == *group && r.kind() == *kind {
            let segs: Vec<&str> = path.split('/').collect();
            visit_path(&mut r.obj, &segs, *create, &mut |slot| {
                *slot = Value::from(ns);
            });
        }
    }
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
    r.set_id(Some(&new), None);
    if !prefix.is_empty() {
        r.prefixes.push(prefix.to_string());
    }
    if !suffix.is_empty() {
        r.suffixes.push(suffix.to_string());
    }
}

const REPLICA_KINDS: &[&str] = &[
    "Deployment",
    "ReplicationController",
    "ReplicaSet",
    "StatefulSet",
];

/// Sets `spec.replicas`; returns whether any resource matched.
pub(crate) fn replicas(resources: &mut [Res], spec: &ReplicaSpec) -> bool {
    let mut found = false;
    for r in resources.iter_mut() {
        if !REPLICA_KINDS.contains(&r.kind()) {
            continue;
        }
        let named = r.name() == spec.name || r.prev.iter().any(|(n, _)| *n == spec.name);
        if !named {
            continue;
        }
        found = true;
        visit_path(&mut r.obj, &["spec", "replicas"], true, &mut |slot| {
            *slot = Value::from(spec.count);
        });
    }
    found
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

    /// Rewrites the images of one resource (CRDs are skipped).
    pub fn apply(&self, r: &mut Res) {
        if r.kind() == "CustomResourceDefinition" {
            return;
        }
        self.walk_containers(&mut r.obj);
        for path in [
            "spec/volumes[]/image/reference",
            "spec/template/spec/volumes[]/image/reference",
        ] {
            let segs: Vec<&str> = path.split('/').collect();
            visit_path(&mut r.obj, &segs, false, &mut |slot| {
                if let Some(new) = slot.as_str().and_then(|s| self.rewrite(s)) {
                    *slot = Value::from(new);
                }
            });
        }
    }

    /// kustomize's legacy filter: any `containers`/`initContainers` sequence, anywhere.
    fn walk_containers(&self, v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    if (k == "containers" || k == "initContainers")
                        && let Value::Array(items) = child
                    {
                        for c in items.iter_mut() {
                            if let Some(img) = c.get_mut("image")
                                && let Some(new) = img.as_str().and_then(|s| self.rewrite(s))
                            {
                                *img = Value::from(new);
                            }
                        }
                    }
                    self.walk_containers(child);
                }
            }
            Value::Array(items) => {
                for i in items {
                    self.walk_containers(i);
                }
            }
            _ => {}
        }
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
