//! `tributary token`: personal API tokens for scripts.

use clap::{Subcommand, ValueEnum};

use super::CliError;
use crate::config::Config;
use crate::store::{self, api_tokens::Scope};
use crate::tokens;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum ScopeArg {
    /// Read accounts and mail.
    Read,
    /// Also add, change and delete them.
    Write,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once (it is stored only as a hash).
    Create {
        /// The user the token acts for.
        #[arg(long)]
        user: String,
        /// What the token is for, e.g. "backup script".
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        scope: ScopeArg,
    },
    /// List a user's tokens (never the tokens themselves).
    List {
        #[arg(long)]
        user: String,
    },
    /// Revoke a token at once.
    Revoke {
        #[arg(long)]
        user: String,
        /// The token's id, as `token list` shows it.
        #[arg(long)]
        id: uuid::Uuid,
    },
}

pub async fn run(command: TokenCommand, config: Config) -> Result<(), CliError> {
    let pool = store::connect(&config.database_url).await?;
    store::migrate(&pool).await?;
    let mut conn = store::acquire(&pool).await?;
    let find_user = |email: String| async move {
        let mut conn = store::acquire(&pool).await?;
        store::users::find_by_email(&mut conn, email.trim())
            .await?
            .ok_or_else(|| CliError::Refused(format!("no user with the email {}", email.trim())))
    };
    match command {
        TokenCommand::Create { user, name, scope } => {
            let scope = match scope {
                ScopeArg::Read => Scope::Read,
                ScopeArg::Write => Scope::Write,
            };
            let created = tokens::create_for_email(&mut conn, &user, &name, scope).await?;
            eprintln!(
                "created token {} ({:?}) for {}; it is shown only this once:",
                created.record.id,
                created.record.scope,
                user.trim()
            );
            println!("{}", created.token.expose());
        }
        TokenCommand::List { user } => {
            let user = find_user(user).await?;
            for token in store::api_tokens::list(&mut conn, user.id).await? {
                println!(
                    "{}\t{:?}\t{}\t{}",
                    token.id,
                    token.scope,
                    if token.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    },
                    token.name
                );
            }
        }
        TokenCommand::Revoke { user, id } => {
            let user = find_user(user).await?;
            store::api_tokens::revoke(&mut conn, user.id, id)
                .await
                .map_err(|e| match e {
                    store::StoreError::NotFound => {
                        CliError::Refused(format!("{} has no token {id}", user.email))
                    }
                    other => other.into(),
                })?;
            eprintln!("revoked token {id}");
        }
    }
    Ok(())
}
