//! OAuth 2.0 sign-in to POP3 (XOAUTH2, OAUTHBEARER) against a scripted server that
//! behaves as Microsoft's does: the token only in the two-step form, and a refused token
//! answered with a JSON error challenge before the `-ERR`.

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
