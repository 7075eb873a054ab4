//! Meetings (周周会): series, the derived agenda, decisions, in-person
//! feedback, closing with a frozen tally that can be re-derived from events.

use super::entities::{feedback, meeting, meeting_decision, meeting_series, meeting_tally};
use super::entities::{request, request_event};
use super::requests::{ON_THE_SPOT, Request};
use super::{Error, Result, begin_write};
use crate::domain::Validation;
use crate::domain::calendar::china_offset;
use crate::domain::error::required_text;
use crate::domain::request::Status;
use crate::domain::tally::Tally;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;

/// A meeting.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Meeting {
    /// Id.
    pub id: i32,
    /// Village.
    pub village_id: i32,
    /// Date held.
    pub held_on: NaiveDate,
    /// Place.
    pub place: String,
    /// Host.
    pub host: String,
    /// Attendees (cadres and officials present).
    pub attendees: String,
    /// Residents present.
    pub headcount: Option<i32>,
    /// Minutes.
    pub minutes: String,
    /// Closed (tally published).
    pub closed: bool,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Highest event id its published tally was derived from.
    pub closed_event_id: Option<i64>,
    /// Highest request id its published tally counted.
    pub closed_request_id: Option<i32>,
}

impl From<meeting::Model> for Meeting {
    fn from(m: meeting::Model) -> Self {
        Meeting {
            id: m.id,
            village_id: m.village_id,
            held_on: m.held_on,
            place: m.place,
            host: m.host,
            attendees: m.attendees,
            headcount: m.headcount,
            minutes: m.minutes,
            closed: m.status == "closed",
            closed_at: m.closed_at,
            closed_event_id: m.closed_event_id,
            closed_request_id: m.closed_request_id,
        }
    }
}

/// A village's meeting series.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Series {
    /// Village.
    pub village_id: i32,
    /// `weekly` or `fortnightly`.
    pub cadence: String,
    /// 1 = Monday … 7 = Sunday.
    pub weekday: i32,
    /// Usual place.
    pub place: String,
    /// Usual host.
    pub host: String,
}

/// Input for a new meeting.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct MeetingInput {
    #[schema(required = true)]
    /// Village.
    pub village_id: Option<i32>,
    /// `YYYY-MM-DD`.
    pub held_on: Option<String>,
    /// Place (default: the series' place).
    pub place: Option<String>,
    /// Host (default: the series' host).
    pub host: Option<String>,
}

fn parse_date(
    v: &mut Validation,
    field: &str,
    s: Option<&str>,
    required: bool,
) -> Option<NaiveDate> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => {
            if required {
                v.add(field, "err.required");
            }
            None
        }
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| v.add(field, "err.date"))
            .ok(),
    }
}

fn optional_text(v: &mut Validation, field: &str, s: Option<&str>, max: usize) -> String {
    let t = s.unwrap_or_default().trim().to_owned();
    if t.chars().count() > max {
        v.add(field, "err.too_long");
    }
    t
}

