//! The `accounts` table: a user's remote POP3 mailboxes.
//!
//! The remote password is sealed (see `crate::crypto`) before it reaches SQL, bound to the
//! account's id, and is only ever read back through [`password`], which opens it. No row
//! type here holds the sealed columns, so nothing that lists accounts can leak them.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;
pub use super::resealing::ResealBatch;
use super::resealing::{self, SealedPasswords};
use crate::crypto::{KeyId, KeyRing, Sealed, Secret};
use crate::model::{ErrorClass, PausedReason};

pub use crate::model::{AuthMethod, ImportMode, LeavePolicy, Security};

/// An account as shown to its owner. Holds no password material.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Account {
    pub id: Uuid,
    pub user_id: Uuid,
    pub label: String,
    pub color: String,
    pub email: String,
    pub host: String,
    pub port: i32,
    pub security: Security,
    pub auth_method: AuthMethod,
    pub username: String,
    pub tls_ca_pem: Option<String>,
    pub tls_pin_sha256: Option<String>,
    pub leave_on_server: LeavePolicy,
    pub delete_after_days: Option<i32>,
    pub import_mode: ImportMode,
    pub poll_minutes: Option<i32>,
    pub max_message_bytes: Option<i64>,
    pub enabled: bool,
    pub next_check_at: OffsetDateTime,
    pub last_attempt_at: Option<OffsetDateTime>,
    pub last_success_at: Option<OffsetDateTime>,
    pub last_error_kind: Option<ErrorClass>,
    /// English, for the API and the command line.
    pub last_error_message: Option<String>,
    /// The same error as a catalogue message (JSON of [`crate::i18n::Text`]), worded in
    /// the reader's language; `None` on rows written before it existed.
    pub last_error_text: Option<String>,
    pub paused_reason: Option<PausedReason>,
    pub consecutive_failures: i32,
    /// The adaptive poll interval now in use (`poll_minutes` overrides it).
    pub interval_seconds: i32,
    pub baseline_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

pub(crate) const ACCOUNT_COLUMNS: &str = "id, user_id, label, color, email, host, port, security, auth_method, \
     username, tls_ca_pem, tls_pin_sha256, leave_on_server, delete_after_days, import_mode, \
     poll_minutes, max_message_bytes, enabled, next_check_at, last_attempt_at, last_success_at, \
     last_error_kind, last_error_message, last_error_text::text AS last_error_text, paused_reason, consecutive_failures, interval_seconds, \
     baseline_at, created_at, updated_at";

/// An account's settings as its owner chose them: what `create` and `update` write.
/// Validation of user input happens above (`crate::accounts`); the database's
/// constraints are the last line. The password travels beside it, never inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSettings {
    pub label: String,
    pub color: String,
    pub email: String,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub auth_method: AuthMethod,
    pub username: String,
    pub tls_ca_pem: Option<String>,
    pub tls_pin_sha256: Option<String>,
    pub leave_on_server: LeavePolicy,
    pub delete_after_days: Option<i32>,
    pub import_mode: ImportMode,
    pub poll_minutes: Option<i32>,
    pub max_message_bytes: Option<i64>,
}

impl Account {
    /// The settings the account was saved with.
    pub fn settings(&self) -> AccountSettings {
        AccountSettings {
            label: self.label.clone(),
            color: self.color.clone(),
            email: self.email.clone(),
            host: self.host.clone(),
            // The table holds 1–65535 only.
            port: u16::try_from(self.port).unwrap_or(0),
            security: self.security,
            auth_method: self.auth_method,
            username: self.username.clone(),
            tls_ca_pem: self.tls_ca_pem.clone(),
            tls_pin_sha256: self.tls_pin_sha256.clone(),
            leave_on_server: self.leave_on_server,
            delete_after_days: self.delete_after_days,
            import_mode: self.import_mode,
            poll_minutes: self.poll_minutes,
            max_message_bytes: self.max_message_bytes,
        }
    }
}

/// The associated data that binds a sealed password to its account row.
fn binding(account_id: Uuid) -> [u8; 16] {
    *account_id.as_bytes()
}

pub async fn create(
    conn: &mut PgConnection,
    ring: &KeyRing,
    user_id: Uuid,
    new: &AccountSettings,
    password: &Secret,
) -> Result<Account, StoreError> {
    insert(conn, ring, user_id, new, Some(password)).await
}

/// Adds an account that signs in with OAuth 2.0: no password, its tokens sealed in
/// `oauth_grants`, both in one transaction.
pub async fn create_signed_in(
    conn: &mut PgConnection,
    ring: &KeyRing,
    user_id: Uuid,
    new: &AccountSettings,
    grant: &super::oauth::NewGrant<'_>,
) -> Result<Account, StoreError> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let account = insert(&mut tx, ring, user_id, new, None).await?;
    super::oauth::save_grant(&mut tx, ring, account.id, grant).await?;
    tx.commit().await?;
    Ok(account)
}

