//! Settings from the environment (DESIGN §7).
//!
//! Every setting has a default that works on a development machine; a value
//! that is present but malformed stops start-up with one line that names the
//! variable and says what is wrong — never echoing the value, because some
//! (the master key, a database URL with a password) are secrets.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use zeroize::Zeroizing;

use crate::crypto::KeySource;

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/tributary";
/// Where [`DEFAULT_DATABASE_URL`] points: `serve` looks there before running its own.
pub const DEFAULT_DATABASE_ADDRESS: &str = "127.0.0.1:5432";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./data";
/// DESIGN invariant 9: larger messages are recorded and skipped.
pub const DEFAULT_MAX_MESSAGE_BYTES: u64 = 50 * 1024 * 1024;
pub const DEFAULT_FETCH_CONCURRENCY: usize = 32;
pub const DEFAULT_PER_HOST_CONCURRENCY: usize = 4;
pub const DEFAULT_FETCH_LEASE_SECONDS: u64 = 60;
pub const DEFAULT_POLL_FLOOR_SECONDS: u64 = 120;
pub const DEFAULT_FETCH_MEMORY_MB: u64 = 256;
/// Largest message a person may send, attachments included (25 MB, as large providers).
pub const DEFAULT_SEND_MAX_BYTES: u64 = 25 * 1024 * 1024;
/// Recipients (To, Cc and Bcc together) of one message.
pub const DEFAULT_SEND_MAX_RECIPIENTS: u64 = 100;
/// Messages one user may queue per hour.
pub const DEFAULT_SEND_PER_HOUR: u64 = 100;
/// A metrics token short enough to guess would protect nothing.
const MIN_METRICS_TOKEN_CHARS: usize = 16;
pub const DEFAULT_API_REQUESTS_PER_MINUTE: u64 = 600;

/// A setting that could not be used. The message names the variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

impl ConfigError {
    pub(crate) fn new(var: &'static str, problem: impl Into<String>) -> Self {
        Self {
            var,
            problem: problem.into(),
        }
    }
}

