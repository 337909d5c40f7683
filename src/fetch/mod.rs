//! The fetch engine (DESIGN §4 invariants 1, 2, 3, 7, 9 and §6).
//!
//! - [`autodetect`] — the POP3 probe for the wizard's server search ([`crate::net`]).
//! - [`fetcher`] — what every run shares (pool, keys, limits, TLS) and "Test connection".
//! - [`run`] — one account, once: the exactly-once order of a run.
//! - [`writer`] — the group-commit pipeline that stores a run's messages.
//! - [`worker`] — a claimed account: lease renewal, run history, next check.
//! - [`scheduler`] — which accounts run when, on every replica.
//! - [`policy`] — intervals and back-off (fields for lists and search: `crate::mail`);
//!   [`metrics`] — counters for `/metrics`.

pub mod autodetect;
pub mod fetcher;
pub mod metrics;
pub mod policy;
pub mod run;
pub mod scheduler;
pub mod worker;
mod writer;

use std::time::Duration;

use crate::net::ConnectError;
pub use fetcher::{Clock, ConnectionReport, Fetcher, SignInWith, SystemClock};
pub use run::{RunReport, run_once};
pub use scheduler::{Scheduler, SchedulerSettings, Tick};
pub use worker::{FetchOutcome, fetch_account};

use crate::i18n::{Locale, Text};
use crate::model::{ErrorClass, PausedReason, RunOutcome};
use crate::pop3::Pop3Error;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Pop3(#[from] Pop3Error),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{}", self.text())]
    PasswordUnreadable,
    /// The master key ring cannot be read now (a key file gone or unreadable): the
    /// password is not lost, so this is retried, not a reason to pause the account.
    #[error("{}", Text::new("keys-unreadable").with("problem", .0.to_string()))]
    Keys(#[source] crate::crypto::CryptoError),
    /// Work handed to another task did not come back (it panicked).
    #[error("an internal task stopped: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("{}", self.text())]
    Settings(Text),
    #[error("{}", self.text())]
    RunTimedOut(Duration),
    /// The provider's sign-in (OAuth 2.0) could not give an access token.
    #[error(transparent)]
    OAuth(#[from] crate::oauth::OAuthError),
    /// The POP3 server refused a fresh access token (`-ERR` to the SASL exchange).
    #[error("{}", self.text())]
    TokenRefused(crate::pop3::ServerText),
}

/// A failed statement is a store error, whichever layer ran it.
impl From<sqlx::Error> for FetchError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(error.into())
    }
}

/// "90 seconds", "65 minutes": for messages people read.
fn human_duration(duration: Duration) -> Text {
    let seconds = duration.as_secs();
    if seconds < 120 {
        Text::new("duration-seconds").with("count", seconds)
    } else {
        Text::new("duration-minutes").with("count", seconds.div_ceil(60))
    }
}

