//! The daemon around the controller against the local control plane: the HTTP endpoints, a clean
//! stop, and Lease-based leader election (one active replica at a time, hand-over on release).
mod support;

use std::sync::Arc;
use std::time::Duration;

use kube::{Api, Client};
use nuvolaris_operator::controller::{self, DaemonOptions};
use nuvolaris_operator::leader::LeaseLock;
use support::TestNamespace;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Who holds the operator's Lease.
async fn lease_holder(lease: &Api<k8s_openapi::api::coordination::v1::Lease>) -> Option<String> {
    lease
        .get("nuvolaris-operator")
        .await
        .expect("lease")
        .spec
        .and_then(|s| s.holder_identity)
}

/// Status code and body of `GET path`.
async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let code = response
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, response)
}

/// Waits (checking every 100 ms, bounded) until `GET path` answers `code`.
async fn wait_status(addr: std::net::SocketAddr, path: &str, code: u16, what: &str) {
    let wait = async {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tick.tick().await;
            if get(addr, path).await.0 == code {
                return;
            }
        }
    };
    if tokio::time::timeout(support::WAIT_TIMEOUT, wait)
        .await
        .is_err()
    {
        panic!("timed out waiting for {what}: {path} never answered {code}");
    }
}

struct Daemon {
    addr: std::net::SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), controller::Error>>,
}

impl Daemon {
    async fn start(client: &Client, opts: DaemonOptions) -> Daemon {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(controller::run_daemon_with(
            client.clone(),
            opts,
            listener,
            Arc::new(controller::render_whisk),
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            },
        ));
        Daemon { addr, stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        match tokio::time::timeout(Duration::from_secs(30), self.task).await {
            Ok(Ok(Ok(()))) => {}
            other => panic!("daemon did not stop cleanly: {other:?}"),
        }
    }
}

fn options(namespace: &str) -> DaemonOptions {
    DaemonOptions {
        namespace: Some(namespace.to_string()),
        lease_namespace: Some(namespace.to_string()),
        ..DaemonOptions::default()
    }
}

#[tokio::test]
async fn the_daemon_serves_health_and_metrics_and_stops_cleanly() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "rt-daemon").await;
    let daemon = Daemon::start(&client, options(&ns.name)).await;
    assert_eq!(get(daemon.addr, "/livez").await.0, 200);
    wait_status(
        daemon.addr,
        "/readyz",
        200,
        "ready after the CRD and the first list",
    )
    .await;
    let (code, metrics) = get(daemon.addr, "/metrics").await;
    assert_eq!(code, 200);
    assert!(
        metrics.contains("nuvolaris_operator_api_writes_total"),
        "{metrics}"
    );
    assert!(metrics.contains("# EOF"), "{metrics}");
    daemon.stop().await;
    ns.cleanup().await;
}

#[tokio::test]
async fn only_the_lease_holder_runs_and_a_released_lease_is_taken_over() {
    let client = support::cluster().await;
    support::install_crds(&client).await;
    let ns = TestNamespace::create(&client, "rt-leader").await;
    let with_leader = |identity: &str| DaemonOptions {
        leader_election: true,
        identity: Some(identity.to_string()),
        lease_ttl_seconds: 3,
        ..options(&ns.name)
    };
    let first = Daemon::start(&client, with_leader("first")).await;
    wait_status(first.addr, "/readyz", 200, "first replica leads").await;
    let second = Daemon::start(&client, with_leader("second")).await;
    assert_eq!(
        get(second.addr, "/livez").await.0,
        200,
        "a standby is alive"
    );
    // The standby keeps trying every second; it must not get the lease while the first renews.
    let lease =
        Api::<k8s_openapi::api::coordination::v1::Lease>::namespaced(client.clone(), &ns.name);
    let holder = lease_holder(&lease).await;
    assert_eq!(holder.as_deref(), Some("first"));
    assert_eq!(
        get(second.addr, "/readyz").await.0,
        503,
        "a standby does not reconcile"
    );

    // Stopping the leader releases the lease; the standby takes over without waiting for expiry.
    first.stop().await;
    wait_status(second.addr, "/readyz", 200, "second replica takes over").await;
    let holder = lease_holder(&lease).await;
    assert_eq!(holder.as_deref(), Some("second"));
    second.stop().await;
    ns.cleanup().await;
}

#[tokio::test]
async fn two_candidates_never_both_hold_the_lease() {
    let client = support::cluster().await;
    let ns = TestNamespace::create(&client, "rt-lease").await;
    let ttl = Duration::from_secs(15);
    let a = LeaseLock::new(client.clone(), &ns.name, "race", "a", ttl);
    let b = LeaseLock::new(client.clone(), &ns.name, "race", "b", ttl);
    for round in 0..5 {
        let (got_a, got_b) = tokio::join!(a.try_acquire_or_renew(), b.try_acquire_or_renew());
        let (got_a, got_b) = (got_a.expect("a"), got_b.expect("b"));
        assert!(got_a ^ got_b, "round {round}: a={got_a} b={got_b}");
        // Whoever won releases, so the next round races for a free lease again.
        if got_a {
            a.release().await;
        } else {
            b.release().await;
        }
    }
    ns.cleanup().await;
}
