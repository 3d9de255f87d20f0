//! `setup minio` against a real MinIO server (`tools/testdeps/minio.sh`, started by
//! `support::servers::Minio`). What the setup did is checked with independent clients: the
//! tests' own SigV4 client (`support::servers::s3`), plain HTTP for anonymous requests and
//! MinIO's `mc` (`tools/testdeps/mc.sh`) for users and policies — never with the code under
//! test. Prints the time of a first run and of a no-op rerun.

mod support;

use std::time::{Duration, Instant};

use nuvolaris_operator::setup::minio_admin::MinioAdmin;
use nuvolaris_operator::setup::object_store::StoreAccount;
use nuvolaris_operator::setup::s3::{self as ops3, S3Client};
use nuvolaris_operator::setup::{
    MinioSetupConfig, Outcome, Secret, SetupError, SetupReport, run_minio_setup,
};
use support::servers::s3::{self, S3Credentials};
use support::servers::{Minio, http};

const USER: &str = "nuvolaris";
const USER_KEY: &str = "user-S3cret-key-1";

fn config(minio: &Minio, user_key: &str) -> MinioSetupConfig {
    let mut cfg = MinioSetupConfig::new(
        minio.endpoint(),
        ops3::S3Credentials::new(
            minio.root.access_key.clone(),
            Secret::new(minio.root.secret_key.clone()),
        ),
        ops3::S3Credentials::new(USER, Secret::new(user_key)),
    );
    cfg.wait = Duration::from_secs(30);
    cfg
}

async fn run(cfg: MinioSetupConfig) -> SetupReport {
    run_minio_setup(cfg).await.expect("the setup succeeds")
}

fn user(key: &str) -> S3Credentials {
    S3Credentials::new(USER, key)
}

#[tokio::test]
async fn creates_buckets_user_policy_and_public_index_then_changes_nothing() {
    let minio = Minio::start();
    let started = Instant::now();
    let first = run(config(&minio, USER_KEY)).await;
    let first_time = started.elapsed();
    assert_eq!(first.count(Outcome::Unchanged), 0, "{:?}", first.steps);
    for step in [
        "bucket nuvolaris-data",
        "bucket nuvolaris-web",
        "anonymous download of nuvolaris-web",
        "object nuvolaris-web/index.html",
        "user nuvolaris",
        "policy nuvolaris_rw_policy",
        "policy nuvolaris_rw_policy of user nuvolaris",
    ] {
        assert_eq!(first.outcome_of(step), Some(Outcome::Created), "{step}");
    }

    // Anyone may read the web bucket; not the data bucket.
    let index = http::get(minio.address, "/nuvolaris-web/index.html").expect("GET");
    assert_eq!(index.status, 200, "{}", index.text());
    assert!(index.text().contains("<html"), "{}", index.text());
    let missing = http::get(minio.address, "/nuvolaris-web/no-such-page").expect("GET");
    assert_eq!(missing.status, 404, "listing allowed: a missing key is 404");
    let data = http::get(minio.address, "/nuvolaris-data/").expect("GET");
    assert_eq!(data.status, 403, "the data bucket is private");

    // The user may write, read and list both buckets, and nothing else.
    s3::assert_put(
        minio.address,
        &user(USER_KEY),
        "/nuvolaris-data/a/b.txt",
        b"hi",
    );
    s3::assert_get(
        minio.address,
        &user(USER_KEY),
        "/nuvolaris-data/a/b.txt",
        "hi",
    );
    let listed = s3::request(
        minio.address,
        &user(USER_KEY),
        "GET",
        "/nuvolaris-web",
        &[("list-type", "2")],
        b"",
    )
    .expect("list");
    assert_eq!(s3::xml_values(&listed.text(), "Key"), ["index.html"]);
    let other = s3::request(minio.address, &minio.root, "PUT", "/other", &[], b"").expect("PUT");
    assert_eq!(other.status, 200);
    let denied =
        s3::request(minio.address, &user(USER_KEY), "PUT", "/other/x", &[], b"x").expect("PUT");
    assert_eq!(denied.status, 403, "only its two buckets");
    let wrong = s3::request(
        minio.address,
        &user("wrong-key-123"),
        "GET",
        "/nuvolaris-data",
        &[],
        b"",
    )
    .expect("GET");
    assert_eq!(wrong.status, 403, "a wrong key is refused");
    assert!(
        wrong.text().contains("SignatureDoesNotMatch"),
        "{}",
        wrong.text()
    );

    // What mc sees.
    let info = minio
        .mc(&["admin", "user", "info", "local", USER, "--json"])
        .expect("mc admin user info");
    assert!(
        info.contains("nuvolaris_rw_policy") && info.contains("enabled"),
        "{info}"
    );
    let anonymous = minio
        .mc(&["anonymous", "get", "local/nuvolaris-web"])
        .expect("mc anonymous get");
    assert!(anonymous.contains("download"), "{anonymous}");

    // A second run changes nothing.
    let started = Instant::now();
    let second = run(config(&minio, USER_KEY)).await;
    let rerun_time = started.elapsed();
    assert!(second.is_unchanged(), "{:?}", second.steps);
    println!(
        "setup minio on a real MinIO: first run {} ms ({} steps), no-op rerun {} ms",
        first_time.as_millis(),
        first.steps.len(),
        rerun_time.as_millis()
    );
}

