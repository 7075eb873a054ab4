//! The resident's side of the API, no login: status and rating.

use super::ApiJson;
use crate::db;
use crate::domain::Validation;
use crate::domain::request::{Rating, TrackingNo};
use crate::web::AppState;
use crate::web::error::ApiError;
use crate::web::limiter::ClientKey;
use crate::web::public::{self, LookupError, PublicView};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

/// Public request routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/public/requests/{tracking_no}", get(show))
        .route("/public/requests/{tracking_no}/rating", post(rate))
}

impl From<LookupError> for ApiError {
    fn from(e: LookupError) -> Self {
        match e {
            LookupError::NotFound => ApiError::NotFound,
            LookupError::TooMany => ApiError::TooManyRequests,
            LookupError::Db(e) => e.into(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeQuery {
    code: String,
}

/// The resident's view of a request (tracking number and access code).
#[utoipa::path(get, path = "/api/v1/public/requests/{tracking_no}", tag = "resident",
    params(("tracking_no" = String, Path), ("code" = String, Query, description = "access code from the receipt slip")),
    responses((status = 200, body = PublicView), (status = 404, body = super::openapi::ErrorBody), (status = 429, body = super::openapi::ErrorBody)))]
async fn show(
    State(state): State<AppState>,
    client: ClientKey,
    Path(no): Path<String>,
    Query(q): Query<CodeQuery>,
) -> Result<Json<PublicView>, ApiError> {
    let r = public::find(&state, &client.lookups(), &no, &q.code).await?;
    Ok(Json(public::view(&state, &r).await?))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(default)]
pub(super) struct RatingBody {
    #[schema(required = true)]
    code: String,
    #[schema(required = true, example = "satisfied")]
    rating: String,
    comment: Option<String>,
}

/// The resident rates a done or deferred request.
#[utoipa::path(post, path = "/api/v1/public/requests/{tracking_no}/rating", tag = "resident",
    params(("tracking_no" = String, Path)), request_body = RatingBody,
    responses((status = 200, body = PublicView), (status = 400, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody), (status = 409, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody), (status = 429, body = super::openapi::ErrorBody)))]
async fn rate(
    State(state): State<AppState>,
    client: ClientKey,
    Path(no): Path<String>,
    ApiJson(b): ApiJson<RatingBody>,
) -> Result<Json<PublicView>, ApiError> {
    let r = public::find(&state, &client.lookups(), &no, &b.code).await?;
    let rating = Rating::parse(&b.rating).ok_or_else(|| Validation::one("rating", "err.choice"))?;
    let tracking = TrackingNo::parse(&r.tracking_no).ok_or(ApiError::NotFound)?;
    let rated = match db::requests::rate(
        state.db(),
        &tracking,
        &r.access_code,
        rating,
        b.comment.as_deref(),
        chrono::Utc::now(),
    )
    .await
    {
        Err(db::Error::Lifecycle(_)) => {
            return Err(ApiError::Conflict("err.rating.not_yet".into()));
        }
        other => other?,
    };
    Ok(Json(public::view(&state, &rated).await?))
}
