//! The fetch engine against servers that misbehave (the scripted fake server), and the
//! outbound connector's refusal of private addresses.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use time::OffsetDateTime;
use tributary::crypto::KeyRing;
use tributary::model::{ErrorClass, PausedReason, RunOutcome};
use tributary::net::Connector;
use tributary::net::Resolve;
use tributary::store::accounts::{Account, LeavePolicy, Security};
use uuid::Uuid;

use crate::helpers::fake_pop3::{FakePop3, Step, send};
use crate::helpers::{
    TestDb, add_server_account, add_user, fetch_now, reload, stored_messages, test_fetcher,
    test_key_ring,
};

const CAPA: &str = "+OK\r\nUSER\r\nUIDL\r\nTOP\r\nRESP-CODES\r\nLOGIN-DELAY 900\r\n.\r\n";

/// Greeting, CAPA and USER/PASS, the password answered with `pass_reply`.
fn login(pass_reply: &str) -> Vec<Step> {
    vec![
        send("+OK fake POP3 ready\r\n"),
        Step::Expect("CAPA"),
        send(CAPA),
        Step::Expect("USER"),
        send("+OK\r\n"),
        Step::Expect("PASS"),
        send(pass_reply),
    ]
}

fn script(rest: Vec<Step>) -> Vec<Step> {
    let mut steps = login("+OK logged in\r\n");
    steps.extend(rest);
    steps
}

fn message(subject: &str, body: &str) -> String {
    format!("Subject: {subject}\r\nFrom: f@example.org\r\n\r\n{body}\r\n")
}

/// `+OK`, the message dot-stuffed, and the terminating dot line.
fn retr_reply(message: &str) -> Step {
    send(&format!("+OK\r\n{message}.\r\n"))
}

async fn account_on(
    db: &TestDb,
    ring: &KeyRing,
    port: u16,
    tweak: impl FnOnce(&mut tributary::store::accounts::AccountSettings),
) -> Account {
    let user = add_user(db, &format!("faults-{}", Uuid::new_v4().simple())).await;
    add_server_account(
        db,
        ring,
        user.id,
        port,
        Security::PlaintextDangerous,
        ("u", "p"),
        tweak,
    )
    .await
}

async fn move_to(db: &TestDb, account: &Account, port: u16) {
    sqlx::query("UPDATE accounts SET port = $2 WHERE id = $1")
        .bind(account.id)
        .bind(i32::from(port))
        .execute(&db.pool)
        .await
        .expect("move account");
}

#[tokio::test]
async fn server_refusals_land_in_the_right_state_and_backoff() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let fetcher = test_fetcher(&db, &ring);
    // (reply to PASS, outcome, error class, paused reason, shortest wait before the next check)
    let cases = [
        (
            "-ERR [SYS/TEMP] busy\r\n",
            RunOutcome::TemporaryError,
            "sys_temp",
            None,
            54,
        ),
        (
            "-ERR [IN-USE] locked\r\n",
            RunOutcome::TemporaryError,
            "in_use",
            None,
            54,
        ),
        (
            "-ERR [LOGIN-DELAY] too soon\r\n",
            RunOutcome::TemporaryError,
            "login_delay",
            None,
            810,
        ),
        (
            "-ERR [SYS/PERM] disabled\r\n",
            RunOutcome::PermanentError,
            "sys_perm",
            Some("server"),
            54,
        ),
        (
            "-ERR [AUTH] bad password\r\n",
            RunOutcome::AuthError,
            "auth",
            Some("auth"),
            54,
        ),
    ];
    for (reply, outcome, class, paused, min_wait) in cases {
        let server = FakePop3::start(login(reply)).await;
        let account = account_on(&db, &ring, server.port, |_| {}).await;
        let before = OffsetDateTime::now_utc();
        let run = fetch_now(&fetcher, account.id).await;
        assert_eq!(run.outcome, outcome, "{reply}");
        let after = reload(&db, &account).await;
        assert_eq!(
            after.last_error_kind.map(ErrorClass::as_str),
            Some(class),
            "{reply}"
        );
        assert_eq!(
            after.paused_reason.map(PausedReason::as_str),
            paused,
            "{reply}"
        );
        assert_eq!(after.consecutive_failures, 1, "{reply}");
        let wait = (after.next_check_at - before).whole_seconds();
        assert!(wait >= min_wait, "{reply}: next check in {wait}s");
        assert!(after.last_success_at.is_none());
        let text = after.last_error_message.unwrap_or_default();
        assert!(!text.is_empty() && !text.contains('\r'), "{text:?}");
    }

    // Failures in a row back off further: the second temporary failure waits ~2 minutes.
    let server = FakePop3::start(login("-ERR [SYS/TEMP] busy\r\n")).await;
    let account = account_on(&db, &ring, server.port, |_| {}).await;
    fetch_now(&fetcher, account.id).await;
    let before = OffsetDateTime::now_utc();
    fetch_now(&fetcher, account.id).await;
    let after = reload(&db, &account).await;
    assert_eq!(after.consecutive_failures, 2);
    assert!((after.next_check_at - before).whole_seconds() >= 108);
}

