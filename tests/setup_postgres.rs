//! `setup postgres` and `setup mongodb` against a real PostgreSQL (Debian's, started in a temp
//! dir by `support::servers::Postgres`) and FerretDB on it (`support::servers::Ferretdb`). The
//! effects are checked with `psql` and FerretDB's MongoDB protocol, not with the code under test.
//! Passwords hold `@ : #`, quotes and a newline on purpose. Timings are printed (figures), never
//! asserted.

mod support;

use std::time::{Duration, Instant};

use nuvolaris_operator::components::kit::url_userinfo;
use nuvolaris_operator::setup::{
    MongodbSetupConfig, Outcome, PostgresSetupConfig, Secret, SetupError, run_mongodb_setup,
    run_postgres_setup,
};
use support::servers::mongo::{self, Bson};
use support::servers::{Ferretdb, Postgres};

/// What `setup postgres` would get from the Job, for the test server; pgcrypto stands in for
/// pgvector, which Debian does not package (the same code path: CREATE EXTENSION).
fn postgres_settings(pg: &Postgres, password: &str) -> PostgresSetupConfig {
    let mut cfg = PostgresSetupConfig::new(
        pg.address.to_string(),
        Secret::new(pg.password.clone()),
        "nuvolaris",
        "nuvolaris",
        Secret::new(password),
    );
    cfg.extensions = vec!["pgcrypto".to_owned()];
    cfg.wait = Duration::from_secs(20);
    cfg
}

const TRICKY: &str = "p@ss:w#rd'\"\n;x";

#[tokio::test]
async fn setup_postgres_creates_then_changes_nothing_then_follows_a_new_password() {
    let pg = Postgres::start();
    let cfg = postgres_settings(&pg, TRICKY);

    let started = Instant::now();
    let first = run_postgres_setup(cfg.clone()).await.expect("first run");
    let first_ms = started.elapsed().as_millis();
    for step in [
        "role nuvolaris",
        "database nuvolaris",
        "schema nuvolaris_schema",
        "extension pgcrypto",
    ] {
        assert_eq!(
            first.outcome_of(step),
            Some(Outcome::Created),
            "{step}: {first:?}"
        );
    }
    assert_eq!(
        first.outcome_of("search_path of nuvolaris"),
        Some(Outcome::Updated)
    );

    // The user logs in with the tricky password, lands in its schema, owns its database.
    let whoami = pg
        .psql("nuvolaris", TRICKY, "nuvolaris", "select current_user, current_schema(), (select pg_get_userbyid(datdba) from pg_database where datname = 'nuvolaris')")
        .expect("the user logs in with its password");
    assert_eq!(whoami, "nuvolaris|nuvolaris_schema|nuvolaris");
    pg.psql(
        "nuvolaris",
        TRICKY,
        "nuvolaris",
        "create table t (x int); insert into t values (1)",
    )
    .expect("the user creates tables in its schema");
    assert_eq!(
        pg.superuser_psql(
            "nuvolaris",
            "select schemaname from pg_tables where tablename = 't'"
        )
        .expect("query"),
        "nuvolaris_schema"
    );
    assert_eq!(
        pg.superuser_psql(
            "nuvolaris",
            "select extname from pg_extension where extname = 'pgcrypto'"
        )
        .expect("query"),
        "pgcrypto"
    );
    // Other roles may not connect to it (CONNECT revoked from PUBLIC).
    pg.superuser_psql("postgres", "create role other login password 'other'")
        .expect("other role");
    let refused = pg
        .psql("other", "other", "nuvolaris", "select 1")
        .expect_err("no CONNECT");
    assert!(refused.contains("permission denied"), "{refused}");

    let started = Instant::now();
    let second = run_postgres_setup(cfg.clone()).await.expect("second run");
    let second_ms = started.elapsed().as_millis();
    assert!(
        second.is_unchanged(),
        "a second run changes nothing: {second:?}"
    );

    // A new password: the role is updated, the old password stops working.
    let changed = postgres_settings(&pg, "n3w:p@ss");
    let third = run_postgres_setup(changed).await.expect("password change");
    assert_eq!(
        third.outcome_of("role nuvolaris"),
        Some(Outcome::Updated),
        "{third:?}"
    );
    assert!(
        pg.psql("nuvolaris", TRICKY, "nuvolaris", "select 1")
            .is_err()
    );
    pg.psql("nuvolaris", "n3w:p@ss", "nuvolaris", "select 1")
        .expect("the new password works");
    // The server keeps a SCRAM verifier, never the clear password.
    let stored = pg
        .superuser_psql(
            "postgres",
            "select rolpassword from pg_authid where rolname = 'nuvolaris'",
        )
        .expect("query");
    assert!(stored.starts_with("SCRAM-SHA-256$"), "{stored}");

    println!(
        "figure: setup postgres on a real PostgreSQL: first run {first_ms} ms ({first}), no-op rerun {second_ms} ms"
    );
}

