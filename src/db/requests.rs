//! Requests: intake with race-free tracking numbers, the one function that
//! performs every move (`transition`), ratings, and the lists staff search.

use super::entities::{request, request_event};
use super::{Error, Result, begin_write, calendar, categories, outbox, rules, units};
use crate::domain::Validation;
use crate::domain::calendar::china_date;
use crate::domain::intake::Intake;
use crate::domain::lifecycle::{self, Action, Actor, Command, RequestState};
use crate::domain::personal::{Email, PersonName, Phone};
use crate::domain::request::{
    AccessCode, DeferReason, Rating, RequestType, Source, Status, TrackingNo, Urgency,
};
use crate::domain::role::Role;
use crate::domain::routing::Route;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

/// A request, typed.
#[derive(Clone)]
pub struct Request {
    /// Id.
    pub id: i32,
    /// `ZZH-2026-000438`.
    pub tracking_no: String,
    /// The resident's access code.
    pub access_code: AccessCode,
    /// Requester (masked when displayed).
    pub name: PersonName,
    /// Phone (masked when displayed).
    pub phone: Phone,
    /// Email (masked when displayed).
    pub email: Option<Email>,
    /// 村/组.
    pub address: String,
    /// Village.
    pub village_id: i32,
    /// Category.
    pub category_id: i32,
    /// Type.
    pub req_type: RequestType,
    /// Urgency.
    pub urgency: Urgency,
    /// Source.
    pub source: Source,
    /// Meeting it was heard at.
    pub meeting_id: Option<i32>,
    /// The request text.
    pub content: String,
    /// May be published on the board.
    pub consent_publish: bool,
    /// Who logged it.
    pub logged_by: Option<i32>,
    /// Current handling unit.
    pub handler_unit_id: Option<i32>,
    /// Dispatcher queue it waits in.
    pub queue_unit_id: Option<i32>,
    /// Signed for (签收).
    pub accepted: bool,
    /// Routing rule that matched at intake.
    pub rule_id: Option<i32>,
    /// "由规则 道路交通@马桥镇 派至 城建办".
    pub routed_by: String,
    /// Working days allowed.
    pub time_limit_days: i32,
    /// Due date.
    pub due_on: NaiveDate,
    /// Status.
    pub status: Status,
    /// Fixed on the spot.
    pub on_the_spot: bool,
    /// Result (done).
    pub result: Option<String>,
    /// Deferral reason.
    pub defer_reason: Option<DeferReason>,
    /// Deferral explanation for the resident.
    pub defer_explanation: Option<String>,
    /// Review date of a deferral.
    pub review_on: Option<NaiveDate>,
    /// Flagged for supervision (督办).
    pub supervised: bool,
    /// Rated 不满意 or worse: waits for the dispatcher's 重办 review.
    pub needs_review: bool,
    /// The resident's rating.
    pub rating: Option<Rating>,
    /// The resident's comment.
    pub rating_comment: Option<String>,
    /// Received.
    pub received_at: DateTime<Utc>,
    /// Last moved to done or deferred.
    pub closed_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("tracking_no", &self.tracking_no)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl From<request::Model> for Request {
    fn from(m: request::Model) -> Self {
        Request {
            id: m.id,
            tracking_no: m.tracking_no,
            access_code: AccessCode::from_stored(m.access_code),
            name: PersonName::from_stored(m.requester_name),
            phone: Phone::from_stored(m.phone),
            email: m.email.map(Email::from_stored),
            address: m.address,
            village_id: m.village_id,
            category_id: m.category_id,
            req_type: RequestType::parse(&m.req_type).unwrap_or(RequestType::Help),
            urgency: Urgency::parse(&m.urgency).unwrap_or(Urgency::Normal),
            source: Source::parse(&m.source).unwrap_or(Source::Meeting),
            meeting_id: m.meeting_id,
            content: m.content,
            consent_publish: m.consent_publish,
            logged_by: m.logged_by,
            handler_unit_id: m.handler_unit_id,
            queue_unit_id: m.queue_unit_id,
            accepted: m.accepted,
            rule_id: m.rule_id,
            routed_by: m.routed_by,
            time_limit_days: m.time_limit_days,
            due_on: m.due_on,
            status: Status::parse(&m.status).unwrap_or(Status::Received),
            on_the_spot: m.on_the_spot,
            result: m.result,
            defer_reason: m.defer_reason.as_deref().and_then(DeferReason::parse),
            defer_explanation: m.defer_explanation,
            review_on: m.review_on,
            supervised: m.supervised,
            needs_review: m.needs_review,
            rating: m.rating.as_deref().and_then(Rating::parse),
            rating_comment: m.rating_comment,
            received_at: m.received_at,
            closed_at: m.closed_at,
            updated_at: m.updated_at,
        }
    }
}

impl Request {
    /// The state the lifecycle rules look at.
    pub fn state(&self) -> RequestState {
        RequestState {
            status: self.status,
            village_id: self.village_id,
            handler_unit_id: self.handler_unit_id,
            queue_unit_id: self.queue_unit_id,
            accepted: self.accepted,
            supervised: self.supervised,
        }
    }

