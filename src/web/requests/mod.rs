//! Staff pages for requests: intake, batch entry, queue, search, detail,
//! receipt, exports and import.

mod batch;
mod detail;
mod import;
mod intake;
pub(crate) mod ledger;
mod queue;
mod receipt;
mod search;

use super::AppState;
use super::error::PageError;
use super::i18n::Tr;
use crate::db::calendar;
use crate::db::categories::{self, Category};
use crate::db::requests::{Deadline, Request};
use crate::db::units::{self, Unit};
use crate::domain::calendar::{WorkCalendar, china_offset};
use crate::domain::intake::Intake;
use crate::domain::request::{Status, Urgency};
use crate::domain::unit::{UnitKind, UnitTree};
use axum::Router;
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};

/// Every staff request page.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/requests", get(search::index))
        .route("/requests/new", get(intake::new).post(intake::create))
        .route("/requests/batch", get(batch::new).post(batch::create))
        .route("/requests/batch/done", get(batch::done))
        .route("/requests/export.csv", get(ledger::search::<false>))
        .route("/requests/export.xlsx", get(ledger::search::<true>))
        .route("/requests/ledger.csv", get(ledger::ledger::<false>))
        .route("/requests/ledger.xlsx", get(ledger::ledger::<true>))
        .route("/requests/import", get(import::new).post(import::create))
        .route("/requests/import/template.csv", get(ledger::template_csv))
        .route("/requests/import/template.xlsx", get(ledger::template_xlsx))
        .route("/requests/{no}", get(detail::show))
        .route("/requests/{no}/actions", post(detail::transition))
        .route("/requests/{no}/receipt", get(receipt::show))
        .route("/queue", get(queue::index))
        .route("/overdue", get(queue::overdue))
        .route("/queue/export.csv", get(ledger::queue::<false>))
        .route("/queue/export.xlsx", get(ledger::queue::<true>))
        .route("/overdue/export.csv", get(ledger::overdue::<false>))
        .route("/overdue/export.xlsx", get(ledger::overdue::<true>))
}

/// Requests shown per page of a list.
const PER_PAGE: u64 = 50;

/// Characters of a request's text shown in lists.
const EXCERPT_CHARS: usize = 40;

/// One `<option>` of a select, already translated.
#[derive(Debug, Clone)]
struct Opt {
    value: String,
    label: String,
    selected: bool,
}

/// An `<optgroup>` of options.
#[derive(Debug, Clone)]
struct OptGroup {
    label: String,
    options: Vec<Opt>,
}

