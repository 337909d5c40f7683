//! What a person asks for — a sending identity ([`IdentityDraft`]) or a message
//! ([`MessageDraft`]) — and the one validation every way in goes through.

use crate::i18n::Text;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{SendLimits, SendingError};
use crate::accounts::InvalidAccount;
use crate::accounts::draft::{check_host, check_password, check_text, check_trust, invalid};
use crate::crypto::Secret;
use crate::mail::address::{self, Mailbox};
use crate::model::{Security, SmtpAuth};
use crate::store::accounts::Account;
use crate::store::identities::IdentitySettings;
use crate::store::outbox::{Attachment, Composition};

const MAX_SIGNATURE_BYTES: usize = 4 * 1024;
const MAX_SUBJECT_CHARS: usize = 998;

/// A sending identity as a person describes it. Blank `from_address` is the account's
/// address; no `smtp_username` means the account's POP3 login.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityDraft {
    #[serde(default)]
    pub from_name: String,
    pub from_address: Option<String>,
    pub reply_to: Option<String>,
    #[serde(default)]
    pub signature: String,
    #[schema(min_length = 1, max_length = 253)]
    pub smtp_host: String,
    /// Defaults to 465 for `tls`, 587 otherwise.
    #[schema(minimum = 1, maximum = 65535)]
    pub smtp_port: Option<u16>,
    #[serde(default = "default_security")]
    pub smtp_security: Security,
    #[serde(default)]
    pub smtp_auth: SmtpAuth,
    pub tls_ca_pem: Option<String>,
    pub tls_pin_sha256: Option<String>,
    pub smtp_username: Option<String>,
    /// With `smtp_username`; absent keeps the stored one for the same user name.
    #[schema(value_type = Option<String>, format = Password)]
    pub smtp_password: Option<Secret>,
}

fn default_security() -> Security {
    Security::Tls
}

impl IdentityDraft {
    /// The usual identity: the account's address and login, implicit TLS on 465.
    pub fn new(smtp_host: &str) -> Self {
        Self {
            from_name: String::new(),
            from_address: None,
            reply_to: None,
            signature: String::new(),
            smtp_host: smtp_host.to_owned(),
            smtp_port: None,
            smtp_security: default_security(),
            smtp_auth: SmtpAuth::default(),
            tls_ca_pem: None,
            tls_pin_sha256: None,
            smtp_username: None,
            smtp_password: None,
        }
    }
}

/// An identity that passed validation.
#[derive(Debug)]
pub struct ValidIdentity {
    pub settings: IdentitySettings,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<Secret>,
}

impl IdentityDraft {
    pub(crate) fn validate(self, account: &Account) -> Result<ValidIdentity, InvalidAccount> {
        let smtp_host = check_host(&self.smtp_host).map_err(|e| invalid("smtp_host", e.problem))?;
        let smtp_port = self
            .smtp_port
            .unwrap_or_else(|| self.smtp_security.default_submission_port());
        if smtp_port == 0 {
            return Err(invalid("smtp_port", Text::new("invalid-port")));
        }
        let from_name = self.from_name.trim().to_owned();
        check_text("from_name", &from_name)?;
        let from_address = match self.from_address.as_deref().map(str::trim) {
            Some(address) if !address.is_empty() => address.to_owned(),
            _ => account.email.clone(),
        };
        let from_address =
            address::parse_address(&from_address).map_err(|e| invalid("from_address", e.text()))?;
        let reply_to = match self.reply_to.as_deref().map(str::trim) {
            Some(address) if !address.is_empty() => {
                Some(address::parse_address(address).map_err(|e| invalid("reply_to", e.text()))?)
            }
            _ => None,
        };
        let signature = self.signature.replace("\r\n", "\n");
        if signature.len() > MAX_SIGNATURE_BYTES
            || signature.chars().any(|c| c.is_control() && c != '\n')
        {
            return Err(invalid("signature", Text::new("invalid-text")));
        }
        let (tls_ca_pem, tls_pin_sha256) = check_trust(self.tls_ca_pem, self.tls_pin_sha256)?;
        let smtp_username = self
            .smtp_username
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty());
        if let Some(username) = &smtp_username {
            check_text("smtp_username", username)?;
        }
        let smtp_password = self.smtp_password.filter(|p| !p.is_empty());
        if let Some(password) = &smtp_password {
            check_password(password).map_err(|e| invalid("smtp_password", e.problem))?;
            if smtp_username.is_none() {
                return Err(invalid(
                    "smtp_username",
                    Text::new("invalid-smtp-username-missing"),
                ));
            }
        }
        Ok(ValidIdentity {
            settings: IdentitySettings {
                from_name,
                from_address,
                reply_to,
                signature,
                smtp_host,
                smtp_port,
                smtp_security: self.smtp_security,
                smtp_auth: self.smtp_auth,
                tls_ca_pem,
                tls_pin_sha256,
            },
            smtp_username,
            smtp_password,
        })
    }
}

