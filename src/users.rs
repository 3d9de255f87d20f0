//! What one `WhiskUser` needs, computed from it and the installation's [`Config`]: pure, so
//! every rule is unit-tested without a cluster. The WhiskUser controller
//! (`controller::user`) applies the result with the shared apply machinery.
//!
//! A user gets, in the Whisk's namespace:
//! - its API routes on `<namespace>.<apihost>` through [`web::publish`] (nginx or Traefik
//!   Ingresses, OpenShift Routes): `<ns>-apihost-api-ingress` (`/api/v1` → the controller) and
//!   `<ns>-apihost-my-api-ingress` (`/api/my` → `/api/v1/web/<ns>/`), `-route` on OpenShift,
//!   the original's names;
//! - with `components.static` and the user's web bucket, its static site `<ns>-static-ingress`
//!   (`/` of `<namespace>.<apihost>` → `/<web bucket>/` of the static web server);
//! - the Job `<name>-user-setup` running `nuvolaris-operator setup user` (see
//!   `setup::UserSetupConfig`): CouchDB subject, Redis ACL user, MinIO account and buckets,
//!   Postgres and FerretDB roles and databases, Milvus user, database and role, metadata
//!   document. Its secret
//!   values (the user's passwords and auth, the stores' admin passwords) are in the generated
//!   Secret `<name>-user-setup-auth-<hash>`; a changed value changes that name, so the Job is
//!   re-created and re-run.
//!
//! Deleting a user renders the Job `<name>-user-delete` (`USER_ACTION=delete`) instead.
//!
//! Each store is gated by the installation's components: a store the Whisk does not enable is
//! `off` for every user; one the user switches off is removed from it (Redis: its ACL user).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::apply::Object;
use crate::components::kit::{setup_job_object, url_userinfo};
use crate::components::web::{self, Target, WebRoute};
use crate::config::storage::{ObjectStore, Provider, S3_PORT};
use crate::config::{Config, Flavour, Publisher};
use crate::crd::{ComponentId, WhiskUser};
use crate::kustomize::Kustomization;
use crate::secret::Secret;
use crate::setup::postgres::PgServer;
use crate::setup::s3::S3Credentials;
use crate::setup::user_stores::{
    self, ObjectStoreAdmin, UserBuckets, UserDatabase, UserMilvus, UserObjectStore, UserPostgres,
};
use crate::setup::{SetupSettings, UserAction, UserRedisTarget, UserSetupConfig, split_auth};

/// The value of the component label on a user's children.
pub const USER_COMPONENT: &str = "whiskuser";

/// State of one key of `status.whisk_user_create`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreState {
    /// The user has it and the installation provides it: done once the setup Job is.
    Wanted,
    /// Not enabled for the user, or not provided by the installation.
    Off,
    /// Wanted, but this version does not build it yet (reported, never faked).
    NotBuilt,
}

/// The per-user status keys of the original (`whisk_user_create`), in its order.
pub const STATUS_KEYS: [&str; 11] = [
    "couchdb",
    "api",
    "storage_user",
    "storage_data",
    "storage_route",
    "static",
    "mongodb",
    "redis",
    "postgres",
    "milvus",
    "user_metadata",
];

/// Everything a user needs.
#[derive(Debug, Clone)]
pub struct UserRender {
    /// Routes, the setup (or delete) Job and its Secret, not yet prepared for apply.
    pub objects: Vec<Object>,
    /// Name of the Job among `objects`.
    pub job: String,
    /// One state per [`STATUS_KEYS`] entry.
    pub stores: BTreeMap<&'static str, StoreState>,
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// The user's spec cannot be applied: the user's to fix.
    #[error("invalid spec: {0}")]
    Invalid(String),
    /// The installation is not ready for users yet (e.g. no apihost).
    #[error("{0}")]
    Waiting(String),
    /// An operator defect (a render that cannot fail did).
    #[error("cannot render the user's objects: {0}")]
    Defect(String),
}

/// The Job name of `user` for `action`.
pub fn job_name(user: &str, action: UserAction) -> String {
    match action {
        UserAction::Apply => format!("{user}-user-setup"),
        UserAction::Delete => format!("{user}-user-delete"),
    }
}

