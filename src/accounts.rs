//! Remote accounts: the rules for a valid account, shared by the CLI, the web pages and
//! the REST API, so every way in checks the same things before the store sees them.

use crate::crypto::Secret;
use crate::model::ErrorClass;
use crate::pop3::tls;
use crate::store::accounts::{Account, AuthMethod, ImportMode, LeavePolicy, NewAccount, Security};

const MAX_HOST_BYTES: usize = 253;
const MAX_TEXT_BYTES: usize = 256;
const MAX_PASSWORD_BYTES: usize = 1024;
const MAX_CA_PEM_BYTES: usize = 64 * 1024;
pub const DEFAULT_COLOR: &str = "#3b6fd4";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{field}: {problem}")]
pub struct InvalidAccount {
    pub field: &'static str,
    pub problem: String,
}

fn invalid(field: &'static str, problem: impl Into<String>) -> InvalidAccount {
    InvalidAccount {
        field,
        problem: problem.into(),
    }
}

/// What a person typed, before validation.
#[derive(Debug, Clone)]
pub struct AccountInput {
    pub label: Option<String>,
    /// `#rrggbb`; empty or `None` for the default.
    pub color: Option<String>,
    pub email: String,
    pub host: String,
    pub port: Option<u16>,
    pub security: Security,
    pub auth_method: AuthMethod,
    pub username: String,
    pub password: Secret,
    pub tls_ca_pem: Option<String>,
    pub tls_pin_sha256: Option<String>,
    pub leave_on_server: LeaveInput,
    pub import_mode: ImportMode,
    pub poll_minutes: Option<i32>,
    pub max_message_bytes: Option<i64>,
}

/// The leave-on-server choice as one value: `keep`, `delete` or `days:N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveInput {
    Keep,
    Delete,
    AfterDays(i32),
}

impl std::str::FromStr for LeaveInput {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "keep" => Ok(Self::Keep),
            "delete" => Ok(Self::Delete),
            other => other
                .strip_prefix("days:")
                .and_then(|days| days.parse::<i32>().ok())
                .filter(|days| (1..=3650).contains(days))
                .map(Self::AfterDays)
                .ok_or_else(|| "expected keep, delete or days:N (N from 1 to 3650)".to_owned()),
        }
    }
}

/// Where an account stands — one classification for the accounts page and the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AccountState {
    /// A worker is checking it now.
    Checking,
    /// Waiting for its owner (rejected password, permanent server problem, …).
    Paused,
    /// Paused by its owner.
    Off,
    /// The server asked for a pause between logins (LOGIN-DELAY).
    Waiting,
    /// The last check failed; it will be retried.
    Error,
    /// Checked successfully.
    Ok,
    /// Not checked yet.
    New,
}

/// The state of `account`; `checking` when a worker holds its lease or a run is open.
pub fn state(account: &Account, checking: bool) -> AccountState {
    if checking {
        AccountState::Checking
    } else if account.paused_reason.is_some() {
        AccountState::Paused
    } else if !account.enabled {
        AccountState::Off
    } else if account.last_error_kind == Some(ErrorClass::LoginDelay) {
        AccountState::Waiting
    } else if account.last_error_kind.is_some() {
        AccountState::Error
    } else if account.last_success_at.is_some() {
        AccountState::Ok
    } else {
        AccountState::New
    }
}

