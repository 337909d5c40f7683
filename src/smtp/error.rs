//! The SMTP layer's one error type, classified by what the caller must do: fix the
//! settings or the message (permanent), try again later (transient), or ask the person
//! (a submission whose outcome is unknown).

use std::fmt;

use crate::server_text::ServerText;

/// The step that was running when time ran out or the connection failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Connect,
    TlsHandshake,
    Greeting,
    Command(&'static str),
    /// Sending the message itself, after `354`.
    Message,
    /// Waiting for the answer to the final dot.
    FinalReply,
    Session,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect => f.write_str("connecting"),
            Self::TlsHandshake => f.write_str("the TLS handshake"),
            Self::Greeting => f.write_str("waiting for the server's greeting"),
            Self::Command(command) => write!(f, "waiting for the answer to {command}"),
            Self::Message => f.write_str("sending the message"),
            Self::FinalReply => f.write_str("waiting for the server to accept the message"),
            Self::Session => f.write_str("the whole session"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    #[error("connection failed: {0}")]
    Connect(#[source] std::io::Error),
    #[error("timed out during {0}")]
    Timeout(Step),
    #[error("network error during {step}: {source}")]
    Io {
        step: Step,
        #[source]
        source: std::io::Error,
    },
    #[error("the server closed the connection during {0}")]
    Closed(Step),
    #[error("TLS error: {0}")]
    Tls(String),
    #[error("the server does not offer STARTTLS; refusing to continue without encryption")]
    StartTlsNotOffered,
    #[error("the server refused STARTTLS: {0}")]
    StartTlsRefused(ServerText),
    #[error("refusing to send credentials over an unencrypted connection (choose TLS or STARTTLS)")]
    PlaintextRefused,
    #[error("the server does not speak SMTP as expected: {0}")]
    Protocol(String),
    #[error("the server sent a line longer than {0} bytes")]
    LineTooLong(usize),
    #[error("the server does not offer {0} sign-in")]
    AuthUnsupported(&'static str),
    #[error("the server rejected the sign-in ({code}): {text}")]
    Auth { code: u16, text: ServerText },
    #[error("the server refused {command} ({code}): {text}")]
    Rejected {
        command: &'static str,
        code: u16,
        text: ServerText,
    },
    #[error("the server refused the recipient {recipient} ({code}): {text}")]
    RecipientRejected {
        recipient: String,
        code: u16,
        text: ServerText,
    },
    #[error("the message is {size} bytes; the server accepts at most {limit}")]
    TooLarge { size: u64, limit: u64 },
    #[error("{0}")]
    Invalid(String),
}

impl From<crate::tls::TlsError> for SmtpError {
    fn from(error: crate::tls::TlsError) -> Self {
        match error {
            crate::tls::TlsError::Timeout => Self::Timeout(Step::TlsHandshake),
            other => Self::Tls(other.to_string()),
        }
    }
}

impl SmtpError {
    /// The server's reply code, when the error is one.
    pub fn code(&self) -> Option<u16> {
        match self {
            Self::Auth { code, .. }
            | Self::Rejected { code, .. }
            | Self::RecipientRejected { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Trying again later may work: a 4xx answer, or the network.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Connect(_) | Self::Timeout(_) | Self::Io { .. } | Self::Closed(_) => true,
            _ => self.code().is_some_and(|code| (400..500).contains(&code)),
        }
    }

    /// The connection could not be made secure as the settings ask (certificate, missing
    /// or refused STARTTLS, or credentials that would go out unencrypted).
    pub fn is_tls(&self) -> bool {
        matches!(
            self,
            Self::Tls(_)
                | Self::StartTlsNotOffered
                | Self::StartTlsRefused(_)
                | Self::PlaintextRefused
        )
    }

    /// The user name or password (or the sign-in method) is wrong.
    pub fn is_auth(&self) -> bool {
        matches!(self, Self::Auth { .. } | Self::AuthUnsupported(_)) && !self.is_transient()
    }
}

/// How a submission that did not end in `250` ended.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The server has definitely not taken the message: it answered the final dot with an
    /// error, or the transaction failed before the dot was sent.
    #[error(transparent)]
    NotSent(SmtpError),
    /// The final dot was sent (or may have been) and no answer came: the server may have
    /// delivered the message. Never retried without the person's say.
    #[error("the message may have been sent: {0}")]
    Unknown(SmtpError),
}

impl SendError {
    pub fn error(&self) -> &SmtpError {
        match self {
            Self::NotSent(e) | Self::Unknown(e) => e,
        }
    }
}
