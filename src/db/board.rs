//! The public board (公开栏) of a village or township: published tallies,
//! masked items, and the satisfaction and feedback rates.

use super::entities::request;
use super::requests::Request;
use super::{Result, categories, meetings, units};
use crate::domain::request::Status;
use crate::domain::tally::{Tally, rate};
use crate::domain::unit::UnitKind;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// Fewest ratings or answers before a rate is published.
pub const MIN_SAMPLE: u64 = 10;
/// Most items listed on a board.
pub const MAX_ITEMS: u64 = 200;

/// One line of the board. Nothing personal beyond the masked name.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct BoardItem {
    /// Tracking number.
    pub tracking_no: String,
    /// Village.
    pub village: String,
    /// Category label.
    pub category: String,
    /// Status.
    #[schema(value_type = String, example = "done")]
    pub status: Status,
    /// Masked requester (张*).
    pub requester: String,
    /// Summary of the request, only with the requester's consent.
    pub summary: Option<String>,
    /// Result or deferral explanation, only with consent.
    pub answer: Option<String>,
    /// Received, `YYYY-MM-DD`.
    pub received_on: String,
}

/// A board.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Board {
    /// Unit id.
    pub unit_id: i32,
    /// Unit name.
    pub unit: String,
    /// Published tally: the latest closed meetings' tallies, summed over villages.
    pub tally: Tally,
    /// When the newest of those tallies was published (RFC 3339, +08:00).
    pub published_at: Option<String>,
    /// The China date of that publication.
    pub published_on: Option<String>,
    /// How many villages have published a tally.
    pub villages_published: usize,
    /// 满意率 in percent, when at least [`MIN_SAMPLE`] ratings.
    pub satisfaction_rate: Option<f64>,
    /// 反馈率 in percent, when at least [`MIN_SAMPLE`] answers.
    pub feedback_rate: Option<f64>,
    /// Answers still owed to requesters.
    pub owed: usize,
    /// Recent and open items.
    pub items: Vec<BoardItem>,
}

fn summary(text: &str) -> String {
    let mut s: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        s.push('…');
    }
    s
}

/// Builds the board of a village or township (`None` for other kinds).
pub async fn board(db: &impl ConnectionTrait, unit_id: i32) -> Result<Option<Board>> {
    let all = units::all(db).await?;
    let tree = units::tree_of(&all);
    match tree.kind(unit_id) {
        Some(UnitKind::Village | UnitKind::Township) => {}
        _ => return Ok(None),
    }
    let villages: Vec<i32> = tree
        .subtree(unit_id)
        .into_iter()
        .filter(|u| tree.kind(*u) == Some(UnitKind::Village))
        .collect();
    let published = meetings::latest_published(db, &villages).await?;
    let tally = published
        .iter()
        .fold(Tally::default(), |acc, (_, t)| acc.plus(*t));
    let latest = published.iter().filter_map(|(m, _)| m.closed_at).max();
    let rated: Vec<(Option<String>,)> = request::Entity::find()
        .select_only()
        .column(request::Column::Rating)
        .filter(request::Column::VillageId.is_in(villages.iter().copied()))
        .filter(request::Column::Rating.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    let satisfied = rated
        .iter()
        .filter(|(r,)| {
            r.as_deref()
                .and_then(crate::domain::request::Rating::parse)
                .is_some_and(|r| r.is_satisfied())
        })
        .count() as u64;
    let owed = meetings::owed_ids(db, &villages).await?.len();
    let answered = request::Entity::find()
        .filter(request::Column::VillageId.is_in(villages.iter().copied()))
        .filter(request::Column::Status.is_in([Status::Done.as_str(), Status::Deferred.as_str()]))
        .count(db)
        .await?;
    let cats = categories::all(db).await?;
    let name = |id: i32| {
        all.iter()
            .find(|u| u.id == id)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    };
    let items = request::Entity::find()
        .filter(request::Column::VillageId.is_in(villages.iter().copied()))
        .order_by_desc(request::Column::Id)
        .limit(MAX_ITEMS)
        .all(db)
        .await?
        .into_iter()
        .map(Request::from)
        .map(|r| BoardItem {
            tracking_no: r.tracking_no.clone(),
            village: name(r.village_id),
            category: categories::label(&cats, r.category_id),
            status: r.status,
            requester: r.name.masked(),
            summary: r.consent_publish.then(|| summary(&r.content)),
            answer: if r.consent_publish {
                match r.status {
                    Status::Done => r.result.as_deref().map(summary),
                    Status::Deferred => r.defer_explanation.as_deref().map(summary),
                    _ => None,
                }
            } else {
                None
            },
            received_on: crate::domain::calendar::china_date(r.received_at).to_string(),
        })
        .collect();
    Ok(Some(Board {
        unit_id,
        unit: name(unit_id),
        tally,
        published_at: latest.map(crate::domain::calendar::china_rfc3339),
        published_on: latest.map(|t| crate::domain::calendar::china_date(t).to_string()),
        villages_published: published.len(),
        satisfaction_rate: rate(satisfied, rated.len() as u64, MIN_SAMPLE),
        feedback_rate: rate(answered.saturating_sub(owed as u64), answered, MIN_SAMPLE),
        owed,
        items,
    }))
}
