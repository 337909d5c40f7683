//! One account, once (DESIGN invariant 1).
//!
//! Log in, list, work out what is new against `account_uidls`, stream each new message
//! to a writer task that stores it — raw bytes and UIDL in one transaction, committed in
//! small groups — then delete on the server only what has committed, and QUIT. A crash
//! anywhere leaves each message either "not yet fetched" (nothing committed, nothing
//! deleted) or "fetched" (committed; a later run deletes it if the policy says so).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::FetchError;
use super::connector::Connector;
use super::metrics::Metrics;
use crate::crypto::{Keys, Secret};
use crate::mail;
use crate::pop3::{
    self, Credentials, RetrOutcome, Session, SessionOptions, Transaction, Trust, tls,
};
use crate::store::StoreError;
use crate::store::accounts::{self, Account, AccountSettings, ImportMode, LeavePolicy, Security};
use crate::store::fetch::{self as fetch_store, Disposition, KnownUidl};
use crate::store::messages::{self, NewMessage};

/// Bytes of fetched-but-not-yet-stored mail the whole process may hold in memory, all runs
/// together (`TRIBUTARY_FETCH_MEMORY_MB`). A message larger than this still passes, alone.
pub const DEFAULT_WRITE_BUDGET: usize = 256 * 1024 * 1024;
/// How long a run may go on after its POP3 deadlines (connect, handshake, session) to store
/// what it fetched; past that it is stopped, whatever it waits for.
pub const DEFAULT_RUN_GRACE: Duration = Duration::from_secs(5 * 60);
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

/// Where "now" comes from, so "delete after N days" can be tested without waiting.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> OffsetDateTime;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Everything a run needs, shared by every worker of a process.
#[derive(Debug, Clone)]
pub struct Fetcher {
    pub pool: PgPool,
    pub keys: Arc<Keys>,
    pub connector: Connector,
    pub max_message_bytes: u64,
    pub timeouts: pop3::Timeouts,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    /// Database connections one run stores through at once.
    pub writers: usize,
    /// See [`DEFAULT_RUN_GRACE`] and [`Fetcher::run_limit`].
    pub run_grace: Duration,
    write_budget: WriteBudget,
    /// Built once: parsing the web PKI roots for every run would cost more than the run.
    webpki: Arc<rustls::ClientConfig>,
}

impl Fetcher {
    pub fn new(
        pool: PgPool,
        keys: Arc<Keys>,
        connector: Connector,
        max_message_bytes: u64,
    ) -> Result<Self, FetchError> {
        Ok(Self {
            pool,
            keys,
            connector,
            max_message_bytes,
            timeouts: pop3::Timeouts::default(),
            clock: Arc::new(SystemClock),
            metrics: Arc::new(Metrics::default()),
            writers: DEFAULT_WRITERS,
            run_grace: DEFAULT_RUN_GRACE,
            write_budget: WriteBudget::new(DEFAULT_WRITE_BUDGET),
            webpki: tls::client_config(&Trust::WebPki)?,
        })
    }

    /// Sets the memory budget shared by every run of this fetcher (and its clones).
    pub fn set_write_budget(&mut self, bytes: usize) {
        self.write_budget = WriteBudget::new(bytes);
    }

    /// Bytes of the write budget not held by a message on its way to the store.
    pub fn write_budget_available(&self) -> usize {
        self.write_budget.permits.available_permits()
    }

    /// The longest a run may take: its POP3 deadlines plus the grace to store what it
    /// fetched. A run stalled anywhere else (a database that stops answering, say) ends
    /// here instead of renewing its lease for ever.
    pub fn run_limit(&self) -> Duration {
        self.timeouts.connect + self.timeouts.tls_handshake + self.timeouts.session + self.run_grace
    }

    fn session_options(&self, account: &Account) -> Result<SessionOptions, FetchError> {
        self.options_for(
            account.security,
            account.tls_ca_pem.as_deref(),
            account.tls_pin_sha256.as_deref(),
            account.max_message_bytes,
        )
    }

