//! The typed model of `kustomization.yaml` (the subset this engine supports).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Fields kustomize knows that this engine deliberately does not implement: naming them
/// gives a precise error instead of a silently different output.
const UNSUPPORTED: &[&str] = &[
    "components",
    "helmCharts",
    "helmGlobals",
    "helmChartInflationGenerator",
    "vars",
    "replacements",
    "crds",
    "configurations",
    "openapi",
    "transformers",
    "generators",
    "validators",
    "buildMetadata",
    "sortOptions",
    "nameSuffixHash",
];

/// Fields of a kustomization this engine implements.
const SUPPORTED: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "resources",
    "bases",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "configMapGenerator",
    "secretGenerator",
    "generatorOptions",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "images",
    "replicas",
];

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KustomizationFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_suffix: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub common_labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<LabelSpec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub common_annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config_map_generator: Vec<GeneratorArgs>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_generator: Vec<GeneratorArgs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator_options: Option<GeneratorOptions>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<PatchSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches_strategic_merge: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches_json6902: Vec<PatchSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<ReplicaSpec>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSpec {
    #[serde(default)]
    pub pairs: BTreeMap<String, String>,
    #[serde(default)]
    pub include_selectors: bool,
    #[serde(default)]
    pub include_templates: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GeneratorArgs {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub literals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub envs: Vec<String>,
    /// Legacy single env file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// Secrets only.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<GeneratorOptions>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GeneratorOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub disable_name_suffix_hash: bool,
    #[serde(default)]
    pub immutable: bool,
}

impl GeneratorOptions {
    /// kustomize's `MergeGlobalOptionsIntoLocal`: local label/annotation entries win,
    /// the flags are or-ed.
    pub fn merged_with_global(local: Option<&Self>, global: Option<&Self>) -> Self {
        let mut out = local.cloned().unwrap_or_default();
        let Some(global) = global else {
            return out;
        };
        merge_missing(&mut out.labels, global.labels.as_ref());
        merge_missing(&mut out.annotations, global.annotations.as_ref());
        out.disable_name_suffix_hash |= global.disable_name_suffix_hash;
        out.immutable |= global.immutable;
        out
    }
}

fn merge_missing(
    local: &mut Option<BTreeMap<String, String>>,
    global: Option<&BTreeMap<String, String>>,
) {
    let Some(global) = global else { return };
    let local = local.get_or_insert_with(BTreeMap::new);
    for (k, v) in global {
        local.entry(k.clone()).or_insert_with(|| v.clone());
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PatchSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Selector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<PatchOptions>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PatchOptions {
    #[serde(default)]
    pub allow_name_change: bool,
    #[serde(default)]
    pub allow_kind_change: bool,
}

/// A patch target selector; `name` and `namespace` are anchored regular expressions.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Selector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation_selector: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImageSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_suffix: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReplicaSpec {
    pub name: String,
    pub count: i64,
}

/// Checks the top-level keys (unsupported and unknown ones are errors naming the key), then
/// decodes the typed model. Errors are plain messages; the caller adds the file.
pub fn parse_kustomization(text: &str) -> Result<KustomizationFile, String> {
    // kustomize reads kustomization files with sigs.k8s.io/yaml: YAML 1.1 typing
    let raw = super::yaml::parse_one(text, super::yaml::Typing::Yaml11)?;
    let raw = match raw {
        Value::Null => Value::Object(Default::default()),
        v @ Value::Object(_) => v,
        _ => return Err("a kustomization must be a YAML mapping".into()),
    };
    if let Value::Object(map) = &raw {
        for key in map.keys() {
            if UNSUPPORTED.contains(&key.as_str()) {
                return Err(format!("unsupported field `{key}`"));
            }
            if !SUPPORTED.contains(&key.as_str()) {
                return Err(format!("unknown field `{key}`"));
            }
        }
        if let Some(kind) = map.get("kind").and_then(Value::as_str)
            && kind != "Kustomization"
        {
            return Err(format!("unsupported kind `{kind}` (only Kustomization)"));
        }
    }
    serde_json::from_value(raw.clone()).map_err(|e| {
        // name the offending top-level field: decode the fields one by one
        if let Value::Object(map) = &raw {
            for (k, v) in map {
                let single = Value::Object([(k.clone(), v.clone())].into_iter().collect());
                if let Err(fe) = serde_json::from_value::<KustomizationFile>(single) {
                    return format!("field `{k}`: {fe}");
                }
            }
        }
        e.to_string()
    })
}
