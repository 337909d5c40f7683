//! OAuth 2.0 sign-in: `oauth_grants` (an account's tokens, sealed as one JSON document
//! bound to the account) and `oauth_flows` (a sign-in between "Sign in with …" and the
//! provider's redirect back). What the tokens mean is `crate::oauth`'s business; here
//! they are a secret to seal, store and open.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;
use super::resealing::{self, SealedPasswords};
use crate::crypto::{KeyId, KeyRing, Sealed, Secret};

/// An account's grant, opened.
#[derive(Debug)]
pub struct Grant {
    /// The configured client that issued it (`microsoft`, `google`, `generic`).
    pub provider: String,
    /// The token document (JSON), as `crate::oauth` wrote it.
    pub tokens: Secret,
    pub access_expires_at: OffsetDateTime,
}

fn grant_binding(account_id: Uuid) -> Vec<u8> {
    let mut binding = account_id.as_bytes().to_vec();
    binding.extend_from_slice(b"/oauth");
    binding
}

fn sealed(key_id: String, nonce: Vec<u8>, ciphertext: Vec<u8>) -> Sealed {
    Sealed {
        key_id: KeyId::from_stored(key_id),
        nonce,
        ciphertext,
    }
}

/// A grant to store: what the provider's token endpoint gave.
#[derive(Debug)]
pub struct NewGrant<'a> {
    pub provider: &'a str,
    pub tokens: &'a Secret,
    pub access_expires_at: OffsetDateTime,
}

