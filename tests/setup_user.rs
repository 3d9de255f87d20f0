//! `setup user` (the WhiskUser's data-plane step) against real servers: pouchdb-server for
//! the CouchDB protocol and redis-server (tools/testdeps). Create, a second run that changes
//! nothing, changes (password, quota, Redis off and on), delete, two users kept apart, and a
//! delete with an unreachable store that still cleans the other one and fails in bounded time.
//! Effects are checked with plain HTTP and `redis-cli`, not with the code under test.

mod support;

use std::time::{Duration, Instant};

use base64::Engine;
use nuvolaris_operator::setup::{
    Outcome, Secret, UserAction, UserRedisTarget, UserSetupConfig, run_user_setup,
};
use serde_json::Value;
use support::servers::{PouchDb, RedisServer, couchdb::ADMIN, free_port, http};

fn auth_header(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

fn couch(db: &PouchDb, method: &str, path: &str) -> (u16, Value) {
    let auth = auth_header(ADMIN, &db.password);
    let r = http::request(db.address, method, path, &[("Authorization", &auth)], b"")
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    )
}

/// The databases couchdb-init creates, which the user step writes into.
fn prepare(db: &PouchDb) {
    for name in ["nuvolaris_subjects", "nuvolaris_users_metadata"] {
        let (status, body) = couch(db, "PUT", &format!("/{name}"));
        assert!(
            status == 201 || status == 412,
            "create {name}: {status} {body}"
        );
    }
}

fn key(seed: char) -> String {
    std::iter::repeat_n(seed, 64).collect()
}

fn config(db: &PouchDb, redis: &RedisServer, login: &str, seed: char) -> UserSetupConfig {
    let mut cfg = UserSetupConfig::new(
        login.to_owned(),
        format!("{login}@example.com"),
        Secret::new(format!("{login}-password")),
        (
            format!("0000000{seed}-0000-0000-0000-000000000000"),
            Secret::new(key(seed)),
        ),
        db.url(),
        (ADMIN.to_owned(), Secret::new(db.password.clone())),
    );
    cfg.redis = Some(UserRedisTarget {
        address: redis.address.to_string(),
        default_password: Secret::new(redis.password.clone()),
        user: Some((
            Secret::new(format!("{login}-redis-pw")),
            format!("{login}:"),
        )),
    });
    cfg.quota = vec![("REDIS".into(), "100".into())];
    cfg.metadata = vec![("REDIS_PREFIX".into(), Secret::new(format!("{login}:")))];
    cfg.bcrypt_cost = 4;
    cfg
}

