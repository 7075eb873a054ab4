//! Batch entry (批量录入) of a paper sign-in sheet: every row is checked
//! before any is saved, so a sheet goes in whole or not at all.

use super::intake::{
    MeetingQuery, attach_meeting, meeting_note, names, require_intake, village_ids,
};
use super::{Lookup, Opt, RequestRow, category_opts, enum_opts, submission_key, unit_opts};
use crate::db::{self, sessions};
use crate::domain::Validation;
use crate::domain::intake::{Intake, IntakeRaw};
use crate::domain::lifecycle;
use crate::domain::request::{RequestType, Source, TrackingNo};
use crate::web::AppState;
use crate::web::admin::FormErrors;
use crate::web::auth::Staff;
use crate::web::error::PageError;
use crate::web::form::{StaffForm, opt_id};
use crate::web::page::PageCtx;
use crate::web::scope;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use std::collections::HashMap;

/// Rows on a fresh sheet.
const DEFAULT_ROWS: usize = 10;
/// Most rows on one sheet.
const MAX_ROWS: usize = 50;

fn clamp_rows(raw: Option<&str>) -> usize {
    raw.and_then(|r| r.trim().parse::<usize>().ok())
        .unwrap_or(DEFAULT_ROWS)
        .clamp(1, MAX_ROWS)
}

/// One row of the sheet as typed.
#[derive(Debug, Clone, Default)]
struct RowForm {
    name: String,
    phone: String,
    category_id: String,
    req_type: String,
    address: String,
    content: String,
}

impl RowForm {
    fn is_empty(&self) -> bool {
        [
            &self.name,
            &self.phone,
            &self.category_id,
            &self.address,
            &self.content,
        ]
        .iter()
        .all(|s| s.trim().is_empty())
    }
}

/// The sheet as typed.
#[derive(Debug, Clone, Default)]
struct SheetForm {
    village_id: String,
    source: String,
    batch_key: String,
    meeting_id: String,
    rows: Vec<RowForm>,
}

impl SheetForm {
    fn blank(village: Option<i32>, rows: usize) -> SheetForm {
        SheetForm {
            village_id: village.map(|v| v.to_string()).unwrap_or_default(),
            source: Source::Meeting.as_str().to_owned(),
            batch_key: sessions::random_token(),
            meeting_id: String::new(),
            rows: (0..rows)
                .map(|_| RowForm {
                    req_type: RequestType::Help.as_str().to_owned(),
                    ..Default::default()
                })
                .collect(),
        }
    }

    /// Reads `village_id`, `source`, `batch_key`, `rows` and `name_0`, `phone_0`, ….
    fn from_fields(f: &HashMap<String, String>) -> SheetForm {
        let get = |k: &str| f.get(k).cloned().unwrap_or_default();
        let n = clamp_rows(f.get("rows").map(String::as_str));
        SheetForm {
            village_id: get("village_id"),
            source: get("source"),
            batch_key: get("batch_key"),
            meeting_id: get("meeting_id"),
            rows: (0..n)
                .map(|i| RowForm {
                    name: get(&format!("name_{i}")),
                    phone: get(&format!("phone_{i}")),
                    category_id: get(&format!("category_{i}")),
                    req_type: get(&format!("type_{i}")),
                    address: get(&format!("address_{i}")),
                    content: get(&format!("content_{i}")),
                })
                .collect(),
        }
    }
}

/// What was wrong with a sheet.
#[derive(Debug, Default)]
struct SheetErrors {
    top: Validation,
    rows: Vec<(usize, Validation)>,
}

/// Validates the whole sheet: the valid intakes with their row index, or
/// every problem at once.
fn check(
    sheet: &SheetForm,
    lookup: &Lookup,
    staff: &Staff,
) -> Result<Vec<(usize, Intake)>, SheetErrors> {
    let mut errs = SheetErrors::default();
    let village = opt_id(&mut errs.top, "village_id", &sheet.village_id);
    match village {
        Some(v) => {
            if let Some(k) = scope::may_log_for(&lookup.tree, &staff.user, v) {
                errs.top.add("village_id", k);
            }
        }
        None if errs.top.for_field("village_id").is_none() => {
            errs.top.add("village_id", "err.required")
        }
        None => {}
    }
    if !sheet.source.trim().is_empty() && Source::parse(&sheet.source).is_none() {
        errs.top.add("source", "err.choice");
    }
    let mut ok = Vec::new();
    for (i, row) in sheet.rows.iter().enumerate() {
        if row.is_empty() {
            continue;
        }
        let mut ids = Validation::new();
        let raw = IntakeRaw {
            requester_name: row.name.clone(),
            phone: row.phone.clone(),
            email: None,
            address: Some(row.address.clone()),
            // The village is checked once, above.
            village_id: Some(village.unwrap_or_default()),
            category_id: opt_id(&mut ids, "category_id", &row.category_id),
            req_type: Some(row.req_type.clone()),
            content: row.content.clone(),
            source: Some(sheet.source.clone()).filter(|_| errs.top.for_field("source").is_none()),
            meeting_id: None,
            urgency: None,
            consent_publish: Some(false),
        };
        let parsed = Intake::parse(&raw, |_| None, |c| lookup.cats.iter().any(|x| x.id == c));
        match super::intake::merge(ids, parsed) {
            Ok(intake) => ok.push((i, intake)),
            Err(v) => errs.rows.push((i, v)),
        }
    }
    if ok.is_empty() && errs.rows.is_empty() {
        errs.top.add("rows", "req.batch.no_rows");
    }
    if errs.top.0.is_empty() && errs.rows.is_empty() {
        Ok(ok)
    } else {
        Err(errs)
    }
}

