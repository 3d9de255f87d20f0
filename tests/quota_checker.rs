//! `nuvolaris-operator quota` (the quota checker) against real servers: PostgreSQL
//! (`tools/testdeps/postgres.sh`), redis-server (`tools/testdeps/redis.sh`) and the WhiskUsers
//! of the local control plane's API server (their annotations, the Postgres Secret).
//!
//! Users above their quota become read-only (PostgreSQL: INSERT refused, SELECT allowed; Redis:
//! SET refused, GET and DEL allowed) and are marked `…_quota_reached: "true"`; users below are
//! left alone; a second run changes nothing; below the quota again, they get write access back
//! and the mark `"false"`. A quota that is not a number is skipped with the others still checked.
//! The FerretDB user is made by the setup code itself (`setup mongodb`, then `setup user` with a
//! PouchDB for its CouchDB steps): its schema in FerretDB's database is measured and made
//! read-only, not a database of its own.

mod support;

use std::time::Instant;

use k8s_openapi::api::core::v1::Secret as KubeSecret;
use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use kube::core::ApiResource;
use kube::{Api, Client};
use nuvolaris_operator::crd::WhiskUser;
use nuvolaris_operator::periodic::quota::{
    FERRETDB_ANNOTATION, POSTGRES_ANNOTATION, POSTGRES_SECRET, POSTGRES_SECRET_KEY, PostgresTarget,
    QuotaReport, QuotaSettings, REDIS_ANNOTATION, RedisTarget, run_quota,
};
use nuvolaris_operator::setup::postgres::PgServer;
use nuvolaris_operator::setup::user_stores::{UserDatabase, UserPostgres};
use nuvolaris_operator::setup::{
    MongodbSetupConfig, Secret, UserSetupConfig, run_mongodb_setup, run_user_setup,
};
use serde_json::{Value, json};
use support::TestNamespace;
use support::servers::{Postgres, PouchDb, RedisServer, couchdb::ADMIN};

const USER_PASSWORD: &str = "user-S3cret";
/// FerretDB's PostgreSQL database, as the mongodb component names it.
const FERRETDB_DATABASE: &str = "ferretdb";

struct World {
    client: Client,
    ns: TestNamespace,
    pg: Postgres,
    redis: RedisServer,
    settings: QuotaSettings,
}

impl World {
    async fn new(prefix: &str) -> World {
        let client = support::cluster().await;
        support::install_crds(&client).await;
        let ns = TestNamespace::create(&client, prefix).await;
        let pg = Postgres::start();
        let redis = RedisServer::start();
        // the Secret the Postgres component deploys, with the superuser's password
        let secret: KubeSecret = serde_json::from_value(json!({
            "metadata": {"name": POSTGRES_SECRET},
            "stringData": {POSTGRES_SECRET_KEY: pg.password},
        }))
        .expect("a Secret");
        ns.api::<KubeSecret>()
            .create(&PostParams::default(), &secret)
            .await
            .expect("create the Postgres Secret");
        let settings = QuotaSettings::new(
            ns.name.clone(),
            Some(RedisTarget {
                address: redis.address.to_string(),
                password: Secret::new(redis.password.clone()),
            }),
            Some(PostgresTarget {
                host: "127.0.0.1".into(),
                port: pg.address.port(),
                ..PostgresTarget::nuvolaris()
            }),
            true,
        );
        World {
            client,
            ns,
            pg,
            redis,
            settings,
        }
    }

    fn users(&self) -> Api<DynamicObject> {
        Api::namespaced_with(
            self.client.clone(),
            &self.ns.name,
            &ApiResource::erase::<WhiskUser>(&()),
        )
    }

