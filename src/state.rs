//! What every request handler — pages and API alike — can reach.

use std::sync::Arc;

use sqlx::PgPool;

use crate::config::Config;
use crate::crypto::Keys;
use crate::first_run::SetupGate;
use crate::store::{self, Conn, StoreError};
use crate::tokens::RateLimiter;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub pool: PgPool,
    pub keys: Arc<Keys>,
    pub config: Arc<Config>,
    pub setup: Arc<SetupGate>,
    /// The account workflows (add, change, test, check now, …).
    pub accounts: crate::accounts::AccountService,
    /// The sending workflows (identities, drafts, the outbox).
    pub sending: crate::sending::SendingService,
    /// The fetch engine, for `/metrics`.
    pub fetcher: Arc<crate::fetch::Fetcher>,
    /// The "Add account" wizard's server discovery.
    pub autodetect: Arc<crate::fetch::autodetect::Autodetect>,
    /// Requests per API token.
    pub api_limiter: Arc<RateLimiter>,
}

impl AppState {
    /// A database connection for a handler: `state.db().await?`.
    pub async fn db(&self) -> Result<Conn, StoreError> {
        store::acquire(&self.pool).await
    }
}
