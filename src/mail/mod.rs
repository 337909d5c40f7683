//! Pure functions over raw messages — no I/O, no database, no HTTP:
//! - [`address`] — addresses people type, checked (RFC 5322, IDN);
//! - [`fields`] — what lists and search need (stored when a message is fetched);
//! - [`display`] — the parts a person reads: text, HTML, attachments;
//! - [`sanitize`] — hostile HTML made inert (ammonia), remote content blocked on request;
//! - [`search`] — the words of a message and of a search, one rule for both;
//! - [`reply`] — what a reply, reply all or forward starts with;
//! - [`text`] — plain text cut into pieces a template renders safely (links, highlights).

pub mod address;
pub mod display;
pub mod fields;
pub mod headers;
pub mod reply;
pub mod sanitize;
pub mod search;
pub mod text;
