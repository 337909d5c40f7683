//! Two `tributary serve` processes on one database (DESIGN invariant 2): 200 accounts,
//! every message stored once, and no account ever fetched by both at the same time.

use std::time::{Duration, Instant};

use tributary::store::accounts::Security;

use crate::helpers::{
    Cli, Dovecot, TempDir, TestDb, add_server_account, add_user, free_port, sample_message,
    test_key_ring,
};

const ACCOUNTS: usize = 200;
const CYCLES: usize = 3;

async fn stored(db: &TestDb) -> i64 {
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM messages")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_the_accounts_without_overlap() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let names: Vec<String> = (0..ACCOUNTS).map(|i| format!("user{i:03}")).collect();
    let users: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "pw")).collect();
    let dovecot = Dovecot::start(&users).await;
    let owner = add_user(&db, "replicas").await;
    let mut account_ids = Vec::new();
    for name in &names {
        let account = add_server_account(
            &db,
            &ring,
            owner.id,
            dovecot.plain_port,
            Security::PlaintextDangerous,
            (name, "pw"),
            |_| {},
        )
        .await;
        account_ids.push(account.id);
    }

    let keys: Vec<String> = ring
        .keys()
        .iter()
        .map(|k| k.to_base64().to_string())
        .collect();
    let dir = TempDir::new();
    let mut replicas = Vec::new();
    for replica in 0..2 {
        replicas.push(
            Cli::new(&["serve"])
                .env("DATABASE_URL", &db.url)
                .env("TRIBUTARY_MASTER_KEY", keys.join(","))
                .env("TRIBUTARY_LISTEN", format!("127.0.0.1:{}", free_port()))
                .env("TRIBUTARY_DATA_DIR", dir.path())
                .env("TRIBUTARY_ALLOW_PRIVATE_HOSTS", "true")
                .env("TRIBUTARY_PER_HOST_CONCURRENCY", "8")
                .env("TRIBUTARY_FETCH_CONCURRENCY", "8")
                .spawn_logging_to(&dir.path().join(format!("replica{replica}.log"))),
        );
    }

    let mut expected = 0i64;
    for cycle in 0..CYCLES {
        for (i, name) in names.iter().enumerate() {
            for n in 0..2 {
                dovecot.deliver(
                    name,
                    &format!("{cycle}-{n}.m"),
                    &sample_message(i * 10 + cycle * 2 + n, 1_500),
                );
            }
        }
        expected += (ACCOUNTS * 2) as i64;
        // Everything due at once, so both replicas race for the same rows.
        sqlx::query("UPDATE accounts SET next_check_at = now()")
            .execute(&db.pool)
            .await
            .expect("make due");
        let start = Instant::now();
        while stored(&db).await < expected {
            assert!(
                start.elapsed() < Duration::from_secs(90),
                "cycle {cycle}: {} of {expected} stored; logs:\n{}",
                stored(&db).await,
                std::fs::read_to_string(dir.path().join("replica0.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // Let the last runs record themselves, then stop both.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for replica in &mut replicas {
        replica.start_kill().expect("kill");
        replica.wait().await.expect("reaped");
    }

    assert_eq!(stored(&db).await, expected, "no message stored twice");
    let per_account: Vec<(i64,)> =
        sqlx::query_as("SELECT count(*) FROM messages GROUP BY account_id")
            .fetch_all(&db.pool)
            .await
            .expect("per account");
    assert_eq!(per_account.len(), ACCOUNTS);
    assert!(per_account.iter().all(|(n,)| *n == (CYCLES * 2) as i64));
    let (distinct,): (i64,) = sqlx::query_as("SELECT count(DISTINCT sha256(raw)) FROM messages")
        .fetch_one(&db.pool)
        .await
        .expect("distinct");
    assert_eq!(distinct, expected);

    // From the run history: no two runs of one account overlap in time.
    let (overlaps,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM fetch_runs a JOIN fetch_runs b
           ON a.account_id = b.account_id AND a.id < b.id
          AND a.started_at < COALESCE(b.finished_at, 'infinity')
          AND b.started_at < COALESCE(a.finished_at, 'infinity')",
    )
    .fetch_one(&db.pool)
    .await
    .expect("overlaps");
    assert_eq!(overlaps, 0, "an account was fetched by two workers at once");
    let workers: Vec<(String, i64)> = sqlx::query_as(
        "SELECT worker, count(*) FROM fetch_runs WHERE outcome = 'success' GROUP BY worker",
    )
    .fetch_all(&db.pool)
    .await
    .expect("workers");
    assert_eq!(workers.len(), 2, "both replicas fetched: {workers:?}");
    let (successes,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM fetch_runs WHERE outcome = 'success'")
            .fetch_one(&db.pool)
            .await
            .expect("runs");
    assert!(successes >= (ACCOUNTS * CYCLES) as i64, "{successes}");
}
