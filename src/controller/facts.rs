//! Reads the cluster facts the configuration depends on (a handful of reads per reconcile).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Node, Service};
use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::ListParams;
use kube::{Api, Client};

use super::Error;
use crate::config::{ClusterFacts, NodeFacts, OPS_CONFIGMAP, RUNTIMES_CONFIGMAP, apihost};

const DEFAULT_STORAGE_CLASS: &str = "storageclass.kubernetes.io/is-default-class";
const DEFAULT_INGRESS_CLASS: &str = "ingressclass.kubernetes.io/is-default-class";
const RUNTIMES_KEY: &str = "runtimes.json";
/// The Ingress of the API (`/api/v1`), which carries the apihost as its host.
const APIHOST_INGRESS: &str = "apihost";
/// Where the ingress controller's Service usually lives when `nuvolaris.ingresslb` is `auto`.
const DEFAULT_INGRESS_LB: (&str, &str) = ("ingress-nginx", "ingress-nginx-controller");

fn read_error(what: &'static str) -> impl FnOnce(kube::Error) -> Error {
    move |source| Error::Kube { what, source }
}

fn is_absent(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 404 || s.code == 403)
}

/// Reads nodes, the default StorageClass and IngressClass, the OpenShift route API, the
/// ingress load balancer address, the runtimes ConfigMap of `namespace`, the operator image and
/// the apihost the live installation publishes.
/// `ingresslb` is `spec.nuvolaris.ingresslb` (`namespace/service`, or `auto`/absent).
pub async fn read(
    client: &Client,
    namespace: &str,
    ingresslb: Option<&str>,
) -> Result<ClusterFacts, Error> {
    let nodes = Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map_err(read_error("list nodes"))?
        .items;
    let storage_classes = Api::<StorageClass>::all(client.clone())
        .list_metadata(&ListParams::default())
        .await
        .map_err(read_error("list storage classes"))?
        .items
        .into_iter()
        .map(|sc| sc.metadata)
        .collect::<Vec<_>>();
    let ingress_classes = Api::<IngressClass>::all(client.clone())
        .list_metadata(&ListParams::default())
        .await
        .map_err(read_error("list ingress classes"))?
        .items
        .into_iter()
        .map(|ic| ic.metadata)
        .collect::<Vec<_>>();
    let groups = client
        .list_api_groups()
        .await
        .map_err(read_error("list API groups"))?;
    let has_group = |name: &str| groups.groups.iter().any(|g| g.name == name);
    let has_openshift_routes = has_group("route.openshift.io");
    let traefik_middleware_api = if has_group("traefik.io") {
        Some("traefik.io/v1alpha1".to_owned())
    } else if has_group("traefik.containo.us") {
        Some("traefik.containo.us/v1alpha1".to_owned())
    } else {
        None
    };

    let (lb_namespace, lb_service) = match ingresslb.and_then(|v| v.split_once('/')) {
        Some((ns, svc)) if !ns.is_empty() && !svc.is_empty() => (ns, svc),
        _ => DEFAULT_INGRESS_LB,
    };
    let ingress_load_balancer = match Api::<Service>::namespaced(client.clone(), lb_namespace)
        .get_opt(lb_service)
        .await
    {
        Ok(service) => service.as_ref().and_then(load_balancer_address),
        Err(err) if is_absent(&err) => None,
        Err(err) => return Err(read_error("read ingress load balancer service")(err)),
    };
    let runtimes_json = match Api::<ConfigMap>::namespaced(client.clone(), namespace)
        .get_opt(RUNTIMES_CONFIGMAP)
        .await
    {
        Ok(cm) => cm
            .and_then(|cm| cm.data)
            .and_then(|mut d| d.remove(RUNTIMES_KEY)),
        Err(err) if is_absent(&err) => None,
        Err(err) => return Err(read_error("read runtimes configmap")(err)),
    };

    let live_apihost = live_apihost(client, namespace).await?;

    Ok(ClusterFacts {
        nodes: nodes.iter().map(node_facts).collect(),
        default_storage_class: default_marked(&storage_classes, DEFAULT_STORAGE_CLASS),
        default_ingress_class: default_marked(&ingress_classes, DEFAULT_INGRESS_CLASS),
        has_openshift_routes,
        traefik_middleware_api,
        ingress_load_balancer,
        runtimes_json,
        operator_image: operator_image_from_env(
            std::env::var("OPERATOR_IMAGE").ok(),
            std::env::var("OPERATOR_TAG").ok(),
        ),
        live_apihost,
    })
}

