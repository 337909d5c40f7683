//! What a person asks for — a whole account ([`AccountDraft`]) or changes to one
//! ([`AccountChanges`]) — and the one validation every way in goes through before the
//! store sees it.

use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;

use crate::crypto::Secret;
use crate::i18n::Text;
use crate::model::{AuthMethod, ImportMode, LeavePolicy, Security};
use crate::pop3::tls;
use crate::store::accounts::{Account, AccountSettings};

const MAX_HOST_BYTES: usize = 253;
const MAX_TEXT_BYTES: usize = 256;
const MAX_PASSWORD_BYTES: usize = 1024;
const MAX_CA_PEM_BYTES: usize = 64 * 1024;
const MAX_DELETE_AFTER_DAYS: i32 = 3650;
pub const DEFAULT_COLOR: &str = "#3b6fd4";

/// A value a person entered that cannot work, and why, in words for that person.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{field}: {problem}")]
pub struct InvalidAccount {
    /// The input field at fault, as the API and the form name it.
    pub field: &'static str,
    pub problem: Text,
}

impl InvalidAccount {
    /// "Check the field {field}: {problem}" — the refusal as one sentence, for a page
    /// that shows it away from its field.
    pub fn text(&self) -> Text {
        Text::new("form-check-field")
            .with("field", self.field)
            .with("problem", self.problem.clone())
    }
}

pub(crate) fn invalid(field: &'static str, problem: Text) -> InvalidAccount {
    InvalidAccount { field, problem }
}

/// A whole account as a person describes it, before validation: what the web form, the
/// API's create call and `tributary account add` produce. Only `email`, `host` and
/// `username` are always needed, and a `password` for a new account; the rest has
/// defaults.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountDraft {
    pub label: Option<String>,
    /// `#rrggbb`; empty or absent for the default.
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$")]
    pub color: Option<String>,
    pub email: String,
    #[schema(min_length = 1, max_length = 253)]
    pub host: String,
    /// Defaults to 995 for `tls`, 110 otherwise.
    #[schema(minimum = 1, maximum = 65535)]
    pub port: Option<u16>,
    #[serde(default = "default_security")]
    pub security: Security,
    #[serde(rename = "auth", default = "default_auth")]
    pub auth_method: AuthMethod,
    pub username: String,
    /// Required for a new account (this schema is the API's create body, so it says so);
    /// when a draft changes an account, absent keeps the stored password, never decrypted.
    #[schema(value_type = String, format = Password, min_length = 1, required = true)]
    pub password: Option<Secret>,
    pub tls_ca_pem: Option<String>,
    pub tls_pin_sha256: Option<String>,
    #[serde(default = "default_leave")]
    pub leave_on_server: LeavePolicy,
    /// Required with `delete_after_days`.
    pub delete_after_days: Option<i32>,
    #[serde(rename = "import", default = "default_import")]
    pub import_mode: ImportMode,
    /// `null`: automatic (more often when mail arrives).
    pub poll_minutes: Option<i32>,
    pub max_message_bytes: Option<i64>,
    /// Absent: a new account is checked at once; a changed one stays as it was.
    pub enabled: Option<bool>,
}

fn default_security() -> Security {
    Security::Tls
}
fn default_auth() -> AuthMethod {
    AuthMethod::UserPass
}
fn default_leave() -> LeavePolicy {
    LeavePolicy::Keep
}
fn default_import() -> ImportMode {
    ImportMode::All
}

impl AccountDraft {
    /// The draft as JSON that reads back as the same draft, its password left out: what
    /// waits in a sign-in under way.
    pub fn to_json_without_password(&self) -> serde_json::Value {
        serde_json::json!({
            "label": self.label, "color": self.color, "email": self.email, "host": self.host,
            "port": self.port, "security": self.security, "auth": self.auth_method,
            "username": self.username, "tls_ca_pem": self.tls_ca_pem,
            "tls_pin_sha256": self.tls_pin_sha256, "leave_on_server": self.leave_on_server,
            "delete_after_days": self.delete_after_days, "import": self.import_mode,
            "poll_minutes": self.poll_minutes, "max_message_bytes": self.max_message_bytes,
            "enabled": self.enabled,
        })
    }

