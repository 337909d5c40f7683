//! Background upkeep: messages stored by earlier versions are brought up to date, and the
//! run history is pruned.

use std::time::Duration;

use tributary::maintenance::{prune_run_history, reindex_legacy_search};

use crate::helpers::web::deliver;
use crate::helpers::{TestDb, add_account, add_user, test_key_ring};

#[tokio::test]
async fn older_search_vectors_are_redone_in_batches_and_locked_rows_wait_their_turn() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let user = add_user(&db, "legacy").await;
    let account = add_account(&db, &ring, user.id, "old", "pw").await;
    for i in 0..249 {
        let raw = format!(
            "From: Sender {i} <s{i}@example.org>\r\nSubject: note {i}\r\n\r\nplain body {i}\r\n"
        );
        deliver(&db, user.id, account.id, &format!("u{i}"), raw.as_bytes()).await;
    }
    let special = deliver(
        &db,
        user.id,
        account.id,
        "special",
        b"From: Old <old@example.org>\r\nSubject: Archive\r\n\r\nsend an e-mail to zanzibar\r\n",
    )
    .await;
    // As an older version left them: PostgreSQL's vectors, flagged.
    sqlx::query(
        "UPDATE messages SET search = to_tsvector('simple', subject), search_legacy = true",
    )
    .execute(&db.pool)
    .await
    .expect("old-style vectors");

    // Another transaction holds one row: it is skipped, not waited for.
    let mut holder = db.pool.begin().await.expect("begin");
    sqlx::query("SELECT 1 FROM messages WHERE id = $1 FOR UPDATE")
        .bind(special)
        .execute(&mut *holder)
        .await
        .expect("hold");
    let first = tokio::time::timeout(
        Duration::from_secs(30),
        reindex_legacy_search(&db.pool, 100, Duration::ZERO),
    )
    .await
    .expect("does not wait for the held row")
    .expect("reindex");
    assert_eq!(first.messages, 249);
    assert_eq!(first.batches, 3, "100 + 100 + 49");
    let legacy: Vec<i64> = sqlx::query_scalar("SELECT id FROM messages WHERE search_legacy")
        .fetch_all(&db.pool)
        .await
        .expect("legacy ids");
    assert_eq!(legacy, [special]);
    holder.rollback().await.expect("release");

    let second = reindex_legacy_search(&db.pool, 100, Duration::ZERO)
        .await
        .expect("reindex");
    assert_eq!(second.messages, 1);
    let none = reindex_legacy_search(&db.pool, 100, Duration::ZERO)
        .await
        .expect("reindex");
    assert_eq!(none.messages, 0);

    // Every vector is now exactly the one a new message gets, body and addresses included.
    let rows: Vec<(i64, Vec<u8>, bool)> =
        sqlx::query_as("SELECT id, raw, search_legacy FROM messages ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .expect("rows");
    for (id, raw, legacy) in rows {
        assert!(!legacy, "{id}");
        let expected = tributary::mail::search::document_vector(
            &tributary::mail::fields::parse(&raw).search_text,
        );
        let same: bool =
            sqlx::query_scalar("SELECT search = $2::tsvector FROM messages WHERE id = $1")
                .bind(id)
                .bind(&expected)
                .fetch_one(&db.pool)
                .await
                .expect("compare");
        assert!(same, "message {id}");
    }
    let query = tributary::mail::search::query("old@example.org e-mail").expect("a query");
    let found: Vec<i64> = sqlx::query_scalar("SELECT id FROM messages WHERE search @@ $1::tsquery")
        .bind(&query)
        .fetch_all(&db.pool)
        .await
        .expect("search");
    assert_eq!(found, [special], "found by address and body, the new way");
}

