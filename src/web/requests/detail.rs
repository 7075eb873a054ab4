//! The request detail page: every field, the timeline of events, and one form
//! per action the reader may take now (`POST /requests/{no}/actions`).

use super::{Badge, Lookup, Opt, OptGroup, china_time, day, enum_opts};
use crate::db::requests::{Event, Request};
use crate::db::{self, users};
use crate::domain::Validation;
use crate::domain::lifecycle::{self, Action, Command, LifecycleError};
use crate::domain::request::{DeferReason, Rating, TrackingNo};
use crate::domain::unit::UnitKind;
use crate::web::AppState;
use crate::web::admin::{FormErrors, tree_rows};
use crate::web::auth::Staff;
use crate::web::error::PageError;
use crate::web::form::{StaffForm, local_path, opt_id};
use crate::web::i18n::Tr;
use crate::web::page::PageCtx;
use crate::web::scope;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use std::collections::HashMap;

/// An action form as posted (only the fields of its action are read).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct ActionForm {
    action: String,
    unit_id: String,
    note: String,
    public_note: String,
    result: String,
    on_the_spot: Option<String>,
    reason: String,
    explanation: String,
    review_on: String,
    /// Where to go after success (a local path), e.g. the overdue list.
    next: String,
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| s.replace('\r', "").trim().to_owned())
}

impl ActionForm {
    /// The command for `action`, reading only the fields it needs. Fields
    /// that do not parse (unit id, date) are recorded in `v`.
    fn command(&self, action: Action, v: &mut Validation) -> Command {
        let mut cmd = Command {
            note: non_empty(&self.note),
            ..Default::default()
        };
        match action {
            Action::Dispatch | Action::Reassign | Action::Delegate => {
                cmd.unit_id = opt_id(v, "unit_id", &self.unit_id);
            }
            Action::Return | Action::Escalate => cmd.reason = non_empty(&self.reason),
            Action::Progress => cmd.public_note = non_empty(&self.public_note),
            Action::Complete => {
                cmd.result = non_empty(&self.result);
                cmd.on_the_spot = self.on_the_spot.is_some();
            }
            Action::Defer => {
                cmd.reason = non_empty(&self.reason);
                cmd.explanation = non_empty(&self.explanation);
                cmd.review_on = match self.review_on.trim() {
                    "" => None,
                    s => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                        Ok(d) => Some(d),
                        Err(_) => {
                            v.add("review_on", "err.date");
                            None
                        }
                    },
                };
            }
            Action::Accept | Action::Review | Action::Reopen | Action::Supervise => {}
        }
        cmd
    }
}

/// The request as the detail page shows it (raw personal data: staff only).
#[derive(Debug, Clone)]
struct DetailView {
    tracking_no: String,
    status: &'static str,
    status_label: String,
    deadline: Option<Badge>,
    supervised: bool,
    needs_review: bool,
    name: String,
    phone: String,
    email: Option<String>,
    address: String,
    village: String,
    category: String,
    req_type: String,
    urgency: String,
    source: String,
    content: String,
    consent_publish: bool,
    current_unit: String,
    queued: bool,
    accepted: bool,
    due_on: String,
    time_limit_days: i32,
    routed_by: String,
    received_at: String,
    logged_by: String,
    result: Option<String>,
    on_the_spot: bool,
    deferral: Option<Deferral>,
    rating: Option<String>,
    rating_comment: Option<String>,
}

/// Why a request is 暂不能办.
#[derive(Debug, Clone)]
struct Deferral {
    reason: String,
    explanation: String,
    review_on: String,
}

/// One line of the timeline.
#[derive(Debug, Clone)]
struct TimelineEntry {
    at: String,
    actor: String,
    action: String,
    from_status: Option<String>,
    to_status: String,
    from_unit: String,
    to_unit: String,
    unit_changed: bool,
    /// `req.field.routed_by` for the intake, else `req.timeline.reason`.
    reason_label: &'static str,
    reason: Option<String>,
    note: Option<String>,
    public_note: Option<String>,
}

/// One action form under the detail.
#[derive(Debug, Clone)]
struct ActionView {
    name: &'static str,
    label: String,
    /// Target units (dispatch, reassign, delegate).
    units: Vec<OptGroup>,
    /// Free-text reason (return, escalate).
    reason_text: bool,
    /// Deferral reasons (defer).
    defer_reasons: Vec<Opt>,
    result: bool,
    public_note: bool,
    note_required: bool,
    /// First allowed review date.
    min_review: String,
    form: ActionForm,
    errors: FormErrors,
}

