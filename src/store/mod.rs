//! PostgreSQL: connecting, migrations and one module of queries per table/aggregate.
//!
//! Functions take `&mut PgConnection` (or an executor) so the caller owns the transaction.
//! Every query on accounts or messages is scoped by the owning user (DESIGN invariant 5).
//! Knows nothing of HTTP.

pub mod accounts;
pub mod api_tokens;
pub mod fetch;
pub mod identities;
pub mod login_failures;
pub mod messages;
pub mod oauth;
pub mod outbox;
mod resealing;
pub mod sessions;
pub mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Pool size for commands; `serve` sizes its pool to its fetch concurrency.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 20;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Crypto(#[from] crate::crypto::CryptoError),
    /// A unique value (e.g. a user's email) is taken.
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("not found")]
    NotFound,
}

/// A connection taken from the pool.
pub type Conn = sqlx::pool::PoolConnection<Postgres>;

/// A connection from `pool`: the one way callers take one, so its error is a
/// [`StoreError`] like every other.
pub async fn acquire(pool: &PgPool) -> Result<Conn, StoreError> {
    Ok(pool.acquire().await?)
}

/// `NotFound` unless the statement touched a row: how a write scoped by the owning user
/// says "there is no such row of yours".
pub(crate) fn touched(result: sqlx::postgres::PgQueryResult) -> Result<(), StoreError> {
    if result.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Whether a database error is a violation of the named unique constraint or index.
pub(crate) fn is_unique_violation(error: &sqlx::Error, constraint: &str) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            db.code().as_deref() == Some("23505") && db.constraint() == Some(constraint)
        }
        _ => false,
    }
}

/// Connects to `url`, creating the database first if it does not exist (DESIGN §7).
pub async fn connect(url: &str) -> Result<PgPool, StoreError> {
    connect_sized(url, DEFAULT_MAX_CONNECTIONS).await
}

/// As [`connect`], with a pool of at most `max_connections`.
pub async fn connect_sized(url: &str, max_connections: u32) -> Result<PgPool, StoreError> {
    // Validates the URL before anything touches the network.
    let options = PgConnectOptions::from_str(url)?;
    if !Postgres::database_exists(url).await? {
        match Postgres::create_database(url).await {
            Ok(()) => tracing::info!(database = options.get_database(), "created the database"),
            // Another replica may have created it at the same moment.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
            Err(e) => return Err(e.into()),
        }
    }
    connect_existing(options, max_connections).await
}

/// Connects to a database that exists, without creating anything.
pub async fn connect_existing(
    options: PgConnectOptions,
    max_connections: u32,
) -> Result<PgPool, StoreError> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(CONNECT_TIMEOUT)
        // No ping before every use: a page acquires twice, and each ping was a round trip
        // and a PostgreSQL wake-up. A connection that died is dropped on its first error.
        .test_before_acquire(false)
        .connect_with(
            options
                .application_name("tributary")
                // Every statement is prepared once per connection; left to itself,
                // PostgreSQL planned the hot ones (a page of the inbox, a message) anew on
                // each execution, because `LIMIT $n` makes a generic plan look costly.
                // The plans do not depend on the values here (the search plans are fixed
                // by the SQL's shape), and planning was a third of PostgreSQL's time per
                // page (bench/web.sh: 1,600 → 2,370 inbox pages/s).
                .options([("plan_cache_mode", "force_generic_plan")]),
        )
        .await?;
    Ok(pool)
}

/// Applies every migration not yet applied. Safe to run from several replicas at once:
/// sqlx serialises migrators with an advisory lock.
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Whether the database answers a trivial query.
pub async fn ping(pool: &PgPool) -> Result<(), StoreError> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}