async fn insert(
    conn: &mut PgConnection,
    ring: &KeyRing,
    user_id: Uuid,
    new: &AccountSettings,
    password: Option<&Secret>,
) -> Result<Account, StoreError> {
    // The id is chosen here, not by the database, because the seal must be bound to it.
    let id = Uuid::new_v4();
    let sealed = password
        .map(|p| ring.seal(&binding(id), p.expose().as_bytes()))
        .transpose()?;
    Ok(sqlx::query_as::<_, Account>(&format!(
        "INSERT INTO accounts (id, user_id, label, color, email, host, port, security, auth_method,
             username, password_ciphertext, password_nonce, password_key_id, tls_ca_pem,
             tls_pin_sha256, leave_on_server, delete_after_days, import_mode, poll_minutes,
             max_message_bytes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
             $19, $20)
         RETURNING {ACCOUNT_COLUMNS}"
    ))
    .bind(id)
    .bind(user_id)
    .bind(&new.label)
    .bind(&new.color)
    .bind(&new.email)
    .bind(&new.host)
    .bind(i32::from(new.port))
    .bind(new.security)
    .bind(new.auth_method)
    .bind(&new.username)
    .bind(sealed.as_ref().map(|s| &s.ciphertext))
    .bind(sealed.as_ref().map(|s| &s.nonce))
    .bind(sealed.as_ref().map(|s| s.key_id.as_str()))
    .bind(&new.tls_ca_pem)
    .bind(&new.tls_pin_sha256)
    .bind(new.leave_on_server)
    .bind(new.delete_after_days)
    .bind(new.import_mode)
    .bind(new.poll_minutes)
    .bind(new.max_message_bytes)
    .fetch_one(conn)
    .await?)
}

/// The user's accounts, by label.
pub async fn list(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<Account>, StoreError> {
    Ok(sqlx::query_as::<_, Account>(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE user_id = $1 ORDER BY lower(label), created_at"
    ))
    .bind(user_id)
    .fetch_all(conn)
    .await?)
}

/// One of the user's accounts; another user's id is simply not found.
pub async fn get(
    conn: &mut PgConnection,
    user_id: Uuid,
    account_id: Uuid,
) -> Result<Account, StoreError> {
    sqlx::query_as::<_, Account>(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE user_id = $1 AND id = $2"
    ))
    .bind(user_id)
    .bind(account_id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Whether an account with this id exists, whoever owns it (the operator's view).
pub async fn exists(pool: &sqlx::PgPool, account_id: Uuid) -> Result<bool, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1)")
            .bind(account_id)
            .fetch_one(pool)
            .await?,
    )
}

/// Whose account this is (for operator commands that name an account by id).
pub async fn owner(conn: &mut PgConnection, account_id: Uuid) -> Result<Option<Uuid>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT user_id FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Opens the account's remote password. The only way to read it back.
pub async fn password(
    conn: &mut PgConnection,
    ring: &KeyRing,
    user_id: Uuid,
    account_id: Uuid,
) -> Result<Secret, StoreError> {
    let sealed = sealed_password(conn, user_id, account_id).await?;
    Ok(ring.open_secret(&binding(account_id), &sealed)?)
}

/// Opens a password sealed for `account_id` that was read with the account (a claim
/// reads it in its own statement).
pub fn open_password(
    ring: &KeyRing,
    account_id: Uuid,
    sealed: &Sealed,
) -> Result<Secret, StoreError> {
    Ok(ring.open_secret(&binding(account_id), sealed)?)
}

/// The stored columns of a sealed password, when all three are there (an account that
/// signs in with OAuth has none).
pub(crate) fn sealed_from_columns(
    key_id: Option<String>,
    nonce: Option<Vec<u8>>,
    ciphertext: Option<Vec<u8>>,
) -> Option<Sealed> {
    Some(Sealed {
        key_id: KeyId::from_stored(key_id?),
        nonce: nonce?,
        ciphertext: ciphertext?,
    })
}

async fn sealed_password(
    conn: &mut PgConnection,
    user_id: Uuid,
    account_id: Uuid,
) -> Result<Sealed, StoreError> {
    type Row = (Option<String>, Option<Vec<u8>>, Option<Vec<u8>>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT password_key_id, password_nonce, password_ciphertext
         FROM accounts WHERE user_id = $1 AND id = $2",
    )
    .bind(user_id)
    .bind(account_id)
    .fetch_optional(conn)
    .await?;
    let (key_id, nonce, ciphertext) = row.ok_or(StoreError::NotFound)?;
    sealed_from_columns(key_id, nonce, ciphertext).ok_or(StoreError::NotFound)
}

