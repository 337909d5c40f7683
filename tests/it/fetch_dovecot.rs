//! The fetch engine against a real Dovecot: exactly once, the leave-on-server policies,
//! "only new mail", size limits, and a rejected password.

use tributary::crypto::Secret;
use tributary::model::{ErrorClass, PausedReason, RunOutcome};
use tributary::store::accounts::{self, ImportMode, LeavePolicy, Security};

use tributary::fetch::worker::LeaseSettings;
use tributary::fetch::{FetchOutcome, Fetcher, fetch_account};
use tributary::store::fetch::{Claimed, Trigger};

use crate::helpers::{
    Dovecot, StatementCounter, TestClock, TestDb, add_server_account, add_user, deliver_samples,
    digests, fetch_now, lease_settings, reload, sample_message, stored_messages, test_fetcher,
    test_fetcher_on, test_key_ring,
};

const USER: &str = "alice";
const PASSWORD: &str = "alice's password";

fn deliver(dovecot: &Dovecot, from: usize, to: usize) -> Vec<Vec<u8>> {
    deliver_samples(dovecot, USER, from..to, |i| 2_000 + i * 97)
}

/// Alice's account on the Dovecot's plaintext port, leaving mail on the server as `leave`.
async fn plain_account(
    db: &TestDb,
    ring: &tributary::crypto::KeyRing,
    dovecot: &Dovecot,
    user_id: uuid::Uuid,
    leave: LeavePolicy,
) -> accounts::Account {
    add_server_account(
        db,
        ring,
        user_id,
        dovecot.plain_port,
        Security::PlaintextDangerous,
        (USER, PASSWORD),
        |a| a.leave_on_server = leave,
    )
    .await
}

/// Claims the one due account as the scheduler does.
async fn claim_scheduled(db: &TestDb, settings: &LeaseSettings) -> Claimed {
    let claimed =
        tributary::store::fetch::claim_due(&db.pool, &settings.owner, settings.lease, 10, &[])
            .await
            .expect("claim");
    assert_eq!(claimed.len(), 1, "the account is due");
    claimed.into_iter().next().expect("claimed")
}

/// Runs a claimed account as the scheduler does; the run must succeed.
async fn run_scheduled(
    fetcher: &Fetcher,
    settings: &LeaseSettings,
    claimed: Claimed,
) -> FetchOutcome {
    let (_keep, stop) = tokio::sync::watch::channel(false);
    let outcome = fetch_account(fetcher, settings, claimed, Trigger::Schedule, stop)
        .await
        .expect("run recorded");
    assert_eq!(
        outcome.outcome,
        RunOutcome::Success,
        "{:?}",
        outcome.report.error
    );
    outcome
}

