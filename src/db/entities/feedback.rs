//! `feedback`: each time the requester was (or could not be) told an answer.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "feedback")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub request_id: i32,
    pub owed_event_id: i64,
    pub channel: String,
    pub delivered: bool,
    pub by_user_id: Option<i32>,
    pub meeting_id: Option<i32>,
    pub note: Option<String>,
    pub at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