    async fn create_user(&self, name: &str, services: Value) {
        let mut spec = json!({
            "email": format!("{name}@example.org"), "password": USER_PASSWORD,
            "namespace": name,
            "auth": format!("00000000-0000-4000-8000-000000000000:{}", "k".repeat(64)),
        });
        spec.as_object_mut()
            .expect("spec")
            .extend(services.as_object().expect("services").clone());
        let user: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "nuvolaris.org/v1", "kind": "WhiskUser",
            "metadata": {"name": name}, "spec": spec,
        }))
        .expect("a WhiskUser");
        self.users()
            .create(&PostParams::default(), &user)
            .await
            .unwrap_or_else(|e| panic!("create WhiskUser {name}: {e}"));
    }

    async fn annotation(&self, user: &str, key: &str) -> Option<String> {
        self.users()
            .get(user)
            .await
            .expect("get WhiskUser")
            .metadata
            .annotations
            .and_then(|a| a.get(key).cloned())
    }

    /// A database owned by the role `role` with a schema of its own, as the original's
    /// WhiskUser setup makes them, and a table the role filled with `rows` rows.
    fn pg_user_database(&self, database: &str, role: &str, rows: u32) {
        let sql = format!(
            "CREATE DATABASE {database}; CREATE USER {role} WITH PASSWORD '{USER_PASSWORD}'; \
             GRANT ALL PRIVILEGES ON DATABASE {database} TO {role}; \
             REVOKE CONNECT ON DATABASE {database} FROM public;"
        );
        for statement in sql.split("; ") {
            self.pg
                .superuser_psql("postgres", statement)
                .unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
        self.pg
            .superuser_psql(
                database,
                &format!(
                    "CREATE SCHEMA {role}_schema AUTHORIZATION {role}; \
                     ALTER DATABASE {database} SET search_path TO {role}_schema, pg_catalog;"
                ),
            )
            .expect("the user's schema");
        self.pg
            .psql(
                role,
                USER_PASSWORD,
                database,
                &format!(
                    "CREATE TABLE t (id serial PRIMARY KEY, v text); \
                     INSERT INTO t (v) SELECT repeat('x', 100) FROM generate_series(1, {rows});"
                ),
            )
            .expect("the user fills its table");
    }

    /// FerretDB's database and role (`setup mongodb`), then the WhiskUser's FerretDB role and
    /// schema exactly as `setup user` makes them (its CouchDB steps on a PouchDB); the role then
    /// fills a table of `rows` rows in its schema, as FerretDB would for a collection.
    async fn ferretdb_user(&self, login: &str, database: &str, rows: u32) -> String {
        let address = self.pg.address.to_string();
        let superuser = Secret::new(self.pg.password.clone());
        run_mongodb_setup(MongodbSetupConfig::new(
            address.clone(),
            superuser.clone(),
            FERRETDB_DATABASE,
            "ferretdb",
            Secret::new("ferretdb-pw"),
        ))
        .await
        .expect("setup mongodb");
        let couchdb = PouchDb::start();
        for name in ["nuvolaris_subjects", "nuvolaris_users_metadata"] {
            couchdb.create_database(name);
        }
        let mut cfg = UserSetupConfig::new(
            login.to_owned(),
            format!("{login}@example.org"),
            Secret::new(USER_PASSWORD),
            (
                "00000000-0000-4000-8000-000000000000".into(),
                Secret::new("k".repeat(64)),
            ),
            couchdb.url(),
            (ADMIN.to_owned(), Secret::new(couchdb.password.clone())),
        );
        cfg.bcrypt_cost = 4;
        cfg.mongodb = Some(UserPostgres {
            server: PgServer {
                address,
                superuser: "postgres".into(),
                password: superuser,
                timeout: std::time::Duration::from_secs(10),
            },
            user: Some(UserDatabase {
                database: database.to_owned(),
                password: Secret::new(USER_PASSWORD),
            }),
            extensions: Vec::new(),
            ferretdb_database: FERRETDB_DATABASE.into(),
        });
        run_user_setup(cfg).await.expect("setup user");
        let (role, schema) = (format!("{login}_ferretdb"), format!("{database}_ferretdb"));
        self.pg
            .psql(
                &role,
                USER_PASSWORD,
                FERRETDB_DATABASE,
                &format!(
                    "CREATE TABLE {schema}.t (id serial PRIMARY KEY, v text); \
                     INSERT INTO {schema}.t (v) SELECT repeat('x', 100) FROM generate_series(1, {rows});"
                ),
            )
            .expect("the user fills a table in its schema");
        schema
    }

    /// As the FerretDB role: a row into its table, and a new table (a new collection).
    fn ferretdb_writes(&self, login: &str, schema: &str) -> Result<String, String> {
        let role = format!("{login}_ferretdb");
        self.pg.psql(
            &role,
            USER_PASSWORD,
            FERRETDB_DATABASE,
            &format!("INSERT INTO {schema}.t (v) VALUES ('more')"),
        )?;
        self.pg.psql(
            &role,
            USER_PASSWORD,
            FERRETDB_DATABASE,
            &format!("CREATE TABLE {schema}.n (x int); DROP TABLE {schema}.n"),
        )
    }

    fn pg_insert(&self, database: &str, role: &str) -> Result<String, String> {
        self.pg.psql(
            role,
            USER_PASSWORD,
            database,
            "INSERT INTO t (v) VALUES ('more')",
        )
    }

    fn pg_count(&self, database: &str, role: &str) -> Result<String, String> {
        self.pg
            .psql(role, USER_PASSWORD, database, "SELECT count(*) FROM t")
    }

    fn redis_user(&self, user: &str) {
        self.redis
            .cli(&[
                "ACL",
                "SETUSER",
                user,
                "on",
                &format!(">{USER_PASSWORD}"),
                &format!("~{user}:*"),
                "+@all",
            ])
            .expect("ACL SETUSER");
    }

    async fn run(&self) -> QuotaReport {
        run_quota(&self.settings, self.client.clone())
            .await
            .expect("a quota run")
    }
}

