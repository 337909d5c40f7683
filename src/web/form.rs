//! Form bodies: axum's `Form`, but a malformed or incomplete form gets our error page
//! (400, in words) instead of the framework's plain-text rejection.

use axum::extract::{FromRequest, FromRequestParts, Request};
use serde::de::DeserializeOwned;

use super::session::SignedIn;
use super::{AppState, WebError};

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
                Err(WebError::BadRequest("bad-request-form-incomplete"))
            }
        }
    }
}

/// A form posted by a signed-in person, its CSRF token checked: the extractor for every
/// state-changing form, so no handler can forget the check. `T` holds the form's other
/// fields (strings). Refuses in the order a person meets them: not signed in (to the
/// sign-in page), a malformed form (400), a wrong token (403).
#[derive(Debug, Clone)]
pub struct Posted<T>(pub SignedIn, pub T);

/// A form with nothing but its CSRF token (sign out, revoke).
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct NoFields {}

#[derive(serde::Deserialize)]
struct WithCsrf<T> {
    csrf: String,
    #[serde(flatten)]
    fields: T,
}

impl<T> FromRequest<AppState> for Posted<T>
where
    T: DeserializeOwned + Send,
{
    type Rejection = WebError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, WebError> {
        let (mut parts, body) = request.into_parts();
        let signed_in = SignedIn::from_request_parts(&mut parts, state).await?;
        let request = Request::from_parts(parts, body);
        let Form(form) = Form::<WithCsrf<T>>::from_request(request, state).await?;
        signed_in.check_csrf(&form.csrf)?;
        Ok(Self(signed_in, form.fields))
    }
}