/// Creates a meeting for a village (the caller checks who may).
pub async fn create(
    db: &DatabaseConnection,
    input: &MeetingInput,
    village_ok: impl Fn(i32) -> Option<&'static str>,
    by: i32,
    now: DateTime<Utc>,
) -> Result<Meeting> {
    let mut v = Validation::new();
    match input.village_id {
        None => v.add("village_id", "err.required"),
        Some(id) => {
            if let Some(k) = village_ok(id) {
                v.add("village_id", k);
            }
        }
    }
    let held_on = parse_date(&mut v, "held_on", input.held_on.as_deref(), true);
    let mut place = optional_text(&mut v, "place", input.place.as_deref(), 100);
    let mut host = optional_text(&mut v, "host", input.host.as_deref(), 60);
    v.finish()?;
    let (Some(village_id), Some(held_on)) = (input.village_id, held_on) else {
        return Err(Error::NotFound);
    };
    let tx = begin_write(db).await?;
    if meeting::Entity::find()
        .filter(meeting::Column::VillageId.eq(village_id))
        .filter(meeting::Column::HeldOn.eq(held_on))
        .one(&tx)
        .await?
        .is_some()
    {
        return Err(Validation::one("held_on", "err.meeting.duplicate").into());
    }
    if let Some(s) = series(&tx, village_id).await? {
        if place.is_empty() {
            place = s.place;
        }
        if host.is_empty() {
            host = s.host;
        }
    }
    let m = meeting::ActiveModel {
        village_id: Set(village_id),
        held_on: Set(held_on),
        place: Set(place),
        host: Set(host),
        attendees: Set(String::new()),
        headcount: Set(None),
        minutes: Set(String::new()),
        status: Set("open".into()),
        created_by: Set(Some(by)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&tx)
    .await
    .map_err(|e| super::unique_as_invalid(e, "held_on", "err.meeting.duplicate"))?;
    tx.commit().await?;
    Ok(m.into())
}

/// One meeting.
pub async fn get(db: &impl ConnectionTrait, id: i32) -> Result<Meeting> {
    meeting::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(Meeting::from)
        .ok_or(Error::NotFound)
}

/// Meetings of these villages, newest first.
pub async fn list(db: &impl ConnectionTrait, villages: &[i32], limit: u64) -> Result<Vec<Meeting>> {
    Ok(meeting::Entity::find()
        .filter(meeting::Column::VillageId.is_in(villages.iter().copied()))
        .order_by_desc(meeting::Column::HeldOn)
        .order_by_desc(meeting::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(Meeting::from)
        .collect())
}

/// A village's series, if set.
pub async fn series(db: &impl ConnectionTrait, village_id: i32) -> Result<Option<Series>> {
    Ok(meeting_series::Entity::find()
        .filter(meeting_series::Column::VillageId.eq(village_id))
        .one(db)
        .await?
        .map(|s| Series {
            village_id: s.village_id,
            cadence: s.cadence,
            weekday: s.weekday,
            place: s.place,
            host: s.host,
        }))
}

/// Input for a series.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct SeriesInput {
    #[schema(required = true)]
    /// Village.
    pub village_id: Option<i32>,
    /// `weekly` or `fortnightly`.
    pub cadence: String,
    /// 1–7.
    pub weekday: Option<i32>,
    /// Usual place.
    pub place: Option<String>,
    /// Usual host.
    pub host: Option<String>,
}

/// Sets (creates or replaces) a village's series.
pub async fn set_series(
    db: &DatabaseConnection,
    input: &SeriesInput,
    village_ok: impl Fn(i32) -> Option<&'static str>,
    now: DateTime<Utc>,
) -> Result<Series> {
    let mut v = Validation::new();
    match input.village_id {
        None => v.add("village_id", "err.required"),
        Some(id) => {
            if let Some(k) = village_ok(id) {
                v.add("village_id", k);
            }
        }
    }
    if !matches!(input.cadence.as_str(), "weekly" | "fortnightly") {
        v.add("cadence", "err.choice");
    }
    if !input.weekday.is_some_and(|d| (1..=7).contains(&d)) {
        v.add("weekday", "err.choice");
    }
    let place = optional_text(&mut v, "place", input.place.as_deref(), 100);
    let host = optional_text(&mut v, "host", input.host.as_deref(), 60);
    v.finish()?;
    let (Some(village_id), Some(weekday)) = (input.village_id, input.weekday) else {
        return Err(Error::NotFound);
    };
    let tx = begin_write(db).await?;
    meeting_series::Entity::delete_many()
        .filter(meeting_series::Column::VillageId.eq(village_id))
        .exec(&tx)
        .await?;
    meeting_series::ActiveModel {
        village_id: Set(village_id),
        cadence: Set(input.cadence.clone()),
        weekday: Set(weekday),
        place: Set(place.clone()),
        host: Set(host.clone()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    Ok(Series {
        village_id,
        cadence: input.cadence.clone(),
        weekday,
        place,
        host,
    })
}

/// Whether a meeting may take requests at intake: it exists, is of that
/// village, and is still open. `None` when fine, else the error key.
pub async fn check_for_intake(
    db: &impl ConnectionTrait,
    meeting_id: i32,
    village_id: i32,
) -> Result<Option<&'static str>> {
    Ok(
        match meeting::Entity::find_by_id(meeting_id).one(db).await? {
            None => Some("err.meeting.none"),
            Some(m) if m.village_id != village_id => Some("err.meeting.other_village"),
            Some(m) if m.status == "closed" => Some("err.meeting.closed"),
            Some(_) => None,
        },
    )
}

/// One item on an agenda.
#[derive(Debug, Clone)]
pub struct AgendaItem {
    /// The request.
    pub request: Request,
    /// How many meetings it has been carried to (0 for new items).
    pub carried: u32,
    /// The latest resident-facing note on it.
    pub latest: Option<String>,
    /// Decision recorded at this meeting.
    pub decision: Option<Decision>,
    /// The latest decision on it at an earlier meeting of the village.
    pub previous_decision: Option<Decision>,
}

/// A decision taken on an agenda item.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Decision {
    /// Text.
    pub decision: String,
    /// Unit to act.
    pub unit_id: Option<i32>,
    /// Next check.
    pub next_check_on: Option<NaiveDate>,
}

/// A derived agenda: nothing on it is typed by hand.
#[derive(Debug, Clone)]
pub struct Agenda {
    /// Heard at this meeting.
    pub new: Vec<AgendaItem>,
    /// Earlier requests of the village still open.
    pub carried_over: Vec<AgendaItem>,
    /// Deferred requests whose review date has come.
    pub due_for_review: Vec<AgendaItem>,
    /// Answered requests whose requester must still be told in person.
    pub report_back: Vec<AgendaItem>,
    /// The village's tally (live while open, frozen once closed).
    pub tally: Tally,
    /// This period's tally (frozen once closed).
    pub period: Tally,
}

/// Answer events: moves into done or deferred.
fn is_answer(e: &request_event::Model) -> bool {
    matches!(e.to_status.as_str(), "done" | "deferred")
        && e.from_status.as_deref() != Some(e.to_status.as_str())
}

/// Events of these requests, oldest first, grouped by request.
async fn events_by_request(
    db: &impl ConnectionTrait,
    ids: &[i32],
    until: Option<DateTime<Utc>>,
) -> Result<HashMap<i32, Vec<request_event::Model>>> {
    let mut out: HashMap<i32, Vec<request_event::Model>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let mut q = request_event::Entity::find()
            .filter(request_event::Column::RequestId.is_in(chunk.iter().copied()));
        if let Some(t) = until {
            q = q.filter(request_event::Column::At.lte(t));
        }
        for e in q.order_by_asc(request_event::Column::Id).all(db).await? {
            out.entry(e.request_id).or_default().push(e);
        }
    }
    Ok(out)
}

