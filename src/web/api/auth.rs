//! `POST /api/v1/auth/token` and `GET /api/v1/me`.

use super::ApiJson;
use crate::db::sessions::{self, SessionKind};
use crate::db::users::{self, User};
use crate::web::AppState;
use crate::web::auth::{API_TOKEN_DAYS, ApiStaff};
use crate::web::error::ApiError;
use crate::web::limiter::ClientKey;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

/// Token and identity routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/token", post(token))
        .route("/me", get(me))
}

#[derive(serde::Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

async fn token(
    State(state): State<AppState>,
    client: ClientKey,
    ApiJson(c): ApiJson<Credentials>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !state.failures().allowed(&client.logins()) {
        return Err(ApiError::TooManyRequests);
    }
    let Some(user) = users::authenticate(state.db(), &c.username, &c.password).await? else {
        state.failures().fail(&client.logins());
        return Err(ApiError::Unauthorized);
    };
    let ttl = chrono::Duration::days(API_TOKEN_DAYS);
    let token = sessions::create(state.db(), user.id, SessionKind::Api, ttl).await?;
    let expires = (chrono::Utc::now() + ttl)
        .with_timezone(&crate::domain::calendar::china_offset())
        .to_rfc3339();
    tracing::info!(user_id = user.id, "api token issued");
    Ok(Json(
        json!({"token": token, "token_type": "Bearer", "expires_at": expires}),
    ))
}

async fn me(staff: ApiStaff) -> Json<User> {
    Json(staff.user)
}
