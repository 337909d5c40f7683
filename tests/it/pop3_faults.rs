//! The POP3 client against a scripted server, for faults real servers will not produce.

use std::time::Duration;

use tokio::net::TcpStream;
use tributary::crypto::Secret;
use tributary::pop3::{
    self, AuthMethod, Credentials, Phase, Pop3Error, RetrOutcome, Security, Session,
    SessionOptions, Transaction, Trust,
};

use crate::helpers::fake_pop3::{FakePop3, Step, send};
use crate::helpers::{TempDir, TestCerts};

const GREETING: &str = "+OK fake ready\r\n";
const CAPA: &str =
    "+OK\r\nUIDL\r\nTOP\r\nUSER\r\nPIPELINING\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n.\r\n";
const SECRET: &str = "very-secret-password";

fn quick(security: Security, trust: &Trust) -> SessionOptions {
    let mut options = SessionOptions::new(security, trust).expect("options");
    options.timeouts.connect = Duration::from_secs(2);
    options.timeouts.tls_handshake = Duration::from_secs(2);
    options.timeouts.read_idle = Duration::from_millis(500);
    options.timeouts.session = Duration::from_secs(5);
    options
}

fn plain() -> SessionOptions {
    quick(Security::PlaintextDangerous, &Trust::WebPki)
}

fn creds() -> Credentials {
    Credentials {
        username: "ann".into(),
        password: Secret::new(SECRET),
    }
}

/// The opening every transaction test shares: greeting, CAPA, USER, PASS.
fn logged_in(rest: Vec<Step>) -> Vec<Step> {
    let mut script = vec![
        send(GREETING),
        Step::Expect("CAPA"),
        send(CAPA),
        Step::Expect("USER"),
        send("+OK\r\n"),
        Step::Expect("PASS"),
        send("+OK logged in\r\n"),
    ];
    script.extend(rest);
    script
}

async fn transaction(server: &FakePop3) -> Session<Transaction, TcpStream> {
    pop3::connect("127.0.0.1", server.port, &plain())
        .await
        .expect("connect")
        .login(&creds(), AuthMethod::UserPass)
        .await
        .expect("login")
}

/// Runs `f` and checks it ends well within `limit` (deadlines must fire, not hang).
async fn within<T>(limit: Duration, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, f)
        .await
        .expect("ended within the deadline")
}

#[tokio::test]
async fn a_drop_mid_retr_or_mid_uidl_is_a_transient_error() {
    let server = FakePop3::start(logged_in(vec![
        Step::Expect("RETR"),
        send("+OK 100 octets\r\nFrom: a\r\n\r\nhalf a bo"),
        Step::Close,
    ]))
    .await;
    let mut session = transaction(&server).await;
    let mut body = Vec::new();
    let error = session.retr(1, &mut body).await.expect_err("dropped");
    assert!(
        matches!(error, Pop3Error::Closed) && error.is_transient(),
        "{error:?}"
    );

    let server = FakePop3::start(logged_in(vec![
        Step::Expect("UIDL"),
        send("+OK\r\n1 abc\r\n2 de"),
        Step::Close,
    ]))
    .await;
    let mut session = transaction(&server).await;
    assert!(matches!(session.uidl().await, Err(Pop3Error::Closed)));
}

#[tokio::test]
async fn silence_and_trickles_hit_the_deadlines() {
    // Never answers at all.
    let server = FakePop3::start(vec![Step::Hang]).await;
    let error = within(
        Duration::from_secs(3),
        pop3::connect("127.0.0.1", server.port, &plain()),
    )
    .await
    .expect_err("silent");
    assert!(
        matches!(error, Pop3Error::Timeout(Phase::Read)),
        "{error:?}"
    );

    // One byte per 200 ms forever: each read is quick, the whole session is not.
    let endless: Vec<u8> = b"+OK 9999 octets\r\n"
        .iter()
        .copied()
        .chain(std::iter::repeat_n(b'x', 10_000))
        .collect();
    let server = FakePop3::start(logged_in(vec![
        Step::Expect("RETR"),
        Step::Trickle(endless, Duration::from_millis(200)),
    ]))
    .await;
    let mut session = transaction(&server).await;
    let mut body = Vec::new();
    let error = within(Duration::from_secs(8), session.retr(1, &mut body))
        .await
        .expect_err("trickle");
    assert!(
        matches!(error, Pop3Error::Timeout(Phase::Session)),
        "{error:?}"
    );
}

