//! Tributary: pulls mail from people's external POP3 accounts into one web inbox.
//!
//! Layers, each depending only on those below it:
//! - [`web`] — server-rendered pages, sessions, the router and its layers; [`api`] —
//!   the REST API (JSON, tokens, OpenAPI), nested in that router by [`app`]. Neither uses
//!   the other; both take [`state::AppState`].
//! - [`accounts`] — the account service: every account workflow (add, change, pause,
//!   remove, test, check now), written once for the web, the API and the CLI.
//! - [`users`], [`tokens`], [`first_run`], [`rotation`] — rules shared by the web, the API
//!   and the CLI; [`maintenance`] — background upkeep of stored data.
//! - [`fetch`] — the scheduler and the exactly-once fetch of one account; [`oauth`] —
//!   sign-in with a mail provider (OAuth 2.0 with PKCE) and fresh access tokens for the
//!   fetch engine and the submitter.
//! - [`store`] — PostgreSQL queries, one module per table; migrations in `migrations/`.
//! - [`crypto`] — the master key ring, sealing of remote passwords, user password hashes.
//! - [`mail`] — pure functions over raw messages: fields, display, HTML sanitising;
//!   [`providers`] — what is known of the big mail providers (servers, sign-in, advice).
//! - [`net`] — the checked connector (no SSRF), DNS and server discovery shared by both
//!   clients.
//! - [`pop3`] — our POP3 client; [`smtp`] — our SMTP submission client; [`tls`] — the
//!   trust and handshake both use; [`secret`] — the `Secret` type both share; [`sasl`] —
//!   the OAuth 2.0 sign-in messages both send; [`model`] —
//!   the vocabulary every layer shares (security modes, run outcomes, error classes, …).
//! - [`config`] — settings from the environment; [`app`] wires it all into a server;
//!   [`cli`] is the `tributary` command.

pub mod accounts;
pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod fetch;
pub mod first_run;
pub mod i18n;
pub mod local_pg;
pub mod mail;
pub mod maintenance;
pub mod model;
pub mod net;
pub mod oauth;
pub mod pop3;
pub mod providers;
pub mod rotation;
pub mod sasl;
pub mod secret;
pub mod send;
pub mod sending;
pub mod server_text;
pub mod smtp;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod tls;
pub mod tokens;
pub mod users;
pub mod web;
