//! The outbox: messages written in the same transaction as the change that
//! causes them, claimed and finalized by the mail worker.

use super::entities::{category, feedback, outbox, request, unit, user};
use super::{Error, Result, begin_write};
use crate::domain::personal::{Email, PersonName, Phone};
use crate::domain::role::Role;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::Rng;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DbBackend, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};
use std::sync::OnceLock;

/// Channel of email messages (and feedback channel of an emailed answer).
pub const EMAIL: &str = "email";
/// Channel that only writes a log line.
pub const LOG: &str = "log";
/// Channel of text messages through the signed SMS webhook.
pub const SMS: &str = "sms";

/// The channels that can reach a requester, from the configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reach {
    /// An SMS webhook is configured: requesters with a mobile phone and no
    /// email get their messages by SMS.
    pub sms: bool,
}

/// A stored message's delivery state.
pub mod status {
    /// Waiting for its next attempt.
    pub const QUEUED: &str = "queued";
    /// Claimed by a worker (until `locked_until`).
    pub const SENDING: &str = "sending";
    /// Delivered.
    pub const SENT: &str = "sent";
    /// Failed for good; an administrator may requeue it.
    pub const DEAD: &str = "dead";
}

/// Message kinds; each names a folder of `templates/emails/`.
pub mod kind {
    /// Receipt to the requester at intake.
    pub const RECEIPT: &str = "receipt";
    /// The result of a done request, to the requester.
    pub const DONE: &str = "done";
    /// The explanation of a deferral, to the requester.
    pub const DEFERRED: &str = "deferred";
    /// The request was reopened (重办), to the requester.
    pub const REOPENED: &str = "reopened";
    /// A request arrived at, came back to, or was flagged for a unit.
    pub const UNIT_NOTICE: &str = "unit_notice";
    /// A unit's open items due soon or overdue, daily to its staff.
    pub const DAILY_DIGEST: &str = "daily_digest";
    /// Open overdue items in a supervisor's scope, weekly.
    pub const WEEKLY_OVERDUE: &str = "weekly_overdue";
}

static MAIL_DOMAIN: OnceLock<String> = OnceLock::new();

/// Sets the domain of new Message-IDs (from `ZZH_MAIL_FROM`); the first call
/// wins. Without it: `zhouzhouhui.local`.
pub fn set_mail_domain(domain: &str) {
    let _ = MAIL_DOMAIN.set(domain.to_owned());
}

fn new_message_id() -> String {
    let n: u128 = rand::thread_rng().r#gen();
    let domain = MAIL_DOMAIN
        .get()
        .map(String::as_str)
        .unwrap_or("zhouzhouhui.local");
    format!("<zzh-{n:032x}@{domain}>")
}

/// Template parameters of a message, stored as JSON. Messages to anyone but
/// the requester carry masked personal data only.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Payload {
    /// `ZZH-2026-000438`.
    pub tracking_no: String,
    /// The access code (messages to the requester only).
    pub access_code: Option<String>,
    /// The requester's name: raw to the requester, masked to staff.
    pub name: String,
    /// Category name.
    pub category: String,
    /// Village name.
    pub village: String,
    /// The action that caused a unit notice (`dispatch`, `return`, …).
    pub action: String,
    /// Result or deferral explanation.
    pub text: String,
    /// Review date of a deferral, or the due date.
    pub date: Option<NaiveDate>,
    /// Receiving unit's name (notices), or the unit or scope of a digest.
    pub unit: String,
    /// The items of a digest (masked personal data only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<DigestItem>,
    /// How many items the digest stands for (it lists at most [`DIGEST_LIMIT`]).
    #[serde(skip_serializing_if = "is_zero")]
    pub total: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Items listed in one digest at most; the total is always given.
pub const DIGEST_LIMIT: u64 = 50;

/// One request in a digest.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct DigestItem {
    /// `ZZH-2026-000438`.
    pub tracking_no: String,
    /// Village name.
    pub village: String,
    /// Category name.
    pub category: String,
    /// Masked requester name.
    pub name: String,
    /// Due date.
    pub due_on: Option<NaiveDate>,
    /// 已超期 N 天 / 今日到期 / 明日到期.
    pub state: String,
}

