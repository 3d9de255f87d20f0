//! `setup seaweedfs` against a real `weed server -filer -s3` (`tools/testdeps/seaweedfs.sh`,
//! started by `support::servers::Seaweedfs` with an admin identity of its own). What the setup
//! did is checked with independent clients: the tests' own SigV4 client, plain HTTP for
//! anonymous requests, and `weed shell` (`s3.configure`, `s3.bucket.quota`) — never with the
//! code under test. Prints the time of a first run and of a no-op rerun.

mod support;

use std::time::{Duration, Instant};

use nuvolaris_operator::setup::object_store::StoreAccount;
use nuvolaris_operator::setup::s3 as ops3;
use nuvolaris_operator::setup::{
    Outcome, SeaweedfsSetupConfig, Secret, SetupReport, run_seaweedfs_setup,
};
use support::servers::s3::{self, S3Credentials};
use support::servers::{Seaweedfs, http};

const USER: &str = "nuvolaris";
const USER_KEY: &str = "user-S3cret-key-1";

fn config(weed: &Seaweedfs, user_key: &str, quota_mb: u32) -> SeaweedfsSetupConfig {
    let mut cfg = SeaweedfsSetupConfig::new(
        format!("http://{}", weed.s3),
        format!("http://{}", weed.filer),
        ops3::S3Credentials::new(USER, Secret::new(user_key)),
        quota_mb,
    );
    cfg.wait = Duration::from_secs(60);
    cfg
}

async fn run(cfg: SeaweedfsSetupConfig) -> SetupReport {
    run_seaweedfs_setup(cfg).await.expect("the setup succeeds")
}

fn user(key: &str) -> S3Credentials {
    S3Credentials::new(USER, key)
}

fn quota(weed: &Seaweedfs, bucket: &str) -> String {
    weed.shell(&format!("s3.bucket.quota -name={bucket} -op=get"))
        .expect("weed shell")
}

#[tokio::test]
async fn creates_identities_buckets_quotas_and_public_index_then_changes_nothing() {
    let weed = Seaweedfs::start();
    let started = Instant::now();
    let first = run(config(&weed, USER_KEY, 1024)).await;
    let first_time = started.elapsed();
    for step in [
        "identity nuvolaris",
        "identity anonymous",
        "bucket nuvolaris-data",
        "quota of nuvolaris-data",
        "bucket nuvolaris-web",
        "quota of nuvolaris-web",
        "object nuvolaris-web/index.html",
    ] {
        assert_eq!(
            first.outcome_of(step),
            Some(Outcome::Created),
            "{step}: {:?}",
            first.steps
        );
    }

    // Anyone may read the web bucket; not the data bucket.
    let index = http::get(weed.s3, "/nuvolaris-web/index.html").expect("GET");
    assert_eq!(index.status, 200, "{}", index.text());
    assert!(index.text().contains("<html"), "{}", index.text());
    let data = http::get(weed.s3, "/nuvolaris-data/").expect("GET");
    assert_eq!(
        data.status,
        403,
        "the data bucket is private: {}",
        data.text()
    );

    // The user may write and read its buckets; a wrong key is refused.
    s3::assert_put(weed.s3, &user(USER_KEY), "/nuvolaris-data/a/b.txt", b"hi");
    s3::assert_get(weed.s3, &user(USER_KEY), "/nuvolaris-data/a/b.txt", "hi");
    let wrong = s3::request(
        weed.s3,
        &user("wrong-key-123"),
        "GET",
        "/nuvolaris-data/a/b.txt",
        &[],
        b"",
    )
    .expect("GET");
    assert_eq!(
        wrong.status,
        403,
        "a wrong key is refused: {}",
        wrong.text()
    );
    let other = s3::request(weed.s3, &weed.admin, "PUT", "/other", &[], b"").expect("PUT");
    assert_eq!(other.status, 200, "{}", other.text());
    let denied = s3::request(weed.s3, &user(USER_KEY), "PUT", "/other/x", &[], b"x").expect("PUT");
    assert_eq!(
        denied.status,
        403,
        "only its two buckets: {}",
        denied.text()
    );

    // What weed shell sees.
    let identities = weed.shell("s3.configure").expect("weed shell s3.configure");
    assert!(
        identities.contains("\"nuvolaris\"") && identities.contains("Admin:nuvolaris-data"),
        "{identities}"
    );
    assert!(identities.contains("Read:nuvolaris-web"), "{identities}");
    assert!(
        quota(&weed, "nuvolaris-data").contains("1024MiB"),
        "{}",
        quota(&weed, "nuvolaris-data")
    );

    let started = Instant::now();
    let second = run(config(&weed, USER_KEY, 1024)).await;
    let rerun_time = started.elapsed();
    assert!(second.is_unchanged(), "{:?}", second.steps);
    println!(
        "setup seaweedfs on a real SeaweedFS: first run {} ms ({} steps), no-op rerun {} ms",
        first_time.as_millis(),
        first.steps.len(),
        rerun_time.as_millis()
    );
}

#[tokio::test]
async fn a_new_password_and_quota_are_applied_and_others_identities_stay() {
    let weed = Seaweedfs::start();
    run(config(&weed, USER_KEY, 1024)).await;
    let report = run(config(&weed, "user-S3cret-key-2", 512)).await;
    assert_eq!(
        report.outcome_of("identity nuvolaris"),
        Some(Outcome::Updated)
    );
    assert_eq!(
        report.outcome_of("quota of nuvolaris-data"),
        Some(Outcome::Updated)
    );
    assert_eq!(
        report.outcome_of("identity anonymous"),
        Some(Outcome::Unchanged)
    );
    assert!(
        quota(&weed, "nuvolaris-web").contains("512MiB"),
        "{}",
        quota(&weed, "nuvolaris-web")
    );
    // the gateway reloads identities asynchronously: the new key works once the setup is done
    let new = s3::request(
        weed.s3,
        &user("user-S3cret-key-2"),
        "GET",
        "/nuvolaris-data",
        &[],
        b"",
    )
    .expect("GET");
    assert_eq!(new.status, 200, "{}", new.text());
    let admin = s3::list_buckets(weed.s3, &weed.admin).expect("the admin identity still works");
    assert!(admin.contains(&"nuvolaris-web".to_owned()), "{admin:?}");
}

