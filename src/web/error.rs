//! The one place where errors become HTTP responses (STYLE principle 6). Bodies say
//! nothing internal; the real error goes to the log with the request's span.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::accounts::AccountError;
use crate::crypto::CryptoError;
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
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// The request cannot be done in the resource's present state (said in words).
    #[error("{0}")]
    Conflict(String),
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
            AccountError::Paused(reason) => Self::Conflict(super::accounts::paused_text(
                &crate::i18n::Locale::default(),
                Some(reason),
            )),
            AccountError::Off => {
                Self::Conflict("Paused by you — resume the account to check it".into())
            }
            refused @ AccountError::Invalid(_) => Self::Conflict(refused.to_string()),
            AccountError::SignInRefused(words) => Self::Conflict(words.into()),
            AccountError::OAuth(OAuthError::Store(error)) => Self::from(error),
            AccountError::OAuth(OAuthError::Keys(error)) => Self::Crypto(error),
            AccountError::OAuth(provider) => {
                let mut words = provider.to_string();
                if let Some(first) = words.get(..1).map(str::to_uppercase) {
                    words.replace_range(..1, &first);
                }
                Self::Conflict(words)
            }
        }
    }
}

impl From<SendingError> for WebError {
    fn from(error: SendingError) -> Self {
        match error {
            SendingError::NotFound => Self::NotFound,
            SendingError::Store(error) => Self::Store(error),
            SendingError::Keys(error) => Self::Crypto(error),
            refused => Self::Conflict(refused.to_string()),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    /// Errors are answered without the request at hand: in English for now (their texts
    /// come from the layers below, which do not speak French yet).
    locale: crate::i18n::Locale,
    title: &'static str,
    message: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing at this address.".to_owned(),
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
                "This form has expired",
                "The form was sent from an old page or from another site, so nothing was \
                 changed. Go back, reload the page and try again."
                    .to_owned(),
            ),
            Self::BadRequest(what) => (StatusCode::BAD_REQUEST, "Bad request", (*what).to_owned()),
            Self::Conflict(what) => {
                let mut text = what.clone();
                if let Some(first) = text.get(..1) {
                    let upper = first.to_uppercase();
                    text.replace_range(..1, &upper);
                }
                (StatusCode::CONFLICT, "Not possible right now", text)
            }
            Self::Crypto(_)
            | Self::Task(_)
            | Self::Response(_)
            | Self::Store(_)
            | Self::User(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The server could not finish this request. It has been logged; please try again."
                    .to_owned(),
            ),
        };
        let failed = if status.is_server_error() {
            Some(FailedRequest::server_fault(&self))
        } else if matches!(self, Self::Csrf) {
            Some(FailedRequest::refused(&self))
        } else {
            None
        };
        let mut response = (
            status,
            ErrorPage {
                locale: crate::i18n::Locale::default(),
                title,
                message,
            },
        )
            .into_response();
        if let Some(failed) = failed {
            response.extensions_mut().insert(failed);
        }
        response
    }
}
