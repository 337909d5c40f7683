//! Remote accounts: the one service the web pages, the REST API and the CLI call to add,
//! change, pause, remove, test and check a person's POP3 accounts. Each workflow is
//! written here once; the handlers above only parse a request, call it and render.
//!
//! - [`draft`] — what a person asks for ([`AccountDraft`], [`AccountChanges`]) and its
//!   one validation;
//! - [`state`] — where an account stands ([`AccountState`], [`AccountSummary`]);
//! - [`AccountService`] — the workflows, over `store`, `crypto` and `fetch`;
//! - [`AccountError`] — what goes wrong, mapped to HTTP once by web and by api.

pub(crate) mod draft;
mod error;
mod sign_in;
mod state;

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use time::OffsetDateTime;
use uuid::Uuid;

pub use draft::{
    AccountChanges, AccountDraft, DEFAULT_COLOR, InvalidAccount, is_color, parse_leave,
};
pub use error::AccountError;
pub use sign_in::Finisher;
pub use state::{AccountState, AccountSummary, state};

use crate::crypto::{KeyRing, Secret};
use crate::fetch::{ConnectionReport, FetchError, Fetcher, SignInWith};
use crate::i18n::Text;
use crate::store::accounts::{Account, AccountSettings};
use crate::store::fetch::{RUN_STARTED_CHANNEL, RunRow, SkippedMessage};
use crate::store::{self, StoreError};
use draft::{Password, invalid};

/// What "Test connection" found: the report, or the problem in the fetch engine's words.
/// Either is an answer to show; [`AccountError`] is for when there is nothing to show.
pub type ConnectionTest = Result<ConnectionReport, FetchError>;

/// The account workflows. Cheap to clone; shares the fetch engine's pool and key ring.
#[derive(Debug, Clone)]
pub struct AccountService {
    fetcher: Arc<Fetcher>,
}

impl AccountService {
    pub fn new(fetcher: Arc<Fetcher>) -> Self {
        Self { fetcher }
    }

    async fn conn(&self) -> Result<store::Conn, StoreError> {
        store::acquire(&self.fetcher.pool).await
    }

    fn ring(&self) -> Result<Arc<KeyRing>, AccountError> {
        self.fetcher.keys.current().map_err(AccountError::Keys)
    }

    /// The user's accounts by label, each with its newest run and whether it is leased.
    pub async fn list(&self, user_id: Uuid) -> Result<Vec<AccountSummary>, AccountError> {
        let mut conn = self.conn().await?;
        let accounts = store::accounts::list(&mut conn, user_id).await?;
        let mut latest = store::fetch::latest_runs(&mut conn, user_id).await?;
        let leased = store::fetch::leased_accounts(&mut conn, user_id).await?;
        Ok(accounts
            .into_iter()
            .map(|account| {
                let latest_run = latest
                    .iter()
                    .position(|run| run.account_id == account.id)
                    .map(|index| latest.swap_remove(index));
                AccountSummary {
                    leased: leased.contains(&account.id),
                    latest_run,
                    account,
                }
            })
            .collect())
    }

    /// One of the user's accounts.
    pub async fn get(&self, user_id: Uuid, id: Uuid) -> Result<Account, AccountError> {
        let mut conn = self.conn().await?;
        Ok(store::accounts::get(&mut conn, user_id, id).await?)
    }

    /// One of the user's accounts with what is known of its checks.
    pub async fn summary(&self, user_id: Uuid, id: Uuid) -> Result<AccountSummary, AccountError> {
        let mut conn = self.conn().await?;
        let account = store::accounts::get(&mut conn, user_id, id).await?;
        let latest_run = store::fetch::recent_runs(&mut conn, user_id, id, 1)
            .await?
            .pop();
        let leased = store::fetch::leased_accounts(&mut conn, user_id)
            .await?
            .contains(&id);
        Ok(AccountSummary {
            account,
            latest_run,
            leased,
        })
    }

    /// The account's newest `limit` runs, newest first.
    pub async fn runs(
        &self,
        user_id: Uuid,
        id: Uuid,
        limit: i64,
    ) -> Result<Vec<RunRow>, AccountError> {
        let mut conn = self.conn().await?;
        store::accounts::get(&mut conn, user_id, id).await?;
        Ok(store::fetch::recent_runs(&mut conn, user_id, id, limit).await?)
    }

    /// Messages left on the server for their size.
    pub async fn skipped(
        &self,
        user_id: Uuid,
        id: Uuid,
    ) -> Result<Vec<SkippedMessage>, AccountError> {
        let mut conn = self.conn().await?;
        Ok(store::fetch::skipped_messages(&mut conn, user_id, id).await?)
    }

    /// How many messages of the account are stored.
    pub async fn message_count(&self, user_id: Uuid, id: Uuid) -> Result<i64, AccountError> {
        let mut conn = self.conn().await?;
        store::accounts::get(&mut conn, user_id, id).await?;
        Ok(store::messages::count_for_account(&mut conn, id).await?)
    }

