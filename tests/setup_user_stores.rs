//! `setup user`'s per-store steps against real servers (tools/testdeps): MinIO (account,
//! buckets, quotas, anonymous read of the web bucket, the confining policy), SeaweedFS (the same
//! with an identity), PostgreSQL (role,
//! database, schema) and FerretDB's PostgreSQL (role, schema); Milvus against the REST stand-in
//! of `support::milvus_standin` (no real Milvus with users runs here). Create, a second run that changes
//! nothing, changes, a store switched off, two users kept apart, delete. Effects are checked
//! with signed S3 requests, `mc` and `psql`, not with the code under test. Timings are printed.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use nuvolaris_operator::setup::postgres::PgServer;
use nuvolaris_operator::setup::s3::S3Credentials as OpS3Credentials;
use nuvolaris_operator::setup::user_stores::{
    ObjectStoreAdmin, UserBuckets, UserDatabase, UserMilvus, UserObjectStore, UserPostgres,
};
use nuvolaris_operator::setup::{Outcome, Secret, UserAction, UserSetupConfig, run_user_setup};
use support::servers::s3::{self, S3Credentials};
use support::servers::{Ferretdb, Minio, PouchDb, Seaweedfs, couchdb::ADMIN, http};

fn prepare(db: &PouchDb) {
    for name in ["nuvolaris_subjects", "nuvolaris_users_metadata"] {
        let auth = format!(
            "Basic {}",
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("{ADMIN}:{}", db.password)
            )
        );
        let r = http::request(
            db.address,
            "PUT",
            &format!("/{name}"),
            &[("Authorization", &auth)],
            b"",
        )
        .expect("PUT db");
        assert!(
            r.status == 201 || r.status == 412,
            "create {name}: {}",
            r.status
        );
    }
}

fn base(db: &PouchDb, login: &str, seed: char) -> UserSetupConfig {
    let mut cfg = UserSetupConfig::new(
        login.to_owned(),
        format!("{login}@example.com"),
        Secret::new(format!("{login}-password")),
        (
            format!("0000000{seed}-0000-0000-0000-000000000000"),
            Secret::new(std::iter::repeat_n(seed, 64).collect::<String>()),
        ),
        db.url(),
        (ADMIN.to_owned(), Secret::new(db.password.clone())),
    );
    cfg.bcrypt_cost = 4;
    cfg.wait = Duration::from_secs(20);
    cfg
}

fn with_minio(
    mut cfg: UserSetupConfig,
    minio: &Minio,
    key: &str,
    quota_mb: u64,
) -> UserSetupConfig {
    let login = cfg.login.clone();
    cfg.object_store = Some(UserObjectStore {
        url: minio.endpoint(),
        admin: ObjectStoreAdmin::Minio(OpS3Credentials::new(
            minio.root.access_key.clone(),
            Secret::new(minio.root.secret_key.clone()),
        )),
        user: Some(UserBuckets {
            secret_key: Secret::new(key),
            data: Some(format!("{login}-data")),
            route: Some(format!("{login}-web")),
            quota_mb: Some(quota_mb),
        }),
    });
    cfg
}

fn as_user(login: &str, key: &str) -> S3Credentials {
    S3Credentials::new(login, key)
}

/// The second user may neither read alice's data bucket nor write her web bucket.
fn assert_bobby_kept_out_of_alices_buckets(addr: SocketAddr, bobby_s3: &S3Credentials) {
    for (path, method) in [
        ("/alice-data/secret.txt", "GET"),
        ("/alice-data", "GET"),
        ("/alice-web/x.html", "PUT"),
    ] {
        let r = s3::request(addr, bobby_s3, method, path, &[], b"x").expect("request");
        assert_eq!(r.status, 403, "bobby {method} {path}: {}", r.text());
    }
}