/// One line of the error summary.
#[derive(Debug, Clone)]
struct SummaryItem {
    /// `#row-N`, or the top of the form.
    anchor: String,
    text: String,
}

/// One row of the sheet on the page.
#[derive(Debug, Clone)]
struct RowView {
    /// 0-based index (field names).
    index: usize,
    /// 1-based number (what people read).
    number: usize,
    form: RowForm,
    errors: FormErrors,
    categories: Vec<Opt>,
    types: Vec<Opt>,
}

#[derive(Template)]
#[template(path = "requests/batch.html")]
struct BatchPage {
    ctx: PageCtx,
    batch_key: String,
    meeting_id: String,
    meeting: Option<String>,
    row_count: usize,
    villages: Vec<Opt>,
    sources: Vec<Opt>,
    rows: Vec<RowView>,
    top_errors: FormErrors,
    /// "第 N 行：字段 — 消息", each linking to its row.
    summary: Vec<SummaryItem>,
    alert: Option<String>,
    more_rows: Option<usize>,
}

fn page(
    lookup: &Lookup,
    staff: &Staff,
    sheet: SheetForm,
    errors: &SheetErrors,
    alert: Option<String>,
    meeting: Option<String>,
) -> BatchPage {
    let tr = staff.tr;
    let type_names = names(RequestType::ALL, RequestType::as_str);
    let mut summary = Vec::new();
    for e in &errors.top.0 {
        summary.push(SummaryItem {
            anchor: "#sheet".to_owned(),
            text: tr
                .t("req.batch.sheet_error")
                .replace("{field}", &tr.tp("req.field.", field_label(&e.field)))
                .replace("{message}", &tr.t(&e.key)),
        });
    }
    let rows: Vec<RowView> = sheet
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let v = errors
                .rows
                .iter()
                .find(|(n, _)| *n == i)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            for e in &v.0 {
                summary.push(SummaryItem {
                    anchor: format!("#row-{}", i + 1),
                    text: tr
                        .t("req.batch.row_error")
                        .replace("{n}", &(i + 1).to_string())
                        .replace("{field}", &tr.tp("req.field.", field_label(&e.field)))
                        .replace("{message}", &tr.t(&e.key)),
                });
            }
            RowView {
                index: i,
                number: i + 1,
                errors: FormErrors::from_validation(&v, tr),
                categories: category_opts(&lookup.cats, &r.category_id),
                types: enum_opts(tr, "type.", &type_names, &r.req_type),
                form: r.clone(),
            }
        })
        .collect();
    let row_count = rows.len();
    BatchPage {
        ctx: staff.ctx(),
        villages: unit_opts(
            &lookup.units,
            &village_ids(lookup, staff),
            &sheet.village_id,
        ),
        sources: enum_opts(
            tr,
            "source.",
            &names(Source::ALL, Source::as_str),
            &sheet.source,
        ),
        batch_key: sheet.batch_key,
        meeting_id: sheet.meeting_id,
        meeting,
        row_count,
        rows,
        top_errors: FormErrors::from_validation(&errors.top, tr),
        summary,
        alert,
        more_rows: (row_count < MAX_ROWS).then(|| (row_count + 10).min(MAX_ROWS)),
    }
}

/// The `req.field.*` label of a form field.
fn field_label(field: &str) -> &str {
    match field {
        "category_id" => "category",
        "village_id" => "village",
        "meeting_id" => "meeting",
        other => other,
    }
}

/// `GET /requests/batch[?rows=N&meeting_id=M]`.
pub(super) async fn new(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<MeetingQuery>,
) -> Result<Html<String>, PageError> {
    require_intake(&staff)?;
    let lookup = Lookup::load(&state).await?;
    let meeting = meeting_note(&state, &lookup, &staff, q.meeting_id.as_deref()).await?;
    let villages = village_ids(&lookup, &staff);
    let preselect = match (&meeting, villages.as_slice()) {
        (Some(m), _) => Some(m.village_id),
        (None, [only]) => Some(*only),
        _ => None,
    };
    let mut sheet = SheetForm::blank(preselect, clamp_rows(q.rows.as_deref()));
    if let Some(m) = &meeting {
        sheet.meeting_id = m.id.to_string();
    }
    let label = meeting.map(|m| m.label);
    Ok(Html(
        page(&lookup, &staff, sheet, &SheetErrors::default(), None, label).render()?,
    ))
}

