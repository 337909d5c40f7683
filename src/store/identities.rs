//! The `sending_identities` table: how each account sends (From, Reply-To, signature, its
//! SMTP submission server). One per account, scoped by the owner.
//!
//! A separate SMTP password is sealed like the POP3 one, bound to the account id and to
//! the purpose "smtp" ([`binding`]), and is only read back through [`password`]. No row
//! type here holds the sealed columns.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;
use super::resealing::{self, SealedPasswords};
use crate::crypto::{KeyId, KeyRing, Sealed, Secret};

pub use crate::model::{Security, SmtpAuth};

/// An identity as shown to its owner. Holds no password material.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Identity {
    pub account_id: Uuid,
    pub user_id: Uuid,
    pub from_name: String,
    pub from_address: String,
    pub reply_to: Option<String>,
    pub signature: String,
    pub smtp_host: String,
    pub smtp_port: i32,
    pub smtp_security: Security,
    pub smtp_auth: SmtpAuth,
    pub tls_ca_pem: Option<String>,
    pub tls_pin_sha256: Option<String>,
    /// `None`: signs in with the account's POP3 user name and password.
    pub smtp_username: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

const IDENTITY_COLUMNS: &str = "account_id, user_id, from_name, from_address, reply_to, signature, \
     smtp_host, smtp_port, smtp_security, smtp_auth, tls_ca_pem, tls_pin_sha256, smtp_username, \
     created_at, updated_at";

/// What the owner chose; validated above (`crate::accounts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentitySettings {
    pub from_name: String,
    pub from_address: String,
    pub reply_to: Option<String>,
    pub signature: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_security: Security,
    pub smtp_auth: SmtpAuth,
    pub tls_ca_pem: Option<String>,
    pub tls_pin_sha256: Option<String>,
}

impl Identity {
    pub fn settings(&self) -> IdentitySettings {
        IdentitySettings {
            from_name: self.from_name.clone(),
            from_address: self.from_address.clone(),
            reply_to: self.reply_to.clone(),
            signature: self.signature.clone(),
            smtp_host: self.smtp_host.clone(),
            // The table holds 1–65535 only.
            smtp_port: u16::try_from(self.smtp_port).unwrap_or(0),
            smtp_security: self.smtp_security,
            smtp_auth: self.smtp_auth,
            tls_ca_pem: self.tls_ca_pem.clone(),
            tls_pin_sha256: self.tls_pin_sha256.clone(),
        }
    }
}

/// Which login the identity uses for SMTP.
#[derive(Debug, Clone, Copy)]
pub enum SmtpLogin<'a> {
    /// The account's POP3 user name and password (the usual case).
    SameAsPop3,
    /// A login of its own.
    Own {
        username: &'a str,
        password: &'a Secret,
    },
    /// The login already stored, whichever it is.
    Keep,
}

/// The associated data that binds a sealed SMTP password to its account and purpose, so
/// it cannot be swapped with the account's POP3 password.
fn binding(account_id: Uuid) -> Vec<u8> {
    let mut binding = account_id.as_bytes().to_vec();
    binding.extend_from_slice(b"/smtp");
    binding
}

/// Creates or replaces the account's identity. `NotFound` when the account is not the
/// user's, or when `SmtpLogin::Keep` finds no identity to keep the login of.
pub async fn save(
    conn: &mut PgConnection,
    ring: &KeyRing,
    user_id: Uuid,
    account_id: Uuid,
    settings: &IdentitySettings,
    login: SmtpLogin<'_>,
) -> Result<Identity, StoreError> {
    if let SmtpLogin::Keep = login {
        return sqlx::query_as::<_, Identity>(&format!(
            "UPDATE sending_identities
             SET from_name = $3, from_address = $4, reply_to = $5, signature = $6, smtp_host = $7,
                 smtp_port = $8, smtp_security = $9, smtp_auth = $10, tls_ca_pem = $11,
                 tls_pin_sha256 = $12, updated_at = now()
             WHERE user_id = $1 AND account_id = $2
             RETURNING {IDENTITY_COLUMNS}"
        ))
        .bind(user_id)
        .bind(account_id)
        .bind(&settings.from_name)
        .bind(&settings.from_address)
        .bind(&settings.reply_to)
        .bind(&settings.signature)
        .bind(&settings.smtp_host)
        .bind(i32::from(settings.smtp_port))
        .bind(settings.smtp_security)
        .bind(settings.smtp_auth)
        .bind(&settings.tls_ca_pem)
        .bind(&settings.tls_pin_sha256)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound);
    }
    let (username, sealed) = match login {
        SmtpLogin::Own { username, password } => (
            Some(username),
            Some(ring.seal(&binding(account_id), password.expose().as_bytes())?),
        ),
        _ => (None, None),
    };
    // The account must be the user's: the composite foreign key refuses anything else,
    // and this guard turns that into NotFound rather than a database error.
    let owned = sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1 AND user_id = $2)",
    )
    .bind(account_id)
    .bind(user_id)
    .fetch_one(&mut *conn)
    .await?;
    if !owned {
        return Err(StoreError::NotFound);
    }
    Ok(sqlx::query_as::<_, Identity>(&format!(
        "INSERT INTO sending_identities (account_id, user_id, from_name, from_address, reply_to,
             signature, smtp_host, smtp_port, smtp_security, smtp_auth, tls_ca_pem, tls_pin_sha256,
             smtp_username, password_ciphertext, password_nonce, password_key_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         ON CONFLICT (account_id) DO UPDATE SET
             from_name = EXCLUDED.from_name, from_address = EXCLUDED.from_address,
             reply_to = EXCLUDED.reply_to, signature = EXCLUDED.signature,
             smtp_host = EXCLUDED.smtp_host, smtp_port = EXCLUDED.smtp_port,
             smtp_security = EXCLUDED.smtp_security, smtp_auth = EXCLUDED.smtp_auth,
             tls_ca_pem = EXCLUDED.tls_ca_pem, tls_pin_sha256 = EXCLUDED.tls_pin_sha256,
             smtp_username = EXCLUDED.smtp_username,
             password_ciphertext = EXCLUDED.password_ciphertext,
             password_nonce = EXCLUDED.password_nonce, password_key_id = EXCLUDED.password_key_id,
             updated_at = now()
         RETURNING {IDENTITY_COLUMNS}"
    ))
    .bind(account_id)
    .bind(user_id)
    .bind(&settings.from_name)
    .bind(&settings.from_address)
    .bind(&settings.reply_to)
    .bind(&settings.signature)
    .bind(&settings.smtp_host)
    .bind(i32::from(settings.smtp_port))
    .bind(settings.smtp_security)
    .bind(settings.smtp_auth)
    .bind(&settings.tls_ca_pem)
    .bind(&settings.tls_pin_sha256)
    .bind(username)
    .bind(sealed.as_ref().map(|s| s.ciphertext.clone()))
    .bind(sealed.as_ref().map(|s| s.nonce.clone()))
    .bind(sealed.as_ref().map(|s| s.key_id.as_str().to_owned()))
    .fetch_one(conn)
    .await?)
}

