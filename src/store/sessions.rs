//! The `sessions` table: web sign-ins. Only the SHA-256 of the cookie's token is stored.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;

/// A live session with its user, as every signed-in request needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionUser {
    pub user_id: Uuid,
    pub email: String,
    pub is_admin: bool,
    /// The interface language the person chose (`en`, `fr`), if any.
    pub language: Option<String>,
    /// The IANA time zone the person chose, if any.
    pub time_zone: Option<String>,
    pub csrf_token: String,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

pub async fn create(
    conn: &mut PgConnection,
    token_hash: &[u8],
    user_id: Uuid,
    csrf_token: &str,
    expires_at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(csrf_token)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The session for a token, unless it has expired (absolutely, or idle for longer than
/// `idle`) or its user is disabled.
pub async fn find(
    conn: &mut PgConnection,
    token_hash: &[u8],
    idle: time::Duration,
) -> Result<Option<SessionUser>, StoreError> {
    let found = sqlx::query_as::<_, SessionUser>(
        "SELECT s.user_id, u.email, u.is_admin, u.language, u.time_zone, s.csrf_token, s.created_at, s.last_seen_at,
                s.expires_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > now() AND s.last_seen_at > now() - $2
           AND u.disabled_at IS NULL",
    )
    .bind(token_hash)
    .bind(idle)
    .fetch_optional(conn)
    .await?;
    Ok(found)
}

/// Records activity, which keeps an idle session alive.
pub async fn touch(conn: &mut PgConnection, token_hash: &[u8]) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET last_seen_at = now() WHERE token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut PgConnection, token_hash: &[u8]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Signs a user out everywhere — after a password change, or when an administrator
/// disables or resets the user.
pub async fn delete_all_for_user(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Forgets sessions that can no longer be used.
pub async fn delete_expired(
    conn: &mut PgConnection,
    idle: time::Duration,
) -> Result<u64, StoreError> {
    let done =
        sqlx::query("DELETE FROM sessions WHERE expires_at <= now() OR last_seen_at <= now() - $1")
            .bind(idle)
            .execute(conn)
            .await?;
    Ok(done.rows_affected())
}