#[tokio::test]
async fn users_over_quota_become_read_only_and_get_write_access_back_below_it() {
    let w = World::new("quota").await;
    // PostgreSQL: an empty database already takes ~7 MB, so 5 MB is over and 500 MB under
    w.pg_user_database("alicedb", "alice", 1000);
    w.pg_user_database("bobdb", "bobby", 1000);
    // FerretDB: ~3 MB in carol's schema against 1 MB
    let carol_schema = w.ferretdb_user("carol", "cdb", 20_000).await;
    w.create_user(
        "alice",
        json!({"postgres": {"enabled": true, "database": "alicedb", "quota": "5"}}),
    )
    .await;
    w.create_user(
        "bobby",
        json!({"postgres": {"enabled": true, "database": "bobdb", "quota": "500"}}),
    )
    .await;
    w.create_user(
        "carol",
        json!({"mongodb": {"enabled": true, "database": "cdb", "quota": "1"}}),
    )
    .await;
    // Redis: 1.2 MB under dave's prefix against 1 MB; a few bytes under erin's against 10 MB
    for user in ["david", "erina", "frank"] {
        w.redis_user(user);
    }
    w.redis
        .cli(&["SETRANGE", "david:big", "1200000", "x"])
        .expect("dave's data");
    w.redis
        .cli(&["SET", "erina:small", "x"])
        .expect("erin's data");
    w.redis
        .cli(&["SET", "davidx:not-davids", "x"])
        .expect("another prefix");
    w.create_user(
        "david",
        json!({"redis": {"enabled": true, "prefix": "david", "quota": "1"}}),
    )
    .await;
    w.create_user("erina", json!({"redis": {"enabled": true, "quota": "10"}}))
        .await;
    // not a number: skipped, the others still checked
    w.create_user("frank", json!({"redis": {"enabled": true, "quota": "1GB"}}))
        .await;
    w.create_user(
        "grace",
        json!({"postgres": {"enabled": true, "database": "gdb", "quota": "auto"}}),
    )
    .await;

    let report = w.run().await;
    assert_eq!(
        (
            report.checked,
            report.over,
            report.blocked,
            report.unblocked,
            report.failed,
            report.invalid
        ),
        (5, 3, 3, 0, 0, 1),
        "{report}"
    );
    assert_eq!(
        w.annotation("alice", POSTGRES_ANNOTATION).await.as_deref(),
        Some("true")
    );
    assert_eq!(
        w.annotation("carol", FERRETDB_ANNOTATION).await.as_deref(),
        Some("true")
    );
    assert_eq!(
        w.annotation("david", REDIS_ANNOTATION).await.as_deref(),
        Some("true")
    );
    for (user, key) in [
        ("bobby", POSTGRES_ANNOTATION),
        ("erina", REDIS_ANNOTATION),
        ("frank", REDIS_ANNOTATION),
        ("grace", POSTGRES_ANNOTATION),
    ] {
        assert_eq!(w.annotation(user, key).await, None, "{user} is not marked");
    }

    // read-only over the quota, read-write under it
    let refused = w
        .pg_insert("alicedb", "alice")
        .expect_err("alice cannot write");
    assert!(refused.contains("permission denied"), "{refused}");
    assert_eq!(w.pg_count("alicedb", "alice").expect("alice reads"), "1000");
    let refused = w
        .ferretdb_writes("carol", &carol_schema)
        .expect_err("carol cannot write");
    assert!(refused.contains("permission denied"), "{refused}");
    assert_eq!(
        w.pg.psql(
            "carol_ferretdb",
            USER_PASSWORD,
            FERRETDB_DATABASE,
            &format!("SELECT count(*) FROM {carol_schema}.t"),
        )
        .expect("carol reads"),
        "20000"
    );
    let created = w.pg.psql(
        "carol_ferretdb",
        USER_PASSWORD,
        FERRETDB_DATABASE,
        &format!("CREATE TABLE {carol_schema}.n (x int)"),
    );
    assert!(
        created.is_err_and(|e| e.contains("permission denied")),
        "no new collection over the quota"
    );
    w.pg_insert("bobdb", "bobby").expect("bobby writes");
    let refused = w
        .redis
        .cli_as("david", USER_PASSWORD, &["SET", "david:more", "x"])
        .expect_err("david cannot write");
    assert!(refused.contains("NOPERM"), "{refused}");
    w.redis
        .cli_as("david", USER_PASSWORD, &["STRLEN", "david:big"])
        .expect("david reads");
    w.redis
        .cli_as("erina", USER_PASSWORD, &["SET", "erina:more", "x"])
        .expect("erina writes");

    // again: nothing new, the read-only state kept
    let again = w.run().await;
    assert_eq!(
        (again.over, again.blocked, again.unblocked),
        (3, 0, 0),
        "{again}"
    );
    assert!(w.pg_insert("alicedb", "alice").is_err());
    assert!(w.ferretdb_writes("carol", &carol_schema).is_err());

    // below the quota again: alice's quota raised, dave deletes his data (DEL is allowed),
    // carol's quota raised above her schema but under the whole of FerretDB's database, so that
    // only the schema's size lets her write again
    let database_bytes: u64 =
        w.pg.superuser_psql(
            "postgres",
            &format!("SELECT pg_database_size('{FERRETDB_DATABASE}')"),
        )
        .expect("database size")
        .parse()
        .expect("a number");
    assert!(
        database_bytes >= 6 * 1024 * 1024,
        "FerretDB's database ({database_bytes} bytes) is over carol's new quota"
    );
    w.users()
        .patch(
            "carol",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"mongodb": {"quota": "6"}}})),
        )
        .await
        .expect("raise carol's quota");
    w.users()
        .patch(
            "alice",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"postgres": {"quota": "500"}}})),
        )
        .await
        .expect("raise alice's quota");
    w.redis
        .cli_as("david", USER_PASSWORD, &["DEL", "david:big"])
        .expect("david may delete");
    let after = w.run().await;
    assert_eq!((after.over, after.unblocked), (0, 3), "{after}");
    assert_eq!(
        w.annotation("alice", POSTGRES_ANNOTATION).await.as_deref(),
        Some("false")
    );
    assert_eq!(
        w.annotation("david", REDIS_ANNOTATION).await.as_deref(),
        Some("false")
    );
    w.pg_insert("alicedb", "alice").expect("alice writes again");
    w.redis
        .cli_as("david", USER_PASSWORD, &["SET", "david:more", "x"])
        .expect("david writes again");
    assert_eq!(
        w.annotation("carol", FERRETDB_ANNOTATION).await.as_deref(),
        Some("false")
    );
    w.ferretdb_writes("carol", &carol_schema)
        .expect("carol writes and creates again");
    w.ns.cleanup().await;
}

