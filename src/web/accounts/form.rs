//! The add/edit form as typed, turned into what the account service takes.
//!
//! The form never sends a password back to the browser. After "Test connection" the typed
//! password rides along in a hidden field *sealed* with the master key (AES-256-GCM, bound
//! to the user), so the person need not type it again to save.

use crate::i18n::Text;
use base64::Engine as _;
use serde::Deserialize;
use uuid::Uuid;

use super::super::{AppState, WebError};
use crate::accounts::{AccountDraft, InvalidAccount};
use crate::crypto::{KeyId, Sealed, Secret};
use crate::model::{AuthMethod, ImportMode, LeavePolicy, Security};
use crate::store::accounts::Account;

/// Colours offered in the form (any `#rrggbb` is accepted), with their catalogue names.
const PALETTE: &[(&str, &str)] = &[
    ("#3b6fd4", "colour-blue"),
    ("#2e9e5b", "colour-green"),
    ("#d2452f", "colour-red"),
    ("#e69a1a", "colour-orange"),
    ("#8a4fd0", "colour-purple"),
    ("#1a9bb0", "colour-teal"),
    ("#c2417f", "colour-pink"),
    ("#6b7280", "colour-grey"),
];

/// The form as typed: every field a string, so a bad value can be shown back as it was.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AccountForm {
    pub(super) action: String,
    pub(super) label: String,
    pub(super) color: String,
    pub(super) email: String,
    pub(super) host: String,
    pub(super) port: String,
    pub(super) security: String,
    pub(super) auth: String,
    pub(super) username: String,
    pub(super) password: String,
    pub(super) sealed_password: String,
    pub(super) trust: String,
    pub(super) tls_ca_pem: String,
    pub(super) tls_pin_sha256: String,
    pub(super) leave: String,
    pub(super) delete_after_days: String,
    pub(super) polling: String,
    pub(super) poll_minutes: String,
    pub(super) import: String,
    pub(super) max_message_mb: String,
}

/// The form's words for the leave-on-server choices.
fn leave_value(policy: LeavePolicy) -> &'static str {
    match policy {
        LeavePolicy::Keep => "keep",
        LeavePolicy::Delete => "delete",
        LeavePolicy::DeleteAfterDays => "days",
    }
}

impl AccountForm {
    /// Sensible choices for a new account at `email`, with the proposed server.
    pub(super) fn proposed(email: &str, host: &str, port: u16, security: Security) -> Self {
        Self {
            email: email.to_owned(),
            label: email.to_owned(),
            color: PALETTE[0].0.to_owned(),
            host: host.to_owned(),
            port: port.to_string(),
            security: security.as_str().to_owned(),
            auth: AuthMethod::UserPass.as_str().into(),
            username: email.to_owned(),
            trust: "webpki".into(),
            leave: leave_value(LeavePolicy::Keep).into(),
            delete_after_days: "30".into(),
            polling: "auto".into(),
            poll_minutes: "10".into(),
            import: ImportMode::All.as_str().into(),
            ..Self::default()
        }
    }

    pub(super) fn from_account(account: &Account) -> Self {
        Self {
            label: account.label.clone(),
            color: account.color.clone(),
            email: account.email.clone(),
            host: account.host.clone(),
            port: account.port.to_string(),
            security: account.security.as_str().to_owned(),
            auth: account.auth_method.as_str().to_owned(),
            username: account.username.clone(),
            trust: match (&account.tls_ca_pem, &account.tls_pin_sha256) {
                (Some(_), _) => "ca",
                (None, Some(_)) => "pin",
                (None, None) => "webpki",
            }
            .into(),
            tls_ca_pem: account.tls_ca_pem.clone().unwrap_or_default(),
            tls_pin_sha256: account.tls_pin_sha256.clone().unwrap_or_default(),
            leave: leave_value(account.leave_on_server).into(),
            delete_after_days: account.delete_after_days.unwrap_or(30).to_string(),
            polling: if account.poll_minutes.is_some() {
                "fixed"
            } else {
                "auto"
            }
            .into(),
            poll_minutes: account.poll_minutes.unwrap_or(10).to_string(),
            import: account.import_mode.as_str().into(),
            max_message_mb: account
                .max_message_bytes
                .map(|b| (b / (1024 * 1024)).max(1).to_string())
                .unwrap_or_default(),
            ..Self::default()
        }
    }

    /// The part of the address before the `@`, for the one-click user-name switch.
    pub(super) fn local_part(&self) -> &str {
        self.email.split('@').next().unwrap_or("")
    }

    pub(super) fn palette(&self) -> Vec<(&'static str, &'static str, bool)> {
        PALETTE
            .iter()
            .map(|(value, name)| (*value, *name, self.color.eq_ignore_ascii_case(value)))
            .collect()
    }

    /// The one-click user-name switch without JavaScript: the button submits the form.
    pub(super) fn switched_username(&self) -> Option<String> {
        match self.action.as_str() {
            "use_local_part" => Some(self.local_part().to_owned()),
            "use_full_address" => Some(self.email.trim().to_owned()),
            _ => None,
        }
    }

