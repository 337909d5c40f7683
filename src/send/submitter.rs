//! One submission attempt of one outgoing message, exactly once (DESIGN invariant 2 for
//! sending): the lease is held, "submitting" is recorded before the final dot can leave,
//! and only a definite answer settles the message. Also "Test sending", which signs in
//! and sends nothing.

use crate::i18n::Text;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::net::TcpStream;

use crate::crypto::{CryptoError, Keys, Secret};
use crate::model::ErrorClass;
use crate::net::{ConnectError, Connector};
use crate::smtp::{self, Credentials, Envelope, SendError, Session, SmtpError};
use crate::store::identities::{self, IdentitySettings, SmtpLogin};
use crate::store::outbox::{self, Claimed, Outcome};
use crate::store::{StoreError, accounts, messages};
use crate::tls::{self, Trust};

/// How long a claim lasts: longer than one whole SMTP session can, so a live attempt
/// never loses its lease to another worker.
pub fn lease_for(timeouts: &smtp::Timeouts) -> Duration {
    timeouts.connect + timeouts.tls_handshake + timeouts.session + Duration::from_secs(60)
}

/// Waits before each retry of a transient failure; after the last, the message fails.
pub const DEFAULT_RETRY_DELAYS: [Duration; 4] = [
    Duration::from_secs(60),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 60 * 60),
];

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Smtp(#[from] SmtpError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{}", self.text())]
    PasswordUnreadable,
    #[error("{}", self.text())]
    Keys(#[source] CryptoError),
    #[error("{}", self.text())]
    NoIdentity,
    #[error("{}", self.text())]
    NoAccount,
    #[error("{}", self.text())]
    Settings(Text),
    /// The provider's sign-in (OAuth 2.0) could not give an access token.
    #[error(transparent)]
    OAuth(#[from] crate::oauth::OAuthError),
}

impl From<sqlx::Error> for SubmitError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(error.into())
    }
}

impl SubmitError {
    /// What went wrong, in words, for the person who sent the message.
    pub fn text(&self) -> Text {
        match self {
            Self::Connect(e) => e.text(),
            Self::Smtp(e) => e.text(),
            Self::OAuth(e) => e.text(),
            Self::Store(_) => Text::new("send-not-recorded"),
            Self::PasswordUnreadable => Text::new("send-password-unreadable"),
            Self::Keys(e) => Text::new("keys-unreadable").with("problem", e.to_string()),
            Self::NoIdentity => Text::new("send-no-identity"),
            Self::NoAccount => Text::new("send-no-account"),
            Self::Settings(problem) => {
                Text::new("send-settings-invalid").with("problem", problem.clone())
            }
        }
    }

    /// What kind of failure it is, in the vocabulary fetching uses too.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Connect(e) => e.class(),
            Self::Smtp(e) if e.is_auth() => ErrorClass::Auth,
            Self::Smtp(e) if e.is_tls() => ErrorClass::Tls,
            Self::Smtp(SmtpError::Timeout(_)) => ErrorClass::Timeout,
            Self::Smtp(SmtpError::Connect(_) | SmtpError::Io { .. } | SmtpError::Closed(_)) => {
                ErrorClass::Network
            }
            Self::Smtp(e) if e.is_transient() => ErrorClass::SysTemp,
            Self::Smtp(e) if e.code().is_some() => ErrorClass::SysPerm,
            Self::Smtp(_) => ErrorClass::Protocol,
            Self::Store(_) => ErrorClass::Database,
            Self::PasswordUnreadable => ErrorClass::PasswordUnreadable,
            Self::Keys(_) => ErrorClass::Keys,
            Self::NoIdentity | Self::NoAccount | Self::Settings(_) => ErrorClass::Settings,
            Self::OAuth(e) if e.needs_sign_in() => ErrorClass::Auth,
            Self::OAuth(crate::oauth::OAuthError::Unreachable(_)) => ErrorClass::Network,
            Self::OAuth(e) if e.is_transient() => ErrorClass::Database,
            Self::OAuth(_) => ErrorClass::Settings,
        }
    }

    /// Worth trying again later without anyone changing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Connect(e) => e.is_transient(),
            Self::Smtp(e) => e.is_transient(),
            Self::Store(_) | Self::Keys(_) => true,
            Self::OAuth(e) => e.is_transient(),
            _ => false,
        }
    }
}

