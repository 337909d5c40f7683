//! The API's one mapping from errors to responses: RFC 9457 `application/problem+json`
//! with stable `type` values (`/api/v1/problems/<name>`, documented in the OpenAPI text).
//! Bodies say nothing internal; the real error goes to the log.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::{ToResponse, ToSchema};

use crate::accounts::AccountError;
use crate::crypto::CryptoError;
use crate::send::compose::ComposeError;
use crate::sending::SendingError;
use crate::store::StoreError;
use crate::telemetry::FailedRequest;

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema, ToResponse)]
#[response(
    description = "An RFC 9457 problem document",
    content_type = "application/problem+json"
)]
pub struct Problem {
    /// A stable identifier of the kind of problem, e.g. `/api/v1/problems/validation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// For validation problems: the request field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or invalid bearer token")]
    Unauthorized,
    #[error("this token's scope does not allow it")]
    Forbidden,
    /// Also the answer for another user's ids: their existence is not revealed.
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{detail}")]
    Validation { field: String, detail: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("the body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("rate limit exceeded")]
    TooManyRequests { retry_after_seconds: u64 },
    #[error(transparent)]
    Store(StoreError),
    /// The key ring or the random number generator failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Work handed to a blocking thread did not come back (it panicked).
    #[error("a background task stopped: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// A response could not be built from what was stored (a header value, say).
    #[error("cannot build the response: {0}")]
    Response(String),
    /// A route's path parameters did not reach the handler (a routing mistake).
    #[error("path parameters: {0}")]
    Path(#[from] axum::extract::rejection::PathRejection),
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Invalid(invalid) => {
                Self::validation(invalid.field, invalid.problem.english())
            }
            AccountError::NotFound => Self::NotFound,
            refused @ (AccountError::Off | AccountError::Paused(_)) => {
                Self::Conflict(refused.to_string())
            }
            AccountError::Keys(error) => Self::Crypto(error),
            AccountError::Store(error) => Self::Store(error),
            AccountError::SignInRefused(words) => Self::Conflict(words.english()),
            AccountError::OAuth(crate::oauth::OAuthError::Store(error)) => Self::from(error),
            AccountError::OAuth(crate::oauth::OAuthError::Keys(error)) => Self::Crypto(error),
            AccountError::OAuth(provider) => Self::Conflict(provider.to_string()),
        }
    }
}

impl From<SendingError> for ApiError {
    fn from(error: SendingError) -> Self {
        match error {
            SendingError::Invalid(invalid) => {
                Self::validation(invalid.field, invalid.problem.english())
            }
            SendingError::Compose(compose) => {
                let field = match &compose {
                    ComposeError::NoRecipients => "to",
                    ComposeError::Address(_) => "from_address",
                    ComposeError::AttachmentName(_) | ComposeError::ContentType(_) => "attachments",
                    ComposeError::ControlCharacter(_) => "body",
                };
                Self::validation(field, compose.to_string())
            }
            SendingError::NotFound => Self::NotFound,
            refused @ SendingError::NoIdentity => Self::Conflict(refused.to_string()),
            too_large @ SendingError::TooLarge { .. } => {
                Self::validation("attachments", too_large.to_string())
            }
            SendingError::RateLimited { retry_after } => Self::TooManyRequests {
                retry_after_seconds: retry_after.as_secs().max(1),
            },
            SendingError::Keys(error) => Self::Crypto(error),
            SendingError::Store(error) => Self::Store(error),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound,
            other => Self::Store(other),
        }
    }
}

impl ApiError {
    pub fn validation(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::Validation {
            field: field.into(),
            detail: detail.into(),
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            Self::Forbidden => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            Self::NotFound => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            Self::Validation { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Invalid request",
            ),
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request", "Bad request"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            Self::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
            ),
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            Self::TooManyRequests { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
            ),
            Self::Store(_)
            | Self::Crypto(_)
            | Self::Task(_)
            | Self::Response(_)
            | Self::Path(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    pub fn problem(&self) -> Problem {
        let (status, name, title) = self.parts();
        let detail = if status.is_server_error() {
            "The server could not finish this request. It has been logged; please try again."
                .to_owned()
        } else {
            self.to_string()
        };
        Problem {
            kind: format!("/api/v1/problems/{name}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            field: match self {
                Self::Validation { field, .. } => Some(field.clone()),
                _ => None,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            )],
            body,
        )
            .into_response();
        match self {
            Self::Unauthorized => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"tributary\""),
                );
            }
            Self::TooManyRequests {
                retry_after_seconds,
            } => {
                if let Ok(value) = HeaderValue::from_str(&retry_after_seconds.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
            }
            _ => {}
        }
        if response.status().is_server_error() {
            response
                .extensions_mut()
                .insert(FailedRequest::server_fault(&self));
        }
        response
    }
}
