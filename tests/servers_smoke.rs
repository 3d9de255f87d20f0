//! Each test server of `tests/support/servers.rs` starts and answers a real request of
//! its protocol. The servers are installed by `tools/testdeps/*.sh` (tools/test.sh runs
//! them); a missing one makes its test fail with the command to run.

mod support;

use support::servers::http;
use support::servers::kafka;
use support::servers::mongo::{self, Bson, doc};
use support::servers::s3::{self, S3Credentials};
use support::servers::zookeeper::{self, Zookeeper};
use support::servers::{
    Ferretdb, Kafka, MilvusLite, Minio, Nginx, Postgres, Registry, Seaweedfs, amtool_check_config,
    nginx_check, promtool_check_config, promtool_check_rules, testdep,
};

/// Creates a bucket, puts and gets an object, lists the bucket; a wrong secret key is
/// refused. The S3 part that MinIO and SeaweedFS share.
fn exercise_s3(addr: std::net::SocketAddr, creds: &S3Credentials) {
    let put = s3::request(addr, creds, "PUT", "/smoke", &[], b"").unwrap();
    assert_eq!(put.status, 200, "CreateBucket: {}", put.text());
    let object = s3::request(addr, creds, "PUT", "/smoke/dir/hello.txt", &[], b"hello").unwrap();
    assert_eq!(object.status, 200, "PutObject: {}", object.text());
    let got = s3::request(addr, creds, "GET", "/smoke/dir/hello.txt", &[], b"").unwrap();
    assert_eq!((got.status, got.text().as_str()), (200, "hello"));
    let listed = s3::request(addr, creds, "GET", "/smoke", &[("list-type", "2")], b"").unwrap();
    assert_eq!(s3::xml_values(&listed.text(), "Key"), ["dir/hello.txt"]);
    assert_eq!(s3::list_buckets(addr, creds).unwrap(), ["smoke"]);

    let wrong = S3Credentials::new(creds.access_key.clone(), "not-the-secret-key");
    let refused = s3::request(addr, &wrong, "GET", "/", &[], b"").unwrap();
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert!(
        refused.text().contains("SignatureDoesNotMatch"),
        "{}",
        refused.text()
    );
}

#[test]
fn minio_serves_signed_s3_and_the_admin_api() {
    let minio = Minio::start();
    assert!(
        s3::list_buckets(minio.address, &minio.root)
            .unwrap()
            .is_empty()
    );
    exercise_s3(minio.address, &minio.root);
    // The MinIO admin API answers the root user's SigV4-signed requests on the same port.
    let info = s3::request(
        minio.address,
        &minio.root,
        "GET",
        "/minio/admin/v3/info",
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(info.status, 200, "{}", info.text());
    let info: serde_json::Value = serde_json::from_slice(&info.body).unwrap();
    assert_eq!(info["mode"], "online", "{info}");

    // mc, as the original's MinIO setup uses it: a user with a policy on one bucket.
    let user = S3Credentials::new("smokeuser", "smoke-user-secret");
    let policy = minio.process.dir().join("policy.json");
    let statement = r#"{"Effect":"Allow","Action":["s3:*"],"Resource":["arn:aws:s3:::smoke","arn:aws:s3:::smoke/*"]}"#;
    std::fs::write(
        &policy,
        format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#),
    )
    .unwrap();
    let policy = policy.to_str().unwrap();
    minio
        .mc(&[
            "admin",
            "user",
            "add",
            "local",
            &user.access_key,
            &user.secret_key,
        ])
        .unwrap();
    minio
        .mc(&["admin", "policy", "create", "local", "smoke_rw", policy])
        .unwrap();
    minio
        .mc(&[
            "admin",
            "policy",
            "attach",
            "local",
            "smoke_rw",
            "--user",
            &user.access_key,
        ])
        .unwrap();
    let listed = s3::request(
        minio.address,
        &user,
        "GET",
        "/smoke",
        &[("list-type", "2")],
        b"",
    )
    .unwrap();
    assert_eq!(s3::xml_values(&listed.text(), "Key"), ["dir/hello.txt"]);
    let other = s3::request(minio.address, &user, "PUT", "/other", &[], b"").unwrap();
    assert_eq!(
        other.status,
        403,
        "the policy covers bucket smoke only: {}",
        other.text()
    );
}

#[test]
fn seaweedfs_serves_signed_s3_and_weed_shell() {
    let weed = Seaweedfs::start();
    exercise_s3(weed.s3, &weed.admin);
    // `weed shell` reaches master and filer through the explicit gRPC ports.
    let buckets = weed.shell("s3.bucket.list").unwrap();
    assert!(buckets.contains("smoke"), "{buckets}");
}

#[test]
fn postgres_answers_sql_with_password_auth() {
    let postgres = Postgres::start();
    assert_eq!(
        postgres.superuser_psql("postgres", "select 1").unwrap(),
        "1"
    );
    let scram = postgres
        .superuser_psql(
            "postgres",
            "select rolpassword like 'SCRAM-SHA-256$%' from pg_authid where rolname = 'postgres'",
        )
        .unwrap();
    assert_eq!(
        scram, "t",
        "the superuser's password is stored as a SCRAM verifier"
    );
    let refused = postgres
        .psql("postgres", "wrong-password", "postgres", "select 1")
        .unwrap_err();
    assert!(
        refused.contains("password authentication failed"),
        "{refused}"
    );
}

#[test]
fn ferretdb_answers_mongo_commands_and_stores_in_postgres() {
    let ferretdb = Ferretdb::start();
    let inserted = mongo::run_command(
        ferretdb.address,
        "smoke",
        doc([
            ("insert", Bson::String("things".into())),
            (
                "documents",
                Bson::Array(vec![doc([("name", Bson::String("a".into()))])]),
            ),
        ]),
    )
    .unwrap();
    assert_eq!(
        inserted.get("n").and_then(Bson::as_f64),
        Some(1.0),
        "{inserted:?}"
    );
    let found = mongo::run_command(
        ferretdb.address,
        "smoke",
        doc([("find", Bson::String("things".into()))]),
    )
    .unwrap();
    let batch = found.get("cursor").and_then(|c| c.get("firstBatch"));
    let Some(Bson::Array(docs)) = batch else {
        panic!("no firstBatch: {found:?}")
    };
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].get("name"), Some(&Bson::String("a".into())));
    // FerretDB v1 keeps each MongoDB database as a PostgreSQL schema.
    let postgres = ferretdb
        .postgres()
        .expect("started with its own PostgreSQL");
    let schema = postgres
        .superuser_psql(
            support::servers::ferretdb::DATABASE,
            "select schema_name from information_schema.schemata where schema_name = 'smoke'",
        )
        .unwrap();
    assert_eq!(schema, "smoke");
}

