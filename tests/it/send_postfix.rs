//! Sending through a real Postfix (submission on implicit TLS and STARTTLS, SASL through
//! Dovecot), read back from the Maildir it delivers into.

use base64::Engine as _;
use mail_parser::MessageParser;
use tributary::model::{OutboxState, Security};
use tributary::send::SubmitError;
use tributary::sending::SendingError;
use tributary::smtp::SmtpError;
use tributary::store::outbox::Attachment;

use crate::helpers::{
    Dovecot, LOCAL_DOMAIN, Postfix, TestDb, add_server_account, add_user, fetch_now, identity_at,
    message_to, submit_until_settled, test_fetcher, test_key_ring, test_sending,
};

const ALICE: (&str, &str) = ("alice", "alice-secret");

#[tokio::test]
async fn a_message_and_a_reply_arrive_intact_through_implicit_tls_and_starttls() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let dovecot = Dovecot::start(&[ALICE]).await;
    let postfix = Postfix::start(&dovecot).await;
    let user = add_user(&db, "sender").await;
    let account = add_server_account(
        &db,
        &ring,
        user.id,
        dovecot.tls_port,
        Security::Tls,
        ALICE,
        |a| {
            a.email = format!("alice@{LOCAL_DOMAIN}");
            a.tls_ca_pem = Some(dovecot.certs.ca_pem.clone());
        },
    )
    .await;
    let sending = test_sending(&db, &ring);
    let identity = sending
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
    assert_eq!(
        identity.from_address,
        format!("alice@{LOCAL_DOMAIN}"),
        "defaults to the account's address"
    );
    let report = sending
        .test_identity(user.id, account.id)
        .await
        .expect("test runs")
        .expect("the POP3 login signs in to SMTP");
    assert!(report.tls_version.is_some());
    assert_eq!(postfix.delivered().len(), 0, "test sending sends nothing");

    let mut draft = message_to(
        account.id,
        &format!("Bob <bob@{LOCAL_DOMAIN}>"),
        "Réunion de l'équipe",
        "Bonjour,\n.\nune ligne avec un point seul au-dessus.",
    );
    draft.bcc = format!("hidden@{LOCAL_DOMAIN}");
    let pdf = (0..=255u8).cycle().take(70_000).collect::<Vec<u8>>();
    draft.attachments = vec![Attachment {
        filename: "ordre du jour.pdf".into(),
        content_type: "application/pdf".into(),
        content: pdf.clone(),
    }];
    let queued = sending.send(user.id, None, draft).await.expect("queued");
    assert_eq!(queued.state, OutboxState::Queued);
    let sent = submit_until_settled(&sending, user.id, queued.id).await;
    assert_eq!(sent.state, OutboxState::Sent, "{:?}", sent.last_error);
    // Bob and the Bcc recipient both get it: two deliveries into the one Maildir.
    let delivered = postfix.wait_delivered(2).await;
    let parsed = MessageParser::default()
        .parse(&delivered[0])
        .expect("parses");
    assert_eq!(parsed.subject(), Some("Réunion de l'équipe"));
    let from = parsed.from().and_then(|f| f.first()).expect("from");
    assert_eq!(from.name(), Some("Alice Tester"));
    assert_eq!(
        from.address(),
        Some(format!("alice@{LOCAL_DOMAIN}").as_str())
    );
    assert_eq!(
        parsed.message_id().map(|id| format!("<{id}>")),
        sent.message_id,
        "the Message-ID we stored is the one delivered"
    );
    assert!(
        sent.message_id
            .as_deref()
            .is_some_and(|id| id.ends_with(&format!("@{LOCAL_DOMAIN}>")))
    );
    let text = parsed.body_text(0).expect("text");
    assert!(
        text.contains("\n.\nune ligne"),
        "dot-stuffing undone by the server: {text:?}"
    );
    assert_eq!(
        parsed.attachment(0).map(|a| a.contents()),
        Some(pdf.as_slice())
    );
    let raw = String::from_utf8_lossy(&delivered[0]);
    assert!(
        !raw.contains("hidden@"),
        "the Bcc recipient is not in the headers"
    );

    // A reply through the STARTTLS port to a message fetched by POP3: threading headers.
    dovecot.deliver(
        "alice",
        "1.eml",
        format!(
            "From: Bob <bob@{LOCAL_DOMAIN}>\r\nTo: alice@{LOCAL_DOMAIN}\r\nSubject: Question\r\n\
             Message-ID: <question@{LOCAL_DOMAIN}>\r\nReferences: <root@{LOCAL_DOMAIN}>\r\n\r\nOui ?\r\n"
        )
        .as_bytes(),
    );
    let fetcher = test_fetcher(&db, &ring);
    fetch_now(&fetcher, account.id).await;
    let original: i64 = sqlx::query_scalar("SELECT id FROM messages WHERE account_id = $1")
        .bind(account.id)
        .fetch_one(&db.pool)
        .await
        .expect("fetched");
    sending
        .save_identity(
            user.id,
            account.id,
            identity_at(
                postfix.starttls_port,
                Security::StartTls,
                &postfix.certs.ca_pem,
                None,
            ),
        )
        .await
        .expect("identity on STARTTLS");
    let mut reply = message_to(
        account.id,
        &format!("bob@{LOCAL_DOMAIN}"),
        "Re: Question",
        "Oui.",
    );
    reply.in_reply_to = Some(original);
    let queued = sending.send(user.id, None, reply).await.expect("queued");
    let sent = submit_until_settled(&sending, user.id, queued.id).await;
    assert_eq!(sent.state, OutboxState::Sent, "{:?}", sent.last_error);
    let delivered = postfix.wait_delivered(3).await;
    let reply = MessageParser::default()
        .parse(&delivered[2])
        .expect("parses");
    assert_eq!(reply.subject(), Some("Re: Question"));
    assert_eq!(
        reply.in_reply_to().as_text(),
        Some(format!("question@{LOCAL_DOMAIN}").as_str())
    );
    let references: Vec<String> = reply
        .references()
        .as_text_list()
        .unwrap_or_default()
        .iter()
        .map(|r| r.to_string())
        .collect();
    assert_eq!(
        references,
        vec![
            format!("root@{LOCAL_DOMAIN}"),
            format!("question@{LOCAL_DOMAIN}")
        ]
    );
}

