//! The editable calendar of holidays and make-up workdays.

use super::entities::calendar_day;
use super::{Error, Result, begin_write};
use crate::domain::Validation;
use crate::domain::calendar::{DayKind, WorkCalendar};
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
    ModelTrait, QueryOrder,
};

/// One edited day.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct CalendarDay {
    /// The date.
    pub day: NaiveDate,
    /// Holiday or make-up workday.
    #[schema(value_type = String, example = "holiday")]
    pub kind: DayKind,
    /// e.g. 国庆节.
    pub note: String,
}

/// Every edited day, in date order.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<CalendarDay>> {
    Ok(calendar_day::Entity::find()
        .order_by_asc(calendar_day::Column::Day)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|m| {
            Some(CalendarDay {
                day: m.day,
                kind: DayKind::parse(&m.kind)?,
                note: m.note,
            })
        })
        .collect())
}

/// The working-day calendar built from the edited days.
pub async fn load(db: &impl ConnectionTrait) -> Result<WorkCalendar> {
    Ok(WorkCalendar::new(
        all(db).await?.into_iter().map(|d| (d.day, d.kind)),
    ))
}

/// Input for one day, as posted.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct DayInput {
    #[schema(required = true, example = "2027-06-14")]
    /// `YYYY-MM-DD`.
    pub day: String,
    /// `holiday` or `workday`.
    pub kind: String,
    /// Optional note.
    pub note: String,
}

/// Sets (inserts or replaces) one day.
pub async fn set(db: &DatabaseConnection, input: &DayInput) -> Result<CalendarDay> {
    let mut v = Validation::new();
    let day = NaiveDate::parse_from_str(input.day.trim(), "%Y-%m-%d").ok();
    if day.is_none() {
        v.add("day", "err.date");
    }
    let kind = DayKind::parse(&input.kind);
    if kind.is_none() {
        v.add("kind", "err.calendar.kind");
    }
    let note = input.note.trim().to_owned();
    if note.chars().count() > 50 {
        v.add("note", "err.too_long");
    }
    v.finish()?;
    let (Some(day), Some(kind)) = (day, kind) else {
        return Err(Error::NotFound);
    };
    let tx = begin_write(db).await?;
    if let Some(old) = calendar_day::Entity::find_by_id(day).one(&tx).await? {
        old.delete(&tx).await?;
    }
    calendar_day::ActiveModel {
        day: Set(day),
        kind: Set(kind.as_str().to_owned()),
        note: Set(note.clone()),
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    Ok(CalendarDay { day, kind, note })
}

/// Removes an edited day (it becomes an ordinary weekday or weekend again).
pub async fn remove(db: &DatabaseConnection, day: NaiveDate) -> Result<()> {
    let tx = begin_write(db).await?;
    let found = calendar_day::Entity::find_by_id(day)
        .one(&tx)
        .await?
        .ok_or(Error::NotFound)?;
    found.delete(&tx).await?;
    tx.commit().await?;
    Ok(())
}
