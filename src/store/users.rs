//! The `users` table: people who sign in.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{StoreError, is_unique_violation};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub is_admin: bool,
    pub disabled_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

/// A new user. The password arrives already hashed (argon2id, see `crypto::hash_password`).
#[derive(Debug)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub is_admin: bool,
}

const USER_COLUMNS: &str = "id, email, is_admin, disabled_at, created_at";

pub async fn create(conn: &mut PgConnection, new: &NewUser<'_>) -> Result<User, StoreError> {
    sqlx::query_as::<_, User>(
        "INSERT INTO users (email, password_hash, is_admin) VALUES ($1, $2, $3)
         RETURNING id, email, is_admin, disabled_at, created_at",
    )
    .bind(new.email)
    .bind(new.password_hash)
    .bind(new.is_admin)
    .fetch_one(conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e, "users_email_key") {
            StoreError::Conflict("a user with this email")
        } else {
            e.into()
        }
    })
}

/// Creates the first user — only while no user exists. The table lock makes two
/// concurrent set-up attempts (even on two replicas) produce exactly one admin.
/// Returns `None` when a user already exists.
pub async fn create_first(
    conn: &mut PgConnection,
    new: &NewUser<'_>,
) -> Result<Option<User>, StoreError> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    sqlx::query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    if any_exist(&mut tx).await? {
        return Ok(None);
    }
    let user = create(&mut tx, new).await?;
    tx.commit().await?;
    Ok(Some(user))
}

pub async fn any_exist(conn: &mut PgConnection) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users)")
        .fetch_one(conn)
        .await?)
}

pub async fn list(conn: &mut PgConnection) -> Result<Vec<User>, StoreError> {
    Ok(sqlx::query_as::<_, User>(&format!(
        "SELECT {USER_COLUMNS} FROM users ORDER BY created_at, email"
    ))
    .fetch_all(conn)
    .await?)
}

pub async fn find_by_email(
    conn: &mut PgConnection,
    email: &str,
) -> Result<Option<User>, StoreError> {
    Ok(sqlx::query_as::<_, User>(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE lower(email) = lower($1)"
    ))
    .bind(email)
    .fetch_optional(conn)
    .await?)
}

/// The stored password hash of an enabled user, for signing in.
pub async fn password_hash(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1 AND disabled_at IS NULL")
            .bind(user_id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Replaces a user's password hash. Signs the user out everywhere, since a password
/// change is what people do when they fear someone else is signed in.
pub async fn set_password_hash(
    conn: &mut PgConnection,
    user_id: Uuid,
    password_hash: &str,
) -> Result<(), StoreError> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let updated =
        sqlx::query("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1")
            .bind(user_id)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    super::sessions::delete_all_for_user(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(())
}

/// A user and their password hash, for signing in (disabled users included: the caller
/// says why they cannot sign in).
pub async fn find_for_login(
    conn: &mut PgConnection,
    email: &str,
) -> Result<Option<(User, String)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: User,
        password_hash: String,
    }
    let row = sqlx::query_as::<_, Row>(&format!(
        "SELECT {USER_COLUMNS}, password_hash FROM users WHERE lower(email) = lower($1)"
    ))
    .bind(email)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| (row.user, row.password_hash)))
}

/// Disables or re-enables a user. Disabling signs them out everywhere.
pub async fn set_disabled(
    conn: &mut PgConnection,
    user_id: Uuid,
    disabled: bool,
) -> Result<(), StoreError> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let updated = sqlx::query(
        "UPDATE users SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) END,
                          updated_at = now()
         WHERE id = $1",
    )
    .bind(user_id)
    .bind(disabled)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    if disabled {
        super::sessions::delete_all_for_user(&mut tx, user_id).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn get(conn: &mut PgConnection, user_id: Uuid) -> Result<Option<User>, StoreError> {
    Ok(
        sqlx::query_as::<_, User>(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(user_id)
            .fetch_optional(conn)
            .await?,
    )
}

/// The person's interface language and time zone (`None`: follow the browser).
pub async fn set_locale(
    conn: &mut PgConnection,
    user_id: Uuid,
    language: Option<&str>,
    time_zone: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET language = $2, time_zone = $3 WHERE id = $1")
        .bind(user_id)
        .bind(language)
        .bind(time_zone)
        .execute(conn)
        .await?;
    Ok(())
}
