//! Build time per kustomization: the native engine vs `kubectl kustomize` (one process per
//! build, as the original operator ran `kustomize build`). Prints ms/build and the ratio.
//!
//! Run: `cargo bench --bench kustomize` (optionally `KUSTOMIZE_BENCH_ITERS=N`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use nuvolaris_operator::kustomize::{
    Json6902Target, Kustomization, MemFiles, build, build_dir, to_yaml,
};

const CASES: &[&str] = &[
    "nuvolaris-like",
    "smp-containers",
    "nameref-workloads",
    "common-labels",
    "generator-nameref-prefix-cronjob",
];

fn per_build(total: Duration, n: u32) -> f64 {
    total.as_secs_f64() * 1000.0 / f64::from(n)
}

fn time_ours(dir: &Path, iters: u32) -> f64 {
    // warm-up (and correctness: must build)
    build_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let start = Instant::now();
    for _ in 0..iters {
        let objs = build_dir(dir).expect("builds");
        std::hint::black_box(to_yaml(&objs));
    }
    per_build(start.elapsed(), iters)
}

fn time_kubectl(dir: &Path, iters: u32) -> f64 {
    let run = || {
        let out = Command::new("kubectl")
            .arg("kustomize")
            .arg(dir)
            .output()
            .expect("kubectl is required for the comparison");
        assert!(
            out.status.success(),
            "kubectl kustomize {} failed",
            dir.display()
        );
    };
    run();
    let start = Instant::now();
    for _ in 0..iters {
        run();
    }
    per_build(start.elapsed(), iters)
}

/// The same nuvolaris-like build through the in-memory builder API (no disk at all).
fn time_builder(case_dir: &Path, iters: u32) -> f64 {
    let read = |n: &str| std::fs::read_to_string(case_dir.join(n)).expect("case file");
    let sts = read("couchdb-set.yaml");
    let attach = read("__set-attach.yaml");
    let ini = read("__local.ini");
    let make = || {
        Kustomization::new()
            .generator_namespace("nuvolaris")
            .resource_file("couchdb-set.yaml", sts.clone())
            .secret_literal("couchdb-auth", "db_username", "whisk_admin")
            .secret_literal("couchdb-auth", "db_password", "0123on-yes&<secret>")
            .config_map_file("couchdb-config", "local.ini", ini.clone())
            .image(
                "apache/couchdb",
                Some("ghcr.io/nuvolaris/couchdb"),
                Some("3.3.3-2402"),
            )
            .patch_strategic(attach.clone())
            .patch_pvc("couchdb-backup", "20Gi", Some("standard"))
            .patch_json6902(
                &Json6902Target {
                    group: Some("apps".into()),
                    version: Some("v1".into()),
                    kind: "StatefulSet".into(),
                    name: "couchdb".into(),
                    namespace: Some("nuvolaris".into()),
                },
                vec![serde_json::json!({"op": "replace",
                    "path": "/spec/volumeClaimTemplates/0/spec/resources/requests/storage",
                    "value": "10Gi"})],
            )
            .build()
            .expect("builder builds")
    };
    make();
    let start = Instant::now();
    for _ in 0..iters {
        std::hint::black_box(make());
    }
    per_build(start.elapsed(), iters)
}

/// Same case from an in-memory file tree (what the operator does with embedded files).
fn time_mem(dir: &Path, iters: u32) -> f64 {
    let mut files = MemFiles::new();
    for entry in walk(dir) {
        let rel = entry.strip_prefix(dir).expect("inside").to_path_buf();
        files.insert(
            Path::new("case").join(rel),
            std::fs::read(&entry).expect("read"),
        );
    }
    build(&files, Path::new("case")).expect("mem build");
    let start = Instant::now();
    for _ in 0..iters {
        std::hint::black_box(build(&files, Path::new("case")).expect("builds"));
    }
    per_build(start.elapsed(), iters)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn main() {
    let iters: u32 = std::env::var("KUSTOMIZE_BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let kubectl_iters = 10;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kustomize/cases");
    println!(
        "{:<36} {:>12} {:>12} {:>14} {:>9}",
        "case", "ours ms", "ours(mem) ms", "kubectl ms", "ratio"
    );
    let mut ratios = Vec::new();
    for case in CASES {
        let dir = root.join(case);
        let ours = time_ours(&dir, iters);
        let mem = time_mem(&dir, iters);
        let theirs = time_kubectl(&dir, kubectl_iters);
        let ratio = theirs / ours;
        ratios.push(ratio);
        println!("{case:<36} {ours:>12.3} {mem:>12.3} {theirs:>14.1} {ratio:>8.0}x");
    }
    let b = time_builder(&root.join("nuvolaris-like"), iters);
    println!(
        "{:<36} {b:>12.3}   (typed builder API, in memory)",
        "nuvolaris-like (builder)"
    );
    let geo = ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64;
    println!(
        "geometric mean speed-up vs kubectl kustomize: {:.0}x",
        geo.exp()
    );
}
