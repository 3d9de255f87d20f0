//! The whisk-system `nuv` actions, run the way OpenWhisk's Python runtime
//! runs them, against real servers.
//!
//! The actions are Python; their tests are a pytest suite in `tests/actions/`
//! (harness, servers, one module per area). Each test here writes the zips
//! embedded in the operator to a directory, runs one pytest module on them in
//! the project's Python environment (`tools/testdeps/python-actions.sh`: the
//! libraries the runtime ships, at its versions) and fails with pytest's
//! output when pytest fails — or finds no test. The servers come from
//! `tools/testdeps/*.sh`; a missing one fails the test with the reason.
//!
//! `cargo test --test nuv_actions -- --nocapture` also prints the figures
//! (import, cold start and handler times per action).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use nuvolaris_operator::setup::actions::system_actions;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Python of the test environment, created on first use (cached outside the repo).
fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let script = repo().join("tools/testdeps/python-actions.sh");
            let out = Command::new("bash")
                .arg(&script)
                .output()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
            assert!(
                out.status.success(),
                "{} failed: the action tests need Python 3 and PyPI\n{}",
                script.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        })
        .clone()
}

/// Runs one pytest module of `tests/actions/` on the embedded zips.
fn pytest(module: &str) {
    let zips = tempfile::tempdir().unwrap();
    for action in system_actions() {
        std::fs::write(zips.path().join(format!("{}.zip", action.name)), action.zip).unwrap();
    }
    let out = Command::new(python())
        .args(["-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfE"])
        .arg(module)
        .current_dir(repo().join("tests/actions"))
        .env("NUV_ACTIONS_ZIP_DIR", zips.path())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run pytest: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    // Exit 5 is pytest's "no tests collected": a failure here.
    assert!(
        out.status.success(),
        "pytest {module} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains(" passed"),
        "pytest {module} ran no test:\n{stdout}"
    );
}

#[test]
fn login_and_secrets_on_couchdb() {
    pytest("test_login_secrets.py");
}

#[test]
fn redis_as_the_user_on_its_prefix() {
    pytest("test_redis.py");
}

#[test]
fn every_action_refuses_bad_input_with_a_message() {
    pytest("test_bad_input.py");
}

#[test]
fn psql_as_the_user_in_its_database() {
    pytest("test_psql.py");
}

#[test]
fn minio_upload_download_and_content_with_the_users_keys() {
    pytest("test_minio.py");
}

#[test]
fn ferretdb_as_the_users_postgresql_role() {
    pytest("test_ferretdb.py");
}
