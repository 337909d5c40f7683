//! Sending through the REST API, against a real Postfix: identities on the account
//! resources, messages sent and saved as drafts, the outbox, limits, scopes and another
//! user's ids.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use tributary::store::api_tokens::Scope;

use crate::api::{Api, token};
use crate::helpers::{Dovecot, LOCAL_DOMAIN, Postfix, TestApp, TestDb, add_user};

const ALICE: (&str, &str) = ("alice", "alice's secret");

async fn account(api: &Api<'_>, dovecot: &Dovecot) -> String {
    let created = api
        .post(
            "/accounts",
            json!({
                "email": format!("alice@{LOCAL_DOMAIN}"), "host": "127.0.0.1", "port": dovecot.tls_port,
                "security": "tls", "username": ALICE.0, "password": ALICE.1,
                "tls_ca_pem": dovecot.certs.ca_pem, "enabled": false
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    created.json()["id"].as_str().expect("id").to_owned()
}

fn identity(postfix: &Postfix) -> Value {
    json!({
        "from_name": "Alice API", "smtp_host": "127.0.0.1", "smtp_port": postfix.implicit_tls_port,
        "smtp_security": "tls", "tls_ca_pem": postfix.certs.ca_pem, "signature": "Alice"
    })
}

async fn wait_state(api: &Api<'_>, id: &str, state: &str) -> Value {
    for _ in 0..100 {
        let outbox = api.get("/outbox").await.json();
        if let Some(m) = outbox
            .as_array()
            .and_then(|all| all.iter().find(|m| m["id"] == id))
            && m["state"] == state
        {
            return m.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{id} never became {state}: {}",
        api.get("/outbox").await.text()
    );
}

#[tokio::test]
async fn send_and_drafts_through_the_api_arrive_at_postfix() {
    let db = TestDb::new().await;
    let dovecot = Dovecot::start(&[ALICE]).await;
    let postfix = Postfix::start(&dovecot).await;
    let app = TestApp::spawn(&db).await;
    let alice = add_user(&db, "alice-api").await;
    let api = Api {
        app: &app,
        token: token(&db, alice.id, Scope::Write).await,
    };
    let account_id = account(&api, &dovecot).await;

    let none = api.get(&format!("/accounts/{account_id}/sending")).await;
    assert_eq!(
        (none.status, none.json()),
        (200, Value::Null),
        "no identity yet: null"
    );
    let refused = api
        .post(
            "/messages",
            json!({"account_id": account_id, "to": [format!("bob@{LOCAL_DOMAIN}")]}),
        )
        .await;
    let body = refused.problem(409, "conflict");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("cannot send yet")),
        "{body}"
    );

    // Tried before saving: signs in, stores nothing; a wrong password says so.
    let tried = api
        .post(
            &format!("/accounts/{account_id}/sending/try"),
            identity(&postfix),
        )
        .await;
    assert_eq!(tried.json()["ok"], true, "{}", tried.text());
    let mut wrong = identity(&postfix);
    wrong["smtp_username"] = json!("alice");
    wrong["smtp_password"] = json!("not it");
    let refused = api
        .post(&format!("/accounts/{account_id}/sending/try"), wrong)
        .await
        .json();
    assert_eq!(refused["ok"], false, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|e| e.contains("rejected the sign-in") && !e.contains("not it")),
        "{refused}"
    );
    let still_none = api.get(&format!("/accounts/{account_id}/sending")).await;
    assert_eq!(still_none.json(), Value::Null, "trying saves nothing");

    let saved = api
        .put(
            &format!("/accounts/{account_id}/sending"),
            identity(&postfix),
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.text());
    assert_eq!(
        saved.json()["from_address"],
        format!("alice@{LOCAL_DOMAIN}")
    );
    assert!(saved.json()["smtp_username"].is_null());
    let test = api
        .post(&format!("/accounts/{account_id}/sending/test"), json!({}))
        .await;
    assert_eq!(test.json()["ok"], true, "{}", test.text());

    let attachment = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 pretend");
    let sent = api
        .post(
            "/messages",
            json!({
                "account_id": account_id, "to": [format!("Bob <bob@{LOCAL_DOMAIN}>")],
                "subject": "Par l'API", "text": "Bonjour",
                "attachments": [{"filename": "a.pdf", "content_type": "application/pdf", "content_base64": attachment}]
            }),
        )
        .await;
    assert_eq!(sent.status, 202, "{}", sent.text());
    let id = sent.json()["id"].as_str().expect("id").to_owned();
    assert_eq!(sent.json()["state"], "queued");
    let done = wait_state(&api, &id, "sent").await;
    assert!(
        done["message_id"]
            .as_str()
            .is_some_and(|m| m.ends_with(&format!("@{LOCAL_DOMAIN}>")))
    );
    let delivered = postfix.wait_delivered(1).await;
    let parsed = mail_parser::MessageParser::default()
        .parse(&delivered[0])
        .expect("parses");
    assert_eq!(parsed.subject(), Some("Par l'API"));
    assert_eq!(
        parsed.attachment(0).map(|a| a.contents()),
        Some(&b"%PDF-1.4 pretend"[..])
    );

    // The sent message is kept with the mail: in the combined list, marked, searchable,
    // byte for byte what Postfix got, and never mistaken for a fetched UIDL.
    let found = api.get("/messages?q=API").await.json();
    let listed = found["messages"]
        .as_array()
        .and_then(|all| all.iter().find(|m| m["subject"] == "Par l'API"))
        .unwrap_or_else(|| panic!("the sent message is not found by search: {found}"))
        .clone();
    assert_eq!(listed["sent"], true, "{listed}");
    assert_eq!(listed["seen"], true, "what one sent is not unread");
    assert_eq!(listed["account_id"], account_id.as_str());
    let stored = api.get(&format!("/messages/{}/raw", listed["id"])).await;
    assert_eq!(stored.status, 200);
    let (raw,): (Vec<u8>,) = sqlx::query_as("SELECT raw FROM outbox WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&db.pool)
        .await
        .expect("outbox raw");
    assert_eq!(
        stored.bytes(),
        raw.as_slice(),
        "the copy is what was submitted"
    );
    let (uidls,): (i64,) = sqlx::query_as("SELECT count(*) FROM account_uidls")
        .fetch_one(&db.pool)
        .await
        .expect("uidls");
    assert_eq!(uidls, 0, "a sent copy is not a fetched message");

    // The same as a multipart upload: the JSON in one part, the file as it is (bytes no
    // text encoding would survive), its name reduced to the last path part.
    let file: Vec<u8> = (0u8..=255).cycle().take(70_000).collect();
    let boundary = "tributary-test-boundary";
    let mut upload = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"message\"\r\n\
         Content-Type: application/json\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"attachment\"; \
         filename=\"C:\\\\scans\\\\scan.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n",
        json!({"account_id": account_id, "to": [format!("dan@{LOCAL_DOMAIN}")], "subject": "Multipart"})
    )
    .into_bytes();
    upload.extend_from_slice(&file);
    upload.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let multipart = format!("multipart/form-data; boundary={boundary}");
    let uploaded = api.post_bytes("/messages", &multipart, upload).await;
    assert_eq!(uploaded.status, 202, "{}", uploaded.text());
    let uploaded_id = uploaded.json()["id"].as_str().expect("id").to_owned();
    wait_state(&api, &uploaded_id, "sent").await;
    let delivered = postfix.wait_delivered(2).await;
    let parsed = mail_parser::MessageParser::default()
        .parse(&delivered[1])
        .expect("parses");
    assert_eq!(parsed.subject(), Some("Multipart"));
    let attached = parsed.attachment(0).expect("the file is attached");
    assert_eq!(
        mail_parser::MimeHeaders::attachment_name(attached),
        Some("scan.bin")
    );
    assert!(
        attached.contents() == file.as_slice(),
        "the file arrives byte for byte"
    );
    let no_message = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"a\"\r\n\r\nx\r\n--{boundary}--\r\n"
    );
    api.post_bytes("/messages", &multipart, no_message.into_bytes())
        .await
        .problem(422, "validation");
    api.post_bytes("/messages", &multipart, b"not multipart at all".to_vec())
        .await
        .problem(400, "bad-request");

    // Answering a message that is not the user's: refused in words, as a draft too.
    for draft in [true, false] {
        let body = api
            .post(
                "/messages",
                json!({"account_id": account_id, "to": [format!("bob@{LOCAL_DOMAIN}")],
                       "in_reply_to": i64::MAX, "draft": draft}),
            )
            .await
            .problem(422, "validation");
        assert_eq!(body["field"], "in_reply_to", "{body}");
    }

    // A draft: saved, listed, changed, then sent.
    let draft = api
        .post(
            "/messages",
            json!({"account_id": account_id, "subject": "brouillon", "draft": true}),
        )
        .await;
    assert_eq!(draft.status, 201, "{}", draft.text());
    let draft_id = draft.json()["id"].as_str().expect("id").to_owned();
    let listed = api.get("/drafts").await.json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    let changed = api
        .patch(
            &format!("/drafts/{draft_id}"),
            json!({"account_id": account_id, "subject": "brouillon fini", "to": [format!("bob@{LOCAL_DOMAIN}")], "draft": true}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text());
    assert_eq!(
        api.get(&format!("/drafts/{draft_id}")).await.json()["subject"],
        "brouillon fini"
    );
    let sending = api
        .patch(
            &format!("/drafts/{draft_id}"),
            json!({"account_id": account_id, "subject": "brouillon fini", "to": [format!("bob@{LOCAL_DOMAIN}")]}),
        )
        .await;
    assert_eq!(sending.status, 202, "{}", sending.text());
    wait_state(&api, &draft_id, "sent").await;
    api.get(&format!("/drafts/{draft_id}"))
        .await
        .problem(404, "not-found");
    api.delete(&format!("/drafts/{draft_id}"))
        .await
        .problem(404, "not-found");
    postfix.wait_delivered(2).await;

    // Bad input, a read token, another user's ids.
    let injected = api
        .post(
            "/messages",
            json!({"account_id": account_id, "to": [format!("bob@{LOCAL_DOMAIN}")], "subject": "hi\r\nBcc: x@example.com"}),
        )
        .await
        .problem(422, "validation");
    assert_eq!(injected["field"], "subject");
    let injected = api
        .post("/messages", json!({"account_id": account_id, "to": ["bob@example.test\r\nRCPT TO:<x@example.com>"]}))
        .await
        .problem(422, "validation");
    assert_eq!(injected["field"], "to");
    let reader = Api {
        app: &app,
        token: token(&db, alice.id, Scope::Read).await,
    };
    reader
        .post(
            "/messages",
            json!({"account_id": account_id, "to": [format!("bob@{LOCAL_DOMAIN}")]}),
        )
        .await
        .problem(403, "forbidden");
    reader
        .put(
            &format!("/accounts/{account_id}/sending"),
            identity(&postfix),
        )
        .await
        .problem(403, "forbidden");
    assert_eq!(reader.get("/outbox").await.status, 200);
    let mallory = add_user(&db, "mallory").await;
    let other = Api {
        app: &app,
        token: token(&db, mallory.id, Scope::Write).await,
    };
    other
        .post(
            "/messages",
            json!({"account_id": account_id, "to": [format!("bob@{LOCAL_DOMAIN}")]}),
        )
        .await
        .problem(404, "not-found");
    other
        .get(&format!("/accounts/{account_id}/sending"))
        .await
        .problem(404, "not-found");
    other
        .post(&format!("/outbox/{id}/resend"), json!({}))
        .await
        .problem(404, "not-found");
    assert_eq!(other.get("/outbox").await.json(), json!([]));
    // The password is in no answer.
    for path in [
        "/outbox".to_owned(),
        format!("/accounts/{account_id}/sending"),
    ] {
        assert!(!api.get(&path).await.text().contains(ALICE.1));
    }
    app.stop().await;
}

#[tokio::test]
async fn send_limits_answer_with_429_and_422() {
    let db = TestDb::new().await;
    let dovecot = Dovecot::start(&[ALICE]).await;
    let app = TestApp::spawn_with(
        &db,
        &[
            ("TRIBUTARY_SEND_PER_HOUR", "2"),
            ("TRIBUTARY_SEND_MAX_RECIPIENTS", "2"),
            ("TRIBUTARY_SEND_MAX_BYTES", "4096"),
        ],
    )
    .await;
    let alice = add_user(&db, "alice-limits").await;
    let api = Api {
        app: &app,
        token: token(&db, alice.id, Scope::Write).await,
    };
    let account_id = account(&api, &dovecot).await;
    // Nothing listens there: these messages only need to be queued.
    let saved = api
        .put(
            &format!("/accounts/{account_id}/sending"),
            json!({"smtp_host": "127.0.0.1", "smtp_port": 9, "smtp_security": "tls"}),
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.text());
    let message =
        |to: Vec<&str>, text: &str| json!({"account_id": account_id, "to": to, "text": text});
    let three = api
        .post(
            "/messages",
            message(vec!["a@example.org", "b@example.org", "c@example.org"], "x"),
        )
        .await
        .problem(422, "validation");
    assert!(
        three["detail"]
            .as_str()
            .is_some_and(|d| d.contains("at most 2")),
        "{three}"
    );
    let big = api
        .post(
            "/messages",
            message(vec!["a@example.org"], &"x".repeat(10_000)),
        )
        .await
        .problem(422, "validation");
    assert!(
        big["detail"]
            .as_str()
            .is_some_and(|d| d.contains("at most 4096")),
        "{big}"
    );
    for _ in 0..2 {
        let queued = api
            .post("/messages", message(vec!["a@example.org"], "x"))
            .await;
        assert_eq!(queued.status, 202, "{}", queued.text());
    }
    let limited = api
        .post("/messages", message(vec!["a@example.org"], "x"))
        .await;
    limited.problem(429, "rate-limited");
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=3600).contains(&retry), "{retry}");
    app.stop().await;
}

