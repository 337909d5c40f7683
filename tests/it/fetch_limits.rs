//! The limits that keep one run from hurting the rest: a run stalled in the database ends
//! at its time limit (and loses nothing), and all runs share one memory budget.

use std::time::{Duration, Instant};

use tributary::fetch::FetchError;
use tributary::model::{ErrorClass, RunOutcome};
use tributary::store::accounts::{Account, LeavePolicy, Security};

use crate::helpers::{
    Dovecot, TestDb, add_server_account, add_user, deliver_samples, digests, fetch_now, reload,
    stored_digests, test_fetcher, test_key_ring,
};

fn deliver(dovecot: &Dovecot, user: &str, count: usize) -> Vec<[u8; 32]> {
    digests(deliver_samples(dovecot, user, 0..count, |i| {
        3_000 + i * 211
    }))
}

async fn dovecot_account(
    db: &TestDb,
    ring: &tributary::crypto::KeyRing,
    dovecot: &Dovecot,
    (user, password): (&str, &str),
) -> Account {
    let owner = add_user(db, &format!("limits-{user}")).await;
    add_server_account(
        db,
        ring,
        owner.id,
        dovecot.plain_port,
        Security::PlaintextDangerous,
        (user, password),
        |a| a.leave_on_server = LeavePolicy::Delete,
    )
    .await
}

#[tokio::test]
async fn a_run_stalled_in_the_database_stops_at_its_time_limit_and_loses_nothing() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let dovecot = Dovecot::start(&[("stall", "stall pw")]).await;
    let account = dovecot_account(&db, &ring, &dovecot, ("stall", "stall pw")).await;
    let sent = deliver(&dovecot, "stall", 6);

    let mut fetcher = test_fetcher(&db, &ring);
    fetcher.timeouts.connect = Duration::from_secs(2);
    fetcher.timeouts.tls_handshake = Duration::from_secs(2);
    fetcher.timeouts.session = Duration::from_secs(3);
    fetcher.run_grace = Duration::from_secs(1);
    let limit = fetcher.run_limit();
    assert_eq!(limit, Duration::from_secs(8));

    // Another transaction holds the messages table: every insert waits, as it would on a
    // database that stopped answering.
    let mut blocker = db.pool.begin().await.expect("begin");
    sqlx::query("LOCK TABLE messages IN EXCLUSIVE MODE")
        .execute(&mut *blocker)
        .await
        .expect("lock");

    let started = Instant::now();
    let stalled = tokio::time::timeout(Duration::from_secs(60), fetch_now(&fetcher, account.id))
        .await
        .expect("the run ends by itself");
    let took = started.elapsed();
    assert!(
        took >= limit && took < limit + Duration::from_secs(10),
        "stopped after {took:?}, limit {limit:?}"
    );
    assert_eq!(stalled.outcome, RunOutcome::TemporaryError);
    assert!(
        matches!(stalled.report.error, Some(FetchError::RunTimedOut(d)) if d == limit),
        "{:?}",
        stalled.report.error
    );
    let after = reload(&db, &account).await;
    assert_eq!(
        after.last_error_kind.map(ErrorClass::as_str),
        Some("timeout")
    );
    let message = after.last_error_message.clone().unwrap_or_default();
    assert!(
        message.starts_with("The check took longer than 8 seconds"),
        "{message}"
    );
    let (lease_owner, run_kind): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT a.lease_owner, r.error_kind FROM accounts a JOIN fetch_runs r ON r.id = $2 \
         WHERE a.id = $1",
    )
    .bind(account.id)
    .bind(stalled.run_id.expect("a run row"))
    .fetch_one(&db.pool)
    .await
    .expect("run row");
    assert_eq!(lease_owner, None, "the lease is released");
    assert_eq!(run_kind.as_deref(), Some("timeout"));
    // Nothing was committed, so nothing was deleted: the server still holds everything.
    assert_eq!(dovecot.stored("stall"), 6);

    blocker.rollback().await.expect("unlock");
    assert!(
        stored_digests(&db, account.id).await.is_empty(),
        "the stopped run's insert was rolled back"
    );

    // With the database answering again the next run takes everything, exactly once.
    let fetcher = test_fetcher(&db, &ring);
    let next = fetch_now(&fetcher, account.id).await;
    assert_eq!(next.outcome, RunOutcome::Success, "{:?}", next.report.error);
    assert_eq!(next.report.messages, 6);
    assert_eq!(stored_digests(&db, account.id).await, sent);
    assert_eq!(dovecot.stored("stall"), 0, "deleted once stored");
}

#[tokio::test]
async fn concurrent_runs_share_one_memory_budget_and_give_it_all_back() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let users = [("ann", "ann pw"), ("bob", "bob pw"), ("cat", "cat pw")];
    let dovecot = Dovecot::start(&users).await;
    let mut fetcher = test_fetcher(&db, &ring);
    // Every message takes the whole budget: only one message in the whole process may
    // wait for its writer at a time, and runs must take turns without getting stuck.
    fetcher.set_write_budget(1);
    fetcher.writers = 2;
    let mut accounts = Vec::new();
    for pair in users {
        let sent = deliver(&dovecot, pair.0, 150);
        accounts.push((dovecot_account(&db, &ring, &dovecot, pair).await, sent));
    }

    let runs = async {
        tokio::join!(
            fetch_now(&fetcher, accounts[0].0.id),
            fetch_now(&fetcher, accounts[1].0.id),
            fetch_now(&fetcher, accounts[2].0.id),
        )
    };
    let (first, second, third) = tokio::time::timeout(Duration::from_secs(120), runs)
        .await
        .expect("no run waits for ever on the shared budget");
    for ((account, sent), outcome) in accounts.iter().zip([first, second, third]) {
        assert_eq!(
            outcome.outcome,
            RunOutcome::Success,
            "{:?}",
            outcome.report.error
        );
        assert_eq!(outcome.report.messages, 150);
        assert_eq!(&stored_digests(&db, account.id).await, sent);
    }
    assert_eq!(fetcher.write_budget_available(), 1, "every share came back");
}