#[tokio::test]
async fn a_new_password_replaces_the_old_key_and_an_edited_index_stays() {
    let minio = Minio::start();
    run(config(&minio, USER_KEY)).await;
    let page = s3::request(
        minio.address,
        &minio.root,
        "PUT",
        "/nuvolaris-web/index.html",
        &[],
        b"<p>mine</p>",
    )
    .expect("PUT");
    assert_eq!(page.status, 200);

    let report = run(config(&minio, "user-S3cret-key-2")).await;
    assert_eq!(report.outcome_of("user nuvolaris"), Some(Outcome::Updated));
    assert_eq!(
        report.outcome_of("object nuvolaris-web/index.html"),
        Some(Outcome::Unchanged)
    );
    assert_eq!(report.count(Outcome::Updated), 1, "{:?}", report.steps);
    let old = s3::request(
        minio.address,
        &user(USER_KEY),
        "GET",
        "/nuvolaris-data",
        &[],
        b"",
    )
    .expect("GET");
    assert_eq!(old.status, 403, "the old key is refused");
    let new = s3::request(
        minio.address,
        &user("user-S3cret-key-2"),
        "GET",
        "/nuvolaris-data",
        &[],
        b"",
    )
    .expect("GET");
    assert_eq!(new.status, 200, "{}", new.text());
    let index = http::get(minio.address, "/nuvolaris-web/index.html").expect("GET");
    assert_eq!(
        index.text(),
        "<p>mine</p>",
        "uploaded once, never overwritten"
    );
}

/// The admin API's encrypted answers decrypt with the root key: `list-users` through the
/// operator's client, after the user was created with an encrypted request.
#[tokio::test]
async fn encrypted_admin_payloads_work_both_ways() {
    let minio = Minio::start();
    let root = S3Client::new(
        &minio.endpoint(),
        ops3::S3Credentials::new(
            minio.root.access_key.clone(),
            Secret::new(minio.root.secret_key.clone()),
        ),
        Duration::from_secs(10),
    )
    .expect("client");
    let admin = MinioAdmin::new(root).expect("admin");
    assert_eq!(admin.user_info("someone").await.expect("user-info"), None);
    admin
        .set_user("someone", &Secret::new("someone-S3cret"), true)
        .await
        .expect("add-user with an encrypted body");
    let users = admin.list_users().await.expect("list-users, decrypted");
    assert!(users.get("someone").is_some_and(|u| u.enabled), "{users:?}");
    admin
        .add_canned_policy("p1", &ops3::policy::read_write(&["b1"]))
        .await
        .expect("policy");
    admin
        .attach_policies("someone", &["p1"])
        .await
        .expect("attach with an encrypted body");
    admin
        .attach_policies("someone", &["p1"])
        .await
        .expect("attaching again is no error");
    let info = admin
        .user_info("someone")
        .await
        .expect("info")
        .expect("user");
    assert_eq!(info.policies, ["p1"]);

    // signed as a user who is not the root: the server cannot decrypt with its key
    let wrong = S3Client::new(
        &minio.endpoint(),
        ops3::S3Credentials::new(
            minio.root.access_key.clone(),
            Secret::new("not-the-root-key"),
        ),
        Duration::from_secs(10),
    )
    .expect("client");
    let err = MinioAdmin::new(wrong)
        .expect("admin")
        .set_user("x1y", &Secret::new("someone-S3cret"), true)
        .await
        .expect_err("refused");
    assert!(matches!(err, SetupError::S3 { status: 403, .. }), "{err}");
}

