//! Conformance: every directory under tests/kustomize/cases/ is built with our engine and
//! with `kubectl kustomize` (kustomize v5.5, the oracle); the parsed objects must be equal
//! (exactly within an object; across objects both the set and the order are compared).
//!
//! A case with an `expect-error.txt` must fail. Its first line says who must fail:
//! `both` (we and kubectl) or `ours-only` (a kustomize feature we reject on purpose);
//! each further line is a text our one-line error message must contain.
//!
//! Adding a case = adding a directory. `KUSTOMIZE_CASE=name` runs only the cases whose
//! name contains `name`; `KUSTOMIZE_DUMP=1` prints our output (with `--nocapture`).

use std::path::{Path, PathBuf};
use std::process::Command;

use nuvolaris_operator::kustomize::{Object, build_dir, to_yaml};
use serde::Deserialize;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kustomize/cases")
}

fn case_dirs() -> Vec<PathBuf> {
    let filter = std::env::var("KUSTOMIZE_CASE").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/kustomize/cases must exist")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.is_dir())
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains(&filter))
        .collect();
    dirs.sort();
    dirs
}

fn parse_docs(text: &str) -> Vec<Object> {
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|d| Object::deserialize(d).expect("kubectl output is valid YAML"))
        .filter(|v| !v.is_null())
        .collect()
}

/// Runs the oracle; Err carries stderr when kubectl reports a build failure.
fn kubectl_kustomize(dir: &Path) -> Result<Vec<Object>, String> {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("kubectl is required for the kustomize conformance suite (the oracle): {e}")
        });
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(parse_docs(&String::from_utf8_lossy(&out.stdout)))
}

fn id(o: &Object) -> String {
    format!(
        "{}/{}/{}/{}",
        o["apiVersion"].as_str().unwrap_or(""),
        o["kind"].as_str().unwrap_or(""),
        o["metadata"]["namespace"].as_str().unwrap_or(""),
        o["metadata"]["name"].as_str().unwrap_or("")
    )
}

