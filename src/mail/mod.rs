//! Outgoing messages: rendering from templates, the channels behind one `Transport` trait, and the outbox worker.

pub mod sms;
pub mod worker;

pub use sms::SmsTransport;

use crate::db::outbox::{Payload, kind};
use askama::Template;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// A rendered message, ready for a channel.
#[derive(Clone)]
pub struct OutgoingMessage {
    /// Outbox row id (for logs).
    pub outbox_id: i64,
    /// Template name (for logs).
    pub kind: String,
    /// Stable `<…@domain>` Message-ID, the same on every attempt.
    pub message_id: String,
    /// Address; `None` for the log channel.
    pub to: Option<String>,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// Ordered template parameters (SMS).
    pub params: Vec<String>,
}

/// Debug without the recipient or the bodies (they hold personal data).
impl std::fmt::Debug for OutgoingMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingMessage")
            .field("outbox_id", &self.outbox_id)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// Why a send failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later (connection refused, SMTP 4xx, timeout).
    #[error("transient: {0}")]
    Transient(String),
    /// Will never succeed (SMTP 5xx, bad address, unknown template).
    #[error("permanent: {0}")]
    Permanent(String),
}

/// A delivery channel.
pub trait Transport: Send + Sync {
    /// Sends one message.
    fn send(
        &self,
        msg: &OutgoingMessage,
    ) -> impl std::future::Future<Output = Result<(), SendError>> + Send;
}

/// Email over SMTP (lettre), configured by a URL such as `smtp://host:25`,
/// `smtp://host:587?tls=required` or `smtps://user:pass@host`.
#[derive(Clone)]
pub struct SmtpTransport {
    inner: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// A mail setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `ZZH_SMTP_URL` does not parse.
    #[error("invalid ZZH_SMTP_URL: {0}")]
    Url(String),
    /// `ZZH_MAIL_FROM` is not an address.
    #[error("invalid ZZH_MAIL_FROM: {0}")]
    From(String),
    /// `ZZH_SMS_WEBHOOK_URL` cannot be used.
    #[error("invalid ZZH_SMS_WEBHOOK_URL: {0}")]
    Sms(String),
}

impl SmtpTransport {
    /// A transport for `url`, sending as `from` (`周周会 <noreply@…>`).
    pub fn new(url: &str, from: &str) -> Result<Self, ConfigError> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| ConfigError::From(format!("{e}")))?;
        let inner = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| ConfigError::Url(e.to_string()))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        Ok(SmtpTransport { inner, from })
    }
}

impl Transport for SmtpTransport {
    async fn send(&self, msg: &OutgoingMessage) -> Result<(), SendError> {
        let to: Mailbox = msg
            .to
            .as_deref()
            .unwrap_or_default()
            .parse()
            .map_err(|_| SendError::Permanent("invalid recipient address".into()))?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .message_id(Some(msg.message_id.clone()))
            .subject(msg.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                msg.text.clone(),
                msg.html.clone(),
            ))
            .map_err(|e| SendError::Permanent(e.to_string()))?;
        match self.inner.send(email).await {
            Ok(_) => Ok(()),
            // 5xx answers; everything else (4xx, refused, timeout) may pass later.
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }
}

/// Writes one tracing line per message: no addresses, names or bodies.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogTransport;

impl Transport for LogTransport {
    async fn send(&self, msg: &OutgoingMessage) -> Result<(), SendError> {
        tracing::info!(outbox_id = msg.outbox_id, kind = %msg.kind, "message logged");
        Ok(())
    }
}

/// The domain of a `From` setting such as `周周会 <noreply@example.cn>`.
pub fn domain_of(from: &str) -> &str {
    from.rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>').trim())
        .filter(|d| !d.is_empty())
        .unwrap_or("zhouzhouhui.local")
}

/// The default sender.
pub const DEFAULT_FROM: &str = "周周会 <noreply@zhouzhouhui.local>";

/// The channels of a configuration: SMTP when `ZZH_SMTP_URL` is set, SMS
/// when `ZZH_SMS_WEBHOOK_URL` and `ZZH_SMS_SECRET` are.
pub fn channels(
    config: &crate::config::Config,
) -> Result<worker::Channels<SmtpTransport>, ConfigError> {
    crate::db::outbox::set_mail_domain(domain_of(&config.mail_from));
    let email = match &config.smtp_url {
        Some(url) => Some(SmtpTransport::new(url, &config.mail_from)?),
        None => None,
    };
    let sms = match (&config.sms_webhook_url, &config.sms_secret) {
        (Some(url), Some(secret)) => Some(SmsTransport::new(url, secret)?),
        _ => None,
    };
    Ok(worker::Channels {
        email,
        sms,
        log: LogTransport,
        public_url: config.public_url.clone(),
    })
}

/// What every email template sees.
struct Vars<'a> {
    p: &'a Payload,
    code: &'a str,
    status_link: &'a str,
    staff_link: &'a str,
    action_label: &'a str,
    public_url: &'a str,
}

macro_rules! email {
    ($name:ident, $sp:literal, $tp:literal, $hp:literal) => {
        mod $name {
            use super::Vars;
            use askama::Template;

            #[derive(Template)]
            #[template(path = $sp)]
            pub(super) struct Subject<'a> {
                pub(super) v: &'a Vars<'a>,
            }
            #[derive(Template)]
            #[template(path = $tp)]
            pub(super) struct Text<'a> {
                pub(super) v: &'a Vars<'a>,
            }
            #[derive(Template)]
            #[template(path = $hp)]
            pub(super) struct Html<'a> {
                pub(super) v: &'a Vars<'a>,
            }
        }
    };
}

