use tributary::crypto::Secret;
use tributary::store::{StoreError, accounts};

use crate::helpers::{TestDb, add_account, add_user, test_key_ring};

#[tokio::test]
async fn one_user_never_reaches_another_users_accounts() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let ann = add_user(&db, "ann").await;
    let bob = add_user(&db, "bob").await;
    let anns = add_account(&db, &ring, ann.id, "ann-work", "ann-secret").await;
    let bobs = add_account(&db, &ring, bob.id, "bob-home", "bob-secret").await;
    let mut conn = db.pool.acquire().await.expect("connection");

    let listed: Vec<_> = accounts::list(&mut conn, bob.id)
        .await
        .expect("list")
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(listed, [bobs.id]);

    assert!(matches!(
        accounts::get(&mut conn, bob.id, anns.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        accounts::password(&mut conn, &ring, bob.id, anns.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        accounts::set_password(&mut conn, &ring, bob.id, anns.id, &Secret::new("x")).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        accounts::delete(&mut conn, bob.id, anns.id, false).await,
        Err(StoreError::NotFound)
    ));

    // Ann's account is untouched, and her own calls work.
    let still = accounts::get(&mut conn, ann.id, anns.id)
        .await
        .expect("ann sees hers");
    assert_eq!(still, anns);
    let password = accounts::password(&mut conn, &ring, ann.id, anns.id)
        .await
        .expect("ann opens hers");
    assert_eq!(password.expose(), "ann-secret");
}

#[tokio::test]
async fn deleting_an_account_can_keep_or_drop_its_mail() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let ann = add_user(&db, "ann").await;
    let keep = add_account(&db, &ring, ann.id, "keep", "pw").await;
    let drop = add_account(&db, &ring, ann.id, "drop", "pw").await;
    for (account, uidl) in [(keep.id, "k1"), (drop.id, "d1")] {
        sqlx::query(
            "INSERT INTO messages (user_id, account_id, uidl, size_bytes, raw) VALUES ($1, $2, $3, 1, '\\x61')",
        )
        .bind(ann.id)
        .bind(account)
        .bind(uidl)
        .execute(&db.pool)
        .await
        .expect("message");
    }
    let mut conn = db.pool.acquire().await.expect("connection");
    accounts::delete(&mut conn, ann.id, keep.id, true)
        .await
        .expect("delete keeping mail");
    accounts::delete(&mut conn, ann.id, drop.id, false)
        .await
        .expect("delete with mail");
    let left: Vec<(String, Option<uuid::Uuid>)> =
        sqlx::query_as("SELECT uidl, account_id FROM messages WHERE user_id = $1")
            .bind(ann.id)
            .fetch_all(&mut *conn)
            .await
            .expect("messages");
    assert_eq!(left, [("k1".to_owned(), None)]);
}