/// A message to be written to the outbox.
#[derive(Clone)]
pub struct NewMessage {
    /// Template name (see [`kind`]).
    pub kind: &'static str,
    /// `email`, `sms` or `log`.
    pub channel: &'static str,
    /// Address or mobile number; `None` for `log`.
    pub recipient: Option<String>,
    /// The request it is about.
    pub request_id: Option<i32>,
    /// The answer event this message delivers (feedback).
    pub owed_event_id: Option<i64>,
    /// Template parameters.
    pub payload: Payload,
}

/// Writes messages in the caller's transaction.
pub async fn enqueue(
    tx: &impl ConnectionTrait,
    msgs: Vec<NewMessage>,
    now: DateTime<Utc>,
) -> Result<()> {
    for m in msgs {
        let payload = serde_json::to_string(&m.payload)
            .map_err(|e| Error::Db(sea_orm::DbErr::Custom(e.to_string())))?;
        outbox::ActiveModel {
            kind: Set(m.kind.to_owned()),
            channel: Set(m.channel.to_owned()),
            recipient: Set(m.recipient),
            request_id: Set(m.request_id),
            owed_event_id: Set(m.owed_event_id),
            payload: Set(payload),
            message_id: Set(new_message_id()),
            status: Set(status::QUEUED.to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(tx)
        .await?;
    }
    Ok(())
}

/// Names of a request's category and village.
pub async fn names(tx: &impl ConnectionTrait, r: &request::Model) -> Result<(String, String)> {
    let category = category::Entity::find_by_id(r.category_id)
        .one(tx)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let village = unit::Entity::find_by_id(r.village_id)
        .one(tx)
        .await?
        .map(|u| u.name)
        .unwrap_or_default();
    Ok((category, village))
}

/// Whether a stored phone number can receive text messages (a mainland
/// mobile number, stored as 11 digits).
pub fn is_mobile(phone: &str) -> bool {
    let b = phone.as_bytes();
    b.len() == 11 && b[0] == b'1' && b.iter().all(u8::is_ascii_digit)
}

/// The message of this kind to the requester: by email when they gave an
/// address, else by SMS to a mobile phone when `reach` allows it.
pub async fn to_requester(
    tx: &impl ConnectionTrait,
    r: &request::Model,
    kind: &'static str,
    owed_event_id: Option<i64>,
    reach: Reach,
) -> Result<Option<NewMessage>> {
    let email = r.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
    let (channel, recipient) = match email {
        Some(e) => (EMAIL, e),
        None if reach.sms && is_mobile(&r.phone) => (SMS, r.phone.as_str()),
        None => return Ok(None),
    };
    let (category, village) = names(tx, r).await?;
    let (text, date) = match kind {
        kind::DONE => (r.result.clone().unwrap_or_default(), None),
        kind::DEFERRED => (r.defer_explanation.clone().unwrap_or_default(), r.review_on),
        _ => (String::new(), Some(r.due_on)),
    };
    Ok(Some(NewMessage {
        kind,
        channel,
        recipient: Some(recipient.to_owned()),
        request_id: Some(r.id),
        owed_event_id,
        payload: Payload {
            tracking_no: r.tracking_no.clone(),
            access_code: Some(r.access_code.clone()),
            name: r.requester_name.clone(),
            category,
            village,
            text,
            date,
            ..Default::default()
        },
    }))
}

/// Notices to the active users of `unit_id` with these roles that have an
/// email address, with masked personal data only.
pub async fn to_unit(
    tx: &impl ConnectionTrait,
    r: &request::Model,
    unit_id: i32,
    roles: &[Role],
    action: &str,
) -> Result<Vec<NewMessage>> {
    let users = user::Entity::find()
        .filter(user::Column::UnitId.eq(unit_id))
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Role.is_in(roles.iter().map(|r| r.as_str())))
        .filter(user::Column::Email.is_not_null())
        .order_by_asc(user::Column::Id)
        .all(tx)
        .await?;
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let (category, village) = names(tx, r).await?;
    let unit_name = unit::Entity::find_by_id(unit_id)
        .one(tx)
        .await?
        .map(|u| u.name)
        .unwrap_or_default();
    let payload = Payload {
        tracking_no: r.tracking_no.clone(),
        access_code: None,
        name: PersonName::from_stored(r.requester_name.clone()).to_string(),
        category,
        village,
        action: action.to_owned(),
        text: String::new(),
        date: Some(r.due_on),
        unit: unit_name,
        ..Default::default()
    };
    Ok(users
        .into_iter()
        .filter_map(|u| u.email.filter(|e| !e.trim().is_empty()))
        .map(|email| NewMessage {
            kind: kind::UNIT_NOTICE,
            channel: EMAIL,
            recipient: Some(email),
            request_id: Some(r.id),
            owed_event_id: None,
            payload: payload.clone(),
        })
        .collect())
}

/// A claimed message, ready to send.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The row (attempts already counts this attempt).
    pub row: outbox::Model,
    /// Its parsed parameters.
    pub payload: Payload,
}

