//! OAuth 2.0 sign-in with a mail provider (RFC 6749 authorization code flow with PKCE,
//! RFC 7636): the clients an administrator registered ([`config`]), the provider's
//! authorization URL, redeeming the code, and keeping an account's access token fresh
//! for the POP3 and SMTP clients. Knows nothing of HTTP routes or pages; the account
//! workflows (`crate::accounts`) drive the sign-in, the fetch engine and the submitter
//! ask [`OAuth::access_token`] before each sign-in to a mail server.

pub mod config;
mod http;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

pub use config::{OAuthClient, OAuthClients, ProviderKind};
use http::{Answer, FormPoster};

use crate::crypto::{self, CryptoError, Keys};
use crate::i18n::Text;
use crate::net::Connector;
use crate::secret::Secret;
use crate::store::{StoreError, oauth as grants};

/// The token endpoint gets this long to answer.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(20);
/// An access token this close to its expiry is refreshed first: a POP3 run or an SMTP
/// submission must not start with a token that dies on the way.
const REFRESH_MARGIN: time::Duration = time::Duration::minutes(2);
/// When a provider does not say how long its access token lives.
const DEFAULT_LIFETIME: time::Duration = time::Duration::hours(1);
/// How long a person has between "Sign in with …" and coming back.
pub const FLOW_LIFETIME: time::Duration = time::Duration::minutes(15);

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// No client is configured for the grant's provider (the administrator removed it).
    #[error("{}", self.text())]
    NotConfigured(String),
    /// The provider refused the grant (revoked, expired, password changed): only the
    /// person signing in again helps.
    #[error("{}", self.text())]
    Refused { provider: String, code: String },
    /// The provider's endpoint did not answer, or answered 5xx: try again later.
    #[error("{}", self.text())]
    Unreachable(String),
    /// The provider answered something that is not a usable token, or refused the
    /// client itself (a configuration problem for the administrator).
    #[error("{}", self.text())]
    Protocol(String),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{}", self.text())]
    Keys(#[source] CryptoError),
}

impl OAuthError {
    /// What went wrong, in words.
    pub fn text(&self) -> Text {
        match self {
            Self::NotConfigured(provider) => {
                Text::new("oauth-not-configured").with("provider", provider)
            }
            Self::Refused { provider, code } => Text::new("oauth-refused")
                .with("provider", provider)
                .with("code", code),
            Self::Unreachable(problem) => Text::new("oauth-unreachable").with("problem", problem),
            Self::Protocol(problem) => Text::new("oauth-unusable").with("problem", problem),
            Self::Store(_) => Text::new("oauth-store"),
            Self::Keys(e) => Text::new("keys-unreadable").with("problem", e.to_string()),
        }
    }

    /// Only signing in again can fix it.
    pub fn needs_sign_in(&self) -> bool {
        matches!(self, Self::Refused { .. })
    }

    /// Worth trying again later without anyone doing anything.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unreachable(_) | Self::Store(_) | Self::Keys(_))
    }
}

/// A set of tokens as the provider gave them.
#[derive(Debug)]
pub struct TokenSet {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub expires_at: OffsetDateTime,
}

impl TokenSet {
    /// The sealed document: `{"access_token": …, "refresh_token": …}` (the expiry is a
    /// column of its own: it decides when to refresh, and is no secret).
    pub fn document(&self) -> Secret {
        let mut document = serde_json::Map::new();
        document.insert(
            "access_token".into(),
            self.access_token.expose().to_owned().into(),
        );
        if let Some(refresh) = &self.refresh_token {
            document.insert("refresh_token".into(), refresh.expose().to_owned().into());
        }
        let text = Zeroizing::new(serde_json::Value::Object(document).to_string());
        Secret::new(text.as_str())
    }

    fn from_document(document: &Secret, expires_at: OffsetDateTime) -> Result<Self, OAuthError> {
        #[derive(Deserialize)]
        struct Stored {
            access_token: String,
            refresh_token: Option<String>,
        }
        let stored: Stored = serde_json::from_str(document.expose())
            .map_err(|_| OAuthError::Protocol("the stored tokens cannot be read".into()))?;
        Ok(Self {
            access_token: Secret::new(stored.access_token),
            refresh_token: stored.refresh_token.map(Secret::new),
            expires_at,
        })
    }
}

