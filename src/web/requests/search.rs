//! Request search (诉求查询): filters over the reader's scope, 50 per page.

use super::{Lookup, Opt, PER_PAGE, Pager, RequestRow, category_opts, enum_opts, unit_opts};
use crate::db::categories;
use crate::db::requests::{self, Filter};
use crate::domain::Validation;
use crate::domain::calendar::china_offset;
use crate::domain::request::Status;
use crate::domain::unit::UnitKind;
use crate::web::AppState;
use crate::web::admin::FormErrors;
use crate::web::auth::Staff;
use crate::web::error::PageError;
use crate::web::form::opt_id;
use crate::web::page::PageCtx;
use crate::web::scope;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};

/// The search form (GET), every field as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct SearchQuery {
    q: String,
    status: String,
    village_id: String,
    unit_id: String,
    category_id: String,
    overdue: String,
    spot: String,
    pub(super) from: String,
    pub(super) to: String,
    page: String,
}

/// 00:00 China time of `day`, as an instant.
fn china_midnight(day: NaiveDate) -> Option<DateTime<Utc>> {
    day.and_hms_opt(0, 0, 0)?
        .and_local_timezone(china_offset())
        .single()
        .map(|t| t.with_timezone(&Utc))
}

fn opt_date(v: &mut Validation, field: &str, raw: &str) -> Option<NaiveDate> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .map_err(|_| v.add(field, "err.date"))
        .ok()
}

impl SearchQuery {
    /// The list filter within `scope`, or the fields that do not parse.
    pub(super) fn filter(&self, lookup: &Lookup, scope: Vec<i32>) -> Result<Filter, Validation> {
        let mut v = Validation::new();
        let open = self.status.trim() == "open";
        let status = match self.status.trim() {
            "" | "open" => None,
            s => Status::parse(s).or_else(|| {
                v.add("status", "err.choice");
                None
            }),
        };
        let village_id = opt_id(&mut v, "village_id", &self.village_id);
        let handler_unit_id = opt_id(&mut v, "unit_id", &self.unit_id);
        let category_ids = opt_id(&mut v, "category_id", &self.category_id)
            .map(|c| categories::with_children(&lookup.cats, c));
        let from = opt_date(&mut v, "from", &self.from);
        let to = opt_date(&mut v, "to", &self.to);
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            v.add("to", "req.err.date_order");
        }
        v.finish()?;
        Ok(Filter {
            scope: Some(scope),
            status,
            open,
            village_id,
            handler_unit_id,
            category_ids,
            overdue_on: (!self.overdue.trim().is_empty()).then_some(lookup.today),
            on_the_spot: (!self.spot.trim().is_empty()).then_some(true),
            received_from: from.and_then(china_midnight),
            received_before: to.and_then(|d| d.succ_opt()).and_then(china_midnight),
            text: Some(self.q.trim().to_owned()).filter(|t| !t.is_empty()),
            ..Default::default()
        })
    }

    /// `/requests?…` with the filters, for page links.
    fn base(&self) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("q", &self.q),
            ("status", &self.status),
            ("village_id", &self.village_id),
            ("unit_id", &self.unit_id),
            ("category_id", &self.category_id),
            ("overdue", &self.overdue),
            ("spot", &self.spot),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.trim()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
        match serde_urlencoded::to_string(&pairs) {
            Ok(q) if !q.is_empty() => format!("/requests?{q}"),
            _ => "/requests".to_owned(),
        }
    }

    /// Whether any filter was given (otherwise the page lists everything in scope).
    fn any(&self) -> bool {
        self.base() != "/requests"
    }

    /// Whether a filter beyond the search words was given (opens the filters).
    fn filtered(&self) -> bool {
        SearchQuery {
            q: String::new(),
            ..self.clone()
        }
        .any()
    }
}

#[derive(Template)]
#[template(path = "requests/search.html")]
struct SearchPage {
    ctx: PageCtx,
    form: SearchQuery,
    errors: FormErrors,
    statuses: Vec<Opt>,
    villages: Vec<Opt>,
    units: Vec<Opt>,
    categories: Vec<Opt>,
    rows: Vec<RequestRow>,
    pager: Pager,
    searched: bool,
    filtered: bool,
    /// The filters as a query string (`?q=…` or empty), for the export links.
    export_query: String,
    /// Offer the import page (cadres and dispatchers).
    can_import: bool,
}

/// `GET /requests?…`.
pub(super) async fn index(
    State(state): State<AppState>,
    staff: Staff,
    Query(form): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let lookup = Lookup::load(&state).await?;
    let tr = staff.tr;
    let me = staff.user.unit_id;
    // Pickers cover the reader's township (or own unit above it); the scope
    // filter still limits the results.
    let area = lookup.tree.township_of(me).unwrap_or(me);
    let villages = super::units_of_kind(&lookup.units, area, UnitKind::Village);
    let mut handlers = super::units_of_kind(&lookup.units, area, UnitKind::Office);
    handlers.extend(villages.iter().copied());
    // "open" = received or in progress: what the board counts as 正在办理.
    let statuses: Vec<&'static str> = std::iter::once("open")
        .chain(Status::ALL.iter().map(|s| s.as_str()))
        .collect();
    let page_no = form.page.trim().parse::<u64>().unwrap_or(1).max(1);
    let scope_ids = scope::subtree(&lookup.tree, &staff.user);
    let (rows, pager, errors, status) = match form.filter(&lookup, scope_ids) {
        Ok(filter) => {
            let (items, total) = requests::list(state.db(), &filter, page_no, PER_PAGE).await?;
            (
                items.iter().map(|r| lookup.row(r, tr)).collect(),
                Pager::new(tr, &form.base(), page_no, total),
                FormErrors::default(),
                StatusCode::OK,
            )
        }
        Err(v) => (
            Vec::new(),
            Pager::new(tr, &form.base(), 1, 0),
            FormErrors::from_validation(&v, tr),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    };
    let page = SearchPage {
        ctx: staff.ctx(),
        statuses: enum_opts(tr, "status.", &statuses, &form.status),
        villages: unit_opts(&lookup.units, &villages, &form.village_id),
        units: unit_opts(&lookup.units, &handlers, &form.unit_id),
        categories: category_opts(&lookup.cats, &form.category_id),
        searched: form.any(),
        filtered: form.filtered(),
        export_query: form
            .base()
            .strip_prefix("/requests")
            .unwrap_or_default()
            .to_owned(),
        can_import: scope::runs_any_meeting(&staff.user),
        rows,
        pager,
        errors,
        form,
    };
    Ok((status, Html(page.render()?)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_dates_start_at_midnight_plus_eight() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(
            china_midnight(d).unwrap().to_rfc3339(),
            "2026-02-28T16:00:00+00:00"
        );
    }

    #[test]
    fn page_links_keep_the_filters_but_not_the_page() {
        let q = SearchQuery {
            q: "路灯 坏".into(),
            status: "received".into(),
            page: "3".into(),
            ..Default::default()
        };
        assert_eq!(
            q.base(),
            "/requests?q=%E8%B7%AF%E7%81%AF+%E5%9D%8F&status=received"
        );
        assert!(!SearchQuery::default().any());
        assert!(q.filtered());
        let words_only = SearchQuery {
            q: "路灯".into(),
            ..Default::default()
        };
        assert!(words_only.any() && !words_only.filtered());
        let spot = SearchQuery {
            status: "done".into(),
            spot: "1".into(),
            ..Default::default()
        };
        assert_eq!(spot.base(), "/requests?status=done&spot=1");
    }
}
