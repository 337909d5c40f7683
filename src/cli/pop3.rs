//! `tributary pop3 …`: operator tools that speak POP3 directly, without the database.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};

use crate::pop3::{
    self, AuthMethod, Credentials, Pop3Error, RetrOutcome, Security, SessionOptions, Trust,
};
use crate::secret::Secret;

/// Exit codes that tell failures apart for scripts.
pub(super) const EXIT_FAILURE: u8 = 1;
pub(super) const EXIT_USAGE: u8 = 2;
pub(super) const EXIT_AUTH: u8 = 3;
pub(super) const EXIT_TLS: u8 = 4;
pub(super) const EXIT_TEMPORARY: u8 = 5;
pub(super) const EXIT_PROTOCOL: u8 = 6;

#[derive(Debug, Subcommand)]
pub enum Pop3Command {
    /// Connect, show the capabilities, TLS version and certificate; with --user, log in and
    /// show the message count and size.
    Probe(ServerArgs),
    /// Download every message (leaving them on the server) into --out as <uidl>.eml files,
    /// byte for byte as the server sends them; prints messages, bytes and seconds.
    Fetch {
        #[command(flatten)]
        server: ServerArgs,
        /// Directory for the .eml files (created if missing).
        #[arg(long, required_unless_present = "discard")]
        out: Option<PathBuf>,
        /// Download and check every message but keep none: how fast this server can be
        /// read, without the cost of storing (no --out).
        #[arg(long, conflicts_with = "out")]
        discard: bool,
        /// Send one command at a time even when the server offers PIPELINING.
        #[arg(long)]
        no_pipelining: bool,
    },
}

/// Where a POP3 server is and how to sign in to it: the flags `tributary pop3` and
/// `tributary account add` share.
#[derive(Debug, Args)]
pub(super) struct Server {
    #[arg(long)]
    pub host: String,
    /// Defaults to 995 with --security tls, else 110.
    #[arg(long)]
    pub port: Option<u16>,
    #[arg(long, value_enum, default_value_t = Security::Tls)]
    pub security: Security,
    #[arg(long, value_enum, default_value_t = AuthMethod::UserPass)]
    pub auth: AuthMethod,
    /// Trust this CA certificate (PEM file) instead of the web PKI roots.
    #[arg(long, conflicts_with = "pin")]
    pub ca: Option<PathBuf>,
    /// Accept exactly the certificate with this SHA-256 fingerprint (hex, colons allowed).
    #[arg(long)]
    pub pin: Option<String>,
}

impl Server {
    /// The port given, or the usual one for the security mode.
    pub fn port(&self) -> u16 {
        self.port
            .unwrap_or_else(|| self.security.default_pop3_port())
    }

    /// The text of the `--ca` file, if one is given.
    pub fn ca_pem(&self) -> Result<Option<String>, String> {
        self.ca
            .as_ref()
            .map(|path| {
                std::fs::read_to_string(path).map_err(|e| format!("--ca {}: {e}", path.display()))
            })
            .transpose()
    }
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    #[command(flatten)]
    server: Server,
    /// Log in as this user.
    #[arg(long)]
    user: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
    /// Longest silence from the server, in seconds.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
}

enum Failure {
    Usage(String),
    Pop3(Pop3Error),
    Other(String),
}

impl From<Pop3Error> for Failure {
    fn from(e: Pop3Error) -> Self {
        Self::Pop3(e)
    }
}

pub async fn run(command: Pop3Command) -> ExitCode {
    let result = match command {
        Pop3Command::Probe(server) => probe(&server).await,
        Pop3Command::Fetch {
            server,
            out,
            discard: _,
            no_pipelining,
        } => fetch(&server, out.as_deref(), no_pipelining).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(Failure::Other(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_FAILURE)
        }
        Err(Failure::Pop3(error)) => {
            eprintln!("error: {error}");
            ExitCode::from(if error.is_auth() {
                EXIT_AUTH
            } else if error.is_tls() {
                EXIT_TLS
            } else if error.is_transient() {
                EXIT_TEMPORARY
            } else {
                EXIT_PROTOCOL
            })
        }
    }
}

fn options(args: &ServerArgs) -> Result<SessionOptions, Failure> {
    let server = &args.server;
    let trust = match (server.ca_pem().map_err(Failure::Usage)?, &server.pin) {
        (Some(pem), _) => Trust::CustomCa(pem),
        (None, Some(pin)) => Trust::PinnedSha256(
            pop3::tls::parse_pin(pin).map_err(|e| Failure::Usage(format!("--pin: {e}")))?,
        ),
        (None, None) => Trust::WebPki,
    };
    let mut options = SessionOptions::new(server.security, &trust)?;
    options.timeouts.read_idle = Duration::from_secs(args.timeout.max(1));
    Ok(options)
}

