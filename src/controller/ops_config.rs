//! What the controller publishes on the `ops` CLI's `cm/config`, decided purely from the render
//! and the components' outcomes: every component's annotations (those of
//! [`Publish::Ready`]/[`Publish::Failed`] by its outcome in this reconcile), the
//! `<name>_version` of its annotated workloads, and the operator's own version. Nothing here is
//! specific to one component.

use std::collections::{BTreeMap, BTreeSet};

use super::status::{ComponentOutcome, Outcome};
use crate::components::{ComponentRender, ConfigAnnotation, Publish, ops_config};
use crate::crd::ComponentId;

/// One annotation and who publishes it (`None`: the operator itself).
#[derive(Debug, Clone)]
struct Entry {
    publisher: Option<ComponentId>,
    annotation: ConfigAnnotation,
}

/// Every annotation the installation may publish, before the outcomes are known.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConfigPlan {
    entries: Vec<Entry>,
}

/// The annotations to publish after this reconcile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// Key → value.
    pub values: BTreeMap<String, String>,
    /// Keys whose published value stays as it is (an outcome-dependent annotation of a
    /// component still on its way, or kept unsupported); removed only when nothing published
    /// them before.
    pub sticky: BTreeSet<String>,
    /// The components that publish there (a failed publication fails them).
    pub publishers: BTreeSet<ComponentId>,
}

impl ConfigPlan {
    /// What `renders` publish: each component's annotations, the versions of its rendered
    /// workloads, and `nuvolaris-operator_version` when `operator_image` is known.
    pub(crate) fn new(renders: &[ComponentRender], operator_image: Option<&str>) -> ConfigPlan {
        let mut entries = Vec::new();
        for render in renders {
            let publisher = Some(render.id());
            let versions = match render {
                ComponentRender::Rendered(component) => {
                    ops_config::version_annotations(&component.objects)
                }
                _ => Vec::new(),
            };
            let annotations = render.annotations().unwrap_or_default().iter().cloned();
            entries.extend(annotations.chain(versions).map(|annotation| Entry {
                publisher,
                annotation,
            }));
        }
        if let Some(image) = operator_image {
            entries.push(Entry {
                publisher: None,
                annotation: ops_config::operator_version(image),
            });
        }
        ConfigPlan { entries }
    }

    /// The annotations for these outcomes. The first publisher of a key wins.
    pub(crate) fn resolve(&self, outcomes: &[ComponentOutcome]) -> Resolved {
        let mut resolved = Resolved::default();
        for Entry {
            publisher,
            annotation,
        } in &self.entries
        {
            if let Some(id) = publisher {
                resolved.publishers.insert(*id);
            }
            let outcome =
                publisher.and_then(|id| outcomes.iter().find(|o| o.id == id).map(|o| &o.outcome));
            let publish = match (annotation.when, outcome) {
                (Publish::Enabled, _) => true,
                (Publish::Ready, Some(Outcome::Ready)) => true,
                (Publish::Failed, Some(Outcome::Failed(_))) => true,
                (Publish::Ready | Publish::Failed, Some(on_its_way)) => {
                    if matches!(
                        on_its_way,
                        Outcome::Progressing(_) | Outcome::Unsupported(_)
                    ) {
                        resolved.sticky.insert(annotation.key.clone());
                    }
                    false
                }
                (Publish::Ready | Publish::Failed, None) => false,
            };
            if publish {
                resolved
                    .values
                    .entry(annotation.key.clone())
                    .or_insert_with(|| annotation.value.clone());
            }
        }
        resolved
            .sticky
            .retain(|key| !resolved.values.contains_key(key));
        resolved
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::components::RenderedComponent;

    fn rendered(id: ComponentId, annotations: Vec<ConfigAnnotation>) -> ComponentRender {
        ComponentRender::Rendered(RenderedComponent {
            id,
            objects: vec![json!({
                "kind": "StatefulSet", "metadata": {"name": id.key()},
                "spec": {"template": {
                    "metadata": {"labels": {"name": id.key()},
                                 "annotations": {ops_config::ANNOTATE_VERSION: "true"}},
                    "spec": {"containers": [{"name": "c", "image": format!("{}:1", id.key())}]},
                }},
            })],
            setup_jobs: Vec::new(),
            annotations,
            dependencies: Vec::new(),
        })
    }

    fn status_annotations() -> Vec<ConfigAnnotation> {
        vec![
            ConfigAnnotation::plain("system_action_status", "created").when_ready(),
            ConfigAnnotation::plain("system_action_status", "failed").when_failed(),
            ConfigAnnotation::plain("always", "yes"),
        ]
    }

    fn outcome(id: ComponentId, outcome: Outcome) -> ComponentOutcome {
        ComponentOutcome { id, outcome }
    }

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn outcome_dependent_annotations_follow_the_outcome() {
        let id = ComponentId::WhiskSystem;
        let plan = ConfigPlan::new(&[rendered(id, status_annotations())], Some("op:7"));
        let base = [
            ("always", "yes"),
            ("whisk-system_version", "whisk-system:1"),
            ("nuvolaris-operator_version", "op:7"),
        ];
        let with = |extra: &[(&str, &str)]| {
            let mut v = values(&base);
            v.extend(values(extra));
            v
        };

        let ready = plan.resolve(&[outcome(id, Outcome::Ready)]);
        assert_eq!(ready.values, with(&[("system_action_status", "created")]));
        assert!(ready.sticky.is_empty());
        assert_eq!(ready.publishers, BTreeSet::from([id]));

        let failed = plan.resolve(&[outcome(id, Outcome::Failed("job".into()))]);
        assert_eq!(failed.values, with(&[("system_action_status", "failed")]));

        // on its way again, or kept unsupported: the last value stays
        for waiting in [
            Outcome::Progressing("job".into()),
            Outcome::Unsupported("mode".into()),
        ] {
            let resolved = plan.resolve(&[outcome(id, waiting)]);
            assert_eq!(resolved.values, with(&[]));
            assert_eq!(
                resolved.sticky,
                BTreeSet::from(["system_action_status".to_owned()])
            );
        }
    }

    #[test]
    fn disabled_components_publish_nothing_and_the_first_publisher_wins() {
        let plan = ConfigPlan::new(
            &[
                rendered(
                    ComponentId::Redis,
                    vec![ConfigAnnotation::plain("shared", "redis")],
                ),
                rendered(
                    ComponentId::Couchdb,
                    vec![ConfigAnnotation::plain("shared", "couchdb")],
                ),
                ComponentRender::Disabled(ComponentId::Minio),
            ],
            None,
        );
        let resolved = plan.resolve(&[]);
        assert_eq!(
            resolved.values,
            values(&[
                ("couchdb_version", "couchdb:1"),
                ("redis_version", "redis:1"),
                ("shared", "redis"),
            ])
        );
        assert!(!resolved.publishers.contains(&ComponentId::Minio));
    }
}