#[tokio::test]
async fn a_missing_database_or_acl_user_is_reported_and_the_rest_still_checked() {
    let w = World::new("quota-missing").await;
    w.pg_user_database("okdb", "okuser", 10);
    w.create_user(
        "okuser",
        json!({"postgres": {"enabled": true, "database": "okdb", "quota": "500"}}),
    )
    .await;
    w.create_user(
        "ghost",
        json!({"postgres": {"enabled": true, "database": "nodb", "quota": "1"}}),
    )
    .await;
    // over quota but without an ACL user: marked only (whoever creates the user reads the mark)
    w.redis
        .cli(&["SETRANGE", "nobody:big", "1200000", "x"])
        .expect("data");
    w.create_user("nobody", json!({"redis": {"enabled": true, "quota": "1"}}))
        .await;
    let report = w.run().await;
    assert_eq!(
        (report.checked, report.failed, report.over),
        (3, 1, 1),
        "{report}"
    );
    assert_eq!(
        w.annotation("nobody", REDIS_ANNOTATION).await.as_deref(),
        Some("true")
    );
    assert!(
        w.redis
            .cli(&["ACL", "GETUSER", "nobody"])
            .expect("ACL GETUSER")
            .is_empty(),
        "no ACL user was created"
    );
    w.ns.cleanup().await;
}

