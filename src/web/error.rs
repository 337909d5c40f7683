//! The one place where errors become HTTP responses (STYLE principle 6). Bodies say
//! nothing internal; the real error goes to the log with the request's span.

use std::sync::{Arc, OnceLock};

use askama::Template;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::accounts::AccountError;
use crate::crypto::CryptoError;
use crate::i18n::{Locale, Text};
use crate::oauth::OAuthError;
use crate::sending::SendingError;
use crate::store::StoreError;
use crate::telemetry::FailedRequest;
use crate::users::UserError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Also the answer for another user's ids: their existence is not revealed.
    #[error("not found")]
    NotFound,
    #[error("sign-in required")]
    SignInRequired { next: String },
    #[error("CSRF token missing or wrong")]
    Csrf,
    /// The catalogue id of what is wrong with the request (`bad-request-…`).
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// The request cannot be done in the resource's present state (said in words).
    #[error("{0}")]
    Conflict(Text),
    /// The key ring or the random number generator failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Work handed to a blocking thread did not come back (it panicked).
    #[error("a background task stopped: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// A response could not be built from what was stored (a header value, say).
    #[error("cannot build the response: {0}")]
    Response(String),
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    User(#[from] UserError),
}

/// A row the store did not find *for this user* is a 404, whatever the handler.
impl From<StoreError> for WebError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound,
            other => Self::Store(other),
        }
    }
}

impl From<AccountError> for WebError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::NotFound => Self::NotFound,
            AccountError::Store(error) => Self::Store(error),
            AccountError::Keys(error) => Self::Crypto(error),
            // The words of the accounts page, which the person came from.
            AccountError::Paused(reason) => {
                Self::Conflict(Text::new(super::accounts::paused_id(Some(reason))))
            }
            AccountError::Off => Self::Conflict(Text::new("conflict-paused-by-you")),
            AccountError::Invalid(invalid) => Self::Conflict(invalid.text()),
            AccountError::SignInRefused(words) => Self::Conflict(words),
            AccountError::OAuth(OAuthError::Store(error)) => Self::from(error),
            AccountError::OAuth(OAuthError::Keys(error)) => Self::Crypto(error),
            AccountError::OAuth(provider) => Self::Conflict(provider.text()),
        }
    }
}

impl From<SendingError> for WebError {
    fn from(error: SendingError) -> Self {
        match error {
            SendingError::NotFound => Self::NotFound,
            SendingError::Store(error) => Self::Store(error),
            SendingError::Keys(error) => Self::Crypto(error),
            refused => Self::Conflict(refused.text()),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    locale: Locale,
    title: String,
    message: String,
}

/// An error page's words, kept on the response: the error is built without the request,
/// and [`localized_error_pages`] words it in the reader's language.
#[derive(Debug, Clone)]
struct ErrorWords {
    title: &'static str,
    message: Text,
}

impl ErrorWords {
    fn render(&self, locale: Locale) -> Result<String, askama::Error> {
        ErrorPage {
            title: locale.t(self.title),
            message: locale.sentence(&self.message),
            locale,
        }
        .render()
    }
}

/// Where the signed-in person's language and zone are left for an error page: the
/// session extractor fills it, [`localized_error_pages`] reads it after the handler.
#[derive(Debug, Clone, Default)]
pub struct LocaleSlot(Arc<OnceLock<Locale>>);

impl LocaleSlot {
    pub fn fill(&self, locale: &Locale) {
        let _ = self.0.set(locale.clone());
    }
}

/// Error pages in the reader's language: the person's settings when a session was
/// found, else the browser's.
pub async fn localized_error_pages(mut request: Request, next: Next) -> Response {
    let slot = LocaleSlot::default();
    request.extensions_mut().insert(slot.clone());
    let mut browser = HeaderMap::new();
    for name in [header::ACCEPT_LANGUAGE, header::COOKIE] {
        if let Some(value) = request.headers().get(&name) {
            browser.insert(name, value.clone());
        }
    }
    let mut response = next.run(request).await;
    if let Some(words) = response.extensions_mut().remove::<ErrorWords>() {
        let locale = slot
            .0
            .get()
            .cloned()
            .unwrap_or_else(|| super::locale::choose(&browser, None, None));
        match words.render(locale) {
            Ok(html) => {
                response.headers_mut().remove(header::CONTENT_LENGTH);
                *response.body_mut() = Body::from(html);
            }
            // The English page already in the body stays.
            Err(error) => tracing::warn!(%error, "the error page could not be worded"),
        }
    }
    response
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "error-not-found",
                Text::new("error-not-found-text"),
            ),
            Self::SignInRequired { next } => {
                let target = if next == "/" {
                    "/login".to_owned()
                } else {
                    format!(
                        "/login?next={}",
                        form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                    )
                };
                return Redirect::to(&target).into_response();
            }
            Self::Csrf => (
                StatusCode::FORBIDDEN,
                "error-form-expired",
                Text::new("error-form-expired-text"),
            ),
            Self::BadRequest(what) => (
                StatusCode::BAD_REQUEST,
                "error-bad-request",
                Text::new(what),
            ),
            Self::Conflict(what) => (StatusCode::CONFLICT, "error-conflict", what.clone()),
            Self::Crypto(_)
            | Self::Task(_)
            | Self::Response(_)
            | Self::Store(_)
            | Self::User(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "error-internal",
                Text::new("error-internal-text"),
            ),
        };
        let failed = if status.is_server_error() {
            Some(FailedRequest::server_fault(&self))
        } else if matches!(self, Self::Csrf) {
            Some(FailedRequest::refused(&self))
        } else {
            None
        };
        let words = ErrorWords { title, message };
        // English here; the layer words it again for the reader.
        let english = words.render(Locale::default()).unwrap_or_default();
        let mut response = (status, Html(english)).into_response();
        response.extensions_mut().insert(words);
        if let Some(failed) = failed {
            response.extensions_mut().insert(failed);
        }
        response
    }
}
