//! The component contract, checked for every component: what a component renders matches what
//! it declares (kinds), the generated Secret covers what configurations read, and the operator's
//! own RBAC (`deploy/operator/rbac.yaml`) grants every verb the apply layer needs on every kind
//! any component can create.

use std::collections::BTreeSet;

use nuvolaris_operator::apply::kinds::{self, KnownKind};
use nuvolaris_operator::components::{self, ComponentRender};
use nuvolaris_operator::config::{ClusterFacts, Config, Flavour, GeneratedSecrets, NodeFacts};
use nuvolaris_operator::crd::{ComponentId, Whisk};
use serde::Deserialize;
use serde_json::{Value, json};

const FLAVOURS: [&str; 9] = [
    "kind",
    "k3s",
    "microk8s",
    "eks",
    "gke",
    "aks",
    "lks",
    "openshift",
    "generic",
];

/// Specs that switch on every component, with and without the optional parts.
fn specs() -> Vec<Value> {
    let every = |extra: Value| {
        let mut components = serde_json::Map::new();
        for id in ComponentId::ALL {
            components.insert(id.key().to_owned(), json!(true));
        }
        // exclusive switches: one object store at a time
        components.insert("seaweedfs".into(), json!(false));
        let mut spec = json!({"components": components});
        if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
            spec.extend(extra.clone());
        }
        spec
    };
    vec![
        every(json!({})),
        every(json!({
            "redis": {"persistence-enabled": true},
            "nuvolaris": {"affinity": true, "tolerations": true},
            "configs": {
                "couchdb": {"resources": {"cpu-req": "1"}},
                "controller": {"resources": {"cpu-req": "1"}},
            },
        })),
        json!({"components": {"openwhisk": true, "couchdb": true, "redis": true}}),
        json!({"components": {"couchdb": true, "minio": false, "seaweedfs": true}}),
    ]
}

fn configs() -> Vec<Config> {
    let secrets = GeneratedSecrets::placeholders(&components::generated_secret_keys());
    let mut out = Vec::new();
    for spec in specs() {
        let whisk: Whisk = serde_json::from_value(json!({
            "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
            "metadata": {"name": "controller", "namespace": "nuvolaris"},
            "spec": spec,
        }))
        .expect("a valid Whisk");
        for flavour in FLAVOURS {
            let facts = ClusterFacts {
                nodes: vec![NodeFacts {
                    labels: [("nuvolaris.io/kube".to_owned(), flavour.to_owned())].into(),
                    ..NodeFacts::default()
                }],
                ..ClusterFacts::default()
            };
            let cfg = Config::from_whisk(&whisk, &facts, &secrets)
                .unwrap_or_else(|e| panic!("{flavour}: {e}"));
            assert_eq!(cfg.flavour, Flavour::parse(flavour).expect("a flavour"));
            out.push(cfg);
        }
    }
    out
}

fn group_of(api_version: &str) -> &str {
    api_version
        .split_once('/')
        .map(|(group, _)| group)
        .unwrap_or("")
}

#[test]
fn every_rendered_object_is_of_a_kind_its_component_declares() {
    let mut rendered_components = BTreeSet::new();
    for cfg in configs() {
        for render in components::render_all(&cfg).expect("renders") {
            let ComponentRender::Rendered(rendered) = render else {
                continue;
            };
            rendered_components.insert(rendered.id);
            let component = components::component(rendered.id).expect("implemented");
            for object in &rendered.objects {
                let api_version = object["apiVersion"].as_str().expect("apiVersion");
                let kind = object["kind"].as_str().expect("kind");
                let declared = component
                    .kinds()
                    .iter()
                    .any(|k| k.group == group_of(api_version) && k.kind == kind);
                assert!(
                    declared,
                    "{}: renders a {kind} ({api_version}) it does not declare",
                    rendered.id
                );
            }
            for job in &rendered.setup_jobs {
                assert!(
                    rendered
                        .objects
                        .iter()
                        .any(|o| o["kind"] == "Job" && o["metadata"]["name"] == json!(job)),
                    "{}: setup Job {job} is not among its objects",
                    rendered.id
                );
            }
        }
    }
    let implemented: BTreeSet<ComponentId> = components::implemented().map(|c| c.id()).collect();
    assert_eq!(
        rendered_components, implemented,
        "every implemented component is rendered by some configuration"
    );
}

