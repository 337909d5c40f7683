//! The `tributary` command line.

mod account;
mod error;
mod pop3;
mod send;
mod token;

pub use error::CliError;

use std::io::{BufRead, IsTerminal};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::app::{self, App};
use crate::config::Config;
use crate::crypto::{MasterKey, Secret};
use crate::local_pg::{self, LocalPostgres};
use crate::rotation;
use crate::store;
use crate::telemetry;
use crate::users;

/// Exit code for settings that cannot be used (as clap uses for bad arguments).
const EXIT_CONFIG: u8 = 2;
const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Parser)]
#[command(
    name = "tributary",
    version,
    about = "Pulls mail from your external POP3 accounts into one web inbox.",
    long_about = "Pulls mail from your external POP3 accounts into one web inbox.\n\n\
        Settings come from the environment (DATABASE_URL, TRIBUTARY_LISTEN, \
        TRIBUTARY_MASTER_KEY or TRIBUTARY_MASTER_KEY_FILE, TRIBUTARY_DATA_DIR, …); \
        see README.md for the full table."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server (applies migrations first; prints a setup code on a fresh database).
    Serve,
    /// Create the database if missing and apply all migrations, then exit.
    Migrate,
    /// Print a new random master key (base64), for TRIBUTARY_MASTER_KEY or a key file.
    Keygen,
    /// Move every stored remote password to a new master key, then forget the old keys.
    ///
    /// With a key file (TRIBUTARY_MASTER_KEY_FILE or the data directory's master.key), a new
    /// key is generated and written as the active key; every password is re-sealed under it
    /// in batches; then the old keys are removed from the file. Safe to interrupt: run it
    /// again and it resumes. The running service picks up the changed file by itself.
    ///
    /// With TRIBUTARY_MASTER_KEY, append a key from `tributary keygen` to the variable
    /// (comma-separated; the last key is the active one), restart the service with it,
    /// then run this command to re-seal everything under that key.
    RotateKey,
    /// Manage the people who sign in.
    #[command(subcommand)]
    User(UserCommand),
    /// Talk to a POP3 server directly (no database needed): probe it or download its mail.
    ///
    /// Exit codes: 0 ok, 1 other failure, 2 bad arguments, 3 login rejected, 4 TLS problem,
    /// 5 temporary problem (network, timeout, server busy), 6 protocol error.
    #[command(subcommand)]
    Pop3(pop3::Pop3Command),
    /// Manage remote POP3 accounts (for scripts and admins; users have the web pages).
    #[command(subcommand)]
    Account(account::AccountCommand),
    /// Personal API tokens for the REST API (`Authorization: Bearer …`).
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Fetch one account now, once, and print the outcome.
    ///
    /// Exit codes: 0 ok, 1 other failure, 2 no such account, 3 login rejected, 4 TLS
    /// problem, 5 temporary problem (or the account is being fetched elsewhere right now),
    /// 6 other server or settings problem.
    Fetch {
        #[arg(long)]
        account: uuid::Uuid,
    },
    /// Send one message from an account (text on stdin) and wait for the server's answer.
    ///
    /// Exit codes: 0 sent, 1 may have been sent (no answer came: check before sending
    /// again), 2 bad arguments or message, 5 temporary problem (it stays queued and `serve`
    /// retries it), 6 refused by the server (the message is kept as failed).
    Send(send::SendArgs),
    /// Exit 0 when the local server's /healthz answers 200 (for Docker's HEALTHCHECK).
    Healthcheck {
        /// The URL to ask; by default /healthz on TRIBUTARY_LISTEN (0.0.0.0 becomes 127.0.0.1).
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user. Asks for the password on a terminal, or reads it from stdin.
    Add {
        #[arg(long)]
        email: String,
        /// Allow this user to manage other users.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of standard input (for scripts).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List every user.
    List,
    /// Set a user's password (signs them out everywhere).
    Passwd {
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input (for scripts).
        #[arg(long)]
        password_stdin: bool,
    },
}

/// Parses the command line, runs the command and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(match cli.command {
        Command::Serve => "info,sqlx=warn",
        _ => "warn",
    });
    if let Command::Keygen = cli.command {
        println!("{}", MasterKey::generate().to_base64().as_str());
        return ExitCode::SUCCESS;
    }
    if let Command::Pop3(command) = cli.command {
        return match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime.block_on(pop3::run(command)),
            Err(e) => {
                eprintln!("error: cannot start the async runtime: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let mut config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !matches!(
        cli.command,
        Command::Serve | Command::Keygen | Command::Pop3(_) | Command::Healthcheck { .. }
    ) {
        runtime.block_on(existing_private_database(&mut config));
    }
    if let Command::Fetch { account } = cli.command {
        return runtime.block_on(account::fetch_one(account, config));
    }
    if let Command::Send(args) = cli.command {
        return runtime.block_on(send::send(args, config));
    }
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

async fn run(command: Command, config: Config) -> Result<(), CliError> {
    match command {
        Command::Keygen | Command::Pop3(_) | Command::Fetch { .. } | Command::Send(_) => Ok(()),
        Command::Account(command) => account::run(command, config).await,
        Command::Token(command) => token::run(command, config).await,
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let pool = store::connect(&config.database_url).await?;
            store::migrate(&pool).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::RotateKey => {
            let pool = store::connect(&config.database_url).await?;
            store::migrate(&pool).await?;
            let report = rotation::rotate(&pool, &config.master_key).await?;
            if let Some(id) = &report.generated {
                println!("generated new master key {id}");
            }
            println!(
                "re-sealed {} credential(s) under key {}",
                report.resealed, report.active
            );
            if report.pruned > 0 {
                println!("removed {} old key(s) from the key file", report.pruned);
            } else if config.master_key.path().is_none() {
                println!(
                    "every credential now uses key {}; you may remove the other keys from \
                     TRIBUTARY_MASTER_KEY",
                    report.active
                );
            }
            Ok(())
        }
        Command::User(command) => user(command, config).await,
        Command::Healthcheck { url } => healthcheck(url, &config).await,
    }
}

async fn serve(mut config: Config) -> Result<(), CliError> {
    let shutdown = app::shutdown_signal();
    let local = private_database(&mut config).await?;
    let served = async {
        let listen = config.listen;
        let app = App::build(config).await?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| CliError::io(format!("TRIBUTARY_LISTEN: cannot listen on {listen}"), e))?;
        Ok::<_, CliError>(app.serve(listener, shutdown).await?)
    }
    .await;
    if let Some(local) = local {
        match tokio::task::spawn_blocking(move || local.stop()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "could not stop the private PostgreSQL"),
            Err(error) => tracing::error!(%error, "could not stop the private PostgreSQL"),
        }
    }
    served
}

