//! Background upkeep that `serve` runs next to the scheduler, for messages stored by
//! earlier versions — a small batch at a time with pauses, so an upgrade needs no long
//! migration at start-up:
//!
//! - search vectors: those made by PostgreSQL's `to_tsvector` (`search_legacy`, searched
//!   both ways meanwhile) are redone from the raw bytes the way `mail::search` makes them;
//! - header text: subjects and names stored with U+FFFD before headers were repaired the
//!   way mail programs read them (`mail::headers`) are read again from the raw bytes;
//! - digests: `raw_sha256`, which lets the fetch engine recognise a message a server
//!   offers again under a new UIDL, is filled in.
//!
//! And, every hour for as long as `serve` runs, the run history is pruned
//! ([`prune_run_history`]).

use std::time::Duration;

use sqlx::PgPool;

use crate::mail;
use crate::store::{StoreError, fetch, messages};

/// How long the run history keeps a check that found nothing: such checks are nearly
/// every row (an account polled every 5 minutes makes 288 a day), and the history page
/// shows the latest ones.
pub const QUIET_RUNS_KEPT: Duration = Duration::from_secs(24 * 3600);
/// How long it keeps every other run — mail fetched, errors, interruptions.
pub const RUNS_KEPT: Duration = Duration::from_secs(90 * 24 * 3600);
/// How often the history is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Runs deleted per statement.
const PRUNE_BATCH: i64 = 1000;

/// Messages per transaction: a batch holds row locks only briefly.
pub const REINDEX_BATCH: i64 = 100;
/// Rest between batches, so the work never crowds out fetching and pages.
const REINDEX_PAUSE: Duration = Duration::from_millis(50);

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reindexed {
    pub messages: u64,
    pub batches: u64,
}

/// Redoes every legacy search vector; returns when none is left (rows another replica
/// holds at that moment are left to it). `pause` rests between batches.
pub async fn reindex_legacy_search(
    pool: &PgPool,
    batch: i64,
    pause: Duration,
) -> Result<Reindexed, StoreError> {
    let mut done = Reindexed::default();
    let mut after = 0_i64;
    loop {
        let mut tx = pool.begin().await?;
        let rows = messages::legacy_search_batch(&mut tx, after, batch).await?;
        let Some(&(last, _)) = rows.last() else {
            return Ok(done);
        };
        after = last;
        // Parsing is CPU work: off the async workers.
        let (ids, vectors): (Vec<i64>, Vec<String>) = tokio::task::spawn_blocking(move || {
            rows.into_iter()
                .map(|(id, raw)| {
                    let text = mail::fields::parse(&raw).search_text;
                    (id, mail::search::document_vector(&text))
                })
                .unzip()
        })
        .await
        .map_err(|e| StoreError::Database(sqlx::Error::Protocol(e.to_string())))?;
        done.messages += messages::set_search_vectors(&mut tx, &ids, &vectors).await?;
        tx.commit().await?;
        done.batches += 1;
        if done.batches % 100 == 0 {
            tracing::info!(
                messages = done.messages,
                "re-indexing older messages for search"
            );
        }
        tokio::time::sleep(pause).await;
    }
}

/// Fills in the digests of messages stored without one; returns how many.
pub async fn backfill_digests(
    pool: &PgPool,
    batch: i64,
    pause: Duration,
) -> Result<u64, StoreError> {
    let mut filled = 0;
    let mut after = 0_i64;
    loop {
        let mut tx = pool.begin().await?;
        let Some((last, rows)) = messages::backfill_digests(&mut tx, after, batch).await? else {
            return Ok(filled);
        };
        tx.commit().await?;
        after = last;
        filled += rows;
        tokio::time::sleep(pause).await;
    }
}

/// Reads again the headers of messages whose subject or sender name holds U+FFFD; returns
/// how many were read.
pub async fn reread_broken_headers(
    pool: &PgPool,
    batch: i64,
    pause: Duration,
) -> Result<u64, StoreError> {
    let mut done = 0;
    let mut after = 0_i64;
    loop {
        let mut tx = pool.begin().await?;
        let rows = messages::replacement_char_batch(&mut tx, after, batch).await?;
        let Some(&(last, _)) = rows.last() else {
            return Ok(done);
        };
        after = last;
        let reread = tokio::task::spawn_blocking(move || {
            rows.into_iter()
                .map(|(id, raw)| {
                    let fields = mail::fields::parse(&raw);
                    messages::RereadHeaders {
                        id,
                        search: mail::search::document_vector(&fields.search_text),
                        subject: fields.subject,
                        from_name: fields.from_name,
                        to_addresses: fields.to_addresses,
                        cc_addresses: fields.cc_addresses,
                    }
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| StoreError::Database(sqlx::Error::Protocol(e.to_string())))?;
        done += messages::set_reread_headers(&mut tx, &reread).await?;
        tx.commit().await?;
        tokio::time::sleep(pause).await;
    }
}

/// Deletes what the run history no longer keeps (see [`QUIET_RUNS_KEPT`] and
/// [`RUNS_KEPT`]) as of `now`, `batch` rows per statement with `pause` between them;
/// returns how many runs were deleted.
pub async fn prune_run_history(
    pool: &PgPool,
    now: time::OffsetDateTime,
    batch: i64,
    pause: Duration,
) -> Result<u64, StoreError> {
    let quiet_before = now - QUIET_RUNS_KEPT;
    let any_before = now - RUNS_KEPT;
    let mut deleted = 0;
    loop {
        let pruned = fetch::prune_runs(pool, quiet_before, any_before, batch).await?;
        deleted += pruned;
        if pruned < u64::try_from(batch).unwrap_or(0) {
            return Ok(deleted);
        }
        tokio::time::sleep(pause).await;
    }
}

/// `serve`'s background upkeep: the one-time passes, then the hourly pruning; errors are
/// logged and the work is left for the next round (or start).
pub async fn run(pool: PgPool) {
    upgrade_stored_messages(&pool).await;
    loop {
        match prune_run_history(
            &pool,
            time::OffsetDateTime::now_utc(),
            PRUNE_BATCH,
            REINDEX_PAUSE,
        )
        .await
        {
            Ok(0) => {}
            Ok(runs) => tracing::info!(runs, "pruned the fetch run history"),
            Err(error) => tracing::warn!(%error, "pruning the fetch run history stopped"),
        }
        tokio::time::sleep(PRUNE_EVERY).await;
    }
}

/// The passes for messages stored by earlier versions.
async fn upgrade_stored_messages(pool: &PgPool) {
    match reindex_legacy_search(pool, REINDEX_BATCH, REINDEX_PAUSE).await {
        Ok(Reindexed { messages: 0, .. }) => {}
        Ok(done) => tracing::info!(
            messages = done.messages,
            "older messages now use the current search index"
        ),
        Err(error) => tracing::warn!(%error, "re-indexing older messages stopped"),
    }
    match reread_broken_headers(pool, REINDEX_BATCH, REINDEX_PAUSE).await {
        Ok(0) => {}
        Ok(count) => tracing::info!(
            messages = count,
            "older messages' subjects and names read again as mail programs read them"
        ),
        Err(error) => tracing::warn!(%error, "reading older messages' headers again stopped"),
    }
    match backfill_digests(pool, REINDEX_BATCH, REINDEX_PAUSE).await {
        Ok(0) => {}
        Ok(filled) => tracing::info!(messages = filled, "older messages now have digests"),
        Err(error) => tracing::warn!(%error, "filling in message digests stopped"),
    }
}
