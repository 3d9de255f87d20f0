//! Real servers for integration tests, one per protocol the operator talks to.
//!
//! Each server is installed or built OUTSIDE the repository by its script
//! `tools/testdeps/<name>.sh` (cached by version in `~/.cache/nuvolaris-testdeps`;
//! `tools/test.sh` runs them all). A helper here asks that script for the binary in
//! check-only mode and, when it is missing, PANICS with the command to run: a server
//! test is never skipped.
//!
//! Every `start` runs the server on 127.0.0.1 on free ports in its own temp dir,
//! waits (bounded by [`START_TIMEOUT`]) until the server answers a real request, and
//! returns a handle with its address and credentials. Dropping the handle stops the
//! process (SIGTERM, then SIGKILL after [`STOP_TIMEOUT`]) and removes the temp dir.
//! A server that does not come up panics with the tail of its log.
//!
//! The helpers are blocking (std processes and sockets), so they work the same from
//! plain and `#[tokio::test]` tests; starting takes from milliseconds (nginx) to a
//! few seconds (Kafka, SeaweedFS) on a loaded machine.
//!
//! Small clients for the protocols that have no client crate in the project live in
//! the submodules: [`http`] (HTTP/1.1), [`s3`] (SigV4-signed S3 requests), [`mongo`]
//! (OP_MSG commands) and [`kafka`] (the Metadata request); [`zookeeper`] speaks
//! ZooKeeper's four-letter words.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

pub mod check_tools;
pub mod couchdb;
pub mod ferretdb;
pub mod http;
pub mod kafka;
pub mod milvus;
pub mod minio;
pub mod mongo;
pub mod nginx;
pub mod postgres;
pub mod redis;
pub mod registry;
pub mod s3;
pub mod seaweedfs;
pub mod zookeeper;

// Re-exported for short imports; each test binary uses only some of them.
#[allow(unused_imports)]
pub use self::{
    check_tools::{amtool_check_config, promtool_check_config, promtool_check_rules},
    couchdb::PouchDb,
    ferretdb::Ferretdb,
    kafka::Kafka,
    milvus::MilvusLite,
    minio::Minio,
    nginx::{Nginx, nginx_check},
    postgres::Postgres,
    redis::RedisServer,
    registry::Registry,
    seaweedfs::Seaweedfs,
    zookeeper::Zookeeper,
};

