//! The dashboard (`/dashboard`): tallies, the five rates, breakdowns, a unit
//! ranking and a weekly trend, every figure linked to the list behind it.

use super::AppState;
use super::api::requests::start_of;
use super::auth::Staff;
use super::error::PageError;
use super::i18n::Tr;
use super::page::PageCtx;
use crate::db::entities::request;
use crate::db::requests::Filter;
use crate::db::stats::{self, Summary};
use crate::db::{categories, units};
use crate::domain::role::Role;
use crate::domain::stats::{Counts, MIN_SAMPLE, last_weeks};
use crate::domain::tally::{Tally, rate};
use crate::domain::unit::UnitTree;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::{Datelike, NaiveDate, Utc};
use std::collections::HashMap;

/// `/dashboard`.
pub fn router() -> Router<AppState> {
    Router::new().route("/dashboard", get(index))
}

/// Roles that read the dashboard and `/api/v1/stats`.
pub fn may_view(role: Role) -> bool {
    matches!(role, Role::Dispatcher | Role::Supervisor | Role::Admin)
}

/// Weeks in the trend.
const WEEKS: u32 = 12;

/// `?from=&to=` as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
struct PeriodQuery {
    from: String,
    to: String,
}

/// A received-date period, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Period {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl Period {
    fn filter(&self, scope: &[i32]) -> Filter {
        Filter {
            scope: Some(scope.to_vec()),
            received_from: self.from.map(start_of),
            received_before: self.to.and_then(|d| d.succ_opt()).map(start_of),
            ..Default::default()
        }
    }

    /// The list link for this period plus `pairs`.
    fn href(&self, pairs: &[(&str, String)]) -> String {
        let mut all: Vec<(&str, String)> = pairs.to_vec();
        if let Some(f) = self.from {
            all.push(("from", f.to_string()));
        }
        if let Some(t) = self.to {
            all.push(("to", t.to_string()));
        }
        match serde_urlencoded::to_string(&all) {
            Ok(q) if !q.is_empty() => format!("/requests?{q}"),
            _ => "/requests".to_owned(),
        }
    }
}

/// A figure and the list behind it.
#[derive(Debug, Clone)]
struct Fig {
    n: u64,
    href: String,
}

/// One shown rate with its counts and definition.
#[derive(Debug, Clone)]
struct RateView {
    key: &'static str,
    value: String,
    numerator: u64,
    denominator: u64,
}

/// Tallies of one period.
#[derive(Debug, Clone)]
struct Column {
    label: String,
    received: Fig,
    done: Fig,
    on_the_spot: Fig,
    in_progress: Fig,
    deferred: Fig,
    overdue: Fig,
    rates: Vec<RateView>,
}

/// A row of a breakdown table.
#[derive(Debug, Clone)]
struct Row {
    name: String,
    received: Fig,
    done: Fig,
    in_progress: Fig,
    deferred: Fig,
    completion: String,
}

/// A unit in the ranking.
#[derive(Debug, Clone)]
struct Ranked {
    rank: usize,
    name: String,
    received: Fig,
    completion: String,
    on_time: String,
}

/// The weekly trend as SVG coordinates (all numbers; escaped by askama).
#[derive(Debug, Clone)]
struct Chart {
    received: String,
    done: String,
    max: u64,
    labels: Vec<(u32, String)>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    ctx: PageCtx,
    form: PeriodQuery,
    error: Option<String>,
    columns: Vec<Column>,
    period_label: String,
    by_village: Vec<Row>,
    by_unit: Vec<Row>,
    by_category: Vec<Row>,
    by_week: Vec<Row>,
    ranking: Vec<Ranked>,
    min_sample: u64,
    chart: Chart,
}

fn percent(v: Option<f64>) -> String {
    v.map(|p| format!("{p:.1}%"))
        .unwrap_or_else(|| "—".to_owned())
}

fn parse(raw: &str) -> Result<Option<NaiveDate>, ()> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| ())
}

fn rate_views(c: &Counts) -> Vec<RateView> {
    let r = c.rates();
    let v = |key, value, numerator, denominator| RateView {
        key,
        value: percent(value),
        numerator,
        denominator,
    };
    vec![
        v(
            "response",
            r.response_rate,
            c.accepted_in_time,
            c.dispatched,
        ),
        v("completion", r.completion_rate, c.done, c.received),
        v("on_time", r.on_time_rate, c.done_on_time, c.done),
        v(
            "feedback",
            r.feedback_rate,
            c.feedback_delivered,
            c.feedback_owed,
        ),
        v("satisfaction", r.satisfaction_rate, c.satisfied, c.rated),
    ]
}

fn column(label: String, p: Period, s: &Summary) -> Column {
    let fig = |n, pairs: &[(&str, String)]| Fig {
        n,
        href: p.href(pairs),
    };
    let t = s.tally;
    Column {
        label,
        received: fig(t.received, &[]),
        done: fig(t.done, &[("status", "done".into())]),
        on_the_spot: fig(
            t.on_the_spot,
            &[("status", "done".into()), ("spot", "1".into())],
        ),
        in_progress: fig(t.in_progress, &[("status", "open".into())]),
        deferred: fig(t.deferred, &[("status", "deferred".into())]),
        overdue: fig(s.overdue, &[("overdue", "1".into())]),
        rates: rate_views(&s.counts),
    }
}