#[tokio::test]
async fn endless_lines_and_bodies_keep_memory_bounded() {
    // An endless line without CRLF.
    let server = FakePop3::start(vec![Step::Flood(vec![b'A'; 4096])]).await;
    let error = within(
        Duration::from_secs(5),
        pop3::connect("127.0.0.1", server.port, &plain()),
    )
    .await
    .expect_err("endless");
    assert!(matches!(error, Pop3Error::LineTooLong(_)), "{error:?}");

    // A message far over the limit is dropped while streaming, and the session goes on.
    let mut big = b"+OK\r\n".to_vec();
    big.extend(
        std::iter::repeat_n(
            b"0123456789012345678901234567890123456789\r\n".as_slice(),
            100_000,
        )
        .flatten(),
    );
    big.extend_from_slice(b".\r\n+OK still here\r\n");
    let server = FakePop3::start(logged_in(vec![
        Step::Expect("RETR"),
        Step::Send(big),
        Step::Expect("NOOP"),
    ]))
    .await;
    let mut options = plain();
    options.limits.max_message_bytes = 100_000;
    let mut session = pop3::connect("127.0.0.1", server.port, &options)
        .await
        .expect("connect")
        .login(&creds(), AuthMethod::UserPass)
        .await
        .expect("login");
    let mut body = Vec::new();
    let outcome = session.retr(1, &mut body).await.expect("retr");
    assert_eq!(outcome, RetrOutcome::TooLarge { limit: 100_000 });
    assert!(
        body.len() <= 100_000,
        "no more than the limit was kept: {}",
        body.len()
    );
    session
        .noop()
        .await
        .expect("the connection is still in step");
}

#[tokio::test]
async fn greetings_that_are_not_pop3_are_refused() {
    for greeting in [
        "HTTP/1.1 400 Bad Request\r\n\r\n",
        "220 smtp.example.org ESMTP ready\r\n",
        "* OK IMAP4rev1 ready\r\n",
    ] {
        let server = FakePop3::start(vec![send(greeting), Step::Hang]).await;
        let error = pop3::connect("127.0.0.1", server.port, &plain())
            .await
            .expect_err(greeting);
        assert!(
            matches!(error, Pop3Error::Protocol(_)),
            "{greeting}: {error:?}"
        );
    }
    let server = FakePop3::start(vec![Step::Close]).await;
    let error = pop3::connect("127.0.0.1", server.port, &plain())
        .await
        .expect_err("empty");
    assert!(matches!(error, Pop3Error::Protocol(_)), "{error:?}");
}

