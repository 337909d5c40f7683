//! What can go wrong in an account workflow, by what the caller must do about it.

use super::draft::InvalidAccount;
use crate::crypto::CryptoError;
use crate::model::PausedReason;
use crate::oauth::OAuthError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Something the person entered cannot work: show it to them next to the field.
    #[error(transparent)]
    Invalid(#[from] InvalidAccount),
    /// No such account of this user (another user's id is not found either).
    #[error("not found")]
    NotFound,
    /// "Check now" on an account its owner paused.
    #[error("the account is paused by its owner; enable it first")]
    Off,
    /// "Check now" on an account that waits for its owner to fix something.
    #[error(
        "the account is paused ({}); update its settings or password first",
        .0.as_str()
    )]
    Paused(PausedReason),
    /// The master key ring cannot be read (a key file gone or unreadable).
    #[error("the master key ring is unavailable: {0}")]
    Keys(#[source] CryptoError),
    #[error(transparent)]
    Store(StoreError),
    /// The provider's redirect back cannot finish a sign-in (unknown or used `state`,
    /// another person's or another session's): start again.
    #[error("{0}")]
    SignInRefused(crate::i18n::Text),
    /// The provider's token endpoint refused or could not be reached.
    #[error(transparent)]
    OAuth(#[from] OAuthError),
}

/// A row the store did not find for this user is the account's "not found".
impl From<StoreError> for AccountError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound,
            other => Self::Store(other),
        }
    }
}