/// Requests whose latest answer has not been delivered to the requester,
/// among `requests` (with their events).
fn owed(
    requests: &[Request],
    events: &HashMap<i32, Vec<request_event::Model>>,
    delivered: &HashMap<i32, i64>,
) -> Vec<(i32, i64)> {
    requests
        .iter()
        .filter(|r| matches!(r.status, Status::Done | Status::Deferred))
        .filter_map(|r| {
            let last = events.get(&r.id)?.iter().rev().find(|e| is_answer(e))?;
            let told = delivered.get(&r.id).is_some_and(|d| *d >= last.id);
            (!told).then_some((r.id, last.id))
        })
        .collect()
}

/// The highest answer event id delivered per request.
async fn delivered_upto(db: &impl ConnectionTrait, ids: &[i32]) -> Result<HashMap<i32, i64>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        for f in feedback::Entity::find()
            .filter(feedback::Column::RequestId.is_in(chunk.iter().copied()))
            .filter(feedback::Column::Delivered.eq(true))
            .all(db)
            .await?
        {
            let e = out.entry(f.request_id).or_insert(f.owed_event_id);
            *e = (*e).max(f.owed_event_id);
        }
    }
    Ok(out)
}

async fn village_requests(db: &impl ConnectionTrait, village_ids: &[i32]) -> Result<Vec<Request>> {
    Ok(request::Entity::find()
        .filter(request::Column::VillageId.is_in(village_ids.iter().copied()))
        .order_by_asc(request::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Request::from)
        .collect())
}

/// The latest resident-facing note: agendas are read out and printed, so
/// internal notes and rating comments never appear on them.
fn latest_note(events: Option<&Vec<request_event::Model>>) -> Option<String> {
    events?.iter().rev().find_map(|e| e.public_note.clone())
}

