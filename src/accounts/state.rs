//! Where an account stands: one classification for the accounts page, the page's live
//! status, the API and the CLI.

use serde::Serialize;
use utoipa::ToSchema;

use crate::model::{ErrorClass, RunOutcome};
use crate::store::accounts::Account;
use crate::store::fetch::RunRow;

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AccountState {
    /// A worker is checking it now.
    Checking,
    /// Waiting for its owner (rejected password, permanent server problem, …).
    Paused,
    /// Paused by its owner.
    Off,
    /// The server asked for a pause between logins (LOGIN-DELAY).
    Waiting,
    /// The last check failed; it will be retried.
    Error,
    /// Checked successfully.
    Ok,
    /// Not checked yet.
    New,
}

impl AccountState {
    /// The word that names it (a CSS class on the page, the API's `state`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Checking => "checking",
            Self::Paused => "paused",
            Self::Off => "off",
            Self::Waiting => "waiting",
            Self::Error => "error",
            Self::Ok => "ok",
            Self::New => "new",
        }
    }
}

/// An account with what is known of its checks: what lists and status lines need.
#[derive(Debug, Clone)]
pub struct AccountSummary {
    pub account: Account,
    /// The newest run, finished or not.
    pub latest_run: Option<RunRow>,
    /// A worker holds the account's lease right now.
    pub leased: bool,
}

impl AccountSummary {
    /// A worker holds its lease, or its newest run is still open.
    pub fn checking(&self) -> bool {
        self.leased
            || self
                .latest_run
                .as_ref()
                .is_some_and(|run| run.outcome == RunOutcome::Running)
    }

    pub fn state(&self) -> AccountState {
        state(&self.account, self.checking())
    }
}

/// The state of `account`; `checking` when a worker holds its lease or a run is open.
pub fn state(account: &Account, checking: bool) -> AccountState {
    if checking {
        AccountState::Checking
    } else if account.paused_reason.is_some() {
        AccountState::Paused
    } else if !account.enabled {
        AccountState::Off
    } else if account.last_error_kind == Some(ErrorClass::LoginDelay) {
        AccountState::Waiting
    } else if account.last_error_kind.is_some() {
        AccountState::Error
    } else if account.last_success_at.is_some() {
        AccountState::Ok
    } else {
        AccountState::New
    }
}