impl ActionView {
    fn has_units(&self) -> bool {
        !self.units.is_empty()
    }

    fn is_defer(&self) -> bool {
        !self.defer_reasons.is_empty()
    }

    /// Open when it failed, or when it is the usual next step.
    fn is_open(&self) -> bool {
        self.errors.any() || matches!(self.name, "accept" | "dispatch")
    }

    /// The submit button is a plain confirmation for actions without fields.
    fn primary(&self) -> bool {
        matches!(self.name, "accept" | "complete" | "dispatch")
    }
}

#[derive(Template)]
#[template(path = "requests/detail.html")]
struct DetailPage {
    ctx: PageCtx,
    r: DetailView,
    timeline: Vec<TimelineEntry>,
    actions: Vec<ActionView>,
    alert: Option<String>,
}

/// A failed action to show again with its messages.
struct Failed {
    action: Action,
    form: ActionForm,
    errors: FormErrors,
}

fn names_of(users: &[users::User]) -> HashMap<i32, String> {
    users
        .iter()
        .map(|u| (u.id, u.display_name.clone()))
        .collect()
}

fn detail_view(r: &Request, lookup: &Lookup, users: &HashMap<i32, String>, tr: Tr) -> DetailView {
    DetailView {
        tracking_no: r.tracking_no.clone(),
        status: r.status.as_str(),
        status_label: tr.tp("status.", r.status.as_str()),
        deadline: lookup.deadline(r, tr),
        supervised: r.supervised && r.status.is_open(),
        needs_review: r.needs_review,
        name: r.name.raw().to_owned(),
        phone: r.phone.raw().to_owned(),
        email: r.email.as_ref().map(|e| e.raw().to_owned()),
        address: r.address.clone(),
        village: lookup.unit_name(Some(r.village_id)),
        category: lookup.category(r.category_id),
        req_type: tr.tp("type.", r.req_type.as_str()),
        urgency: tr.tp("urgency.", r.urgency.as_str()),
        source: tr.tp("source.", r.source.as_str()),
        content: r.content.clone(),
        consent_publish: r.consent_publish,
        current_unit: lookup.unit_name(r.current_unit()),
        queued: r.handler_unit_id.is_none() && r.queue_unit_id.is_some(),
        accepted: r.accepted,
        due_on: day(r.due_on),
        time_limit_days: r.time_limit_days,
        routed_by: r.routed_by.clone(),
        received_at: china_time(r.received_at),
        logged_by: r
            .logged_by
            .and_then(|id| users.get(&id).cloned())
            .unwrap_or_default(),
        result: r.result.clone(),
        on_the_spot: r.on_the_spot,
        deferral: r.defer_reason.map(|reason| Deferral {
            reason: tr.tp("defer_reason.", reason.as_str()),
            explanation: r.defer_explanation.clone().unwrap_or_default(),
            review_on: r.review_on.map(day).unwrap_or_default(),
        }),
        rating: r.rating.map(|x| tr.tp("rating.", x.as_str())),
        rating_comment: r.rating_comment.clone(),
    }
}

fn timeline(
    events: &[Event],
    lookup: &Lookup,
    users: &HashMap<i32, String>,
    tr: Tr,
) -> Vec<TimelineEntry> {
    events
        .iter()
        .map(|e| {
            let actor = match (e.actor_kind.as_str(), e.actor_user_id) {
                ("resident", _) => tr.t("req.actor.resident"),
                (_, Some(id)) => users.get(&id).cloned().unwrap_or_default(),
                _ => tr.t("req.actor.system"),
            };
            let reason = e.reason.as_deref().map(|r| match e.action.as_str() {
                "complete" if r == db::requests::ON_THE_SPOT => tr.t("req.badge.on_the_spot"),
                "defer" => DeferReason::parse(r)
                    .map(|d| tr.tp("defer_reason.", d.as_str()))
                    .unwrap_or_else(|| r.to_owned()),
                "rating" => Rating::parse(r)
                    .map(|x| tr.tp("rating.", x.as_str()))
                    .unwrap_or_else(|| r.to_owned()),
                _ => r.to_owned(),
            });
            TimelineEntry {
                at: china_time(e.at),
                actor,
                action: tr.tp("action.", &e.action),
                from_status: e
                    .from_status
                    .as_deref()
                    .filter(|s| *s != e.to_status)
                    .map(|s| tr.tp("status.", s)),
                to_status: tr.tp("status.", &e.to_status),
                from_unit: lookup.unit_name(e.from_unit_id),
                to_unit: lookup.unit_name(e.to_unit_id),
                unit_changed: e.from_unit_id != e.to_unit_id,
                reason_label: match e.action.as_str() {
                    "intake" => "req.field.routed_by",
                    "complete" => "req.timeline.how",
                    "rating" => "req.field.rating",
                    _ => "req.timeline.reason",
                },
                reason,
                note: e.note.clone(),
                public_note: e.public_note.clone(),
            }
        })
        .collect()
}

