//! An account's "Send mail as" settings: From, Reply-To, signature and its SMTP
//! submission server, with "Test sending" (signs in, sends nothing). The workflow is the
//! sending service's (`crate::sending`).

use crate::i18n::Text;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use crate::crypto::Secret;
use crate::model::{Security, SmtpAuth};
use crate::sending::{IdentityDraft, SendingError};
use crate::store::accounts::Account;
use crate::store::identities::Identity;
use crate::web::form::Posted;
use crate::web::session::SignedIn;
use crate::web::shell::{Nav, Shell};
use crate::web::{AppState, WebError};

/// The form's fields, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SendingForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    from_name: String,
    #[serde(default)]
    from_address: String,
    #[serde(default)]
    reply_to: String,
    #[serde(default)]
    signature: String,
    #[serde(default)]
    smtp_host: String,
    #[serde(default)]
    smtp_port: String,
    #[serde(default)]
    smtp_security: String,
    #[serde(default)]
    smtp_auth: String,
    #[serde(default)]
    tls_ca_pem: String,
    #[serde(default)]
    tls_pin_sha256: String,
    /// `pop3` (the account's login) or `own`.
    #[serde(default)]
    login: String,
    #[serde(default)]
    smtp_username: String,
    #[serde(default)]
    smtp_password: String,
}

impl SendingForm {
    /// The usual guess for a new identity: `smtp.` beside the POP3 server, implicit TLS.
    fn suggested(account: &Account) -> Self {
        let host = account
            .host
            .strip_prefix("pop.")
            .or_else(|| account.host.strip_prefix("pop3."))
            .map(|domain| format!("smtp.{domain}"))
            .unwrap_or_else(|| account.host.clone());
        Self {
            from_address: account.email.clone(),
            smtp_host: host,
            smtp_port: "465".into(),
            smtp_security: "tls".into(),
            smtp_auth: "plain".into(),
            login: "pop3".into(),
            ..Self::default()
        }
    }

    fn from_identity(identity: &Identity) -> Self {
        Self {
            action: String::new(),
            from_name: identity.from_name.clone(),
            from_address: identity.from_address.clone(),
            reply_to: identity.reply_to.clone().unwrap_or_default(),
            signature: identity.signature.clone(),
            smtp_host: identity.smtp_host.clone(),
            smtp_port: identity.smtp_port.to_string(),
            smtp_security: identity.smtp_security.as_str().into(),
            smtp_auth: identity.smtp_auth.as_str().into(),
            tls_ca_pem: identity.tls_ca_pem.clone().unwrap_or_default(),
            tls_pin_sha256: identity.tls_pin_sha256.clone().unwrap_or_default(),
            login: if identity.smtp_username.is_some() {
                "own"
            } else {
                "pop3"
            }
            .into(),
            smtp_username: identity.smtp_username.clone().unwrap_or_default(),
            smtp_password: String::new(),
        }
    }

