//! SeaweedFS (`tools/testdeps/seaweedfs.sh`): `weed server -filer -s3`, i.e. master,
//! volume server, filer and S3 gateway in one process, with an admin identity in the
//! S3 identities file (`-s3.config`), or without any identity as the operator deploys it.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use super::http;
use super::s3::{self, S3Credentials};
use super::{ServerProcess, free_port, loopback, random_secret, server_dir, testdep, write_file};

/// A running `weed server` with filer and S3 gateway.
pub struct Seaweedfs {
    /// S3 gateway.
    pub s3: SocketAddr,
    /// Master HTTP API (`/dir/status`, `/vol/...`); its gRPC port is `master_grpc`.
    pub master: SocketAddr,
    pub master_grpc: u16,
    /// Filer HTTP API (the original's port 9090); its gRPC port is `filer_grpc`.
    pub filer: SocketAddr,
    pub filer_grpc: u16,
    /// The admin identity of the S3 identities file (all actions); unknown to a server
    /// started without identities.
    pub admin: S3Credentials,
    /// The identities file passed as `-s3.config` (written but not passed without identities).
    pub s3_config: PathBuf,
    pub process: ServerProcess,
}

impl Seaweedfs {
    /// Starts `weed server` and waits until the master has a leader and a volume
    /// server, the filer is healthy and a signed ListBuckets succeeds.
    pub fn start() -> Seaweedfs {
        Seaweedfs::start_with(true)
    }

    /// Starts `weed server` as the operator deploys it: no identities file, so the S3
    /// gateway accepts every request until an identity is stored in the filer. `admin`
    /// is then a key the gateway does not know.
    pub fn start_without_identities() -> Seaweedfs {
        Seaweedfs::start_with(false)
    }

