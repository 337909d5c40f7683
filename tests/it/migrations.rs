use sqlx::Row as _;

use crate::helpers::{TestDb, add_user};

#[tokio::test]
async fn migrations_build_the_schema_from_an_empty_database() {
    let db = TestDb::empty().await;
    tributary::store::migrate(&db.pool)
        .await
        .expect("first run");
    // A second run (another replica, a restart) changes nothing and does not fail.
    tributary::store::migrate(&db.pool)
        .await
        .expect("second run");

    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%' ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .expect("tables");
    assert_eq!(
        tables,
        [
            "account_uidls",
            "accounts",
            "api_tokens",
            "fetch_runs",
            "login_failures",
            "messages",
            "oauth_flows",
            "oauth_grants",
            "outbox",
            "outbox_attachments",
            "sending_identities",
            "sessions",
            "users"
        ]
    );

    let raw = sqlx::query(
        "SELECT format_type(atttypid, atttypmod) AS type, attstorage::text AS storage
         FROM pg_attribute WHERE attrelid = 'messages'::regclass AND attname = 'raw'",
    )
    .fetch_one(&db.pool)
    .await
    .expect("raw column");
    assert_eq!(raw.get::<String, _>("type"), "bytea");
    assert_eq!(
        raw.get::<String, _>("storage"),
        "e",
        "raw bytes skip pglz (STORAGE EXTERNAL)"
    );
}

#[tokio::test]
async fn a_message_is_stored_once_per_account_and_uidl() {
    let db = TestDb::new().await;
    let user = add_user(&db, "ann").await;
    let ring = crate::helpers::test_key_ring();
    let account = crate::helpers::add_account(&db, &ring, user.id, "work", "pw-1").await;
    let insert = "INSERT INTO messages (user_id, account_id, uidl, size_bytes, raw)
                  VALUES ($1, $2, $3, 3, '\\x616263')";
    sqlx::query(insert)
        .bind(user.id)
        .bind(account.id)
        .bind("uidl-1")
        .execute(&db.pool)
        .await
        .expect("first copy");
    let again = sqlx::query(insert)
        .bind(user.id)
        .bind(account.id)
        .bind("uidl-1")
        .execute(&db.pool)
        .await
        .expect_err("second copy refused");
    let code = again
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned());
    assert_eq!(code.as_deref(), Some("23505"));

    // A message cannot claim an account of another user.
    let bob = add_user(&db, "bob").await;
    let foreign = sqlx::query(insert)
        .bind(bob.id)
        .bind(account.id)
        .bind("uidl-2")
        .execute(&db.pool)
        .await
        .expect_err("foreign account refused");
    let code = foreign
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned());
    assert_eq!(code.as_deref(), Some("23503"));
}

#[tokio::test]
async fn connecting_creates_a_missing_database() {
    let name = TestDb::unique_name();
    let url = format!(
        "{}/{name}",
        std::env::var("TRIBUTARY_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
    );
    let pool = tributary::store::connect(&url)
        .await
        .expect("connect creates the database");
    tributary::store::migrate(&pool).await.expect("migrate");
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await
        .expect("query");
    assert_eq!(users, 0);
    pool.close().await;
    TestDb::drop_database(&name).await;
}
