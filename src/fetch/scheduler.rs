//! Which accounts run when (DESIGN §6), on every replica at once.
//!
//! Each scheduler claims due accounts from PostgreSQL with `FOR UPDATE SKIP LOCKED`
//! (invariant 2), runs them under a global and a per-host limit, and sleeps until the
//! next account is due or a "check mail now" notification arrives. A slow or hung server
//! only ever occupies its own worker slot.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::fetcher::Fetcher;
use super::worker::{LeaseSettings, fetch_account};
use crate::store::fetch::{self as fetch_store, CHECK_NOW_CHANNEL, Trigger};

/// The longest the scheduler sleeps by default without looking at the database: bounds
/// how late a change made outside this process (a new account on another replica) is
/// noticed when no notification arrives.
pub const DEFAULT_IDLE_POLL: Duration = Duration::from_secs(5);
const MIN_IDLE: Duration = Duration::from_millis(20);
/// When nothing is due, the scheduler looks again this long after the next account
/// becomes due, so the accounts due meanwhile are claimed in one statement: thousands of
/// accounts polled at spread-out times cost a claim per batch, not per account. Accounts
/// are only ever claimed late by this much, never early (a server's LOGIN-DELAY holds).
const CLAIM_BATCH_WINDOW: Duration = Duration::from_millis(500);
/// While more accounts are due than there are slots, a slot freed by a run waits this
/// long for others to free before the next claim — unless a quarter of them are free
/// already — so a busy scheduler claims a batch per statement, not one account (each
/// claim is a commit).
const CLAIM_GATHER: Duration = Duration::from_millis(20);

#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    /// Accounts fetched at once by this process.
    pub concurrency: usize,
    /// Accounts on one remote host fetched at once by this process.
    pub per_host: usize,
    pub lease: LeaseSettings,
    /// How long shutdown waits for runs to commit what they hold.
    pub shutdown_grace: Duration,
    /// The longest sleep between looks at the database (see [`DEFAULT_IDLE_POLL`]).
    pub idle_poll: Duration,
}

/// What one [`Scheduler::tick`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    /// Runs started in this step.
    pub started: usize,
    /// How long until another look at the database is worthwhile (unless a run ends or a
    /// "check now" arrives first).
    pub wait: Duration,
}

#[derive(Debug)]
pub struct Scheduler {
    fetcher: Arc<Fetcher>,
    settings: SchedulerSettings,
    /// Each run in flight, answering with its host when it ends.
    running: JoinSet<String>,
    /// Runs in flight per remote host (lower-cased).
    per_host: HashMap<String, usize>,
    /// Tells the runs in flight to stop after the message in hand (shutdown).
    stop_workers: watch::Sender<bool>,
    /// The last claim left due accounts behind for the per-host limit: a run that ends
    /// may free their host.
    host_limited: bool,
    /// The last claim filled every free slot: more accounts may be due.
    slots_filled: bool,
}

/// A name for this process's leases: host, process id and a random part, so a restarted
/// process never mistakes its predecessor's leases for its own.
pub fn owner_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "tributary".into());
    let random = crate::crypto::random_bytes::<4>().unwrap_or_default();
    format!(
        "{host}:{}:{}",
        std::process::id(),
        crate::pop3::tls::hex(&random)
    )
}

impl Scheduler {
    pub fn new(fetcher: Arc<Fetcher>, settings: SchedulerSettings) -> Self {
        Self {
            fetcher,
            settings,
            running: JoinSet::new(),
            per_host: HashMap::new(),
            stop_workers: watch::channel(false).0,
            host_limited: false,
            slots_filled: false,
        }
    }

    /// Runs in flight.
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// One step: counts the runs that have ended, claims due accounts for the free slots
    /// (within the per-host limit) and starts them. Tests drive the scheduler with it.
    pub async fn tick(&mut self) -> Tick {
        while let Some(finished) = self.running.try_join_next() {
            self.settle(finished);
        }
        let max_idle = self.settings.idle_poll.max(MIN_IDLE);
        let free = self.settings.concurrency.saturating_sub(self.running.len());
        if free == 0 {
            // Asked again as soon as slots free.
            self.slots_filled = true;
            return Tick {
                started: 0,
                wait: MIN_IDLE,
            };
        }
        let pool = &self.fetcher.pool;
        let owner = &self.settings.lease.owner;
        let busy: Vec<String> = self
            .per_host
            .iter()
            .filter(|(_, count)| **count >= self.settings.per_host)
            .map(|(host, _)| host.clone())
            .collect();
        let limit = i64::try_from(free).unwrap_or(i64::MAX);
        let lease = self.settings.lease.lease;
        let accounts = match fetch_store::claim_due(pool, owner, lease, limit, &busy).await {
            Ok(accounts) => accounts,
            Err(error) => {
                tracing::warn!(%error, "cannot claim accounts; retrying");
                return Tick {
                    started: 0,
                    wait: Duration::from_secs(1),
                };
            }
        };
        let claimed = accounts.len();
        self.slots_filled = claimed == free;
        let mut started = 0;
        self.host_limited = !busy.is_empty();
        for claimed in accounts {
            let host = claimed.account.host.to_lowercase();
            let count = self.per_host.entry(host.clone()).or_insert(0);
            if *count >= self.settings.per_host {
                // Several due on one host in one batch: hand the rest back.
                self.host_limited = true;
                if let Err(error) = fetch_store::release(pool, owner, claimed.account.id).await {
                    tracing::warn!(%error, "could not release an account");
                }
                continue;
            }
            *count += 1;
            started += 1;
            let fetcher = Arc::clone(&self.fetcher);
            let lease = self.settings.lease.clone();
            let stop = self.stop_workers.subscribe();
            self.running.spawn(async move {
                let id = claimed.account.id;
                if let Err(error) =
                    fetch_account(&fetcher, &lease, claimed, Trigger::Schedule, stop).await
                {
                    tracing::warn!(account = %id, %error, "could not record a fetch run");
                }
                host
            });
        }
        let wait = if claimed < free {
            match fetch_store::next_due_in(pool).await {
                Ok(Some(due)) => (due + CLAIM_BATCH_WINDOW).clamp(MIN_IDLE, max_idle),
                Ok(None) => max_idle,
                Err(_) => Duration::from_secs(1),
            }
        } else {
            // Possibly more due: look again as soon as a slot frees.
            MIN_IDLE
        };
        Tick { started, wait }
    }