#[tokio::test]
async fn new_mail_between_polls_is_stored_exactly_once() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let dovecot = Dovecot::start(&[(USER, PASSWORD)]).await;
    let user = add_user(&db, "fetch-once").await;
    let account = add_server_account(
        &db,
        &ring,
        user.id,
        dovecot.tls_port,
        Security::Tls,
        (USER, PASSWORD),
        |a| {
            a.tls_ca_pem = Some(dovecot.certs.ca_pem.clone());
        },
    )
    .await;
    let fetcher = test_fetcher(&db, &ring);

    let mut sent = deliver(&dovecot, 0, 3);
    let first = fetch_now(&fetcher, account.id).await;
    assert_eq!(
        first.outcome,
        RunOutcome::Success,
        "{:?}",
        first.report.error
    );
    assert_eq!(first.report.messages, 3);
    assert_eq!(
        first.report.bytes,
        sent.iter().map(|m| m.len() as u64).sum::<u64>()
    );

    let again = fetch_now(&fetcher, account.id).await;
    assert_eq!(
        (again.outcome, again.report.messages),
        (RunOutcome::Success, 0)
    );

    sent.extend(deliver(&dovecot, 3, 5));
    let later = fetch_now(&fetcher, account.id).await;
    assert_eq!(
        (later.outcome, later.report.messages),
        (RunOutcome::Success, 2)
    );

    let stored = stored_messages(&db, account.id).await;
    assert_eq!(stored.len(), 5);
    assert_eq!(
        digests(stored.into_iter().map(|(_, raw)| raw)),
        digests(sent)
    );
    assert_eq!(dovecot.stored(USER), 5, "keep leaves mail on the server");

    // Parsed fields are there for the lists; the run history and status are written.
    let (subject, from, snippet): (String, String, String) = sqlx::query_as(
        "SELECT subject, from_address, snippet FROM messages WHERE account_id = $1 AND subject = 'message 4'",
    )
    .bind(account.id)
    .fetch_one(&db.pool)
    .await
    .expect("message 4");
    assert_eq!(from, "s4@example.org");
    assert_eq!(subject, "message 4");
    assert!(snippet.starts_with(".leading dot line 4"), "{snippet}");
    let runs: Vec<(String, i32)> = sqlx::query_as(
        "SELECT outcome, messages_fetched FROM fetch_runs WHERE account_id = $1 ORDER BY id",
    )
    .bind(account.id)
    .fetch_all(&db.pool)
    .await
    .expect("runs");
    assert_eq!(
        runs,
        vec![
            ("success".into(), 3),
            ("success".into(), 0),
            ("success".into(), 2)
        ]
    );
    let account = reload(&db, &account).await;
    assert!(account.last_success_at.is_some());
    assert!(account.last_error_kind.is_none());
    assert!(account.next_check_at > time::OffsetDateTime::now_utc() + time::Duration::seconds(60));
    let (search_hits,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM messages WHERE account_id = $1 AND search @@ plainto_tsquery('simple', 'quick fox')",
    )
    .bind(account.id)
    .fetch_one(&db.pool)
    .await
    .expect("search");
    assert_eq!(search_hits, 5);
}

#[tokio::test]
async fn delete_after_fetch_empties_the_server_only_of_stored_mail() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let dovecot = Dovecot::start(&[(USER, PASSWORD)]).await;
    let user = add_user(&db, "fetch-delete").await;
    let account = add_server_account(
        &db,
        &ring,
        user.id,
        dovecot.plain_port,
        Security::StartTls,
        (USER, PASSWORD),
        |a| {
            a.tls_ca_pem = Some(dovecot.certs.ca_pem.clone());
            a.leave_on_server = LeavePolicy::Delete;
            a.max_message_bytes = Some(20_000);
        },
    )
    .await;
    let fetcher = test_fetcher(&db, &ring);
    let sent = deliver(&dovecot, 0, 4);
    // Too large for the account: skipped, recorded, and left on the server.
    dovecot.deliver(USER, "big.test", &sample_message(99, 50_000));

    let run = fetch_now(&fetcher, account.id).await;
    assert_eq!(run.outcome, RunOutcome::Success, "{:?}", run.report.error);
    assert_eq!(
        (run.report.messages, run.report.skipped, run.report.deleted),
        (4, 1, 4)
    );
    assert_eq!(dovecot.stored(USER), 1, "only the skipped message stays");
    let stored = stored_messages(&db, account.id).await;
    assert_eq!(
        digests(stored.into_iter().map(|(_, raw)| raw)),
        digests(sent)
    );

    // The skipped message is not downloaded again on every poll.
    let again = fetch_now(&fetcher, account.id).await;
    assert_eq!(
        (
            again.report.messages,
            again.report.skipped,
            again.report.deleted
        ),
        (0, 0, 0)
    );
    let (size,): (Option<i64>,) = sqlx::query_as(
        "SELECT size_bytes FROM account_uidls WHERE account_id = $1 AND disposition = 'skipped'",
    )
    .bind(account.id)
    .fetch_one(&db.pool)
    .await
    .expect("skipped row");
    assert!(size.is_some_and(|s| s > 20_000), "{size:?}");
}

