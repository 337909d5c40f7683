//! Background upkeep: messages stored with PostgreSQL's search vectors get Tributary's.

use std::time::Duration;

use tributary::maintenance::reindex_legacy_search;

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
