//! Requests over JSON: intake, lists, detail with events, actions.

use super::{ApiJson, List};
use crate::db::{self, requests::Event, requests::Filter, requests::Request};
use crate::domain::Validation;
use crate::domain::calendar::china_offset;
use crate::domain::intake::{Intake, IntakeRaw};
use crate::domain::lifecycle::{self, Action, Command};
use crate::domain::request::Status;
use crate::web::AppState;
use crate::web::auth::ApiStaff;
use crate::web::error::ApiError;
use crate::web::scope;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Request routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/requests", get(index).post(create))
        .route("/requests/{tracking_no}", get(show))
        .route("/requests/{tracking_no}/actions", post(act))
}

/// Time as RFC 3339 with the +08:00 offset.
pub fn cst(t: DateTime<Utc>) -> String {
    crate::domain::calendar::china_rfc3339(t)
}

/// A request in a list (personal data masked).
#[derive(Serialize, utoipa::ToSchema)]
pub struct RequestSummary {
    id: i32,
    tracking_no: String,
    #[schema(value_type = String, example = "received")]
    status: Status,
    village_id: i32,
    category_id: i32,
    #[serde(rename = "type")]
    req_type: &'static str,
    urgency: &'static str,
    source: &'static str,
    requester_name: String,
    phone: String,
    content: String,
    handler_unit_id: Option<i32>,
    queue_unit_id: Option<i32>,
    accepted: bool,
    due_on: NaiveDate,
    overdue: bool,
    supervised: bool,
    needs_review: bool,
    meeting_id: Option<i32>,
    received_at: String,
}

impl RequestSummary {
    fn new(r: &Request, today: NaiveDate) -> Self {
        RequestSummary {
            id: r.id,
            tracking_no: r.tracking_no.clone(),
            status: r.status,
            village_id: r.village_id,
            category_id: r.category_id,
            req_type: r.req_type.as_str(),
            urgency: r.urgency.as_str(),
            source: r.source.as_str(),
            requester_name: r.name.masked(),
            phone: r.phone.masked(),
            content: r.content.clone(),
            handler_unit_id: r.handler_unit_id,
            queue_unit_id: r.queue_unit_id,
            accepted: r.accepted,
            due_on: r.due_on,
            overdue: r.status.is_open() && r.due_on < today,
            supervised: r.supervised,
            needs_review: r.needs_review,
            meeting_id: r.meeting_id,
            received_at: cst(r.received_at),
        }
    }
}

/// A request in full, for staff in scope (raw personal data included).
#[derive(Serialize, utoipa::ToSchema)]
pub struct RequestDetail {
    #[serde(flatten)]
    summary: RequestSummary,
    requester_name_full: String,
    phone_full: String,
    email: Option<String>,
    address: String,
    consent_publish: bool,
    routed_by: String,
    rule_id: Option<i32>,
    time_limit_days: i32,
    on_the_spot: bool,
    result: Option<String>,
    defer_reason: Option<&'static str>,
    defer_explanation: Option<String>,
    review_on: Option<NaiveDate>,
    rating: Option<&'static str>,
    rating_comment: Option<String>,
    closed_at: Option<String>,
    available_actions: Vec<&'static str>,
    events: Vec<EventView>,
}

/// An event as the API shows it to staff.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EventView {
    at: String,
    action: String,
    actor_kind: String,
    actor_user_id: Option<i32>,
    from_status: Option<String>,
    to_status: String,
    from_unit_id: Option<i32>,
    to_unit_id: Option<i32>,
    note: Option<String>,
    public_note: Option<String>,
    reason: Option<String>,
}

impl From<Event> for EventView {
    fn from(e: Event) -> Self {
        EventView {
            at: cst(e.at),
            action: e.action,
            actor_kind: e.actor_kind,
            actor_user_id: e.actor_user_id,
            from_status: e.from_status,
            to_status: e.to_status,
            from_unit_id: e.from_unit_id,
            to_unit_id: e.to_unit_id,
            note: e.note,
            public_note: e.public_note,
            reason: e.reason,
        }
    }
}