#[tokio::test]
async fn older_messages_get_digests_and_a_message_offered_again_is_not_stored_twice() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let user = add_user(&db, "digests").await;
    let account = add_account(&db, &ring, user.id, "old", "pw").await;
    let other = add_account(&db, &ring, user.id, "other", "pw").await;
    let raw = |i: usize| format!("Subject: old {i}\r\nFrom: a@example.org\r\n\r\nbody {i}\r\n");
    for i in 0..230 {
        deliver(
            &db,
            user.id,
            account.id,
            &format!("u{i}"),
            raw(i).as_bytes(),
        )
        .await;
    }
    // Stored before digests existed, including a duplicate that an older version let in
    // (a renumbered UIDL) — and the same bytes in another account, which is no duplicate.
    sqlx::query("UPDATE messages SET raw_sha256 = NULL")
        .execute(&db.pool)
        .await
        .expect("as before");
    for (account_id, uidl) in [(account.id, "renumbered-7"), (other.id, "elsewhere-7")] {
        sqlx::query(
            "INSERT INTO messages (user_id, account_id, uidl, size_bytes, raw) \
             VALUES ($1, $2, $3, 1, $4)",
        )
        .bind(user.id)
        .bind(account_id)
        .bind(uidl)
        .bind(raw(7).as_bytes())
        .execute(&db.pool)
        .await
        .expect("an old duplicate");
    }

    let filled = tributary::maintenance::backfill_digests(&db.pool, 100, Duration::ZERO)
        .await
        .expect("backfill");
    assert_eq!(filled, 231, "every message but the duplicate");
    let missing: Vec<String> =
        sqlx::query_scalar("SELECT uidl FROM messages WHERE raw_sha256 IS NULL")
            .fetch_all(&db.pool)
            .await
            .expect("missing");
    assert_eq!(missing, ["renumbered-7"], "the later copy keeps none");
    let wrong: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM messages WHERE raw_sha256 IS NOT NULL AND raw_sha256 <> sha256(raw)",
    )
    .fetch_one(&db.pool)
    .await
    .expect("check");
    assert_eq!(wrong, 0);
    assert_eq!(
        tributary::maintenance::backfill_digests(&db.pool, 100, Duration::ZERO)
            .await
            .expect("again"),
        0
    );

    // An old message offered again under a new UIDL is recognised; new mail is not.
    let mut conn = db.pool.acquire().await.expect("connection");
    for (uidl, bytes, expected) in [
        ("new-uidl-for-3", raw(3), false),
        ("brand-new", raw(999), true),
    ] {
        let message = tributary::store::messages::NewMessage {
            uidl: uidl.to_owned(),
            fields: tributary::mail::fields::parse(bytes.as_bytes()),
            raw: bytes.into_bytes(),
        };
        let inserted = tributary::store::messages::insert(
            &mut conn,
            user.id,
            account.id,
            time::OffsetDateTime::now_utc(),
            &message,
            tributary::store::messages::Origin::Fetched,
        )
        .await
        .expect("insert");
        assert_eq!(inserted, expected, "{uidl}");
    }
    let known: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM account_uidls WHERE account_id = $1 AND uidl = 'new-uidl-for-3'",
    )
    .bind(account.id)
    .fetch_one(&db.pool)
    .await
    .expect("uidl");
    assert_eq!(
        known, 1,
        "the new UIDL is known, so it is not fetched again"
    );
}

/// Messages an older version stored with replacement characters (its parser decoded each
/// encoded-word alone) are read again and found by the words they really hold.
#[tokio::test]
async fn subjects_stored_with_replacement_characters_are_read_again() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let user = add_user(&db, "broken").await;
    let account = add_account(&db, &ring, user.id, "old", "pw").await;
    let split = deliver(
        &db,
        user.id,
        account.id,
        "split",
        b"From: =?UTF-8?Q?Ren=C3?= =?UTF-8?Q?=A9e?= <r@example.org>\r\n\
          Subject: =?UTF-8?Q?ordre_du_jour_r=C3=A9vis=C3?= =?UTF-8?Q?=A9?=\r\n\r\nbody\r\n",
    )
    .await;
    let fine = deliver(
        &db,
        user.id,
        account.id,
        "fine",
        b"From: a@example.org\r\nSubject: all good\r\n\r\nbody\r\n",
    )
    .await;
    // As the older version left them.
    sqlx::query(
        "UPDATE messages SET subject = 'ordre du jour r\u{FFFD}vis\u{FFFD}', \
         from_name = 'Ren\u{FFFD}e', search = to_tsvector('simple', 'ordre') WHERE id = $1",
    )
    .bind(split)
    .execute(&db.pool)
    .await
    .expect("old-style row");

    let reread = tributary::maintenance::reread_broken_headers(&db.pool, 100, Duration::ZERO)
        .await
        .expect("reread");
    assert_eq!(reread, 1, "only the broken message is read again");
    let (subject, name): (String, String) =
        sqlx::query_as("SELECT subject, from_name FROM messages WHERE id = $1")
            .bind(split)
            .fetch_one(&db.pool)
            .await
            .expect("row");
    assert_eq!(subject, "ordre du jour révisé");
    assert_eq!(name, "Renée");
    // The search vector is the one a new message gets: the repaired words are findable.
    let (stored, expected): (String, String) =
        sqlx::query_as("SELECT search::text, $2::tsvector::text FROM messages WHERE id = $1")
            .bind(split)
            .bind(tributary::mail::search::document_vector(
                &tributary::mail::fields::parse(
                    b"From: =?UTF-8?Q?Ren=C3?= =?UTF-8?Q?=A9e?= <r@example.org>\r\n\
              Subject: =?UTF-8?Q?ordre_du_jour_r=C3=A9vis=C3?= =?UTF-8?Q?=A9?=\r\n\r\nbody\r\n",
                )
                .search_text,
            ))
            .fetch_one(&db.pool)
            .await
            .expect("vectors");
    assert_eq!(stored, expected);
    assert!(
        stored.contains("'révisé'") || stored.contains("revise"),
        "{stored}"
    );
    let untouched: String = sqlx::query_scalar("SELECT subject FROM messages WHERE id = $1")
        .bind(fine)
        .fetch_one(&db.pool)
        .await
        .expect("row");
    assert_eq!(untouched, "all good");
    let again = tributary::maintenance::reread_broken_headers(&db.pool, 100, Duration::ZERO)
        .await
        .expect("reread");
    assert_eq!(again, 0);
}

