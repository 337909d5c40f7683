//! Signing in with the mailbox's provider (OAuth 2.0) instead of a password: the
//! workflow that sends the person to the provider, and the one that finishes when the
//! provider sends them back — adding the account, or signing an existing one in again.

use crate::i18n::Text;
use time::OffsetDateTime;
use uuid::Uuid;

use super::draft::{self, Password, invalid};
use super::{AccountDraft, AccountError, AccountService};
use crate::model::AuthMethod;
use crate::oauth::{self, OAuthClient, OAuthError, ProviderKind};
use crate::store::accounts::Account;
use crate::store::{self, oauth as grants};

/// Who finishes a sign-in: the person signed in, in which web session.
#[derive(Debug, Clone, Copy)]
pub struct Finisher<'a> {
    pub user_id: Uuid,
    /// The SHA-256 of the session's cookie token.
    pub session_sha256: &'a [u8],
}

impl AccountService {
    /// The registered client that signs in this mailbox (by address, or by its POP3
    /// server), if the administrator configured one.
    pub fn sign_in_client(&self, email: &str, host: &str) -> Option<&OAuthClient> {
        self.fetcher.oauth.clients().for_mailbox(email, host)
    }

    /// Starts signing in with the provider for the account `draft` describes (or, with
    /// `account_id`, for that existing account): returns the provider's URL to send the
    /// person to. `session_sha256` binds the sign-in to the web session that started it;
    /// `None` (the API) lets any web session of the same user finish it.
    pub async fn start_sign_in(
        &self,
        user_id: Uuid,
        session_sha256: Option<&[u8]>,
        mut draft: AccountDraft,
        account_id: Option<Uuid>,
    ) -> Result<String, AccountError> {
        if let Some(id) = account_id {
            self.get(user_id, id).await?;
        }
        let client = self
            .sign_in_client(&draft.email, &draft.host)
            .ok_or_else(|| invalid("email", Text::new("invalid-no-provider-client")))?
            .clone();
        draft.auth_method = AuthMethod::for_oauth(client.mechanism);
        draft.password = None;
        let valid = draft::validate(draft.clone(), Password::Optional)?;
        let begun = self
            .fetcher
            .oauth
            .begin(&client, &valid.settings.username)?;
        let flow = grants::Flow {
            user_id,
            session_sha256: session_sha256.map(<[u8]>::to_vec),
            provider: client.kind.as_str().to_owned(),
            verifier: begun.verifier,
            draft: draft.to_json_without_password(),
            account_id,
            expires_at: OffsetDateTime::now_utc() + oauth::FLOW_LIFETIME,
        };
        let ring = self.ring()?;
        let mut conn = self.conn().await?;
        grants::create_flow(&mut conn, &ring, &begun.state_sha256, &flow).await?;
        tracing::info!(
            provider = client.kind.as_str(),
            "sign-in with the provider started"
        );
        Ok(begun.url)
    }

    /// Finishes a sign-in when the provider sends the person back with `code` and
    /// `state`. The state is good once, for fifteen minutes, for the person (and the web
    /// session) that started it; the code is redeemed with the PKCE verifier kept here.
    pub async fn finish_sign_in(
        &self,
        finisher: Finisher<'_>,
        state: &str,
        code: &str,
    ) -> Result<Account, AccountError> {
        let ring = self.ring()?;
        let mut conn = self.conn().await?;
        let flow = grants::take_flow(&mut conn, &ring, &oauth::state_digest(state))
            .await?
            .ok_or(AccountError::SignInRefused(Text::new("sign-in-unknown")))?;
        drop(conn);
        if flow.user_id != finisher.user_id {
            return Err(AccountError::SignInRefused(Text::new("sign-in-other-user")));
        }
        if flow
            .session_sha256
            .as_deref()
            .is_some_and(|s| s != finisher.session_sha256)
        {
            return Err(AccountError::SignInRefused(Text::new(
                "sign-in-other-session",
            )));
        }
        let kind = ProviderKind::parse(&flow.provider);
        let client = kind
            .and_then(|kind| self.fetcher.oauth.clients().get(kind))
            .ok_or_else(|| OAuthError::NotConfigured(flow.provider.clone()))?
            .clone();
        let tokens = self
            .fetcher
            .oauth
            .redeem(&client, code, &flow.verifier)
            .await?;
        let draft: AccountDraft = serde_json::from_value(flow.draft)
            .map_err(|_| invalid("email", Text::new("invalid-sign-in-unreadable")))?;
        let valid = draft::validate(draft, Password::Optional)?;
        let document = tokens.document();
        let grant = grants::NewGrant {
            provider: client.kind.as_str(),
            tokens: &document,
            access_expires_at: tokens.expires_at,
        };
        let user_id = finisher.user_id;
        let mut conn = self.conn().await?;
        let account = match flow.account_id {
            Some(id) => {
                let method = valid.settings.auth_method;
                grants::signed_in_again(&mut conn, &ring, user_id, id, method, &grant).await?;
                store::accounts::get(&mut conn, user_id, id).await?
            }
            None => {
                store::accounts::create_signed_in(
                    &mut conn,
                    &ring,
                    user_id,
                    &valid.settings,
                    &grant,
                )
                .await?
            }
        };
        drop(conn);
        tracing::info!(account_id = %account.id, provider = client.kind.as_str(), "signed in with the provider");
        if account.enabled {
            self.wake(user_id, account.id).await;
        }
        Ok(account)
    }

    /// The account, when it signs in with its provider.
    pub(super) async fn signed_in_account(
        &self,
        user_id: Uuid,
        id: Uuid,
    ) -> Result<Account, AccountError> {
        let account = self.get(user_id, id).await?;
        if account.auth_method.oauth().is_none() {
            return Err(invalid("auth", Text::new("settings-password-account")).into());
        }
        Ok(account)
    }

    /// Tells the provider to forget the account's refresh token, where it can (Google
    /// and a generic provider with a revocation endpoint). Best effort, before removal.
    pub(super) async fn revoke_grant(&self, id: Uuid) {
        let Ok(mut conn) = self.conn().await else {
            return;
        };
        match self
            .fetcher
            .oauth
            .refresh_token_of(&mut conn, &self.fetcher.keys, id)
            .await
        {
            Ok(Some((client, refresh_token))) => {
                drop(conn);
                self.fetcher.oauth.revoke(&client, &refresh_token).await;
            }
            Ok(None) => {}
            Err(e) => tracing::info!(account_id = %id, error = %e, "the grant was not revoked"),
        }
    }
}
