use tributary::crypto::{KeyRing, KeySource, Keys, MasterKey, write_ring_file};
use tributary::rotation::{self, RESEAL_BATCH_SIZE};
use tributary::store::accounts;
use uuid::Uuid;

use crate::helpers::{Cli, TempDir, TestDb, add_account, add_user};

/// Creates `count` accounts for one user under `ring`; returns (account id, password).
async fn accounts_under(db: &TestDb, ring: &KeyRing, count: usize) -> (Uuid, Vec<(Uuid, String)>) {
    let user = add_user(db, "owner").await;
    let mut made = Vec::with_capacity(count);
    for i in 0..count {
        let password = format!("password-{i}-{}", Uuid::new_v4());
        let account = add_account(db, ring, user.id, &format!("acct{i}"), &password).await;
        made.push((account.id, password));
    }
    (user.id, made)
}

/// How many of the accounts open with `ring` to exactly their password.
async fn opening_with(db: &TestDb, ring: &KeyRing, user: Uuid, all: &[(Uuid, String)]) -> usize {
    let mut conn = db.pool.acquire().await.expect("connection");
    let mut opened = 0;
    for (id, password) in all {
        if let Ok(secret) = accounts::password(&mut conn, ring, user, *id).await {
            assert_eq!(secret.expose(), password, "opened to the wrong plaintext");
            opened += 1;
        }
    }
    opened
}

#[tokio::test]
async fn rotation_interrupted_halfway_then_completed_leaves_only_the_new_key_needed() {
    let db = TestDb::new().await;
    let old = MasterKey::generate();
    let new = MasterKey::generate();
    let old_ring = KeyRing::new(vec![old.clone()]).expect("ring");
    let both = KeyRing::new(vec![old.clone(), new.clone()]).expect("ring");
    let new_only = KeyRing::new(vec![new.clone()]).expect("ring");
    let total = RESEAL_BATCH_SIZE as usize + 50;
    let (user, all) = accounts_under(&db, &old_ring, total).await;

    // Interrupted after one batch.
    let first = rotation::reseal_all(&db.pool, &both, Some(1))
        .await
        .expect("one batch");
    assert_eq!(first.resealed, RESEAL_BATCH_SIZE as u64);
    assert_eq!(first.remaining, 50);
    // Meanwhile the service, holding both keys, reads every password.
    assert_eq!(opening_with(&db, &both, user, &all).await, total);
    assert_eq!(
        opening_with(&db, &new_only, user, &all).await,
        RESEAL_BATCH_SIZE as usize
    );

    // Completed by a second run.
    let second = rotation::reseal_all(&db.pool, &both, None)
        .await
        .expect("rest");
    assert_eq!(second.resealed, 50);
    assert_eq!(second.remaining, 0);
    assert_eq!(opening_with(&db, &new_only, user, &all).await, total);
    assert_eq!(opening_with(&db, &old_ring, user, &all).await, 0);
    let key_ids: Vec<String> = sqlx::query_scalar("SELECT DISTINCT password_key_id FROM accounts")
        .fetch_all(&db.pool)
        .await
        .expect("key ids");
    assert_eq!(key_ids, [new.id().as_str()]);
}

#[tokio::test]
async fn rotate_key_command_with_a_key_file_rotates_and_a_running_service_follows() {
    let db = TestDb::new().await;
    let dir = TempDir::new();
    let key_file = dir.path().join("master.key");
    let old = MasterKey::generate();
    write_ring_file(&key_file, &KeyRing::new(vec![old.clone()]).expect("ring")).expect("key file");
    // The running service's view of the keys, loaded before the rotation.
    let (service_keys, _) = Keys::load(KeySource::File(key_file.clone())).expect("load");
    let (user, all) = accounts_under(&db, &service_keys.current().expect("ring"), 5).await;

    let out = Cli::new(&["rotate-key"])
        .env("DATABASE_URL", &db.url)
        .env("TRIBUTARY_MASTER_KEY_FILE", &key_file)
        .run()
        .await;
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("generated new master key"), "{out:?}");
    assert!(out.stdout.contains("re-sealed 5 credential(s)"), "{out:?}");
    assert!(out.stdout.contains("removed 1 old key(s)"), "{out:?}");

    let after = KeyRing::parse(&std::fs::read_to_string(&key_file).expect("read")).expect("parse");
    assert_eq!(after.keys().len(), 1, "only the new key is left");
    assert_ne!(after.active().id(), old.id());
    assert_eq!(opening_with(&db, &after, user, &all).await, 5);

    // The service that loaded the old file re-reads it and keeps opening passwords.
    let ring_now = service_keys.current().expect("reload");
    assert_eq!(ring_now.active().id(), after.active().id());
    assert_eq!(opening_with(&db, &ring_now, user, &all).await, 5);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[tokio::test]
