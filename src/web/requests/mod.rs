//! Staff pages for requests: intake, batch entry, queue, search, detail, receipt.

use super::AppState;
use axum::Router;

/// Every staff request page.
pub fn router() -> Router<AppState> {
    Router::new()
}
