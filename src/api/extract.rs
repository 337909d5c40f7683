//! What API handlers take from a request: the token's user (authenticated, rate-limited),
//! and JSON bodies, paths and queries whose rejections are problem documents.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::ApiError;
use crate::state::AppState;
use crate::store::api_tokens::Scope;
use crate::tokens;

/// The user a valid bearer token acts for.
#[derive(Debug, Clone)]
pub struct ApiUser {
    pub user_id: Uuid,
    pub token_id: Uuid,
    pub token_name: String,
    pub scope: Scope,
}

impl ApiUser {
    /// Refuses a read token on a call that changes something.
    pub fn require_write(&self) -> Result<(), ApiError> {
        if self.scope == Scope::Write {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or(ApiError::Unauthorized)?;
        let mut conn = state.db().await?;
        let token = tokens::authenticate(&mut conn, presented)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        state
            .api_limiter
            .check(token.id)
            .map_err(|retry_after_seconds| ApiError::TooManyRequests {
                retry_after_seconds,
            })?;
        Ok(Self {
            user_id: token.user_id,
            token_id: token.id,
            token_name: token.name,
            scope: token.scope,
        })
    }
}

/// A JSON body; malformed or mistyped JSON gets a problem document.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::UnsupportedMediaType),
            Err(JsonRejection::JsonDataError(e)) => {
                let text = e.body_text();
                let (field, detail) = data_error_field(&text);
                Err(ApiError::Validation { field, detail })
            }
            Err(JsonRejection::JsonSyntaxError(e)) => Err(ApiError::BadRequest(format!(
                "malformed JSON: {}",
                e.body_text()
            ))),
            Err(JsonRejection::BytesRejection(e))
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(ApiError::PayloadTooLarge)
            }
            Err(other) => Err(ApiError::BadRequest(other.body_text())),
        }
    }
}

/// The field a JSON data error is about, and the error without axum's preamble: serde
/// says "missing field `x`", "unknown field `x`", or (through serde_path_to_error)
/// "a.b: invalid type …".
fn data_error_field(text: &str) -> (String, String) {
    let detail = text
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(text);
    let detail = detail
        .split(" at line ")
        .next()
        .unwrap_or(detail)
        .to_owned();
    for marker in ["missing field `", "unknown field `"] {
        if let Some(rest) = detail.split(marker).nth(1)
            && let Some(field) = rest.split('`').next()
        {
            let prefix = detail.split(marker).next().unwrap_or("");
            let path = prefix.trim_end_matches(": ").trim();
            let field = if path.is_empty() || path == "." {
                field.to_owned()
            } else {
                format!("{path}.{field}")
            };
            return (field, detail.clone());
        }
    }
    match detail.split_once(": ") {
        Some((path, _)) if !path.is_empty() && !path.contains(' ') => {
            (path.to_owned(), detail.clone())
        }
        _ => ("body".to_owned(), detail),
    }
}

/// A path parameter; one that does not parse (e.g. not a UUID) is simply not found.
#[derive(Debug, Clone, Copy)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(PathRejection::FailedToDeserializePathParams(_)) => Err(ApiError::NotFound),
            Err(other) => Err(other.into()),
        }
    }
}

/// Query parameters; bad ones are a validation problem.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                Err(ApiError::validation("query", e.body_text()))
            }
            Err(other) => Err(ApiError::BadRequest(other.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_errors_name_their_field() {
        let pre = "Failed to deserialize the JSON body into the target type: ";
        assert_eq!(
            data_error_field(&format!("{pre}missing field `host` at line 1 column 161")),
            ("host".to_owned(), "missing field `host`".to_owned())
        );
        assert_eq!(
            data_error_field(&format!(
                "{pre}unknown field `surprise`, expected one of `a` at line 1 column 9"
            ))
            .0,
            "surprise"
        );
        assert_eq!(
            data_error_field(&format!(
                "{pre}seen: invalid type: string \"yes\", expected a boolean at line 1 column 14"
            ))
            .0,
            "seen"
        );
        assert_eq!(data_error_field("something else").0, "body");
    }
}