/// A sign-in just begun: where to send the person, and what to keep until they return.
#[derive(Debug)]
pub struct Begun {
    /// The provider's authorization URL, with `state` and the PKCE challenge.
    pub url: String,
    /// The SHA-256 of `state`: how the flow is found again (the state itself travels
    /// only in the URL).
    pub state_sha256: [u8; 32],
    pub verifier: Secret,
}

/// The SHA-256 of a `state`, as the flows table keys it.
pub fn state_digest(state: &str) -> [u8; 32] {
    Sha256::digest(state.as_bytes()).into()
}

/// The provider side of sign-in: cheap to clone.
#[derive(Debug, Clone)]
pub struct OAuth {
    clients: Arc<OAuthClients>,
    poster: FormPoster,
    redirect_uri: String,
}

impl OAuth {
    /// `public_url` is where the provider sends people back (`…/oauth/callback`).
    pub fn new(clients: OAuthClients, connector: Connector, public_url: Option<&str>) -> Self {
        Self {
            clients: Arc::new(clients),
            poster: FormPoster::new(connector, TOKEN_TIMEOUT),
            redirect_uri: format!(
                "{}/oauth/callback",
                public_url
                    .unwrap_or("http://localhost")
                    .trim_end_matches('/')
            ),
        }
    }

