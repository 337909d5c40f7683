//! Everything a run needs, shared by every worker of a process: the pool, the key ring,
//! the checked connector, limits and TLS settings; and "Test connection", which uses the
//! same settings without storing anything.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sha2::{Digest, Sha256};

use sqlx::PgPool;
use time::OffsetDateTime;

use super::FetchError;
use super::metrics::Metrics;
use super::writer::{DEFAULT_WRITERS, WriteBudget};
use crate::crypto::{Keys, Secret};
use crate::net::Connector;
use crate::pop3::{self, Credentials, Pop3Error, Session, SessionOptions, Trust, tls};
use crate::store::accounts::{Account, AccountSettings, Security};

/// Bytes of fetched-but-not-yet-stored mail the whole process may hold in memory, all runs
/// together (`TRIBUTARY_FETCH_MEMORY_MB`). A message larger than this still passes, alone.
pub const DEFAULT_WRITE_BUDGET: usize = 256 * 1024 * 1024;
/// How long a run may go on after its POP3 deadlines (connect, handshake, session) to store
/// what it fetched; past that it is stopped, whatever it waits for.
pub const DEFAULT_RUN_GRACE: Duration = Duration::from_secs(5 * 60);
/// Where "now" comes from, so "delete after N days" can be tested without waiting.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> OffsetDateTime;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// What "Test connection" signs in with.
#[derive(Debug, Clone, Copy)]
pub enum SignInWith<'a> {
    Password(&'a Secret),
    /// The provider's access token (OAuth 2.0), presented with this SASL mechanism.
    Token {
        access_token: &'a Secret,
        mechanism: crate::sasl::OAuthMechanism,
    },
}

/// Everything a run needs, shared by every worker of a process.
#[derive(Debug, Clone)]
pub struct Fetcher {
    pub pool: PgPool,
    pub keys: Arc<Keys>,
    pub connector: Connector,
    pub max_message_bytes: u64,
    pub timeouts: pop3::Timeouts,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    /// Database connections one run stores through at once.
    pub writers: usize,
    /// See [`DEFAULT_RUN_GRACE`] and [`Fetcher::run_limit`].
    pub run_grace: Duration,
    pub(super) write_budget: WriteBudget,
    /// Fresh access tokens for accounts that sign in with their provider (OAuth 2.0).
    pub oauth: crate::oauth::OAuth,
    /// Built once: parsing the web PKI roots for every run would cost more than the run.
    webpki: Arc<rustls::ClientConfig>,
    /// The configurations of custom CAs and pins, built once each and shared by every
    /// run that trusts the same: a configuration keeps its TLS sessions, so the next run
    /// to that server resumes instead of a full handshake (and the PEM is not parsed on
    /// every poll).
    trusted: Arc<Mutex<HashMap<[u8; 32], Arc<rustls::ClientConfig>>>>,
}

/// Custom-trust configurations kept at most (a cache: beyond it, it starts afresh).
const MAX_TRUST_CONFIGS: usize = 4096;

impl Fetcher {
    pub fn new(
        pool: PgPool,
        keys: Arc<Keys>,
        connector: Connector,
        max_message_bytes: u64,
    ) -> Result<Self, FetchError> {
        Ok(Self {
            oauth: crate::oauth::OAuth::new(Default::default(), connector.clone(), None),
            pool,
            keys,
            connector,
            max_message_bytes,
            timeouts: pop3::Timeouts::default(),
            clock: Arc::new(SystemClock),
            metrics: Arc::new(Metrics::default()),
            writers: DEFAULT_WRITERS,
            run_grace: DEFAULT_RUN_GRACE,
            write_budget: WriteBudget::new(DEFAULT_WRITE_BUDGET),
            webpki: tls::client_config(&Trust::WebPki)?,
            trusted: Arc::default(),
        })
    }

    /// Sets the memory budget shared by every run of this fetcher (and its clones).
    pub fn set_write_budget(&mut self, bytes: usize) {
        self.write_budget = WriteBudget::new(bytes);
    }

    /// Bytes of the write budget not held by a message on its way to the store.
    pub fn write_budget_available(&self) -> usize {
        self.write_budget.available()
    }

    /// The longest a run may take: its POP3 deadlines plus the grace to store what it
    /// fetched. A run stalled anywhere else (a database that stops answering, say) ends
    /// here instead of renewing its lease for ever.
    pub fn run_limit(&self) -> Duration {
        self.timeouts.connect + self.timeouts.tls_handshake + self.timeouts.session + self.run_grace
    }

    pub(super) fn session_options(&self, account: &Account) -> Result<SessionOptions, FetchError> {
        self.options_for(
            account.security,
            account.tls_ca_pem.as_deref(),
            account.tls_pin_sha256.as_deref(),
            account.max_message_bytes,
        )
    }