/// Renders what `user` needs from the installation `cfg`.
pub fn render_user(
    user: &WhiskUser,
    cfg: &Config,
    action: UserAction,
) -> Result<UserRender, UserError> {
    let spec = &user.spec;
    let name = user
        .metadata
        .name
        .clone()
        .ok_or_else(|| UserError::Defect("the WhiskUser has no name".into()))?;
    let login = spec.namespace.clone();
    let auth = split_auth(&Secret::new(spec.auth.clone())).map_err(|_| {
        UserError::Invalid("spec.auth is not uuid:key with a 64-character key".into())
    })?;
    let host = cfg
        .apihost
        .host
        .as_deref()
        .map(|apihost| format!("{login}.{apihost}"))
        .ok_or_else(|| UserError::Waiting("the installation's apihost is not known yet".into()))?;
    let url = |path: &str| format!("{}://{host}{path}", cfg.apihost.scheme());

    let mut stores: BTreeMap<&'static str, StoreState> =
        STATUS_KEYS.iter().map(|k| (*k, StoreState::Off)).collect();
    stores.insert("couchdb", StoreState::Wanted);
    stores.insert("api", StoreState::Wanted);
    stores.insert("user_metadata", StoreState::Wanted);

    let mut setup = UserSetupConfig::new(
        login.clone(),
        spec.email.clone(),
        Secret::new(spec.password.clone()),
        auth,
        format!("http://{}:{}", cfg.couchdb.host, cfg.couchdb.port),
        (
            cfg.couchdb.admin.user.clone(),
            cfg.couchdb.admin.password.clone(),
        ),
    );
    setup.action = action;
    if action == UserAction::Delete {
        // bounded: an unreachable store must not hold the delete (see `setup_job`)
        setup.wait = std::time::Duration::from_secs(15);
    }
    let mut metadata: Vec<(String, Secret)> = vec![
        ("USER_REST_API_URL".into(), Secret::new(url("/api/my"))),
        ("USER_V1_API_URL".into(), Secret::new(url(""))),
    ];
    let mut quota: Vec<(String, String)> = Vec::new();

    let redis_wanted = spec.redis.as_ref().is_some_and(|r| r.enabled);
    if cfg.enabled(ComponentId::Redis) {
        let user_side = if redis_wanted {
            let redis = spec.redis.as_ref().cloned().unwrap_or_default();
            let password = redis.password.filter(|p| !p.is_empty()).ok_or_else(|| {
                UserError::Invalid("spec.redis.password is required when redis is enabled".into())
            })?;
            let mut prefix = redis
                .prefix
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| login.clone());
            if !prefix.ends_with(':') {
                prefix.push(':');
            }
            metadata.extend([
                ("REDIS_PREFIX".to_owned(), Secret::new(prefix.clone())),
                (
                    "REDIS_URL".to_owned(),
                    Secret::new(format!("redis://{login}:{password}@redis:6379")),
                ),
                ("REDIS_PROVIDER".to_owned(), Secret::new("redis")),
                ("REDIS_PASSWORD".to_owned(), Secret::new(password.clone())),
            ]);
            if let Some(q) = redis.quota.filter(|q| !q.is_empty()) {
                quota.push(("REDIS".into(), q));
            }
            stores.insert("redis", StoreState::Wanted);
            Some((Secret::new(password), prefix))
        } else {
            None
        };
        setup.redis = Some(UserRedisTarget {
            address: "redis:6379".into(),
            default_password: cfg.redis.default_password.clone(),
            user: user_side,
        });
    }
    let deleting = action == UserAction::Delete;
    let mut static_route = None;
    if let Some(store) = cfg.object_store() {
        let storage = spec.object_storage.clone().unwrap_or_default();
        let bucket = |b: &Option<crate::crd::UserBucket>, default: String| {
            b.as_ref().filter(|b| b.enabled || deleting).map(|b| {
                b.bucket
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or(default)
            })
        };
        let data = bucket(&storage.data, format!("{login}-data"));
        let route = bucket(&storage.route, format!("{login}-web"));
        let wanted = data.is_some() || route.is_some();
        // a delete removes the buckets whatever the password: any value will do
        let password = storage
            .password
            .filter(|p| !p.is_empty())
            .or_else(|| deleting.then(|| "unused-on-delete".to_owned()));
        let quota_mb = match (
            quota_mb("object-storage", storage.quota.as_deref())?,
            store.provider,
        ) {
            // SeaweedFS' buckets always have one (the original's default-bucket-quota)
            (None, Provider::Seaweedfs) => Some(u64::from(cfg.seaweedfs.bucket_quota_mb)),
            (quota, _) => quota,
        };
        let user = match (wanted, password) {
            (false, _) => None,
            (true, None) => {
                return Err(UserError::Invalid(
                    "spec.object-storage.password is required when a bucket is enabled".into(),
                ));
            }
            (true, Some(password)) => Some(UserBuckets {
                secret_key: Secret::new(password),
                data: data.clone(),
                route: route.clone(),
                quota_mb,
            }),
        };
        if let Some(user) = &user {
            stores.insert("storage_user", StoreState::Wanted);
            metadata.extend(s3_metadata(cfg, &store, &login, user));
            if data.is_some() {
                stores.insert("storage_data", StoreState::Wanted);
            }
            if let Some(web) = &route {
                stores.insert("storage_route", StoreState::Wanted);
                if cfg.enabled(ComponentId::Static) {
                    stores.insert("static", StoreState::Wanted);
                    metadata.push(("STATIC_CONTENT_URL".into(), Secret::new(url(""))));
                    static_route = Some(static_route_of(&login, &host, web, cfg));
                }
            }
        }
        let admin = match store.provider {
            Provider::Minio => ObjectStoreAdmin::Minio(S3Credentials::new(
                &cfg.minio.root.user,
                cfg.minio.root.password.clone(),
            )),
            Provider::Seaweedfs => ObjectStoreAdmin::Seaweedfs {
                filer_url: format!(
                    "http://{}:{}",
                    store.host,
                    crate::config::seaweedfs::FILER_PORT
                ),
            },
        };
        setup.object_store = Some(UserObjectStore {
            url: store.url(),
            admin,
            user,
        });
    }
    let server = |timeout| PgServer {
        address: format!("{}:{}", cfg.postgres.host, cfg.postgres.port),
        superuser: "postgres".to_owned(),
        password: cfg.postgres.admin_password.clone(),
        timeout,
    };
    for (key, component, section) in [
        ("postgres", ComponentId::Postgres, &spec.postgres),
        ("mongodb", ComponentId::Mongodb, &spec.mongodb),
    ] {
        if !cfg.enabled(component) {
            continue;
        }
        let section = section.as_ref().filter(|d| d.enabled || deleting);
        let user = match section {
            None => None,
            Some(d) => {
                let password = d
                    .password
                    .clone()
                    .filter(|p| !p.is_empty())
                    .or_else(|| deleting.then(|| "unused-on-delete".to_owned()))
                    .ok_or_else(|| {
                        UserError::Invalid(format!(
                            "spec.{key}.password is required when {key} is enabled"
                        ))
                    })?;
                let database = d
                    .database
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| login.clone())
                    // the original's unquoted names folded to lower case (the quota checker's too)
                    .to_lowercase();
                if database.len() > 50 {
                    return Err(UserError::Invalid(format!(
                        "spec.{key}.database has more than 50 characters"
                    )));
                }
                Some(UserDatabase {
                    database,
                    password: Secret::new(password),
                })
            }
        };
        if let Some(user) = &user {
            stores.insert(key, StoreState::Wanted);
            metadata.extend(match component {
                ComponentId::Postgres => postgres_metadata(cfg, &login, user),
                _ => mongodb_metadata(cfg, &login, user),
            });
        }
        let target = UserPostgres {
            server: server(setup.timeout),
            user,
            extensions: match component {
                ComponentId::Postgres => vec!["vector".to_owned()],
                _ => Vec::new(),
            },
            ferretdb_database: match component {
                ComponentId::Postgres => String::new(),
                _ => crate::config::mongodb::DATABASE.to_owned(),
            },
        };
        match component {
            ComponentId::Postgres => setup.postgres = Some(target),
            _ => setup.mongodb = Some(target),
        }
    }
    if cfg.enabled(ComponentId::Milvus) {
        use crate::config::milvus::{NAME, PORT};
        let section = spec.milvus.as_ref().filter(|d| d.enabled || deleting);
        let user = match section {
            None => None,
            Some(d) => {
                let password = d
                    .password
                    .clone()
                    .filter(|p| !p.is_empty())
                    .or_else(|| deleting.then(|| "unused-on-delete".to_owned()))
                    .ok_or_else(|| {
                        UserError::Invalid(
                            "spec.milvus.password is required when milvus is enabled".into(),
                        )
                    })?;
                // Milvus names are letters, digits and underscores
                let database = d
                    .database
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| login.replace('-', "_"));
                Some(UserDatabase {
                    database,
                    password: Secret::new(password),
                })
            }
        };
        if let Some(user) = &user {
            stores.insert("milvus", StoreState::Wanted);
            metadata.extend(
                [
                    (
                        "MILVUS_HOST",
                        format!("{NAME}.{}.svc.cluster.local", cfg.namespace),
                    ),
                    ("MILVUS_PORT", PORT.to_string()),
                    (
                        "MILVUS_TOKEN",
                        format!("{login}:{}", user.password.expose()),
                    ),
                    ("MILVUS_DB_NAME", user.database.clone()),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), Secret::new(v))),
            );
        }
        setup.milvus = Some(UserMilvus {
            url: format!("http://{NAME}:{PORT}"),
            root_password: cfg.milvus.root_password.clone(),
            user,
        });
    }
    for (key, value) in [
        (
            "OBJECT_STORAGE",
            spec.object_storage.as_ref().and_then(|s| s.quota.clone()),
        ),
        (
            "MONGODB",
            spec.mongodb.as_ref().and_then(|d| d.quota.clone()),
        ),
        (
            "POSTGRES",
            spec.postgres.as_ref().and_then(|d| d.quota.clone()),
        ),
    ] {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            quota.push((key.into(), value));
        }
    }
    setup.metadata = metadata;
    setup.quota = quota;

    let mut objects = Vec::new();
    if action == UserAction::Apply {
        for route in api_routes(&login, &host, cfg)
            .iter()
            .chain(static_route.iter())
        {
            objects.extend(web::publish(route, &cfg.publisher, &cfg.namespace));
        }
    }
    let job = job_name(&name, action);
    objects.extend(setup_job(
        &job,
        &setup,
        &cfg.operator_image,
        &cfg.namespace,
    )?);
    Ok(UserRender {
        objects,
        job,
        stores,
    })
}

