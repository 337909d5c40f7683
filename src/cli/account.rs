//! `tributary account …` and `tributary fetch`: accounts for scripts and admins before
//! (and beside) the REST API, and one fetch on demand.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;
use uuid::Uuid;

use super::pop3::{EXIT_AUTH, EXIT_FAILURE, EXIT_PROTOCOL, EXIT_TEMPORARY, EXIT_TLS, EXIT_USAGE};
use crate::accounts::{self, AccountInput, LeaveInput};
use crate::app::App;
use crate::config::Config;
use crate::crypto::Keys;
use crate::fetch::{self, Connector, Fetcher};
use crate::model::{AuthMethod, ErrorClass, ImportMode, RunOutcome, Security, Trigger};
use crate::store::{self, accounts as account_store};

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Add a remote POP3 account to a user and print its id.
    Add(AddArgs),
    /// List every account with its state and next check.
    Status,
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The Tributary user (sign-in email) who owns the account.
    #[arg(long)]
    user: String,
    #[arg(long)]
    host: String,
    /// Defaults to 995 with --security tls, else 110.
    #[arg(long)]
    port: Option<u16>,
    #[arg(long, value_enum, default_value_t = Security::Tls)]
    security: Security,
    /// The user name on the POP3 server.
    #[arg(long)]
    username: String,
    /// Read the POP3 password from the first line of standard input.
    #[arg(long, required = true)]
    password_stdin: bool,
    #[arg(long, value_enum, default_value_t = AuthMethod::UserPass)]
    auth: AuthMethod,
    /// keep, delete, or days:N (delete N days after fetching).
    #[arg(long, default_value = "keep")]
    leave_on_server: LeaveInput,
    /// all: fetch what is already there; new: only mail that arrives from now on.
    #[arg(long, value_enum, default_value_t = ImportMode::All)]
    import: ImportMode,
    /// Trust this CA certificate (PEM file) instead of the web PKI roots.
    #[arg(long, conflicts_with = "pin")]
    ca: Option<PathBuf>,
    /// Accept exactly the certificate with this SHA-256 fingerprint.
    #[arg(long)]
    pin: Option<String>,
    /// A name for the account (defaults to the address).
    #[arg(long)]
    label: Option<String>,
    /// The address this mailbox receives (shown in the inbox).
    #[arg(long)]
    email: Option<String>,
    /// Check every N minutes instead of adapting to how often mail arrives.
    #[arg(long)]
    poll_minutes: Option<i32>,
}

pub async fn run(command: AccountCommand, config: Config) -> Result<(), String> {
    let pool = store::connect(&config.database_url)
        .await
        .map_err(|e| e.to_string())?;
    store::migrate(&pool).await.map_err(|e| e.to_string())?;
    let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
    match command {
        AccountCommand::Add(args) => {
            let user = store::users::find_by_email(&mut conn, args.user.trim())
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no user with the email {}", args.user.trim()))?;
            let tls_ca_pem = match &args.ca {
                Some(path) => Some(
                    std::fs::read_to_string(path)
                        .map_err(|e| format!("--ca {}: {e}", path.display()))?,
                ),
                None => None,
            };
            let password = super::read_password(true)?;
            let input = AccountInput {
                label: args.label,
                color: None,
                email: args.email.unwrap_or_else(|| {
                    if args.username.contains('@') {
                        args.username.clone()
                    } else {
                        String::new()
                    }
                }),
                host: args.host,
                port: args.port,
                security: args.security,
                auth_method: args.auth,
                username: args.username,
                password,
                tls_ca_pem,
                tls_pin_sha256: args.pin,
                leave_on_server: args.leave_on_server,
                import_mode: args.import,
                poll_minutes: args.poll_minutes,
                max_message_bytes: None,
            };
            let new = accounts::validate(input).map_err(|e| e.to_string())?;
            let (keys, _) = Keys::load(config.master_key.clone()).map_err(|e| e.to_string())?;
            let ring = keys.current().map_err(|e| e.to_string())?;
            let account = account_store::create(&mut conn, &ring, user.id, &new)
                .await
                .map_err(|e| e.to_string())?;
            println!("{}", account.id);
        }
        AccountCommand::Status => {
            let all = store::fetch::all_accounts(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "{:<36} {:<28} {:<26} {:<10} {:<20} LAST ERROR",
                "ID", "LABEL", "SERVER", "STATE", "NEXT CHECK"
            );
            let now = time::OffsetDateTime::now_utc();
            for account in all {
                let state = if !account.enabled {
                    "disabled".to_owned()
                } else if let Some(reason) = &account.paused_reason {
                    format!("paused:{}", reason.as_str())
                } else if account.consecutive_failures > 0 {
                    format!("failing:{}", account.consecutive_failures)
                } else {
                    "ok".to_owned()
                };
                let next = if account.paused_reason.is_some() || !account.enabled {
                    "-".to_owned()
                } else {
                    let seconds = (account.next_check_at - now).whole_seconds();
                    if seconds <= 0 {
                        "due now".to_owned()
                    } else {
                        format!("in {}m{:02}s", seconds / 60, seconds % 60)
                    }
                };
                println!(
                    "{:<36} {:<28} {:<26} {:<10} {:<20} {}",
                    account.id,
                    truncate(&account.label, 28),
                    truncate(&format!("{}:{}", account.host, account.port), 26),
                    state,
                    next,
                    account.last_error_message.as_deref().unwrap_or("-")
                );
            }
        }
    }
    Ok(())
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(width - 1).collect();
        out.push('…');
        out
    }
}