/// How long a claim lasts before another worker may take the row over.
pub const LEASE: Duration = Duration::minutes(5);

/// Claims up to `limit` due messages of these channels with one
/// `UPDATE … RETURNING` (with `FOR UPDATE SKIP LOCKED` on PostgreSQL).
pub async fn claim(
    db: &DatabaseConnection,
    channels: &[&str],
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Claimed>> {
    if channels.is_empty() {
        return Ok(Vec::new());
    }
    let tx = begin_write(db).await?;
    let backend = tx.get_database_backend();
    let pg = backend == DbBackend::Postgres;
    let p = |i: usize| if pg { format!("${i}") } else { "?".to_owned() };
    let channel_marks: Vec<String> = (0..channels.len()).map(|i| p(5 + i)).collect();
    let sql = format!(
        "UPDATE outbox SET status = 'sending', locked_until = {}, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM outbox \
         WHERE ((status = 'queued' AND next_attempt_at <= {}) \
         OR (status = 'sending' AND locked_until < {})) \
         AND channel IN ({}) ORDER BY id LIMIT {}{}) RETURNING *",
        p(1),
        p(2),
        p(3),
        channel_marks.join(", "),
        p(4),
        if pg { " FOR UPDATE SKIP LOCKED" } else { "" },
    );
    let mut values: Vec<sea_orm::Value> = vec![
        (now + LEASE).into(),
        now.into(),
        now.into(),
        i64::try_from(limit).unwrap_or(i64::MAX).into(),
    ];
    values.extend(channels.iter().map(|c| (*c).into()));
    // SQLite numbers `?` in order of appearance: the channels come before LIMIT.
    if !pg {
        let limit_value = values.remove(3);
        values.push(limit_value);
    }
    let rows =
        outbox::Model::find_by_statement(Statement::from_sql_and_values(backend, sql, values))
            .all(&tx)
            .await?;
    tx.commit().await?;
    let mut out: Vec<Claimed> = rows
        .into_iter()
        .map(|row| Claimed {
            payload: serde_json::from_str(&row.payload).unwrap_or_default(),
            row,
        })
        .collect();
    out.sort_by_key(|c| c.row.id);
    Ok(out)
}

/// Marks a claimed message sent and records the feedback it delivers, in one
/// transaction. `false` if another worker took the row over meanwhile.
pub async fn mark_sent(
    db: &DatabaseConnection,
    row: &outbox::Model,
    now: DateTime<Utc>,
) -> Result<bool> {
    let tx = begin_write(db).await?;
    let done = outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(status::SENT))
        .col_expr(outbox::Column::SentAt, Expr::value(now))
        .col_expr(
            outbox::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            outbox::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .filter(outbox::Column::Id.eq(row.id))
        .filter(outbox::Column::Status.eq(status::SENDING))
        .filter(outbox::Column::Attempts.eq(row.attempts))
        .exec(&tx)
        .await?
        .rows_affected
        == 1;
    if done && let (Some(request_id), Some(owed)) = (row.request_id, row.owed_event_id) {
        feedback::ActiveModel {
            request_id: Set(request_id),
            owed_event_id: Set(owed),
            channel: Set(row.channel.clone()),
            delivered: Set(true),
            by_user_id: Set(None),
            meeting_id: Set(None),
            note: Set(None),
            at: Set(now),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
    }
    tx.commit().await?;
    Ok(done)
}

/// Puts a claimed message back in the queue for `next` (transient failure),
/// or marks it dead when `next` is `None`. `false` if another worker took it.
pub async fn mark_failed(
    db: &DatabaseConnection,
    row: &outbox::Model,
    next: Option<DateTime<Utc>>,
    error: &str,
) -> Result<bool> {
    let error: String = error.chars().take(500).collect();
    let mut q = outbox::Entity::update_many()
        .col_expr(
            outbox::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(outbox::Column::LastError, Expr::value(error));
    q = match next {
        Some(at) => q
            .col_expr(outbox::Column::Status, Expr::value(status::QUEUED))
            .col_expr(outbox::Column::NextAttemptAt, Expr::value(at)),
        None => q.col_expr(outbox::Column::Status, Expr::value(status::DEAD)),
    };
    let tx = begin_write(db).await?;
    let done = q
        .filter(outbox::Column::Id.eq(row.id))
        .filter(outbox::Column::Status.eq(status::SENDING))
        .filter(outbox::Column::Attempts.eq(row.attempts))
        .exec(&tx)
        .await?
        .rows_affected
        == 1;
    tx.commit().await?;
    Ok(done)
}

/// How many messages are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Waiting.
    pub queued: u64,
    /// Claimed by a worker.
    pub sending: u64,
    /// Delivered.
    pub sent: u64,
    /// Failed for good.
    pub dead: u64,
}

/// Counts by status.
pub async fn counts(db: &impl ConnectionTrait) -> Result<Counts> {
    let n = |s: &'static str| {
        outbox::Entity::find()
            .filter(outbox::Column::Status.eq(s))
            .count(db)
    };
    Ok(Counts {
        queued: n(status::QUEUED).await?,
        sending: n(status::SENDING).await?,
        sent: n(status::SENT).await?,
        dead: n(status::DEAD).await?,
    })
}

/// A stored message as the operations page shows it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Id.
    pub id: i64,
    /// Template name.
    pub kind: String,
    /// Channel.
    pub channel: String,
    /// Masked recipient.
    pub recipient: String,
    /// Status.
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// Next attempt (queued).
    pub next_attempt_at: DateTime<Utc>,
    /// Last error.
    pub last_error: Option<String>,
    /// Written.
    pub created_at: DateTime<Utc>,
}