async fn detail(state: &AppState, staff: &ApiStaff, r: Request) -> Result<RequestDetail, ApiError> {
    let tree = db::units::tree(state.db()).await?;
    let events = db::requests::events(state.db(), r.id).await?;
    let today = scope::today();
    Ok(RequestDetail {
        available_actions: lifecycle::available(&r.state(), &scope::actor(&staff.user), &tree)
            .into_iter()
            .map(Action::as_str)
            .collect(),
        requester_name_full: r.name.raw().to_owned(),
        phone_full: r.phone.raw().to_owned(),
        email: r.email.as_ref().map(|e| e.raw().to_owned()),
        address: r.address.clone(),
        consent_publish: r.consent_publish,
        routed_by: r.routed_by.clone(),
        rule_id: r.rule_id,
        time_limit_days: r.time_limit_days,
        on_the_spot: r.on_the_spot,
        result: r.result.clone(),
        defer_reason: r.defer_reason.map(|d| d.as_str()),
        defer_explanation: r.defer_explanation.clone(),
        review_on: r.review_on,
        rating: r.rating.map(|x| x.as_str()),
        rating_comment: r.rating_comment.clone(),
        closed_at: r.closed_at.map(cst),
        events: events.into_iter().map(EventView::from).collect(),
        summary: RequestSummary::new(&r, today),
    })
}

/// What intake answers.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Created {
    id: i32,
    tracking_no: String,
    access_code: String,
    #[schema(value_type = String, example = "received")]
    status: Status,
    handler_unit_id: Option<i32>,
    queue_unit_id: Option<i32>,
    due_on: NaiveDate,
    routed_by: String,
}

/// Logs a new request (cadre or dispatcher).
#[utoipa::path(post, path = "/api/v1/requests", tag = "requests", security(("bearer" = [])), request_body = IntakeRaw,
    params(("Idempotency-Key" = Option<String>, Header, description = "at most 64 characters; a replay answers 200 with the first request")),
    responses((status = 201, body = Created), (status = 200, body = Created, description = "replay of an Idempotency-Key"), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    staff: ApiStaff,
    headers: HeaderMap,
    ApiJson(raw): ApiJson<IntakeRaw>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    use crate::domain::role::Role;
    if !matches!(staff.user.role, Role::Cadre | Role::Dispatcher) {
        return Err(ApiError::Forbidden);
    }
    let tree = db::units::tree(state.db()).await?;
    let cats = db::categories::all(state.db()).await?;
    let intake = Intake::parse(
        &raw,
        |v| scope::may_log_for(&tree, &staff.user, v),
        |c| cats.iter().any(|x| x.id == c),
    )?;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if key.as_ref().is_some_and(|k| k.len() > 64) {
        return Err(Validation::one("Idempotency-Key", "err.too_long").into());
    }
    let created = db::requests::create(
        state.db(),
        &intake,
        staff.user.id,
        key.as_deref(),
        &scope::route_words(),
        state.config().reach(),
        Utc::now(),
    )
    .await?;
    let r = created.request;
    tracing::info!(tracking_no = %r.tracking_no, replayed = created.replayed, "request logged");
    let status = if created.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(Created {
            id: r.id,
            tracking_no: r.tracking_no,
            access_code: r.access_code.as_str().to_owned(),
            status: r.status,
            handler_unit_id: r.handler_unit_id,
            queue_unit_id: r.queue_unit_id,
            due_on: r.due_on,
            routed_by: r.routed_by,
        }),
    ))
}

/// List query.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    status: Option<String>,
    unit_id: Option<i32>,
    village_id: Option<i32>,
    category_id: Option<i32>,
    overdue: Option<bool>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    q: Option<String>,
    page: Option<u64>,
    per_page: Option<u64>,
}

/// A page of requests.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Page {
    #[serde(flatten)]
    list: List<RequestSummary>,
    page: u64,
    per_page: u64,
}

