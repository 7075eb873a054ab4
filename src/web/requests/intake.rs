//! The intake form (登记诉求): one request typed at the meeting or a walk-in.

use super::{Lookup, Opt, category_opts, enum_opts, unit_opts};
use crate::db::{self, sessions};
use crate::domain::Validation;
use crate::domain::intake::{Intake, IntakeRaw};
use crate::domain::request::{RequestType, Source, Urgency};
use crate::domain::role::Role;
use crate::domain::unit::UnitKind;
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

/// Fails with 403 unless the account may log requests.
pub(super) fn require_intake(staff: &Staff) -> Result<(), PageError> {
    if matches!(staff.role(), Role::Cadre | Role::Dispatcher) {
        Ok(())
    } else {
        Err(PageError::Forbidden)
    }
}

/// The villages this account may log requests for, tree-ordered.
pub(super) fn village_ids(lookup: &Lookup, staff: &Staff) -> Vec<i32> {
    super::units_of_kind(&lookup.units, staff.unit.id, UnitKind::Village)
        .into_iter()
        .filter(|v| scope::may_log_for(&lookup.tree, &staff.user, *v).is_none())
        .collect()
}

/// Names of the enums' values, for select options.
pub(super) fn names<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| name(*v)).collect()
}

/// The open meeting a form logs into (`?meeting_id=`), shown above the form.
#[derive(Debug, Clone)]
pub(super) struct MeetingNote {
    /// Meeting id (hidden field).
    pub id: i32,
    /// Its village.
    pub village_id: i32,
    /// "登记到 金星村 2026-11-30 周周会".
    pub label: String,
}

/// The meeting named in the query, if it is open and this account may log
/// for its village; anything else is ignored (the form then logs without one).
pub(super) async fn meeting_note(
    state: &AppState,
    lookup: &Lookup,
    staff: &Staff,
    raw: Option<&str>,
) -> Result<Option<MeetingNote>, PageError> {
    let Some(id) = raw.and_then(|r| r.trim().parse::<i32>().ok()) else {
        return Ok(None);
    };
    let m = match db::meetings::get(state.db(), id).await {
        Ok(m) => m,
        Err(db::Error::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if m.closed || scope::may_log_for(&lookup.tree, &staff.user, m.village_id).is_some() {
        return Ok(None);
    }
    Ok(Some(MeetingNote {
        id: m.id,
        village_id: m.village_id,
        label: staff
            .tr
            .t("req.intake.meeting")
            .replace("{village}", &lookup.unit_name(Some(m.village_id)))
            .replace("{date}", &super::day(m.held_on)),
    }))
}

/// Attaches the posted meeting to a valid intake, checking that it is open
/// and of the same village.
pub(super) async fn attach_meeting(
    state: &AppState,
    raw: &str,
    intake: &mut Intake,
) -> Result<(), db::Error> {
    let mut v = Validation::new();
    let Some(id) = opt_id(&mut v, "meeting_id", raw) else {
        return v.finish().map_err(db::Error::Invalid);
    };
    if let Some(key) = db::meetings::check_for_intake(state.db(), id, intake.village_id).await? {
        return Err(Validation::one("meeting_id", key).into());
    }
    intake.meeting_id = Some(id);
    Ok(())
}

/// `?meeting_id=` of the intake and batch forms.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct MeetingQuery {
    /// Meeting to log into.
    pub meeting_id: Option<String>,
    /// Rows of the batch sheet.
    pub rows: Option<String>,
}

/// A category's one-time notice (一次性告知), for the help list.
#[derive(Debug, Clone)]
struct BringNote {
    category: String,
    note: String,
}

#[derive(Template)]
#[template(path = "requests/new.html")]
struct IntakePage {
    ctx: PageCtx,
    form: IntakeForm,
    errors: FormErrors,
    villages: Vec<Opt>,
    categories: Vec<Opt>,
    types: Vec<Opt>,
    urgencies: Vec<Opt>,
    sources: Vec<Opt>,
    bring_notes: Vec<BringNote>,
    meeting: Option<String>,
}

/// The intake form as posted.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct IntakeForm {
    village_id: String,
    category_id: String,
    #[serde(rename = "type")]
    req_type: String,
    urgency: String,
    requester_name: String,
    phone: String,
    email: String,
    address: String,
    content: String,
    source: String,
    consent_publish: Option<String>,
    idempotency_key: String,
    meeting_id: String,
}

impl IntakeForm {
    fn blank(village: Option<i32>) -> IntakeForm {
        IntakeForm {
            village_id: village.map(|v| v.to_string()).unwrap_or_default(),
            req_type: RequestType::Help.as_str().to_owned(),
            urgency: Urgency::Normal.as_str().to_owned(),
            source: Source::Meeting.as_str().to_owned(),
            idempotency_key: sessions::random_token(),
            ..Default::default()
        }
    }

