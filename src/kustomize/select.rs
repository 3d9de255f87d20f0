//! Resources as the engine tracks them (current object + id history) and target selection.

use regex::Regex;
use serde_json::Value;

use super::model::Selector;
use super::tables::CLUSTER_SCOPED;

/// One resource of a build: the object, its original id and the ids it had before.
#[derive(Debug, Clone)]
pub(crate) struct Res {
    pub obj: Value,
    /// The (name, namespace) stored each time kustomize calls `StorePreviousId` on the
    /// resource (namespace, prefix and suffix transformers, JSON 6902 patches, renaming
    /// strategic merges, the hash suffix), oldest first: kustomize's `PrevIds`, the first
    /// being the original id. An entry may equal the current id.
    pub prev: Vec<(String, String)>,
    /// A generated ConfigMap/Secret whose name gets the content-hash suffix.
    pub needs_hash: bool,
    /// For a generated object, its generator's behavior as kustomize records it
    /// (`unspecified`, `create`, `merge`, `replace`).
    pub generator_behavior: Option<&'static str>,
    /// Prefixes and suffixes applied to the name, outermost last (kustomize `ResCtx`).
    pub prefixes: Vec<String>,
    pub suffixes: Vec<String>,
}

/// The build annotations kustomize keeps in `metadata.annotations` while it builds (and
/// removes from the output). Resources may carry them on input too; they are dropped.
pub(crate) const BUILD_ANNOTATIONS: &[&str] = &[
    "internal.config.kubernetes.io/previousKinds",
    "internal.config.kubernetes.io/previousNames",
    "internal.config.kubernetes.io/prefixes",
    "internal.config.kubernetes.io/suffixes",
    "internal.config.kubernetes.io/previousNamespaces",
    "internal.config.kubernetes.io/allowNameChange",
    "internal.config.kubernetes.io/allowKindChange",
    "internal.config.kubernetes.io/refBy",
    "internal.config.kubernetes.io/generatorBehavior",
    "internal.config.kubernetes.io/needsHashSuffix",
    "internal.config.kubernetes.io/path",
    "internal.config.kubernetes.io/index",
    "internal.config.kubernetes.io/seqindent",
    "internal.config.kubernetes.io/id",
    "internal.config.kubernetes.io/annotations-migration-resource-id",
    "config.kubernetes.io/path",
    "config.kubernetes.io/index",
    "config.k8s.io/id",
];

pub(crate) fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(next) => cur = next,
            None => return "",
        }
    }
    cur.as_str().unwrap_or("")
}

/// (group, version) of an apiVersion.
pub(crate) fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

pub(crate) fn is_cluster_scoped(api_version: &str, kind: &str) -> bool {
    CLUSTER_SCOPED
        .iter()
        .any(|(a, k)| *a == api_version && *k == kind)
}

impl Res {
    pub fn new(obj: Value) -> Self {
        Res {
            obj,
            prev: Vec::new(),
            needs_hash: false,
            generator_behavior: None,
            prefixes: Vec::new(),
            suffixes: Vec::new(),
        }
    }
    pub fn kind(&self) -> &str {
        str_at(&self.obj, &["kind"])
    }
    pub fn api_version(&self) -> &str {
        str_at(&self.obj, &["apiVersion"])
    }
    pub fn group(&self) -> &str {
        split_api_version(self.api_version()).0
    }
    pub fn version(&self) -> &str {
        split_api_version(self.api_version()).1
    }
    pub fn name(&self) -> &str {
        str_at(&self.obj, &["metadata", "name"])
    }
    pub fn namespace(&self) -> &str {
        str_at(&self.obj, &["metadata", "namespace"])
    }
    pub fn cluster_scoped(&self) -> bool {
        is_cluster_scoped(self.api_version(), self.kind())
    }
    pub fn org_name(&self) -> &str {
        self.prev
            .first()
            .map(|p| p.0.as_str())
            .unwrap_or(self.name())
    }
    pub fn org_namespace(&self) -> &str {
        self.prev
            .first()
            .map(|p| p.1.as_str())
            .unwrap_or(self.namespace())
    }

    /// kustomize `StorePreviousId`: records the current id in the history.
    pub fn store_previous_id(&mut self) {
        let id = (self.name().to_string(), self.namespace().to_string());
        self.prev.push(id);
    }

