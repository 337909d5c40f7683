//! `/api/v1/accounts`: a user's remote POP3 accounts. The password is accepted on create
//! and update and never returned. Each handler parses the request, calls the account
//! service (`crate::accounts`) and renders its answer.
// utoipa's `params(…)` expansion names IntoParams types with a redundant path.
#![allow(unused_qualifications)]

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{ApiJson, ApiPath, ApiQuery, ApiUser};
use super::{ApiError, Problem};
use crate::accounts::{AccountChanges, AccountDraft, AccountState, ConnectionTest, state};
use crate::model::{
    AuthMethod, ImportMode, LeavePolicy, PausedReason, RunOutcome, Security, Trigger,
};
use crate::net::discover::Found;
use crate::state::AppState;
use crate::store::accounts::Account;
use crate::store::fetch::RunRow;

/// How long "check now" waits for a worker to start the run before answering.
const CHECK_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusJson {
    pub state: AccountState,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_success_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub next_check_at: OffsetDateTime,
    /// Set while the account waits for its owner.
    pub paused_reason: Option<PausedReason>,
}

/// An account. The password is never part of it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountJson {
    pub id: Uuid,
    pub label: String,
    pub color: String,
    pub email: String,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub auth: AuthMethod,
    pub username: String,
    pub tls_ca_pem: Option<String>,
    pub tls_pin_sha256: Option<String>,
    pub leave_on_server: LeavePolicy,
    pub delete_after_days: Option<i32>,
    pub import: ImportMode,
    /// `null`: automatic (more often when mail arrives).
    pub poll_minutes: Option<i32>,
    pub max_message_bytes: Option<i64>,
    pub enabled: bool,
    pub status: StatusJson,
}

impl AccountJson {
    fn new(account: &Account, state: AccountState) -> Self {
        Self {
            id: account.id,
            label: account.label.clone(),
            color: account.color.clone(),
            email: account.email.clone(),
            host: account.host.clone(),
            port: u16::try_from(account.port).unwrap_or(0),
            security: account.security,
            auth: account.auth_method,
            username: account.username.clone(),
            tls_ca_pem: account.tls_ca_pem.clone(),
            tls_pin_sha256: account.tls_pin_sha256.clone(),
            leave_on_server: account.leave_on_server,
            delete_after_days: account.delete_after_days,
            import: account.import_mode,
            poll_minutes: account.poll_minutes,
            max_message_bytes: account.max_message_bytes,
            enabled: account.enabled,
            status: StatusJson {
                state,
                last_success_at: account.last_success_at,
                last_error: account.last_error_message.clone(),
                next_check_at: account.next_check_at,
                paused_reason: account.paused_reason,
            },
        }
    }

    /// An account just written: no worker has it yet.
    fn written(account: &Account) -> Self {
        Self::new(account, state(account, false))
    }
}

