//! `requests`
use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub tracking_no: String,
    pub year: i32,
    pub seq: i64,
    pub access_code: String,
    pub requester_name: String,
    pub phone: String,
    pub email: Option<String>,
    pub address: String,
    pub village_id: i32,
    pub category_id: i32,
    pub req_type: String,
    pub urgency: String,
    pub source: String,
    pub meeting_id: Option<i32>,
    pub content: String,
    pub consent_publish: bool,
    pub logged_by: Option<i32>,
    pub idempotency_key: Option<String>,
    pub handler_unit_id: Option<i32>,
    pub queue_unit_id: Option<i32>,
    pub accepted: bool,
    pub rule_id: Option<i32>,
    pub routed_by: String,
    pub time_limit_days: i32,
    pub due_on: ChronoDate,
    pub status: String,
    pub on_the_spot: bool,
    pub result: Option<String>,
    pub defer_reason: Option<String>,
    pub defer_explanation: Option<String>,
    pub review_on: Option<ChronoDate>,
    pub supervised: bool,
    pub needs_review: bool,
    pub rating: Option<String>,
    pub rating_comment: Option<String>,
    pub rated_at: Option<ChronoDateTimeUtc>,
    pub received_at: ChronoDateTimeUtc,
    pub closed_at: Option<ChronoDateTimeUtc>,
    pub updated_at: ChronoDateTimeUtc,
}

/// Debug without personal data or the access code.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("id", &self.id)
            .field("tracking_no", &self.tracking_no)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