    /// Adds an account (its password sealed to it) and, unless it starts paused, wakes a
    /// scheduler so its first check starts at once.
    pub async fn create(
        &self,
        user_id: Uuid,
        draft: AccountDraft,
    ) -> Result<Account, AccountError> {
        if draft.auth_method.oauth().is_some() {
            return Err(invalid("auth", Text::new("invalid-add-by-sign-in")).into());
        }
        let valid = draft::validate(draft, Password::Required)?;
        let password = valid
            .password
            .ok_or_else(|| invalid("password", Text::new("invalid-password-missing")))?;
        let ring = self.ring()?;
        let mut conn = self.conn().await?;
        let mut account =
            store::accounts::create(&mut conn, &ring, user_id, &valid.settings, &password).await?;
        if valid.enabled == Some(false) {
            store::accounts::set_enabled(&mut conn, user_id, account.id, false).await?;
            account = store::accounts::get(&mut conn, user_id, account.id).await?;
        }
        drop(conn);
        tracing::info!(account_id = %account.id, "account added");
        if account.enabled {
            self.wake(user_id, account.id).await;
        }
        Ok(account)
    }

    /// Replaces an account's settings with `draft`. A password in the draft is sealed;
    /// without one the stored password stays, unread. Any change lifts a pause, and the
    /// account is checked at once.
    pub async fn update(
        &self,
        user_id: Uuid,
        id: Uuid,
        draft: AccountDraft,
    ) -> Result<Account, AccountError> {
        let valid = draft::validate(draft, Password::Optional)?;
        let current = self.get(user_id, id).await?;
        match (
            current.auth_method.oauth(),
            valid.settings.auth_method.oauth(),
        ) {
            (None, Some(_)) => {
                return Err(invalid("auth", Text::new("invalid-use-sign-in")).into());
            }
            (Some(_), None) if valid.password.is_none() => {
                return Err(invalid("password", Text::new("invalid-password-was-provider")).into());
            }
            _ => {}
        }
        let ring = self.ring()?;
        let mut conn = self.conn().await?;
        let mut account = store::accounts::update(
            &mut conn,
            &ring,
            user_id,
            id,
            &valid.settings,
            valid.password.as_ref(),
        )
        .await?;
        if let Some(enabled) = valid.enabled {
            store::accounts::set_enabled(&mut conn, user_id, id, enabled).await?;
            account = store::accounts::get(&mut conn, user_id, id).await?;
        }
        drop(conn);
        if account.enabled {
            self.wake(user_id, id).await;
        }
        Ok(account)
    }

    /// Applies `changes` to the stored account (what they leave out stays).
    pub async fn change(
        &self,
        user_id: Uuid,
        id: Uuid,
        changes: AccountChanges,
    ) -> Result<Account, AccountError> {
        let current = self.get(user_id, id).await?;
        self.update(user_id, id, changes.apply_to(&current)).await
    }

    /// Removes an account; with `keep_messages` its mail stays in the inbox.
    pub async fn remove(
        &self,
        user_id: Uuid,
        id: Uuid,
        keep_messages: bool,
    ) -> Result<(), AccountError> {
        let account = self.get(user_id, id).await?;
        if account.auth_method.oauth().is_some() {
            self.revoke_grant(id).await;
        }
        let mut conn = self.conn().await?;
        store::accounts::delete(&mut conn, user_id, id, keep_messages).await?;
        tracing::info!(account_id = %id, keep_messages, "account removed");
        Ok(())
    }

    /// Pauses (`false`) or resumes (`true`) an account; resuming checks at once.
    pub async fn set_enabled(
        &self,
        user_id: Uuid,
        id: Uuid,
        enabled: bool,
    ) -> Result<(), AccountError> {
        let mut conn = self.conn().await?;
        store::accounts::set_enabled(&mut conn, user_id, id, enabled).await?;
        drop(conn);
        if enabled {
            self.wake(user_id, id).await;
        }
        Ok(())
    }

    /// "Check mail now": due at once, on whichever replica is free. Refused for an account
    /// that is paused, since no check would run.
    pub async fn check_now(&self, user_id: Uuid, id: Uuid) -> Result<(), AccountError> {
        self.check_checkable(user_id, id).await?;
        Ok(store::fetch::check_now(&self.fetcher.pool, user_id, id).await?)
    }

    /// Refuses an account no check would run on.
    async fn check_checkable(&self, user_id: Uuid, id: Uuid) -> Result<(), AccountError> {
        let account = self.get(user_id, id).await?;
        if let Some(reason) = account.paused_reason {
            return Err(AccountError::Paused(reason));
        }
        if !account.enabled {
            return Err(AccountError::Off);
        }
        Ok(())
    }

