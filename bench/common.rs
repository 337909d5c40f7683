//! What the store benchmarks (`seed_accounts`, `store_floor`) share: their arguments,
//! the service's own database and key (DATABASE_URL, TRIBUTARY_MASTER_KEY) and a plain
//! account to start from.

use std::sync::Arc;

use sqlx::PgPool;
use tributary::config::Config;
use tributary::crypto::{KeyRing, Keys, Secret};
use tributary::store::{self, accounts};
use uuid::Uuid;

/// The command line after `cargo bench`'s own `--bench` flag.
pub fn args() -> Vec<String> {
    std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect()
}

/// The database (migrated), the current key and the id of the user `owner_email`.
pub async fn open(
    owner_email: &str,
) -> Result<(PgPool, Arc<KeyRing>, Uuid), Box<dyn std::error::Error>> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    let (keys, _) = Keys::load(config.master_key.clone())?;
    let ring = keys.current()?;
    let pool = store::connect(&config.database_url).await?;
    store::migrate(&pool).await?;
    let mut conn = pool.acquire().await?;
    let owner = store::users::find_by_email(&mut conn, owner_email)
        .await?
        .ok_or("no such owner")?;
    Ok((pool, ring, owner.id))
}

/// The password of every benchmark account.
pub fn password() -> Secret {
    Secret::new("benchpw")
}

/// A plaintext account keeping mail on the server (its password: [`password`]).
pub fn account(username: &str, host: &str, port: u16) -> accounts::AccountSettings {
    accounts::AccountSettings {
        label: username.to_owned(),
        color: "#3b6fd4".into(),
        email: format!("{username}@example.org"),
        host: host.to_owned(),
        port,
        security: accounts::Security::PlaintextDangerous,
        auth_method: accounts::AuthMethod::UserPass,
        username: username.to_owned(),
        tls_ca_pem: None,
        tls_pin_sha256: None,
        leave_on_server: accounts::LeavePolicy::Keep,
        delete_after_days: None,
        import_mode: accounts::ImportMode::All,
        poll_minutes: None,
        max_message_bytes: None,
    }
}
