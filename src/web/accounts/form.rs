//! The add/edit form with "Test connection", and the add-account wizard that proposes a
//! server for an address.
//!
//! The form never sends a password back to the browser. After "Test connection" the typed
//! password rides along in a hidden field *sealed* with the master key (AES-256-GCM, bound
//! to the user), so the person need not type it again to save.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::super::form::Form;
use super::super::message::human_size;
use super::super::session::SignedIn;
use super::super::shell::{self, Nav, Shell};
use super::super::{AppState, WebError};
use super::{Status, status};
use crate::accounts::{AccountDraft, AccountError, ConnectionTest, InvalidAccount};
use crate::crypto::{KeyId, Sealed, Secret};
use crate::model::{AuthMethod, ImportMode, LeavePolicy, RunOutcome, Security, Trigger};
use crate::store::accounts::Account;

/// Colours offered in the form (any `#rrggbb` is accepted).
const PALETTE: &[(&str, &str)] = &[
    ("#3b6fd4", "Blue"),
    ("#2e9e5b", "Green"),
    ("#d2452f", "Red"),
    ("#e69a1a", "Orange"),
    ("#8a4fd0", "Purple"),
    ("#1a9bb0", "Teal"),
    ("#c2417f", "Pink"),
    ("#6b7280", "Grey"),
];

/// Runs shown on the edit page.
const HISTORY_RUNS: i64 = 20;

