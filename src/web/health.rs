//! `/healthz`: 200 while the database answers, 503 otherwise. Used by the Docker
//! HEALTHCHECK (through `tributary healthcheck`) and by load balancers.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse as _;
use serde_json::{Value, json};

use super::AppState;

/// A health probe must answer quickly even when the database hangs.
const DATABASE_PING_TIMEOUT: Duration = Duration::from_secs(3);

pub async fn healthz_get(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let ping = tokio::time::timeout(DATABASE_PING_TIMEOUT, crate::store::ping(&state.pool)).await;
    match ping {
        Ok(Ok(())) => (
            StatusCode::OK,
            Json(json!({ "status": "ok", "database": "ok" })),
        ),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check: database unavailable");
            unavailable()
        }
        Err(_) => {
            tracing::warn!("health check: database did not answer in time");
            unavailable()
        }
    }
}

fn unavailable() -> (StatusCode, Json<Value>) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "unavailable", "database": "unreachable" })),
    )
}

/// Prometheus text format. Counters are this process's; the lag spans every replica.
/// Prometheus text. With `TRIBUTARY_METRICS_TOKEN` set, only for `Authorization: Bearer`
/// with that token (compared in constant time).
pub async fn metrics_get(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> axum::response::Response {
    if let Some(token) = &state.config.metrics_token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or("");
        if !crate::crypto::constant_time_eq(presented.trim().as_bytes(), token.as_bytes()) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
                "metrics need the token set in TRIBUTARY_METRICS_TOKEN\n",
            )
                .into_response();
        }
    }
    let lag = tokio::time::timeout(
        DATABASE_PING_TIMEOUT,
        crate::store::fetch::due_unclaimed(&state.pool),
    )
    .await
    .ok()
    .and_then(Result::ok);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.fetcher.metrics.render(lag),
    )
        .into_response()
}
