//! `meetings`
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "meetings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub village_id: i32,
    pub held_on: ChronoDate,
    pub place: String,
    pub host: String,
    pub attendees: String,
    pub headcount: Option<i32>,
    pub minutes: String,
    pub status: String,
    pub created_by: Option<i32>,
    pub created_at: ChronoDateTimeUtc,
    pub closed_at: Option<ChronoDateTimeUtc>,
    pub closed_by: Option<i32>,
    pub closed_event_id: Option<i64>,
    pub closed_request_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