    fn start_with(identities_file: bool) -> Seaweedfs {
        let bin = testdep("seaweedfs");
        let dir = server_dir("seaweedfs");
        let admin = S3Credentials::new(format!("admin{}", random_secret(8)), random_secret(32));
        let s3_config = dir.path().join("s3.json");
        let identities = json!({"identities": [{
            "name": "admin",
            "credentials": [{"accessKey": admin.access_key, "secretKey": admin.secret_key}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }]});
        write_file(&s3_config, identities.to_string());
        let data = dir.path().join("data");
        std::fs::create_dir(&data)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", data.display()));

        // Every port is explicit: the gRPC defaults (HTTP port + 10000) could be taken.
        let [
            master,
            master_grpc,
            volume,
            volume_grpc,
            filer,
            filer_grpc,
            s3,
            s3_grpc,
        ] = std::array::from_fn(|_| free_port());
        let flag = |name: &str, value: &dyn std::fmt::Display| format!("-{name}={value}");
        let mut command = Command::new(bin);
        command.arg("server").args([
            flag("dir", &data.display()),
            flag("ip", &"127.0.0.1"),
            flag("ip.bind", &"127.0.0.1"),
            flag("master.port", &master),
            flag("master.port.grpc", &master_grpc),
            // Small volumes: a test writes kilobytes, not the default 30 GB volumes.
            flag("master.volumeSizeLimitMB", &64),
            flag("master.telemetry", &false),
            flag("volume.port", &volume),
            flag("volume.port.grpc", &volume_grpc),
            // Each bucket is a collection with volumes of its own: room for a few users'
            // buckets (volume files are created sparse and grow with what is written).
            flag("volume.max", &64),
            flag("volume.preStopSeconds", &0),
            "-filer".to_string(),
            flag("filer.port", &filer),
            flag("filer.port.grpc", &filer_grpc),
            flag(
                "filer.localSocket",
                &dir.path().join("filer.sock").display(),
            ),
            "-s3".to_string(),
            flag("s3.port", &s3),
            flag("s3.port.grpc", &s3_grpc),
            flag("s3.port.iceberg", &0),
            flag("s3.port.lance", &0),
            flag("s3.localSocket", &dir.path().join("s3.sock").display()),
        ]);
        if identities_file {
            command.arg(flag("s3.config", &s3_config.display()));
        }
        // No graceful stop: it takes 15 s or more (the filer keeps retrying to flush its
        // metadata log to the volume server that already stopped), and the data is
        // thrown away with the temp dir anyway.
        let mut process =
            ServerProcess::spawn("weed", command, dir).with_stop_signal(libc::SIGKILL);
        let (master, filer, s3) = (loopback(master), loopback(filer), loopback(s3));
        process.wait_ready("master /readyz answers 200 (raft leader)", || {
            status_ok(master, "/readyz")
        });
        process.wait_ready("a volume server registers with the master", || {
            let response = http::get(master, "/dir/status").map_err(|e| e.to_string())?;
            let status: Value = serde_json::from_slice(&response.body)
                .map_err(|e| format!("/dir/status is not JSON ({e}): {}", response.text()))?;
            match data_nodes(&status) {
                0 => Err("no data node in /dir/status yet".to_string()),
                _ => Ok(()),
            }
        });
        process.wait_ready("filer /healthz answers 200", || {
            status_ok(filer, "/healthz")
        });
        process.wait_ready("a signed ListBuckets succeeds", || {
            s3::list_buckets(s3, &admin)
        });
        // S3 writes take the filer's distributed lock, which works only once the filer
        // has joined the master's cluster (several seconds after the rest is up).
        let (master_address, filer_address) = (
            format!("{master}.{master_grpc}"),
            format!("{filer}.{filer_grpc}"),
        );
        process.wait_ready("`weed shell cluster.ps` lists the filer", || {
            let report = shell(&master_address, &filer_address, "cluster.ps")?;
            match report.contains("* filers 1") {
                true => Ok(()),
                false => Err(format!("cluster.ps: {report}")),
            }
        });
        Seaweedfs {
            s3,
            master,
            master_grpc,
            filer,
            filer_grpc,
            admin,
            s3_config,
            process,
        }
    }

    /// The master as `weed shell` addresses it: `host:port.grpcPort`.
    pub fn master_address(&self) -> String {
        format!("{}.{}", self.master, self.master_grpc)
    }

    /// The filer as `weed shell` addresses it: `host:port.grpcPort`.
    pub fn filer_address(&self) -> String {
        format!("{}.{}", self.filer, self.filer_grpc)
    }

    /// Runs `weed shell` commands (one per line, as the original's `s3.bucket.create`,
    /// `s3.configure`, ...) against this server; Ok(stdout) when it exits 0.
    pub fn shell(&self, commands: &str) -> Result<String, String> {
        shell(&self.master_address(), &self.filer_address(), commands)
    }
}

/// Runs `weed shell` commands against the given master and filer (`host:port.grpcPort`).
fn shell(master: &str, filer: &str, commands: &str) -> Result<String, String> {
    let bin = testdep("seaweedfs");
    let mut child = Command::new(bin)
        .arg("shell")
        .arg(format!("-master={master}"))
        .arg(format!("-filer={filer}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run weed shell: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin
        .write_all(format!("{commands}\nexit\n").as_bytes())
        .map_err(|e| format!("cannot write to weed shell: {e}"))?;
    drop(stdin);
    let out = child
        .wait_with_output()
        .map_err(|e| format!("weed shell failed: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "weed shell exited {}: {stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn status_ok(addr: SocketAddr, path: &str) -> Result<(), String> {
    let response = http::get(addr, path).map_err(|e| e.to_string())?;
    match response.status {
        200 => Ok(()),
        status => Err(format!("{path}: HTTP {status}")),
    }
}

/// The data nodes (volume servers) in the master's `/dir/status` topology.
fn data_nodes(status: &Value) -> usize {
    let list = |v: &Value, key: &str| v[key].as_array().cloned().unwrap_or_default();
    list(&status["Topology"], "DataCenters")
        .iter()
        .flat_map(|dc| list(dc, "Racks"))
        .map(|rack| list(&rack, "DataNodes").len())
        .sum()
}
