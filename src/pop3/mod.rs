//! Our own async POP3 client (DESIGN §5). Knows nothing of PostgreSQL or HTTP.
//!
//! Layers, bottom up: [`dot`] (streaming dot-unstuffing) and [`response`] (sans-IO reply
//! parsing) → [`command`] (encoding) → [`connection`] (buffered I/O with deadlines, generic
//! over the stream) → [`tls`] (trust and handshake) → [`client`] (typed session states).

pub mod client;
pub mod command;
pub mod connection;
pub mod dot;
pub mod error;
pub mod response;
pub mod tls;

pub use client::{
    AuthMethod, Authorization, Credentials, Limits, OAuthMechanism, OAuthToken, RetrOutcome,
    Retrieval, Security, Session, SessionOptions, Stream, Timeouts, Transaction, connect,
};
pub use error::{Phase, Pop3Error, ServerText};
pub use response::Capabilities;
pub use tls::{TlsInfo, Trust};
