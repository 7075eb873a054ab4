//! `GET /api/v1/stats`: the dashboard's figures over the caller's scope.

use crate::db::{self, requests::Filter};
use crate::domain::Validation;
use crate::domain::stats::{Counts, Rates};
use crate::web::AppState;
use crate::web::api::requests::start_of;
use crate::web::auth::ApiStaff;
use crate::web::dashboard::may_view;
use crate::web::error::ApiError;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Stats routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/stats", get(show))
}

/// `?unit_id=&from=&to=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(super) struct StatsQuery {
    unit_id: Option<i32>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

/// The answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Stats {
    unit_id: i32,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    received: u64,
    done: u64,
    on_the_spot: u64,
    in_progress: u64,
    deferred: u64,
    overdue: u64,
    rates: Rates,
    counts: Counts,
}

/// Tallies and the five rates over the caller's scope (or a unit within it).
#[utoipa::path(get, path = "/api/v1/stats", tag = "stats", security(("bearer" = [])), params(StatsQuery),
    responses((status = 200, body = Stats), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
pub(super) async fn show(
    State(state): State<AppState>,
    staff: ApiStaff,
    q: Result<Query<StatsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Stats>, ApiError> {
    if !may_view(staff.user.role) {
        return Err(ApiError::Forbidden);
    }
    let Query(q) = q?;
    let tree = db::units::tree(state.db()).await?;
    let unit_id = q.unit_id.unwrap_or(staff.user.unit_id);
    if tree.kind(unit_id).is_none() {
        return Err(ApiError::NotFound);
    }
    if !tree.is_within(unit_id, staff.user.unit_id) {
        return Err(ApiError::Forbidden);
    }
    if let (Some(f), Some(t)) = (q.from, q.to)
        && t < f
    {
        return Err(Validation::one("to", "req.err.date_order").into());
    }
    let f = Filter {
        scope: Some(tree.subtree(unit_id)),
        received_from: q.from.map(start_of),
        received_before: q.to.and_then(|d| d.succ_opt()).map(start_of),
        ..Default::default()
    };
    let s = db::stats::summary(state.db(), &f, &tree, chrono::Utc::now()).await?;
    Ok(Json(Stats {
        unit_id,
        from: q.from,
        to: q.to,
        received: s.tally.received,
        done: s.tally.done,
        on_the_spot: s.tally.on_the_spot,
        in_progress: s.tally.in_progress,
        deferred: s.tally.deferred,
        overdue: s.overdue,
        rates: s.counts.rates(),
        counts: s.counts,
    }))
}
