//! "Check mail from other accounts": the list with a plain-words status per account, the
//! add/edit form with "Test connection", pause/resume, remove, history and "Check now".
//!
//! The form never sends a password back to the browser. After "Test connection" the typed
//! password rides along in a hidden field *sealed* with the master key (AES-256-GCM, bound
//! to the user), so the person need not type it again to save.

use super::form::Form;
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::message::human_size;
use super::session::SignedIn;
use super::shell::{self, Nav, Shell};
use super::{AppState, WebError};
use crate::accounts::{self as rules, AccountInput, AccountState, LeaveInput};
use crate::crypto::{KeyId, Sealed, Secret};
use crate::fetch::{self, ConnectionReport, FetchError};
use crate::model::{
    AuthMethod, ImportMode, LeavePolicy, PausedReason, RunOutcome, Security, Trigger,
};
use crate::store::accounts::{Account, NewAccount};
use crate::store::fetch::RunRow;
use crate::store::{self, StoreError};

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

// ---------------------------------------------------------------------------------------
// Status in plain words

/// One account's status line and how it looks.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// `ok`, `new`, `checking`, `waiting`, `error`, `paused`, `off`: a CSS class.
    pub kind: &'static str,
    pub text: String,
}

fn minutes_text(seconds: i64) -> String {
    let minutes = (seconds + 59) / 60;
    if minutes <= 1 {
        "1 minute".into()
    } else if minutes < 120 {
        format!("{minutes} minutes")
    } else {
        format!("{} hours", (minutes + 30) / 60)
    }
}

pub fn status(
    account: &Account,
    latest: Option<&RunRow>,
    leased: bool,
    now: OffsetDateTime,
) -> Status {
    let checking = leased || latest.is_some_and(|run| run.outcome == RunOutcome::Running);
    let next = if account.next_check_at <= now {
        "checking in a moment".to_owned()
    } else {
        format!("next check {}", shell::relative(account.next_check_at, now))
    };
    let (kind, text) = match rules::state(account, checking) {
        AccountState::Checking => ("checking", "Checking now…".to_owned()),
        AccountState::Paused => (
            "paused",
            match account.paused_reason {
                Some(PausedReason::Auth) => {
                    "Paused: the server rejected the password — update it".to_owned()
                }
                Some(PausedReason::Server) => {
                    "Suspended: the server reports a permanent problem with this mailbox — \
                     check its settings, then save to try again"
                        .to_owned()
                }
                Some(PausedReason::PasswordUnreadable) => {
                    "Paused: the saved password can no longer be read — enter it again".to_owned()
                }
                None => "Paused — edit the account to resume".to_owned(),
            },
        ),
        AccountState::Off => (
            "off",
            "Paused by you — mail is not being checked".to_owned(),
        ),
        AccountState::Waiting => {
            let wait =
                (account.next_check_at - account.last_attempt_at.unwrap_or(now)).whole_seconds();
            (
                "waiting",
                format!(
                    "Waiting: the server asked us to wait {} between checks",
                    minutes_text(wait.max(60))
                ),
            )
        }
        AccountState::Error => {
            let when = account
                .last_attempt_at
                .map(|at| shell::relative(at, now))
                .unwrap_or_default();
            let message = account
                .last_error_message
                .as_deref()
                .unwrap_or("an unknown error");
            (
                "error",
                format!("Last check {when} failed: {message} — {next}"),
            )
        }
        AccountState::Ok => {
            let at = account
                .last_success_at
                .map(|at| shell::relative(at, now))
                .unwrap_or_default();
            (
                "ok",
                match latest {
                    Some(run) => {
                        format!("Last checked {at} · {} new · {next}", run.messages_fetched)
                    }
                    None => format!("Last checked {at} · {next}"),
                },
            )
        }
        AccountState::New => ("new", format!("Not checked yet — {next}")),
    };
    Status { kind, text }
}

// ---------------------------------------------------------------------------------------
// The list