#[tokio::test]
async fn a_drop_mid_retr_keeps_what_committed_and_the_next_run_fetches_the_rest() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let fetcher = test_fetcher(&db, &ring);
    let (one, two) = (message("one", "first"), message("two", "second"));
    let dropping = FakePop3::start(script(vec![
        Step::Expect("LIST"),
        send("+OK\r\n1 60\r\n2 60\r\n.\r\n"),
        Step::Expect("UIDL"),
        send("+OK\r\n1 uid-one\r\n2 uid-two\r\n.\r\n"),
        Step::Expect("RETR 1"),
        retr_reply(&one),
        Step::Expect("RETR 2"),
        send("+OK\r\nSubject: two\r\nFrom: f@exa"),
        Step::Close,
    ]))
    .await;
    let account = account_on(&db, &ring, dropping.port, |_| {}).await;
    let run = fetch_now(&fetcher, account.id).await;
    assert_eq!(run.outcome, RunOutcome::TemporaryError);
    assert_eq!(run.report.messages, 1);
    assert_eq!(
        stored_messages(&db, account.id).await,
        vec![("uid-one".to_owned(), one.clone().into_bytes())]
    );

    let complete = FakePop3::start(script(vec![
        Step::Expect("LIST"),
        send("+OK\r\n1 60\r\n2 60\r\n.\r\n"),
        Step::Expect("UIDL"),
        send("+OK\r\n1 uid-one\r\n2 uid-two\r\n.\r\n"),
        Step::Expect("RETR 2"),
        retr_reply(&two),
        Step::Expect("QUIT"),
        send("+OK bye\r\n"),
    ]))
    .await;
    move_to(&db, &account, complete.port).await;
    let run = fetch_now(&fetcher, account.id).await;
    assert_eq!(
        (run.outcome, run.report.messages),
        (RunOutcome::Success, 1),
        "{:?}",
        run.report.error
    );
    assert!(
        !complete.received().contains("RETR 1"),
        "{}",
        complete.received()
    );
    assert_eq!(stored_messages(&db, account.id).await.len(), 2);
    assert_eq!(reload(&db, &account).await.consecutive_failures, 0);
}

#[tokio::test]
async fn duplicate_uidls_missing_uidl_and_nul_bytes_lose_nothing() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let fetcher = test_fetcher(&db, &ring);

    let (a, b) = (message("a", "same uidl one"), message("b", "same uidl two"));
    let duplicates = FakePop3::start(script(vec![
        Step::Expect("LIST"),
        send("+OK\r\n1 50\r\n2 50\r\n.\r\n"),
        Step::Expect("UIDL"),
        send("+OK\r\n1 dup\r\n2 dup\r\n.\r\n"),
        Step::Expect("RETR 1"),
        retr_reply(&a),
        Step::Expect("RETR 2"),
        retr_reply(&b),
    ]))
    .await;
    let account = account_on(&db, &ring, duplicates.port, |_| {}).await;
    let run = fetch_now(&fetcher, account.id).await;
    assert_eq!(
        (run.outcome, run.report.messages),
        (RunOutcome::Success, 2),
        "{:?}",
        run.report.error
    );
    let stored = stored_messages(&db, account.id).await;
    assert_eq!(
        stored,
        vec![
            ("dup".to_owned(), a.into_bytes()),
            ("dup #2".to_owned(), b.into_bytes())
        ]
    );

    // No UIDL: each message is known by a digest of its headers (TOP n 0).
    let nul = "Subject: nul\r\nFrom: f@example.org\r\n\r\nbinary \0 zero \0 bytes\r\n".to_owned();
    let plain = message("plain", "no uidl here");
    let no_uidl = FakePop3::start(script(vec![
        Step::Expect("LIST"),
        send("+OK\r\n1 50\r\n2 50\r\n.\r\n"),
        Step::Expect("UIDL"),
        send("-ERR command not supported\r\n"),
        Step::Expect("TOP 1 0"),
        send("+OK\r\nSubject: nul\r\nFrom: f@example.org\r\n\r\n.\r\n"),
        Step::Expect("TOP 2 0"),
        send("+OK\r\nSubject: plain\r\nFrom: f@example.org\r\n\r\n.\r\n"),
        Step::Expect("RETR 1"),
        retr_reply(&nul),
        Step::Expect("RETR 2"),
        retr_reply(&plain),
    ]))
    .await;
    let account = account_on(&db, &ring, no_uidl.port, |_| {}).await;
    let run = fetch_now(&fetcher, account.id).await;
    assert_eq!(
        (run.outcome, run.report.messages),
        (RunOutcome::Success, 2),
        "{:?}",
        run.report.error
    );
    let stored = stored_messages(&db, account.id).await;
    assert_eq!(stored.len(), 2);
    assert!(
        stored
            .iter()
            .all(|(uidl, _)| uidl.starts_with("sha256:") && uidl.len() == 71)
    );
    let raws: Vec<&[u8]> = stored.iter().map(|(_, raw)| raw.as_slice()).collect();
    assert!(
        raws.contains(&nul.as_bytes()),
        "the NUL bytes are stored verbatim"
    );
    let (subject,): (String,) = sqlx::query_as(
        "SELECT subject FROM messages WHERE account_id = $1 AND position('\\x00'::bytea in raw) > 0",
    )
    .bind(account.id)
    .fetch_one(&db.pool)
    .await
    .expect("the NUL message");
    assert_eq!(subject, "nul");
}

