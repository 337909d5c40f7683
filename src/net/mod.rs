//! The way out to remote mail servers, shared by fetching (POP3) and sending (SMTP).
//!
//! - [`connector`] — the one checked way to open a connection (DESIGN invariant 7: no SSRF).
//! - [`dns`] — a resolver from the system's settings or one configured DNS server.
//! - [`discover`] — finding a domain's server: SRV records first, then the usual names,
//!   each candidate proven by a protocol's own probe.

pub mod connector;
pub mod discover;
pub mod dns;

pub use connector::{ConnectError, Connector, Resolve};
