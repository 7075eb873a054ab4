//! Validating a new request as typed at the meeting or sent to the API.

use super::Validation;
use super::error::required_text;
use super::personal::{Email, PersonName, Phone};
use super::request::{RequestType, Source, Urgency};

/// Shortest and longest request text, in characters.
pub const CONTENT_CHARS: std::ops::RangeInclusive<usize> = 2..=2000;

/// A new request as submitted (strings as typed; ids already parsed).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct IntakeRaw {
    /// 诉求人姓名.
    #[schema(required = true)]
    pub requester_name: String,
    /// Phone as typed.
    #[schema(required = true)]
    pub phone: String,
    /// Optional email.
    pub email: Option<String>,
    /// 村/组 address.
    pub address: Option<String>,
    /// Village.
    #[schema(required = true)]
    pub village_id: Option<i32>,
    /// Category.
    #[schema(required = true)]
    pub category_id: Option<i32>,
    /// 诉求类型 (default 求助).
    #[serde(rename = "type")]
    pub req_type: Option<String>,
    /// The request itself.
    #[schema(required = true)]
    pub content: String,
    /// Source (default 周周会).
    pub source: Option<String>,
    /// Meeting it was heard at.
    pub meeting_id: Option<i32>,
    /// Urgency (default normal).
    pub urgency: Option<String>,
    /// Consent to publish a summary on the board.
    pub consent_publish: Option<bool>,
}

/// A valid new request.
#[derive(Debug, Clone)]
pub struct Intake {
    /// Requester.
    pub name: PersonName,
    /// Phone.
    pub phone: Phone,
    /// Email, if given.
    pub email: Option<Email>,
    /// Address within the village.
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
    /// Meeting.
    pub meeting_id: Option<i32>,
    /// Text.
    pub content: String,
    /// Consent to publish.
    pub consent_publish: bool,
}

impl Intake {
    /// Validates every field at once. `village_check` answers `None` when the
    /// village may be used by this user, or an error key; `category_exists`
    /// says whether the category exists.
    pub fn parse(
        raw: &IntakeRaw,
        village_check: impl Fn(i32) -> Option<&'static str>,
        category_exists: impl Fn(i32) -> bool,
    ) -> Result<Intake, Validation> {
        let mut v = Validation::new();
        let name = PersonName::parse(&raw.requester_name)
            .map_err(|k| v.add("requester_name", k))
            .ok();
        let phone = Phone::parse(&raw.phone).map_err(|k| v.add("phone", k)).ok();
        let email = match raw
            .email
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(e) => Email::parse(e).map_err(|k| v.add("email", k)).ok(),
        };
        let address = raw.address.as_deref().unwrap_or_default().trim().to_owned();
        if address.chars().count() > 100 {
            v.add("address", "err.too_long");
        }
        match raw.village_id {
            None => v.add("village_id", "err.required"),
            Some(id) => {
                if let Some(k) = village_check(id) {
                    v.add("village_id", k);
                }
            }
        }
        match raw.category_id {
            None => v.add("category_id", "err.required"),
            Some(id) if !category_exists(id) => v.add("category_id", "err.rule.no_category"),
            Some(_) => {}
        }
        let trimmed = |value: &Option<String>| -> Option<String> {
            value
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let req_type = match trimmed(&raw.req_type) {
            None => Some(RequestType::Help),
            Some(s) => RequestType::parse(&s).or_else(|| {
                v.add("type", "err.choice");
                None
            }),
        };
        let urgency = match trimmed(&raw.urgency) {
            None => Some(Urgency::Normal),
            Some(s) => Urgency::parse(&s).or_else(|| {
                v.add("urgency", "err.choice");
                None
            }),
        };
        let source = match trimmed(&raw.source) {
            None => Some(Source::Meeting),
            Some(s) => Source::parse(&s).or_else(|| {
                v.add("source", "err.choice");
                None
            }),
        };
        let content = required_text(&mut v, "content", &raw.content.replace('\r', ""), 2000);
        let content = match content {
            Some(c) if c.chars().count() < *CONTENT_CHARS.start() => {
                v.add("content", "err.content_short");
                None
            }
            other => other,
        };
        v.finish()?;
        match (
            name,
            phone,
            raw.village_id,
            raw.category_id,
            req_type,
            urgency,
            source,
            content,
        ) {
            (
                Some(name),
                Some(phone),
                Some(village_id),
                Some(category_id),
                Some(req_type),
                Some(urgency),
                Some(source),
                Some(content),
            ) => Ok(Intake {
                name,
                phone,
                email,
                address,
                village_id,
                category_id,
                req_type,
                urgency,
                source,
                meeting_id: raw.meeting_id,
                content,
                consent_publish: raw.consent_publish.unwrap_or(false),
            }),
            _ => Err(Validation::one("content", "err.required")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> IntakeRaw {
        IntakeRaw {
            requester_name: "张三".into(),
            phone: "13812341234".into(),
            village_id: Some(3),
            category_id: Some(11),
            content: "村口路灯坏了三盏".into(),
            ..Default::default()
        }
    }

    fn ok_village(id: i32) -> Option<&'static str> {
        (id != 3).then_some("err.intake.village")
    }

    #[test]
    fn a_minimal_request_gets_sensible_defaults() {
        let i = Intake::parse(&raw(), ok_village, |_| true).unwrap();
        assert_eq!(i.req_type, RequestType::Help);
        assert_eq!(i.source, Source::Meeting);
        assert_eq!(i.urgency, Urgency::Normal);
        assert!(!i.consent_publish);
        assert_eq!(i.name.to_string(), "张*");
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let bad = IntakeRaw {
            requester_name: "".into(),
            phone: "12345".into(),
            email: Some("nope".into()),
            village_id: Some(7),
            category_id: Some(99),
            req_type: Some("rant".into()),
            content: "x".into(),
            source: Some("pigeon".into()),
            ..Default::default()
        };
        let v = Intake::parse(&bad, ok_village, |c| c == 11).unwrap_err();
        for (field, key) in [
            ("requester_name", "err.required"),
            ("phone", "err.phone"),
            ("email", "err.email"),
            ("village_id", "err.intake.village"),
            ("category_id", "err.rule.no_category"),
            ("type", "err.choice"),
            ("source", "err.choice"),
            ("content", "err.content_short"),
        ] {
            assert_eq!(v.for_field(field), Some(key), "{field}");
        }
    }
}