    fn options_for(
        &self,
        security: Security,
        tls_ca_pem: Option<&str>,
        tls_pin_sha256: Option<&str>,
        max_message_bytes: Option<i64>,
    ) -> Result<SessionOptions, FetchError> {
        let tls = match (tls_ca_pem, tls_pin_sha256) {
            (Some(pem), _) => tls::client_config(&Trust::CustomCa(pem.to_owned()))?,
            (None, Some(pin)) => tls::client_config(&Trust::PinnedSha256(
                tls::parse_pin(pin).map_err(FetchError::Settings)?,
            ))?,
            (None, None) => Arc::clone(&self.webpki),
        };
        let max_message_bytes = max_message_bytes
            .and_then(|limit| u64::try_from(limit).ok())
            .unwrap_or(self.max_message_bytes);
        Ok(SessionOptions {
            security,
            tls,
            timeouts: self.timeouts,
            limits: pop3::Limits {
                max_message_bytes,
                ..pop3::Limits::default()
            },
            pipelining: true,
        })
    }

    /// "Test connection": connects through the checked connector, logs in and reads the
    /// mailbox's size, changing nothing on the server. For settings saved or not.
    pub async fn test_connection(
        &self,
        account: &AccountSettings,
        password: &Secret,
    ) -> Result<ConnectionReport, FetchError> {
        let options = self.options_for(
            account.security,
            account.tls_ca_pem.as_deref(),
            account.tls_pin_sha256.as_deref(),
            account.max_message_bytes,
        )?;
        let tcp = self.connector.connect(&account.host, account.port).await?;
        let session = Session::start(tcp, &account.host, &options).await?;
        let tls_version = session.tls_info().map(|info| info.version.clone());
        let credentials = Credentials {
            username: account.username.clone(),
            password: password.clone(),
        };
        let mut session = session.login(&credentials, account.auth_method).await?;
        drop(credentials);
        let capabilities = session.capabilities().clone();
        let (messages, bytes) = session.stat().await?;
        let _ = session.quit().await;
        let mut names = Vec::new();
        for (present, name) in [
            (capabilities.uidl, "UIDL"),
            (capabilities.top, "TOP"),
            (capabilities.pipelining, "PIPELINING"),
            (capabilities.resp_codes, "RESP-CODES"),
            (capabilities.stls, "STLS"),
        ] {
            if present {
                names.push(name.to_owned());
            }
        }
        for mechanism in &capabilities.sasl {
            names.push(format!("SASL {mechanism}"));
        }
        Ok(ConnectionReport {
            tls_version,
            capabilities: names,
            messages,
            bytes,
        })
    }
}

/// What "Test connection" found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionReport {
    /// `None` for a plaintext connection.
    pub tls_version: Option<String>,
    pub capabilities: Vec<String>,
    pub messages: u32,
    pub bytes: u64,
}

/// What one run did. `error` set means the run stopped early; the counts still hold.
#[derive(Debug, Default)]
pub struct RunReport {
    /// New message rows committed.
    pub messages: u64,
    pub bytes: u64,
    /// Recorded as too large in this run.
    pub skipped: u64,
    /// Messages the server refused to send (`-ERR` to RETR); retried next time.
    pub refused: u64,
    /// Messages deleted on the server (QUIT succeeded).
    pub deleted: u64,
    /// Deletions were requested but QUIT failed, so they wait for the next run.
    pub quit_failed: bool,
    /// Stopped early because the process is shutting down.
    pub cancelled: bool,
    pub error: Option<FetchError>,
}

/// One listed message: number in this session, our key for it, LIST's size hint.
#[derive(Debug, Clone)]
struct Listed {
    number: u32,
    key: String,
    size_hint: u64,
}

/// Fetches one account once. The caller holds its lease.
pub async fn run_once(
    fetcher: &Fetcher,
    account: &Account,
    stop: &watch::Receiver<bool>,
) -> RunReport {
    let mut report = RunReport::default();
    if let Err(error) = run(fetcher, account, stop, &mut report).await {
        report.error = Some(error);
    }
    report
}