    fn options_for(
        &self,
        security: Security,
        tls_ca_pem: Option<&str>,
        tls_pin_sha256: Option<&str>,
        max_message_bytes: Option<i64>,
    ) -> Result<SessionOptions, FetchError> {
        let tls = match (tls_ca_pem, tls_pin_sha256) {
            (Some(pem), _) => self.trusting(Trust::CustomCa(pem.to_owned()))?,
            (None, Some(pin)) => self.trusting(Trust::PinnedSha256(
                tls::parse_pin(pin).map_err(FetchError::Settings)?,
            ))?,
            (None, None) => Arc::clone(&self.webpki),
        };
        let max_message_bytes = max_message_bytes
            .and_then(|limit| u64::try_from(limit).ok())
            .unwrap_or(self.max_message_bytes);
        Ok(SessionOptions {
            security,
            tls,
            timeouts: self.timeouts,
            limits: pop3::Limits {
                max_message_bytes,
                ..pop3::Limits::default()
            },
            pipelining: true,
        })
    }

    /// The shared configuration for a custom CA or a pin.
    fn trusting(&self, trust: Trust) -> Result<Arc<rustls::ClientConfig>, FetchError> {
        let (kind, value): (&[u8], &[u8]) = match &trust {
            Trust::CustomCa(pem) => (b"ca\0", pem.as_bytes()),
            Trust::PinnedSha256(pin) => (b"pin\0", pin),
            Trust::WebPki => return Ok(Arc::clone(&self.webpki)),
        };
        let key: [u8; 32] = Sha256::new()
            .chain_update(kind)
            .chain_update(value)
            .finalize()
            .into();
        // A panic cannot happen while the map is held, and the map stays valid if one did.
        let trusted = || self.trusted.lock().unwrap_or_else(PoisonError::into_inner);
        let cached = trusted().get(&key).cloned();
        if let Some(config) = cached {
            return Ok(config);
        }
        let config = tls::client_config(&trust)?;
        let mut trusted = trusted();
        if trusted.len() >= MAX_TRUST_CONFIGS {
            trusted.clear();
        }
        trusted.insert(key, Arc::clone(&config));
        Ok(config)
    }

    /// "Test connection": connects through the checked connector, logs in and reads the
    /// mailbox's size, changing nothing on the server. For settings saved or not.
    pub async fn test_connection(
        &self,
        account: &AccountSettings,
        sign_in: SignInWith<'_>,
    ) -> Result<ConnectionReport, FetchError> {
        let options = self.options_for(
            account.security,
            account.tls_ca_pem.as_deref(),
            account.tls_pin_sha256.as_deref(),
            account.max_message_bytes,
        )?;
        let tcp = self.connector.connect(&account.host, account.port).await?;
        let session = Session::start(tcp, &account.host, &options).await?;
        let tls_version = session.tls_info().map(|info| info.version.clone());
        // Before login: servers announce STLS only to a session that can still use it.
        let starttls_offered = tls_version.is_none() && session.capabilities().stls;
        let mut session = match sign_in {
            SignInWith::Password(password) => {
                let credentials = Credentials {
                    username: account.username.clone(),
                    password: password.clone(),
                };
                session.login(&credentials, account.auth_method).await?
            }
            SignInWith::Token {
                access_token,
                mechanism,
            } => {
                let token = crate::sasl::OAuthToken {
                    username: &account.username,
                    access_token,
                    host: &account.host,
                    port: account.port,
                };
                session
                    .login_oauth(&token, mechanism)
                    .await
                    .map_err(|e| match e {
                        Pop3Error::Auth(text) => FetchError::TokenRefused(text),
                        other => other.into(),
                    })?
            }
        };
        let capabilities = session.capabilities().clone();
        let (messages, bytes) = session.stat().await?;
        let _ = session.quit().await;
        let mut names = Vec::new();
        for (present, name) in [
            (capabilities.uidl, "UIDL"),
            (capabilities.top, "TOP"),
            (capabilities.pipelining, "PIPELINING"),
            (capabilities.resp_codes, "RESP-CODES"),
            (capabilities.stls, "STLS"),
        ] {
            if present {
                names.push(name.to_owned());
            }
        }
        for mechanism in &capabilities.sasl {
            names.push(format!("SASL {mechanism}"));
        }
        Ok(ConnectionReport {
            tls_version,
            starttls_offered,
            capabilities: names,
            messages,
            bytes,
        })
    }
}

/// What "Test connection" found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionReport {
    /// `None` for a plaintext connection.
    pub tls_version: Option<String>,
    /// A plaintext connection to a server that offers STARTTLS: it could be encrypted.
    pub starttls_offered: bool,
    pub capabilities: Vec<String>,
    pub messages: u32,
    pub bytes: u64,
}
