//! Server-rendered pages: routing, the layers every response passes through, and one
//! module per page. Handlers stay thin over `store` and the domain modules.

mod accounts;
mod admin;
mod auth;
mod compose;
mod error;
mod form;
mod health;
mod inbox;
mod locale;
mod message;
pub mod session;
mod settings;
mod setup;
mod shell;
mod tokens;

use std::time::Duration;

use axum::Router;
use axum::extract::Request as AxumRequest;
use axum::http::Method;
use axum::http::{HeaderName, HeaderValue, Request, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::state::AppState;
pub use error::WebError;

/// Form posts are small; anything bigger is refused before a handler sees it.
const MAX_BODY_BYTES: usize = 64 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// No inline script or style anywhere, nothing from other origins, and nobody may frame us.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; \
     frame-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The pages, with `api` (the REST API's router) nested at `/api/v1`, behind the layers
/// every response passes (security headers, limits, request ids, tracing).
pub fn router(state: AppState, api: Router<AppState>) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .nest("/api/v1", api)
        .route("/", get(inbox::inbox_get))
        .route("/starred", get(inbox::starred_get))
        .route("/trash", get(inbox::trash_get))
        .route("/setup", get(setup::setup_get).post(setup::setup_post))
        .route("/login", get(auth::login_get).post(auth::login_post))
        .route("/logout", post(auth::logout_post))
        .route("/oauth/callback", get(accounts::oauth_callback_get))
        .route(
            "/settings/password",
            get(auth::password_get).post(auth::password_post),
        )
        .route("/accounts.css", get(shell::accounts_css_get))
        .route(
            "/settings/tokens",
            get(tokens::tokens_get).post(tokens::token_create_post),
        )
        .route(
            "/settings/tokens/{id}/revoke",
            post(tokens::token_revoke_post),
        )
        .route("/api/docs", get(api_docs_get))
        .route(
            "/settings",
            get(settings::settings_get).post(settings::settings_post),
        )
        .route("/settings/accounts", get(accounts::accounts_get))
        .route(
            "/settings/accounts/status.json",
            get(accounts::status_json_get),
        )
        .route(
            "/settings/accounts/new",
            get(accounts::new_get).post(accounts::new_post),
        )
        .route(
            "/settings/accounts/{id}",
            get(accounts::edit_get).post(accounts::edit_post),
        )
        .route(
            "/settings/accounts/{id}/sending",
            get(accounts::sending_get).post(accounts::sending_post),
        )
        .route("/settings/accounts/{id}/check", post(accounts::check_post))
        .route(
            "/settings/accounts/{id}/enabled",
            post(accounts::enabled_post),
        )
        .route(
            "/settings/accounts/{id}/remove",
            get(accounts::remove_get).post(accounts::remove_post),
        )
        .route(
            "/admin/users",
            get(admin::users_get).post(admin::user_create_post),
        )
        .route("/admin/users/{id}", post(admin::user_action_post))
        .route(
            "/compose",
            get(compose::compose_get)
                .post(compose::compose_post)
                .route_layer(axum::extract::DefaultBodyLimit::max(
                    compose::MAX_COMPOSE_BYTES,
                )),
        )
        .route("/sent", get(compose::sent_get))
        .route("/drafts", get(compose::drafts_get))
        .route("/outbox/{id}/resend", post(compose::resend_post))
        .route("/drafts/{id}/delete", post(compose::draft_delete_post))
        .route("/messages/actions", post(inbox::actions_post))
        .route("/check", post(inbox::check_all_post))
        .route("/messages/{id}", get(message::message_get))
        .route("/messages/{id}/body", get(message::body_get))
        .route("/messages/{id}/raw", get(message::raw_get))
        .route(
            "/messages/{id}/attachments/{index}",
            get(message::attachment_get),
        )
        .route("/healthz", get(health::healthz_get))
        .route("/metrics", get(health::metrics_get))
        .nest_service(
            "/static",
            tower::ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=3600"),
                ))
                .service(ServeDir::new(static_dir())),
        )
        .fallback(|| async { WebError::NotFound })
        .with_state(state)
        .layer(axum::middleware::from_fn(refuse_cross_site_posts))
        .layer(axum::middleware::from_fn(error::localized_error_pages))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        // The headers DESIGN invariant 6 and the foundation issue ask for on every response.
        // A handler that serves sandboxed mail (later) sets its own, stricter policy.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on our
        // own form posts, which the cross-site guard must be able to tell from a sandbox's.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        // Inside the trace span, so each failed request's error is logged with its id.
        .layer(axum::middleware::map_response(
            crate::telemetry::log_failed_requests,
        ))
        .layer(
            TraceLayer::new_for_http()
                // One line per request at info: method, path, status, latency, request id.
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                .make_span_with(|request: &Request<_>| {
                    let request_id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    // The path only: query strings may one day carry tokens.
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id = %request_id,
                    )
                }),
        )
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
}

/// The API reference: a page of our own that reads `/api/v1/openapi.json` (no CDN).
async fn api_docs_get() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("../../static/api.html"),
    )
        .into_response()
}

/// A second line behind the CSRF tokens: browsers say where a request comes from
/// (`Sec-Fetch-Site`, `Origin`), and a state-changing request from another site is
/// refused before any handler runs.
async fn refuse_cross_site_posts(request: AxumRequest, next: Next) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let headers = request.headers();
        let cross_site = from_another_site(headers);
        let origin_mismatch = match (
            headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
            headers.get(header::HOST).and_then(|v| v.to_str().ok()),
        ) {
            (Some("null"), _) => true,
            (Some(origin), Some(host)) => origin
                .split_once("://")
                .is_none_or(|(_, origin_host)| !origin_host.eq_ignore_ascii_case(host)),
            _ => false,
        };
        if cross_site || origin_mismatch {
            return WebError::Csrf.into_response();
        }
    }
    next.run(request).await
}

/// The browser says the request comes from another site (`Sec-Fetch-Site`); a missing
/// header (older browsers, scripts) says nothing.
pub(crate) fn from_another_site(headers: &axum::http::HeaderMap) -> bool {
    matches!(
        headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()),
        Some("cross-site" | "same-site")
    )
}

/// Static assets ship beside the binary (`/app/static` in the image); in development
/// they are read from the source tree.
fn static_dir() -> std::path::PathBuf {
    if let Ok(dir) = std::env::var("TRIBUTARY_STATIC_DIR") {
        return dir.into();
    }
    let beside_binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("static")))
        .filter(|dir| dir.is_dir());
    beside_binary.unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/static").into())
}