#[test]
fn nginx_checks_configs_and_serves() {
    let valid =
        "events {}\nhttp {\n  include mime.types;\n  server { listen 127.0.0.1:8080; }\n}\n";
    let mime = [("mime.types", "types { text/html html; }\n")];
    let report = nginx_check(valid, &mime).unwrap();
    assert!(report.contains("syntax is ok"), "{report}");
    let invalid = "events {}\nhttp { server { listen 127.0.0.1:8080; no_such_directive on; } }\n";
    let report = nginx_check(invalid, &[]).unwrap_err();
    assert!(
        report.contains("unknown directive \"no_such_directive\""),
        "{report}"
    );

    let nginx = Nginx::start(|addr| {
        format!("server {{ listen {addr}; location / {{ return 200 \"nginx smoke\\n\"; }} }}")
    });
    let response = http::get(nginx.address, "/anything").unwrap();
    assert_eq!(
        (response.status, response.text().as_str()),
        (200, "nginx smoke\n")
    );
}

#[test]
fn registry_challenges_and_accepts_its_htpasswd_user() {
    let registry = Registry::start();
    let anonymous = http::get(registry.address, "/v2/").unwrap();
    assert_eq!(anonymous.status, 401);
    assert!(
        anonymous
            .header("www-authenticate")
            .unwrap()
            .contains("realm=\"Registry Realm\""),
        "{:?}",
        anonymous.headers
    );
    let ok = registry.get_authenticated("/v2/").unwrap();
    assert_eq!(ok.status, 200, "{}", ok.text());
    let wrong = Registry::basic_auth(&registry.user, "wrong-password");
    let refused = http::request(
        registry.address,
        "GET",
        "/v2/",
        &[("Authorization", &wrong)],
        b"",
    )
    .unwrap();
    assert_eq!(refused.status, 401);
    let catalog = registry.get_authenticated("/v2/_catalog").unwrap();
    assert_eq!(catalog.status, 200);
    assert_eq!(catalog.text().trim(), r#"{"repositories":[]}"#);
}

#[test]
fn pouchdb_serves_documents_mango_and_local_documents() {
    let couchdb = support::servers::PouchDb::start();
    couchdb.create_database("smoke");
    couchdb.bulk_write("smoke", &[serde_json::json!({"_id": "a", "n": 1})]);
    let found = couchdb.admin_request(
        "POST",
        "/smoke/_find",
        Some(&serde_json::json!({"selector": {"n": 1}, "fields": ["_id"]})),
    );
    assert_eq!(found.status, 200, "{}", found.text());
    assert!(found.text().contains("\"a\""), "{}", found.text());
    let local = couchdb.admin_request(
        "PUT",
        "/smoke/_local/x",
        Some(&serde_json::json!({"k": "v"})),
    );
    assert!(matches!(local.status, 201 | 200), "{}", local.text());
    assert_eq!(
        couchdb.get("/smoke/_local/x").expect("the local document")["k"],
        "v"
    );
    let wrong = http::request(
        couchdb.address,
        "GET",
        "/_session",
        &[(
            "Authorization",
            &Registry::basic_auth(&couchdb.admin, "wrong"),
        )],
        b"",
    )
    .unwrap();
    assert_eq!(wrong.status, 401, "{}", wrong.text());
}

#[test]
fn redis_serves_its_default_user_and_acl_users() {
    let redis = support::servers::RedisServer::start();
    redis
        .cli(&["ACL", "SETUSER", "u", "on", ">pw", "~u:*", "+@all"])
        .unwrap();
    redis.cli_as("u", "pw", &["SET", "u:k", "v"]).unwrap();
    let refused = redis
        .cli_as("u", "pw", &["SET", "other:k", "v"])
        .unwrap_err();
    assert!(refused.contains("NOPERM"), "{refused}");
    assert!(redis.cli_as("u", "wrong", &["PING"]).is_err());
}

#[test]
fn promtool_and_amtool_check_configs() {
    let config = "global:\n  scrape_interval: 15s\nrule_files: [rules.yml]\n\
                  scrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['127.0.0.1:9090']\n";
    let rules = "groups:\n  - name: smoke\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 1m\n";
    let report = promtool_check_config(config, &[("rules.yml", rules)]).unwrap();
    assert!(report.contains("SUCCESS"), "{report}");
    let report =
        promtool_check_config("scrape_configs:\n  - job_name: [not, a, name]\n", &[]).unwrap_err();
    assert!(report.contains("FAILED"), "{report}");
    assert!(
        promtool_check_rules(rules)
            .unwrap()
            .contains("SUCCESS: 1 rules found")
    );
    let bad_rules =
        "groups:\n  - name: smoke\n    rules:\n      - alert: Down\n        expr: up ==\n";
    assert!(promtool_check_rules(bad_rules).is_err());

    let alertmanager = "route:\n  receiver: default\nreceivers:\n  - name: default\n";
    let report = amtool_check_config(alertmanager).unwrap();
    assert!(report.contains("SUCCESS"), "{report}");
    let report = amtool_check_config("route:\n  receiver: missing\nreceivers: []\n").unwrap_err();
    assert!(
        report.contains("undefined receiver \"missing\""),
        "{report}"
    );
}

#[test]
fn zookeeper_and_kafka_in_zookeeper_mode() {
    let zk = Zookeeper::start("maxClientCnxns=60\n");
    assert_eq!(
        zookeeper::four_letter_word(zk.address, "ruok").unwrap(),
        "imok"
    );
    let srvr = zookeeper::four_letter_word(zk.address, "srvr").unwrap();
    assert!(srvr.contains("Mode: standalone"), "{srvr}");

    let kafka = Kafka::start(&zk, "broker.id=3\nauto.create.topics.enable=false\n");
    assert_eq!(kafka.broker_id, 3);
    let metadata = kafka::metadata(kafka.address).unwrap();
    assert_eq!(
        metadata.brokers,
        [(3, "127.0.0.1".to_string(), i32::from(kafka.address.port()))]
    );
    // The broker registered itself in this ZooKeeper (an ephemeral node of its session).
    let dump = zookeeper::four_letter_word(zk.address, "dump").unwrap();
    assert!(dump.contains("/brokers/ids/3"), "{dump}");
}

#[test]
fn milvus_lite_serves_grpc_databases_but_no_users() {
    let milvus = MilvusLite::start();
    let listed = milvus
        .pymilvus("client.create_database('nuvolaris')\nprint(sorted(client.list_databases()))")
        .unwrap();
    assert_eq!(listed, "['default', 'nuvolaris']");
    // What the original's setup needs besides databases (users, roles, grants) is
    // not implemented: this fails, and says so, when a milvus-lite release adds it.
    let users = milvus
        .pymilvus("client.create_user('nuvolaris', 'Nuv0therPa55')")
        .unwrap_err();
    assert!(users.contains("UNIMPLEMENTED"), "{users}");
}

#[test]
#[should_panic(expected = "run tools/testdeps/no-such-server.sh")]
fn a_missing_server_fails_with_the_command_to_run() {
    testdep("no-such-server");
}

#[test]
fn bson_round_trips_and_hmac_matches_rfc4231() {
    let original = doc([
        ("insert", Bson::String("c".into())),
        ("n", Bson::Int32(-3)),
        ("big", Bson::Int64(1 << 40)),
        ("ok", Bson::Double(1.0)),
        ("flag", Bson::Bool(true)),
        ("none", Bson::Null),
        (
            "list",
            Bson::Array(vec![Bson::Int32(1), Bson::String("x".into())]),
        ),
        ("sub", doc([("a", Bson::Int32(1))])),
    ]);
    assert_eq!(mongo::decode(&mongo::encode(&original)).unwrap(), original);
    // RFC 4231 test case 2.
    assert_eq!(
        s3::hex(&s3::hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}
