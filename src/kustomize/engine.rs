//! The build: kustomize's `KustTarget` order (see `api/internal/target/kusttarget.go`).
//!
//! Per kustomization (recursively for sub-directories): resources → configMapGenerator →
//! secretGenerator → patchesStrategicMerge → patches → namespace → namePrefix → nameSuffix
//! → labels/commonLabels → commonAnnotations → patchesJson6902 → replicas → images.
//! Once, at the root: hash suffixes on generated objects (on the final content), then the
//! name-reference rewrite, then the legacy output order.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::files::{Files, normalize};
use super::generators::{self, Behavior, GenKind};
use super::gojson::generator_hash;
use super::json6902;
use super::model::{KustomizationFile, PatchSpec, parse_kustomization};
use super::nameref::fix_back_references;
use super::output::legacy_sort;
use super::select::{
    BUILD_ANNOTATIONS, CompiledSelector, Res, metadata_mut, split_api_version, str_at,
};
use super::transformers::{self, ImageRule};
use super::yaml::{Typing, parse_documents, parse_one};
use super::{KustomizeError, Object};

const KUSTOMIZATION_NAMES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Builds the kustomization in `dir`, read through `files`.
pub fn build(files: &dyn Files, dir: &Path) -> Result<Vec<Object>, KustomizeError> {
    let dir = normalize(dir);
    let mut stack = Vec::new();
    let resources = accumulate_dir(files, &dir, &mut stack)?;
    finish(resources, &find_kustomization(files, &dir)?)
}

/// Builds an already-parsed kustomization whose relative paths resolve against `dir`.
pub(crate) fn build_parsed(
    files: &dyn Files,
    dir: &Path,
    kust: &KustomizationFile,
    label: &Path,
) -> Result<Vec<Object>, KustomizeError> {
    let dir = normalize(dir);
    let mut stack = vec![dir.clone()];
    let resources = accumulate_target(files, &dir, kust, label, &mut stack)?;
    finish(resources, label)
}

fn finish(mut resources: Vec<Res>, root: &Path) -> Result<Vec<Object>, KustomizeError> {
    for r in &mut resources {
        // kustomize rewrites the annotations of every resource, dropping its build
        // annotations (also those a resource came with), which removes an empty or null
        // `annotations` field
        if let Some(meta) = r.obj.get_mut("metadata").and_then(Value::as_object_mut) {
            if let Some(Value::Object(a)) = meta.get_mut("annotations") {
                for k in BUILD_ANNOTATIONS {
                    a.remove(*k);
                }
            }
            if meta
                .get("annotations")
                .is_some_and(|a| a.is_null() || a.as_object().is_some_and(|m| m.is_empty()))
            {
                meta.remove("annotations");
            }
        }
    }
    add_hashes(&mut resources);
    fix_back_references(&mut resources).map_err(|e| KustomizeError::in_file(root, e))?;
    legacy_sort(&mut resources);
    Ok(resources.into_iter().map(|r| r.obj).collect())
}

fn add_hashes(resources: &mut [Res]) {
    for r in resources.iter_mut().filter(|r| r.needs_hash) {
        if let Some(h) = generator_hash(&r.obj) {
            let new = format!("{}-{h}", r.name());
            r.store_previous_id();
            r.set_id(Some(&new), None);
        }
    }
}

fn find_kustomization(files: &dyn Files, dir: &Path) -> Result<PathBuf, KustomizeError> {
    KUSTOMIZATION_NAMES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| files.is_file(p))
        .ok_or_else(|| {
            KustomizeError::in_file(
                dir,
                "no kustomization.yaml, kustomization.yml or Kustomization in this directory",
            )
        })
}

