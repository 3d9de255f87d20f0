//! milvus-lite (`tools/testdeps/milvus-lite.sh`): an embedded Milvus that serves the
//! Milvus gRPC API only. It has no REST API (so none of the REST v2 calls the
//! original's setup makes), no authentication, and answers UNIMPLEMENTED to users,
//! roles and privileges; databases, collections, indexes and vectors work. Tests talk
//! to it with pymilvus from the same venv.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

use super::{ServerProcess, accepts_tcp, free_port, loopback, server_dir, testdep};

/// A running milvus-lite gRPC server.
pub struct MilvusLite {
    /// Milvus gRPC API (the original's port 19530).
    pub address: SocketAddr,
    python: PathBuf,
    pub process: ServerProcess,
}

impl MilvusLite {
    /// Starts `python -m milvus_lite server`; waits until it accepts TCP connections
    /// and pymilvus can list the databases.
    pub fn start() -> MilvusLite {
        let python = testdep("milvus-lite");
        let dir = server_dir("milvus-lite");
        let address = loopback(free_port());
        let mut command = Command::new(&python);
        command
            .args(["-m", "milvus_lite", "server", "--host", "127.0.0.1"])
            .args(["--port", &address.port().to_string()])
            .arg("--data-dir")
            .arg(dir.path().join("data"));
        let mut process = ServerProcess::spawn("milvus-lite", command, dir);
        // Cheap polling first: each pymilvus check starts a Python interpreter.
        process.wait_ready("it accepts TCP connections", || {
            accepts_tcp(address)
                .then_some(())
                .ok_or("not listening yet".to_string())
        });
        let milvus = MilvusLite {
            address,
            python,
            process,
        };
        milvus
            .pymilvus("print(client.list_databases())")
            .unwrap_or_else(|e| panic!("milvus-lite does not answer list_databases: {e}"));
        milvus
    }

    /// Runs Python `code` with `client` bound to a `pymilvus.MilvusClient` for this
    /// server; Ok(stdout) when it exits 0, Err(stderr) otherwise.
    pub fn pymilvus(&self, code: &str) -> Result<String, String> {
        let script = format!(
            "from pymilvus import MilvusClient\nclient = MilvusClient(uri=\"http://{}\")\n{code}\n",
            self.address
        );
        let out = Command::new(&self.python)
            .args(["-c", &script])
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.python.display()))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }
}