/// The apihost the installation in `namespace` publishes: `cm/config`'s `apihost` annotation
/// (what the `ops` CLI reads), else the host of the `apihost` Ingress (what users reach).
async fn live_apihost(client: &Client, namespace: &str) -> Result<Option<String>, Error> {
    let annotated = match Api::<ConfigMap>::namespaced(client.clone(), namespace)
        .get_metadata_opt(OPS_CONFIGMAP)
        .await
    {
        Ok(cm) => cm
            .and_then(|cm| cm.metadata.annotations)
            .and_then(|mut a| a.remove("apihost"))
            .filter(|url| apihost::is_known(url)),
        Err(err) if is_absent(&err) => None,
        Err(err) => return Err(read_error("read cm/config")(err)),
    };
    if annotated.is_some() {
        return Ok(annotated);
    }
    let ingress = match Api::<Ingress>::namespaced(client.clone(), namespace)
        .get_opt(APIHOST_INGRESS)
        .await
    {
        Ok(ingress) => ingress,
        Err(err) if is_absent(&err) => None,
        Err(err) => return Err(read_error("read the apihost ingress")(err)),
    };
    Ok(ingress.as_ref().and_then(ingress_url))
}

/// `<scheme>://<host>` of an Ingress's first rule (https when it has TLS).
pub fn ingress_url(ingress: &Ingress) -> Option<String> {
    let spec = ingress.spec.as_ref()?;
    let host = spec.rules.as_ref()?.first()?.host.clone()?;
    let scheme = if spec.tls.as_ref().is_some_and(|t| !t.is_empty()) {
        "https"
    } else {
        "http"
    };
    Some(format!("{scheme}://{host}")).filter(|url| apihost::is_known(url))
}

/// `OPERATOR_IMAGE[:OPERATOR_TAG]`, as the original's `detect_env`.
pub fn operator_image_from_env(image: Option<String>, tag: Option<String>) -> Option<String> {
    let image = image.filter(|i| !i.is_empty())?;
    match tag.filter(|t| !t.is_empty()) {
        Some(tag) => Some(format!("{image}:{tag}")),
        None => Some(image),
    }
}

pub fn node_facts(node: &Node) -> NodeFacts {
    let addresses = node
        .status
        .as_ref()
        .and_then(|s| s.addresses.clone())
        .unwrap_or_default();
    let address = |kind: &str| {
        addresses
            .iter()
            .find(|a| a.type_ == kind)
            .map(|a| a.address.clone())
    };
    NodeFacts {
        name: node.metadata.name.clone().unwrap_or_default(),
        labels: node.metadata.labels.clone().unwrap_or_default(),
        annotations: node.metadata.annotations.clone().unwrap_or_default(),
        kubelet_version: node
            .status
            .as_ref()
            .and_then(|s| s.node_info.as_ref())
            .map(|i| i.kubelet_version.clone())
            .unwrap_or_default(),
        provider_id: node.spec.as_ref().and_then(|s| s.provider_id.clone()),
        external_ip: address("ExternalIP"),
        internal_ip: address("InternalIP"),
    }
}

/// The name of the object annotated `<annotation>: "true"` (the first, by name, if several).
pub fn default_marked(
    metas: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta],
    annotation: &str,
) -> Option<String> {
    let empty = BTreeMap::new();
    let mut marked: Vec<String> = metas
        .iter()
        .filter(|m| {
            m.annotations
                .as_ref()
                .unwrap_or(&empty)
                .get(annotation)
                .map(String::as_str)
                == Some("true")
        })
        .filter_map(|m| m.name.clone())
        .collect();
    marked.sort();
    marked.into_iter().next()
}