/// The figure: one run over 100 WhiskUsers, each with a PostgreSQL database and a Redis prefix
/// of 100 keys; half of them over their quotas.
#[tokio::test]
async fn figure_one_run_with_100_users() {
    let w = World::new("quota-figure").await;
    let started = Instant::now();
    for i in 0..100 {
        let name = format!("user{i:03}");
        w.pg_user_database(&format!("{name}db"), &name, 10);
        w.redis_user(&name);
        let keys: Vec<String> = (0..100)
            .flat_map(|k| [format!("{name}:k{k}"), "v".repeat(100)])
            .collect();
        let mut args = vec!["MSET"];
        args.extend(keys.iter().map(String::as_str));
        w.redis.cli(&args).expect("MSET");
        let (pg_quota, redis_quota) = if i % 2 == 0 {
            ("5", "0")
        } else {
            ("500", "10")
        };
        w.create_user(
            &name,
            json!({
                "postgres": {"enabled": true, "database": format!("{name}db"), "quota": pg_quota},
                "redis": {"enabled": true, "quota": redis_quota},
            }),
        )
        .await;
    }
    let prepared = started.elapsed();
    let first_start = Instant::now();
    let first = w.run().await;
    let first_ms = first_start.elapsed().as_millis();
    assert_eq!(
        (first.checked, first.over, first.blocked, first.failed),
        (200, 100, 100, 0),
        "{first}"
    );
    let second_start = Instant::now();
    let second = w.run().await;
    let second_ms = second_start.elapsed().as_millis();
    assert_eq!((second.over, second.blocked), (100, 0), "{second}");
    eprintln!(
        "figure: quota run, 100 WhiskUsers (100 PostgreSQL databases, 100 Redis prefixes of 100 keys; \
         half over quota): first run {first_ms} ms (50+50 made read-only, 100 annotations), \
         second run {second_ms} ms (read-only state re-applied to the 100 over quota) \
         [setup {} s]",
        prepared.as_secs()
    );
    w.ns.cleanup().await;
}
