//! The POP3 client against a real Dovecot.

use tokio::net::TcpStream;
use tributary::crypto::Secret;
use tributary::pop3::{
    self, AuthMethod, Credentials, Pop3Error, RetrOutcome, Security, Session, SessionOptions,
    Transaction, Trust,
};

use crate::helpers::{Dovecot, retrieve_all_matching, sample_message as message};

const USER: &str = "alice";
const PASSWORD: &str = "alice's password";

fn credentials(password: &str) -> Credentials {
    Credentials {
        username: USER.into(),
        password: Secret::new(password),
    }
}

fn options(dovecot: &Dovecot, security: Security) -> SessionOptions {
    SessionOptions::new(security, &Trust::CustomCa(dovecot.certs.ca_pem.clone())).expect("options")
}

async fn login(
    dovecot: &Dovecot,
    security: Security,
    method: AuthMethod,
) -> Session<Transaction, TcpStream> {
    let port = if security == Security::Tls {
        dovecot.tls_port
    } else {
        dovecot.plain_port
    };
    pop3::connect("127.0.0.1", port, &options(dovecot, security))
        .await
        .expect("connect")
        .login(&credentials(PASSWORD), method)
        .await
        .expect("login")
}

#[tokio::test]
async fn logs_in_with_every_mechanism_over_both_kinds_of_tls() {
    let dovecot = Dovecot::start(&[(USER, PASSWORD)]).await;
    for security in [Security::Tls, Security::StartTls] {
        for method in [
            AuthMethod::UserPass,
            AuthMethod::SaslPlain,
            AuthMethod::SaslLogin,
            AuthMethod::Apop,
        ] {
            let mut session = login(&dovecot, security, method).await;
            assert_eq!(
                session.stat().await.expect("stat"),
                (0, 0),
                "{security:?} {method:?}"
            );
            session.quit().await.expect("quit");
        }
        let port = if security == Security::Tls {
            dovecot.tls_port
        } else {
            dovecot.plain_port
        };
        let session = pop3::connect("127.0.0.1", port, &options(&dovecot, security))
            .await
            .expect("connect");
        let info = session.tls_info().expect("TLS is on").clone();
        assert!(info.version.starts_with("TLSv1"), "{info:?}");
        assert_eq!(
            info.leaf_sha256.as_deref(),
            Some(dovecot.certs.server_sha256.as_str())
        );
        assert!(session.capabilities().uidl && session.capabilities().pipelining);
        // After STLS the capabilities are read again: Dovecot no longer offers STLS.
        assert!(!session.capabilities().stls, "{security:?}");
        let wrong = session
            .login(&credentials("wrong password"), AuthMethod::UserPass)
            .await;
        assert!(matches!(&wrong, Err(e) if e.is_auth()), "{wrong:?}");
    }
}

#[tokio::test]
async fn trust_is_enforced() {
    let dovecot = Dovecot::start(&[(USER, PASSWORD)]).await;
    for security in [Security::Tls, Security::StartTls] {
        let port = if security == Security::Tls {
            dovecot.tls_port
        } else {
            dovecot.plain_port
        };
        // The web PKI roots do not know the test CA.
        let web = SessionOptions::new(security, &Trust::WebPki).expect("options");
        let refused = pop3::connect("127.0.0.1", port, &web).await;
        assert!(
            matches!(&refused, Err(Pop3Error::Certificate(r))
                if r.text.english().contains("not signed by an authority Tributary trusts")
                    && r.presented.sha256 == dovecot.certs.server_sha256),
            "{refused:?}"
        );
        // A pin of the right certificate works; any other pin does not.
        let pin = pop3::tls::parse_pin(&dovecot.certs.server_sha256).expect("pin");
        let pinned = SessionOptions::new(security, &Trust::PinnedSha256(pin)).expect("options");
        pop3::connect("localhost", port, &pinned)
            .await
            .expect("pinned certificate accepted");
        let other = SessionOptions::new(security, &Trust::PinnedSha256([7; 32])).expect("options");
        assert!(matches!(
            pop3::connect("127.0.0.1", port, &other).await,
            Err(Pop3Error::Certificate(r)) if r.pin_changed
        ));
        // The custom CA checks the host name: the certificate is not for this one.
        let wrong_name = pop3::connect("127.0.0.2", port, &options(&dovecot, security)).await;
        assert!(
            matches!(
                &wrong_name,
                Err(Pop3Error::Certificate(_)) | Err(Pop3Error::Connect(_))
            ),
            "{wrong_name:?}"
        );
    }
}

