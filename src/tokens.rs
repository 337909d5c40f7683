//! Personal API tokens: the rules shared by the CLI, the web settings page and the API.
//!
//! A token is `trb_` and 43 characters of URL-safe base64 (256 random bits). Only its
//! SHA-256 is stored, so a database leak hands out no working token; the token itself is
//! shown once, when it is created.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::crypto::{self, Secret};
use crate::store::api_tokens::{self, ApiToken, Scope};
use crate::store::{self, StoreError};

pub const TOKEN_PREFIX: &str = "trb_";
const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{0}")]
    InvalidName(&'static str),
    #[error("no user with this email")]
    NoSuchUser,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] crypto::CryptoError),
}

/// A token just made: the secret to show once, and what was stored.
#[derive(Debug)]
pub struct CreatedToken {
    pub token: Secret,
    pub record: ApiToken,
}

/// The stored form of a token.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

pub fn check_name(name: &str) -> Result<String, TokenError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(TokenError::InvalidName(
            "give the token a name, e.g. \"backup script\"",
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(TokenError::InvalidName(
            "a token name has at most 100 characters and no control characters",
        ));
    }
    Ok(name.to_owned())
}

pub async fn create(
    conn: &mut PgConnection,
    user_id: Uuid,
    name: &str,
    scope: Scope,
) -> Result<CreatedToken, TokenError> {
    let name = check_name(name)?;
    let random = crypto::random_bytes::<32>()?;
    let token = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
    );
    let record = api_tokens::create(conn, user_id, &name, scope, &hash(&token)).await?;
    Ok(CreatedToken {
        token: Secret::new(token),
        record,
    })
}

/// For the CLI: the user by email, then [`create`].
pub async fn create_for_email(
    conn: &mut PgConnection,
    email: &str,
    name: &str,
    scope: Scope,
) -> Result<CreatedToken, TokenError> {
    let user = store::users::find_by_email(conn, email.trim())
        .await?
        .ok_or(TokenError::NoSuchUser)?;
    create(conn, user.id, name, scope).await
}

/// The live token a request presents, if any.
pub async fn authenticate(
    conn: &mut PgConnection,
    presented: &str,
) -> Result<Option<ApiToken>, StoreError> {
    if !presented.starts_with(TOKEN_PREFIX) || presented.len() > 200 {
        return Ok(None);
    }
    let found = api_tokens::find(conn, &hash(presented)).await?;
    if let Some(token) = &found {
        api_tokens::touch(conn, token.id).await?;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("  ").is_err());
        assert!(check_name(&"x".repeat(101)).is_err());
        assert!(check_name("a\nb").is_err());
        assert_eq!(check_name(" backup ").expect("valid"), "backup");
        assert_eq!(hash("a"), hash("a"));
        assert_ne!(hash("a"), hash("b"));
    }
}

/// Requests per token: a bucket of `burst` that refills at `per_minute` (per process).
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    burst: u32,
    buckets: Mutex<HashMap<Uuid, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute.max(1),
            burst: per_minute.clamp(1, 120),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the token's bucket, or says how many seconds to wait.
    pub fn check(&self, token: Uuid) -> Result<(), u64> {
        let now = Instant::now();
        let rate = f64::from(self.per_minute) / 60.0;
        let mut buckets = match self.buckets.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Forget idle tokens now and then so the map stays small.
        if buckets.len() > 10_000 {
            buckets.retain(|_, (_, at)| now.duration_since(*at) < Duration::from_secs(600));
        }
        let (tokens, at) = buckets.entry(token).or_insert((f64::from(self.burst), now));
        *tokens =
            (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(f64::from(self.burst));
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - *tokens) / rate).ceil().max(1.0);
            Err(wait as u64)
        }
    }
}
