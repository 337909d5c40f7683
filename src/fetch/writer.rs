//! The group-commit pipeline that stores a run's messages: a few writer tasks, each on
//! its own database connection, commit what the POP3 reader hands them — raw bytes and
//! UIDL in one transaction, in small groups — and say which keys have committed. Only
//! those may be deleted on the server (DESIGN invariant 1).

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::FetchError;
use super::fetcher::Fetcher;
use super::metrics::Metrics;
use crate::mail;
use crate::store::accounts::Account;
use crate::store::messages::{self, NewMessage};

/// A group commit closes after this many messages, bytes or milliseconds, or when the
/// run's messages end.
const GROUP_MESSAGES: usize = 32;
const GROUP_BYTES: usize = 8 * 1024 * 1024;
const GROUP_TIME: Duration = Duration::from_millis(50);
/// Writers (database connections) per run; see `retrieve_and_store`.
pub const DEFAULT_WRITERS: usize = 3;
/// Below this many new messages one writer is enough (most polls bring a few), which keeps
/// the connection pool free for the other accounts.
const MESSAGES_PER_EXTRA_WRITER: usize = 64;
/// Messages bigger than this are parsed on the blocking pool, off the async workers.
const PARSE_INLINE_BYTES: usize = 256 * 1024;

/// Bytes of memory that fetched messages may hold until they are stored, shared by every
/// run of a process: so many concurrent runs of big mailboxes cannot add up to gigabytes.
#[derive(Debug, Clone)]
pub(super) struct WriteBudget {
    permits: Arc<Semaphore>,
    /// The whole budget; a bigger message takes all of it.
    bytes: usize,
}

impl WriteBudget {
    pub(super) fn new(bytes: usize) -> Self {
        // A message's share is counted in `u32` permits.
        let bytes = bytes.clamp(1, u32::MAX as usize);
        Self {
            permits: Arc::new(Semaphore::new(bytes)),
            bytes,
        }
    }

    /// Bytes not held by a message on its way to the store.
    pub(super) fn available(&self) -> usize {
        self.permits.available_permits()
    }

    /// Waits until `len` bytes (at most the whole budget) are free, and holds them.
    async fn hold(&self, len: usize) -> Option<OwnedSemaphorePermit> {
        let share = u32::try_from(len.clamp(1, self.bytes)).unwrap_or(u32::MAX);
        Arc::clone(&self.permits)
            .acquire_many_owned(share)
            .await
            .ok()
    }
}

/// A fetched message on its way to the writer, holding its share of the memory budget.
struct Fetched {
    key: String,
    raw: Vec<u8>,
    _budget: OwnedSemaphorePermit,
}

/// What the writers committed.
#[derive(Debug, Default)]
pub(super) struct Written {
    /// Every key whose row is committed (new rows and rows an earlier run committed).
    pub committed: Vec<String>,
    pub new_messages: u64,
    pub new_bytes: u64,
}

/// A run's writers, fed one message at a time.
pub(super) struct Writers {
    senders: Vec<mpsc::Sender<Fetched>>,
    /// A JoinSet, not detached tasks: if the run is dropped (its time limit), its writers
    /// stop with it and their open transactions roll back.
    tasks: JoinSet<Result<Written, FetchError>>,
    turn: usize,
    budget: WriteBudget,
}

impl Writers {
    /// Writers for about `messages` new messages of `account`, recorded as fetched at
    /// `recorded_at`.
    pub(super) fn start(
        fetcher: &Fetcher,
        account: &Account,
        recorded_at: OffsetDateTime,
        messages: usize,
    ) -> Self {
        // Several writers, each on its own database connection: PostgreSQL spends most of
        // an insert in one backend (TOAST, WAL, the search vector), so two backends keep
        // two cores busy. Messages are dealt round-robin; exactly-once does not depend on
        // the order.
        let count = fetcher
            .writers
            .clamp(1, 1 + messages / MESSAGES_PER_EXTRA_WRITER);
        let mut senders = Vec::with_capacity(count);
        let mut tasks = JoinSet::new();
        for _ in 0..count {
            let (sender, receiver) = mpsc::channel::<Fetched>(GROUP_MESSAGES * 2);
            senders.push(sender);
            tasks.spawn(write_messages(
                fetcher.pool.clone(),
                Arc::clone(&fetcher.metrics),
                account.user_id,
                account.id,
                recorded_at,
                receiver,
            ));
        }
        Self {
            senders,
            tasks,
            turn: 0,
            budget: fetcher.write_budget.clone(),
        }
    }

    /// Hands a downloaded message to the next writer, once the memory budget has room
    /// for it. `false` when the writers have stopped; [`Self::finish`] says why.
    pub(super) async fn store(&mut self, key: String, raw: Vec<u8>) -> bool {
        let Some(permit) = self.budget.hold(raw.len()).await else {
            return false;
        };
        self.turn = (self.turn + 1) % self.senders.len();
        let fetched = Fetched {
            key,
            raw,
            _budget: permit,
        };
        self.senders[self.turn].send(fetched).await.is_ok()
    }