impl FetchError {
    /// The error's class, for `last_error_kind`, `fetch_runs.error_kind` and metrics.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Connect(e) => e.class(),
            Self::Pop3(e) => match e {
                Pop3Error::Auth(_) => ErrorClass::Auth,
                Pop3Error::InUse(_) => ErrorClass::InUse,
                Pop3Error::LoginDelay { .. } => ErrorClass::LoginDelay,
                Pop3Error::SysTemp(_) => ErrorClass::SysTemp,
                Pop3Error::SysPerm(_) => ErrorClass::SysPerm,
                Pop3Error::Timeout(_) => ErrorClass::Timeout,
                Pop3Error::Connect(_) | Pop3Error::Io(_) | Pop3Error::Closed => ErrorClass::Network,
                e if e.is_tls() => ErrorClass::Tls,
                _ => ErrorClass::Protocol,
            },
            Self::Store(_) | Self::Task(_) => ErrorClass::Database,
            Self::Keys(_) => ErrorClass::Keys,
            Self::RunTimedOut(_) => ErrorClass::Timeout,
            Self::OAuth(e) if e.needs_sign_in() => ErrorClass::Auth,
            Self::TokenRefused(_) => ErrorClass::Auth,
            Self::OAuth(crate::oauth::OAuthError::Unreachable(_)) => ErrorClass::Network,
            Self::OAuth(crate::oauth::OAuthError::Store(_)) => ErrorClass::Database,
            Self::OAuth(crate::oauth::OAuthError::Keys(_)) => ErrorClass::Keys,
            Self::OAuth(_) => ErrorClass::Settings,
            Self::PasswordUnreadable => ErrorClass::PasswordUnreadable,
            Self::Settings(_) => ErrorClass::Settings,
        }
    }

    pub fn outcome(&self) -> RunOutcome {
        match self {
            Self::Pop3(e) if e.is_auth() => RunOutcome::AuthError,
            Self::TokenRefused(_) => RunOutcome::AuthError,
            Self::OAuth(e) if e.needs_sign_in() => RunOutcome::AuthError,
            Self::OAuth(e) if e.is_transient() => RunOutcome::TemporaryError,
            Self::Pop3(e) if e.is_transient() => RunOutcome::TemporaryError,
            Self::Connect(e) if e.is_transient() => RunOutcome::TemporaryError,
            Self::Store(_) | Self::Task(_) | Self::Keys(_) | Self::RunTimedOut(_) => {
                RunOutcome::TemporaryError
            }
            _ => RunOutcome::PermanentError,
        }
    }

    /// Set when retrying cannot help until the user acts; polling stops until then
    /// (so a provider does not lock the account after repeated bad logins).
    pub fn pause_reason(&self) -> Option<PausedReason> {
        match self {
            Self::Pop3(Pop3Error::Auth(_)) => Some(PausedReason::Auth),
            Self::Pop3(Pop3Error::SysPerm(_)) => Some(PausedReason::Server),
            Self::PasswordUnreadable => Some(PausedReason::PasswordUnreadable),
            Self::TokenRefused(_) => Some(PausedReason::SignIn),
            Self::OAuth(e) if e.needs_sign_in() => Some(PausedReason::SignIn),
            Self::Pop3(Pop3Error::Certificate(refused)) if refused.pin_changed => {
                Some(PausedReason::CertificateChanged)
            }
            _ => None,
        }
    }

    pub fn login_delay(&self) -> Option<Duration> {
        match self {
            Self::Pop3(e) => e.login_delay(),
            _ => None,
        }
    }

    /// The server certificate that was refused, for the person to review.
    pub fn refused_certificate(&self) -> Option<&crate::tls::CertificateRefused> {
        match self {
            Self::Pop3(e) => e.refused_certificate(),
            _ => None,
        }
    }

    /// What the accounts page says, in words: the server's (sanitised) answer where it
    /// helps, never a password and never an internal address.
    pub fn text(&self) -> Text {
        match self {
            Self::Pop3(Pop3Error::Auth(text)) => {
                Text::new("fetch-login-rejected").with("server", text)
            }
            Self::Pop3(Pop3Error::SysPerm(text)) => {
                Text::new("fetch-mailbox-suspended").with("server", text)
            }
            Self::Connect(e) => e.text(),
            Self::Pop3(e) => e.text(),
            Self::OAuth(e) => e.text(),
            Self::Store(_) | Self::Task(_) => Text::new("fetch-not-saved"),
            Self::Keys(_) => Text::new("fetch-keys-later"),
            Self::PasswordUnreadable => Text::new("fetch-password-unreadable"),
            Self::Settings(problem) => {
                Text::new("fetch-settings-invalid").with("problem", problem.clone())
            }
            Self::RunTimedOut(limit) => {
                Text::new("fetch-run-timed-out").with("limit", human_duration(*limit))
            }
            Self::TokenRefused(text) => Text::new("fetch-token-refused").with("server", text),
        }
    }

    /// [`Self::text`] as an English sentence: for the API and the command line.
    pub fn user_message(&self) -> String {
        Locale::default().sentence(&self.text())
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
        assert_eq!(
            FetchError::RunTimedOut(Duration::ZERO).class(),
            ErrorClass::Timeout
        );
    }

    /// One error of every kind the engine can meet; each must land in a metrics counter
    /// (the counters once missed `password_unreadable` and `settings`).
    #[test]
    fn metrics_count_every_error_class() {
        use crate::pop3::ServerText;
        let text = || ServerText::new(b"x");
        let errors = [
            FetchError::Connect(ConnectError::Refused),
            FetchError::Connect(ConnectError::Timeout),
            FetchError::Pop3(Pop3Error::Auth(text())),
            FetchError::Pop3(Pop3Error::InUse(text())),
            FetchError::Pop3(Pop3Error::SysTemp(text())),
            FetchError::Pop3(Pop3Error::SysPerm(text())),
            FetchError::Pop3(Pop3Error::Closed),
            FetchError::Store(StoreError::NotFound),
            FetchError::RunTimedOut(Duration::from_secs(1)),
            FetchError::PasswordUnreadable,
            FetchError::Keys(crate::crypto::CryptoError::Random),
            FetchError::Settings(Text::new("settings-bad-port")),
        ];
        for error in errors {
            let metrics = metrics::Metrics::default();
            metrics.error(error.class());
            let line = format!(
                "tributary_pop3_errors_total{{class=\"{}\"}} 1",
                error.class().as_str()
            );
            assert!(
                metrics.render(None).lines().any(|l| l == line),
                "{error:?} is not counted ({line})"
            );
        }
    }
}
