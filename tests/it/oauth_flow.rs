//! Sign-in with a provider (OAuth 2.0) end to end, against real parts: a scripted
//! authorization server on loopback (PKCE checked), and a real Dovecot whose `oauth2`
//! passdb asks that server about every token. The wizard's sign-in, the fetch over
//! XOAUTH2 and OAUTHBEARER, expiry then refresh, a revoked grant pausing the account
//! with "sign in again" and signing in again, refused callbacks (unknown state, another
//! session, another person, a PKCE mismatch), and no token anywhere in a pg_dump.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use tributary::store::api_tokens::Scope;
use uuid::Uuid;

use crate::api::{Api, token};
use crate::helpers::browser::Browser;
use crate::helpers::fake_dns::FakeDns;
use crate::helpers::oauth_server::{CLIENT_SECRET, OAuthServer};
use crate::helpers::web::{USER_PASSWORD, WebClient};
use tributary::crypto::Secret;
use tributary::store::accounts::{AuthMethod, Security};

use crate::helpers::{
    Cli, Dovecot, Postfix, TempDir, TestApp, TestDb, add_user, free_port, new_account,
    test_key_ring,
};

const MAILBOX: &str = "alice@example.test";

fn mail(subject: &str, n: u32) -> Vec<u8> {
    format!(
        "From: Carol <carol@example.org>\r\nTo: {MAILBOX}\r\nSubject: {subject}\r\n\
         Date: Fri, 27 Nov 2026 09:{n:02}:00 +0000\r\nMessage-ID: <{n}.oauth@example.org>\r\n\r\nHello {n}.\r\n"
    )
    .into_bytes()
}

/// Everything one test needs: the provider, the mail server, DNS for example.test and
/// the app configured to sign example.test in with the provider.
struct Setup {
    db: TestDb,
    oauth: OAuthServer,
    dovecot: Dovecot,
    _dns: FakeDns,
    app: TestApp,
}

impl Setup {
    async fn start(mechanism: &str) -> Self {
        let db = TestDb::new().await;
        let oauth = OAuthServer::start().await;
        let dovecot = Dovecot::start_oauth(&[MAILBOX], &oauth.url("/introspect")).await;
        let dns = FakeDns::announcing_pop3s(dovecot.tls_port).await;
        let dns_address = dns.address.to_string();
        let mut settings = oauth.settings("example.test", mechanism);
        settings.push(("TRIBUTARY_DNS_SERVER".into(), dns_address));
        let extra: Vec<(&str, &str)> = settings
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let app = TestApp::spawn_with(&db, &extra).await;
        Self {
            db,
            oauth,
            dovecot,
            _dns: dns,
            app,
        }
    }

    /// The form fields that describe the mailbox on Dovecot (its test CA trusted).
    fn account_form(&self) -> Vec<(&'static str, String)> {
        vec![
            ("email", MAILBOX.to_owned()),
            ("username", MAILBOX.to_owned()),
            ("host", "pop.example.test".to_owned()),
            ("port", self.dovecot.tls_port.to_string()),
            ("security", "tls".to_owned()),
            ("auth", "password".to_owned()),
            ("trust", "ca".to_owned()),
            ("tls_ca_pem", self.dovecot.certs.ca_pem.clone()),
            ("leave", "keep".to_owned()),
            ("polling", "auto".to_owned()),
            ("import", "all".to_owned()),
            ("label", "Alice".to_owned()),
            ("color", "#3b6fd4".to_owned()),
        ]
    }

    /// Follows the provider's authorization URL (it approves at once) and returns the
    /// path of our callback it sends the browser to.
    async fn approve(&self, authorize_url: &str) -> String {
        assert!(
            authorize_url.starts_with(&self.oauth.url("/authorize")),
            "{authorize_url}"
        );
        let response = self
            .app
            .http
            .get(authorize_url)
            .send()
            .await
            .expect("authorize");
        assert_eq!(response.status(), 303, "the provider approves");
        let back = response.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned();
        back.strip_prefix(&self.app.url(""))
            .unwrap_or_else(|| panic!("sent back to our callback: {back}"))
            .to_owned()
    }