fn quota_of(minio: &Minio, bucket: &str) -> String {
    minio
        .mc(&["quota", "info", &format!("local/{bucket}"), "--json"])
        .unwrap_or_else(|e| panic!("mc quota info {bucket}: {e}"))
}

#[tokio::test]
async fn minio_accounts_buckets_quotas_and_policies_per_user() {
    let db = PouchDb::start();
    prepare(&db);
    let minio = Minio::start();

    let alice = with_minio(base(&db, "alice", 'a'), &minio, "alice-key-1234", 10);
    let started = Instant::now();
    let report = run_user_setup(alice.clone()).await.expect("create alice");
    println!("figure: user with MinIO set up in {:?}", started.elapsed());
    for step in [
        "bucket alice-data",
        "bucket alice-web",
        "minio user alice",
        "policy alice_rw_policy",
    ] {
        assert_eq!(
            report.outcome_of(step),
            Some(Outcome::Created),
            "{step}: {report}"
        );
    }
    assert!(
        quota_of(&minio, "alice-data").contains("10485760"),
        "{}",
        quota_of(&minio, "alice-data")
    );

    // the web bucket is public, with its index; the data bucket is not
    let index = http::get(minio.address, "/alice-web/index.html").expect("GET");
    assert_eq!(index.status, 200);
    assert_eq!(
        http::get(minio.address, "/alice-data/")
            .expect("GET")
            .status,
        403
    );
    let alice_s3 = as_user("alice", "alice-key-1234");
    s3::assert_put(minio.address, &alice_s3, "/alice-data/secret.txt", b"a");

    // a second run changes nothing
    let again = run_user_setup(alice.clone()).await.expect("second run");
    assert!(again.is_unchanged(), "{again}: {:?}", again.steps);

    // a second user: neither reads nor writes the other's buckets
    let bobby = with_minio(base(&db, "bobby", 'b'), &minio, "bobby-key-1234", 10);
    run_user_setup(bobby.clone()).await.expect("create bobby");
    let bobby_s3 = as_user("bobby", "bobby-key-1234");
    assert_bobby_kept_out_of_alices_buckets(minio.address, &bobby_s3);
    let r = s3::request(minio.address, &alice_s3, "PUT", "/bobby-data/x", &[], b"x").expect("PUT");
    assert_eq!(r.status, 403, "alice into bobby's bucket");

    // change: a new key and a new quota
    let changed = with_minio(base(&db, "alice", 'a'), &minio, "alice-key-5678", 20);
    let report = run_user_setup(changed.clone()).await.expect("change");
    assert_eq!(
        report.outcome_of("minio user alice"),
        Some(Outcome::Updated)
    );
    assert_eq!(
        report.outcome_of("quota of alice-data"),
        Some(Outcome::Updated)
    );
    assert!(quota_of(&minio, "alice-data").contains("20971520"));
    let old = s3::request(minio.address, &alice_s3, "GET", "/alice-data", &[], b"").expect("GET");
    assert_eq!(old.status, 403, "the old key is refused");
    let alice_s3 = as_user("alice", "alice-key-5678");
    let r = s3::request(
        minio.address,
        &alice_s3,
        "GET",
        "/alice-data/secret.txt",
        &[],
        b"",
    )
    .expect("GET");
    assert_eq!((r.status, r.text().as_str()), (200, "a"));

    // storage off for alice: no account, the buckets stay
    let mut off = changed.clone();
    off.object_store.as_mut().unwrap().user = None;
    let report = run_user_setup(off).await.expect("off");
    assert_eq!(
        report.outcome_of("minio user alice"),
        Some(Outcome::Deleted)
    );
    let r = s3::request(minio.address, &alice_s3, "GET", "/alice-data", &[], b"").expect("GET");
    assert_eq!(r.status, 403);
    assert_eq!(
        http::get(minio.address, "/alice-web/index.html")
            .expect("GET")
            .status,
        200
    );

    // delete: buckets (with objects), account and policy go; bobby stays
    let mut delete = changed.clone();
    delete.action = UserAction::Delete;
    let started = Instant::now();
    let report = run_user_setup(delete.clone()).await.expect("delete");
    println!("figure: user with MinIO deleted in {:?}", started.elapsed());
    assert_eq!(
        report.outcome_of("bucket alice-data"),
        Some(Outcome::Deleted)
    );
    let buckets = minio.mc(&["ls", "local"]).expect("mc ls");
    assert!(!buckets.contains("alice-"), "{buckets}");
    assert!(buckets.contains("bobby-data"), "{buckets}");
    let policies = minio
        .mc(&["admin", "policy", "ls", "local"])
        .expect("mc policy ls");
    assert!(!policies.contains("alice_rw_policy"), "{policies}");
    let again = run_user_setup(delete).await.expect("again");
    assert!(again.is_unchanged(), "{again}: {:?}", again.steps);
    let r = s3::request(minio.address, &bobby_s3, "PUT", "/bobby-data/y", &[], b"y").expect("PUT");
    assert_eq!(r.status, 200);
}