fn credentials(args: &ServerArgs) -> Result<Option<Credentials>, Failure> {
    let Some(user) = &args.user else {
        if args.password_stdin {
            return Err(Failure::Usage("--password-stdin needs --user".into()));
        }
        return Ok(None);
    };
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| Failure::Other(format!("cannot read the password: {e}")))?;
        let password = Secret::new(line.trim_end_matches(['\r', '\n']));
        zeroize::Zeroize::zeroize(&mut line);
        password
    } else if std::io::stdin().is_terminal() {
        Secret::new(
            rpassword::prompt_password("Password: ")
                .map_err(|e| Failure::Other(format!("cannot read the password: {e}")))?,
        )
    } else {
        return Err(Failure::Usage(
            "no terminal to ask for the password: pass --password-stdin and pipe it in".into(),
        ));
    };
    Ok(Some(Credentials {
        username: user.clone(),
        password,
    }))
}

async fn probe(args: &ServerArgs) -> Result<(), Failure> {
    let options = options(args)?;
    let credentials = credentials(args)?;
    let port = args.server.port();
    let session = pop3::connect(&args.server.host, port, &options).await?;
    println!("server:       {}:{port}", args.server.host);
    println!("greeting:     {}", session.greeting());
    match session.tls_info() {
        Some(tls) => {
            println!("tls:          {} {}", tls.version, tls.cipher_suite);
            println!(
                "certificate:  {} in chain, SHA-256 {}",
                tls.certificates,
                tls.leaf_sha256.as_deref().unwrap_or("?")
            );
        }
        None => println!("tls:          none (plaintext)"),
    }
    println!("capabilities: {}", session.capabilities().lines.join(" | "));
    if let Some(credentials) = credentials {
        let mut session = session.login(&credentials, args.server.auth).await?;
        let (count, size) = session.stat().await?;
        println!("login:        ok as {}", credentials.username);
        println!("messages:     {count} ({size} bytes)");
        session.quit().await?;
    }
    Ok(())
}

/// A file name for a UIDL: safe characters kept, others as `=XX`, so names never collide.
pub fn file_name_for_uidl(uidl: &str) -> String {
    let mut name = String::with_capacity(uidl.len() + 4);
    for (i, byte) in uidl.bytes().enumerate() {
        let safe =
            byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' || (byte == b'.' && i > 0);
        if safe {
            name.push(char::from(byte));
        } else {
            name.push_str(&format!("={byte:02X}"));
        }
    }
    name.push_str(".eml");
    name
}

/// Downloads every message into `out`, or nowhere when it is `None` (`--discard`).
async fn fetch(args: &ServerArgs, out: Option<&Path>, no_pipelining: bool) -> Result<(), Failure> {
    let mut options = options(args)?;
    options.pipelining = !no_pipelining;
    let credentials =
        credentials(args)?.ok_or_else(|| Failure::Usage("fetch needs --user".into()))?;
    if let Some(out) = out {
        std::fs::create_dir_all(out)
            .map_err(|e| Failure::Other(format!("--out {}: {e}", out.display())))?;
    }
    let started = Instant::now();
    let session = pop3::connect(&args.server.host, args.server.port(), &options).await?;
    let mut session = session.login(&credentials, args.server.auth).await?;
    let names: Vec<(u32, String)> = match session.uidl().await {
        Ok(list) => list
            .into_iter()
            .map(|(n, uidl)| (n, file_name_for_uidl(&uidl)))
            .collect(),
        Err(Pop3Error::Unsupported(_)) => session
            .list()
            .await?
            .into_iter()
            .map(|(n, _)| (n, format!("message-{n}.eml")))
            .collect(),
        Err(e) => return Err(e.into()),
    };
    let mut retrieval = session.retrieve(names.iter().map(|(n, _)| *n).collect());
    let mut body = Vec::new();
    let (mut messages, mut bytes, mut skipped) = (0u64, 0u64, 0u64);
    for (_, name) in &names {
        body.clear();
        let Some((number, outcome)) = retrieval.next_into(&mut body).await? else {
            break;
        };
        match outcome {
            RetrOutcome::Complete { bytes: n } => {
                if let Some(out) = out {
                    std::fs::write(out.join(name), &body).map_err(|e| {
                        Failure::Other(format!("{}: {e}", out.join(name).display()))
                    })?;
                }
                messages += 1;
                bytes += n;
            }
            RetrOutcome::TooLarge { limit } => {
                eprintln!("skipped message {number}: larger than {limit} bytes");
                skipped += 1;
            }
            RetrOutcome::Refused(text) => {
                eprintln!("skipped message {number}: {text}");
                skipped += 1;
            }
        }
    }
    session.quit().await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "fetched {messages} messages, {bytes} bytes in {seconds:.3} s ({:.1} MB/s){}",
        bytes as f64 / 1e6 / seconds.max(1e-9),
        if skipped > 0 {
            format!(", skipped {skipped}")
        } else {
            String::new()
        }
    );
    if out.is_none() {
        println!("(discarded: nothing was written)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uidl_file_names_are_safe_and_distinct() {
        assert_eq!(
            file_name_for_uidl("000000016b09ed37"),
            "000000016b09ed37.eml"
        );
        assert_eq!(file_name_for_uidl("a/b"), "a=2Fb.eml");
        assert_eq!(file_name_for_uidl("../x"), "=2E.=2Fx.eml");
        assert_ne!(file_name_for_uidl("a=2Fb"), file_name_for_uidl("a/b"));
        assert_eq!(file_name_for_uidl("A:b"), "A=3Ab.eml");
    }
}
