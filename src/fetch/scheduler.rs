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

use super::account::Fetcher;
use super::worker::{LeaseSettings, fetch_account};
use crate::store::fetch::{self as fetch_store, CHECK_NOW_CHANNEL, Trigger};

/// The longest the scheduler sleeps by default without looking at the database: bounds
/// how late a change made outside this process (a new account on another replica) is
/// noticed when no notification arrives.
pub const DEFAULT_IDLE_POLL: Duration = Duration::from_secs(5);
const MIN_IDLE: Duration = Duration::from_millis(20);

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

#[derive(Debug)]
pub struct Scheduler {
    fetcher: Arc<Fetcher>,
    settings: SchedulerSettings,
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
        Self { fetcher, settings }
    }

    /// Runs until `shutdown` turns true, then lets runs commit what they hold (up to the
    /// grace period), releases every lease and returns.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let pool = self.fetcher.pool.clone();
        let owner = self.settings.lease.owner.clone();
        let wake = Arc::new(Notify::new());
        let listener = tokio::spawn(listen_for_checks(pool.clone(), Arc::clone(&wake)));
        let (stop_workers, worker_stop) = watch::channel(false);
        let mut running: JoinSet<String> = JoinSet::new();
        let mut per_host: HashMap<String, usize> = HashMap::new();
        tracing::info!(
            owner,
            concurrency = self.settings.concurrency,
            "fetch scheduler started"
        );

        while !*shutdown.borrow() {
            let free = self.settings.concurrency.saturating_sub(running.len());
            let max_idle = self.settings.idle_poll.max(MIN_IDLE);
            let mut wait = max_idle;
            if free > 0 {
                let busy: Vec<String> = per_host
                    .iter()
                    .filter(|(_, count)| **count >= self.settings.per_host)
                    .map(|(host, _)| host.clone())
                    .collect();
                match fetch_store::claim_due(
                    &pool,
                    &owner,
                    self.settings.lease.lease,
                    i64::try_from(free).unwrap_or(i64::MAX),
                    &busy,
                )
                .await
                {
                    Ok(accounts) => {
                        let claimed = accounts.len();
                        for account in accounts {
                            let host = account.host.to_lowercase();
                            let count = per_host.entry(host.clone()).or_insert(0);
                            if *count >= self.settings.per_host {
                                // Several due on one host in one batch: hand the rest back.
                                if let Err(error) =
                                    fetch_store::release(&pool, &owner, account.id).await
                                {
                                    tracing::warn!(%error, "could not release an account");
                                }
                                continue;
                            }
                            *count += 1;
                            let fetcher = Arc::clone(&self.fetcher);
                            let lease = self.settings.lease.clone();
                            let stop = worker_stop.clone();
                            running.spawn(async move {
                                let id = account.id;
                                if let Err(error) =
                                    fetch_account(&fetcher, &lease, account, Trigger::Schedule, stop)
                                        .await
                                {
                                    tracing::warn!(account = %id, %error, "could not record a fetch run");
                                }
                                host
                            });
                        }
                        if claimed < free {
                            wait = match fetch_store::next_due_in(&pool).await {
                                Ok(Some(due)) => due.clamp(MIN_IDLE, max_idle),
                                Ok(None) => max_idle,
                                Err(_) => Duration::from_secs(1),
                            };
                        } else {
                            // Possibly more due: look again as soon as a slot frees.
                            wait = MIN_IDLE;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot claim accounts; retrying");
                        wait = Duration::from_secs(1);
                    }
                }
            }
            tokio::select! {
                Some(finished) = running.join_next(), if !running.is_empty() => {
                    // Collect every run that has ended, so the next claim fills all free
                    // slots in one statement (a claim is a commit: one per slot would cap
                    // the whole scheduler at the database's commit rate).
                    let mut finished = Some(finished);
                    while let Some(result) = finished {
                        if let Ok(host) = result {
                            decrement(&mut per_host, &host);
                        } else {
                            // A panicked run: recount from what is still running.
                            per_host.clear();
                        }
                        finished = running.try_join_next();
                    }
                }
                () = wake.notified() => {}
                () = tokio::time::sleep(wait), if free > 0 => {}
                _ = shutdown.changed() => {}
            }
        }

        tracing::info!(
            runs = running.len(),
            "fetch scheduler stopping: letting runs commit"
        );
        let _ = stop_workers.send(true);
        let drained = tokio::time::timeout(self.settings.shutdown_grace, async {
            while running.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            running.abort_all();
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