    /// A draft with the defaults, for the given server and sign-in.
    pub fn new(email: &str, host: &str, username: &str) -> Self {
        Self {
            label: None,
            color: None,
            email: email.to_owned(),
            host: host.to_owned(),
            port: None,
            security: default_security(),
            auth_method: default_auth(),
            username: username.to_owned(),
            password: None,
            tls_ca_pem: None,
            tls_pin_sha256: None,
            leave_on_server: default_leave(),
            delete_after_days: None,
            import_mode: default_import(),
            poll_minutes: None,
            max_message_bytes: None,
            enabled: None,
        }
    }

    /// The draft that describes `account` as it is stored (its password left out).
    pub fn from_account(account: &Account) -> Self {
        Self {
            label: Some(account.label.clone()),
            color: Some(account.color.clone()),
            email: account.email.clone(),
            host: account.host.clone(),
            port: u16::try_from(account.port).ok(),
            security: account.security,
            auth_method: account.auth_method,
            username: account.username.clone(),
            password: None,
            tls_ca_pem: account.tls_ca_pem.clone(),
            tls_pin_sha256: account.tls_pin_sha256.clone(),
            leave_on_server: account.leave_on_server,
            delete_after_days: account.delete_after_days,
            import_mode: account.import_mode,
            poll_minutes: account.poll_minutes,
            max_message_bytes: account.max_message_bytes,
            enabled: None,
        }
    }
}

/// Changes to an account (the API's PATCH): absent fields stay as they are; `null` clears
/// a field that may be empty.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountChanges {
    pub label: Option<String>,
    pub color: Option<String>,
    pub email: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub security: Option<Security>,
    #[serde(rename = "auth")]
    pub auth_method: Option<AuthMethod>,
    pub username: Option<String>,
    #[schema(value_type = Option<String>, format = Password)]
    pub password: Option<Secret>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub tls_ca_pem: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub tls_pin_sha256: Option<Option<String>>,
    pub leave_on_server: Option<LeavePolicy>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub delete_after_days: Option<Option<i32>>,
    #[serde(rename = "import")]
    pub import_mode: Option<ImportMode>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub poll_minutes: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub max_message_bytes: Option<Option<i64>>,
    pub enabled: Option<bool>,
}

/// A field that may be absent (keep), `null` (clear) or a value (set).
fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl AccountChanges {
    /// The whole account these changes make of `current`.
    pub fn apply_to(self, current: &Account) -> AccountDraft {
        let was = AccountDraft::from_account(current);
        AccountDraft {
            label: self.label.or(was.label),
            color: self.color.or(was.color),
            email: self.email.unwrap_or(was.email),
            host: self.host.unwrap_or(was.host),
            port: self.port.or(was.port),
            security: self.security.unwrap_or(was.security),
            auth_method: self.auth_method.unwrap_or(was.auth_method),
            username: self.username.unwrap_or(was.username),
            password: self.password,
            tls_ca_pem: self.tls_ca_pem.unwrap_or(was.tls_ca_pem),
            tls_pin_sha256: self.tls_pin_sha256.unwrap_or(was.tls_pin_sha256),
            leave_on_server: self.leave_on_server.unwrap_or(was.leave_on_server),
            delete_after_days: self.delete_after_days.unwrap_or(was.delete_after_days),
            import_mode: self.import_mode.unwrap_or(was.import_mode),
            poll_minutes: self.poll_minutes.unwrap_or(was.poll_minutes),
            max_message_bytes: self.max_message_bytes.unwrap_or(was.max_message_bytes),
            enabled: self.enabled,
        }
    }
}

/// Whether a draft must bring a password: a new account must, a changed one need not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Password {
    Required,
    Optional,
}

/// A draft that passed validation: what the store writes.
#[derive(Debug)]
pub(crate) struct ValidDraft {
    pub settings: AccountSettings,
    pub password: Option<Secret>,
    pub enabled: Option<bool>,
}

