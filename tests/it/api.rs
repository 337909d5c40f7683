//! REST API v1 over real HTTP: tokens and scopes, problem documents, every endpoint's
//! success and failure, another user's ids, and mail fetched from Dovecot byte for byte.

use std::time::Duration;

use serde_json::{Value, json};
use tributary::store::api_tokens::Scope;

use crate::helpers::{Dovecot, TestApp, TestDb, add_user, sample_message};

const MAILBOX_PASSWORD: &str = "bob's mailbox secret";

pub(crate) async fn token(db: &TestDb, user_id: uuid::Uuid, scope: Scope) -> String {
    let mut conn = db.pool.acquire().await.expect("conn");
    tributary::tokens::create(&mut conn, user_id, "test", scope)
        .await
        .expect("token")
        .token
        .expose()
        .to_owned()
}

pub(crate) struct Api<'a> {
    pub(crate) app: &'a TestApp,
    pub(crate) token: String,
}

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.bytes)))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// A problem document of this type (and field, for validation problems).
    pub(crate) fn problem(&self, status: u16, kind: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.headers["content-type"], "application/problem+json");
        let body = self.json();
        assert_eq!(body["type"], format!("/api/v1/problems/{kind}"), "{body}");
        assert_eq!(body["status"], status);
        assert!(body["title"].is_string() && body["detail"].is_string());
        body
    }
}

impl Api<'_> {
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self
            .app
            .http
            .request(method, self.app.url(&format!("/api/v1{path}")))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            bytes: response.bytes().await.expect("body").to_vec(),
        }
    }

    /// Posts a body as it is, with its content type (a hand-built multipart upload).
    pub(crate) async fn post_bytes(&self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let response = self
            .app
            .http
            .post(self.app.url(&format!("/api/v1{path}")))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            bytes: response.bytes().await.expect("body").to_vec(),
        }
    }

    pub(crate) async fn get(&self, path: &str) -> Reply {
        self.send(reqwest::Method::GET, path, None).await
    }
    pub(crate) async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
    pub(crate) async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }
    pub(crate) async fn delete(&self, path: &str) -> Reply {
        self.send(reqwest::Method::DELETE, path, None).await
    }
    pub(crate) async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }
}

fn new_account(port: u16, ca: &str) -> Value {
    json!({
        "email": "bob@example.test", "host": "127.0.0.1", "port": port, "security": "tls",
        "username": "bob", "password": MAILBOX_PASSWORD, "tls_ca_pem": ca, "label": "Bob's box",
        "color": "#2E9E5B"
    })
}