/// Derives the agenda of a meeting.
pub async fn agenda(db: &impl ConnectionTrait, m: &Meeting) -> Result<Agenda> {
    let requests = village_requests(db, &[m.village_id]).await?;
    let ids: Vec<i32> = requests.iter().map(|r| r.id).collect();
    let events = events_by_request(db, &ids, None).await?;
    let delivered = delivered_upto(db, &ids).await?;
    let meeting_days: Vec<NaiveDate> = meeting::Entity::find()
        .filter(meeting::Column::VillageId.eq(m.village_id))
        .all(db)
        .await?
        .into_iter()
        .map(|x| x.held_on)
        .collect();
    // Decisions of this and earlier meetings of the village, oldest first, so
    // that the last one per request wins.
    let earlier: HashMap<i32, NaiveDate> = meeting::Entity::find()
        .filter(meeting::Column::VillageId.eq(m.village_id))
        .filter(meeting::Column::HeldOn.lte(m.held_on))
        .all(db)
        .await?
        .into_iter()
        .map(|x| (x.id, x.held_on))
        .collect();
    let mut rows = meeting_decision::Entity::find()
        .filter(meeting_decision::Column::MeetingId.is_in(earlier.keys().copied()))
        .all(db)
        .await?;
    rows.sort_by_key(|d| (earlier.get(&d.meeting_id).copied(), d.id));
    let mut decisions: HashMap<i32, Decision> = HashMap::new();
    let mut previous: HashMap<i32, Decision> = HashMap::new();
    for d in rows {
        let target = if d.meeting_id == m.id {
            &mut decisions
        } else {
            &mut previous
        };
        target.insert(
            d.request_id,
            Decision {
                decision: d.decision,
                unit_id: d.unit_id,
                next_check_on: d.next_check_on,
            },
        );
    }
    let item = |r: &Request, carried: u32| AgendaItem {
        request: r.clone(),
        carried,
        latest: latest_note(events.get(&r.id)),
        decision: decisions.get(&r.id).cloned(),
        previous_decision: previous.get(&r.id).cloned(),
    };
    let received_day = |r: &Request| r.received_at.with_timezone(&china_offset()).date_naive();
    let mut agenda = Agenda {
        new: Vec::new(),
        carried_over: Vec::new(),
        due_for_review: Vec::new(),
        report_back: Vec::new(),
        tally: Tally::default(),
        period: Tally::default(),
    };
    for r in &requests {
        if r.meeting_id == Some(m.id) {
            agenda.new.push(item(r, 0));
        } else if r.status.is_open() && received_day(r) <= m.held_on {
            let day = r
                .meeting_id
                .map_or_else(|| received_day(r), |_| received_day(r));
            let carried = meeting_days
                .iter()
                .filter(|d| **d > day && **d <= m.held_on)
                .count();
            agenda
                .carried_over
                .push(item(r, u32::try_from(carried).unwrap_or(u32::MAX)));
        }
        if r.status == Status::Deferred && r.review_on.is_some_and(|d| d <= m.held_on) {
            agenda.due_for_review.push(item(r, 0));
        }
    }
    let owed_ids: Vec<i32> = owed(&requests, &events, &delivered)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    for r in requests.iter().filter(|r| owed_ids.contains(&r.id)) {
        agenda.report_back.push(item(r, 0));
    }
    agenda.carried_over.sort_by(|a, b| {
        b.carried
            .cmp(&a.carried)
            .then(a.request.id.cmp(&b.request.id))
    });
    if m.closed {
        let (cumulative, period) = stored_tallies(db, m.id).await?;
        agenda.tally = cumulative;
        agenda.period = period;
    } else {
        agenda.tally = Tally::of(requests.iter().map(|r| (r.status, r.on_the_spot)));
        let since = previous_watermark(db, m).await?;
        agenda.period = Tally::of(
            requests
                .iter()
                .filter(|r| since.is_none_or(|s| r.id > s))
                .map(|r| (r.status, r.on_the_spot)),
        );
    }
    Ok(agenda)
}

/// The request-id watermark of the village's previous closed meeting: this
/// period's requests are the ones after it.
async fn previous_watermark(db: &impl ConnectionTrait, m: &Meeting) -> Result<Option<i32>> {
    Ok(meeting::Entity::find()
        .filter(meeting::Column::VillageId.eq(m.village_id))
        .filter(meeting::Column::Status.eq("closed"))
        .filter(meeting::Column::Id.ne(m.id))
        .all(db)
        .await?
        .into_iter()
        .filter(|x| {
            m.closed_event_id
                .is_none_or(|c| x.closed_event_id.is_some_and(|e| e < c))
        })
        .filter_map(|x| x.closed_request_id)
        .max())
}