    /// What the form asks for, as the account service takes it. The checks here are only
    /// those of the form's own words (a number field that holds no number); the service
    /// validates the rest.
    pub(super) fn draft(&self, password: Option<Secret>) -> Result<AccountDraft, InvalidAccount> {
        let field = |field, problem| InvalidAccount { field, problem };
        let security = Security::ALL
            .into_iter()
            .find(|s| s.as_str() == self.security)
            .ok_or_else(|| field("security", Text::new("invalid-choose-security")))?;
        let auth_method = match self.auth.as_str() {
            "" => AuthMethod::UserPass,
            text => AuthMethod::ALL
                .into_iter()
                .chain([AuthMethod::XOAuth2, AuthMethod::OAuthBearer])
                .find(|a| a.as_str() == text)
                .ok_or_else(|| field("auth", Text::new("invalid-choose-auth")))?,
        };
        let port = match self.port.trim() {
            "" => None,
            text => Some(
                text.parse::<u16>()
                    .map_err(|_| field("port", Text::new("invalid-port-number")))?,
            ),
        };
        let (tls_ca_pem, tls_pin_sha256) = match self.trust.as_str() {
            "ca" if self.tls_ca_pem.trim().is_empty() => {
                return Err(field("tls_ca_pem", Text::new("invalid-paste-ca")));
            }
            "pin" if self.tls_pin_sha256.trim().is_empty() => {
                return Err(field("tls_pin_sha256", Text::new("invalid-paste-pin")));
            }
            "ca" => (Some(self.tls_ca_pem.clone()), None),
            "pin" => (None, Some(self.tls_pin_sha256.clone())),
            _ => (None, None),
        };
        let (leave_on_server, delete_after_days) =
            match self.leave.as_str() {
                "keep" | "" => (LeavePolicy::Keep, None),
                "delete" => (LeavePolicy::Delete, None),
                "days" => (
                    LeavePolicy::DeleteAfterDays,
                    Some(self.delete_after_days.trim().parse().map_err(|_| {
                        field("delete_after_days", Text::new("invalid-days-number"))
                    })?),
                ),
                _ => return Err(field("leave", Text::new("invalid-choose-leave"))),
            };
        let poll_minutes = match self.polling.as_str() {
            "fixed" => Some(
                self.poll_minutes
                    .trim()
                    .parse()
                    .map_err(|_| field("poll_minutes", Text::new("invalid-minutes-number")))?,
            ),
            _ => None,
        };
        let import_mode = match self.import.as_str() {
            "new" => ImportMode::New,
            _ => ImportMode::All,
        };
        let max_message_bytes = match self.max_message_mb.trim() {
            "" => None,
            text => {
                let mb: i64 = text
                    .parse()
                    .ok()
                    .filter(|mb| (1..=2048).contains(mb))
                    .ok_or_else(|| field("max_message_mb", Text::new("invalid-megabytes")))?;
                Some(mb * 1024 * 1024)
            }
        };
        Ok(AccountDraft {
            label: Some(self.label.clone()),
            color: Some(self.color.clone()),
            port,
            security,
            auth_method,
            password,
            tls_ca_pem,
            tls_pin_sha256,
            leave_on_server,
            delete_after_days,
            import_mode,
            poll_minutes,
            max_message_bytes,
            ..AccountDraft::new(&self.email, &self.host, &self.username)
        })
    }
}

// ---------------------------------------------------------------------------------------
// The password held between "Test connection" and "Save"

fn pending_binding(user_id: Uuid) -> Vec<u8> {
    let mut binding = b"pending-account-password:".to_vec();
    binding.extend_from_slice(user_id.as_bytes());
    binding
}

pub(super) fn seal_pending(
    state: &AppState,
    user_id: Uuid,
    password: &Secret,
) -> Result<String, WebError> {
    let sealed = state
        .keys
        .seal(&pending_binding(user_id), password.expose().as_bytes())?;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    Ok(format!(
        "{}.{}.{}",
        b64.encode(sealed.key_id.as_str()),
        b64.encode(&sealed.nonce),
        b64.encode(&sealed.ciphertext)
    ))
}

fn open_pending(state: &AppState, user_id: Uuid, text: &str) -> Option<Secret> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = text.split('.');
    let key_id = String::from_utf8(b64.decode(parts.next()?).ok()?).ok()?;
    let nonce = b64.decode(parts.next()?).ok()?;
    let ciphertext = b64.decode(parts.next()?).ok()?;
    let sealed = Sealed {
        key_id: KeyId::from_stored(key_id),
        nonce,
        ciphertext,
    };
    state
        .keys
        .open_secret(&pending_binding(user_id), &sealed)
        .ok()
}

/// The password to use: typed now, else held (sealed) from a test, else — when editing —
/// the stored one is kept (`None`).
pub(super) fn password_from(state: &AppState, user_id: Uuid, form: &AccountForm) -> Option<Secret> {
    if !form.password.is_empty() {
        return Some(Secret::new(form.password.clone()));
    }
    if !form.sealed_password.is_empty() {
        return open_pending(state, user_id, &form.sealed_password);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_name_switch_offers_the_local_part() {
        let form = AccountForm::proposed("ann@example.org", "pop.example.org", 995, Security::Tls);
        assert_eq!(form.local_part(), "ann");
    }

    #[test]
    fn form_words_become_a_draft() {
        let mut form = AccountForm::proposed(
            "ann@example.org",
            "pop.example.org",
            995,
            Security::StartTls,
        );
        form.leave = "days".into();
        form.delete_after_days = "7".into();
        form.auth = "sasl-login".into();
        let draft = form.draft(None).expect("draft");
        assert_eq!(draft.security, Security::StartTls);
        assert_eq!(draft.auth_method, AuthMethod::SaslLogin);
        assert_eq!(
            (draft.leave_on_server, draft.delete_after_days),
            (LeavePolicy::DeleteAfterDays, Some(7))
        );
        form.security = "sometimes".into();
        assert_eq!(form.draft(None).expect_err("bad").field, "security");
    }
}