async fn run(
    fetcher: &Fetcher,
    account: &Account,
    stop: &watch::Receiver<bool>,
    report: &mut RunReport,
) -> Result<(), FetchError> {
    let options = fetcher.session_options(account)?;
    let password = {
        let ring = fetcher
            .keys
            .current()
            .map_err(|_| FetchError::PasswordUnreadable)?;
        let mut conn = fetcher.pool.acquire().await.map_err(StoreError::from)?;
        match accounts::password(&mut conn, &ring, account.user_id, account.id).await {
            Ok(password) => password,
            Err(StoreError::Crypto(_)) => return Err(FetchError::PasswordUnreadable),
            Err(e) => return Err(e.into()),
        }
    };
    let credentials = Credentials {
        username: account.username.clone(),
        password,
    };
    let port = u16::try_from(account.port)
        .map_err(|_| FetchError::Settings(format!("invalid port {}", account.port)))?;
    let tcp = fetcher.connector.connect(&account.host, port).await?;
    let session = Session::start(tcp, &account.host, &options).await?;
    let mut session = session.login(&credentials, account.auth_method).await?;
    drop(credentials);

    let listed = list_messages(&mut session).await?;
    let now = fetcher.clock.now();

    if account.import_mode == ImportMode::New && account.baseline_at.is_none() {
        let entries: Vec<(String, Option<i64>)> = listed
            .iter()
            .map(|m| (m.key.clone(), i64::try_from(m.size_hint).ok()))
            .collect();
        fetch_store::record_baseline(&fetcher.pool, account.id, &entries, now).await?;
        let _ = session.quit().await;
        return Ok(());
    }

    let keys: Vec<String> = listed.iter().map(|m| m.key.clone()).collect();
    let known = {
        let mut conn = fetcher.pool.acquire().await.map_err(StoreError::from)?;
        fetch_store::known_uidls(&mut conn, account.id, &keys).await?
    };
    let limit = options.limits.max_message_bytes;
    let (too_large, wanted): (Vec<&Listed>, Vec<&Listed>) = listed
        .iter()
        .filter(|m| !known.contains_key(&m.key))
        .partition(|m| m.size_hint > limit);
    let mut skipped: Vec<(String, Option<i64>)> = too_large
        .iter()
        .map(|m| (m.key.clone(), i64::try_from(m.size_hint).ok()))
        .collect();

    let committed = retrieve_and_store(
        fetcher,
        account,
        &mut session,
        &wanted,
        now,
        stop,
        report,
        &mut skipped,
    )
    .await?;

    if !skipped.is_empty() {
        let mut conn = fetcher.pool.acquire().await.map_err(StoreError::from)?;
        fetch_store::record_uidls(&mut conn, account.id, Disposition::Skipped, &skipped, now)
            .await?;
        report.skipped = skipped.len() as u64;
        for _ in &skipped {
            fetcher.metrics.message_skipped();
        }
    }

    let to_delete = deletable(account, &listed, &known, &committed, now);
    if to_delete.is_empty() {
        // Nothing depends on QUIT succeeding now.
        let _ = session.quit().await;
        return Ok(());
    }
    let results = session.dele_many(&to_delete).await?;
    let marked = results.iter().filter(|r| r.is_ok()).count() as u64;
    match session.quit().await {
        Ok(()) => report.deleted = marked,
        Err(error) => {
            tracing::info!(account = %account.id, %error, "QUIT failed; deletions wait for the next run");
            report.quit_failed = true;
        }
    }
    Ok(())
}

/// UIDL, or — for servers without it — a digest of each message's headers (TOP n 0).
/// A UIDL the server repeats gets a suffix per repetition so no message hides another.
async fn list_messages(
    session: &mut Session<Transaction, TcpStream>,
) -> Result<Vec<Listed>, FetchError> {
    let sizes: HashMap<u32, u64> = session.list().await?.into_iter().collect();
    let ids = match session.uidl().await {
        Ok(ids) => ids,
        Err(pop3::Pop3Error::Unsupported(_)) => {
            let mut ids = Vec::with_capacity(sizes.len());
            let mut numbers: Vec<u32> = sizes.keys().copied().collect();
            numbers.sort_unstable();
            for number in numbers {
                let mut headers = Vec::new();
                match session.top(number, 0, &mut headers).await? {
                    RetrOutcome::Complete { .. } => {
                        let digest = Sha256::digest(&headers);
                        ids.push((number, format!("sha256:{}", tls::hex(&digest))));
                    }
                    // Gone or unreadable now: the next run lists it again.
                    RetrOutcome::Refused(_) | RetrOutcome::TooLarge { .. } => {}
                }
            }
            ids
        }
        Err(e) => return Err(e.into()),
    };
    let mut seen: HashMap<String, u32> = HashMap::with_capacity(ids.len());
    Ok(ids
        .into_iter()
        .map(|(number, uidl)| {
            let count = seen.entry(uidl.clone()).or_insert(0);
            *count += 1;
            // A space cannot occur in a UIDL (RFC 1939 §7), so this never meets a real one.
            let key = if *count == 1 {
                uidl
            } else {
                format!("{uidl} #{count}")
            };
            Listed {
                number,
                key,
                size_hint: sizes.get(&number).copied().unwrap_or(0),
            }
        })
        .collect())
}

