//! Kill test for the outbox (issue 13): a real `tributary serve` submitting to a real
//! Postfix is SIGKILLed at random points and restarted. Afterwards every message is sent
//! or marked "may have been sent"; none is lost from the outbox, none is stuck, and none
//! reached the server twice.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::process::Child;
use tributary::crypto::KeyRing;
use tributary::model::Security;
use tributary::store::outbox::Attachment;

use crate::helpers::{
    Cli, Dovecot, LOCAL_DOMAIN, Postfix, TempDir, TestDb, add_server_account, add_user, free_port,
    identity_at, message_to, test_key_ring, test_sending,
};

const MESSAGES: usize = 60;
const KILLS: usize = 6;

fn serve(database_url: &str, ring: &KeyRing, data: &Path, log: &Path) -> Child {
    let keys: Vec<String> = ring
        .keys()
        .iter()
        .map(|k| k.to_base64().to_string())
        .collect();
    Cli::new(&["serve"])
        .env("DATABASE_URL", database_url)
        .env("TRIBUTARY_MASTER_KEY", keys.join(","))
        .env("TRIBUTARY_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("TRIBUTARY_DATA_DIR", data)
        .env("TRIBUTARY_ALLOW_PRIVATE_HOSTS", "true")
        .env("RUST_LOG", "info,sqlx=warn")
        .spawn_logging_to(log)
}

async fn states(pool: &PgPool) -> HashMap<String, i64> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT state, count(*) FROM outbox GROUP BY state")
            .fetch_all(pool)
            .await
            .expect("states");
    rows.into_iter().collect()
}

/// Copies per Message-ID in the Maildir.
fn delivered_ids(postfix: &Postfix) -> HashMap<String, usize> {
    let mut ids = HashMap::new();
    for message in postfix.delivered() {
        let parsed = mail_parser::MessageParser::default().parse_headers(&message);
        let id = parsed
            .as_ref()
            .and_then(|m| m.message_id())
            .map(|id| format!("<{id}>"))
            .expect("a delivered message has our Message-ID");
        *ids.entry(id).or_insert(0) += 1;
    }
    ids
}

/// After a kill, time passes: the dead process's leases run out.
async fn expire_leases(pool: &PgPool) {
    sqlx::query("UPDATE outbox SET lease_expires_at = now() - interval '1 second' WHERE lease_expires_at IS NOT NULL")
        .execute(pool)
        .await
        .expect("expire leases");
}

fn assert_never_twice(delivered: &HashMap<String, usize>) {
    assert!(
        delivered.values().all(|n| *n == 1),
        "a message reached the server twice: {delivered:?}"
    );
}

#[tokio::test]
async fn killing_serve_during_submission_never_sends_twice_and_loses_nothing() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let dovecot = Dovecot::start(&[("alice", "alice-secret")]).await;
    let postfix = Postfix::start(&dovecot).await;
    let user = add_user(&db, "kill").await;
    let account = add_server_account(
        &db,
        &ring,
        user.id,
        dovecot.tls_port,
        Security::Tls,
        ("alice", "alice-secret"),
        |a| {
            a.email = format!("alice@{LOCAL_DOMAIN}");
            // Not fetched in this test: only the outbox runs.
            a.poll_minutes = Some(24 * 60);
        },
    )
    .await;
    sqlx::query("UPDATE accounts SET next_check_at = now() + interval '1 day'")
        .execute(&db.pool)
        .await
        .expect("not due");
    let sending = test_sending(&db, &ring);
    sending
        .save_identity(
            user.id,
            account.id,
            identity_at(
                postfix.implicit_tls_port,
                Security::Tls,
                &postfix.certs.ca_pem,
                None,
            ),
        )
        .await
        .expect("identity");
    // Large enough that a kill often lands while the message is on the wire.
    let attachment = Attachment {
        filename: "big.bin".into(),
        content_type: "application/octet-stream".into(),
        content: (0..2_000_000u32).map(|i| (i % 251) as u8).collect(),
    };
    for i in 0..MESSAGES {
        let mut draft = message_to(
            account.id,
            &format!("bob@{LOCAL_DOMAIN}"),
            &format!("kill {i}"),
            "x",
        );
        draft.attachments = vec![attachment.clone()];
        sending.send(user.id, None, draft).await.expect("queued");
    }

    let data = TempDir::new();
    let log = data.path().join("serve.log");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(7);
    eprintln!("kill delays seed {seed}");
    for kill in 0..KILLS {
        let before = states(&db.pool).await;
        let open = before.get("queued").copied().unwrap_or(0);
        assert!(
            open > 0,
            "everything was sent before kill {kill}; kill sooner: {before:?}"
        );
        let mut child = serve(&db.url, &ring, data.path(), &log);
        // Wait for the worker to be at it, then kill at a point that varies.
        let start = Instant::now();
        loop {
            let (leased,): (i64,) =
                sqlx::query_as("SELECT count(*) FROM outbox WHERE lease_owner IS NOT NULL AND state IN ('queued', 'submitting')")
                    .fetch_one(&db.pool)
                    .await
                    .expect("leased");
            if leased > 0 || states(&db.pool).await != before {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "serve never started sending: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let delay = (u64::from(seed) * (kill as u64 + 1) * 7_919) % 250;
        tokio::time::sleep(Duration::from_millis(delay)).await;
        child.start_kill().expect("SIGKILL");
        child.wait().await.expect("reaped");
        expire_leases(&db.pool).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_never_twice(&delivered_ids(&postfix));
    }

    // A last run without interruption settles everything.
    let mut child = serve(&db.url, &ring, data.path(), &log);
    let start = Instant::now();
    loop {
        let now = states(&db.pool).await;
        let open =
            now.get("queued").copied().unwrap_or(0) + now.get("submitting").copied().unwrap_or(0);
        if open == 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "not settled: {now:?}\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.start_kill().expect("stop");
    child.wait().await.expect("reaped");

    let rows: Vec<(String, String)> = sqlx::query_as("SELECT state, message_id FROM outbox")
        .fetch_all(&db.pool)
        .await
        .expect("rows");
    assert_eq!(rows.len(), MESSAGES, "no message lost from the outbox");
    let sent: Vec<&String> = rows
        .iter()
        .filter(|(s, _)| s == "sent")
        .map(|(_, id)| id)
        .collect();
    let uncertain: Vec<&String> = rows
        .iter()
        .filter(|(s, _)| s == "uncertain")
        .map(|(_, id)| id)
        .collect();
    assert_eq!(
        sent.len() + uncertain.len(),
        MESSAGES,
        "only sent or may-have-been-sent: {rows:?}"
    );
    // Postfix delivers what it accepted shortly after; wait for every sent one.
    let start = Instant::now();
    let delivered = loop {
        let delivered = delivered_ids(&postfix);
        if sent.iter().all(|id| delivered.contains_key(*id))
            || start.elapsed() > Duration::from_secs(30)
        {
            tokio::time::sleep(Duration::from_millis(500)).await;
            break delivered_ids(&postfix);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_never_twice(&delivered);
    for id in &sent {
        assert_eq!(
            delivered.get(*id),
            Some(&1),
            "a sent message arrived once: {id}"
        );
    }
    let uncertain_delivered = uncertain
        .iter()
        .filter(|id| delivered.contains_key(**id))
        .count();
    assert!(delivered.keys().all(|id| rows.iter().any(|(_, m)| m == id)));
    eprintln!(
        "kill test: {MESSAGES} messages, {KILLS} kills: {} sent, {} may-have-been-sent ({} of them did arrive), none twice",
        sent.len(),
        uncertain.len(),
        uncertain_delivered
    );
}