    /// As [`Self::check_now`], then waits up to `within` for a worker to start the run,
    /// and returns its id; `None` when every worker stayed busy that long. Waits on the
    /// run-start notification rather than polling the table.
    pub async fn check_now_and_wait(
        &self,
        user_id: Uuid,
        id: Uuid,
        within: Duration,
    ) -> Result<Option<i64>, AccountError> {
        let since = OffsetDateTime::now_utc() - time::Duration::seconds(1);
        // Listening before asking, so a run that starts at once is not missed.
        let mut listener = PgListener::connect_with(&self.fetcher.pool)
            .await
            .map_err(StoreError::from)?;
        listener
            .listen(RUN_STARTED_CHANNEL)
            .await
            .map_err(StoreError::from)?;
        self.check_checkable(user_id, id).await?;
        store::fetch::check_now_awaited(&self.fetcher.pool, user_id, id).await?;
        let deadline = tokio::time::Instant::now() + within;
        let wanted = id.to_string();
        loop {
            let mut conn = self.conn().await?;
            let started = store::fetch::run_started_since(&mut conn, user_id, id, since).await?;
            drop(conn);
            if started.is_some() {
                return Ok(started);
            }
            // Notifications of other accounts' runs just lead to the next look.
            loop {
                match tokio::time::timeout_at(deadline, listener.recv()).await {
                    Err(_) => return Ok(None),
                    Ok(Err(error)) => return Err(StoreError::from(error).into()),
                    Ok(Ok(notice)) if notice.payload() == wanted => break,
                    Ok(Ok(_)) => {}
                }
            }
        }
    }

    /// "Test connection" with the saved settings and password. Changes nothing on the
    /// server.
    pub async fn test_saved(
        &self,
        user_id: Uuid,
        id: Uuid,
    ) -> Result<ConnectionTest, AccountError> {
        let account = self.get(user_id, id).await?;
        if account.auth_method.oauth().is_some() {
            return Ok(self.test_signed_in(&account.settings(), id).await);
        }
        let Some(password) = self.stored_password(user_id, id).await? else {
            return Ok(Err(FetchError::PasswordUnreadable));
        };
        Ok(self
            .fetcher
            .test_connection(&account.settings(), SignInWith::Password(&password))
            .await)
    }

    /// "Test connection" of an account that signs in with its provider: its stored grant
    /// (refreshed if need be) with the settings given.
    async fn test_signed_in(&self, settings: &AccountSettings, id: Uuid) -> ConnectionTest {
        let Some(mechanism) = settings.auth_method.oauth() else {
            return Err(FetchError::Settings(Text::new("settings-password-account")));
        };
        let access_token = self
            .fetcher
            .oauth
            .access_token(&self.fetcher.pool, &self.fetcher.keys, id)
            .await?;
        let sign_in = SignInWith::Token {
            access_token: &access_token,
            mechanism,
        };
        self.fetcher.test_connection(settings, sign_in).await
    }

    /// "Test connection" with settings not saved yet: a new account's (`id` `None`), or
    /// changes to account `id`, whose stored password stands in when the draft has none.
    pub async fn test_draft(
        &self,
        user_id: Uuid,
        id: Option<Uuid>,
        draft: AccountDraft,
    ) -> Result<ConnectionTest, AccountError> {
        let rule = if id.is_some() {
            Password::Optional
        } else {
            Password::Required
        };
        let valid = draft::validate(draft, rule)?;
        if valid.settings.auth_method.oauth().is_some() {
            let Some(id) = id else {
                return Err(invalid("auth", Text::new("invalid-sign-in-first")).into());
            };
            self.signed_in_account(user_id, id).await?;
            return Ok(self.test_signed_in(&valid.settings, id).await);
        }
        let password = match (valid.password, id) {
            (Some(password), _) => password,
            (None, Some(id)) => match self.stored_password(user_id, id).await? {
                Some(password) => password,
                None => return Ok(Err(FetchError::PasswordUnreadable)),
            },
            (None, None) => {
                return Err(invalid("password", Text::new("invalid-password-missing")).into());
            }
        };
        Ok(self
            .fetcher
            .test_connection(&valid.settings, SignInWith::Password(&password))
            .await)
    }

    /// The account's password, opened; `None` when the key ring cannot open it (a key
    /// that was removed, a row that was tampered with).
    async fn stored_password(
        &self,
        user_id: Uuid,
        id: Uuid,
    ) -> Result<Option<Secret>, AccountError> {
        let ring = self.ring()?;
        let mut conn = self.conn().await?;
        match store::accounts::password(&mut conn, &ring, user_id, id).await {
            Ok(password) => Ok(Some(password)),
            Err(StoreError::Crypto(error)) => {
                tracing::warn!(account_id = %id, %error, "the stored password cannot be opened");
                Ok(None)
            }
            Err(other) => Err(other.into()),
        }
    }

    /// Wakes a scheduler for the account. The account is due already; a scheduler that
    /// misses the notification finds it on its next look, so a failure only costs time.
    async fn wake(&self, user_id: Uuid, id: Uuid) {
        if let Err(error) = store::fetch::check_now(&self.fetcher.pool, user_id, id).await {
            tracing::warn!(account_id = %id, %error, "could not wake the scheduler");
        }
    }
}
