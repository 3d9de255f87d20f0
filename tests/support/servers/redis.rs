//! redis-server from Debian (`tools/testdeps/redis.sh`): no persistence, in a temp dir, with a
//! password for the `default` user. `redis-cli` (same package) checks effects independently of
//! the code under test.

use std::net::SocketAddr;
use std::process::Command;

use super::{ServerProcess, free_port, loopback, random_secret, server_dir};

/// A running redis-server.
pub struct RedisServer {
    pub address: SocketAddr,
    /// Password of the `default` user.
    pub password: String,
    pub process: ServerProcess,
}

impl RedisServer {
    /// Starts redis-server; waits until `PING` (authenticated) answers `PONG`.
    pub fn start() -> RedisServer {
        // tools/testdeps/redis.sh installs the Debian package (it prints a version, not a path)
        let installed = Command::new("redis-server").arg("--version").output();
        if !installed.is_ok_and(|o| o.status.success()) {
            panic!("redis-server is not installed: run tools/testdeps/redis.sh");
        }
        let bin = "redis-server";
        let dir = server_dir("redis");
        let address = loopback(free_port());
        let password = random_secret(20);
        let mut command = Command::new(bin);
        command
            .args(["--port", &address.port().to_string(), "--bind", "127.0.0.1"])
            .args([
                "--requirepass",
                &password,
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(dir.path());
        let mut process = ServerProcess::spawn("redis-server", command, dir);
        let server = |process| RedisServer {
            address,
            password: password.clone(),
            process,
        };
        process.wait_ready("PING answers PONG", || {
            let out = cli(address, &password, None, &["PING"])?;
            match out.as_str() {
                "PONG" => Ok(()),
                other => Err(other.to_string()),
            }
        });
        server(process)
    }

    /// `redis-cli` as the default user: Ok(stdout, trimmed) or Err(the reason).
    pub fn cli(&self, args: &[&str]) -> Result<String, String> {
        cli(self.address, &self.password, None, args)
    }

    /// `redis-cli` as `user` with `password`.
    pub fn cli_as(&self, user: &str, password: &str, args: &[&str]) -> Result<String, String> {
        cli(self.address, password, Some(user), args)
    }

    /// The server's reply to `args` as `user` (`None`: the default user), an error reply
    /// (`NOPERM …`, `WRONGPASS …`) included, as text.
    pub fn reply(&self, user: Option<(&str, &str)>, args: &[&str]) -> String {
        let result = match user {
            Some((user, password)) => self.cli_as(user, password, args),
            None => self.cli(args),
        };
        result.unwrap_or_else(|reason| reason)
    }
}

fn cli(
    address: SocketAddr,
    password: &str,
    user: Option<&str>,
    args: &[&str],
) -> Result<String, String> {
    let mut command = Command::new("redis-cli");
    command
        .args(["-h", "127.0.0.1", "-p", &address.port().to_string()])
        .env("REDISCLI_AUTH", password)
        .arg("--no-auth-warning");
    if let Some(user) = user {
        command.args(["--user", user]);
    }
    let out = command
        .args(args)
        .output()
        .map_err(|e| format!("cannot run redis-cli: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // redis-cli prints error replies on stdout and exits 0: `ERR …`, `NOPERM …`, `NOAUTH …`
    let code = stdout.split_whitespace().next().unwrap_or_default();
    let error_reply = ["ERR", "NOPERM", "NOAUTH", "WRONGPASS", "WRONGTYPE"].contains(&code);
    if out.status.success() && !error_reply && !stderr.contains("AUTH failed") {
        Ok(stdout)
    } else {
        Err(format!(
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
