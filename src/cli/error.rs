//! What a `tributary` command can fail with, and the exit code each failure gives.

use super::pop3::{EXIT_FAILURE, EXIT_TEMPORARY, EXIT_USAGE};
use crate::accounts::AccountError;
use crate::app::AppError;
use crate::crypto::CryptoError;
use crate::fetch::FetchError;
use crate::rotation::RotationError;
use crate::store::StoreError;
use crate::tokens::TokenError;
use crate::users::UserError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The arguments name something that does not exist (exit 2, as for bad arguments).
    #[error("{0}")]
    Usage(String),
    /// Someone else holds what the command needs right now; try again shortly (exit 5).
    #[error("{0}")]
    Busy(String),
    /// Something the command was asked for cannot be found or done, said in words.
    #[error("{0}")]
    Refused(String),
    /// A file or the terminal could not be read or written.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    LocalPg(#[from] crate::local_pg::LocalPgError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Rotation(#[from] RotationError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    User(#[from] UserError),
}

impl CliError {
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            what: what.into(),
            source,
        }
    }

    /// The process's exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => EXIT_USAGE,
            Self::Busy(_) => EXIT_TEMPORARY,
            _ => EXIT_FAILURE,
        }
    }
}
