//! REST API v1 (`/api/v1`): account management and mailbox access for scripts, with
//! personal bearer tokens (`read` or `write` scope), RFC 9457 problem documents for every
//! error, and an OpenAPI 3.1 document generated from these handlers' annotations
//! (`/api/v1/openapi.json`; a readable reference at `/api/docs`).
//!
//! Handlers are thin over `store` and `fetch`; every query is scoped by the token's user,
//! so another user's ids are simply not found (DESIGN invariant 5).

mod accounts;
mod error;
mod extract;
mod messages;
mod sending;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub use error::{ApiError, Problem};
use extract::ApiUser;

use crate::state::AppState;
use crate::store;
use crate::store::api_tokens::Scope;

/// Request bodies larger than this are refused with 413 (a custom CA is at most 64 KB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tributary API",
        version = "1",
        description = "Manage the POP3 accounts Tributary fetches and read the mail it stored. \
            Authenticate with a personal token: `Authorization: Bearer trb_…` (create one under \
            Settings → API tokens, or `tributary token create`). `read` tokens may only read. \
            Errors are RFC 9457 problem documents (`application/problem+json`) whose `type` is \
            one of `/api/v1/problems/{unauthorized, forbidden, not-found, method-not-allowed, \
            validation, bad-request, conflict, payload-too-large, unsupported-media-type, \
            rate-limited, internal}`; validation problems name the `field`. Requests are limited \
            per token (429 with Retry-After)."
    ),
    servers((url = "/api/v1")),
    components(responses(Problem)),
    modifiers(&BearerAuth),
    tags((name = "me"), (name = "accounts"), (name = "messages"), (name = "sending"))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The token's owner.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeJson {
    pub id: Uuid,
    pub email: String,
    pub is_admin: bool,
    pub token: TokenJson,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenJson {
    pub id: Uuid,
    pub name: String,
    /// `read` or `write`.
    pub scope: String,
}

/// Who the token acts for.
#[utoipa::path(get, path = "/me", tag = "me",
    responses((status = 200, body = MeJson), (status = 401, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
async fn me_get(State(state): State<AppState>, user: ApiUser) -> Result<Json<MeJson>, ApiError> {
    let mut conn = state.db().await?;
    let me = store::users::get(&mut conn, user.user_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok(Json(MeJson {
        id: me.id,
        email: me.email,
        is_admin: me.is_admin,
        token: TokenJson {
            id: user.token_id,
            name: user.token_name,
            scope: match user.scope {
                Scope::Read => "read",
                Scope::Write => "write",
            }
            .into(),
        },
    }))
}

/// The API's routes (to nest at `/api/v1`) and its OpenAPI document, both from the same
/// annotated handlers.
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(me_get))
        .routes(routes!(accounts::accounts_get, accounts::accounts_post))
        .routes(routes!(
            accounts::account_get,
            accounts::account_patch,
            accounts::account_delete
        ))
        .routes(routes!(accounts::accounts_sign_in_post))
        .routes(routes!(accounts::account_sign_in_post))
        .routes(routes!(accounts::account_test_post))
        .routes(routes!(accounts::account_check_post))
        .routes(routes!(accounts::account_runs_get))
        .routes(routes!(accounts::autodetect_post))
        .routes(routes!(accounts::autodetect_smtp_post))
        .routes(routes!(messages::messages_get))
        .routes(routes!(
            messages::message_get,
            messages::message_patch,
            messages::message_delete
        ))
        .routes(routes!(messages::message_raw_get))
        .routes(routes!(messages::attachment_get))
        .routes(routes!(
            sending::identity_get,
            sending::identity_put,
            sending::identity_delete
        ))
        .routes(routes!(sending::identity_test_post))
        .routes(routes!(sending::identity_try_post))
        .merge(
            // Messages carry attachments: a larger body limit than the rest.
            OpenApiRouter::new()
                .routes(routes!(sending::messages_post))
                .routes(routes!(
                    sending::draft_get,
                    sending::draft_patch,
                    sending::draft_delete
                ))
                .layer(axum::extract::DefaultBodyLimit::max(
                    sending::MAX_MESSAGE_BODY_BYTES,
                )),
        )
        .routes(routes!(sending::outbox_get))
        .routes(routes!(sending::outbox_resend_post))
        .routes(routes!(sending::drafts_get))
        .split_for_parts();
    let document = Arc::new(openapi.clone());
    let router = router
        .route(
            "/openapi.json",
            get(move || {
                let document = Arc::clone(&document);
                async move { Json((*document).clone()) }
            }),
        )
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES));
    (router, openapi)
}