#[tokio::test]
async fn delete_after_n_days_follows_the_clock() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let dovecot = Dovecot::start(&[(USER, PASSWORD)]).await;
    let user = add_user(&db, "fetch-days").await;
    let account = add_server_account(
        &db,
        &ring,
        user.id,
        dovecot.tls_port,
        Security::Tls,
        (USER, PASSWORD),
        |a| {
            a.tls_ca_pem = Some(dovecot.certs.ca_pem.clone());
            a.leave_on_server = LeavePolicy::DeleteAfterDays;
            a.delete_after_days = Some(3);
        },
    )
    .await;
    let clock = TestClock::new();
    let mut fetcher = test_fetcher(&db, &ring);
    fetcher.clock = clock.clone();

    deliver(&dovecot, 0, 2);
    assert_eq!(fetch_now(&fetcher, account.id).await.report.messages, 2);
    clock.advance(time::Duration::days(2));
    deliver(&dovecot, 2, 3);
    let day_two = fetch_now(&fetcher, account.id).await;
    assert_eq!((day_two.report.messages, day_two.report.deleted), (1, 0));
    assert_eq!(dovecot.stored(USER), 3);

    clock.advance(time::Duration::days(1) + time::Duration::minutes(1));
    let day_three = fetch_now(&fetcher, account.id).await;
    assert_eq!(
        day_three.report.deleted, 2,
        "the two stored three days ago go"
    );
    assert_eq!(dovecot.stored(USER), 1);

    clock.advance(time::Duration::days(2));
    assert_eq!(fetch_now(&fetcher, account.id).await.report.deleted, 1);
    assert_eq!(dovecot.stored(USER), 0);
    assert_eq!(stored_messages(&db, account.id).await.len(), 3);
}

#[tokio::test]
async fn only_new_mail_skips_what_was_already_there() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let dovecot = Dovecot::start(&[(USER, PASSWORD)]).await;
    let user = add_user(&db, "fetch-new").await;
    let account = add_server_account(
        &db,
        &ring,
        user.id,
        dovecot.tls_port,
        Security::Tls,
        (USER, PASSWORD),
        |a| {
            a.tls_ca_pem = Some(dovecot.certs.ca_pem.clone());
            a.import_mode = ImportMode::New;
            a.leave_on_server = LeavePolicy::Delete;
        },
    )
    .await;
    let fetcher = test_fetcher(&db, &ring);
    deliver(&dovecot, 0, 3);
    let first = fetch_now(&fetcher, account.id).await;
    assert_eq!(
        (first.outcome, first.report.messages),
        (RunOutcome::Success, 0)
    );
    let fresh = deliver(&dovecot, 3, 4);
    let second = fetch_now(&fetcher, account.id).await;
    assert_eq!((second.report.messages, second.report.deleted), (1, 1));
    let stored = stored_messages(&db, account.id).await;
    assert_eq!(
        digests(stored.into_iter().map(|(_, raw)| raw)),
        digests(fresh)
    );
    assert_eq!(
        dovecot.stored(USER),
        3,
        "old mail is neither fetched nor deleted"
    );
}

