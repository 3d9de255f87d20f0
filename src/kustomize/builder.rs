//! In-process, typed kustomization builder: the port of the original operator's
//! `kustomize.py` helpers (`kustom_list`, `restricted_kustom_list`, `secretLiteral`,
//! `configMapTemplate`, `patchTemplate(s)`, `patchGenericEntry`,
//! `patchPersistentVolumeClaim`, `image`). Nothing is pasted as YAML text and nothing is
//! written to disk: files live in a [`MemFiles`] and the model is built directly.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::engine::build_parsed;
use super::files::{Files, MemFiles, normalize};
use super::model::{GeneratorArgs, ImageSpec, KustomizationFile, PatchSpec, Selector};
use super::{KustomizeError, Object};

/// The name the original used for the generated kustomization, used in error messages.
const VIRTUAL_KUSTOMIZATION: &str = "kustomization.yaml";
/// Where generator file contents are kept inside the builder's file tree.
const GENERATED_DIR: &str = "__generated";

/// Alias matching the wording of the original helpers: `Kustomization::new()...build()`.
pub type Kustomization = KustomizationBuilder;

/// The target of a JSON 6902 patch (exact names; kustomize treats name and namespace as
/// anchored regular expressions, so names with regex metacharacters should be escaped).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Json6902Target {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

impl Json6902Target {
    /// A core (`v1`) kind, any namespace.
    pub fn v1(kind: &str, name: &str) -> Self {
        Json6902Target {
            group: None,
            version: Some("v1".into()),
            kind: kind.into(),
            name: name.into(),
            namespace: None,
        }
    }
    fn selector(&self) -> Selector {
        Selector {
            group: self.group.clone(),
            version: self.version.clone(),
            kind: Some(self.kind.clone()),
            name: Some(self.name.clone()),
            namespace: self.namespace.clone(),
            ..Selector::default()
        }
    }
}

/// Builds a kustomization in memory; see the module doc.
#[derive(Debug, Clone, Default)]
pub struct KustomizationBuilder {
    files: MemFiles,
    kust: KustomizationFile,
    generator_namespace: Option<String>,
}

