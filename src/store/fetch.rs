//! The fetch engine's tables: leases and status on `accounts`, `account_uidls`, `fetch_runs`.
//!
//! Leases (DESIGN invariant 2): an account is held by one worker (`lease_owner`) until
//! `lease_expires_at`. Claims use `FOR UPDATE SKIP LOCKED`, so replicas never wait on each
//! other, and take an account only when no unexpired lease exists; every later write by
//! the worker is conditional on still owning the lease.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;
use super::accounts::{ACCOUNT_COLUMNS, Account};
use crate::crypto::Sealed;
use crate::i18n::{Locale, Text};
use crate::model::{ErrorClass, PausedReason};

/// The channel "check mail now" notifies; the payload is the account id.
pub const CHECK_NOW_CHANNEL: &str = "tributary_check_now";
/// The channel a run's start notifies when someone waits for it ([`check_now_awaited`]), so
/// "check now" can answer with the run it started; the payload is the account id.
pub const RUN_STARTED_CHANNEL: &str = "tributary_run_started";

/// What the engine knows about one remote message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum Disposition {
    Stored,
    Skipped,
    Ignored,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownUidl {
    pub disposition: Disposition,
    pub recorded_at: OffsetDateTime,
}

pub use crate::model::{RunOutcome, Trigger};

fn seconds(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

/// A claimed account, with its sealed password read by the claim itself (a statement
/// fewer per run); only the run opens it.
#[derive(sqlx::FromRow)]
pub struct Claimed {
    #[sqlx(flatten)]
    pub account: Account,
    password_key_id: Option<String>,
    password_nonce: Option<Vec<u8>>,
    password_ciphertext: Option<Vec<u8>>,
    /// Someone waits for this run to start ([`check_now_awaited`]): it is announced.
    pub run_awaited: bool,
}

impl Claimed {
    /// The account's sealed password; `None` for an account that signs in with OAuth, or
    /// one claimed without it.
    pub fn sealed_password(&self) -> Option<Sealed> {
        super::accounts::sealed_from_columns(
            self.password_key_id.clone(),
            self.password_nonce.clone(),
            self.password_ciphertext.clone(),
        )
    }
}

/// An account claimed another way (`claim_one`): its password is read when needed.
impl From<Account> for Claimed {
    fn from(account: Account) -> Self {
        Self {
            account,
            password_key_id: None,
            password_nonce: None,
            password_ciphertext: None,
            run_awaited: false,
        }
    }
}

impl std::fmt::Debug for Claimed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claimed")
            .field("account", &self.account)
            .field("sealed_password", &self.password_ciphertext.is_some())
            .field("run_awaited", &self.run_awaited)
            .finish()
    }
}

/// Claims up to `limit` due accounts for `owner`, skipping rows another worker is
/// claiming at this instant and accounts on `busy_hosts` (this worker's per-host limit).
///
/// A claimed account's `next_check_at` moves to its lease's end: claimed rows leave the
/// due range of the index, so each claim reads only unclaimed rows instead of stepping
/// over every account in flight (quadratic with many due at once), and an account whose
/// worker died becomes due exactly when its lease can be taken over. `finish_run` then
/// sets the real next check.
pub async fn claim_due(
    pool: &PgPool,
    owner: &str,
    lease: Duration,
    limit: i64,
    busy_hosts: &[String],
) -> Result<Vec<Claimed>, StoreError> {
    Ok(sqlx::query_as::<_, Claimed>(&format!(
        "UPDATE accounts SET lease_owner = $1,
             lease_expires_at = now() + make_interval(secs => $2),
             next_check_at = now() + make_interval(secs => $2),
             last_attempt_at = now()
         WHERE id IN (
             SELECT id FROM accounts
             WHERE enabled AND paused_reason IS NULL AND next_check_at <= now()
               AND (lease_expires_at IS NULL OR lease_expires_at < now())
               AND lower(host) <> ALL($4)
             ORDER BY next_check_at
             LIMIT $3
             FOR UPDATE SKIP LOCKED)
         RETURNING {ACCOUNT_COLUMNS}, password_key_id, password_nonce, password_ciphertext,
             run_awaited"
    ))
    .bind(owner)
    .bind(seconds(lease))
    .bind(limit)
    .bind(busy_hosts)
    .fetch_all(pool)
    .await?)
}