#[tokio::test]
async fn every_command_and_byte_exact_retrieval_pipelined_or_not() {
    let dovecot = Dovecot::start(&[(USER, PASSWORD)]).await;
    let count = 1000;
    let mut sent = Vec::new();
    for i in 0..count {
        // Two messages of 10 MB and more; the rest from 1 KB to about 40 KB.
        let size = match i {
            10 => 10 * 1024 * 1024,
            500 => 12 * 1024 * 1024,
            _ => 1024 + (i * 37) % 40_000,
        };
        let m = message(i, size);
        dovecot.deliver(USER, &format!("{:010}.M{i}P1.test", 1_700_000_000 + i), &m);
        sent.push(m);
    }
    let mut session = login(&dovecot, Security::Tls, AuthMethod::UserPass).await;
    let total: u64 = sent.iter().map(|m| m.len() as u64).sum();
    assert_eq!(session.stat().await.expect("stat"), (count as u32, total));
    let list = session.list().await.expect("list");
    assert_eq!(list.len(), count);
    let uidl = session.uidl().await.expect("uidl");
    assert_eq!(uidl.len(), count);
    let mut unique: Vec<&String> = uidl.iter().map(|(_, u)| u).collect();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), count);

    // Dovecot sorts by file name, which is our delivery order: message n is sent[n-1].
    let numbers: Vec<u32> = list.iter().map(|(n, _)| *n).collect();
    retrieve_all_matching(&mut session, numbers.clone(), &sent).await;

    let mut head = Vec::new();
    assert!(matches!(
        session.top(3, 0, &mut head).await.expect("top"),
        RetrOutcome::Complete { .. }
    ));
    assert!(head.starts_with(b"From: Sender 2"));
    assert!(
        head.ends_with(b"\r\n\r\n"),
        "headers and the blank line only"
    );
    session.noop().await.expect("noop");
    session.quit().await.expect("quit");

    // The same messages, one command at a time, give the same bytes.
    let mut options = options(&dovecot, Security::Tls);
    options.pipelining = false;
    let mut session = pop3::connect("127.0.0.1", dovecot.tls_port, &options)
        .await
        .expect("connect")
        .login(&credentials(PASSWORD), AuthMethod::UserPass)
        .await
        .expect("login");
    for n in [1u32, 11, 501, 1000] {
        let mut body = Vec::new();
        let outcome = session.retr(n, &mut body).await.expect("retr");
        assert_eq!(
            outcome,
            RetrOutcome::Complete {
                bytes: sent[(n - 1) as usize].len() as u64
            }
        );
        assert!(body == sent[(n - 1) as usize]);
    }
    let mut body = Vec::new();
    assert!(matches!(
        session.retr(1001, &mut body).await.expect("reply"),
        RetrOutcome::Refused(_)
    ));
    session.quit().await.expect("quit");
}

#[tokio::test]
async fn deletions_happen_only_on_a_successful_quit() {
    let dovecot = Dovecot::start(&[(USER, PASSWORD)]).await;
    for i in 0..5 {
        dovecot.deliver(
            USER,
            &format!("{:010}.M{i}P1.test", 1_700_000_000 + i),
            &message(i, 100),
        );
    }
    // DELE then RSET: nothing is deleted.
    let mut session = login(&dovecot, Security::StartTls, AuthMethod::UserPass).await;
    let results = session.dele_many(&[1, 2]).await.expect("dele");
    assert!(results.iter().all(Result::is_ok));
    session.rset().await.expect("rset");
    session.quit().await.expect("quit");
    assert_eq!(dovecot.stored(USER), 5);

    // DELE then a dropped connection: nothing is deleted.
    let mut session = login(&dovecot, Security::StartTls, AuthMethod::UserPass).await;
    session.dele(1).await.expect("dele");
    drop(session);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(dovecot.stored(USER), 5);

    // DELE then QUIT: gone. Deleting twice is refused per message.
    let mut session = login(&dovecot, Security::StartTls, AuthMethod::UserPass).await;
    let results = session.dele_many(&[1, 2, 2]).await.expect("dele");
    assert!(results[0].is_ok() && results[1].is_ok());
    assert!(matches!(
        results[2],
        Err(Pop3Error::Command {
            command: "DELE",
            ..
        })
    ));
    session.quit().await.expect("quit");
    assert_eq!(dovecot.stored(USER), 3);
}

#[tokio::test]
async fn plaintext_only_when_chosen() {
    let dovecot = Dovecot::start(&[(USER, PASSWORD)]).await;
    let plain = SessionOptions::new(Security::PlaintextDangerous, &Trust::WebPki).expect("options");
    let session = pop3::connect("127.0.0.1", dovecot.plain_port, &plain)
        .await
        .expect("connect");
    assert!(session.tls_info().is_none());
    let session = session
        .login(&credentials(PASSWORD), AuthMethod::UserPass)
        .await
        .expect("login");
    session.quit().await.expect("quit");
}