/// How the submitter signs in to the SMTP server.
#[derive(Debug)]
pub enum SignIn {
    Password(Credentials),
    /// The account's provider sign-in (OAuth 2.0): its POP3 user name and a fresh token.
    Token {
        username: String,
        access_token: Secret,
        mechanism: crate::sasl::OAuthMechanism,
    },
}

/// Everything a submission needs, shared by every worker of a process.
#[derive(Debug, Clone)]
pub struct Submitter {
    pub pool: PgPool,
    pub keys: Arc<Keys>,
    pub connector: Connector,
    pub timeouts: smtp::Timeouts,
    pub retry_delays: Vec<Duration>,
    /// Names this process in leases.
    pub owner: String,
    /// Fresh access tokens for accounts that sign in with their provider.
    pub oauth: crate::oauth::OAuth,
    webpki: Arc<rustls::ClientConfig>,
}

impl Submitter {
    pub fn new(
        pool: PgPool,
        keys: Arc<Keys>,
        connector: Connector,
        owner: String,
    ) -> Result<Self, SubmitError> {
        Ok(Self {
            oauth: crate::oauth::OAuth::new(Default::default(), connector.clone(), None),
            pool,
            keys,
            connector,
            timeouts: smtp::Timeouts::default(),
            retry_delays: DEFAULT_RETRY_DELAYS.to_vec(),
            owner,
            webpki: tls::client_config(&Trust::WebPki).map_err(SmtpError::from)?,
        })
    }

    fn options(&self, settings: &IdentitySettings) -> Result<smtp::Options, SubmitError> {
        let tls = match (&settings.tls_ca_pem, &settings.tls_pin_sha256) {
            (Some(pem), _) => {
                tls::client_config(&Trust::CustomCa(pem.clone())).map_err(SmtpError::from)?
            }
            (None, Some(pin)) => tls::client_config(&Trust::PinnedSha256(
                tls::parse_pin(pin).map_err(SubmitError::Settings)?,
            ))
            .map_err(SmtpError::from)?,
            (None, None) => Arc::clone(&self.webpki),
        };
        let domain = settings
            .from_address
            .rsplit_once('@')
            .map_or("", |(_, domain)| domain);
        let mut options = smtp::Options::new(settings.smtp_security, &Trust::WebPki, domain)?;
        options.tls = tls;
        options.timeouts = self.timeouts;
        Ok(options)
    }

    /// Connects through the checked connector, settles TLS and signs in.
    pub async fn open(
        &self,
        settings: &IdentitySettings,
        sign_in: &SignIn,
    ) -> Result<Session<TcpStream>, SubmitError> {
        let options = self.options(settings)?;
        let tcp = self
            .connector
            .connect(&settings.smtp_host, settings.smtp_port)
            .await?;
        let mut session = Session::start(tcp, &settings.smtp_host, &options).await?;
        match sign_in {
            SignIn::Password(credentials) => session.login(credentials, settings.smtp_auth).await?,
            SignIn::Token {
                username,
                access_token,
                mechanism,
            } => {
                let token = crate::sasl::OAuthToken {
                    username,
                    access_token,
                    host: &settings.smtp_host,
                    port: settings.smtp_port,
                };
                session.login_oauth(&token, *mechanism).await?;
            }
        }
        Ok(session)
    }

    /// "Test sending": signs in and says goodbye; nothing is sent.
    pub async fn test(
        &self,
        settings: &IdentitySettings,
        sign_in: &SignIn,
    ) -> Result<SendingReport, SubmitError> {
        let session = self.open(settings, sign_in).await?;
        let report = SendingReport {
            tls_version: session.tls().map(|info| info.version.clone()),
            max_message_bytes: session.extensions().size,
            auth: session.extensions().auth.clone(),
        };
        session.quit().await;
        Ok(report)
    }

