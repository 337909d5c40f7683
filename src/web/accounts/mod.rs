//! "Check mail from other accounts": the list with a plain-words status per account, its
//! live status for `static/app.js`, pause/resume, remove and "Check now"; the add/edit
//! form is in [`form`], its page and the add-account wizard in [`edit`]. Every workflow is
//! the account service's (`crate::accounts`).

mod edit;
mod form;
mod sending;

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

pub use edit::{edit_get, edit_post, new_get, new_post, oauth_callback_get};
pub use sending::{sending_get, sending_post};

/// "Found pop.example.org on port 995 (secure connection) — how it was found."
fn found_in_words(server: &crate::net::discover::Found) -> String {
    use crate::model::Security;
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
    )
}

use super::form::Posted;
use super::session::SignedIn;
use super::shell::{self, Nav, Shell};
use super::{AppState, WebError};
use crate::accounts::{AccountState, AccountSummary};
use crate::model::PausedReason;
use crate::store;

// ---------------------------------------------------------------------------------------
// Status in plain words

/// One account's status line and how it looks.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// `ok`, `new`, `checking`, `waiting`, `error`, `paused`, `off`: a CSS class.
    pub kind: &'static str,
    pub text: String,
    /// A check is running or about to: the page keeps polling while any account is busy.
    pub busy: bool,
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

pub(super) fn paused_text(reason: Option<PausedReason>) -> String {
    match reason {
        Some(PausedReason::Auth) => "Paused: the server rejected the password — update it".into(),
        Some(PausedReason::Server) => {
            "Suspended: the server reports a permanent problem with this mailbox — check its \
             settings, then save to try again"
                .into()
        }
        Some(PausedReason::PasswordUnreadable) => {
            "Paused: the saved password can no longer be read — enter it again".into()
        }
        Some(PausedReason::SignIn) => {
            "Paused: the provider no longer accepts Tributary's sign-in (it was revoked, it \
             expired, or the password changed) — sign in again"
                .into()
        }
        Some(PausedReason::CertificateChanged) => {
            "Paused: the server's certificate changed — open Edit & history and run Test \
             connection to review the new certificate before trusting it"
                .into()
        }
        None => "Paused — edit the account to resume".into(),
    }
}

