//! configMapGenerator / secretGenerator (kustomize `api/kv`, `api/generators`).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value, json};

use super::files::{Files, normalize};
use super::gojson::wrapped_base64;
use super::model::{GeneratorArgs, GeneratorOptions};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum GenKind {
    ConfigMap,
    Secret,
}

/// The generated object plus what the engine needs to place it.
pub(crate) struct Generated {
    pub obj: Value,
    pub behavior: Behavior,
    /// The behavior as kustomize records it on the object (`unspecified` when not given).
    pub behavior_name: &'static str,
    pub needs_hash: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Behavior {
    Create,
    Merge,
    Replace,
}

/// Builds one generated object. Errors are messages; the caller names the file.
pub(crate) fn generate(
    files: &dyn Files,
    dir: &Path,
    kind: GenKind,
    args: &GeneratorArgs,
    global: Option<&GeneratorOptions>,
) -> Result<Generated, String> {
    let what = match kind {
        GenKind::ConfigMap => "configMapGenerator",
        GenKind::Secret => "secretGenerator",
    };
    let ctx = |m: String| format!("{what} `{}`: {m}", args.name);
    let (behavior, behavior_name) = match args.behavior.as_deref().unwrap_or("") {
        "" => (Behavior::Create, "unspecified"),
        "create" => (Behavior::Create, "create"),
        "merge" => (Behavior::Merge, "merge"),
        "replace" => (Behavior::Replace, "replace"),
        other => return Err(ctx(format!("unknown behavior `{other}`"))),
    };

    // kustomize order: env files, literals, files
    let mut pairs: Vec<(String, Vec<u8>)> = Vec::new();
    let env_files = args.env.iter().chain(args.envs.iter());
    for env in env_files {
        let content = read(files, dir, env).map_err(ctx)?;
        pairs.extend(env_pairs(&content).map_err(|e| ctx(format!("env file `{env}`: {e}")))?);
    }
    for lit in &args.literals {
        let (k, v) = parse_literal(lit).map_err(ctx)?;
        pairs.push((k, v.into_bytes()));
    }
    for src in &args.files {
        let (key, path) = parse_file_source(src).map_err(ctx)?;
        let content = read(files, dir, &path).map_err(ctx)?;
        pairs.push((key, content));
    }
    let mut data: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (k, v) in pairs {
        if !valid_key(&k) {
            return Err(ctx(format!("invalid key name `{k}`")));
        }
        if data.insert(k.clone(), v).is_some() {
            return Err(ctx(format!("illegally repeats the key `{k}`")));
        }
    }

    let opts = GeneratorOptions::merged_with_global(args.options.as_ref(), global);
    let mut meta = Map::new();
    meta.insert("name".into(), Value::from(args.name.clone()));
    if let Some(ns) = args.namespace.as_ref().filter(|n| !n.is_empty()) {
        meta.insert("namespace".into(), Value::from(ns.clone()));
    }
    if let Some(labels) = opts.labels.as_ref().filter(|l| !l.is_empty()) {
        meta.insert("labels".into(), json!(labels));
    }
    if let Some(ann) = opts.annotations.as_ref().filter(|a| !a.is_empty()) {
        meta.insert("annotations".into(), json!(ann));
    }
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), Value::from("v1"));
    let mut text = Map::new();
    let mut binary = Map::new();
    match kind {
        GenKind::ConfigMap => {
            obj.insert("kind".into(), Value::from("ConfigMap"));
            for (k, v) in data {
                match String::from_utf8(v) {
                    Ok(s) => {
                        text.insert(k, Value::from(s));
                    }
                    Err(e) => {
                        binary.insert(k, Value::from(wrapped_base64(e.as_bytes())));
                    }
                }
            }
        }
        GenKind::Secret => {
            obj.insert("kind".into(), Value::from("Secret"));
            for (k, v) in data {
                text.insert(k, Value::from(wrapped_base64(&v)));
            }
            let ty = args.type_.clone().filter(|t| !t.is_empty());
            obj.insert(
                "type".into(),
                Value::from(ty.unwrap_or_else(|| "Opaque".into())),
            );
        }
    }
    obj.insert("metadata".into(), Value::Object(meta));
    // kyaml's LoadMapIntoSecretData creates the `data` map before filling it, so a Secret
    // with no data still has `data: {}` (and hashes it); a ConfigMap gets `data` only with
    // a key in it.
    if !text.is_empty() || kind == GenKind::Secret {
        obj.insert("data".into(), Value::Object(text));
    }
    if !binary.is_empty() {
        obj.insert("binaryData".into(), Value::Object(binary));
    }
    if opts.immutable {
        obj.insert("immutable".into(), Value::Bool(true));
    }
    Ok(Generated {
        obj: Value::Object(obj),
        behavior,
        behavior_name,
        needs_hash: !opts.disable_name_suffix_hash,
    })
}