    /// Posts "Sign in with …" from the account form (new, or account `id`) and returns
    /// the provider's URL from the continue page.
    async fn start_in_web(&self, web: &mut WebClient, id: Option<Uuid>) -> String {
        let path = match id {
            Some(id) => format!("/settings/accounts/{id}"),
            None => "/settings/accounts/new".to_owned(),
        };
        web.get(&path).await;
        let fields = self.account_form();
        let mut form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        form.push(("action", "sign_in"));
        let page = web.submit(&path, &form).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Continue to Test ID"), "{}", page.body);
        continue_link(&page.body)
    }

    async fn wait_for_messages(&self, account: Uuid, count: i64) {
        for _ in 0..150 {
            let stored: i64 =
                sqlx::query_scalar("SELECT count(*) FROM messages WHERE account_id = $1")
                    .bind(account)
                    .fetch_one(&self.db.pool)
                    .await
                    .expect("count");
            if stored >= count {
                assert_eq!(stored, count, "no message twice");
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{count} messages never arrived");
    }

    async fn wait_for_pause(&self, account: Uuid) -> (String, String) {
        for _ in 0..150 {
            let row: (Option<String>, Option<String>) = sqlx::query_as(
                "SELECT paused_reason, last_error_message FROM accounts WHERE id = $1",
            )
            .bind(account)
            .fetch_one(&self.db.pool)
            .await
            .expect("account");
            if let (Some(reason), Some(message)) = row {
                return (reason, message);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the account was never paused");
    }

    async fn check_now(&self, web: &mut WebClient, account: Uuid) -> u16 {
        web.get("/settings/accounts").await;
        web.submit(&format!("/settings/accounts/{account}/check"), &[])
            .await
            .status
    }
}

/// The `href` of the continue page's link, unescaped.
fn continue_link(html: &str) -> String {
    let at = html.find("data-oauth-continue").expect("a continue link");
    let tag_start = html[..at].rfind("<a ").expect("tag");
    let href = &html[tag_start..at];
    let start = href.find("href=\"").expect("href") + 6;
    let end = href[start..].find('"').expect("end") + start;
    unescape(&href[start..end])
}

/// Undoes HTML escaping: named `&amp;` and numeric `&#38;` / `&#x26;` forms.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';').map(|e| e + at);
        let entity = end.map(|e| &rest[at + 1..e]);
        let decoded = match entity {
            Some("amp") => Some('&'),
            Some("quot") => Some('"'),
            Some("lt") => Some('<'),
            Some("gt") => Some('>'),
            Some(e) if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            Some(e) if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match (decoded, end) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

async fn the_only_account(db: &TestDb) -> (Uuid, String) {
    sqlx::query_as("SELECT id, auth_method FROM accounts")
        .fetch_one(&db.pool)
        .await
        .expect("one account")
}

#[tokio::test]
async fn signing_in_adds_an_account_fetched_over_xoauth2_refreshed_paused_and_signed_in_again() {
    let setup = Setup::start("xoauth2").await;
    setup.dovecot.deliver(MAILBOX, "1.mail", &mail("First", 1));
    let alice = add_user(&setup.db, "alice").await;
    let mut web = WebClient::signed_in(&setup.app, &alice.email, USER_PASSWORD).await;

    // The wizard offers the provider's sign-in instead of a password.
    let proposed = web
        .get(&format!("/settings/accounts/new?email={MAILBOX}"))
        .await;
    assert!(
        proposed.body.contains("Sign in with Test ID"),
        "{}",
        proposed.body
    );
    assert!(
        !proposed.body.contains("name=\"password\""),
        "no password field"
    );

    // Sign in: form → continue page → provider → our callback → the account.
    setup.oauth.set_lifetime(60);
    let url = setup.start_in_web(&mut web, None).await;
    let query: std::collections::HashMap<String, String> = url::Url::parse(&url)
        .expect("url")
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(query["login_hint"], MAILBOX);
    assert!(
        !url.contains(CLIENT_SECRET),
        "the secret never goes to the browser"
    );
    let callback = setup.approve(&url).await;
    let done = web.get(&callback).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(
        done.location
            .as_deref()
            .unwrap_or_default()
            .contains("saved=1")
    );
    let (account, method) = the_only_account(&setup.db).await;
    assert_eq!(method, "xoauth2");
    let password: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT password_ciphertext FROM accounts WHERE id = $1")
            .bind(account)
            .fetch_one(&setup.db.pool)
            .await
            .expect("row");
    assert!(password.is_none(), "no password is stored for it");

    // The first check: the token lives 60 s, under the two-minute margin, so it is
    // refreshed first; Dovecot checks it with the provider.
    setup.wait_for_messages(account, 1).await;
    assert_eq!(setup.oauth.refreshes(), 1, "refreshed before the run");
    assert!(
        setup.oauth.introspections() >= 1,
        "Dovecot asked the provider"
    );
    let page = web.get("/settings/accounts").await;
    assert!(page.body.contains("Alice"), "{}", page.body);
    // "Test connection" on the account's page signs in with the grant too.
    let path = format!("/settings/accounts/{account}");
    let edit = web.get(&path).await;
    assert!(
        edit.body.contains("Sign in again with Test ID"),
        "{}",
        edit.body
    );
    assert!(
        !edit.body.contains("name=\"password\""),
        "no password field"
    );
    let fields = setup.account_form();
    let mut form: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (*k, if *k == "auth" { "xoauth2" } else { v.as_str() }))
        .collect();
    form.push(("action", "test"));
    let tested = web.submit(&path, &form).await;
    assert!(
        tested.body.contains("Connected securely"),
        "{}",
        tested.body
    );

    // Expiry: every token issued so far dies; the next run refreshes and fetches.
    setup.oauth.expire_access_tokens();
    setup.dovecot.deliver(MAILBOX, "2.mail", &mail("Second", 2));
    assert_eq!(setup.check_now(&mut web, account).await, 303);
    setup.wait_for_messages(account, 2).await;
    assert_eq!(setup.oauth.refreshes(), 3);

    // The person withdraws the access at the provider: the refresh is refused, the
    // account pauses with "sign in again", and nothing retries on its own.
    setup.oauth.revoke_everything();
    setup.dovecot.deliver(MAILBOX, "3.mail", &mail("Third", 3));
    assert_eq!(setup.check_now(&mut web, account).await, 303);
    let (reason, message) = setup.wait_for_pause(account).await;
    assert_eq!(reason, "sign_in");
    assert!(message.contains("sign in again"), "{message}");
    assert!(message.contains("invalid_grant"), "{message}");
    let edit = web.get(&format!("/settings/accounts/{account}")).await;
    assert!(edit.body.contains("sign in again"), "{}", edit.body);
    assert!(
        edit.body.contains("Sign in again with Test ID"),
        "{}",
        edit.body
    );
    let runs = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM fetch_runs WHERE account_id = $1")
            .bind(account)
            .fetch_one(&setup.db.pool)
            .await
            .expect("runs")
    };
    let runs_at_pause = runs().await;
    let refused = setup.check_now(&mut web, account).await;
    assert_eq!(refused, 409, "a paused account is not checked");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        runs().await,
        runs_at_pause,
        "no retry storm after the refusal"
    );

    // Signing in again resumes the account and fetches what waited.
    setup.oauth.set_lifetime(3600);
    let url = setup.start_in_web(&mut web, Some(account)).await;
    let callback = setup.approve(&url).await;
    assert_eq!(web.get(&callback).await.status, 303);
    setup.wait_for_messages(account, 3).await;
    let (_, still) = the_only_account(&setup.db).await;
    assert_eq!(still, "xoauth2");

    // Removing the account revokes its refresh token at the provider.
    let tokens_before = setup.oauth.refresh_tokens();
    assert_eq!(tokens_before, 1);
    assert_no_token_in_dump(&setup).await;
    web.get(&format!("/settings/accounts/{account}/remove"))
        .await;
    let removed = web
        .submit(
            &format!("/settings/accounts/{account}/remove"),
            &[("keep_messages", "false")],
        )
        .await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    assert_eq!(setup.oauth.refresh_tokens(), 0, "revoked at the provider");
}

/// No token the provider issued, nor the client secret, appears in a dump of the
/// database: not as text, base64 or hex.
async fn assert_no_token_in_dump(setup: &Setup) {
    let dump = tokio::process::Command::new("pg_dump")
        .args(["--data-only", "--no-owner", &setup.db.url])
        .output()
        .await
        .expect("pg_dump runs");
    assert!(dump.status.success());
    let dump = String::from_utf8_lossy(&dump.stdout);
    assert!(
        dump.contains("oauth_grants"),
        "the dump has the grants table"
    );
    let issued = setup.oauth.issued();
    assert!(
        issued.len() >= 2,
        "an access and a refresh token at least: {issued:?}"
    );
    for secret in issued.iter().map(String::as_str).chain([CLIENT_SECRET]) {
        for form in [
            secret.to_owned(),
            base64::engine::general_purpose::STANDARD.encode(secret),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
            hex::encode(secret),
        ] {
            assert!(!dump.contains(&form), "a token is in the dump");
        }
    }
}

/// `POST /api/v1/accounts/sign-in`: the provider's URL to open.
async fn start_api(api: &Api<'_>, draft: &Value) -> String {
    let reply = api.post("/accounts/sign-in", draft.clone()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["provider"], "Test ID");
    assert_eq!(body["expires_in_seconds"], 900);
    body["authorize_url"].as_str().expect("url").to_owned()
}

#[tokio::test]
async fn an_api_started_sign_in_fetches_over_oauthbearer_and_bad_callbacks_store_nothing() {
    let setup = Setup::start("oauthbearer").await;
    setup.dovecot.deliver(MAILBOX, "1.mail", &mail("Bearer", 1));
    let alice = add_user(&setup.db, "alice").await;
    let mallory = add_user(&setup.db, "mallory").await;
    let api = Api {
        app: &setup.app,
        token: token(&setup.db, alice.id, Scope::Write).await,
    };
    let draft = json!({
        "email": MAILBOX,
        "host": "pop.example.test",
        "port": setup.dovecot.tls_port,
        "security": "tls",
        "username": MAILBOX,
        "tls_ca_pem": setup.dovecot.certs.ca_pem,
    });
    // A password account cannot be made into a token one by saying so.
    let mut as_token = draft.clone();
    as_token["auth"] = json!("oauthbearer");
    as_token["password"] = json!("x");
    let refused = api.post("/accounts", as_token).await;
    assert_eq!(refused.status, 422, "{}", refused.text());

    let mut web = WebClient::signed_in(&setup.app, &alice.email, USER_PASSWORD).await;
    let mut other = WebClient::signed_in(&setup.app, &mallory.email, USER_PASSWORD).await;
    let mut second_session = WebClient::signed_in(&setup.app, &alice.email, USER_PASSWORD).await;

    // A sign-in started in one web session is finished in that one only.
    let callback = setup
        .approve(&setup.start_in_web(&mut web, None).await)
        .await;
    let elsewhere = second_session.get(&callback).await;
    assert_eq!(elsewhere.status, 409);
    assert!(
        elsewhere.body.contains("another browser session"),
        "{}",
        elsewhere.body
    );

    // An unknown state.
    let bogus = web
        .get("/oauth/callback?state=nothing-like-it&code=abc")
        .await;
    assert_eq!(bogus.status, 409);
    assert!(
        bogus.body.contains("unknown or has expired"),
        "{}",
        bogus.body
    );
    // Another person's browser cannot finish alice's sign-in (it would add her
    // mailbox to his account), and the state is then spent.
    let callback = setup.approve(&start_api(&api, &draft).await).await;
    let stolen = other.get(&callback).await;
    assert_eq!(stolen.status, 409);
    assert!(
        stolen.body.contains("another Tributary user"),
        "{}",
        stolen.body
    );
    assert_eq!(web.get(&callback).await.status, 409, "a state works once");
    // The provider said no.
    let denied = web.get("/oauth/callback?error=access_denied&state=x").await;
    assert_eq!(denied.status, 409);
    assert!(denied.body.contains("access_denied"), "{}", denied.body);
    // PKCE: the code of one sign-in presented with another's state is redeemed with the
    // wrong verifier, which the provider refuses.
    let first = setup.approve(&start_api(&api, &draft).await).await;
    let second = setup.approve(&start_api(&api, &draft).await).await;
    let query_value = |path: &str, name: &str| {
        url::Url::parse(&format!("http://x{path}"))
            .expect("url")
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .expect("in the query")
    };
    let mixed = format!(
        "/oauth/callback?code={}&state={}",
        query_value(&first, "code"),
        form_urlencoded::byte_serialize(query_value(&second, "state").as_bytes())
            .collect::<String>()
    );
    let mismatch = web.get(&mixed).await;
    assert_eq!(mismatch.status, 409, "{}", mismatch.body);
    assert!(mismatch.body.contains("invalid_grant"), "{}", mismatch.body);
    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts")
        .fetch_one(&setup.db.pool)
        .await
        .expect("count");
    assert_eq!(accounts, 0, "no refused callback stored anything");

    // A good one, finished in alice's web session, fetches over OAUTHBEARER.
    let callback = setup.approve(&start_api(&api, &draft).await).await;
    assert_eq!(web.get(&callback).await.status, 303);
    let (account, method) = the_only_account(&setup.db).await;
    assert_eq!(method, "oauthbearer");
    setup.wait_for_messages(account, 1).await;
    let shown: Value = api.get(&format!("/accounts/{account}")).await.json();
    assert_eq!(shown["auth"], "oauthbearer");
    let text = shown.to_string();
    for issued in setup.oauth.issued() {
        assert!(!text.contains(&issued), "no token in the API's answer");
    }
    // Sending as the account signs in to SMTP with the same grant: Postfix asks the
    // same Dovecot, which asks the provider about the token.
    let postfix = Postfix::start(&setup.dovecot).await;
    let saved = api
        .put(
            &format!("/accounts/{account}/sending"),
            json!({"from_name": "Alice", "smtp_host": "127.0.0.1", "smtp_port": postfix.implicit_tls_port,
                   "smtp_security": "tls", "tls_ca_pem": postfix.certs.ca_pem}),
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.text());
    let test = api
        .post(&format!("/accounts/{account}/sending/test"), json!({}))
        .await;
    assert_eq!(test.json()["ok"], true, "{}", test.text());
    let sent = api
        .post(
            "/messages",
            json!({"account_id": account, "to": ["bob@example.test"], "subject": "Sent with a token", "text": "Hi"}),
        )
        .await;
    assert_eq!(sent.status, 202, "{}", sent.text());
    let delivered = postfix.wait_delivered(1).await;
    assert!(String::from_utf8_lossy(&delivered[0]).contains("Sent with a token"));
    assert!(
        postfix.log().contains("sasl_method=OAUTHBEARER"),
        "Postfix saw the token sign-in: {}",
        postfix.log()
    );

    // The API signs an account in again the same way.
    let again = api
        .post(&format!("/accounts/{account}/sign-in"), json!({}))
        .await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_no_token_in_dump(&setup).await;
}

#[tokio::test]
async fn the_wizard_signs_in_with_the_provider_in_a_real_browser() {
    let setup = Setup::start("xoauth2").await;
    setup
        .dovecot
        .deliver(MAILBOX, "1.mail", &mail("Through the browser", 1));
    let alice = add_user(&setup.db, "alice").await;
    let browser = Browser::start().await;
    browser.goto(&setup.app.url("/login")).await;
    browser.fill("input[name=email]", &alice.email).await;
    browser.fill("input[name=password]", USER_PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("No mail here yet").await;

    browser.goto(&setup.app.url("/settings/accounts/new")).await;
    browser.fill("input[name=email]", MAILBOX).await;
    browser.click("form.stack button[type=submit]").await;
    browser.wait_for_text("Sign in with Test ID").await;
    assert!(
        !browser.exists("input[name=password]").await,
        "no password field"
    );
    browser.assert_accessible("the sign-in form").await;
    browser.click("details.advanced summary").await;
    browser.click("input[name=trust][value=ca]").await;
    browser
        .fill("textarea[name=tls_ca_pem]", &setup.dovecot.certs.ca_pem)
        .await;
    browser.click("button[data-sign-in]").await;
    browser.wait_for_text("Continue to Test ID").await;
    browser.assert_accessible("the continue page").await;
    browser.click("a[data-oauth-continue]").await;
    browser.wait_for_text("The account is saved").await;
    let (account, method) = the_only_account(&setup.db).await;
    assert_eq!(method, "xoauth2");
    setup.wait_for_messages(account, 1).await;
    browser.goto(&setup.app.url("/")).await;
    browser.wait_for_text("Through the browser").await;
    browser.screenshot("oauth-signed-in").await;
    browser.quit().await;
}

/// `serve` logging at trace level refreshes a token and fetches over XOAUTH2: the log
/// shows both happened and holds no token — not as text, not base64, not inside the
/// SASL message.
#[tokio::test]
async fn trace_logs_of_a_refresh_and_a_token_sign_in_hold_no_token() {
    let db = TestDb::new().await;
    let oauth = OAuthServer::start().await;
    let dovecot = Dovecot::start_oauth(&[MAILBOX], &oauth.url("/introspect")).await;
    dovecot.deliver(MAILBOX, "1.mail", &mail("Logged", 1));
    let alice = add_user(&db, "alice").await;
    let ring = test_key_ring();
    let (access, refresh) = oauth.grant_directly(MAILBOX).await;
    let tokens = tributary::oauth::TokenSet {
        access_token: Secret::new(access),
        refresh_token: Some(Secret::new(refresh)),
        // Already expired: `serve` must refresh before signing in.
        expires_at: time::OffsetDateTime::now_utc() - time::Duration::minutes(1),
    };
    let document = tokens.document();
    let mut settings = new_account("Alice");
    settings.email = MAILBOX.into();
    settings.username = MAILBOX.into();
    settings.host = "127.0.0.1".into();
    settings.port = dovecot.tls_port;
    settings.security = Security::Tls;
    settings.auth_method = AuthMethod::XOAuth2;
    settings.tls_ca_pem = Some(dovecot.certs.ca_pem.clone());
    let grant = tributary::store::oauth::NewGrant {
        provider: "generic",
        tokens: &document,
        access_expires_at: tokens.expires_at,
    };
    let mut conn = db.pool.acquire().await.expect("conn");
    let account =
        tributary::store::accounts::create_signed_in(&mut conn, &ring, alice.id, &settings, &grant)
            .await
            .expect("account");
    drop(conn);

    let dir = TempDir::new();
    let log_path = dir.path().join("serve.log");
    let port = free_port();
    let mut cli = Cli::new(&["serve"])
        .env("DATABASE_URL", &db.url)
        .env("TRIBUTARY_MASTER_KEY", ring.active().to_base64().as_str())
        .env("TRIBUTARY_LISTEN", format!("127.0.0.1:{port}"))
        .env("TRIBUTARY_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("TRIBUTARY_ALLOW_PRIVATE_HOSTS", "true")
        .env("TRIBUTARY_DATA_DIR", dir.path())
        .env("TRIBUTARY_LOG", "trace");
    for (key, value) in oauth.settings("example.test", "xoauth2") {
        cli = cli.env(&key, value);
    }
    let mut child = cli.spawn_logging_to(&log_path);
    let mut stored = 0i64;
    for _ in 0..300 {
        stored = sqlx::query_scalar("SELECT count(*) FROM messages WHERE account_id = $1")
            .bind(account.id)
            .fetch_one(&db.pool)
            .await
            .expect("count");
        if stored == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill().await;
    let log = std::fs::read_to_string(&log_path).expect("log");
    assert_eq!(stored, 1, "serve fetched over XOAUTH2: {log}");
    assert_eq!(oauth.refreshes(), 1, "serve refreshed the expired token");
    assert!(
        log.contains("access token refreshed"),
        "the log is at debug level or finer"
    );
    assert!(log.contains("TRACE"), "the log is at trace level");
    let issued = oauth.issued();
    assert!(issued.len() >= 3, "{issued:?}");
    for secret in issued.iter().map(String::as_str).chain([CLIENT_SECRET]) {
        let token = Secret::new(secret);
        let sasl = tributary::sasl::OAuthMechanism::XOAuth2.initial_response(
            &tributary::sasl::OAuthToken {
                username: MAILBOX,
                access_token: &token,
                host: "127.0.0.1",
                port: dovecot.tls_port,
            },
        );
        for form in [
            secret.to_owned(),
            base64::engine::general_purpose::STANDARD.encode(secret),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
            hex::encode(secret),
            sasl.expose().to_owned(),
        ] {
            assert!(!log.contains(&form), "a token is in the trace log");
        }
    }
}