#[tokio::test]
async fn a_quit_that_fails_leaves_deletions_for_the_next_run() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let fetcher = test_fetcher(&db, &ring);
    let only = message("only", "delete me later");
    let quit_drops = FakePop3::start(script(vec![
        Step::Expect("LIST"),
        send("+OK\r\n1 50\r\n.\r\n"),
        Step::Expect("UIDL"),
        send("+OK\r\n1 x\r\n.\r\n"),
        Step::Expect("RETR 1"),
        retr_reply(&only),
        Step::Expect("DELE 1"),
        send("+OK marked\r\n"),
        Step::Expect("QUIT"),
        Step::Close,
    ]))
    .await;
    let account = account_on(&db, &ring, quit_drops.port, |a| {
        a.leave_on_server = LeavePolicy::Delete
    })
    .await;
    let run = fetch_now(&fetcher, account.id).await;
    assert_eq!(run.outcome, RunOutcome::Partial, "{:?}", run.report.error);
    assert!(run.report.quit_failed);
    assert_eq!((run.report.messages, run.report.deleted), (1, 0));

    // The message is still on the server: the next run deletes it without storing it again.
    let second = FakePop3::start(script(vec![
        Step::Expect("LIST"),
        send("+OK\r\n1 50\r\n.\r\n"),
        Step::Expect("UIDL"),
        send("+OK\r\n1 x\r\n.\r\n"),
        Step::Expect("DELE 1"),
        send("+OK marked\r\n"),
        Step::Expect("QUIT"),
        send("+OK bye\r\n"),
    ]))
    .await;
    move_to(&db, &account, second.port).await;
    let run = fetch_now(&fetcher, account.id).await;
    assert_eq!(run.outcome, RunOutcome::Success, "{:?}", run.report.error);
    assert_eq!((run.report.messages, run.report.deleted), (0, 1));
    assert!(!second.received().contains("RETR"), "{}", second.received());
    assert_eq!(stored_messages(&db, account.id).await.len(), 1);
}

/// A resolver that answers every name with one address and counts the questions.
#[derive(Debug)]
struct FixedResolver {
    address: std::net::IpAddr,
    calls: AtomicUsize,
}

impl Resolve for FixedResolver {
    fn resolve<'a>(
        &'a self,
        _host: &'a str,
        port: u16,
    ) -> std::pin::Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send + 'a>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let address = SocketAddr::new(self.address, port);
        Box::pin(async move { Ok(vec![address]) })
    }
}

