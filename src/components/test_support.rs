//! Helpers for the components' unit tests: a configuration from a spec, a component's objects,
//! one object by kind and name.

use serde_json::{Value, json};

use super::{Component, generated_secret_keys};
use crate::config::{ClusterFacts, Config, GeneratedSecrets};
use crate::crd::Whisk;

/// The configuration of a Whisk `controller` in namespace `nuvolaris` with `spec`, on a generic
/// cluster, generated passwords as placeholders.
pub fn config(spec: Value) -> Config {
    let whisk: Whisk = serde_json::from_value(json!({
        "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
        "metadata": {"name": "controller", "namespace": "nuvolaris"},
        "spec": spec,
    }))
    .expect("a valid Whisk");
    let secrets = GeneratedSecrets::placeholders(&generated_secret_keys());
    Config::from_whisk(&whisk, &ClusterFacts::default(), &secrets).expect("a valid spec")
}

/// What `component` renders for `cfg`.
pub fn rendered(component: &dyn Component, cfg: &Config) -> Vec<Value> {
    component
        .overlay(cfg)
        .expect("renders")
        .build()
        .expect("builds")
        .objects
}

/// The object of `kind` named `name`, or generated from `name` (`name-<hash>`).
pub fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| {
            let n = o["metadata"]["name"].as_str().unwrap_or("");
            o["kind"] == kind
                && (n == name
                    || n.strip_prefix(name)
                        .and_then(|rest| rest.strip_prefix('-'))
                        .is_some_and(|hash| hash.len() == 10 && !hash.contains('-')))
        })
        .unwrap_or_else(|| panic!("no {kind} {name} among the rendered objects"))
}
