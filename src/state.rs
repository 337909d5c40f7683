//! What every request handler — pages and API alike — can reach.

use std::sync::Arc;

use sqlx::PgPool;

use crate::config::Config;
use crate::crypto::Keys;
use crate::first_run::SetupGate;
use crate::tokens::RateLimiter;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub pool: PgPool,
    pub keys: Arc<Keys>,
    pub config: Arc<Config>,
    pub setup: Arc<SetupGate>,
    /// The fetch engine, for "check now", connection tests and `/metrics`.
    pub fetcher: Arc<crate::fetch::Fetcher>,
    /// The "Add account" wizard's server discovery.
    pub autodetect: Arc<crate::fetch::autodetect::Autodetect>,
    /// Requests per API token.
    pub api_limiter: Arc<RateLimiter>,
}
