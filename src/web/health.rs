//! `/healthz`: 200 while the database answers, 503 otherwise. Used by the Docker
//! HEALTHCHECK (through `tributary healthcheck`) and by load balancers.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
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
pub async fn metrics_get(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    let lag = tokio::time::timeout(
        DATABASE_PING_TIMEOUT,
        crate::store::fetch::due_unclaimed(&state.pool),
    )
    .await
    .ok()
    .and_then(Result::ok);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.fetcher.metrics.render(lag),
    )
}
