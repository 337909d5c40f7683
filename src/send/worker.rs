//! The outbox worker: recovers abandoned submissions, claims due messages in batches and
//! submits them concurrently. Several processes may run it against one database; leases
//! decide who sends what.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::submitter::{Submitter, lease_for};
use crate::store::{self, StoreError, outbox};

/// How often the worker looks for due messages when nothing wakes it.
pub const POLL_INTERVAL: Duration = Duration::from_secs(5);
/// Messages claimed (and submitted at once) per round.
pub const BATCH: i64 = 8;

/// One round: returns how many messages were attempted.
pub async fn tick(submitter: &Submitter) -> Result<usize, StoreError> {
    let mut conn = store::acquire(&submitter.pool).await?;
    let recovered = outbox::recover_abandoned(&mut conn).await?;
    if recovered > 0 {
        tracing::warn!(
            recovered,
            "outgoing messages may have been sent before a stop; marked uncertain"
        );
    }
    let claimed = outbox::claim_due(
        &mut conn,
        &submitter.owner,
        lease_for(&submitter.timeouts),
        BATCH,
    )
    .await?;
    drop(conn);
    let attempts = claimed.len();
    let mut tasks = tokio::task::JoinSet::new();
    for message in claimed {
        let submitter = submitter.clone();
        tasks.spawn(async move {
            if let Err(e) = submitter.submit(&message).await {
                tracing::warn!(outbox_id = %message.id, error = %e, "could not record a submission");
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    Ok(attempts)
}

/// Runs rounds until `shutdown` turns true; `wake` starts a round at once (a message was
/// just queued by this process).
pub async fn run(submitter: Submitter, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
    loop {
        match tick(&submitter).await {
            Ok(attempts) if attempts as i64 == BATCH => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "the outbox worker could not run a round"),
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
            _ = wake.notified() => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
    }
}
