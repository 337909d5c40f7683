//! The `login_failures` table: failed sign-ins per key (`user:EMAIL`, `addr:IP`), which
//! the web layer turns into growing delays.

use sqlx::PgConnection;
use time::OffsetDateTime;

use super::StoreError;

/// Failures so far and when the last one happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Failures {
    pub failures: i32,
    pub last_failure_at: OffsetDateTime,
}

pub async fn get(conn: &mut PgConnection, key: &str) -> Result<Option<Failures>, StoreError> {
    Ok(sqlx::query_as::<_, Failures>(
        "SELECT failures, last_failure_at FROM login_failures WHERE key = $1",
    )
    .bind(key)
    .fetch_optional(conn)
    .await?)
}

/// Counts one more failure. A count whose last failure is older than `forget_after`
/// starts again from one, so an old typo does not haunt a user for ever.
pub async fn record(
    conn: &mut PgConnection,
    key: &str,
    forget_after: time::Duration,
) -> Result<Failures, StoreError> {
    Ok(sqlx::query_as::<_, Failures>(
        "INSERT INTO login_failures (key, failures) VALUES ($1, 1)
         ON CONFLICT (key) DO UPDATE SET
             failures = CASE WHEN login_failures.last_failure_at < now() - $2 THEN 1
                             ELSE login_failures.failures + 1 END,
             last_failure_at = now()
         RETURNING failures, last_failure_at",
    )
    .bind(key)
    .bind(forget_after)
    .fetch_one(conn)
    .await?)
}

pub async fn clear(conn: &mut PgConnection, key: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM login_failures WHERE key = $1")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}