/// The user's API routes (the original's `<ns>-apihost-api-*` and `<ns>-apihost-my-api-*`).
fn api_routes(login: &str, host: &str, cfg: &Config) -> Vec<WebRoute> {
    let suffix = match cfg.publisher {
        Publisher::OpenshiftRoute => "route",
        _ => "ingress",
    };
    let timeout = crate::components::endpoint::seconds(&cfg.controller.limits.time_max);
    let route = |name: &str, path: &str, to: String| WebRoute {
        name: format!("{login}-{name}-{suffix}"),
        host: Some(host.to_owned()),
        path: path.to_owned(),
        target: Target::Replace(to),
        service: "controller".to_owned(),
        port: 3233,
        route_backend: Some(("controller-ip".to_owned(), 8080)),
        tls_secret: cfg.tls.then(|| format!("{login}-crt")),
        timeout_seconds: timeout,
    };
    vec![
        route("apihost-api", "/api/v1", "/api/v1/".to_owned()),
        route("apihost-my-api", "/api/my", format!("/api/v1/web/{login}/")),
    ]
}

/// The user's static site: `/` of `<namespace>.<apihost>` → `/<web bucket>/…` of the static
/// web server (the original's `<ns>-static-ingress`, `-route` on OpenShift).
fn static_route_of(login: &str, host: &str, bucket: &str, cfg: &Config) -> WebRoute {
    let suffix = match cfg.publisher {
        Publisher::OpenshiftRoute => "route",
        _ => "ingress",
    };
    WebRoute {
        name: format!("{login}-static-{suffix}"),
        host: Some(host.to_owned()),
        path: "/".to_owned(),
        target: Target::Prefix(format!("/{bucket}")),
        service: "nuvolaris-static-svc".to_owned(),
        port: crate::components::static_content::PORT,
        route_backend: None,
        tls_secret: cfg.tls.then(|| format!("{login}-crt")),
        timeout_seconds: crate::components::object_store::TIMEOUT_SECONDS,
    }
}

