//! A client that counts its API requests by kind (read, watch, write), to check what a
//! reconcile really sends, independently of the operator's own metrics.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use kube::Client;

#[derive(Clone, Default)]
pub struct RequestCounts(Arc<Mutex<BTreeMap<&'static str, u64>>>);

impl RequestCounts {
    pub fn snapshot(&self) -> BTreeMap<&'static str, u64> {
        self.0.lock().expect("counts").clone()
    }

    /// How many requests of `kind` ("read", "watch", "write") were sent since `before`.
    pub fn since(&self, before: &BTreeMap<&'static str, u64>, kind: &str) -> u64 {
        let now = self.snapshot();
        now.get(kind).copied().unwrap_or(0) - before.get(kind).copied().unwrap_or(0)
    }
}

struct CountLayer(RequestCounts);

impl<S> tower::Layer<S> for CountLayer {
    type Service = CountService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        CountService {
            inner,
            counts: self.0.clone(),
        }
    }
}

#[derive(Clone)]
struct CountService<S> {
    inner: S,
    counts: RequestCounts,
}

impl<S, B> tower::Service<http::Request<B>> for CountService<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let watch = request
            .uri()
            .query()
            .is_some_and(|q| q.contains("watch=true") || q.contains("watch=1"));
        let kind = match *request.method() {
            http::Method::GET if watch => "watch",
            http::Method::GET => "read",
            _ => "write",
        };
        *self
            .counts
            .0
            .lock()
            .expect("counts")
            .entry(kind)
            .or_insert(0) += 1;
        self.inner.call(request)
    }
}

/// An admin client of the local control plane that counts its requests.
pub async fn counting_client() -> (Client, RequestCounts) {
    counting_client_as(None).await
}

/// The same, acting as `user` (impersonation, e.g. `system:serviceaccount:<ns>:<name>`) when
/// given: the API server then authorizes every request with that user's RBAC.
pub async fn counting_client_as(user: Option<String>) -> (Client, RequestCounts) {
    let path = super::kubeconfig_path();
    let kubeconfig = kube::config::Kubeconfig::read_from(&path).expect("kubeconfig");
    let mut config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .expect("config");
    config.auth_info.impersonate = user;
    let counts = RequestCounts::default();
    let client = kube::client::ClientBuilder::try_from(config)
        .expect("client builder")
        .with_layer(&CountLayer(counts.clone()))
        .build();
    (client, counts)
}