/// The other commands use the private PostgreSQL a `serve` runs, when that is where the
/// data is (no `DATABASE_URL`, nothing on the default address, a private cluster exists).
async fn existing_private_database(config: &mut Config) {
    if config.database_url_set || config.local_postgres == local_pg::Mode::Never {
        return;
    }
    let Some(url) = LocalPostgres::url_if_initialised(&config.data_dir) else {
        return;
    };
    if config.local_postgres == local_pg::Mode::Always
        || !default_database_usable(&config.database_url).await
    {
        config.database_url = zeroize::Zeroizing::new(url);
    }
}

/// Whether the default address has a PostgreSQL that lets us in. Debian's own `postgresql`
/// service answers there but wants a password over TCP: then the private one is used too.
async fn default_database_usable(url: &str) -> bool {
    use sqlx::Connection as _;
    if !local_pg::answers(crate::config::DEFAULT_DATABASE_ADDRESS).await {
        return false;
    }
    let attempt =
        tokio::time::timeout(Duration::from_secs(5), sqlx::PgConnection::connect(url)).await;
    match attempt {
        Ok(Err(sqlx::Error::Database(e)))
            if matches!(e.code().as_deref(), Some("28P01" | "28000")) =>
        {
            tracing::info!(
                "the PostgreSQL on {} does not let user postgres in without a password: \
                 using a private PostgreSQL instead (or set DATABASE_URL)",
                crate::config::DEFAULT_DATABASE_ADDRESS
            );
            false
        }
        // Connected, or a missing database (created later), or another problem that the
        // start-up reports in its own words.
        _ => true,
    }
}

/// The private PostgreSQL `serve` runs when no database is configured and none answers
/// on the default address (see [`crate::local_pg`]); `config` is pointed at it.
async fn private_database(config: &mut Config) -> Result<Option<LocalPostgres>, CliError> {
    let address = crate::config::DEFAULT_DATABASE_ADDRESS;
    let why = match config.local_postgres {
        _ if config.database_url_set => None,
        local_pg::Mode::Never => None,
        local_pg::Mode::Always => {
            Some("TRIBUTARY_LOCAL_POSTGRES=always asks for a private PostgreSQL".to_owned())
        }
        local_pg::Mode::Auto => (!default_database_usable(&config.database_url).await)
            .then(|| format!("no PostgreSQL that Tributary can use answers at {address}")),
    };
    let Some(why) = why else {
        return Ok(None);
    };
    let data_dir = config.data_dir.clone();
    let programs = config.postgres_bin.clone();
    let local = tokio::task::spawn_blocking(move || {
        LocalPostgres::start(&data_dir, programs.as_deref(), &why)
    })
    .await
    .map_err(|e| CliError::Refused(format!("the private PostgreSQL: {e}")))??;
    config.database_url = zeroize::Zeroizing::new(local.database_url());
    Ok(Some(local))
}

