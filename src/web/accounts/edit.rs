//! The add/edit page with "Test connection", and the add-account wizard that proposes a
//! server for an address. Every workflow is the account service's.

use crate::i18n::Text;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::super::form::Posted;
use super::super::session::SignedIn;
use super::super::shell::{self, Nav, Shell};
use super::super::{AppState, WebError};
use super::form::{AccountForm, password_from, seal_pending};
use super::{Status, status};
use crate::accounts::{AccountError, ConnectionTest, InvalidAccount};
use crate::i18n::Locale;
use crate::model::{AuthMethod, RunOutcome, Security, Trigger};

/// Runs shown on the edit page.
const HISTORY_RUNS: i64 = 20;
// ---------------------------------------------------------------------------------------
// The page

/// The result of "Test connection", in words.
#[derive(Debug, Clone)]
struct TestResult {
    ok: bool,
    text: String,
    /// The refused certificate, to review and trust by its fingerprint.
    certificate: Option<CertificateView>,
    /// Connected without encryption to a server that offers STARTTLS.
    starttls_offered: bool,
}

/// A server certificate as the page shows it for review.
#[derive(Debug, Clone)]
struct CertificateView {
    sha256: String,
    fingerprint: String,
    subject: String,
    issuer: String,
    valid: String,
    names: String,
    pin_changed: bool,
}

impl CertificateView {
    fn of(locale: &Locale, refused: &crate::tls::CertificateRefused) -> Self {
        let info = &refused.presented;
        let day =
            |t: Option<OffsetDateTime>| t.map_or_else(|| "?".to_owned(), |t| locale.full_date(t));
        Self {
            sha256: info.sha256.clone(),
            fingerprint: info.fingerprint(),
            subject: info.subject.clone(),
            issuer: info.issuer.clone(),
            valid: format!("{} – {}", day(info.not_before), day(info.not_after)),
            names: info.names.join(", "),
            pin_changed: refused.pin_changed,
        }
    }
}

fn describe_test(locale: &Locale, result: ConnectionTest) -> TestResult {
    match result {
        Ok(report) => {
            let connected = match report.tls_version {
                Some(version) => locale.t1("test-ok-secure", "version", version),
                None => locale.t("test-ok-plain"),
            };
            let features = if report.capabilities.is_empty() {
                locale.t("test-no-features")
            } else {
                report.capabilities.join(", ")
            };
            let mut text = locale.tn(
                "test-ok",
                &[
                    ("connected", connected.into()),
                    ("count", report.messages.into()),
                    ("size", locale.size(report.bytes).into()),
                    ("features", features.into()),
                ],
            );
            if report.starttls_offered {
                text.push(' ');
                text.push_str(&locale.t("test-starttls-offered"));
            }
            TestResult {
                ok: true,
                text,
                certificate: None,
                starttls_offered: report.starttls_offered,
            }
        }
        Err(error) => TestResult {
            ok: false,
            text: locale.t1("test-failed", "problem", locale.sentence(&error.text())),
            certificate: error
                .refused_certificate()
                .map(|refused| CertificateView::of(locale, refused)),
            starttls_offered: false,
        },
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "account_form.html")]
struct AccountFormPage {
    locale: Locale,
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
    /// The provider whose sign-in this mailbox can use ("Microsoft"), when configured.
    sign_in_with: Option<String>,
    /// Only the provider's sign-in: no password field (a new account at a provider with
    /// a configured client, or an account that already signs in that way).
    sign_in_only: bool,
}