    pub fn clients(&self) -> &OAuthClients {
        &self.clients
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Starts a sign-in with `client` for the mailbox `login_hint`: a fresh `state` and
    /// PKCE verifier (32 random bytes each), and the URL to send the person to.
    pub fn begin(&self, client: &OAuthClient, login_hint: &str) -> Result<Begun, OAuthError> {
        let random = || {
            crypto::random_bytes::<32>()
                .map(|bytes| BASE64URL.encode(bytes))
                .map_err(OAuthError::Keys)
        };
        let state = random()?;
        let verifier = Secret::new(random()?);
        let challenge = BASE64URL.encode(Sha256::digest(verifier.expose().as_bytes()));
        let mut url = url::Url::parse(&client.authorize_url)
            .map_err(|_| OAuthError::Protocol("the authorization endpoint is not a URL".into()))?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &client.client_id)
                .append_pair("redirect_uri", &self.redirect_uri)
                .append_pair("scope", &client.scopes)
                .append_pair("state", &state)
                .append_pair("code_challenge", &challenge)
                .append_pair("code_challenge_method", "S256");
            if !login_hint.is_empty() {
                query.append_pair("login_hint", login_hint);
            }
            if client.kind == ProviderKind::Google {
                // Google gives a refresh token only for offline access, and again only
                // when consent is asked for.
                query
                    .append_pair("access_type", "offline")
                    .append_pair("prompt", "consent");
            }
        }
        Ok(Begun {
            url: url.into(),
            state_sha256: state_digest(&state),
            verifier,
        })
    }

    /// Trades the code the provider sent back for tokens.
    pub async fn redeem(
        &self,
        client: &OAuthClient,
        code: &str,
        verifier: &Secret,
    ) -> Result<TokenSet, OAuthError> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("client_id", client.client_id.as_str()),
            ("code_verifier", verifier.expose()),
        ];
        if let Some(secret) = &client.client_secret {
            form.push(("client_secret", secret.expose()));
        }
        let answer = self.poster.post(&client.token_url, &form).await?;
        tokens_from(client, &answer, None)
    }

    /// A new access token for `refresh_token`. Providers that do not send a new refresh
    /// token mean the old one stays good.
    pub async fn refresh(
        &self,
        client: &OAuthClient,
        refresh_token: &Secret,
    ) -> Result<TokenSet, OAuthError> {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
            ("client_id", client.client_id.as_str()),
        ];
        if let Some(secret) = &client.client_secret {
            form.push(("client_secret", secret.expose()));
        }
        let answer = self.poster.post(&client.token_url, &form).await?;
        tokens_from(client, &answer, Some(refresh_token))
    }

    /// Asks the provider to forget a refresh token (RFC 7009), when it has an endpoint
    /// for that. Best effort: the account is removed here whatever it answers.
    pub async fn revoke(&self, client: &OAuthClient, refresh_token: &Secret) {
        let Some(url) = &client.revoke_url else {
            return;
        };
        let mut form = vec![
            ("token", refresh_token.expose()),
            ("token_type_hint", "refresh_token"),
            ("client_id", client.client_id.as_str()),
        ];
        if let Some(secret) = &client.client_secret {
            form.push(("client_secret", secret.expose()));
        }
        if let Err(e) = self.poster.post(url, &form).await {
            tracing::info!(error = %e, "the provider was not told to revoke the sign-in");
        }
    }

    /// The account's access token, refreshed first when it expires within two minutes.
    /// The grant's row is locked while refreshing, so two runs (a fetch and a
    /// submission) never refresh one grant at once.
    pub async fn access_token(
        &self,
        pool: &PgPool,
        keys: &Keys,
        account_id: Uuid,
    ) -> Result<Secret, OAuthError> {
        let ring = keys.current().map_err(OAuthError::Keys)?;
        let mut tx = pool.begin().await.map_err(StoreError::from)?;
        let grant = grants::open_grant(&mut tx, &ring, account_id, true).await?;
        let tokens = TokenSet::from_document(&grant.tokens, grant.access_expires_at)?;
        if grant.access_expires_at - REFRESH_MARGIN > OffsetDateTime::now_utc() {
            tx.commit().await.map_err(StoreError::from)?;
            return Ok(tokens.access_token);
        }
        let kind = ProviderKind::parse(&grant.provider);
        let client = kind
            .and_then(|kind| self.clients.get(kind))
            .ok_or_else(|| OAuthError::NotConfigured(grant.provider.clone()))?;
        let refresh_token = tokens.refresh_token.ok_or_else(|| OAuthError::Refused {
            provider: client.name.clone(),
            code: "no refresh token".into(),
        })?;
        let fresh = self.refresh(client, &refresh_token).await?;
        let new = grants::NewGrant {
            provider: kind.map_or("generic", ProviderKind::as_str),
            tokens: &fresh.document(),
            access_expires_at: fresh.expires_at,
        };
        grants::save_grant(&mut tx, &ring, account_id, &new).await?;
        tx.commit().await.map_err(StoreError::from)?;
        tracing::debug!(%account_id, "access token refreshed");
        Ok(fresh.access_token)
    }

    /// The account's refresh token, for revoking it as the account is removed.
    pub async fn refresh_token_of(
        &self,
        conn: &mut sqlx::PgConnection,
        keys: &Keys,
        account_id: Uuid,
    ) -> Result<Option<(OAuthClient, Secret)>, OAuthError> {
        let ring = keys.current().map_err(OAuthError::Keys)?;
        let grant = match grants::open_grant(conn, &ring, account_id, false).await {
            Ok(grant) => grant,
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let tokens = TokenSet::from_document(&grant.tokens, grant.access_expires_at)?;
        let client = ProviderKind::parse(&grant.provider).and_then(|k| self.clients.get(k));
        Ok(client.cloned().zip(tokens.refresh_token))
    }
}

