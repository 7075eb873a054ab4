//! The schema's history: every migration, in order.

pub use sea_orm_migration::prelude::*;

mod m20261129_000001_foundation;
mod m20261129_000002_requests;
mod m20261129_000003_meetings;
mod m20261130_000004_outbox;
mod m20261130_000005_digests;

/// Runs the project's migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_foundation::Migration),
            Box::new(m20261129_000002_requests::Migration),
            Box::new(m20261129_000003_meetings::Migration),
            Box::new(m20261130_000004_outbox::Migration),
            Box::new(m20261130_000005_digests::Migration),
        ]
    }
}