#[tokio::test]
async fn tokens_scopes_and_problem_documents() {
    let db = TestDb::new().await;
    let ann = add_user(&db, "ann").await;
    let read = token(&db, ann.id, Scope::Read).await;
    let write = token(&db, ann.id, Scope::Write).await;
    let app = TestApp::spawn(&db).await;

    for bad in ["", "trb_nonsense", "Basic abc"] {
        let api = Api {
            app: &app,
            token: bad.to_owned(),
        };
        let reply = api.get("/me").await;
        reply.problem(401, "unauthorized");
        assert!(
            reply.headers["www-authenticate"]
                .to_str()
                .expect("h")
                .starts_with("Bearer")
        );
    }
    let no_header = app
        .http
        .get(app.url("/api/v1/accounts"))
        .send()
        .await
        .expect("get");
    assert_eq!(no_header.status(), 401);

    let reader = Api {
        app: &app,
        token: read.clone(),
    };
    let writer = Api {
        app: &app,
        token: write.clone(),
    };
    let me = reader.get("/me").await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["email"], ann.email);
    assert_eq!(me.json()["token"]["scope"], "read");
    assert!(!me.text().contains(&read), "the token is never echoed");

    // A read token reads but changes nothing.
    assert_eq!(reader.get("/accounts").await.json(), json!([]));
    reader
        .post("/accounts", new_account(995, ""))
        .await
        .problem(403, "forbidden");

    // Validation: the field is named.
    let mut missing = new_account(995, "");
    missing.as_object_mut().expect("object").remove("host");
    let body = writer
        .post("/accounts", missing)
        .await
        .problem(422, "validation");
    assert_eq!(body["field"], "host", "{body}");
    let mut bad_port = new_account(995, "");
    bad_port["port"] = json!(0);
    assert_eq!(
        writer
            .post("/accounts", bad_port)
            .await
            .problem(422, "validation")["field"],
        "port"
    );
    let mut bad_color = new_account(995, "");
    bad_color["color"] = json!("red");
    assert_eq!(
        writer
            .post("/accounts", bad_color)
            .await
            .problem(422, "validation")["field"],
        "color"
    );
    let mut unknown = new_account(995, "");
    unknown["surprise"] = json!(1);
    writer
        .post("/accounts", unknown)
        .await
        .problem(422, "validation");
    let mut bad_pin = new_account(995, "");
    bad_pin["tls_pin_sha256"] = json!("zz");
    assert_eq!(
        writer
            .post("/accounts", bad_pin)
            .await
            .problem(422, "validation")["field"],
        "tls_pin_sha256"
    );

    // Malformed JSON, a wrong media type and an oversized body get our problem format.
    let raw = |body: Vec<u8>, content_type: &'static str| {
        let request = app
            .http
            .post(app.url("/api/v1/accounts"))
            .bearer_auth(&write)
            .header("content-type", content_type)
            .body(body);
        async move {
            let response = request.send().await.expect("post");
            Reply {
                status: response.status().as_u16(),
                headers: response.headers().clone(),
                bytes: response.bytes().await.expect("body").to_vec(),
            }
        }
    };
    raw(b"{\"email\": ".to_vec(), "application/json")
        .await
        .problem(400, "bad-request");
    raw(b"email=x".to_vec(), "application/x-www-form-urlencoded")
        .await
        .problem(415, "unsupported-media-type");
    raw(vec![b' '; 300 * 1024], "application/json")
        .await
        .problem(413, "payload-too-large");

    // Unknown routes and methods.
    writer
        .send(reqwest::Method::PUT, "/accounts", Some(json!({})))
        .await
        .problem(405, "method-not-allowed");
    for (path, status, kind) in [
        ("/nothing-here", 404, "not-found"),
        ("/accounts/not-a-uuid", 404, "not-found"),
        ("/messages?limit=0", 422, "validation"),
        ("/messages?cursor=garbage", 422, "validation"),
        ("/messages?since=yesterday", 422, "validation"),
    ] {
        writer.get(path).await.problem(status, kind);
    }

    // Revoked tokens and disabled users stop working at once.
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM api_tokens WHERE scope = 'read'")
        .fetch_one(&db.pool)
        .await
        .expect("id");
    let mut conn = db.pool.acquire().await.expect("conn");
    tributary::store::api_tokens::revoke(&mut conn, ann.id, id)
        .await
        .expect("revoke");
    reader.get("/me").await.problem(401, "unauthorized");
    tributary::store::users::set_disabled(&mut conn, ann.id, true)
        .await
        .expect("disable");
    writer.get("/me").await.problem(401, "unauthorized");
}