/// Options of a named enum: value `name`, label from `prefix` + `name`.
fn enum_opts(tr: Tr, prefix: &str, names: &[&'static str], selected: &str) -> Vec<Opt> {
    names
        .iter()
        .map(|n| Opt {
            value: (*n).to_owned(),
            label: tr.tp(prefix, n),
            selected: selected.trim() == *n,
        })
        .collect()
}

/// Category options, top-level first, children indented below their parent.
fn category_opts(cats: &[Category], selected: &str) -> Vec<Opt> {
    let mut out = Vec::new();
    for (top, kids) in categories::grouped(cats) {
        out.push(Opt {
            value: top.id.to_string(),
            label: top.name.clone(),
            selected: selected.trim() == top.id.to_string(),
        });
        for k in kids {
            out.push(Opt {
                value: k.id.to_string(),
                label: format!("\u{3000}› {}", k.name),
                selected: selected.trim() == k.id.to_string(),
            });
        }
    }
    out
}

/// Unit options from a list of ids, in the order given.
fn unit_opts(all: &[Unit], ids: &[i32], selected: &str) -> Vec<Opt> {
    ids.iter()
        .filter_map(|id| all.iter().find(|u| u.id == *id))
        .map(|u| Opt {
            value: u.id.to_string(),
            label: u.name.clone(),
            selected: selected.trim() == u.id.to_string(),
        })
        .collect()
}

/// The units of `kind` within `root`'s subtree, tree-ordered.
fn units_of_kind(all: &[Unit], root: i32, kind: UnitKind) -> Vec<i32> {
    super::admin::tree_rows(all, root)
        .into_iter()
        .filter(|r| r.kind == kind.as_str())
        .map(|r| r.id)
        .collect()
}

/// `2026-11-29`.
fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// `2026-11-29 14:05` in China time.
fn china_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&china_offset())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The first characters of a text, with an ellipsis when cut.
fn excerpt(text: &str, chars: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    let mut it = flat.chars();
    let head: String = it.by_ref().take(chars).collect();
    if it.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

/// Units, categories and the calendar, loaded once per page (no N+1).
struct Lookup {
    units: Vec<Unit>,
    tree: UnitTree,
    cats: Vec<Category>,
    cal: WorkCalendar,
    today: NaiveDate,
}

impl Lookup {
    async fn load(state: &AppState) -> Result<Lookup, PageError> {
        let units = units::all(state.db()).await?;
        let tree = units::tree_of(&units);
        let cats = categories::all(state.db()).await?;
        let cal = calendar::load(state.db()).await?;
        Ok(Lookup {
            units,
            tree,
            cats,
            cal,
            today: super::scope::today(),
        })
    }

    fn unit_name(&self, id: Option<i32>) -> String {
        id.and_then(|id| self.units.iter().find(|u| u.id == id))
            .map(|u| u.name.clone())
            .unwrap_or_default()
    }

    fn category(&self, id: i32) -> String {
        categories::label(&self.cats, id)
    }

    /// The deadline badge: CSS class and label.
    fn deadline(&self, r: &Request, tr: Tr) -> Option<Badge> {
        match r.deadline(self.today, &self.cal) {
            Deadline::None => None,
            Deadline::DueSoon => Some(Badge {
                class: "due-soon",
                label: tr.t("deadline.due_soon"),
            }),
            Deadline::Overdue => Some(Badge {
                class: "overdue",
                label: tr.t("deadline.overdue"),
            }),
        }
    }

    /// One line of a request list, personal data masked.
    fn row(&self, r: &Request, tr: Tr) -> RequestRow {
        RequestRow {
            tracking_no: r.tracking_no.clone(),
            status: r.status.as_str(),
            status_label: tr.tp("status.", r.status.as_str()),
            deadline: self.deadline(r, tr),
            urgency: (r.urgency != Urgency::Normal && r.status.is_open())
                .then(|| tr.tp("urgency.", r.urgency.as_str())),
            supervised: r.supervised && r.status.is_open(),
            needs_review: r.needs_review,
            review_due: r.status == Status::Deferred
                && r.review_on.is_some_and(|d| d <= self.today),
            village: self.unit_name(Some(r.village_id)),
            category: self.category(r.category_id),
            unit: self.unit_name(r.current_unit()),
            due_on: day(r.due_on),
            requester: r.name.to_string(),
            excerpt: excerpt(&r.content, EXCERPT_CHARS),
            can_supervise: false,
        }
    }
}

/// A coloured label next to a request.
#[derive(Debug, Clone)]
struct Badge {
    class: &'static str,
    label: String,
}

/// One request in a list (names masked).
#[derive(Debug, Clone)]
struct RequestRow {
    tracking_no: String,
    status: &'static str,
    status_label: String,
    deadline: Option<Badge>,
    /// 紧急 / 特急 while open.
    urgency: Option<String>,
    supervised: bool,
    needs_review: bool,
    review_due: bool,
    village: String,
    category: String,
    unit: String,
    due_on: String,
    requester: String,
    excerpt: String,
    /// Offer the 督办 button (overdue page).
    can_supervise: bool,
}

/// Page navigation of a list: current page, page count, links.
#[derive(Debug, Clone)]
struct Pager {
    page: u64,
    total: u64,
    label: String,
    prev: Option<String>,
    next: Option<String>,
}

impl Pager {
    /// `base` is the path with the query that keeps the filters (no `page`).
    fn new(tr: Tr, base: &str, page: u64, total: u64) -> Pager {
        let pages = total.div_ceil(PER_PAGE).max(1);
        let page = page.clamp(1, pages);
        let sep = if base.contains('?') { '&' } else { '?' };
        let link = |p: u64| format!("{base}{sep}page={p}");
        Pager {
            page,
            total,
            label: tr
                .t("req.pager.page")
                .replace("{page}", &page.to_string())
                .replace("{pages}", &pages.to_string())
                .replace("{total}", &total.to_string()),
            prev: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        }
    }
}

/// The idempotency key of one submitted request: the form's random key mixed
/// with what was typed. Submitting the same form twice gives the same key (one
/// request); reusing an old form page (browser back) for a different request
/// gives a new one.
fn submission_key(form_key: &str, intake: &Intake) -> Option<String> {
    use sha2::{Digest, Sha256};
    let form_key = form_key.trim();
    if form_key.is_empty() {
        return None;
    }
    let mut h = Sha256::new();
    for part in [
        form_key,
        intake.name.raw(),
        intake.phone.raw(),
        &intake.content,
        &intake.address,
        intake.req_type.as_str(),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    h.update(intake.village_id.to_be_bytes());
    h.update(intake.category_id.to_be_bytes());
    Some(hex::encode(&h.finalize()[..24]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_cut_long_text_and_flatten_lines() {
        assert_eq!(excerpt("路灯\n坏了", 40), "路灯 坏了");
        assert_eq!(excerpt("一二三四五", 3), "一二三…");
        assert_eq!(excerpt("一二三", 3), "一二三");
    }

    #[test]
    fn pager_keeps_the_filters_and_clamps_the_page() {
        let p = Pager::new(Tr::default(), "/requests?q=%E8%B7%AF", 2, 120);
        assert_eq!(p.label, "第 2 / 3 页，共 120 条");
        assert_eq!(p.prev.as_deref(), Some("/requests?q=%E8%B7%AF&page=1"));
        assert_eq!(p.next.as_deref(), Some("/requests?q=%E8%B7%AF&page=3"));
        let p = Pager::new(Tr::default(), "/requests", 9, 0);
        assert_eq!(p.page, 1);
        assert!(p.prev.is_none() && p.next.is_none());
    }
}