    /// Sets a new name and/or namespace (callers store the previous id first, where
    /// kustomize does).
    pub fn set_id(&mut self, name: Option<&str>, namespace: Option<&str>) {
        let Some(meta) = metadata_mut(&mut self.obj) else {
            return;
        };
        if let Some(name) = name {
            meta.insert("name".into(), Value::from(name));
        }
        if let Some(ns) = namespace {
            meta.insert("namespace".into(), Value::from(ns));
        }
    }

    /// kustomize `EffectiveNamespace` of a namespace of this resource.
    pub fn effective_namespace(&self, ns: &str) -> String {
        if self.cluster_scoped() {
            "_non_namespaceable_".into()
        } else if ns.is_empty() {
            "default".into()
        } else {
            ns.to_string()
        }
    }

    /// The build annotations kustomize would hold on this resource now: its id history,
    /// prefixes and suffixes, and for a generated object its behavior and hash flag.
    pub fn build_annotations(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !self.prev.is_empty() {
            let csv = |f: &dyn Fn(&(String, String)) -> String| {
                self.prev.iter().map(f).collect::<Vec<_>>().join(",")
            };
            out.push((
                "internal.config.kubernetes.io/previousKinds",
                csv(&|_| self.kind().to_string()),
            ));
            out.push((
                "internal.config.kubernetes.io/previousNames",
                csv(&|(n, _)| n.clone()),
            ));
            out.push((
                "internal.config.kubernetes.io/previousNamespaces",
                csv(&|(_, ns)| self.effective_namespace(ns)),
            ));
        }
        if !self.prefixes.is_empty() {
            out.push((
                "internal.config.kubernetes.io/prefixes",
                self.prefixes.join(","),
            ));
        }
        if !self.suffixes.is_empty() {
            out.push((
                "internal.config.kubernetes.io/suffixes",
                self.suffixes.join(","),
            ));
        }
        if let Some(b) = self.generator_behavior {
            out.push(("internal.config.kubernetes.io/generatorBehavior", b.into()));
        }
        if self.needs_hash {
            out.push((
                "internal.config.kubernetes.io/needsHashSuffix",
                "enabled".into(),
            ));
        }
        out
    }

    /// Whether this resource has (or had) the id (same group/kind, name, namespace).
    pub fn matches_any_id(&self, group: &str, kind: &str, name: &str, namespace: &str) -> bool {
        if self.group() != group || self.kind() != kind {
            return false;
        }
        let cur = (self.name(), self.namespace());
        std::iter::once(cur)
            .chain(self.prev.iter().map(|(n, s)| (n.as_str(), s.as_str())))
            .any(|(n, s)| n == name && ns_equal(s, namespace))
    }

    /// Same current id (group, kind, name, namespace) as another resource.
    pub fn same_current_id(&self, other: &Res) -> bool {
        self.group() == other.group()
            && self.kind() == other.kind()
            && self.name() == other.name()
            && ns_equal(self.namespace(), other.namespace())
    }

    pub fn id_string(&self) -> String {
        let ns = self.namespace();
        format!(
            "{}{}/{}{}",
            if self.group().is_empty() {
                String::new()
            } else {
                format!("{}.", self.group())
            },
            self.kind(),
            if ns.is_empty() {
                String::new()
            } else {
                format!("{ns}/")
            },
            self.name()
        )
    }
}

/// kustomize treats the empty namespace and `default` as the same.
pub(crate) fn ns_equal(a: &str, b: &str) -> bool {
    let norm = |s: &str| if s.is_empty() { "default" } else { s }.to_string();
    norm(a) == norm(b)
}

pub(crate) fn metadata_mut(obj: &mut Value) -> Option<&mut serde_json::Map<String, Value>> {
    let map = obj.as_object_mut()?;
    let meta = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Default::default()));
    if !meta.is_object() {
        *meta = Value::Object(Default::default());
    }
    meta.as_object_mut()
}

/// A compiled patch target selector (kustomize `types.SelectorRegex` + `resmap.Select`):
/// group, version, kind, name and namespace are all anchored regular expressions; an empty
/// one matches anything.
pub(crate) struct CompiledSelector {
    group: Option<Pattern>,
    version: Option<Pattern>,
    kind: Option<Pattern>,
    name: Option<Pattern>,
    namespace: Option<Pattern>,
    labels: Option<LabelSelector>,
    annotations: Option<LabelSelector>,
}

/// An anchored selector pattern. Most are plain words (`apps`, `StatefulSet`, a name), which
/// an anchored regex matches exactly when the text is equal: those skip the (costly) regex
/// compilation.
enum Pattern {
    Exact(String),
    Regex(Regex),
}