    fn draft(&self) -> Result<IdentityDraft, (&'static str, Text)> {
        let security = Security::ALL
            .into_iter()
            .find(|s| s.as_str() == self.smtp_security)
            .unwrap_or(Security::Tls);
        let auth = SmtpAuth::ALL
            .into_iter()
            .find(|a| a.as_str() == self.smtp_auth)
            .unwrap_or_default();
        let port = match self.smtp_port.trim() {
            "" => None,
            port => Some(
                port.parse::<u16>()
                    .map_err(|_| ("smtp_port", Text::new("invalid-port-number")))?,
            ),
        };
        let own = self.login == "own";
        let text = |t: &str| Some(t.trim().to_owned()).filter(|t| !t.is_empty());
        Ok(IdentityDraft {
            from_name: self.from_name.clone(),
            from_address: text(&self.from_address),
            reply_to: text(&self.reply_to),
            signature: self.signature.clone(),
            smtp_port: port,
            smtp_security: security,
            smtp_auth: auth,
            tls_ca_pem: text(&self.tls_ca_pem),
            tls_pin_sha256: text(&self.tls_pin_sha256),
            smtp_username: if own { text(&self.smtp_username) } else { None },
            smtp_password: (own && !self.smtp_password.is_empty())
                .then(|| Secret::new(self.smtp_password.clone())),
            ..IdentityDraft::new(&self.smtp_host)
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "account_sending.html")]
struct SendingPage {
    locale: crate::i18n::Locale,
    shell: Shell,
    account_id: Uuid,
    account_label: String,
    exists: bool,
    form: SendingForm,
    notice: Option<String>,
    error: Option<String>,
    error_field: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    account: &Account,
    form: SendingForm,
) -> Result<SendingPage, WebError> {
    let exists = state
        .sending
        .identity(signed_in.user_id, account.id)
        .await?
        .is_some();
    Ok(SendingPage {
        locale: signed_in.locale.clone(),
        shell: Shell::load(state, signed_in, Nav::Settings, "").await?,
        account_id: account.id,
        account_label: account.label.clone(),
        exists,
        form,
        notice: None,
        error: None,
        error_field: String::new(),
    })
}

/// `GET /settings/accounts/{id}/sending`.
pub async fn sending_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<Uuid>,
    Query(query): Query<SavedQuery>,
) -> Result<Response, WebError> {
    let account = state.accounts.get(signed_in.user_id, id).await?;
    let form = match state.sending.identity(signed_in.user_id, id).await? {
        Some(identity) => SendingForm::from_identity(&identity),
        None => SendingForm::suggested(&account),
    };
    let mut page = page(&state, &signed_in, &account, form).await?;
    if query.saved.is_some() {
        page.notice = Some(signed_in.locale.t("sending-saved"));
    }
    Ok(page.into_response())
}

/// "Find my server": the form as typed, with the server found for the From address's
/// domain (or the account's) filled in and how it was found said.
async fn detected(
    state: &AppState,
    signed_in: &SignedIn,
    account: &Account,
    mut form: SendingForm,
) -> Result<SendingPage, WebError> {
    let address = match form.from_address.trim() {
        "" => account.email.clone(),
        typed => typed.to_owned(),
    };
    let found = state.sending.discover_server(&address).await;
    form.smtp_password.clear();
    let said = match &found {
        Some(server) => {
            form.smtp_host = server.host.clone();
            form.smtp_port = server.port.to_string();
            form.smtp_security = server.security.as_str().into();
            signed_in.locale.t1(
                "sending-found",
                "found",
                super::found_in_words(&signed_in.locale, server),
            )
        }
        None => {
            let domain = address.rsplit_once('@').map_or("", |(_, d)| d);
            signed_in.locale.t1("sending-not-found", "domain", domain)
        }
    };
    let mut shown = page(state, signed_in, account, form).await?;
    if found.is_some() {
        shown.notice = Some(said);
    } else {
        shown.error = Some(said);
    }
    Ok(shown)
}

/// `POST /settings/accounts/{id}/sending`: `action=save`, `test` (save, then sign in and
/// send nothing), `try` (test without saving), `detect` (find the server, change nothing
/// stored) or `remove`.
pub async fn sending_post(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Posted(signed_in, form): Posted<SendingForm>,
) -> Result<Response, WebError> {
    let account = state.accounts.get(signed_in.user_id, id).await?;
    if form.action == "remove" {
        state.sending.remove_identity(signed_in.user_id, id).await?;
        return Ok(Redirect::to("/settings/accounts").into_response());
    }
    if form.action == "detect" {
        return Ok(detected(&state, &signed_in, &account, form)
            .await?
            .into_response());
    }
    let refused = |page: &mut SendingPage, field: &str, text: Text| {
        page.error = Some(signed_in.locale.say(&text));
        page.error_field = field.to_owned();
    };
    let draft = match form.draft() {
        Ok(draft) => draft,
        Err((field, text)) => {
            let mut shown = page(&state, &signed_in, &account, form).await?;
            refused(&mut shown, field, text);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, shown).into_response());
        }
    };
    let mut blank_password = form.clone();
    blank_password.smtp_password.clear();
    if form.action == "try" {
        // Pages never carry a password back, so a typed one must be typed again to save.
        let retype = !form.smtp_password.is_empty();
        let mut shown = page(&state, &signed_in, &account, blank_password).await?;
        match state
            .sending
            .test_unsaved(signed_in.user_id, id, draft)
            .await
        {
            Ok(Ok(report)) => {
                let locale = &signed_in.locale;
                let over = report
                    .tls_version
                    .clone()
                    .unwrap_or_else(|| locale.t("sending-unencrypted"));
                let mut notice = locale.t1("sending-try-worked", "version", over);
                if retype {
                    notice = format!("{notice} {}", locale.t("sending-retype-password"));
                }
                shown.notice = Some(notice);
            }
            Ok(Err(error)) => {
                let problem = signed_in.locale.say(&error.text());
                shown.error = Some(
                    signed_in
                        .locale
                        .t1("sending-try-failed", "problem", problem),
                );
            }
            Err(SendingError::Invalid(invalid)) => {
                refused(&mut shown, invalid.field, invalid.problem);
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, shown).into_response());
            }
            Err(other) => return Err(other.into()),
        }
        return Ok(shown.into_response());
    }
    match state
        .sending
        .save_identity(signed_in.user_id, id, draft)
        .await
    {
        Ok(_) => {}
        Err(SendingError::Invalid(invalid)) => {
            let mut shown = page(&state, &signed_in, &account, blank_password).await?;
            refused(&mut shown, invalid.field, invalid.problem);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, shown).into_response());
        }
        Err(other) => return Err(other.into()),
    }
    if form.action != "test" {
        return Ok(
            Redirect::to(&format!("/settings/accounts/{id}/sending?saved=1")).into_response(),
        );
    }
    let mut shown = page(&state, &signed_in, &account, blank_password).await?;
    match state.sending.test_identity(signed_in.user_id, id).await? {
        Ok(report) => {
            let locale = &signed_in.locale;
            shown.notice = Some(match report.tls_version {
                Some(version) => locale.t1("sending-test-worked", "version", version),
                None => locale.t("sending-test-worked-unencrypted"),
            });
        }
        Err(error) => {
            let problem = signed_in.locale.say(&error.text());
            shown.error = Some(
                signed_in
                    .locale
                    .t1("sending-test-failed", "problem", problem),
            );
        }
    }
    Ok(shown.into_response())
}
