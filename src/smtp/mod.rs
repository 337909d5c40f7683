//! Our own async SMTP submission client (RFC 5321, RFC 6409 submission, RFC 8314 implicit
//! TLS, RFC 3207 STARTTLS, RFC 4954 AUTH). Knows nothing of PostgreSQL or HTTP.
//!
//! Layers, bottom up: [`reply`] (sans-IO reply and EHLO parsing) → [`connection`]
//! (buffered I/O with deadlines, dot-stuffing) → [`client`] (a session: security settled
//! first, then AUTH, then one transaction per message). A transaction is split in three
//! ([`client::Session::begin`] → [`client::Data::send_body`] → [`client::Body::finish`])
//! so the caller can record "the message may now be delivered" just before the final dot
//! leaves — the line after which an unanswered submission is of unknown outcome, never
//! silently resent; before it, a failure is certain to have sent nothing.

pub mod client;
pub mod connection;
pub mod error;
pub mod reply;

pub use client::{Body, Credentials, Data, Envelope, Options, Session, SmtpAuth, Timeouts};
pub use error::{SendError, SmtpError, Step};
pub use reply::{Extensions, Reply};
