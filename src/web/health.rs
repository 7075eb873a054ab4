//! Liveness and readiness.

use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

/// `/healthz` and `/readyz`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let backend = crate::db::backend_name(state.db());
    if crate::db::ping(state.db()).await {
        let outbox = crate::db::outbox::counts(state.db())
            .await
            .map(|c| json!({"queued": c.queued, "sending": c.sending, "dead": c.dead}))
            .unwrap_or(serde_json::Value::Null);
        (
            StatusCode::OK,
            Json(json!({"status": "ready", "database": backend, "outbox": outbox})),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "database": backend})),
        )
    }
}
