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
fn found_in_words(locale: &Locale, server: &crate::net::discover::Found) -> String {
    use crate::model::Security;
    let security = locale.t(match server.security {
        Security::Tls => "found-tls",
        Security::StartTls => "found-starttls",
        Security::PlaintextDangerous => "found-plain",
    });
    locale.tn(
        "found-server",
        &[
            ("host", server.host.clone().into()),
            ("port", server.port.to_string().into()),
            ("security", security.into()),
            ("source", source_in_words(locale, server.source).into()),
        ],
    )
}

/// How the server was found, in the person's language.
fn source_in_words(locale: &Locale, source: FoundBy) -> String {
    locale.t(match source {
        FoundBy::ProviderList => "found-source-list",
        FoundBy::Srv => "found-source-srv",
        FoundBy::SrvUntested => "found-source-srv-untested",
        FoundBy::UsualNames => "found-source-probe",
    })
}

use super::form::Posted;
use super::session::SignedIn;
use super::shell::{self, Nav, Shell};
use super::{AppState, WebError};
use crate::accounts::{AccountState, AccountSummary};
use crate::i18n::Locale;
use crate::model::PausedReason;
use crate::net::discover::FoundBy;
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

pub(super) fn paused_text(locale: &Locale, reason: Option<PausedReason>) -> String {
    locale.t(paused_id(reason))
}

/// The catalogue id of why an account is paused.
pub(in crate::web) fn paused_id(reason: Option<PausedReason>) -> &'static str {
    match reason {
        Some(PausedReason::Auth) => "paused-auth",
        Some(PausedReason::Server) => "paused-server",
        Some(PausedReason::PasswordUnreadable) => "paused-password-unreadable",
        Some(PausedReason::SignIn) => "paused-sign-in",
        Some(PausedReason::CertificateChanged) => "paused-certificate-changed",
        None => "paused-other",
    }
}

pub fn status(locale: &Locale, summary: &AccountSummary, now: OffsetDateTime) -> Status {
    let account = &summary.account;
    let due = account.next_check_at <= now;
    let next = if due {
        locale.t("status-next-soon")
    } else {
        locale.t1(
            "status-next",
            "when",
            locale.relative(account.next_check_at, now),
        )
    };
    let state = summary.state();
    let text = match state {
        AccountState::Checking => locale.t("status-checking"),
        AccountState::Paused => paused_text(locale, account.paused_reason),
        AccountState::Off => locale.t("status-off"),
        AccountState::Waiting => {
            let wait =
                (account.next_check_at - account.last_attempt_at.unwrap_or(now)).whole_seconds();
            let minutes = (wait.max(60) + 59) / 60;
            if minutes < 120 {
                locale.t1("status-waiting-minutes", "count", minutes)
            } else {
                locale.t1("status-waiting-hours", "count", (minutes + 30) / 60)
            }
        }
        AccountState::Error => {
            let when = account
                .last_attempt_at
                .map(|at| locale.relative(at, now))
                .unwrap_or_default();
            let message = locale
                .stored(
                    account.last_error_text.as_deref(),
                    account.last_error_message.as_deref(),
                )
                .unwrap_or_else(|| locale.t("status-unknown-error"));
            locale.tn(
                "status-error",
                &[
                    ("when", when.into()),
                    ("problem", message.into()),
                    ("next", next.into()),
                ],
            )
        }
        AccountState::Ok => {
            let when = account
                .last_success_at
                .map(|at| locale.relative(at, now))
                .unwrap_or_default();
            match &summary.latest_run {
                Some(run) => locale.tn(
                    "status-ok-fetched",
                    &[
                        ("when", when.into()),
                        ("count", run.messages_fetched.into()),
                        ("next", next.into()),
                    ],
                ),
                None => locale.t2("status-ok", "when", when, "next", next),
            }
        }
        AccountState::New => locale.t1("status-new", "next", next),
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
    fn new(locale: &Locale, summary: &AccountSummary, now: OffsetDateTime) -> Self {
        let account = &summary.account;
        Self {
            id: account.id,
            chip: shell::chip_class(account.id),
            label: account.label.clone(),
            email: account.email.clone(),
            server: format!("{}:{}", account.host, account.port),
            status: status(locale, summary, now),
            enabled: account.enabled,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts.html")]
struct AccountsPage {
    locale: Locale,
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

async fn account_rows(state: &AppState, signed_in: &SignedIn) -> Result<Vec<AccountRow>, WebError> {
    let now = OffsetDateTime::now_utc();
    let summaries = state.accounts.list(signed_in.user_id).await?;
    Ok(summaries
        .iter()
        .map(|s| AccountRow::new(&signed_in.locale, s, now))
        .collect())
}

pub async fn accounts_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let shell = Shell::load(&state, &signed_in, Nav::Settings, "").await?;
    let rows = account_rows(&state, &signed_in).await?;
    let notice = if query.saved.is_some() {
        Some("notice-account-saved")
    } else if query.removed.is_some() {
        Some("notice-account-removed")
    } else if query.checking.is_some() {
        Some("notice-checking")
    } else {
        None
    };
    let locale = signed_in.locale.clone();
    Ok(AccountsPage {
        notice: notice.map(|id| locale.t(id)),
        locale,
        shell,
        rows,
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
    let rows = account_rows(&state, &signed_in).await?;
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
    locale: Locale,
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
        locale: signed_in.locale.clone(),
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
        _ => return Err(WebError::BadRequest("bad-request-keep-mail")),
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
            last_error_text: None,
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
            error_text: None,
        }
    }

    fn status_in(lang: Lang, account: &Account, latest: Option<RunRow>, leased: bool) -> Status {
        let summary = AccountSummary {
            account: account.clone(),
            latest_run: latest,
            leased,
        };
        let locale = Locale::new(lang, crate::i18n::Zone::utc());
        status(&locale, &summary, OffsetDateTime::now_utc())
    }

    fn status_of(account: &Account, latest: Option<RunRow>, leased: bool) -> Status {
        status_in(Lang::En, account, latest, leased)
    }

    #[test]
    fn status_lines_speak_french_with_its_plurals() {
        let ok = account();
        let done = status_in(Lang::Fr, &ok, Some(run(RunOutcome::Success, 12)), false);
        assert_eq!(
            done.text,
            "Dernière vérification il y a 3 minutes · 12 nouveaux · prochaine dans 5 minutes"
        );
        let one = status_in(Lang::Fr, &ok, Some(run(RunOutcome::Success, 1)), false);
        assert!(one.text.contains("· 1 nouveau ·"), "{}", one.text);
        let none = status_in(Lang::Fr, &ok, Some(run(RunOutcome::Success, 0)), false);
        assert!(none.text.contains("· 0 nouveau ·"), "{}", none.text);
        let mut auth = account();
        auth.paused_reason = Some(PausedReason::Auth);
        assert!(
            status_in(Lang::Fr, &auth, None, false)
                .text
                .starts_with("En pause\u{a0}: le serveur a refusé le mot de passe"),
        );
    }

    use crate::i18n::Lang;

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
