//! The dashboard's figures over a filtered set of requests: tallies grouped
//! by any column with SQL, and the counts behind the five rates.

use super::entities::{feedback, request, request_event};
use super::requests::{Filter, condition};
use super::{Result, calendar};
use crate::domain::calendar::china_date;
use crate::domain::request::{Rating, Status};
use crate::domain::stats::{self, Counts, Handoff, HandoffKind};
use crate::domain::tally::Tally;
use crate::domain::unit::{UnitKind, UnitTree};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use std::collections::HashMap;

/// Tallies of the requests matching `f`, grouped by `by` (`None` when the
/// column is empty, e.g. no handling unit yet).
pub async fn tally_by(
    db: &impl ConnectionTrait,
    f: &Filter,
    by: request::Column,
) -> Result<HashMap<Option<i32>, Tally>> {
    let rows: Vec<(Option<i32>, String, bool, i64)> = request::Entity::find()
        .select_only()
        .column(by)
        .column(request::Column::Status)
        .column(request::Column::OnTheSpot)
        .column_as(request::Column::Id.count(), "n")
        .filter(condition(f))
        .group_by(by)
        .group_by(request::Column::Status)
        .group_by(request::Column::OnTheSpot)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: HashMap<Option<i32>, Tally> = HashMap::new();
    for (key, status, spot, n) in rows {
        let t = out.entry(key).or_default();
        add(t, &status, spot, n);
    }
    Ok(out)
}

/// The tally of the requests matching `f`.
pub async fn tally(db: &impl ConnectionTrait, f: &Filter) -> Result<Tally> {
    let rows: Vec<(String, bool, i64)> = request::Entity::find()
        .select_only()
        .column(request::Column::Status)
        .column(request::Column::OnTheSpot)
        .column_as(request::Column::Id.count(), "n")
        .filter(condition(f))
        .group_by(request::Column::Status)
        .group_by(request::Column::OnTheSpot)
        .into_tuple()
        .all(db)
        .await?;
    let mut t = Tally::default();
    for (status, spot, n) in rows {
        add(&mut t, &status, spot, n);
    }
    Ok(t)
}

fn add(t: &mut Tally, status: &str, spot: bool, n: i64) {
    let n = u64::try_from(n).unwrap_or(0);
    let one = Tally::of([(Status::parse(status).unwrap_or(Status::Received), spot)]);
    *t = t.plus(Tally {
        received: one.received * n,
        done: one.done * n,
        on_the_spot: one.on_the_spot * n,
        in_progress: one.in_progress * n,
        deferred: one.deferred * n,
    });
}

fn ids_of(f: &Filter) -> sea_orm::sea_query::SelectStatement {
    request::Entity::find()
        .select_only()
        .column(request::Column::Id)
        .filter(condition(f))
        .into_query()
}

