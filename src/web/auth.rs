//! Signing in and out, and changing one's own password.
//!
//! Failed sign-ins slow down per email address and per client address: a few free
//! attempts, then each further attempt must wait twice as long as the last (up to
//! [`MAX_DELAY_SECONDS`]). Counts live in PostgreSQL so every replica enforces them.

use std::net::{IpAddr, SocketAddr};

use super::form::{Form, NoFields, Posted};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::OffsetDateTime;

use super::session::{self, SignedIn};
use super::shell::{Nav, Shell};
use super::{AppState, WebError};
use crate::crypto::Secret;
use crate::i18n::Locale;
use crate::store::{self, login_failures::Failures};
use crate::users::{self, MIN_PASSWORD_CHARS, SignInRefusal, UserError};

/// Failures allowed per email address before delays start.
const FREE_FAILURES_PER_USER: i32 = 5;
/// Per client address: higher, as many people may share one (NAT, offices).
const FREE_FAILURES_PER_ADDRESS: i32 = 20;
const MAX_DELAY_SECONDS: i64 = 15 * 60;
/// A count whose last failure is older than this starts again.
const FORGET_AFTER: time::Duration = time::Duration::hours(24);

/// The client's IP address: the TCP peer's, or — when the peer is one of the operator's
/// trusted reverse proxies — the address that proxy saw (`X-Forwarded-For`).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(
            |info| client_ip(info.0.ip(), &parts.headers, &state.config.trusted_proxies),
        )))
    }
}

/// Walks `X-Forwarded-For` from the right — each entry was appended by the hop before —
/// for as long as the hop that appended it is trusted. Anything a client wrote itself sits
/// further left and is never reached, so it cannot pick its own address; an entry that is
/// not an address stops the walk at the last trusted hop.
fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer.to_canonical();
    if !is_trusted(&client) {
        return client;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("").split(','))
        .collect();
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        client = ip.to_canonical();
        if !is_trusted(&client) {
            break;
        }
    }
    client
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    locale: Locale,
    error: Option<String>,
    email: String,
    next: String,
    token: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn login_page(
    locale: Locale,
    state: &AppState,
    status: StatusCode,
    error: Option<String>,
    email: String,
    next: &str,
) -> Result<Response, WebError> {
    let (token, cookie) = session::login_form_token(state)?;
    Ok((
        status,
        [(header::SET_COOKIE, cookie)],
        LoginPage {
            locale,
            error,
            email,
            next: session::safe_return_path(next).to_owned(),
            token,
        },
    )
        .into_response())
}

