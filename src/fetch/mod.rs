//! The fetch engine (DESIGN §4 invariants 1, 2, 3, 7, 9 and §6).
//!
//! - [`connector`] — the one checked way out to remote servers (no SSRF).
//! - [`account`] — one account, once: exactly-once download into the store.
//! - [`worker`] — a claimed account: lease renewal, run history, next check.
//! - [`scheduler`] — which accounts run when, on every replica.
//! - [`policy`] — intervals and back-off (fields for lists and search: `crate::mail`);
//!   [`metrics`] — counters for `/metrics`.

pub mod account;
pub mod autodetect;
pub mod connector;
pub mod metrics;
pub mod policy;
pub mod scheduler;
pub mod worker;

use std::time::Duration;

pub use account::{Clock, ConnectionReport, Fetcher, RunReport, SystemClock, run_once};
pub use connector::{ConnectError, Connector};
pub use scheduler::{Scheduler, SchedulerSettings};
pub use worker::{FetchOutcome, fetch_account};

use crate::pop3::Pop3Error;
use crate::store::StoreError;
use crate::store::fetch::RunOutcome;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Pop3(#[from] Pop3Error),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error(
        "the stored password cannot be decrypted with the current master key — enter the password again"
    )]
    PasswordUnreadable,
    #[error("the account's settings are invalid: {0}")]
    Settings(String),
    #[error(
        "the check took longer than {} and was stopped; mail saved so far is kept and the rest comes with the next check",
        human_duration(*.0)
    )]
    RunTimedOut(Duration),
}

/// "90 seconds", "65 minutes": for messages people read.
fn human_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds < 120 {
        format!("{seconds} seconds")
    } else {
        format!("{} minutes", seconds.div_ceil(60))
    }
}

/// Why an account waits for its owner instead of being polled.
pub const PAUSED_AUTH: &str = "auth";
pub const PAUSED_SERVER: &str = "server";
pub const PAUSED_PASSWORD_UNREADABLE: &str = "password_unreadable";

impl FetchError {
    /// The error's class, for `last_error_kind`, `fetch_runs.error_kind` and metrics.
    pub fn class(&self) -> &'static str {
        match self {
            Self::Connect(ConnectError::Refused) => "refused_address",
            Self::Connect(ConnectError::Timeout) => "timeout",
            Self::Connect(_) => "network",
            Self::Pop3(e) => match e {
                Pop3Error::Auth(_) => "auth",
                Pop3Error::InUse(_) => "in_use",
                Pop3Error::LoginDelay { .. } => "login_delay",
                Pop3Error::SysTemp(_) => "sys_temp",
                Pop3Error::SysPerm(_) => "sys_perm",
                Pop3Error::Timeout(_) => "timeout",
                Pop3Error::Connect(_) | Pop3Error::Io(_) | Pop3Error::Closed => "network",
                e if e.is_tls() => "tls",
                _ => "protocol",
            },
            Self::Store(_) => "database",
            Self::RunTimedOut(_) => "timeout",
            Self::PasswordUnreadable => "password_unreadable",
            Self::Settings(_) => "settings",
        }
    }

    pub fn outcome(&self) -> RunOutcome {
        match self {
            Self::Pop3(e) if e.is_auth() => RunOutcome::AuthError,
            Self::Pop3(e) if e.is_transient() => RunOutcome::TemporaryError,
            Self::Connect(e) if e.is_transient() => RunOutcome::TemporaryError,
            Self::Store(_) | Self::RunTimedOut(_) => RunOutcome::TemporaryError,
            _ => RunOutcome::PermanentError,
        }
    }

    /// Set when retrying cannot help until the user acts; polling stops until then
    /// (so a provider does not lock the account after repeated bad logins).
    pub fn pause_reason(&self) -> Option<&'static str> {
        match self {
            Self::Pop3(Pop3Error::Auth(_)) => Some(PAUSED_AUTH),
            Self::Pop3(Pop3Error::SysPerm(_)) => Some(PAUSED_SERVER),
            Self::PasswordUnreadable => Some(PAUSED_PASSWORD_UNREADABLE),
            _ => None,
        }
    }

    pub fn login_delay(&self) -> Option<Duration> {
        match self {
            Self::Pop3(e) => e.login_delay(),
            _ => None,
        }
    }

    /// What the accounts page says, in plain words. Holds the server's (sanitised) text
    /// where it helps, never a password and never an internal address.
    pub fn user_message(&self) -> String {
        match self {
            Self::Pop3(Pop3Error::Auth(text)) => format!(
                "The server rejected the user name or password — update the password to resume \
                 checking this account. The server said: {}",
                text.as_str()
            ),
            Self::Pop3(Pop3Error::SysPerm(text)) => format!(
                "The server reports a permanent problem with this mailbox; checking is \
                 suspended until you edit the account. The server said: {}",
                text.as_str()
            ),
            Self::Store(_) => "Tributary could not save mail just now; it will try again.".into(),
            other => {
                let mut text = other.to_string();
                if let Some(first) = text.get(..1) {
                    let upper = first.to_uppercase();
                    text.replace_range(..1, &upper);
                }
                text
            }
        }
    }
}

/// "Check mail now": due at once, and every replica's scheduler is woken.
pub async fn check_now(
    pool: &sqlx::PgPool,
    user_id: uuid::Uuid,
    account_id: uuid::Uuid,
) -> Result<(), StoreError> {
    crate::store::fetch::check_now(pool, user_id, account_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_limits_read_as_people_say_them() {
        let limit = |secs| FetchError::RunTimedOut(Duration::from_secs(secs)).user_message();
        assert!(limit(8).starts_with("The check took longer than 8 seconds and was stopped"));
        assert!(limit(65 * 60 + 45).starts_with("The check took longer than 66 minutes"));
        assert_eq!(FetchError::RunTimedOut(Duration::ZERO).class(), "timeout");
    }
}