/// The latest messages, newest first, with masked recipients.
pub async fn latest(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<Entry>> {
    Ok(outbox::Entity::find()
        .order_by_desc(outbox::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|m| Entry {
            id: m.id,
            kind: m.kind,
            recipient: match (m.recipient, m.channel.as_str()) {
                (Some(r), SMS) => Phone::from_stored(r).masked(),
                (Some(r), _) => Email::from_stored(r).masked(),
                (None, _) => String::new(),
            },
            channel: m.channel,
            status: m.status,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            created_at: m.created_at,
        })
        .collect())
}

/// Requeues a dead message for a new round of attempts now.
pub async fn retry(db: &DatabaseConnection, id: i64, now: DateTime<Utc>) -> Result<()> {
    let tx = begin_write(db).await?;
    let n = outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(status::QUEUED))
        .col_expr(outbox::Column::Attempts, Expr::value(0))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(now))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq(status::DEAD))
        .exec(&tx)
        .await?
        .rows_affected;
    tx.commit().await?;
    if n == 1 { Ok(()) } else { Err(Error::NotFound) }
}

/// Every message about a request, oldest first.
pub async fn for_request(db: &impl ConnectionTrait, request_id: i32) -> Result<Vec<outbox::Model>> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::RequestId.eq(request_id))
        .order_by_asc(outbox::Column::Id)
        .all(db)
        .await?)
}