pub async fn login_get(
    State(state): State<AppState>,
    signed_in: Option<SignedIn>,
    locale: Locale,
    Query(query): Query<NextQuery>,
) -> Result<Response, WebError> {
    let next = query.next.unwrap_or_else(|| "/".into());
    if signed_in.is_some() {
        return Ok(Redirect::to(session::safe_return_path(&next)).into_response());
    }
    let mut conn = state.db().await?;
    if !store::users::any_exist(&mut conn).await? {
        return Ok(Redirect::to("/setup").into_response());
    }
    login_page(locale, &state, StatusCode::OK, None, String::new(), &next)
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// Seconds until another attempt is allowed, if the key is being slowed down.
fn wait_for(failures: Option<Failures>, free: i32, now: OffsetDateTime) -> Option<i64> {
    let failures = failures?;
    if failures.failures < free || now - failures.last_failure_at > FORGET_AFTER {
        return None;
    }
    let exponent = u32::try_from(failures.failures - free).unwrap_or(0).min(20);
    let delay = 2_i64.pow(exponent).min(MAX_DELAY_SECONDS);
    let waited = (now - failures.last_failure_at).whole_seconds();
    (waited < delay).then_some(delay - waited)
}

fn keys(email: &str, client: &ClientAddr) -> (String, Option<String>) {
    (
        // Whatever was typed is counted, but PostgreSQL text cannot hold NUL.
        format!(
            "user:{}",
            email.trim().to_lowercase().replace('\0', "\u{fffd}")
        ),
        client.0.map(|ip| format!("addr:{ip}")),
    )
}

/// Seconds to wait before another sign-in for this address (and client), if any.
async fn throttled(
    conn: &mut sqlx::PgConnection,
    user_key: &str,
    addr_key: Option<&str>,
) -> Result<Option<i64>, WebError> {
    let now = OffsetDateTime::now_utc();
    let mut wait = wait_for(
        store::login_failures::get(conn, user_key).await?,
        FREE_FAILURES_PER_USER,
        now,
    );
    if let Some(addr_key) = addr_key {
        let failures = store::login_failures::get(conn, addr_key).await?;
        wait = wait.max(wait_for(failures, FREE_FAILURES_PER_ADDRESS, now));
    }
    Ok(wait)
}

pub async fn login_post(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let locale = super::locale::choose(&headers, None, None);
    if !session::login_form_token_matches(&headers, &form.token) {
        let expired = locale.t("login-expired");
        return login_page(
            locale,
            &state,
            StatusCode::FORBIDDEN,
            Some(expired),
            form.email,
            &form.next,
        );
    }
    let (user_key, addr_key) = keys(&form.email, &client);
    let mut conn = state.db().await?;
    if let Some(seconds) = throttled(&mut conn, &user_key, addr_key.as_deref()).await? {
        tracing::warn!("sign-in refused: too many failed attempts");
        let problem = locale.t1("login-throttled", "count", seconds);
        let code = StatusCode::TOO_MANY_REQUESTS;
        let mut response = login_page(locale, &state, code, Some(problem), form.email, &form.next)?;
        if let Ok(value) = header::HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return Ok(response);
    }
    let password = Secret::new(form.password);
    match users::authenticate(&mut conn, &form.email, &password).await? {
        Ok(user) => {
            store::login_failures::clear(&mut conn, &user_key).await?;
            drop(conn);
            let cookie = session::start(&state, user.id).await?;
            tracing::info!(user_id = %user.id, "signed in");
            Ok((
                [(header::SET_COOKIE, cookie)],
                Redirect::to(session::safe_return_path(&form.next)),
            )
                .into_response())
        }
        Err(refusal) => {
            for key in std::iter::once(&user_key).chain(&addr_key) {
                store::login_failures::record(&mut conn, key, FORGET_AFTER).await?;
            }
            let (status, message) = match refusal {
                SignInRefusal::WrongCredentials => {
                    (StatusCode::UNAUTHORIZED, locale.t("login-wrong"))
                }
                SignInRefusal::Disabled => (StatusCode::FORBIDDEN, locale.t("login-disabled")),
            };
            tracing::info!("sign-in failed");
            login_page(
                locale,
                &state,
                status,
                Some(message),
                form.email,
                &form.next,
            )
        }
    }
}

pub async fn logout_post(
    State(state): State<AppState>,
    Posted(signed_in, NoFields {}): Posted<NoFields>,
) -> Result<Response, WebError> {
    let cookie = session::end(&state, &signed_in).await?;
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "password.html")]
struct PasswordPage {
    locale: Locale,
    shell: Shell,
    error: Option<String>,
    done: bool,
    min_password: usize,
}

#[derive(Deserialize)]
pub struct ChangedQuery {
    changed: Option<String>,
}

