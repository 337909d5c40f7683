//! Settings → API tokens: create (the token is shown once), list, revoke.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::form::{NoFields, Posted};
use super::session::SignedIn;
use super::shell::{Nav, Shell};
use super::{AppState, WebError};
use crate::store;
use crate::store::api_tokens::Scope;
use crate::tokens::{self, TokenError};

#[derive(Debug)]
struct TokenRow {
    id: Uuid,
    name: String,
    scope: String,
    created: String,
    last_used: String,
    revoked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "tokens.html")]
struct TokensPage {
    locale: crate::i18n::Locale,
    shell: Shell,
    rows: Vec<TokenRow>,
    /// Just created: shown this once.
    new_token: Option<String>,
    error: Option<String>,
}

async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    status: StatusCode,
    new_token: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let mut conn = state.db().await?;
    let shell = Shell::load_on(&mut conn, signed_in, Nav::Settings, "").await?;
    let rows = store::api_tokens::list(&mut conn, signed_in.user_id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            scope: signed_in.locale.t(match t.scope {
                Scope::Read => "scope-read",
                Scope::Write => "scope-write",
            }),
            created: signed_in.locale.full_date(t.created_at),
            last_used: t
                .last_used_at
                .map(|at| signed_in.locale.full_date(at))
                .unwrap_or_else(|| signed_in.locale.t("tokens-never")),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let mut response = (
        status,
        TokensPage {
            locale: signed_in.locale.clone(),
            shell,
            rows,
            new_token,
            error,
        },
    )
        .into_response();
    // A page holding a fresh token must not linger in caches.
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

pub async fn tokens_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    page(&state, &signed_in, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
pub struct CreateForm {
    name: String,
    scope: String,
}

pub async fn token_create_post(
    State(state): State<AppState>,
    Posted(signed_in, form): Posted<CreateForm>,
) -> Result<Response, WebError> {
    let scope = match form.scope.as_str() {
        "read" => Scope::Read,
        "write" => Scope::Write,
        _ => return Err(WebError::BadRequest("bad-request-token-scope")),
    };
    let mut conn = state.db().await?;
    match tokens::create(&mut conn, signed_in.user_id, &form.name, scope).await {
        Ok(created) => {
            drop(conn);
            tracing::info!(token_id = %created.record.id, "API token created");
            page(
                &state,
                &signed_in,
                StatusCode::OK,
                Some(created.token.expose().to_owned()),
                None,
            )
            .await
        }
        Err(e @ TokenError::InvalidName(_)) => {
            drop(conn);
            page(
                &state,
                &signed_in,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(e.to_string()),
            )
            .await
        }
        Err(TokenError::Store(e)) => Err(e.into()),
        Err(TokenError::Crypto(e)) => Err(e.into()),
        Err(TokenError::NoSuchUser) => Err(WebError::NotFound),
    }
}

pub async fn token_revoke_post(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Posted(signed_in, NoFields {}): Posted<NoFields>,
) -> Result<Response, WebError> {
    let mut conn = state.db().await?;
    store::api_tokens::revoke(&mut conn, signed_in.user_id, id).await?;
    Ok(Redirect::to("/settings/tokens").into_response())
}