/// SeaweedFS as the operator deploys it, with no identity at all: the gateway accepts every
/// request until the setup stores the first identity, and from then on only signed ones.
#[tokio::test]
async fn on_a_server_without_identities_the_setup_turns_authentication_on() {
    let weed = Seaweedfs::start_without_identities();
    let open = http::request(weed.s3, "PUT", "/before", &[], b"").expect("PUT");
    assert_eq!(open.status, 200, "no identity: anyone may create a bucket");
    let report = run(config(&weed, USER_KEY, 1024)).await;
    assert_eq!(
        report.outcome_of("identity nuvolaris"),
        Some(Outcome::Created)
    );
    assert_eq!(
        report.outcome_of("bucket nuvolaris-data"),
        Some(Outcome::Created)
    );

    let anonymous = http::request(weed.s3, "PUT", "/nuvolaris-data/x", &[], b"x").expect("PUT");
    assert_eq!(
        anonymous.status, 403,
        "an identity exists: anonymous writes are refused"
    );
    let index = http::get(weed.s3, "/nuvolaris-web/index.html").expect("GET");
    assert_eq!(index.status, 200, "{}", index.text());
    let put = s3::request(
        weed.s3,
        &user(USER_KEY),
        "PUT",
        "/nuvolaris-data/y",
        &[],
        b"y",
    )
    .expect("PUT");
    assert_eq!(put.status, 200, "{}", put.text());
    assert!(run(config(&weed, USER_KEY, 1024)).await.is_unchanged());
}

/// Another component's account (Milvus's `miniomilvus` on `vectors`): its identity, bucket
/// and quota are made, it may read and write that bucket and nothing else, a rerun changes
/// nothing and a new password replaces the old key.
#[tokio::test]
async fn an_account_for_another_component_gets_its_bucket_only_and_follows_its_password() {
    let weed = Seaweedfs::start();
    let with_account = |key: &str| {
        let mut cfg = config(&weed, USER_KEY, 1024);
        cfg.accounts = vec![StoreAccount {
            credentials: ops3::S3Credentials::new("miniomilvus", Secret::new(key)),
            bucket: "vectors".into(),
            quota_mb: 2048,
        }];
        cfg
    };
    let milvus = |key: &str| S3Credentials::new("miniomilvus", key);
    let started = Instant::now();
    let first = run(with_account("milvus-S3cret-1")).await;
    let first_time = started.elapsed();
    for step in ["identity miniomilvus", "bucket vectors", "quota of vectors"] {
        assert_eq!(
            first.outcome_of(step),
            Some(Outcome::Created),
            "{step}: {:?}",
            first.steps
        );
    }
    assert!(
        quota(&weed, "vectors").contains("2048MiB"),
        "{}",
        quota(&weed, "vectors")
    );

    let key = milvus("milvus-S3cret-1");
    let put = s3::request(weed.s3, &key, "PUT", "/vectors/files/s1", &[], b"v").expect("PUT");
    assert_eq!(put.status, 200, "{}", put.text());
    let got = s3::request(weed.s3, &key, "GET", "/vectors/files/s1", &[], b"").expect("GET");
    assert_eq!((got.status, got.text().as_str()), (200, "v"));
    let listed =
        s3::request(weed.s3, &key, "GET", "/vectors", &[("list-type", "2")], b"").expect("list");
    assert_eq!(s3::xml_values(&listed.text(), "Key"), ["files/s1"]);
    for (method, path, body) in [
        ("GET", "/nuvolaris-data", &b""[..]),
        ("GET", "/nuvolaris-web/index.html", b""),
        ("PUT", "/nuvolaris-data/x", b"x"),
        ("PUT", "/another-bucket", b""),
    ] {
        let denied = s3::request(weed.s3, &key, method, path, &[], body).expect(path);
        assert_eq!(denied.status, 403, "{method} {path}: {}", denied.text());
    }
    let theirs =
        s3::request(weed.s3, &user(USER_KEY), "PUT", "/vectors/x", &[], b"x").expect("PUT");
    assert_eq!(
        theirs.status, 403,
        "the nuvolaris user keeps to its buckets"
    );

    let started = Instant::now();
    let second = run(with_account("milvus-S3cret-1")).await;
    let rerun_time = started.elapsed();
    assert!(second.is_unchanged(), "{:?}", second.steps);

    let third = run(with_account("milvus-S3cret-2")).await;
    assert_eq!(
        third.outcome_of("identity miniomilvus"),
        Some(Outcome::Updated)
    );
    assert_eq!(third.count(Outcome::Updated), 1, "{:?}", third.steps);
    let new = s3::request(
        weed.s3,
        &milvus("milvus-S3cret-2"),
        "GET",
        "/vectors/files/s1",
        &[],
        b"",
    )
    .expect("GET");
    assert_eq!((new.status, new.text().as_str()), (200, "v"));
    let old = s3::request(weed.s3, &key, "GET", "/vectors/files/s1", &[], b"").expect("GET");
    assert_eq!(old.status, 403, "the old key is refused: {}", old.text());
    println!(
        "setup seaweedfs with Milvus's account: first run {} ms, no-op rerun {} ms",
        first_time.as_millis(),
        rerun_time.as_millis()
    );
}