async fn rotate_key_resumes_a_rotation_that_stopped_before_resealing() {
    let db = TestDb::new().await;
    let dir = TempDir::new();
    let key_file = dir.path().join("master.key");
    let old = MasterKey::generate();
    let new = MasterKey::generate();
    let (user, all) = accounts_under(&db, &KeyRing::new(vec![old.clone()]).expect("ring"), 3).await;
    // As if an earlier run wrote the new key and was killed before re-sealing anything.
    write_ring_file(
        &key_file,
        &KeyRing::new(vec![old, new.clone()]).expect("ring"),
    )
    .expect("write");

    let out = Cli::new(&["rotate-key"])
        .env("DATABASE_URL", &db.url)
        .env("TRIBUTARY_MASTER_KEY_FILE", &key_file)
        .run()
        .await;
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        !out.stdout.contains("generated"),
        "resumed, no new key: {out:?}"
    );
    assert!(
        out.stdout
            .contains(&format!("re-sealed 3 credential(s) under key {}", new.id())),
        "{out:?}"
    );
    let after = KeyRing::parse(&std::fs::read_to_string(&key_file).expect("read")).expect("parse");
    assert_eq!(after.keys().len(), 1);
    assert_eq!(after.active().id(), new.id());
    assert_eq!(opening_with(&db, &after, user, &all).await, 3);
}

#[tokio::test]
async fn rotate_key_with_the_key_in_the_environment_explains_what_to_do() {
    let db = TestDb::new().await;
    let key = MasterKey::generate();
    let out = Cli::new(&["rotate-key"])
        .env("DATABASE_URL", &db.url)
        .env("TRIBUTARY_MASTER_KEY", key.to_base64().as_str())
        .run()
        .await;
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("TRIBUTARY_MASTER_KEY"), "{out:?}");
    assert!(!out.stderr.contains(key.to_base64().as_str()));

    // With a second key appended, the same command re-seals under it.
    let ring = KeyRing::new(vec![key.clone()]).expect("ring");
    let (user, all) = accounts_under(&db, &ring, 2).await;
    let next = MasterKey::generate();
    let out = Cli::new(&["rotate-key"])
        .env("DATABASE_URL", &db.url)
        .env(
            "TRIBUTARY_MASTER_KEY",
            format!("{},{}", key.to_base64().as_str(), next.to_base64().as_str()),
        )
        .run()
        .await;
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("re-sealed 2 credential(s)"), "{out:?}");
    assert!(
        out.stdout.contains("you may remove the other keys"),
        "{out:?}"
    );
    let next_only = KeyRing::new(vec![next]).expect("ring");
    assert_eq!(opening_with(&db, &next_only, user, &all).await, 2);
}

#[tokio::test]
async fn rotate_key_with_a_key_file_it_cannot_write_explains_and_changes_nothing() {
    let db = TestDb::new().await;
    let dir = TempDir::new();
    let key_file = dir.path().join("master.key");
    let key = MasterKey::generate();
    let ring = KeyRing::new(vec![key.clone()]).expect("ring");
    write_ring_file(&key_file, &ring).expect("write");
    let (user, all) = accounts_under(&db, &ring, 2).await;
    // The key file is written through a temporary file beside it; a directory in its place
    // makes that fail even for root (CI runs as root, which ignores read-only modes).
    std::fs::create_dir(dir.path().join("master.key.new")).expect("block the write");

    let out = Cli::new(&["rotate-key"])
        .env("DATABASE_URL", &db.url)
        .env("TRIBUTARY_MASTER_KEY_FILE", &key_file)
        .run()
        .await;
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "cannot write the key file {}: ",
            key_file.display()
        )),
        "{out:?}"
    );
    assert!(out.stderr.contains("nothing was changed"), "{out:?}");
    assert!(out.stderr.contains("tributary keygen"), "{out:?}");
    assert!(!out.stderr.contains(key.to_base64().as_str()));
    let after = KeyRing::parse(&std::fs::read_to_string(&key_file).expect("read")).expect("parse");
    assert_eq!(after.keys().len(), 1);
    assert_eq!(after.active().id(), key.id());
    assert_eq!(opening_with(&db, &ring, user, &all).await, 2);
}
