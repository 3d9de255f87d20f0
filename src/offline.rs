//! `nuvolaris-operator render`: every object the operator would apply for a CR, with no cluster.
//!
//! The CR is read the way `kubectl apply -f` reads it (YAML 1.1 typing, as `sigs.k8s.io/yaml`)
//! and admitted the way the API server admits it ([`crate::crd::validate`]) before anything is
//! rendered, so `render` rejects exactly what `kubectl apply` would.

use std::path::Path;

use crate::components::{self, ComponentRender};
use crate::config::{self, ClusterFacts, Config, GeneratedSecrets, NodeFacts};
use crate::crd::Whisk;
use crate::crd::validate::{self, Admitted, Rejection};

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
    /// What the API server would reject: one line per field error.
    #[error("{}", rejected_lines(path, rejection))]
    Rejected { path: String, rejection: Rejection },
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

fn rejected_lines(path: &str, rejection: &Rejection) -> String {
    let lines: Vec<String> = rejection
        .errors()
        .iter()
        .map(|e| format!("{path}: {e}"))
        .collect();
    lines.join("\n")
}

/// Renders the CR in `path` (YAML) for `flavour` (default: generic).
pub fn render_file(path: &Path, flavour: Option<&str>) -> Result<Rendered, OfflineError> {
    let whisk = read_whisk(path)?;
    render_whisk(&whisk, flavour)
}

/// Reads the one resource of the YAML (or JSON) file `path` as kubectl does and admits it as
/// the API server would.
pub fn read_resource(path: &Path) -> Result<Admitted, OfflineError> {
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| OfflineError::Read {
        path: display.clone(),
        source,
    })?;
    let parse_error = |message: String| OfflineError::Parse {
        path: display.clone(),
        message,
    };
    let mut documents = crate::kustomize::parse_kubectl_yaml(&text).map_err(parse_error)?;
    documents.retain(|d| !d.is_null());
    let document = match documents.len() {
        1 => documents.remove(0),
        n => return Err(parse_error(format!("expected one resource, found {n}"))),
    };
    validate::admit(&document).map_err(|rejection| OfflineError::Rejected {
        path: display,
        rejection,
    })
}

/// [`read_resource`], which must be a Whisk.
pub fn read_whisk(path: &Path) -> Result<Whisk, OfflineError> {
    let display = path.display().to_string();
    let admitted = read_resource(path)?;
    if admitted.kind != "Whisk" {
        return Err(OfflineError::Parse {
            path: display,
            message: format!("a {} is not a Whisk", admitted.kind),
        });
    }
    serde_json::from_value(admitted.object).map_err(|e| OfflineError::Parse {
        path: display,
        message: e.to_string(),
    })
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
            ComponentRender::Unsupported { id, reason, .. } => {
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