fn with_databases(
    mut cfg: UserSetupConfig,
    ferretdb: &Ferretdb,
    password: &str,
) -> UserSetupConfig {
    let pg = ferretdb.postgres().expect("FerretDB's own PostgreSQL");
    let server = PgServer {
        address: pg.address.to_string(),
        superuser: "postgres".into(),
        password: Secret::new(pg.password.clone()),
        timeout: Duration::from_secs(10),
    };
    let login = cfg.login.clone();
    cfg.postgres = Some(UserPostgres {
        server: server.clone(),
        user: Some(UserDatabase {
            database: format!("{login}db"),
            password: Secret::new(password),
        }),
        // pgcrypto stands in for pgvector, which Debian does not package
        extensions: vec!["pgcrypto".into()],
        ferretdb_database: String::new(),
    });
    cfg.mongodb = Some(UserPostgres {
        server,
        user: Some(UserDatabase {
            database: login.clone(),
            password: Secret::new(password),
        }),
        extensions: Vec::new(),
        ferretdb_database: support::servers::ferretdb::DATABASE.into(),
    });
    cfg
}

#[tokio::test]
async fn postgres_and_ferretdb_databases_per_user() {
    let db = PouchDb::start();
    prepare(&db);
    let ferretdb = Ferretdb::start();
    let pg = ferretdb.postgres().expect("postgres");

    let alice = with_databases(base(&db, "alice", 'a'), &ferretdb, "alice-pw-1");
    let started = Instant::now();
    let report = run_user_setup(alice.clone()).await.expect("create alice");
    println!(
        "figure: user with Postgres and FerretDB set up in {:?}",
        started.elapsed()
    );
    for step in [
        "postgres role alice",
        "postgres database alicedb",
        "postgres schema alice_schema",
        "ferretdb role alice_ferretdb",
        "ferretdb schema alice_ferretdb",
    ] {
        assert_eq!(
            report.outcome_of(step),
            Some(Outcome::Created),
            "{step}: {report}"
        );
    }
    // alice works in her database, tables land in her schema
    let out = pg
        .psql("alice", "alice-pw-1", "alicedb", "create table t(x int); insert into t values (1); select schemaname from pg_tables where tablename = 't'")
        .expect("alice in alicedb");
    assert_eq!(out, "alice_schema");
    // and in FerretDB's database, in her MongoDB database's schema
    pg.psql(
        "alice_ferretdb",
        "alice-pw-1",
        "ferretdb",
        "create table alice_ferretdb.c(x int); insert into alice_ferretdb.c values (1)",
    )
    .expect("alice_ferretdb in its schema");

    let again = run_user_setup(alice.clone()).await.expect("second run");
    assert!(again.is_unchanged(), "{again}: {:?}", again.steps);

    // bobby: no way into alice's database or schema
    let bobby = with_databases(base(&db, "bobby", 'b'), &ferretdb, "bobby-pw-1");
    run_user_setup(bobby.clone()).await.expect("create bobby");
    let err = pg
        .psql("bobby", "bobby-pw-1", "alicedb", "select 1")
        .expect_err("bobby into alicedb");
    assert!(err.contains("permission denied"), "{err}");
    let err = pg
        .psql(
            "bobby_ferretdb",
            "bobby-pw-1",
            "ferretdb",
            "select * from alice_ferretdb.c",
        )
        .expect_err("bobby into alice's schema");
    assert!(err.contains("permission denied"), "{err}");

    // change: a new password
    let changed = with_databases(base(&db, "alice", 'a'), &ferretdb, "alice-pw-2");
    let report = run_user_setup(changed.clone()).await.expect("change");
    assert_eq!(
        report.outcome_of("postgres role alice"),
        Some(Outcome::Updated)
    );
    assert_eq!(
        report.outcome_of("ferretdb role alice_ferretdb"),
        Some(Outcome::Updated)
    );
    assert!(
        pg.psql("alice", "alice-pw-1", "alicedb", "select 1")
            .is_err()
    );
    assert_eq!(
        pg.psql("alice", "alice-pw-2", "alicedb", "select x from t")
            .expect("new pw"),
        "1"
    );

    // switched off: no login, data kept; on again: back
    let mut off = changed.clone();
    off.postgres.as_mut().unwrap().user = None;
    off.mongodb.as_mut().unwrap().user = None;
    let report = run_user_setup(off).await.expect("off");
    assert_eq!(
        report.outcome_of("postgres role alice"),
        Some(Outcome::Updated)
    );
    assert!(
        pg.psql("alice", "alice-pw-2", "alicedb", "select 1")
            .is_err()
    );
    assert!(
        pg.psql("alice_ferretdb", "alice-pw-2", "ferretdb", "select 1")
            .is_err()
    );
    run_user_setup(changed.clone()).await.expect("on again");
    assert_eq!(
        pg.psql("alice", "alice-pw-2", "alicedb", "select x from t")
            .expect("back"),
        "1"
    );

    // delete: database, schema and roles go; bobby stays
    let mut delete = changed.clone();
    delete.action = UserAction::Delete;
    let started = Instant::now();
    let report = run_user_setup(delete.clone()).await.expect("delete");
    println!(
        "figure: user with Postgres and FerretDB deleted in {:?}",
        started.elapsed()
    );
    assert_eq!(
        report.outcome_of("postgres database alicedb"),
        Some(Outcome::Deleted)
    );
    let left = pg
        .superuser_psql(
            "ferretdb",
            "select count(*) from pg_roles where rolname like 'alice%'; select count(*) from pg_database where datname = 'alicedb'; select count(*) from pg_namespace where nspname = 'alice_ferretdb'",
        )
        .expect("catalog");
    assert_eq!(left, "0\n0\n0");
    assert!(run_user_setup(delete).await.expect("again").is_unchanged());
    assert_eq!(
        pg.psql("bobby", "bobby-pw-1", "bobbydb", "select 1")
            .expect("bobby"),
        "1"
    );
}

