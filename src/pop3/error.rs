//! The one error type of the POP3 layer, classified by what the caller must do
//! (STYLE principle 5): fix the password, wait and retry, or give up.

use std::fmt;
use std::time::Duration;

pub use crate::server_text::{MAX_SERVER_TEXT_CHARS, ServerText};

/// The step that ran out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Connect,
    TlsHandshake,
    Read,
    Write,
    Session,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connecting",
            Self::TlsHandshake => "the TLS handshake",
            Self::Read => "waiting for the server",
            Self::Write => "sending to the server",
            Self::Session => "the whole session",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Pop3Error {
    #[error("connection failed: {0}")]
    Connect(#[source] std::io::Error),
    #[error("timed out during {0}")]
    Timeout(Phase),
    #[error("network error: {0}")]
    Io(#[source] std::io::Error),
    #[error("the server closed the connection unexpectedly")]
    Closed,
    #[error("TLS error: {0}")]
    Tls(String),
    /// The server's certificate was refused; the certificate is kept for the person to
    /// review ("trust this certificate").
    #[error("{}", .0.text)]
    Certificate(Box<crate::tls::CertificateRefused>),
    #[error("the server does not offer STARTTLS (STLS); refusing to continue without encryption")]
    StartTlsNotOffered,
    #[error("the server refused STARTTLS: {0}")]
    StartTlsRefused(ServerText),
    #[error("refusing to send credentials over an unencrypted connection (choose TLS or STARTTLS)")]
    PlaintextRefused,
    #[error("the server does not speak POP3 as expected: {0}")]
    Protocol(String),
    #[error("the server sent a line longer than {0} bytes")]
    LineTooLong(usize),
    #[error("the server sent more than {0} list entries")]
    TooManyEntries(usize),
    #[error("the server rejected the login: {0}")]
    Auth(ServerText),
    #[error("the mailbox is in use by another session: {0}")]
    InUse(ServerText),
    #[error("the server asks to wait before logging in again: {text}")]
    LoginDelay {
        /// From `[LOGIN-DELAY n]` when the server says how long, else from the CAPA value.
        wait: Option<Duration>,
        text: ServerText,
    },
    #[error("temporary server problem: {0}")]
    SysTemp(ServerText),
    #[error("permanent server problem: {0}")]
    SysPerm(ServerText),
    #[error("the server does not offer {0}")]
    Unsupported(&'static str),
    #[error("{command} failed: {text}")]
    Command {
        command: &'static str,
        text: ServerText,
    },
}

impl From<crate::tls::TlsError> for Pop3Error {
    fn from(error: crate::tls::TlsError) -> Self {
        match error {
            crate::tls::TlsError::Timeout => Self::Timeout(Phase::TlsHandshake),
            crate::tls::TlsError::Certificate(refused) => Self::Certificate(refused),
            other => Self::Tls(other.to_string()),
        }
    }
}

impl Pop3Error {
    /// The credentials are wrong: stop retrying until the user changes them.
    pub fn is_auth(&self) -> bool {
        matches!(self, Self::Auth(_))
    }

    /// Worth retrying later with back-off.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Connect(_)
                | Self::Timeout(_)
                | Self::Io(_)
                | Self::Closed
                | Self::InUse(_)
                | Self::LoginDelay { .. }
                | Self::SysTemp(_)
        )
    }

    pub fn is_in_use(&self) -> bool {
        matches!(self, Self::InUse(_))
    }

    /// How long the server asked us to wait, when it said `[LOGIN-DELAY]`.
    pub fn login_delay(&self) -> Option<Duration> {
        match self {
            Self::LoginDelay { wait, .. } => *wait,
            _ => None,
        }
    }

    /// The refused certificate, when the server's certificate was the problem.
    pub fn refused_certificate(&self) -> Option<&crate::tls::CertificateRefused> {
        match self {
            Self::Certificate(refused) => Some(refused),
            _ => None,
        }
    }

    /// A TLS problem (certificate, handshake, missing or refused STARTTLS).
    pub fn is_tls(&self) -> bool {
        matches!(
            self,
            Self::Tls(_)
                | Self::Certificate(_)
                | Self::StartTlsNotOffered
                | Self::StartTlsRefused(_)
                | Self::PlaintextRefused
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_is_sanitised() {
        let text = ServerText::new(b"bad\r\n2026-01-01 INFO forged\x1b[31m line\x00");
        assert!(
            !text.as_str().contains(['\r', '\n', '\x1b', '\0']),
            "{text:?}"
        );
        let long = ServerText::new(&[b'a'; 1000]);
        assert_eq!(long.as_str().chars().count(), MAX_SERVER_TEXT_CHARS + 1);
        assert_eq!(
            ServerText::new(b"\xff\xfeok").as_str(),
            "\u{fffd}\u{fffd}ok"
        );
    }

    #[test]
    fn errors_are_classified() {
        assert!(Pop3Error::Auth(ServerText::default()).is_auth());
        assert!(!Pop3Error::Auth(ServerText::default()).is_transient());
        assert!(Pop3Error::InUse(ServerText::default()).is_in_use());
        assert!(Pop3Error::InUse(ServerText::default()).is_transient());
        assert!(Pop3Error::SysTemp(ServerText::default()).is_transient());
        assert!(!Pop3Error::SysPerm(ServerText::default()).is_transient());
        let delay = Pop3Error::LoginDelay {
            wait: Some(Duration::from_secs(900)),
            text: ServerText::default(),
        };
        assert_eq!(delay.login_delay(), Some(Duration::from_secs(900)));
        assert!(Pop3Error::StartTlsNotOffered.is_tls());
    }
}
