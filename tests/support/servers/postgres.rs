//! PostgreSQL from Debian (`tools/testdeps/postgres.sh`): a fresh cluster (`initdb`)
//! in a temp dir, scram-sha-256 password auth on 127.0.0.1, superuser `postgres`
//! with a random password. postgres refuses to run as root, so when the tests run as
//! root the server runs as the `postgres` system user (Debian's package creates it).

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{ServerProcess, free_port, loopback, random_secret, server_dir, testdep, write_file};

/// The superuser `initdb` creates.
pub const SUPERUSER: &str = "postgres";

/// A running PostgreSQL server.
pub struct Postgres {
    pub address: SocketAddr,
    /// Password of [`SUPERUSER`].
    pub password: String,
    /// Directory of the server's binaries (`initdb`, `postgres`, `psql`, ...).
    pub bindir: PathBuf,
    pub process: ServerProcess,
}

impl Postgres {
    /// Runs `initdb` and starts `postgres`; waits until `pg_isready` reports that it
    /// accepts connections and the superuser can log in with its password.
    pub fn start() -> Postgres {
        let bindir = testdep("postgres");
        let dir = server_dir("postgres");
        let password = random_secret(24);
        let pwfile = dir.path().join("pwfile");
        write_file(&pwfile, &password);
        let owner = run_as_owner(dir.path(), &pwfile);

        let data = dir.path().join("data");
        let mut initdb = Command::new(bindir.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                SUPERUSER,
                "-E",
                "UTF8",
                "--no-instructions",
                "--no-sync",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .args(["--auth-host=scram-sha-256", "--auth-local=trust"])
            .current_dir(dir.path());
        owner.apply(&mut initdb);
        let out = initdb
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}/initdb: {e}", bindir.display()));
        assert!(
            out.status.success(),
            "initdb failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );

        let address = loopback(free_port());
        let mut command = Command::new(bindir.join("postgres"));
        command
            .arg("-D")
            .arg(&data)
            .args(["-p", &address.port().to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", dir.path().display()))
            // Durability is not what the tests check: faster and lighter on the disk.
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"]);
        owner.apply(&mut command);
        // SIGINT is PostgreSQL's "fast" shutdown: it does not wait for clients to leave.
        let mut process =
            ServerProcess::spawn("postgres", command, dir).with_stop_signal(libc::SIGINT);
        let pg_isready = bindir.join("pg_isready");
        process.wait_ready("pg_isready reports it accepts connections", || {
            let out = Command::new(&pg_isready)
                .args(["-h", "127.0.0.1", "-p", &address.port().to_string()])
                .output()
                .map_err(|e| format!("cannot run {}: {e}", pg_isready.display()))?;
            match out.status.success() {
                true => Ok(()),
                false => Err(String::from_utf8_lossy(&out.stdout).trim().to_string()),
            }
        });
        let postgres = Postgres {
            address,
            password,
            bindir,
            process,
        };
        postgres
            .psql(SUPERUSER, &postgres.password, "postgres", "select 1")
            .unwrap_or_else(|e| panic!("the superuser cannot log in with its password: {e}"));
        postgres
    }

    /// `postgres://<user>:<password>@127.0.0.1:<port>/<database>` (user and password
    /// must be URL-safe, like the random ones the tests make).
    pub fn url(&self, user: &str, password: &str, database: &str) -> String {
        format!("postgres://{user}:{password}@{}/{database}", self.address)
    }

    /// The superuser's URL for `database`.
    pub fn superuser_url(&self, database: &str) -> String {
        self.url(SUPERUSER, &self.password, database)
    }

    /// Runs `sql` with `psql` over TCP with password auth; Ok(unaligned, tuples-only
    /// output) or Err(psql's message). Stops at the first error.
    pub fn psql(
        &self,
        user: &str,
        password: &str,
        database: &str,
        sql: &str,
    ) -> Result<String, String> {
        let out = Command::new(self.bindir.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .args(["-h", "127.0.0.1", "-p", &self.address.port().to_string()])
            .args(["-U", user, "-d", database, "-c", sql])
            .env("PGPASSWORD", password)
            .env("PGCONNECT_TIMEOUT", "10")
            .output()
            .map_err(|e| format!("cannot run psql: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }

    /// Runs `sql` as the superuser in `database`.
    pub fn superuser_psql(&self, database: &str, sql: &str) -> Result<String, String> {
        self.psql(SUPERUSER, &self.password, database, sql)
    }
}

/// The user the server runs as: `postgres` when we are root, else ourselves.
struct Owner(Option<(u32, u32)>);

impl Owner {
    fn apply(&self, command: &mut Command) {
        if let Some((uid, gid)) = self.0 {
            command.uid(uid).gid(gid);
        }
    }
}

/// When root, hands `dir` and `pwfile` to the `postgres` system user.
fn run_as_owner(dir: &Path, pwfile: &Path) -> Owner {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Owner(None);
    }
    let (uid, gid) = system_user("postgres").unwrap_or_else(|| {
        panic!("running as root and there is no `postgres` user: run tools/testdeps/postgres.sh")
    });
    for path in [dir, pwfile] {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))
            .unwrap_or_else(|e| panic!("cannot chown {} to postgres: {e}", path.display()));
    }
    Owner(Some((uid, gid)))
}

/// uid and gid of `name` in /etc/passwd.
fn system_user(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() > 3 && fields[0] == name)
            .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
            .flatten()
    })
}