#[derive(Clone)]
pub struct Config {
    pub database_url: Zeroizing<String>,
    /// `DATABASE_URL` was given; without it `serve` may run a private PostgreSQL.
    pub database_url_set: bool,
    /// `TRIBUTARY_LOCAL_POSTGRES`: when `serve` may run its own PostgreSQL.
    pub local_postgres: crate::local_pg::Mode,
    /// `TRIBUTARY_POSTGRES_BIN`: where that PostgreSQL's programs are, when not found
    /// on the `PATH` or under /usr/lib/postgresql.
    pub postgres_bin: Option<PathBuf>,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Where the key ring comes from (DESIGN §7).
    pub master_key: KeySource,
    /// The address people use to reach us; `https` makes cookies `Secure`.
    pub public_url: Option<String>,
    pub allow_private_hosts: bool,
    /// A DNS server (`IP:port`) to resolve remote mail hosts and SRV records with, instead
    /// of the system's resolver (`TRIBUTARY_DNS_SERVER`; the tests point it at their own).
    pub dns_server: Option<SocketAddr>,
    /// Requests per minute per API token (`TRIBUTARY_API_REQUESTS_PER_MINUTE`).
    pub api_requests_per_minute: u32,
    pub max_message_bytes: u64,
    pub fetch_concurrency: usize,
    pub per_host_concurrency: usize,
    /// How long a worker holds an account without renewing; a dead replica's accounts
    /// are taken over after this.
    pub fetch_lease: std::time::Duration,
    /// The shortest adaptive poll interval.
    pub poll_floor: std::time::Duration,
    /// Bytes of fetched mail all runs together may hold before it is stored.
    pub fetch_memory_bytes: usize,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`TRIBUTARY_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// When set, `/metrics` answers only `Authorization: Bearer <this>`.
    pub metrics_token: Option<Zeroizing<String>>,
    /// What one user may send (`TRIBUTARY_SEND_MAX_BYTES`, `TRIBUTARY_SEND_MAX_RECIPIENTS`,
    /// `TRIBUTARY_SEND_PER_HOUR`).
    pub send_limits: crate::sending::SendLimits,
    /// The OAuth 2.0 clients the administrator registered (`TRIBUTARY_OAUTH_*`).
    pub oauth: crate::oauth::OAuthClients,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &"[redacted]")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("master_key", &self.master_key)
            .field("public_url", &self.public_url)
            .field("allow_private_hosts", &self.allow_private_hosts)
            .field("dns_server", &self.dns_server)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("fetch_concurrency", &self.fetch_concurrency)
            .field("per_host_concurrency", &self.per_host_concurrency)
            .field("fetch_lease", &self.fetch_lease)
            .field("poll_floor", &self.poll_floor)
            .field("fetch_memory_bytes", &self.fetch_memory_bytes)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("send_limits", &self.send_limits)
            .field("oauth", &self.oauth)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests need not touch the process environment.
    /// Empty values count as unset, as Docker Compose passes `VAR=` for blank entries.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let database_url_set = get("DATABASE_URL").is_some();
        let database_url =
            Zeroizing::new(get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()));
        validate_database_url(&database_url)?;
        let local_postgres = match get("TRIBUTARY_LOCAL_POSTGRES") {
            None => crate::local_pg::Mode::Auto,
            Some(text) => crate::local_pg::Mode::parse(&text).ok_or_else(|| {
                ConfigError::new(
                    "TRIBUTARY_LOCAL_POSTGRES",
                    format!("expected auto, always or never, got {text:?}"),
                )
            })?,
        };

        let listen_text = get("TRIBUTARY_LISTEN").unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = SocketAddr::from_str(listen_text.trim()).map_err(|_| {
            ConfigError::new(
                "TRIBUTARY_LISTEN",
                format!("expected an address and port such as 127.0.0.1:8080, got {listen_text:?}"),
            )
        })?;

        let data_dir =
            PathBuf::from(get("TRIBUTARY_DATA_DIR").unwrap_or_else(|| DEFAULT_DATA_DIR.to_owned()));

        let master_key = match (
            get("TRIBUTARY_MASTER_KEY"),
            get("TRIBUTARY_MASTER_KEY_FILE"),
        ) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::new(
                    "TRIBUTARY_MASTER_KEY",
                    "set either TRIBUTARY_MASTER_KEY or TRIBUTARY_MASTER_KEY_FILE, not both",
                ));
            }
            (Some(value), None) => {
                let value = Zeroizing::new(value);
                // Parse now so a malformed key stops start-up before anything else happens.
                crate::crypto::KeyRing::parse(&value)
                    .map_err(|e| ConfigError::new("TRIBUTARY_MASTER_KEY", e.to_string()))?;
                KeySource::Text(value)
            }
            (None, Some(path)) => KeySource::File(PathBuf::from(path)),
            (None, None) => KeySource::CreateIfMissing(data_dir.join("master.key")),
        };

        let public_url = match get("TRIBUTARY_PUBLIC_URL") {
            None => None,
            Some(url) => {
                let url = url.trim().trim_end_matches('/').to_owned();
                let rest = url
                    .strip_prefix("https://")
                    .or_else(|| url.strip_prefix("http://"));
                match rest {
                    Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {
                        Some(url)
                    }
                    _ => {
                        return Err(ConfigError::new(
                            "TRIBUTARY_PUBLIC_URL",
                            "expected an http:// or https:// URL such as https://mail.example.org",
                        ));
                    }
                }
            }
        };

        let allow_private_hosts = match get("TRIBUTARY_ALLOW_PRIVATE_HOSTS") {
            None => false,
            Some(v) => parse_bool(&v).ok_or_else(|| {
                ConfigError::new(
                    "TRIBUTARY_ALLOW_PRIVATE_HOSTS",
                    format!("expected true or false, got {v:?}"),
                )
            })?,
        };

        let trusted_proxies = match get("TRIBUTARY_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(text) => parse_networks(&text).ok_or_else(|| {
                ConfigError::new(
                    "TRIBUTARY_TRUSTED_PROXIES",
                    format!(
                        "expected IP addresses or ranges separated by commas, such as 10.0.0.0/8,::1, got {text:?}"
                    ),
                )
            })?,
        };

        let metrics_token = match get("TRIBUTARY_METRICS_TOKEN") {
            None => None,
            Some(token) => {
                let token = Zeroizing::new(token.trim().to_owned());
                if token.len() < MIN_METRICS_TOKEN_CHARS || !token.is_ascii() {
                    return Err(ConfigError::new(
                        "TRIBUTARY_METRICS_TOKEN",
                        format!(
                            "expected at least {MIN_METRICS_TOKEN_CHARS} ASCII characters, e.g. from `openssl rand -hex 32`"
                        ),
                    ));
                }
                Some(token)
            }
        };

        let dns_server = match get("TRIBUTARY_DNS_SERVER") {
            None => None,
            Some(text) => Some(SocketAddr::from_str(text.trim()).map_err(|_| {
                ConfigError::new(
                    "TRIBUTARY_DNS_SERVER",
                    format!("expected an IP address and port such as 192.0.2.53:53, got {text:?}"),
                )
            })?),
        };

        let api_requests_per_minute = parse_number(
            &get,
            "TRIBUTARY_API_REQUESTS_PER_MINUTE",
            DEFAULT_API_REQUESTS_PER_MINUTE,
            1,
        )?
        .min(u64::from(u32::MAX)) as u32;

        let max_message_bytes = parse_number(
            &get,
            "TRIBUTARY_MAX_MESSAGE_BYTES",
            DEFAULT_MAX_MESSAGE_BYTES,
            1024,
        )?;
        let fetch_concurrency = parse_number(
            &get,
            "TRIBUTARY_FETCH_CONCURRENCY",
            DEFAULT_FETCH_CONCURRENCY as u64,
            1,
        )? as usize;
        let per_host_concurrency = parse_number(
            &get,
            "TRIBUTARY_PER_HOST_CONCURRENCY",
            DEFAULT_PER_HOST_CONCURRENCY as u64,
            1,
        )? as usize;

        let fetch_lease = std::time::Duration::from_secs(parse_number(
            &get,
            "TRIBUTARY_FETCH_LEASE_SECONDS",
            DEFAULT_FETCH_LEASE_SECONDS,
            2,
        )?);
        let poll_floor = std::time::Duration::from_secs(parse_number(
            &get,
            "TRIBUTARY_POLL_FLOOR_SECONDS",
            DEFAULT_POLL_FLOOR_SECONDS,
            1,
        )?);

        let fetch_memory_bytes = usize::try_from(
            parse_number(
                &get,
                "TRIBUTARY_FETCH_MEMORY_MB",
                DEFAULT_FETCH_MEMORY_MB,
                1,
            )?
            .saturating_mul(1024 * 1024),
        )
        .unwrap_or(usize::MAX);

        let send_limits = crate::sending::SendLimits {
            max_message_bytes: parse_number(
                &get,
                "TRIBUTARY_SEND_MAX_BYTES",
                DEFAULT_SEND_MAX_BYTES,
                1024,
            )?,
            max_recipients: usize::try_from(parse_number(
                &get,
                "TRIBUTARY_SEND_MAX_RECIPIENTS",
                DEFAULT_SEND_MAX_RECIPIENTS,
                1,
            )?)
            .unwrap_or(usize::MAX),
            per_hour: parse_number(&get, "TRIBUTARY_SEND_PER_HOUR", DEFAULT_SEND_PER_HOUR, 1)?,
        };

        let oauth = crate::oauth::OAuthClients::from_lookup(&get)?;
        if !oauth.is_empty() && public_url.is_none() {
            return Err(ConfigError::new(
                "TRIBUTARY_PUBLIC_URL",
                "needed for sign-in with a provider (TRIBUTARY_OAUTH_*): the provider sends \
                 people back to TRIBUTARY_PUBLIC_URL/oauth/callback",
            ));
        }

        let postgres_bin = get("TRIBUTARY_POSTGRES_BIN").map(PathBuf::from);

        Ok(Self {
            database_url,
            database_url_set,
            local_postgres,
            postgres_bin,
            listen,
            data_dir,
            master_key,
            public_url,
            allow_private_hosts,
            dns_server,
            api_requests_per_minute,
            max_message_bytes,
            fetch_concurrency,
            per_host_concurrency,
            fetch_lease,
            poll_floor,
            fetch_memory_bytes,
            trusted_proxies,
            metrics_token,
            send_limits,
            oauth,
        })
    }

    /// Cookies carry `Secure` when people reach us over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://"))
    }

    /// The URL to announce in the log: the public one, or the listening address.
    pub fn display_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.clone(),
            None => format!("http://{}", self.listen),
        }
    }
}

fn validate_database_url(url: &str) -> Result<(), ConfigError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(ConfigError::new(
            "DATABASE_URL",
            "expected a postgres:// or postgresql:// URL",
        ));
    }
    // sqlx's own parser decides; its message may quote the URL (and a password), so it is dropped.
    sqlx::postgres::PgConnectOptions::from_str(url)
        .map(|_| ())
        .map_err(|_| ConfigError::new("DATABASE_URL", "not a valid PostgreSQL connection URL"))
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// `10.0.0.0/8, 192.0.2.7, ::1`: ranges or single addresses, commas or spaces between.
fn parse_networks(text: &str) -> Option<Vec<ipnet::IpNet>> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<ipnet::IpNet>().ok().or_else(|| {
                part.parse::<std::net::IpAddr>()
                    .ok()
                    .map(ipnet::IpNet::from)
            })
        })
        .collect()
}

fn parse_number(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
    minimum: u64,
) -> Result<u64, ConfigError> {
    let Some(text) = get(var) else {
        return Ok(default);
    };
    match text.trim().replace('_', "").parse::<u64>() {
        Ok(n) if n >= minimum => Ok(n),
        _ => Err(ConfigError::new(
            var,
            format!("expected a whole number of at least {minimum}, got {text:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    fn error_var(vars: &[(&str, &str)]) -> &'static str {
        match config(vars) {
            Err(e) => e.var,
            Ok(c) => panic!("expected an error for {vars:?}, got {c:?}"),
        }
    }

    #[test]
    fn defaults_work_without_any_variable() {
        let c = config(&[]).expect("defaults are valid");
        assert_eq!(c.database_url.as_str(), DEFAULT_DATABASE_URL);
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert!(
            matches!(&c.master_key, KeySource::CreateIfMissing(p) if p == &PathBuf::from("./data/master.key"))
        );
        assert!(!c.allow_private_hosts);
        assert!(!c.secure_cookies());
        assert_eq!(c.max_message_bytes, DEFAULT_MAX_MESSAGE_BYTES);
        assert_eq!(c.fetch_memory_bytes, 256 * 1024 * 1024);
        assert!(c.trusted_proxies.is_empty());
        assert_eq!(c.display_url(), "http://127.0.0.1:8080");
    }

    #[test]
    fn every_malformed_setting_names_its_variable() {
        assert_eq!(
            error_var(&[("DATABASE_URL", "mysql://x/y")]),
            "DATABASE_URL"
        );
        assert_eq!(
            error_var(&[("TRIBUTARY_LOCAL_POSTGRES", "sometimes")]),
            "TRIBUTARY_LOCAL_POSTGRES"
        );
        assert_eq!(
            error_var(&[("DATABASE_URL", "postgres://h:notaport/db")]),
            "DATABASE_URL"
        );
        assert_eq!(
            error_var(&[("TRIBUTARY_LISTEN", "localhost")]),
            "TRIBUTARY_LISTEN"
        );
        assert_eq!(
            error_var(&[("TRIBUTARY_LISTEN", "1.2.3.4:99999")]),
            "TRIBUTARY_LISTEN"
        );
        assert_eq!(
            error_var(&[("TRIBUTARY_MASTER_KEY", "not base64!")]),
            "TRIBUTARY_MASTER_KEY"
        );
        assert_eq!(
            error_var(&[("TRIBUTARY_MASTER_KEY", "c2hvcnQ=")]),
            "TRIBUTARY_MASTER_KEY"
        );
        let key = crate::crypto::MasterKey::generate().to_base64();
        assert_eq!(
            error_var(&[
                ("TRIBUTARY_MASTER_KEY", key.as_str()),
                ("TRIBUTARY_MASTER_KEY_FILE", "/run/secrets/k")
            ]),
            "TRIBUTARY_MASTER_KEY"
        );
        assert_eq!(
            error_var(&[("TRIBUTARY_PUBLIC_URL", "mail.example.org")]),
            "TRIBUTARY_PUBLIC_URL"
        );
        assert_eq!(
            error_var(&[("TRIBUTARY_PUBLIC_URL", "https://")]),
            "TRIBUTARY_PUBLIC_URL"
        );
        assert_eq!(
            error_var(&[("TRIBUTARY_ALLOW_PRIVATE_HOSTS", "maybe")]),
            "TRIBUTARY_ALLOW_PRIVATE_HOSTS"
        );
        assert_eq!(
            error_var(&[("TRIBUTARY_MAX_MESSAGE_BYTES", "50MB")]),
            "TRIBUTARY_MAX_MESSAGE_BYTES"
        );
        assert_eq!(
            error_var(&[("TRIBUTARY_FETCH_CONCURRENCY", "0")]),
            "TRIBUTARY_FETCH_CONCURRENCY"
        );
        assert_eq!(
            error_var(&[("TRIBUTARY_PER_HOST_CONCURRENCY", "-1")]),
            "TRIBUTARY_PER_HOST_CONCURRENCY"
        );
        assert_eq!(
            error_var(&[("TRIBUTARY_FETCH_MEMORY_MB", "0")]),
            "TRIBUTARY_FETCH_MEMORY_MB"
        );
        assert_eq!(
            error_var(&[("TRIBUTARY_TRUSTED_PROXIES", "10.0.0.0/33")]),
            "TRIBUTARY_TRUSTED_PROXIES"
        );
        assert_eq!(
            error_var(&[("TRIBUTARY_TRUSTED_PROXIES", "proxy.internal")]),
            "TRIBUTARY_TRUSTED_PROXIES"
        );
        assert_eq!(
            error_var(&[("TRIBUTARY_METRICS_TOKEN", "short")]),
            "TRIBUTARY_METRICS_TOKEN"
        );
    }

    #[test]
    fn errors_never_echo_secrets() {
        let secret_url = "postgres://u:hunter2@h:notaport/db";
        let e = config(&[("DATABASE_URL", secret_url)]).expect_err("bad port");
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let e = config(&[("TRIBUTARY_METRICS_TOKEN", "hunter2")]).expect_err("short token");
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let e = config(&[("TRIBUTARY_MASTER_KEY", "hunter2hunter2")]).expect_err("bad key");
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(e.to_string().starts_with("TRIBUTARY_MASTER_KEY: "), "{e}");
    }

    #[test]
    fn values_are_read() {
        let key = crate::crypto::MasterKey::generate().to_base64();
        let c = config(&[
            ("DATABASE_URL", "postgresql://app:pw@db:5432/mail"),
            ("TRIBUTARY_LISTEN", "0.0.0.0:9000"),
            ("TRIBUTARY_MASTER_KEY", key.as_str()),
            ("TRIBUTARY_PUBLIC_URL", "https://mail.example.org/"),
            ("TRIBUTARY_ALLOW_PRIVATE_HOSTS", "yes"),
            ("TRIBUTARY_MAX_MESSAGE_BYTES", "1_000_000"),
            ("TRIBUTARY_FETCH_MEMORY_MB", "64"),
            ("TRIBUTARY_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7,::1"),
            ("TRIBUTARY_METRICS_TOKEN", "scrape-me-secretly-0123"),
        ])
        .expect("valid");
        assert_eq!(c.listen.port(), 9000);
        assert!(matches!(c.master_key, KeySource::Text(_)));
        assert!(c.secure_cookies());
        assert_eq!(c.display_url(), "https://mail.example.org");
        assert!(c.allow_private_hosts);
        assert_eq!(c.max_message_bytes, 1_000_000);
        assert_eq!(c.fetch_memory_bytes, 64 * 1024 * 1024);
        let proxies: Vec<String> = c.trusted_proxies.iter().map(|n| n.to_string()).collect();
        assert_eq!(proxies, ["10.0.0.0/8", "192.0.2.7/32", "::1/128"]);
        assert!(!format!("{c:?}").contains(key.as_str()));
        assert!(!format!("{c:?}").contains("pw@"));
        assert!(!format!("{c:?}").contains("scrape-me"));
        assert_eq!(
            c.metrics_token.as_deref().map(String::as_str),
            Some("scrape-me-secretly-0123")
        );
    }

    #[test]
    fn key_file_variable_selects_the_file() {
        let c =
            config(&[("TRIBUTARY_MASTER_KEY_FILE", "/run/secrets/tributary_key")]).expect("valid");
        assert!(
            matches!(c.master_key, KeySource::File(p) if p.as_path() == std::path::Path::new("/run/secrets/tributary_key"))
        );
    }
}
