//! `setup redis` against a real redis-server started by the test on a free
//! loopback port (no persistence, temp dir). The binary must be installed
//! (`tools/testdeps/redis.sh`); when it is missing the tests fail with that
//! reason. Effects are checked with `redis-cli` (from the same package), not
//! with the code under test.

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use nuvolaris_operator::setup::{
    Outcome, RedisSetupConfig, SetupError, SetupSettings, run_redis_setup,
};

const DEFAULT_PASSWORD: &str = "def-S3cret!pass";
const NUV_PASSWORD: &str = "nuv-S3cret pass";

/// A redis-server child process, killed when dropped.
struct RedisServer {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_redis(extra: &[&str], prepare: impl FnOnce(&Path) -> Vec<String>) -> RedisServer {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut args: Vec<String> = [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--requirepass",
        DEFAULT_PASSWORD,
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir.path().to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(prepare(dir.path()));
    let child = Command::new("redis-server")
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start redis-server ({e}); install it with tools/testdeps/redis.sh \
                 (apt-get install -y redis-server)"
            )
        });
    RedisServer {
        child,
        port,
        _dir: dir,
    }
}

fn config(port: u16) -> RedisSetupConfig {
    RedisSetupConfig::from_vars(
        [
            ("REDIS_ADDR", format!("127.0.0.1:{port}")),
            ("REDIS_DEFAULT_PASSWORD", DEFAULT_PASSWORD.into()),
            ("REDIS_NUVOLARIS_PASSWORD", NUV_PASSWORD.into()),
            ("REDIS_WAIT_SECONDS", "15".into()),
            ("REDIS_TIMEOUT_SECONDS", "5".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v)),
    )
    .unwrap()
}

/// Runs redis-cli as `user` and returns its trimmed output.
fn cli(port: u16, user: &str, password: &str, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "--no-auth-warning",
        ])
        .args(["--user", user, "--pass", password])
        .args(args)
        .output()
        .expect("redis-cli (package redis-tools) must be installed");
    String::from_utf8_lossy(&out.stdout).trim().to_string() + &String::from_utf8_lossy(&out.stderr)
}

/// Captures everything the setup logs (all levels) into a buffer.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl LogBuffer {
    /// The process-wide log capture. A global subscriber rather than a
    /// per-test `set_default`: tracing caches callsite interest across
    /// threads, so thread-local subscribers in parallel tests miss events.
    fn global() -> &'static LogBuffer {
        static LOGS: OnceLock<LogBuffer> = OnceLock::new();
        LOGS.get_or_init(|| {
            let logs = LogBuffer::default();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(logs.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber).unwrap();
            logs
        })
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn creates_acl_user_then_changes_nothing_then_rotates_password() {
    let logs = LogBuffer::global();
    let redis = start_redis(&[], |_| vec![]);
    let port = redis.port;

    // First run: the setup itself waits for the freshly spawned server.
    let t = Instant::now();
    let first = run_redis_setup(config(port)).await.unwrap();
    let first_time = t.elapsed();
    assert_eq!(
        first.outcome_of("acl user nuvolaris"),
        Some(Outcome::Created)
    );

    // The user can use keys under its prefix and nothing else.
    assert_eq!(
        cli(
            port,
            "nuvolaris",
            NUV_PASSWORD,
            &["SET", "nuvolaris:k", "v"]
        ),
        "OK"
    );
    assert_eq!(
        cli(port, "nuvolaris", NUV_PASSWORD, &["GET", "nuvolaris:k"]),
        "v"
    );
    let denied = cli(port, "nuvolaris", NUV_PASSWORD, &["SET", "other:k", "v"]);
    assert!(denied.contains("NOPERM"), "{denied}");
    let getuser = cli(
        port,
        "default",
        DEFAULT_PASSWORD,
        &["ACL", "GETUSER", "nuvolaris"],
    );
    assert!(
        getuser.contains("~nuvolaris:*") && getuser.contains("+@all"),
        "{getuser}"
    );

    // Second run: nothing to do.
    let t = Instant::now();
    let second = run_redis_setup(config(port)).await.unwrap();
    let second_time = t.elapsed();
    assert!(second.is_unchanged(), "{second:?}");

    // Password rotation: the old password stops working (the original's
    // additive `ON >pw` kept it valid).
    let mut rotated = config(port);
    rotated.password = nuvolaris_operator::setup::Secret::new("rotated-pass");
    let third = run_redis_setup(rotated).await.unwrap();
    assert_eq!(
        third.outcome_of("acl user nuvolaris"),
        Some(Outcome::Updated)
    );
    assert_eq!(cli(port, "nuvolaris", "rotated-pass", &["PING"]), "PONG");
    let old = cli(port, "nuvolaris", NUV_PASSWORD, &["PING"]);
    assert!(
        old.contains("WRONGPASS") || old.contains("invalid"),
        "{old}"
    );

    // Secrets never reach the logs or the report.
    let text = logs.text();
    assert!(text.contains("acl user nuvolaris"), "logs: {text}");
    for secret in [DEFAULT_PASSWORD, NUV_PASSWORD, "rotated-pass"] {
        assert!(!text.contains(secret), "secret in logs: {text}");
        assert!(!format!("{first:?}{second:?}{third:?}").contains(secret));
    }
    eprintln!("redis setup: first run {first_time:?}, second run {second_time:?}");
}

#[tokio::test]
async fn saves_the_acl_file_when_redis_has_one() {
    LogBuffer::global();
    let redis = start_redis(&[], |dir| {
        let acl = dir.join("users.acl");
        // With an aclfile Redis takes the default user from the file, not
        // from requirepass.
        std::fs::write(
            &acl,
            format!("user default on >{DEFAULT_PASSWORD} ~* &* +@all\n"),
        )
        .unwrap();
        vec!["--aclfile".into(), acl.to_str().unwrap().into()]
    });
    let report = run_redis_setup(config(redis.port)).await.unwrap();
    let saved = report
        .steps
        .iter()
        .find(|s| s.name.starts_with("acl file "))
        .expect("ACL SAVE step");
    assert_eq!(saved.outcome, Outcome::Updated);
    let acl = std::fs::read_to_string(redis._dir.path().join("users.acl")).unwrap();
    assert!(
        acl.contains("user nuvolaris on") && acl.contains("~nuvolaris:*"),
        "{acl}"
    );
    // The file holds the SHA-256 of the password, never the clear text.
    assert!(!acl.contains(NUV_PASSWORD));
    assert!(
        run_redis_setup(config(redis.port))
            .await
            .unwrap()
            .is_unchanged()
    );
}

#[tokio::test]
async fn wrong_default_password_fails_fast() {
    LogBuffer::global();
    let redis = start_redis(&[], |_| vec![]);
    let mut cfg = config(redis.port);
    cfg.default_password = nuvolaris_operator::setup::Secret::new("wrong");
    let t = Instant::now();
    let err = run_redis_setup(cfg).await.unwrap_err();
    // Fatal, not retried until REDIS_WAIT_SECONDS (15 s).
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert!(matches!(err, SetupError::Redis { .. }), "{err}");
    assert!(err.to_string().contains("auth as default"), "{err}");
}

#[tokio::test]
async fn unreachable_redis_times_out_within_the_wait() {
    LogBuffer::global();
    let mut cfg = config(free_port());
    cfg.wait = Duration::from_secs(1);
    let t = Instant::now();
    let err = run_redis_setup(cfg).await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(
        matches!(
            err,
            SetupError::NotReady {
                service: "redis",
                ..
            }
        ),
        "{err}"
    );
}