/// Replaces the remote password. A pause caused by a rejected password is lifted,
/// since new credentials are exactly what it waited for.
pub async fn set_password(
    conn: &mut PgConnection,
    ring: &KeyRing,
    user_id: Uuid,
    account_id: Uuid,
    password: &Secret,
) -> Result<(), StoreError> {
    let sealed = ring.seal(&binding(account_id), password.expose().as_bytes())?;
    let updated = sqlx::query(
        "UPDATE accounts
         SET password_ciphertext = $3, password_nonce = $4, password_key_id = $5,
             paused_reason = NULL, next_check_at = now(), updated_at = now()
         WHERE user_id = $1 AND id = $2",
    )
    .bind(user_id)
    .bind(account_id)
    .bind(&sealed.ciphertext)
    .bind(&sealed.nonce)
    .bind(sealed.key_id.as_str())
    .execute(conn)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Replaces an account's settings; the password only when `password` is given. A pause
/// waits for the owner to change something, so any edit lifts it and checks at once.
pub async fn update(
    conn: &mut PgConnection,
    ring: &KeyRing,
    user_id: Uuid,
    account_id: Uuid,
    settings: &AccountSettings,
    password: Option<&Secret>,
) -> Result<Account, StoreError> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let updated = sqlx::query_as::<_, Account>(&format!(
        "UPDATE accounts SET label = $3, color = $4, email = $5, host = $6, port = $7,
             security = $8, auth_method = $9, username = $10, tls_ca_pem = $11,
             tls_pin_sha256 = $12, leave_on_server = $13, delete_after_days = $14,
             import_mode = $15, poll_minutes = $16, max_message_bytes = $17,
             paused_reason = NULL, consecutive_failures = 0, next_check_at = now(),
             updated_at = now()
         WHERE user_id = $1 AND id = $2
         RETURNING {ACCOUNT_COLUMNS}"
    ))
    .bind(user_id)
    .bind(account_id)
    .bind(&settings.label)
    .bind(&settings.color)
    .bind(&settings.email)
    .bind(&settings.host)
    .bind(i32::from(settings.port))
    .bind(settings.security)
    .bind(settings.auth_method)
    .bind(&settings.username)
    .bind(&settings.tls_ca_pem)
    .bind(&settings.tls_pin_sha256)
    .bind(settings.leave_on_server)
    .bind(settings.delete_after_days)
    .bind(settings.import_mode)
    .bind(settings.poll_minutes)
    .bind(settings.max_message_bytes)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    if let Some(password) = password {
        set_password(&mut tx, ring, user_id, account_id, password).await?;
    }
    if settings.auth_method.oauth().is_none() {
        // Back to a password: the provider's tokens are of no use any more.
        super::oauth::delete_grant(&mut tx, account_id).await?;
    }
    tx.commit().await?;
    Ok(updated)
}

/// Pauses (by the owner's choice) or resumes an account; resuming checks at once.
pub async fn set_enabled(
    conn: &mut PgConnection,
    user_id: Uuid,
    account_id: Uuid,
    enabled: bool,
) -> Result<(), StoreError> {
    super::touched(
        sqlx::query(
            "UPDATE accounts SET enabled = $3, updated_at = now(),
                 next_check_at = CASE WHEN $3 THEN now() ELSE next_check_at END
             WHERE user_id = $1 AND id = $2",
        )
        .bind(user_id)
        .bind(account_id)
        .bind(enabled)
        .execute(conn)
        .await?,
    )
}

/// Removes an account. With `keep_messages` the mail already fetched stays in the inbox
/// (its account link becomes empty); otherwise it goes too.
pub async fn delete(
    conn: &mut PgConnection,
    user_id: Uuid,
    account_id: Uuid,
    keep_messages: bool,
) -> Result<(), StoreError> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    // The account row first, like every transaction that writes about an account (lock
    // order: account, then what hangs off it — otherwise a fetch finishing at this moment
    // deadlocks with us). Holding it also makes a fetch in flight finish its batch before
    // the messages go, so none it was committing survives a removal without mail.
    sqlx::query("SELECT 1 FROM accounts WHERE user_id = $1 AND id = $2 FOR UPDATE")
        .bind(user_id)
        .bind(account_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    if !keep_messages {
        sqlx::query("DELETE FROM messages WHERE user_id = $1 AND account_id = $2")
            .bind(user_id)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM accounts WHERE user_id = $1 AND id = $2")
        .bind(user_id)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The POP3 passwords, for key rotation.
const PASSWORDS: SealedPasswords = SealedPasswords {
    table: "accounts",
    id: "id",
    what: "POP3 password",
    binding: |id| binding(id).to_vec(),
};

/// How many POP3 passwords are sealed under a key other than `active`. Spans all
/// users: this is the operator's view for key rotation.
pub async fn count_sealed_under_other_keys(
    conn: &mut PgConnection,
    active: &KeyId,
) -> Result<i64, StoreError> {
    resealing::count_under_other_keys(conn, PASSWORDS, active).await
}

/// Re-seals up to `limit` POP3 passwords not under the ring's active key, after `after`
/// (see [`resealing::reseal_batch`]).
pub async fn reseal_batch(
    conn: &mut PgConnection,
    ring: &KeyRing,
    after: Option<Uuid>,
    limit: i64,
) -> Result<ResealBatch, StoreError> {
    resealing::reseal_batch(conn, PASSWORDS, ring, after, limit).await
}