impl Pattern {
    fn new(field: &str, p: &str) -> Result<Self, String> {
        const META: &[char] = &[
            '\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$',
        ];
        if !p.contains(META) {
            return Ok(Pattern::Exact(p.to_string()));
        }
        Regex::new(&format!("^(?:{p})$"))
            .map(Pattern::Regex)
            .map_err(|e| format!("target {field} `{p}` is not a valid regex: {e}"))
    }

    fn is_match(&self, s: &str) -> bool {
        match self {
            Pattern::Exact(p) => p == s,
            Pattern::Regex(re) => re.is_match(s),
        }
    }
}

impl CompiledSelector {
    pub fn new(s: &Selector) -> Result<Self, String> {
        let anchored = |field: &str, p: &Option<String>| -> Result<Option<Pattern>, String> {
            match p {
                None => Ok(None),
                Some(p) if p.is_empty() => Ok(None),
                Some(p) => Pattern::new(field, p).map(Some),
            }
        };
        Ok(CompiledSelector {
            group: anchored("group", &s.group)?,
            version: anchored("version", &s.version)?,
            kind: anchored("kind", &s.kind)?,
            name: anchored("name", &s.name)?,
            namespace: anchored("namespace", &s.namespace)?,
            labels: s
                .label_selector
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(LabelSelector::parse)
                .transpose()?,
            annotations: s
                .annotation_selector
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(LabelSelector::parse)
                .transpose()?,
        })
    }

    /// Whether the selector picks `r`; name and namespace may match the original or the
    /// current id.
    pub fn selects(&self, r: &Res) -> bool {
        let matches = |p: &Option<Pattern>, s: &str| p.as_ref().is_none_or(|p| p.is_match(s));
        if !matches(&self.namespace, &r.effective_namespace(r.org_namespace()))
            && !matches(&self.namespace, &r.effective_namespace(r.namespace()))
        {
            return false;
        }
        if !matches(&self.name, r.org_name()) && !matches(&self.name, r.name()) {
            return false;
        }
        if !matches(&self.group, r.group())
            || !matches(&self.version, r.version())
            || !matches(&self.kind, r.kind())
        {
            return false;
        }
        if let Some(ls) = &self.labels
            && !ls.matches(r.obj.pointer("/metadata/labels"))
        {
            return false;
        }
        if let Some(ls) = &self.annotations
            && !ls.matches(r.obj.pointer("/metadata/annotations"))
        {
            return false;
        }
        true
    }
}

/// A Kubernetes label selector in string form (`a=b,c!=d,e in (x,y),!f,g`).
pub(crate) struct LabelSelector {
    reqs: Vec<Req>,
}

enum Req {
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        // split on commas that are not inside parentheses
        let mut parts = Vec::new();
        let (mut depth, mut start) = (0, 0);
        for (i, c) in s.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(&s[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&s[start..]);
        let set = |v: &str| -> Result<Vec<String>, String> {
            let v = v.trim();
            let inner = v
                .strip_prefix('(')
                .and_then(|v| v.strip_suffix(')'))
                .ok_or_else(|| format!("invalid selector set `{v}`"))?;
            Ok(inner.split(',').map(|x| x.trim().to_string()).collect())
        };
        for part in parts {
            let p = part.trim();
            if p.is_empty() {
                continue;
            }
            let req = if let Some((k, v)) = p.split_once("!=") {
                Req::Ne(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = p.split_once("==") {
                Req::Eq(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = p.split_once('=') {
                Req::Eq(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = p.split_once(" notin ") {
                Req::NotIn(k.trim().into(), set(v)?)
            } else if let Some((k, v)) = p.split_once(" in ") {
                Req::In(k.trim().into(), set(v)?)
            } else if let Some(k) = p.strip_prefix('!') {
                Req::NotExists(k.trim().into())
            } else {
                Req::Exists(p.into())
            };
            reqs.push(req);
        }
        Ok(LabelSelector { reqs })
    }

    pub fn matches(&self, labels: Option<&Value>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.reqs.iter().all(|r| match r {
            Req::Eq(k, v) => get(k) == Some(v.as_str()),
            Req::Ne(k, v) => get(k) != Some(v.as_str()),
            Req::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Req::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            Req::Exists(k) => get(k).is_some(),
            Req::NotExists(k) => get(k).is_none(),
        })
    }
}