/// A message as a person writes it: recipients as typed (comma-separated lists).
#[derive(Debug, Clone, Default)]
pub struct MessageDraft {
    pub account_id: Option<Uuid>,
    pub to: String,
    pub cc: String,
    pub bcc: String,
    pub subject: String,
    pub body: String,
    pub in_reply_to: Option<i64>,
    pub attachments: Vec<Attachment>,
}

/// A message that passed the checks.
#[derive(Debug)]
pub(crate) struct CheckedMessage {
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub bcc: Vec<Mailbox>,
    pub composition: Composition,
}

fn split(text: &str) -> Vec<String> {
    text.split([',', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl MessageDraft {
    /// As written, unchecked: a draft may be half-finished.
    pub(crate) fn composition_unchecked(&self) -> Composition {
        Composition {
            account_id: self.account_id,
            to: split(&self.to),
            cc: split(&self.cc),
            bcc: split(&self.bcc),
            subject: self.subject.clone(),
            body: self.body.clone(),
            in_reply_to: self.in_reply_to,
        }
    }

    pub(crate) fn check(&self, limits: &SendLimits) -> Result<CheckedMessage, SendingError> {
        let field = |name: &'static str, text: &str| {
            address::parse_list(text).map_err(|e| SendingError::invalid(name, e.text()))
        };
        let (to, cc, bcc) = (
            field("to", &self.to)?,
            field("cc", &self.cc)?,
            field("bcc", &self.bcc)?,
        );
        let count = to.len() + cc.len() + bcc.len();
        if count == 0 {
            return Err(SendingError::invalid(
                "to",
                Text::new("invalid-no-recipient"),
            ));
        }
        if count > limits.max_recipients {
            return Err(SendingError::invalid(
                "to",
                Text::new("invalid-too-many-recipients")
                    .with("count", count)
                    .with("limit", limits.max_recipients),
            ));
        }
        if self.subject.chars().any(char::is_control) {
            return Err(SendingError::invalid(
                "subject",
                Text::new("invalid-subject-control"),
            ));
        }
        if self.subject.chars().count() > MAX_SUBJECT_CHARS {
            return Err(SendingError::invalid(
                "subject",
                Text::new("invalid-subject-long"),
            ));
        }
        if self.body.contains('\0') {
            return Err(SendingError::invalid("body", Text::new("invalid-body-nul")));
        }
        let shown = |list: &[Mailbox]| list.iter().map(Mailbox::to_string).collect();
        Ok(CheckedMessage {
            composition: Composition {
                account_id: self.account_id,
                to: shown(&to),
                cc: shown(&cc),
                bcc: shown(&bcc),
                subject: self.subject.clone(),
                body: self.body.clone(),
                in_reply_to: self.in_reply_to,
            },
            to,
            cc,
            bcc,
        })
    }
}