fn accumulate_dir(
    files: &dyn Files,
    dir: &Path,
    stack: &mut Vec<PathBuf>,
) -> Result<Vec<Res>, KustomizeError> {
    if stack.iter().any(|d| d == dir) {
        return Err(KustomizeError::in_file(
            dir,
            "cycle in kustomization resources",
        ));
    }
    let kpath = find_kustomization(files, dir)?;
    let bytes = files.read(&kpath).map_err(|source| KustomizeError::Io {
        file: kpath.clone(),
        source,
    })?;
    let text =
        String::from_utf8(bytes).map_err(|_| KustomizeError::in_file(&kpath, "not valid UTF-8"))?;
    let kust = parse_kustomization(&text).map_err(|m| KustomizeError::in_file(&kpath, m))?;
    stack.push(dir.to_path_buf());
    let out = accumulate_target(files, dir, &kust, &kpath, stack);
    stack.pop();
    out
}

fn is_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("github.com/")
        || entry.starts_with("git@")
        || entry.starts_with("gitlab.com/")
        || entry.starts_with("bitbucket.org/")
}

/// Parses a multi-document YAML text into objects; `kind: List` is expanded.
pub(crate) fn parse_objects(text: &str) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for v in parse_documents(text, Typing::Kyaml)? {
        match v {
            Value::Null => {}
            Value::Object(ref m) if m.is_empty() => {}
            Value::Object(_) => {
                if str_at(&v, &["kind"]) == "List" {
                    if let Some(Value::Array(items)) = v.get("items") {
                        out.extend(items.iter().filter(|i| !i.is_null()).cloned());
                    }
                } else {
                    out.push(v);
                }
            }
            other => {
                return Err(format!(
                    "expected a YAML mapping per document, got `{}`",
                    other
                ));
            }
        }
    }
    Ok(out)
}

fn check_object(v: &Value) -> Result<(), String> {
    if str_at(v, &["kind"]).is_empty() {
        return Err("missing kind in an object".into());
    }
    if str_at(v, &["metadata", "name"]).is_empty() {
        return Err(format!(
            "missing metadata.name in a `{}` object",
            str_at(v, &["kind"])
        ));
    }
    Ok(())
}

fn add_resource(all: &mut Vec<Res>, r: Res, file: &Path) -> Result<(), KustomizeError> {
    if all.iter().any(|x| x.same_current_id(&r)) {
        return Err(KustomizeError::in_file(
            file,
            format!(
                "may not add resource with an already registered id: {}",
                r.id_string()
            ),
        ));
    }
    all.push(r);
    Ok(())
}

