//! `tributary account …` and `tributary fetch`: accounts for scripts and admins before
//! (and beside) the REST API, and one fetch on demand.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Subcommand;
use sqlx::PgPool;
use uuid::Uuid;

use super::error::CliError;
use super::pop3::{EXIT_AUTH, EXIT_PROTOCOL, EXIT_TEMPORARY, EXIT_TLS, Server};
use crate::accounts::{AccountDraft, AccountService, parse_leave};
use crate::app::App;
use crate::config::Config;
use crate::crypto::Keys;
use crate::fetch::{self, Fetcher};
use crate::model::{ErrorClass, ImportMode, LeavePolicy, RunOutcome, Trigger};
use crate::net::Connector;
use crate::store::{self, accounts::Account};

/// How long a command waits for a POP3 server to accept the connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Add a remote POP3 account to a user and print its id.
    Add(AddArgs),
    /// List every account with its state and next check.
    Status,
    /// Set how an account sends (its SMTP submission server and From), then test signing
    /// in; nothing is sent.
    Sending(super::send::SendingArgs),
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The Tributary user (sign-in email) who owns the account.
    #[arg(long)]
    user: String,
    #[command(flatten)]
    server: Server,
    /// The user name on the POP3 server.
    #[arg(long)]
    username: String,
    /// Read the POP3 password from the first line of standard input.
    #[arg(long, required = true)]
    password_stdin: bool,
    /// keep, delete, or days:N (delete N days after fetching).
    #[arg(long, default_value = "keep", value_parser = parse_leave)]
    leave_on_server: (LeavePolicy, Option<i32>),
    /// all: fetch what is already there; new: only mail that arrives from now on.
    #[arg(long, value_enum, default_value_t = ImportMode::All)]
    import: ImportMode,
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

/// The account service for a command, on the engine a `serve` would build.
async fn service(config: &Config) -> Result<(PgPool, Arc<Fetcher>), CliError> {
    let pool = store::connect(&config.database_url).await?;
    store::migrate(&pool).await?;
    let (keys, _) = Keys::load(config.master_key.clone())?;
    let connector = Connector::new(config.allow_private_hosts, CONNECT_TIMEOUT);
    let mut fetcher = Fetcher::new(
        pool.clone(),
        Arc::new(keys),
        connector.clone(),
        config.max_message_bytes,
    )?;
    fetcher.set_write_budget(config.fetch_memory_bytes);
    // Accounts that sign in with their provider get fresh tokens here as under `serve`.
    fetcher.oauth = crate::oauth::OAuth::new(
        config.oauth.clone(),
        connector,
        config.public_url.as_deref(),
    );
    Ok((pool, Arc::new(fetcher)))
}

pub async fn run(command: AccountCommand, config: Config) -> Result<(), CliError> {
    if let AccountCommand::Sending(args) = command {
        return super::send::configure(args, config).await;
    }
    let (pool, fetcher) = service(&config).await?;
    let mut conn = store::acquire(&pool).await?;
    match command {
        AccountCommand::Sending(_) => {}
        AccountCommand::Add(args) => {
            let email = args.user.trim();
            let user = store::users::find_by_email(&mut conn, email)
                .await?
                .ok_or_else(|| CliError::Refused(format!("no user with the email {email}")))?;
            drop(conn);
            let tls_ca_pem = args.server.ca_pem().map_err(CliError::Refused)?;
            let (leave_on_server, delete_after_days) = args.leave_on_server;
            let address = args.email.clone().unwrap_or_else(|| {
                if args.username.contains('@') {
                    args.username.clone()
                } else {
                    String::new()
                }
            });
            let draft = AccountDraft {
                label: args.label,
                port: args.server.port,
                security: args.server.security,
                auth_method: args.server.auth,
                password: Some(super::read_password(true)?),
                tls_ca_pem,
                tls_pin_sha256: args.server.pin,
                leave_on_server,
                delete_after_days,
                import_mode: args.import,
                poll_minutes: args.poll_minutes,
                ..AccountDraft::new(&address, &args.server.host, &args.username)
            };
            let account = AccountService::new(fetcher).create(user.id, draft).await?;
            println!("{}", account.id);
        }
        AccountCommand::Status => {
            let all = store::fetch::all_accounts(&mut conn).await?;
            println!(
                "{:<36} {:<28} {:<26} {:<10} {:<20} LAST ERROR",
                "ID", "LABEL", "SERVER", "STATE", "NEXT CHECK"
            );
            let now = time::OffsetDateTime::now_utc();
            for account in all {
                println!(
                    "{:<36} {:<28} {:<26} {:<10} {:<20} {}",
                    account.id,
                    truncate(&account.label, 28),
                    truncate(&format!("{}:{}", account.host, account.port), 26),
                    state_word(&account),
                    next_check(&account, now),
                    account.last_error_message.as_deref().unwrap_or("-")
                );
            }
        }
    }
    Ok(())
}

/// The STATE column: for operators, so failures show their count.
fn state_word(account: &Account) -> String {
    if !account.enabled {
        "disabled".to_owned()
    } else if let Some(reason) = account.paused_reason {
        format!("paused:{}", reason.as_str())
    } else if account.consecutive_failures > 0 {
        format!("failing:{}", account.consecutive_failures)
    } else {
        "ok".to_owned()
    }
}

fn next_check(account: &Account, now: time::OffsetDateTime) -> String {
    if account.paused_reason.is_some() || !account.enabled {
        return "-".to_owned();
    }
    let seconds = (account.next_check_at - now).whole_seconds();
    if seconds <= 0 {
        "due now".to_owned()
    } else {
        format!("in {}m{:02}s", seconds / 60, seconds % 60)
    }
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
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

async fn fetch_one_inner(account_id: Uuid, config: Config) -> Result<ExitCode, CliError> {
    let (pool, fetcher) = service(&config).await?;
    let settings = App::scheduler_settings(&config).lease;
    let Some(account) =
        store::fetch::claim_one(&pool, &settings.owner, settings.lease, account_id).await?
    else {
        return Err(if store::accounts::exists(&pool, account_id).await? {
            CliError::Busy(
                "the account is being fetched by another worker right now; try again shortly"
                    .into(),
            )
        } else {
            CliError::Usage("no account with this id".into())
        });
    };
    let (_never, stop) = tokio::sync::watch::channel(false);
    let outcome = fetch::fetch_account(&fetcher, &settings, account, Trigger::Manual, stop).await?;
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