async fn user(command: UserCommand, config: Config) -> Result<(), CliError> {
    let pool = store::connect(&config.database_url).await?;
    store::migrate(&pool).await?;
    let mut conn = store::acquire(&pool).await?;
    match command {
        UserCommand::Add {
            email,
            admin,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            let user = users::create(&mut conn, &email, &password, admin).await?;
            println!(
                "created {}user {}",
                if user.is_admin { "admin " } else { "" },
                user.email
            );
        }
        UserCommand::List => {
            let all = store::users::list(&mut conn).await?;
            println!("{:<40} {:<6} {:<9} CREATED", "EMAIL", "ADMIN", "STATUS");
            for user in all {
                let created = user
                    .created_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default();
                println!(
                    "{:<40} {:<6} {:<9} {}",
                    user.email,
                    if user.is_admin { "yes" } else { "no" },
                    if user.disabled_at.is_some() {
                        "disabled"
                    } else {
                        "active"
                    },
                    created
                );
            }
        }
        UserCommand::Passwd {
            email,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            let user = users::change_password(&mut conn, &email, &password).await?;
            println!("password changed for {}", user.email);
        }
    }
    Ok(())
}

/// From stdin's first line with `--password-stdin`, else asked twice on the terminal.
fn read_password(from_stdin: bool) -> Result<Secret, CliError> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::io("cannot read the password from stdin", e))?;
        let password = Secret::new(line.trim_end_matches(['\r', '\n']));
        line.clear();
        zeroize::Zeroize::zeroize(&mut line);
        return Ok(password);
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Refused(
            "no terminal to ask for the password: pass --password-stdin and pipe it in".into(),
        ));
    }
    let first = Secret::new(
        rpassword::prompt_password("Password: ")
            .map_err(|e| CliError::io("cannot read the password", e))?,
    );
    let second = Secret::new(
        rpassword::prompt_password("Repeat password: ")
            .map_err(|e| CliError::io("cannot read the password", e))?,
    );
    if first != second {
        return Err(CliError::Refused("the two passwords differ".into()));
    }
    Ok(first)
}

/// A minimal HTTP/1.1 GET, so the image needs no curl.
async fn healthcheck(url: Option<String>, config: &Config) -> Result<(), CliError> {
    let (address, path) = match url {
        Some(url) => parse_http_url(&url).map_err(CliError::Refused)?,
        None => (local_address(config.listen), "/healthz".to_owned()),
    };
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(address).await?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {address}\r\nUser-Agent: tributary-healthcheck\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut head = [0u8; 64];
        let mut filled = 0;
        while filled < 12 {
            let n = stream.read(&mut head[filled..]).await?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&head[..filled]).into_owned())
    };
    let head = tokio::time::timeout(HEALTHCHECK_TIMEOUT, exchange)
        .await
        .map_err(|_| {
            CliError::Refused(format!(
                "{address}: no answer within {HEALTHCHECK_TIMEOUT:?}"
            ))
        })?
        .map_err(|e| CliError::io(address.to_string(), e))?;
    let status = head.split(' ').nth(1).unwrap_or("");
    if status == "200" {
        println!("healthy");
        Ok(())
    } else {
        Err(CliError::Refused(format!(
            "unhealthy: {path} answered {status:?}"
        )))
    }
}

/// Where to reach our own listener: a wildcard address means "this host".
fn local_address(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

fn parse_http_url(url: &str) -> Result<(SocketAddr, String), String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        format!("--url: only http://IP:PORT/PATH URLs are supported, got {url:?}")
    })?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_owned()),
        None => (rest, "/healthz".to_owned()),
    };
    let address = authority
        .parse::<SocketAddr>()
        .map_err(|_| format!("--url: expected an IP address and port, got {authority:?}"))?;
    Ok((address, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }

    #[test]
    fn healthcheck_targets() {
        assert_eq!(
            local_address("0.0.0.0:8080".parse().expect("addr")).to_string(),
            "127.0.0.1:8080"
        );
        assert_eq!(
            local_address("[::]:8080".parse().expect("addr")).to_string(),
            "[::1]:8080"
        );
        assert_eq!(
            parse_http_url("http://127.0.0.1:9/x").expect("url"),
            ("127.0.0.1:9".parse().expect("addr"), "/x".to_owned())
        );
        assert!(parse_http_url("https://127.0.0.1:9/").is_err());
    }
}