    /// Lets the writers commit what they hold and returns what they committed, or the
    /// first writer's error.
    pub(super) async fn finish(self) -> Result<Written, FetchError> {
        let Self {
            senders, mut tasks, ..
        } = self;
        drop(senders);
        let mut total = Written::default();
        let mut failed = None;
        while let Some(joined) = tasks.join_next().await {
            match joined.map_err(FetchError::from).and_then(|written| written) {
                Ok(part) => {
                    total.committed.extend(part.committed);
                    total.new_messages += part.new_messages;
                    total.new_bytes += part.new_bytes;
                }
                Err(error) => {
                    failed.get_or_insert(error);
                }
            }
        }
        failed.map_or(Ok(total), Err)
    }
}

async fn write_messages(
    pool: PgPool,
    metrics: Arc<Metrics>,
    user_id: Uuid,
    account_id: Uuid,
    recorded_at: OffsetDateTime,
    mut receiver: mpsc::Receiver<Fetched>,
) -> Result<Written, FetchError> {
    let mut group = Group {
        pool,
        metrics,
        user_id,
        account_id,
        recorded_at,
        messages: Vec::new(),
        budget: Vec::new(),
        bytes: 0,
        started: Instant::now(),
        written: Written::default(),
    };
    loop {
        // With a group waiting, the next message is awaited only until the group's time
        // is up: a fast server fills the group, a slow one still gets its mail committed.
        // No transaction is open meanwhile: the group is written by one statement.
        let next = if group.messages.is_empty() {
            receiver.recv().await
        } else {
            let left = GROUP_TIME.saturating_sub(group.started.elapsed());
            match tokio::time::timeout(left, receiver.recv()).await {
                Ok(next) => next,
                Err(_) => {
                    group.write().await?;
                    continue;
                }
            }
        };
        let Some(Fetched { key, raw, _budget }) = next else {
            break;
        };
        let (raw, fields) = if raw.len() > PARSE_INLINE_BYTES {
            tokio::task::spawn_blocking(move || {
                let fields = mail::fields::parse(&raw);
                (raw, fields)
            })
            .await?
        } else {
            let fields = mail::fields::parse(&raw);
            (raw, fields)
        };
        if group.messages.is_empty() {
            group.started = Instant::now();
        }
        group.bytes += raw.len();
        group.messages.push(NewMessage {
            uidl: key,
            raw,
            fields,
        });
        // The bytes stay counted in the budget until they are written.
        group.budget.push(_budget);
        if group.messages.len() >= GROUP_MESSAGES
            || group.bytes >= GROUP_BYTES
            || group.started.elapsed() >= GROUP_TIME
        {
            group.write().await?;
        }
    }
    group.write().await?;
    Ok(group.written)
}

/// One writer's messages, parsed and waiting to be written together, and what it has
/// committed so far.
struct Group {
    pool: PgPool,
    metrics: Arc<Metrics>,
    user_id: Uuid,
    account_id: Uuid,
    recorded_at: OffsetDateTime,
    messages: Vec<NewMessage>,
    budget: Vec<OwnedSemaphorePermit>,
    bytes: usize,
    started: Instant,
    written: Written,
}

impl Group {
    /// Writes the waiting messages (if any) in one statement, then counts what they
    /// added and frees their share of the budget.
    async fn write(&mut self) -> Result<(), FetchError> {
        if self.messages.is_empty() {
            return Ok(());
        }
        let mut conn = crate::store::acquire(&self.pool).await?;
        let inserted = messages::insert_fetched_group(
            &mut conn,
            self.user_id,
            self.account_id,
            self.recorded_at,
            &self.messages,
        )
        .await?;
        drop(conn);
        for (message, inserted) in self.messages.drain(..).zip(inserted) {
            let bytes = message.raw.len() as u64;
            if inserted {
                self.written.new_messages += 1;
                self.written.new_bytes += bytes;
                self.metrics.message_stored(bytes);
            }
            self.written.committed.push(message.uidl);
        }
        self.budget.clear();
        self.bytes = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_write_budget_is_shared_by_clones_and_an_oversized_message_takes_it_all() {
        let budget = WriteBudget::new(100);
        let other_run = budget.clone();
        let small = budget.hold(30).await.expect("30 of 100");
        assert_eq!(other_run.permits.available_permits(), 70);
        // Bigger than the whole budget: waits for all of it, then passes alone.
        let big = other_run.hold(10_000);
        tokio::pin!(big);
        assert!(
            tokio::time::timeout(Duration::from_millis(50), &mut big)
                .await
                .is_err(),
            "an oversized message waits while another holds a share"
        );
        drop(small);
        let big = big.await.expect("the whole budget");
        assert_eq!(budget.permits.available_permits(), 0);
        drop(big);
        assert_eq!(budget.permits.available_permits(), 100);
        // An empty message still counts, so a run of them cannot bypass the budget.
        let empty = budget.hold(0).await.expect("one");
        assert_eq!(budget.permits.available_permits(), 99);
        drop(empty);
        assert_eq!(WriteBudget::new(0).bytes, 1);
    }
}
