//! Re-sealing stored passwords under the key ring's active key (key rotation), for every
//! table that holds one: `accounts` (the POP3 password) and `sending_identities` (a
//! separate SMTP password). One implementation, told which table and binding to use.

use sqlx::PgConnection;
use uuid::Uuid;

use super::StoreError;
use crate::crypto::{KeyId, KeyRing, Sealed};

/// A table with one sealed password per row: where it is and what its AAD binds to.
#[derive(Debug, Clone, Copy)]
pub(super) struct SealedPasswords {
    pub table: &'static str,
    /// The row's id column (a uuid).
    pub id: &'static str,
    /// What the password is, for the log ("POP3 password", "SMTP password").
    pub what: &'static str,
    /// The additional data the row's password is sealed with.
    pub binding: fn(Uuid) -> Vec<u8>,
}

/// What one batch of re-sealing did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ResealBatch {
    pub resealed: u64,
    /// Rows that could not be opened with the ring (key missing, data altered).
    pub failed: u64,
    /// The last row id looked at: the next batch starts after it.
    pub last_id: Option<Uuid>,
}

/// How many passwords of the table are sealed under another key than `active`.
pub(super) async fn count_under_other_keys(
    conn: &mut PgConnection,
    passwords: SealedPasswords,
    active: &KeyId,
) -> Result<i64, StoreError> {
    let query = format!(
        "SELECT count(*) FROM {} WHERE password_key_id <> $1",
        passwords.table
    );
    Ok(sqlx::query_scalar(&query)
        .bind(active.as_str())
        .fetch_one(conn)
        .await?)
}

/// Re-seals up to `limit` passwords that are not under the ring's active key, starting
/// after `after`, in one transaction. Rows are locked while re-sealed, so a concurrent
/// password change waits instead of being overwritten; the ciphertext is re-read under
/// the lock, so a change that committed first is re-sealed, not lost.
pub(super) async fn reseal_batch(
    conn: &mut PgConnection,
    passwords: SealedPasswords,
    ring: &KeyRing,
    after: Option<Uuid>,
    limit: i64,
) -> Result<ResealBatch, StoreError> {
    let SealedPasswords {
        table, id: column, ..
    } = passwords;
    let active = ring.active().id().clone();
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let select = format!(
        "SELECT {column}, password_key_id, password_nonce, password_ciphertext
         FROM {table}
         WHERE password_key_id <> $1 AND ($2::uuid IS NULL OR {column} > $2)
         ORDER BY {column}
         LIMIT $3
         FOR UPDATE"
    );
    let rows: Vec<(Uuid, String, Vec<u8>, Vec<u8>)> = sqlx::query_as(&select)
        .bind(active.as_str())
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
    let update = format!(
        "UPDATE {table} SET password_ciphertext = $2, password_nonce = $3, password_key_id = $4
         WHERE {column} = $1"
    );
    let mut batch = ResealBatch::default();
    for (id, key_id, nonce, ciphertext) in rows {
        batch.last_id = Some(id);
        let old = Sealed {
            key_id: KeyId::from_stored(key_id),
            nonce,
            ciphertext,
        };
        let binding = (passwords.binding)(id);
        let plaintext = match ring.open(&binding, &old) {
            Ok(plaintext) => plaintext,
            Err(e) => {
                tracing::warn!(account_id = %id, error = %e, what = passwords.what, "cannot re-seal this password");
                batch.failed += 1;
                continue;
            }
        };
        let new = ring.seal(&binding, &plaintext)?;
        sqlx::query(&update)
            .bind(id)
            .bind(&new.ciphertext)
            .bind(&new.nonce)
            .bind(new.key_id.as_str())
            .execute(&mut *tx)
            .await?;
        batch.resealed += 1;
    }
    tx.commit().await?;
    Ok(batch)
}