#[tokio::test]
async fn starttls_failures_never_send_credentials() {
    let dir = TempDir::new();
    let certs = TestCerts::create(dir.path());
    let trust = Trust::CustomCa(certs.ca_pem.clone());
    let capa_stls = "+OK\r\nUSER\r\nSTLS\r\n.\r\n";
    // Greeting, CAPA offering STLS, the STLS command — then what each case does.
    let stls = |then: Vec<Step>| {
        let mut script = vec![
            send(GREETING),
            Step::Expect("CAPA"),
            send(capa_stls),
            Step::Expect("STLS"),
        ];
        script.extend(then);
        script
    };
    let cases: Vec<(&str, Vec<Step>)> = vec![
        (
            "not offered",
            vec![
                send(GREETING),
                Step::Expect("CAPA"),
                send("+OK\r\nUSER\r\n.\r\n"),
            ],
        ),
        ("refused", stls(vec![send("-ERR not today\r\n")])),
        ("closed", stls(vec![Step::Close])),
        (
            "garbage",
            stls(vec![
                send("+OK\r\n"),
                send("this is not a TLS handshake at all\r\n"),
            ]),
        ),
        ("hang", stls(vec![Step::Hang])),
        (
            "hang in handshake",
            stls(vec![send("+OK go ahead\r\n"), Step::Hang]),
        ),
    ];
    for (name, script) in cases {
        let server = FakePop3::start(script).await;
        let options = quick(Security::StartTls, &trust);
        let result = within(Duration::from_secs(5), async {
            pop3::connect("127.0.0.1", server.port, &options)
                .await?
                .login(&creds(), AuthMethod::UserPass)
                .await
        })
        .await;
        let error = result.expect_err(name);
        match name {
            "not offered" => assert!(
                matches!(error, Pop3Error::StartTlsNotOffered),
                "{name}: {error:?}"
            ),
            "refused" => assert!(
                matches!(error, Pop3Error::StartTlsRefused(_)),
                "{name}: {error:?}"
            ),
            "closed" => assert!(matches!(error, Pop3Error::Closed), "{name}: {error:?}"),
            "garbage" => assert!(matches!(error, Pop3Error::Tls(_)), "{name}: {error:?}"),
            "hang" => assert!(
                matches!(error, Pop3Error::Timeout(Phase::Read)),
                "{name}: {error:?}"
            ),
            _ => assert!(
                matches!(error, Pop3Error::Timeout(Phase::TlsHandshake)),
                "{name}: {error:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let received = server.received();
        assert!(
            !received.contains("USER") && !received.contains("PASS") && !received.contains(SECRET),
            "{name}: sent {received:?}"
        );
    }
}

#[tokio::test]
async fn plaintext_injected_after_stls_is_discarded() {
    let dir = TempDir::new();
    let certs = TestCerts::create(dir.path());
    let script = vec![
        send(GREETING),
        Step::Expect("CAPA"),
        send("+OK\r\nUSER\r\nSTLS\r\n.\r\n"),
        Step::Expect("STLS"),
        // The attacker's bytes ride along with the +OK, before the handshake.
        send("+OK begin TLS\r\n+OK\r\nINJECTED-CAPABILITY\r\n.\r\n"),
        Step::StartTls,
        Step::Expect("CAPA"),
        send("+OK\r\nUSER\r\nX-AFTER-TLS\r\n.\r\n"),
        Step::Expect("USER"),
        send("+OK\r\n"),
        Step::Expect("PASS"),
        send("+OK welcome\r\n"),
    ];
    let server = FakePop3::start_with_tls(script, Some(certs.server_config())).await;
    let options = quick(Security::StartTls, &Trust::CustomCa(certs.ca_pem.clone()));
    match pop3::connect("127.0.0.1", server.port, &options).await {
        Ok(session) => {
            let lines = &session.capabilities().lines;
            assert!(lines.iter().any(|l| l == "X-AFTER-TLS"), "{lines:?}");
            assert!(!lines.iter().any(|l| l.contains("INJECTED")), "{lines:?}");
            session
                .login(&creds(), AuthMethod::UserPass)
                .await
                .expect("login over TLS");
        }
        // If the injected bytes arrive after the buffer was dropped, they break the
        // handshake instead: also safe, and nothing was sent in the clear.
        Err(error) => {
            assert!(matches!(error, Pop3Error::Tls(_)), "{error:?}");
            assert!(!server.received().contains("USER"));
        }
    }
}

#[tokio::test]
async fn response_codes_become_typed_errors() {
    let cases = [
        ("-ERR [IN-USE] mailbox locked\r\n", "in use"),
        ("-ERR [AUTH] invalid password\r\n", "auth"),
        ("-ERR [SYS/TEMP] try again later\r\n", "temp"),
        ("-ERR [SYS/PERM] account disabled\r\n", "perm"),
        ("-ERR [LOGIN-DELAY 900] too soon\r\n", "delay"),
        ("-ERR no such user or wrong password\r\n", "auth"),
    ];
    for (reply, kind) in cases {
        let server = FakePop3::start(vec![
            send(GREETING),
            Step::Expect("CAPA"),
            send(CAPA),
            Step::Expect("USER"),
            send("+OK\r\n"),
            Step::Expect("PASS"),
            send(reply),
        ])
        .await;
        let error = pop3::connect("127.0.0.1", server.port, &plain())
            .await
            .expect("connect")
            .login(&creds(), AuthMethod::UserPass)
            .await
            .expect_err(reply);
        match kind {
            "in use" => assert!(error.is_in_use() && error.is_transient(), "{error:?}"),
            "auth" => assert!(error.is_auth() && !error.is_transient(), "{error:?}"),
            "temp" => assert!(
                matches!(error, Pop3Error::SysTemp(_)) && error.is_transient(),
                "{error:?}"
            ),
            "perm" => assert!(
                matches!(error, Pop3Error::SysPerm(_)) && !error.is_transient(),
                "{error:?}"
            ),
            _ => assert_eq!(
                error.login_delay(),
                Some(Duration::from_secs(900)),
                "{error:?}"
            ),
        }
        // The server's words reach the user, cleaned.
        assert!(!error.to_string().contains('\r'), "{error}");
    }
}

#[tokio::test]
async fn odd_but_legal_servers() {
    // Duplicate UIDLs are reported as sent; the fetch engine decides what to do.
    let server = FakePop3::start(logged_in(vec![
        Step::Expect("UIDL"),
        send("+OK\r\n1 same\r\n2 same\r\n.\r\n"),
    ]))
    .await;
    let mut session = transaction(&server).await;
    assert_eq!(
        session.uidl().await.expect("uidl"),
        vec![(1, "same".to_owned()), (2, "same".to_owned())]
    );

    // No UIDL support at all.
    let server = FakePop3::start(logged_in(vec![
        Step::Expect("UIDL"),
        send("-ERR unknown command\r\n"),
        Step::Expect("NOOP"),
        send("+OK\r\n"),
    ]))
    .await;
    let mut session = transaction(&server).await;
    assert!(matches!(
        session.uidl().await,
        Err(Pop3Error::Unsupported("UIDL"))
    ));
    session.noop().await.expect("still usable");

    // NUL bytes and bare LFs in a message come through byte for byte.
    let server = FakePop3::start(logged_in(vec![
        Step::Expect("RETR"),
        Step::Send(b"+OK\r\nA\0B\r\nbare\nlf\n.\nnot the end\r\n..\r\n.\r\n".to_vec()),
    ]))
    .await;
    let mut session = transaction(&server).await;
    let mut body = Vec::new();
    session.retr(1, &mut body).await.expect("retr");
    assert_eq!(body, b"A\0B\r\nbare\nlf\n.\nnot the end\r\n.\r\n");

    // QUIT answered by a dropped connection: an error, so deletions are not assumed done.
    let server = FakePop3::start(logged_in(vec![
        Step::Expect("DELE"),
        send("+OK\r\n"),
        Step::Expect("QUIT"),
        Step::Close,
    ]))
    .await;
    let mut session = transaction(&server).await;
    session.dele(1).await.expect("dele");
    assert!(matches!(session.quit().await, Err(Pop3Error::Closed)));
}

#[tokio::test]
async fn credentials_never_go_out_in_the_clear_unless_chosen() {
    // Implicit TLS against a plaintext server: the handshake fails, nothing is sent.
    let server = FakePop3::start(vec![send(GREETING), Step::Hang]).await;
    let error = pop3::connect(
        "127.0.0.1",
        server.port,
        &quick(Security::Tls, &Trust::WebPki),
    )
    .await
    .expect_err("not TLS");
    assert!(matches!(error, Pop3Error::Tls(_)), "{error:?}");
    assert!(!server.received().contains("USER"));
}