#[tokio::test]
async fn the_pop3_cli_probes_and_fetches_byte_exact_copies() {
    use crate::helpers::{Cli, TempDir};
    let dovecot = Dovecot::start(&[(USER, PASSWORD)]).await;
    let mut sent = Vec::new();
    for i in 0..20 {
        let m = message(i, 500 + i * 300);
        dovecot.deliver(USER, &format!("{:010}.M{i}P1.test", 1_700_000_000 + i), &m);
        sent.push(m);
    }
    let dir = TempDir::new();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &dovecot.certs.ca_pem).expect("ca");
    let tls_port = dovecot.tls_port.to_string();
    let plain_port = dovecot.plain_port.to_string();
    let ca_arg = ca.display().to_string();

    // `pop3 <command>` over implicit TLS with the test CA, logging in with `password`.
    let over_tls = |command: &str, password: &str, extra: &[&str]| {
        let mut args = vec![
            "pop3",
            command,
            "--host",
            "127.0.0.1",
            "--port",
            &tls_port,
            "--ca",
            &ca_arg,
            "--user",
            USER,
            "--password-stdin",
        ];
        args.extend_from_slice(extra);
        Cli::new(&args).stdin(&format!("{password}\n"))
    };
    let probe_as = |password: &str| over_tls("probe", password, &[]).run();
    let probe = probe_as(PASSWORD).await;
    assert_eq!(probe.code, Some(0), "{probe:?}");
    assert!(probe.stdout.contains("tls:          TLSv1."), "{probe:?}");
    assert!(
        probe.stdout.contains(&dovecot.certs.server_sha256),
        "{probe:?}"
    );
    assert!(probe.stdout.contains("PIPELINING"), "{probe:?}");
    assert!(probe.stdout.contains("messages:     20 ("), "{probe:?}");
    assert!(!probe.stdout.contains(PASSWORD) && !probe.stderr.contains(PASSWORD));

    // Exit codes tell failures apart: TLS (untrusted certificate) …
    let untrusted = Cli::new(&["pop3", "probe", "--host", "127.0.0.1", "--port", &tls_port])
        .run()
        .await;
    assert_eq!(untrusted.code, Some(4), "{untrusted:?}");
    // … and a temporary one (nothing listens there).
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port().to_string()
    };
    let refused = Cli::new(&[
        "pop3",
        "probe",
        "--host",
        "127.0.0.1",
        "--port",
        &closed_port,
    ])
    .run()
    .await;
    assert_eq!(refused.code, Some(5), "{refused:?}");

    let out = dir.path().join("mail");
    let fetch = Cli::new(&[
        "pop3",
        "fetch",
        "--host",
        "127.0.0.1",
        "--port",
        &plain_port,
        "--security",
        "starttls",
        "--ca",
        &ca_arg,
        "--user",
        USER,
        "--password-stdin",
        "--out",
        &out.display().to_string(),
    ])
    .stdin(&format!("{PASSWORD}\n"))
    .run()
    .await;
    assert_eq!(fetch.code, Some(0), "{fetch:?}");
    let total: usize = sent.iter().map(Vec::len).sum();
    assert!(
        fetch
            .stdout
            .contains(&format!("fetched 20 messages, {total} bytes")),
        "{fetch:?}"
    );
    let mut files: Vec<Vec<u8>> = std::fs::read_dir(&out)
        .expect("out dir")
        .map(|e| std::fs::read(e.expect("entry").path()).expect("read"))
        .collect();
    files.sort();
    let mut expected = sent.clone();
    expected.sort();
    assert!(
        files == expected,
        "every file is byte-for-byte a message on the server"
    );
    assert_eq!(
        dovecot.stored(USER),
        20,
        "fetch leaves the mail on the server"
    );

    // --discard downloads the same bytes and writes nothing (the benchmark's diagnostic).
    let entries = |path: &std::path::Path| std::fs::read_dir(path).expect("dir").count();
    let before = entries(dir.path());
    let discarded = over_tls("fetch", PASSWORD, &["--discard"])
        .current_dir(dir.path())
        .run()
        .await;
    assert_eq!(discarded.code, Some(0), "{discarded:?}");
    assert!(
        discarded
            .stdout
            .contains(&format!("fetched 20 messages, {total} bytes")),
        "{discarded:?}"
    );
    assert!(
        discarded.stdout.contains("nothing was written"),
        "{discarded:?}"
    );
    assert_eq!(
        entries(dir.path()),
        before,
        "nothing new in the working directory"
    );
    assert_eq!(entries(&out), 20, "the earlier download only");
    let both = Cli::new(&[
        "pop3",
        "fetch",
        "--host",
        "127.0.0.1",
        "--discard",
        "--out",
        "x",
    ])
    .run()
    .await;
    assert_eq!(
        both.code,
        Some(2),
        "--discard and --out exclude each other: {both:?}"
    );

    // A wrong password: exit code 3, run last since Dovecot slows down after failures.
    let rejected = probe_as("not the password").await;
    assert_eq!(rejected.code, Some(3), "{rejected:?}");
}