fn check_case(dir: &Path) -> Result<(), String> {
    let expect_error = std::fs::read_to_string(dir.join("expect-error.txt")).ok();
    let ours = build_dir(dir);
    if let Some(spec) = expect_error {
        let mut lines = spec.lines();
        let who = lines.next().unwrap_or("both").trim();
        let err = match ours {
            Ok(objs) => return Err(format!("expected an error, got {} objects", objs.len())),
            Err(e) => e.to_string(),
        };
        if err.contains('\n') {
            return Err(format!("error message is not one line: {err:?}"));
        }
        for needle in lines.map(str::trim).filter(|l| !l.is_empty()) {
            if !err.contains(needle) {
                return Err(format!("error {err:?} does not contain {needle:?}"));
            }
        }
        if who == "both" && kubectl_kustomize(dir).is_ok() {
            return Err(format!("kubectl succeeded but we fail with: {err}"));
        }
        return Ok(());
    }
    let theirs = kubectl_kustomize(dir).map_err(|e| format!("kubectl failed: {e}"))?;
    let ours = ours.map_err(|e| format!("we fail where kubectl succeeds: {e}"))?;
    if std::env::var_os("KUSTOMIZE_DUMP").is_some() {
        println!("=== {}\n{}", dir.display(), to_yaml(&ours));
    }

    // our YAML output must read back to the same objects
    let reparsed = parse_docs(&to_yaml(&ours));
    if reparsed != ours {
        return Err("to_yaml output does not parse back to the same objects".into());
    }

    let mut problems = Vec::new();
    let (mut a, mut b) = (ours.clone(), theirs.clone());
    a.sort_by_key(id);
    b.sort_by_key(id);
    let ids_a: Vec<String> = a.iter().map(id).collect();
    let ids_b: Vec<String> = b.iter().map(id).collect();
    if ids_a != ids_b {
        problems.push(format!(
            "object ids differ:\n  ours:    {ids_a:?}\n  kubectl: {ids_b:?}"
        ));
    } else {
        for (x, y) in a.iter().zip(&b) {
            if x != y {
                problems.push(format!(
                    "{} differs:\n--- ours\n{}--- kubectl\n{}",
                    id(x),
                    to_yaml(std::slice::from_ref(x)),
                    to_yaml(std::slice::from_ref(y))
                ));
            }
        }
        let order_a: Vec<String> = ours.iter().map(id).collect();
        let order_b: Vec<String> = theirs.iter().map(id).collect();
        if order_a != order_b {
            problems.push(format!(
                "output order differs:\n  ours:    {order_a:?}\n  kubectl: {order_b:?}"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[test]
fn kustomize_cases_match_kubectl() {
    let dirs = case_dirs();
    assert!(!dirs.is_empty(), "no case directories found");
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if let Err(e) = check_case(dir) {
            failures.push(format!("=== case {name}\n{e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from kubectl kustomize:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}

/// Differential test of the strategic-merge walk: random Deployments and SMP patches
/// (merge-keyed lists, multi-key ports, directives, nulls, keyless lists), fixed seed.
/// `KUSTOMIZE_RANDOM_CASES=N` and `KUSTOMIZE_RANDOM_SEED=S` widen the search.
#[test]
fn random_strategic_merge_patches_match_kubectl() {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use serde_json::{Value, json};

    let n: usize = std::env::var("KUSTOMIZE_RANDOM_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    let seed: u64 = std::env::var("KUSTOMIZE_RANDOM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261125);
    let mut rng = StdRng::seed_from_u64(seed);

    fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
        &items[rng.random_range(0..items.len())]
    }
    fn container(rng: &mut StdRng, name: &str, patch: bool) -> Value {
        let mut c = json!({"name": name});
        if !patch || rng.random_bool(0.5) {
            c["image"] = json!(pick(rng, &["img:1", "img:2", "other"]));
        }
        if rng.random_bool(0.6) {
            let mut env = Vec::new();
            for _ in 0..rng.random_range(0..3) {
                let n = *pick(rng, &["X", "Y", "Z"]);
                if env.iter().any(|e: &Value| e["name"] == n) {
                    continue;
                }
                let v = if patch && rng.random_bool(0.2) {
                    Value::Null
                } else {
                    json!(pick(rng, &["1", "on", "x"]))
                };
                env.push(json!({"name": n, "value": v}));
            }
            if patch && !env.is_empty() && rng.random_bool(0.3) {
                env[0] = json!({"name": env[0]["name"], "$patch": "delete"});
            }
            c["env"] = Value::Array(env);
        }
        if rng.random_bool(0.5) {
            let mut ports: Vec<Value> = Vec::new();
            for _ in 0..rng.random_range(0..3) {
                let mut p = json!({"containerPort": pick(rng, &[80, 443, 53])});
                if rng.random_bool(0.7) {
                    p["protocol"] = json!(pick(rng, &["TCP", "UDP"]));
                }
                if rng.random_bool(0.5) {
                    p["name"] = json!(pick(rng, &["p1", "p2"]));
                }
                let dup = ports.iter().any(|q| {
                    q["containerPort"] == p["containerPort"] && q["protocol"] == p["protocol"]
                });
                if !dup {
                    ports.push(p);
                }
            }
            c["ports"] = Value::Array(ports);
        }
        if rng.random_bool(0.3) {
            c["args"] = json!([pick(rng, &["--x", "--y"])]);
        }
        if rng.random_bool(0.3) {
            c["resources"] = if patch {
                pick(
                    rng,
                    &[
                        json!({"limits": {"memory": "1Gi"}}),
                        json!({"$patch": "replace", "requests": {"cpu": "1"}}),
                        json!({"limits": null}),
                    ],
                )
                .clone()
            } else {
                json!({"limits": {"cpu": "1"}})
            };
        }
        if patch && rng.random_bool(0.15) {
            c["$patch"] = json!(pick(rng, &["delete", "replace", "merge"]));
        }
        c
    }
    fn pod_spec(rng: &mut StdRng, patch: bool) -> Value {
        let mut s = json!({});
        let mut names = vec!["a", "b", "c", "d"];
        if rng.random_bool(0.9) {
            let k = rng.random_range(if patch { 0 } else { 1 }..4);
            let mut cs = Vec::new();
            for _ in 0..k {
                let i = rng.random_range(0..names.len());
                let n = names.remove(i);
                cs.push(container(rng, n, patch));
            }
            if patch && rng.random_bool(0.1) {
                let at = rng.random_range(0..=cs.len());
                cs.insert(at, json!({"$patch": pick(rng, &["replace", "merge"])}));
            }
            s["containers"] = Value::Array(cs);
        }
        if rng.random_bool(0.3) {
            s["initContainers"] = json!([container(rng, "i", patch)]);
        }
        if rng.random_bool(0.4) {
            s["tolerations"] = json!([{"key": pick(rng, &["k1", "k2"]), "operator": "Exists"}]);
        }
        if rng.random_bool(0.4) {
            let mut vs = vec![json!({"name": pick(rng, &["v1", "v2"]), "emptyDir": {}})];
            if patch && rng.random_bool(0.3) {
                vs.insert(0, json!({"$patch": "replace"}));
            }
            s["volumes"] = Value::Array(vs);
        }
        if rng.random_bool(0.3) {
            let v = if patch && rng.random_bool(0.5) {
                Value::Null
            } else {
                json!("x")
            };
            s["nodeSelector"] = json!({"a": v});
        }
        s
    }

    let tmp = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    for i in 0..n {
        let dir = tmp.path().join(format!("{i:03}"));
        std::fs::create_dir_all(&dir).expect("case dir");
        let base = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "app", "labels": {"x": "1"}},
            "spec": {"selector": {"matchLabels": {"a": "b"}},
                     "template": {"metadata": {"labels": {"a": "b"}}, "spec": pod_spec(&mut rng, false)}}});
        let patch = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app"},
            "spec": {"template": {"spec": pod_spec(&mut rng, true)}}});
        std::fs::write(dir.join("base.yaml"), base.to_string()).expect("write");
        std::fs::write(dir.join("patch.yaml"), patch.to_string()).expect("write");
        std::fs::write(
            dir.join("kustomization.yaml"),
            "resources:\n- base.yaml\npatches:\n- path: patch.yaml\n",
        )
        .expect("write");
        let theirs = kubectl_kustomize(&dir);
        let ours = build_dir(&dir).map_err(|e| e.to_string());
        let same = match (&ours, &theirs) {
            (Ok(a), Ok(b)) => a == b,
            (Err(_), Err(_)) => true,
            _ => false,
        };
        if !same {
            failures.push(format!(
                "case {i} (seed {seed}):\n base:  {base}\n patch: {patch}\n ours:    {ours:?}\n kubectl: {theirs:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} random SMP cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Differential test of the generators and the name hash: random literal values and file
/// contents (HTML characters, quotes, unicode line separators, long and binary values).
#[test]
fn random_generated_values_match_kubectl() {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use serde_json::json;

    let n: usize = std::env::var("KUSTOMIZE_RANDOM_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    let seed: u64 = std::env::var("KUSTOMIZE_RANDOM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let mut rng = StdRng::seed_from_u64(seed);
    let alphabet: Vec<char> = "ab <>&\"'\\=:#-\u{e9}\u{2713}\u{2028}\u{2029}\t\n{}[]%@!|"
        .chars()
        .collect();
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    for i in 0..n {
        let dir = tmp.path().join(format!("{i:03}"));
        std::fs::create_dir_all(&dir).expect("case dir");
        let random_text = |rng: &mut StdRng| -> String {
            let len = *[0usize, 1, 5, 51, 52, 53, 70, 71, 140][..]
                .get(rng.random_range(0..9))
                .unwrap_or(&5);
            (0..len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect()
        };
        let mut literals = Vec::new();
        for k in 0..rng.random_range(1..4) {
            // Literal values sit in YAML text. A newline cannot be in a literal, and a raw
            // U+2028/U+2029 is a line break for go-yaml but not for us (documented gap).
            let v = random_text(&mut rng).replace(['\n', '\u{2028}', '\u{2029}'], " ");
            literals.push(format!("k{k}={v}"));
        }
        // (kubectl itself fails on some texts that start with a tab: go-yaml writes a block
        // scalar it cannot read back; such inputs are not what this test is about)
        let text = format!("x{}", random_text(&mut rng));
        std::fs::write(dir.join("text.txt"), &text).expect("write");
        let binary: Vec<u8> = (0..rng.random_range(1..90))
            .map(|_| rng.random::<u8>())
            .collect();
        std::fs::write(dir.join("blob.bin"), &binary).expect("write");
        // plus generators with no data at all, sometimes with options or a Secret type
        let empty_options = pick_empty_options(&mut rng);
        let kust = json!({
            "resources": ["pod.yaml"],
            "configMapGenerator": [{"name": "cm", "literals": literals, "files": ["text.txt", "blob.bin"]},
                                   {"name": "empty-cm", "literals": [], "options": empty_options}],
            "secretGenerator": [{"name": "sec", "literals": literals, "files": ["text.txt", "blob.bin"]},
                                {"name": "empty-sec", "type": if rng.random_bool(0.5) { "Opaque" } else { "kubernetes.io/tls" },
                                 "options": empty_options}],
        });
        std::fs::write(dir.join("kustomization.yaml"), kust.to_string()).expect("write");
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "x",
                "envFrom": [{"configMapRef": {"name": "cm"}}, {"secretRef": {"name": "sec"}}]}]}});
        std::fs::write(dir.join("pod.yaml"), pod.to_string()).expect("write");
        let theirs = kubectl_kustomize(&dir);
        let ours = build_dir(&dir).map_err(|e| e.to_string());
        let same = match (&ours, &theirs) {
            (Ok(a), Ok(b)) => {
                let mut a = a.clone();
                let mut b = b.clone();
                a.sort_by_key(id);
                b.sort_by_key(id);
                a == b
            }
            (Err(_), Err(_)) => true,
            _ => false,
        };
        if !same {
            failures.push(format!(
                "case {i} (seed {seed}): kustomization {kust}\n text {text:?}\n{}",
                describe_difference(&ours, &theirs)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} random generator cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Differential test of the field-spec transformers and patch targets: random workloads
/// (with and without the lists and maps the field specs go through, some null) under random
/// labels, annotations, namespace, images, replicas, strategic-merge patches selected by
/// kind/name regexes and label/annotation selectors, and JSON 6902 operations on existing
/// and missing paths. Both builds must succeed with the same objects, or both fail.
#[test]
fn random_transformers_and_patches_match_kubectl() {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use serde_json::{Value, json};

    let n: usize = std::env::var("KUSTOMIZE_RANDOM_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let seed: u64 = std::env::var("KUSTOMIZE_RANDOM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261129);
    let mut rng = StdRng::seed_from_u64(seed);

    fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
        &items[rng.random_range(0..items.len())]
    }
    /// A field that is absent, null, or the given value.
    fn maybe(rng: &mut StdRng, m: &mut serde_json::Map<String, Value>, key: &str, v: Value) {
        match rng.random_range(0..4) {
            0 => {}
            1 => {
                m.insert(key.into(), Value::Null);
            }
            _ => {
                m.insert(key.into(), v);
            }
        }
    }
    fn pod_template(rng: &mut StdRng) -> Value {
        let mut t = serde_json::Map::new();
        maybe(rng, &mut t, "metadata", json!({"labels": {"app": "a"}}));
        let mut spec = serde_json::Map::new();
        let image = pick(rng, &["app:1", "app", "other:2", "app@sha256:abc"]).to_string();
        maybe(
            rng,
            &mut spec,
            "containers",
            json!([{"name": "c", "image": image}]),
        );
        maybe(
            rng,
            &mut spec,
            "initContainers",
            json!([{"name": "i", "image": "app:0"}]),
        );
        if rng.random_bool(0.3) {
            spec.insert("nodeSelector".into(), json!({"disk": "ssd"}));
        }
        t.insert("spec".into(), Value::Object(spec));
        Value::Object(t)
    }
    fn resource(rng: &mut StdRng, i: usize) -> Value {
        let kind = *pick(
            rng,
            &[
                "Deployment",
                "StatefulSet",
                "DaemonSet",
                "Job",
                "CronJob",
                "Service",
                "ConfigMap",
                "Pod",
            ],
        );
        let api = match kind {
            "Deployment" | "StatefulSet" | "DaemonSet" => "apps/v1",
            "Job" | "CronJob" => "batch/v1",
            _ => "v1",
        };
        let name = format!("{}-{i}", pick(rng, &["web", "db", "job"]));
        let mut meta = serde_json::Map::new();
        meta.insert("name".into(), json!(name));
        if rng.random_bool(0.3) {
            meta.insert("namespace".into(), json!(pick(rng, &["default", "prod"])));
        }
        let tier = *pick(rng, &["front", "back"]);
        maybe(rng, &mut meta, "labels", json!({ "tier": tier }));
        let owner = *pick(rng, &["ops", "dev"]);
        maybe(rng, &mut meta, "annotations", json!({ "owner": owner }));
        let mut spec = serde_json::Map::new();
        match kind {
            "Deployment" | "DaemonSet" | "StatefulSet" => {
                maybe(
                    rng,
                    &mut spec,
                    "selector",
                    json!({"matchLabels": {"app": "a"}}),
                );
                spec.insert("template".into(), pod_template(rng));
                if kind == "StatefulSet" {
                    spec.insert("serviceName".into(), json!("s"));
                    let claims = pick(
                        rng,
                        &[
                            json!([{"metadata": {"name": "data"}, "spec": {}}]),
                            json!([{"spec": {}}]),
                            json!([]),
                        ],
                    )
                    .clone();
                    maybe(rng, &mut spec, "volumeClaimTemplates", claims);
                }
                if kind != "DaemonSet" {
                    maybe(rng, &mut spec, "replicas", json!(1));
                }
            }
            "Job" => {
                spec.insert("template".into(), pod_template(rng));
                maybe(
                    rng,
                    &mut spec,
                    "selector",
                    json!({"matchLabels": {"job": "x"}}),
                );
            }
            "CronJob" => {
                spec.insert("schedule".into(), json!("@daily"));
                let mut jt = serde_json::Map::new();
                jt.insert("spec".into(), json!({"template": pod_template(rng)}));
                maybe(rng, &mut spec, "jobTemplate", Value::Object(jt));
            }
            "Service" => {
                maybe(rng, &mut spec, "selector", json!({"app": "a"}));
                spec.insert("ports".into(), json!([{"port": 80}]));
            }
            "Pod" => {
                if let Value::Object(t) = pod_template(rng) {
                    spec = t["spec"].as_object().cloned().unwrap_or_default();
                }
            }
            _ => {}
        }
        let mut obj = json!({"apiVersion": api, "kind": kind, "metadata": meta});
        if kind == "ConfigMap" {
            obj["data"] = json!({"a": "1"});
        } else {
            obj["spec"] = Value::Object(spec);
        }
        obj
    }
    fn target(rng: &mut StdRng) -> Value {
        let mut t = serde_json::Map::new();
        if rng.random_bool(0.6) {
            let kinds = pick(
                rng,
                &[
                    "Deployment|StatefulSet|DaemonSet",
                    "(Cron)?Job",
                    "Deployment",
                    "Service|ConfigMap",
                    ".*Set",
                ],
            );
            t.insert("kind".into(), json!(kinds));
        }
        if rng.random_bool(0.3) {
            t.insert(
                "name".into(),
                json!(pick(rng, &["web-.*", "db-[0-9]", "job-.*|web-.*"])),
            );
        }
        if rng.random_bool(0.3) {
            t.insert(
                "labelSelector".into(),
                json!(pick(rng, &["tier=front", "tier in (front,back)", "!tier"])),
            );
        }
        if rng.random_bool(0.3) {
            t.insert(
                "annotationSelector".into(),
                json!(pick(rng, &["owner=ops", "owner"])),
            );
        }
        if rng.random_bool(0.2) {
            t.insert(
                "group".into(),
                json!(pick(rng, &["apps", "batch|apps", ""])),
            );
        }
        Value::Object(t)
    }
    fn json_op(rng: &mut StdRng) -> Value {
        let path = *pick(
            rng,
            &[
                "/metadata/labels/added",
                "/metadata/annotations/added",
                "/metadata/annotations",
                "/spec/replicas",
                "/spec/template/metadata/labels/x",
                "/spec/template/spec/containers/0/image",
                "/spec/template/spec/containers/-1/name",
                "/spec/template/spec/containers/1",
                "/spec/template/spec/containers/-",
                "/spec/volumeClaimTemplates/0/metadata/name",
                "/data/b",
                "/spec/missing/x",
            ],
        );
        let op = *pick(
            rng,
            &["add", "add", "replace", "remove", "test", "copy", "move"],
        );
        let value = pick(rng, &[json!("v"), json!({"k": "v"}), json!(3), Value::Null]).clone();
        match op {
            "remove" => json!({"op": op, "path": path}),
            "copy" | "move" => json!({"op": op, "from": "/metadata/name", "path": path}),
            _ => json!({"op": op, "path": path, "value": value}),
        }
    }

    let tmp = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    let mut both_failed = 0;
    for i in 0..n {
        let dir = tmp.path().join(format!("{i:03}"));
        std::fs::create_dir_all(&dir).expect("case dir");
        let resources: Vec<Value> = (0..rng.random_range(2..6))
            .map(|j| resource(&mut rng, j))
            .collect();
        let text: Vec<String> = resources.iter().map(Value::to_string).collect();
        std::fs::write(dir.join("res.yaml"), text.join("\n---\n")).expect("write");
        let mut k = serde_json::Map::new();
        k.insert("resources".into(), json!(["res.yaml"]));
        if rng.random_bool(0.4) {
            k.insert("commonLabels".into(), json!({"common": "l"}));
        }
        if rng.random_bool(0.4) {
            let include = *pick(&mut rng, &["includeSelectors", "includeTemplates", "none"]);
            let mut l = json!({"pairs": {"plain": "l"}});
            if include != "none" {
                l[include] = json!(true);
            }
            k.insert("labels".into(), json!([l]));
        }
        if rng.random_bool(0.4) {
            k.insert("commonAnnotations".into(), json!({"note": "a"}));
        }
        if rng.random_bool(0.3) {
            k.insert("namespace".into(), json!("ns"));
        }
        if rng.random_bool(0.4) {
            let img = pick(
                &mut rng,
                &[
                    json!({"name": "app", "newTag": "2"}),
                    json!({"name": "app", "tagSuffix": "-x"}),
                    json!({"name": "app", "newName": "reg/app", "digest": "sha256:def"}),
                ],
            )
            .clone();
            k.insert("images".into(), json!([img]));
        }
        if rng.random_bool(0.3) {
            let name = resources[rng.random_range(0..resources.len())]["metadata"]["name"].clone();
            k.insert("replicas".into(), json!([{"name": name, "count": 4}]));
        }
        let mut patches = Vec::new();
        for _ in 0..rng.random_range(0..3) {
            if rng.random_bool(0.5) {
                // a patch document: by target (its own id does not matter, but it must have
                // a kind and a name) or by its id (exact apiVersion, kind, name, namespace)
                let r = &resources[rng.random_range(0..resources.len())];
                let api = if rng.random_bool(0.8) {
                    r["apiVersion"].clone()
                } else {
                    json!(pick(&mut rng, &["apps/v1beta1", "v1"]))
                };
                let mut patch = json!({"apiVersion": api, "kind": r["kind"],
                    "metadata": {"name": r["metadata"]["name"], "annotations": {"smp": "yes"}},
                    "spec": {"template": {"metadata": {"annotations": {"pod": "yes"}},
                             "spec": {"nodeSelector": {"pool": "p"}}}}});
                if let Some(ns) = r["metadata"].get("namespace") {
                    patch["metadata"]["namespace"] = ns.clone();
                }
                if rng.random_bool(0.1) {
                    patch["metadata"].as_object_mut().map(|m| m.remove("name"));
                }
                let mut entry = json!({"patch": patch.to_string()});
                if rng.random_bool(0.6) {
                    entry["target"] = target(&mut rng);
                }
                patches.push(entry);
            } else {
                let ops: Vec<Value> = (0..rng.random_range(1..3))
                    .map(|_| json_op(&mut rng))
                    .collect();
                patches.push(
                    json!({"target": target(&mut rng), "patch": Value::Array(ops).to_string()}),
                );
            }
        }
        if !patches.is_empty() {
            k.insert("patches".into(), Value::Array(patches));
        }
        let kust = Value::Object(k);
        std::fs::write(dir.join("kustomization.yaml"), kust.to_string()).expect("write");
        let theirs = kubectl_kustomize(&dir);
        let ours = build_dir(&dir).map_err(|e| e.to_string());
        let same = match (&ours, &theirs) {
            (Ok(a), Ok(b)) => {
                let (mut a, mut b) = (a.clone(), b.clone());
                a.sort_by_key(id);
                b.sort_by_key(id);
                a == b
            }
            (Err(_), Err(_)) => {
                both_failed += 1;
                true
            }
            _ => false,
        };
        if !same {
            let show = |r: &Result<Vec<Object>, String>| match r {
                Ok(objs) => to_yaml(objs),
                Err(e) => format!("error: {e}"),
            };
            failures.push(format!(
                "case {i} (seed {seed}):\n kustomization: {kust}\n resources:\n{}\n--- ours\n{}--- kubectl\n{}",
                text.join("\n"),
                show(&ours),
                show(&theirs)
            ));
        }
    }
    println!("{n} random transformer/patch cases (seed {seed}), {both_failed} fail in both builds");
    assert!(
        failures.is_empty(),
        "{} of {n} random transformer/patch cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Generator options for the empty generators of the random generator test.
fn pick_empty_options(rng: &mut rand::rngs::StdRng) -> serde_json::Value {
    use rand::Rng;
    match rng.random_range(0..3) {
        0 => serde_json::json!({}),
        1 => serde_json::json!({"labels": {"l": "v"}, "immutable": true}),
        _ => serde_json::json!({"annotations": {"a": "<&>"}, "disableNameSuffixHash": true}),
    }
}

/// The fields that differ between our objects and kubectl's (for readable failures).
fn describe_difference(
    ours: &Result<Vec<Object>, String>,
    theirs: &Result<Vec<Object>, String>,
) -> String {
    let (Ok(a), Ok(b)) = (ours, theirs) else {
        return format!(" ours:    {ours:?}\n kubectl: {theirs:?}");
    };
    let mut out = String::new();
    for x in a {
        // the same object up to its hash suffix
        let unhashed = |o: &Object| {
            let name = o["metadata"]["name"].as_str().unwrap_or("");
            let base = name.rsplit_once('-').map_or(name, |(b, _)| b).to_string();
            (o["kind"].clone(), base)
        };
        let Some(y) = b.iter().find(|y| unhashed(y) == unhashed(x)) else {
            out.push_str(&format!(" only ours: {}\n", id(x)));
            continue;
        };
        if x == y {
            continue;
        }
        out.push_str(&format!(" {} vs {}\n", id(x), id(y)));
        for field in ["data", "binaryData"] {
            let empty = serde_json::Map::new();
            let xm = x[field].as_object().unwrap_or(&empty);
            let ym = y[field].as_object().unwrap_or(&empty);
            for k in xm.keys().chain(ym.keys()) {
                if xm.get(k) != ym.get(k) {
                    out.push_str(&format!(
                        "  {field}.{k}: ours {:?} kubectl {:?}\n",
                        xm.get(k),
                        ym.get(k)
                    ));
                }
            }
        }
    }
    out
}