fn read_text(files: &dyn Files, path: &Path) -> Result<String, KustomizeError> {
    let bytes = files.read(path).map_err(|source| KustomizeError::Io {
        file: path.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|_| KustomizeError::in_file(path, "not valid UTF-8"))
}

fn accumulate_target(
    files: &dyn Files,
    dir: &Path,
    k: &KustomizationFile,
    kpath: &Path,
    stack: &mut Vec<PathBuf>,
) -> Result<Vec<Res>, KustomizeError> {
    let err = |m: String| KustomizeError::in_file(kpath, m);
    let mut all: Vec<Res> = Vec::new();

    // 1. resources (and the legacy `bases`)
    for (field, entry) in k
        .resources
        .iter()
        .map(|e| ("resources", e))
        .chain(k.bases.iter().map(|e| ("bases", e)))
    {
        if is_remote(entry) {
            return Err(err(format!(
                "{field}: remote resource `{entry}` is not supported"
            )));
        }
        let p = normalize(&dir.join(entry));
        if files.is_file(&p) {
            let text = read_text(files, &p)?;
            let objs = parse_objects(&text).map_err(|m| KustomizeError::in_file(&p, m))?;
            for o in objs {
                check_object(&o).map_err(|m| KustomizeError::in_file(&p, m))?;
                add_resource(&mut all, Res::new(o), &p)?;
            }
        } else if files.is_dir(&p) {
            for r in accumulate_dir(files, &p, stack)? {
                add_resource(&mut all, r, kpath)?;
            }
        } else {
            return Err(err(format!("{field}: `{entry}` not found")));
        }
    }

    // 2. generators
    for (kind, list) in [
        (GenKind::ConfigMap, &k.config_map_generator),
        (GenKind::Secret, &k.secret_generator),
    ] {
        for args in list {
            let g = generators::generate(files, dir, kind, args, k.generator_options.as_ref())
                .map_err(&err)?;
            let mut res = Res::new(g.obj);
            res.needs_hash = g.needs_hash;
            res.generator_behavior = Some(g.behavior_name);
            match g.behavior {
                Behavior::Create => add_resource(&mut all, res, kpath)?,
                Behavior::Merge | Behavior::Replace => {
                    let (group, kind_s, name, ns) = (
                        res.group().to_string(),
                        res.kind().to_string(),
                        res.name().to_string(),
                        res.namespace().to_string(),
                    );
                    let existing = all
                        .iter_mut()
                        .find(|r| r.matches_any_id(&group, &kind_s, &name, &ns))
                        .ok_or_else(|| {
                            err(format!(
                                "{kind_s} `{name}`: behavior {} needs an existing object of that name",
                                if g.behavior == Behavior::Merge { "merge" } else { "replace" }
                            ))
                        })?;
                    generators::merge_into(&mut existing.obj, &res.obj, g.behavior);
                    existing.needs_hash = existing.needs_hash && g.needs_hash;
                }
            }
        }
    }

    // 3. transformers
    for (i, entry) in k.patches_strategic_merge.iter().enumerate() {
        let field = format!("patchesStrategicMerge[{i}]");
        let p = normalize(&dir.join(entry));
        let (text, src) = if files.is_file(&p) {
            (read_text(files, &p)?, p)
        } else if entry.contains(':') || entry.contains('\n') {
            (entry.clone(), kpath.to_path_buf())
        } else {
            return Err(err(format!("{field}: `{entry}` not found")));
        };
        let docs = parse_objects(&text).map_err(|m| KustomizeError::in_file(&src, m))?;
        for d in &docs {
            check_patch_document(d).map_err(|m| err(format!("{field}: {m}")))?;
        }
        for d in docs {
            apply_smp(&mut all, &d, None, false).map_err(|m| err(format!("{field}: {m}")))?;
        }
    }
    for (i, spec) in k.patches.iter().enumerate() {
        apply_patch_entry(
            files,
            dir,
            &mut all,
            spec,
            &format!("patches[{i}]"),
            kpath,
            false,
        )?;
    }
    if let Some(ns) = k.namespace.as_deref().filter(|n| !n.is_empty()) {
        for r in &mut all {
            transformers::namespace(r, ns).map_err(|m| err(format!("namespace: {m}")))?;
        }
        // kustomize checks after each resource that its new id is unique; every resource
        // moves to the same namespace, so checking the end state finds the same conflicts
        for (i, r) in all.iter().enumerate() {
            if all[..i].iter().any(|o| o.same_current_id(r)) {
                return Err(err(format!(
                    "namespace: the namespace transformation produces an id conflict: {}",
                    r.id_string()
                )));
            }
        }
    }
    let prefix = k.name_prefix.as_deref().unwrap_or("");
    if !prefix.is_empty() {
        for r in &mut all {
            transformers::prefix_suffix(r, prefix, "");
        }
    }
    let suffix = k.name_suffix.as_deref().unwrap_or("");
    if !suffix.is_empty() {
        for r in &mut all {
            transformers::prefix_suffix(r, "", suffix);
        }
    }
    for (i, l) in k.labels.iter().enumerate() {
        for r in &mut all {
            if l.include_selectors {
                transformers::common_labels(r, &l.pairs)
            } else {
                transformers::plain_labels(r, &l.pairs, l.include_templates)
            }
            .map_err(|m| err(format!("labels[{i}]: {m}")))?;
        }
    }
    if !k.common_labels.is_empty() {
        for r in &mut all {
            transformers::common_labels(r, &k.common_labels)
                .map_err(|m| err(format!("commonLabels: {m}")))?;
        }
    }
    if !k.common_annotations.is_empty() {
        for r in &mut all {
            transformers::common_annotations(r, &k.common_annotations)
                .map_err(|m| err(format!("commonAnnotations: {m}")))?;
        }
    }
    for (i, spec) in k.patches_json6902.iter().enumerate() {
        let field = format!("patchesJson6902[{i}]");
        if spec.target.is_none() {
            return Err(err(format!("{field}: a JSON 6902 patch needs a target")));
        }
        apply_patch_entry(files, dir, &mut all, spec, &field, kpath, true)?;
    }
    for (i, rep) in k.replicas.iter().enumerate() {
        let found = transformers::replicas(&mut all, rep)
            .map_err(|m| err(format!("replicas[{i}]: {m}")))?;
        if !found {
            return Err(err(format!(
                "replicas[{i}]: no Deployment, ReplicaSet, ReplicationController or StatefulSet named `{}`",
                rep.name
            )));
        }
    }
    for (i, img) in k.images.iter().enumerate() {
        let rule = ImageRule::new(img);
        for r in &mut all {
            rule.apply(r)
                .map_err(|m| err(format!("images[{i}]: {m}")))?;
        }
    }
    Ok(all)
}

/// What a patch text turned out to be.
enum PatchKind {
    Strategic(Vec<Value>),
    Json6902(Value),
}

/// kustomize: JSON if the text starts with `[`, else YAML; a sequence is a JSON 6902
/// patch, mappings are strategic-merge patches.
fn classify_patch(text: &str) -> Result<PatchKind, String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let v: Value =
            serde_json::from_str(trimmed).map_err(|e| format!("invalid JSON patch: {e}"))?;
        return Ok(PatchKind::Json6902(v));
    }
    let docs: Vec<Value> = parse_documents(text, Typing::Kyaml)?
        .into_iter()
        .filter(|v| !v.is_null())
        .collect();
    match docs.as_slice() {
        // kustomize reads JSON 6902 YAML with sigs.k8s.io/yaml: YAML 1.1 typing
        [Value::Array(_)] => Ok(PatchKind::Json6902(parse_one(text, Typing::Yaml11)?)),
        [] => Err("empty patch".into()),
        d if d.iter().all(Value::is_object) => {
            for doc in d {
                check_patch_document(doc)?;
            }
            Ok(PatchKind::Strategic(docs))
        }
        _ => Err("unable to parse the patch as a strategic merge or JSON 6902 patch".into()),
    }
}