/// 00:00 China time of `day`, as an instant.
pub fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(china_offset()).single())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// The requests visible to you, one page at a time.
#[utoipa::path(get, path = "/api/v1/requests", tag = "requests", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = Page), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
async fn index(
    State(state): State<AppState>,
    staff: ApiStaff,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Page>, ApiError> {
    let Query(q) = q?;
    let tree = db::units::tree(state.db()).await?;
    let mut f = Filter {
        scope: Some(scope::subtree(&tree, &staff.user)),
        village_id: q.village_id,
        handler_unit_id: q.unit_id,
        text: q.q.clone(),
        received_from: q.from.map(start_of),
        received_before: q.to.and_then(|d| d.succ_opt()).map(start_of),
        ..Default::default()
    };
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        f.status = Some(Status::parse(s).ok_or_else(|| Validation::one("status", "err.choice"))?);
    }
    if let Some(c) = q.category_id {
        let cats = db::categories::all(state.db()).await?;
        f.category_ids = Some(db::categories::with_children(&cats, c));
    }
    let today = scope::today();
    if q.overdue == Some(true) {
        f.overdue_on = Some(today);
    }
    let per_page = q.per_page.unwrap_or(50).clamp(1, 200);
    let page = q.page.unwrap_or(1).max(1);
    let (items, total) = db::requests::list(state.db(), &f, page, per_page).await?;
    let items: Vec<RequestSummary> = items
        .iter()
        .map(|r| RequestSummary::new(r, today))
        .collect();
    Ok(Json(Page {
        list: List {
            items,
            total: usize::try_from(total).unwrap_or(usize::MAX),
        },
        page,
        per_page,
    }))
}

/// One request in full, with its history and your available actions.
#[utoipa::path(get, path = "/api/v1/requests/{tracking_no}", tag = "requests", security(("bearer" = [])), params(("tracking_no" = String, Path)),
    responses((status = 200, body = RequestDetail), (status = 401, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
async fn show(
    State(state): State<AppState>,
    staff: ApiStaff,
    Path(no): Path<String>,
) -> Result<Json<RequestDetail>, ApiError> {
    let (r, _) = scope::visible_request(&state, &staff.user, &no).await?;
    Ok(Json(detail(&state, &staff, r).await?))
}

/// An action as posted.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(default)]
pub(super) struct ActionBody {
    #[schema(required = true, example = "accept")]
    action: String,
    unit_id: Option<i32>,
    note: Option<String>,
    public_note: Option<String>,
    result: Option<String>,
    on_the_spot: Option<bool>,
    reason: Option<String>,
    explanation: Option<String>,
    review_on: Option<String>,
}

/// Takes an action on a request; answers the request in full.
#[utoipa::path(post, path = "/api/v1/requests/{tracking_no}/actions", tag = "requests", security(("bearer" = [])), params(("tracking_no" = String, Path)), request_body = ActionBody,
    responses((status = 200, body = RequestDetail), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody), (status = 409, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
async fn act(
    State(state): State<AppState>,
    staff: ApiStaff,
    Path(no): Path<String>,
    ApiJson(b): ApiJson<ActionBody>,
) -> Result<Json<RequestDetail>, ApiError> {
    let (r, _) = scope::visible_request(&state, &staff.user, &no).await?;
    let action =
        Action::parse(&b.action).ok_or_else(|| Validation::one("action", "err.action.unknown"))?;
    let review_on = match b
        .review_on
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(s) => Some(
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| Validation::one("review_on", "err.date"))?,
        ),
    };
    let cmd = Command {
        unit_id: b.unit_id,
        note: b.note,
        public_note: b.public_note,
        result: b.result,
        on_the_spot: b.on_the_spot.unwrap_or(false),
        reason: b.reason,
        explanation: b.explanation,
        review_on,
    };
    let no = crate::domain::request::TrackingNo::parse(&r.tracking_no).ok_or(ApiError::NotFound)?;
    let updated = db::requests::transition(
        state.db(),
        &no,
        Some(staff.user.id),
        scope::actor(&staff.user),
        action,
        &cmd,
        state.config().reach(),
        Utc::now(),
    )
    .await?;
    tracing::info!(tracking_no = %updated.tracking_no, action = action.as_str(), user_id = staff.user.id, "request action");
    Ok(Json(detail(&state, &staff, updated).await?))
}
