//! Resident pages, no login: lookup, status, rating.

use super::AppState;
use axum::Router;

/// `/`, `/s/{tracking_no}`.
pub fn router() -> Router<AppState> {
    Router::new()
}