pub async fn password_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(query): Query<ChangedQuery>,
) -> Result<Response, WebError> {
    let shell = Shell::load(&state, &signed_in, Nav::Settings, "").await?;
    Ok(PasswordPage {
        locale: signed_in.locale.clone(),
        shell,
        error: None,
        done: query.changed.is_some(),
        min_password: MIN_PASSWORD_CHARS,
    }
    .into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: String,
    password: String,
    password_confirm: String,
}

pub async fn password_post(
    State(state): State<AppState>,
    Posted(signed_in, form): Posted<PasswordForm>,
) -> Result<Response, WebError> {
    let current = Secret::new(form.current);
    let password = Secret::new(form.password);
    let confirm = Secret::new(form.password_confirm);
    let mut conn = state.db().await?;
    let error = if password != confirm {
        Some(signed_in.locale.t("password-differ"))
    } else if users::authenticate(&mut conn, &signed_in.email, &current)
        .await?
        .is_err()
    {
        Some(signed_in.locale.t("password-wrong"))
    } else {
        match users::set_password(&mut conn, signed_in.user_id, &password).await {
            Ok(()) => None,
            Err(e @ UserError::WeakPassword(_)) => Some(signed_in.locale.sentence(&e.text())),
            Err(e) => return Err(e.into()),
        }
    };
    drop(conn);
    match error {
        None => {
            // The change signed the user out everywhere, this session too: start a new one.
            let cookie = session::start(&state, signed_in.user_id).await?;
            Ok((
                [(header::SET_COOKIE, cookie)],
                Redirect::to("/settings/password?changed=1"),
            )
                .into_response())
        }
        Some(error) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            PasswordPage {
                locale: signed_in.locale.clone(),
                shell: Shell::load(&state, &signed_in, Nav::Settings, "").await?,
                error: Some(error),
                done: false,
                min_password: MIN_PASSWORD_CHARS,
            },
        )
            .into_response()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn delays_grow_after_the_free_attempts() {
        let now = datetime!(2026-11-28 12:00 UTC);
        let at = |failures, seconds_ago| {
            Some(Failures {
                failures,
                last_failure_at: now - time::Duration::seconds(seconds_ago),
            })
        };
        assert_eq!(wait_for(None, 5, now), None);
        assert_eq!(wait_for(at(4, 0), 5, now), None);
        assert_eq!(wait_for(at(5, 0), 5, now), Some(1));
        assert_eq!(wait_for(at(8, 3), 5, now), Some(5));
        assert_eq!(wait_for(at(8, 8), 5, now), None);
        assert_eq!(wait_for(at(40, 0), 5, now), Some(MAX_DELAY_SECONDS));
        assert_eq!(wait_for(at(40, 90_000), 5, now), None);
    }

    #[test]
    fn the_client_address_comes_through_trusted_proxies_only() {
        let ip = |text: &str| text.parse::<IpAddr>().expect("address");
        let trusted: Vec<ipnet::IpNet> = ["10.0.0.0/8", "::1/128"]
            .iter()
            .map(|n| n.parse().expect("range"))
            .collect();
        let headers = |values: &[&str]| {
            let mut map = HeaderMap::new();
            for value in values {
                map.append("x-forwarded-for", value.parse().expect("header"));
            }
            map
        };
        let client = |peer: &str, values: &[&str]| client_ip(ip(peer), &headers(values), &trusted);
        // Not from a proxy: the header is whatever the client wants it to be, so ignored.
        assert_eq!(client("198.51.100.9", &["203.0.113.7"]), ip("198.51.100.9"));
        // From a proxy: the address it appended; what the client wrote before is not used.
        assert_eq!(client("10.1.2.3", &["203.0.113.7"]), ip("203.0.113.7"));
        assert_eq!(
            client("10.1.2.3", &["6.6.6.6, 203.0.113.7"]),
            ip("203.0.113.7")
        );
        // Through two proxies, as one header or two.
        assert_eq!(
            client("10.1.2.3", &["6.6.6.6, 203.0.113.7, 10.9.9.9"]),
            ip("203.0.113.7")
        );
        assert_eq!(
            client("10.1.2.3", &["6.6.6.6, 203.0.113.7", "10.9.9.9"]),
            ip("203.0.113.7")
        );
        // IPv6, and IPv4 seen through an IPv6 socket.
        assert_eq!(client("::1", &["2001:db8::5"]), ip("2001:db8::5"));
        assert_eq!(client("::ffff:10.0.0.1", &["192.0.2.1"]), ip("192.0.2.1"));
        // Garbage or no header: the proxy itself, never a made-up address.
        assert_eq!(client("10.1.2.3", &["unknown"]), ip("10.1.2.3"));
        assert_eq!(
            client("10.1.2.3", &["203.0.113.7, nonsense"]),
            ip("10.1.2.3")
        );
        assert_eq!(client("10.1.2.3", &[]), ip("10.1.2.3"));
        assert_eq!(
            client_ip(ip("10.1.2.3"), &headers(&["203.0.113.7"]), &[]),
            ip("10.1.2.3"),
            "no proxy is trusted unless the operator says so"
        );
    }
}
