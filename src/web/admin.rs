//! The administrator's page: create, disable and re-enable users, reset their passwords.
//! Everyone else gets a 404 here, as if the page did not exist.

use super::form::Posted;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::session::SignedIn;
use super::shell::{Nav, Shell};
use super::{AppState, WebError};
use crate::crypto::Secret;
use crate::store;
use crate::users::{self, MIN_PASSWORD_CHARS, UserError};

#[derive(Debug)]
struct UserRow {
    id: Uuid,
    email: String,
    is_admin: bool,
    disabled: bool,
    created: String,
    is_me: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_users.html")]
struct UsersPage {
    locale: crate::i18n::Locale,
    shell: Shell,
    users: Vec<UserRow>,
    error: Option<String>,
    notice: Option<String>,
    email: String,
    min_password: usize,
}

fn require_admin(signed_in: &SignedIn) -> Result<(), WebError> {
    if signed_in.is_admin {
        Ok(())
    } else {
        Err(WebError::NotFound)
    }
}

async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
    email: String,
) -> Result<Response, WebError> {
    let shell = Shell::load(state, signed_in, Nav::Admin, "").await?;
    let mut conn = state.db().await?;
    let users = store::users::list(&mut conn)
        .await?
        .into_iter()
        .map(|user| UserRow {
            is_me: user.id == signed_in.user_id,
            id: user.id,
            email: user.email,
            is_admin: user.is_admin,
            disabled: user.disabled_at.is_some(),
            created: signed_in.locale.full_date(user.created_at),
        })
        .collect();
    Ok((
        status,
        UsersPage {
            locale: signed_in.locale.clone(),
            shell,
            users,
            error,
            notice,
            email,
            min_password: MIN_PASSWORD_CHARS,
        },
    )
        .into_response())
}

pub async fn users_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    require_admin(&signed_in)?;
    page(
        &state,
        &signed_in,
        StatusCode::OK,
        None,
        None,
        String::new(),
    )
    .await
}

#[derive(Deserialize)]
pub struct CreateForm {
    email: String,
    password: String,
    #[serde(default)]
    is_admin: Option<String>,
}

pub async fn user_create_post(
    State(state): State<AppState>,
    Posted(signed_in, form): Posted<CreateForm>,
) -> Result<Response, WebError> {
    require_admin(&signed_in)?;
    let password = Secret::new(form.password);
    let mut conn = state.db().await?;
    match users::create(&mut conn, &form.email, &password, form.is_admin.is_some()).await {
        Ok(user) => {
            tracing::info!(user_id = %user.id, by = %signed_in.user_id, "user created");
            Ok(Redirect::to("/admin/users").into_response())
        }
        Err(
            e @ (UserError::InvalidEmail(_) | UserError::WeakPassword(_) | UserError::EmailTaken),
        ) => {
            drop(conn);
            let locale = &signed_in.locale;
            let message = locale.t1("admin-create-failed", "problem", locale.say(&e.text()));
            page(
                &state,
                &signed_in,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(message),
                None,
                form.email,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct UserActionForm {
    action: String,
    #[serde(default)]
    password: String,
}

pub async fn user_action_post(
    State(state): State<AppState>,
    Path(user_id): Path<Uuid>,
    Posted(signed_in, form): Posted<UserActionForm>,
) -> Result<Response, WebError> {
    require_admin(&signed_in)?;
    let mut conn = state.db().await?;
    let user = store::users::get(&mut conn, user_id)
        .await?
        .ok_or(WebError::NotFound)?;
    let done = apply(&mut conn, &signed_in, &user, form).await?;
    drop(conn);
    match done {
        Ok(notice) => page(
            &state,
            &signed_in,
            StatusCode::OK,
            None,
            Some(notice),
            String::new(),
        ),
        Err(problem) => {
            let code = StatusCode::UNPROCESSABLE_ENTITY;
            page(&state, &signed_in, code, Some(problem), None, String::new())
        }
    }
    .await
}

/// Carries out an administrator's action on `user`: what happened, or why it could not.
async fn apply(
    conn: &mut sqlx::PgConnection,
    signed_in: &SignedIn,
    user: &store::users::User,
    form: UserActionForm,
) -> Result<Result<String, String>, WebError> {
    let notice = match form.action.as_str() {
        "disable" if user.id == signed_in.user_id => {
            return Ok(Err(signed_in.locale.t("admin-disable-self")));
        }
        "disable" => {
            store::users::set_disabled(conn, user.id, true).await?;
            signed_in
                .locale
                .t1("admin-user-disabled", "email", &user.email)
        }
        "enable" => {
            store::users::set_disabled(conn, user.id, false).await?;
            signed_in
                .locale
                .t1("admin-user-enabled", "email", &user.email)
        }
        "reset" => match users::set_password(conn, user.id, &Secret::new(form.password)).await {
            Ok(()) => signed_in
                .locale
                .t1("admin-password-reset", "email", &user.email),
            Err(e @ UserError::WeakPassword(_)) => {
                let locale = &signed_in.locale;
                let problem = locale.say(&e.text());
                return Ok(Err(locale.t1("admin-reset-failed", "problem", problem)));
            }
            Err(e) => return Err(e.into()),
        },
        _ => return Err(WebError::BadRequest("unknown action")),
    };
    tracing::info!(user_id = %user.id, by = %signed_in.user_id, action = %form.action, "user changed by an administrator");
    Ok(Ok(notice))
}
