//! One account, once (DESIGN invariant 1).
//!
//! Log in, list, work out what is new against `account_uidls`, hand each new message to
//! the writers (`super::writer`) that store it — raw bytes and UIDL in one transaction,
//! committed in small groups — then delete on the server only what has committed, and
//! QUIT. A crash anywhere leaves each message either "not yet fetched" (nothing
//! committed, nothing deleted) or "fetched" (committed; a later run deletes it if the
//! policy says so).

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::FetchError;
use super::fetcher::Fetcher;
use super::worker::History;
use super::writer::Writers;
use crate::crypto::Sealed;
use crate::i18n::Text;
use crate::model::{ImportMode, LeavePolicy};
use crate::pop3::{self, Credentials, RetrOutcome, Session, SessionOptions, Transaction, tls};
use crate::store::accounts::{self, Account};
use crate::store::fetch::{self as fetch_store, Disposition, KnownUidl};
use crate::store::{self, StoreError};

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
    sealed_password: Option<&Sealed>,
    stop: &watch::Receiver<bool>,
    history: &History<'_>,
) -> RunReport {
    let mut report = RunReport::default();
    let run = AccountRun {
        fetcher,
        account,
        sealed_password,
        stop,
        history,
        now: fetcher.clock.now(),
    };
    if let Err(error) = run.run(&mut report).await {
        report.error = Some(error);
    }
    report
}

/// The account being fetched, and what every step of its run shares.
struct AccountRun<'a> {
    fetcher: &'a Fetcher,
    account: &'a Account,
    /// Read with the claim; `None`: read from the store when needed.
    sealed_password: Option<&'a Sealed>,
    /// Turns true when the process shuts down: stop after the message in hand.
    stop: &'a watch::Receiver<bool>,
    /// The run's history row, opened once there is mail to download.
    history: &'a History<'a>,
    /// When the run started: the time recorded with what it stores.
    now: OffsetDateTime,
}

/// Messages not downloaded in this run, with their sizes: recorded as skipped.
type Skipped = Vec<(String, Option<i64>)>;

