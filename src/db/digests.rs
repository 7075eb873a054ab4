//! Digests to staff: each morning a unit's open items due soon or overdue,
//! each week a supervisor's overdue items. Written to the outbox once per
//! recipient and period, guarded by the unique key of `digests`.

use super::entities::{digest, user};
use super::outbox::{self, DIGEST_LIMIT, DigestItem, NewMessage, Payload, kind};
use super::requests::{self, Filter, Request};
use super::{Result, begin_write, categories, units};
use crate::domain::calendar::china_offset;
use crate::domain::role::Role;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};
use std::collections::{HashMap, HashSet};

/// Digests are written from this hour of the China day on (07:00).
pub const SEND_HOUR: u32 = 7;

/// What one call wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Daily digests to unit staff.
    pub daily: u32,
    /// Weekly overdue summaries to supervisors.
    pub weekly: u32,
}

/// The period keys at `now`: China date (`2026-11-30`) and ISO week
/// (`2026-W49`), or `None` before [`SEND_HOUR`] China time.
pub fn periods(now: DateTime<Utc>) -> Option<(NaiveDate, String, String)> {
    let local = now.with_timezone(&china_offset());
    if local.hour() < SEND_HOUR {
        return None;
    }
    let today = local.date_naive();
    let week = today.iso_week();
    Some((
        today,
        today.to_string(),
        format!("{}-W{:02}", week.year(), week.week()),
    ))
}

/// Writes the digests due at `now` that no worker has written yet: the daily
/// digest of each unit to its active handlers (dispatchers for a township
/// queue) with an email, and the weekly overdue summary to each active
/// supervisor with an email. Only digests with at least one item are sent;
/// an empty one is still recorded, so each period is looked at once and a
/// round after that costs three small reads.
pub async fn enqueue_digests(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Written> {
    let Some((today, day_key, week_key)) = periods(now) else {
        return Ok(Written::default());
    };
    let staff = recipients(db).await?;
    if staff.is_empty() {
        return Ok(Written::default());
    }
    let done_daily = written(db, kind::DAILY_DIGEST, &day_key).await?;
    let done_weekly = written(db, kind::WEEKLY_OVERDUE, &week_key).await?;
    let daily: Vec<&Recipient> = staff
        .iter()
        .filter(|r| r.role != Role::Supervisor && !done_daily.contains(&r.user_id))
        .collect();
    let weekly: Vec<&Recipient> = staff
        .iter()
        .filter(|r| r.role == Role::Supervisor && !done_weekly.contains(&r.user_id))
        .collect();
    let mut out = Written::default();
    if daily.is_empty() && weekly.is_empty() {
        return Ok(out);
    }
    let names = Names::load(db).await?;
    let tomorrow = today + Duration::days(1);

    // Daily: one query per (unit, role) pair that has someone to tell.
    let mut lists: HashMap<(i32, Role), (Vec<DigestItem>, u64)> = HashMap::new();
    for r in &daily {
        let key = (r.unit_id, r.role);
        let (items, total) = match lists.get(&key) {
            Some(found) => found.clone(),
            None => {
                let mut f = Filter {
                    due_by: Some(tomorrow),
                    ..Default::default()
                };
                if r.role == Role::Dispatcher {
                    f.queue_units = Some(vec![r.unit_id]);
                } else {
                    f.handler_unit_id = Some(r.unit_id);
                }
                let (rs, total) = requests::list(db, &f, 1, DIGEST_LIMIT).await?;
                let found = (names.items(&rs, today), total);
                lists.insert(key, found.clone());
                found
            }
        };
        let p = Payload {
            unit: names.unit(r.unit_id),
            date: Some(today),
            items,
            total,
            ..Default::default()
        };
        if write(db, kind::DAILY_DIGEST, r, &day_key, p, now).await? {
            out.daily += 1;
        }
    }

    // Weekly: overdue items visible in the supervisor's subtree.
    if !weekly.is_empty() {
        let tree = units::tree(db).await?;
        for r in &weekly {
            let f = Filter {
                scope: Some(tree.subtree(r.unit_id)),
                overdue_on: Some(today),
                ..Default::default()
            };
            let (items, total) = requests::list(db, &f, 1, DIGEST_LIMIT).await?;
            let p = Payload {
                unit: names.unit(r.unit_id),
                date: Some(today),
                text: week_key.clone(),
                items: names.items(&items, today),
                total,
                ..Default::default()
            };
            if write(db, kind::WEEKLY_OVERDUE, r, &week_key, p, now).await? {
                out.weekly += 1;
            }
        }
    }
    Ok(out)
}

struct Recipient {
    user_id: i32,
    role: Role,
    unit_id: i32,
    email: String,
}

/// Active handlers, dispatchers and supervisors with an email address.
async fn recipients(db: &impl ConnectionTrait) -> Result<Vec<Recipient>> {
    let roles = [Role::Handler, Role::Dispatcher, Role::Supervisor];
    Ok(user::Entity::find()
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Role.is_in(roles.iter().map(|r| r.as_str())))
        .filter(user::Column::Email.is_not_null())
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|u| {
            let email = u.email.filter(|e| !e.trim().is_empty())?;
            let role = roles.into_iter().find(|r| r.as_str() == u.role)?;
            Some(Recipient {
                user_id: u.id,
                role,
                unit_id: u.unit_id,
                email,
            })
        })
        .collect())
}