    /// The unit that holds it now: the handler, or the dispatcher's township.
    pub fn current_unit(&self) -> Option<i32> {
        self.handler_unit_id.or(self.queue_unit_id)
    }

    /// Deadline mark on `today`: overdue, due within one working day, or none.
    pub fn deadline(
        &self,
        today: NaiveDate,
        cal: &crate::domain::calendar::WorkCalendar,
    ) -> Deadline {
        if !self.status.is_open() {
            Deadline::None
        } else if self.due_on < today {
            Deadline::Overdue
        } else if self.due_on <= cal.due_on(today, 1) {
            Deadline::DueSoon
        } else {
            Deadline::None
        }
    }
}

/// 即将到期 / 已超期.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Deadline {
    /// Not open, or plenty of time.
    None,
    /// Due today or on the next working day.
    DueSoon,
    /// Past its due date.
    Overdue,
}

/// One entry of a request's history.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Event {
    /// Id.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Staff member, if any.
    pub actor_user_id: Option<i32>,
    /// `staff`, `resident` or `system`.
    pub actor_kind: String,
    /// `intake`, an action name, or `rating`.
    pub action: String,
    /// Status before.
    pub from_status: Option<String>,
    /// Status after.
    pub to_status: String,
    /// Unit before.
    pub from_unit_id: Option<i32>,
    /// Unit after.
    pub to_unit_id: Option<i32>,
    /// Internal note (staff only).
    pub note: Option<String>,
    /// Resident-facing note.
    pub public_note: Option<String>,
    /// Reason (return, escalate, defer).
    pub reason: Option<String>,
}

impl From<request_event::Model> for Event {
    fn from(m: request_event::Model) -> Self {
        Event {
            id: m.id,
            at: m.at,
            actor_user_id: m.actor_user_id,
            actor_kind: m.actor_kind,
            action: m.action,
            from_status: m.from_status,
            to_status: m.to_status,
            from_unit_id: m.from_unit_id,
            to_unit_id: m.to_unit_id,
            note: m.note,
            public_note: m.public_note,
            reason: m.reason,
        }
    }
}

/// Templates of the stored routing explanation, `{rule}` and `{unit}` filled in.
#[derive(Debug, Clone)]
pub struct RouteWords {
    /// e.g. "由规则 {rule} 派至 {unit}".
    pub by_rule: String,
    /// e.g. "无匹配规则，进入 {unit} 派单员队列".
    pub queued: String,
}

/// The result of an intake.
#[derive(Debug, Clone)]
pub struct Created {
    /// The request.
    pub request: Request,
    /// True when the idempotency key matched an earlier submission.
    pub replayed: bool,
}

async fn next_seq(tx: &impl ConnectionTrait, year: i32) -> Result<i64> {
    #[derive(sea_orm::DeriveIden)]
    enum TrackingCounters {
        Table,
        Year,
        LastSeq,
    }
    let stmt = Query::insert()
        .into_table(TrackingCounters::Table)
        .columns([TrackingCounters::Year, TrackingCounters::LastSeq])
        .values_panic([year.into(), 1i64.into()])
        .on_conflict(
            OnConflict::column(TrackingCounters::Year)
                .value(
                    TrackingCounters::LastSeq,
                    Expr::col((TrackingCounters::Table, TrackingCounters::LastSeq)).add(1),
                )
                .to_owned(),
        )
        .returning_col(TrackingCounters::LastSeq)
        .to_owned();
    let row = tx
        .query_one(&stmt)
        .await?
        .ok_or_else(|| Error::Db(sea_orm::DbErr::Custom("counter returned nothing".into())))?;
    Ok(row.try_get::<i64>("", "last_seq")?)
}

