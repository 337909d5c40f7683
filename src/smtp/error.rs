//! The SMTP layer's one error type, classified by what the caller must do: fix the
//! settings or the message (permanent), try again later (transient), or ask the person
//! (a submission whose outcome is unknown).

use std::fmt;

use crate::i18n::{Text, io_text};
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

impl Step {
    /// The step as a part of a sentence ("timed out during the TLS handshake").
    pub fn text(self) -> Text {
        match self {
            Self::Connect => Text::new("phase-connect"),
            Self::TlsHandshake => Text::new("phase-tls"),
            Self::Greeting => Text::new("phase-greeting"),
            Self::Command(command) => Text::new("phase-answer-to").with("command", command),
            Self::Message => Text::new("phase-message"),
            Self::FinalReply => Text::new("phase-final-reply"),
            Self::Session => Text::new("phase-session"),
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.text().fmt(f)
    }
}

/// Every variant words itself through [`SmtpError::text`], so logs, pages and the
/// command line say the same thing, each reader in their language.
#[derive(Debug)]
pub enum SmtpError {
    Connect(std::io::Error),
    Timeout(Step),
    Io {
        step: Step,
        source: std::io::Error,
    },
    Closed(Step),
    Tls(Text),
    StartTlsNotOffered,
    StartTlsRefused(ServerText),
    PlaintextRefused,
    Protocol(String),
    LineTooLong(usize),
    AuthUnsupported(&'static str),
    Auth {
        code: u16,
        text: ServerText,
    },
    Rejected {
        command: &'static str,
        code: u16,
        text: ServerText,
    },
    RecipientRejected {
        recipient: String,
        code: u16,
        text: ServerText,
    },
    TooLarge {
        size: u64,
        limit: u64,
    },
    /// The message cannot be sent as it is (no recipient, an address SMTP cannot carry).
    Invalid(Text),
}

impl SmtpError {
    /// What went wrong, in words (the server's own answer kept as it is).
    pub fn text(&self) -> Text {
        let server = |id, code: &u16, text: &ServerText| {
            Text::new(id).with("code", *code).with("server", text)
        };
        match self {
            Self::Connect(e) => Text::new("mail-connection-failed").with("problem", io_text(e)),
            Self::Timeout(step) => Text::new("mail-timed-out").with("phase", step.text()),
            Self::Io { step, source } => Text::new("smtp-network")
                .with("phase", step.text())
                .with("problem", io_text(source)),
            Self::Closed(step) => Text::new("smtp-closed").with("phase", step.text()),
            Self::Tls(problem) => Text::new("mail-tls-error").with("problem", problem.clone()),
            Self::StartTlsNotOffered => Text::new("smtp-stls-not-offered"),
            Self::StartTlsRefused(text) => Text::new("mail-stls-refused").with("server", text),
            Self::PlaintextRefused => Text::new("mail-plaintext-refused"),
            Self::Protocol(detail) => Text::new("smtp-protocol").with("problem", detail),
            Self::LineTooLong(limit) => Text::new("mail-line-too-long").with("count", *limit),
            Self::AuthUnsupported(method) => {
                Text::new("smtp-auth-unsupported").with("feature", *method)
            }
            Self::Auth { code, text } => server("smtp-auth", code, text),
            Self::Rejected {
                command,
                code,
                text,
            } => server("smtp-rejected", code, text).with("command", *command),
            Self::RecipientRejected {
                recipient,
                code,
                text,
            } => server("smtp-recipient-rejected", code, text).with("recipient", recipient),
            Self::TooLarge { size, limit } => Text::new("smtp-too-large")
                .with("size", *size)
                .with("limit", *limit),
            Self::Invalid(text) => text.clone(),
        }
    }
}

impl fmt::Display for SmtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.text().fmt(f)
    }
}

impl std::error::Error for SmtpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Connect(e) | Self::Io { source: e, .. } => Some(e),
            _ => None,
        }
    }
}

impl From<crate::tls::TlsError> for SmtpError {
    fn from(error: crate::tls::TlsError) -> Self {
        match error {
            crate::tls::TlsError::Timeout => Self::Timeout(Step::TlsHandshake),
            other => Self::Tls(other.text()),
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
    #[error("{}", Text::new("smtp-maybe-sent").with("problem", .0.text()))]
    Unknown(SmtpError),
}

impl SendError {
    pub fn error(&self) -> &SmtpError {
        match self {
            Self::NotSent(e) | Self::Unknown(e) => e,
        }
    }
}