/// Offices, then villages, of the actor's whole tree: where a dispatcher may
/// send work (the current handler left out).
fn dispatch_targets(lookup: &Lookup, staff: &Staff, r: &Request, selected: &str) -> Vec<OptGroup> {
    let root = lookup
        .tree
        .chain(staff.user.unit_id)
        .last()
        .copied()
        .unwrap_or(staff.user.unit_id);
    let rows = tree_rows(&lookup.units, root);
    let group = |kind: UnitKind, key: &str| OptGroup {
        label: staff.tr.t(key),
        options: rows
            .iter()
            .filter(|u| u.kind == kind.as_str() && Some(u.id) != r.handler_unit_id)
            .map(|u| Opt {
                value: u.id.to_string(),
                label: u.name.clone(),
                selected: selected.trim() == u.id.to_string(),
            })
            .collect(),
    };
    [
        group(UnitKind::Office, "unit_kind.office"),
        group(UnitKind::Village, "unit_kind.village"),
    ]
    .into_iter()
    .filter(|g| !g.options.is_empty())
    .collect()
}

/// Units below the current handler (下派).
fn delegate_targets(lookup: &Lookup, r: &Request, selected: &str) -> Vec<OptGroup> {
    let Some(from) = r.handler_unit_id else {
        return Vec::new();
    };
    let options: Vec<Opt> = tree_rows(&lookup.units, from)
        .into_iter()
        .filter(|u| u.id != from)
        .map(|u| Opt {
            value: u.id.to_string(),
            label: format!("{}{}", "\u{3000}".repeat(u.depth.saturating_sub(1)), u.name),
            selected: selected.trim() == u.id.to_string(),
        })
        .collect();
    if options.is_empty() {
        Vec::new()
    } else {
        vec![OptGroup {
            label: lookup.unit_name(Some(from)),
            options,
        }]
    }
}

fn action_views(
    r: &Request,
    lookup: &Lookup,
    staff: &Staff,
    failed: Option<&Failed>,
) -> Vec<ActionView> {
    let tr = staff.tr;
    let actor = scope::actor(&staff.user);
    let tomorrow = lookup.today.succ_opt().unwrap_or(lookup.today);
    lifecycle::available(&r.state(), &actor, &lookup.tree)
        .into_iter()
        .filter_map(|a| {
            let (form, errors) = match failed {
                Some(f) if f.action == a => (f.form.clone(), f.errors.clone()),
                _ => (ActionForm::default(), FormErrors::default()),
            };
            let units = match a {
                Action::Dispatch | Action::Reassign => {
                    dispatch_targets(lookup, staff, r, &form.unit_id)
                }
                Action::Delegate => delegate_targets(lookup, r, &form.unit_id),
                _ => Vec::new(),
            };
            let needs_units = matches!(a, Action::Dispatch | Action::Reassign | Action::Delegate);
            if needs_units && units.is_empty() {
                // Legal, but there is nowhere to send it.
                return None;
            }
            Some(ActionView {
                name: a.as_str(),
                label: tr.tp("action.", a.as_str()),
                units,
                reason_text: matches!(a, Action::Return | Action::Escalate),
                defer_reasons: if a == Action::Defer {
                    let names: Vec<&'static str> =
                        DeferReason::ALL.iter().map(|d| d.as_str()).collect();
                    enum_opts(tr, "defer_reason.", &names, &form.reason)
                } else {
                    Vec::new()
                },
                result: a == Action::Complete,
                public_note: a == Action::Progress,
                note_required: a == Action::Reopen,
                min_review: day(tomorrow),
                form,
                errors,
            })
        })
        .collect()
}