impl AccountRun<'_> {
    /// The exactly-once order, step by step.
    async fn run(&self, report: &mut RunReport) -> Result<(), FetchError> {
        let options = self.fetcher.session_options(self.account)?;
        let mut session = self.log_in(&options).await?;
        let listed = list_messages(&mut session).await?;
        if self.account.import_mode == ImportMode::New && self.account.baseline_at.is_none() {
            // The first run of "only new mail": what is there now is never downloaded.
            self.record_baseline(&listed).await?;
            let _ = session.quit().await;
            return Ok(());
        }
        let limit = options.limits.max_message_bytes;
        let known = self.known(&listed, limit).await?;
        let (wanted, mut skipped) = new_messages(&listed, &known, limit);
        if !wanted.is_empty() {
            // Opened by the lookup already, unless the two disagree on what is new.
            self.history.open().await?;
        }
        let committed = self
            .retrieve_and_store(&mut session, &wanted, &mut skipped, report)
            .await?;
        self.record_skipped(&skipped, report).await?;
        let to_delete = deletable(self.account, &listed, &known, &committed, self.now);
        self.delete_and_quit(session, &to_delete, report).await
    }

    async fn log_in(
        &self,
        options: &SessionOptions,
    ) -> Result<Session<Transaction, TcpStream>, FetchError> {
        let account = self.account;
        let port = u16::try_from(account.port).map_err(|_| {
            FetchError::Settings(Text::new("settings-bad-port").with("port", account.port))
        })?;
        if let Some(mechanism) = account.auth_method.oauth() {
            // The token is made fresh before connecting: a refresh may take seconds.
            let access_token = self
                .fetcher
                .oauth
                .access_token(&self.fetcher.pool, &self.fetcher.keys, account.id)
                .await?;
            let tcp = self.fetcher.connector.connect(&account.host, port).await?;
            let session = Session::start(tcp, &account.host, options).await?;
            let token = pop3::OAuthToken {
                username: &account.username,
                access_token: &access_token,
                host: &account.host,
                port,
            };
            return session
                .login_oauth(&token, mechanism)
                .await
                .map_err(|e| match e {
                    pop3::Pop3Error::Auth(text) => FetchError::TokenRefused(text),
                    other => other.into(),
                });
        }
        let credentials = Credentials {
            username: account.username.clone(),
            password: self.password().await?,
        };
        let tcp = self.fetcher.connector.connect(&account.host, port).await?;
        let session = Session::start(tcp, &account.host, options).await?;
        Ok(session.login(&credentials, account.auth_method).await?)
    }

    async fn password(&self) -> Result<crate::crypto::Secret, FetchError> {
        let ring = self.fetcher.keys.current().map_err(FetchError::Keys)?;
        let opened = match self.sealed_password {
            Some(sealed) => accounts::open_password(&ring, self.account.id, sealed),
            None => {
                let mut conn = store::acquire(&self.fetcher.pool).await?;
                accounts::password(&mut conn, &ring, self.account.user_id, self.account.id).await
            }
        };
        match opened {
            Ok(password) => Ok(password),
            Err(StoreError::Crypto(_)) => Err(FetchError::PasswordUnreadable),
            Err(e) => Err(e.into()),
        }
    }

    async fn record_baseline(&self, listed: &[Listed]) -> Result<(), FetchError> {
        let entries: Skipped = listed
            .iter()
            .map(|m| (m.key.clone(), i64::try_from(m.size_hint).ok()))
            .collect();
        fetch_store::record_baseline(&self.fetcher.pool, self.account.id, &entries, self.now)
            .await?;
        Ok(())
    }

    /// What the store knows of the listed messages; the lookup also opens the run's
    /// history row if there is mail to download (messages up to `limit` bytes).
    async fn known(
        &self,
        listed: &[Listed],
        limit: u64,
    ) -> Result<HashMap<String, KnownUidl>, FetchError> {
        // An empty mailbox has nothing to compare (nor anything to delete).
        if listed.is_empty() {
            return Ok(HashMap::new());
        }
        let keys: Vec<String> = listed.iter().map(|m| m.key.clone()).collect();
        let downloadable: Vec<bool> = listed.iter().map(|m| m.size_hint <= limit).collect();
        let lookup = fetch_store::known_uidls(
            &self.fetcher.pool,
            self.account,
            &keys,
            &downloadable,
            self.history.to_open(),
        )
        .await?;
        if let Some(id) = lookup.run_id {
            self.history.opened(id);
        }
        Ok(lookup.known)
    }

    /// Downloads `wanted` and stores it; returns the keys whose rows are committed. What
    /// reached the writers is committed whatever happens to the connection meanwhile.
    async fn retrieve_and_store(
        &self,
        session: &mut Session<Transaction, TcpStream>,
        wanted: &[&Listed],
        skipped: &mut Skipped,
        report: &mut RunReport,
    ) -> Result<HashSet<String>, FetchError> {
        if wanted.is_empty() {
            return Ok(HashSet::new());
        }
        let mut writers = Writers::start(self.fetcher, self.account, self.now, wanted.len());
        let downloaded = self
            .download(session, wanted, &mut writers, skipped, report)
            .await;
        let written = writers.finish().await?;
        report.messages = written.new_messages;
        report.bytes = written.new_bytes;
        downloaded?;
        Ok(written.committed.into_iter().collect())
    }

    /// RETR of every wanted message, each complete one handed to the writers.
    async fn download(
        &self,
        session: &mut Session<Transaction, TcpStream>,
        wanted: &[&Listed],
        writers: &mut Writers,
        skipped: &mut Skipped,
        report: &mut RunReport,
    ) -> Result<(), FetchError> {
        let by_number: HashMap<u32, &Listed> = wanted.iter().map(|m| (m.number, *m)).collect();
        let mut retrieval = session.retrieve(wanted.iter().map(|m| m.number).collect());
        loop {
            if *self.stop.borrow() {
                report.cancelled = true;
                return Ok(());
            }
            let mut raw = Vec::new();
            let Some((number, outcome)) = retrieval.next_into(&mut raw).await? else {
                return Ok(());
            };
            let Some(listed) = by_number.get(&number) else {
                continue;
            };
            match outcome {
                RetrOutcome::Complete { .. } => {
                    if !writers.store(listed.key.clone(), raw).await {
                        // A writer failed; `Writers::finish` reports why.
                        return Ok(());
                    }
                }
                RetrOutcome::TooLarge { limit } => {
                    let size = listed.size_hint.max(limit.saturating_add(1));
                    skipped.push((listed.key.clone(), i64::try_from(size).ok()));
                }
                RetrOutcome::Refused(text) => {
                    tracing::info!(account = %self.account.id, server = %text.as_str(), "the server refused to send a message; retrying next run");
                    report.refused += 1;
                }
            }
        }
    }

    async fn record_skipped(
        &self,
        skipped: &Skipped,
        report: &mut RunReport,
    ) -> Result<(), FetchError> {
        if skipped.is_empty() {
            return Ok(());
        }
        let mut conn = store::acquire(&self.fetcher.pool).await?;
        fetch_store::record_uidls(
            &mut conn,
            self.account.id,
            Disposition::Skipped,
            skipped,
            self.now,
        )
        .await?;
        report.skipped = skipped.len() as u64;
        for _ in skipped {
            self.fetcher.metrics.message_skipped();
        }
        Ok(())
    }

    /// DELE for `to_delete`, then QUIT: deletions take effect only when QUIT succeeds.
    async fn delete_and_quit(
        &self,
        mut session: Session<Transaction, TcpStream>,
        to_delete: &[u32],
        report: &mut RunReport,
    ) -> Result<(), FetchError> {
        if to_delete.is_empty() {
            // Nothing depends on QUIT succeeding now.
            let _ = session.quit().await;
            return Ok(());
        }
        let results = session.dele_many(to_delete).await?;
        let marked = results.iter().filter(|r| r.is_ok()).count() as u64;
        match session.quit().await {
            Ok(()) => report.deleted = marked,
            Err(error) => {
                tracing::info!(account = %self.account.id, %error, "QUIT failed; deletions wait for the next run");
                report.quit_failed = true;
            }
        }
        Ok(())
    }
}

/// The listed messages not known yet: those to download, and those larger than `limit`.
fn new_messages<'l>(
    listed: &'l [Listed],
    known: &HashMap<String, KnownUidl>,
    limit: u64,
) -> (Vec<&'l Listed>, Skipped) {
    let (too_large, wanted): (Vec<&Listed>, Vec<&Listed>) = listed
        .iter()
        .filter(|m| !known.contains_key(&m.key))
        .partition(|m| m.size_hint > limit);
    let skipped = too_large
        .iter()
        .map(|m| (m.key.clone(), i64::try_from(m.size_hint).ok()))
        .collect();
    (wanted, skipped)
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
