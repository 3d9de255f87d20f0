//! Config checkers: `promtool` (`tools/testdeps/promtool.sh`) and `amtool`
//! (`tools/testdeps/amtool.sh`), the versions of the Prometheus and Alertmanager the
//! original deploys. Each writes the files into a temp dir and runs the check there.

use std::process::Command;

use super::{server_dir, testdep, write_file};

/// `promtool check config prometheus.yml`; `extra_files` (relative path, contents) are
/// written beside it (rule files, secrets it references). Ok(report) when valid.
pub fn promtool_check_config(config: &str, extra_files: &[(&str, &str)]) -> Result<String, String> {
    check(
        "promtool",
        &["check", "config"],
        ("prometheus.yml", config),
        extra_files,
    )
}

/// `promtool check rules rules.yml`. Ok(report) when valid.
pub fn promtool_check_rules(rules: &str) -> Result<String, String> {
    check("promtool", &["check", "rules"], ("rules.yml", rules), &[])
}

/// `amtool check-config alertmanager.yml`. Ok(report) when valid.
pub fn amtool_check_config(config: &str) -> Result<String, String> {
    check(
        "amtool",
        &["check-config"],
        ("alertmanager.yml", config),
        &[],
    )
}

fn check(
    tool: &str,
    args: &[&str],
    (name, contents): (&str, &str),
    extra_files: &[(&str, &str)],
) -> Result<String, String> {
    let bin = testdep(tool);
    let dir = server_dir(tool);
    for (relative, text) in extra_files {
        let path = dir.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
        }
        write_file(&path, text);
    }
    write_file(&dir.path().join(name), contents);
    let out = Command::new(&bin)
        .args(args)
        .arg(name)
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .trim()
    .to_string();
    if out.status.success() {
        Ok(report)
    } else {
        Err(report)
    }
}
