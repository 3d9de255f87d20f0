//! pouchdb-server (`tools/testdeps/couchdb.sh`), a CouchDB-protocol server on Node.js, in
//! memory, with one admin from its config file: databases, documents, `_find` (Mango), local
//! documents, `_bulk_docs`, `_users` and `_session`.

use std::net::SocketAddr;
use std::process::Command;

use serde_json::{Value, json};

use super::http::{self, HttpResponse};
use super::registry::Registry;
use super::{ServerProcess, free_port, loopback, random_secret, server_dir, testdep, write_file};

/// The admin user of the server.
pub const ADMIN: &str = "whisk_admin";

/// A running pouchdb-server.
pub struct PouchDb {
    pub address: SocketAddr,
    pub admin: String,
    pub password: String,
    pub process: ServerProcess,
}

impl PouchDb {
    /// Starts pouchdb-server in memory with an admin; waits until `GET /` answers 200.
    pub fn start() -> PouchDb {
        let bin = testdep("couchdb");
        let dir = server_dir("pouchdb");
        let address = loopback(free_port());
        let (admin, password) = (ADMIN.to_string(), random_secret(20));
        write_file(
            &dir.path().join("config.json"),
            json!({
                "admins": {&admin: &password},
                "log": {"file": dir.path().join("pouchdb.log")},
            })
            .to_string(),
        );
        let mut command = Command::new(bin);
        command
            .args(["--in-memory", "--no-stdout-logs", "--host", "127.0.0.1"])
            .args([
                "--port",
                &address.port().to_string(),
                "--config",
                "config.json",
            ]);
        let mut process = ServerProcess::spawn("pouchdb-server", command, dir);
        process.wait_ready("GET / answers 200", || {
            let response = http::get(address, "/").map_err(|e| e.to_string())?;
            match response.status {
                200 => Ok(()),
                status => Err(format!("HTTP {status}")),
            }
        });
        PouchDb {
            address,
            admin,
            password,
            process,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// One request as the admin, with a JSON body (or none); panics on a transport error.
    pub fn admin_request(&self, method: &str, path: &str, body: Option<&Value>) -> HttpResponse {
        let auth = Registry::basic_auth(&self.admin, &self.password);
        let payload = body.map(Value::to_string).unwrap_or_default();
        http::request(
            self.address,
            method,
            path,
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
                ("Accept", "application/json"),
            ],
            payload.as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// Creates `database` (201, or 412 when it exists).
    pub fn create_database(&self, database: &str) {
        let response = self.admin_request("PUT", &format!("/{database}"), None);
        assert!(
            matches!(response.status, 201 | 412),
            "create {database}: HTTP {} {}",
            response.status,
            response.text()
        );
    }

    /// Writes `documents` with `_bulk_docs`; panics unless every one is written.
    pub fn bulk_write(&self, database: &str, documents: &[Value]) {
        let response = self.admin_request(
            "POST",
            &format!("/{database}/_bulk_docs"),
            Some(&json!({"docs": documents})),
        );
        assert_eq!(response.status, 201, "{}", response.text());
        let results: Value = serde_json::from_slice(&response.body).expect("JSON");
        let failed: Vec<&Value> = results
            .as_array()
            .expect("a list")
            .iter()
            .filter(|r| r.get("error").is_some())
            .collect();
        assert!(failed.is_empty(), "bulk write to {database}: {failed:?}");
    }

    /// GET a document as JSON (`None` on 404).
    pub fn get(&self, path: &str) -> Option<Value> {
        let response = self.admin_request("GET", path, None);
        match response.status {
            200 => Some(serde_json::from_slice(&response.body).expect("JSON")),
            404 => None,
            status => panic!("GET {path}: HTTP {status} {}", response.text()),
        }
    }
}