pub fn load_balancer_address(service: &Service) -> Option<String> {
    let ingress = service
        .status
        .as_ref()?
        .load_balancer
        .as_ref()?
        .ingress
        .as_ref()?
        .first()?;
    ingress.hostname.clone().or_else(|| ingress.ip.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use serde_json::json;

    #[test]
    fn default_class_is_the_annotated_one() {
        let meta = |name: &str, default: Option<&str>| ObjectMeta {
            name: Some(name.into()),
            annotations: default
                .map(|v| BTreeMap::from([(DEFAULT_STORAGE_CLASS.to_string(), v.to_string())])),
            ..ObjectMeta::default()
        };
        let classes = vec![
            meta("slow", Some("false")),
            meta("fast", Some("true")),
            meta("plain", None),
        ];
        assert_eq!(
            default_marked(&classes, DEFAULT_STORAGE_CLASS).as_deref(),
            Some("fast")
        );
        assert_eq!(default_marked(&classes[..1], DEFAULT_STORAGE_CLASS), None);
    }

    #[test]
    fn node_facts_take_addresses_and_versions() {
        let node: Node = serde_json::from_value(json!({
            "metadata": {"name": "n1", "labels": {"kubernetes.io/hostname": "n1"}},
            "spec": {"providerID": "kind://docker/kind/n1"},
            "status": {
                "addresses": [{"type": "InternalIP", "address": "10.0.0.2"}, {"type": "ExternalIP", "address": "1.2.3.4"}],
                "nodeInfo": {"kubeletVersion": "v1.32.4", "architecture": "amd64", "bootID": "", "containerRuntimeVersion": "",
                    "kernelVersion": "", "kubeProxyVersion": "", "machineID": "", "operatingSystem": "linux", "osImage": "", "systemUUID": ""}
            }
        }))
        .unwrap();
        let facts = node_facts(&node);
        assert_eq!(facts.name, "n1");
        assert_eq!(facts.kubelet_version, "v1.32.4");
        assert_eq!(facts.internal_ip.as_deref(), Some("10.0.0.2"));
        assert_eq!(facts.external_ip.as_deref(), Some("1.2.3.4"));
        assert_eq!(facts.provider_id.as_deref(), Some("kind://docker/kind/n1"));
    }

    #[test]
    fn load_balancer_prefers_hostname() {
        let svc: Service = serde_json::from_value(json!({"status": {"loadBalancer": {"ingress": [{"ip": "5.6.7.8", "hostname": "lb.example.com"}]}}})).unwrap();
        assert_eq!(
            load_balancer_address(&svc).as_deref(),
            Some("lb.example.com")
        );
        let svc: Service = serde_json::from_value(json!({"status": {"loadBalancer": {}}})).unwrap();
        assert_eq!(load_balancer_address(&svc), None);
    }

    #[test]
    fn the_apihost_ingress_gives_scheme_and_host() {
        let ingress: Ingress = serde_json::from_value(json!({"spec": {
            "rules": [{"host": "miniops.me"}], "tls": [{"hosts": ["miniops.me"]}]
        }}))
        .unwrap();
        assert_eq!(ingress_url(&ingress).as_deref(), Some("https://miniops.me"));
        let any_host: Ingress =
            serde_json::from_value(json!({"spec": {"rules": [{"http": {"paths": []}}]}})).unwrap();
        assert_eq!(ingress_url(&any_host), None, "an Ingress for any host");
    }

    #[test]
    fn operator_image_joins_tag() {
        assert_eq!(
            operator_image_from_env(Some("img".into()), Some("1.0".into())).as_deref(),
            Some("img:1.0")
        );
        assert_eq!(
            operator_image_from_env(Some("img".into()), None).as_deref(),
            Some("img")
        );
        assert_eq!(operator_image_from_env(None, Some("1.0".into())), None);
    }
}
