//! What can go wrong in a sending workflow, by what the caller must do about it.

use std::time::Duration;

use crate::accounts::InvalidAccount;
use crate::crypto::CryptoError;
use crate::send::compose::ComposeError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum SendingError {
    /// Something the person entered cannot work: show it next to the field.
    #[error(transparent)]
    Invalid(#[from] InvalidAccount),
    #[error(transparent)]
    Compose(#[from] ComposeError),
    /// No such account, message or draft of this user.
    #[error("not found")]
    NotFound,
    /// The account has no sending settings yet: it can receive, not send.
    #[error("this account cannot send yet: set up its sending server (SMTP) first")]
    NoIdentity,
    #[error("the message is {size} bytes; at most {limit} can be sent")]
    TooLarge { size: u64, limit: u64 },
    #[error("too many messages sent in the last hour; try again in {} minutes", .retry_after.as_secs().div_ceil(60))]
    RateLimited { retry_after: Duration },
    #[error("the master key ring is unavailable: {0}")]
    Keys(#[source] CryptoError),
    #[error(transparent)]
    Store(StoreError),
}

impl SendingError {
    pub(crate) fn invalid(field: &'static str, problem: impl Into<String>) -> Self {
        Self::Invalid(crate::accounts::draft::invalid(field, problem))
    }
}

impl From<StoreError> for SendingError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound,
            other => Self::Store(other),
        }
    }
}