/// "Find my server" on the sending settings and `POST /autodetect/smtp` use the domain's
/// SRV record; a server whose certificate is not publicly trusted is still proposed, and
/// saying so. Nothing is saved by looking.
#[tokio::test]
async fn the_submission_server_is_found_for_the_form_and_the_api() {
    use std::collections::HashMap;

    use crate::helpers::fake_dns::{FakeDns, Zone};
    use crate::helpers::web::{USER_PASSWORD, WebClient, field_value};

    let db = TestDb::new().await;
    let dns = FakeDns::start(Zone {
        srv: HashMap::from([(
            "_submissions._tcp.example.test".into(),
            vec![(0, 0, 4465, "out.example.test".into())],
        )]),
        a: HashMap::new(),
    })
    .await;
    let dns_address = dns.address.to_string();
    let app = TestApp::spawn_with(&db, &[("TRIBUTARY_DNS_SERVER", &dns_address)]).await;
    let user = add_user(&db, "finder").await;
    let account = crate::helpers::add_account(&db, &app.ring, user.id, "finder", "pw").await;
    sqlx::query("UPDATE accounts SET email = 'finder@example.test' WHERE id = $1")
        .bind(account.id)
        .execute(&db.pool)
        .await
        .expect("address");

    let mut web = WebClient::signed_in(&app, &user.email, USER_PASSWORD).await;
    let path = format!("/settings/accounts/{}/sending", account.id);
    let found = web
        .submit(
            &path,
            &[
                ("action", "detect"),
                ("from_name", "Finder"),
                ("smtp_host", "smtp.wrong.example"),
            ],
        )
        .await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(
        field_value(&found.body, "smtp_host").as_deref(),
        Some("out.example.test")
    );
    assert_eq!(
        field_value(&found.body, "smtp_port").as_deref(),
        Some("4465")
    );
    assert_eq!(
        field_value(&found.body, "from_name").as_deref(),
        Some("Finder")
    );
    assert!(
        found.body.contains("Found out.example.test on port 4465")
            && found.body.contains("SRV record"),
        "{}",
        found.body
    );
    let (identities,): (i64,) = sqlx::query_as("SELECT count(*) FROM sending_identities")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(identities, 0, "looking saves nothing");

    // Nothing announced and nothing answering: said, and the form keeps what was typed.
    let none = web
        .submit(
            &path,
            &[
                ("action", "detect"),
                ("from_address", "finder@nothing.example.test"),
                ("smtp_host", "typed.example.test"),
            ],
        )
        .await;
    assert!(
        none.body
            .contains("No SMTP submission server was found automatically for nothing.example.test"),
        "{}",
        none.body
    );
    assert_eq!(
        field_value(&none.body, "smtp_host").as_deref(),
        Some("typed.example.test")
    );

    let api = Api {
        app: &app,
        token: token(&db, user.id, Scope::Read).await,
    };
    let answer = api
        .post("/autodetect/smtp", json!({"email": "finder@example.test"}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let candidate = &answer.json()["candidates"][0];
    assert_eq!(candidate["host"], "out.example.test");
    assert_eq!(candidate["port"], 4465);
    assert_eq!(candidate["security"], "tls");
    assert_eq!(
        candidate["usernames"],
        json!(["finder@example.test", "finder"])
    );
    api.post("/autodetect/smtp", json!({"email": "no-at-sign"}))
        .await
        .problem(422, "validation");
}