/// Claims one account regardless of its schedule (the operator's `tributary fetch`).
/// `None` when another worker holds an unexpired lease on it.
pub async fn claim_one(
    pool: &PgPool,
    owner: &str,
    lease: Duration,
    account_id: Uuid,
) -> Result<Option<Account>, StoreError> {
    Ok(sqlx::query_as::<_, Account>(&format!(
        "UPDATE accounts SET lease_owner = $1,
             lease_expires_at = now() + make_interval(secs => $2),
             last_attempt_at = now()
         WHERE id = (
             SELECT id FROM accounts
             WHERE id = $3 AND (lease_expires_at IS NULL OR lease_expires_at < now())
             FOR UPDATE SKIP LOCKED)
         RETURNING {ACCOUNT_COLUMNS}"
    ))
    .bind(owner)
    .bind(seconds(lease))
    .bind(account_id)
    .fetch_optional(pool)
    .await?)
}

/// Extends a lease. `false` when the lease is no longer ours (expired and taken over),
/// in which case the worker must stop.
pub async fn renew(
    pool: &PgPool,
    owner: &str,
    account_id: Uuid,
    lease: Duration,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "UPDATE accounts SET lease_expires_at = now() + make_interval(secs => $3)
         WHERE id = $1 AND lease_owner = $2 AND lease_expires_at > now()",
    )
    .bind(account_id)
    .bind(owner)
    .bind(seconds(lease))
    .execute(pool)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// What closes a run whose worker died (its lease expired without [`finish_run`]).
const ABANDONED: &str = "finished_at = clock_timestamp(), outcome = 'cancelled',
     error_kind = 'interrupted', error_message = 'The worker stopped during this run.',
     error_text = jsonb_build_object('id', 'run-worker-stopped')";

/// The SQL that opens a run's row, as the CTEs `abandoned` (closes the runs a dead worker
/// left open on the account) and `run` (the new row, `RETURNING id`), done only if the
/// statement's CTE `opening` has a row. `$1` is the account; the arguments name the
/// placeholders of the user, trigger, worker and start time.
fn opening_steps(user: &str, trigger: &str, worker: &str, started_at: &str) -> String {
    format!(
        "abandoned AS (
             UPDATE fetch_runs SET {ABANDONED}
             WHERE account_id = $1 AND finished_at IS NULL AND EXISTS (SELECT 1 FROM opening)
         ), run AS (
             INSERT INTO fetch_runs (account_id, user_id, trigger, worker, started_at)
             SELECT $1, {user}, {trigger}, {worker}, {started_at} FROM opening RETURNING id)"
    )
}

/// Whether a run's start is announced on [`RUN_STARTED_CHANNEL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announce {
    /// Someone waits for it (the claim said `run_awaited`).
    Yes,
    No,
}

/// Opens a `fetch_runs` row for a claimed account, started at `started_at`, closes the
/// runs a dead worker left open on it and, if asked, announces the start — in one
/// statement.
pub async fn start_run(
    pool: &PgPool,
    account: &Account,
    trigger: Trigger,
    worker: &str,
    started_at: OffsetDateTime,
    announce: Announce,
) -> Result<i64, StoreError> {
    // The announcement is a subquery whose condition is checked before it runs, so an
    // unannounced run sends no NOTIFY (and takes no notification lock at commit).
    let (id,): (i64,) = sqlx::query_as(&format!(
        "WITH opening AS (SELECT 1), {}
         SELECT id FROM run LEFT JOIN (SELECT pg_notify($5, $1::text) WHERE $7) AS announced ON true",
        opening_steps("$2", "$3", "$4", "$6")
    ))
    .bind(account.id)
    .bind(account.user_id)
    .bind(trigger)
    .bind(worker)
    .bind(RUN_STARTED_CHANNEL)
    .bind(started_at)
    .bind(announce == Announce::Yes)
    .fetch_one(pool)
    .await?;
    Ok(id)
}

/// The result of one run, for `fetch_runs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub outcome: RunOutcome,
    pub messages: i32,
    pub bytes: i64,
    pub skipped: i32,
    pub error_kind: Option<ErrorClass>,
    pub error: Option<Text>,
}

