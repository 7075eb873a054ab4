//! Meeting pages (周周会): the list, the derived agenda with decisions and
//! report-back ticks, closing, the print view, the cadre's report-back list,
//! and the public board (公开栏).

use super::AppState;
use super::admin::FormErrors;
use super::auth::Staff;
use super::error::PageError;
use super::form::{StaffForm, opt_id, opt_int};
use super::i18n::Tr;
use super::page::PageCtx;
use super::scope;
use crate::db::{self, meetings::AgendaItem, meetings::Meeting};
use crate::domain::Validation;
use crate::domain::tally::Tally;
use crate::domain::unit::UnitKind;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;

/// Meeting, report-back and board routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/meetings", get(index).post(create))
        .route("/meetings/series", post(set_series))
        .route("/meetings/{id}", get(show))
        .route("/meetings/{id}/print", get(print))
        .route("/meetings/{id}/decisions", post(decide))
        .route("/meetings/{id}/report-back", post(report_back))
        .route("/meetings/{id}/close", post(close))
        .route("/report-back", get(owed).post(owed_done))
        .route("/board/{unit_id}", get(board))
        .route("/meetings/{id}/agenda.{ext}", get(agenda_export))
        .route("/board/{unit_id}/export.{ext}", get(board_export))
}

/// A village the user may hold meetings for.
struct VillageOption {
    id: i32,
    name: String,
}

/// A meeting as listed.
struct MeetingRow {
    m: Meeting,
    village: String,
}

#[derive(Template)]
#[template(path = "meetings/index.html")]
struct IndexPage {
    ctx: PageCtx,
    meetings: Vec<MeetingRow>,
    villages: Vec<VillageOption>,
    boards: Vec<VillageOption>,
    form: NewMeetingForm,
    series: SeriesForm,
    schedules: Vec<(String, db::meetings::Series)>,
    errors: FormErrors,
}

/// New meeting form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
struct NewMeetingForm {
    village_id: String,
    held_on: String,
    place: String,
    host: String,
}

impl NewMeetingForm {
    fn village_is(&self, id: &i32) -> bool {
        self.village_id == id.to_string()
    }
}

/// Series form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
struct SeriesForm {
    village_id: String,
    cadence: String,
    weekday: String,
    place: String,
    host: String,
}

async fn index_page(
    state: &AppState,
    staff: &Staff,
    form: NewMeetingForm,
    series: SeriesForm,
    errors: FormErrors,
) -> Result<IndexPage, PageError> {
    if !matches!(
        staff.role(),
        crate::domain::role::Role::Cadre
            | crate::domain::role::Role::Dispatcher
            | crate::domain::role::Role::Supervisor
    ) {
        return Err(PageError::Forbidden);
    }
    let units = db::units::all(state.db()).await?;
    let tree = db::units::tree_of(&units);
    let name = |id: i32| {
        units
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    };
    let mine = scope::subtree(&tree, &staff.user);
    let villages: Vec<i32> = mine
        .iter()
        .copied()
        .filter(|u| tree.kind(*u) == Some(UnitKind::Village))
        .collect();
    let meetings = db::meetings::list(state.db(), &villages, 200)
        .await?
        .into_iter()
        .map(|m| MeetingRow {
            village: name(m.village_id),
            m,
        })
        .collect();
    let runnable = villages
        .iter()
        .filter(|v| scope::may_run_meetings(&tree, &staff.user, **v))
        .map(|v| VillageOption {
            id: *v,
            name: name(*v),
        })
        .collect();
    let boards = mine
        .iter()
        .filter(|u| matches!(tree.kind(**u), Some(UnitKind::Village | UnitKind::Township)))
        .map(|u| VillageOption {
            id: *u,
            name: name(*u),
        })
        .collect();
    let mut schedules = Vec::new();
    for v in &villages {
        if let Some(s) = db::meetings::series(state.db(), *v).await? {
            schedules.push((name(*v), s));
        }
    }
    Ok(IndexPage {
        ctx: staff.ctx(),
        schedules,
        meetings,
        villages: runnable,
        boards,
        form,
        series,
        errors,
    })
}

