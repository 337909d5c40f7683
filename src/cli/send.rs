//! `tributary account sending` (set up and test an account's SMTP identity) and
//! `tributary send` (send one message from a script, and wait for the server's answer).

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use super::error::CliError;
use super::pop3::{EXIT_AUTH, EXIT_FAILURE, EXIT_PROTOCOL, EXIT_TEMPORARY, EXIT_TLS, EXIT_USAGE};
use crate::config::Config;
use crate::crypto::Keys;
use crate::fetch::scheduler::owner_id;
use crate::model::{ErrorClass, OutboxState, Security, SmtpAuth};
use crate::net::Connector;
use crate::send::Submitter;
use crate::send::submitter::lease_for;
use crate::sending::{IdentityDraft, MessageDraft, SendingService};
use crate::store::{self, outbox};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, clap::Args)]
pub struct SendingArgs {
    /// The account that sends.
    #[arg(long)]
    account: Uuid,
    /// The SMTP submission server.
    #[arg(long)]
    smtp_host: String,
    /// Defaults to 465 with --smtp-security tls, else 587.
    #[arg(long)]
    smtp_port: Option<u16>,
    #[arg(long, value_enum, default_value_t = Security::Tls)]
    smtp_security: Security,
    #[arg(long, value_enum, default_value_t = SmtpAuth::Plain)]
    smtp_auth: SmtpAuth,
    /// Trust this CA certificate (PEM file) instead of the web PKI roots.
    #[arg(long, conflicts_with = "pin")]
    ca: Option<PathBuf>,
    /// Accept exactly the certificate with this SHA-256 fingerprint.
    #[arg(long)]
    pin: Option<String>,
    #[arg(long, default_value = "")]
    from_name: String,
    /// Defaults to the account's address.
    #[arg(long)]
    from: Option<String>,
    #[arg(long)]
    reply_to: Option<String>,
    #[arg(long, default_value = "")]
    signature: String,
    /// A separate SMTP user name (its password on stdin); default: the POP3 login.
    #[arg(long, requires = "password_stdin")]
    smtp_user: Option<String>,
    /// Read the SMTP password from the first line of standard input.
    #[arg(long, requires = "smtp_user")]
    password_stdin: bool,
}

#[derive(Debug, clap::Args)]
pub struct SendArgs {
    /// The account to send from (it needs sending settings: `account sending`).
    #[arg(long)]
    account: Uuid,
    /// Recipients, comma-separated.
    #[arg(long)]
    to: String,
    #[arg(long, default_value = "")]
    cc: String,
    #[arg(long, default_value = "")]
    bcc: String,
    #[arg(long, default_value = "")]
    subject: String,
    /// Attach this file (repeatable).
    #[arg(long)]
    attach: Vec<PathBuf>,
}

async fn service(config: &Config) -> Result<SendingService, CliError> {
    let pool = store::connect(&config.database_url).await?;
    store::migrate(&pool).await?;
    let (keys, _) = Keys::load(config.master_key.clone())?;
    let connector = Connector::new(config.allow_private_hosts, CONNECT_TIMEOUT);
    let mut submitter = Submitter::new(pool, Arc::new(keys), connector.clone(), owner_id())
        .map_err(|e| CliError::Refused(e.to_string()))?;
    submitter.oauth = crate::oauth::OAuth::new(
        config.oauth.clone(),
        connector,
        config.public_url.as_deref(),
    );
    Ok(SendingService::new(Arc::new(submitter), config.send_limits))
}

async fn owner(service: &SendingService, account: Uuid) -> Result<Uuid, CliError> {
    let mut conn = store::acquire(&service.submitter().pool).await?;
    store::accounts::owner(&mut conn, account)
        .await?
        .ok_or_else(|| CliError::Usage("no account with this id".into()))
}