impl KustomizationBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The files the kustomization refers to (resources, patches, generator sources).
    pub fn files(&self) -> &MemFiles {
        &self.files
    }

    /// The typed kustomization assembled so far.
    pub fn kustomization(&self) -> &KustomizationFile {
        &self.kust
    }

    /// Namespace given to the generators added after this call (the original always used
    /// `namespace: nuvolaris` on its generators).
    pub fn generator_namespace(mut self, ns: &str) -> Self {
        self.generator_namespace = Some(ns.to_string());
        self
    }

    /// Adds a resource file (one or more YAML documents) under `name`.
    pub fn resource_file(mut self, name: &str, yaml: impl Into<String>) -> Self {
        let path = normalize(Path::new(name));
        self.files.insert(&path, yaml.into().into_bytes());
        self.kust
            .resources
            .push(path.to_string_lossy().into_owned());
        self
    }

    /// Adds a resource object (kept as JSON text, which is YAML).
    pub fn resource_object(self, name: &str, object: &Object) -> Self {
        self.resource_file(name, object.to_string())
    }

    /// Like the original `kustom_list`: every file of `dir`, sorted by name, except
    /// `kustomization.yaml` and names starting with `_`.
    pub fn resources_from(self, files: &dyn Files, dir: &Path) -> Result<Self, KustomizeError> {
        self.resources_filtered(files, dir, |_| true)
    }

    /// Like the original `restricted_kustom_list`: only the files of `dir` named in `only`.
    pub fn resources_from_only(
        self,
        files: &dyn Files,
        dir: &Path,
        only: &[&str],
    ) -> Result<Self, KustomizeError> {
        for name in only {
            if !files.is_file(&normalize(&dir.join(name))) {
                return Err(KustomizeError::in_file(
                    &dir.join(name),
                    "listed resource file not found",
                ));
            }
        }
        self.resources_filtered(files, dir, |n| only.contains(&n))
    }

    fn resources_filtered(
        mut self,
        files: &dyn Files,
        dir: &Path,
        keep: impl Fn(&str) -> bool,
    ) -> Result<Self, KustomizeError> {
        let dir = normalize(dir);
        let names = files
            .list_files(&dir)
            .map_err(|source| KustomizeError::Io {
                file: dir.clone(),
                source,
            })?;
        for name in names {
            if name == "kustomization.yaml" || name.starts_with('_') || !keep(&name) {
                continue;
            }
            let path = dir.join(&name);
            let content = files.read(&path).map_err(|source| KustomizeError::Io {
                file: path.clone(),
                source,
            })?;
            self.files.insert(&path, content);
            self.kust
                .resources
                .push(path.to_string_lossy().into_owned());
        }
        Ok(self)
    }

    fn generator(&mut self, secret: bool, name: &str) -> &mut GeneratorArgs {
        let ns = self.generator_namespace.clone();
        let list = if secret {
            &mut self.kust.secret_generator
        } else {
            &mut self.kust.config_map_generator
        };
        let pos = match list.iter().position(|g| g.name == name) {
            Some(p) => p,
            None => {
                list.push(GeneratorArgs {
                    name: name.to_string(),
                    namespace: ns,
                    ..GeneratorArgs::default()
                });
                list.len() - 1
            }
        };
        &mut list[pos]
    }

    /// `secretLiteral(name, "key=value")`: a key of a generated Secret (repeat for more keys).
    pub fn secret_literal(mut self, name: &str, key: &str, value: &str) -> Self {
        let content = value.as_bytes().to_vec();
        // Stored as a file source so that no quoting rule of literals can alter the value.
        let index = self.generator(true, name).files.len();
        let path = self.generated_path("secret", name, index);
        self.files.insert(&path, content);
        let entry = format!("{key}={}", path.display());
        self.generator(true, name).files.push(entry);
        self
    }

    /// Sets the type of a generated Secret (default `Opaque`).
    pub fn secret_type(mut self, name: &str, type_: &str) -> Self {
        self.generator(true, name).type_ = Some(type_.to_string());
        self
    }

    /// `configMapTemplate(name, ..)`: a key of a generated ConfigMap with the given content.
    pub fn config_map_file(mut self, name: &str, key: &str, contents: impl Into<Vec<u8>>) -> Self {
        let index = self.generator(false, name).files.len();
        let path = self.generated_path("configmap", name, index);
        self.files.insert(&path, contents.into());
        let entry = format!("{key}={}", path.display());
        self.generator(false, name).files.push(entry);
        self
    }

    /// A private path per generator entry (by position, so that no key can escape it).
    fn generated_path(&self, what: &str, name: &str, index: usize) -> PathBuf {
        PathBuf::from(GENERATED_DIR)
            .join(what)
            .join(name.replace(['/', '\\'], "_"))
            .join(index.to_string())
    }

    /// `patchTemplate`: a strategic-merge patch text (one or more documents, each applied
    /// to the resource with its kind, name and namespace), or a JSON 6902 text with no
    /// target (an error at build, as in kustomize).
    pub fn patch_strategic(mut self, yaml_text: impl Into<String>) -> Self {
        self.kust.patches.push(PatchSpec {
            patch: Some(yaml_text.into()),
            ..PatchSpec::default()
        });
        self
    }

    /// A strategic-merge patch applied to every resource the target selects.
    pub fn patch_strategic_target(
        mut self,
        target: &Json6902Target,
        yaml_text: impl Into<String>,
    ) -> Self {
        self.kust.patches.push(PatchSpec {
            patch: Some(yaml_text.into()),
            target: Some(target.selector()),
            ..PatchSpec::default()
        });
        self
    }

    /// A JSON 6902 patch of typed operations (`{"op": .., "path": .., "value": ..}`).
    /// Values stay typed: no YAML re-parsing, so `"on"` or `"0123"` remain strings.
    pub fn patch_json6902(mut self, target: &Json6902Target, ops: Vec<Value>) -> Self {
        self.kust.patches.push(PatchSpec {
            patch: Some(Value::Array(ops).to_string()),
            target: Some(target.selector()),
            ..PatchSpec::default()
        });
        self
    }

    /// `patchGenericEntry(kind, name, path, value)`: replace one field of a `v1` object.
    pub fn patch_generic_entry(self, kind: &str, name: &str, path: &str, value: Value) -> Self {
        let target = Json6902Target::v1(kind, name);
        self.patch_json6902(
            &target,
            vec![json!({"op": "replace", "path": path, "value": value})],
        )
    }

    /// `patchPersistentVolumeClaim`: size (and storage class) of a PVC. Uses `add`, which
    /// replaces an existing field and also works when the base lacks it.
    pub fn patch_pvc(self, name: &str, size: &str, storage_class: Option<&str>) -> Self {
        let mut ops = vec![json!({
            "op": "add", "path": "/spec/resources/requests/storage", "value": size
        })];
        if let Some(sc) = storage_class {
            ops.push(json!({"op": "add", "path": "/spec/storageClassName", "value": sc}));
        }
        let target = Json6902Target::v1("PersistentVolumeClaim", name);
        self.patch_json6902(&target, ops)
    }

    /// `image(name, newName, newTag)`.
    pub fn image(mut self, name: &str, new_name: Option<&str>, new_tag: Option<&str>) -> Self {
        self.kust.images.push(ImageSpec {
            name: name.into(),
            new_name: new_name.map(Into::into),
            new_tag: new_tag.map(Into::into),
            ..ImageSpec::default()
        });
        self
    }

    /// The kustomization's `namespace:`.
    pub fn namespace(mut self, ns: &str) -> Self {
        self.kust.namespace = Some(ns.into());
        self
    }

    /// Builds: same engine and order as a kustomization directory.
    pub fn build(&self) -> Result<Vec<Object>, KustomizeError> {
        build_parsed(
            &self.files,
            Path::new(""),
            &self.kust,
            Path::new(VIRTUAL_KUSTOMIZATION),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STS: &str = r#"
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: couchdb
  namespace: nuvolaris
spec:
  serviceName: couchdb
  template:
    spec:
      containers:
      - name: couchdb
        image: apache/couchdb:3.3
        env:
        - name: COUCHDB_PASSWORD
          valueFrom:
            secretKeyRef:
              name: couchdb-auth
              key: db_password
"#;

    #[test]
    fn builder_generates_hashes_and_rewrites_references() {
        let objs = Kustomization::new()
            .generator_namespace("nuvolaris")
            .resource_file("couchdb-set.yaml", STS)
            .secret_literal("couchdb-auth", "db_password", "on")
            .image("apache/couchdb", Some("ghcr.io/x/couchdb"), Some("3.4"))
            .build()
            .unwrap();
        let secret = objs.iter().find(|o| o["kind"] == "Secret").unwrap();
        let name = secret["metadata"]["name"].as_str().unwrap();
        assert!(name.starts_with("couchdb-auth-") && name.len() == "couchdb-auth-".len() + 10);
        assert_eq!(secret["data"]["db_password"], "b24=");
        let sts = objs.iter().find(|o| o["kind"] == "StatefulSet").unwrap();
        let c = &sts["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["image"], "ghcr.io/x/couchdb:3.4");
        assert_eq!(c["env"][0]["valueFrom"]["secretKeyRef"]["name"], name);
    }

    #[test]
    fn typed_json6902_keeps_strings() {
        let pvc = r#"{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"data"},
            "spec":{"resources":{"requests":{"storage":"1Gi"}}}}"#;
        // replace of a missing key of an existing map sets it, like kustomize (evanphx
        // json-patch v4); the value stays a string
        let objs = Kustomization::new()
            .resource_file("pvc.yaml", pvc)
            .patch_pvc("data", "10Gi", Some("standard"))
            .patch_generic_entry(
                "PersistentVolumeClaim",
                "data",
                "/metadata/labels",
                json!({"x": "on"}),
            )
            .build()
            .unwrap();
        assert_eq!(objs[0]["metadata"]["labels"]["x"], "on");
        assert_eq!(objs[0]["spec"]["resources"]["requests"]["storage"], "10Gi");
        assert_eq!(objs[0]["spec"]["storageClassName"], "standard");
        // under a missing parent it fails, like kustomize
        let missing_parent = Kustomization::new()
            .resource_file("pvc.yaml", pvc)
            .patch_generic_entry(
                "PersistentVolumeClaim",
                "data",
                "/spec/selector/matchLabels",
                json!({"x": "on"}),
            )
            .build();
        assert!(missing_parent.is_err());
    }

    #[test]
    fn resources_from_skips_kustomization_and_underscore_files() {
        let files = MemFiles::new()
            .with(
                "deploy/x/b.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
            )
            .with(
                "deploy/x/a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
            )
            .with(
                "deploy/x/_skip.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\n",
            )
            .with("deploy/x/kustomization.yaml", "resources: []\n");
        let b = Kustomization::new()
            .resources_from(&files, Path::new("deploy/x"))
            .unwrap();
        assert_eq!(
            b.kustomization().resources,
            vec!["deploy/x/a.yaml", "deploy/x/b.yaml"]
        );
        let b = Kustomization::new()
            .resources_from_only(&files, Path::new("deploy/x"), &["b.yaml"])
            .unwrap();
        assert_eq!(b.build().unwrap().len(), 1);
        let missing =
            Kustomization::new().resources_from_only(&files, Path::new("deploy/x"), &["zz.yaml"]);
        assert!(missing.is_err());
    }
}