    /// Validates the form against what this account may do.
    fn parse(&self, lookup: &Lookup, staff: &Staff) -> Result<Intake, Validation> {
        let mut ids = Validation::new();
        let raw = IntakeRaw {
            requester_name: self.requester_name.clone(),
            phone: self.phone.clone(),
            email: Some(self.email.clone()),
            address: Some(self.address.clone()),
            village_id: opt_id(&mut ids, "village_id", &self.village_id),
            category_id: opt_id(&mut ids, "category_id", &self.category_id),
            req_type: Some(self.req_type.clone()),
            content: self.content.clone(),
            source: Some(self.source.clone()),
            meeting_id: None,
            urgency: Some(self.urgency.clone()),
            consent_publish: Some(self.consent_publish.is_some()),
        };
        let parsed = Intake::parse(
            &raw,
            |v| scope::may_log_for(&lookup.tree, &staff.user, v),
            |c| lookup.cats.iter().any(|x| x.id == c),
        );
        merge(ids, parsed)
    }
}

/// Puts the id-parsing errors first and drops the parser's "required" for
/// the same fields.
pub(super) fn merge<T>(ids: Validation, parsed: Result<T, Validation>) -> Result<T, Validation> {
    match (ids.finish(), parsed) {
        (Ok(()), parsed) => parsed,
        (Err(ids), Ok(_)) => Err(ids),
        (Err(mut ids), Err(more)) => {
            for e in more.0 {
                if ids.for_field(&e.field).is_none() {
                    ids.0.push(e);
                }
            }
            Err(ids)
        }
    }
}

fn page(
    lookup: &Lookup,
    staff: &Staff,
    form: IntakeForm,
    errors: FormErrors,
    meeting: Option<String>,
) -> IntakePage {
    let tr = staff.tr;
    let bring_notes = lookup
        .cats
        .iter()
        .filter_map(|c| {
            let note = c.bring_note.as_deref()?.trim();
            (!note.is_empty()).then(|| BringNote {
                category: lookup.category(c.id),
                note: note.to_owned(),
            })
        })
        .collect();
    IntakePage {
        ctx: staff.ctx(),
        villages: unit_opts(&lookup.units, &village_ids(lookup, staff), &form.village_id),
        categories: category_opts(&lookup.cats, &form.category_id),
        types: enum_opts(
            tr,
            "type.",
            &names(RequestType::ALL, RequestType::as_str),
            &form.req_type,
        ),
        urgencies: enum_opts(
            tr,
            "urgency.",
            &names(Urgency::ALL, Urgency::as_str),
            &form.urgency,
        ),
        sources: enum_opts(
            tr,
            "source.",
            &names(Source::ALL, Source::as_str),
            &form.source,
        ),
        bring_notes,
        form,
        errors,
        meeting,
    }
}

/// `GET /requests/new[?meeting_id=]`.
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
    let mut form = IntakeForm::blank(preselect);
    if let Some(m) = &meeting {
        form.meeting_id = m.id.to_string();
    }
    let label = meeting.map(|m| m.label);
    Ok(Html(
        page(&lookup, &staff, form, FormErrors::default(), label).render()?,
    ))
}

/// `POST /requests/new`: saves, then shows the receipt.
pub(super) async fn create(
    State(state): State<AppState>,
    StaffForm { staff, form }: StaffForm<IntakeForm>,
) -> Result<Response, PageError> {
    require_intake(&staff)?;
    let lookup = Lookup::load(&state).await?;
    let result = match form.parse(&lookup, &staff) {
        Ok(mut intake) => match attach_meeting(&state, &form.meeting_id, &mut intake).await {
            Ok(()) => {
                let key = super::submission_key(&form.idempotency_key, &intake);
                db::requests::create(
                    state.db(),
                    &intake,
                    staff.user.id,
                    key.as_deref(),
                    &scope::route_words(),
                    state.config().reach(),
                    Utc::now(),
                )
                .await
            }
            Err(e) => Err(e),
        },
        Err(v) => Err(v.into()),
    };
    match result {
        Ok(created) => {
            if !created.replayed {
                tracing::info!(
                    user_id = staff.user.id,
                    tracking_no = %created.request.tracking_no,
                    "request logged"
                );
            }
            Ok(Redirect::to(&format!(
                "/requests/{}/receipt",
                created.request.tracking_no
            ))
            .into_response())
        }
        Err(db::Error::Invalid(v)) => {
            let errors = FormErrors::from_validation(&v, staff.tr);
            let meeting =
                meeting_note(&state, &lookup, &staff, Some(form.meeting_id.as_str())).await?;
            let html = page(&lookup, &staff, form, errors, meeting.map(|m| m.label)).render()?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
