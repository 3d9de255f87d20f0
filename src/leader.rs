//! Optional leader election on a `coordination.k8s.io/v1` Lease, so that only one replica
//! reconciles. Every write carries the `metadata.resourceVersion` that was read (an update, not
//! a patch), so two candidates racing for the same Lease cannot both win: the loser gets a 409
//! Conflict and counts as not leader. (kaniop renews with a merge patch without this guard.)

use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::PostParams;
use kube::{Api, Client};

#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    #[error("lease {name}: {source}")]
    Kube {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("lost the lease {0}: another replica took over; exiting so that only one reconciles")]
    Lost(String),
}

/// What to do with a Lease as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// We hold it: renew.
    Renew,
    /// Free or expired: take it.
    TakeOver,
    /// Someone else holds a live lease.
    Wait { holder: String },
}

/// Pure decision on a Lease spec at time `now` (seconds since the epoch).
pub fn decide(spec: Option<&LeaseSpec>, identity: &str, now: i64) -> Decision {
    let Some(spec) = spec else {
        return Decision::TakeOver;
    };
    match spec.holder_identity.as_deref() {
        None | Some("") => Decision::TakeOver,
        Some(holder) if holder == identity => Decision::Renew,
        Some(holder) => {
            let renewed = spec
                .renew_time
                .as_ref()
                .or(spec.acquire_time.as_ref())
                .map(|t| t.0.as_second());
            let duration = i64::from(spec.lease_duration_seconds.unwrap_or(15));
            match renewed {
                Some(renewed) if renewed + duration > now => Decision::Wait {
                    holder: holder.to_string(),
                },
                _ => Decision::TakeOver,
            }
        }
    }
}

pub struct LeaseLock {
    api: Api<Lease>,
    name: String,
    identity: String,
    ttl: Duration,
}

fn is_conflict(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 409)
}

impl LeaseLock {
    pub fn new(client: Client, namespace: &str, name: &str, identity: &str, ttl: Duration) -> Self {
        LeaseLock {
            api: Api::namespaced(client, namespace),
            name: name.to_string(),
            identity: identity.to_string(),
            ttl,
        }
    }

    fn err(&self) -> impl FnOnce(kube::Error) -> LeaderError + '_ {
        move |source| LeaderError::Kube {
            name: self.name.clone(),
            source,
        }
    }

    /// Acquires or renews the lease; `Ok(false)` when another replica holds it or won a race.
    pub async fn try_acquire_or_renew(&self) -> Result<bool, LeaderError> {
        let now = Timestamp::now();
        let ttl = i32::try_from(self.ttl.as_secs()).unwrap_or(i32::MAX);
        let current = self.api.get_opt(&self.name).await.map_err(self.err())?;
        let Some(mut lease) = current else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.identity.clone()),
                    lease_duration_seconds: Some(ttl),
                    acquire_time: Some(MicroTime(now)),
                    renew_time: Some(MicroTime(now)),
                    lease_transitions: Some(0),
                    ..LeaseSpec::default()
                }),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(err) if is_conflict(&err) => Ok(false),
                Err(err) => Err(self.err()(err)),
            };
        };
        let mut spec = lease.spec.clone().unwrap_or_default();
        match decide(lease.spec.as_ref(), &self.identity, now.as_second()) {
            Decision::Wait { holder } => {
                tracing::debug!(%holder, "lease held by another replica");
                return Ok(false);
            }
            Decision::Renew => {
                spec.renew_time = Some(MicroTime(now));
                spec.lease_duration_seconds = Some(ttl);
            }
            Decision::TakeOver => {
                spec.holder_identity = Some(self.identity.clone());
                spec.acquire_time = Some(MicroTime(now));
                spec.renew_time = Some(MicroTime(now));
                spec.lease_duration_seconds = Some(ttl);
                spec.lease_transitions =
                    Some(spec.lease_transitions.unwrap_or(0).saturating_add(1));
            }
        }
        lease.spec = Some(spec);
        // `replace` sends metadata.resourceVersion as read: a concurrent writer makes it 409.
        match self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(true),
            Err(err) if is_conflict(&err) => Ok(false),
            Err(err) => Err(self.err()(err)),
        }
    }

    /// Gives the lease up (if still ours) so a successor need not wait for it to expire.
    pub async fn release(&self) {
        let Ok(Some(mut lease)) = self.api.get_opt(&self.name).await else {
            return;
        };
        let Some(spec) = lease.spec.as_mut() else {
            return;
        };
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return;
        }
        spec.holder_identity = None;
        spec.renew_time = None;
        spec.acquire_time = None;
        if let Err(err) = self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            tracing::warn!(error = %err, "could not release the lease");
        } else {
            tracing::info!(lease = %self.name, "lease released");
        }
    }

    /// Waits to become leader, then runs `work` while renewing every ttl/3. Returns `work`'s
    /// result, or [`LeaderError::Lost`] when renewal fails for longer than the ttl (the work is
    /// dropped, i.e. cancelled). `shutdown` stops the wait. Releases the lease at the end.
    pub async fn run_as_leader<W, T>(
        &self,
        work: impl FnOnce() -> W,
        shutdown: impl Future<Output = ()>,
    ) -> Result<Option<T>, LeaderError>
    where
        W: Future<Output = T>,
    {
        let retry = (self.ttl / 3).max(Duration::from_secs(1));
        tokio::pin!(shutdown);
        loop {
            match self.try_acquire_or_renew().await {
                Ok(true) => break,
                Ok(false) => {}
                Err(err) => tracing::warn!(error = %err, "leader election"),
            }
            tokio::select! {
                _ = &mut shutdown => return Ok(None),
                _ = tokio::time::sleep(retry) => {}
            }
        }
        tracing::info!(lease = %self.name, identity = %self.identity, "became leader");
        let renew = async {
            let mut last_renewal = tokio::time::Instant::now();
            loop {
                tokio::time::sleep(retry).await;
                match self.try_acquire_or_renew().await {
                    Ok(true) => last_renewal = tokio::time::Instant::now(),
                    Ok(false) => return LeaderError::Lost(self.name.clone()),
                    Err(err) => {
                        tracing::warn!(error = %err, "lease renewal failed");
                        if last_renewal.elapsed() >= self.ttl {
                            return LeaderError::Lost(self.name.clone());
                        }
                    }
                }
            }
        };
        let outcome = tokio::select! {
            result = work() => Ok(Some(result)),
            lost = renew => Err(lost),
        };
        if outcome.is_ok() {
            self.release().await;
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(holder: Option<&str>, renewed: i64, duration: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: holder.map(str::to_string),
            renew_time: Some(MicroTime(Timestamp::from_second(renewed).unwrap())),
            lease_duration_seconds: Some(duration),
            ..LeaseSpec::default()
        }
    }

    #[test]
    fn decisions() {
        assert_eq!(decide(None, "me", 100), Decision::TakeOver);
        assert_eq!(
            decide(Some(&spec(None, 90, 15)), "me", 100),
            Decision::TakeOver
        );
        assert_eq!(
            decide(Some(&spec(Some("me"), 50, 15)), "me", 100),
            Decision::Renew
        );
        assert_eq!(
            decide(Some(&spec(Some("other"), 90, 15)), "me", 100),
            Decision::Wait {
                holder: "other".into()
            }
        );
        assert_eq!(
            decide(Some(&spec(Some("other"), 80, 15)), "me", 100),
            Decision::TakeOver,
            "expired"
        );
    }
}
