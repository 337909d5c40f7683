//! The vocabulary every layer shares: how a connection is protected, how to sign in, what
//! happens to mail on the server, how a run ended, why an account waits.
//!
//! Each concept is one enum with one spelling, used by `pop3`, `store`, `fetch`, the web
//! pages, the API and the CLI alike. Its text form (`as_str`, serde, the SQL column, the
//! command-line value) is derived here, once; strings appear only at those edges. This
//! module imports nothing of ours, so the lowest layers may use it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How the connection to a remote server is protected.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    sqlx::Type,
    ToSchema,
    clap::ValueEnum,
)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Implicit TLS (RFC 8314), normally port 995. The default.
    Tls,
    /// A plain connection upgraded with STLS (RFC 2595), normally port 110; never falls
    /// back to plaintext.
    #[sqlx(rename = "starttls")]
    #[serde(rename = "starttls")]
    #[value(name = "starttls")]
    StartTls,
    /// No encryption at all: passwords travel in the clear. Only when explicitly chosen.
    #[sqlx(rename = "plain")]
    #[serde(rename = "plain")]
    #[value(name = "plain")]
    PlaintextDangerous,
}

impl Security {
    pub const ALL: [Self; 3] = [Self::Tls, Self::StartTls, Self::PlaintextDangerous];

    /// The spelling of forms, JSON and SQL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tls => "tls",
            Self::StartTls => "starttls",
            Self::PlaintextDangerous => "plain",
        }
    }

    /// The usual POP3 port for this mode.
    pub fn default_pop3_port(self) -> u16 {
        match self {
            Self::Tls => 995,
            Self::StartTls | Self::PlaintextDangerous => 110,
        }
    }

    /// The usual SMTP submission port for this mode (RFC 8314 §7.3, RFC 6409).
    pub fn default_submission_port(self) -> u16 {
        match self {
            Self::Tls => 465,
            Self::StartTls | Self::PlaintextDangerous => 587,
        }
    }
}

/// How to sign in to an SMTP submission server (RFC 4954).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    sqlx::Type,
    ToSchema,
    clap::ValueEnum,
)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum SmtpAuth {
    /// SASL PLAIN: user name and password in one step. The default.
    #[default]
    Plain,
    /// SASL LOGIN: user name, then password (older servers).
    Login,
}

impl SmtpAuth {
    pub const ALL: [Self; 2] = [Self::Plain, Self::Login];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Login => "login",
        }
    }
}

/// Where an outgoing message stands (see the `outbox` migration for the rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, ToSchema)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum OutboxState {
    Draft,
    Queued,
    Submitting,
    Sent,
    Failed,
    Uncertain,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Queued => "queued",
            Self::Submitting => "submitting",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Uncertain => "uncertain",
        }
    }

    /// Nothing more will happen to it without the person.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Sent | Self::Failed | Self::Uncertain)
    }
}

/// How to log in to a POP3 server. APOP only when chosen: its MD5 digest is weak.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    sqlx::Type,
    ToSchema,
    clap::ValueEnum,
)]
#[sqlx(type_name = "text")]
pub enum AuthMethod {
    /// USER and PASS.
    #[sqlx(rename = "password")]
    #[serde(rename = "password")]
    #[value(name = "user", alias = "password")]
    UserPass,
    /// APOP (MD5 digest; only for servers that need it).
    #[sqlx(rename = "apop")]
    #[serde(rename = "apop")]
    #[value(name = "apop")]
    Apop,
    /// SASL PLAIN.
    #[sqlx(rename = "sasl-plain")]
    #[serde(rename = "sasl-plain")]
    #[value(name = "plain", alias = "sasl-plain")]
    SaslPlain,
    /// SASL LOGIN.
    #[sqlx(rename = "sasl-login")]
    #[serde(rename = "sasl-login")]
    #[value(name = "login", alias = "sasl-login")]
    SaslLogin,
    /// The provider's OAuth 2.0 sign-in, presented as SASL XOAUTH2 (Microsoft, Google).
    /// Set only by the sign-in flow: there is no password to type.
    #[sqlx(rename = "xoauth2")]
    #[serde(rename = "xoauth2")]
    #[value(skip)]
    XOAuth2,
    /// The provider's OAuth 2.0 sign-in, presented as SASL OAUTHBEARER (RFC 7628).
    #[sqlx(rename = "oauthbearer")]
    #[serde(rename = "oauthbearer")]
    #[value(skip)]
    OAuthBearer,
}