#[tokio::test]
async fn a_rejected_password_pauses_the_account_until_it_changes() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let dovecot = Dovecot::start(&[(USER, PASSWORD)]).await;
    let user = add_user(&db, "fetch-auth").await;
    let account = add_server_account(
        &db,
        &ring,
        user.id,
        dovecot.tls_port,
        Security::Tls,
        (USER, "wrong password"),
        |a| {
            a.tls_ca_pem = Some(dovecot.certs.ca_pem.clone());
        },
    )
    .await;
    let fetcher = test_fetcher(&db, &ring);
    deliver(&dovecot, 0, 1);
    let run = fetch_now(&fetcher, account.id).await;
    assert_eq!(run.outcome, RunOutcome::AuthError);
    let paused = reload(&db, &account).await;
    assert_eq!(paused.paused_reason.map(PausedReason::as_str), Some("auth"));
    assert_eq!(paused.last_error_kind.map(ErrorClass::as_str), Some("auth"));
    let message = paused.last_error_message.unwrap_or_default();
    assert!(message.contains("update the password"), "{message}");
    assert!(!message.contains("wrong password"), "{message}");

    // The scheduler leaves it alone, however due it is.
    sqlx::query("UPDATE accounts SET next_check_at = now() - interval '1 hour' WHERE id = $1")
        .bind(account.id)
        .execute(&db.pool)
        .await
        .expect("make due");
    let claimed = tributary::store::fetch::claim_due(
        &db.pool,
        "test",
        std::time::Duration::from_secs(30),
        10,
        &[],
    )
    .await
    .expect("claim");
    assert!(claimed.is_empty(), "a paused account is not polled");

    // New credentials lift the pause and the mail arrives.
    let mut conn = db.pool.acquire().await.expect("connection");
    accounts::set_password(
        &mut conn,
        &ring,
        user.id,
        account.id,
        &Secret::new(PASSWORD),
    )
    .await
    .expect("set password");
    drop(conn);
    assert!(reload(&db, &account).await.paused_reason.is_none());
    let run = fetch_now(&fetcher, account.id).await;
    assert_eq!((run.outcome, run.report.messages), (RunOutcome::Success, 1));
}

#[tokio::test]
async fn a_server_that_renumbers_its_uidls_does_not_duplicate_mail() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let dovecot = Dovecot::start(&[(USER, PASSWORD)]).await;
    let user = add_user(&db, "renumbered").await;
    let account = plain_account(&db, &ring, &dovecot, user.id, LeavePolicy::Keep).await;
    let fetcher = test_fetcher(&db, &ring);
    let mut sent = deliver(&dovecot, 0, 4);
    let first = fetch_now(&fetcher, account.id).await;
    assert_eq!(first.report.messages, 4, "{:?}", first.report.error);
    let uidls = || async {
        let mut all: Vec<String> =
            sqlx::query_scalar("SELECT uidl FROM account_uidls WHERE account_id = $1")
                .bind(account.id)
                .fetch_all(&db.pool)
                .await
                .expect("uidls");
        all.sort();
        all
    };
    let before = uidls().await;

    // Dovecot forgets its UIDs, as after a mailbox rebuild: a new UIDVALIDITY (it is the
    // time, so a second later), so every message gets a new UIDL.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    for entry in std::fs::read_dir(dovecot.maildir(USER)).expect("maildir") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == "dovecot-uidlist" || name.starts_with("dovecot.index") {
            std::fs::remove_file(&path).expect("forget the uids");
        }
    }
    sent.extend(deliver(&dovecot, 4, 5));

    let second = fetch_now(&fetcher, account.id).await;
    assert_eq!(
        second.outcome,
        RunOutcome::Success,
        "{:?}",
        second.report.error
    );
    assert_eq!(second.report.messages, 1, "only the new message is new");
    let after = uidls().await;
    assert_eq!(
        after.len(),
        9,
        "4 old UIDLs and 5 renumbered ones: {after:?}"
    );
    assert!(
        before
            .iter()
            .all(|old| after.iter().filter(|u| *u == old).count() == 1),
        "the renumbered UIDLs are all different"
    );
    let stored = stored_messages(&db, account.id).await;
    assert_eq!(
        digests(stored.into_iter().map(|(_, raw)| raw)),
        digests(sent),
        "each message once"
    );
    // And nothing comes in a third time.
    let third = fetch_now(&fetcher, account.id).await;
    assert_eq!(third.report.messages, 0);
}

