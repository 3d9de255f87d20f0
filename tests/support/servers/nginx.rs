//! nginx from Debian (`tools/testdeps/nginx.sh`): `nginx -t` on a configuration, and
//! a server in a temp prefix on 127.0.0.1 (master in the foreground, one worker; as
//! root the worker stays root so it can read the temp dir).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use super::http;
use super::{ServerProcess, free_port, loopback, server_dir, testdep, write_file};

/// Checks a configuration with `nginx -t`: `main_conf` is written as
/// `<prefix>/nginx.conf`, each `(relative path, contents)` of `extra_files` under the
/// same prefix (relative `include`s resolve there). Ok(nginx's report) when the syntax
/// is ok and the test succeeds, Err(nginx's report) otherwise.
///
/// Absolute paths in the configuration (e.g. `include /etc/nginx/mime.types`) refer to
/// this machine; Debian's nginx package has the usual ones.
pub fn nginx_check(main_conf: &str, extra_files: &[(&str, &str)]) -> Result<String, String> {
    let bin = testdep("nginx");
    let dir = server_dir("nginx-check");
    let conf = write_config(dir.path(), main_conf, extra_files);
    let out = Command::new(bin)
        .arg("-t")
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(&conf)
        .arg("-e")
        .arg(dir.path().join("error.log"))
        .output()
        .map_err(|e| format!("cannot run nginx: {e}"))?;
    let report = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if out.status.success() {
        Ok(report)
    } else {
        Err(report)
    }
}

/// A running nginx.
pub struct Nginx {
    pub address: SocketAddr,
    pub process: ServerProcess,
}

impl Nginx {
    /// Starts nginx with `http_body(address)` as the body of the `http {}` block (it
    /// must contain a `server` that listens on `address`); the helper supplies the
    /// main context (pid, logs and temp paths in the temp dir, `mime.types`). Waits
    /// until an HTTP request on `address` gets any answer.
    pub fn start(http_body: impl FnOnce(SocketAddr) -> String) -> Nginx {
        Nginx::start_with_files(http_body, &[])
    }

    /// Like [`Nginx::start`], with extra files (e.g. static content, included configs)
    /// written under the prefix (the temp dir).
    pub fn start_with_files(
        http_body: impl FnOnce(SocketAddr) -> String,
        extra_files: &[(&str, &str)],
    ) -> Nginx {
        let bin = testdep("nginx");
        let dir = server_dir("nginx");
        let address = loopback(free_port());
        let d = dir.path().display();
        // SAFETY: geteuid has no preconditions.
        let user = if unsafe { libc::geteuid() } == 0 {
            "user root;"
        } else {
            ""
        };
        let main_conf = format!(
            "daemon off;\nmaster_process on;\nworker_processes 1;\n{user}\n\
             pid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n\
             access_log {d}/access.log;\n\
             client_body_temp_path {d}/client_temp;\nproxy_temp_path {d}/proxy_temp;\n\
             fastcgi_temp_path {d}/fastcgi_temp;\nuwsgi_temp_path {d}/uwsgi_temp;\n\
             scgi_temp_path {d}/scgi_temp;\n\
             include /etc/nginx/mime.types;\ndefault_type application/octet-stream;\n\
             {}\n}}\n",
            http_body(address)
        );
        let conf = write_config(dir.path(), &main_conf, extra_files);
        let mut command = Command::new(bin);
        command
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.path().join("error.log"));
        // SIGTERM is nginx's fast shutdown.
        let mut process = ServerProcess::spawn("nginx", command, dir);
        process.wait_ready("an HTTP request gets an answer", || {
            http::get(address, "/").map_err(|e| e.to_string())
        });
        Nginx { address, process }
    }
}

/// Writes `<dir>/nginx.conf` and the extra files; returns the main config's path.
fn write_config(dir: &Path, main_conf: &str, extra_files: &[(&str, &str)]) -> std::path::PathBuf {
    for (relative, contents) in extra_files {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
        }
        write_file(&path, contents);
    }
    let conf = dir.join("nginx.conf");
    write_file(&conf, main_conf);
    conf
}
