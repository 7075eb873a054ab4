//! Meetings over JSON: create, agenda, decisions, report-back, close, check;
//! and the public board.

use super::ApiJson;
use super::requests::cst;
use crate::db::{self, meetings::Agenda, meetings::AgendaItem, meetings::Meeting};
use crate::domain::Validation;
use crate::domain::tally::Tally;
use crate::web::AppState;
use crate::web::auth::ApiStaff;
use crate::web::error::ApiError;
use crate::web::scope;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Meeting and board routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/meetings", get(index).post(create))
        .route("/meeting-series", post(set_series))
        .route("/meetings/{id}", get(show))
        .route("/meetings/{id}/agenda", get(agenda))
        .route("/meetings/{id}/decisions", post(decide))
        .route("/meetings/{id}/report-back", post(report_back))
        .route("/meetings/{id}/close", post(close))
        .route("/meetings/{id}/tally-check", get(check))
        .route("/public/boards/{unit_id}", get(board))
}

/// An agenda item as the API shows it (personal data masked).
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct ItemView {
    tracking_no: String,
    #[schema(example = "in_progress")]
    status: &'static str,
    category_id: i32,
    requester_name: String,
    content: String,
    handler_unit_id: Option<i32>,
    queue_unit_id: Option<i32>,
    due_on: NaiveDate,
    review_on: Option<NaiveDate>,
    supervised: bool,
    carried: u32,
    latest_progress: Option<String>,
    decision: Option<db::meetings::Decision>,
    previous_decision: Option<db::meetings::Decision>,
}

impl From<AgendaItem> for ItemView {
    fn from(i: AgendaItem) -> Self {
        let r = i.request;
        ItemView {
            tracking_no: r.tracking_no,
            status: r.status.as_str(),
            category_id: r.category_id,
            requester_name: r.name.masked(),
            content: r.content,
            handler_unit_id: r.handler_unit_id,
            queue_unit_id: r.queue_unit_id,
            due_on: r.due_on,
            review_on: r.review_on,
            supervised: r.supervised,
            carried: i.carried,
            latest_progress: i.latest,
            decision: i.decision,
            previous_decision: i.previous_decision,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct AgendaView {
    meeting: MeetingView,
    new: Vec<ItemView>,
    carried_over: Vec<ItemView>,
    due_for_review: Vec<ItemView>,
    report_back: Vec<ItemView>,
    tally: Tally,
    period: Tally,
    owed: usize,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct MeetingView {
    id: i32,
    village_id: i32,
    held_on: NaiveDate,
    place: String,
    host: String,
    attendees: String,
    headcount: Option<i32>,
    minutes: String,
    closed: bool,
    closed_at: Option<String>,
}

impl From<Meeting> for MeetingView {
    fn from(m: Meeting) -> Self {
        MeetingView {
            id: m.id,
            village_id: m.village_id,
            held_on: m.held_on,
            place: m.place,
            host: m.host,
            attendees: m.attendees,
            headcount: m.headcount,
            minutes: m.minutes,
            closed: m.closed,
            closed_at: m.closed_at.map(cst),
        }
    }
}

fn agenda_view(m: Meeting, a: Agenda) -> AgendaView {
    AgendaView {
        owed: a.report_back.len(),
        meeting: m.into(),
        new: a.new.into_iter().map(ItemView::from).collect(),
        carried_over: a.carried_over.into_iter().map(ItemView::from).collect(),
        due_for_review: a.due_for_review.into_iter().map(ItemView::from).collect(),
        report_back: a.report_back.into_iter().map(ItemView::from).collect(),
        tally: a.tally,
        period: a.period,
    }
}

/// A meeting the staff member may see (village in scope), and whether they
/// may run it (the village's cadre or the township's dispatcher).
async fn visible(state: &AppState, staff: &ApiStaff, id: i32) -> Result<(Meeting, bool), ApiError> {
    let m = db::meetings::get(state.db(), id).await?;
    let tree = db::units::tree(state.db()).await?;
    if !tree.is_within(m.village_id, staff.user.unit_id) {
        return Err(ApiError::NotFound);
    }
    let runs = scope::may_run_meetings(&tree, &staff.user, m.village_id);
    Ok((m, runs))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    village_id: Option<i32>,
}

/// The meetings of villages in your subtree.
#[utoipa::path(get, path = "/api/v1/meetings", tag = "meetings", security(("bearer" = [])), params(ListQuery), 
    responses((status = 200, body = super::List<MeetingView>), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody)))]
async fn index(
    State(state): State<AppState>,
    staff: ApiStaff,
    Query(q): Query<ListQuery>,
) -> Result<Json<super::List<MeetingView>>, ApiError> {
    let tree = db::units::tree(state.db()).await?;
    let villages: Vec<i32> = scope::subtree(&tree, &staff.user)
        .into_iter()
        .filter(|v| q.village_id.is_none_or(|x| x == *v))
        .collect();
    let list: Vec<MeetingView> = db::meetings::list(state.db(), &villages, 500)
        .await?
        .into_iter()
        .map(MeetingView::from)
        .collect();
    Ok(Json(list.into()))
}

/// Schedules a meeting (cadre or dispatcher).
#[utoipa::path(post, path = "/api/v1/meetings", tag = "meetings", security(("bearer" = [])), request_body = db::meetings::MeetingInput, 
    responses((status = 201, body = MeetingView), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    staff: ApiStaff,
    ApiJson(input): ApiJson<db::meetings::MeetingInput>,
) -> Result<(StatusCode, Json<MeetingView>), ApiError> {
    let tree = db::units::tree(state.db()).await?;
    if !scope::runs_any_meeting(&staff.user) {
        return Err(ApiError::Forbidden);
    }
    let m = db::meetings::create(
        state.db(),
        &input,
        |v| scope::meeting_village_check(&tree, &staff.user, v),
        staff.user.id,
        Utc::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(m.into())))
}

