//! Per-object exponential backoff for failed reconciles. kube-runtime has no rate limiter:
//! `error_policy` decides the delay, so we keep the attempt count per object here (runtime
//! state only, never configuration).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

pub const BASE_DELAY: Duration = Duration::from_secs(1);
pub const MAX_DELAY: Duration = Duration::from_secs(300);

#[derive(Debug)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempts: Mutex<HashMap<String, u32>>,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(BASE_DELAY, MAX_DELAY)
    }
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration) -> Self {
        Backoff {
            base,
            cap,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// Records a failure of `key` and returns how long to wait: base, 2×base, 4×base … up to
    /// the cap.
    pub fn next_delay(&self, key: &str) -> Duration {
        let attempt = match self.attempts.lock() {
            Ok(mut attempts) => {
                let count = attempts.entry(key.to_string()).or_insert(0);
                *count = count.saturating_add(1);
                *count
            }
            // A poisoned lock only means another reconcile panicked: fall back to the cap.
            Err(_) => return self.cap,
        };
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(31));
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// Forgets the failures of `key` after a successful reconcile.
    pub fn reset(&self, key: &str) {
        if let Ok(mut attempts) = self.attempts.lock() {
            attempts.remove(key);
        }
    }

    pub fn attempts(&self, key: &str) -> u32 {
        self.attempts
            .lock()
            .ok()
            .and_then(|a| a.get(key).copied())
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_resets() {
        let backoff = Backoff::default();
        let delays: Vec<u64> = (0..12)
            .map(|_| backoff.next_delay("ns/a").as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert_eq!(
            backoff.next_delay("ns/b"),
            Duration::from_secs(1),
            "per object"
        );
        backoff.reset("ns/a");
        assert_eq!(backoff.attempts("ns/a"), 0);
        assert_eq!(backoff.next_delay("ns/a"), Duration::from_secs(1));
    }

    #[test]
    fn many_failures_do_not_overflow() {
        let backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(300));
        for _ in 0..100 {
            backoff.next_delay("x");
        }
        assert_eq!(backoff.next_delay("x"), Duration::from_secs(300));
    }
}