#[tokio::test]
async fn accounts_and_mail_end_to_end_with_dovecot_and_no_way_into_another_users_data() {
    let db = TestDb::new().await;
    let dovecot = Dovecot::start(&[("bob", MAILBOX_PASSWORD)]).await;
    let attachment = b"From: a@example.org\r\nSubject: with a file\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n\
<p>hi<script>x()</script><img src=\"https://t.example/p.gif\"></p>\r\n--b\r\n\
Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"r.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n"
        .to_vec();
    let plain = sample_message(1, 5_000);
    dovecot.deliver("bob", "1.test", &plain);
    dovecot.deliver("bob", "2.test", &attachment);
    let bob = add_user(&db, "bob").await;
    let eve = add_user(&db, "eve").await;
    let app = TestApp::spawn(&db).await;
    let api = Api {
        app: &app,
        token: token(&db, bob.id, Scope::Write).await,
    };
    let eve_api = Api {
        app: &app,
        token: token(&db, eve.id, Scope::Write).await,
    };

    let created = api
        .post(
            "/accounts",
            new_account(dovecot.tls_port, &dovecot.certs.ca_pem),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let account = created.json();
    let id = account["id"].as_str().expect("id").to_owned();
    assert_eq!(
        created.headers["location"],
        format!("/api/v1/accounts/{id}")
    );
    assert_eq!(account["color"], "#2e9e5b");
    assert_eq!(account["security"], "tls");
    assert_eq!(account["leave_on_server"], "keep");
    assert!(account.get("password").is_none());
    assert!(!created.text().contains(MAILBOX_PASSWORD));

    let test = api.post(&format!("/accounts/{id}/test"), json!({})).await;
    assert_eq!(test.status, 200, "{}", test.text());
    assert_eq!(test.json()["ok"], true);
    assert_eq!(test.json()["messages"], 2);

    // The first check started with the account; wait for both messages.
    let mut listed = Value::Null;
    for _ in 0..100 {
        listed = api.get("/messages").await.json();
        if listed["messages"].as_array().map(Vec::len) == Some(2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let messages = listed["messages"].as_array().expect("messages").clone();
    assert_eq!(messages.len(), 2, "{listed}");
    assert_eq!(listed["next_cursor"], Value::Null);
    let with_file = messages
        .iter()
        .find(|m| m["subject"] == "with a file")
        .expect("the attachment message");
    let file_id = with_file["id"].as_i64().expect("id");
    let plain_id = messages
        .iter()
        .find(|m| m["id"] != with_file["id"])
        .expect("other")["id"]
        .as_i64()
        .expect("id");

    // Raw bytes exactly as Dovecot holds them.
    let raw = api.get(&format!("/messages/{plain_id}/raw")).await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.headers["content-type"], "message/rfc822");
    assert!(raw.bytes == plain, "byte for byte");
    let detail = api.get(&format!("/messages/{file_id}")).await.json();
    assert_eq!(detail["attachments"][0]["name"], "r.pdf");
    let html = detail["html"].as_str().expect("html");
    assert!(
        !html.contains("script") && !html.contains("t.example"),
        "{html}"
    );
    let pdf = api.get(&format!("/messages/{file_id}/attachments/0")).await;
    assert_eq!(pdf.bytes, b"%PDF-1.4\n");
    assert!(
        pdf.headers["content-disposition"]
            .to_str()
            .expect("h")
            .starts_with("attachment")
    );
    api.get(&format!("/messages/{file_id}/attachments/1"))
        .await
        .problem(404, "not-found");

    // Filters, search, paging.
    let one = api.get("/messages?limit=1").await.json();
    assert_eq!(one["messages"].as_array().expect("page").len(), 1);
    let cursor = one["next_cursor"].as_str().expect("a next page").to_owned();
    let two = api
        .get(&format!("/messages?limit=1&cursor={cursor}"))
        .await
        .json();
    assert_ne!(two["messages"][0]["id"], one["messages"][0]["id"]);
    assert_eq!(two["next_cursor"], Value::Null);
    let found = api.get("/messages?q=file").await.json();
    assert_eq!(found["messages"].as_array().expect("found").len(), 1);
    // A NUL in the query (found by the contract fuzzing) is only a separator.
    let nul = api.get("/messages?q=file%00").await;
    assert_eq!(nul.status, 200);
    assert_eq!(nul.json()["messages"].as_array().expect("found").len(), 1);
    assert_eq!(
        api.get(&format!("/messages?account={id}&unread=true"))
            .await
            .json()["messages"]
            .as_array()
            .expect("m")
            .len(),
        2
    );
    let future = api.get("/messages?since=2999-01-01T00:00:00Z").await.json();
    assert!(future["messages"].as_array().expect("m").is_empty());

    // Flags and deletion.
    let patched = api
        .patch(
            &format!("/messages/{file_id}"),
            json!({"seen": true, "starred": true}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text());
    assert_eq!(patched.json()["starred"], true);
    assert_eq!(
        api.get("/messages?unread=true").await.json()["messages"]
            .as_array()
            .expect("m")
            .len(),
        1
    );
    assert_eq!(
        api.get("/messages?starred=true").await.json()["messages"]
            .as_array()
            .expect("m")
            .len(),
        1
    );
    api.patch(&format!("/messages/{file_id}"), json!({"trashed": true}))
        .await;
    assert_eq!(
        api.get("/messages?trashed=true").await.json()["messages"]
            .as_array()
            .expect("m")
            .len(),
        1
    );
    api.patch(&format!("/messages/{file_id}"), json!({"seen": "yes"}))
        .await
        .problem(422, "validation");

    // Another user's ids do not exist for eve.
    for path in [
        format!("/accounts/{id}"),
        format!("/accounts/{id}/runs"),
        format!("/messages/{file_id}"),
        format!("/messages/{file_id}/raw"),
        format!("/messages/{file_id}/attachments/0"),
    ] {
        eve_api.get(&path).await.problem(404, "not-found");
    }
    use reqwest::Method;
    for (method, path, body) in [
        (
            Method::PATCH,
            format!("/accounts/{id}"),
            Some(json!({"label": "mine"})),
        ),
        (
            Method::POST,
            format!("/accounts/{id}/test"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/accounts/{id}/check"),
            Some(json!({})),
        ),
        (
            Method::PATCH,
            format!("/messages/{file_id}"),
            Some(json!({"seen": false})),
        ),
        (Method::DELETE, format!("/messages/{file_id}"), None),
        (Method::DELETE, format!("/accounts/{id}"), None),
    ] {
        eve_api
            .send(method, &path, body)
            .await
            .problem(404, "not-found");
    }
    assert!(
        eve_api.get("/messages").await.json()["messages"]
            .as_array()
            .expect("m")
            .is_empty()
    );
    assert!(
        eve_api
            .get("/accounts")
            .await
            .json()
            .as_array()
            .expect("a")
            .is_empty()
    );

    // Check now reports the run; runs list it.
    dovecot.deliver("bob", "3.test", &sample_message(3, 2_000));
    let check = api.post(&format!("/accounts/{id}/check"), json!({})).await;
    assert_eq!(check.status, 202, "{}", check.text());
    let run_id = check.json()["run_id"].as_i64().expect("a run started");
    let runs = api.get(&format!("/accounts/{id}/runs")).await.json();
    assert!(
        runs.as_array()
            .expect("runs")
            .iter()
            .any(|r| r["id"] == run_id),
        "{runs}"
    );

    // Patch: a new label, automatic polling back, paused; a paused account is not checked.
    let patched = api
        .patch(
            &format!("/accounts/{id}"),
            json!({"label": "Renamed", "poll_minutes": null, "enabled": false}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text());
    assert_eq!(patched.json()["label"], "Renamed");
    assert_eq!(patched.json()["status"]["state"], "off");
    api.post(&format!("/accounts/{id}/check"), json!({}))
        .await
        .problem(409, "conflict");
    let wrong = api
        .patch(
            &format!("/accounts/{id}"),
            json!({"password": "wrong", "enabled": true}),
        )
        .await;
    assert_eq!(wrong.status, 200);
    let tested = api
        .post(&format!("/accounts/{id}/test"), json!({}))
        .await
        .json();
    assert_eq!(tested["ok"], false);
    assert!(
        tested["error"]
            .as_str()
            .expect("error")
            .contains("rejected"),
        "{tested}"
    );

    // Delete the message, then the account with its mail.
    assert_eq!(
        api.delete(&format!("/messages/{file_id}")).await.status,
        204
    );
    api.get(&format!("/messages/{file_id}"))
        .await
        .problem(404, "not-found");
    assert_eq!(
        api.delete(&format!("/accounts/{id}?keep_messages=false"))
            .await
            .status,
        204
    );
    api.get(&format!("/accounts/{id}"))
        .await
        .problem(404, "not-found");
    assert!(
        api.get("/messages").await.json()["messages"]
            .as_array()
            .expect("m")
            .is_empty()
    );
    api.delete(&format!("/accounts/{id}?keep_messages=maybe"))
        .await
        .problem(422, "validation");
}

#[tokio::test]
async fn tokens_are_rate_limited_and_the_openapi_document_covers_every_endpoint() {
    let db = TestDb::new().await;
    let ann = add_user(&db, "ann").await;
    let app = TestApp::spawn_with(&db, &[("TRIBUTARY_API_REQUESTS_PER_MINUTE", "3")]).await;
    let api = Api {
        app: &app,
        token: token(&db, ann.id, Scope::Read).await,
    };
    for _ in 0..3 {
        assert_eq!(api.get("/me").await.status, 200);
    }
    let limited = api.get("/me").await;
    limited.problem(429, "rate-limited");
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .expect("h")
        .parse()
        .expect("seconds");
    assert!((1..=20).contains(&wait), "{wait}");
    // Another token has its own allowance.
    let other = Api {
        app: &app,
        token: token(&db, ann.id, Scope::Read).await,
    };
    assert_eq!(other.get("/me").await.status, 200);

    let document: Value = app
        .http
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert!(
        document["openapi"]
            .as_str()
            .expect("version")
            .starts_with("3.1")
    );
    let paths = document["paths"].as_object().expect("paths");
    for (path, methods) in [
        ("/me", &["get"][..]),
        ("/accounts", &["get", "post"]),
        ("/accounts/{id}", &["get", "patch", "delete"]),
        ("/accounts/{id}/test", &["post"]),
        ("/accounts/{id}/check", &["post"]),
        ("/accounts/{id}/runs", &["get"]),
        ("/autodetect", &["post"]),
        ("/autodetect/smtp", &["post"]),
        ("/accounts/{id}/sending", &["get", "put", "delete"]),
        ("/accounts/{id}/sending/test", &["post"]),
        ("/accounts/{id}/sending/try", &["post"]),
        ("/messages", &["get"]),
        ("/messages/{id}", &["get", "patch", "delete"]),
        ("/messages/{id}/raw", &["get"]),
        ("/messages/{id}/attachments/{n}", &["get"]),
    ] {
        for method in methods {
            assert!(paths[path][method].is_object(), "{method} {path} missing");
        }
    }
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
    // Messages also come as uploads: the JSON in one part, files as they are — and no
    // other parts.
    let upload =
        &document["paths"]["/messages"]["post"]["requestBody"]["content"]["multipart/form-data"];
    assert!(
        upload.is_object(),
        "no multipart upload: {}",
        document["paths"]["/messages"]
    );
    let form = &document["components"]["schemas"]["MessageUpload"];
    assert_eq!(form["additionalProperties"], false, "{form}");
    assert_eq!(
        form["properties"]["attachment"]["items"]["format"], "binary",
        "{form}"
    );
    assert!(document["components"]["schemas"]["AccountJson"]["properties"]["password"].is_null());
    // A new account needs these; the schema of the create body says so.
    let required = &document["components"]["schemas"]["AccountDraft"]["required"];
    for field in ["email", "host", "username", "password"] {
        assert!(
            required
                .as_array()
                .is_some_and(|r| r.iter().any(|f| f == field)),
            "{field} is not required in {required}"
        );
    }
}

#[tokio::test]
async fn people_create_and_revoke_tokens_on_the_settings_page() {
    use crate::helpers::web::{USER_PASSWORD, WebClient};
    let db = TestDb::new().await;
    let ann = add_user(&db, "ann").await;
    let bob = add_user(&db, "bob").await;
    let app = TestApp::spawn(&db).await;
    let mut web = WebClient::signed_in(&app, &ann.email, USER_PASSWORD).await;
    assert_eq!(web.get("/settings/tokens").await.status, 200);
    assert_eq!(
        web.post(
            "/settings/tokens",
            &[("csrf", "forged"), ("name", "x"), ("scope", "read")]
        )
        .await
        .status,
        403
    );
    let blank = web
        .submit("/settings/tokens", &[("name", " "), ("scope", "read")])
        .await;
    assert_eq!(blank.status, 422);
    let created = web
        .submit(
            "/settings/tokens",
            &[("name", "backup script"), ("scope", "write")],
        )
        .await;
    assert_eq!(created.status, 200);
    assert_eq!(created.headers["cache-control"], "no-store");
    let start = created.body.find("data-new-token>").expect("shown once") + "data-new-token>".len();
    let token = created.body[start..]
        .split('<')
        .next()
        .expect("token")
        .to_owned();
    assert!(token.starts_with("trb_"), "{token}");
    let api = Api {
        app: &app,
        token: token.clone(),
    };
    assert_eq!(api.get("/me").await.json()["token"]["scope"], "write");
    // Shown only once: the list never holds it again.
    let list = web.get("/settings/tokens").await;
    assert!(list.body.contains("backup script"));
    assert!(!list.body.contains(&token));

    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM api_tokens")
        .fetch_one(&db.pool)
        .await
        .expect("id");
    let mut bob_web = WebClient::signed_in(&app, &bob.email, USER_PASSWORD).await;
    let stolen = bob_web
        .submit(&format!("/settings/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(stolen.status, 404, "another user's token is not there");
    assert_eq!(api.get("/me").await.status, 200);
    let revoked = web
        .submit(&format!("/settings/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(revoked.status, 303);
    api.get("/me").await.problem(401, "unauthorized");
    assert!(web.get("/settings/tokens").await.body.contains("Revoked"));

    let docs = app
        .http
        .get(app.url("/api/docs"))
        .send()
        .await
        .expect("docs");
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.expect("html");
    assert!(html.contains("/static/api.js") && !html.contains("<script>"));
}

/// The README's curl walkthrough, run as written against a fresh instance and Dovecot.
#[tokio::test]
async fn the_readme_walkthrough_works_as_written() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let start = readme.find("<!-- api-walkthrough -->").expect("marker");
    let block = &readme[start..];
    let code_start = block.find("```sh\n").expect("code") + "```sh\n".len();
    let script = &block[code_start..code_start + block[code_start..].find("```").expect("end")];

    let db = TestDb::new().await;
    let dovecot = Dovecot::start(&[("walker", MAILBOX_PASSWORD)]).await;
    let mail = sample_message(7, 3_000);
    dovecot.deliver("walker", "1.test", &mail);
    let ann = add_user(&db, "ann").await;
    let app = TestApp::spawn(&db).await;
    let dir = crate::helpers::TempDir::new();
    let binary_dir = std::path::Path::new(env!("CARGO_BIN_EXE_tributary"))
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        binary_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = tokio::process::Command::new("bash")
        .arg("-euo")
        .arg("pipefail")
        .arg("-c")
        .arg(script)
        .current_dir(dir.path())
        .env("PATH", path)
        .env("DATABASE_URL", &db.url)
        .env("API", app.url("/api/v1"))
        .env("TRIBUTARY_USER", &ann.email)
        .env("POP_HOST", "127.0.0.1")
        .env("POP_PORT", dovecot.tls_port.to_string())
        .env("POP_SECURITY", "tls")
        .env("POP_USER", "walker")
        .env("POP_PASSWORD", MAILBOX_PASSWORD)
        .env("POP_CA_PEM", &dovecot.certs.ca_pem)
        .output()
        .await
        .expect("bash");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "walkthrough failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("\"ok\":true"), "{stdout}");
    assert!(stdout.contains("\"run_id\":"), "{stdout}");
    let saved = std::fs::read(dir.path().join("message.eml")).expect("message.eml");
    assert!(
        saved == mail,
        "the raw download is byte for byte the mail Dovecot holds"
    );
    assert!(!stdout.contains(MAILBOX_PASSWORD));
}

#[tokio::test]
async fn a_read_token_changes_nothing_and_secrets_never_reach_responses_or_the_log() {
    use crate::helpers::{Cli, TempDir, free_port, wait_for_port};
    let db = TestDb::new().await;
    let dovecot = Dovecot::start(&[("bob", MAILBOX_PASSWORD)]).await;
    dovecot.deliver("bob", "1.test", &sample_message(1, 2_000));
    let ann = add_user(&db, "ann").await;
    let write = token(&db, ann.id, Scope::Write).await;
    let read = token(&db, ann.id, Scope::Read).await;
    let dir = TempDir::new();
    let log = dir.path().join("serve.log");
    let port = free_port();
    let mut serve = Cli::new(&["serve"])
        .env("DATABASE_URL", &db.url)
        .env("TRIBUTARY_LISTEN", format!("127.0.0.1:{port}"))
        .env("TRIBUTARY_DATA_DIR", dir.path())
        .env("TRIBUTARY_ALLOW_PRIVATE_HOSTS", "true")
        .env("RUST_LOG", "debug,hyper=info,h2=info,rustls=info")
        .spawn_logging_to(&log);
    wait_for_port(port, "tributary serve").await;
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let mut bodies = String::new();
    let mut call = async |method: reqwest::Method, path: &str, token: &str, body: Option<Value>| {
        let mut request = http
            .request(method, format!("{base}{path}"))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        bodies.push_str(&text);
        (status, text)
    };
    let (status, created) = call(
        reqwest::Method::POST,
        "/accounts",
        &write,
        Some(new_account(dovecot.tls_port, &dovecot.certs.ca_pem)),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = serde_json::from_str::<Value>(&created).expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Every write endpoint refuses a read token, whatever the id.
    for (method, path, body) in [
        (
            reqwest::Method::POST,
            "/accounts".to_owned(),
            Some(new_account(1, "")),
        ),
        (
            reqwest::Method::PATCH,
            format!("/accounts/{id}"),
            Some(json!({"label": "x"})),
        ),
        (reqwest::Method::DELETE, format!("/accounts/{id}"), None),
        (reqwest::Method::POST, format!("/accounts/{id}/test"), None),
        (reqwest::Method::POST, format!("/accounts/{id}/check"), None),
        (
            reqwest::Method::PATCH,
            "/messages/1".to_owned(),
            Some(json!({"seen": true})),
        ),
        (reqwest::Method::DELETE, "/messages/1".to_owned(), None),
    ] {
        let (status, text) = call(method.clone(), &path, &read, body).await;
        assert_eq!(status, 403, "{method} {path}: {text}");
    }
    assert_eq!(
        call(
            reqwest::Method::GET,
            &format!("/accounts/{id}"),
            &read,
            None
        )
        .await
        .0,
        200
    );
    call(
        reqwest::Method::POST,
        &format!("/accounts/{id}/test"),
        &write,
        None,
    )
    .await;
    call(
        reqwest::Method::PATCH,
        &format!("/accounts/{id}"),
        &write,
        Some(json!({"password": "a wrong password for the log test"})),
    )
    .await;
    call(
        reqwest::Method::POST,
        &format!("/accounts/{id}/test"),
        &write,
        None,
    )
    .await;
    call(reqwest::Method::GET, "/accounts", &write, None).await;
    call(
        reqwest::Method::GET,
        "/accounts",
        "trb_not-a-real-token",
        None,
    )
    .await;
    serve.kill().await.expect("stop serve");
    let logged = std::fs::read_to_string(&log).expect("log");
    assert!(
        logged.contains("API") || logged.contains("/api/v1"),
        "the log is being written"
    );
    for secret in [
        MAILBOX_PASSWORD,
        "a wrong password for the log test",
        &write,
        &read,
        "trb_not-a-real-token",
    ] {
        assert!(!logged.contains(secret), "the log holds a secret");
        assert!(!bodies.contains(secret), "a response holds a secret");
    }
}
