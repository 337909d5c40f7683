//! OAuth 2.0 sign-in to POP3 and SMTP (XOAUTH2, OAUTHBEARER) against scripted servers
//! that behave as Microsoft's do: the token only in the two-step form, and a refused token
//! answered with a JSON error challenge before the final refusal.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use tributary::crypto::Secret;
use tributary::pop3::{
    self, OAuthMechanism, OAuthToken, Pop3Error, Security, SessionOptions, Trust,
};

use crate::helpers::fake_pop3::{FakePop3, Step, send};

const TOKEN: &str = "EwBwA8l6BAAU-an-access-token-that-must-stay-secret";
const CAPA: &str = "+OK\r\nUIDL\r\nUSER\r\nSASL XOAUTH2 OAUTHBEARER\r\n.\r\n";

fn options() -> SessionOptions {
    let mut options =
        SessionOptions::new(Security::PlaintextDangerous, &Trust::WebPki).expect("options");
    options.timeouts.read_idle = Duration::from_millis(500);
    options.timeouts.session = Duration::from_secs(5);
    options
}

fn opening(mechanism: &'static str) -> Vec<Step> {
    vec![
        send("+OK fake Outlook ready\r\n"),
        Step::Expect("CAPA"),
        send(CAPA),
        Step::Expect(mechanism),
        // Only the bare command is answered with a challenge: a one-line initial response
        // would have been refused (as Microsoft does).
        send("+ \r\n"),
    ]
}

/// The client's lines as the server saw them.
fn lines(server: &FakePop3) -> Vec<String> {
    server.received().lines().map(str::to_owned).collect()
}

async fn sign_in(server: &FakePop3, mechanism: OAuthMechanism) -> Result<(), Pop3Error> {
    let secret = Secret::new(TOKEN);
    let token = OAuthToken {
        username: "ann@outlook.example",
        access_token: &secret,
        host: "127.0.0.1",
        port: server.port,
    };
    let session = pop3::connect("127.0.0.1", server.port, &options())
        .await
        .expect("connect")
        .login_oauth(&token, mechanism)
        .await?;
    session.quit().await.expect("quit");
    Ok(())
}

fn decoded(line: &str) -> String {
    String::from_utf8(BASE64.decode(line).expect("base64")).expect("utf-8")
}

#[tokio::test]
async fn xoauth2_and_oauthbearer_sign_in_in_two_steps() {
    for (mechanism, name, expected) in [
        (
            OAuthMechanism::XOAuth2,
            "AUTH XOAUTH2",
            format!("user=ann@outlook.example\x01auth=Bearer {TOKEN}\x01\x01"),
        ),
        (
            OAuthMechanism::OAuthBearer,
            "AUTH OAUTHBEARER",
            String::new(), // the port is the server's: checked below
        ),
    ] {
        let mut script = opening(name);
        script.extend([
            Step::Expect(""),
            send("+OK signed in\r\n"),
            Step::Expect("QUIT"),
            send("+OK bye\r\n"),
        ]);
        let server = FakePop3::start(script).await;
        sign_in(&server, mechanism).await.expect("signed in");
        let sent = lines(&server);
        let auth = sent
            .iter()
            .position(|l| l.starts_with("AUTH"))
            .expect("AUTH sent");
        assert_eq!(
            sent[auth], name,
            "the two-step form: nothing after the mechanism"
        );
        let response = decoded(&sent[auth + 1]);
        let expected = if expected.is_empty() {
            format!(
                "n,a=ann@outlook.example,\x01host=127.0.0.1\x01port={}\x01auth=Bearer {TOKEN}\x01\x01",
                server.port
            )
        } else {
            expected
        };
        assert_eq!(response, expected, "{name}");
    }
}

