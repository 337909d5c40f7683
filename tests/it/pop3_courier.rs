//! The POP3 client against a second, independent server: Courier.

use tokio::net::TcpStream;
use tributary::crypto::Secret;
use tributary::pop3::{
    self, AuthMethod, Credentials, Security, Session, SessionOptions, Transaction, Trust,
};

use crate::helpers::{COURIER_USER, Courier, retrieve_all_matching, sample_message};

const PASSWORD: &str = "courier test password";

fn options(courier: &Courier, security: Security) -> SessionOptions {
    SessionOptions::new(security, &Trust::CustomCa(courier.certs.ca_pem.clone())).expect("options")
}

async fn login(
    courier: &Courier,
    security: Security,
    method: AuthMethod,
    password: &str,
) -> Result<Session<Transaction, TcpStream>, pop3::Pop3Error> {
    let port = if security == Security::Tls {
        courier.tls_port
    } else {
        courier.plain_port
    };
    let credentials = Credentials {
        username: COURIER_USER.into(),
        password: Secret::new(password),
    };
    pop3::connect("127.0.0.1", port, &options(courier, security))
        .await?
        .login(&credentials, method)
        .await
}

/// Courier keeps Maildir files with LF endings and serves them as CRLF.
fn as_stored(message: &[u8]) -> Vec<u8> {
    String::from_utf8(message.to_vec())
        .expect("ascii")
        .replace("\r\n", "\n")
        .into_bytes()
}

#[tokio::test]
async fn courier_serves_the_same_protocol() {
    let courier = Courier::start(PASSWORD).await;
    let count = 1000;
    let mut sent = Vec::new();
    for i in 0..count {
        let size = match i {
            7 => 10 * 1024 * 1024,
            _ => 800 + (i * 53) % 30_000,
        };
        let m = sample_message(i, size);
        courier.deliver(
            &format!("{:010}.M{i}P1.test", 1_700_000_000 + i),
            &as_stored(&m),
        );
        sent.push(m);
    }

    for security in [Security::Tls, Security::StartTls] {
        for method in [
            AuthMethod::UserPass,
            AuthMethod::SaslPlain,
            AuthMethod::SaslLogin,
        ] {
            let mut session = login(&courier, security, method, PASSWORD)
                .await
                .unwrap_or_else(|e| panic!("{security:?} {method:?}: {e}"));
            assert_eq!(session.stat().await.expect("stat").0, count as u32);
            session.quit().await.expect("quit");
        }
    }
    let rejected = login(
        &courier,
        Security::Tls,
        AuthMethod::UserPass,
        "wrong password",
    )
    .await;
    assert!(matches!(&rejected, Err(e) if e.is_auth()), "{rejected:?}");

    let probe = pop3::connect(
        "127.0.0.1",
        courier.tls_port,
        &options(&courier, Security::Tls),
    )
    .await
    .expect("connect");
    let caps = probe.capabilities().clone();
    assert_eq!(caps.implementation.as_deref(), Some("Courier Mail Server"));
    assert!(caps.pipelining && caps.uidl && caps.top);
    assert!(caps.login_delay.is_some(), "{caps:?}");
    drop(probe);

    let mut session = login(&courier, Security::Tls, AuthMethod::UserPass, PASSWORD)
        .await
        .expect("login");
    let list = session.list().await.expect("list");
    let uidl = session.uidl().await.expect("uidl");
    assert_eq!((list.len(), uidl.len()), (count, count));
    let numbers: Vec<u32> = list.iter().map(|(n, _)| *n).collect();
    retrieve_all_matching(&mut session, numbers, &sent).await;
    let mut head = Vec::new();
    session.top(2, 0, &mut head).await.expect("top");
    assert!(
        head.starts_with(b"From: Sender 1 "),
        "{}",
        String::from_utf8_lossy(&head)
    );
    session.quit().await.expect("quit");

    // Without pipelining: the same bytes.
    let mut plain_options = options(&courier, Security::StartTls);
    plain_options.pipelining = false;
    let credentials = Credentials {
        username: COURIER_USER.into(),
        password: Secret::new(PASSWORD),
    };
    let mut session = pop3::connect("127.0.0.1", courier.plain_port, &plain_options)
        .await
        .expect("connect")
        .login(&credentials, AuthMethod::UserPass)
        .await
        .expect("login");
    for n in [1u32, 8, 1000] {
        let mut body = Vec::new();
        session.retr(n, &mut body).await.expect("retr");
        assert!(body == sent[(n - 1) as usize], "message {n}");
    }
    // DELE + RSET keeps everything; DELE + QUIT deletes.
    session.dele_many(&[1, 2]).await.expect("dele");
    session.rset().await.expect("rset");
    session.dele(3).await.expect("dele");
    session.quit().await.expect("quit");
    // Courier answers QUIT before it has unlinked the files: give it a moment.
    for _ in 0..50 {
        if courier.stored() == count - 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(courier.stored(), count - 1);
}