/// `POST /requests/batch`: all rows or none.
pub(super) async fn create(
    State(state): State<AppState>,
    StaffForm { staff, form }: StaffForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    require_intake(&staff)?;
    let lookup = Lookup::load(&state).await?;
    let sheet = SheetForm::from_fields(&form);
    let meeting = meeting_note(&state, &lookup, &staff, Some(sheet.meeting_id.as_str()))
        .await?
        .map(|m| m.label);
    let mut checked = check(&sheet, &lookup, &staff);
    // The meeting is the sheet's: checked once, against the first row's village.
    if let Ok(intakes) = &mut checked
        && let Some((_, first)) = intakes.first_mut()
    {
        match attach_meeting(&state, &sheet.meeting_id, first).await {
            Ok(()) => {
                let id = first.meeting_id;
                for (_, intake) in intakes.iter_mut() {
                    intake.meeting_id = id;
                }
            }
            Err(db::Error::Invalid(v)) => {
                checked = Err(SheetErrors {
                    top: v,
                    rows: Vec::new(),
                })
            }
            Err(e) => return Err(e.into()),
        }
    }
    let intakes = match checked {
        Ok(i) => i,
        Err(errors) => {
            let html = page(&lookup, &staff, sheet, &errors, None, meeting).render()?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
        }
    };
    let words = scope::route_words();
    let mut saved: Vec<String> = Vec::with_capacity(intakes.len());
    for (i, intake) in &intakes {
        let key = submission_key(&format!("{}:{i}", sheet.batch_key), intake);
        match db::requests::create(
            state.db(),
            intake,
            staff.user.id,
            key.as_deref(),
            &words,
            state.config().reach(),
            Utc::now(),
        )
        .await
        {
            Ok(created) => saved.push(created.request.tracking_no),
            Err(e) => {
                // Everything was checked first, so this is the database or
                // the routing set-up failing. Re-submitting the same sheet
                // finishes it: saved rows replay instead of repeating.
                tracing::error!(error = %e, row = i + 1, saved = saved.len(), "batch intake failed");
                let alert = staff
                    .tr
                    .t("req.batch.save_failed")
                    .replace("{n}", &(i + 1).to_string())
                    .replace("{saved}", &saved.join("、"));
                let status = match e {
                    db::Error::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                let html = page(
                    &lookup,
                    &staff,
                    sheet,
                    &SheetErrors::default(),
                    Some(alert),
                    meeting,
                )
                .render()?;
                return Ok((status, Html(html)).into_response());
            }
        }
    }
    tracing::info!(user_id = staff.user.id, count = saved.len(), "batch logged");
    let nos = serde_urlencoded::to_string([("nos", saved.join(","))]).unwrap_or_default();
    Ok(Redirect::to(&format!("/requests/batch/done?{nos}")).into_response())
}

#[derive(serde::Deserialize)]
pub(super) struct DoneQuery {
    #[serde(default)]
    nos: String,
}

#[derive(Template)]
#[template(path = "requests/batch_done.html")]
struct DonePage {
    ctx: PageCtx,
    rows: Vec<RequestRow>,
}

/// `GET /requests/batch/done?nos=…`: the numbers just created, with receipts.
pub(super) async fn done(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, PageError> {
    let lookup = Lookup::load(&state).await?;
    let actor = scope::actor(&staff.user);
    let mut rows = Vec::new();
    for no in q
        .nos
        .split(',')
        .filter_map(TrackingNo::parse)
        .take(MAX_ROWS)
    {
        let req = match db::requests::get(state.db(), &no).await {
            Ok(r) => r,
            Err(db::Error::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        if lifecycle::in_scope(&req.state(), &actor, &lookup.tree) {
            rows.push(lookup.row(&req, staff.tr));
        }
    }
    let page = DonePage {
        ctx: staff.ctx(),
        rows,
    };
    Ok(Html(page.render()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_count_defaults_to_ten_and_stays_within_fifty() {
        assert_eq!(clamp_rows(None), 10);
        assert_eq!(clamp_rows(Some("3")), 3);
        assert_eq!(clamp_rows(Some("500")), 50);
        assert_eq!(clamp_rows(Some("0")), 1);
        assert_eq!(clamp_rows(Some("x")), 10);
    }

    #[test]
    fn a_row_with_only_a_type_is_empty() {
        let r = RowForm {
            req_type: "help".into(),
            ..Default::default()
        };
        assert!(r.is_empty());
    }
}
