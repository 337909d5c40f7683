//! Form bodies: axum's `Form`, but a malformed or incomplete form gets our error page
//! (400, in words) instead of the framework's plain-text rejection.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::WebError;

#[derive(Debug, Clone, Copy, Default)]
pub struct Form<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request(request: Request, state: &S) -> Result<Self, WebError> {
        match axum::Form::<T>::from_request(request, state).await {
            Ok(axum::Form(value)) => Ok(Self(value)),
            Err(rejection) => {
                tracing::info!(%rejection, "form refused");
                Err(WebError::BadRequest(
                    "The form arrived incomplete or malformed. Go back, reload the page and try again.",
                ))
            }
        }
    }
}