/// A quota in MB, or `None` for `auto` (or unset).
fn quota_mb(section: &str, quota: Option<&str>) -> Result<Option<u64>, UserError> {
    match quota
        .map(str::trim)
        .filter(|q| !q.is_empty() && *q != "auto")
    {
        None => Ok(None),
        Some(q) => q.parse::<u64>().map(Some).map_err(|_| {
            UserError::Invalid(format!(
                "spec.{section}.quota is neither auto nor a number of MB"
            ))
        }),
    }
}

/// The `S3_*` keys of the `login` answer (the original's), for the user's account.
fn s3_metadata(
    cfg: &Config,
    store: &ObjectStore,
    login: &str,
    user: &UserBuckets,
) -> Vec<(String, Secret)> {
    let scheme = cfg.apihost.scheme();
    let routes = match store.provider {
        Provider::Minio => &cfg.minio.routes,
        Provider::Seaweedfs => &cfg.seaweedfs.routes,
    };
    let mut out = vec![
        ("S3_PROVIDER".to_owned(), store.provider.name().to_owned()),
        ("S3_HOST".to_owned(), store.host.clone()),
        ("S3_PORT".to_owned(), S3_PORT.to_string()),
        ("S3_ACCESS_KEY".to_owned(), login.to_owned()),
        (
            "S3_SECRET_KEY".to_owned(),
            user.secret_key.expose().to_owned(),
        ),
    ];
    // as the installation's `s3_api_url`: on kind the CLI maps the S3 port to localhost
    let api_url = if cfg.flavour == Flavour::Kind {
        Some(format!("http://localhost:{S3_PORT}"))
    } else {
        cfg.minio
            .routes
            .s3
            .as_ref()
            .map(|h| format!("{scheme}://{h}"))
    };
    out.extend(api_url.map(|u| ("S3_API_URL".to_owned(), u)));
    out.extend(
        routes
            .console
            .as_ref()
            .map(|h| ("S3_CONSOLE_URL".to_owned(), format!("{scheme}://{h}"))),
    );
    out.extend(user.data.clone().map(|b| ("S3_BUCKET_DATA".to_owned(), b)));
    out.extend(
        user.route
            .clone()
            .map(|b| ("S3_BUCKET_STATIC".to_owned(), b)),
    );
    out.into_iter().map(|(k, v)| (k, Secret::new(v))).collect()
}

