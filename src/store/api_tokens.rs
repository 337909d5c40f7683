//! The `api_tokens` table: personal API tokens. Only the SHA-256 of a token is stored;
//! the token itself is shown once, when it is created.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Write,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub scope: Scope,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

const TOKEN_COLUMNS: &str = "id, user_id, name, scope, created_at, last_used_at, revoked_at";

pub async fn create(
    conn: &mut PgConnection,
    user_id: Uuid,
    name: &str,
    scope: Scope,
    token_hash: &[u8],
) -> Result<ApiToken, StoreError> {
    Ok(sqlx::query_as::<_, ApiToken>(&format!(
        "INSERT INTO api_tokens (user_id, name, scope, token_hash) VALUES ($1, $2, $3, $4)
         RETURNING {TOKEN_COLUMNS}"
    ))
    .bind(user_id)
    .bind(name)
    .bind(scope)
    .bind(token_hash)
    .fetch_one(conn)
    .await?)
}

/// The live token with this hash and its (enabled) user.
pub async fn find(
    conn: &mut PgConnection,
    token_hash: &[u8],
) -> Result<Option<ApiToken>, StoreError> {
    Ok(sqlx::query_as::<_, ApiToken>(
        "SELECT t.id, t.user_id, t.name, t.scope, t.created_at, t.last_used_at, t.revoked_at
         FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await?)
}

/// Records use, at most once a minute per token (one write per request would be waste).
pub async fn touch(conn: &mut PgConnection, id: Uuid) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE api_tokens SET last_used_at = now()
         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The user's tokens, newest first, revoked ones included.
pub async fn list(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<ApiToken>, StoreError> {
    Ok(sqlx::query_as::<_, ApiToken>(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC"
    ))
    .bind(user_id)
    .fetch_all(conn)
    .await?)
}

/// Revokes one of the user's tokens; another user's id is not found.
pub async fn revoke(conn: &mut PgConnection, user_id: Uuid, id: Uuid) -> Result<(), StoreError> {
    super::touched(
        sqlx::query(
            "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now())
             WHERE user_id = $1 AND id = $2",
        )
        .bind(user_id)
        .bind(id)
        .execute(conn)
        .await?,
    )
}
