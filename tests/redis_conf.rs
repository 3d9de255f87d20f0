//! The redis.conf the operator renders (into the `redis-conf` Secret) against a real
//! redis-server: the passwords survive quoting whatever they contain, the `nuvolaris` user is
//! declared by the configuration itself (so it survives a restart of Redis) and is confined to
//! its key prefix.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

use base64::Engine;
use nuvolaris_operator::components::{self, ComponentRender};
use nuvolaris_operator::config::{ClusterFacts, Config, GeneratedSecrets};
use nuvolaris_operator::crd::ComponentId;
use nuvolaris_operator::crd::Whisk;
use serde_json::{Value, json};

const DEFAULT_PASSWORD: &str = r#"de"f\ault <&> on 'x'"#;
const NUVOLARIS_PASSWORD: &str = "s p a c e # not a comment";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rendered_redis_conf() -> String {
    let whisk: Whisk = serde_json::from_value(json!({
        "apiVersion": "nuvolaris.org/v1", "kind": "Whisk",
        "metadata": { "name": "controller", "namespace": "nuvolaris" },
        "spec": {
            "components": { "redis": true },
            "redis": {
                "default": { "password": DEFAULT_PASSWORD },
                "nuvolaris": { "password": NUVOLARIS_PASSWORD, "prefix": "tenant" },
                "maxmemory": "64mb",
            },
        },
    }))
    .expect("a valid Whisk");
    let secrets = GeneratedSecrets(
        components::generated_secret_keys()
            .iter()
            .map(|k| {
                (
                    k.name.to_owned(),
                    format!("00000000-0000-0000-0000-000000000000:{}", "x".repeat(64)),
                )
            })
            .collect(),
    );
    let cfg = Config::from_whisk(&whisk, &ClusterFacts::default(), &secrets)
        .expect("valid configuration");
    let redis = components::render_all(&cfg)
        .expect("renders")
        .into_iter()
        .find_map(|c| match c {
            ComponentRender::Rendered(r) if r.id == ComponentId::Redis => Some(r),
            _ => None,
        })
        .expect("redis is rendered");
    let secret: &Value = redis
        .objects
        .iter()
        .find(|o| {
            o["kind"] == "Secret"
                && o["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("redis-conf-"))
        })
        .expect("the redis-conf Secret");
    let encoded: String = secret["data"]["redis-conf"]
        .as_str()
        .expect("redis-conf key")
        .split_whitespace()
        .collect();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("base64"),
    )
    .expect("utf-8")
}

fn redis_cli(port: u16, auth: &[&str], args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "--no-auth-warning",
        ])
        .args(auth)
        .args(args)
        .output()
        .expect("redis-cli (Debian package redis-tools) must be installed");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .trim()
    .to_owned()
}

#[test]
fn the_rendered_redis_conf_works_on_a_real_redis_server() {
    let conf = rendered_redis_conf();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("redis.conf");
    std::fs::write(&path, &conf).expect("write redis.conf");
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let _server = Server(
        Command::new("redis-server")
            .arg(&path)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--dir",
                &dir.path().to_string_lossy(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start redis-server ({e}); install it with tools/testdeps/redis.sh")
            }),
    );
    let admin = ["--user", "default", "--pass", DEFAULT_PASSWORD];
    // wait (bounded) until the server answers: the condition, not a fixed delay
    let mut answered = String::new();
    for _ in 0..200 {
        answered = redis_cli(port, &admin, &["PING"]);
        if answered == "PONG" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert_eq!(
        answered, "PONG",
        "redis-server did not accept the rendered configuration:\n{conf}"
    );

    assert_eq!(
        redis_cli(port, &admin, &["CONFIG", "GET", "maxmemory"]),
        format!("maxmemory\n{}", 64 * 1024 * 1024)
    );
    assert!(
        redis_cli(port, &["--user", "default", "--pass", "wrong"], &["PING"]).contains("WRONGPASS")
    );

    let nuvolaris = ["--user", "nuvolaris", "--pass", NUVOLARIS_PASSWORD];
    assert_eq!(
        redis_cli(port, &nuvolaris, &["SET", "tenant:key", "v"]),
        "OK"
    );
    assert_eq!(redis_cli(port, &nuvolaris, &["GET", "tenant:key"]), "v");
    assert!(
        redis_cli(port, &nuvolaris, &["SET", "other:key", "v"]).contains("NOPERM"),
        "the nuvolaris user is confined to its prefix"
    );
}
