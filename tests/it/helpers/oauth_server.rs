//! A small OAuth 2.0 authorization server on a free loopback port, scripted for the
//! tests: authorize (approves at once and sends the browser back with a code), token
//! (authorization code with PKCE S256 checked, and refresh), revoke (RFC 7009), and
//! introspect (RFC 7662), which the test Dovecot's `oauth2` passdb asks about each token.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "tributary-test-client";
pub const CLIENT_SECRET: &str = "client-secret-never-printed-5c1e";

#[derive(Debug)]
struct PendingCode {
    challenge: String,
    redirect_uri: String,
    user: String,
}

#[derive(Debug, Default)]
struct Tokens {
    codes: HashMap<String, PendingCode>,
    /// Access token → (user, valid until).
    access: HashMap<String, (String, Instant)>,
    /// Refresh token → user; removed when revoked.
    refresh: HashMap<String, String>,
    /// Every token ever issued, for the tests that look for leaks.
    issued: Vec<String>,
}

#[derive(Debug, Default)]
struct Shared {
    tokens: Mutex<Tokens>,
    /// Seconds each new access token lives.
    lifetime: AtomicI64,
    refreshes: AtomicUsize,
    introspections: AtomicUsize,
    counter: AtomicUsize,
}

pub struct OAuthServer {
    pub address: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl OAuthServer {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        shared.lifetime.store(3600, Ordering::SeqCst);
        let router = Router::new()
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/revoke", post(revoke))
            .route("/introspect", post(introspect))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            address,
            shared,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// The settings that make Tributary use this server as its generic provider for
    /// addresses at `domain`.
    pub fn settings(&self, domain: &str, mechanism: &str) -> Vec<(String, String)> {
        [
            ("TRIBUTARY_OAUTH_GENERIC_NAME", "Test ID".to_owned()),
            ("TRIBUTARY_OAUTH_GENERIC_CLIENT_ID", CLIENT_ID.to_owned()),
            (
                "TRIBUTARY_OAUTH_GENERIC_CLIENT_SECRET",
                CLIENT_SECRET.to_owned(),
            ),
            (
                "TRIBUTARY_OAUTH_GENERIC_AUTHORIZE_URL",
                self.url("/authorize"),
            ),
            ("TRIBUTARY_OAUTH_GENERIC_TOKEN_URL", self.url("/token")),
            ("TRIBUTARY_OAUTH_GENERIC_REVOKE_URL", self.url("/revoke")),
            (
                "TRIBUTARY_OAUTH_GENERIC_SCOPES",
                "mail offline_access".to_owned(),
            ),
            ("TRIBUTARY_OAUTH_GENERIC_DOMAINS", domain.to_owned()),
            ("TRIBUTARY_OAUTH_GENERIC_MECHANISM", mechanism.to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// New access tokens live this long (already issued ones keep their time).
    pub fn set_lifetime(&self, seconds: i64) {
        self.shared.lifetime.store(seconds, Ordering::SeqCst);
    }

    /// Every access token issued so far stops working now.
    pub fn expire_access_tokens(&self) {
        let mut tokens = self.shared.tokens.lock().expect("lock");
        let now = Instant::now();
        for (_, until) in tokens.access.values_mut() {
            *until = now;
        }
    }

    /// The person withdrew Tributary's access at the provider: every refresh token and
    /// access token stops working.
    pub fn revoke_everything(&self) {
        let mut tokens = self.shared.tokens.lock().expect("lock");
        tokens.refresh.clear();
        tokens.access.clear();
    }

    pub fn refreshes(&self) -> usize {
        self.shared.refreshes.load(Ordering::SeqCst)
    }

    pub fn introspections(&self) -> usize {
        self.shared.introspections.load(Ordering::SeqCst)
    }

    pub fn refresh_tokens(&self) -> usize {
        self.shared.tokens.lock().expect("lock").refresh.len()
    }

    /// A grant for `user` obtained as a client would (authorize with PKCE, then the
    /// code at the token endpoint), without Tributary: (access token, refresh token).
    pub async fn grant_directly(&self, user: &str) -> (String, String) {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let verifier = "a-test-verifier-of-enough-length-0123456789abcdef";
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let redirect = "http://127.0.0.1:9/callback";
        let answer = http
            .get(self.url("/authorize"))
            .query(&[
                ("response_type", "code"),
                ("client_id", CLIENT_ID),
                ("redirect_uri", redirect),
                ("state", "direct"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("login_hint", user),
            ])
            .send()
            .await
            .expect("authorize");
        let location = answer.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned();
        let code = url::Url::parse(&location)
            .expect("url")
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .expect("code");
        let tokens: serde_json::Value = http
            .post(self.url("/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("code_verifier", verifier),
                ("redirect_uri", redirect),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
            ])
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("json");
        let text = |name: &str| tokens[name].as_str().expect("token").to_owned();
        (text("access_token"), text("refresh_token"))
    }

    /// Every token issued (access and refresh), for leak checks.
    pub fn issued(&self) -> Vec<String> {
        self.shared.tokens.lock().expect("lock").issued.clone()
    }
}

impl Drop for OAuthServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn new_token(shared: &Shared, kind: &str) -> String {
    let n = shared.counter.fetch_add(1, Ordering::SeqCst);
    let random: [u8; 18] = std::array::from_fn(|i| {
        let mut hasher = Sha256::new();
        hasher.update(format!("{kind}{n}{i}{:?}", Instant::now()));
        hasher.finalize()[0]
    });
    format!("{kind}-{}", URL_SAFE_NO_PAD.encode(random))
}

fn error(status: StatusCode, code: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": code, "error_description": "refused by the test server" })),
    )
        .into_response()
}

async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let field = |name: &str| query.get(name).cloned().unwrap_or_default();
    if field("response_type") != "code"
        || field("client_id") != CLIENT_ID
        || field("code_challenge_method") != "S256"
        || field("code_challenge").len() != 43
        || field("state").is_empty()
    {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    }
    let code = new_token(&shared, "code");
    let redirect_uri = field("redirect_uri");
    shared.tokens.lock().expect("lock").codes.insert(
        code.clone(),
        PendingCode {
            challenge: field("code_challenge"),
            redirect_uri: redirect_uri.clone(),
            user: field("login_hint"),
        },
    );
    let back = format!(
        "{redirect_uri}?code={code}&state={}",
        form_urlencoded::byte_serialize(field("state").as_bytes()).collect::<String>()
    );
    Redirect::to(&back).into_response()
}

fn issue(shared: &Shared, tokens: &mut Tokens, user: &str, refresh: Option<String>) -> Response {
    let access = new_token(shared, "access");
    let lifetime = shared.lifetime.load(Ordering::SeqCst);
    let until = Instant::now() + Duration::from_secs(u64::try_from(lifetime).unwrap_or(0));
    tokens
        .access
        .insert(access.clone(), (user.to_owned(), until));
    tokens.issued.push(access.clone());
    let refresh = refresh.unwrap_or_else(|| {
        let refresh = new_token(shared, "refresh");
        tokens.refresh.insert(refresh.clone(), user.to_owned());
        tokens.issued.push(refresh.clone());
        refresh
    });
    axum::Json(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "refresh_token": refresh,
    }))
    .into_response()
}

async fn token(
    State(shared): State<Arc<Shared>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    if field("client_id") != CLIENT_ID || field("client_secret") != CLIENT_SECRET {
        return error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let mut tokens = shared.tokens.lock().expect("lock");
    match field("grant_type").as_str() {
        "authorization_code" => {
            // A code is good once, whatever happens next.
            let Some(pending) = tokens.codes.remove(&field("code")) else {
                return error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            let challenge =
                URL_SAFE_NO_PAD.encode(Sha256::digest(field("code_verifier").as_bytes()));
            if challenge != pending.challenge || field("redirect_uri") != pending.redirect_uri {
                return error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            issue(&shared, &mut tokens, &pending.user, None)
        }
        "refresh_token" => {
            let refresh = field("refresh_token");
            let Some(user) = tokens.refresh.get(&refresh).cloned() else {
                return error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            shared.refreshes.fetch_add(1, Ordering::SeqCst);
            issue(&shared, &mut tokens, &user, Some(refresh))
        }
        _ => error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    }
}

async fn revoke(
    State(shared): State<Arc<Shared>>,
    Form(form): Form<HashMap<String, String>>,
) -> StatusCode {
    if let Some(token) = form.get("token") {
        shared.tokens.lock().expect("lock").refresh.remove(token);
    }
    StatusCode::OK
}

async fn introspect(
    State(shared): State<Arc<Shared>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    shared.introspections.fetch_add(1, Ordering::SeqCst);
    let tokens = shared.tokens.lock().expect("lock");
    let found = form
        .get("token")
        .and_then(|t| tokens.access.get(t))
        .filter(|(_, until)| *until > Instant::now());
    match found {
        Some((user, _)) => axum::Json(json!({ "active": true, "username": user })).into_response(),
        None => axum::Json(json!({ "active": false })).into_response(),
    }
}
