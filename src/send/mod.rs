//! Sending: the finished message built from what the person wrote ([`compose`]), and the
//! exactly-once submission of the outbox through each account's SMTP server
//! ([`submitter`]: one attempt; [`worker`]: the loop that claims due messages);
//! [`autodetect`] finds a domain's submission server.

pub mod autodetect;
pub mod compose;
pub mod submitter;
pub mod worker;

pub use submitter::{SendingReport, SubmitError, Submitter};