pub fn status(summary: &AccountSummary, now: OffsetDateTime) -> Status {
    let account = &summary.account;
    let due = account.next_check_at <= now;
    let next = if due {
        "checking in a moment".to_owned()
    } else {
        format!("next check {}", shell::relative(account.next_check_at, now))
    };
    let state = summary.state();
    let text = match state {
        AccountState::Checking => "Checking now…".to_owned(),
        AccountState::Paused => paused_text(account.paused_reason),
        AccountState::Off => "Paused by you — mail is not being checked".to_owned(),
        AccountState::Waiting => {
            let wait =
                (account.next_check_at - account.last_attempt_at.unwrap_or(now)).whole_seconds();
            format!(
                "Waiting: the server asked us to wait {} between checks",
                minutes_text(wait.max(60))
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
            format!("Last check {when} failed: {message} — {next}")
        }
        AccountState::Ok => {
            let at = account
                .last_success_at
                .map(|at| shell::relative(at, now))
                .unwrap_or_default();
            match &summary.latest_run {
                Some(run) => format!("Last checked {at} · {} new · {next}", run.messages_fetched),
                None => format!("Last checked {at} · {next}"),
            }
        }
        AccountState::New => format!("Not checked yet — {next}"),
    };
    let runnable = !matches!(state, AccountState::Paused | AccountState::Off);
    Status {
        kind: state.as_str(),
        text,
        busy: matches!(state, AccountState::Checking | AccountState::New) || (runnable && due),
    }
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

impl AccountRow {
    fn new(summary: &AccountSummary, now: OffsetDateTime) -> Self {
        let account = &summary.account;
        Self {
            id: account.id,
            chip: shell::chip_class(account.id),
            label: account.label.clone(),
            email: account.email.clone(),
            server: format!("{}:{}", account.host, account.port),
            status: status(summary, now),
            enabled: account.enabled,
        }
    }
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
    let now = OffsetDateTime::now_utc();
    let summaries = state.accounts.list(user_id).await?;
    Ok(summaries.iter().map(|s| AccountRow::new(s, now)).collect())
}

pub async fn accounts_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let shell = Shell::load(&state, &signed_in, Nav::Settings, "").await?;
    let rows = account_rows(&state, signed_in.user_id).await?;
    let notice = if query.saved.is_some() {
        Some("The account is saved; Tributary is checking it now.")
    } else if query.removed.is_some() {
        Some("The account was removed.")
    } else if query.checking.is_some() {
        Some("Checking for new mail now.")
    } else {
        None
    };
    Ok(AccountsPage {
        shell,
        rows,
        notice: notice.map(str::to_owned),
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
    let mut conn = state.db().await?;
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
pub struct ReturnTo {
    #[serde(default)]
    return_to: String,
}

/// `POST /settings/accounts/{id}/check`: "Check mail now".
pub async fn check_post(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Posted(signed_in, form): Posted<ReturnTo>,
) -> Result<Response, WebError> {
    state.accounts.check_now(signed_in.user_id, id).await?;
    let back = match super::session::safe_return_path(&form.return_to) {
        "/" => "/settings/accounts?checking=1",
        back => back,
    };
    Ok(Redirect::to(back).into_response())
}

#[derive(Deserialize)]
pub struct EnabledForm {
    enabled: String,
}

/// `POST /settings/accounts/{id}/enabled`: pause or resume.
pub async fn enabled_post(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Posted(signed_in, form): Posted<EnabledForm>,
) -> Result<Response, WebError> {
    let enabled = form.enabled == "true";
    state
        .accounts
        .set_enabled(signed_in.user_id, id, enabled)
        .await?;
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

pub async fn remove_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<Uuid>,
) -> Result<Response, WebError> {
    let account = state.accounts.get(signed_in.user_id, id).await?;
    let message_count = state.accounts.message_count(signed_in.user_id, id).await?;
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
    keep_messages: String,
}

/// `POST /settings/accounts/{id}/remove`: removes the account, with or without its mail.
pub async fn remove_post(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Posted(signed_in, form): Posted<RemoveForm>,
) -> Result<Response, WebError> {
    let keep = match form.keep_messages.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(WebError::BadRequest("choose whether to keep the mail")),
    };
    state.accounts.remove(signed_in.user_id, id, keep).await?;
    Ok(Redirect::to("/settings/accounts?removed=1").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        AuthMethod, ErrorClass, ImportMode, LeavePolicy, RunOutcome, Security, Trigger,
    };
    use crate::store::accounts::Account;
    use crate::store::fetch::RunRow;

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

    fn status_of(account: &Account, latest: Option<RunRow>, leased: bool) -> Status {
        let summary = AccountSummary {
            account: account.clone(),
            latest_run: latest,
            leased,
        };
        status(&summary, OffsetDateTime::now_utc())
    }

    #[test]
    fn status_lines_speak_plainly() {
        let ok = account();
        let done = status_of(&ok, Some(run(RunOutcome::Success, 12)), false);
        assert_eq!(
            done.text,
            "Last checked 3 minutes ago · 12 new · next check in 5 minutes"
        );
        assert!(!done.busy);
        let mut auth = account();
        auth.paused_reason = Some(PausedReason::Auth);
        assert_eq!(
            status_of(&auth, None, false).text,
            "Paused: the server rejected the password — update it"
        );
        let mut delay = account();
        delay.last_error_kind = Some(ErrorClass::LoginDelay);
        delay.last_error_message = Some("wait".into());
        delay.next_check_at = OffsetDateTime::now_utc() + time::Duration::minutes(12);
        assert_eq!(
            status_of(&delay, None, false).text,
            "Waiting: the server asked us to wait 15 minutes between checks"
        );
        let running = status_of(&ok, Some(run(RunOutcome::Running, 0)), false);
        assert_eq!(running.kind, "checking");
        assert!(running.busy);
        assert_eq!(status_of(&ok, None, true).text, "Checking now…");
        let mut off = account();
        off.enabled = false;
        assert_eq!(status_of(&off, None, false).kind, "off");
    }

    #[test]
    fn a_due_account_is_busy_unless_paused() {
        let mut due = account();
        due.next_check_at = OffsetDateTime::now_utc() - time::Duration::seconds(1);
        let line = status_of(&due, Some(run(RunOutcome::Success, 1)), false);
        assert!(line.text.ends_with("checking in a moment"), "{}", line.text);
        assert!(line.busy);
        due.enabled = false;
        assert!(!status_of(&due, None, false).busy);
    }
}
