//! Tributary's integration tests: one binary, talking to a real PostgreSQL
//! (a fresh database per test), real HTTP and the real `tributary` executable.

// Helpers fail the test loudly on anything unexpected; that is their job.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod helpers;

mod api;
mod api_sending;
mod autodetect;
mod cli;
mod config_errors;
mod credentials;
mod fetch_cli;
mod fetch_dovecot;
mod fetch_faults;
mod fetch_kill;
mod fetch_limits;
mod fetch_locking;
mod fetch_replicas;
mod fetch_scheduler;
mod first_run;
mod header_corpus;
mod health;
mod isolation;
mod local_postgres;
mod maintenance;
mod migrations;
mod oauth_flow;
mod oauth_sasl;
mod pop3_courier;
mod pop3_dovecot;
mod pop3_faults;
mod rotation;
mod send_cli;
mod send_faults;
mod send_kill;
mod send_postfix;
mod tls_trust;
mod web_accounts;
mod web_auth;
mod web_browser;
mod web_compose;
mod web_french;
mod web_mail;
