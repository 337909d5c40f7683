//! Creating users and changing their passwords: the rules shared by the CLI and the web.

use crate::i18n::Text;
use sqlx::PgConnection;

use crate::crypto::{self, CryptoError, Secret};
use crate::store::{self, StoreError, users::NewUser, users::User};

pub const MIN_PASSWORD_CHARS: usize = 10;
/// Hashing cost grows with length; nobody types more than this.
pub const MAX_PASSWORD_BYTES: usize = 1024;
const MAX_EMAIL_BYTES: usize = 254;

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("{0}")]
    InvalidEmail(Text),
    #[error("{0}")]
    WeakPassword(Text),
    #[error("{}", self.text())]
    EmailTaken,
    #[error("no user with this email")]
    NoSuchUser,
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl From<StoreError> for UserError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(_) => Self::EmailTaken,
            StoreError::NotFound => Self::NoSuchUser,
            other => Self::Store(other),
        }
    }
}

impl UserError {
    /// What the person is told about a refused address or password, in words.
    pub fn text(&self) -> Text {
        match self {
            Self::InvalidEmail(text) | Self::WeakPassword(text) => text.clone(),
            Self::EmailTaken => Text::new("user-email-taken"),
            Self::NoSuchUser => Text::new("user-unknown"),
            Self::Store(_) | Self::Crypto(_) => Text::new("error-internal-text"),
        }
    }
}

/// A sign-in address: trimmed, one `@`, a dotted domain, no spaces.
pub fn normalize_email(email: &str) -> Result<String, UserError> {
    let email = email.trim();
    if email.is_empty() {
        return Err(UserError::InvalidEmail(Text::new("user-email-missing")));
    }
    if email.len() > MAX_EMAIL_BYTES {
        return Err(UserError::InvalidEmail(Text::new("user-email-too-long")));
    }
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if !valid {
        return Err(UserError::InvalidEmail(Text::new("user-email-invalid")));
    }
    Ok(email.to_owned())
}

pub fn check_password(password: &Secret) -> Result<(), UserError> {
    let chars = password.expose().chars().count();
    if chars < MIN_PASSWORD_CHARS || password.expose().trim().is_empty() {
        return Err(UserError::WeakPassword(
            Text::new("user-password-short").with("count", MIN_PASSWORD_CHARS),
        ));
    }
    if password.expose().len() > MAX_PASSWORD_BYTES {
        return Err(UserError::WeakPassword(
            Text::new("user-password-long").with("count", MAX_PASSWORD_BYTES),
        ));
    }
    Ok(())
}

async fn hash(password: &Secret) -> Result<String, UserError> {
    check_password(password)?;
    // argon2 takes tens of milliseconds of CPU: keep it off the async workers.
    let password = password.clone();
    tokio::task::spawn_blocking(move || crypto::hash_password(&password))
        .await
        .map_err(|_| UserError::Crypto(CryptoError::PasswordHash))?
        .map_err(UserError::from)
}

pub async fn create(
    conn: &mut PgConnection,
    email: &str,
    password: &Secret,
    is_admin: bool,
) -> Result<User, UserError> {
    let email = normalize_email(email)?;
    let password_hash = hash(password).await?;
    Ok(store::users::create(
        conn,
        &NewUser {
            email: &email,
            password_hash: &password_hash,
            is_admin,
        },
    )
    .await?)
}

/// Creates the first, admin, user; `None` if someone else got there first.
pub async fn create_first_admin(
    conn: &mut PgConnection,
    email: &str,
    password: &Secret,
) -> Result<Option<User>, UserError> {
    let email = normalize_email(email)?;
    let password_hash = hash(password).await?;
    Ok(store::users::create_first(
        conn,
        &NewUser {
            email: &email,
            password_hash: &password_hash,
            is_admin: true,
        },
    )
    .await?)
}

/// A dummy hash verified when no user has the typed email, so a failed sign-in takes the
/// same time whether or not the address exists.
static ABSENT_USER_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    crypto::hash_password(&Secret::new("no user has this password")).unwrap_or_default()
});

/// Why a sign-in failed. Both look the same to the person signing in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInRefusal {
    WrongCredentials,
    Disabled,
}

/// Checks an email and password. The argon2 work runs off the async workers.
pub async fn authenticate(
    conn: &mut PgConnection,
    email: &str,
    password: &Secret,
) -> Result<Result<User, SignInRefusal>, UserError> {
    // No account's address holds a control character (normalize_email), and PostgreSQL
    // text cannot hold NUL: such an address is simply nobody's.
    let found = if email.trim().is_empty()
        || email.contains(char::is_control)
        || password.expose().len() > MAX_PASSWORD_BYTES
    {
        None
    } else {
        store::users::find_for_login(conn, email.trim()).await?
    };
    let hash = found.as_ref().map(|(_, hash)| hash.clone());
    let typed = password.clone();
    let matches = tokio::task::spawn_blocking(move || {
        let hash = hash.unwrap_or_else(|| ABSENT_USER_HASH.clone());
        crypto::verify_password(&typed, &hash)
    })
    .await
    .map_err(|_| UserError::Crypto(CryptoError::PasswordHash))?;
    Ok(match found {
        Some((user, _)) if matches && user.disabled_at.is_none() => Ok(user),
        Some((user, _)) if matches && user.disabled_at.is_some() => Err(SignInRefusal::Disabled),
        _ => Err(SignInRefusal::WrongCredentials),
    })
}

/// Sets a user's password by id (the user themself, or an administrator's reset).
pub async fn set_password(
    conn: &mut PgConnection,
    user_id: uuid::Uuid,
    password: &Secret,
) -> Result<(), UserError> {
    let password_hash = hash(password).await?;
    store::users::set_password_hash(conn, user_id, &password_hash).await?;
    Ok(())
}

pub async fn change_password(
    conn: &mut PgConnection,
    email: &str,
    password: &Secret,
) -> Result<User, UserError> {
    let user = store::users::find_by_email(conn, email.trim())
        .await?
        .ok_or(UserError::NoSuchUser)?;
    let password_hash = hash(password).await?;
    store::users::set_password_hash(conn, user.id, &password_hash).await?;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked() {
        assert_eq!(
            normalize_email("  ann@example.org ").expect("valid"),
            "ann@example.org"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.org",
            "ann@example",
            "a b@example.org",
            "a@b@c.org",
            "ann@.org",
            "ann@example.",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn passwords_are_checked() {
        assert!(check_password(&Secret::new("short")).is_err());
        assert!(check_password(&Secret::new("          ")).is_err());
        assert!(check_password(&Secret::new("x".repeat(MAX_PASSWORD_BYTES + 1))).is_err());
        assert!(check_password(&Secret::new("long enough pw")).is_ok());
    }
}
