//! Offline render of the database components (Postgres, FerretDB, etcd, Milvus) against golden
//! files, for kind and a generic cluster. Regenerate with `UPDATE_GOLDEN=1 cargo test --test
//! render_databases` after an intended change, and review the diff. Render time is printed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use nuvolaris_operator::offline;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn golden(name: &str) -> PathBuf {
    repo().join("tests/golden").join(name)
}

fn check(flavour: &str) {
    let sample = repo().join("tests/samples/whisk-databases.yaml");
    let started = Instant::now();
    let rendered = offline::render_file(&sample, Some(flavour)).expect("the sample renders");
    let first = started.elapsed();
    assert!(rendered.warnings.is_empty(), "{:?}", rendered.warnings);
    let runs = 20;
    let started = Instant::now();
    for _ in 0..runs {
        let again = offline::render_file(&sample, Some(flavour)).expect("renders again");
        assert_eq!(rendered.yaml, again.yaml, "render is deterministic");
    }
    println!(
        "figure: offline render of the database sample ({flavour}, {} objects): first {:.1} ms, then {:.1} ms mean",
        rendered.yaml.matches("\n---\n").count() + 1,
        first.as_secs_f64() * 1e3,
        started.elapsed().as_secs_f64() * 1e3 / f64::from(runs)
    );

    let path = golden(&format!("databases-{flavour}.yaml"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &rendered.yaml).expect("write golden file");
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (create it with UPDATE_GOLDEN=1)", path.display()));
    assert!(
        rendered.yaml == expected,
        "render of the database sample ({flavour}) differs from {}; if intended, regenerate with UPDATE_GOLDEN=1 and review the diff",
        path.display()
    );
    // No password in clear in anything but Secrets: the tricky ones would show up verbatim.
    for object in rendered.yaml.split("\n---\n") {
        if object.contains("\nkind: Secret\n") {
            continue;
        }
        for secret in [
            "s0meP@ass3",
            "@s0me:P",
            "An0ther@Pa55",
            "Nuv0ther:Pa55",
            "0therPa55",
        ] {
            assert!(
                !object.contains(secret),
                "a password outside a Secret:\n{object}"
            );
        }
    }
}

#[test]
fn the_database_sample_on_kind_matches_the_golden_file() {
    check("kind");
}

#[test]
fn the_database_sample_on_a_generic_cluster_matches_the_golden_file() {
    check("generic");
}

/// Bad input is refused before anything renders, with the field named: replicas below 1, a
/// volume size that is not a number.
#[test]
fn render_refuses_bad_database_settings() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |spec: &str| {
        let file = dir.path().join("cr.yaml");
        std::fs::write(
            &file,
            format!("apiVersion: nuvolaris.org/v1\nkind: Whisk\nmetadata:\n  name: controller\n  namespace: nuvolaris\nspec:\n  components: {{postgres: true, etcd: true, milvus: true}}\n{spec}"),
        )
        .expect("write CR");
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_nuvolaris-operator"))
            .args(["render", "-f"])
            .arg(&file)
            .output()
            .expect("run render");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    for (spec, field) in [
        ("  postgres:\n    replicas: 0\n", "spec.postgres.replicas"),
        ("  etcd:\n    replicas: -1\n", "spec.etcd.replicas"),
        (
            "  postgres:\n    volume-size: ten\n",
            "spec.postgres.volume-size",
        ),
        (
            "  milvus:\n    volume-size:\n      cluster: 10Gi\n",
            "spec.milvus.volume-size.cluster",
        ),
    ] {
        let (code, out, err) = run(spec);
        assert_eq!(code, Some(1), "{spec}: {err}");
        assert!(out.is_empty(), "nothing renders: {out}");
        assert!(
            err.starts_with("error: ") && err.contains(field),
            "{spec}: {err}"
        );
    }
    // Accepted by the schema but unusable: a Milvus password with a newline.
    let (code, _, err) = run("  milvus:\n    nuvolaris:\n      password: \"a\\nb\"\n");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("milvus.nuvolaris.password"), "{err}");
    assert!(!err.contains("a\nb"), "the password is not echoed: {err}");
    // An object store account's secret key MinIO would refuse.
    let (code, _, err) = run("  milvus:\n    password:\n      s3: \"short7!\"\n");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("milvus.password.s3"), "{err}");
    assert!(
        !err.contains("short7!"),
        "the password is not echoed: {err}"
    );
}