impl AccountFormPage {
    fn general_error(&self) -> Option<String> {
        self.error.as_ref().map(|e| self.locale.say(&e.problem))
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
    let locale = &signed_in.locale;
    let (runs, skipped, status) = match account_id {
        None => (Vec::new(), Vec::new(), None),
        Some(id) => {
            let summary = state.accounts.summary(user_id, id).await?;
            let runs = state.accounts.runs(user_id, id, HISTORY_RUNS).await?;
            let skipped = state.accounts.skipped(user_id, id).await?;
            (
                runs.iter().map(|run| run_view(locale, run)).collect(),
                skipped
                    .iter()
                    .map(|s| SkippedView {
                        uidl: s.uidl.clone(),
                        size: s
                            .size_bytes
                            .map(|b| locale.size(u64::try_from(b).unwrap_or(0)))
                            .unwrap_or_else(|| locale.t("size-unknown")),
                        when: locale.full_date(s.recorded_at),
                    })
                    .collect(),
                Some(status(locale, &summary, OffsetDateTime::now_utc())),
            )
        }
    };
    let sign_in_with = state
        .accounts
        .sign_in_client(&form.email, &form.host)
        .map(|client| client.name.clone());
    let signs_in_with_token =
        AuthMethod::ALL.iter().all(|m| m.as_str() != form.auth) && !form.auth.is_empty();
    let sign_in_only = sign_in_with.is_some() && (account_id.is_none() || signs_in_with_token);
    let page = AccountFormPage {
        locale: locale.clone(),
        sign_in_with,
        sign_in_only,
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

fn run_view(locale: &Locale, run: &crate::store::fetch::RunRow) -> RunView {
    RunView {
        started: locale.full_date(run.started_at),
        started_iso: shell::iso(run.started_at),
        trigger: locale.t(match run.trigger {
            Trigger::Manual => "trigger-manual",
            Trigger::Schedule => "trigger-schedule",
        }),
        outcome: locale.t(match run.outcome {
            RunOutcome::Success => "outcome-success",
            RunOutcome::Partial => "outcome-partial",
            RunOutcome::Running => "outcome-running",
            RunOutcome::AuthError => "outcome-auth-error",
            RunOutcome::TemporaryError => "outcome-temporary-error",
            RunOutcome::PermanentError => "outcome-permanent-error",
            RunOutcome::Cancelled => "outcome-cancelled",
        }),
        messages: run.messages_fetched,
        size: locale.size(u64::try_from(run.bytes_fetched).unwrap_or(0)),
        skipped: run.messages_skipped,
        error: locale
            .stored(run.error_text.as_deref(), run.error_message.as_deref())
            .unwrap_or_default(),
    }
}

// ---------------------------------------------------------------------------------------
// Handlers

#[derive(Template, WebTemplate)]
#[template(path = "account_new.html")]
struct NewAccountPage {
    locale: Locale,
    shell: Shell,
    email: String,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    email: Option<String>,
}

/// The server to propose for `domain`, and how it was found, in words.
async fn proposal(
    state: &AppState,
    locale: &Locale,
    email: &str,
    domain: &str,
) -> (AccountForm, String) {
    let provider = crate::providers::for_domain(domain);
    if let Some(provider) = provider.filter(|p| p.pop3.is_none()) {
        let form = AccountForm::proposed(email, "", 995, Security::Tls);
        return (
            form,
            format!("{}: {}", provider.name, locale.t(provider.advice)),
        );
    }
    match state.autodetect.discover(domain).await {
        Some(server) => {
            let mut form = AccountForm::proposed(email, &server.host, server.port, server.security);
            let mut said = super::found_in_words(locale, &server);
            if let Some(provider) = provider {
                said = format!("{said} {}: {}", provider.name, locale.t(provider.advice));
                let configured = state.accounts.sign_in_client(email, &server.host).is_some();
                if provider.sign_in == crate::providers::SignIn::Microsoft && !configured {
                    said = format!("{said} {}", locale.t("wizard-microsoft-not-set-up"));
                }
                if let Some(minutes) = provider.min_poll_minutes {
                    form.polling = "fixed".into();
                    form.poll_minutes = minutes.to_string();
                }
            }
            (form, said)
        }
        None => (
            AccountForm::proposed(email, &format!("pop.{domain}"), 995, Security::Tls),
            locale.t1("wizard-not-found", "domain", domain),
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
            locale: signed_in.locale.clone(),
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
        let problem = Some(signed_in.locale.t("wizard-whole-address"));
        let code = StatusCode::UNPROCESSABLE_ENTITY;
        return address_page(&state, &signed_in, email, problem.as_deref(), code).await;
    };
    let (form, detection) = proposal(&state, &signed_in.locale, &email, domain).await;
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
    Posted(signed_in, form): Posted<AccountForm>,
) -> Result<Response, WebError> {
    test_or_save(&state, &signed_in, None, form).await
}

/// `POST /settings/accounts/{id}`: `action=test` or `action=save`.
pub async fn edit_post(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Posted(signed_in, form): Posted<AccountForm>,
) -> Result<Response, WebError> {
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
    // The buttons under a test result: they change one setting and test again.
    if let Some(sha256) = form.action.strip_prefix("trust_certificate:") {
        form.trust = "pin".into();
        form.tls_pin_sha256 = sha256.to_owned();
        form.tls_ca_pem.clear();
        form.action = "test".into();
    } else if form.action == "use_starttls" {
        form.security = Security::StartTls.as_str().into();
        form.action = "test".into();
    }
    if let Some(username) = form.switched_username() {
        form.username = username;
        return form_page(state, signed_in, id, form, shown, StatusCode::OK).await;
    }
    if form.action == "sign_in" {
        let started = match form.draft(None) {
            Err(invalid) => Err(AccountError::Invalid(invalid)),
            Ok(draft) => {
                let session = Some(signed_in.token_hash());
                state
                    .accounts
                    .start_sign_in(user_id, session, draft, id)
                    .await
            }
        };
        return match started {
            Ok(url) => continue_page(state, signed_in, &form, url).await,
            Err(AccountError::Invalid(invalid)) => {
                shown.error = Some(invalid);
                let code = StatusCode::UNPROCESSABLE_ENTITY;
                form_page(state, signed_in, id, form, shown, code).await
            }
            Err(other) => Err(other.into()),
        };
    }
    let result = match form.draft(password) {
        Err(invalid) => Err(AccountError::Invalid(invalid)),
        Ok(draft) if form.action == "test" => {
            match state.accounts.test_draft(user_id, id, draft).await {
                Ok(test) => {
                    shown.test = Some(describe_test(&signed_in.locale, test));
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

#[derive(Template, WebTemplate)]
#[template(path = "oauth_continue.html")]
struct ContinuePage {
    locale: Locale,
    shell: Shell,
    provider: String,
    email: String,
    url: String,
}

/// The step between the form and the provider: a link the person follows (a form may
/// not redirect to another site under our Content-Security-Policy's `form-action`).
async fn continue_page(
    state: &AppState,
    signed_in: &SignedIn,
    form: &AccountForm,
    url: String,
) -> Result<Response, WebError> {
    let provider = state
        .accounts
        .sign_in_client(&form.email, &form.host)
        .map_or_else(|| "your provider".to_owned(), |c| c.name.clone());
    let page = ContinuePage {
        locale: signed_in.locale.clone(),
        shell: Shell::load(state, signed_in, Nav::Settings, "").await?,
        provider,
        email: form.email.clone(),
        url,
    };
    Ok(page.into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
}

/// `GET /oauth/callback`: where the provider sends the person back, with a code (or an
/// error) and the state. Without a Tributary session the person signs in first and
/// comes back here.
pub async fn oauth_callback_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, WebError> {
    let (Some(flow_state), Some(code)) = (query.state.as_deref(), query.code.as_deref()) else {
        let said = query
            .error
            .map(|e| {
                e.chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .take(40)
                    .collect::<String>()
            })
            .filter(|e| !e.is_empty());
        return Err(WebError::Conflict(match said {
            Some(code) => Text::new("sign-in-provider-refused").with("code", code),
            None => Text::new("sign-in-callback-only"),
        }));
    };
    let finisher = crate::accounts::Finisher {
        user_id: signed_in.user_id,
        session_sha256: signed_in.token_hash(),
    };
    let account = state
        .accounts
        .finish_sign_in(finisher, flow_state, code)
        .await?;
    Ok(Redirect::to(&format!(
        "/settings/accounts?saved=1#account-{}",
        account.id
    ))
    .into_response())
}