fn with_milvus(mut cfg: UserSetupConfig, url: &str, password: &str) -> UserSetupConfig {
    let login = cfg.login.clone();
    cfg.milvus = Some(UserMilvus {
        url: url.to_owned(),
        root_password: Secret::new(support::milvus_standin::ROOT_PASSWORD),
        user: Some(UserDatabase {
            database: format!("{login}_db"),
            password: Secret::new(password),
        }),
    });
    cfg
}

#[tokio::test]
async fn milvus_user_database_and_role_per_user() {
    let db = PouchDb::start();
    prepare(&db);
    let (url, model) = support::milvus_standin::stand_in().await;

    let alice = with_milvus(base(&db, "alice", 'a'), &url, "alice-mv-1");
    let report = run_user_setup(alice.clone()).await.expect("create alice");
    for step in [
        "milvus user alice",
        "milvus database alice_db",
        "milvus role alice_role",
    ] {
        assert_eq!(
            report.outcome_of(step),
            Some(Outcome::Created),
            "{step}: {report}"
        );
    }
    let again = run_user_setup(alice.clone()).await.expect("second run");
    assert!(again.is_unchanged(), "{again}: {:?}", again.steps);

    let bobby = with_milvus(base(&db, "bobby", 'b'), &url, "bobby-mv-1");
    run_user_setup(bobby.clone()).await.expect("create bobby");
    {
        let m = model.lock().unwrap();
        // each role is admin of its own database only, and held by its own user only
        let dbs = |role: &str| -> Vec<String> {
            m.grants[role].iter().map(|(_, db)| db.clone()).collect()
        };
        assert!(dbs("alice_role").iter().all(|d| d == "alice_db"));
        assert!(dbs("bobby_role").iter().all(|d| d == "bobby_db"));
        assert_eq!(
            m.user_roles["alice"].iter().collect::<Vec<_>>(),
            ["alice_role"]
        );
        assert_eq!(
            m.user_roles["bobby"].iter().collect::<Vec<_>>(),
            ["bobby_role"]
        );
    }

    // a new password; then Milvus off: the user goes, database and role stay
    let changed = with_milvus(base(&db, "alice", 'a'), &url, "alice-mv-2");
    let report = run_user_setup(changed.clone()).await.expect("change");
    assert_eq!(
        report.outcome_of("milvus user alice"),
        Some(Outcome::Updated)
    );
    assert_eq!(model.lock().unwrap().users["alice"], "alice-mv-2");
    let mut off = changed.clone();
    off.milvus.as_mut().unwrap().user = None;
    let report = run_user_setup(off).await.expect("off");
    assert_eq!(
        report.outcome_of("milvus user alice"),
        Some(Outcome::Deleted)
    );
    assert!(model.lock().unwrap().databases.contains("alice_db"));

    // delete: its collections, database, role and user go; bobby stays
    run_user_setup(changed.clone()).await.expect("on again");
    model
        .lock()
        .unwrap()
        .collections
        .entry("alice_db".into())
        .or_default()
        .insert("docs".into());
    let mut delete = changed.clone();
    delete.action = UserAction::Delete;
    let report = run_user_setup(delete.clone()).await.expect("delete");
    assert_eq!(
        report.outcome_of("milvus database alice_db"),
        Some(Outcome::Deleted)
    );
    {
        let m = model.lock().unwrap();
        assert!(!m.users.contains_key("alice") && !m.roles.contains("alice_role"));
        assert!(!m.databases.contains("alice_db"));
        assert!(m.users.contains_key("bobby") && m.databases.contains("bobby_db"));
    }
    let again = run_user_setup(delete).await.expect("again");
    assert!(again.is_unchanged(), "{again}: {:?}", again.steps);
}

