//! The operator commands for sending, as the real executable against Postfix:
//! `tributary account sending` (save and test) and `tributary send` with its exit codes.

use tributary::model::Security;

use crate::helpers::{
    Cli, Dovecot, LOCAL_DOMAIN, Postfix, TempDir, TestDb, add_server_account, add_user,
    test_key_ring,
};

#[tokio::test]
async fn set_up_sending_and_send_from_the_command_line() {
    let db = TestDb::new().await;
    let ring = test_key_ring();
    let keys: Vec<String> = ring
        .keys()
        .iter()
        .map(|k| k.to_base64().to_string())
        .collect();
    let keys = keys.join(",");
    let dovecot = Dovecot::start(&[("alice", "alice-secret")]).await;
    let postfix = Postfix::start(&dovecot).await;
    let user = add_user(&db, "operator").await;
    let account = add_server_account(
        &db,
        &ring,
        user.id,
        dovecot.tls_port,
        Security::Tls,
        ("alice", "alice-secret"),
        |a| {
            a.email = format!("alice@{LOCAL_DOMAIN}");
        },
    )
    .await;
    let dir = TempDir::new();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &postfix.certs.ca_pem).expect("ca");
    let file = dir.path().join("report.csv");
    std::fs::write(&file, "a,b\n1,2\n").expect("file");
    let cli = |args: &[&str]| {
        Cli::new(args)
            .env("DATABASE_URL", &db.url)
            .env("TRIBUTARY_MASTER_KEY", &keys)
            .env("TRIBUTARY_ALLOW_PRIVATE_HOSTS", "true")
    };
    let id = account.id.to_string();
    let port = postfix.implicit_tls_port.to_string();
    let setup = cli(&[
        "account",
        "sending",
        "--account",
        &id,
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        &port,
        "--ca",
        ca.to_str().expect("path"),
        "--from-name",
        "Alice Ops",
    ])
    .run()
    .await;
    assert_eq!(setup.code, Some(0), "{setup:?}");
    assert!(
        setup.stdout.contains("test sending: signed in"),
        "{setup:?}"
    );

    let sent = cli(&[
        "send",
        "--account",
        &id,
        "--to",
        &format!("bob@{LOCAL_DOMAIN}"),
        "--subject",
        "From the shell",
        "--attach",
        file.to_str().expect("path"),
    ])
    .stdin("Sent by a script.\n")
    .run()
    .await;
    assert_eq!(sent.code, Some(0), "{sent:?}");
    assert!(sent.stdout.contains(" sent"), "{sent:?}");
    let delivered = postfix.wait_delivered(1).await;
    let parsed = mail_parser::MessageParser::default()
        .parse(&delivered[0])
        .expect("parses");
    assert_eq!(parsed.subject(), Some("From the shell"));
    assert!(
        parsed
            .body_text(0)
            .is_some_and(|t| t.contains("Sent by a script."))
    );
    assert_eq!(
        parsed.attachment(0).map(|a| a.contents()),
        Some(&b"a,b\n1,2\n"[..])
    );

    let bad = cli(&["send", "--account", &id, "--to", "nobody"])
        .stdin("x")
        .run()
        .await;
    assert_eq!(bad.code, Some(2), "{bad:?}");
    assert!(bad.stderr.contains("not an email address"), "{bad:?}");

    let bob = format!("bob@{LOCAL_DOMAIN}");
    let send_to_bob = || {
        cli(&["send", "--account", &id, "--to", &bob])
            .stdin("x")
            .run()
    };
    // A wrong separate login: the sign-in test fails in words, and sending is refused (3).
    let wrong = cli(&[
        "account",
        "sending",
        "--account",
        &id,
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        &port,
        "--ca",
        ca.to_str().expect("path"),
        "--smtp-user",
        "alice",
        "--password-stdin",
    ])
    .stdin("wrong password\n")
    .run()
    .await;
    assert_eq!(wrong.code, Some(1), "{wrong:?}");
    assert!(wrong.stderr.contains("rejected the sign-in"), "{wrong:?}");
    assert!(!wrong.stderr.contains("wrong password"));
    let refused = send_to_bob().await;
    assert_eq!(refused.code, Some(3), "sign-in refused: {refused:?}");
    assert!(
        refused.stdout.contains("failed") && refused.stdout.contains("rejected the sign-in"),
        "{refused:?}"
    );

    // The test CA not given: the certificate is not trusted — exit 4, and said so.
    let untrusted = cli(&[
        "account",
        "sending",
        "--account",
        &id,
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        &port,
    ])
    .run()
    .await;
    assert_eq!(untrusted.code, Some(1), "{untrusted:?}");
    let refused = send_to_bob().await;
    assert_eq!(refused.code, Some(4), "TLS: {refused:?}");
    assert!(refused.stdout.contains("TLS error"), "{refused:?}");
}
