use tributary::crypto::{CryptoError, Secret};
use tributary::store::{StoreError, accounts};

use crate::helpers::{TestDb, add_account, add_user, test_key_ring};

#[tokio::test]
async fn passwords_are_stored_sealed_and_open_only_for_their_own_row() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let ann = add_user(&db, "ann").await;
    let first = add_account(&db, &ring, ann.id, "first", "first-password-1").await;
    let second = add_account(&db, &ring, ann.id, "second", "second-password-2").await;

    // What the database holds is not the password.
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT password_ciphertext FROM accounts WHERE id = $1")
            .bind(first.id)
            .fetch_one(&db.pool)
            .await
            .expect("ciphertext");
    assert!(!stored.windows(16).any(|w| w == b"first-password-1"));

    // Copy the first row's sealed password onto the second row: it must not open there.
    sqlx::query(
        "UPDATE accounts AS target
         SET password_ciphertext = source.password_ciphertext,
             password_nonce = source.password_nonce,
             password_key_id = source.password_key_id
         FROM accounts AS source
         WHERE source.id = $1 AND target.id = $2",
    )
    .bind(first.id)
    .bind(second.id)
    .execute(&db.pool)
    .await
    .expect("copy ciphertext");
    let mut conn = db.pool.acquire().await.expect("connection");
    let copied = accounts::password(&mut conn, &ring, ann.id, second.id).await;
    assert!(
        matches!(copied, Err(StoreError::Crypto(CryptoError::Open))),
        "{copied:?}"
    );
    let original = accounts::password(&mut conn, &ring, ann.id, first.id)
        .await
        .expect("the original still opens");
    assert_eq!(original.expose(), "first-password-1");

    // A new password replaces the broken one.
    accounts::set_password(
        &mut conn,
        &ring,
        ann.id,
        second.id,
        &Secret::new("fresh-password"),
    )
    .await
    .expect("set password");
    let fresh = accounts::password(&mut conn, &ring, ann.id, second.id)
        .await
        .expect("opens");
    assert_eq!(fresh.expose(), "fresh-password");
}

#[tokio::test]
async fn another_key_ring_cannot_open_stored_passwords() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let ann = add_user(&db, "ann").await;
    let account = add_account(&db, &ring, ann.id, "acct", "pw-123").await;
    let mut conn = db.pool.acquire().await.expect("connection");
    let stranger = test_key_ring();
    let result = accounts::password(&mut conn, &stranger, ann.id, account.id).await;
    assert!(
        matches!(result, Err(StoreError::Crypto(CryptoError::UnknownKey(_)))),
        "{result:?}"
    );
    // The error names the key id only, never material.
    let message = result.expect_err("fails").to_string();
    assert!(message.contains(ring.active().id().as_str()), "{message}");
    assert!(!message.contains(ring.active().to_base64().as_str()));
}
