//! A claimed account's run: the history row, lease renewal while it runs, and the
//! account's status and next check afterwards.

use std::time::{Duration, Instant};

use time::OffsetDateTime;
use tokio::sync::{OnceCell, watch};

use super::FetchError;
use super::fetcher::Fetcher;
use super::policy;
use super::run::{RunReport, run_once};
use crate::i18n::Text;
use crate::model::ErrorClass;
use crate::store::StoreError;
use crate::store::accounts::Account;
use crate::store::fetch::{
    self as fetch_store, AccountStatus, Announce, Claimed, RunEntry, RunOutcome, RunRecord,
    RunStart, Trigger,
};

#[derive(Debug)]
pub struct FetchOutcome {
    /// The history row; `None` when a run that found nothing lost its account meanwhile
    /// (removed, or its lease taken over).
    pub run_id: Option<i64>,
    pub outcome: RunOutcome,
    pub report: RunReport,
    /// The lease expired before the run ended (another worker may now hold the account).
    pub lease_lost: bool,
}

/// How a worker holds its lease.
#[derive(Debug, Clone)]
pub struct LeaseSettings {
    pub owner: String,
    pub lease: Duration,
    /// The shortest adaptive interval.
    pub poll_floor: Duration,
}

/// A run's history row, opened at once when someone waits for it (and then announced),
/// else by the UIDL lookup when the run has mail to download: a poll that finds nothing
/// new writes its row only when it ends, in the statement that releases the account
/// (DESIGN: an idle account costs nearly nothing).
#[derive(Debug)]
pub struct History<'a> {
    fetcher: &'a Fetcher,
    account: &'a Account,
    owner: &'a str,
    trigger: Trigger,
    started_at: OffsetDateTime,
    announce: Announce,
    id: OnceCell<i64>,
}

impl History<'_> {
    /// Opens the row (once): the accounts page then shows the run as in progress.
    pub async fn open(&self) -> Result<i64, StoreError> {
        self.id
            .get_or_try_init(|| {
                fetch_store::start_run(
                    &self.fetcher.pool,
                    self.account,
                    self.trigger,
                    self.owner,
                    self.started_at,
                    self.announce,
                )
            })
            .await
            .copied()
    }

    /// The row to open with the UIDL lookup; `None` once it is open.
    pub fn to_open(&self) -> Option<RunStart<'_>> {
        (!self.id.initialized()).then_some(RunStart {
            trigger: self.trigger,
            worker: self.owner,
            started_at: self.started_at,
        })
    }

    /// The row the UIDL lookup opened.
    pub fn opened(&self, id: i64) {
        // Set already means it was open before the lookup, which then opened nothing.
        let _ = self.id.set(id);
    }

    fn entry(&self) -> RunEntry {
        RunEntry {
            id: self.id.get().copied(),
            announced: self.announce,
            trigger: self.trigger,
            started_at: self.started_at,
        }
    }
}

/// Runs an account this worker has claimed, then releases it.
pub async fn fetch_account(
    fetcher: &Fetcher,
    settings: &LeaseSettings,
    claimed: impl Into<Claimed>,
    trigger: Trigger,
    stop: watch::Receiver<bool>,
) -> Result<FetchOutcome, StoreError> {
    let started = Instant::now();
    let claimed = claimed.into();
    let sealed = claimed.sealed_password();
    let announce = if claimed.run_awaited {
        Announce::Yes
    } else {
        Announce::No
    };
    let account = claimed.account;
    let history = History {
        fetcher,
        account: &account,
        owner: &settings.owner,
        trigger,
        started_at: OffsetDateTime::now_utc(),
        announce,
        id: OnceCell::new(),
    };
    // A run a person started (the operator's `tributary fetch`) or waits for is shown at
    // once.
    if trigger == Trigger::Manual || announce == Announce::Yes {
        history.open().await?;
    }
    fetcher.metrics.lease_taken();
    let (report, lease_lost) = {
        let limit = fetcher.run_limit();
        let run = run_once(fetcher, &account, sealed.as_ref(), &stop, &history);
        let run = tokio::time::timeout(limit, run);
        let renew = keep_lease(fetcher, settings, &account);
        tokio::pin!(run);
        tokio::select! {
            report = &mut run => match report {
                Ok(report) => (report, false),
                // Dropping the run closed the POP3 connection without QUIT (so the server
                // deletes nothing) and rolled back the group it had not committed.
                Err(_) => {
                    tracing::warn!(account = %account.id, ?limit, "a fetch run passed its time limit; stopped");
                    (RunReport { error: Some(FetchError::RunTimedOut(limit)), ..RunReport::default() }, false)
                }
            },
            () = renew => (RunReport { cancelled: true, ..RunReport::default() }, true),
        }
    };
    let (record, status) = decide(&account, &report, lease_lost, settings.poll_floor);
    let finished = fetch_store::finish_run(
        &fetcher.pool,
        &settings.owner,
        &account,
        history.entry(),
        &record,
        &status,
    )
    .await;
    fetcher.metrics.lease_released();
    fetcher
        .metrics
        .run_finished(record.outcome, started.elapsed());
    if let Some(error) = &report.error {
        fetcher.metrics.error(error.class());
        tracing::info!(account = %account.id, class = error.class().as_str(), %error, "fetch failed");
    }
    let run_id = finished?;
    Ok(FetchOutcome {
        run_id,
        outcome: record.outcome,
        report,
        lease_lost,
    })
}

