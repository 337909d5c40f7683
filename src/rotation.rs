//! Master key rotation (DESIGN invariant 4): a new key becomes the sealing key, every
//! stored password is re-sealed under it in batches, then the old keys are forgotten.
//!
//! Each run of [`rotate`] moves one step further and can be interrupted anywhere:
//! - passwords still sealed under an older key → re-seal them (resume);
//! - none left, but the key file still lists old keys → drop them (finish);
//! - otherwise → generate a key, write it to the key file as the active key, re-seal.
//!
//! A running service keeps working throughout: it re-reads the key file when it
//! changes (see `crypto::Keys`), and every key in the file opens.

use sqlx::PgPool;

use crate::crypto::{self, CryptoError, KeyId, KeyRing, KeySource, Keys, MasterKey};
use crate::store::{StoreError, accounts, identities, oauth};

/// Rows re-sealed per transaction: small enough that a row lock is never held long.
pub const RESEAL_BATCH_SIZE: i64 = 200;

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(
        "every credential is already sealed under the active key {0}, and the key ring comes from \
         TRIBUTARY_MASTER_KEY, which this command cannot change: append a new key from \
         `tributary keygen` to TRIBUTARY_MASTER_KEY (comma-separated), restart the service with \
         it, then run rotate-key again"
    )]
    NeedsNewKeyInEnvironment(KeyId),
    #[error(
        "{failed} credential(s) could not be opened with the key ring and were left as they are; \
         the old keys were kept (see the log for the account ids)"
    )]
    Unopenable { failed: u64 },
    #[error(
        "cannot write the key file {}: {reason}; nothing was changed. If it is read-only on \
         purpose (a Docker secret, say), add a new key from `tributary keygen` as its last line \
         where the file comes from, restart the service with it, then run rotate-key again",
        path.display()
    )]
    KeyFileNotWritable {
        path: std::path::PathBuf,
        reason: std::io::Error,
    },
    #[error(
        "every credential is now sealed under the active key {active}, but the old keys could not \
         be removed from {}: {reason}. Remove every line but the last one there yourself",
        path.display()
    )]
    OldKeysNotRemoved {
        active: KeyId,
        path: std::path::PathBuf,
        reason: std::io::Error,
    },
}

/// A failed write of the key file, told apart from the other key-file errors.
fn unwritable(error: CryptoError) -> Result<(std::path::PathBuf, std::io::Error), CryptoError> {
    match error {
        CryptoError::KeyFile { path, source } => Ok((path, source)),
        other => Err(other),
    }
}

/// What re-sealing did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ResealTotals {
    pub resealed: u64,
    pub failed: u64,
    /// Passwords still not under the active key afterwards.
    pub remaining: i64,
}

/// Re-seals every stored password that is not under `ring`'s active key.
/// `max_batches` stops early (tests use it to interrupt a rotation halfway).
pub async fn reseal_all(
    pool: &PgPool,
    ring: &KeyRing,
    max_batches: Option<usize>,
) -> Result<ResealTotals, StoreError> {
    let mut conn = pool.acquire().await?;
    let mut totals = ResealTotals::default();
    let mut batches = 0usize;
    // POP3 passwords first, then the sending identities' own SMTP passwords, then the
    // OAuth tokens.
    for table in [
        SealedTable::Accounts,
        SealedTable::Identities,
        SealedTable::OAuthGrants,
    ] {
        let mut after = None;
        loop {
            if max_batches.is_some_and(|max| batches >= max) {
                break;
            }
            let batch = match table {
                SealedTable::Accounts => {
                    accounts::reseal_batch(&mut conn, ring, after, RESEAL_BATCH_SIZE).await?
                }
                SealedTable::Identities => {
                    identities::reseal_batch(&mut conn, ring, after, RESEAL_BATCH_SIZE).await?
                }
                SealedTable::OAuthGrants => {
                    oauth::reseal_batch(&mut conn, ring, after, RESEAL_BATCH_SIZE).await?
                }
            };
            batches += 1;
            totals.resealed += batch.resealed;
            totals.failed += batch.failed;
            match batch.last_id {
                Some(id) => after = Some(id),
                None => break,
            }
            tracing::info!(resealed = totals.resealed, "re-sealing credentials");
        }
    }
    totals.remaining = count_pending(&mut conn, ring.active().id()).await?;
    Ok(totals)
}

#[derive(Debug, Clone, Copy)]
enum SealedTable {
    Accounts,
    Identities,
    OAuthGrants,
}

/// Credentials of every kind still sealed under another key than `active`.
async fn count_pending(conn: &mut sqlx::PgConnection, active: &KeyId) -> Result<i64, StoreError> {
    Ok(accounts::count_sealed_under_other_keys(conn, active).await?
        + identities::count_sealed_under_other_keys(conn, active).await?
        + oauth::count_sealed_under_other_keys(conn, active).await?)
}

/// What one run of [`rotate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationReport {
    /// A key generated by this run, now the active key.
    pub generated: Option<KeyId>,
    pub active: KeyId,
    pub resealed: u64,
    /// Old keys removed from the key file.
    pub pruned: usize,
}

/// One step of rotation, as described in the module docs.
pub async fn rotate(pool: &PgPool, source: &KeySource) -> Result<RotationReport, RotationError> {
    let (keys, _) = Keys::load(source.clone())?;
    let mut ring = (*keys.current()?).clone();
    let pending = {
        let mut conn = pool.acquire().await.map_err(StoreError::from)?;
        count_pending(&mut conn, ring.active().id()).await?
    };

    let mut generated = None;
    if pending == 0 && ring.keys().len() == 1 {
        let Some(path) = source.path() else {
            return Err(RotationError::NeedsNewKeyInEnvironment(
                ring.active().id().clone(),
            ));
        };
        let key = MasterKey::generate();
        generated = Some(key.id().clone());
        ring = ring.with_active(key);
        // Written before anything is sealed under it, so no credential can ever be
        // under a key that is not on disk.
        crypto::write_ring_file(path, &ring).map_err(|e| match unwritable(e) {
            Ok((path, reason)) => RotationError::KeyFileNotWritable { path, reason },
            Err(other) => other.into(),
        })?;
        tracing::info!(key_id = %ring.active().id(), path = %path.display(), "added a new master key");
    }

    let totals = reseal_all(pool, &ring, None).await?;
    if totals.failed > 0 {
        return Err(RotationError::Unopenable {
            failed: totals.failed,
        });
    }

    let mut pruned = 0;
    if totals.remaining == 0
        && ring.keys().len() > 1
        && let Some(path) = source.path()
    {
        pruned = ring.keys().len() - 1;
        crypto::write_ring_file(path, &ring.only_active()).map_err(|e| match unwritable(e) {
            Ok((path, reason)) => RotationError::OldKeysNotRemoved {
                active: ring.active().id().clone(),
                path,
                reason,
            },
            Err(other) => other.into(),
        })?;
    }
    Ok(RotationReport {
        generated,
        active: ring.active().id().clone(),
        resealed: totals.resealed,
        pruned,
    })
}
