//! Self-signed and private-CA servers against a real Dovecot: a self-signed certificate
//! given as the CA just works (it is then a pin that still checks the host name), every
//! refusal is said in words, "Trust this certificate" after a failed test pins it, a
//! changed pinned certificate pauses the account for review, and a plaintext test of a
//! server that offers STARTTLS proposes switching in one click.

use std::time::Duration;

use crate::helpers::web::{USER_PASSWORD, WebClient, field_value};
use crate::helpers::{Cli, Dovecot, SelfSigned, TestApp, TestDb, add_user, sample_message};

const MAILBOX_PASSWORD: &str = "alice's mailbox secret";

async fn pop3_fetch(dovecot: &Dovecot, host: &str, extra: &[&str]) -> crate::helpers::CliOutput {
    let port = dovecot.tls_port.to_string();
    let mut args = vec![
        "pop3",
        "fetch",
        "--host",
        host,
        "--port",
        &port,
        "--security",
        "tls",
        "--user",
        "alice",
        "--password-stdin",
        "--discard",
    ];
    args.extend_from_slice(extra);
    Cli::new(&args).stdin(MAILBOX_PASSWORD).run().await
}

#[tokio::test]
async fn a_self_signed_certificate_given_as_the_ca_is_accepted_and_refusals_are_in_words() {
    let dovecot = Dovecot::start(&[("alice", MAILBOX_PASSWORD)]).await;
    dovecot.deliver("alice", "1.test", &sample_message(1, 2_000));
    let own = SelfSigned::create(
        dovecot.dir(),
        "pop.example.test",
        "DNS:localhost,IP:127.0.0.1",
    );
    dovecot.use_certificate(&own.cert_path, &own.key_path).await;
    let own_ca = own.cert_path.to_str().expect("path");

    // Exactly the server's certificate as the CA: accepted, though OpenSSL marked it a CA.
    let fetched = pop3_fetch(&dovecot, "127.0.0.1", &["--ca", own_ca]).await;
    assert_eq!(fetched.code, Some(0), "{fetched:?}");
    assert!(fetched.stdout.contains("1 message"), "{fetched:?}");

    // The same certificate, and the host name still checked.
    let elsewhere = SelfSigned::create(dovecot.dir(), "mail.example.net", "DNS:mail.example.net");
    dovecot
        .use_certificate(&elsewhere.cert_path, &elsewhere.key_path)
        .await;
    let wrong_name = pop3_fetch(
        &dovecot,
        "127.0.0.1",
        &["--ca", elsewhere.cert_path.to_str().expect("path")],
    )
    .await;
    assert_ne!(wrong_name.code, Some(0), "{wrong_name:?}");
    let said = format!("{}{}", wrong_name.stdout, wrong_name.stderr);
    assert!(
        said.contains("the certificate is for mail.example.net, not 127.0.0.1"),
        "{said}"
    );

    // No CA given, or another CA: not trusted, said in words with what to do.
    dovecot.use_certificate(&own.cert_path, &own.key_path).await;
    let untrusted = pop3_fetch(&dovecot, "127.0.0.1", &[]).await;
    let other_ca = pop3_fetch(
        &dovecot,
        "127.0.0.1",
        &[
            "--ca",
            dovecot
                .certs
                .cert_path
                .with_file_name("ca.crt")
                .to_str()
                .expect("path"),
        ],
    )
    .await;
    for refused in [&untrusted, &other_ca] {
        assert_ne!(refused.code, Some(0), "{refused:?}");
        let said = format!("{}{}", refused.stdout, refused.stderr);
        assert!(
            said.contains("not signed by an authority Tributary trusts")
                && said.contains("trust it by its fingerprint"),
            "{said}"
        );
        for jargon in [
            "UnknownIssuer",
            "CaUsedAsEndEntity",
            "OtherError",
            "InvalidCertificate",
        ] {
            assert!(!said.contains(jargon), "{jargon} in {said}");
        }
    }

    // TLS on a port that speaks plain POP3: said in words too.
    let plain_port = dovecot.plain_port.to_string();
    let not_tls = Cli::new(&[
        "pop3",
        "probe",
        "--host",
        "127.0.0.1",
        "--port",
        &plain_port,
        "--security",
        "tls",
    ])
    .run()
    .await;
    let said = format!("{}{}", not_tls.stdout, not_tls.stderr);
    assert!(said.contains("the server did not answer in TLS"), "{said}");
}