/// Renews the lease every third of its length; returns only when it is lost — refused
/// by the database, or not renewed before it expired.
async fn keep_lease(fetcher: &Fetcher, settings: &LeaseSettings, account: &Account) {
    let mut expires = Instant::now() + settings.lease;
    loop {
        tokio::time::sleep(settings.lease / 3).await;
        match fetch_store::renew(&fetcher.pool, &settings.owner, account.id, settings.lease).await {
            Ok(true) => expires = Instant::now() + settings.lease,
            Ok(false) => {
                tracing::warn!(account = %account.id, "lost the lease; stopping this run");
                return;
            }
            Err(error) => {
                if Instant::now() + settings.lease / 3 >= expires {
                    tracing::warn!(account = %account.id, %error, "cannot renew the lease; stopping this run");
                    return;
                }
            }
        }
    }
}

/// The run's history row and the account's next state.
fn decide(
    account: &Account,
    report: &RunReport,
    lease_lost: bool,
    floor: Duration,
) -> (RunRecord, AccountStatus) {
    let current =
        Duration::from_secs(u64::try_from(account.interval_seconds.max(1)).unwrap_or(300));
    let random = u64::from_le_bytes(crate::crypto::random_bytes::<8>().unwrap_or([7; 8]));
    let failures = u32::try_from(account.consecutive_failures.max(0)).unwrap_or(0);
    let mut record = RunRecord {
        outcome: RunOutcome::Success,
        messages: i32::try_from(report.messages).unwrap_or(i32::MAX),
        bytes: i64::try_from(report.bytes).unwrap_or(i64::MAX),
        skipped: i32::try_from(report.skipped).unwrap_or(i32::MAX),
        error_kind: None,
        error: None,
    };
    let interval_seconds = |d: Duration| i32::try_from(d.as_secs()).unwrap_or(i32::MAX);
    let mut status = AccountStatus {
        next_check_in: Duration::ZERO,
        interval_seconds: account.interval_seconds,
        succeeded: false,
        consecutive_failures: account.consecutive_failures,
        paused_reason: None,
    };
    if let Some(error) = &report.error {
        let failures = failures.saturating_add(1);
        record.outcome = error.outcome();
        record.error_kind = Some(error.class());
        record.error = Some(error.text());
        status.consecutive_failures = i32::try_from(failures).unwrap_or(i32::MAX);
        status.paused_reason = error.pause_reason();
        status.next_check_in =
            policy::jitter(policy::backoff(failures, error.login_delay()), random);
    } else if lease_lost || report.cancelled {
        // Due again at once: another worker (or this one after a restart) picks it up.
        record.outcome = RunOutcome::Cancelled;
        record.error_kind = Some(ErrorClass::Interrupted);
        record.error = Some(Text::new(if lease_lost {
            "run-lease-lost"
        } else {
            "run-shutting-down"
        }));
    } else {
        let interval = policy::next_interval(current, account.poll_minutes, report.messages, floor);
        status.succeeded = true;
        status.consecutive_failures = 0;
        status.interval_seconds = interval_seconds(interval);
        status.next_check_in = policy::jitter(interval, random);
        if report.refused > 0 || report.quit_failed {
            record.outcome = RunOutcome::Partial;
            record.error_kind = Some(ErrorClass::Partial);
            record.error = Some(if report.refused > 0 {
                Text::new("run-refused-messages").with("count", report.refused)
            } else {
                Text::new("run-quit-unconfirmed")
            });
        }
    }
    (record, status)
}