#[tokio::test]
async fn a_user_is_created_changed_isolated_and_deleted() {
    let db = PouchDb::start();
    let redis = RedisServer::start();
    prepare(&db);

    // create
    let alice = config(&db, &redis, "alice", 'a');
    let started = Instant::now();
    let report = run_user_setup(alice.clone()).await.expect("create alice");
    println!(
        "figure: one user set up on the real servers in {:?}",
        started.elapsed()
    );
    assert_eq!(
        report.outcome_of("document nuvolaris_subjects/alice"),
        Some(Outcome::Created)
    );
    assert_eq!(report.outcome_of("acl user alice"), Some(Outcome::Created));
    assert_eq!(
        report.outcome_of("document nuvolaris_users_metadata/alice"),
        Some(Outcome::Created)
    );
    let (status, subject) = couch(&db, "GET", "/nuvolaris_subjects/alice");
    assert_eq!(status, 200);
    assert_eq!(
        subject["namespaces"][0]["uuid"],
        "0000000a-0000-0000-0000-000000000000"
    );
    assert_eq!(subject["namespaces"][0]["key"], key('a'));
    let (_, metadata) = couch(&db, "GET", "/nuvolaris_users_metadata/alice");
    assert_eq!(metadata["login"], "alice");
    assert_eq!(metadata["env"][0]["key"], "AUTH");
    assert_eq!(metadata["quota"][0]["value"], "100");
    assert!(bcrypt::verify("alice-password", metadata["password"].as_str().unwrap()).unwrap());

    // the ACL user is confined to its prefix
    let as_alice = Some(("alice", "alice-redis-pw"));
    assert_eq!(redis.reply(as_alice, &["SET", "alice:k", "1"]), "OK");
    assert!(
        redis
            .reply(as_alice, &["SET", "other:k", "1"])
            .contains("NOPERM")
    );

    // a second run changes nothing
    let again = run_user_setup(alice.clone()).await.expect("second run");
    assert!(again.is_unchanged(), "{again}: {:?}", again.steps);

    // a second user, isolated from the first
    let bob = config(&db, &redis, "bobby", 'b');
    run_user_setup(bob.clone()).await.expect("create bobby");
    let as_bob = Some(("bobby", "bobby-redis-pw"));
    assert!(redis.reply(as_bob, &["GET", "alice:k"]).contains("NOPERM"));
    assert!(
        redis
            .reply(as_alice, &["GET", "bobby:k"])
            .contains("NOPERM")
    );
    assert!(
        redis
            .reply(Some(("alice", "bobby-redis-pw")), &["PING"])
            .contains("WRONGPASS")
    );

    // change: password, quota, Redis password
    let mut changed = alice.clone();
    changed.password = Secret::new("new-password");
    changed.quota = vec![("REDIS".into(), "200".into())];
    changed.redis.as_mut().unwrap().user = Some((Secret::new("new-redis-pw"), "alice:".into()));
    let report = run_user_setup(changed.clone()).await.expect("change");
    assert_eq!(report.outcome_of("acl user alice"), Some(Outcome::Updated));
    let (_, metadata) = couch(&db, "GET", "/nuvolaris_users_metadata/alice");
    assert!(bcrypt::verify("new-password", metadata["password"].as_str().unwrap()).unwrap());
    assert_eq!(metadata["quota"][0]["value"], "200");
    assert!(
        redis.reply(as_alice, &["PING"]).contains("WRONGPASS"),
        "old password refused"
    );
    assert_eq!(
        redis.reply(Some(("alice", "new-redis-pw")), &["PING"]),
        "PONG"
    );

    // Redis switched off for the user: its ACL user goes
    let mut off = changed.clone();
    off.redis.as_mut().unwrap().user = None;
    let report = run_user_setup(off).await.expect("redis off");
    assert_eq!(report.outcome_of("acl user alice"), Some(Outcome::Deleted));
    assert!(redis.reply(None, &["ACL", "GETUSER", "alice"]).is_empty());

    // delete
    let mut delete = changed.clone();
    delete.action = UserAction::Delete;
    let report = run_user_setup(delete.clone()).await.expect("delete");
    assert_eq!(
        report.outcome_of("document nuvolaris_subjects/alice"),
        Some(Outcome::Deleted)
    );
    assert_eq!(couch(&db, "GET", "/nuvolaris_subjects/alice").0, 404);
    assert_eq!(couch(&db, "GET", "/nuvolaris_users_metadata/alice").0, 404);
    // bobby is untouched
    assert_eq!(couch(&db, "GET", "/nuvolaris_subjects/bobby").0, 200);
    assert_eq!(redis.reply(as_bob, &["PING"]), "PONG");
    // deleting again changes nothing
    assert!(
        run_user_setup(delete)
            .await
            .expect("delete again")
            .is_unchanged()
    );

    // a delete with Redis unreachable still removes the CouchDB entries, then fails, bounded
    let mut unreachable = bob.clone();
    unreachable.action = UserAction::Delete;
    unreachable.wait = Duration::from_secs(2);
    unreachable.redis.as_mut().unwrap().address = format!("127.0.0.1:{}", free_port());
    let started = Instant::now();
    let err = run_user_setup(unreachable)
        .await
        .expect_err("redis is down");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(err.to_string().contains("redis"), "{err}");
    assert!(!err.to_string().contains("bobby-redis-pw"), "{err}");
    assert_eq!(couch(&db, "GET", "/nuvolaris_subjects/bobby").0, 404);
    assert_eq!(couch(&db, "GET", "/nuvolaris_users_metadata/bobby").0, 404);
}