    /// The login an account's identity uses: its own, or the POP3 one.
    pub async fn credentials(
        &self,
        user_id: uuid::Uuid,
        account_id: uuid::Uuid,
    ) -> Result<(IdentitySettings, SignIn), SubmitError> {
        let mut conn = crate::store::acquire(&self.pool).await?;
        let identity = identities::get(&mut conn, user_id, account_id)
            .await?
            .ok_or(SubmitError::NoIdentity)?;
        let credentials = self
            .login(&mut conn, user_id, account_id, SmtpLogin::Keep)
            .await?;
        Ok((identity.settings(), credentials))
    }

    /// "Test sending" with settings not saved (yet): signs in as `login` says, sends nothing.
    pub async fn test_unsaved(
        &self,
        user_id: uuid::Uuid,
        account_id: uuid::Uuid,
        settings: &IdentitySettings,
        login: SmtpLogin<'_>,
    ) -> Result<SendingReport, SubmitError> {
        let mut conn = crate::store::acquire(&self.pool).await?;
        let credentials = self.login(&mut conn, user_id, account_id, login).await?;
        drop(conn);
        self.test(settings, &credentials).await
    }

    /// The user name and password for `login`: given, or the stored SMTP login (`Keep`,
    /// which is the POP3 one when the identity has none of its own), or the POP3 one.
    async fn login(
        &self,
        conn: &mut sqlx::PgConnection,
        user_id: uuid::Uuid,
        account_id: uuid::Uuid,
        login: SmtpLogin<'_>,
    ) -> Result<SignIn, SubmitError> {
        let ring = self.keys.current().map_err(SubmitError::Keys)?;
        let unreadable = |e| match e {
            StoreError::Crypto(_) => SubmitError::PasswordUnreadable,
            other => SubmitError::Store(other),
        };
        match login {
            SmtpLogin::Own { username, password } => {
                return Ok(SignIn::Password(Credentials {
                    username: username.to_owned(),
                    password: password.clone(),
                }));
            }
            SmtpLogin::Keep => {
                let stored = identities::password(conn, &ring, user_id, account_id)
                    .await
                    .map_err(unreadable)?;
                if let Some(password) = stored {
                    let identity = identities::get(conn, user_id, account_id)
                        .await?
                        .ok_or(SubmitError::NoIdentity)?;
                    return Ok(SignIn::Password(Credentials {
                        username: identity.smtp_username.unwrap_or_default(),
                        password,
                    }));
                }
            }
            SmtpLogin::SameAsPop3 => {}
        }
        let account = accounts::get(conn, user_id, account_id)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => SubmitError::NoAccount,
                other => other.into(),
            })?;
        if let Some(mechanism) = account.auth_method.oauth() {
            // The provider's one grant covers sending too (its scopes include SMTP).
            let access_token = self
                .oauth
                .access_token(&self.pool, &self.keys, account_id)
                .await?;
            return Ok(SignIn::Token {
                username: account.username,
                access_token,
                mechanism,
            });
        }
        let password: Secret = accounts::password(conn, &ring, user_id, account_id)
            .await
            .map_err(unreadable)?;
        Ok(SignIn::Password(Credentials {
            username: account.username,
            password,
        }))
    }

    /// One attempt at a claimed message, recorded. Returns what was recorded, or `None`
    /// when the lease was lost on the way (another worker decides then).
    pub async fn submit(&self, claimed: &Claimed) -> Result<Option<Outcome>, StoreError> {
        let outcome = match self.attempt(claimed).await {
            Ok(Attempt::Sent(reply)) => Outcome::Sent { reply },
            Ok(Attempt::LeaseLost) => return Ok(None),
            Err(Failure::Unknown(e)) => Outcome::Uncertain {
                error: Text::new("send-uncertain").with("problem", e.text()),
            },
            Err(Failure::NotSent(e)) => self.after_failure(claimed, &e),
        };
        tracing::info!(
            outbox_id = %claimed.id,
            attempt = claimed.attempts,
            outcome = outcome_name(&outcome),
            "submission attempt ended"
        );
        // The parse of a large message is CPU work; it must not hold a runtime thread.
        let copy = match (&outcome, claimed.account_id) {
            (Outcome::Sent { .. }, Some(account_id)) => {
                let raw = claimed.raw.clone();
                let parsed = tokio::task::spawn_blocking(move || {
                    let fields = crate::mail::fields::parse(&raw);
                    (raw, fields)
                })
                .await;
                match parsed {
                    Ok((raw, fields)) => Some((
                        account_id,
                        messages::NewMessage {
                            uidl: messages::sent_uidl(claimed.id),
                            raw,
                            fields,
                        },
                    )),
                    // The state must be recorded whatever happens to the copy.
                    Err(error) => {
                        tracing::error!(outbox_id = %claimed.id, %error, "no copy of a sent message");
                        None
                    }
                }
            }
            _ => None,
        };
        // The state and the copy in Sent commit together: a sent message is never missing
        // from the combined views, and never there twice.
        let mut tx = self.pool.begin().await?;
        let recorded = outbox::finish(&mut tx, claimed.id, &self.owner, &outcome).await?;
        if recorded && let Some((account_id, message)) = &copy {
            messages::insert(
                &mut tx,
                claimed.user_id,
                *account_id,
                OffsetDateTime::now_utc(),
                message,
                messages::Origin::Sent {
                    outbox_id: claimed.id,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(recorded.then_some(outcome))
    }

    fn after_failure(&self, claimed: &Claimed, error: &SubmitError) -> Outcome {
        let reply = match error {
            SubmitError::Smtp(e) if e.code().is_some() => Some(e.to_string()),
            _ => None,
        };
        let attempt = usize::try_from(claimed.attempts).unwrap_or(usize::MAX);
        match self.retry_delays.get(attempt.saturating_sub(1)) {
            Some(delay) if error.is_transient() => Outcome::Retry {
                error: error.text(),
                class: error.class(),
                reply,
                retry_at: OffsetDateTime::now_utc() + *delay,
            },
            _ => Outcome::Failed {
                error: error.text(),
                class: error.class(),
                reply,
            },
        }
    }

    async fn attempt(&self, claimed: &Claimed) -> Result<Attempt, Failure> {
        let account_id = claimed
            .account_id
            .ok_or(Failure::NotSent(SubmitError::NoAccount))?;
        let (settings, credentials) = self
            .credentials(claimed.user_id, account_id)
            .await
            .map_err(Failure::NotSent)?;
        let mut session = self
            .open(&settings, &credentials)
            .await
            .map_err(Failure::NotSent)?;
        drop(credentials);
        let envelope = Envelope {
            from: claimed.envelope_from.clone(),
            to: claimed.envelope_to.clone(),
        };
        let size = u64::try_from(claimed.raw.len()).unwrap_or(u64::MAX);
        let data = session
            .begin(&envelope, size)
            .await
            .map_err(|e| Failure::NotSent(e.into()))?;
        let body = data
            .send_body(&claimed.raw)
            .await
            .map_err(|e| Failure::NotSent(e.into()))?;
        // The line of no return is the final dot: from there the server may deliver.
        // Recorded first, so a crash from now on leaves "may have been sent", never a
        // silent second copy; a crash before it leaves a queued message that is retried.
        let mut conn = crate::store::acquire(&self.pool)
            .await
            .map_err(|e| Failure::NotSent(e.into()))?;
        let held = outbox::mark_submitting(&mut conn, claimed.id, &self.owner)
            .await
            .map_err(|e| Failure::NotSent(e.into()))?;
        drop(conn);
        if !held {
            return Ok(Attempt::LeaseLost);
        }
        let accepted = body.finish().await;
        let result = match accepted {
            Ok(reply) => Ok(Attempt::Sent(reply.to_string())),
            Err(SendError::NotSent(e)) => Err(Failure::NotSent(e.into())),
            Err(SendError::Unknown(e)) => Err(Failure::Unknown(e)),
        };
        session.quit().await;
        result
    }
}

enum Attempt {
    Sent(String),
    LeaseLost,
}

enum Failure {
    NotSent(SubmitError),
    Unknown(SmtpError),
}

fn outcome_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Sent { .. } => "sent",
        Outcome::Retry { .. } => "retry",
        Outcome::Failed { .. } => "failed",
        Outcome::Uncertain { .. } => "uncertain",
    }
}

/// What "Test sending" found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendingReport {
    /// `None` for a plaintext connection.
    pub tls_version: Option<String>,
    /// The server's SIZE limit, when it announced one.
    pub max_message_bytes: Option<u64>,
    pub auth: Vec<String>,
}