#[derive(Debug)]
struct AccountRow {
    id: Uuid,
    chip: String,
    label: String,
    email: String,
    server: String,
    status: Status,
    enabled: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts.html")]
struct AccountsPage {
    shell: Shell,
    rows: Vec<AccountRow>,
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    saved: Option<String>,
    removed: Option<String>,
    checking: Option<String>,
}

async fn account_rows(state: &AppState, user_id: Uuid) -> Result<Vec<AccountRow>, WebError> {
    let mut conn = state.pool.acquire().await.map_err(StoreError::from)?;
    let accounts = store::accounts::list(&mut conn, user_id).await?;
    let latest = store::fetch::latest_runs(&mut conn, user_id).await?;
    let leased = store::fetch::leased_accounts(&mut conn, user_id).await?;
    let now = OffsetDateTime::now_utc();
    Ok(accounts
        .iter()
        .map(|account| {
            let run = latest.iter().find(|r| r.account_id == account.id);
            AccountRow {
                id: account.id,
                chip: shell::chip_class(account.id),
                label: account.label.clone(),
                email: account.email.clone(),
                server: format!("{}:{}", account.host, account.port),
                status: status(account, run, leased.contains(&account.id), now),
                enabled: account.enabled,
            }
        })
        .collect())
}

pub async fn accounts_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let shell = Shell::load(&state, &signed_in, Nav::Settings, "").await?;
    let rows = account_rows(&state, signed_in.user_id).await?;
    let notice = if query.saved.is_some() {
        Some("The account is saved; Tributary is checking it now.".to_owned())
    } else if query.removed.is_some() {
        Some("The account was removed.".to_owned())
    } else if query.checking.is_some() {
        Some("Checking for new mail now.".to_owned())
    } else {
        None
    };
    Ok(AccountsPage {
        shell,
        rows,
        notice,
    }
    .into_response())
}

#[derive(Debug, Serialize)]
pub struct StatusJson {
    accounts: Vec<AccountStatusJson>,
    unread: i64,
    newest_message_id: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct AccountStatusJson {
    id: Uuid,
    #[serde(flatten)]
    status: Status,
}

/// `GET /settings/accounts/status.json`: what `static/app.js` polls for live progress.
pub async fn status_json_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Json<StatusJson>, WebError> {
    let rows = account_rows(&state, signed_in.user_id).await?;
    let mut conn = state.pool.acquire().await.map_err(StoreError::from)?;
    let (_, unread) = store::messages::unread_counts(&mut conn, signed_in.user_id).await?;
    let newest_message_id = store::messages::newest_id(&mut conn, signed_in.user_id).await?;
    Ok(Json(StatusJson {
        accounts: rows
            .into_iter()
            .map(|row| AccountStatusJson {
                id: row.id,
                status: row.status,
            })
            .collect(),
        unread,
        newest_message_id,
    }))
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
    #[serde(default)]
    return_to: String,
}

/// `POST /settings/accounts/{id}/check`: "Check mail now".
pub async fn check_post(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<Uuid>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, WebError> {
    signed_in.check_csrf(&form.csrf)?;
    fetch::check_now(&state.pool, signed_in.user_id, id).await?;
    let back = super::session::safe_return_path(&form.return_to);
    let back = if back == "/" {
        "/settings/accounts?checking=1"
    } else {
        back
    };
    Ok(Redirect::to(back).into_response())
}

#[derive(Deserialize)]
pub struct EnabledForm {
    csrf: String,
    enabled: String,
}

/// `POST /settings/accounts/{id}/enabled`: pause or resume.
pub async fn enabled_post(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<Uuid>,
    Form(form): Form<EnabledForm>,
) -> Result<Response, WebError> {
    signed_in.check_csrf(&form.csrf)?;
    let mut conn = state.pool.acquire().await.map_err(StoreError::from)?;
    store::accounts::set_enabled(&mut conn, signed_in.user_id, id, form.enabled == "true").await?;
    Ok(Redirect::to("/settings/accounts").into_response())
}

// ---------------------------------------------------------------------------------------
// Remove

#[derive(Template, WebTemplate)]
#[template(path = "account_remove.html")]
struct RemovePage {
    shell: Shell,
    id: Uuid,
    label: String,
    message_count: i64,
}

async fn owned_account(state: &AppState, user_id: Uuid, id: Uuid) -> Result<Account, WebError> {
    let mut conn = state.pool.acquire().await.map_err(StoreError::from)?;
    Ok(store::accounts::get(&mut conn, user_id, id).await?)
}

pub async fn remove_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<Uuid>,
) -> Result<Response, WebError> {
    let account = owned_account(&state, signed_in.user_id, id).await?;
    let message_count = {
        let mut conn = state.pool.acquire().await.map_err(StoreError::from)?;
        store::messages::count_for_account(&mut conn, account.id).await?
    };
    Ok(RemovePage {
        shell: Shell::load(&state, &signed_in, Nav::Settings, "").await?,
        id,
        label: account.label,
        message_count,
    }
    .into_response())
}

#[derive(Deserialize)]
pub struct RemoveForm {
    csrf: String,
    keep_messages: String,
}

pub async fn remove_post(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<Uuid>,
    Form(form): Form<RemoveForm>,
) -> Result<Response, WebError> {
    signed_in.check_csrf(&form.csrf)?;
    let keep = match form.keep_messages.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(WebError::BadRequest("choose whether to keep the mail")),
    };
    let mut conn = state.pool.acquire().await.map_err(StoreError::from)?;
    store::accounts::delete(&mut conn, signed_in.user_id, id, keep).await?;
    Ok(Redirect::to("/settings/accounts?removed=1").into_response())
}