/// Bytes of memory that fetched messages may hold until they are stored, shared by every
/// run of a process: so many concurrent runs of big mailboxes cannot add up to gigabytes.
#[derive(Debug, Clone)]
struct WriteBudget {
    permits: Arc<Semaphore>,
    /// The whole budget; a bigger message takes all of it.
    bytes: usize,
}

impl WriteBudget {
    fn new(bytes: usize) -> Self {
        // A message's share is counted in `u32` permits.
        let bytes = bytes.clamp(1, u32::MAX as usize);
        Self {
            permits: Arc::new(Semaphore::new(bytes)),
            bytes,
        }
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

/// What the writer committed.
#[derive(Debug, Default)]
struct Written {
    /// Every key whose row is committed (new rows and rows an earlier run committed).
    committed: Vec<String>,
    new_messages: u64,
    new_bytes: u64,
}

#[allow(clippy::too_many_arguments)]
async fn retrieve_and_store(
    fetcher: &Fetcher,
    account: &Account,
    session: &mut Session<Transaction, TcpStream>,
    wanted: &[&Listed],
    now: OffsetDateTime,
    stop: &watch::Receiver<bool>,
    report: &mut RunReport,
    skipped: &mut Vec<(String, Option<i64>)>,
) -> Result<HashSet<String>, FetchError> {
    if wanted.is_empty() {
        return Ok(HashSet::new());
    }
    // Several writers, each on its own database connection: PostgreSQL spends most of an
    // insert in one backend (TOAST, WAL, the search vector), so two backends keep two cores
    // busy. Messages are dealt round-robin; exactly-once does not depend on the order.
    let writers = fetcher
        .writers
        .clamp(1, 1 + wanted.len() / MESSAGES_PER_EXTRA_WRITER);
    let mut senders = Vec::with_capacity(writers);
    // A JoinSet, not detached tasks: if this run is dropped (its time limit), its writers
    // stop with it and their open transactions roll back.
    let mut handles = JoinSet::new();
    for _ in 0..writers {
        let (sender, receiver) = mpsc::channel::<Fetched>(GROUP_MESSAGES * 2);
        senders.push(sender);
        handles.spawn(write_messages(
            fetcher.pool.clone(),
            Arc::clone(&fetcher.metrics),
            account.user_id,
            account.id,
            now,
            receiver,
        ));
    }
    let by_number: HashMap<u32, &Listed> = wanted.iter().map(|m| (m.number, *m)).collect();
    let retrieved: Result<(), FetchError> = async {
        let mut retrieval = session.retrieve(wanted.iter().map(|m| m.number).collect());
        let mut turn = 0usize;
        loop {
            if *stop.borrow() {
                report.cancelled = true;
                break;
            }
            let mut raw = Vec::new();
            let Some((number, outcome)) = retrieval.next_into(&mut raw).await? else {
                break;
            };
            let Some(listed) = by_number.get(&number) else {
                continue;
            };
            match outcome {
                RetrOutcome::Complete { .. } => {
                    let Some(permit) = fetcher.write_budget.hold(raw.len()).await else {
                        break;
                    };
                    let fetched = Fetched {
                        key: listed.key.clone(),
                        raw,
                        _budget: permit,
                    };
                    turn = (turn + 1) % senders.len();
                    if senders[turn].send(fetched).await.is_err() {
                        // The writer failed; its error is collected below.
                        break;
                    }
                }
                RetrOutcome::TooLarge { limit } => {
                    let size = listed.size_hint.max(limit.saturating_add(1));
                    skipped.push((listed.key.clone(), i64::try_from(size).ok()));
                }
                RetrOutcome::Refused(text) => {
                    tracing::info!(account = %account.id, server = %text.as_str(), "the server refused to send a message; retrying next run");
                    report.refused += 1;
                }
            }
        }
        Ok(())
    }
    .await;
    drop(senders);
    // Whatever happened to the connection, what reached the writers is committed.
    let mut written: Result<Written, StoreError> = Ok(Written::default());
    while let Some(joined) = handles.join_next().await {
        let result = match joined {
            Ok(result) => result,
            Err(join) => Err(StoreError::Database(sqlx::Error::Protocol(format!(
                "a writer task stopped: {join}"
            )))),
        };
        match (&mut written, result) {
            (Ok(total), Ok(part)) => {
                total.committed.extend(part.committed);
                total.new_messages += part.new_messages;
                total.new_bytes += part.new_bytes;
            }
            (Ok(_), Err(e)) => written = Err(e),
            (Err(_), _) => {}
        }
    }
    let written = match (retrieved, written) {
        (_, Err(store)) => return Err(store.into()),
        (Err(pop3), Ok(written)) => {
            report.messages = written.new_messages;
            report.bytes = written.new_bytes;
            return Err(pop3);
        }
        (Ok(()), Ok(written)) => written,
    };
    report.messages = written.new_messages;
    report.bytes = written.new_bytes;
    Ok(written.committed.into_iter().collect())
}

async fn write_messages(
    pool: PgPool,
    metrics: Arc<Metrics>,
    user_id: Uuid,
    account_id: Uuid,
    recorded_at: OffsetDateTime,
    mut receiver: mpsc::Receiver<Fetched>,
) -> Result<Written, StoreError> {
    let mut written = Written::default();
    let mut group: Vec<(String, u64, bool)> = Vec::new();
    let mut group_bytes = 0usize;
    let mut group_started = Instant::now();
    let mut tx: Option<sqlx::Transaction<'static, sqlx::Postgres>> = None;
    loop {
        // With a group open, the next message is awaited only until the group's time is
        // up: a fast server fills the group, a slow one still gets its mail committed.
        let next = if tx.is_some() {
            let left = GROUP_TIME.saturating_sub(group_started.elapsed());
            match tokio::time::timeout(left, receiver.recv()).await {
                Ok(next) => next,
                Err(_) => {
                    if let Some(open) = tx.take() {
                        open.commit().await?;
                        settle_group(&mut written, &mut group, &metrics);
                        group_bytes = 0;
                    }
                    continue;
                }
            }
        } else {
            receiver.recv().await
        };
        let Some(Fetched { key, raw, _budget }) = next else {
            break;
        };
        let (raw, fields) = if raw.len() > PARSE_INLINE_BYTES {
            tokio::task::spawn_blocking(move || {
                let fields = mail::fields::parse(&raw);
                (raw, fields)
            })
            .await
            .map_err(|e| StoreError::Database(sqlx::Error::Protocol(e.to_string())))?
        } else {
            let fields = mail::fields::parse(&raw);
            (raw, fields)
        };
        let message = NewMessage {
            uidl: key,
            raw,
            fields,
        };
        if tx.is_none() {
            tx = Some(pool.begin().await?);
            group_started = Instant::now();
        }
        let Some(open) = tx.as_mut() else { continue };
        let inserted =
            messages::insert_fetched(open, user_id, account_id, recorded_at, &message).await?;
        group_bytes += message.raw.len();
        group.push((message.uidl, message.raw.len() as u64, inserted));
        let full = group.len() >= GROUP_MESSAGES
            || group_bytes >= GROUP_BYTES
            || group_started.elapsed() >= GROUP_TIME;
        if full && let Some(open) = tx.take() {
            open.commit().await?;
            settle_group(&mut written, &mut group, &metrics);
            group_bytes = 0;
        }
    }
    if let Some(open) = tx.take() {
        open.commit().await?;
        settle_group(&mut written, &mut group, &metrics);
    }
    Ok(written)
}

fn settle_group(written: &mut Written, group: &mut Vec<(String, u64, bool)>, metrics: &Metrics) {
    for (key, bytes, inserted) in group.drain(..) {
        if inserted {
            written.new_messages += 1;
            written.new_bytes += bytes;
            metrics.message_stored(bytes);
        }
        written.committed.push(key);
    }
}

/// Message numbers to delete on the server now: only messages whose rows are committed
/// (invariant 1), and only as the account's policy says.
fn deletable(
    account: &Account,
    listed: &[Listed],
    known: &HashMap<String, KnownUidl>,
    committed: &HashSet<String>,
    now: OffsetDateTime,
) -> Vec<u32> {
    let stored_before = |key: &str| {
        known
            .get(key)
            .filter(|k| k.disposition == Disposition::Stored)
    };
    match account.leave_on_server {
        LeavePolicy::Keep => Vec::new(),
        LeavePolicy::Delete => listed
            .iter()
            .filter(|m| committed.contains(&m.key) || stored_before(&m.key).is_some())
            .map(|m| m.number)
            .collect(),
        LeavePolicy::DeleteAfterDays => {
            let Some(days) = account.delete_after_days else {
                return Vec::new();
            };
            let cutoff = now - time::Duration::days(i64::from(days));
            listed
                .iter()
                .filter(|m| stored_before(&m.key).is_some_and(|k| k.recorded_at <= cutoff))
                .map(|m| m.number)
                .collect()
        }
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