/// Whether `text` is a colour as accounts store it: `#` and six hex digits.
pub fn is_color(text: &str) -> bool {
    text.len() == 7 && text.starts_with('#') && text[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// The usual port for a security mode.
pub fn default_port(security: Security) -> u16 {
    match security {
        Security::Tls => 995,
        Security::StartTls | Security::PlaintextDangerous => 110,
    }
}

/// Checks everything a person can get wrong and returns what the store needs.
pub fn validate(input: AccountInput) -> Result<NewAccount, InvalidAccount> {
    let host = input.host.trim().trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() || host.len() > MAX_HOST_BYTES {
        return Err(invalid(
            "host",
            "enter the server's host name, e.g. pop.example.org",
        ));
    }
    let host_ok = host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !host_ok {
        return Err(invalid(
            "host",
            "a host name has only letters, digits, dots and hyphens (or is an IP address)",
        ));
    }
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    if host.is_empty() {
        return Err(invalid(
            "host",
            "enter the server's host name, e.g. pop.example.org",
        ));
    }
    let port = input.port.unwrap_or_else(|| default_port(input.security));
    if port == 0 {
        return Err(invalid("port", "must be between 1 and 65535"));
    }
    let username = input.username.trim().to_owned();
    if username.is_empty() || username.len() > MAX_TEXT_BYTES || username.contains(char::is_control)
    {
        return Err(invalid(
            "username",
            "enter the user name the server expects",
        ));
    }
    let password_len = input.password.expose().len();
    if password_len == 0 || password_len > MAX_PASSWORD_BYTES {
        return Err(invalid("password", "enter the mailbox's password"));
    }
    if input.password.expose().contains(['\r', '\n', '\0']) {
        return Err(invalid(
            "password",
            "a POP3 password cannot contain line breaks",
        ));
    }
    let email = input.email.trim().to_owned();
    if email.len() > MAX_TEXT_BYTES || email.contains(char::is_control) {
        return Err(invalid("email", "too long or contains control characters"));
    }
    let label = input
        .label
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| {
            if email.is_empty() {
                format!("{username}@{host}")
            } else {
                email.clone()
            }
        });
    if label.len() > MAX_TEXT_BYTES || label.contains(char::is_control) {
        return Err(invalid("label", "too long or contains control characters"));
    }
    let tls_ca_pem = match input.tls_ca_pem.filter(|pem| !pem.trim().is_empty()) {
        None => None,
        Some(pem) if pem.len() > MAX_CA_PEM_BYTES => {
            return Err(invalid("tls_ca_pem", "the certificate is too large"));
        }
        Some(pem) => {
            tls::client_config(&tls::Trust::CustomCa(pem.clone()))
                .map_err(|e| invalid("tls_ca_pem", e.to_string()))?;
            Some(pem)
        }
    };
    let tls_pin_sha256 = match input.tls_pin_sha256.filter(|pin| !pin.trim().is_empty()) {
        None => None,
        Some(pin) => Some(tls::hex(
            &tls::parse_pin(&pin).map_err(|e| invalid("tls_pin_sha256", e))?,
        )),
    };
    if tls_ca_pem.is_some() && tls_pin_sha256.is_some() {
        return Err(invalid(
            "tls_pin_sha256",
            "choose either a custom CA or a pinned certificate, not both",
        ));
    }
    if let Some(minutes) = input.poll_minutes
        && !(1..=24 * 60).contains(&minutes)
    {
        return Err(invalid(
            "poll_minutes",
            "must be between 1 and 1440 minutes",
        ));
    }
    if let Some(bytes) = input.max_message_bytes
        && bytes < 1024
    {
        return Err(invalid("max_message_bytes", "must be at least 1024 bytes"));
    }
    let (leave_on_server, delete_after_days) = match input.leave_on_server {
        LeaveInput::Keep => (LeavePolicy::Keep, None),
        LeaveInput::Delete => (LeavePolicy::Delete, None),
        LeaveInput::AfterDays(days) if (1..=3650).contains(&days) => {
            (LeavePolicy::DeleteAfterDays, Some(days))
        }
        LeaveInput::AfterDays(_) => {
            return Err(invalid(
                "leave_on_server",
                "days must be between 1 and 3650",
            ));
        }
    };
    let color = match input.color.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_COLOR.to_owned(),
        Some(color) if is_color(color) => color.to_ascii_lowercase(),
        Some(_) => {
            return Err(invalid(
                "color",
                "expected # and six hex digits, e.g. #3b6fd4",
            ));
        }
    };
    Ok(NewAccount {
        label,
        color,
        email,
        host,
        port,
        security: input.security,
        auth_method: input.auth_method,
        username,
        password: input.password,
        tls_ca_pem,
        tls_pin_sha256,
        leave_on_server,
        delete_after_days,
        import_mode: input.import_mode,
        poll_minutes: input.poll_minutes,
        max_message_bytes: input.max_message_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> AccountInput {
        AccountInput {
            label: None,
            color: None,
            email: "me@example.org".into(),
            host: " POP.Example.org. ".into(),
            port: None,
            security: Security::Tls,
            auth_method: AuthMethod::UserPass,
            username: "me".into(),
            password: Secret::new("pw"),
            tls_ca_pem: None,
            tls_pin_sha256: None,
            leave_on_server: LeaveInput::Keep,
            import_mode: ImportMode::All,
            poll_minutes: None,
            max_message_bytes: None,
        }
    }

    #[test]
    fn normalises_and_fills_defaults() {
        let account = validate(input()).expect("valid");
        assert_eq!(account.host, "pop.example.org");
        assert_eq!(account.port, 995);
        assert_eq!(account.label, "me@example.org");
        assert_eq!(account.leave_on_server, LeavePolicy::Keep);
    }

    #[test]
    fn refuses_what_cannot_work() {
        let cases: Vec<(&str, AccountInput)> = vec![
            (
                "host",
                AccountInput {
                    host: "pop example".into(),
                    ..input()
                },
            ),
            (
                "host",
                AccountInput {
                    host: String::new(),
                    ..input()
                },
            ),
            (
                "username",
                AccountInput {
                    username: " ".into(),
                    ..input()
                },
            ),
            (
                "password",
                AccountInput {
                    password: Secret::new("a\r\nDELE 1"),
                    ..input()
                },
            ),
            (
                "password",
                AccountInput {
                    password: Secret::new(""),
                    ..input()
                },
            ),
            (
                "tls_pin_sha256",
                AccountInput {
                    tls_pin_sha256: Some("abc".into()),
                    ..input()
                },
            ),
            (
                "tls_ca_pem",
                AccountInput {
                    tls_ca_pem: Some("not a pem".into()),
                    ..input()
                },
            ),
            (
                "poll_minutes",
                AccountInput {
                    poll_minutes: Some(0),
                    ..input()
                },
            ),
            (
                "leave_on_server",
                AccountInput {
                    leave_on_server: LeaveInput::AfterDays(0),
                    ..input()
                },
            ),
        ];
        for (field, case) in cases {
            let error = validate(case).expect_err(field);
            assert_eq!(error.field, field, "{error}");
            assert!(!error.to_string().contains("DELE"), "{error}");
        }
    }

    #[test]
    fn parses_leave_policies() {
        assert_eq!("keep".parse(), Ok(LeaveInput::Keep));
        assert_eq!("delete".parse(), Ok(LeaveInput::Delete));
        assert_eq!("days:30".parse(), Ok(LeaveInput::AfterDays(30)));
        assert!("days:0".parse::<LeaveInput>().is_err());
        assert!("days:x".parse::<LeaveInput>().is_err());
        assert!("sometimes".parse::<LeaveInput>().is_err());
    }
}
