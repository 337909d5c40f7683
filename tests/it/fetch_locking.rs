//! A user removing an account while the fetch engine writes about it (a run finishing, a
//! first "only new mail" fetch recording its baseline, a shutdown releasing leases) must
//! never deadlock: PostgreSQL would abort one side, and the user would see a 500 (found
//! by the API contract fuzzing) or the run would be lost. Every such transaction locks
//! the account row before the rows that hang off it, as `accounts::delete` does.

use std::time::Duration;

use time::OffsetDateTime;
use tributary::model::ErrorClass;
use tributary::store::StoreError;
use tributary::store::accounts::{self, Security};
use tributary::store::fetch::{
    self, AccountStatus, Announce, RunEntry, RunOutcome, RunRecord, Trigger,
};

use crate::helpers::{TestDb, add_server_account, add_user, test_key_ring};

const ROUNDS: usize = 60;

#[derive(Clone, Copy, Debug)]
enum Writer {
    FinishRun,
    RecordBaseline,
    ReleaseAll,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_an_account_while_the_engine_writes_about_it_never_deadlocks() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let user = add_user(&db, "remover").await;
    for round in 0..ROUNDS {
        let writer = [
            Writer::FinishRun,
            Writer::RecordBaseline,
            Writer::ReleaseAll,
        ][round % 3];
        let account = add_server_account(
            &db,
            &ring,
            user.id,
            110,
            Security::PlaintextDangerous,
            ("someone", "pw"),
            |_| {},
        )
        .await;
        let owner = format!("locking-{round}");
        let claimed = fetch::claim_one(&db.pool, &owner, Duration::from_secs(60), account.id)
            .await
            .expect("claim")
            .expect("the account is free");
        // Every other finishing round writes a run row it never opened (a poll that found
        // nothing new), the others close the row they opened.
        let started_at = OffsetDateTime::now_utc();
        let opened = (round / 3) % 2 == 0;
        let run = RunEntry {
            id: if opened {
                Some(
                    fetch::start_run(
                        &db.pool,
                        &claimed,
                        Trigger::Manual,
                        &owner,
                        started_at,
                        Announce::No,
                    )
                    .await
                    .expect("start run"),
                )
            } else {
                None
            },
            announced: Announce::No,
            trigger: Trigger::Manual,
            started_at,
        };
        // Each side gets a connection of its own before the race starts, so both
        // statements really run at the same moment.
        let mut remover = db.pool.acquire().await.expect("connection");
        let engine = async {
            match writer {
                Writer::FinishRun => {
                    let record = RunRecord {
                        outcome: RunOutcome::TemporaryError,
                        messages: 0,
                        bytes: 0,
                        skipped: 0,
                        error_kind: Some(ErrorClass::Network),
                        error: Some(tributary::i18n::Text::new("io-refused")),
                    };
                    let status = AccountStatus {
                        next_check_in: Duration::from_secs(60),
                        interval_seconds: 120,
                        succeeded: false,
                        consecutive_failures: 1,
                        paused_reason: None,
                    };
                    fetch::finish_run(&db.pool, &owner, &claimed, run, &record, &status)
                        .await
                        .map(|_| ())
                }
                Writer::RecordBaseline => {
                    let uidls: Vec<(String, Option<i64>)> =
                        (0..50).map(|i| (format!("uidl-{i}"), Some(100))).collect();
                    fetch::record_baseline(&db.pool, account.id, &uidls, OffsetDateTime::now_utc())
                        .await
                }
                Writer::ReleaseAll => fetch::release_all(&db.pool, &owner).await.map(|_| ()),
            }
        };
        let removal = accounts::delete(&mut remover, user.id, account.id, true);
        let (engine, removal) = tokio::join!(engine, removal);
        // The engine may find the account already gone (then it has nothing to write);
        // it must not fail for any other reason.
        assert!(
            matches!(engine, Ok(()) | Err(StoreError::NotFound)),
            "round {round}: {writer:?} failed while the account was removed: {engine:?}"
        );
        assert!(
            removal.is_ok(),
            "round {round}: removing the account failed while {writer:?} ran: {removal:?}"
        );
        let left: (i64,) = sqlx::query_as("SELECT count(*) FROM accounts WHERE id = $1")
            .bind(account.id)
            .fetch_one(&db.pool)
            .await
            .expect("count");
        assert_eq!(left.0, 0, "round {round}: the account is gone");
    }
}