/// The `POSTGRES_*` keys of the `login` answer.
fn postgres_metadata(cfg: &Config, login: &str, user: &UserDatabase) -> Vec<(String, Secret)> {
    let host = format!("{}.{}.svc.cluster.local", cfg.postgres.host, cfg.namespace);
    let role = user_stores::postgres_names(login).0;
    let url = format!(
        "postgresql://{}:{}@{host}:{}/{}",
        url_userinfo(&role),
        url_userinfo(user.password.expose()),
        cfg.postgres.port,
        url_userinfo(&user.database)
    );
    [
        ("POSTGRES_HOST", host.clone()),
        ("POSTGRES_PORT", cfg.postgres.port.to_string()),
        ("POSTGRES_DATABASE", user.database.clone()),
        ("POSTGRES_USERNAME", role),
        ("POSTGRES_PASSWORD", user.password.expose().to_owned()),
        ("POSTGRES_URL", url),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), Secret::new(v)))
    .collect()
}

/// `MONGODB_URL` of the `login` answer: FerretDB with PLAIN authentication as the user's role.
fn mongodb_metadata(cfg: &Config, login: &str, user: &UserDatabase) -> Vec<(String, Secret)> {
    let (role, database) = user_stores::ferretdb_names(login, &user.database);
    let url = format!(
        "mongodb://{}:{}@nuvolaris-mongodb-0.nuvolaris-mongodb-svc.{}.svc.cluster.local:{}/{}?connectTimeoutMS=60000&authMechanism=PLAIN",
        url_userinfo(&role),
        url_userinfo(user.password.expose()),
        cfg.namespace,
        crate::config::mongodb::PORT,
        url_userinfo(&database)
    );
    vec![("MONGODB_URL".to_owned(), Secret::new(url))]
}