/// The account's status after a run, decided by the scheduler's policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountStatus {
    pub next_check_in: Duration,
    pub interval_seconds: i32,
    pub succeeded: bool,
    pub consecutive_failures: i32,
    /// Set: the account waits for the user (e.g. a rejected password).
    pub paused_reason: Option<PausedReason>,
}

/// A run's history row: opened when the run started ([`start_run`]), or not yet — a
/// poll that finds nothing new writes its row only when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunEntry {
    pub id: Option<i64>,
    /// The start was announced: the request for it is answered.
    pub announced: Announce,
    pub trigger: Trigger,
    pub started_at: OffsetDateTime,
}

/// Closes (or writes) the run's row, closes runs a dead worker left open, writes the
/// account's status and releases the lease — in one statement, so one transaction and
/// one round trip, and the run history never shows two open runs of one account. Does
/// nothing to the account if the lease was lost meanwhile. Returns the run's id (`None`:
/// a row never opened, and the account was removed or taken over meanwhile).
///
/// Lock order, here and in every transaction that writes about an account: the account
/// row first, then its runs, UIDLs and messages — the order `accounts::delete` takes
/// them in, so a user removing the account at this moment waits instead of deadlocking.
pub async fn finish_run(
    pool: &PgPool,
    owner: &str,
    account: &Account,
    run: RunEntry,
    record: &RunRecord,
    status: &AccountStatus,
) -> Result<Option<i64>, StoreError> {
    // A "check now" asked after the claim is answered by another run at once (after a
    // success: a failure's back-off holds). English for the API and the command line;
    // the catalogue form for the pages.
    let message = record
        .error
        .as_ref()
        .map(|text| Locale::default().sentence(text));
    let stored = record.error.as_ref().and_then(Text::to_json_string);
    // `closed` and `abandoned` read `account` (an always-true condition) so the account
    // row is updated, and locked, before any run row; `opened` writes the row only if
    // the account is still ours — a removed account's run has nothing to be recorded
    // against. With the lease lost, the run's own row is still closed.
    let id: Option<i64> = sqlx::query_scalar(&format!(
        "WITH account AS (
             UPDATE accounts SET lease_owner = NULL, lease_expires_at = NULL,
                 next_check_at = CASE WHEN $5 AND check_requested_at > last_attempt_at
                     THEN now() ELSE now() + make_interval(secs => $3) END,
                 interval_seconds = $4,
                 last_success_at = CASE WHEN $5 THEN now() ELSE last_success_at END,
                 last_error_kind = $6, last_error_message = $7, last_error_text = $10::jsonb,
                 consecutive_failures = $8,
                 paused_reason = COALESCE($9, paused_reason),
                 run_awaited = run_awaited AND NOT $18,
                 updated_at = now()
             WHERE id = $1 AND lease_owner = $2
             RETURNING id, user_id
         ), closed AS (
             UPDATE fetch_runs SET finished_at = clock_timestamp(), outcome = $12,
                 messages_fetched = $13, bytes_fetched = $14, messages_skipped = $15,
                 error_kind = $6, error_message = $7, error_text = $10::jsonb
             WHERE id = $11 AND (SELECT count(*) FROM account) >= 0
             RETURNING id
         ), opened AS (
             INSERT INTO fetch_runs (account_id, user_id, trigger, worker, started_at,
                 finished_at, outcome, messages_fetched, bytes_fetched, messages_skipped,
                 error_kind, error_message, error_text)
             SELECT id, user_id, $16, $2, $17, clock_timestamp(), $12, $13, $14, $15, $6, $7,
                 $10::jsonb
             FROM account WHERE $11::bigint IS NULL
             RETURNING id
         ), abandoned AS (
             UPDATE fetch_runs SET {ABANDONED}
             WHERE account_id = $1 AND finished_at IS NULL AND id IS DISTINCT FROM $11
                 AND (SELECT count(*) FROM account) >= 0
         )
         SELECT id FROM closed
         UNION ALL
         SELECT id FROM opened"
    ))
    .bind(account.id)
    .bind(owner)
    .bind(seconds(status.next_check_in))
    .bind(status.interval_seconds)
    .bind(status.succeeded)
    .bind(record.error_kind)
    .bind(&message)
    .bind(status.consecutive_failures)
    .bind(status.paused_reason)
    .bind(&stored)
    .bind(run.id)
    .bind(record.outcome)
    .bind(record.messages)
    .bind(record.bytes)
    .bind(record.skipped)
    .bind(run.trigger)
    .bind(run.started_at)
    .bind(run.announced == Announce::Yes)
    .fetch_optional(pool)
    .await?;
    Ok(id.or(run.id))
}

