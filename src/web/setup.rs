//! First run: while no user exists, `/` leads to `/setup`, where whoever can read the
//! server's log (it prints a one-time setup code) creates the administrator. A stranger
//! who finds a freshly exposed instance cannot claim it without that code.

use super::form::Form;
use crate::i18n::Locale;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{AppState, WebError};
use crate::crypto::Secret;
use crate::users::{self, MIN_PASSWORD_CHARS, UserError};

#[derive(Template, WebTemplate)]
#[template(path = "setup.html")]
struct SetupPage {
    locale: Locale,
    error: Option<String>,
    email: String,
    min_password: usize,
}

/// 404 once set-up is over, so the page does not even reveal that it existed.
async fn setup_is_open(state: &AppState) -> Result<bool, WebError> {
    if !state.setup.is_open() {
        return Ok(false);
    }
    let mut conn = state.db().await?;
    if crate::store::users::any_exist(&mut conn).await? {
        // Someone used the CLI (or another replica) meanwhile.
        state.setup.close();
        return Ok(false);
    }
    Ok(true)
}

pub async fn setup_get(
    State(state): State<AppState>,
    locale: Locale,
) -> Result<Response, WebError> {
    if !setup_is_open(&state).await? {
        return Err(WebError::NotFound);
    }
    Ok(SetupPage {
        locale,
        error: None,
        email: String::new(),
        min_password: MIN_PASSWORD_CHARS,
    }
    .into_response())
}

#[derive(Deserialize)]
pub struct SetupForm {
    code: String,
    email: String,
    password: String,
    password_confirm: String,
}

pub async fn setup_post(
    State(state): State<AppState>,
    locale: Locale,
    Form(form): Form<SetupForm>,
) -> Result<Response, WebError> {
    if !setup_is_open(&state).await? {
        return Err(WebError::NotFound);
    }
    let password = Secret::new(form.password);
    let confirm = Secret::new(form.password_confirm);
    let again = |status: StatusCode, error: String| {
        Ok((
            status,
            SetupPage {
                locale: locale.clone(),
                error: Some(error),
                email: form.email.clone(),
                min_password: MIN_PASSWORD_CHARS,
            },
        )
            .into_response())
    };
    if !state.setup.accepts(&form.code) {
        tracing::warn!("set-up attempt with a wrong setup code");
        return again(StatusCode::FORBIDDEN, locale.t("setup-wrong-code"));
    }
    if password != confirm {
        return again(StatusCode::UNPROCESSABLE_ENTITY, locale.t("setup-differ"));
    }
    let mut conn = state.db().await?;
    match users::create_first_admin(&mut conn, &form.email, &password).await {
        Ok(Some(user)) => {
            state.setup.close();
            tracing::info!(user_id = %user.id, "administrator created through /setup");
            drop(conn);
            // Straight in: whoever just chose the password need not type it again.
            let cookie = super::session::start(&state, user.id).await?;
            Ok((
                [(axum::http::header::SET_COOKIE, cookie)],
                Redirect::to("/"),
            )
                .into_response())
        }
        Ok(None) => {
            state.setup.close();
            Err(WebError::NotFound)
        }
        Err(e @ (UserError::InvalidEmail(_) | UserError::WeakPassword(_))) => {
            again(StatusCode::UNPROCESSABLE_ENTITY, locale.sentence(&e.text()))
        }
        Err(e) => Err(e.into()),
    }
}