fn with_seaweedfs(
    mut cfg: UserSetupConfig,
    weed: &Seaweedfs,
    key: &str,
    quota_mb: u64,
) -> UserSetupConfig {
    let login = cfg.login.clone();
    cfg.object_store = Some(UserObjectStore {
        url: format!("http://{}", weed.s3),
        admin: ObjectStoreAdmin::Seaweedfs {
            filer_url: format!("http://{}", weed.filer),
        },
        user: Some(UserBuckets {
            secret_key: Secret::new(key),
            data: Some(format!("{login}-data")),
            route: Some(format!("{login}-web")),
            quota_mb: Some(quota_mb),
        }),
    });
    cfg
}

fn weed_quota(weed: &Seaweedfs, bucket: &str) -> String {
    weed.shell(&format!("s3.bucket.quota -name={bucket} -op=get"))
        .expect("weed shell")
}

#[tokio::test]
async fn seaweedfs_identities_buckets_and_quotas_per_user() {
    let db = PouchDb::start();
    prepare(&db);
    let weed = Seaweedfs::start();

    let alice = with_seaweedfs(base(&db, "alice", 'a'), &weed, "alice-key-1234", 10);
    let started = Instant::now();
    let report = run_user_setup(alice.clone()).await.expect("create alice");
    println!(
        "figure: user with SeaweedFS set up in {:?}",
        started.elapsed()
    );
    for step in ["identity alice", "bucket alice-data", "bucket alice-web"] {
        assert_eq!(
            report.outcome_of(step),
            Some(Outcome::Created),
            "{step}: {report}"
        );
    }
    assert!(
        weed_quota(&weed, "alice-data").contains("10MiB"),
        "{}",
        weed_quota(&weed, "alice-data")
    );
    let index = http::get(weed.s3, "/alice-web/index.html").expect("GET");
    assert_eq!(index.status, 200, "{}", index.text());
    assert_eq!(http::get(weed.s3, "/alice-data/").expect("GET").status, 403);
    let alice_s3 = as_user("alice", "alice-key-1234");
    s3::assert_put(weed.s3, &alice_s3, "/alice-data/secret.txt", b"a");

    let again = run_user_setup(alice.clone()).await.expect("second run");
    assert!(again.is_unchanged(), "{again}: {:?}", again.steps);

    let bobby = with_seaweedfs(base(&db, "bobby", 'b'), &weed, "bobby-key-1234", 10);
    run_user_setup(bobby.clone()).await.expect("create bobby");
    let bobby_s3 = as_user("bobby", "bobby-key-1234");
    assert_bobby_kept_out_of_alices_buckets(weed.s3, &bobby_s3);

    // change: a new key and quota
    let changed = with_seaweedfs(base(&db, "alice", 'a'), &weed, "alice-key-5678", 20);
    let report = run_user_setup(changed.clone()).await.expect("change");
    assert_eq!(report.outcome_of("identity alice"), Some(Outcome::Updated));
    assert!(weed_quota(&weed, "alice-data").contains("20MiB"));
    let alice_s3 = as_user("alice", "alice-key-5678");
    let r = s3::request(
        weed.s3,
        &alice_s3,
        "GET",
        "/alice-data/secret.txt",
        &[],
        b"",
    )
    .expect("GET");
    assert_eq!((r.status, r.text().as_str()), (200, "a"));

    // off: no identity, the buckets stay
    let mut off = changed.clone();
    off.object_store.as_mut().unwrap().user = None;
    let report = run_user_setup(off).await.expect("off");
    assert_eq!(report.outcome_of("identity alice"), Some(Outcome::Deleted));
    assert_eq!(
        http::get(weed.s3, "/alice-web/index.html")
            .expect("GET")
            .status,
        200
    );

    // delete: buckets and identity go, anonymous loses alice's web bucket; bobby stays
    let mut delete = changed.clone();
    delete.action = UserAction::Delete;
    let report = run_user_setup(delete.clone()).await.expect("delete");
    assert_eq!(
        report.outcome_of("bucket alice-data"),
        Some(Outcome::Deleted)
    );
    let listed = s3::request(weed.s3, &weed.admin, "GET", "/", &[], b"").expect("list");
    let names = s3::xml_values(&listed.text(), "Name");
    assert!(!names.iter().any(|n| n.starts_with("alice-")), "{names:?}");
    assert!(names.iter().any(|n| n == "bobby-data"), "{names:?}");
    let again = run_user_setup(delete).await.expect("again");
    assert!(again.is_unchanged(), "{again}: {:?}", again.steps);
    let r = s3::request(weed.s3, &bobby_s3, "PUT", "/bobby-data/y", &[], b"y").expect("PUT");
    assert_eq!(r.status, 200, "{}", r.text());
}