/// The frozen (cumulative, period) tallies of a closed meeting.
pub async fn stored_tallies(db: &impl ConnectionTrait, meeting_id: i32) -> Result<(Tally, Tally)> {
    let rows = meeting_tally::Entity::find()
        .filter(meeting_tally::Column::MeetingId.eq(meeting_id))
        .all(db)
        .await?;
    let get = |scope: &str| {
        rows.iter()
            .find(|r| r.scope == scope)
            .map(|r| Tally {
                received: u64::try_from(r.received).unwrap_or(0),
                done: u64::try_from(r.done).unwrap_or(0),
                on_the_spot: u64::try_from(r.on_the_spot).unwrap_or(0),
                in_progress: u64::try_from(r.in_progress).unwrap_or(0),
                deferred: u64::try_from(r.deferred).unwrap_or(0),
            })
            .unwrap_or_default()
    };
    Ok((get("cumulative"), get("period")))
}

/// Re-derives a village's tallies from the event history alone, up to the
/// given event and request ids: each request counts with the status of its
/// last event within the watermark; this period is the requests after
/// `since_request`.
pub async fn derive_tallies(
    db: &impl ConnectionTrait,
    village_id: i32,
    upto_event: i64,
    upto_request: i32,
    since_request: Option<i32>,
) -> Result<(Tally, Tally)> {
    let ids: Vec<i32> = request::Entity::find()
        .select_only()
        .column(request::Column::Id)
        .filter(request::Column::VillageId.eq(village_id))
        .filter(request::Column::Id.lte(upto_request))
        .into_tuple()
        .all(db)
        .await?;
    let mut events = events_by_request(db, &ids, None).await?;
    for list in events.values_mut() {
        list.retain(|e| e.id <= upto_event);
    }
    let mut cumulative = Tally::default();
    let mut period = Tally::default();
    for id in ids {
        let Some(last) = events.get(&id).and_then(|e| e.last()) else {
            // A request with no event would be a defect: it cannot be counted.
            cumulative.received += 1;
            continue;
        };
        let status = Status::parse(&last.to_status).unwrap_or(Status::Received);
        let spot = status == Status::Done
            && events
                .get(&id)
                .and_then(|e| e.iter().rev().find(|e| e.action == "complete"))
                .is_some_and(|e| e.reason.as_deref() == Some(ON_THE_SPOT));
        cumulative.add(status, spot);
        if since_request.is_none_or(|s| id > s) {
            period.add(status, spot);
        }
    }
    Ok((cumulative, period))
}

/// The highest event and request ids now.
async fn watermarks(db: &impl ConnectionTrait) -> Result<(i64, i32)> {
    let e: Option<Option<i64>> = request_event::Entity::find()
        .select_only()
        .column_as(request_event::Column::Id.max(), "m")
        .into_tuple()
        .one(db)
        .await?;
    let r: Option<Option<i32>> = request::Entity::find()
        .select_only()
        .column_as(request::Column::Id.max(), "m")
        .into_tuple()
        .one(db)
        .await?;
    Ok((e.flatten().unwrap_or(0), r.flatten().unwrap_or(0)))
}

/// What closing a meeting answers.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Closed {
    /// The village's cumulative tally as published.
    pub tally: Tally,
    /// This period's tally.
    pub period: Tally,
    /// Requests flagged for supervision because they were carried too long.
    pub flagged: Vec<String>,
}

/// Input for closing a meeting.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct CloseInput {
    /// Minutes.
    pub minutes: Option<String>,
    /// Attendees.
    pub attendees: Option<String>,
    /// Residents present.
    pub headcount: Option<i32>,
}