/// Whether `text` is a colour as accounts store it: `#` and six hex digits.
pub fn is_color(text: &str) -> bool {
    text.len() == 7 && text.starts_with('#') && text[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// `keep`, `delete` or `days:N`: the leave-on-server choice as one word (the CLI's form).
pub fn parse_leave(text: &str) -> Result<(LeavePolicy, Option<i32>), String> {
    match text.trim() {
        "keep" => Ok((LeavePolicy::Keep, None)),
        "delete" => Ok((LeavePolicy::Delete, None)),
        other => other
            .strip_prefix("days:")
            .and_then(|days| days.parse::<i32>().ok())
            .filter(|days| (1..=MAX_DELETE_AFTER_DAYS).contains(days))
            .map(|days| (LeavePolicy::DeleteAfterDays, Some(days)))
            .ok_or_else(|| "expected keep, delete or days:N (N from 1 to 3650)".to_owned()),
    }
}

pub(crate) fn check_password(password: &Secret) -> Result<(), InvalidAccount> {
    let len = password.expose().len();
    if len == 0 || len > MAX_PASSWORD_BYTES {
        return Err(invalid("password", Text::new("invalid-password-missing")));
    }
    if password.expose().contains(['\r', '\n', '\0']) {
        return Err(invalid(
            "password",
            Text::new("invalid-password-line-break"),
        ));
    }
    Ok(())
}

pub(crate) fn check_host(host: &str) -> Result<String, InvalidAccount> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let missing = || invalid("host", Text::new("invalid-host-missing"));
    if host.is_empty() || host.len() > MAX_HOST_BYTES {
        return Err(missing());
    }
    let host_ok = host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !host_ok {
        return Err(invalid("host", Text::new("invalid-host-characters")));
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(missing());
    }
    Ok(host.to_owned())
}

pub(crate) fn check_text(field: &'static str, text: &str) -> Result<(), InvalidAccount> {
    if text.len() > MAX_TEXT_BYTES || text.contains(char::is_control) {
        return Err(invalid(field, Text::new("invalid-text")));
    }
    Ok(())
}

/// The custom CA and the pin: at most one, each one usable.
pub(crate) fn check_trust(
    ca_pem: Option<String>,
    pin: Option<String>,
) -> Result<(Option<String>, Option<String>), InvalidAccount> {
    let ca_pem = match ca_pem.filter(|pem| !pem.trim().is_empty()) {
        None => None,
        Some(pem) if pem.len() > MAX_CA_PEM_BYTES => {
            return Err(invalid("tls_ca_pem", Text::new("invalid-ca-too-large")));
        }
        Some(pem) => {
            tls::client_config(&tls::Trust::CustomCa(pem.clone()))
                .map_err(|e| invalid("tls_ca_pem", e.text()))?;
            Some(pem)
        }
    };
    let pin = match pin.filter(|pin| !pin.trim().is_empty()) {
        None => None,
        Some(pin) => Some(tls::hex(
            &tls::parse_pin(&pin).map_err(|e| invalid("tls_pin_sha256", e))?,
        )),
    };
    if ca_pem.is_some() && pin.is_some() {
        return Err(invalid("tls_pin_sha256", Text::new("invalid-trust-both")));
    }
    Ok((ca_pem, pin))
}

/// Checks everything a person can get wrong and returns what the store needs.
pub(crate) fn validate(
    draft: AccountDraft,
    password: Password,
) -> Result<ValidDraft, InvalidAccount> {
    let host = check_host(&draft.host)?;
    let port = draft
        .port
        .unwrap_or_else(|| draft.security.default_pop3_port());
    if port == 0 {
        return Err(invalid("port", Text::new("invalid-port")));
    }
    let username = draft.username.trim().to_owned();
    if username.is_empty() || username.len() > MAX_TEXT_BYTES || username.contains(char::is_control)
    {
        return Err(invalid("username", Text::new("invalid-username")));
    }
    if draft.auth_method.oauth().is_some() && draft.password.is_some() {
        return Err(invalid(
            "password",
            Text::new("invalid-password-with-provider"),
        ));
    }
    match (&draft.password, password) {
        (Some(secret), _) => check_password(secret)?,
        (None, Password::Required) if draft.auth_method.oauth().is_some() => {}
        (None, Password::Required) => {
            return Err(invalid("password", Text::new("invalid-password-missing")));
        }
        (None, Password::Optional) => {}
    }
    let email = draft.email.trim().to_owned();
    check_text("email", &email)?;
    let label = draft
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
    check_text("label", &label)?;
    let (tls_ca_pem, tls_pin_sha256) = check_trust(draft.tls_ca_pem, draft.tls_pin_sha256)?;
    if let Some(minutes) = draft.poll_minutes
        && !(1..=24 * 60).contains(&minutes)
    {
        return Err(invalid("poll_minutes", Text::new("invalid-poll-minutes")));
    }
    // A provider that locks out accounts checked too often (WEB.DE) gets at most its pace:
    // "automatic" becomes exactly that pace, and a faster fixed one is refused in words.
    let floor = crate::providers::for_pop3_host(&host).and_then(|p| {
        p.min_poll_minutes
            .map(|m| (p.name, i32::try_from(m).unwrap_or(i32::MAX)))
    });
    let poll_minutes = match (draft.poll_minutes, floor) {
        (None, Some((_, minimum))) => Some(minimum),
        (Some(minutes), Some((name, minimum))) if minutes < minimum => {
            return Err(invalid(
                "poll_minutes",
                Text::new("invalid-poll-too-often")
                    .with("provider", name)
                    .with("count", minimum),
            ));
        }
        (chosen, _) => chosen,
    };
    if let Some(bytes) = draft.max_message_bytes
        && bytes < 1024
    {
        return Err(invalid("max_message_bytes", Text::new("invalid-max-bytes")));
    }
    let delete_after_days = match (draft.leave_on_server, draft.delete_after_days) {
        (LeavePolicy::DeleteAfterDays, None) => {
            return Err(invalid(
                "delete_after_days",
                Text::new("invalid-delete-days-missing"),
            ));
        }
        (LeavePolicy::DeleteAfterDays, Some(days))
            if !(1..=MAX_DELETE_AFTER_DAYS).contains(&days) =>
        {
            return Err(invalid(
                "leave_on_server",
                Text::new("invalid-delete-days-range"),
            ));
        }
        (LeavePolicy::DeleteAfterDays, Some(days)) => Some(days),
        // The days mean nothing without the policy (and the table refuses them).
        (LeavePolicy::Keep | LeavePolicy::Delete, _) => None,
    };
    let color = match draft.color.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_COLOR.to_owned(),
        Some(color) if is_color(color) => color.to_ascii_lowercase(),
        Some(_) => {
            return Err(invalid("color", Text::new("invalid-color")));
        }
    };
    Ok(ValidDraft {
        settings: AccountSettings {
            label,
            color,
            email,
            host,
            port,
            security: draft.security,
            auth_method: draft.auth_method,
            username,
            tls_ca_pem,
            tls_pin_sha256,
            leave_on_server: draft.leave_on_server,
            delete_after_days,
            import_mode: draft.import_mode,
            poll_minutes,
            max_message_bytes: draft.max_message_bytes,
        },
        password: draft.password,
        enabled: draft.enabled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> AccountDraft {
        AccountDraft {
            password: Some(Secret::new("pw")),
            ..AccountDraft::new("me@example.org", " POP.Example.org. ", "me")
        }
    }

    #[test]
    fn a_waiting_draft_reads_back_the_same_without_its_password() {
        let mut original = draft();
        original.port = Some(9995);
        original.auth_method = AuthMethod::OAuthBearer;
        original.leave_on_server = LeavePolicy::DeleteAfterDays;
        original.delete_after_days = Some(7);
        original.import_mode = ImportMode::New;
        original.tls_ca_pem = Some("-----BEGIN CERTIFICATE-----".into());
        let json = original.to_json_without_password();
        assert!(!json.to_string().contains("pw"), "{json}");
        let back: AccountDraft = serde_json::from_value(json).expect("reads back");
        assert!(back.password.is_none());
        assert_eq!(
            format!(
                "{:?}",
                AccountDraft {
                    password: None,
                    ..original
                }
            ),
            format!("{back:?}")
        );
    }

    #[test]
    fn normalises_and_fills_defaults() {
        let valid = validate(draft(), Password::Required).expect("valid");
        let account = valid.settings;
        assert_eq!(account.host, "pop.example.org");
        assert_eq!(account.port, 995);
        assert_eq!(account.label, "me@example.org");
        assert_eq!(account.leave_on_server, LeavePolicy::Keep);
    }

    #[test]
    fn a_provider_with_a_polling_floor_is_never_polled_faster() {
        let webde = |poll_minutes| AccountDraft {
            password: Some(Secret::new("pw")),
            poll_minutes,
            ..AccountDraft::new("anna@web.de", "POP3.web.de", "anna@web.de")
        };
        let automatic = validate(webde(None), Password::Required).expect("valid");
        assert_eq!(automatic.settings.poll_minutes, Some(15));
        let slower = validate(webde(Some(30)), Password::Required).expect("valid");
        assert_eq!(slower.settings.poll_minutes, Some(30));
        let error = validate(webde(Some(5)), Password::Required).expect_err("too often");
        assert_eq!(error.field, "poll_minutes");
        assert!(
            error.problem.english().contains("WEB.DE"),
            "{}",
            error.problem
        );
        let elsewhere = validate(draft(), Password::Required).expect("valid");
        assert_eq!(
            elsewhere.settings.poll_minutes, None,
            "others keep automatic"
        );
    }

    #[test]
    fn refuses_what_cannot_work() {
        let cases: Vec<(&str, AccountDraft)> = vec![
            (
                "host",
                AccountDraft {
                    host: "pop example".into(),
                    ..draft()
                },
            ),
            (
                "host",
                AccountDraft {
                    host: String::new(),
                    ..draft()
                },
            ),
            (
                "username",
                AccountDraft {
                    username: " ".into(),
                    ..draft()
                },
            ),
            (
                "password",
                AccountDraft {
                    password: Some(Secret::new("a\r\nDELE 1")),
                    ..draft()
                },
            ),
            (
                "password",
                AccountDraft {
                    password: Some(Secret::new("")),
                    ..draft()
                },
            ),
            (
                "password",
                AccountDraft {
                    password: None,
                    ..draft()
                },
            ),
            (
                "tls_pin_sha256",
                AccountDraft {
                    tls_pin_sha256: Some("abc".into()),
                    ..draft()
                },
            ),
            (
                "tls_ca_pem",
                AccountDraft {
                    tls_ca_pem: Some("not a pem".into()),
                    ..draft()
                },
            ),
            (
                "poll_minutes",
                AccountDraft {
                    poll_minutes: Some(0),
                    ..draft()
                },
            ),
            (
                "leave_on_server",
                AccountDraft {
                    leave_on_server: LeavePolicy::DeleteAfterDays,
                    delete_after_days: Some(0),
                    ..draft()
                },
            ),
            (
                "delete_after_days",
                AccountDraft {
                    leave_on_server: LeavePolicy::DeleteAfterDays,
                    delete_after_days: None,
                    ..draft()
                },
            ),
        ];
        for (field, case) in cases {
            let error = validate(case, Password::Required).expect_err(field);
            assert_eq!(error.field, field, "{error}");
            assert!(!error.to_string().contains("DELE"), "{error}");
        }
    }

    #[test]
    fn a_change_needs_no_password_and_keeps_none() {
        let valid = validate(
            AccountDraft {
                password: None,
                ..draft()
            },
            Password::Optional,
        )
        .expect("valid without a password");
        assert!(valid.password.is_none());
    }

    #[test]
    fn parses_leave_policies() {
        assert_eq!(parse_leave("keep"), Ok((LeavePolicy::Keep, None)));
        assert_eq!(parse_leave("delete"), Ok((LeavePolicy::Delete, None)));
        assert_eq!(
            parse_leave("days:30"),
            Ok((LeavePolicy::DeleteAfterDays, Some(30)))
        );
        assert!(parse_leave("days:0").is_err());
        assert!(parse_leave("days:x").is_err());
        assert!(parse_leave("sometimes").is_err());
    }
}
