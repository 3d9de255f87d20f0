//! Resources as the engine tracks them (current object + id history) and target selection.

use regex::Regex;
use serde_json::Value;

use super::model::Selector;
use super::tables::CLUSTER_SCOPED;

/// One resource of a build: the object, its original id and the ids it had before.
#[derive(Debug, Clone)]
pub(crate) struct Res {
    pub obj: Value,
    /// Every (name, namespace) the resource had before its current one, oldest first
    /// (kustomize's `PrevIds`; the first is the original id).
    pub prev: Vec<(String, String)>,
    /// A generated ConfigMap/Secret whose name gets the content-hash suffix.
    pub needs_hash: bool,
    /// Prefixes and suffixes applied to the name, outermost last (kustomize `ResCtx`).
    pub prefixes: Vec<String>,
    pub suffixes: Vec<String>,
}

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

    /// Records the current id as a previous one and sets a new name and/or namespace.
    pub fn set_id(&mut self, name: Option<&str>, namespace: Option<&str>) {
        let (cur_name, cur_ns) = (self.name().to_string(), self.namespace().to_string());
        let new_name = name.unwrap_or(&cur_name).to_string();
        let new_ns = namespace.unwrap_or(&cur_ns).to_string();
        if new_name == cur_name && new_ns == cur_ns {
            return;
        }
        self.prev.push((cur_name, cur_ns));
        let Some(meta) = metadata_mut(&mut self.obj) else {
            return;
        };
        meta.insert("name".into(), Value::from(new_name));
        if namespace.is_some() {
            meta.insert("namespace".into(), Value::from(new_ns));
        }
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

/// A compiled patch target selector (kustomize `types.Selector` + `resmap.Select`).
pub(crate) struct CompiledSelector {
    group: Option<String>,
    version: Option<String>,
    kind: Option<String>,
    name: Option<Regex>,
    namespace: Option<Regex>,
    labels: Option<LabelSelector>,
    annotations: Option<LabelSelector>,
}

impl CompiledSelector {
    pub fn new(s: &Selector) -> Result<Self, String> {
        let anchored = |field: &str, p: &Option<String>| -> Result<Option<Regex>, String> {
            match p {
                None => Ok(None),
                Some(p) if p.is_empty() => Ok(None),
                Some(p) => Regex::new(&format!("^(?:{p})$"))
                    .map(Some)
                    .map_err(|e| format!("target {field} `{p}` is not a valid regex: {e}")),
            }
        };
        let empty_none = |o: &Option<String>| o.clone().filter(|s| !s.is_empty());
        Ok(CompiledSelector {
            group: s.group.clone(),
            version: empty_none(&s.version),
            kind: empty_none(&s.kind),
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

    pub fn selects(&self, r: &Res) -> bool {
        if let Some(g) = &self.group
            && !g.is_empty()
            && g != r.group()
        {
            return false;
        }
        if let Some(v) = &self.version
            && v != r.version()
        {
            return false;
        }
        if let Some(k) = &self.kind
            && k != r.kind()
        {
            return false;
        }
        let effective = |ns: &str| {
            if ns.is_empty() {
                "default".to_string()
            } else {
                ns.to_string()
            }
        };
        if let Some(re) = &self.namespace
            && !re.is_match(&effective(r.org_namespace()))
            && !re.is_match(&effective(r.namespace()))
        {
            return false;
        }
        if let Some(re) = &self.name
            && !re.is_match(r.org_name())
            && !re.is_match(r.name())
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