/// Closes a meeting: freezes its tallies (refusing, and logging a defect,
/// if they would not add up or disagree with the event history).
pub async fn close(
    db: &DatabaseConnection,
    meeting_id: i32,
    input: &CloseInput,
    by: i32,
    now: DateTime<Utc>,
) -> Result<(Tally, Tally)> {
    let mut v = Validation::new();
    let minutes = optional_text(&mut v, "minutes", input.minutes.as_deref(), 20_000);
    let attendees = optional_text(&mut v, "attendees", input.attendees.as_deref(), 2000);
    if input.headcount.is_some_and(|h| !(0..=100_000).contains(&h)) {
        v.add("headcount", "err.number");
    }
    v.finish()?;
    let tx = begin_write(db).await?;
    if tx.get_database_backend() == sea_orm::DbBackend::Postgres {
        // Wait for writers in flight and hold new ones off until the tally
        // is frozen, so that the id watermarks cut the history cleanly.
        tx.execute_unprepared("LOCK TABLE requests, request_events IN SHARE MODE")
            .await?;
    }
    let m: Meeting = get(&tx, meeting_id).await?;
    if m.closed {
        return Err(Validation::one("meeting", "err.meeting.closed").into());
    }
    let (upto_event, upto_request) = watermarks(&tx).await?;
    let since = previous_watermark(&tx, &m).await?;
    let (cumulative, period) =
        derive_tallies(&tx, m.village_id, upto_event, upto_request, since).await?;
    let live = Tally::of(
        village_requests(&tx, &[m.village_id])
            .await?
            .iter()
            .map(|r| (r.status, r.on_the_spot)),
    );
    if !cumulative.adds_up() || !period.adds_up() || live != cumulative {
        tracing::error!(
            meeting_id,
            ?cumulative,
            ?period,
            ?live,
            "tally defect: refusing to close the meeting"
        );
        return Err(Validation::one("tally", "err.meeting.tally_defect").into());
    }
    for (scope, t) in [("cumulative", cumulative), ("period", period)] {
        meeting_tally::ActiveModel {
            meeting_id: Set(m.id),
            scope: Set(scope.to_owned()),
            received: Set(i64::try_from(t.received).unwrap_or(i64::MAX)),
            done: Set(i64::try_from(t.done).unwrap_or(i64::MAX)),
            on_the_spot: Set(i64::try_from(t.on_the_spot).unwrap_or(i64::MAX)),
            in_progress: Set(i64::try_from(t.in_progress).unwrap_or(i64::MAX)),
            deferred: Set(i64::try_from(t.deferred).unwrap_or(i64::MAX)),
        }
        .insert(&tx)
        .await?;
    }
    let mut am: meeting::ActiveModel = meeting::Entity::find_by_id(m.id)
        .one(&tx)
        .await?
        .ok_or(Error::NotFound)?
        .into();
    am.status = Set("closed".into());
    am.closed_at = Set(Some(now));
    am.closed_event_id = Set(Some(upto_event));
    am.closed_request_id = Set(Some(upto_request));
    am.closed_by = Set(Some(by));
    if !minutes.is_empty() {
        am.minutes = Set(minutes);
    }
    if !attendees.is_empty() {
        am.attendees = Set(attendees);
    }
    if input.headcount.is_some() {
        am.headcount = Set(input.headcount);
    }
    am.update(&tx).await?;
    tx.commit().await?;
    Ok((cumulative, period))
}

/// Stored and re-derived tallies of a closed meeting.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TallyCheck {
    /// Meeting.
    pub meeting_id: i32,
    /// As published.
    pub stored: Tally,
    /// Re-derived from events as of the close.
    pub recomputed: Tally,
    /// This period, as published.
    pub stored_period: Tally,
    /// This period, re-derived.
    pub recomputed_period: Tally,
    /// Both agree.
    pub matches: bool,
}

/// Re-derives a closed meeting's tallies from the events and requests up to
/// its watermarks, and compares.
pub async fn check(db: &impl ConnectionTrait, meeting_id: i32) -> Result<TallyCheck> {
    let m = get(db, meeting_id).await?;
    let (Some(upto_event), Some(upto_request)) = (m.closed_event_id, m.closed_request_id) else {
        return Err(Validation::one("meeting", "err.meeting.open").into());
    };
    let since = previous_watermark(db, &m).await?;
    let (stored, stored_period) = stored_tallies(db, m.id).await?;
    let (recomputed, recomputed_period) =
        derive_tallies(db, m.village_id, upto_event, upto_request, since).await?;
    Ok(TallyCheck {
        meeting_id,
        matches: stored == recomputed && stored_period == recomputed_period,
        stored,
        recomputed,
        stored_period,
        recomputed_period,
    })
}