fn form(port: u16, action: &str) -> Vec<(&'static str, String)> {
    vec![
        ("action", action.to_owned()),
        ("email", "alice@example.test".into()),
        ("username", "alice".into()),
        ("host", "localhost".into()),
        ("port", port.to_string()),
        ("security", "tls".into()),
        ("auth", "password".into()),
        ("trust", "webpki".into()),
        ("leave", "keep".into()),
        ("polling", "auto".into()),
        ("import", "all".into()),
        ("label", "Alice".into()),
        ("color", "#2e9e5b".into()),
        ("password", MAILBOX_PASSWORD.into()),
    ]
}

async fn send(
    web: &mut WebClient,
    path: &str,
    fields: &[(&'static str, String)],
) -> crate::helpers::web::Page {
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    web.submit(path, &refs).await
}

fn replace(fields: &mut Vec<(&'static str, String)>, key: &'static str, value: &str) {
    fields.retain(|(k, _)| *k != key);
    fields.push((key, value.to_owned()));
}

fn colons(sha256: &str) -> String {
    sha256
        .as_bytes()
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(":")
}

#[tokio::test]
async fn trusting_a_certificate_pins_it_and_a_changed_one_pauses_the_account_for_review() {
    let db = TestDb::new().await;
    let ann = add_user(&db, "ann").await;
    let dovecot = Dovecot::start(&[("alice", MAILBOX_PASSWORD)]).await;
    dovecot.deliver("alice", "1.test", &sample_message(1, 2_000));
    let first = SelfSigned::create(dovecot.dir(), "first", "DNS:localhost");
    dovecot
        .use_certificate(&first.cert_path, &first.key_path)
        .await;
    let app = TestApp::spawn(&db).await;
    let mut web = WebClient::signed_in(&app, &ann.email, USER_PASSWORD).await;

    // The test fails in words and shows the certificate for review.
    let refused = send(
        &mut web,
        "/settings/accounts/new",
        &form(dovecot.tls_port, "test"),
    )
    .await;
    assert!(
        refused
            .body
            .contains("not signed by an authority Tributary trusts"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("data-certificate"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains(&colons(&first.sha256)),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("CN=first"), "{}", refused.body);
    assert!(
        refused.body.contains("Trust this certificate"),
        "{}",
        refused.body
    );

    // Trusting it pins exactly that certificate and tests again.
    let action = format!("trust_certificate:{}", first.sha256);
    let mut fields = form(dovecot.tls_port, &action);
    let trusted = send(&mut web, "/settings/accounts/new", &fields).await;
    assert!(
        trusted.body.contains("Connected securely"),
        "{}",
        trusted.body
    );
    assert_eq!(
        field_value(&trusted.body, "tls_pin_sha256").as_deref(),
        Some(first.sha256.as_str())
    );
    replace(&mut fields, "action", "save");
    replace(&mut fields, "trust", "pin");
    replace(&mut fields, "tls_pin_sha256", &first.sha256);
    let saved = send(&mut web, "/settings/accounts/new", &fields).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    web.wait_for("/settings/accounts", "Last checked").await;
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM accounts")
        .fetch_one(&db.pool)
        .await
        .expect("saved");
    let fetched: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(fetched, 1);

    // The server's certificate changes: the next check pauses the account for review.
    let second = SelfSigned::create(dovecot.dir(), "second", "DNS:localhost");
    dovecot
        .use_certificate(&second.cert_path, &second.key_path)
        .await;
    dovecot.deliver("alice", "2.test", &sample_message(2, 2_000));
    let checked = web
        .submit(&format!("/settings/accounts/{id}/check"), &[])
        .await;
    assert!(checked.status < 400, "{}", checked.body);
    let paused = web
        .wait_for("/settings/accounts", "certificate changed")
        .await;
    assert!(paused.contains("review the new certificate"), "{paused}");
    let reason: Option<String> = sqlx::query_scalar("SELECT paused_reason FROM accounts")
        .fetch_one(&db.pool)
        .await
        .expect("reason");
    assert_eq!(reason.as_deref(), Some("certificate_changed"));
    // Paused means paused: the scheduler does not keep knocking.
    let runs_before: i64 = sqlx::query_scalar("SELECT count(*) FROM fetch_runs")
        .fetch_one(&db.pool)
        .await
        .expect("runs");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let runs_after: i64 = sqlx::query_scalar("SELECT count(*) FROM fetch_runs")
        .fetch_one(&db.pool)
        .await
        .expect("runs");
    assert_eq!(runs_before, runs_after);

    // The edit page's test shows the new certificate; trusting it and saving resumes.
    let edit_path = format!("/settings/accounts/{id}");
    let mut fields = form(dovecot.tls_port, "test");
    replace(&mut fields, "trust", "pin");
    replace(&mut fields, "tls_pin_sha256", &first.sha256);
    fields.retain(|(k, _)| *k != "password");
    let review = send(&mut web, &edit_path, &fields).await;
    assert!(
        review.body.contains("certificate changed"),
        "{}",
        review.body
    );
    assert!(
        review.body.contains("The server&#39;s new certificate"),
        "{}",
        review.body
    );
    assert!(
        review.body.contains(&colons(&second.sha256)),
        "{}",
        review.body
    );
    assert!(
        review.body.contains("Trust the new certificate"),
        "{}",
        review.body
    );
    replace(
        &mut fields,
        "action",
        &format!("trust_certificate:{}", second.sha256),
    );
    let retested = send(&mut web, &edit_path, &fields).await;
    assert!(
        retested.body.contains("Connected securely"),
        "{}",
        retested.body
    );
    replace(&mut fields, "action", "save");
    replace(&mut fields, "tls_pin_sha256", &second.sha256);
    let resaved = send(&mut web, &edit_path, &fields).await;
    assert_eq!(resaved.status, 303, "{}", resaved.body);
    web.wait_for("/", "message 2").await;
    let reason: Option<String> = sqlx::query_scalar("SELECT paused_reason FROM accounts")
        .fetch_one(&db.pool)
        .await
        .expect("reason");
    assert_eq!(reason, None);
}

#[tokio::test]
async fn a_plaintext_test_of_a_server_offering_starttls_proposes_it_in_one_click() {
    let db = TestDb::new().await;
    let ann = add_user(&db, "ann").await;
    let dovecot = Dovecot::start(&[("alice", MAILBOX_PASSWORD)]).await;
    let app = TestApp::spawn(&db).await;
    let mut web = WebClient::signed_in(&app, &ann.email, USER_PASSWORD).await;

    let mut fields = form(dovecot.plain_port, "test");
    replace(&mut fields, "security", "plain");
    replace(&mut fields, "trust", "ca");
    fields.push(("tls_ca_pem", dovecot.certs.ca_pem.clone()));
    let plain = send(&mut web, "/settings/accounts/new", &fields).await;
    assert!(plain.body.contains("WITHOUT encryption"), "{}", plain.body);
    assert!(
        plain.body.contains("The server offers STARTTLS"),
        "{}",
        plain.body
    );
    assert!(plain.body.contains("data-use-starttls"), "{}", plain.body);

    replace(&mut fields, "action", "use_starttls");
    let switched = send(&mut web, "/settings/accounts/new", &fields).await;
    assert!(
        switched.body.contains("Connected securely"),
        "{}",
        switched.body
    );
    assert!(
        !switched.body.contains("data-use-starttls"),
        "{}",
        switched.body
    );
    assert!(
        switched.body.contains("value=\"starttls\" checked"),
        "{}",
        switched.body
    );
}