async fn find_replay(tx: &impl ConnectionTrait, user: i32, key: &str) -> Result<Option<Request>> {
    Ok(request::Entity::find()
        .filter(request::Column::LoggedBy.eq(user))
        .filter(request::Column::IdempotencyKey.eq(key))
        .one(tx)
        .await?
        .map(Request::from))
}

/// Logs a new request: numbers it, routes it by the rules, sets its due date,
/// and records the intake event, in one write transaction. A repeated
/// `idempotency_key` from the same user returns the first request instead.
pub async fn create(
    db: &DatabaseConnection,
    intake: &Intake,
    logged_by: i32,
    idempotency_key: Option<&str>,
    words: &RouteWords,
    reach: outbox::Reach,
    now: DateTime<Utc>,
) -> Result<Created> {
    let key = idempotency_key
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 64);
    let tx = begin_write(db).await?;
    if let Some(k) = key
        && let Some(existing) = find_replay(&tx, logged_by, k).await?
    {
        return Ok(Created {
            request: existing,
            replayed: true,
        });
    }
    if let Some(meeting_id) = intake.meeting_id
        && let Some(key) =
            super::meetings::check_for_intake(&tx, meeting_id, intake.village_id).await?
    {
        // Checked inside the write transaction: a meeting cannot close between
        // this check and the insert.
        return Err(Validation::one("meeting_id", key).into());
    }
    let route = rules::resolve(&tx, intake.village_id, intake.category_id).await?;
    let all_units = units::all(&tx).await?;
    let cats = categories::all(&tx).await?;
    let routed_by = rules::explain(&route, &all_units, &cats, &words.by_rule, &words.queued);
    let (rule_id, limit) = (route.rule_id(), route.time_limit_days());
    let (handler, queue) = match &route {
        Route::Rule {
            handler_unit_id, ..
        } => (Some(*handler_unit_id), None),
        Route::Queue { township_id, .. } => (None, *township_id),
    };
    let Some(place) = handler.or(queue) else {
        return Err(Validation::one("village_id", "err.action.no_township").into());
    };
    let today = china_date(now);
    let cal = calendar::load(&tx).await?;
    let due_on = cal.due_on(today, u32::try_from(limit).unwrap_or(0));
    let year = chrono::Datelike::year(&today);
    let seq = next_seq(&tx, year).await?;
    let tracking_no = TrackingNo { year, seq }.to_string();
    let code = AccessCode::generate(&mut rand::thread_rng());
    let inserted = request::ActiveModel {
        tracking_no: Set(tracking_no),
        year: Set(year),
        seq: Set(seq),
        access_code: Set(code.as_str().to_owned()),
        requester_name: Set(intake.name.raw().to_owned()),
        phone: Set(intake.phone.raw().to_owned()),
        email: Set(intake.email.as_ref().map(|e| e.raw().to_owned())),
        address: Set(intake.address.clone()),
        village_id: Set(intake.village_id),
        category_id: Set(intake.category_id),
        req_type: Set(intake.req_type.as_str().to_owned()),
        urgency: Set(intake.urgency.as_str().to_owned()),
        source: Set(intake.source.as_str().to_owned()),
        meeting_id: Set(intake.meeting_id),
        content: Set(intake.content.clone()),
        consent_publish: Set(intake.consent_publish),
        logged_by: Set(Some(logged_by)),
        idempotency_key: Set(key.map(str::to_owned)),
        handler_unit_id: Set(handler),
        queue_unit_id: Set(queue),
        accepted: Set(false),
        rule_id: Set(rule_id),
        routed_by: Set(routed_by.chars().take(300).collect()),
        time_limit_days: Set(limit),
        due_on: Set(due_on),
        status: Set(Status::Received.as_str().to_owned()),
        on_the_spot: Set(false),
        received_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&tx)
    .await;
    let inserted = match inserted {
        Ok(m) => m,
        Err(e) => {
            // A concurrent double submission on PostgreSQL: answer with the first.
            if let (Some(k), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) =
                (key, e.sql_err())
            {
                drop(tx);
                if let Some(existing) = find_replay(db, logged_by, k).await? {
                    return Ok(Created {
                        request: existing,
                        replayed: true,
                    });
                }
            }
            return Err(e.into());
        }
    };
    request_event::ActiveModel {
        request_id: Set(inserted.id),
        at: Set(now),
        actor_user_id: Set(Some(logged_by)),
        actor_kind: Set("staff".into()),
        action: Set("intake".into()),
        from_status: Set(None),
        to_status: Set(Status::Received.as_str().to_owned()),
        from_unit_id: Set(None),
        to_unit_id: Set(Some(place)),
        note: Set(None),
        public_note: Set(None),
        reason: Set(Some(routed_by)),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    let mut messages = Vec::new();
    messages
        .extend(outbox::to_requester(&tx, &inserted, outbox::kind::RECEIPT, None, reach).await?);
    let roles: &[Role] = if handler.is_some() {
        &[Role::Handler]
    } else {
        &[Role::Dispatcher]
    };
    messages.extend(outbox::to_unit(&tx, &inserted, place, roles, "intake").await?);
    outbox::enqueue(&tx, messages, now).await?;
    tx.commit().await?;
    Ok(Created {
        request: inserted.into(),
        replayed: false,
    })
}

