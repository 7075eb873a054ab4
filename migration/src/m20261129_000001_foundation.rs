//! Units, categories, routing rules, the working-day calendar, accounts and sessions.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Units {
    Table,
    Id,
    Name,
    Kind,
    ParentId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Id,
    Name,
    ParentId,
    TimeLimitDays,
    BringNote,
    Position,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RoutingRules {
    Table,
    Id,
    CategoryId,
    AreaUnitId,
    HandlerUnitId,
    TimeLimitDays,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CalendarDays {
    Table,
    Day,
    Kind,
    Note,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    PasswordHash,
    DisplayName,
    Role,
    UnitId,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    Kind,
    CsrfToken,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Units::Table)
                    .col(pk_auto(Units::Id))
                    .col(string_len(Units::Name, 100))
                    .col(string_len(Units::Kind, 16))
                    .col(integer_null(Units::ParentId))
                    .col(timestamp_with_time_zone(Units::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Units::Table, Units::ParentId)
                            .to(Units::Table, Units::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_units_parent_name")
                    .table(Units::Table)
                    .col(Units::ParentId)
                    .col(Units::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Categories::Table)
                    .col(pk_auto(Categories::Id))
                    .col(string_len(Categories::Name, 100))
                    .col(integer_null(Categories::ParentId))
                    .col(integer(Categories::TimeLimitDays))
                    .col(text_null(Categories::BringNote))
                    .col(integer(Categories::Position).default(0))
                    .col(timestamp_with_time_zone(Categories::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Categories::Table, Categories::ParentId)
                            .to(Categories::Table, Categories::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_categories_parent_name")
                    .table(Categories::Table)
                    .col(Categories::ParentId)
                    .col(Categories::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RoutingRules::Table)
                    .col(pk_auto(RoutingRules::Id))
                    .col(integer(RoutingRules::CategoryId))
                    .col(integer(RoutingRules::AreaUnitId))
                    .col(integer(RoutingRules::HandlerUnitId))
                    .col(integer_null(RoutingRules::TimeLimitDays))
                    .col(timestamp_with_time_zone(RoutingRules::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RoutingRules::Table, RoutingRules::CategoryId)
                            .to(Categories::Table, Categories::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RoutingRules::Table, RoutingRules::AreaUnitId)
                            .to(Units::Table, Units::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RoutingRules::Table, RoutingRules::HandlerUnitId)
                            .to(Units::Table, Units::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // One rule per (category, place): the routing walk must be deterministic.
        manager
            .create_index(
                Index::create()
                    .name("ux_routing_rules_category_area")
                    .table(RoutingRules::Table)
                    .col(RoutingRules::CategoryId)
                    .col(RoutingRules::AreaUnitId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CalendarDays::Table)
                    .col(date(CalendarDays::Day).primary_key())
                    .col(string_len(CalendarDays::Kind, 16))
                    .col(string_len(CalendarDays::Note, 100).default(""))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_auto(Users::Id))
                    .col(string_len_uniq(Users::Username, 64))
                    .col(string_len(Users::PasswordHash, 200))
                    .col(string_len(Users::DisplayName, 100))
                    .col(string_len(Users::Role, 16))
                    .col(integer(Users::UnitId))
                    .col(boolean(Users::Active).default(true))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Users::Table, Users::UnitId)
                            .to(Units::Table, Units::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_users_unit")
                    .table(Users::Table)
                    .col(Users::UnitId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(string_len(Sessions::Id, 64).primary_key())
                    .col(integer(Sessions::UserId))
                    .col(string_len(Sessions::Kind, 8))
                    .col(string_len(Sessions::CsrfToken, 64))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sessions_expires")
                    .table(Sessions::Table)
                    .col(Sessions::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
            CalendarDays::Table.into_iden(),
            RoutingRules::Table.into_iden(),
            Categories::Table.into_iden(),
            Units::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
