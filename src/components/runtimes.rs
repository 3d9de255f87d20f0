//! The action runtimes: the `openwhisk-runtimes` ConfigMap and the Job that preloads their images.
//!
//! Deploys: ConfigMap `openwhisk-runtimes` (created when missing, never overwritten: users edit
//! it) and Job `preload-runtimes`, one container per runtime family's default image. A change
//! of the ConfigMap changes the Job (re-created, Jobs are immutable) and the controller's
//! `runtimes-hash` annotation (rolled) — the original's ConfigMap watcher, level-triggered.

use minijinja::context;
use serde::Serialize;
use serde_json::{Value, json};

use super::kit::Overlay;
use super::{Component, RenderError};
use crate::apply::kinds::{self, KnownKind};
use crate::apply::{APPLY_POLICY_ANNOTATION, CREATE_ONLY};
use crate::config::Config;
use crate::config::runtimes::{RUNTIMES_CONFIGMAP, default_manifest};
use crate::crd::ComponentId;

pub struct Runtimes;

impl Component for Runtimes {
    fn id(&self) -> ComponentId {
        ComponentId::Preloader
    }

    fn overlay(&self, cfg: &Config) -> Result<Overlay, RenderError> {
        overlay(cfg)
    }

    fn kinds(&self) -> &'static [KnownKind] {
        &[kinds::CONFIG_MAP, kinds::JOB]
    }
}

#[derive(Debug, Serialize, PartialEq)]
pub struct PreloadContainer {
    pub name: String,
    pub image: String,
}

fn overlay(cfg: &Config) -> Result<Overlay, RenderError> {
    // The manifest is the user's (they edit the ConfigMap): a broken one is invalid input.
    let containers = preload_containers(&cfg.runtimes.manifest, cfg.runtimes.preload_only_apache)
        .map_err(|message| RenderError::Invalid {
        field: format!("ConfigMap {RUNTIMES_CONFIGMAP} runtimes.json"),
        message,
    })?;
    let config_map = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": RUNTIMES_CONFIGMAP,
            "annotations": { APPLY_POLICY_ANNOTATION: CREATE_ONLY },
        },
        "data": { "runtimes.json": default_manifest() },
    });
    let mut overlay = Overlay::new(ComponentId::Preloader, &cfg.namespace).object(&config_map);
    if !containers.is_empty() {
        overlay = overlay.base("runtimes", &["preload-job.yaml"])?.patch(
            "runtimes/preload-containers.yaml",
            context! { containers => crate::render::value(containers) },
        )?;
    }
    Ok(overlay)
}

/// The default kind of every runtime family (only `apache` images when `only_apache`).
pub fn preload_containers(
    manifest: &str,
    only_apache: bool,
) -> Result<Vec<PreloadContainer>, String> {
    let manifest: Value = serde_json::from_str(manifest).map_err(|e| {
        format!("the runtimes manifest (openwhisk-runtimes runtimes.json) is not valid JSON: {e}")
    })?;
    let Some(families) = manifest.get("runtimes").and_then(Value::as_object) else {
        return Err("the runtimes manifest has no \"runtimes\" object".to_owned());
    };
    let mut containers = Vec::new();
    for (family, kinds) in families {
        let Some(kinds) = kinds.as_array() else {
            continue;
        };
        let default = kinds
            .iter()
            .find(|k| k.get("default").and_then(Value::as_bool) == Some(true));
        let Some(image) = default.and_then(|k| k.get("image")) else {
            continue;
        };
        let field = |f: &str| image.get(f).and_then(Value::as_str).unwrap_or_default();
        let (prefix, name, tag) = (field("prefix"), field("name"), field("tag"));
        if name.is_empty() || (only_apache && prefix != "apache") {
            continue;
        }
        let reference = match (prefix.is_empty(), tag.is_empty()) {
            (true, true) => name.to_owned(),
            (true, false) => format!("{name}:{tag}"),
            (false, true) => format!("{prefix}/{name}"),
            (false, false) => format!("{prefix}/{name}:{tag}"),
        };
        containers.push(PreloadContainer {
            name: family.clone(),
            image: reference,
        });
    }
    Ok(containers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_manifest_preloads_the_apache_defaults() {
        let containers = preload_containers(default_manifest(), true).expect("valid manifest");
        let images: Vec<&str> = containers.iter().map(|c| c.image.as_str()).collect();
        assert_eq!(
            images,
            [
                "apache/openserverless-runtime-go:v1.22-2409142109",
                "apache/openserverless-runtime-java:v8-2409142109",
                "apache/openserverless-runtime-nodejs:v21-2409142109",
                "apache/openserverless-runtime-php:v8.3-2409142109",
                "apache/openserverless-runtime-python:v3.12-2501141314",
            ]
        );
        let all = preload_containers(default_manifest(), false).expect("valid manifest");
        assert!(
            all.iter()
                .any(|c| c.image == "openwhisk/action-ruby-v2.5:nightly")
        );
    }

    #[test]
    fn a_broken_manifest_is_a_clear_error() {
        let err = preload_containers("{not json", true).expect_err("invalid");
        assert!(err.contains("not valid JSON"), "{err}");
    }
}
