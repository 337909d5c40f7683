//! A cookie-keeping HTTP client for the pages, and ways to put mail in front of it.

use std::collections::HashMap;

use tributary::store::messages::{self, NewMessage};
use uuid::Uuid;

use super::{TestApp, TestDb};

pub const USER_PASSWORD: &str = "a long test password";

/// One person's browser session, at the HTTP level: keeps cookies, follows no redirects.
pub struct WebClient {
    base: String,
    http: reqwest::Client,
    pub cookies: HashMap<String, String>,
    /// The CSRF token from the last page that had a form.
    pub csrf: String,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
    pub bytes: Vec<u8>,
}

/// The `value` of the first tag in a page with `name="…"` (attributes in any order).
pub fn field_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..tag_start + html[tag_start..].find('>')?];
    let start = tag.find(" value=\"")? + " value=\"".len();
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].to_owned())
}

impl WebClient {
    /// Polls a page until it contains `needle` (the scheduler works in the background).
    pub async fn wait_for(&mut self, path: &str, needle: &str) -> String {
        for _ in 0..100 {
            let page = self.get(path).await;
            if page.body.contains(needle) {
                return page.body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        panic!(
            "{path} never showed {needle:?}: {}",
            self.get(path).await.body
        );
    }

    pub fn new(app: &TestApp) -> Self {
        Self {
            base: app.url(""),
            http: app.http.clone(),
            cookies: HashMap::new(),
            csrf: String::new(),
        }
    }

    /// Signs in with the email and password; panics unless that works.
    pub async fn signed_in(app: &TestApp, email: &str, password: &str) -> Self {
        let mut client = Self::new(app);
        let page = client.sign_in(email, password).await;
        assert_eq!(page.status, 303, "sign-in failed: {}", page.body);
        let inbox = client.get("/").await;
        assert_eq!(inbox.status, 200, "{}", inbox.body);
        client
    }

    /// Loads the sign-in form and submits it.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        self.sign_in_with(email, password, &[]).await
    }

    /// [`WebClient::sign_in`], the form posted with extra headers (a proxy's, say).
    pub async fn sign_in_with(
        &mut self,
        email: &str,
        password: &str,
        headers: &[(&str, &str)],
    ) -> Page {
        let form = self.get("/login").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let token = field_value(&form.body, "token").expect("sign-in token");
        self.post_with(
            "/login",
            &[
                ("token", &token),
                ("email", email),
                ("password", password),
                ("next", "/"),
            ],
            headers,
        )
        .await
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, response: reqwest::Response) -> Page {
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().expect("cookie");
            let pair = text.split(';').next().expect("pair");
            let (name, value) = pair.split_once('=').expect("name=value");
            if value.is_empty() || text.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let location = headers
            .get("location")
            .map(|l| l.to_str().expect("location").to_owned());
        let bytes = response.bytes().await.expect("body").to_vec();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(csrf) = field_value(&body, "csrf") {
            self.csrf = csrf;
        }
        Page {
            status,
            location,
            headers,
            body,
            bytes,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        self.get_with(path, &[]).await
    }

    pub async fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut request = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("GET");
        self.finish(response).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_with(path, form, &[]).await
    }

    pub async fn post_with(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(form);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("POST");
        self.finish(response).await
    }

    /// Posts a form with this session's CSRF token added.
    pub async fn submit(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let csrf = self.csrf.clone();
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend_from_slice(form);
        self.post(path, &fields).await
    }
}

/// Stores a message for an account as the fetch engine would; returns its id.
pub async fn deliver(db: &TestDb, user_id: Uuid, account_id: Uuid, uidl: &str, raw: &[u8]) -> i64 {
    deliver_at(
        db,
        user_id,
        account_id,
        uidl,
        raw,
        time::OffsetDateTime::now_utc(),
    )
    .await
}

pub async fn deliver_at(
    db: &TestDb,
    user_id: Uuid,
    account_id: Uuid,
    uidl: &str,
    raw: &[u8],
    at: time::OffsetDateTime,
) -> i64 {
    let mut conn = db.pool.acquire().await.expect("connection");
    let message = NewMessage {
        uidl: uidl.to_owned(),
        raw: raw.to_vec(),
        fields: tributary::mail::fields::parse(raw),
    };
    assert!(
        messages::insert(
            &mut conn,
            user_id,
            account_id,
            at,
            &message,
            messages::Origin::Fetched
        )
        .await
        .expect("insert")
    );
    sqlx::query_scalar("SELECT id FROM messages WHERE account_id = $1 AND uidl = $2")
        .bind(account_id)
        .bind(uidl)
        .fetch_one(&db.pool)
        .await
        .expect("id")
}

/// A simple text message with a Date header.
pub fn text_message(from: &str, subject: &str, body: &str, date: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: ann@example.org\r\nSubject: {subject}\r\nDate: {date}\r\n\
         Message-ID: <{}@example.org>\r\n\r\n{body}\r\n",
        Uuid::new_v4()
    )
    .into_bytes()
}