/// Ids of every closed meeting.
pub async fn closed_ids(db: &impl ConnectionTrait) -> Result<Vec<i32>> {
    Ok(meeting::Entity::find()
        .filter(meeting::Column::Status.eq("closed"))
        .order_by_asc(meeting::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect())
}

/// A decision on an agenda item, as posted.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct DecisionInput {
    #[schema(required = true)]
    /// The request, by tracking number.
    pub tracking_no: String,
    /// What was decided.
    pub decision: String,
    /// Unit to act.
    pub unit_id: Option<i32>,
    /// Next check date, `YYYY-MM-DD`.
    pub next_check_on: Option<String>,
}

/// Records (or replaces) the decision on an agenda item of an open meeting.
pub async fn decide(
    db: &DatabaseConnection,
    meeting_id: i32,
    request_id: i32,
    input: &DecisionInput,
    by: i32,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut v = Validation::new();
    let text = required_text(&mut v, "decision", &input.decision, 1000);
    let next = parse_date(
        &mut v,
        "next_check_on",
        input.next_check_on.as_deref(),
        false,
    );
    let unit_id = input.unit_id;
    v.finish()?;
    let tx = begin_write(db).await?;
    let m = get(&tx, meeting_id).await?;
    if m.closed {
        return Err(Validation::one("meeting", "err.meeting.closed").into());
    }
    let r = request::Entity::find_by_id(request_id)
        .one(&tx)
        .await?
        .ok_or(Error::NotFound)?;
    if r.village_id != m.village_id {
        return Err(Error::NotFound);
    }
    if let Some(u) = unit_id
        && super::units::tree(&tx).await?.kind(u).is_none()
    {
        return Err(Validation::one("unit_id", "err.rule.no_unit").into());
    }
    meeting_decision::Entity::delete_many()
        .filter(meeting_decision::Column::MeetingId.eq(m.id))
        .filter(meeting_decision::Column::RequestId.eq(request_id))
        .exec(&tx)
        .await?;
    meeting_decision::ActiveModel {
        meeting_id: Set(m.id),
        request_id: Set(request_id),
        decision: Set(text.unwrap_or_default()),
        unit_id: Set(unit_id),
        next_check_on: Set(next),
        recorded_by: Set(Some(by)),
        at: Set(now),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Feedback channel of an in-person report back (当面反馈).
pub const IN_PERSON: &str = "in_person";

/// Records that the requester was told the latest answer in person.
pub async fn report_back(
    db: &DatabaseConnection,
    request_id: i32,
    meeting_id: Option<i32>,
    note: Option<&str>,
    by: i32,
    now: DateTime<Utc>,
) -> Result<()> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 1000) {
        return Err(Validation::one("note", "err.too_long").into());
    }
    let tx = begin_write(db).await?;
    let r: Request = request::Entity::find_by_id(request_id)
        .one(&tx)
        .await?
        .map(Request::from)
        .ok_or(Error::NotFound)?;
    let events = events_by_request(&tx, &[request_id], None).await?;
    let delivered = delivered_upto(&tx, &[request_id]).await?;
    let Some((_, owed_event)) = owed(std::slice::from_ref(&r), &events, &delivered).pop() else {
        return Err(Validation::one("request", "err.meeting.nothing_owed").into());
    };
    feedback::ActiveModel {
        request_id: Set(request_id),
        owed_event_id: Set(owed_event),
        channel: Set(IN_PERSON.into()),
        delivered: Set(true),
        by_user_id: Set(Some(by)),
        meeting_id: Set(meeting_id),
        note: Set(note.map(str::to_owned)),
        at: Set(now),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Requests in these villages whose answer is still owed to the requester.
pub async fn owed_in(db: &impl ConnectionTrait, village_ids: &[i32]) -> Result<Vec<Request>> {
    let ids = owed_ids(db, village_ids).await?;
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(
            request::Entity::find()
                .filter(request::Column::Id.is_in(chunk.iter().copied()))
                .order_by_asc(request::Column::Id)
                .all(db)
                .await?
                .into_iter()
                .map(Request::from),
        );
    }
    Ok(out)
}

/// Ids of the requests in these villages whose latest answer is still owed,
/// computed with two grouped queries (one row per answered request), not by
/// loading events.
pub async fn owed_ids(db: &impl ConnectionTrait, village_ids: &[i32]) -> Result<Vec<i32>> {
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    let answered = Query::select()
        .column(request::Column::Id)
        .from(request::Entity)
        .and_where(request::Column::VillageId.is_in(village_ids.iter().copied()))
        .and_where(
            request::Column::Status.is_in([Status::Done.as_str(), Status::Deferred.as_str()]),
        )
        .to_owned();
    // The latest answer event (a move into done or deferred) per request.
    let latest: Vec<(i32, Option<i64>)> = request_event::Entity::find()
        .select_only()
        .column(request_event::Column::RequestId)
        .column_as(request_event::Column::Id.max(), "latest")
        .filter(request_event::Column::RequestId.in_subquery(answered.clone()))
        .filter(
            request_event::Column::ToStatus
                .is_in([Status::Done.as_str(), Status::Deferred.as_str()]),
        )
        .filter(
            sea_orm::Condition::any()
                .add(request_event::Column::FromStatus.is_null())
                .add(
                    Expr::col(request_event::Column::FromStatus)
                        .ne(Expr::col(request_event::Column::ToStatus)),
                ),
        )
        .group_by(request_event::Column::RequestId)
        .into_tuple()
        .all(db)
        .await?;
    let delivered: HashMap<i32, Option<i64>> = feedback::Entity::find()
        .select_only()
        .column(feedback::Column::RequestId)
        .column_as(feedback::Column::OwedEventId.max(), "upto")
        .filter(feedback::Column::RequestId.in_subquery(answered))
        .filter(feedback::Column::Delivered.eq(true))
        .group_by(feedback::Column::RequestId)
        .into_tuple::<(i32, Option<i64>)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut ids: Vec<i32> = latest
        .into_iter()
        .filter_map(|(id, answer)| {
            let answer = answer?;
            let told = delivered
                .get(&id)
                .copied()
                .flatten()
                .is_some_and(|d| d >= answer);
            (!told).then_some(id)
        })
        .collect();
    ids.sort_unstable();
    Ok(ids)
}

/// The latest closed meeting of each of these villages with its frozen tally.
pub async fn latest_published(
    db: &impl ConnectionTrait,
    village_ids: &[i32],
) -> Result<Vec<(Meeting, Tally)>> {
    let mut out = Vec::new();
    for v in village_ids {
        if let Some(m) = meeting::Entity::find()
            .filter(meeting::Column::VillageId.eq(*v))
            .filter(meeting::Column::Status.eq("closed"))
            .order_by_desc(meeting::Column::ClosedAt)
            .one(db)
            .await?
        {
            let (t, _) = stored_tallies(db, m.id).await?;
            out.push((Meeting::from(m), t));
        }
    }
    Ok(out)
}

/// Flags (督办), as the system, every open request of the village carried
/// over more than `carry_limit` meetings, then closes the meeting. Flagging
/// first means a failed close can simply be retried.
pub async fn close_and_flag(
    db: &DatabaseConnection,
    meeting_id: i32,
    input: &CloseInput,
    by: i32,
    now: DateTime<Utc>,
    carry_limit: u32,
) -> Result<Closed> {
    use crate::domain::lifecycle::{Action, Actor, Command};
    use crate::domain::request::TrackingNo;
    use crate::domain::role::Role;
    let m = get(db, meeting_id).await?;
    if m.closed {
        return Err(Validation::one("meeting", "err.meeting.closed").into());
    }
    let township = super::units::tree(db)
        .await?
        .township_of(m.village_id)
        .unwrap_or(m.village_id);
    let system = Actor {
        role: Role::Dispatcher,
        unit_id: township,
    };
    let mut flagged = Vec::new();
    for item in agenda(db, &m).await?.carried_over {
        if item.carried > carry_limit && !item.request.supervised && item.request.status.is_open() {
            let Some(no) = TrackingNo::parse(&item.request.tracking_no) else {
                continue;
            };
            let cmd = Command {
                note: Some(format!("连续 {} 次周周会未办结，自动督办", item.carried)),
                ..Default::default()
            };
            super::requests::transition(
                db,
                &no,
                None,
                system,
                Action::Supervise,
                &cmd,
                super::outbox::Reach::default(),
                now,
            )
            .await?;
            flagged.push(item.request.tracking_no.clone());
        }
    }
    let (tally, period) = close(db, meeting_id, input, by, now).await?;
    Ok(Closed {
        tally,
        period,
        flagged,
    })
}
