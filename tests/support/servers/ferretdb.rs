//! FerretDB v1 (`tools/testdeps/ferretdb.sh`, run through its embeddable package by
//! tools/testdeps/ferretdb/main.go): the MongoDB wire protocol on PostgreSQL (the
//! `postgresql` handler), telemetry and debug listener off.

use std::net::SocketAddr;
use std::process::Command;

use super::mongo;
use super::postgres::Postgres;
use super::{ServerProcess, free_port, loopback, server_dir, testdep};

/// The PostgreSQL database FerretDB stores into when [`Ferretdb::start`] makes its own.
pub const DATABASE: &str = "ferretdb";

/// A running FerretDB.
pub struct Ferretdb {
    /// MongoDB wire protocol (plain TCP).
    pub address: SocketAddr,
    /// The PostgreSQL URL FerretDB was started with (it carries the credentials
    /// FerretDB uses for clients that do not authenticate).
    pub postgresql_url: String,
    pub process: ServerProcess,
    // Declared after `process`: FerretDB stops before its own PostgreSQL.
    postgres: Option<Postgres>,
}

impl Ferretdb {
    /// Starts a PostgreSQL with database [`DATABASE`], then FerretDB on it as the
    /// PostgreSQL superuser; waits until `ping` answers ok.
    pub fn start() -> Ferretdb {
        let postgres = Postgres::start();
        postgres
            .superuser_psql("postgres", &format!("create database {DATABASE}"))
            .unwrap_or_else(|e| panic!("cannot create database {DATABASE}: {e}"));
        let url = postgres.superuser_url(DATABASE);
        let mut ferretdb = Ferretdb::start_on(&url);
        ferretdb.postgres = Some(postgres);
        ferretdb
    }

    /// Starts FerretDB on an existing PostgreSQL database (`postgres://user:pw@host:port/db`);
    /// waits until `ping` answers ok.
    pub fn start_on(postgresql_url: &str) -> Ferretdb {
        let bin = testdep("ferretdb");
        let dir = server_dir("ferretdb");
        let address = loopback(free_port());
        let mut command = Command::new(bin);
        command
            .arg(format!("--listen-addr={address}"))
            .arg(format!("--postgresql-url={postgresql_url}"))
            .arg("--log-level=info");
        let mut process = ServerProcess::spawn("ferretdb", command, dir);
        process.wait_ready("a MongoDB ping answers ok", || {
            mongo::ping(address).map_err(|e| e.to_string())
        });
        Ferretdb {
            address,
            postgresql_url: postgresql_url.to_string(),
            process,
            postgres: None,
        }
    }

    /// The PostgreSQL that [`Ferretdb::start`] made (None after [`Ferretdb::start_on`]).
    pub fn postgres(&self) -> Option<&Postgres> {
        self.postgres.as_ref()
    }

    /// `mongodb://127.0.0.1:<port>/`.
    pub fn uri(&self) -> String {
        format!("mongodb://{}/", self.address)
    }
}