/// `tributary fetch --account ID`. Exit codes as `tributary pop3`: 3 login rejected,
/// 4 TLS, 5 temporary, 6 other server or settings problem.
pub async fn fetch_one(account_id: Uuid, config: Config) -> ExitCode {
    match fetch_one_inner(account_id, config).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

async fn fetch_one_inner(account_id: Uuid, config: Config) -> Result<ExitCode, String> {
    let pool = store::connect(&config.database_url)
        .await
        .map_err(|e| e.to_string())?;
    store::migrate(&pool).await.map_err(|e| e.to_string())?;
    let (keys, _) = Keys::load(config.master_key.clone()).map_err(|e| e.to_string())?;
    let mut fetcher = Fetcher::new(
        pool.clone(),
        Arc::new(keys),
        Connector::new(
            config.allow_private_hosts,
            std::time::Duration::from_secs(20),
        ),
        config.max_message_bytes,
    )
    .map_err(|e| e.to_string())?;
    fetcher.set_write_budget(config.fetch_memory_bytes);
    let settings = App::scheduler_settings(&config).lease;
    let Some(account) = store::fetch::claim_one(&pool, &settings.owner, settings.lease, account_id)
        .await
        .map_err(|e| e.to_string())?
    else {
        let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
        let exists: Option<(bool,)> = sqlx::query_as("SELECT true FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| e.to_string())?;
        eprintln!(
            "error: {}",
            if exists.is_some() {
                "the account is being fetched by another worker right now; try again shortly"
            } else {
                "no account with this id"
            }
        );
        return Ok(ExitCode::from(if exists.is_some() {
            EXIT_TEMPORARY
        } else {
            EXIT_USAGE
        }));
    };
    let (_never, stop) = tokio::sync::watch::channel(false);
    let outcome = fetch::fetch_account(&fetcher, &settings, account, Trigger::Manual, stop)
        .await
        .map_err(|e| e.to_string())?;
    let report = &outcome.report;
    println!(
        "outcome {}: {} message(s), {} byte(s), {} skipped, {} deleted on the server",
        outcome.outcome.as_str(),
        report.messages,
        report.bytes,
        report.skipped,
        report.deleted
    );
    Ok(match &report.error {
        None => ExitCode::SUCCESS,
        Some(error) => {
            println!(
                "error class {}: {}",
                error.class().as_str(),
                error.user_message()
            );
            ExitCode::from(match (outcome.outcome, error.class()) {
                (RunOutcome::AuthError, _) => EXIT_AUTH,
                (_, ErrorClass::Tls) => EXIT_TLS,
                (RunOutcome::TemporaryError, _) => EXIT_TEMPORARY,
                _ => EXIT_PROTOCOL,
            })
        }
    })
}
