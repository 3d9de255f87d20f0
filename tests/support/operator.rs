//! The operator run in-process for an integration test, and what tests read of a Whisk's status.
//!
//! Shared by the `e2e_*` and `takeover` tests: each starts the real controller (the real render)
//! for its own namespace and waits on the Whisk's status the same way.

use std::sync::Arc;

use kube::Client;
use nuvolaris_operator::controller::{self, ControllerOptions};
use nuvolaris_operator::crd::Whisk;
use nuvolaris_operator::health::Health;
use nuvolaris_operator::metrics::Metrics;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The controller running for one namespace; it stops when told to or when this is dropped
/// (dropping the sender ends the shutdown future).
pub struct Operator {
    pub metrics: Arc<Metrics>,
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<(), controller::Error>>,
}

impl Operator {
    /// Tells the operator to stop, without waiting for it.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Stops the operator and waits until it has finished; returns how it finished.
    pub async fn stop_and_join(self) -> Result<(), controller::Error> {
        self.stop();
        self.task
            .await
            .expect("the operator task panicked or was cancelled")
    }

    /// Waits until one more reconcile has finished.
    pub async fn next_reconcile(&self) {
        let mut rx = self.metrics.subscribe_reconciles();
        let target = *rx.borrow() + 1;
        tokio::time::timeout(super::WAIT_TIMEOUT, rx.wait_for(|n| *n >= target))
            .await
            .expect("timed out waiting for a reconcile")
            .expect("metrics dropped");
    }
}

/// Runs the operator (the real render) for `namespace`.
pub fn start_operator(client: &Client, namespace: &str) -> Operator {
    start_operator_with(client.clone(), namespace)
}

/// [`start_operator`] with a client of the caller's (one that counts requests, or a
/// service account's).
pub fn start_operator_with(client: Client, namespace: &str) -> Operator {
    let metrics = Arc::new(Metrics::new());
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(controller::run(
        client,
        ControllerOptions::new(Some(namespace.to_owned())),
        Arc::new(Health::default()),
        metrics.clone(),
        async move {
            let _ = stopped.wait_for(|s| *s).await;
        },
    ));
    Operator {
        metrics,
        stop,
        task,
    }
}

/// The Whisk's status as JSON (`Null` before the operator wrote one).
pub fn status(w: &Whisk) -> Value {
    serde_json::to_value(&w.status).expect("status serializes")
}

/// The status condition of `type_`, `Null` when there is none.
pub fn condition(w: &Whisk, type_: &str) -> Value {
    status(w)["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == type_).cloned())
        .unwrap_or(Value::Null)
}

/// `whisk_create.controller` is `value` for the current generation.
pub fn controller_is(value: &'static str) -> impl Fn(Option<&Whisk>) -> bool {
    move |w: Option<&Whisk>| {
        w.is_some_and(|w| {
            let s = status(w);
            s["whisk_create"]["controller"] == value
                && s["observedGeneration"].as_i64() == w.metadata.generation
        })
    }
}

/// Ready=True for the current generation.
pub fn is_ready_for_generation(w: Option<&Whisk>) -> bool {
    let Some(w) = w else { return false };
    let s = status(w);
    let generation = w.metadata.generation.unwrap_or_default();
    s["conditions"].as_array().is_some_and(|cs| {
        cs.iter().any(|c| {
            c["type"] == "Ready"
                && c["status"] == "True"
                && c["observedGeneration"].as_i64() == Some(generation)
        })
    })
}

/// [`is_ready_for_generation`] as a condition for [`super::wait_for`].
pub fn ready_for_generation() -> impl Fn(Option<&Whisk>) -> bool {
    is_ready_for_generation
}