/// kustomize loads strategic-merge patches as resources (`GetValidatedMetadata`), also
/// those applied through a target: each document needs a kind, and a metadata.name
/// unless it is a List.
fn check_patch_document(doc: &Value) -> Result<(), String> {
    let kind = str_at(doc, &["kind"]);
    if kind.is_empty() {
        return Err("a strategic-merge patch needs a kind".into());
    }
    if !kind.ends_with("List") && str_at(doc, &["metadata", "name"]).is_empty() {
        return Err(format!(
            "a strategic-merge patch needs a metadata.name (in the `{kind}` patch)"
        ));
    }
    Ok(())
}

fn apply_patch_entry(
    files: &dyn Files,
    dir: &Path,
    all: &mut Vec<Res>,
    spec: &PatchSpec,
    field: &str,
    kpath: &Path,
    json_only: bool,
) -> Result<(), KustomizeError> {
    let err = |m: String| KustomizeError::in_file(kpath, format!("{field}: {m}"));
    let (text, src) = match (&spec.path, &spec.patch) {
        (Some(_), Some(_)) => return Err(err("set either path or patch, not both".into())),
        (None, None) => return Err(err("needs a path or a patch".into())),
        (Some(path), None) => {
            let p = normalize(&dir.join(path));
            if !files.is_file(&p) {
                return Err(err(format!("patch file `{path}` not found")));
            }
            let t = read_text(files, &p)?;
            (t, p)
        }
        (None, Some(inline)) => (inline.clone(), kpath.to_path_buf()),
    };
    let kind = classify_patch(&text).map_err(|m| {
        if src == kpath {
            err(m)
        } else {
            KustomizeError::in_file(&src, m)
        }
    })?;
    let allow_name = spec.options.as_ref().is_some_and(|o| o.allow_name_change);
    let target = spec
        .target
        .as_ref()
        .map(|t| CompiledSelector::new(t).map_err(&err))
        .transpose()?;
    match kind {
        PatchKind::Json6902(ops) => {
            let Some(target) = target else {
                return Err(err("a JSON 6902 patch needs a target".into()));
            };
            for r in all.iter_mut().filter(|r| target.selects(r)) {
                let id = r.id_string();
                json6902::apply_to_resource(r, &ops)
                    .map_err(|e| err(format!("applying JSON 6902 patch to {id}: {e}")))?;
            }
        }
        PatchKind::Strategic(docs) => {
            if json_only {
                return Err(err(
                    "expected a JSON 6902 patch (a list of operations)".into()
                ));
            }
            if target.is_some() && docs.len() > 1 {
                return Err(err(
                    "a patch with a target must contain exactly one document".into(),
                ));
            }
            for d in &docs {
                apply_smp(all, d, target.as_ref(), allow_name).map_err(&err)?;
            }
        }
    }
    Ok(())
}