/// Releases every lease `owner` holds (shutdown): the accounts become due again at once
/// for the other replicas. Runs left open are marked cancelled.
pub async fn release_all(pool: &PgPool, owner: &str) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    // Accounts before their runs: the lock order of `finish_run`.
    let released: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE accounts SET lease_owner = NULL, lease_expires_at = NULL
         WHERE lease_owner = $1 RETURNING id",
    )
    .bind(owner)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE fetch_runs SET finished_at = clock_timestamp(), outcome = 'cancelled'
         WHERE finished_at IS NULL AND account_id = ANY($1)",
    )
    .bind(&released)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(released.len() as u64)
}

/// A run's history row to open with the UIDL lookup ([`known_uidls`]).
#[derive(Debug, Clone, Copy)]
pub struct RunStart<'a> {
    pub trigger: Trigger,
    pub worker: &'a str,
    pub started_at: OffsetDateTime,
}

/// What the store knows of one account's listed messages, and the run's row if the
/// lookup opened it.
#[derive(Debug, Default)]
pub struct Lookup {
    pub known: HashMap<String, KnownUidl>,
    pub run_id: Option<i64>,
}

/// What the store knows of the listed UIDLs of one account. With `open`, the same
/// statement also opens the run's row (as [`start_run`] does) when some listed message
/// is unknown and `downloadable` — so a run with mail costs no statement for its row.
pub async fn known_uidls(
    pool: &PgPool,
    account: &Account,
    uidls: &[String],
    downloadable: &[bool],
    open: Option<RunStart<'_>>,
) -> Result<Lookup, StoreError> {
    type Row = (
        Option<String>,
        Option<Disposition>,
        Option<OffsetDateTime>,
        Option<i64>,
    );
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "WITH known AS (
             SELECT uidl, disposition, recorded_at FROM account_uidls
             WHERE account_id = $1 AND uidl = ANY($2)
         ), opening AS (
             SELECT 1 FROM unnest($2::text[], $3::bool[]) AS l(uidl, downloadable)
             WHERE $4 AND downloadable AND uidl NOT IN (SELECT uidl FROM known)
             LIMIT 1
         ), {}
         SELECT uidl, disposition, recorded_at, NULL::bigint FROM known
         UNION ALL
         SELECT NULL, NULL, NULL, id FROM run",
        opening_steps("$5", "$6", "$7", "$8")
    ))
    .bind(account.id)
    .bind(uidls)
    .bind(downloadable)
    .bind(open.is_some())
    .bind(account.user_id)
    .bind(open.map(|o| o.trigger))
    .bind(open.map(|o| o.worker))
    .bind(open.map(|o| o.started_at))
    .fetch_all(pool)
    .await?;
    let mut lookup = Lookup::default();
    for row in rows {
        match row {
            (Some(uidl), Some(disposition), Some(recorded_at), _) => {
                lookup.known.insert(
                    uidl,
                    KnownUidl {
                        disposition,
                        recorded_at,
                    },
                );
            }
            (_, _, _, Some(id)) => lookup.run_id = Some(id),
            _ => {}
        }
    }
    Ok(lookup)
}