    /// Counts a run that ended.
    fn settle(&mut self, finished: Result<String, tokio::task::JoinError>) {
        match finished {
            Ok(host) => decrement(&mut self.per_host, &host),
            // A panicked run: its host is unknown, so recount from what still runs (the
            // others decrement their own hosts, and the map never goes negative).
            Err(_) => self.per_host.clear(),
        }
    }

    /// Waits for every run in flight to end.
    pub async fn drain(&mut self) {
        while let Some(finished) = self.running.join_next().await {
            self.settle(finished);
        }
    }

    /// Runs until `shutdown` turns true, then lets runs commit what they hold (up to the
    /// grace period), releases every lease and returns.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let pool = self.fetcher.pool.clone();
        let owner = self.settings.lease.owner.clone();
        let wake = Arc::new(Notify::new());
        let listener = tokio::spawn(listen_for_checks(pool.clone(), Arc::clone(&wake)));
        tracing::info!(
            owner,
            concurrency = self.settings.concurrency,
            "fetch scheduler started"
        );
        // When the database is worth asking again: at once after a claim that filled
        // every free slot (more may be due), else when the next account becomes due. A
        // run that ends frees a slot but makes nothing due, so it does not by itself cost
        // a look — with thousands of idle accounts that was two statements per poll.
        let mut next_look = tokio::time::Instant::now();
        while !*shutdown.borrow() {
            if tokio::time::Instant::now() >= next_look {
                let tick = self.tick().await;
                next_look = tokio::time::Instant::now() + tick.wait;
            }
            let free = self.running.len() < self.settings.concurrency;
            let finished = tokio::select! {
                Some(finished) = self.running.join_next(), if !self.running.is_empty() => {
                    Some(finished)
                }
                () = wake.notified() => {
                    next_look = tokio::time::Instant::now();
                    None
                }
                () = tokio::time::sleep_until(next_look), if free => None,
                _ = shutdown.changed() => None,
            };
            // The next look collects every other run that has ended too, so one claim
            // fills all free slots (a claim is a commit: one per slot would cap the whole
            // scheduler at the database's commit rate).
            if let Some(finished) = finished {
                self.settle(finished);
                let now = tokio::time::Instant::now();
                if self.host_limited {
                    next_look = now;
                } else if self.slots_filled {
                    // More may be due: claim when a quarter of the slots are free, or when
                    // the first freed slot has waited CLAIM_GATHER.
                    let free = self.settings.concurrency.saturating_sub(self.running.len());
                    if free * 4 >= self.settings.concurrency {
                        next_look = next_look.min(now);
                    } else if next_look <= now {
                        next_look = now + CLAIM_GATHER;
                    }
                }
            }
        }

        tracing::info!(
            runs = self.running.len(),
            "fetch scheduler stopping: letting runs commit"
        );
        let _ = self.stop_workers.send(true);
        let grace = self.settings.shutdown_grace;
        if tokio::time::timeout(grace, self.drain()).await.is_err() {
            self.running.abort_all();
        }
        listener.abort();
        match fetch_store::release_all(&pool, &owner).await {
            Ok(0) => {}
            Ok(released) => tracing::info!(released, "released leases"),
            Err(error) => {
                tracing::warn!(%error, "could not release leases; they expire by themselves")
            }
        }
        tracing::info!("fetch scheduler stopped");
    }
}

fn decrement(per_host: &mut HashMap<String, usize>, host: &str) {
    if let Some(count) = per_host.get_mut(host) {
        *count = count.saturating_sub(1);
        if *count == 0 {
            per_host.remove(host);
        }
    }
}

/// Wakes the scheduler on "check mail now" from any replica (PostgreSQL LISTEN/NOTIFY).
/// The listener reconnects by itself; meanwhile the scheduler still polls.
async fn listen_for_checks(pool: sqlx::PgPool, wake: Arc<Notify>) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::debug!(%error, "LISTEN connection failed; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        if let Err(error) = listener.listen(CHECK_NOW_CHANNEL).await {
            tracing::debug!(%error, "LISTEN failed; retrying");
            tokio::time::sleep(Duration::from_secs(2)).await;
            continue;
        }
        loop {
            match listener.recv().await {
                Ok(_) => wake.notify_one(),
                Err(error) => {
                    tracing::debug!(%error, "LISTEN connection lost; reconnecting");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
            }
        }
    }
}
