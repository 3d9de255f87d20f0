//! A CouchDB-protocol server: pouchdb-server (`tools/testdeps/couchdb.sh`), in memory, with
//! one admin from its config file. It lacks `/_cluster_setup` and the 2.x node config path
//! (see tests/setup_couchdb.rs, which proxies those); documents, databases, `_users` and
//! `_session` are real.

use std::process::Command;

use super::{
    ServerProcess, free_port, http, loopback, random_secret, server_dir, testdep, write_file,
};

/// The admin user of the server.
pub const ADMIN: &str = "whisk_admin";

/// A running pouchdb-server.
pub struct PouchDb {
    pub address: std::net::SocketAddr,
    /// Password of [`ADMIN`].
    pub password: String,
    pub process: ServerProcess,
}

impl PouchDb {
    /// Starts pouchdb-server and waits until `GET /` answers 200.
    pub fn start() -> PouchDb {
        let bin = testdep("couchdb");
        let dir = server_dir("pouchdb");
        let password = random_secret(20);
        write_file(
            &dir.path().join("config.json"),
            serde_json::json!({
                "admins": { ADMIN: password },
                "log": { "file": dir.path().join("log.txt") },
            })
            .to_string(),
        );
        let port = free_port();
        let mut command = Command::new(bin);
        command
            .args(["--in-memory", "--no-stdout-logs", "--host", "127.0.0.1"])
            .args(["--port", &port.to_string(), "--config", "config.json"]);
        let mut process = ServerProcess::spawn("pouchdb-server", command, dir);
        let address = loopback(port);
        process.wait_ready("GET / answers 200", || match http::get(address, "/") {
            Ok(r) if r.status == 200 => Ok(()),
            Ok(r) => Err(format!("HTTP {}", r.status)),
            Err(e) => Err(e.to_string()),
        });
        PouchDb {
            address,
            password,
            process,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}
