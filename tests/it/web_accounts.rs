//! "Check mail from other accounts" over HTTP: the add wizard with autodetection and
//! "Test connection" against a real Dovecot, saving, the scheduler fetching, editing,
//! pausing, removing — and another user reaching none of it.

use crate::helpers::fake_dns::FakeDns;
use crate::helpers::web::{USER_PASSWORD, WebClient, field_value};
use crate::helpers::{Dovecot, TestApp, TestDb, add_user, sample_message};

const MAILBOX_PASSWORD: &str = "alice's mailbox secret";

async fn send(
    web: &mut WebClient,
    path: &str,
    fields: Vec<(&'static str, String)>,
) -> crate::helpers::web::Page {
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    web.submit(path, &refs).await
}

#[tokio::test]
async fn an_account_is_found_tested_saved_fetched_edited_paused_and_removed() {
    let db = TestDb::new().await;
    let ann = add_user(&db, "ann").await;
    let dovecot = Dovecot::start(&[("alice", MAILBOX_PASSWORD)]).await;
    dovecot.deliver("alice", "1.test", &sample_message(1, 3_000));
    let dns = FakeDns::announcing_pop3s(dovecot.tls_port).await;
    let dns_address = dns.address.to_string();
    let app = TestApp::spawn_with(&db, &[("TRIBUTARY_DNS_SERVER", &dns_address)]).await;
    let mut web = WebClient::signed_in(&app, &ann.email, USER_PASSWORD).await;
    let mut pages = Vec::new();

    let empty = web.get("/settings/accounts").await;
    assert!(empty.body.contains("No mail accounts yet"));
    let step1 = web.get("/settings/accounts/new").await;
    assert!(step1.body.contains("name=\"email\""));
    let bad = web.get("/settings/accounts/new?email=nonsense").await;
    assert_eq!(bad.status, 422);

    // The domain announces its server; the form is filled in.
    let form = web
        .get("/settings/accounts/new?email=alice%40example.test")
        .await;
    assert_eq!(form.status, 200);
    assert!(
        form.body.contains("Found pop.example.test on port"),
        "{}",
        form.body
    );
    assert_eq!(
        field_value(&form.body, "host").as_deref(),
        Some("pop.example.test")
    );
    assert_eq!(
        field_value(&form.body, "port"),
        Some(dovecot.tls_port.to_string())
    );
    assert_eq!(
        field_value(&form.body, "username").as_deref(),
        Some("alice@example.test")
    );
    let port = dovecot.tls_port.to_string();
    let base = |action: &'static str| -> Vec<(&'static str, String)> {
        vec![
            ("action", action.to_owned()),
            ("email", "alice@example.test".into()),
            ("username", "alice@example.test".into()),
            ("host", "pop.example.test".into()),
            ("port", port.clone()),
            ("security", "tls".into()),
            ("auth", "password".into()),
            ("trust", "webpki".into()),
            ("leave", "keep".into()),
            ("polling", "auto".into()),
            ("import", "all".into()),
            ("label", "Alice".into()),
            ("color", "#2e9e5b".into()),
        ]
    };
    // One click switches the user name to the part before the @.
    let switched = send(&mut web, "/settings/accounts/new", base("use_local_part")).await;
    assert_eq!(
        field_value(&switched.body, "username").as_deref(),
        Some("alice")
    );

    // Test connection: the certificate is not publicly trusted, then the password is wrong.
    let mut fields = base("test");
    fields.push(("password", MAILBOX_PASSWORD.into()));
    let untrusted = send(&mut web, "/settings/accounts/new", fields).await;
    assert!(
        untrusted.body.contains("The test failed"),
        "{}",
        untrusted.body
    );
    pages.push(untrusted.body);
    let mut fields = base("test");
    fields.retain(|(k, _)| *k != "trust" && *k != "username");
    fields.push(("trust", "ca".into()));
    fields.push(("tls_ca_pem", dovecot.certs.ca_pem.clone()));
    fields.push(("username", "alice".into()));
    let with_ca = fields.clone();
    fields.push(("password", "wrong password".into()));
    let rejected = send(&mut web, "/settings/accounts/new", fields).await;
    assert!(
        rejected
            .body
            .contains("The test failed: The server rejected"),
        "{}",
        rejected.body
    );
    let mut fields = with_ca.clone();
    fields.push(("password", MAILBOX_PASSWORD.into()));
    let passed = send(&mut web, "/settings/accounts/new", fields).await;
    assert!(
        passed.body.contains("Connected securely"),
        "{}",
        passed.body
    );
    assert!(passed.body.contains("1 message waiting"), "{}", passed.body);
    let sealed = field_value(&passed.body, "sealed_password").expect("sealed");
    assert!(!sealed.is_empty());
    assert!(passed.body.contains("no need to type it again"));
    pages.push(passed.body);
    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(accounts, 0, "testing saves nothing");

    // Save without typing the password again; the scheduler fetches at once.
    let mut fields = with_ca.clone();
    fields.retain(|(k, _)| *k != "action");
    fields.push(("action", "save".into()));
    fields.push(("sealed_password", sealed));
    let saved = send(&mut web, "/settings/accounts/new", fields).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(
        saved.location.as_deref(),
        Some("/settings/accounts?saved=1")
    );
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM accounts")
        .fetch_one(&db.pool)
        .await
        .expect("saved");
    let listed = web.wait_for("/settings/accounts", "Last checked").await;
    assert!(listed.contains("1 new"), "{listed}");
    assert!(listed.contains("Alice"));
    let inbox = web.get("/").await;
    assert!(inbox.body.contains("message 1"), "{}", inbox.body);
    assert!(inbox.body.contains("Alice"));
    let css = web.get("/accounts.css").await;
    assert!(css.body.contains("--chip:#2e9e5b"));
    pages.push(listed);

    // Edit: history shows the run; a new label, the password kept.
    let edit = web.get(&format!("/settings/accounts/{id}")).await;
    assert!(edit.body.contains("Recent checks"));
    assert!(edit.body.contains("<td>OK</td>"), "{}", edit.body);
    assert!(edit.body.contains("Leave empty to keep the saved password"));
    pages.push(edit.body);
    dovecot.deliver("alice", "2.test", &sample_message(2, 3_000));
    let mut fields = with_ca.clone();
    fields.retain(|(k, _)| *k != "action" && *k != "label");
    fields.push(("action", "save".into()));
    fields.push(("label", "Alice at home".into()));
    let edited = send(&mut web, &format!("/settings/accounts/{id}"), fields).await;
    assert_eq!(edited.status, 303, "{}", edited.body);
    web.wait_for("/", "message 2").await;
    assert!(web.get("/").await.body.contains("Alice at home"));

    // Pause and resume; check now.
    let csrf = web.csrf.clone();
    let paused = web
        .post(
            &format!("/settings/accounts/{id}/enabled"),
            &[("csrf", &csrf), ("enabled", "false")],
        )
        .await;
    assert_eq!(paused.status, 303);
    assert!(
        web.get("/settings/accounts")
            .await
            .body
            .contains("Paused by you")
    );
    // "Check now" on a paused account says why nothing can happen, in the page's words.
    let refused = web
        .post(
            &format!("/settings/accounts/{id}/check"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body.contains("Paused by you"), "{}", refused.body);
    web.post(
        &format!("/settings/accounts/{id}/enabled"),
        &[("csrf", &csrf), ("enabled", "true")],
    )
    .await;
    let checked = web
        .post(
            &format!("/settings/accounts/{id}/check"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        checked.location.as_deref(),
        Some("/settings/accounts?checking=1")
    );
    let status = web.get("/settings/accounts/status.json").await;
    let json: serde_json::Value = serde_json::from_str(&status.body).expect("json");
    assert_eq!(json["accounts"][0]["id"], id.to_string());
    assert!(json["newest_message_id"].is_i64());

    // Another user reaches none of it.
    let bob = add_user(&db, "bob").await;
    let mut bob_web = WebClient::signed_in(&app, &bob.email, USER_PASSWORD).await;
    let bob_csrf = bob_web.csrf.clone();
    for path in [
        format!("/settings/accounts/{id}"),
        format!("/settings/accounts/{id}/remove"),
    ] {
        assert_eq!(bob_web.get(&path).await.status, 404, "{path}");
    }
    for (path, extra) in [
        (format!("/settings/accounts/{id}/check"), vec![]),
        (
            format!("/settings/accounts/{id}/enabled"),
            vec![("enabled", "false")],
        ),
        (
            format!("/settings/accounts/{id}/remove"),
            vec![("keep_messages", "false")],
        ),
        (format!("/settings/accounts/{id}"), vec![("action", "save")]),
    ] {
        let mut form = vec![("csrf", bob_csrf.as_str())];
        form.extend(extra);
        let page = bob_web.post(&path, &form).await;
        assert_eq!(page.status, 404, "{path}: {}", page.body);
    }
    let bob_status = bob_web.get("/settings/accounts/status.json").await;
    assert!(!bob_status.body.contains(&id.to_string()));

    // Remove, keeping the mail.
    let confirm = web.get(&format!("/settings/accounts/{id}/remove")).await;
    assert!(
        confirm.body.contains("The 2 messages already fetched"),
        "{}",
        confirm.body
    );
    let removed = web
        .post(
            &format!("/settings/accounts/{id}/remove"),
            &[("csrf", &csrf), ("keep_messages", "true")],
        )
        .await;
    assert_eq!(
        removed.location.as_deref(),
        Some("/settings/accounts?removed=1")
    );
    let inbox = web.get("/").await;
    assert!(inbox.body.contains("Removed account"));
    assert!(inbox.body.contains("message 2"));

    for body in &pages {
        assert!(
            !body.contains(MAILBOX_PASSWORD),
            "a page showed the mailbox password"
        );
    }
}

#[tokio::test]
async fn a_link_from_another_site_fills_in_the_address_but_looks_nothing_up() {
    let db = TestDb::new().await;
    let ann = add_user(&db, "ann").await;
    let dns = FakeDns::announcing_pop3s(995).await;
    let dns_address = dns.address.to_string();
    let app = TestApp::spawn_with(&db, &[("TRIBUTARY_DNS_SERVER", &dns_address)]).await;
    let mut web = WebClient::signed_in(&app, &ann.email, USER_PASSWORD).await;
    let path = "/settings/accounts/new?email=alice%40example.test";
    let queries = || dns.queries.load(std::sync::atomic::Ordering::SeqCst);

    for site in ["cross-site", "same-site"] {
        let page = web.get_with(path, &[("sec-fetch-site", site)]).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert_eq!(
            field_value(&page.body, "host"),
            None,
            "the address step, not the server form"
        );
        assert!(
            page.body.contains("value=\"alice@example.test\""),
            "{}",
            page.body
        );
        assert!(!page.body.contains("Found pop.example.test"));
    }
    assert_eq!(queries(), 0, "no DNS lookup for a link from elsewhere");

    // The person submits the address themselves: now the domain is looked up.
    let page = web
        .get_with(path, &[("sec-fetch-site", "same-origin")])
        .await;
    assert!(
        page.body.contains("Found pop.example.test on port 995"),
        "{}",
        page.body
    );
    assert_eq!(
        field_value(&page.body, "host").as_deref(),
        Some("pop.example.test")
    );
    assert!(queries() > 0);
    app.stop().await;
}

/// Known providers come from Tributary's own list, before any DNS lookup: their servers,
/// what the person must do first, a polling floor where the provider has one, and a plain
/// "no POP3" where there is none — in the wizard and in the API alike.
#[tokio::test]
async fn known_providers_are_proposed_without_asking_dns() {
    let db = TestDb::new().await;
    let ann = add_user(&db, "ann").await;
    let dns = FakeDns::announcing_pop3s(995).await;
    let dns_address = dns.address.to_string();
    let app = TestApp::spawn_with(&db, &[("TRIBUTARY_DNS_SERVER", &dns_address)]).await;
    let mut web = WebClient::signed_in(&app, &ann.email, USER_PASSWORD).await;
    let wizard =
        |email: &str| format!("/settings/accounts/new?email={}", email.replace('@', "%40"));

    let webde = web.get(&wizard("anna@WEB.DE")).await;
    assert_eq!(
        field_value(&webde.body, "host").as_deref(),
        Some("pop3.web.de")
    );
    assert_eq!(field_value(&webde.body, "port").as_deref(), Some("995"));
    assert_eq!(
        field_value(&webde.body, "poll_minutes").as_deref(),
        Some("15")
    );
    assert!(
        webde.body.contains("list of mail providers") && webde.body.contains("every 15 minutes"),
        "{}",
        webde.body
    );
    let outlook = web.get(&wizard("ann@hotmail.fr")).await;
    assert_eq!(
        field_value(&outlook.body, "host").as_deref(),
        Some("outlook.office365.com")
    );
    assert!(
        outlook.body.contains("Microsoft sign-in"),
        "{}",
        outlook.body
    );
    let icloud = web.get(&wizard("ann@icloud.com")).await;
    assert!(
        icloud.body.contains("iCloud Mail offers no POP3"),
        "{}",
        icloud.body
    );
    assert_eq!(
        dns.queries.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "known providers need no DNS"
    );

    let token = crate::api::token(&db, ann.id, tributary::store::api_tokens::Scope::Read).await;
    let api = crate::api::Api { app: &app, token };
    let gmail = api
        .post("/autodetect", serde_json::json!({"email": "ann@gmail.com"}))
        .await
        .json();
    assert_eq!(gmail["candidates"][0]["host"], "pop.gmail.com", "{gmail}");
    assert_eq!(gmail["provider"]["sign_in"], "google", "{gmail}");
    assert!(
        gmail["provider"]["advice"]
            .as_str()
            .is_some_and(|a| a.contains("Enable POP")),
        "{gmail}"
    );
    let smtp = api
        .post(
            "/autodetect/smtp",
            serde_json::json!({"email": "ann@gmail.com"}),
        )
        .await
        .json();
    assert_eq!(
        (
            &smtp["candidates"][0]["host"],
            &smtp["candidates"][0]["port"]
        ),
        (
            &serde_json::json!("smtp.gmail.com"),
            &serde_json::json!(465)
        ),
        "{smtp}"
    );
    let unknown = api
        .post(
            "/autodetect",
            serde_json::json!({"email": "ann@nothing.example.test"}),
        )
        .await
        .json();
    assert!(unknown["provider"].is_null(), "{unknown}");
}