#[tokio::test]
async fn the_run_history_forgets_quiet_checks_after_a_day_and_everything_after_90_days() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let user = add_user(&db, "history").await;
    let busy = add_account(&db, &ring, user.id, "busy", "pw").await;
    let forgotten = add_account(&db, &ring, user.id, "forgotten", "pw").await;
    let now = time::OffsetDateTime::now_utc();
    let hours = time::Duration::hours;
    // (account, label, started this long ago, outcome, fetched, skipped, finished)
    let runs = [
        (
            busy.id,
            "quiet, two days old",
            hours(48),
            "success",
            0,
            0,
            true,
        ),
        (
            busy.id,
            "quiet, two hours old",
            hours(2),
            "success",
            0,
            0,
            true,
        ),
        (
            busy.id,
            "mail, 30 days old",
            hours(30 * 24),
            "success",
            3,
            0,
            true,
        ),
        (
            busy.id,
            "skipped one, two days old",
            hours(48),
            "success",
            0,
            1,
            true,
        ),
        (
            busy.id,
            "failed, two days old",
            hours(49),
            "temporary_error",
            0,
            0,
            true,
        ),
        (
            busy.id,
            "failed, 100 days old",
            hours(100 * 24),
            "auth_error",
            0,
            0,
            true,
        ),
        (
            busy.id,
            "mail, 100 days old",
            hours(100 * 24 + 1),
            "success",
            5,
            0,
            true,
        ),
        (
            busy.id,
            "left open, three days old",
            hours(72),
            "running",
            0,
            0,
            false,
        ),
        (
            busy.id,
            "quiet, three days old",
            hours(73),
            "success",
            0,
            0,
            true,
        ),
        // The account's only run: the accounts page says "last checked" from it.
        (
            forgotten.id,
            "quiet, 200 days old",
            hours(200 * 24),
            "success",
            0,
            0,
            true,
        ),
    ];
    for (account, label, age, outcome, fetched, skipped, finished) in runs {
        let started = now - age;
        sqlx::query(
            "INSERT INTO fetch_runs (account_id, user_id, trigger, worker, started_at,
                 finished_at, outcome, messages_fetched, messages_skipped, error_message)
             VALUES ($1, $2, 'schedule', 'test', $3, $4, $5, $6, $7, $8)",
        )
        .bind(account)
        .bind(user.id)
        .bind(started)
        .bind(finished.then_some(started + time::Duration::seconds(1)))
        .bind(outcome)
        .bind(fetched)
        .bind(skipped)
        .bind(label)
        .execute(&db.pool)
        .await
        .expect("run");
    }

    // Two rows per statement: the pass goes on until a statement deletes fewer.
    let deleted = prune_run_history(&db.pool, now, 2, Duration::ZERO)
        .await
        .expect("prune");
    let kept: Vec<String> =
        sqlx::query_scalar("SELECT error_message FROM fetch_runs ORDER BY started_at DESC")
            .fetch_all(&db.pool)
            .await
            .expect("kept");
    assert_eq!(
        kept,
        [
            "quiet, two hours old",
            "skipped one, two days old",
            "failed, two days old",
            "left open, three days old",
            "mail, 30 days old",
            "quiet, 200 days old",
        ]
    );
    assert_eq!(deleted, 4, "quiet ×2, and both runs older than 90 days");
    // Nothing more to do: a second pass deletes nothing.
    assert_eq!(
        prune_run_history(&db.pool, now, 2, Duration::ZERO)
            .await
            .expect("prune again"),
        0
    );
}