impl AuthMethod {
    /// The methods signed in to with a password: what a person may choose in a form.
    pub const ALL: [Self; 4] = [Self::UserPass, Self::Apop, Self::SaslPlain, Self::SaslLogin];

    /// The spelling of forms, JSON and SQL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserPass => "password",
            Self::Apop => "apop",
            Self::SaslPlain => "sasl-plain",
            Self::SaslLogin => "sasl-login",
            Self::XOAuth2 => "xoauth2",
            Self::OAuthBearer => "oauthbearer",
        }
    }

    /// The method of an account that signs in with `mechanism`.
    pub fn for_oauth(mechanism: crate::sasl::OAuthMechanism) -> Self {
        match mechanism {
            crate::sasl::OAuthMechanism::XOAuth2 => Self::XOAuth2,
            crate::sasl::OAuthMechanism::OAuthBearer => Self::OAuthBearer,
        }
    }

    /// The SASL mechanism when the account signs in with an OAuth 2.0 token.
    pub fn oauth(self) -> Option<crate::sasl::OAuthMechanism> {
        match self {
            Self::XOAuth2 => Some(crate::sasl::OAuthMechanism::XOAuth2),
            Self::OAuthBearer => Some(crate::sasl::OAuthMechanism::OAuthBearer),
            _ => None,
        }
    }
}

/// What happens to messages on the server once they are stored here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum LeavePolicy {
    Keep,
    Delete,
    /// Delete a message `delete_after_days` after it was fetched.
    DeleteAfterDays,
}

impl LeavePolicy {
    pub const ALL: [Self; 3] = [Self::Keep, Self::Delete, Self::DeleteAfterDays];

    /// The spelling of JSON and SQL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keep => "keep",
            Self::Delete => "delete",
            Self::DeleteAfterDays => "delete_after_days",
        }
    }
}

/// On the first fetch: download what is already there, or only what arrives later.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    sqlx::Type,
    ToSchema,
    clap::ValueEnum,
)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum ImportMode {
    /// Fetch what is already on the server.
    All,
    /// Only mail that arrives from now on.
    New,
}

impl ImportMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::New => "new",
        }
    }
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, sqlx::Type, ToSchema)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    Schedule,
    /// "Check mail now", or the operator's `tributary fetch`.
    Manual,
}

/// How a run ended, as `fetch_runs.outcome` spells it; `Running` while it goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, sqlx::Type, ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    Running,
    Success,
    Partial,
    AuthError,
    TemporaryError,
    PermanentError,
    Cancelled,
}

impl RunOutcome {
    /// Every way a run can end (not `Running`).
    pub const FINISHED: [Self; 6] = [
        Self::Success,
        Self::Partial,
        Self::AuthError,
        Self::TemporaryError,
        Self::PermanentError,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Success => "success",
            Self::Partial => "partial",
            Self::AuthError => "auth_error",
            Self::TemporaryError => "temporary_error",
            Self::PermanentError => "permanent_error",
            Self::Cancelled => "cancelled",
        }
    }
}

/// What went wrong in a run, by what the owner or the scheduler must do about it: the
/// `last_error_kind` of an account, the `error_kind` of a run and the `class` label of the
/// error metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, sqlx::Type, ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The server rejected the user name or password.
    Auth,
    Tls,
    Timeout,
    Network,
    /// The mailbox is locked by another session (`[IN-USE]`).
    InUse,
    /// The server asks for a pause between logins (`[LOGIN-DELAY]`).
    LoginDelay,
    SysTemp,
    SysPerm,
    Protocol,
    /// The host resolves to an address Tributary may not connect to (SSRF rule).
    RefusedAddress,
    Database,
    /// The stored password cannot be opened with the master key.
    PasswordUnreadable,
    /// The master key ring cannot be read just now.
    Keys,
    /// The account's stored settings cannot be used.
    Settings,
    /// Not an error of the server: the run stopped (lease lost, shutdown).
    Interrupted,
    /// The run stored mail, but something was left for the next one.
    Partial,
}