// ---------------------------------------------------------------------------------------
// Add and edit

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
            auth: "password".into(),
            username: email.to_owned(),
            trust: "webpki".into(),
            leave: "keep".into(),
            delete_after_days: "30".into(),
            polling: "auto".into(),
            poll_minutes: "10".into(),
            import: "all".into(),
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
            leave: match account.leave_on_server {
                LeavePolicy::Keep => "keep",
                LeavePolicy::Delete => "delete",
                LeavePolicy::DeleteAfterDays => "days",
            }
            .into(),
            delete_after_days: account.delete_after_days.unwrap_or(30).to_string(),
            polling: if account.poll_minutes.is_some() {
                "fixed"
            } else {
                "auto"
            }
            .into(),
            poll_minutes: account.poll_minutes.unwrap_or(10).to_string(),
            import: match account.import_mode {
                ImportMode::All => "all",
                ImportMode::New => "new",
            }
            .into(),
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
}

/// A field with the problem found in it.
#[derive(Debug, Clone)]
struct FieldError {
    field: &'static str,
    message: String,
}

fn field_error(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field,
        message: message.into(),
    }
}

/// Turns the form into validated settings. `password` is what to use for the password.
fn settings_from(form: &AccountForm, password: Secret) -> Result<NewAccount, FieldError> {
    let security = match form.security.as_str() {
        "tls" => Security::Tls,
        "starttls" => Security::StartTls,
        "plain" => Security::PlaintextDangerous,
        _ => {
            return Err(field_error(
                "security",
                "choose how the connection is protected",
            ));
        }
    };
    let auth_method = match form.auth.as_str() {
        "password" | "" => AuthMethod::UserPass,
        "apop" => AuthMethod::Apop,
        "sasl-plain" => AuthMethod::SaslPlain,
        "sasl-login" => AuthMethod::SaslLogin,
        _ => return Err(field_error("auth", "choose a sign-in method")),
    };
    let port = match form.port.trim() {
        "" => None,
        text => Some(
            text.parse::<u16>()
                .map_err(|_| field_error("port", "a port is a number from 1 to 65535"))?,
        ),
    };
    let (tls_ca_pem, tls_pin_sha256) = match form.trust.as_str() {
        "ca" => (Some(form.tls_ca_pem.clone()), None),
        "pin" => (None, Some(form.tls_pin_sha256.clone())),
        _ => (None, None),
    };
    if form.trust == "ca" && form.tls_ca_pem.trim().is_empty() {
        return Err(field_error("tls_ca_pem", "paste the CA certificate (PEM)"));
    }
    if form.trust == "pin" && form.tls_pin_sha256.trim().is_empty() {
        return Err(field_error(
            "tls_pin_sha256",
            "paste the certificate's SHA-256 fingerprint",
        ));
    }
    let leave_on_server = match form.leave.as_str() {
        "keep" | "" => LeaveInput::Keep,
        "delete" => LeaveInput::Delete,
        "days" => LeaveInput::AfterDays(
            form.delete_after_days
                .trim()
                .parse()
                .map_err(|_| field_error("delete_after_days", "enter a number of days"))?,
        ),
        _ => return Err(field_error("leave", "choose what happens on the server")),
    };
    let poll_minutes = match form.polling.as_str() {
        "fixed" => Some(
            form.poll_minutes
                .trim()
                .parse()
                .map_err(|_| field_error("poll_minutes", "enter a number of minutes"))?,
        ),
        _ => None,
    };
    let import_mode = match form.import.as_str() {
        "new" => ImportMode::New,
        _ => ImportMode::All,
    };
    let max_message_bytes = match form.max_message_mb.trim() {
        "" => None,
        text => {
            let mb: i64 = text
                .parse()
                .ok()
                .filter(|mb| (1..=2048).contains(mb))
                .ok_or_else(|| field_error("max_message_mb", "enter megabytes from 1 to 2048"))?;
            Some(mb * 1024 * 1024)
        }
    };
    rules::validate(AccountInput {
        label: Some(form.label.clone()),
        color: Some(form.color.clone()),
        email: form.email.clone(),
        host: form.host.clone(),
        port,
        security,
        auth_method,
        username: form.username.clone(),
        password,
        tls_ca_pem,
        tls_pin_sha256,
        leave_on_server,
        import_mode,
        poll_minutes,
        max_message_bytes,
    })
    .map_err(|e| FieldError {
        field: e.field,
        message: e.problem,
    })
}

