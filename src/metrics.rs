//! Prometheus metrics of the operator, served as OpenMetrics text on `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `ok`, `error` or `invalid`.
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    /// Short error category (see `controller::Error::category`).
    pub error: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ComponentLabels {
    pub component: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn duration_histogram() -> Histogram {
    // 10 ms … ~40 s.
    Histogram::new(exponential_buckets(0.01, 2.0, 13))
}

pub struct Metrics {
    registry: Registry,
    pub reconciles: Family<OutcomeLabels, Counter>,
    pub errors: Family<ErrorLabels, Counter>,
    pub reconcile_duration: Histogram,
    pub component_duration: HistogramFamily<ComponentLabels>,
    /// Mutating API calls made by reconciles (applies, deletes, status writes, secrets).
    pub api_writes: Counter,
    /// Number of finished reconciles, for whoever wants to wait for the next one (tests).
    finished: tokio::sync::watch::Sender<u64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("nuvolaris_operator");
        let reconciles = Family::<OutcomeLabels, Counter>::default();
        let errors = Family::<ErrorLabels, Counter>::default();
        let reconcile_duration = duration_histogram();
        let component_duration: HistogramFamily<ComponentLabels> =
            Family::new_with_constructor(duration_histogram as fn() -> Histogram);
        let api_writes = Counter::default();
        registry.register(
            "reconciles",
            "Whisk reconciles by outcome",
            reconciles.clone(),
        );
        registry.register(
            "reconcile_errors",
            "Failed Whisk reconciles by error category",
            errors.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Duration of one Whisk reconcile",
            reconcile_duration.clone(),
        );
        registry.register(
            "component_apply_duration_seconds",
            "Duration of apply and readiness check of one component",
            component_duration.clone(),
        );
        registry.register(
            "api_writes",
            "Mutating API calls made by reconciles",
            api_writes.clone(),
        );
        Metrics {
            registry,
            reconciles,
            errors,
            reconcile_duration,
            component_duration,
            api_writes,
            finished: tokio::sync::watch::Sender::new(0),
        }
    }

    /// A receiver whose value is the number of reconciles finished so far.
    pub fn subscribe_reconciles(&self) -> tokio::sync::watch::Receiver<u64> {
        self.finished.subscribe()
    }

    pub fn reconciled(&self, outcome: &str, seconds: f64) {
        self.reconciles
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_string(),
            })
            .inc();
        self.reconcile_duration.observe(seconds);
        self.finished.send_modify(|n| *n += 1);
    }

    pub fn failed(&self, category: &str) {
        self.errors
            .get_or_create(&ErrorLabels {
                error: category.to_string(),
            })
            .inc();
    }

    pub fn component_done(&self, component: &str, seconds: f64) {
        self.component_duration
            .get_or_create(&ComponentLabels {
                component: component.to_string(),
            })
            .observe(seconds);
    }

    pub fn wrote(&self, writes: usize) {
        self.api_writes.inc_by(writes as u64);
    }

    /// OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_appear_in_the_exposition() {
        let metrics = Metrics::new();
        metrics.reconciled("ok", 0.2);
        metrics.failed("kube");
        metrics.component_done("couchdb", 1.5);
        metrics.wrote(3);
        let text = metrics.encode();
        assert!(
            text.contains("nuvolaris_operator_reconciles_total{outcome=\"ok\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("nuvolaris_operator_reconcile_errors_total{error=\"kube\"} 1"),
            "{text}"
        );
        assert!(
            text.contains(
                "nuvolaris_operator_component_apply_duration_seconds_count{component=\"couchdb\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("nuvolaris_operator_api_writes_total 3"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }
}
