//! Sending faults Postfix will not produce on demand, played by a scripted SMTP server:
//! a temporary refusal, a permanent one, no answer after the final dot, STARTTLS
//! stripped, an endless reply and a slow drip.

use std::time::Duration;

use tributary::model::{OutboxState, Security};
use tributary::send::SubmitError;
use tributary::smtp::{SmtpError, Step as SmtpStep};

use crate::helpers::fake_pop3::{FakePop3, Step, send};
use crate::helpers::{
    TempDir, TestCerts, TestDb, add_server_account, add_user, identity_at, message_to,
    submit_until_settled, test_key_ring, test_sending,
};

/// Implicit TLS, greeting, EHLO, AUTH PLAIN, MAIL, RCPT, DATA, the message.
fn up_to_the_final_dot() -> Vec<Step> {
    vec![
        Step::StartTls,
        send("220 fake.example ESMTP\r\n"),
        Step::Expect("EHLO"),
        send("250-fake.example\r\n250-SIZE 1000000\r\n250 AUTH PLAIN LOGIN\r\n"),
        Step::Expect("AUTH PLAIN"),
        send("235 2.7.0 accepted\r\n"),
        Step::Expect("MAIL FROM:<alice@example.org> SIZE="),
        send("250 2.1.0 ok\r\n"),
        Step::Expect("RCPT TO:<bob@example.net>"),
        send("250 2.1.5 ok\r\n"),
        Step::Expect("DATA"),
        send("354 go ahead\r\n"),
        Step::ReadData,
    ]
}

fn then(mut script: Vec<Step>, more: Vec<Step>) -> Vec<Step> {
    script.extend(more);
    script
}

struct Setup {
    _dir: TempDir,
    db: TestDb,
    sending: tributary::sending::SendingService,
    user: uuid::Uuid,
    account: uuid::Uuid,
}

async fn setup(server: &FakePop3, certs: &TestCerts, security: Security) -> Setup {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let user = add_user(&db, "sender").await;
    let account = add_server_account(
        &db,
        &ring,
        user.id,
        9,
        Security::Tls,
        ("alice", "pw"),
        |a| {
            a.email = "alice@example.org".into();
        },
    )
    .await;
    let sending = test_sending(&db, &ring);
    sending
        .save_identity(
            user.id,
            account.id,
            identity_at(server.port, security, &certs.ca_pem, None),
        )
        .await
        .expect("identity");
    Setup {
        _dir: TempDir::new(),
        db,
        sending,
        user: user.id,
        account: account.id,
    }
}

fn certs() -> (TempDir, TestCerts) {
    let dir = TempDir::new();
    let certs = TestCerts::create(dir.path());
    (dir, certs)
}

async fn queue_one(s: &Setup) -> uuid::Uuid {
    s.sending
        .send(
            s.user,
            None,
            message_to(s.account, "bob@example.net", "Hello", "Hi Bob"),
        )
        .await
        .expect("queued")
        .id
}

#[tokio::test]
async fn a_temporary_refusal_is_retried_and_the_message_delivered_once() {
    let (_d, certs) = certs();
    let server = FakePop3::start_scripts(
        vec![
            then(
                up_to_the_final_dot(),
                vec![
                    send("451 4.3.0 try again later\r\n"),
                    Step::Expect("QUIT"),
                    send("221 bye\r\n"),
                ],
            ),
            then(
                up_to_the_final_dot(),
                vec![
                    send("250 2.0.0 queued as 42\r\n"),
                    Step::Expect("QUIT"),
                    send("221 bye\r\n"),
                ],
            ),
        ],
        Some(certs.server_config()),
    )
    .await;
    let s = setup(&server, &certs, Security::Tls).await;
    let id = queue_one(&s).await;
    let sent = submit_until_settled(&s.sending, s.user, id).await;
    assert_eq!(sent.state, OutboxState::Sent, "{:?}", sent.last_error);
    assert_eq!(sent.attempts, 2);
    assert_eq!(server.connections(), 2, "retried once, then left alone");
    assert!(
        sent.last_reply
            .as_deref()
            .is_some_and(|r| r.contains("queued as 42"))
    );
    let received = server.received();
    assert_eq!(
        received.matches("\r\nHi Bob").count(),
        2,
        "the same bytes both times"
    );
    assert_eq!(received.matches("Message-ID:").count(), 2);
    let ids: Vec<&str> = received
        .lines()
        .filter(|l| l.starts_with("Message-ID:"))
        .collect();
    assert_eq!(ids[0], ids[1], "a retry sends the very same message");
}

#[tokio::test]
async fn a_permanent_refusal_fails_at_once_and_keeps_the_message() {
    let (_d, certs) = certs();
    let server = FakePop3::start_scripts(
        vec![then(
            up_to_the_final_dot(),
            vec![
                send("554 5.7.1 message refused as spam\r\n"),
                Step::Expect("QUIT"),
                send("221 bye\r\n"),
            ],
        )],
        Some(certs.server_config()),
    )
    .await;
    let s = setup(&server, &certs, Security::Tls).await;
    let id = queue_one(&s).await;
    let failed = submit_until_settled(&s.sending, s.user, id).await;
    assert_eq!(failed.state, OutboxState::Failed);
    assert_eq!(failed.attempts, 1, "a permanent refusal is not retried");
    assert_eq!(
        failed.error_class,
        Some(tributary::model::ErrorClass::SysPerm),
        "a 5xx is the server's permanent no"
    );
    assert!(
        failed
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("554") && e.contains("refused as spam")),
        "{:?}",
        failed.last_error
    );
    assert_eq!(
        (failed.subject.as_str(), failed.body.as_str()),
        ("Hello", "Hi Bob"),
        "kept for editing"
    );
    // The person may send it again: it is queued, and refused again.
    s.sending.resend(s.user, id).await.expect("resend");
    let again = submit_until_settled(&s.sending, s.user, id).await;
    assert_eq!(again.state, OutboxState::Failed);
    assert_eq!(server.connections(), 2);
}

