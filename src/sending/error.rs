//! What can go wrong in a sending workflow, by what the caller must do about it.

use std::time::Duration;

use crate::accounts::InvalidAccount;
use crate::crypto::CryptoError;
use crate::i18n::Text;
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
    #[error("{}", self.text())]
    NoIdentity,
    #[error("{}", self.text())]
    TooLarge { size: u64, limit: u64 },
    #[error("{}", self.text())]
    RateLimited { retry_after: Duration },
    #[error("the master key ring is unavailable: {0}")]
    Keys(#[source] CryptoError),
    #[error(transparent)]
    Store(StoreError),
}

impl SendingError {
    /// What the person is told, in words.
    pub fn text(&self) -> Text {
        match self {
            Self::Invalid(invalid) => invalid.text(),
            Self::Compose(e) => e.text(),
            Self::NotFound => Text::new("error-not-found-text"),
            Self::NoIdentity => Text::new("sending-no-identity"),
            Self::TooLarge { size, limit } => Text::new("sending-too-large")
                .with("size", *size)
                .with("limit", *limit),
            Self::RateLimited { retry_after } => {
                Text::new("sending-rate-limited").with("count", retry_after.as_secs().div_ceil(60))
            }
            Self::Keys(_) | Self::Store(_) => Text::new("error-internal-text"),
        }
    }

    pub(crate) fn invalid(field: &'static str, problem: Text) -> Self {
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
