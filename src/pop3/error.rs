//! The one error type of the POP3 layer, classified by what the caller must do
//! (STYLE principle 5): fix the password, wait and retry, or give up.

use std::fmt;
use std::time::Duration;

use crate::i18n::{Text, io_text};
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

impl Phase {
    /// The step as a part of a sentence ("timed out during the TLS handshake").
    pub fn text(self) -> Text {
        Text::new(match self {
            Self::Connect => "phase-connect",
            Self::TlsHandshake => "phase-tls",
            Self::Read => "phase-read",
            Self::Write => "phase-write",
            Self::Session => "phase-session",
        })
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.text().fmt(f)
    }
}

/// Every variant words itself through [`Pop3Error::text`], so logs, pages and the
/// command line say the same thing, each reader in their language.
#[derive(Debug)]
pub enum Pop3Error {
    Connect(std::io::Error),
    Timeout(Phase),
    Io(std::io::Error),
    Closed,
    Tls(Text),
    /// The server's certificate was refused; the certificate is kept for the person to
    /// review ("trust this certificate").
    Certificate(Box<crate::tls::CertificateRefused>),
    StartTlsNotOffered,
    StartTlsRefused(ServerText),
    PlaintextRefused,
    Protocol(String),
    LineTooLong(usize),
    TooManyEntries(usize),
    Auth(ServerText),
    InUse(ServerText),
    LoginDelay {
        /// From `[LOGIN-DELAY n]` when the server says how long, else from the CAPA value.
        wait: Option<Duration>,
        text: ServerText,
    },
    SysTemp(ServerText),
    SysPerm(ServerText),
    Unsupported(&'static str),
    Command {
        command: &'static str,
        text: ServerText,
    },
}

impl Pop3Error {
    /// What went wrong, in words (the server's own answer kept as it is).
    pub fn text(&self) -> Text {
        let server = |id, text: &ServerText| Text::new(id).with("server", text);
        match self {
            Self::Connect(e) => Text::new("mail-connection-failed").with("problem", io_text(e)),
            Self::Timeout(phase) => Text::new("mail-timed-out").with("phase", phase.text()),
            Self::Io(e) => Text::new("pop3-network").with("problem", io_text(e)),
            Self::Closed => Text::new("pop3-closed"),
            Self::Tls(problem) => Text::new("mail-tls-error").with("problem", problem.clone()),
            Self::Certificate(refused) => refused.text.clone(),
            Self::StartTlsNotOffered => Text::new("pop3-stls-not-offered"),
            Self::StartTlsRefused(text) => server("mail-stls-refused", text),
            Self::PlaintextRefused => Text::new("mail-plaintext-refused"),
            Self::Protocol(detail) => Text::new("pop3-protocol").with("problem", detail),
            Self::LineTooLong(limit) => Text::new("mail-line-too-long").with("count", *limit),
            Self::TooManyEntries(limit) => Text::new("pop3-too-many").with("count", *limit),
            Self::Auth(text) => server("pop3-auth", text),
            Self::InUse(text) => server("pop3-in-use", text),
            Self::LoginDelay { text, .. } => server("pop3-login-delay", text),
            Self::SysTemp(text) => server("pop3-sys-temp", text),
            Self::SysPerm(text) => server("pop3-sys-perm", text),
            Self::Unsupported(feature) => Text::new("pop3-unsupported").with("feature", *feature),
            Self::Command { command, text } => {
                server("pop3-command-failed", text).with("command", *command)
            }
        }
    }
}

impl fmt::Display for Pop3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.text().fmt(f)
    }
}

impl std::error::Error for Pop3Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Connect(e) | Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<crate::tls::TlsError> for Pop3Error {
    fn from(error: crate::tls::TlsError) -> Self {
        match error {
            crate::tls::TlsError::Timeout => Self::Timeout(Phase::TlsHandshake),
            crate::tls::TlsError::Certificate(refused) => Self::Certificate(refused),
            other => Self::Tls(other.text()),
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
