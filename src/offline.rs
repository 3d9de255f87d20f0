//! `nuvolaris-operator render`: every object the operator would apply for a CR, with no cluster.

use std::path::Path;

use crate::components::{self, ComponentRender};
use crate::config::{self, ClusterFacts, Config, GeneratedSecrets, NodeFacts};
use crate::crd::Whisk;

#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid Whisk resource: {message}")]
    Parse { path: String, message: String },
    #[error(
        "unknown Kubernetes flavour {0:?} (expected kind, k3s, microk8s, eks, gke, aks, lks, openshift or generic)"
    )]
    Flavour(String),
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Render(#[from] components::RenderError),
}

/// The rendered installation and the warnings for stderr.
pub struct Rendered {
    pub yaml: String,
    pub warnings: Vec<String>,
}

/// Renders the CR in `path` (YAML) for `flavour` (default: generic).
pub fn render_file(path: &Path, flavour: Option<&str>) -> Result<Rendered, OfflineError> {
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| OfflineError::Read {
        path: display.clone(),
        source,
    })?;
    let whisk: Whisk = serde_yaml_ng::from_str(&text).map_err(|e| OfflineError::Parse {
        path: display,
        message: e.to_string(),
    })?;
    render_whisk(&whisk, flavour)
}

/// Renders a parsed CR. Passwords the CR leaves out get fixed placeholders, so the output is
/// deterministic (the operator generates random ones in the cluster).
pub fn render_whisk(whisk: &Whisk, flavour: Option<&str>) -> Result<Rendered, OfflineError> {
    let mut facts = ClusterFacts::default();
    if let Some(name) = flavour {
        let flavour =
            config::Flavour::parse(name).ok_or_else(|| OfflineError::Flavour(name.to_owned()))?;
        // the same label the original's kind CI nodes carry
        facts.nodes.push(NodeFacts {
            name: "offline".to_owned(),
            labels: [("nuvolaris.io/kube".to_owned(), flavour.as_str().to_owned())].into(),
            ..NodeFacts::default()
        });
    }
    let secrets = GeneratedSecrets::placeholders(&components::generated_secret_keys());
    let cfg = Config::from_whisk(whisk, &facts, &secrets)?;
    let owner = crate::apply::OwnerInfo {
        api_version: "nuvolaris.org/v1".to_owned(),
        kind: "Whisk".to_owned(),
        name: cfg.name.clone(),
        uid: "00000000-0000-0000-0000-000000000000".to_owned(),
        namespace: cfg.namespace.clone(),
    };
    let mut warnings = Vec::new();
    let mut objects = Vec::new();
    for component in components::render_all(&cfg)? {
        match component {
            // as applied: namespace, the operator's labels, the owner reference (the CR's uid
            // is unknown offline: all zeros) and apply order
            ComponentRender::Rendered(rendered) => objects.extend(crate::apply::prepare(
                rendered.objects,
                &owner,
                rendered.id.key(),
            )),
            ComponentRender::NotImplemented(id) => {
                warnings.push(format!(
                    "component {id} is enabled but not implemented by this version: skipped"
                ));
            }
            ComponentRender::Unsupported { id, reason } => {
                warnings.push(format!("component {id}: {reason}: skipped"));
            }
            ComponentRender::Disabled(_) => {}
        }
    }
    Ok(Rendered {
        yaml: crate::kustomize::to_yaml(&objects),
        warnings,
    })
}