/// Users who already have this digest for this period.
async fn written(db: &impl ConnectionTrait, kind: &str, period: &str) -> Result<HashSet<i32>> {
    Ok(digest::Entity::find()
        .filter(digest::Column::Kind.eq(kind))
        .filter(digest::Column::PeriodKey.eq(period))
        .all(db)
        .await?
        .into_iter()
        .map(|d| d.recipient_user_id)
        .collect())
}

/// Claims the (kind, user, period) key and writes the message in one write
/// transaction; `false` when another worker claimed it first, or when there
/// is nothing to tell (the key is still claimed, so the period is not
/// queried again on every round).
async fn write(
    db: &DatabaseConnection,
    kind: &'static str,
    r: &Recipient,
    period: &str,
    payload: Payload,
    now: DateTime<Utc>,
) -> Result<bool> {
    let tx = begin_write(db).await?;
    let claimed = digest::Entity::insert(digest::ActiveModel {
        kind: Set(kind.to_owned()),
        recipient_user_id: Set(r.user_id),
        period_key: Set(period.to_owned()),
        items: Set(i32::try_from(payload.total).unwrap_or(i32::MAX)),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            digest::Column::Kind,
            digest::Column::RecipientUserId,
            digest::Column::PeriodKey,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&tx)
    .await?
        == 1;
    if !claimed {
        tx.rollback().await?;
        return Ok(false);
    }
    if payload.total == 0 {
        tx.commit().await?;
        return Ok(false);
    }
    let msg = NewMessage {
        kind,
        channel: outbox::EMAIL,
        recipient: Some(r.email.clone()),
        request_id: None,
        owed_event_id: None,
        payload,
    };
    outbox::enqueue(&tx, vec![msg], now).await?;
    tx.commit().await?;
    Ok(true)
}

/// Unit and category names, for items.
struct Names {
    units: HashMap<i32, String>,
    categories: HashMap<i32, String>,
}

impl Names {
    async fn load(db: &impl ConnectionTrait) -> Result<Names> {
        Ok(Names {
            units: units::all(db)
                .await?
                .into_iter()
                .map(|u| (u.id, u.name))
                .collect(),
            categories: categories::all(db)
                .await?
                .into_iter()
                .map(|c| (c.id, c.name))
                .collect(),
        })
    }

    fn unit(&self, id: i32) -> String {
        self.units.get(&id).cloned().unwrap_or_default()
    }

    fn items(&self, rs: &[Request], today: NaiveDate) -> Vec<DigestItem> {
        rs.iter()
            .map(|r| DigestItem {
                tracking_no: r.tracking_no.clone(),
                village: self.unit(r.village_id),
                category: self
                    .categories
                    .get(&r.category_id)
                    .cloned()
                    .unwrap_or_default(),
                name: r.name.masked(),
                due_on: Some(r.due_on),
                state: due_state(r.due_on, today),
            })
            .collect()
    }
}

/// 已超期 N 天 / 今日到期 / 明日到期 / 到期 DATE.
fn due_state(due: NaiveDate, today: NaiveDate) -> String {
    match (due - today).num_days() {
        d if d < 0 => format!("已超期 {} 天", -d),
        0 => "今日到期".into(),
        1 => "明日到期".into(),
        _ => format!("{due} 到期"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn digests_wait_for_seven_in_the_morning_china_time() {
        assert_eq!(periods(at("2026-11-30T06:59:00+08:00")), None);
        let (day, key, week) = periods(at("2026-11-30T07:00:00+08:00")).unwrap();
        assert_eq!(day.to_string(), "2026-11-30");
        assert_eq!(key, "2026-11-30");
        assert_eq!(week, "2026-W49");
        // 23:30 UTC on Sunday is already Monday in China.
        let (day, _, week) = periods(at("2026-12-06T23:30:00Z")).unwrap();
        assert_eq!(day.to_string(), "2026-12-07");
        assert_eq!(week, "2026-W50");
    }

    #[test]
    fn due_states_read_naturally() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(due_state(d - Duration::days(3), d), "已超期 3 天");
        assert_eq!(due_state(d, d), "今日到期");
        assert_eq!(due_state(d + Duration::days(1), d), "明日到期");
    }
}