/// Records UIDLs that were not downloaded (skipped for size, or ignored at the first fetch).
pub async fn record_uidls(
    conn: &mut PgConnection,
    account_id: Uuid,
    disposition: Disposition,
    entries: &[(String, Option<i64>)],
    recorded_at: OffsetDateTime,
) -> Result<(), StoreError> {
    let (uidls, sizes): (Vec<&str>, Vec<Option<i64>>) = entries
        .iter()
        .map(|(uidl, size)| (uidl.as_str(), *size))
        .unzip();
    sqlx::query(
        "INSERT INTO account_uidls (account_id, uidl, disposition, size_bytes, recorded_at)
         SELECT $1, u.uidl, $2, u.size, $5 FROM unnest($3::text[], $4::bigint[]) AS u(uidl, size)
         ON CONFLICT (account_id, uidl) DO NOTHING",
    )
    .bind(account_id)
    .bind(disposition)
    .bind(&uidls)
    .bind(&sizes)
    .bind(recorded_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The first fetch of an "only new mail" account: every UIDL present now is ignored.
pub async fn record_baseline(
    pool: &PgPool,
    account_id: Uuid,
    uidls: &[(String, Option<i64>)],
    recorded_at: OffsetDateTime,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    // The account first (the lock order of `finish_run`); gone means removed meanwhile.
    super::touched(
        sqlx::query("UPDATE accounts SET baseline_at = $2 WHERE id = $1")
            .bind(account_id)
            .bind(recorded_at)
            .execute(&mut *tx)
            .await?,
    )?;
    record_uidls(
        &mut tx,
        account_id,
        Disposition::Ignored,
        uidls,
        recorded_at,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// "Check mail now": makes the account due and wakes a scheduler on any replica. Lifts
/// nothing else — a paused account stays paused until the user fixes what paused it.
pub async fn check_now(pool: &PgPool, user_id: Uuid, account_id: Uuid) -> Result<(), StoreError> {
    mark_due(pool, user_id, account_id, Announce::No).await
}

/// As [`check_now`], and the run that follows announces its start on
/// [`RUN_STARTED_CHANNEL`]: for a caller that waits for it.
pub async fn check_now_awaited(
    pool: &PgPool,
    user_id: Uuid,
    account_id: Uuid,
) -> Result<(), StoreError> {
    mark_due(pool, user_id, account_id, Announce::Yes).await
}

async fn mark_due(
    pool: &PgPool,
    user_id: Uuid,
    account_id: Uuid,
    announce: Announce,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let updated = sqlx::query(
        "UPDATE accounts SET next_check_at = now(), check_requested_at = now(),
             run_awaited = run_awaited OR $3
         WHERE id = $1 AND user_id = $2",
    )
    .bind(account_id)
    .bind(user_id)
    .bind(announce == Announce::Yes)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHECK_NOW_CHANNEL)
        .bind(account_id.to_string())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// When the next account becomes due (or its lease expires), for the scheduler's sleep.
pub async fn next_due_in(pool: &PgPool) -> Result<Option<Duration>, StoreError> {
    let (seconds,): (Option<f64>,) = sqlx::query_as(
        "SELECT extract(epoch FROM min(GREATEST(next_check_at, COALESCE(lease_expires_at, next_check_at))) - now())::float8
         FROM accounts WHERE enabled AND paused_reason IS NULL",
    )
    .fetch_one(pool)
    .await?;
    Ok(seconds.map(|s| Duration::from_secs_f64(s.max(0.0))))
}

/// Accounts that are due but not yet claimed by anyone: the scheduler's lag.
pub async fn due_unclaimed(pool: &PgPool) -> Result<i64, StoreError> {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM accounts
         WHERE enabled AND paused_reason IS NULL AND next_check_at <= now()
           AND (lease_expires_at IS NULL OR lease_expires_at < now())",
    )
    .fetch_one(pool)
    .await?;
    Ok(count)
}

/// Every account, for the operator's `tributary account status`.
pub async fn all_accounts(conn: &mut PgConnection) -> Result<Vec<Account>, StoreError> {
    Ok(sqlx::query_as::<_, Account>(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY email, lower(label), created_at"
    ))
    .fetch_all(conn)
    .await?)
}

/// Gives a claimed account back (the scheduler claimed more than it can run). It was
/// due when claimed, so it is due again at once — the claim had moved its next check to
/// the lease's end, which would make it wait a whole lease behind busy neighbours.
pub async fn release(pool: &PgPool, owner: &str, account_id: Uuid) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE accounts SET lease_owner = NULL, lease_expires_at = NULL, next_check_at = now()
         WHERE id = $1 AND lease_owner = $2",
    )
    .bind(account_id)
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(())
}