email!(
    receipt,
    "emails/receipt/subject.txt",
    "emails/receipt/body.txt",
    "emails/receipt/body.html"
);
email!(
    done,
    "emails/done/subject.txt",
    "emails/done/body.txt",
    "emails/done/body.html"
);
email!(
    deferred,
    "emails/deferred/subject.txt",
    "emails/deferred/body.txt",
    "emails/deferred/body.html"
);
email!(
    reopened,
    "emails/reopened/subject.txt",
    "emails/reopened/body.txt",
    "emails/reopened/body.html"
);
email!(
    daily_digest,
    "emails/daily_digest/subject.txt",
    "emails/daily_digest/body.txt",
    "emails/daily_digest/body.html"
);
email!(
    weekly_overdue,
    "emails/weekly_overdue/subject.txt",
    "emails/weekly_overdue/body.txt",
    "emails/weekly_overdue/body.html"
);
email!(
    unit_notice,
    "emails/unit_notice/subject.txt",
    "emails/unit_notice/body.txt",
    "emails/unit_notice/body.html"
);

/// Words of a unit notice for the action that caused it.
fn action_label(action: &str) -> &'static str {
    match action {
        "intake" => "新受理待办",
        "dispatch" => "已派至本单位",
        "reassign" => "已改派至本单位",
        "delegate" => "已下派至本单位",
        "escalate" => "已上报至本单位",
        "return" => "被退回派单员",
        "supervise" => "已被督办",
        _ => "有新动态",
    }
}

/// The ordered SMS parameters of a message to the requester:
/// tracking number, a short text (at most 40 characters) and the status link.
pub fn sms_params(kind_name: &str, p: &Payload, public_url: &str) -> Vec<String> {
    let short = match kind_name {
        kind::RECEIPT => p.category.clone(),
        _ => p.text.clone(),
    };
    let mut short: String = short.split_whitespace().collect::<Vec<_>>().join(" ");
    if short.chars().count() > 40 {
        short = short.chars().take(39).collect::<String>() + "…";
    }
    let link = match &p.access_code {
        Some(code) => format!("{public_url}/s/{}?code={code}", p.tracking_no),
        None => String::new(),
    };
    vec![p.tracking_no.clone(), short, link]
}

/// Renders subject, text and HTML of a message kind. Links use `public_url`;
/// the status link (with the access code) only goes to the requester.
pub fn render(
    kind_name: &str,
    p: &Payload,
    public_url: &str,
) -> Result<(String, String, String), SendError> {
    let code = p.access_code.as_deref().unwrap_or_default();
    let status_link = if p.access_code.is_some() {
        format!("{public_url}/s/{}?code={code}", p.tracking_no)
    } else {
        String::new()
    };
    let staff_link = format!("{public_url}/requests/{}", p.tracking_no);
    let v = Vars {
        p,
        code,
        status_link: &status_link,
        staff_link: &staff_link,
        action_label: action_label(&p.action),
        public_url,
    };
    let v = &v;
    let r = |e: askama::Error| SendError::Permanent(format!("template: {e}"));
    macro_rules! go {
        ($m:ident) => {
            (
                $m::Subject { v }.render().map_err(r)?,
                $m::Text { v }.render().map_err(r)?,
                $m::Html { v }.render().map_err(r)?,
            )
        };
    }
    let (s, t, h) = match kind_name {
        kind::RECEIPT => go!(receipt),
        kind::DONE => go!(done),
        kind::DEFERRED => go!(deferred),
        kind::REOPENED => go!(reopened),
        kind::UNIT_NOTICE => go!(unit_notice),
        kind::DAILY_DIGEST => go!(daily_digest),
        kind::WEEKLY_OVERDUE => go!(weekly_overdue),
        other => return Err(SendError::Permanent(format!("unknown template {other}"))),
    };
    Ok((s.trim().to_owned(), t, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_to_the_requester_carries_the_status_link_and_result() {
        let p = Payload {
            tracking_no: "ZZH-2026-000001".into(),
            access_code: Some("ABCDEFGHJK".into()),
            name: "王大妈".into(),
            text: "路灯已修好 <b>".into(),
            ..Default::default()
        };
        let (s, t, h) = render(kind::DONE, &p, "https://zzh.example").unwrap();
        assert!(s.contains("已办结"));
        assert!(t.contains("https://zzh.example/s/ZZH-2026-000001?code=ABCDEFGHJK"));
        assert!(t.contains("路灯已修好 <b>"));
        assert!(h.contains("路灯已修好 &#60;b&#62;") || h.contains("路灯已修好 &lt;b&gt;"));
    }

    #[test]
    fn notices_to_units_have_no_status_link() {
        let p = Payload {
            tracking_no: "ZZH-2026-000001".into(),
            action: "dispatch".into(),
            name: "王*".into(),
            ..Default::default()
        };
        let (s, t, _) = render(kind::UNIT_NOTICE, &p, "https://zzh.example").unwrap();
        assert!(s.contains("已派至本单位"));
        assert!(t.contains("https://zzh.example/requests/ZZH-2026-000001"));
        assert!(!t.contains("/s/"));
    }

    #[test]
    fn the_message_id_domain_comes_from_the_sender() {
        assert_eq!(domain_of("周周会 <noreply@town.cn>"), "town.cn");
        assert_eq!(domain_of("nobody"), "zhouzhouhui.local");
    }
}
