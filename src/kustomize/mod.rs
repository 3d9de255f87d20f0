//! A native kustomize engine, equal in output to `kubectl kustomize` (kustomize v5.5) for the
//! features the operator needs, with no process spawned and nothing written to disk.
//!
//! Two ways in:
//! - [`build_dir`] / [`build`] read a `kustomization.yaml` tree through a [`Files`]
//!   implementation (a real directory, [`DiskFiles`], or embedded files, [`MemFiles`]);
//! - [`KustomizationBuilder`] assembles a kustomization in process, typed (the port of the
//!   original operator's `kustomize.py` helpers: no YAML text is pasted together).
//!
//! The build follows kustomize's order (see `engine`): resources, generators, then the
//! transformers (legacy SMP patches, `patches`, namespace, prefix, suffix, labels,
//! annotations, legacy JSON 6902 patches, replicas, images), then, once at the root, the
//! content-hash suffixes of generated ConfigMaps/Secrets and the name-reference rewrite.
//!
//! YAML typing follows kustomize exactly (see `yaml`): resources and strategic-merge
//! patches get go-yaml v3 typing plus kustomize's JSON round trip (`on` stays a string,
//! `0123` is 83, `3.0` is 3, dates become RFC 3339 strings); kustomization files and the
//! YAML text of JSON 6902 patches get YAML 1.1 typing (`value: on` is `true`), as in
//! kustomize. The typed builder API passes JSON 6902 values as JSON, so no quirk arises.
//! go-yaml parsing quirks reproduced: folded scalars with more-indented lines gain one line
//! break (kustomize's emit/re-read), a block scalar ending the file without a newline has
//! no final newline, and empty/null `metadata.annotations` are dropped.
//! Known gap: a raw U+2028/U+2029 character inside YAML text is a line break for go-yaml
//! (YAML 1.1 heritage) but an ordinary character here; write it escaped (`"\u2028"`).
//!
//! Strategic merge follows kyaml `merge2` literally, including its list-merge mechanics
//! (`ElementSetter`/`appendListNode`): lists with several merge keys (container ports by
//! containerPort+protocol, Service ports by port+protocol) put the base items after the
//! patch items, a `$patch: replace` on an existing list element has no effect, and base
//! lists are re-keyed even where the patch does not touch them. This is checked against
//! `kubectl kustomize` by seeded random tests (tests/kustomize_conformance.rs).
//!
//! The transformers that write through field specs (labels, annotations, namespace,
//! replicas, images) share kustomize's field-spec walk (see `fieldspec`): lists on a path
//! are never created, maps only where a spec says `create`, a scalar on the way is an
//! error. JSON 6902 patches follow evanphx/json-patch v4, which kustomize uses (see
//! `json6902`): no missing parent is created, but the patch sees kustomize's build
//! annotations, so `metadata.annotations` always exists for it.

mod builder;
mod engine;
mod fieldspec;
mod files;
mod generators;
mod gojson;
mod json6902;
mod model;
mod nameref;
mod output;
mod select;
mod smp;
mod tables;
mod transformers;
mod yaml;

pub use builder::{Json6902Target, Kustomization, KustomizationBuilder};
pub use engine::build;
pub use files::{DiskFiles, Files, MemFiles};
pub use gojson::{generator_hash, go_json_marshal};
pub use output::to_yaml;

use std::path::{Path, PathBuf};

/// A rendered Kubernetes object: a full object with apiVersion, kind and metadata.
pub type Object = serde_json::Value;

/// An error of a kustomize build. Its `Display` is always one line naming the file (when
/// there is one) and what is wrong in it.
#[derive(Debug, thiserror::Error)]
pub enum KustomizeError {
    /// Something is wrong in (or about) one file of the tree.
    #[error("kustomize: {}: {}", .file.display(), one_line(.message))]
    InFile { file: PathBuf, message: String },
    /// A file or directory could not be read.
    #[error("kustomize: cannot read {}: {}", .file.display(), one_line(&.source.to_string()))]
    Io {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl KustomizeError {
    pub(crate) fn in_file(file: &Path, message: impl Into<String>) -> Self {
        KustomizeError::InFile {
            file: file.to_path_buf(),
            message: message.into(),
        }
    }
}

/// Error texts from parsers may span lines; the CLI contract is one line per error.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses a YAML (or JSON) stream the way kubectl reads `-f` files (`sigs.k8s.io/yaml`:
/// YAML 1.1 typing, numbers as Go's JSON encoding leaves them). Empty documents are `Null`.
pub fn parse_kubectl_yaml(text: &str) -> Result<Vec<Object>, String> {
    yaml::parse_documents(text, yaml::Typing::Yaml11)
}

/// Builds the kustomization in a real directory, like `kubectl kustomize DIR`.
pub fn build_dir(dir: &Path) -> Result<Vec<Object>, KustomizeError> {
    build(&DiskFiles, dir)
}