#[tokio::test]
async fn a_refused_token_ends_with_the_error_challenge_answered_and_words() {
    let error = BASE64.encode(
        br#"{"status":"401","schemes":"bearer","scope":"https://outlook.office.com/POP.AccessAsUser.All"}"#,
    );
    for (mechanism, name, acknowledgement) in [
        (OAuthMechanism::XOAuth2, "AUTH XOAUTH2", ""),
        (OAuthMechanism::OAuthBearer, "AUTH OAUTHBEARER", "AQ=="),
    ] {
        let mut script = opening(name);
        script.extend([
            Step::Expect(""),
            send(&format!("+ {error}\r\n")),
            Step::Expect(""),
            send("-ERR Authentication failure: unknown user name or bad password.\r\n"),
            Step::Close,
        ]);
        let server = FakePop3::start(script).await;
        let refused = sign_in(&server, mechanism).await.expect_err("refused");
        assert!(refused.is_auth(), "{refused:?}");
        let words = refused.to_string();
        assert!(
            words.contains("bad password")
                && words.contains("access token was refused, status 401"),
            "{words}"
        );
        assert!(!words.contains(TOKEN) && !format!("{refused:?}").contains(TOKEN));
        let sent = lines(&server);
        assert_eq!(
            sent.last().map(String::as_str),
            Some(acknowledgement),
            "{name}: the error challenge is answered as the mechanism asks"
        );
    }
}

#[tokio::test]
async fn a_server_without_the_mechanism_is_told_apart() {
    let server = FakePop3::start(vec![
        send("+OK ready\r\n"),
        Step::Expect("CAPA"),
        send("+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n"),
        Step::Hang,
    ])
    .await;
    let error = sign_in(&server, OAuthMechanism::XOAuth2)
        .await
        .expect_err("unsupported");
    assert!(matches!(error, Pop3Error::Unsupported(_)), "{error:?}");
    assert!(
        !lines(&server).iter().any(|l| l.starts_with("AUTH")),
        "nothing sent"
    );
}

#[tokio::test]
async fn smtp_signs_in_with_a_token_and_words_a_refused_one() {
    let error =
        BASE64.encode(br#"{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}"#);
    let opening = |rest: Vec<Step>| {
        let mut script = vec![
            send("220 fake.example ESMTP\r\n"),
            Step::Expect("EHLO"),
            send("250-fake.example\r\n250 AUTH PLAIN XOAUTH2 OAUTHBEARER\r\n"),
            Step::Expect("AUTH XOAUTH2"),
            send("334 \r\n"),
            Step::Expect(""),
        ];
        script.extend(rest);
        script
    };
    let server = FakePop3::start_scripts(
        vec![
            opening(vec![send("235 2.7.0 Accepted\r\n"), Step::Hang]),
            opening(vec![
                send(&format!("334 {error}\r\n")),
                Step::Expect(""),
                send("535 5.7.8 Username and Password not accepted\r\n"),
                Step::Close,
            ]),
        ],
        None,
    )
    .await;
    let secret = Secret::new(TOKEN);
    let token = OAuthToken {
        username: "ann@gmail.example",
        access_token: &secret,
        host: "127.0.0.1",
        port: server.port,
    };
    let options = tributary::smtp::Options::new(
        Security::PlaintextDangerous,
        &Trust::WebPki,
        "gmail.example",
    )
    .expect("options");
    for attempt in 0..2 {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
            .await
            .expect("connect");
        let mut session = tributary::smtp::Session::start(tcp, "127.0.0.1", &options)
            .await
            .expect("session");
        let signed_in = session.login_oauth(&token, OAuthMechanism::XOAuth2).await;
        if attempt == 0 {
            signed_in.expect("accepted");
        } else {
            let error = signed_in.expect_err("refused");
            assert!(error.is_auth(), "{error:?}");
            let words = error.to_string();
            assert!(
                words.contains("535") && words.contains("access token was refused, status 400"),
                "{words}"
            );
            assert!(!words.contains(TOKEN));
        }
    }
    let sent = lines(&server);
    let tokens: Vec<String> = sent
        .iter()
        .filter(|l| {
            BASE64
                .decode(l.as_str())
                .is_ok_and(|d| d.starts_with(b"user="))
        })
        .map(|l| decoded(l))
        .collect();
    assert_eq!(
        tokens,
        vec![format!("user=ann@gmail.example\x01auth=Bearer {TOKEN}\x01\x01"); 2],
        "{sent:?}"
    );
    assert_eq!(
        sent.iter().filter(|l| *l == "AUTH XOAUTH2").count(),
        2,
        "two-step form: {sent:?}"
    );
}