#[tokio::test]
async fn a_wrong_root_key_fails_within_the_wait_without_showing_it() {
    let minio = Minio::start();
    let mut cfg = config(&minio, USER_KEY);
    cfg.root.secret_key = Secret::new("wrong-root-key-xyz");
    cfg.wait = Duration::from_secs(2);
    let started = Instant::now();
    let err = run_minio_setup(cfg).await.expect_err("refused");
    assert!(started.elapsed() < Duration::from_secs(20), "bounded");
    let message = err.to_string();
    assert!(matches!(err, SetupError::NotReady { .. }), "{message}");
    assert!(message.contains("SignatureDoesNotMatch"), "{message}");
    assert!(!message.contains("wrong-root-key-xyz"), "{message}");
}

/// Another component's account (Milvus's `miniomilvus` on `vectors`): its bucket and policy
/// are made, it may read and write that bucket and nothing else, a rerun changes nothing and
/// a new password replaces the old key.
#[tokio::test]
async fn an_account_for_another_component_gets_its_bucket_only_and_follows_its_password() {
    let minio = Minio::start();
    let with_account = |key: &str| {
        let mut cfg = config(&minio, USER_KEY);
        cfg.accounts = vec![StoreAccount {
            credentials: ops3::S3Credentials::new("miniomilvus", Secret::new(key)),
            bucket: "vectors".into(),
            quota_mb: 10240,
        }];
        cfg
    };
    let milvus = |key: &str| S3Credentials::new("miniomilvus", key);
    let started = Instant::now();
    let first = run(with_account("milvus-S3cret-1")).await;
    let first_time = started.elapsed();
    for step in [
        "bucket vectors",
        "user miniomilvus",
        "policy miniomilvus_rw_policy",
        "policy miniomilvus_rw_policy of user miniomilvus",
    ] {
        assert_eq!(first.outcome_of(step), Some(Outcome::Created), "{step}");
    }

    let key = milvus("milvus-S3cret-1");
    let put = s3::request(minio.address, &key, "PUT", "/vectors/files/s1", &[], b"v").expect("PUT");
    assert_eq!(put.status, 200, "{}", put.text());
    let got = s3::request(minio.address, &key, "GET", "/vectors/files/s1", &[], b"").expect("GET");
    assert_eq!((got.status, got.text().as_str()), (200, "v"));
    let listed = s3::request(
        minio.address,
        &key,
        "GET",
        "/vectors",
        &[("list-type", "2")],
        b"",
    )
    .expect("list");
    assert_eq!(s3::xml_values(&listed.text(), "Key"), ["files/s1"]);
    for (method, path, body) in [
        ("GET", "/nuvolaris-data", &b""[..]),
        ("PUT", "/nuvolaris-data/x", b"x"),
        ("PUT", "/nuvolaris-web/index.html", b"x"),
        ("PUT", "/another-bucket", b""),
    ] {
        let denied = s3::request(minio.address, &key, method, path, &[], body).expect(path);
        assert_eq!(denied.status, 403, "{method} {path}: {}", denied.text());
    }
    let theirs = s3::request(
        minio.address,
        &user(USER_KEY),
        "PUT",
        "/vectors/x",
        &[],
        b"x",
    )
    .expect("PUT");
    assert_eq!(
        theirs.status, 403,
        "the nuvolaris user keeps to its buckets"
    );
    let info = minio
        .mc(&["admin", "user", "info", "local", "miniomilvus", "--json"])
        .expect("mc admin user info");
    assert!(info.contains("miniomilvus_rw_policy"), "{info}");

    let started = Instant::now();
    let second = run(with_account("milvus-S3cret-1")).await;
    let rerun_time = started.elapsed();
    assert!(second.is_unchanged(), "{:?}", second.steps);

    let third = run(with_account("milvus-S3cret-2")).await;
    assert_eq!(third.outcome_of("user miniomilvus"), Some(Outcome::Updated));
    assert_eq!(third.count(Outcome::Updated), 1, "{:?}", third.steps);
    let old = s3::request(minio.address, &key, "GET", "/vectors/files/s1", &[], b"").expect("GET");
    assert_eq!(old.status, 403, "the old key is refused");
    let new = s3::request(
        minio.address,
        &milvus("milvus-S3cret-2"),
        "GET",
        "/vectors/files/s1",
        &[],
        b"",
    )
    .expect("GET");
    assert_eq!((new.status, new.text().as_str()), (200, "v"));
    println!(
        "setup minio with Milvus's account: first run {} ms, no-op rerun {} ms",
        first_time.as_millis(),
        rerun_time.as_millis()
    );
}