/// Deletes up to `batch` finished runs that the history no longer shows: those that
/// started before `quiet_before` and found nothing (a success with no message fetched or
/// skipped), and every run that started before `any_before`. An account's latest run is
/// kept whatever its age: the accounts page says when it was last checked from it.
/// Returns how many were deleted.
pub async fn prune_runs(
    pool: &PgPool,
    quiet_before: OffsetDateTime,
    any_before: OffsetDateTime,
    batch: i64,
) -> Result<u64, StoreError> {
    // Only finished rows, which no worker writes again: no account row is needed first
    // (the lock order of `finish_run`), and a removal of the account waits at most for
    // this batch.
    let deleted = sqlx::query(
        "DELETE FROM fetch_runs WHERE id IN (
             SELECT r.id FROM fetch_runs r
             WHERE r.started_at < GREATEST($1, $2) AND r.finished_at IS NOT NULL
               AND (r.started_at < $2
                    OR (r.outcome = 'success' AND r.messages_fetched = 0
                        AND r.messages_skipped = 0))
               AND EXISTS (SELECT 1 FROM fetch_runs newer
                           WHERE newer.account_id = r.account_id
                             AND newer.started_at > r.started_at)
             LIMIT $3
             FOR UPDATE SKIP LOCKED)",
    )
    .bind(quiet_before)
    .bind(any_before)
    .bind(batch)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(deleted)
}

/// One fetch run as the accounts page shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRow {
    pub id: i64,
    pub account_id: Uuid,
    pub trigger: Trigger,
    pub started_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    pub outcome: RunOutcome,
    pub messages_fetched: i32,
    pub bytes_fetched: i64,
    pub messages_skipped: i32,
    /// English, for the API.
    pub error_message: Option<String>,
    /// The same as a catalogue message (JSON of [`Text`]); `None` on older rows.
    pub error_text: Option<String>,
}

const RUN_COLUMNS: &str = "id, account_id, trigger, started_at, finished_at, outcome, \
     messages_fetched, bytes_fetched, messages_skipped, error_message, \
     error_text::text AS error_text";

/// The latest runs of one of the user's accounts, newest first.
pub async fn recent_runs(
    conn: &mut PgConnection,
    user_id: Uuid,
    account_id: Uuid,
    limit: i64,
) -> Result<Vec<RunRow>, StoreError> {
    Ok(sqlx::query_as::<_, RunRow>(&format!(
        "SELECT {RUN_COLUMNS} FROM fetch_runs WHERE user_id = $1 AND account_id = $2
         ORDER BY started_at DESC, id DESC LIMIT $3"
    ))
    .bind(user_id)
    .bind(account_id)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// The latest run of each of the user's accounts.
pub async fn latest_runs(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Vec<RunRow>, StoreError> {
    Ok(sqlx::query_as::<_, RunRow>(&format!(
        "SELECT DISTINCT ON (account_id) {RUN_COLUMNS} FROM fetch_runs WHERE user_id = $1
         ORDER BY account_id, started_at DESC, id DESC"
    ))
    .bind(user_id)
    .fetch_all(conn)
    .await?)
}

/// A message left on the server because it is larger than the account's limit.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SkippedMessage {
    pub uidl: String,
    pub size_bytes: Option<i64>,
    pub recorded_at: OffsetDateTime,
}

pub async fn skipped_messages(
    conn: &mut PgConnection,
    user_id: Uuid,
    account_id: Uuid,
) -> Result<Vec<SkippedMessage>, StoreError> {
    Ok(sqlx::query_as::<_, SkippedMessage>(
        "SELECT u.uidl, u.size_bytes, u.recorded_at FROM account_uidls u
         JOIN accounts a ON a.id = u.account_id
         WHERE a.user_id = $1 AND u.account_id = $2 AND u.disposition = 'skipped'
         ORDER BY u.recorded_at DESC LIMIT 100",
    )
    .bind(user_id)
    .bind(account_id)
    .fetch_all(conn)
    .await?)
}

/// The user's accounts a worker holds a lease on right now (being checked).
pub async fn leased_accounts(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Vec<Uuid>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM accounts WHERE user_id = $1 AND lease_expires_at > now()",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await?)
}

/// The latest run of one of the user's accounts that started at or after `since`.
pub async fn run_started_since(
    conn: &mut PgConnection,
    user_id: Uuid,
    account_id: Uuid,
    since: OffsetDateTime,
) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM fetch_runs WHERE user_id = $1 AND account_id = $2 AND started_at >= $3
         ORDER BY started_at DESC, id DESC LIMIT 1",
    )
    .bind(user_id)
    .bind(account_id)
    .bind(since)
    .fetch_optional(conn)
    .await?)
}