/// Saves the identity, then tests it: exit 0 when the server accepted the sign-in.
pub async fn configure(args: SendingArgs, config: Config) -> Result<(), CliError> {
    let service = service(&config).await?;
    let user = owner(&service, args.account).await?;
    let tls_ca_pem = args
        .ca
        .as_ref()
        .map(|path| {
            std::fs::read_to_string(path)
                .map_err(|e| CliError::io(format!("--ca {}", path.display()), e))
        })
        .transpose()?;
    let smtp_password = if args.password_stdin {
        Some(super::read_password(true)?)
    } else {
        None
    };
    let draft = IdentityDraft {
        from_name: args.from_name,
        from_address: args.from,
        reply_to: args.reply_to,
        signature: args.signature,
        smtp_port: args.smtp_port,
        smtp_security: args.smtp_security,
        smtp_auth: args.smtp_auth,
        tls_ca_pem,
        tls_pin_sha256: args.pin,
        smtp_username: args.smtp_user,
        smtp_password,
        ..IdentityDraft::new(&args.smtp_host)
    };
    let identity = service
        .save_identity(user, args.account, draft)
        .await
        .map_err(|e| CliError::Refused(e.to_string()))?;
    println!(
        "saved: sending as {} through {}:{}",
        identity.from_address, identity.smtp_host, identity.smtp_port
    );
    match service
        .test_identity(user, args.account)
        .await
        .map_err(|e| CliError::Refused(e.to_string()))?
    {
        Ok(report) => {
            println!(
                "test sending: signed in ({}); nothing was sent",
                report.tls_version.as_deref().unwrap_or("NO ENCRYPTION")
            );
            Ok(())
        }
        Err(e) => Err(CliError::Refused(format!("test sending failed: {e}"))),
    }
}

/// Queues the message, submits it from this process and says how it ended.
/// Exit codes (as `pop3 fetch`): 0 sent, 1 may have been sent (check before sending
/// again), 2 bad arguments, 3 sign-in refused, 4 TLS problem (untrusted certificate, no
/// STARTTLS), 5 not sent yet — a temporary problem; it stays queued and `serve` retries
/// it, 6 refused otherwise (the reason is printed; the message is kept as failed).
pub async fn send(args: SendArgs, config: Config) -> ExitCode {
    match send_inner(args, config).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

async fn send_inner(args: SendArgs, config: Config) -> Result<ExitCode, CliError> {
    let service = service(&config).await?;
    let user = owner(&service, args.account).await?;
    let mut body = String::new();
    std::io::stdin()
        .read_to_string(&mut body)
        .map_err(|e| CliError::io("cannot read the message text from stdin", e))?;
    let mut attachments = Vec::new();
    for path in &args.attach {
        let content = std::fs::read(path)
            .map_err(|e| CliError::io(format!("--attach {}", path.display()), e))?;
        let filename = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "attachment".into());
        attachments.push(outbox::Attachment {
            filename,
            content_type: "application/octet-stream".into(),
            content,
        });
    }
    let draft = MessageDraft {
        account_id: Some(args.account),
        to: args.to,
        cc: args.cc,
        bcc: args.bcc,
        subject: args.subject,
        body,
        in_reply_to: None,
        attachments,
    };
    let queued = match service.send(user, None, draft).await {
        Ok(queued) => queued,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let submitter = service.submitter();
    let mut conn = store::acquire(&submitter.pool).await?;
    let claimed = outbox::claim_one(
        &mut conn,
        queued.id,
        &submitter.owner,
        lease_for(&submitter.timeouts),
    )
    .await?;
    drop(conn);
    if let Some(claimed) = claimed {
        submitter.submit(&claimed).await?;
    }
    let message = service
        .get(user, queued.id)
        .await
        .map_err(|e| CliError::Refused(e.to_string()))?;
    println!("{} {}", message.id, message.state.as_str());
    if let Some(error) = &message.last_error {
        println!("{error}");
    }
    Ok(ExitCode::from(match (message.state, message.error_class) {
        (OutboxState::Sent, _) => 0,
        (OutboxState::Queued | OutboxState::Submitting, _) => EXIT_TEMPORARY,
        (OutboxState::Failed, Some(ErrorClass::Auth)) => EXIT_AUTH,
        (OutboxState::Failed, Some(ErrorClass::Tls)) => EXIT_TLS,
        (OutboxState::Failed, _) => EXIT_PROTOCOL,
        (OutboxState::Uncertain | OutboxState::Draft, _) => EXIT_FAILURE,
    }))
}