/// Issue 16: what a run costs the database, counted on the wire. A poll that finds
/// nothing new is one statement (its history row, the account's status and the lease's
/// release together); a run with mail adds the UIDL lookup that also opens its history
/// row, and one statement per group of messages. On a pool of one connection, which also
/// shows that no step holds a connection while it waits for another.
#[tokio::test]
async fn an_empty_poll_is_one_statement_and_a_run_with_mail_three() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let dovecot = Dovecot::start(&[(USER, PASSWORD)]).await;
    let user = add_user(&db, "statements").await;
    // Fetched mail is deleted on the server, so the mailbox is empty again after it.
    let account = plain_account(&db, &ring, &dovecot, user.id, LeavePolicy::Delete).await;
    let counter = StatementCounter::start(&db).await;
    let fetcher = test_fetcher_on(counter.pool(&db, 1).await, &ring);
    let settings = lease_settings();
    // One scheduled run, claimed as the scheduler claims (outside the count); returns the
    // statements the run itself executed.
    let run = || async {
        sqlx::query("UPDATE accounts SET next_check_at = now() WHERE id = $1")
            .bind(account.id)
            .execute(&db.pool)
            .await
            .expect("due");
        let claimed = claim_scheduled(&db, &settings).await;
        let before = counter.statements();
        let outcome = run_scheduled(&fetcher, &settings, claimed).await;
        (counter.statements() - before, outcome.report.messages)
    };
    // The first runs on the connection also resolve the types the statements use.
    dovecot.deliver(USER, "1.test", &sample_message(1, 2_000));
    assert_eq!(run().await.1, 1);
    assert_eq!(run().await.1, 0);

    assert_eq!(run().await, (1, 0), "a poll of an empty mailbox");
    dovecot.deliver(USER, "2.test", &sample_message(2, 2_000));
    assert_eq!(run().await, (3, 1), "a run with one new message");
    assert_eq!(
        run().await,
        (1, 0),
        "a poll of the mailbox emptied by that run"
    );
    assert_eq!(stored_messages(&db, account.id).await.len(), 2);
    let (runs,): (i64,) = sqlx::query_as("SELECT count(*) FROM fetch_runs WHERE account_id = $1")
        .bind(account.id)
        .fetch_one(&db.pool)
        .await
        .expect("runs");
    assert_eq!(runs, 5, "every run has its history row");
}

/// "Check mail now" while a run is under way: that run may have listed the mailbox before
/// the new mail arrived, so another run follows at once. A check asked before the claim
/// is answered by the run itself.
#[tokio::test]
async fn check_now_during_a_run_is_answered_by_the_next_run_at_once() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let dovecot = Dovecot::start(&[(USER, PASSWORD)]).await;
    let user = add_user(&db, "impatient").await;
    let account = plain_account(&db, &ring, &dovecot, user.id, LeavePolicy::Keep).await;
    let fetcher = test_fetcher(&db, &ring);
    let settings = lease_settings();
    let (db, fetcher, settings) = (&db, &fetcher, &settings);
    let (user_id, account_id) = (user.id, account.id);
    // Claims the account as the scheduler does, asks "check now" before the claim or
    // after it (during the run), runs it; returns whether it is due again now.
    let run = |asked: Option<bool>| async move {
        if asked == Some(false) {
            tributary::fetch::check_now(&db.pool, user_id, account_id)
                .await
                .expect("check now");
        } else {
            sqlx::query("UPDATE accounts SET next_check_at = now() WHERE id = $1")
                .bind(account_id)
                .execute(&db.pool)
                .await
                .expect("due");
        }
        let claimed = claim_scheduled(db, settings).await;
        if asked == Some(true) {
            tributary::fetch::check_now(&db.pool, user_id, account_id)
                .await
                .expect("check now");
        }
        run_scheduled(fetcher, settings, claimed).await;
        let (due,): (bool,) =
            sqlx::query_as("SELECT next_check_at <= now() FROM accounts WHERE id = $1")
                .bind(account_id)
                .fetch_one(&db.pool)
                .await
                .expect("account");
        due
    };
    dovecot.deliver(USER, "1.test", &sample_message(1, 2_000));
    assert!(
        !run(None).await,
        "a scheduled run sets the next check later"
    );
    assert!(
        !run(Some(false)).await,
        "a check asked before the claim is this run"
    );
    assert!(
        run(Some(true)).await,
        "a check asked during the run is due at once"
    );
    assert!(!run(None).await, "and only once");
    assert_eq!(stored_messages(db, account_id).await.len(), 1);
}