fn row(name: String, t: Tally, p: Period, key: Option<(&str, String)>) -> Row {
    let fig = |n, status: Option<&str>| {
        let mut pairs: Vec<(&str, String)> = key.iter().cloned().collect();
        if let Some(s) = status {
            pairs.push(("status", s.to_owned()));
        }
        Fig {
            n,
            href: p.href(&pairs),
        }
    };
    Row {
        name,
        received: fig(t.received, None),
        done: fig(t.done, Some("done")),
        in_progress: fig(t.in_progress, Some("open")),
        deferred: fig(t.deferred, Some("deferred")),
        completion: percent(rate(t.done, t.received, MIN_SAMPLE)),
    }
}

/// Rows sorted by received, largest first, then by name.
fn rows(
    tallies: HashMap<i32, Tally>,
    name: impl Fn(i32) -> String,
    p: Period,
    field: &str,
) -> Vec<Row> {
    let mut v: Vec<(i32, Tally)> = tallies.into_iter().collect();
    v.sort_by(|a, b| b.1.received.cmp(&a.1.received).then(a.0.cmp(&b.0)));
    v.into_iter()
        .map(|(id, t)| row(name(id), t, p, Some((field, id.to_string()))))
        .collect()
}

fn by_key(m: HashMap<Option<i32>, Tally>) -> HashMap<i32, Tally> {
    m.into_iter().filter_map(|(k, t)| Some((k?, t))).collect()
}

/// Units with at least [`MIN_SAMPLE`] items, by 办结率 then 按时办结率.
fn ranking(
    tallies: &HashMap<i32, Tally>,
    done_by_unit: &HashMap<i32, (u64, u64)>,
    name: impl Fn(i32) -> String,
    p: Period,
) -> Vec<Ranked> {
    let mut v: Vec<(i32, Tally, Option<f64>, Option<f64>)> = tallies
        .iter()
        .filter(|(_, t)| t.received >= MIN_SAMPLE)
        .map(|(id, t)| {
            let (done, on_time) = done_by_unit.get(id).copied().unwrap_or_default();
            (
                *id,
                *t,
                rate(t.done, t.received, MIN_SAMPLE),
                rate(on_time, done, MIN_SAMPLE),
            )
        })
        .collect();
    let key = |r: Option<f64>| r.unwrap_or(-1.0);
    v.sort_by(|a, b| {
        key(b.2)
            .total_cmp(&key(a.2))
            .then(key(b.3).total_cmp(&key(a.3)))
            .then(a.0.cmp(&b.0))
    });
    v.into_iter()
        .enumerate()
        .map(|(i, (id, t, c, o))| Ranked {
            rank: i + 1,
            name: name(id),
            received: Fig {
                n: t.received,
                href: p.href(&[("unit_id", id.to_string())]),
            },
            completion: percent(c),
            on_time: percent(o),
        })
        .collect()
}