/// Stores (or replaces) the account's grant.
pub async fn save_grant(
    conn: &mut PgConnection,
    ring: &KeyRing,
    account_id: Uuid,
    grant: &NewGrant<'_>,
) -> Result<(), StoreError> {
    let NewGrant {
        provider,
        tokens,
        access_expires_at,
    } = grant;
    let sealed = ring.seal(&grant_binding(account_id), tokens.expose().as_bytes())?;
    sqlx::query(
        "INSERT INTO oauth_grants (account_id, provider, password_ciphertext, password_nonce,
             password_key_id, access_expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (account_id) DO UPDATE
         SET provider = excluded.provider, password_ciphertext = excluded.password_ciphertext,
             password_nonce = excluded.password_nonce, password_key_id = excluded.password_key_id,
             access_expires_at = excluded.access_expires_at, refreshed_at = now()",
    )
    .bind(account_id)
    .bind(provider)
    .bind(&sealed.ciphertext)
    .bind(&sealed.nonce)
    .bind(sealed.key_id.as_str())
    .bind(access_expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Opens the account's grant. With `lock`, the row stays locked until the caller's
/// transaction ends, so that two refreshes of one grant never run at once (a provider
/// that rotates refresh tokens may revoke the whole grant when an old one is reused).
pub async fn open_grant(
    conn: &mut PgConnection,
    ring: &KeyRing,
    account_id: Uuid,
    lock: bool,
) -> Result<Grant, StoreError> {
    let query = format!(
        "SELECT provider, password_key_id, password_nonce, password_ciphertext, access_expires_at
         FROM oauth_grants WHERE account_id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    type Row = (String, String, Vec<u8>, Vec<u8>, OffsetDateTime);
    let row: Option<Row> = sqlx::query_as(&query)
        .bind(account_id)
        .fetch_optional(conn)
        .await?;
    let (provider, key_id, nonce, ciphertext, access_expires_at) =
        row.ok_or(StoreError::NotFound)?;
    let tokens = ring.open_secret(
        &grant_binding(account_id),
        &sealed(key_id, nonce, ciphertext),
    )?;
    Ok(Grant {
        provider,
        tokens,
        access_expires_at,
    })
}

/// The owner signed in again (or for the first time, on an account that had a password):
/// the account now signs in with `auth_method` and this grant, its password is dropped,
/// and a pause is lifted.
pub async fn signed_in_again(
    conn: &mut PgConnection,
    ring: &KeyRing,
    user_id: Uuid,
    account_id: Uuid,
    auth_method: crate::model::AuthMethod,
    grant: &NewGrant<'_>,
) -> Result<(), StoreError> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let updated = sqlx::query(
        "UPDATE accounts
         SET auth_method = $3, password_ciphertext = NULL, password_nonce = NULL,
             password_key_id = NULL, paused_reason = NULL, consecutive_failures = 0,
             next_check_at = now(), updated_at = now()
         WHERE user_id = $1 AND id = $2",
    )
    .bind(user_id)
    .bind(account_id)
    .bind(auth_method)
    .execute(&mut *tx)
    .await?;
    super::touched(updated)?;
    save_grant(&mut tx, ring, account_id, grant).await?;
    tx.commit().await?;
    Ok(())
}

/// Drops the account's grant (it signs in with a password again).
pub async fn delete_grant(conn: &mut PgConnection, account_id: Uuid) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM oauth_grants WHERE account_id = $1")
        .bind(account_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Which client issued the account's grant, without opening it.
pub async fn grant_provider(
    conn: &mut PgConnection,
    account_id: Uuid,
) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT provider FROM oauth_grants WHERE account_id = $1")
            .bind(account_id)
            .fetch_optional(conn)
            .await?,
    )
}

const GRANTS: SealedPasswords = SealedPasswords {
    table: "oauth_grants",
    id: "account_id",
    what: "OAuth tokens",
    binding: grant_binding,
};

pub async fn count_sealed_under_other_keys(
    conn: &mut PgConnection,
    active: &KeyId,
) -> Result<i64, StoreError> {
    resealing::count_under_other_keys(conn, GRANTS, active).await
}

/// Re-seals up to `limit` grants not under the active key (see [`resealing::reseal_batch`]).
pub async fn reseal_batch(
    conn: &mut PgConnection,
    ring: &KeyRing,
    after: Option<Uuid>,
    limit: i64,
) -> Result<resealing::ResealBatch, StoreError> {
    resealing::reseal_batch(conn, GRANTS, ring, after, limit).await
}

// ---------------------------------------------------------------------------------------
// Sign-ins under way

/// A sign-in under way, as stored.
#[derive(Debug)]
pub struct Flow {
    pub user_id: Uuid,
    /// The web session that started it; `None` when started through the API.
    pub session_sha256: Option<Vec<u8>>,
    pub provider: String,
    /// The PKCE code verifier.
    pub verifier: Secret,
    /// The account to create, as `crate::oauth` wrote it (JSON).
    pub draft: serde_json::Value,
    /// Signing in again for this account.
    pub account_id: Option<Uuid>,
    pub expires_at: OffsetDateTime,
}

fn flow_binding(state_sha256: &[u8]) -> Vec<u8> {
    let mut binding = state_sha256.to_vec();
    binding.extend_from_slice(b"/pkce");
    binding
}

/// Stores a sign-in under way, found later by the SHA-256 of its `state`.
pub async fn create_flow(
    conn: &mut PgConnection,
    ring: &KeyRing,
    state_sha256: &[u8],
    flow: &Flow,
) -> Result<(), StoreError> {
    let sealed = ring.seal(
        &flow_binding(state_sha256),
        flow.verifier.expose().as_bytes(),
    )?;
    // Abandoned sign-ins are cleared as new ones start.
    sqlx::query("DELETE FROM oauth_flows WHERE expires_at < now()")
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO oauth_flows (state_sha256, user_id, session_sha256, provider,
             password_ciphertext, password_nonce, password_key_id, draft, account_id, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(state_sha256)
    .bind(flow.user_id)
    .bind(flow.session_sha256.as_deref())
    .bind(&flow.provider)
    .bind(&sealed.ciphertext)
    .bind(&sealed.nonce)
    .bind(sealed.key_id.as_str())
    .bind(&flow.draft)
    .bind(flow.account_id)
    .bind(flow.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes the sign-in with this state out of the table: a state is good for one try,
/// whatever its outcome. `None` when there is none (or it expired).
pub async fn take_flow(
    conn: &mut PgConnection,
    ring: &KeyRing,
    state_sha256: &[u8],
) -> Result<Option<Flow>, StoreError> {
    type Row = (
        Uuid,
        Option<Vec<u8>>,
        String,
        String,
        Vec<u8>,
        Vec<u8>,
        serde_json::Value,
        Option<Uuid>,
        OffsetDateTime,
    );
    let row: Option<Row> = sqlx::query_as(
        "DELETE FROM oauth_flows WHERE state_sha256 = $1
         RETURNING user_id, session_sha256, provider, password_key_id, password_nonce,
             password_ciphertext, draft, account_id, expires_at",
    )
    .bind(state_sha256)
    .fetch_optional(conn)
    .await?;
    let Some((user_id, session, provider, key_id, nonce, ciphertext, draft, account_id, expires)) =
        row
    else {
        return Ok(None);
    };
    if expires < OffsetDateTime::now_utc() {
        return Ok(None);
    }
    let verifier = ring.open_secret(
        &flow_binding(state_sha256),
        &sealed(key_id, nonce, ciphertext),
    )?;
    Ok(Some(Flow {
        user_id,
        session_sha256: session,
        provider,
        verifier,
        draft,
        account_id,
        expires_at: expires,
    }))
}
