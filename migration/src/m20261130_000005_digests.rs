//! Digests already written: one row per kind, recipient and period, so that
//! several workers never send the same digest twice.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Digests {
    Table,
    Id,
    Kind,
    RecipientUserId,
    PeriodKey,
    Items,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Digests::Table)
                    .col(big_pk_auto(Digests::Id))
                    .col(string_len(Digests::Kind, 20))
                    .col(integer(Digests::RecipientUserId))
                    .col(string_len(Digests::PeriodKey, 10))
                    .col(integer(Digests::Items))
                    .col(timestamp_with_time_zone(Digests::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_digests_once")
                    .table(Digests::Table)
                    .col(Digests::Kind)
                    .col(Digests::RecipientUserId)
                    .col(Digests::PeriodKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Digests::Table).to_owned())
            .await?;
        Ok(())
    }
}