/// Chart area: 360 × 200, plot from x 40 to 335 (room for the last label), y 20 to 170.
fn chart(weeks: &[(NaiveDate, Tally)]) -> Chart {
    let max = weeks
        .iter()
        .map(|(_, t)| t.received.max(t.done))
        .max()
        .unwrap_or(0)
        .max(1);
    let n = weeks.len().max(2) as u64 - 1;
    let x = |i: usize| 40 + (i as u64 * 295 / n) as u32;
    let y = |v: u64| 170 - (v * 150 / max) as u32;
    let line = |f: &dyn Fn(&Tally) -> u64| {
        weeks
            .iter()
            .enumerate()
            .map(|(i, (_, t))| format!("{},{}", x(i), y(f(t))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    Chart {
        received: line(&|t| t.received),
        done: line(&|t| t.done),
        max,
        labels: weeks
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 2 == 1)
            .map(|(i, (monday, _))| (x(i), format!("{}/{}", monday.month(), monday.day())))
            .collect(),
    }
}

async fn index(
    State(state): State<AppState>,
    staff: Staff,
    Query(form): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    if !may_view(staff.user.role) {
        return Err(PageError::Forbidden);
    }
    let tr: Tr = staff.tr;
    let db = state.db();
    let all = units::all(db).await?;
    let tree: UnitTree = units::tree_of(&all);
    let scope = tree.subtree(staff.user.unit_id);
    let now = Utc::now();
    let today = crate::domain::calendar::china_date(now);
    let month = Period {
        from: today.with_day(1),
        to: None,
    };
    let (chosen, error) = match (parse(&form.from), parse(&form.to)) {
        (Ok(from), Ok(to)) if from.is_some() || to.is_some() => {
            if let (Some(f), Some(t)) = (from, to)
                && t < f
            {
                (month, Some(tr.t("req.err.date_order")))
            } else {
                (Period { from, to }, None)
            }
        }
        (Ok(_), Ok(_)) => (month, None),
        _ => (month, Some(tr.t("err.date"))),
    };
    let everything = Period {
        from: None,
        to: None,
    };
    let period_label = |p: Period| match (p.from, p.to) {
        (None, None) => tr.t("stats.all_time"),
        _ if p == month => tr.t("stats.this_month"),
        (f, t) => format!(
            "{} – {}",
            f.map(|d| d.to_string()).unwrap_or_default(),
            t.map(|d| d.to_string()).unwrap_or_default()
        ),
    };
    let mut columns = Vec::new();
    for p in [chosen, everything] {
        columns.push((p, stats::summary(db, &p.filter(&scope), &tree, now).await?));
    }
    let main = chosen.filter(&scope);
    let name = |id: i32| {
        all.iter()
            .find(|u| u.id == id)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    };
    let by_village = rows(
        by_key(stats::tally_by(db, &main, request::Column::VillageId).await?),
        name,
        chosen,
        "village_id",
    );
    let units_tally = by_key(stats::tally_by(db, &main, request::Column::HandlerUnitId).await?);
    let ranked = ranking(&units_tally, &columns[0].1.done_by_unit, name, chosen);
    let by_unit = rows(units_tally, name, chosen, "unit_id");
    let cats = categories::all(db).await?;
    let mut by_top: HashMap<i32, Tally> = HashMap::new();
    for (id, t) in by_key(stats::tally_by(db, &main, request::Column::CategoryId).await?) {
        let top = cats
            .iter()
            .find(|c| c.id == id)
            .and_then(|c| c.parent_id)
            .unwrap_or(id);
        let e = by_top.entry(top).or_default();
        *e = e.plus(t);
    }
    let cat_name = |id: i32| {
        cats.iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    let by_category = rows(by_top, cat_name, chosen, "category_id");
    let mut weeks = Vec::new();
    for (monday, sunday) in last_weeks(today, WEEKS) {
        let p = Period {
            from: Some(monday),
            to: Some(sunday),
        };
        weeks.push((monday, stats::tally(db, &p.filter(&scope)).await?));
    }
    let by_week = weeks
        .iter()
        .rev()
        .map(|(monday, t)| {
            let p = Period {
                from: Some(*monday),
                to: monday.checked_add_days(chrono::Days::new(6)),
            };
            let week = monday.iso_week();
            row(format!("{}-W{:02}", week.year(), week.week()), *t, p, None)
        })
        .collect();
    let page = DashboardPage {
        ctx: staff.ctx(),
        error: error.clone(),
        period_label: period_label(chosen),
        columns: columns
            .iter()
            .map(|(p, s)| column(period_label(*p), *p, s))
            .collect(),
        by_village,
        by_unit,
        by_category,
        by_week,
        ranking: ranked,
        min_sample: MIN_SAMPLE,
        chart: chart(&weeks),
        form,
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, Html(page.render()?)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(received: u64, done: u64) -> Tally {
        Tally {
            received,
            done,
            in_progress: received - done,
            ..Default::default()
        }
    }

    #[test]
    fn only_units_with_ten_items_are_ranked_best_first() {
        let tallies = HashMap::from([(1, t(10, 5)), (2, t(20, 18)), (3, t(9, 9))]);
        let done = HashMap::from([(1, (5, 5)), (2, (18, 9))]);
        let all = Period {
            from: None,
            to: None,
        };
        let r = ranking(&tallies, &done, |id| format!("u{id}"), all);
        let names: Vec<&str> = r.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["u2", "u1"]);
        assert_eq!(
            (r[0].completion.as_str(), r[0].on_time.as_str()),
            ("90.0%", "50.0%")
        );
        // Fewer than ten done: no on-time rate.
        assert_eq!(r[1].on_time, "—");
        assert_eq!(r[0].received.href, "/requests?unit_id=2");
    }

    #[test]
    fn the_trend_scales_to_the_busiest_week_and_stays_inside_the_chart() {
        let monday = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let weeks: Vec<(NaiveDate, Tally)> = (0..12).map(|i| (monday, t(i * 2, i))).collect();
        let c = chart(&weeks);
        assert_eq!(c.max, 22);
        assert!(c.received.starts_with("40,170 "));
        assert!(c.received.ends_with(" 335,20"));
        assert!(c.done.ends_with(" 335,95"));
        assert_eq!(c.labels.len(), 6);
        // An empty period still draws a flat line.
        assert!(chart(&[(monday, t(0, 0)), (monday, t(0, 0))]).received == "40,170 335,170");
    }

    #[test]
    fn period_links_carry_the_dates() {
        let p = Period {
            from: NaiveDate::from_ymd_opt(2026, 3, 1),
            to: NaiveDate::from_ymd_opt(2026, 3, 31),
        };
        assert_eq!(
            p.href(&[("status", "done".into())]),
            "/requests?status=done&from=2026-03-01&to=2026-03-31"
        );
    }
}