#[tokio::test]
async fn a_wrong_password_and_a_server_without_starttls_are_refused_in_words() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let dovecot = Dovecot::start(&[ALICE]).await;
    let postfix = Postfix::start(&dovecot).await;
    let user = add_user(&db, "sender").await;
    let account = add_server_account(
        &db,
        &ring,
        user.id,
        dovecot.tls_port,
        Security::Tls,
        ALICE,
        |a| {
            a.email = format!("alice@{LOCAL_DOMAIN}");
        },
    )
    .await;
    let sending = test_sending(&db, &ring);
    sending
        .save_identity(
            user.id,
            account.id,
            identity_at(
                postfix.implicit_tls_port,
                Security::Tls,
                &postfix.certs.ca_pem,
                Some(("alice", "not the password")),
            ),
        )
        .await
        .expect("identity");
    // The debug transcript of the attempt: every command and reply, the sign-in hidden.
    let transcript = Transcript::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(transcript.clone())
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let test = sending
        .test_identity(user.id, account.id)
        .await
        .expect("test runs");
    drop(guard);
    let logged = transcript.text();
    for line in [
        "SMTP S: 220",
        "SMTP C: EHLO",
        "SMTP C: AUTH PLAIN ***",
        "SMTP C: ***",
        "SMTP S: 535",
    ] {
        assert!(logged.contains(line), "{line:?} missing from\n{logged}");
    }
    let plain = base64::engine::general_purpose::STANDARD.encode("\0alice\0not the password");
    assert!(
        !logged.contains("not the password") && !logged.contains(&plain),
        "credentials in the transcript:\n{logged}"
    );
    let Err(SubmitError::Smtp(error @ SmtpError::Auth { code: 535, .. })) = &test else {
        panic!("expected a rejected sign-in, got {test:?}");
    };
    assert!(error.is_auth());
    let message = error.to_string();
    assert!(message.contains("rejected the sign-in"), "{message}");
    assert!(
        !message.contains("not the password"),
        "the password is never in the message"
    );

    let queued = sending
        .send(
            user.id,
            None,
            message_to(account.id, &format!("bob@{LOCAL_DOMAIN}"), "Hi", "x"),
        )
        .await
        .expect("queued");
    let failed = submit_until_settled(&sending, user.id, queued.id).await;
    assert_eq!(
        failed.state,
        OutboxState::Failed,
        "a refused login is not retried"
    );
    assert!(
        failed
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("rejected the sign-in"))
    );
    assert_eq!(failed.attempts, 1);

    // STARTTLS required, on a port that does not offer it: nothing after EHLO.
    sending
        .save_identity(
            user.id,
            account.id,
            identity_at(
                postfix.no_tls_port,
                Security::StartTls,
                &postfix.certs.ca_pem,
                None,
            ),
        )
        .await
        .expect("identity");
    let test = sending
        .test_identity(user.id, account.id)
        .await
        .expect("test runs");
    assert!(
        matches!(test, Err(SubmitError::Smtp(SmtpError::StartTlsNotOffered))),
        "{test:?}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let log = postfix.log();
    let sessions: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("disconnect from"))
        .collect();
    let last = sessions.last().expect("postfix logged the session");
    assert!(last.contains("ehlo=1") && !last.contains("auth="), "{last}");

    // Sending is refused where no identity exists, in words.
    sending
        .remove_identity(user.id, account.id)
        .await
        .expect("removed");
    let refused = sending
        .send(
            user.id,
            None,
            message_to(account.id, &format!("bob@{LOCAL_DOMAIN}"), "Hi", "x"),
        )
        .await;
    assert!(
        matches!(refused, Err(SendingError::NoIdentity)),
        "{refused:?}"
    );
}

/// Log lines written by a test's own subscriber.
#[derive(Clone, Default)]
struct Transcript(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Transcript {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("transcript")).into_owned()
    }
}

impl std::io::Write for Transcript {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("transcript").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Transcript {
    type Writer = Self;

    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}