pub async fn get(
    conn: &mut PgConnection,
    user_id: Uuid,
    account_id: Uuid,
) -> Result<Option<Identity>, StoreError> {
    Ok(sqlx::query_as::<_, Identity>(&format!(
        "SELECT {IDENTITY_COLUMNS} FROM sending_identities WHERE user_id = $1 AND account_id = $2"
    ))
    .bind(user_id)
    .bind(account_id)
    .fetch_optional(conn)
    .await?)
}

pub async fn list(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<Identity>, StoreError> {
    Ok(sqlx::query_as::<_, Identity>(&format!(
        "SELECT {IDENTITY_COLUMNS} FROM sending_identities WHERE user_id = $1 ORDER BY from_address"
    ))
    .bind(user_id)
    .fetch_all(conn)
    .await?)
}

pub async fn delete(
    conn: &mut PgConnection,
    user_id: Uuid,
    account_id: Uuid,
) -> Result<(), StoreError> {
    super::touched(
        sqlx::query("DELETE FROM sending_identities WHERE user_id = $1 AND account_id = $2")
            .bind(user_id)
            .bind(account_id)
            .execute(conn)
            .await?,
    )
}

/// The identity's own SMTP password, opened; `None` when it uses the POP3 login.
pub async fn password(
    conn: &mut PgConnection,
    ring: &KeyRing,
    user_id: Uuid,
    account_id: Uuid,
) -> Result<Option<Secret>, StoreError> {
    type SealedColumns = (Option<String>, Option<Vec<u8>>, Option<Vec<u8>>);
    let row: Option<SealedColumns> = sqlx::query_as(
        "SELECT password_key_id, password_nonce, password_ciphertext
         FROM sending_identities WHERE user_id = $1 AND account_id = $2",
    )
    .bind(user_id)
    .bind(account_id)
    .fetch_optional(conn)
    .await?;
    match row.ok_or(StoreError::NotFound)? {
        (Some(key_id), Some(nonce), Some(ciphertext)) => {
            let sealed = Sealed {
                key_id: KeyId::from_stored(key_id),
                nonce,
                ciphertext,
            };
            Ok(Some(ring.open_secret(&binding(account_id), &sealed)?))
        }
        _ => Ok(None),
    }
}

/// The separate SMTP passwords, for key rotation.
const PASSWORDS: SealedPasswords = SealedPasswords {
    table: "sending_identities",
    id: "account_id",
    what: "SMTP password",
    binding,
};

/// How many SMTP passwords are sealed under a key other than `active`. Spans all
/// users: this is the operator's view for key rotation.
pub async fn count_sealed_under_other_keys(
    conn: &mut PgConnection,
    active: &KeyId,
) -> Result<i64, StoreError> {
    resealing::count_under_other_keys(conn, PASSWORDS, active).await
}

/// Re-seals up to `limit` SMTP passwords not under the active key, after `after`
/// (see [`resealing::reseal_batch`]).
pub async fn reseal_batch(
    conn: &mut PgConnection,
    ring: &KeyRing,
    after: Option<Uuid>,
    limit: i64,
) -> Result<resealing::ResealBatch, StoreError> {
    resealing::reseal_batch(conn, PASSWORDS, ring, after, limit).await
}