/// One request by tracking number.
pub async fn get(db: &impl ConnectionTrait, no: &TrackingNo) -> Result<Request> {
    request::Entity::find()
        .filter(request::Column::TrackingNo.eq(no.to_string()))
        .one(db)
        .await?
        .map(Request::from)
        .ok_or(Error::NotFound)
}

/// The history of a request, oldest first.
pub async fn events(db: &impl ConnectionTrait, request_id: i32) -> Result<Vec<Event>> {
    Ok(request_event::Entity::find()
        .filter(request_event::Column::RequestId.eq(request_id))
        .order_by_asc(request_event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Event::from)
        .collect())
}

/// Performs one action on a request: the only code that changes `status`.
/// In one write transaction it re-reads the request (locked on PostgreSQL),
/// asks the lifecycle rules, writes the new state, the event row and the
/// outbox rows the move causes (see `messages_for`). `actor_user_id` is
/// `None` when the system acts on the actor's behalf (automatic 督办);
/// `reach` says whether an answer may go by SMS.
#[allow(clippy::too_many_arguments)] // one call, one move: splitting it would hide the transaction
pub async fn transition(
    db: &DatabaseConnection,
    no: &TrackingNo,
    actor_user_id: Option<i32>,
    actor: Actor,
    action: Action,
    cmd: &Command,
    reach: outbox::Reach,
    now: DateTime<Utc>,
) -> Result<Request> {
    let tx = begin_write(db).await?;
    let mut q = request::Entity::find().filter(request::Column::TrackingNo.eq(no.to_string()));
    if tx.get_database_backend() == DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    let model = q.one(&tx).await?.ok_or(Error::NotFound)?;
    let current = Request::from(model.clone());
    let tree = units::tree(&tx).await?;
    if !lifecycle::in_scope(&current.state(), &actor, &tree) {
        return Err(Error::NotFound);
    }
    let today = china_date(now);
    let d = lifecycle::decide(action, &current.state(), &actor, cmd, &tree, today)
        .map_err(Error::Lifecycle)?;
    let mut am: request::ActiveModel = model.into();
    am.status = Set(d.to_status.as_str().to_owned());
    am.handler_unit_id = Set(d.handler_unit_id);
    am.queue_unit_id = Set(d.queue_unit_id);
    am.accepted = Set(d.accepted);
    am.updated_at = Set(now);
    if d.supervise {
        am.supervised = Set(true);
    }
    if let Some((result, on_the_spot)) = &d.result {
        am.result = Set(Some(result.clone()));
        am.on_the_spot = Set(*on_the_spot);
    }
    if let Some((reason, explanation, review_on)) = &d.deferral {
        am.defer_reason = Set(Some(reason.as_str().to_owned()));
        am.defer_explanation = Set(Some(explanation.clone()));
        am.review_on = Set(Some(*review_on));
    }
    if matches!(d.to_status, Status::Done | Status::Deferred) && d.to_status != current.status {
        am.closed_at = Set(Some(now));
    }
    if d.restart_clock {
        let cal = calendar::load(&tx).await?;
        let limit = u32::try_from(current.time_limit_days).unwrap_or(0);
        am.due_on = Set(cal.due_on(today, limit));
        am.supervised = Set(false);
    }
    if d.clears_review_flag {
        am.needs_review = Set(false);
    }
    // The current answer is the latest one; earlier ones stay in the events.
    match action {
        Action::Reopen => {
            am.result = Set(None);
            am.on_the_spot = Set(false);
            am.rating = Set(None);
            am.rating_comment = Set(None);
        }
        Action::Review => {
            am.defer_reason = Set(None);
            am.defer_explanation = Set(None);
            am.review_on = Set(None);
        }
        _ => {}
    }
    let updated = am.update(&tx).await?;
    let event = request_event::ActiveModel {
        request_id: Set(updated.id),
        at: Set(now),
        actor_user_id: Set(actor_user_id),
        actor_kind: Set(if actor_user_id.is_some() {
            "staff"
        } else {
            "system"
        }
        .into()),
        action: Set(action.as_str().to_owned()),
        from_status: Set(Some(current.status.as_str().to_owned())),
        to_status: Set(d.to_status.as_str().to_owned()),
        from_unit_id: Set(current.current_unit()),
        to_unit_id: Set(d.handler_unit_id.or(d.queue_unit_id)),
        note: Set(clean(&cmd.note)),
        public_note: Set(public_text(action, cmd, &d)),
        reason: Set(match &d.result {
            Some((_, true)) => Some(ON_THE_SPOT.to_owned()),
            _ => d.reason.clone(),
        }),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    let messages = messages_for(&tx, &updated, action, &d, event.id, reach).await?;
    outbox::enqueue(&tx, messages, now).await?;
    tx.commit().await?;
    Ok(updated.into())
}

/// The outbox rows a move causes: the answer or a reopening notice to the
/// requester, and notices to the unit that receives or must watch it.
async fn messages_for(
    tx: &impl ConnectionTrait,
    r: &request::Model,
    action: Action,
    d: &lifecycle::Decision,
    event_id: i64,
    reach: outbox::Reach,
) -> Result<Vec<outbox::NewMessage>> {
    let mut out = Vec::new();
    let to_requester = match (action, d.to_status) {
        (_, Status::Done) if d.feedback_owed => Some((outbox::kind::DONE, Some(event_id))),
        (_, Status::Deferred) if d.feedback_owed => Some((outbox::kind::DEFERRED, Some(event_id))),
        (Action::Reopen, _) => Some((outbox::kind::REOPENED, None)),
        _ => None,
    };
    if let Some((kind, owed)) = to_requester {
        out.extend(outbox::to_requester(tx, r, kind, owed, reach).await?);
    }
    let handlers: &[Role] = &[Role::Handler];
    let dispatchers: &[Role] = &[Role::Dispatcher];
    let target = match action {
        Action::Dispatch | Action::Reassign | Action::Delegate | Action::Escalate => d
            .handler_unit_id
            .map(|u| (u, handlers))
            .or_else(|| d.queue_unit_id.map(|q| (q, dispatchers))),
        Action::Return => d.queue_unit_id.map(|q| (q, dispatchers)),
        Action::Supervise => d
            .handler_unit_id
            .map(|u| (u, [Role::Handler, Role::Dispatcher].as_slice()))
            .or_else(|| d.queue_unit_id.map(|q| (q, dispatchers))),
        _ => None,
    };
    if let Some((unit, roles)) = target {
        out.extend(outbox::to_unit(tx, r, unit, roles, action.as_str()).await?);
    }
    Ok(out)
}

/// The `reason` of a `complete` event that was fixed on the spot, so that
/// tallies as of any moment can be re-derived from events alone.
pub const ON_THE_SPOT: &str = "on_the_spot";

fn clean(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// What the resident sees of an event: the result, the deferral explanation,
/// or the public note.
fn public_text(action: Action, cmd: &Command, d: &lifecycle::Decision) -> Option<String> {
    match action {
        Action::Complete => d.result.as_ref().map(|(r, _)| r.clone()),
        Action::Defer => d.deferral.as_ref().map(|(_, e, _)| e.clone()),
        _ => clean(&cmd.public_note),
    }
}

/// Records the resident's rating of a done or deferred request. 不满意 or
/// worse puts it before the dispatcher for 重办.
pub async fn rate(
    db: &DatabaseConnection,
    no: &TrackingNo,
    code: &AccessCode,
    rating: Rating,
    comment: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Request> {
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > 500) {
        return Err(Validation::one("comment", "err.too_long").into());
    }
    let tx = begin_write(db).await?;
    let model = request::Entity::find()
        .filter(request::Column::TrackingNo.eq(no.to_string()))
        .one(&tx)
        .await?
        .ok_or(Error::NotFound)?;
    if !AccessCode::from_stored(model.access_code.clone()).matches(code) {
        return Err(Error::NotFound);
    }
    let status = Status::parse(&model.status).unwrap_or(Status::Received);
    if !matches!(status, Status::Done | Status::Deferred) {
        return Err(Error::Lifecycle(lifecycle::LifecycleError::Illegal {
            status,
            action: Action::Review,
        }));
    }
    let mut am: request::ActiveModel = model.into();
    am.rating = Set(Some(rating.as_str().to_owned()));
    am.rating_comment = Set(comment.map(str::to_owned));
    am.rated_at = Set(Some(now));
    if rating.calls_for_review() {
        am.needs_review = Set(true);
    }
    am.updated_at = Set(now);
    let updated = am.update(&tx).await?;
    request_event::ActiveModel {
        request_id: Set(updated.id),
        at: Set(now),
        actor_user_id: Set(None),
        actor_kind: Set("resident".into()),
        action: Set("rating".into()),
        from_status: Set(Some(status.as_str().to_owned())),
        to_status: Set(status.as_str().to_owned()),
        from_unit_id: Set(updated.handler_unit_id.or(updated.queue_unit_id)),
        to_unit_id: Set(updated.handler_unit_id.or(updated.queue_unit_id)),
        note: Set(comment.map(str::to_owned)),
        public_note: Set(None),
        reason: Set(Some(rating.as_str().to_owned())),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    Ok(updated.into())
}

/// Filters of the staff lists. All optional; combined with AND.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only requests visible in these units' subtrees (`None`: everywhere).
    pub scope: Option<Vec<i32>>,
    /// Status.
    pub status: Option<Status>,
    /// Village.
    pub village_id: Option<i32>,
    /// Current handling unit.
    pub handler_unit_id: Option<i32>,
    /// Waits in one of these dispatcher queues.
    pub queue_units: Option<Vec<i32>>,
    /// Category or, for a top-level category, any of its children.
    pub category_ids: Option<Vec<i32>>,
    /// Only past their due date (open ones).
    pub overdue_on: Option<NaiveDate>,
    /// Only open ones due on or before this day.
    pub due_by: Option<NaiveDate>,
    /// Only open ones due on or after this day.
    pub due_from: Option<NaiveDate>,
    /// Only deferred ones whose review date is on or before this day.
    pub review_by: Option<NaiveDate>,
    /// Newest first instead of supervised first, then by due date.
    pub newest_first: bool,
    /// Received on or after (China date; converted by the caller).
    pub received_from: Option<DateTime<Utc>>,
    /// Received before.
    pub received_before: Option<DateTime<Utc>>,
    /// Signed for or not.
    pub accepted: Option<bool>,
    /// Flagged 督办.
    pub supervised: Option<bool>,
    /// Rated dissatisfied, waiting for 重办 review.
    pub needs_review: Option<bool>,
    /// Only open ones (received or in progress).
    pub open: bool,
    /// Only these requests (an agenda, a board).
    pub ids: Option<Vec<i32>>,
    /// Fixed on the spot (当场解决) or not.
    pub on_the_spot: Option<bool>,
    /// Text in the content, address, tracking number or phone.
    pub text: Option<String>,
}

/// The `WHERE` of a filter (shared with the dashboard's counts).
pub(super) fn condition(f: &Filter) -> Condition {
    let mut c = Condition::all();
    if let Some(scope) = &f.scope {
        c = c.add(
            Condition::any()
                .add(request::Column::VillageId.is_in(scope.iter().copied()))
                .add(request::Column::HandlerUnitId.is_in(scope.iter().copied()))
                .add(request::Column::QueueUnitId.is_in(scope.iter().copied())),
        );
    }
    if let Some(s) = f.status {
        c = c.add(request::Column::Status.eq(s.as_str()));
    }
    if let Some(ids) = &f.ids {
        c = c.add(request::Column::Id.is_in(ids.iter().copied()));
    }
    if f.open || f.overdue_on.is_some() || f.due_by.is_some() || f.due_from.is_some() {
        c = c.add(
            request::Column::Status.is_in([Status::Received.as_str(), Status::InProgress.as_str()]),
        );
    }
    if let Some(v) = f.village_id {
        c = c.add(request::Column::VillageId.eq(v));
    }
    if let Some(u) = f.handler_unit_id {
        c = c.add(request::Column::HandlerUnitId.eq(u));
    }
    if let Some(q) = &f.queue_units {
        c = c.add(request::Column::QueueUnitId.is_in(q.iter().copied()));
    }
    if let Some(cats) = &f.category_ids {
        c = c.add(request::Column::CategoryId.is_in(cats.iter().copied()));
    }
    if let Some(d) = f.overdue_on {
        c = c.add(request::Column::DueOn.lt(d));
    }
    if let Some(d) = f.due_by {
        c = c.add(request::Column::DueOn.lte(d));
    }
    if let Some(d) = f.due_from {
        c = c.add(request::Column::DueOn.gte(d));
    }
    if let Some(d) = f.review_by {
        c = c
            .add(request::Column::Status.eq(Status::Deferred.as_str()))
            .add(request::Column::ReviewOn.lte(d));
    }
    if let Some(t) = f.received_from {
        c = c.add(request::Column::ReceivedAt.gte(t));
    }
    if let Some(t) = f.received_before {
        c = c.add(request::Column::ReceivedAt.lt(t));
    }
    if let Some(a) = f.accepted {
        c = c.add(request::Column::Accepted.eq(a));
    }
    if let Some(s) = f.supervised {
        c = c.add(request::Column::Supervised.eq(s));
    }
    if let Some(n) = f.needs_review {
        c = c.add(request::Column::NeedsReview.eq(n));
    }
    if let Some(s) = f.on_the_spot {
        c = c.add(request::Column::OnTheSpot.eq(s));
    }
    if let Some(t) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let mut any = Condition::any()
            .add(request::Column::Content.contains(t))
            .add(request::Column::Address.contains(t))
            .add(request::Column::Phone.contains(t));
        if let Some(no) = TrackingNo::parse(t) {
            any = any.add(request::Column::TrackingNo.eq(no.to_string()));
        }
        c = c.add(any);
    }
    c
}

/// Highest page number a list serves (beyond it, pages are empty).
pub const MAX_PAGE: u64 = 1_000_000;

/// A page of requests matching `f`: supervised first, then by due date
/// (or newest first).
pub async fn list(
    db: &impl ConnectionTrait,
    f: &Filter,
    page: u64,
    per_page: u64,
) -> Result<(Vec<Request>, u64)> {
    let q = request::Entity::find().filter(condition(f));
    let total = q.clone().count(db).await?;
    let q = if f.newest_first {
        q.order_by_desc(request::Column::Id)
    } else {
        q.order_by_desc(request::Column::Supervised)
            .order_by_asc(request::Column::DueOn)
            .order_by_asc(request::Column::Id)
    };
    let items = q
        // Absurd page numbers (a fuzzer's 2^63) give an empty page, not an overflow.
        .offset(
            page.clamp(1, MAX_PAGE)
                .saturating_sub(1)
                .saturating_mul(std::cmp::Ord::min(per_page, 10_000)),
        )
        .limit(per_page)
        .all(db)
        .await?
        .into_iter()
        .map(Request::from)
        .collect();
    Ok((items, total))
}

/// How many requests match `f`.
pub async fn count(db: &impl ConnectionTrait, f: &Filter) -> Result<u64> {
    Ok(request::Entity::find()
        .filter(condition(f))
        .count(db)
        .await?)
}

/// Up to `limit` requests matching `f` with ids above `after_id`, oldest
/// first: keyset pages for exports, which walk a whole ledger without
/// loading it or re-counting it per page.
pub async fn list_after(
    db: &impl ConnectionTrait,
    f: &Filter,
    after_id: i32,
    limit: u64,
) -> Result<Vec<Request>> {
    Ok(request::Entity::find()
        .filter(condition(f))
        .filter(request::Column::Id.gt(after_id))
        .order_by_asc(request::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(Request::from)
        .collect())
}
