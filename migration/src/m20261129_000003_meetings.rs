//! Meeting series, meetings, per-item decisions, feedback records and the
//! frozen tallies of closed meetings.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MeetingSeries {
    Table,
    Id,
    VillageId,
    Cadence,
    Weekday,
    Place,
    Host,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Meetings {
    Table,
    Id,
    VillageId,
    HeldOn,
    Place,
    Host,
    Attendees,
    Headcount,
    Minutes,
    Status,
    CreatedBy,
    CreatedAt,
    ClosedAt,
    ClosedBy,
    ClosedEventId,
    ClosedRequestId,
}

#[derive(DeriveIden)]
enum MeetingDecisions {
    Table,
    Id,
    MeetingId,
    RequestId,
    Decision,
    UnitId,
    NextCheckOn,
    RecordedBy,
    At,
}

#[derive(DeriveIden)]
enum Feedback {
    Table,
    Id,
    RequestId,
    OwedEventId,
    Channel,
    Delivered,
    ByUserId,
    MeetingId,
    Note,
    At,
}

#[derive(DeriveIden)]
enum MeetingTallies {
    Table,
    MeetingId,
    Scope,
    Received,
    Done,
    OnTheSpot,
    InProgress,
    Deferred,
}

#[derive(DeriveIden)]
enum Units {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Requests {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MeetingSeries::Table)
                    .col(pk_auto(MeetingSeries::Id))
                    .col(integer_uniq(MeetingSeries::VillageId))
                    .col(string_len(MeetingSeries::Cadence, 16))
                    .col(integer(MeetingSeries::Weekday))
                    .col(string_len(MeetingSeries::Place, 100).default(""))
                    .col(string_len(MeetingSeries::Host, 60).default(""))
                    .col(timestamp_with_time_zone(MeetingSeries::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MeetingSeries::Table, MeetingSeries::VillageId)
                            .to(Units::Table, Units::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Meetings::Table)
                    .col(pk_auto(Meetings::Id))
                    .col(integer(Meetings::VillageId))
                    .col(date(Meetings::HeldOn))
                    .col(string_len(Meetings::Place, 100).default(""))
                    .col(string_len(Meetings::Host, 60).default(""))
                    .col(text(Meetings::Attendees).default(""))
                    .col(integer_null(Meetings::Headcount))
                    .col(text(Meetings::Minutes).default(""))
                    .col(string_len(Meetings::Status, 16))
                    .col(integer_null(Meetings::CreatedBy))
                    .col(timestamp_with_time_zone(Meetings::CreatedAt))
                    .col(timestamp_with_time_zone_null(Meetings::ClosedAt))
                    .col(integer_null(Meetings::ClosedBy))
                    // The history a closed meeting's tally was derived from:
                    // every event and request up to these ids.
                    .col(big_integer_null(Meetings::ClosedEventId))
                    .col(integer_null(Meetings::ClosedRequestId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Meetings::Table, Meetings::VillageId)
                            .to(Units::Table, Units::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_meetings_village_day")
                    .table(Meetings::Table)
                    .col(Meetings::VillageId)
                    .col(Meetings::HeldOn)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MeetingDecisions::Table)
                    .col(pk_auto(MeetingDecisions::Id))
                    .col(integer(MeetingDecisions::MeetingId))
                    .col(integer(MeetingDecisions::RequestId))
                    .col(text(MeetingDecisions::Decision))
                    .col(integer_null(MeetingDecisions::UnitId))
                    .col(date_null(MeetingDecisions::NextCheckOn))
                    .col(integer_null(MeetingDecisions::RecordedBy))
                    .col(timestamp_with_time_zone(MeetingDecisions::At))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MeetingDecisions::Table, MeetingDecisions::MeetingId)
                            .to(Meetings::Table, Meetings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MeetingDecisions::Table, MeetingDecisions::RequestId)
                            .to(Requests::Table, Requests::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_meeting_decisions_item")
                    .table(MeetingDecisions::Table)
                    .col(MeetingDecisions::MeetingId)
                    .col(MeetingDecisions::RequestId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Feedback::Table)
                    .col(big_pk_auto(Feedback::Id))
                    .col(integer(Feedback::RequestId))
                    .col(big_integer(Feedback::OwedEventId))
                    .col(string_len(Feedback::Channel, 16))
                    .col(boolean(Feedback::Delivered))
                    .col(integer_null(Feedback::ByUserId))
                    .col(integer_null(Feedback::MeetingId))
                    .col(text_null(Feedback::Note))
                    .col(timestamp_with_time_zone(Feedback::At))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Feedback::Table, Feedback::RequestId)
                            .to(Requests::Table, Requests::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_feedback_request")
                    .table(Feedback::Table)
                    .col(Feedback::RequestId)
                    .col(Feedback::OwedEventId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MeetingTallies::Table)
                    .col(integer(MeetingTallies::MeetingId))
                    .col(string_len(MeetingTallies::Scope, 16))
                    .col(big_integer(MeetingTallies::Received))
                    .col(big_integer(MeetingTallies::Done))
                    .col(big_integer(MeetingTallies::OnTheSpot))
                    .col(big_integer(MeetingTallies::InProgress))
                    .col(big_integer(MeetingTallies::Deferred))
                    .primary_key(
                        Index::create()
                            .col(MeetingTallies::MeetingId)
                            .col(MeetingTallies::Scope),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MeetingTallies::Table, MeetingTallies::MeetingId)
                            .to(Meetings::Table, Meetings::Id),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            MeetingTallies::Table.into_iden(),
            Feedback::Table.into_iden(),
            MeetingDecisions::Table.into_iden(),
            Meetings::Table.into_iden(),
            MeetingSeries::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