/// The caller's accounts, by label.
#[utoipa::path(get, path = "/accounts", tag = "accounts",
    responses((status = 200, body = [AccountJson]), (status = 401, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn accounts_get(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<AccountJson>>, ApiError> {
    let summaries = state.accounts.list(user.user_id).await?;
    Ok(Json(
        summaries
            .iter()
            .map(|s| AccountJson::new(&s.account, s.state()))
            .collect(),
    ))
}

/// Adds an account (write scope). Its first check starts at once.
#[utoipa::path(post, path = "/accounts", tag = "accounts", request_body = AccountDraft,
    responses((status = 201, body = AccountJson), (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 413, response = Problem), (status = 415, response = Problem),
        (status = 422, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn accounts_post(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(draft): ApiJson<AccountDraft>,
) -> Result<Response, ApiError> {
    user.require_write()?;
    let account = state.accounts.create(user.user_id, draft).await?;
    let location = HeaderValue::from_str(&format!("/api/v1/accounts/{}", account.id))
        .map_err(|e| ApiError::Response(e.to_string()))?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(AccountJson::written(&account)),
    )
        .into_response())
}

/// One account.
#[utoipa::path(get, path = "/accounts/{id}", tag = "accounts",
    params(("id" = Uuid, Path, description = "The account's id")),
    responses((status = 200, body = AccountJson), (status = 401, response = Problem), (status = 404, response = Problem),
        (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn account_get(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<AccountJson>, ApiError> {
    let summary = state.accounts.summary(user.user_id, id).await?;
    Ok(Json(AccountJson::new(&summary.account, summary.state())))
}

/// Changes an account (write scope). Any change lifts a pause and checks at once.
#[utoipa::path(patch, path = "/accounts/{id}", tag = "accounts", request_body = AccountChanges,
    params(("id" = Uuid, Path, description = "The account's id")),
    responses((status = 200, body = AccountJson), (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 404, response = Problem), (status = 415, response = Problem),
        (status = 422, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn account_patch(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(changes): ApiJson<AccountChanges>,
) -> Result<Json<AccountJson>, ApiError> {
    user.require_write()?;
    let account = state.accounts.change(user.user_id, id, changes).await?;
    Ok(Json(AccountJson::written(&account)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Keep the mail already fetched (default `true`).
    keep_messages: Option<bool>,
}

/// Removes an account (write scope); `keep_messages=false` deletes its mail too.
#[utoipa::path(delete, path = "/accounts/{id}", tag = "accounts",
    params(("id" = Uuid, Path, description = "The account's id"), DeleteQuery),
    responses((status = 204), (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem), (status = 422, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn account_delete(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    user.require_write()?;
    let keep = query.keep_messages.unwrap_or(true);
    state.accounts.remove(user.user_id, id, keep).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a connection test found.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestJson {
    pub ok: bool,
    /// e.g. `TLSv1_3`; `null` for an unencrypted connection or a failure.
    pub tls_version: Option<String>,
    pub capabilities: Vec<String>,
    pub messages: Option<u32>,
    pub bytes: Option<u64>,
    /// The problem in plain words (the server's own text included where it helps).
    pub error: Option<String>,
    /// Connected without encryption to a server that offers STARTTLS: set `security` to
    /// `starttls` to encrypt the connection.
    pub starttls_offered: bool,
    /// The server's certificate, when it was refused: to review, and to trust by setting
    /// `tls_pin_sha256` to its `sha256`.
    pub certificate: Option<CertificateJson>,
}

/// A server certificate, for review before trusting it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateJson {
    /// SHA-256 of the certificate (DER), lower-case hex: the value of `tls_pin_sha256`.
    pub sha256: String,
    pub subject: String,
    pub issuer: String,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub not_before: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub not_after: Option<OffsetDateTime>,
    /// The host names and addresses it is valid for.
    pub names: Vec<String>,
    /// The account pins another certificate: the server's certificate changed.
    pub pin_changed: bool,
}

impl From<&crate::tls::CertificateRefused> for CertificateJson {
    fn from(refused: &crate::tls::CertificateRefused) -> Self {
        let info = &refused.presented;
        Self {
            sha256: info.sha256.clone(),
            subject: info.subject.clone(),
            issuer: info.issuer.clone(),
            not_before: info.not_before,
            not_after: info.not_after,
            names: info.names.clone(),
            pin_changed: refused.pin_changed,
        }
    }
}

impl From<ConnectionTest> for TestJson {
    fn from(test: ConnectionTest) -> Self {
        match test {
            Ok(report) => Self {
                ok: true,
                tls_version: report.tls_version,
                capabilities: report.capabilities,
                messages: Some(report.messages),
                bytes: Some(report.bytes),
                error: None,
                starttls_offered: report.starttls_offered,
                certificate: None,
            },
            Err(error) => Self {
                ok: false,
                tls_version: None,
                capabilities: Vec::new(),
                messages: None,
                bytes: None,
                error: Some(error.user_message()),
                starttls_offered: false,
                certificate: error.refused_certificate().map(CertificateJson::from),
            },
        }
    }
}

/// Logs in with the saved settings and reports what the server said (write scope: it
/// opens the stored password). Changes nothing on the server.
#[utoipa::path(post, path = "/accounts/{id}/test", tag = "accounts",
    params(("id" = Uuid, Path, description = "The account's id")),
    responses((status = 200, body = TestJson), (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn account_test_post(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<TestJson>, ApiError> {
    user.require_write()?;
    let test = state.accounts.test_saved(user.user_id, id).await?;
    Ok(Json(test.into()))
}

/// "Check mail now" was accepted.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckJson {
    /// The run that is checking the account (see `/accounts/{id}/runs`); `null` when no
    /// worker has picked it up within two seconds (all busy) — it runs as soon as one is free.
    pub run_id: Option<i64>,
}

/// Checks the account now on whichever replica is free (write scope).
#[utoipa::path(post, path = "/accounts/{id}/check", tag = "accounts",
    params(("id" = Uuid, Path, description = "The account's id")),
    responses((status = 202, body = CheckJson), (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem), (status = 409, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn account_check_post(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    user.require_write()?;
    let run_id = state
        .accounts
        .check_now_and_wait(user.user_id, id, CHECK_WAIT)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(CheckJson { run_id })).into_response())
}

/// One check of an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunJson {
    pub id: i64,
    pub trigger: Trigger,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<OffsetDateTime>,
    pub outcome: RunOutcome,
    pub messages_fetched: i32,
    pub bytes_fetched: i64,
    pub messages_skipped: i32,
    pub error: Option<String>,
}

impl From<RunRow> for RunJson {
    fn from(run: RunRow) -> Self {
        Self {
            id: run.id,
            trigger: run.trigger,
            started_at: run.started_at,
            finished_at: run.finished_at,
            outcome: run.outcome,
            messages_fetched: run.messages_fetched,
            bytes_fetched: run.bytes_fetched,
            messages_skipped: run.messages_skipped,
            error: run.error_message,
        }
    }
}

/// The account's last 50 checks, newest first.
#[utoipa::path(get, path = "/accounts/{id}/runs", tag = "accounts",
    params(("id" = Uuid, Path, description = "The account's id")),
    responses((status = 200, body = [RunJson]), (status = 401, response = Problem), (status = 404, response = Problem),
        (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn account_runs_get(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<RunJson>>, ApiError> {
    let runs = state.accounts.runs(user.user_id, id, 50).await?;
    Ok(Json(runs.into_iter().map(RunJson::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutodetectRequest {
    #[schema(pattern = r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$", max_length = 254)]
    pub email: String,
}

/// A proposed server for an address.
#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateJson {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// User names to try, most likely first (the whole address, then the part before @).
    pub usernames: Vec<String>,
    /// How it was found, in words.
    pub source: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AutodetectJson {
    /// Empty when nothing answered.
    pub candidates: Vec<CandidateJson>,
    /// What Tributary knows of the address's provider, when it is a known one.
    pub provider: Option<ProviderJson>,
}

/// A known mail provider's needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderJson {
    pub name: String,
    /// `password`, `app_password`, `microsoft` (OAuth2 only) or `google` (app password or
    /// OAuth2).
    pub sign_in: String,
    /// The provider refuses more frequent checks.
    pub min_poll_minutes: Option<u32>,
    /// What the person must do first, in one sentence.
    pub advice: String,
    /// `false`: the provider has no POP3 at all.
    pub offers_pop3: bool,
}

/// The address and its two parts, or why it cannot be one.
fn split_address(email: &str) -> Result<(String, String, String), ApiError> {
    let email = email.trim().to_owned();
    if email.chars().count() > 254 {
        return Err(ApiError::validation("email", "at most 254 characters"));
    }
    let Some((local, domain)) = email
        .rsplit_once('@')
        .filter(|(local, domain)| !local.is_empty() && domain.contains('.'))
        .map(|(local, domain)| (local.to_owned(), domain.to_owned()))
    else {
        return Err(ApiError::validation(
            "email",
            "expected an address like name@example.org",
        ));
    };
    Ok((email, local, domain))
}

fn candidates(email: String, local: String, found: Option<Found>) -> AutodetectJson {
    let provider = crate::providers::for_address(&email).map(|p| ProviderJson {
        name: p.name.to_owned(),
        sign_in: match p.sign_in {
            crate::providers::SignIn::Password => "password",
            crate::providers::SignIn::AppPassword => "app_password",
            crate::providers::SignIn::Microsoft => "microsoft",
            crate::providers::SignIn::Google => "google",
        }
        .to_owned(),
        min_poll_minutes: p.min_poll_minutes,
        advice: crate::i18n::Locale::default().t(p.advice),
        offers_pop3: p.pop3.is_some(),
    });
    let candidates = found
        .map(|found| CandidateJson {
            host: found.host,
            port: found.port,
            security: found.security,
            usernames: vec![email, local],
            source: found.source.describe().to_owned(),
        })
        .into_iter()
        .collect();
    AutodetectJson {
        candidates,
        provider,
    }
}

/// Proposes the POP3 server for an address: DNS SRV records, then the usual names
/// (the same logic as the web wizard).
#[utoipa::path(post, path = "/autodetect", tag = "accounts", request_body = AutodetectRequest,
    responses((status = 200, body = AutodetectJson), (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 415, response = Problem), (status = 422, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn autodetect_post(
    State(state): State<AppState>,
    _user: ApiUser,
    ApiJson(body): ApiJson<AutodetectRequest>,
) -> Result<Json<AutodetectJson>, ApiError> {
    let (email, local, domain) = split_address(&body.email)?;
    let found = state.autodetect.discover(&domain).await;
    Ok(Json(candidates(email, local, found)))
}

/// Proposes the SMTP submission server for an address: DNS SRV `_submissions._tcp` and
/// `_submission._tcp`, then `smtp.` and `mail.` on 465 and 587 (the same logic as the
/// "Find my server" button of the sending settings).
#[utoipa::path(post, path = "/autodetect/smtp", tag = "sending", request_body = AutodetectRequest,
    responses((status = 200, body = AutodetectJson), (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 415, response = Problem), (status = 422, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn autodetect_smtp_post(
    State(state): State<AppState>,
    _user: ApiUser,
    ApiJson(body): ApiJson<AutodetectRequest>,
) -> Result<Json<AutodetectJson>, ApiError> {
    let (email, local, _) = split_address(&body.email)?;
    let found = state.sending.discover_server(&email).await;
    Ok(Json(candidates(email, local, found)))
}

/// A sign-in with the provider, started: the person opens `authorize_url` in a browser
/// where they are signed in to Tributary's web pages as the same user; the provider then
/// sends them back to `/oauth/callback`, which adds (or signs in again) the account.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignInStarted {
    pub authorize_url: String,
    /// "Microsoft", "Google", or the administrator's own provider.
    pub provider: String,
    /// The link works once, within this many seconds.
    pub expires_in_seconds: i64,
}

fn sign_in_started(state: &AppState, draft: &AccountDraft, url: String) -> SignInStarted {
    SignInStarted {
        authorize_url: url,
        provider: state
            .accounts
            .sign_in_client(&draft.email, &draft.host)
            .map_or_else(String::new, |c| c.name.clone()),
        expires_in_seconds: crate::oauth::FLOW_LIFETIME.whole_seconds(),
    }
}

/// Starts adding an account that signs in with its provider (OAuth 2.0) instead of a
/// password (write scope). `password` and `auth` are ignored; 422 when no client is
/// configured for the address.
#[utoipa::path(post, path = "/accounts/sign-in", tag = "accounts", request_body = AccountDraft,
    responses((status = 200, body = SignInStarted), (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 413, response = Problem), (status = 415, response = Problem),
        (status = 422, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn accounts_sign_in_post(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(draft): ApiJson<AccountDraft>,
) -> Result<Json<SignInStarted>, ApiError> {
    user.require_write()?;
    let url = state
        .accounts
        .start_sign_in(user.user_id, None, draft.clone(), None)
        .await?;
    Ok(Json(sign_in_started(&state, &draft, url)))
}

/// Signs an existing account in again with its provider, e.g. after "sign in again"
/// paused it (write scope). 422 when no client is configured for its address.
#[utoipa::path(post, path = "/accounts/{id}/sign-in", tag = "accounts",
    params(("id" = Uuid, Path, description = "The account's id")),
    responses((status = 200, body = SignInStarted), (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem), (status = 422, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn account_sign_in_post(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<SignInStarted>, ApiError> {
    user.require_write()?;
    let account = state.accounts.get(user.user_id, id).await?;
    let draft = AccountDraft::from_account(&account);
    let url = state
        .accounts
        .start_sign_in(user.user_id, None, draft.clone(), Some(id))
        .await?;
    Ok(Json(sign_in_started(&state, &draft, url)))
}