fn pending_binding(user_id: Uuid) -> Vec<u8> {
    let mut binding = b"pending-account-password:".to_vec();
    binding.extend_from_slice(user_id.as_bytes());
    binding
}

fn seal_pending(state: &AppState, user_id: Uuid, password: &Secret) -> Result<String, WebError> {
    let sealed = state
        .keys
        .seal(&pending_binding(user_id), password.expose().as_bytes())
        .map_err(|_| WebError::Unavailable)?;
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

/// The result of "Test connection", in words.
#[derive(Debug, Clone)]
struct TestResult {
    ok: bool,
    text: String,
}

fn describe_test(result: Result<ConnectionReport, FetchError>) -> TestResult {
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
    error: Option<FieldError>,
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
        self.error.as_ref().map(|e| e.message.as_str())
    }

    fn error_field(&self) -> &str {
        self.error.as_ref().map(|e| e.field).unwrap_or("")
    }
}

#[derive(Debug)]
struct RunView {
    started: String,
    started_iso: String,
    trigger: String,
    outcome: String,
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

/// `GET /settings/accounts/new`: the address first; with `?email=` the proposed server.
/// A link from another site only fills in the address: looking a domain up reaches out
/// to its DNS and mail servers, which nobody but the person at the keyboard may start.
pub async fn new_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Query(query): Query<NewQuery>,
) -> Result<Response, WebError> {
    let shell = Shell::load(&state, &signed_in, Nav::Settings, "").await?;
    let from_another_site = super::from_another_site(&headers);
    let email = query
        .email
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty());
    let email = match email {
        Some(email) if !from_another_site => email,
        prefilled => {
            return Ok(NewAccountPage {
                shell,
                email: prefilled.unwrap_or_default(),
                error: None,
            }
            .into_response());
        }
    };
    let Some((_, domain)) = email
        .rsplit_once('@')
        .filter(|(l, d)| !l.is_empty() && d.contains('.') || d == &"localhost")
    else {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            NewAccountPage {
                shell,
                email,
                error: Some("Enter the whole address, like name@example.org.".into()),
            },
        )
            .into_response());
    };
    let found = state.autodetect.discover(domain).await;
    let (form, detection) = match found {
        Some(server) => (
            AccountForm::proposed(&email, &server.host, server.port, server.security),
            Some(format!(
                "Found {} on port {} ({}) — {}.",
                server.host,
                server.port,
                match server.security {
                    Security::Tls => "secure connection",
                    Security::StartTls => "upgraded to a secure connection with STARTTLS",
                    Security::PlaintextDangerous => "NOT encrypted",
                },
                server.source
            )),
        ),
        None => (
            AccountForm::proposed(&email, &format!("pop.{domain}"), 995, Security::Tls),
            Some(format!(
                "No POP3 server was found automatically for {domain}. Enter the server your \
                 provider names (often pop.{domain}, port 995)."
            )),
        ),
    };
    Ok(AccountFormPage {
        shell,
        account_id: None,
        form,
        error: None,
        test: None,
        password_held: false,
        sealed_password: String::new(),
        detection,
        runs: Vec::new(),
        skipped: Vec::new(),
        status: None,
    }
    .into_response())
}

