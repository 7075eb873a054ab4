//! `request_events`: every intake, handoff, status move, note and rating.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "request_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub request_id: i32,
    pub at: ChronoDateTimeUtc,
    pub actor_user_id: Option<i32>,
    pub actor_kind: String,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub from_unit_id: Option<i32>,
    pub to_unit_id: Option<i32>,
    pub note: Option<String>,
    pub public_note: Option<String>,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
