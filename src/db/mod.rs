//! The only module that talks to the database: connection set-up, the write
//! transaction helper, entities and query functions returning plain data.

pub mod board;
pub mod calendar;
pub mod categories;
pub mod demo;
pub mod digests;
pub mod entities;
pub mod meetings;
pub mod outbox;
pub mod requests;
pub mod rules;
pub mod sessions;
pub mod stats;
pub mod units;
pub mod users;

use crate::domain::Validation;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqlErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use std::time::Duration;

/// What a database call can fail with, beyond plain database errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
    /// The input is invalid; nothing was written.
    #[error(transparent)]
    Invalid(#[from] Validation),
    /// The thing asked for does not exist (or is out of the caller's scope).
    #[error("not found")]
    NotFound,
    /// A request action was refused by the lifecycle rules.
    #[error(transparent)]
    Lifecycle(crate::domain::lifecycle::LifecycleError),
}

/// Result of a database call.
pub type Result<T> = std::result::Result<T, Error>;

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Neither `sqlite:` nor `postgres://`.
    #[error("unsupported DATABASE_URL scheme (use sqlite:PATH or postgres://…)")]
    BadUrl,
    /// The SQLite file's folder could not be created.
    #[error("cannot create the database folder {0}: {1}")]
    Folder(String, std::io::Error),
    /// Connecting failed (server down, wrong credentials, unreadable file).
    #[error("cannot open the database: {0}")]
    Open(DbErr),
    /// Migrations failed.
    #[error("cannot migrate the database: {0}")]
    Migrate(DbErr),
}

/// The default embedded database.
pub const DEFAULT_URL: &str = "sqlite://./data/zhouzhouhui.db?mode=rwc";

/// Opens the database at `url` with the settings of DESIGN.md §4 and runs
/// pending migrations.
pub async fn connect_and_migrate(
    url: &str,
    pool_size: u32,
) -> std::result::Result<DatabaseConnection, ConnectError> {
    let db = connect(url, pool_size).await?;
    Migrator::up(&db, None)
        .await
        .map_err(ConnectError::Migrate)?;
    Ok(db)
}

/// Opens the database at `url` without migrating.
pub async fn connect(
    url: &str,
    pool_size: u32,
) -> std::result::Result<DatabaseConnection, ConnectError> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10));
    if let Some(path) = sqlite_path(url) {
        if path != ":memory:" && !path.is_empty() {
            if let Some(dir) = std::path::Path::new(&path).parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir)
                    .map_err(|e| ConnectError::Folder(dir.display().to_string(), e))?;
            }
            opts.max_connections(pool_size.max(1));
        } else {
            // Each connection to :memory: would be its own database.
            opts.max_connections(1);
        }
        opts.map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_millis(5000))
                .foreign_keys(true)
        });
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        opts.max_connections(pool_size.max(1));
    } else {
        return Err(ConnectError::BadUrl);
    }
    Database::connect(opts).await.map_err(ConnectError::Open)
}

/// The file path of a `sqlite:` URL, or `None` for other schemes.
fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    Some(rest.split('?').next().unwrap_or_default().to_owned())
}

/// Begins a transaction that may write. On SQLite it is `BEGIN IMMEDIATE`:
/// a deferred read-then-write transaction fails with "database is locked"
/// under concurrent writers, whatever the busy timeout. Every write uses this.
pub async fn begin_write(
    db: &DatabaseConnection,
) -> std::result::Result<DatabaseTransaction, DbErr> {
    let opts = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    db.begin_with_options(opts).await
}

/// Serialises writers that check the shape of the unit, category or rule
/// trees before changing them. SQLite's `BEGIN IMMEDIATE` already does; on
/// PostgreSQL a transaction-scoped advisory lock does the same job.
pub async fn lock_setup(tx: &DatabaseTransaction) -> std::result::Result<(), DbErr> {
    if tx.get_database_backend() == DbBackend::Postgres {
        tx.execute_unprepared("SELECT pg_advisory_xact_lock(7401)")
            .await?;
    }
    Ok(())
}

/// Whether the database answers (for `/readyz`).
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

/// Whether the database holds any unit or user yet (for `demo`).
pub async fn is_empty(db: &impl ConnectionTrait) -> std::result::Result<bool, DbErr> {
    use sea_orm::{EntityTrait, PaginatorTrait};
    Ok(entities::unit::Entity::find().count(db).await? == 0
        && entities::user::Entity::find().count(db).await? == 0)
}

/// Turns a unique-constraint violation into a validation error on `field`.
pub(crate) fn unique_as_invalid(err: DbErr, field: &str, key: &str) -> Error {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::Invalid(Validation::one(field, key)),
        _ => Error::Db(err),
    }
}

/// Name of the backend, for logs and `/readyz`.
pub fn backend_name(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Sqlite => "sqlite",
        DbBackend::Postgres => "postgres",
        _ => "other",
    }
}