/// `GET /settings/accounts/{id}`: edit, with the history and the skipped messages.
pub async fn edit_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<Uuid>,
) -> Result<Response, WebError> {
    let account = owned_account(&state, signed_in.user_id, id).await?;
    let form = AccountForm::from_account(&account);
    edit_page(
        &state,
        &signed_in,
        &account,
        form,
        None,
        None,
        None,
        StatusCode::OK,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn edit_page(
    state: &AppState,
    signed_in: &SignedIn,
    account: &Account,
    form: AccountForm,
    error: Option<FieldError>,
    test: Option<TestResult>,
    sealed_password: Option<String>,
    status_code: StatusCode,
) -> Result<Response, WebError> {
    let now = OffsetDateTime::now_utc();
    let (runs, skipped) = {
        let mut conn = state.pool.acquire().await.map_err(StoreError::from)?;
        (
            store::fetch::recent_runs(&mut conn, signed_in.user_id, account.id, 20).await?,
            store::fetch::skipped_messages(&mut conn, signed_in.user_id, account.id).await?,
        )
    };
    let leased = {
        let mut conn = state.pool.acquire().await.map_err(StoreError::from)?;
        store::fetch::leased_accounts(&mut conn, signed_in.user_id).await?
    };
    let status = status(account, runs.first(), leased.contains(&account.id), now);
    Ok((
        status_code,
        AccountFormPage {
            shell: Shell::load(state, signed_in, Nav::Settings, "").await?,
            account_id: Some(account.id),
            form,
            error,
            test,
            password_held: sealed_password.is_some(),
            sealed_password: sealed_password.unwrap_or_default(),
            detection: None,
            runs: runs
                .iter()
                .map(|run| RunView {
                    started: shell::full_date(run.started_at),
                    started_iso: shell::iso(run.started_at),
                    trigger: if run.trigger == Trigger::Manual {
                        "Check now".into()
                    } else {
                        "Scheduled".into()
                    },
                    outcome: match run.outcome {
                        RunOutcome::Success => "OK",
                        RunOutcome::Partial => "Partly done",
                        RunOutcome::Running => "Running",
                        RunOutcome::AuthError => "Password rejected",
                        RunOutcome::TemporaryError => "Temporary problem",
                        RunOutcome::PermanentError => "Failed",
                        RunOutcome::Cancelled => "Interrupted",
                    }
                    .into(),
                    messages: run.messages_fetched,
                    size: human_size(u64::try_from(run.bytes_fetched).unwrap_or(0)),
                    skipped: run.messages_skipped,
                    error: run.error_message.clone().unwrap_or_default(),
                })
                .collect(),
            skipped: skipped
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
            status: Some(status),
        },
    )
        .into_response())
}

/// The one-click user-name switch without JavaScript: the button submits the form.
fn switched_username(form: &AccountForm) -> Option<String> {
    match form.action.as_str() {
        "use_local_part" => Some(form.local_part().to_owned()),
        "use_full_address" => Some(form.email.trim().to_owned()),
        _ => None,
    }
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

/// `POST /settings/accounts/new`: `action=test` or `action=save`.
pub async fn new_post(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(mut form): Form<AccountForm>,
) -> Result<Response, WebError> {
    signed_in.check_csrf(&form.csrf)?;
    let password = password_from(&state, signed_in.user_id, &form);
    let sealed = match &password {
        Some(p) => Some(seal_pending(&state, signed_in.user_id, p)?),
        None => None,
    };
    let render = |form: AccountForm,
                  error: Option<FieldError>,
                  test: Option<TestResult>,
                  sealed: Option<String>,
                  code: StatusCode| {
        let state = state.clone();
        let signed_in = signed_in.clone();
        async move {
            Ok::<Response, WebError>(
                (
                    code,
                    AccountFormPage {
                        shell: Shell::load(&state, &signed_in, Nav::Settings, "").await?,
                        account_id: None,
                        form,
                        error,
                        test,
                        password_held: sealed.is_some(),
                        sealed_password: sealed.unwrap_or_default(),
                        detection: None,
                        runs: Vec::new(),
                        skipped: Vec::new(),
                        status: None,
                    },
                )
                    .into_response(),
            )
        }
    };
    form.password.clear();
    if let Some(username) = switched_username(&form) {
        form.username = username;
        return render(form, None, None, sealed, StatusCode::OK).await;
    }
    let settings = match settings_from(&form, password.unwrap_or_else(|| Secret::new(""))) {
        Ok(settings) => settings,
        Err(error) => {
            return render(
                form,
                Some(error),
                None,
                sealed,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    if form.action == "test" {
        let test = describe_test(state.fetcher.test_connection(&settings).await);
        return render(form, None, Some(test), sealed, StatusCode::OK).await;
    }
    let ring = state.keys.current().map_err(|_| WebError::Unavailable)?;
    let mut conn = state.pool.acquire().await.map_err(StoreError::from)?;
    let account = store::accounts::create(&mut conn, &ring, signed_in.user_id, &settings).await?;
    drop(conn);
    tracing::info!(account_id = %account.id, "account added");
    if let Err(error) = fetch::check_now(&state.pool, signed_in.user_id, account.id).await {
        tracing::warn!(%error, "could not wake the scheduler for a new account");
    }
    Ok(Redirect::to("/settings/accounts?saved=1").into_response())
}

/// `POST /settings/accounts/{id}`: `action=test` or `action=save`.
pub async fn edit_post(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<Uuid>,
    Form(mut form): Form<AccountForm>,
) -> Result<Response, WebError> {
    signed_in.check_csrf(&form.csrf)?;
    let account = owned_account(&state, signed_in.user_id, id).await?;
    let new_password = password_from(&state, signed_in.user_id, &form);
    let sealed = match &new_password {
        Some(p) => Some(seal_pending(&state, signed_in.user_id, p)?),
        None => None,
    };
    form.password.clear();
    if let Some(username) = switched_username(&form) {
        form.username = username;
        return edit_page(
            &state,
            &signed_in,
            &account,
            form,
            None,
            None,
            sealed,
            StatusCode::OK,
        )
        .await;
    }
    // Validation needs a password; the stored one stands in when none was typed.
    let effective = match &new_password {
        Some(p) => p.clone(),
        None => {
            let ring = state.keys.current().map_err(|_| WebError::Unavailable)?;
            let mut conn = state.pool.acquire().await.map_err(StoreError::from)?;
            store::accounts::password(&mut conn, &ring, signed_in.user_id, id)
                .await
                .unwrap_or_else(|_| Secret::new(""))
        }
    };
    let settings = match settings_from(&form, effective) {
        Ok(settings) => settings,
        Err(error) => {
            return edit_page(
                &state,
                &signed_in,
                &account,
                form,
                Some(error),
                None,
                sealed,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    if form.action == "test" {
        let test = describe_test(state.fetcher.test_connection(&settings).await);
        return edit_page(
            &state,
            &signed_in,
            &account,
            form,
            None,
            Some(test),
            sealed,
            StatusCode::OK,
        )
        .await;
    }
    let ring = state.keys.current().map_err(|_| WebError::Unavailable)?;
    let mut conn = state.pool.acquire().await.map_err(StoreError::from)?;
    store::accounts::update(
        &mut conn,
        &ring,
        signed_in.user_id,
        id,
        &settings,
        new_password.as_ref(),
    )
    .await?;
    drop(conn);
    if let Err(error) = fetch::check_now(&state.pool, signed_in.user_id, id).await {
        tracing::warn!(%error, "could not wake the scheduler after an edit");
    }
    Ok(Redirect::to("/settings/accounts?saved=1").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ErrorClass;

    fn account() -> Account {
        let now = OffsetDateTime::now_utc();
        Account {
            id: Uuid::new_v4(),
            user_id: Uuid::new_v4(),
            label: "l".into(),
            color: "#3b6fd4".into(),
            email: "a@example.org".into(),
            host: "pop.example.org".into(),
            port: 995,
            security: Security::Tls,
            auth_method: AuthMethod::UserPass,
            username: "a".into(),
            tls_ca_pem: None,
            tls_pin_sha256: None,
            leave_on_server: LeavePolicy::Keep,
            delete_after_days: None,
            import_mode: ImportMode::All,
            poll_minutes: None,
            max_message_bytes: None,
            enabled: true,
            next_check_at: now + time::Duration::minutes(5),
            last_attempt_at: Some(now - time::Duration::minutes(3)),
            last_success_at: Some(now - time::Duration::minutes(3)),
            last_error_kind: None,
            last_error_message: None,
            paused_reason: None,
            consecutive_failures: 0,
            interval_seconds: 300,
            baseline_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    fn run(outcome: RunOutcome, fetched: i32) -> RunRow {
        RunRow {
            id: 1,
            account_id: Uuid::nil(),
            trigger: Trigger::Schedule,
            started_at: OffsetDateTime::now_utc(),
            finished_at: None,
            outcome,
            messages_fetched: fetched,
            bytes_fetched: 0,
            messages_skipped: 0,
            error_message: None,
        }
    }

    #[test]
    fn status_lines_speak_plainly() {
        let now = OffsetDateTime::now_utc();
        let ok = account();
        assert_eq!(
            status(&ok, Some(&run(RunOutcome::Success, 12)), false, now).text,
            "Last checked 3 minutes ago · 12 new · next check in 5 minutes"
        );
        let mut auth = account();
        auth.paused_reason = Some(PausedReason::Auth);
        assert_eq!(
            status(&auth, None, false, now).text,
            "Paused: the server rejected the password — update it"
        );
        let mut delay = account();
        delay.last_error_kind = Some(ErrorClass::LoginDelay);
        delay.last_error_message = Some("wait".into());
        delay.next_check_at = now + time::Duration::minutes(12);
        assert_eq!(
            status(&delay, None, false, now).text,
            "Waiting: the server asked us to wait 15 minutes between checks"
        );
        assert_eq!(
            status(&ok, Some(&run(RunOutcome::Running, 0)), false, now).kind,
            "checking"
        );
        assert_eq!(status(&ok, None, true, now).text, "Checking now…");
        let mut off = account();
        off.enabled = false;
        assert_eq!(status(&off, None, false, now).kind, "off");
    }

    #[test]
    fn sealed_passwords_are_not_the_password() {
        let form = AccountForm::proposed("ann@example.org", "pop.example.org", 995, Security::Tls);
        assert_eq!(form.local_part(), "ann");
    }
}