/// The counts behind the rates for the requests matching `f`, as of `now`.
/// `tally` is the tally of the same filter.
pub async fn counts(
    db: &impl ConnectionTrait,
    f: &Filter,
    tally: &Tally,
    tree: &UnitTree,
    now: DateTime<Utc>,
) -> Result<(Counts, HashMap<i32, (u64, u64)>)> {
    let today = china_date(now);
    let cal = calendar::load(db).await?;
    let mut c = Counts {
        received: tally.received,
        done: tally.done,
        ..Default::default()
    };

    // 响应率: handoffs and accepts of these requests, only the columns needed.
    let rows: Vec<(i32, String, Option<i32>, DateTime<Utc>)> = request_event::Entity::find()
        .select_only()
        .column(request_event::Column::RequestId)
        .column(request_event::Column::Action)
        .column(request_event::Column::ToUnitId)
        .column(request_event::Column::At)
        .filter(request_event::Column::RequestId.in_subquery(ids_of(f)))
        .filter(request_event::Column::Action.is_in([
            "intake", "dispatch", "reassign", "delegate", "accept", "complete", "defer",
        ]))
        .order_by_asc(request_event::Column::RequestId)
        .order_by_asc(request_event::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let handoffs: Vec<Handoff> = rows
        .into_iter()
        .filter_map(|(request_id, action, unit, at)| {
            let unit_id = unit?;
            let kind = match action.as_str() {
                "accept" => HandoffKind::Accepted,
                "complete" | "defer" => HandoffKind::Closed,
                // Intake into a dispatcher's queue is no dispatch.
                "intake"
                    if !matches!(
                        tree.kind(unit_id),
                        Some(UnitKind::Village | UnitKind::Office)
                    ) =>
                {
                    return None;
                }
                _ => HandoffKind::Sent,
            };
            Some(Handoff {
                request_id,
                kind,
                unit_id,
                on: china_date(at),
            })
        })
        .collect();
    (c.accepted_in_time, c.dispatched) = stats::response(&handoffs, &cal, today);

    // 按时办结率: the latest completion of each done request against its due date.
    let done = Filter {
        status: Some(Status::Done),
        ..f.clone()
    };
    let due: Vec<(i32, NaiveDate, Option<i32>)> = request::Entity::find()
        .select_only()
        .column(request::Column::Id)
        .column(request::Column::DueOn)
        .column(request::Column::HandlerUnitId)
        .filter(condition(&done))
        .into_tuple()
        .all(db)
        .await?;
    let completed: Vec<(i32, Option<DateTime<Utc>>)> = request_event::Entity::find()
        .select_only()
        .column(request_event::Column::RequestId)
        .column_as(request_event::Column::At.max(), "at")
        .filter(request_event::Column::RequestId.in_subquery(ids_of(&done)))
        .filter(request_event::Column::Action.eq("complete"))
        .group_by(request_event::Column::RequestId)
        .into_tuple()
        .all(db)
        .await?;
    let completed: HashMap<i32, NaiveDate> = completed
        .into_iter()
        .filter_map(|(id, at)| Some((id, china_date(at?))))
        .collect();
    // Per handling unit: (done, done on time), for the ranking.
    let mut by_unit: HashMap<i32, (u64, u64)> = HashMap::new();
    for (id, due_on, unit) in due {
        let on_time = completed.get(&id).is_some_and(|d| *d <= due_on);
        if on_time {
            c.done_on_time += 1;
        }
        if let Some(u) = unit {
            let e = by_unit.entry(u).or_default();
            e.0 += 1;
            e.1 += u64::from(on_time);
        }
    }

    // 反馈率: answered requests whose latest answer has a delivered feedback row.
    let answered = Filter {
        status: None,
        ..f.clone()
    };
    let answered_ids = request::Entity::find()
        .select_only()
        .column(request::Column::Id)
        .filter(condition(&answered))
        .filter(request::Column::Status.is_in([Status::Done.as_str(), Status::Deferred.as_str()]))
        .into_query();
    let last_answer: Vec<(i32, Option<i64>)> = request_event::Entity::find()
        .select_only()
        .column(request_event::Column::RequestId)
        .column_as(request_event::Column::Id.max(), "last")
        .filter(request_event::Column::RequestId.in_subquery(answered_ids.clone()))
        .filter(
            request_event::Column::ToStatus
                .is_in([Status::Done.as_str(), Status::Deferred.as_str()]),
        )
        .filter(
            Expr::col(request_event::Column::FromStatus)
                .ne(Expr::col(request_event::Column::ToStatus)),
        )
        .group_by(request_event::Column::RequestId)
        .into_tuple()
        .all(db)
        .await?;
    let delivered: Vec<(i32, Option<i64>)> = feedback::Entity::find()
        .select_only()
        .column(feedback::Column::RequestId)
        .column_as(feedback::Column::OwedEventId.max(), "upto")
        .filter(feedback::Column::RequestId.in_subquery(answered_ids))
        .filter(feedback::Column::Delivered.eq(true))
        .group_by(feedback::Column::RequestId)
        .into_tuple()
        .all(db)
        .await?;
    let delivered: HashMap<i32, i64> = delivered
        .into_iter()
        .filter_map(|(id, upto)| Some((id, upto?)))
        .collect();
    c.feedback_owed = tally.done + tally.deferred;
    c.feedback_delivered = last_answer
        .iter()
        .filter(|(id, last)| last.is_some_and(|l| delivered.get(id).is_some_and(|upto| *upto >= l)))
        .count() as u64;

    // 满意率.
    let ratings: Vec<(Option<String>, i64)> = request::Entity::find()
        .select_only()
        .column(request::Column::Rating)
        .column_as(request::Column::Id.count(), "n")
        .filter(condition(f))
        .filter(request::Column::Rating.is_not_null())
        .group_by(request::Column::Rating)
        .into_tuple()
        .all(db)
        .await?;
    for (r, n) in ratings {
        let n = u64::try_from(n).unwrap_or(0);
        c.rated += n;
        if r.as_deref()
            .and_then(Rating::parse)
            .is_some_and(Rating::is_satisfied)
        {
            c.satisfied += n;
        }
    }
    Ok((c, by_unit))
}

/// Everything the dashboard shows about one set of requests.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Received, done, on the spot, in progress, deferred.
    pub tally: Tally,
    /// Open and past their due date.
    pub overdue: u64,
    /// The counts behind the rates.
    pub counts: Counts,
    /// Done and done on time per current handling unit.
    pub done_by_unit: HashMap<i32, (u64, u64)>,
}

/// The summary of the requests matching `f`, as of `now`.
pub async fn summary(
    db: &impl ConnectionTrait,
    f: &Filter,
    tree: &UnitTree,
    now: DateTime<Utc>,
) -> Result<Summary> {
    let t = tally(db, f).await?;
    let overdue = super::requests::count(
        db,
        &Filter {
            overdue_on: Some(china_date(now)),
            ..f.clone()
        },
    )
    .await?;
    let (counts, done_by_unit) = counts(db, f, &t, tree, now).await?;
    Ok(Summary {
        tally: t,
        overdue,
        counts,
        done_by_unit,
    })
}
