//! MinIO (`tools/testdeps/minio.sh`): a single-drive server with the root user as
//! the admin; the web console is off. [`Minio::mc`] runs MinIO's client
//! (`tools/testdeps/mc.sh`) against it, to check what the operator did.

use std::net::SocketAddr;
use std::process::Command;

use super::http;
use super::s3::{self, S3Credentials};
use super::{ServerProcess, free_port, loopback, random_secret, server_dir, testdep};

/// A running MinIO server.
pub struct Minio {
    /// S3 and MinIO admin API (`/minio/admin/v3/...`) on the same address.
    pub address: SocketAddr,
    /// The root user's access key and secret key (MINIO_ROOT_USER/_PASSWORD).
    pub root: S3Credentials,
    pub process: ServerProcess,
}

impl Minio {
    /// Starts MinIO with random root credentials and waits until
    /// `/minio/health/ready` answers 200 and a signed ListBuckets succeeds.
    pub fn start() -> Minio {
        let bin = testdep("minio");
        let dir = server_dir("minio");
        let address = loopback(free_port());
        let root = S3Credentials::new("minioadmin", random_secret(24));
        let mut command = Command::new(bin);
        command
            .arg("server")
            .args(["--address", &address.to_string()])
            .args(["--console-address", &loopback(free_port()).to_string()])
            .arg("--quiet")
            .arg(dir.path().join("data"))
            .env("MINIO_ROOT_USER", &root.access_key)
            .env("MINIO_ROOT_PASSWORD", &root.secret_key)
            .env("MINIO_BROWSER", "off")
            .env("MINIO_UPDATE", "off");
        let mut process = ServerProcess::spawn("minio", command, dir);
        process.wait_ready("/minio/health/ready answers 200", || {
            let response = http::get(address, "/minio/health/ready").map_err(|e| e.to_string())?;
            match response.status {
                200 => Ok(()),
                status => Err(format!("HTTP {status}")),
            }
        });
        process.wait_ready("a signed ListBuckets succeeds", || {
            s3::list_buckets(address, &root)
        });
        Minio {
            address,
            root,
            process,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Runs `mc <args>` with the alias `local` for this server as the root user (e.g.
    /// `["admin", "user", "info", "local", "someone"]`); Ok(stdout) when it exits 0,
    /// Err(stdout and stderr) otherwise. mc keeps its config in the server's temp dir.
    pub fn mc(&self, args: &[&str]) -> Result<String, String> {
        let bin = testdep("mc");
        // The root credentials are alphanumeric, so they need no URL escaping here.
        let host = format!(
            "http://{}:{}@{}",
            self.root.access_key, self.root.secret_key, self.address
        );
        let out = Command::new(&bin)
            .args(["--no-color", "--disable-pager"])
            .args(args)
            .env("MC_HOST_local", host)
            .env("MC_CONFIG_DIR", self.process.dir().join("mc"))
            .output()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(stdout)
        } else {
            Err(format!(
                "mc {args:?} exited {}: {stdout}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }
}