fn read(files: &dyn Files, dir: &Path, rel: &str) -> Result<Vec<u8>, String> {
    let p = normalize(&dir.join(rel));
    files
        .read(&p)
        .map_err(|e| format!("cannot read `{}`: {e}", p.display()))
}

/// ConfigMap/Secret keys: `[-._a-zA-Z0-9]+`, at most 253 characters.
fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 253
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// `k=v`; a value wrapped in matching single or double quotes loses them.
pub(crate) fn parse_literal(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => {
            let b = v.as_bytes();
            let v = if b.len() >= 2 && b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'') {
                &v[1..v.len() - 1]
            } else {
                v
            };
            Ok((k.to_string(), v.to_string()))
        }
        _ => Err(format!("invalid literal source `{s}`, expected key=value")),
    }
}

/// `path` (key = file name) or `key=path`.
fn parse_file_source(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        None => {
            let key = Path::new(s)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| format!("invalid file source `{s}`"))?;
            Ok((key, s.to_string()))
        }
        Some((k, p)) if !k.is_empty() && !p.is_empty() && !p.contains('=') => {
            Ok((k.to_string(), p.to_string()))
        }
        _ => Err(format!(
            "invalid file source `{s}`, expected key=path or path"
        )),
    }
}

/// An env file: `KEY=value` lines; blank lines and `#` comments skipped; a key alone gets "".
fn env_pairs(content: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let text = std::str::from_utf8(content).map_err(|_| "invalid UTF-8".to_string())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line.split_once('=').unwrap_or((line, ""));
        if k.is_empty() || k.contains(char::is_whitespace) {
            return Err(format!("invalid environment variable name `{k}`"));
        }
        out.push((k.to_string(), v.as_bytes().to_vec()));
    }
    Ok(out)
}

/// `behavior: merge|replace` (kustomize `appendReplaceOrMerge`): the generated object takes
/// the existing one's place, with the existing name and namespace, the existing labels and
/// annotations under its own and, on merge, the existing `data`/`binaryData` entries under
/// its own. Everything else of the existing object (a Secret's type, `stringData`,
/// `immutable`, ...) is gone: only the generated object's fields remain.
pub(crate) fn merge_into(existing: &mut Value, generated: &Value, behavior: Behavior) {
    let mut new = generated.clone();
    let old = std::mem::take(existing);
    for field in ["labels", "annotations"] {
        let merged = merged_strings(
            old.pointer(&format!("/metadata/{field}")),
            new.pointer(&format!("/metadata/{field}")),
        );
        if let Some(meta) = new.get_mut("metadata").and_then(Value::as_object_mut) {
            set_or_clear(meta, field, merged);
        }
    }
    if let Some(meta) = new.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in ["name", "namespace"] {
            match old.pointer(&format!("/metadata/{field}")) {
                Some(v) if v.as_str().is_some_and(|s| !s.is_empty()) => {
                    meta.insert(field.into(), v.clone());
                }
                _ => {
                    meta.remove(field);
                }
            }
        }
    }
    if behavior == Behavior::Merge
        && let Some(obj) = new.as_object_mut()
    {
        for field in ["data", "binaryData"] {
            let merged = merged_strings(old.get(field), obj.get(field));
            set_or_clear(obj, field, merged);
        }
    }
    *existing = new;
}

/// kyaml `mergeStringMaps(old, new)` over the string forms of two maps' values (kyaml reads
/// map values as scalar text).
fn merged_strings(old: Option<&Value>, new: Option<&Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for m in [old, new]
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
    {
        for (k, v) in m {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Null => "null".into(),
                Value::Bool(_) | Value::Number(_) => v.to_string(),
                Value::Array(_) | Value::Object(_) => String::new(),
            };
            out.insert(k.clone(), Value::from(text));
        }
    }
    out
}

/// kyaml `setMapInMetadata`/`SetDataMap`: clear the field, then set it only when non-empty.
fn set_or_clear(obj: &mut Map<String, Value>, field: &str, map: Map<String, Value>) {
    if map.is_empty() {
        obj.remove(field);
    } else {
        obj.insert(field.into(), Value::Object(map));
    }
}
