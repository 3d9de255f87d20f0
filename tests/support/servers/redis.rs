//! redis-server from Debian (`tools/testdeps/redis.sh`): no persistence, a `requirepass` for
//! the `default` user, on a free loopback port.

use std::process::Command;

use super::{ServerProcess, accepts_tcp, free_port, loopback, random_secret, server_dir};

/// A running redis-server.
pub struct RedisServer {
    pub address: std::net::SocketAddr,
    /// Password of the `default` user.
    pub password: String,
    pub process: ServerProcess,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        let dir = server_dir("redis");
        let password = random_secret(20);
        let port = free_port();
        let mut command = Command::new("redis-server");
        command.args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--requirepass",
            &password,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            &dir.path().display().to_string(),
        ]);
        let mut process = ServerProcess::spawn("redis-server", command, dir);
        let address = loopback(port);
        process.wait_ready("accepting connections", || {
            accepts_tcp(address)
                .then_some(())
                .ok_or("not listening".to_string())
        });
        RedisServer {
            address,
            password,
            process,
        }
    }

    /// `redis-cli` against this server as `user` (`default` when `None`), with `args`: its
    /// output, stdout then stderr.
    pub fn cli(&self, user: Option<(&str, &str)>, args: &[&str]) -> String {
        let mut command = Command::new("redis-cli");
        command
            .args(["-h", "127.0.0.1", "-p", &self.address.port().to_string()])
            .arg("--no-auth-warning");
        match user {
            Some((name, password)) => command.args(["--user", name, "--pass", password]),
            None => command.args(["-a", &self.password]),
        };
        let out = command
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run redis-cli (tools/testdeps/redis.sh): {e}"));
        // a refused AUTH is reported on stderr
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        )
    }
}
