//! The CNCF distribution registry (`tools/testdeps/registry.sh`): filesystem storage
//! in the temp dir and htpasswd (bcrypt) basic auth, like the original's registry.

use std::net::SocketAddr;
use std::process::Command;

use base64::Engine;

use super::http::{self, HttpResponse};
use super::{ServerProcess, free_port, loopback, random_secret, server_dir, testdep, write_file};

/// A running registry.
pub struct Registry {
    pub address: SocketAddr,
    /// The htpasswd user and its password.
    pub user: String,
    pub password: String,
    pub process: ServerProcess,
}

impl Registry {
    /// Starts the registry with one htpasswd user; waits until `GET /v2/` answers 401
    /// with a Basic challenge.
    pub fn start() -> Registry {
        let user = "nuvolaris".to_string();
        let password = random_secret(20);
        // Cost 5: the registry verifies on every request; the minimum keeps tests fast.
        let hash = bcrypt::hash(&password, 5).unwrap_or_else(|e| panic!("bcrypt: {e}"));
        Registry::start_with_htpasswd(user.clone(), password, &format!("{user}:{hash}\n"))
    }

    /// Starts the registry with `htpasswd` as its password file (e.g. the one the operator
    /// renders); `user` and `password` are what [`Registry::get_authenticated`] sends.
    pub fn start_with_htpasswd(user: String, password: String, htpasswd: &str) -> Registry {
        let bin = testdep("registry");
        let dir = server_dir("registry");
        let address = loopback(free_port());
        let htpasswd_path = dir.path().join("htpasswd");
        write_file(&htpasswd_path, htpasswd);
        let htpasswd = htpasswd_path;
        let config = dir.path().join("config.yml");
        let d = dir.path().display();
        write_file(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\n\
                 storage:\n  filesystem:\n    rootdirectory: {d}/data\n  delete:\n    enabled: true\n\
                 http:\n  addr: {address}\n  secret: {}\n\
                 auth:\n  htpasswd:\n    realm: Registry Realm\n    path: {}\n",
                random_secret(32),
                htpasswd.display()
            ),
        );
        let mut command = Command::new(bin);
        command
            .arg("serve")
            .arg(&config)
            // v3 exports OpenTelemetry traces by default; there is no collector here.
            .env("OTEL_TRACES_EXPORTER", "none");
        let mut process = ServerProcess::spawn("registry", command, dir);
        process.wait_ready("GET /v2/ answers a 401 Basic challenge", || {
            let response = http::get(address, "/v2/").map_err(|e| e.to_string())?;
            match (response.status, response.header("www-authenticate")) {
                (401, Some(challenge)) if challenge.starts_with("Basic") => Ok(()),
                (status, challenge) => Err(format!("HTTP {status}, challenge {challenge:?}")),
            }
        });
        Registry {
            address,
            user,
            password,
            process,
        }
    }

    /// `Authorization` header value for `user:password`.
    pub fn basic_auth(user: &str, password: &str) -> String {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {token}")
    }

    /// `GET path` with this registry's user.
    pub fn get_authenticated(&self, path: &str) -> std::io::Result<HttpResponse> {
        let auth = Registry::basic_auth(&self.user, &self.password);
        http::request(self.address, "GET", path, &[("Authorization", &auth)], b"")
    }
}