#[test]
fn every_declared_kind_is_in_the_registry() {
    for component in components::implemented() {
        for kind in component.kinds() {
            assert!(
                kinds::KNOWN_KINDS.contains(kind),
                "{}: {} is not in the registry",
                component.id(),
                kind.kind
            );
        }
    }
}

#[derive(Deserialize)]
struct Rule {
    #[serde(rename = "apiGroups", default)]
    api_groups: Vec<String>,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    verbs: Vec<String>,
}

/// The verbs of the operator's ClusterRole on `group`/`resource`.
fn granted(rules: &[Rule], group: &str, resource: &str) -> BTreeSet<String> {
    rules
        .iter()
        .filter(|r| r.api_groups.iter().any(|g| g == group || g == "*"))
        .filter(|r| r.resources.iter().any(|x| x == resource || x == "*"))
        .flat_map(|r| r.verbs.iter().cloned())
        .collect()
}

fn cluster_role_rules() -> Vec<Rule> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/operator/rbac.yaml");
    let text = std::fs::read_to_string(path).expect("deploy/operator/rbac.yaml");
    for document in serde_yaml_ng::Deserializer::from_str(&text) {
        let value = Value::deserialize(document).expect("valid YAML");
        if value["kind"] == "ClusterRole" && value["metadata"]["name"] == "nuvolaris-operator" {
            return serde_json::from_value(value["rules"].clone()).expect("rules");
        }
    }
    panic!("no ClusterRole nuvolaris-operator in {path}");
}

/// What apply, watch and prune do with a kind: read, list, watch, create and patch (server-side
/// apply), delete when prune may delete it.
fn needed_verbs(kind: &KnownKind) -> Vec<&'static str> {
    let mut verbs = vec!["get", "list", "watch", "create", "patch"];
    if kind.prunable {
        verbs.push("delete");
    }
    verbs
}

#[test]
fn the_operator_rbac_grants_every_verb_on_every_kind_a_component_creates() {
    let rules = cluster_role_rules();
    let mut missing = Vec::new();
    for kind in components::created_kinds() {
        let granted = granted(&rules, kind.group, kind.plural);
        for verb in needed_verbs(&kind) {
            if !granted.contains(verb) {
                missing.push(format!("{verb} {}.{}", kind.plural, kind.group));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "deploy/operator/rbac.yaml lacks: {}",
        missing.join(", ")
    );
}

/// A component's dependencies come before it in the installation order, so that one reconcile
/// can install both (the controller installs a component only once its dependencies are ready).
#[test]
fn dependencies_come_earlier_in_the_installation_order() {
    let position = |id: ComponentId| ComponentId::ALL.iter().position(|c| *c == id);
    for cfg in configs() {
        for component in components::implemented() {
            for dependency in component.dependencies(&cfg) {
                assert!(
                    position(dependency) < position(component.id()),
                    "{} depends on {dependency}, which is installed after it",
                    component.id()
                );
            }
        }
    }
}

/// RBAC refuses to create a Role or ClusterRole granting what its creator does not hold (unless
/// it may `escalate`, which the operator may not): every rule a component renders must be
/// covered by the operator's own ClusterRole.
#[test]
fn the_operator_holds_every_permission_the_roles_it_renders_grant() {
    let operator = cluster_role_rules();
    let mut missing = BTreeSet::new();
    let mut roles = 0;
    for cfg in configs() {
        for render in components::render_all(&cfg).expect("renders") {
            let ComponentRender::Rendered(rendered) = render else {
                continue;
            };
            for object in &rendered.objects {
                if object["kind"] != "Role" && object["kind"] != "ClusterRole" {
                    continue;
                }
                roles += 1;
                let rules: Vec<Rule> =
                    serde_json::from_value(object["rules"].clone()).expect("rules");
                for rule in &rules {
                    for group in &rule.api_groups {
                        for resource in &rule.resources {
                            let granted = granted(&operator, group, resource);
                            for verb in rule.verbs.iter().filter(|v| !granted.contains(*v)) {
                                missing.insert(format!(
                                    "{}: {verb} {resource}.{group} ({} {})",
                                    rendered.id, object["kind"], object["metadata"]["name"]
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(roles > 0, "some component renders roles");
    assert!(
        missing.is_empty(),
        "deploy/operator/rbac.yaml lacks what rendered roles grant: {missing:?}"
    );
}