#[tokio::test]
async fn setup_postgres_refuses_a_wrong_superuser_password_at_once() {
    let pg = Postgres::start();
    let mut cfg = postgres_settings(&pg, "pw");
    cfg.server.password = Secret::new("wrong-password");
    cfg.wait = Duration::from_secs(60);
    let started = Instant::now();
    let err = run_postgres_setup(cfg).await.expect_err("wrong password");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "a refused password is not retried until the deadline"
    );
    let message = err.to_string();
    assert!(
        message.contains("refused the password of postgres"),
        "{message}"
    );
    assert!(
        !message.contains("wrong-password"),
        "no secret in the message: {message}"
    );
}

#[tokio::test]
async fn setup_postgres_waits_for_a_server_that_is_not_there_within_its_deadline() {
    let mut cfg = PostgresSetupConfig::new(
        format!("127.0.0.1:{}", support::servers::free_port()),
        Secret::new("x"),
        "nuvolaris",
        "nuvolaris",
        Secret::new("y"),
    );
    cfg.wait = Duration::from_secs(1);
    cfg.server.timeout = Duration::from_secs(1);
    let err = run_postgres_setup(cfg).await.expect_err("nothing listens");
    assert!(
        matches!(
            err,
            SetupError::NotReady {
                service: "postgres",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn setup_mongodb_gives_ferretdb_its_own_role_and_database() {
    let pg = Postgres::start();
    let password = "f3rret@:#'\"\npw";
    let mut cfg = MongodbSetupConfig::new(
        pg.address.to_string(),
        Secret::new(pg.password.clone()),
        "ferretdb",
        "ferretdb",
        Secret::new(password),
    );
    cfg.wait = Duration::from_secs(20);

    let started = Instant::now();
    let first = run_mongodb_setup(cfg.clone()).await.expect("first run");
    let first_ms = started.elapsed().as_millis();
    assert_eq!(
        first.outcome_of("role ferretdb"),
        Some(Outcome::Created),
        "{first:?}"
    );
    assert_eq!(
        first.outcome_of("database ferretdb"),
        Some(Outcome::Created),
        "{first:?}"
    );
    let started = Instant::now();
    let second = run_mongodb_setup(cfg.clone()).await.expect("second run");
    let second_ms = started.elapsed().as_millis();
    assert!(second.is_unchanged(), "{second:?}");

    // FerretDB on the URL the component renders (percent-encoded password) stores as that role
    // in that database.
    let url = format!(
        "postgres://{}:{}@{}/ferretdb",
        url_userinfo("ferretdb"),
        url_userinfo(password),
        pg.address
    );
    let ferretdb = Ferretdb::start_on(&url);
    let inserted = mongo::run_command(
        ferretdb.address,
        "nuvolaris",
        mongo::doc([
            ("insert", Bson::String("things".into())),
            (
                "documents",
                Bson::Array(vec![mongo::doc([("x", Bson::Int32(1))])]),
            ),
        ]),
    )
    .expect("insert through FerretDB");
    assert_eq!(
        inserted.get("n").and_then(Bson::as_f64),
        Some(1.0),
        "{inserted:?}"
    );
    let owner = pg
        .superuser_psql(
            "ferretdb",
            "select pg_get_userbyid(nspowner) from pg_namespace where nspname = 'nuvolaris'",
        )
        .expect("query");
    assert_eq!(
        owner, "ferretdb",
        "the MongoDB database is a schema FerretDB's role owns"
    );

    // A wrong superuser password fails clearly.
    let mut wrong = cfg;
    wrong.server.password = Secret::new("nope");
    let err = run_mongodb_setup(wrong).await.expect_err("wrong password");
    assert!(err.to_string().contains("refused the password"), "{err}");

    println!(
        "figure: setup mongodb on a real PostgreSQL: first run {first_ms} ms, no-op rerun {second_ms} ms"
    );
}