#[tokio::test]
async fn private_and_local_addresses_are_refused_without_the_operator_setting() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    // A real server on loopback: reachable, yet refused.
    let server = FakePop3::start(script(vec![])).await;
    let mut fetcher = test_fetcher(&db, &ring);
    fetcher.connector = Connector::new(false, Duration::from_secs(5));
    for host in ["127.0.0.1", "10.0.0.1", "localhost", "[::1]"] {
        let account = account_on(&db, &ring, server.port, |a| {
            a.host = host.trim_matches(['[', ']']).to_owned()
        })
        .await;
        let run = fetch_now(&fetcher, account.id).await;
        assert_eq!(run.outcome, RunOutcome::PermanentError, "{host}");
        let after = reload(&db, &account).await;
        assert_eq!(
            after.last_error_kind.map(ErrorClass::as_str),
            Some("refused_address"),
            "{host}"
        );
        let text = after.last_error_message.unwrap_or_default();
        assert!(text.contains("private or local network"), "{text}");
        for leak in ["127.0.0.1", "10.0.0.1", "::1"] {
            assert!(!text.contains(leak), "{text}");
        }
    }
    assert!(
        server.received().is_empty(),
        "nothing reached the server: {}",
        server.received()
    );

    // A name that resolves to the cloud metadata address, checked again on every connect.
    let resolver = Arc::new(FixedResolver {
        address: "169.254.169.254".parse().expect("ip"),
        calls: AtomicUsize::new(0),
    });
    fetcher.connector = Connector::with_resolver(false, Duration::from_secs(5), resolver.clone());
    let account = account_on(&db, &ring, 110, |a| a.host = "metadata.example.org".into()).await;
    for _ in 0..2 {
        let run = fetch_now(&fetcher, account.id).await;
        assert_eq!(run.outcome, RunOutcome::PermanentError);
        assert_eq!(
            run.report.error.map(|e| e.class().as_str()),
            Some("refused_address")
        );
    }
    assert_eq!(
        resolver.calls.load(Ordering::SeqCst),
        2,
        "resolved on every connect"
    );

    // With the setting, the same loopback server is reached.
    fetcher.connector = Connector::new(true, Duration::from_secs(5));
    let account = account_on(&db, &ring, server.port, |_| {}).await;
    let run = fetch_now(&fetcher, account.id).await;
    assert_ne!(
        run.report.error.map(|e| e.class().as_str()),
        Some("refused_address")
    );
    assert!(server.received().contains("CAPA"));
}

/// Issue 16's stall: a writer's connection sat "idle in transaction" while the run waited
/// for the server, and the POP3 reader waited behind it. A transaction open across an
/// await is what such a stall needs; the engine must never hold one. Messages that
/// arrive slower than a group closes (the old code kept a group's transaction open
/// between them) are sampled for the whole run: no connection of ours is ever idle in a
/// transaction, and everything is stored once.
#[tokio::test]
async fn no_transaction_stays_open_while_the_engine_waits_for_the_server() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let fetcher = test_fetcher(&db, &ring);
    const COUNT: usize = 6;
    let messages: Vec<String> = (1..=COUNT)
        .map(|i| message(&format!("slow {i}"), "arrives a byte at a time"))
        .collect();
    let mut steps = vec![
        Step::Expect("LIST"),
        send(&format!(
            "+OK\r\n{}.\r\n",
            (1..=COUNT)
                .map(|i| format!("{i} 80\r\n"))
                .collect::<String>()
        )),
        Step::Expect("UIDL"),
        send(&format!(
            "+OK\r\n{}.\r\n",
            (1..=COUNT)
                .map(|i| format!("{i} slow-{i}\r\n"))
                .collect::<String>()
        )),
    ];
    for (i, text) in messages.iter().enumerate() {
        steps.push(Step::Expect(
            ["RETR 1", "RETR 2", "RETR 3", "RETR 4", "RETR 5", "RETR 6"][i],
        ));
        // About 130 ms a message: longer than a group stays open for more mail.
        steps.push(Step::Trickle(
            format!("+OK\r\n{text}.\r\n").into_bytes(),
            Duration::from_millis(1),
        ));
    }
    steps.extend([Step::Expect("QUIT"), send("+OK bye\r\n")]);
    let server = FakePop3::start(script(steps)).await;
    let account = account_on(&db, &ring, server.port, |_| {}).await;

    let fetching = fetch_now(&fetcher, account.id);
    tokio::pin!(fetching);
    let mut samples = 0;
    let mut open = 0;
    let run = loop {
        tokio::select! {
            run = &mut fetching => break run,
            () = tokio::time::sleep(Duration::from_millis(3)) => {
                let idle: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM pg_stat_activity
                     WHERE datname = current_database() AND pid <> pg_backend_pid()
                       AND state LIKE 'idle in transaction%'",
                )
                .fetch_one(&db.pool)
                .await
                .expect("sample");
                samples += 1;
                open += idle;
            }
        }
    };
    assert_eq!(run.outcome, RunOutcome::Success, "{:?}", run.report.error);
    assert_eq!(run.report.messages, COUNT as u64);
    assert!(
        samples > 50,
        "the run was sampled throughout ({samples} samples)"
    );
    assert_eq!(
        open, 0,
        "{open} of {samples} samples saw a connection idle in a transaction"
    );
    assert_eq!(stored_messages(&db, account.id).await.len(), COUNT);
}
