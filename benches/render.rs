//! Offline render of each sample in [`SAMPLES`] (minimal, platform, storage, databases,
//! enterprise): how long the operator's whole render step takes (spec → config → templates →
//! kustomize overlays for every component), and the offline admission `render -f` runs first
//! (schema and CEL rules, `crd::validate`). Prints figures; asserts nothing.

use std::path::Path;
use std::time::{Duration, Instant};

use nuvolaris_operator::crd::{Whisk, validate};
use nuvolaris_operator::offline;

/// The sample CRs and what each adds.
const SAMPLES: &[(&str, &str)] = &[
    ("deploy/samples/minimal.yaml", "the minimal sample"),
    (
        "tests/samples/platform.yaml",
        "+ registry, TLS, cron, quota; the first render hashes the registry password with bcrypt",
    ),
    (
        "tests/samples/storage-minio.yaml",
        "MinIO and the static web server",
    ),
    (
        "tests/samples/storage-seaweedfs.yaml",
        "SeaweedFS and the static web server",
    ),
    (
        "tests/samples/whisk-databases.yaml",
        "Postgres, FerretDB, etcd, Milvus",
    ),
    (
        "deploy/samples/enterprise.yaml",
        "enterprise mode, ZooKeeper, Kafka, monitoring",
    ),
];

fn main() {
    let text = measure_render(SAMPLES[0].0, SAMPLES[0].1);
    for (path, what) in &SAMPLES[1..] {
        measure_render(path, what);
    }
    let runs = 200;

    // the admission of the minimal CR (the first call compiles the CEL rules)
    let document: serde_json::Value = serde_yaml_ng::from_str(&text).expect("the sample as JSON");
    let first = Instant::now();
    validate::admit(&document).expect("the sample is admitted");
    let cold = first.elapsed();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(validate::admit(&document).expect("admitted"));
            start.elapsed()
        })
        .collect();
    times.sort();
    let mean = times.iter().sum::<Duration>() / runs;
    println!("offline admission of the minimal CR (schema + CEL rules)");
    println!(
        "  first (compiles the CEL rules): {:.2} ms; {runs} more: mean {:.3} ms, median {:.3} ms",
        cold.as_secs_f64() * 1e3,
        mean.as_secs_f64() * 1e3,
        times[times.len() / 2].as_secs_f64() * 1e3
    );
}

/// Renders the sample at `path` once cold and 200 times warm; prints the figures; returns the
/// sample's text.
fn measure_render(path: &str, what: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let text = std::fs::read_to_string(&path).expect("read the sample CR");
    let whisk: Whisk = serde_yaml_ng::from_str(&text).expect("the sample is a Whisk");

    // warm up (template parsing is cached after the first render)
    let first = Instant::now();
    let rendered = offline::render_whisk(&whisk, Some("kind")).expect("renders");
    let cold = first.elapsed();
    let objects = rendered.yaml.matches("\nkind: ").count()
        + usize::from(rendered.yaml.starts_with("kind: "));

    let runs = 200;
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let out = offline::render_whisk(&whisk, Some("kind")).expect("renders");
            std::hint::black_box(out);
            start.elapsed()
        })
        .collect();
    times.sort();
    let mean = times.iter().sum::<Duration>() / runs;
    let components: std::collections::BTreeSet<&str> = rendered
        .yaml
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nuvolaris.org/component: "))
        .collect();
    println!(
        "render of {} ({objects} objects, {} components: {what})",
        path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(&path)
            .display(),
        components.len()
    );
    println!(
        "  first render (cold templates): {:.2} ms",
        cold.as_secs_f64() * 1e3
    );
    println!(
        "  {runs} renders: mean {:.2} ms, median {:.2} ms, p95 {:.2} ms, min {:.2} ms",
        mean.as_secs_f64() * 1e3,
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[times.len() * 95 / 100].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3
    );
    text
}