/// Sets a village's meeting series (cadre or dispatcher).
#[utoipa::path(post, path = "/api/v1/meeting-series", tag = "meetings", security(("bearer" = [])), request_body = db::meetings::SeriesInput, 
    responses((status = 201, body = db::meetings::Series), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
async fn set_series(
    State(state): State<AppState>,
    staff: ApiStaff,
    ApiJson(input): ApiJson<db::meetings::SeriesInput>,
) -> Result<(StatusCode, Json<db::meetings::Series>), ApiError> {
    let tree = db::units::tree(state.db()).await?;
    if !scope::runs_any_meeting(&staff.user) {
        return Err(ApiError::Forbidden);
    }
    let s = db::meetings::set_series(
        state.db(),
        &input,
        |v| scope::meeting_village_check(&tree, &staff.user, v),
        Utc::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(s)))
}

/// One meeting.
#[utoipa::path(get, path = "/api/v1/meetings/{id}", tag = "meetings", security(("bearer" = [])), params(("id" = i32, Path)), 
    responses((status = 200, body = MeetingView), (status = 401, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
async fn show(
    State(state): State<AppState>,
    staff: ApiStaff,
    Path(id): Path<i32>,
) -> Result<Json<MeetingView>, ApiError> {
    Ok(Json(visible(&state, &staff, id).await?.0.into()))
}

/// The derived agenda of a meeting.
#[utoipa::path(get, path = "/api/v1/meetings/{id}/agenda", tag = "meetings", security(("bearer" = [])), params(("id" = i32, Path)), 
    responses((status = 200, body = AgendaView), (status = 401, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
async fn agenda(
    State(state): State<AppState>,
    staff: ApiStaff,
    Path(id): Path<i32>,
) -> Result<Json<AgendaView>, ApiError> {
    let (m, _) = visible(&state, &staff, id).await?;
    let a = db::meetings::agenda(state.db(), &m).await?;
    Ok(Json(agenda_view(m, a)))
}

async fn request_of_meeting(
    state: &AppState,
    staff: &ApiStaff,
    m: &Meeting,
    tracking_no: &str,
) -> Result<db::requests::Request, ApiError> {
    let (r, _) = scope::visible_request(state, &staff.user, tracking_no)
        .await
        .map_err(|_| ApiError::from(Validation::one("tracking_no", "err.meeting.not_on_agenda")))?;
    if r.village_id != m.village_id {
        return Err(Validation::one("tracking_no", "err.meeting.not_on_agenda").into());
    }
    Ok(r)
}

/// Records the decision on an agenda item.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/decisions", tag = "meetings", security(("bearer" = [])), params(("id" = i32, Path)), request_body = db::meetings::DecisionInput, 
    responses((status = 200, body = AgendaView), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
async fn decide(
    State(state): State<AppState>,
    staff: ApiStaff,
    Path(id): Path<i32>,
    ApiJson(input): ApiJson<db::meetings::DecisionInput>,
) -> Result<Json<AgendaView>, ApiError> {
    let (m, runs) = visible(&state, &staff, id).await?;
    if !runs {
        return Err(ApiError::Forbidden);
    }
    let r = request_of_meeting(&state, &staff, &m, &input.tracking_no).await?;
    db::meetings::decide(state.db(), m.id, r.id, &input, staff.user.id, Utc::now()).await?;
    let a = db::meetings::agenda(state.db(), &m).await?;
    Ok(Json(agenda_view(m, a)))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(default)]
pub(super) struct ReportBackBody {
    #[schema(required = true)]
    tracking_no: String,
    note: Option<String>,
}

/// Records that the requester was told the answer in person.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/report-back", tag = "meetings", security(("bearer" = [])), params(("id" = i32, Path)), request_body = ReportBackBody, 
    responses((status = 200, body = AgendaView), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody), (status = 409, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
async fn report_back(
    State(state): State<AppState>,
    staff: ApiStaff,
    Path(id): Path<i32>,
    ApiJson(b): ApiJson<ReportBackBody>,
) -> Result<Json<AgendaView>, ApiError> {
    let (m, runs) = visible(&state, &staff, id).await?;
    if !runs {
        return Err(ApiError::Forbidden);
    }
    let r = request_of_meeting(&state, &staff, &m, &b.tracking_no).await?;
    db::meetings::report_back(
        state.db(),
        r.id,
        Some(m.id),
        b.note.as_deref(),
        staff.user.id,
        Utc::now(),
    )
    .await?;
    let a = db::meetings::agenda(state.db(), &m).await?;
    Ok(Json(agenda_view(m, a)))
}

/// Closes a meeting and publishes its tallies.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/close", tag = "meetings", security(("bearer" = [])), params(("id" = i32, Path)), request_body = db::meetings::CloseInput, 
    responses((status = 200, body = db::meetings::Closed), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
async fn close(
    State(state): State<AppState>,
    staff: ApiStaff,
    Path(id): Path<i32>,
    ApiJson(input): ApiJson<db::meetings::CloseInput>,
) -> Result<Json<db::meetings::Closed>, ApiError> {
    let (m, runs) = visible(&state, &staff, id).await?;
    if !runs {
        return Err(ApiError::Forbidden);
    }
    let closed = db::meetings::close_and_flag(
        state.db(),
        m.id,
        &input,
        staff.user.id,
        Utc::now(),
        state.config().carry_limit,
    )
    .await?;
    tracing::info!(
        meeting_id = m.id,
        received = closed.tally.received,
        "meeting closed"
    );
    Ok(Json(closed))
}

/// Stored and re-derived tallies of a closed meeting.
#[utoipa::path(get, path = "/api/v1/meetings/{id}/tally-check", tag = "meetings", security(("bearer" = [])), params(("id" = i32, Path)), 
    responses((status = 200, body = db::meetings::TallyCheck), (status = 401, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
async fn check(
    State(state): State<AppState>,
    staff: ApiStaff,
    Path(id): Path<i32>,
) -> Result<Json<db::meetings::TallyCheck>, ApiError> {
    let (m, _) = visible(&state, &staff, id).await?;
    Ok(Json(db::meetings::check(state.db(), m.id).await?))
}

/// The public board (公示栏) of a village or township; no token.
#[utoipa::path(get, path = "/api/v1/public/boards/{unit_id}", tag = "resident", params(("unit_id" = i32, Path)), 
    responses((status = 200, body = db::board::Board), (status = 404, body = super::openapi::ErrorBody)))]
async fn board(
    State(state): State<AppState>,
    Path(unit_id): Path<i32>,
) -> Result<Json<db::board::Board>, ApiError> {
    db::board::board(state.db(), unit_id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound)
}
