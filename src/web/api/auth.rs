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

/// Token and identity routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/token", post(token))
        .route("/me", get(me))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(super) struct Credentials {
    username: String,
    password: String,
}

/// What the token call answers.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(super) struct Token {
    token: String,
    #[schema(example = "Bearer")]
    token_type: &'static str,
    expires_at: String,
}

/// Exchanges username and password for a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = Credentials,
    responses((status = 200, body = Token), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 429, body = super::openapi::ErrorBody)))]
async fn token(
    State(state): State<AppState>,
    client: ClientKey,
    ApiJson(c): ApiJson<Credentials>,
) -> Result<Json<Token>, ApiError> {
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
    Ok(Json(Token {
        token,
        token_type: "Bearer",
        expires_at: expires,
    }))
}

/// The account the token belongs to.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = super::openapi::ErrorBody)))]
async fn me(staff: ApiStaff) -> Json<User> {
    Json(staff.user)
}
