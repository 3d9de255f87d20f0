//! The apihost endpoint as rendered offline, against golden files: TLS off and on (nginx, generic
//! cluster), Traefik on a flavour other than k3s, OpenShift Routes, and every one of the nine
//! flavours with TLS off and on where it applies (`flavour-<flavour>-tls-<on|off>.yaml`: the
//! apihost routes, the registry's `img.<apihost>` route and the ClusterIssuer). Regenerate with
//! `UPDATE_GOLDEN=1 cargo test --test render_endpoints` after an intended change, and review.

use std::path::{Path, PathBuf};

use nuvolaris_operator::offline;
use serde::Deserialize;
use serde_json::Value;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The endpoint component's objects of the offline render of `sample` for `flavour`, as YAML.
fn endpoint_objects(sample: &str, flavour: &str) -> (String, Vec<Value>) {
    published_objects(sample, flavour, |o| {
        o["metadata"]["labels"]["nuvolaris.org/component"] == "endpoint"
    })
}

/// The objects of the offline render of `sample` for `flavour` that `keep` selects, as YAML.
fn published_objects(
    sample: &str,
    flavour: &str,
    keep: impl Fn(&Value) -> bool,
) -> (String, Vec<Value>) {
    let rendered = offline::render_file(&repo().join(sample), Some(flavour)).expect("renders");
    assert!(rendered.warnings.is_empty(), "{:?}", rendered.warnings);
    let objects: Vec<Value> = serde_yaml_ng::Deserializer::from_str(&rendered.yaml)
        .map(|doc| Value::deserialize(doc).expect("valid YAML"))
        .filter(|o| keep(o))
        .collect();
    let yaml = objects
        .iter()
        .map(|o| serde_yaml_ng::to_string(o).expect("YAML"))
        .collect::<Vec<_>>()
        .join("---\n");
    (yaml, objects)
}

fn check_golden(name: &str, yaml: &str) {
    let path: PathBuf = repo().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, yaml).expect("write golden file");
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (create it with UPDATE_GOLDEN=1)", path.display()));
    assert!(
        yaml == expected,
        "{} differs; if intended, regenerate with UPDATE_GOLDEN=1 and review the diff",
        path.display()
    );
}

fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object["metadata"]["annotations"][key].as_str()
}

#[test]
fn tls_off_means_no_tls_block_and_no_issuer() {
    let (yaml, objects) = endpoint_objects("deploy/samples/minimal.yaml", "generic");
    assert!(!objects.is_empty());
    for ingress in &objects {
        assert!(ingress["spec"].get("tls").is_none(), "{ingress}");
        assert_eq!(annotation(ingress, "cert-manager.io/cluster-issuer"), None);
    }
    check_golden("endpoint-generic-tls-off.yaml", &yaml);
}

#[test]
fn tls_on_names_the_issuer_and_the_secrets() {
    let (yaml, objects) = endpoint_objects("tests/samples/endpoint-tls.yaml", "generic");
    let mut names: Vec<&str> = objects
        .iter()
        .filter_map(|o| o["metadata"]["name"].as_str())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["apihost", "apihost-info", "apihost-my", "apihost-www-my"]
    );
    for ingress in &objects {
        assert_eq!(
            annotation(ingress, "cert-manager.io/cluster-issuer"),
            Some("letsencrypt-issuer")
        );
        let host = ingress["spec"]["rules"][0]["host"].clone();
        assert_eq!(ingress["spec"]["tls"][0]["hosts"][0], host);
    }
    let www = objects
        .iter()
        .find(|o| o["metadata"]["name"] == "apihost-www-my")
        .expect("the www route");
    assert_eq!(www["spec"]["tls"][0]["secretName"], "nuvolaris-crt-www");
    check_golden("endpoint-generic-tls-on.yaml", &yaml);
}

#[test]
fn tls_is_never_on_kind() {
    let (_, objects) = endpoint_objects("tests/samples/endpoint-tls.yaml", "kind");
    for ingress in &objects {
        assert!(ingress["spec"].get("tls").is_none(), "{ingress}");
    }
}

#[test]
fn traefik_on_a_generic_cluster_uses_prefix_paths_and_middlewares() {
    let (yaml, objects) = endpoint_objects("tests/samples/endpoint-traefik.yaml", "generic");
    let ingresses: Vec<&Value> = objects.iter().filter(|o| o["kind"] == "Ingress").collect();
    let middlewares: Vec<&Value> = objects
        .iter()
        .filter(|o| o["kind"] == "Middleware")
        .collect();
    assert_eq!(ingresses.len(), middlewares.len());
    for ingress in ingresses {
        let path = &ingress["spec"]["rules"][0]["http"]["paths"][0];
        assert_eq!(path["pathType"], "Prefix");
        assert!(
            !path["path"].as_str().unwrap_or("(").contains('('),
            "{path}"
        );
        let middleware = annotation(ingress, "traefik.ingress.kubernetes.io/router.middlewares")
            .expect("a middleware");
        assert!(middleware.starts_with("nuvolaris-") && middleware.ends_with("@kubernetescrd"));
        assert_eq!(
            annotation(ingress, "nginx.ingress.kubernetes.io/use-regex"),
            None
        );
    }
    check_golden("endpoint-generic-traefik.yaml", &yaml);
}

