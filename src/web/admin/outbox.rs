//! The outbox page: message counts, the latest messages, requeueing dead ones.

use crate::db::{self, outbox::Counts, outbox::Entry};
use crate::web::AppState;
use crate::web::auth::Staff;
use crate::web::error::PageError;
use crate::web::form::StaffForm;
use crate::web::page::PageCtx;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

/// `/admin/outbox`, `/admin/outbox/{id}/retry`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/outbox", get(index))
        .route("/admin/outbox/{id}/retry", post(retry))
}

#[derive(Template)]
#[template(path = "admin/outbox.html")]
struct OutboxPage {
    ctx: PageCtx,
    counts: Counts,
    entries: Vec<Entry>,
    smtp_configured: bool,
}

async fn index(State(state): State<AppState>, staff: Staff) -> Result<Html<String>, PageError> {
    staff.require_admin()?;
    let page = OutboxPage {
        ctx: staff.ctx(),
        counts: db::outbox::counts(state.db()).await?,
        entries: db::outbox::latest(state.db(), 100).await?,
        smtp_configured: state.config().smtp_url.is_some(),
    };
    Ok(Html(page.render()?))
}

#[derive(serde::Deserialize)]
struct Empty {}

async fn retry(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    StaffForm { staff, form }: StaffForm<Empty>,
) -> Result<Response, PageError> {
    let Empty {} = form;
    staff.require_admin()?;
    db::outbox::retry(state.db(), id, chrono::Utc::now()).await?;
    tracing::info!(outbox_id = id, by = staff.user.id, "dead message requeued");
    Ok(Redirect::to("/admin/outbox").into_response())
}