/// The form as typed: every field a string, so a bad value can be shown back as it was.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AccountForm {
    csrf: String,
    action: String,
    label: String,
    color: String,
    email: String,
    host: String,
    port: String,
    security: String,
    auth: String,
    username: String,
    password: String,
    sealed_password: String,
    trust: String,
    tls_ca_pem: String,
    tls_pin_sha256: String,
    leave: String,
    delete_after_days: String,
    polling: String,
    poll_minutes: String,
    import: String,
    max_message_mb: String,
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
    fn proposed(email: &str, host: &str, port: u16, security: Security) -> Self {
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

    fn from_account(account: &Account) -> Self {
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
    fn local_part(&self) -> &str {
        self.email.split('@').next().unwrap_or("")
    }

    fn palette(&self) -> Vec<(&'static str, &'static str, bool)> {
        PALETTE
            .iter()
            .map(|(value, name)| (*value, *name, self.color.eq_ignore_ascii_case(value)))
            .collect()
    }

    /// The one-click user-name switch without JavaScript: the button submits the form.
    fn switched_username(&self) -> Option<String> {
        match self.action.as_str() {
            "use_local_part" => Some(self.local_part().to_owned()),
            "use_full_address" => Some(self.email.trim().to_owned()),
            _ => None,
        }
    }

    /// What the form asks for, as the account service takes it. The checks here are only
    /// those of the form's own words (a number field that holds no number); the service
    /// validates the rest.
    fn draft(&self, password: Option<Secret>) -> Result<AccountDraft, InvalidAccount> {
        let field = |field, problem: &str| InvalidAccount {
            field,
            problem: problem.to_owned(),
        };
        let security = Security::ALL
            .into_iter()
            .find(|s| s.as_str() == self.security)
            .ok_or_else(|| field("security", "choose how the connection is protected"))?;
        let auth_method = match self.auth.as_str() {
            "" => AuthMethod::UserPass,
            text => AuthMethod::ALL
                .into_iter()
                .find(|a| a.as_str() == text)
                .ok_or_else(|| field("auth", "choose a sign-in method"))?,
        };
        let port = match self.port.trim() {
            "" => None,
            text => Some(
                text.parse::<u16>()
                    .map_err(|_| field("port", "a port is a number from 1 to 65535"))?,
            ),
        };
        let (tls_ca_pem, tls_pin_sha256) = match self.trust.as_str() {
            "ca" if self.tls_ca_pem.trim().is_empty() => {
                return Err(field("tls_ca_pem", "paste the CA certificate (PEM)"));
            }
            "pin" if self.tls_pin_sha256.trim().is_empty() => {
                return Err(field(
                    "tls_pin_sha256",
                    "paste the certificate's SHA-256 fingerprint",
                ));
            }
            "ca" => (Some(self.tls_ca_pem.clone()), None),
            "pin" => (None, Some(self.tls_pin_sha256.clone())),
            _ => (None, None),
        };
        let (leave_on_server, delete_after_days) = match self.leave.as_str() {
            "keep" | "" => (LeavePolicy::Keep, None),
            "delete" => (LeavePolicy::Delete, None),
            "days" => (
                LeavePolicy::DeleteAfterDays,
                Some(
                    self.delete_after_days
                        .trim()
                        .parse()
                        .map_err(|_| field("delete_after_days", "enter a number of days"))?,
                ),
            ),
            _ => return Err(field("leave", "choose what happens on the server")),
        };
        let poll_minutes = match self.polling.as_str() {
            "fixed" => Some(
                self.poll_minutes
                    .trim()
                    .parse()
                    .map_err(|_| field("poll_minutes", "enter a number of minutes"))?,
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
                    .ok_or_else(|| field("max_message_mb", "enter megabytes from 1 to 2048"))?;
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

fn seal_pending(state: &AppState, user_id: Uuid, password: &Secret) -> Result<String, WebError> {
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
fn password_from(state: &AppState, user_id: Uuid, form: &AccountForm) -> Option<Secret> {
    if !form.password.is_empty() {
        return Some(Secret::new(form.password.clone()));
    }
    if !form.sealed_password.is_empty() {
        return open_pending(state, user_id, &form.sealed_password);
    }
    None
}

// ---------------------------------------------------------------------------------------
// The page

/// The result of "Test connection", in words.
#[derive(Debug, Clone)]
struct TestResult {
    ok: bool,
    text: String,
}

fn describe_test(result: ConnectionTest) -> TestResult {
    match result {
        Ok(report) => TestResult {
            ok: true,
            text: format!(
                "Connected{} and signed in. {} waiting on the server ({}). Server features: {}.",
                report
                    .tls_version
                    .map(|v| format!(" securely ({v})"))
                    .unwrap_or_else(|| " WITHOUT encryption".into()),
                match report.messages {
                    1 => "1 message".to_owned(),
                    n => format!("{n} messages"),
                },
                human_size(report.bytes),
                if report.capabilities.is_empty() {
                    "none announced".to_owned()
                } else {
                    report.capabilities.join(", ")
                }
            ),
        },
        Err(error) => TestResult {
            ok: false,
            text: format!("The test failed: {}", error.user_message()),
        },
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "account_form.html")]
struct AccountFormPage {
    shell: Shell,
    /// `None` while adding.
    account_id: Option<Uuid>,
    form: AccountForm,
    error: Option<InvalidAccount>,
    test: Option<TestResult>,
    /// A password is held (sealed) from an earlier test.
    password_held: bool,
    sealed_password: String,
    detection: Option<String>,
    runs: Vec<RunView>,
    skipped: Vec<SkippedView>,
    status: Option<Status>,
}

impl AccountFormPage {
    fn general_error(&self) -> Option<&str> {
        self.error.as_ref().map(|e| e.problem.as_str())
    }

    fn error_field(&self) -> &str {
        self.error.as_ref().map(|e| e.field).unwrap_or("")
    }
}

#[derive(Debug)]
struct RunView {
    started: String,
    started_iso: String,
    trigger: &'static str,
    outcome: &'static str,
    messages: i32,
    size: String,
    skipped: i32,
    error: String,
}

#[derive(Debug)]
struct SkippedView {
    uidl: String,
    size: String,
    when: String,
}

/// What a form page shows besides the form.
#[derive(Debug, Default)]
struct Shown {
    error: Option<InvalidAccount>,
    test: Option<TestResult>,
    /// The typed password, sealed, to hold until "Save".
    sealed_password: Option<String>,
    detection: Option<String>,
}

/// The add page (`account_id` `None`) or the edit page with its status and history.
async fn form_page(
    state: &AppState,
    signed_in: &SignedIn,
    account_id: Option<Uuid>,
    form: AccountForm,
    shown: Shown,
    code: StatusCode,
) -> Result<Response, WebError> {
    let user_id = signed_in.user_id;
    let (runs, skipped, status) = match account_id {
        None => (Vec::new(), Vec::new(), None),
        Some(id) => {
            let summary = state.accounts.summary(user_id, id).await?;
            let runs = state.accounts.runs(user_id, id, HISTORY_RUNS).await?;
            let skipped = state.accounts.skipped(user_id, id).await?;
            (
                runs.iter().map(run_view).collect(),
                skipped
                    .iter()
                    .map(|s| SkippedView {
                        uidl: s.uidl.clone(),
                        size: s
                            .size_bytes
                            .map(|b| human_size(u64::try_from(b).unwrap_or(0)))
                            .unwrap_or_else(|| "unknown size".into()),
                        when: shell::full_date(s.recorded_at),
                    })
                    .collect(),
                Some(status(&summary, OffsetDateTime::now_utc())),
            )
        }
    };
    let page = AccountFormPage {
        shell: Shell::load(state, signed_in, Nav::Settings, "").await?,
        account_id,
        form,
        error: shown.error,
        test: shown.test,
        password_held: shown.sealed_password.is_some(),
        sealed_password: shown.sealed_password.unwrap_or_default(),
        detection: shown.detection,
        runs,
        skipped,
        status,
    };
    Ok((code, page).into_response())
}

fn run_view(run: &crate::store::fetch::RunRow) -> RunView {
    RunView {
        started: shell::full_date(run.started_at),
        started_iso: shell::iso(run.started_at),
        trigger: match run.trigger {
            Trigger::Manual => "Check now",
            Trigger::Schedule => "Scheduled",
        },
        outcome: match run.outcome {
            RunOutcome::Success => "OK",
            RunOutcome::Partial => "Partly done",
            RunOutcome::Running => "Running",
            RunOutcome::AuthError => "Password rejected",
            RunOutcome::TemporaryError => "Temporary problem",
            RunOutcome::PermanentError => "Failed",
            RunOutcome::Cancelled => "Interrupted",
        },
        messages: run.messages_fetched,
        size: human_size(u64::try_from(run.bytes_fetched).unwrap_or(0)),
        skipped: run.messages_skipped,
        error: run.error_message.clone().unwrap_or_default(),
    }
}

// ---------------------------------------------------------------------------------------
// Handlers

#[derive(Template, WebTemplate)]
#[template(path = "account_new.html")]
struct NewAccountPage {
    shell: Shell,
    email: String,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    email: Option<String>,
}

/// The server to propose for `domain`, and how it was found, in words.
async fn proposal(state: &AppState, email: &str, domain: &str) -> (AccountForm, String) {
    match state.autodetect.discover(domain).await {
        Some(server) => (
            AccountForm::proposed(email, &server.host, server.port, server.security),
            format!(
                "Found {} on port {} ({}) — {}.",
                server.host,
                server.port,
                match server.security {
                    Security::Tls => "secure connection",
                    Security::StartTls => "upgraded to a secure connection with STARTTLS",
                    Security::PlaintextDangerous => "NOT encrypted",
                },
                server.source
            ),
        ),
        None => (
            AccountForm::proposed(email, &format!("pop.{domain}"), 995, Security::Tls),
            format!(
                "No POP3 server was found automatically for {domain}. Enter the server your \
                 provider names (often pop.{domain}, port 995)."
            ),
        ),
    }
}

/// The wizard's first step: the address, with `error` said about it.
async fn address_page(
    state: &AppState,
    signed_in: &SignedIn,
    email: String,
    error: Option<&str>,
    code: StatusCode,
) -> Result<Response, WebError> {
    let shell = Shell::load(state, signed_in, Nav::Settings, "").await?;
    let error = error.map(str::to_owned);
    Ok((
        code,
        NewAccountPage {
            shell,
            email,
            error,
        },
    )
        .into_response())
}

/// `GET /settings/accounts/new`: the address first; with `?email=` the proposed server.
/// A link from another site only fills in the address: looking a domain up reaches out
/// to its DNS and mail servers, which nobody but the person at the keyboard may start.
pub async fn new_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Query(query): Query<NewQuery>,
) -> Result<Response, WebError> {
    let email = query
        .email
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty());
    let email = match email {
        Some(email) if !super::super::from_another_site(&headers) => email,
        prefilled => {
            let email = prefilled.unwrap_or_default();
            return address_page(&state, &signed_in, email, None, StatusCode::OK).await;
        }
    };
    let Some((_, domain)) = email
        .rsplit_once('@')
        .filter(|(l, d)| !l.is_empty() && d.contains('.') || d == &"localhost")
    else {
        let problem = Some("Enter the whole address, like name@example.org.");
        let code = StatusCode::UNPROCESSABLE_ENTITY;
        return address_page(&state, &signed_in, email, problem, code).await;
    };
    let (form, detection) = proposal(&state, &email, domain).await;
    let shown = Shown {
        detection: Some(detection),
        ..Shown::default()
    };
    form_page(&state, &signed_in, None, form, shown, StatusCode::OK).await
}

/// `GET /settings/accounts/{id}`: edit, with the history and the skipped messages.
pub async fn edit_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<Uuid>,
) -> Result<Response, WebError> {
    let account = state.accounts.get(signed_in.user_id, id).await?;
    let form = AccountForm::from_account(&account);
    form_page(
        &state,
        &signed_in,
        Some(id),
        form,
        Shown::default(),
        StatusCode::OK,
    )
    .await
}

/// `POST /settings/accounts/new`: `action=test` or `action=save`.
pub async fn new_post(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<AccountForm>,
) -> Result<Response, WebError> {
    signed_in.check_csrf(&form.csrf)?;
    test_or_save(&state, &signed_in, None, form).await
}

/// `POST /settings/accounts/{id}`: `action=test` or `action=save`.
pub async fn edit_post(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<Uuid>,
    Form(form): Form<AccountForm>,
) -> Result<Response, WebError> {
    signed_in.check_csrf(&form.csrf)?;
    // Another user's account is not found before anything else happens.
    state.accounts.get(signed_in.user_id, id).await?;
    test_or_save(&state, &signed_in, Some(id), form).await
}

/// The form's buttons (its CSRF token checked): switch the user name, test the
/// connection, or save.
async fn test_or_save(
    state: &AppState,
    signed_in: &SignedIn,
    id: Option<Uuid>,
    mut form: AccountForm,
) -> Result<Response, WebError> {
    let user_id = signed_in.user_id;
    let password = password_from(state, user_id, &form);
    form.password.clear();
    let mut shown = Shown {
        sealed_password: password
            .as_ref()
            .map(|p| seal_pending(state, user_id, p))
            .transpose()?,
        ..Shown::default()
    };
    if let Some(username) = form.switched_username() {
        form.username = username;
        return form_page(state, signed_in, id, form, shown, StatusCode::OK).await;
    }
    let result = match form.draft(password) {
        Err(invalid) => Err(AccountError::Invalid(invalid)),
        Ok(draft) if form.action == "test" => {
            match state.accounts.test_draft(user_id, id, draft).await {
                Ok(test) => {
                    shown.test = Some(describe_test(test));
                    return form_page(state, signed_in, id, form, shown, StatusCode::OK).await;
                }
                Err(error) => Err(error),
            }
        }
        Ok(draft) => match id {
            None => state.accounts.create(user_id, draft).await,
            Some(id) => state.accounts.update(user_id, id, draft).await,
        },
    };
    match result {
        Ok(_) => Ok(Redirect::to("/settings/accounts?saved=1").into_response()),
        Err(AccountError::Invalid(invalid)) => {
            shown.error = Some(invalid);
            let code = StatusCode::UNPROCESSABLE_ENTITY;
            form_page(state, signed_in, id, form, shown, code).await
        }
        Err(other) => Err(other.into()),
    }
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