/// Applies one strategic-merge document: to the selected resources, or (no target) to the
/// resource with the patch's group/kind, name and namespace.
fn apply_smp(
    all: &mut Vec<Res>,
    patch: &Value,
    target: Option<&CompiledSelector>,
    allow_name_change: bool,
) -> Result<(), String> {
    let indices: Vec<usize> = match target {
        Some(t) => (0..all.len()).filter(|i| t.selects(&all[*i])).collect(),
        None => {
            // kustomize `GetById(patch.OrgId())`: group, version and kind must be equal
            // (a patch without apiVersion matches nothing), name and namespace those of
            // the current or a previous id
            let (group, version) = split_api_version(str_at(patch, &["apiVersion"]));
            let kind = str_at(patch, &["kind"]);
            let name = str_at(patch, &["metadata", "name"]);
            let ns = str_at(patch, &["metadata", "namespace"]);
            let found: Vec<usize> = (0..all.len())
                .filter(|i| {
                    all[*i].version() == version && all[*i].matches_any_id(group, kind, name, ns)
                })
                .collect();
            match found.len() {
                0 => {
                    return Err(format!(
                        "no resource matches strategic merge patch {kind} `{name}`{}",
                        if ns.is_empty() {
                            String::new()
                        } else {
                            format!(" in namespace `{ns}`")
                        }
                    ));
                }
                1 => found,
                _ => {
                    return Err(format!(
                        "multiple resources match strategic merge patch {kind} `{name}`"
                    ));
                }
            }
        }
    };
    let mut deleted = Vec::new();
    for i in indices {
        let r = &mut all[i];
        let (name, ns, kind, api) = (
            r.name().to_string(),
            r.namespace().to_string(),
            r.kind().to_string(),
            r.api_version().to_string(),
        );
        if allow_name_change {
            r.store_previous_id();
        }
        // With a target, the patch's own id does not matter: it takes the target's.
        let mut p = patch.clone();
        if target.is_some() || !allow_name_change {
            if let Some(m) = p.as_object_mut()
                && target.is_some()
            {
                m.insert("kind".into(), Value::from(kind.clone()));
                m.insert("apiVersion".into(), Value::from(api.clone()));
            }
            if let Some(meta) = p.get_mut("metadata").and_then(Value::as_object_mut) {
                if !allow_name_change || target.is_some() && meta.get("name").is_none() {
                    meta.insert("name".into(), Value::from(name.clone()));
                }
                if target.is_some() && !ns.is_empty() && meta.get("namespace").is_some() {
                    meta.insert("namespace".into(), Value::from(ns.clone()));
                }
            }
        }
        let obj = std::mem::take(&mut r.obj);
        match super::smp::merge(obj, &p).map_err(|e| format!("{}: {e}", r.id_string()))? {
            Some(mut merged) => {
                if let Some(meta) = metadata_mut(&mut merged) {
                    if !allow_name_change {
                        meta.insert("name".into(), Value::from(name.clone()));
                    }
                    // kustomize restores the namespace after every strategic merge
                    // (`SetNamespace(ns)`): a patch neither moves an object to another
                    // namespace nor gives it one.
                    if ns.is_empty() {
                        meta.remove("namespace");
                    } else {
                        meta.insert("namespace".into(), Value::from(ns.clone()));
                    }
                }
                r.obj = merged;
            }
            None => deleted.push(i),
        }
    }
    for i in deleted.into_iter().rev() {
        all.remove(i);
    }
    Ok(())
}