async fn page(
    state: &AppState,
    staff: &Staff,
    r: &Request,
    failed: Option<&Failed>,
    alert: Option<String>,
) -> Result<DetailPage, PageError> {
    let lookup = Lookup::load(state).await?;
    let events = db::requests::events(state.db(), r.id).await?;
    let users = names_of(&users::list(state.db(), None).await?);
    let tr = staff.tr;
    Ok(DetailPage {
        ctx: staff.ctx(),
        r: detail_view(r, &lookup, &users, tr),
        timeline: timeline(&events, &lookup, &users, tr),
        actions: action_views(r, &lookup, staff, failed),
        alert,
    })
}

/// `GET /requests/{no}`.
pub(super) async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(no): Path<String>,
) -> Result<Html<String>, PageError> {
    let (req, _) = scope::visible_request(&state, &staff.user, &no).await?;
    Ok(Html(
        page(&state, &staff, &req, None, None).await?.render()?,
    ))
}

/// `POST /requests/{no}/actions`: performs one action, then back to the detail.
pub(super) async fn transition(
    State(state): State<AppState>,
    Path(no): Path<String>,
    StaffForm { staff, form }: StaffForm<ActionForm>,
) -> Result<Response, PageError> {
    let (req, tree) = scope::visible_request(&state, &staff.user, &no).await?;
    let tracking_no = TrackingNo::parse(&req.tracking_no).ok_or(PageError::NotFound)?;
    let Some(action) = Action::parse(&form.action) else {
        let alert = Some(staff.tr.t("err.action.unknown"));
        let html = page(&state, &staff, &req, None, alert).await?.render()?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
    };
    let actor = scope::actor(&staff.user);
    let mut v = Validation::new();
    let cmd = form.command(action, &mut v);
    let result = if v.0.is_empty() {
        db::requests::transition(
            state.db(),
            &tracking_no,
            Some(staff.user.id),
            actor,
            action,
            &cmd,
            state.config().reach(),
            Utc::now(),
        )
        .await
        .map(|_| ())
    } else {
        // A field did not parse: also collect the rules' own messages
        // (nothing is written).
        match lifecycle::decide(action, &req.state(), &actor, &cmd, &tree, scope::today()) {
            Err(LifecycleError::Invalid(more)) => {
                for e in more.0 {
                    if v.for_field(&e.field).is_none() {
                        v.0.push(e);
                    }
                }
                Err(db::Error::Invalid(v))
            }
            Err(other) => Err(db::Error::Lifecycle(other)),
            Ok(_) => Err(db::Error::Invalid(v)),
        }
    };
    match result {
        Ok(()) => {
            tracing::info!(
                user_id = staff.user.id,
                tracking_no = %req.tracking_no,
                action = action.as_str(),
                "request action"
            );
            let target = if form.next.starts_with('/') {
                local_path(Some(&form.next))
            } else {
                format!("/requests/{}", req.tracking_no)
            };
            Ok(Redirect::to(&target).into_response())
        }
        Err(db::Error::Invalid(v)) | Err(db::Error::Lifecycle(LifecycleError::Invalid(v))) => {
            let failed = Failed {
                action,
                errors: FormErrors::from_validation(&v, staff.tr),
                form,
            };
            let html = page(&state, &staff, &req, Some(&failed), None)
                .await?
                .render()?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_review_date_is_named_and_other_fields_are_ignored() {
        let form = ActionForm {
            unit_id: "junk".into(),
            reason: "funding".into(),
            explanation: " 明年预算 ".into(),
            review_on: "2026-13-01".into(),
            ..Default::default()
        };
        let mut v = Validation::new();
        let cmd = form.command(Action::Defer, &mut v);
        assert_eq!(v.for_field("review_on"), Some("err.date"));
        assert!(v.for_field("unit_id").is_none());
        assert_eq!(cmd.explanation.as_deref(), Some("明年预算"));
        assert_eq!(cmd.reason.as_deref(), Some("funding"));
        assert!(cmd.unit_id.is_none());
    }

    #[test]
    fn only_the_fields_of_the_action_reach_the_command() {
        let form = ActionForm {
            result: "已修复".into(),
            on_the_spot: Some("1".into()),
            public_note: "公开".into(),
            note: "  ".into(),
            ..Default::default()
        };
        let mut v = Validation::new();
        let cmd = form.command(Action::Complete, &mut v);
        assert!(v.0.is_empty());
        assert_eq!(cmd.result.as_deref(), Some("已修复"));
        assert!(cmd.on_the_spot);
        assert!(cmd.public_note.is_none());
        assert!(cmd.note.is_none());
    }
}