#[tokio::test]
async fn no_answer_after_the_final_dot_means_may_have_been_sent_and_it_is_not_resent() {
    let (_d, certs) = certs();
    let server = FakePop3::start_scripts(
        vec![then(up_to_the_final_dot(), vec![Step::Close])],
        Some(certs.server_config()),
    )
    .await;
    let s = setup(&server, &certs, Security::Tls).await;
    let id = queue_one(&s).await;
    let uncertain = submit_until_settled(&s.sending, s.user, id).await;
    assert_eq!(uncertain.state, OutboxState::Uncertain);
    assert!(
        uncertain
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("may have been sent")),
        "{:?}",
        uncertain.last_error
    );
    for _ in 0..3 {
        tributary::send::worker::tick(s.sending.submitter())
            .await
            .expect("round");
    }
    assert_eq!(server.connections(), 1, "never resent without the person");
    assert_eq!(
        s.sending.get(s.user, id).await.expect("message").state,
        OutboxState::Uncertain
    );
}

#[tokio::test]
async fn a_worker_that_vanished_after_data_leaves_the_message_uncertain() {
    let (_d, certs) = certs();
    let server = FakePop3::start(vec![Step::Close]).await;
    let s = setup(&server, &certs, Security::Tls).await;
    let id = queue_one(&s).await;
    // A worker claimed it, reached DATA (recorded), and died; its lease then ran out.
    let mut conn = s.db.pool.acquire().await.expect("conn");
    let claimed =
        tributary::store::outbox::claim_one(&mut conn, id, "dead-worker", Duration::from_secs(60))
            .await
            .expect("claim")
            .expect("claimed");
    assert!(
        tributary::store::outbox::mark_submitting(&mut conn, claimed.id, "dead-worker")
            .await
            .expect("mark")
    );
    sqlx::query("UPDATE outbox SET lease_expires_at = now() - interval '1 second' WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .expect("expire");
    tributary::send::worker::tick(s.sending.submitter())
        .await
        .expect("round");
    let message = s.sending.get(s.user, id).await.expect("message");
    assert_eq!(message.state, OutboxState::Uncertain);
    assert_eq!(server.connections(), 0, "not sent again");
    // A claim that died before DATA is simply retried once its lease is over.
    let second = queue_one(&s).await;
    tributary::store::outbox::claim_one(&mut conn, second, "dead-worker", Duration::from_secs(60))
        .await
        .expect("claim")
        .expect("claimed");
    sqlx::query("UPDATE outbox SET lease_expires_at = now() - interval '1 second' WHERE id = $1")
        .bind(second)
        .execute(&mut *conn)
        .await
        .expect("expire");
    tributary::send::worker::tick(s.sending.submitter())
        .await
        .expect("round");
    assert_eq!(server.connections(), 1, "taken over by a live worker");
}

#[tokio::test]
async fn a_stripped_starttls_is_refused_before_any_credentials() {
    let (_d, certs) = certs();
    let server = FakePop3::start(vec![
        send("220 fake.example ESMTP\r\n"),
        Step::Expect("EHLO"),
        // An attacker on the path removed STARTTLS from the list.
        send("250-fake.example\r\n250 AUTH PLAIN LOGIN\r\n"),
    ])
    .await;
    let s = setup(&server, &certs, Security::StartTls).await;
    let test = s
        .sending
        .test_identity(s.user, s.account)
        .await
        .expect("runs");
    assert!(
        matches!(test, Err(SubmitError::Smtp(SmtpError::StartTlsNotOffered))),
        "{test:?}"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let received = server.received();
    assert!(received.starts_with("EHLO"), "{received}");
    assert!(
        !received.contains("AUTH"),
        "no credentials sent: {received}"
    );
}

#[tokio::test]
async fn an_endless_reply_and_a_slow_drip_end_within_their_limits() {
    let (_d, certs) = certs();
    let endless = FakePop3::start(vec![Step::Flood(b"250-".repeat(1000))]).await;
    let s = setup(&endless, &certs, Security::PlaintextDangerous).await;
    let test = s
        .sending
        .test_identity(s.user, s.account)
        .await
        .expect("runs");
    assert!(
        matches!(test, Err(SubmitError::Smtp(SmtpError::LineTooLong(_)))),
        "{test:?}"
    );

    let drip = FakePop3::start(vec![Step::Trickle(
        b"220-a greeting that never ends ".repeat(20),
        Duration::from_millis(50),
    )])
    .await;
    let mut s = setup(&drip, &certs, Security::PlaintextDangerous).await;
    let mut submitter = (**s.sending.submitter()).clone();
    submitter.timeouts.session = Duration::from_secs(1);
    s.sending =
        tributary::sending::SendingService::new(std::sync::Arc::new(submitter), Default::default());
    let started = std::time::Instant::now();
    let test = s
        .sending
        .test_identity(s.user, s.account)
        .await
        .expect("runs");
    assert!(
        matches!(
            test,
            Err(SubmitError::Smtp(SmtpError::Timeout(SmtpStep::Session)))
        ),
        "{test:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}