use std::collections::HashMap;
use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Longest wait for a server to answer after its start: a cold JVM or `weed server` on
/// a 2-core machine shared with builds can take tens of seconds.
pub const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Longest wait for a server to exit after SIGTERM before it is killed.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Path printed by `tools/testdeps/<name>.sh` (a binary, or a directory for the
/// servers made of several files), asked once per test process.
///
/// The script runs in check-only mode: it never installs or builds here, so a cold
/// build never hides inside a test run. Panics with the script's reason when the
/// server is not installed.
pub fn testdep(name: &str) -> PathBuf {
    static PATHS: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let paths = PATHS.get_or_init(Default::default);
    let mut paths = paths.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(path) = paths.get(name) {
        return path.clone();
    }
    let script = super::repo_root().join(format!("tools/testdeps/{name}.sh"));
    let out = Command::new("bash")
        .arg(&script)
        .env("NUVOLARIS_TESTDEPS_CHECK_ONLY", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let path = PathBuf::from(stdout.trim());
    if !out.status.success() || stdout.trim().is_empty() || !path.exists() {
        panic!(
            "the {name} test server is not installed: run tools/testdeps/{name}.sh \
             (or tools/test.sh, which installs all of them)\n{}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    paths.insert(name.to_string(), path.clone());
    path
}

/// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's choice).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("cannot find a free port on 127.0.0.1: {e}"))
}

/// `127.0.0.1:<port>`.
pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// A temp dir for one server (`nuvolaris-<name>-XXXX` under the system temp dir).
pub fn server_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("nuvolaris-{name}-"))
        .tempdir()
        .unwrap_or_else(|e| panic!("cannot create a temp dir for {name}: {e}"))
}

/// Writes a file a server needs, panicking with the path on failure.
pub fn write_file(path: &Path, contents: impl AsRef<[u8]>) {
    std::fs::write(path, contents)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// A random secret of `len` alphanumeric characters (passwords, keys).
pub fn random_secret(len: usize) -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

/// Whether something accepts TCP connections on `addr`.
pub fn accepts_tcp(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

/// A running server process; stopped and its temp dir removed on drop.
pub struct ServerProcess {
    name: String,
    child: Child,
    log: PathBuf,
    /// SIGTERM for most servers; PostgreSQL takes SIGINT ("fast" shutdown).
    stop_signal: i32,
    // Declared last: removed after the process has stopped.
    dir: tempfile::TempDir,
}

impl ServerProcess {
    /// Spawns `command` with stdout and stderr appended to `<dir>/<name>.log` and its
    /// working directory in `dir`.
    pub fn spawn(name: &str, mut command: Command, dir: tempfile::TempDir) -> Self {
        let log = dir.path().join(format!("{name}.log"));
        let out =
            File::create(&log).unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
        let err = out
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot reopen {}: {e}", log.display()));
        command
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({command:?}): {e}"));
        ServerProcess {
            name: name.to_string(),
            child,
            log,
            stop_signal: libc::SIGTERM,
            dir,
        }
    }

    /// Uses `signal` instead of SIGTERM to ask the server to stop.
    pub fn with_stop_signal(mut self, signal: i32) -> Self {
        self.stop_signal = signal;
        self
    }

    /// The server's temp dir (config files, data, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last `lines` lines of the server's log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Polls `probe` until it returns `Ok` and returns that value. Panics with the last
    /// probe error and the log tail when the process exits or [`START_TIMEOUT`] passes.
    pub fn wait_ready<T>(&mut self, what: &str, mut probe: impl FnMut() -> Result<T, String>) -> T {
        let started = Instant::now();
        let mut pause = Duration::from_millis(20);
        loop {
            let last_error = match probe() {
                Ok(value) => return value,
                Err(e) => e,
            };
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited ({status}) before {what}; last check: {last_error}\n--- log tail:\n{}",
                    self.name,
                    self.log_tail(40)
                );
            }
            if started.elapsed() > START_TIMEOUT {
                panic!(
                    "{} did not reach `{what}` within {:?}; last check: {last_error}\n--- log tail:\n{}",
                    self.name,
                    START_TIMEOUT,
                    self.log_tail(40)
                );
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(250));
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if !self.is_running() {
            return;
        }
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) on our own child's pid; the child is not reaped yet, so the
        // pid cannot belong to another process.
        unsafe { libc::kill(pid, self.stop_signal) };
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if !self.is_running() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `java` with a small heap and fast start-up flags, the jars of `libs` on the class
/// path and log4j 1 (reload4j, as Kafka's distribution) logging INFO to stdout.
pub fn java_command(libs: &Path, dir: &Path, max_heap: &str) -> Command {
    let log4j = dir.join("log4j.properties");
    write_file(
        &log4j,
        "log4j.rootLogger=INFO, stdout\n\
         log4j.appender.stdout=org.apache.log4j.ConsoleAppender\n\
         log4j.appender.stdout.layout=org.apache.log4j.PatternLayout\n\
         log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n\n",
    );
    let mut command = Command::new("java");
    command
        .arg(format!("-Xmx{max_heap}"))
        // Short-lived test servers: the C1 compiler only and the serial GC start fastest
        // and take the least CPU from the other tests.
        .args([
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Djava.awt.headless=true",
        ])
        .arg(format!("-Dlog4j.configuration=file:{}", log4j.display()))
        .arg("-cp")
        .arg(libs.join("*"));
    command
}