async fn index(State(state): State<AppState>, staff: Staff) -> Result<Html<String>, PageError> {
    let form = NewMeetingForm {
        held_on: scope::today().to_string(),
        ..Default::default()
    };
    let series = SeriesForm {
        cadence: "weekly".into(),
        weekday: "3".into(),
        ..Default::default()
    };
    let page = index_page(&state, &staff, form, series, FormErrors::default()).await?;
    Ok(Html(page.render()?))
}

async fn create(
    State(state): State<AppState>,
    StaffForm { staff, form }: StaffForm<NewMeetingForm>,
) -> Result<Response, PageError> {
    if !scope::runs_any_meeting(&staff.user) {
        return Err(PageError::Forbidden);
    }
    let tree = db::units::tree(state.db()).await?;
    let mut v = Validation::new();
    let village_id = opt_id(&mut v, "village_id", &form.village_id);
    let result = match v.finish() {
        Err(v) => Err(v.into()),
        Ok(()) => {
            let input = db::meetings::MeetingInput {
                village_id,
                held_on: Some(form.held_on.clone()),
                place: Some(form.place.clone()),
                host: Some(form.host.clone()),
            };
            db::meetings::create(
                state.db(),
                &input,
                |v| scope::meeting_village_check(&tree, &staff.user, v),
                staff.user.id,
                Utc::now(),
            )
            .await
        }
    };
    match result {
        Ok(m) => Ok(Redirect::to(&format!("/meetings/{}", m.id)).into_response()),
        Err(db::Error::Invalid(v)) => {
            let errors = FormErrors::from_validation(&v, staff.tr);
            let page = index_page(&state, &staff, form, SeriesForm::default(), errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn set_series(
    State(state): State<AppState>,
    StaffForm { staff, form }: StaffForm<SeriesForm>,
) -> Result<Response, PageError> {
    if !scope::runs_any_meeting(&staff.user) {
        return Err(PageError::Forbidden);
    }
    let tree = db::units::tree(state.db()).await?;
    let mut v = Validation::new();
    let village_id = opt_id(&mut v, "series_village_id", &form.village_id);
    let weekday = opt_int(&mut v, "weekday", &form.weekday).and_then(|d| i32::try_from(d).ok());
    let result = match v.finish() {
        Err(v) => Err(v.into()),
        Ok(()) => {
            let input = db::meetings::SeriesInput {
                village_id,
                cadence: form.cadence.clone(),
                weekday,
                place: Some(form.place.clone()),
                host: Some(form.host.clone()),
            };
            db::meetings::set_series(
                state.db(),
                &input,
                |v| scope::meeting_village_check(&tree, &staff.user, v),
                Utc::now(),
            )
            .await
        }
    };
    match result {
        Ok(_) => Ok(Redirect::to("/meetings").into_response()),
        Err(db::Error::Invalid(v)) => {
            let errors = FormErrors::from_validation(&v, staff.tr);
            let page = index_page(&state, &staff, NewMeetingForm::default(), form, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// An agenda item ready to show.
struct ItemRow {
    tracking_no: String,
    status: &'static str,
    category: String,
    unit: String,
    requester: String,
    content: String,
    carried: u32,
    over_limit: bool,
    supervised: bool,
    latest: Option<String>,
    review_on: Option<String>,
    decision: Option<String>,
    previous_decision: Option<String>,
    decision_unit: Option<String>,
    decision_unit_id: Option<i32>,
    next_check_on: Option<String>,
}

impl ItemRow {
    /// Whether the decision names unit `id` (select the option).
    fn decided_unit_is(&self, id: &i32) -> bool {
        self.decision_unit_id == Some(*id)
    }
}

#[derive(Template)]
#[template(path = "meetings/show.html")]
struct ShowPage {
    ctx: PageCtx,
    m: Meeting,
    village: String,
    runs: bool,
    new: Vec<ItemRow>,
    carried_over: Vec<ItemRow>,
    due_for_review: Vec<ItemRow>,
    report_back: Vec<ItemRow>,
    tally: Tally,
    sentence: String,
    period_line: String,
    carry_limit: u32,
    units: Vec<super::admin::UnitOption>,
    errors: FormErrors,
    error_item: Option<String>,
}

#[derive(Template)]
#[template(path = "meetings/print.html")]
struct PrintPage {
    ctx: PageCtx,
    m: Meeting,
    village: String,
    new: Vec<ItemRow>,
    carried_over: Vec<ItemRow>,
    due_for_review: Vec<ItemRow>,
    report_back: Vec<ItemRow>,
    sentence: String,
}

/// The practice's own sentence for a tally.
pub fn sentence(tr: Tr, t: &Tally) -> String {
    tr.t("board.sentence")
        .replace("{received}", &t.received.to_string())
        .replace("{done}", &t.done.to_string())
        .replace("{in_progress}", &t.in_progress.to_string())
        .replace("{deferred}", &t.deferred.to_string())
}

async fn rows(
    state: &AppState,
    items: Vec<AgendaItem>,
    limit: u32,
) -> Result<Vec<ItemRow>, PageError> {
    let units = db::units::all(state.db()).await?;
    let cats = db::categories::all(state.db()).await?;
    Ok(items
        .into_iter()
        .map(|i| {
            let r = i.request;
            ItemRow {
                tracking_no: r.tracking_no.clone(),
                status: r.status.as_str(),
                category: db::categories::label(&cats, r.category_id),
                unit: r
                    .current_unit()
                    .and_then(|u| units.iter().find(|x| x.id == u))
                    .map(|u| u.name.clone())
                    .unwrap_or_default(),
                requester: r.name.masked(),
                content: r.content.clone(),
                carried: i.carried,
                over_limit: i.carried > limit,
                supervised: r.supervised,
                latest: i.latest,
                review_on: (r.status == crate::domain::request::Status::Deferred)
                    .then_some(r.review_on)
                    .flatten()
                    .map(|d| d.to_string()),
                decision: i.decision.as_ref().map(|d| d.decision.clone()),
                previous_decision: i.previous_decision.as_ref().map(|d| match d.next_check_on {
                    Some(n) => format!("{}（{n}）", d.decision),
                    None => d.decision.clone(),
                }),
                decision_unit_id: i.decision.as_ref().and_then(|d| d.unit_id),
                decision_unit: i
                    .decision
                    .as_ref()
                    .and_then(|d| d.unit_id)
                    .and_then(|u| units.iter().find(|x| x.id == u))
                    .map(|u| u.name.clone()),
                next_check_on: i
                    .decision
                    .as_ref()
                    .and_then(|d| d.next_check_on)
                    .map(|d| d.to_string()),
            }
        })
        .collect())
}

async fn load(
    state: &AppState,
    staff: &Staff,
    id: i32,
) -> Result<(Meeting, bool, String), PageError> {
    let m = db::meetings::get(state.db(), id).await?;
    let tree = db::units::tree(state.db()).await?;
    if !tree.is_within(m.village_id, staff.user.unit_id) {
        return Err(PageError::NotFound);
    }
    let runs = scope::may_run_meetings(&tree, &staff.user, m.village_id);
    let village = db::units::get(state.db(), m.village_id).await?.name;
    Ok((m, runs, village))
}

async fn show_page(
    state: &AppState,
    staff: &Staff,
    id: i32,
    errors: FormErrors,
    error_item: Option<String>,
) -> Result<ShowPage, PageError> {
    let (m, runs, village) = load(state, staff, id).await?;
    let a = db::meetings::agenda(state.db(), &m).await?;
    let limit = state.config().carry_limit;
    let all = db::units::all(state.db()).await?;
    let tree = db::units::tree_of(&all);
    let root = tree
        .chain(m.village_id)
        .last()
        .copied()
        .unwrap_or(m.village_id);
    let units = super::admin::unit_options(&all, root)
        .into_iter()
        .filter(|o| matches!(o.kind, "office" | "village"))
        .collect();
    Ok(ShowPage {
        units,
        ctx: staff.ctx(),
        sentence: sentence(staff.tr, &a.tally),
        period_line: sentence(staff.tr, &a.period).replace(
            &staff.tr.t("board.sentence_prefix"),
            &staff.tr.t("meetings.period_prefix"),
        ),
        new: rows(state, a.new, limit).await?,
        carried_over: rows(state, a.carried_over, limit).await?,
        due_for_review: rows(state, a.due_for_review, limit).await?,
        report_back: rows(state, a.report_back, limit).await?,
        tally: a.tally,
        carry_limit: limit,
        m,
        village,
        runs,
        errors,
        error_item,
    })
}

async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
) -> Result<Html<String>, PageError> {
    Ok(Html(
        show_page(&state, &staff, id, FormErrors::default(), None)
            .await?
            .render()?,
    ))
}

async fn print(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i32>,
) -> Result<Html<String>, PageError> {
    let (m, _, village) = load(&state, &staff, id).await?;
    let a = db::meetings::agenda(state.db(), &m).await?;
    let limit = state.config().carry_limit;
    let page = PrintPage {
        ctx: staff.ctx(),
        sentence: sentence(staff.tr, &a.tally),
        new: rows(&state, a.new, limit).await?,
        carried_over: rows(&state, a.carried_over, limit).await?,
        due_for_review: rows(&state, a.due_for_review, limit).await?,
        report_back: rows(&state, a.report_back, limit).await?,
        m,
        village,
    };
    Ok(Html(page.render()?))
}

/// Re-renders the agenda with errors, or goes back to it.
async fn after(
    state: &AppState,
    staff: &Staff,
    id: i32,
    result: Result<(), db::Error>,
    item: Option<String>,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/meetings/{id}")).into_response()),
        Err(db::Error::Invalid(v)) => {
            let errors = FormErrors::from_validation(&v, staff.tr);
            let page = show_page(state, staff, id, errors, item).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Decision form of one agenda item.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
struct DecisionForm {
    tracking_no: String,
    decision: String,
    unit_id: String,
    next_check_on: String,
}

async fn decide(
    State(state): State<AppState>,
    Path(id): Path<i32>,
    StaffForm { staff, form }: StaffForm<DecisionForm>,
) -> Result<Response, PageError> {
    let (m, runs, _) = load(&state, &staff, id).await?;
    if !runs {
        return Err(PageError::Forbidden);
    }
    let (r, _) = scope::visible_request(&state, &staff.user, &form.tracking_no).await?;
    let mut v = Validation::new();
    let unit_id = opt_id(&mut v, "unit_id", &form.unit_id);
    let result = match v.finish() {
        Err(v) => Err(db::Error::Invalid(v)),
        Ok(()) => {
            let input = db::meetings::DecisionInput {
                tracking_no: form.tracking_no.clone(),
                decision: form.decision.clone(),
                unit_id,
                next_check_on: Some(form.next_check_on.clone()),
            };
            db::meetings::decide(state.db(), m.id, r.id, &input, staff.user.id, Utc::now()).await
        }
    };
    after(&state, &staff, id, result, Some(form.tracking_no)).await
}

/// Report-back tick.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
struct ReportBackForm {
    tracking_no: String,
    note: String,
}

async fn report_back(
    State(state): State<AppState>,
    Path(id): Path<i32>,
    StaffForm { staff, form }: StaffForm<ReportBackForm>,
) -> Result<Response, PageError> {
    let (m, runs, _) = load(&state, &staff, id).await?;
    if !runs {
        return Err(PageError::Forbidden);
    }
    let (r, _) = scope::visible_request(&state, &staff.user, &form.tracking_no).await?;
    if r.village_id != m.village_id {
        return Err(PageError::NotFound);
    }
    let result = db::meetings::report_back(
        state.db(),
        r.id,
        Some(m.id),
        Some(&form.note),
        staff.user.id,
        Utc::now(),
    )
    .await;
    after(&state, &staff, id, result, Some(form.tracking_no)).await
}

/// Close form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
struct CloseForm {
    minutes: String,
    attendees: String,
    headcount: String,
}

async fn close(
    State(state): State<AppState>,
    Path(id): Path<i32>,
    StaffForm { staff, form }: StaffForm<CloseForm>,
) -> Result<Response, PageError> {
    let (m, runs, _) = load(&state, &staff, id).await?;
    if !runs {
        return Err(PageError::Forbidden);
    }
    let mut v = Validation::new();
    let headcount =
        opt_int(&mut v, "headcount", &form.headcount).and_then(|h| i32::try_from(h).ok());
    let result = match v.finish() {
        Err(v) => Err(db::Error::Invalid(v)),
        Ok(()) => {
            let input = db::meetings::CloseInput {
                minutes: Some(form.minutes.clone()),
                attendees: Some(form.attendees.clone()),
                headcount,
            };
            db::meetings::close_and_flag(
                state.db(),
                m.id,
                &input,
                staff.user.id,
                Utc::now(),
                state.config().carry_limit,
            )
            .await
            .map(|_| ())
        }
    };
    after(&state, &staff, id, result, None).await
}

#[derive(Template)]
#[template(path = "meetings/report_back.html")]
struct OwedPage {
    ctx: PageCtx,
    items: Vec<ItemRow>,
}

async fn owed_page(state: &AppState, staff: &Staff) -> Result<OwedPage, PageError> {
    if !scope::runs_any_meeting(&staff.user) {
        return Err(PageError::Forbidden);
    }
    let tree = db::units::tree(state.db()).await?;
    let villages: Vec<i32> = scope::subtree(&tree, &staff.user)
        .into_iter()
        .filter(|u| tree.kind(*u) == Some(UnitKind::Village))
        .collect();
    let owed = db::meetings::owed_in(state.db(), &villages).await?;
    let items = owed
        .into_iter()
        .map(|request| AgendaItem {
            request,
            carried: 0,
            latest: None,
            decision: None,
            previous_decision: None,
        })
        .collect();
    Ok(OwedPage {
        ctx: staff.ctx(),
        items: rows(state, items, u32::MAX).await?,
    })
}

async fn owed(State(state): State<AppState>, staff: Staff) -> Result<Html<String>, PageError> {
    Ok(Html(owed_page(&state, &staff).await?.render()?))
}

async fn owed_done(
    State(state): State<AppState>,
    StaffForm { staff, form }: StaffForm<ReportBackForm>,
) -> Result<Response, PageError> {
    if !scope::runs_any_meeting(&staff.user) {
        return Err(PageError::Forbidden);
    }
    let (r, _) = scope::visible_request(&state, &staff.user, &form.tracking_no).await?;
    match db::meetings::report_back(
        state.db(),
        r.id,
        None,
        Some(&form.note),
        staff.user.id,
        Utc::now(),
    )
    .await
    {
        Ok(()) | Err(db::Error::Invalid(_)) => Ok(Redirect::to("/report-back").into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "board/show.html")]
struct BoardPage {
    ctx: PageCtx,
    b: db::board::Board,
    sentence: String,
    published_on: Option<String>,
    qr: Option<String>,
    today: String,
}

async fn board(
    State(state): State<AppState>,
    tr: Tr,
    Path(unit_id): Path<i32>,
) -> Result<Html<String>, PageError> {
    let b = db::board::board(state.db(), unit_id)
        .await?
        .ok_or(PageError::NotFound)?;
    let url = format!("{}/board/{unit_id}", state.config().public_url);
    let page = BoardPage {
        ctx: PageCtx::anonymous(tr, &format!("/board/{unit_id}"), ""),
        sentence: sentence(tr, &b.tally),
        published_on: b.published_on.clone(),
        qr: super::qr::data_uri(&url, 140),
        today: scope::today().to_string(),
        b,
    };
    Ok(Html(page.render()?))
}

/// `GET /meetings/{id}/agenda.{csv,xlsx}`: every request on the agenda.
async fn agenda_export(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, ext)): Path<(i32, String)>,
) -> Result<Response, PageError> {
    use super::requests::ledger::{Format, export};
    let format = Format::parse(&ext).ok_or(PageError::NotFound)?;
    let (m, _, _) = load(&state, &staff, id).await?;
    let a = db::meetings::agenda(state.db(), &m).await?;
    let mut ids: Vec<i32> = a
        .new
        .iter()
        .chain(&a.carried_over)
        .chain(&a.due_for_review)
        .chain(&a.report_back)
        .map(|i| i.request.id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let filter = db::requests::Filter {
        ids: Some(ids),
        newest_first: true,
        ..Default::default()
    };
    let privacy = crate::ledger::Privacy::for_role(staff.user.role);
    export(
        state,
        filter,
        privacy,
        format,
        crate::ledger::title::AGENDA,
        "agenda",
    )
    .await
}

/// Columns of a board download: what the board itself shows, nothing more.
const BOARD_COLUMNS: [&str; 8] = [
    "工单编号",
    "村居",
    "诉求分类",
    "诉求人",
    "诉求摘要",
    "答复",
    "状态",
    "受理日期",
];

/// `GET /board/{unit_id}/export.{csv,xlsx}`: the board's items as published
/// (masked names; summaries and answers only with the requester's consent).
async fn board_export(
    State(state): State<AppState>,
    Path((unit_id, ext)): Path<(i32, String)>,
) -> Result<Response, PageError> {
    use super::requests::ledger::{Format, download};
    use crate::ledger::export::{BOM, XlsxWriter, csv_rows};
    let format = Format::parse(&ext).ok_or(PageError::NotFound)?;
    let b = db::board::board(state.db(), unit_id)
        .await?
        .ok_or(PageError::NotFound)?;
    let status = |s: crate::domain::request::Status| {
        super::i18n::message(&format!("status.{}", s.as_str()), "zh-CN")
    };
    let rows: Vec<Vec<String>> = b
        .items
        .iter()
        .map(|i| {
            vec![
                i.tracking_no.clone(),
                i.village.clone(),
                i.category.clone(),
                i.requester.clone(),
                i.summary.clone().unwrap_or_default(),
                i.answer.clone().unwrap_or_default(),
                status(i.status),
                i.received_on.clone(),
            ]
        })
        .collect();
    let internal = |e: crate::ledger::Error| PageError::Internal(e.to_string());
    let bytes = match format {
        Format::Csv => {
            let mut out = BOM.to_vec();
            out.extend(csv_rows(&[BOARD_COLUMNS.map(str::to_owned).to_vec()]).map_err(internal)?);
            out.extend(csv_rows(&rows).map_err(internal)?);
            out
        }
        Format::Xlsx => {
            let widths = [18.0, 10.0, 20.0, 8.0, 40.0, 40.0, 10.0, 12.0];
            let mut x =
                XlsxWriter::with_columns(crate::ledger::title::BOARD, &BOARD_COLUMNS, &widths)
                    .map_err(internal)?;
            x.push(&rows).map_err(internal)?;
            let mut buf = std::io::Cursor::new(Vec::new());
            x.finish(&mut buf).map_err(internal)?;
            buf.into_inner()
        }
    };
    Ok(download(
        format,
        &format!("{}{}", b.unit, crate::ledger::title::BOARD),
        "board",
        axum::body::Body::from(bytes),
    ))
}
