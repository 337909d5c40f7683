//! The one place where errors become HTTP responses (STYLE principle 6). Bodies say
//! nothing internal; the real error goes to the log with the request's span.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::store::StoreError;
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
    #[error("a system resource (randomness) is unavailable")]
    Unavailable,
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

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    title: &'static str,
    message: &'static str,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing at this address.",
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
            Self::Csrf => {
                tracing::warn!("form refused: CSRF token missing or wrong");
                (
                    StatusCode::FORBIDDEN,
                    "This form has expired",
                    "The form was sent from an old page or from another site, so nothing was \
                     changed. Go back, reload the page and try again.",
                )
            }
            Self::BadRequest(what) => (StatusCode::BAD_REQUEST, "Bad request", *what),
            Self::Unavailable | Self::Store(_) | Self::User(_) => {
                tracing::error!(error = %self, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The server could not finish this request. It has been logged; please try again.",
                )
            }
        };
        (status, ErrorPage { title, message }).into_response()
    }
}
