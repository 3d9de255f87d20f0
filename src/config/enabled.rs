//! Which components a spec enables: the one place that maps `spec.components` switches (and the
//! original's implied rules) onto [`ComponentId`]s.

use std::collections::BTreeSet;

use super::Flavour;
use crate::crd::{ComponentId, ComponentsSpec};

/// The set of enabled components.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Enabled(BTreeSet<ComponentId>);

impl Enabled {
    pub fn from_spec(spec: &ComponentsSpec, flavour: Flavour) -> Enabled {
        Enabled(
            ComponentId::ALL
                .iter()
                .copied()
                .filter(|id| enabled(*id, spec, flavour))
                .collect(),
        )
    }

    pub fn contains(&self, id: ComponentId) -> bool {
        self.0.contains(&id)
    }

    /// The same set with `id` switched on or off (tests and derived configurations).
    pub fn with(mut self, id: ComponentId, on: bool) -> Enabled {
        if on {
            self.0.insert(id);
        } else {
            self.0.remove(&id);
        }
        self
    }
}

/// Whether `spec` enables `id`, with the original's rules (`whisk_create`, inventory §2.1).
fn enabled(id: ComponentId, spec: &ComponentsSpec, flavour: Flavour) -> bool {
    let on = |switch: Option<bool>| switch.unwrap_or(false);
    match id {
        // The runtimes, the controller, its endpoint and the system actions come with OpenWhisk.
        ComponentId::Preloader
        | ComponentId::Openwhisk
        | ComponentId::Endpoint
        | ComponentId::WhiskSystem => on(spec.openwhisk),
        ComponentId::Couchdb => on(spec.couchdb),
        ComponentId::Redis => on(spec.redis),
        ComponentId::Registry => on(spec.registry),
        // kind has no public certificates; OpenShift routes bring their own.
        ComponentId::Tls => on(spec.tls) && !matches!(flavour, Flavour::Kind | Flavour::Openshift),
        ComponentId::Cron => on(spec.cron),
        ComponentId::Minio => on(spec.minio),
        ComponentId::Seaweedfs => on(spec.seaweedfs),
        ComponentId::Static => on(spec.static_),
        // FerretDB (mongodb) stores its data in Postgres.
        ComponentId::Postgres => on(spec.postgres) || on(spec.mongodb),
        ComponentId::Mongodb => on(spec.mongodb),
        ComponentId::Zookeeper => on(spec.zookeeper),
        ComponentId::Kafka => on(spec.kafka),
        ComponentId::Invoker => on(spec.invoker),
        ComponentId::Monitoring => on(spec.monitoring),
        ComponentId::Quota => on(spec.quota),
        ComponentId::Etcd => on(spec.etcd),
        ComponentId::Milvus => on(spec.milvus),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implied_components_follow_their_switch() {
        let spec = ComponentsSpec {
            openwhisk: Some(true),
            mongodb: Some(true),
            tls: Some(true),
            ..ComponentsSpec::default()
        };
        let on = Enabled::from_spec(&spec, Flavour::Kind);
        for id in [
            ComponentId::Preloader,
            ComponentId::Openwhisk,
            ComponentId::Endpoint,
            ComponentId::WhiskSystem,
            ComponentId::Mongodb,
            ComponentId::Postgres,
        ] {
            assert!(on.contains(id), "{id}");
        }
        assert!(!on.contains(ComponentId::Tls), "no TLS on kind");
        assert!(Enabled::from_spec(&spec, Flavour::Generic).contains(ComponentId::Tls));
        assert!(!on.contains(ComponentId::Redis));
    }
}
