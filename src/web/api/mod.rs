//! The JSON API under `/api/v1` (DESIGN.md §5).

use super::AppState;
use super::error::ApiError;
use axum::Router;
use axum::extract::FromRequest;
use serde::Serialize;

pub mod admin;
pub mod auth;
pub mod meetings;
pub mod openapi;
pub mod public;
pub mod requests;
pub mod stats;

/// Every `/api/v1` route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(admin::router())
        .merge(requests::router())
        .merge(meetings::router())
        .merge(public::router())
        .merge(stats::router())
        .merge(openapi::router())
}

/// `Json` whose rejections answer in our error format.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// A list answer: `{"items": [...], "total": N}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct List<T> {
    /// The items.
    pub items: Vec<T>,
    /// How many there are.
    pub total: usize,
}

impl<T> From<Vec<T>> for List<T> {
    fn from(items: Vec<T>) -> Self {
        List {
            total: items.len(),
            items,
        }
    }
}