#[test]
fn openshift_gets_routes_to_the_controller() {
    let (yaml, objects) = endpoint_objects("tests/samples/endpoint-tls.yaml", "openshift");
    assert!(objects.iter().all(|o| o["kind"] == "Route"));
    for route in &objects {
        assert_eq!(route["spec"]["to"]["name"], "controller-ip");
        assert_eq!(route["spec"]["tls"]["termination"], "edge");
    }
    check_golden("endpoint-openshift-tls-on.yaml", &yaml);
}

const FLAVOURS: [&str; 9] = [
    "kind",
    "k3s",
    "microk8s",
    "eks",
    "gke",
    "aks",
    "lks",
    "openshift",
    "generic",
];

/// What publishes HTTP: the endpoint's objects, the registry's route, the TLS issuer.
fn is_published(object: &Value) -> bool {
    let component = &object["metadata"]["labels"]["nuvolaris.org/component"];
    let web_kind = matches!(
        object["kind"].as_str(),
        Some("Ingress" | "Middleware" | "Route")
    );
    component == "endpoint" || component == "tls" || (component == "registry" && web_kind)
}

#[test]
fn every_flavour_publishes_its_endpoint_with_tls_off_and_on() {
    for flavour in FLAVOURS {
        let (off_yaml, off) =
            published_objects("tests/samples/flavour-tls-off.yaml", flavour, is_published);
        let (on_yaml, on) =
            published_objects("tests/samples/flavour-tls-on.yaml", flavour, is_published);
        let names = |objects: &[Value]| -> Vec<String> {
            let mut names: Vec<String> = objects
                .iter()
                .map(|o| {
                    format!(
                        "{} {}",
                        o["kind"].as_str().unwrap_or("?"),
                        o["metadata"]["name"].as_str().unwrap_or("?")
                    )
                })
                .collect();
            names.sort();
            names
        };
        let kinds: Vec<&str> = off.iter().filter_map(|o| o["kind"].as_str()).collect();
        match flavour {
            "openshift" => assert!(kinds.iter().all(|k| *k == "Route"), "{flavour}: {kinds:?}"),
            "k3s" => assert!(kinds.contains(&"Middleware"), "{flavour}: Traefik"),
            _ => assert!(
                kinds.iter().all(|k| *k == "Ingress"),
                "{flavour}: {kinds:?}"
            ),
        }
        // the registry is published on img.<apihost>; www only off kind
        let hosts: Vec<&str> = off
            .iter()
            .filter_map(|o| {
                o["spec"]["rules"][0]["host"]
                    .as_str()
                    .or(o["spec"]["host"].as_str())
            })
            .collect();
        assert!(
            hosts.contains(&"img.api.example.org"),
            "{flavour}: {hosts:?}"
        );
        assert_eq!(
            hosts.contains(&"www.api.example.org"),
            flavour != "kind",
            "{flavour}"
        );
        for object in &off {
            assert!(
                object["spec"].get("tls").is_none(),
                "{flavour}: TLS off: {object}"
            );
        }
        match flavour {
            // no public certificates on kind: the switch changes nothing
            "kind" => {
                assert_eq!(on_yaml, off_yaml, "kind: TLS never applies");
                check_golden("flavour-kind-tls-off.yaml", &off_yaml);
                continue;
            }
            // OpenShift Routes terminate TLS at the edge (openshift-acme): no ClusterIssuer
            "openshift" => {
                assert!(on.iter().all(|o| o["spec"]["tls"]["termination"] == "edge"));
                assert!(!on.iter().any(|o| o["kind"] == "ClusterIssuer"));
            }
            _ => {
                let mut with_tls = names(&off);
                with_tls.push("ClusterIssuer letsencrypt-issuer".into());
                with_tls.sort();
                assert_eq!(names(&on), with_tls, "{flavour}: TLS adds the issuer");
                for object in on.iter().filter(|o| o["kind"] == "Ingress") {
                    assert_eq!(
                        annotation(object, "cert-manager.io/cluster-issuer"),
                        Some("letsencrypt-issuer"),
                        "{flavour}"
                    );
                    let host = &object["spec"]["rules"][0]["host"];
                    assert_eq!(&object["spec"]["tls"][0]["hosts"][0], host, "{flavour}");
                }
            }
        }
        check_golden(&format!("flavour-{flavour}-tls-off.yaml"), &off_yaml);
        check_golden(&format!("flavour-{flavour}-tls-on.yaml"), &on_yaml);
    }
}