impl ErrorClass {
    /// The classes a failed fetch can have (`FetchError::class`): what the metrics count.
    pub const FETCH: [Self; 14] = [
        Self::Auth,
        Self::Tls,
        Self::Timeout,
        Self::Network,
        Self::InUse,
        Self::LoginDelay,
        Self::SysTemp,
        Self::SysPerm,
        Self::Protocol,
        Self::RefusedAddress,
        Self::Database,
        Self::PasswordUnreadable,
        Self::Keys,
        Self::Settings,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Tls => "tls",
            Self::Timeout => "timeout",
            Self::Network => "network",
            Self::InUse => "in_use",
            Self::LoginDelay => "login_delay",
            Self::SysTemp => "sys_temp",
            Self::SysPerm => "sys_perm",
            Self::Protocol => "protocol",
            Self::RefusedAddress => "refused_address",
            Self::Database => "database",
            Self::PasswordUnreadable => "password_unreadable",
            Self::Keys => "keys",
            Self::Settings => "settings",
            Self::Interrupted => "interrupted",
            Self::Partial => "partial",
        }
    }
}

/// Why an account waits for its owner instead of being polled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, sqlx::Type, ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum PausedReason {
    /// The server rejected the password.
    Auth,
    /// The server reports a permanent problem with the mailbox (`[SYS/PERM]`).
    Server,
    /// The stored password cannot be opened with the master key.
    PasswordUnreadable,
    /// The provider refused the OAuth 2.0 refresh token (revoked, expired, password
    /// changed): only signing in again helps.
    SignIn,
    /// The account pins a certificate and the server shows another one: someone must
    /// review the new certificate (a renewal, or an attack) before mail flows again.
    CertificateChanged,
}

impl PausedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Server => "server",
            Self::PasswordUnreadable => "password_unreadable",
            Self::SignIn => "sign_in",
            Self::CertificateChanged => "certificate_changed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `as_str` is what SQL and JSON hold: the serde spelling must be the same.
    fn json(value: impl Serialize) -> String {
        serde_json::to_value(value)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    #[test]
    fn every_spelling_of_a_value_is_the_same() {
        for value in Security::ALL {
            assert_eq!(json(value), value.as_str());
        }
        for value in AuthMethod::ALL
            .into_iter()
            .chain([AuthMethod::XOAuth2, AuthMethod::OAuthBearer])
        {
            assert_eq!(json(value), value.as_str());
        }
        for value in LeavePolicy::ALL {
            assert_eq!(json(value), value.as_str());
        }
        for value in [ImportMode::All, ImportMode::New] {
            assert_eq!(json(value), value.as_str());
        }
        for value in RunOutcome::FINISHED
            .into_iter()
            .chain([RunOutcome::Running])
        {
            assert_eq!(json(value), value.as_str());
        }
        for value in ErrorClass::FETCH
            .into_iter()
            .chain([ErrorClass::Interrupted, ErrorClass::Partial])
        {
            assert_eq!(json(value), value.as_str());
        }
        for value in [
            PausedReason::Auth,
            PausedReason::Server,
            PausedReason::PasswordUnreadable,
            PausedReason::SignIn,
            PausedReason::CertificateChanged,
        ] {
            assert_eq!(json(value), value.as_str());
        }
    }

    #[test]
    fn the_command_line_keeps_its_names() {
        use clap::ValueEnum as _;
        let name = |v: AuthMethod| v.to_possible_value().map(|p| p.get_name().to_owned());
        assert_eq!(name(AuthMethod::UserPass).as_deref(), Some("user"));
        assert_eq!(name(AuthMethod::SaslPlain).as_deref(), Some("plain"));
        assert_eq!(
            AuthMethod::from_str("sasl-login", true),
            Ok(AuthMethod::SaslLogin)
        );
        assert_eq!(Security::from_str("starttls", true), Ok(Security::StartTls));
    }
}
