//! The outbox worker: claims due messages, sends them outside any transaction, and finalizes each with a guarded update.

use super::{
    LogTransport, OutgoingMessage, SendError, SmsTransport, Transport, render, sms_params,
};
use crate::db::{self, outbox};
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use sea_orm::DatabaseConnection;

/// Attempts before a transiently failing message is given up (dead).
pub const MAX_ATTEMPTS: i32 = 8;
/// Messages claimed per round.
pub const BATCH: u64 = 20;

/// The channels a worker can deliver to. Without email (or SMS), those rows stay queued.
pub struct Channels<E> {
    /// SMTP, when `ZZH_SMTP_URL` is set.
    pub email: Option<E>,
    /// The SMS webhook, when `ZZH_SMS_WEBHOOK_URL` is set.
    pub sms: Option<SmsTransport>,
    /// The log channel (always there).
    pub log: LogTransport,
    /// Base of links in messages.
    pub public_url: String,
}

impl<E: Transport> Channels<E> {
    fn names(&self) -> Vec<&'static str> {
        let mut v = vec![outbox::LOG];
        if self.email.is_some() {
            v.push(outbox::EMAIL);
        }
        if self.sms.is_some() {
            v.push(outbox::SMS);
        }
        v
    }

    async fn send(&self, channel: &str, msg: &OutgoingMessage) -> Result<(), SendError> {
        match (channel, &self.email, &self.sms) {
            (outbox::LOG, _, _) => self.log.send(msg).await,
            (outbox::EMAIL, Some(e), _) => e.send(msg).await,
            (outbox::SMS, _, Some(s)) => s.send(msg).await,
            _ => Err(SendError::Transient(format!("no {channel} channel"))),
        }
    }
}

/// What a drain did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Delivered.
    pub sent: u32,
    /// Failed transiently, scheduled again.
    pub retried: u32,
    /// Failed for good.
    pub dead: u32,
    /// Taken over by another worker before we finished (lease expired).
    pub lost: u32,
}

impl Report {
    fn add(&mut self, o: Report) {
        self.sent += o.sent;
        self.retried += o.retried;
        self.dead += o.dead;
        self.lost += o.lost;
    }
}

/// The result of `drain_once`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing was due.
    Empty,
    /// Some messages were claimed and handled.
    Worked(Report),
}

/// Delay after attempt number `attempts`: 30 s · 2^(attempts−1), ±20 %, at most 6 h.
pub fn backoff(attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(0);
    let base_ms = (30_000i64 << exp).min(6 * 3600 * 1000);
    let jitter = rand::thread_rng().gen_range(-base_ms / 5..=base_ms / 5);
    Duration::milliseconds((base_ms + jitter).min(6 * 3600 * 1000))
}

/// Claims one batch of due messages at `now`, sends them and records each
/// outcome. Tests pass `now` to jump past back-off delays.
pub async fn drain_once<E: Transport>(
    db: &DatabaseConnection,
    channels: &Channels<E>,
    now: DateTime<Utc>,
) -> Result<Outcome, db::Error> {
    let claimed = outbox::claim(db, &channels.names(), now, BATCH).await?;
    if claimed.is_empty() {
        return Ok(Outcome::Empty);
    }
    let mut report = Report::default();
    for c in claimed {
        let row = &c.row;
        let result = match render(&row.kind, &c.payload, &channels.public_url) {
            Ok((subject, text, html)) => {
                let msg = OutgoingMessage {
                    outbox_id: row.id,
                    kind: row.kind.clone(),
                    message_id: row.message_id.clone(),
                    to: row.recipient.clone(),
                    subject,
                    text,
                    html,
                    params: sms_params(&row.kind, &c.payload, &channels.public_url),
                };
                channels.send(&row.channel, &msg).await
            }
            Err(e) => Err(e),
        };
        let (finished, outcome) = match &result {
            Ok(()) => (outbox::mark_sent(db, row, now).await?, "sent"),
            Err(SendError::Transient(e)) if row.attempts < MAX_ATTEMPTS => {
                let next = now + backoff(row.attempts);
                (outbox::mark_failed(db, row, Some(next), e).await?, "retry")
            }
            Err(SendError::Transient(e) | SendError::Permanent(e)) => {
                (outbox::mark_failed(db, row, None, e).await?, "dead")
            }
        };
        tracing::info!(
            outbox_id = row.id,
            kind = %row.kind,
            attempt = row.attempts,
            outcome,
            "outbox attempt"
        );
        match (finished, outcome) {
            (false, _) => report.lost += 1,
            (true, "sent") => report.sent += 1,
            (true, "retry") => report.retried += 1,
            _ => report.dead += 1,
        }
    }
    Ok(Outcome::Worked(report))
}

/// Drains until nothing is due at `now`.
pub async fn drain<E: Transport>(
    db: &DatabaseConnection,
    channels: &Channels<E>,
    now: DateTime<Utc>,
) -> Result<Report, db::Error> {
    let mut total = Report::default();
    while let Outcome::Worked(r) = drain_once(db, channels, now).await? {
        total.add(r);
    }
    Ok(total)
}

/// Writes the digests that are due, then drains the outbox, every `every`
/// until `shutdown` turns true.
pub async fn run<E: Transport>(
    db: DatabaseConnection,
    channels: Channels<E>,
    every: std::time::Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            break;
        }
        if let Err(e) = db::digests::enqueue_digests(&db, Utc::now()).await {
            tracing::warn!(error = %e, "digests round failed");
        }
        if let Err(e) = drain(&db, &channels, Utc::now()).await {
            tracing::warn!(error = %e, "outbox round failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => {}
        }
    }
    tracing::info!("outbox worker stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        for _ in 0..50 {
            let first = backoff(1).num_milliseconds();
            assert!((24_000..=36_000).contains(&first), "{first}");
            let third = backoff(3).num_milliseconds();
            assert!((96_000..=144_000).contains(&third), "{third}");
            assert!(backoff(30).num_seconds() <= 6 * 3600);
        }
    }
}
