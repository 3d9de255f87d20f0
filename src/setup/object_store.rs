//! What the MinIO and SeaweedFS setups share: the default page of the static bucket and the
//! bounded wait for a service.

use std::future::Future;
use std::time::Duration;

use super::{Backoff, SetupError};

/// The object every static bucket starts with.
pub const INDEX_KEY: &str = "index.html";

/// The default `index.html` (embedded from `deploy/content/index.html`).
pub fn index_page() -> Result<&'static str, SetupError> {
    crate::assets::file("deploy/content/index.html").ok_or(SetupError::MissingEnv(
        "embedded deploy/content/index.html (a build defect)",
    ))
}

/// What one readiness probe found.
pub(crate) enum Probe {
    Ready,
    /// Not yet: why, for the final error.
    NotYet(String),
}

/// Probes until ready, with backoff, for at most `wait`. A probe's `Err` is final.
pub(crate) async fn wait_for<F, Fut>(
    service: &'static str,
    address: &str,
    wait: Duration,
    mut probe: F,
) -> Result<(), SetupError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Probe, SetupError>>,
{
    let mut backoff = Backoff::new(wait);
    loop {
        let last_error = match probe().await? {
            Probe::Ready => return Ok(()),
            Probe::NotYet(reason) => reason,
        };
        tracing::debug!(service, reason = %last_error, "not ready");
        if !backoff.wait().await {
            return Err(SetupError::NotReady {
                service,
                address: address.to_owned(),
                seconds: wait.as_secs(),
                last_error,
            });
        }
    }
}

/// S3 error codes that mean "this key is not (yet) known or not this secret".
pub(crate) fn is_key_refused(error: &SetupError) -> bool {
    matches!(
        error,
        SetupError::S3 { code, .. }
            if code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch"
    )
}

/// Transport errors (connection refused while the server starts, timeouts).
pub(crate) fn is_transport(error: &SetupError) -> bool {
    matches!(error, SetupError::Http { .. })
}