/// The token endpoint's answer (RFC 6749 §5.1 and §5.2).
fn tokens_from(
    client: &OAuthClient,
    answer: &Answer,
    previous_refresh: Option<&Secret>,
) -> Result<TokenSet, OAuthError> {
    #[derive(Deserialize)]
    struct Body {
        access_token: Option<String>,
        refresh_token: Option<String>,
        expires_in: Option<serde_json::Value>,
        error: Option<String>,
    }
    if answer.status >= 500 {
        return Err(OAuthError::Unreachable(format!(
            "the token endpoint answered HTTP {}",
            answer.status
        )));
    }
    let body: Body = serde_json::from_slice(&answer.body).map_err(|_| {
        OAuthError::Protocol(format!(
            "the token endpoint answered HTTP {} without a JSON token",
            answer.status
        ))
    })?;
    if let Some(error) = body.error {
        // The error code is the provider's word; it is kept short and plain, and the
        // provider's free-text description (which may quote what was sent) is dropped.
        let code: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(40)
            .collect();
        return Err(match code.as_str() {
            "invalid_grant" | "interaction_required" | "consent_required" => OAuthError::Refused {
                provider: client.name.clone(),
                code,
            },
            _ => OAuthError::Protocol(format!(
                "{} refused the request ({code}); the administrator should check the \
                 TRIBUTARY_OAUTH_* client settings",
                client.name
            )),
        });
    }
    let access_token = body
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OAuthError::Protocol("the answer holds no access token".into()))?;
    let lifetime = body
        .expires_in
        .and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .filter(|seconds| *seconds > 0)
        .map_or(DEFAULT_LIFETIME, time::Duration::seconds);
    Ok(TokenSet {
        access_token: Secret::new(access_token),
        refresh_token: body
            .refresh_token
            .filter(|t| !t.is_empty())
            .map(Secret::new)
            .or_else(|| previous_refresh.cloned()),
        expires_at: OffsetDateTime::now_utc() + lifetime,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> OAuthClient {
        OAuthClient {
            kind: ProviderKind::Google,
            name: "Google".into(),
            client_id: "id".into(),
            client_secret: None,
            authorize_url: config::GOOGLE_AUTHORIZE.into(),
            token_url: config::GOOGLE_TOKEN.into(),
            revoke_url: None,
            scopes: config::GOOGLE_SCOPES.into(),
            mechanism: crate::sasl::OAuthMechanism::XOAuth2,
            domains: Vec::new(),
        }
    }

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: body.as_bytes().to_vec().into(),
        }
    }

    #[test]
    fn the_authorization_url_carries_state_and_an_s256_challenge() {
        let oauth = OAuth::new(
            OAuthClients::default(),
            Connector::new(false, Duration::from_secs(1)),
            Some("https://mail.example.org/"),
        );
        let begun = oauth.begin(&client(), "me@gmail.com").expect("begun");
        let url = url::Url::parse(&begun.url).expect("url");
        let pairs: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(
            pairs["redirect_uri"],
            "https://mail.example.org/oauth/callback"
        );
        assert_eq!(pairs["code_challenge_method"], "S256");
        assert_eq!(state_digest(&pairs["state"]), begun.state_sha256);
        let challenge = BASE64URL.encode(Sha256::digest(begun.verifier.expose().as_bytes()));
        assert_eq!(pairs["code_challenge"], challenge);
        assert_eq!(begun.verifier.expose().len(), 43);
        assert_eq!(pairs["access_type"], "offline");
        assert!(!begun.url.contains(begun.verifier.expose()));
    }

    #[test]
    fn token_answers_become_tokens_or_plain_errors() {
        let old = Secret::new("old-refresh");
        let tokens = tokens_from(
            &client(),
            &answer(
                200,
                r#"{"access_token":"a1","expires_in":"3599","token_type":"Bearer"}"#,
            ),
            Some(&old),
        )
        .expect("tokens");
        assert_eq!(tokens.access_token.expose(), "a1");
        // Google sends no new refresh token: the old one stays.
        assert_eq!(tokens.refresh_token.expect("kept").expose(), "old-refresh");
        let refused = tokens_from(
            &client(),
            &answer(400, r#"{"error":"invalid_grant","error_description":"Token has been expired or revoked. a1"}"#),
            None,
        )
        .expect_err("refused");
        assert!(refused.needs_sign_in());
        assert!(!refused.to_string().contains("a1"));
        let config = tokens_from(
            &client(),
            &answer(401, r#"{"error":"invalid_client"}"#),
            None,
        )
        .expect_err("client refused");
        assert!(!config.needs_sign_in() && !config.is_transient());
        assert!(
            tokens_from(&client(), &answer(503, "busy"), None)
                .expect_err("5xx")
                .is_transient()
        );
    }

    #[test]
    fn the_sealed_document_round_trips() {
        let tokens = TokenSet {
            access_token: Secret::new("acc\"ess"),
            refresh_token: Some(Secret::new("ref")),
            expires_at: OffsetDateTime::UNIX_EPOCH,
        };
        let back = TokenSet::from_document(&tokens.document(), OffsetDateTime::UNIX_EPOCH)
            .expect("parsed");
        assert_eq!(back.access_token.expose(), "acc\"ess");
        assert_eq!(back.refresh_token.expect("refresh").expose(), "ref");
    }
}
