//! The identity of every component of an installation: one [`ComponentId`] variant per row of
//! the original's `whisk_create`, in its installation order.
//!
//! The variant is the single source of the component's status key (`.status.whisk_create.<key>`),
//! of the `nuvolaris.org/component` label value and of its printer column. Everything else that
//! depends on the set of components matches on it exhaustively — which spec switch enables it
//! (`config::enabled`), which module renders it (`components::component`) — so adding a variant
//! makes the compiler point at every place that must handle it.

macro_rules! component_ids {
    ($( $(#[$doc:meta])* $variant:ident = $key:literal, $title:literal; )*) => {
        /// One component of an installation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ComponentId {
            $( $(#[$doc])* $variant, )*
        }

        impl ComponentId {
            /// Every component, in installation order.
            pub const ALL: &'static [ComponentId] = &[ $( ComponentId::$variant, )* ];

            /// Status key under `.status.whisk_create` and value of the `nuvolaris.org/component`
            /// label, as the original named them.
            pub const fn key(self) -> &'static str {
                match self { $( ComponentId::$variant => $key, )* }
            }

            /// What the component is, for people (schema descriptions, messages).
            pub const fn title(self) -> &'static str {
                match self { $( ComponentId::$variant => $title, )* }
            }

            /// The component with this status key.
            pub fn from_key(key: &str) -> Option<ComponentId> {
                match key {
                    $( $key => Some(ComponentId::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

component_ids! {
    /// The `openwhisk-runtimes` ConfigMap and the Job that preloads the runtime images.
    Preloader = "preloader", "Runtime preloader";
    Couchdb = "couchdb", "CouchDB";
    Redis = "redis", "Redis";
    Registry = "registry", "Registry";
    /// The cert-manager ClusterIssuer of the apihost certificates.
    Tls = "tls", "TLS";
    /// The scheduled action executor.
    Cron = "cron", "Cron";
    Minio = "minio", "MinIO";
    Seaweedfs = "seaweedfs", "SeaweedFS";
    /// The nginx that serves the static web bucket.
    Static = "static", "Static content";
    Postgres = "postgres", "PostgreSQL";
    /// The MongoDB API (FerretDB on Postgres).
    Mongodb = "mongodb", "MongoDB";
    Zookeeper = "zookeeper", "Zookeeper";
    Kafka = "kafka", "Kafka";
    Invoker = "invoker", "Invoker";
    /// The OpenWhisk controller (standalone, or enterprise with the invoker).
    Openwhisk = "openwhisk", "OpenWhisk";
    /// The Ingresses (or Routes) that publish the OpenWhisk API on the apihost.
    Endpoint = "endpoint", "API endpoint";
    /// The whisk-system package `nuv` (the actions the `ops` CLI calls), deployed by a Job over
    /// the controller's REST API once the controller runs.
    WhiskSystem = "whisk-system", "whisk-system actions";
    Monitoring = "monitoring", "Monitoring";
    /// The quota checker.
    Quota = "quota", "Quota checker";
    Etcd = "etcd", "etcd";
    Milvus = "milvus", "Milvus";
}

impl ComponentId {
    /// The components shown as `kubectl get wsk` columns, in the original's column order.
    pub const PRINTED: [ComponentId; 17] = [
        ComponentId::Openwhisk,
        ComponentId::Invoker,
        ComponentId::Couchdb,
        ComponentId::Kafka,
        ComponentId::Mongodb,
        ComponentId::Redis,
        ComponentId::Cron,
        ComponentId::Tls,
        ComponentId::Minio,
        ComponentId::Postgres,
        ComponentId::Quota,
        ComponentId::Monitoring,
        ComponentId::Static,
        ComponentId::Etcd,
        ComponentId::Milvus,
        ComponentId::Registry,
        ComponentId::Seaweedfs,
    ];

    /// Header of the printer column, as the original spelled it (the key, capitalised).
    pub fn column(self) -> String {
        match self {
            ComponentId::Openwhisk => "OpenWhisk".to_owned(),
            ComponentId::Couchdb => "CouchDB".to_owned(),
            ComponentId::Mongodb => "MongoDB".to_owned(),
            other => {
                let key = other.key();
                let mut chars = key.chars();
                chars
                    .next()
                    .map(|first| first.to_uppercase().chain(chars).collect())
                    .unwrap_or_default()
            }
        }
    }
}

impl std::fmt::Display for ComponentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

impl serde::Serialize for ComponentId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.key())
    }
}
