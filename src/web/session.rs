//! Web sign-in: the session cookie, the signed-in extractor and CSRF tokens.
//!
//! The cookie holds 32 random bytes; PostgreSQL holds only their SHA-256, so a database
//! leak hands out no live session. Sessions end after [`IDLE`] without activity and
//! after [`ABSOLUTE`] in any case. Every state-changing form carries the session's CSRF
//! token; the sign-in form, which has no session yet, carries a token that must match a
//! short-lived cookie (double submit).

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine as _;
use cookie::{Cookie, SameSite};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{AppState, WebError};
use crate::crypto;
use crate::store;

pub const SESSION_COOKIE: &str = "tributary_session";
pub const LOGIN_COOKIE: &str = "tributary_login";
/// A session unused for this long is over.
pub const IDLE: time::Duration = time::Duration::days(14);
/// No session lives longer than this, however active.
pub const ABSOLUTE: time::Duration = time::Duration::days(30);
/// Activity is written at most this often (one UPDATE per page view would be waste).
const TOUCH_EVERY: time::Duration = time::Duration::minutes(5);
/// The sign-in form's token lives this long.
const LOGIN_FORM_SECONDS: i64 = 3600;

/// 32 random bytes, URL-safe base64.
pub fn random_token() -> Result<String, WebError> {
    let bytes = crypto::random_bytes::<32>()?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The value of one cookie in the request, if present (the `cookie` crate parses the
/// header; a malformed pair is skipped, not fatal).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

/// A session-style cookie: the whole site, not for scripts, not sent cross-site.
fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let cookie = Cookie::build((name, value))
        .path("/")
        .max_age(time::Duration::seconds(max_age))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build();
    // Values are base64url or empty: always a valid header value.
    HeaderValue::from_str(&cookie.to_string())
        .unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// A signed-in person, for handlers that need one. Without a valid session the request
/// is sent to the sign-in page (and comes back afterwards).
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user_id: Uuid,
    pub email: String,
    pub is_admin: bool,
    pub csrf: String,
    /// The language and time zone the pages are shown in.
    pub locale: crate::i18n::Locale,
    /// What the person chose in Settings (empty: follow the browser).
    pub language_setting: Option<String>,
    pub time_zone_setting: Option<String>,
    /// The zone the browser's script reported, if any.
    pub browser_zone: Option<String>,
    token_hash: Vec<u8>,
}

impl SignedIn {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), WebError> {
        if crypto::constant_time_eq(self.csrf.as_bytes(), submitted.as_bytes()) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }

    pub fn token_hash(&self) -> &[u8] {
        &self.token_hash
    }
}

async fn find_session(parts: &Parts, state: &AppState) -> Result<Option<SignedIn>, WebError> {
    let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let hash = token_hash(&token);
    let mut conn = state.db().await?;
    let Some(found) = store::sessions::find(&mut conn, &hash, IDLE).await? else {
        return Ok(None);
    };
    if OffsetDateTime::now_utc() - found.last_seen_at > TOUCH_EVERY {
        store::sessions::touch(&mut conn, &hash).await?;
    }
    let browser_zone = super::locale::browser_zone(&parts.headers);
    let browser_zone_name = browser_zone.as_ref().map(|zone| zone.name().to_owned());
    let locale = super::locale::choose_with(
        &parts.headers,
        found.language.as_deref(),
        found.time_zone.as_deref(),
        browser_zone,
    );
    if let Some(slot) = parts.extensions.get::<super::error::LocaleSlot>() {
        slot.fill(&locale);
    }
    Ok(Some(SignedIn {
        user_id: found.user_id,
        email: found.email,
        is_admin: found.is_admin,
        csrf: found.csrf_token,
        locale,
        language_setting: found.language,
        time_zone_setting: found.time_zone,
        browser_zone: browser_zone_name,
        token_hash: hash,
    }))
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        match find_session(parts, state).await? {
            Some(signed_in) => Ok(signed_in),
            None => Err(WebError::SignInRequired {
                next: parts
                    .uri
                    .path_and_query()
                    .map(|pq| pq.as_str().to_owned())
                    .unwrap_or_else(|| "/".into()),
            }),
        }
    }
}

impl OptionalFromRequestParts<AppState> for SignedIn {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, WebError> {
        find_session(parts, state).await
    }
}

/// Starts a session for a user; returns the `Set-Cookie` value.
pub async fn start(state: &AppState, user_id: Uuid) -> Result<HeaderValue, WebError> {
    let token = random_token()?;
    let csrf = random_token()?;
    let mut conn = state.db().await?;
    // A good moment to forget sessions nobody can use any more.
    store::sessions::delete_expired(&mut conn, IDLE).await?;
    store::sessions::create(
        &mut conn,
        &token_hash(&token),
        user_id,
        &csrf,
        OffsetDateTime::now_utc() + ABSOLUTE,
    )
    .await?;
    Ok(set_cookie(
        SESSION_COOKIE,
        &token,
        ABSOLUTE.whole_seconds(),
        state.config.secure_cookies(),
    ))
}

/// Ends the session; returns the `Set-Cookie` value that clears the cookie.
pub async fn end(state: &AppState, signed_in: &SignedIn) -> Result<HeaderValue, WebError> {
    let mut conn = state.db().await?;
    store::sessions::delete(&mut conn, &signed_in.token_hash).await?;
    Ok(set_cookie(
        SESSION_COOKIE,
        "",
        0,
        state.config.secure_cookies(),
    ))
}

/// A fresh token for the sign-in form and the cookie it must match.
pub fn login_form_token(state: &AppState) -> Result<(String, HeaderValue), WebError> {
    let token = random_token()?;
    let cookie = set_cookie(
        LOGIN_COOKIE,
        &token,
        LOGIN_FORM_SECONDS,
        state.config.secure_cookies(),
    );
    Ok((token, cookie))
}

/// Whether the sign-in form's token matches its cookie.
pub fn login_form_token_matches(headers: &HeaderMap, submitted: &str) -> bool {
    cookie(headers, LOGIN_COOKIE).is_some_and(|expected| {
        !expected.is_empty() && crypto::constant_time_eq(expected.as_bytes(), submitted.as_bytes())
    })
}

/// Only local paths may be returned to after signing in (no open redirect).
pub fn safe_return_path(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control());
    if local { next } else { "/" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; tributary_session_x=2; tributary_session=abc"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, "b"), None);
    }

    #[test]
    fn cookies_are_set_for_the_whole_site_and_not_for_scripts() {
        let set = set_cookie(SESSION_COOKIE, "abc", 60, true);
        let text = set.to_str().expect("text");
        for part in [
            "tributary_session=abc",
            "Path=/",
            "Max-Age=60",
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
        let plain = set_cookie(SESSION_COOKIE, "", 0, false);
        assert!(!plain.to_str().expect("text").contains("Secure"));
    }

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(safe_return_path("/messages/5?x=1"), "/messages/5?x=1");
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "",
            "x",
        ] {
            assert_eq!(safe_return_path(bad), "/", "{bad}");
        }
    }
}