/// The Job `job` and its generated Secret `<job>-auth-<hash>` (the kustomize secret generator:
/// the hash in the name re-creates the Job when a value changes).
fn setup_job(
    job: &str,
    setup: &UserSetupConfig,
    image: &str,
    namespace: &str,
) -> Result<Vec<Object>, UserError> {
    let env = setup.to_env();
    let secret = format!("{job}-auth");
    let mut object = setup_job_object(job, &secret, &env, image);
    // Bounded: the delete must finish well within the CLI's 60 s; a setup that cannot reach a
    // store fails, and failed setup Jobs are re-run by the controller.
    object["spec"]["activeDeadlineSeconds"] = Value::from(match setup.action {
        UserAction::Apply => 300,
        UserAction::Delete => 40,
    });
    let mut kustomization = Kustomization::new().namespace(namespace);
    for (key, value) in &env.secret {
        kustomization = kustomization.secret_literal(&secret, key, value.expose());
    }
    kustomization
        .resource_object("job", &object)
        .build()
        .map_err(|e| UserError::Defect(e.to_string()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::components::test_support::config;

    fn user(spec: Value) -> WhiskUser {
        serde_json::from_value(json!({
            "apiVersion": "nuvolaris.org/v1", "kind": "WhiskUser",
            "metadata": {"name": "devel", "namespace": "nuvolaris"},
            "spec": spec,
        }))
        .expect("a valid WhiskUser")
    }

    fn spec() -> Value {
        json!({
            "email": "devel@example.com", "password": "pw", "namespace": "devel",
            "auth": format!("c3a47ffa-4742-427d-a16a-c4dd5eb75f03:{}", "k".repeat(64)),
            "object-storage": {"password": "s3-pw", "quota": "20",
                "data": {"enabled": true, "bucket": "devel-data"},
                "route": {"enabled": true, "bucket": "devel-web"}},
            "postgres": {"enabled": true, "database": "Devel", "password": "pg-pw"},
            "mongodb": {"enabled": true, "database": "devel", "password": "mg-pw"},
            "milvus": {"enabled": true, "database": "devel", "password": "mv-pw"},
        })
    }

    #[test]
    fn stores_static_site_and_metadata_follow_the_installation() {
        let cfg = config(json!({
            "nuvolaris": {"apihost": "api.example.org"},
            "components": {"minio": true, "static": true, "postgres": true, "mongodb": true,
                           "milvus": true},
        }));
        let render = render_user(&user(spec()), &cfg, UserAction::Apply).expect("renders");
        for key in [
            "storage_user",
            "storage_data",
            "storage_route",
            "static",
            "postgres",
            "mongodb",
        ] {
            assert_eq!(render.stores[key], StoreState::Wanted, "{key}");
        }
        assert!(
            render
                .objects
                .iter()
                .any(|o| o["metadata"]["name"] == "devel-static-ingress"),
            "the user's static site"
        );
        let secret = render
            .objects
            .iter()
            .find(|o| o["kind"] == "Secret")
            .expect("the Job's Secret");
        let keys: Vec<&str> = secret["data"]
            .as_object()
            .expect("data")
            .keys()
            .map(String::as_str)
            .collect();
        for key in [
            "USER_S3_SECRET_KEY",
            "USER_POSTGRES_PASSWORD",
            "USER_MONGODB_PASSWORD",
            "NUVOLARIS_METADATA_S3_SECRET_KEY",
            "NUVOLARIS_METADATA_POSTGRES_URL",
            "NUVOLARIS_METADATA_MONGODB_URL",
            "NUVOLARIS_METADATA_STATIC_CONTENT_URL",
            "NUVOLARIS_METADATA_MILVUS_TOKEN",
            "USER_MILVUS_PASSWORD",
        ] {
            assert!(keys.contains(&key), "{key} in {keys:?}");
        }
        let job = serde_json::to_string(
            render
                .objects
                .iter()
                .find(|o| o["kind"] == "Job")
                .expect("the Job"),
        )
        .expect("json");
        assert!(
            job.contains("USER_S3_QUOTA_MB") && job.contains("\"devel\""),
            "{job}"
        );
        for secret in ["s3-pw", "pg-pw", "mg-pw", "mv-pw"] {
            assert!(!job.contains(secret), "{secret} in the Job");
        }

        // SeaweedFS: the same keys, and `auto` is the installation's bucket quota
        let weed = config(json!({
            "nuvolaris": {"apihost": "api.example.org"},
            "components": {"seaweedfs": true},
        }));
        let mut auto = spec();
        auto["object-storage"]["quota"] = json!("auto");
        let render = render_user(&user(auto), &weed, UserAction::Apply).expect("renders");
        assert_eq!(render.stores["storage_route"], StoreState::Wanted);
        let job = serde_json::to_string(&render.objects).expect("json");
        assert!(job.contains("SEAWEEDFS_FILER_URL"), "{job}");
        assert!(
            job.contains(&format!("\"{}\"", weed.seaweedfs.bucket_quota_mb)),
            "the default quota: {job}"
        );

        // a store the installation lacks is off; a bad quota is the user's to fix
        let bare = config(json!({"nuvolaris": {"apihost": "api.example.org"}}));
        let render = render_user(&user(spec()), &bare, UserAction::Apply).expect("renders");
        assert_eq!(render.stores["storage_user"], StoreState::Off);
        let mut bad = spec();
        bad["object-storage"]["quota"] = json!("lots");
        assert!(matches!(
            render_user(&user(bad), &cfg, UserAction::Apply),
            Err(UserError::Invalid(_))
        ));
    }
}
