//! Requests, their event history, and the yearly tracking-number counters.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum Requests {
    Table,
    Id,
    TrackingNo,
    Year,
    Seq,
    AccessCode,
    RequesterName,
    Phone,
    Email,
    Address,
    VillageId,
    CategoryId,
    ReqType,
    Urgency,
    Source,
    MeetingId,
    Content,
    ConsentPublish,
    LoggedBy,
    IdempotencyKey,
    HandlerUnitId,
    QueueUnitId,
    Accepted,
    RuleId,
    RoutedBy,
    TimeLimitDays,
    DueOn,
    Status,
    OnTheSpot,
    Result,
    DeferReason,
    DeferExplanation,
    ReviewOn,
    Supervised,
    NeedsReview,
    Rating,
    RatingComment,
    RatedAt,
    ReceivedAt,
    ClosedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RequestEvents {
    Table,
    Id,
    RequestId,
    At,
    ActorUserId,
    ActorKind,
    Action,
    FromStatus,
    ToStatus,
    FromUnitId,
    ToUnitId,
    Note,
    PublicNote,
    Reason,
}

#[derive(DeriveIden)]
enum TrackingCounters {
    Table,
    Year,
    LastSeq,
}

#[derive(DeriveIden)]
enum Units {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

fn index(name: &str, cols: &[Requests]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(Requests::Table);
    for c in cols {
        i.col(c.clone());
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TrackingCounters::Table)
                    .col(integer(TrackingCounters::Year).primary_key())
                    .col(big_integer(TrackingCounters::LastSeq))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Requests::Table)
                    .col(pk_auto(Requests::Id))
                    .col(string_len_uniq(Requests::TrackingNo, 24))
                    .col(integer(Requests::Year))
                    .col(big_integer(Requests::Seq))
                    .col(string_len(Requests::AccessCode, 16))
                    .col(string_len(Requests::RequesterName, 60))
                    .col(string_len(Requests::Phone, 20))
                    .col(string_len_null(Requests::Email, 254))
                    .col(string_len(Requests::Address, 200).default(""))
                    .col(integer(Requests::VillageId))
                    .col(integer(Requests::CategoryId))
                    .col(string_len(Requests::ReqType, 16))
                    .col(string_len(Requests::Urgency, 16))
                    .col(string_len(Requests::Source, 16))
                    .col(integer_null(Requests::MeetingId))
                    .col(text(Requests::Content))
                    .col(boolean(Requests::ConsentPublish).default(false))
                    .col(integer_null(Requests::LoggedBy))
                    .col(string_len_null(Requests::IdempotencyKey, 64))
                    .col(integer_null(Requests::HandlerUnitId))
                    .col(integer_null(Requests::QueueUnitId))
                    .col(boolean(Requests::Accepted).default(false))
                    .col(integer_null(Requests::RuleId))
                    .col(string_len(Requests::RoutedBy, 300))
                    .col(integer(Requests::TimeLimitDays))
                    .col(date(Requests::DueOn))
                    .col(string_len(Requests::Status, 16))
                    .col(boolean(Requests::OnTheSpot).default(false))
                    .col(text_null(Requests::Result))
                    .col(string_len_null(Requests::DeferReason, 16))
                    .col(text_null(Requests::DeferExplanation))
                    .col(date_null(Requests::ReviewOn))
                    .col(boolean(Requests::Supervised).default(false))
                    .col(boolean(Requests::NeedsReview).default(false))
                    .col(string_len_null(Requests::Rating, 24))
                    .col(text_null(Requests::RatingComment))
                    .col(timestamp_with_time_zone_null(Requests::RatedAt))
                    .col(timestamp_with_time_zone(Requests::ReceivedAt))
                    .col(timestamp_with_time_zone_null(Requests::ClosedAt))
                    .col(timestamp_with_time_zone(Requests::UpdatedAt))
                    // Exactly one place: a handling unit or a dispatcher queue.
                    .check(
                        Expr::col(Requests::HandlerUnitId)
                            .is_null()
                            .and(Expr::col(Requests::QueueUnitId).is_not_null())
                            .or(Expr::col(Requests::HandlerUnitId)
                                .is_not_null()
                                .and(Expr::col(Requests::QueueUnitId).is_null())),
                    )
                    .check(Expr::col(Requests::Status).is_in([
                        "received",
                        "in_progress",
                        "done",
                        "deferred",
                    ]))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Requests::Table, Requests::VillageId)
                            .to(Units::Table, Units::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Requests::Table, Requests::CategoryId)
                            .to(Categories::Table, Categories::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Requests::Table, Requests::HandlerUnitId)
                            .to(Units::Table, Units::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Requests::Table, Requests::QueueUnitId)
                            .to(Units::Table, Units::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Requests::Table, Requests::LoggedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_requests_year_seq")
                    .table(Requests::Table)
                    .col(Requests::Year)
                    .col(Requests::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_requests_idempotency")
                    .table(Requests::Table)
                    .col(Requests::LoggedBy)
                    .col(Requests::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "ix_requests_status",
                vec![Requests::Status, Requests::DueOn],
            ),
            (
                "ix_requests_village",
                vec![Requests::VillageId, Requests::Status],
            ),
            (
                "ix_requests_handler",
                vec![Requests::HandlerUnitId, Requests::Status],
            ),
            (
                "ix_requests_queue",
                vec![Requests::QueueUnitId, Requests::Status],
            ),
            ("ix_requests_received", vec![Requests::ReceivedAt]),
            ("ix_requests_category", vec![Requests::CategoryId]),
            ("ix_requests_meeting", vec![Requests::MeetingId]),
            ("ix_requests_review", vec![Requests::ReviewOn]),
        ] {
            manager.create_index(index(name, &cols)).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(RequestEvents::Table)
                    .col(big_pk_auto(RequestEvents::Id))
                    .col(integer(RequestEvents::RequestId))
                    .col(timestamp_with_time_zone(RequestEvents::At))
                    .col(integer_null(RequestEvents::ActorUserId))
                    .col(string_len(RequestEvents::ActorKind, 16))
                    .col(string_len(RequestEvents::Action, 24))
                    .col(string_len_null(RequestEvents::FromStatus, 16))
                    .col(string_len(RequestEvents::ToStatus, 16))
                    .col(integer_null(RequestEvents::FromUnitId))
                    .col(integer_null(RequestEvents::ToUnitId))
                    .col(text_null(RequestEvents::Note))
                    .col(text_null(RequestEvents::PublicNote))
                    .col(text_null(RequestEvents::Reason))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RequestEvents::Table, RequestEvents::RequestId)
                            .to(Requests::Table, Requests::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_request_events_request")
                    .table(RequestEvents::Table)
                    .col(RequestEvents::RequestId)
                    .col(RequestEvents::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_request_events_at")
                    .table(RequestEvents::Table)
                    .col(RequestEvents::At)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RequestEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Requests::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(TrackingCounters::Table).to_owned())
            .await?;
        Ok(())
    }
}
