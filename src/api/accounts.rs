//! `/api/v1/accounts`: a user's remote POP3 accounts. The password is accepted on create
//! and update and never returned.
// utoipa's `params(…)` expansion names IntoParams types with a redundant path.
#![allow(unused_qualifications)]

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{ApiJson, ApiPath, ApiQuery, ApiUser};
use super::{ApiError, Problem};
use crate::accounts::{self as rules, AccountInput, AccountState, LeaveInput};
use crate::crypto::Secret;
use crate::fetch::{self, FetchError};
use crate::model::{
    AuthMethod, ImportMode, LeavePolicy, PausedReason, RunOutcome, Security, Trigger,
};
use crate::state::AppState;
use crate::store::accounts::{Account, NewAccount};
use crate::store::{self, StoreError};

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
    /// `auth`, `server` or `password_unreadable` while paused.
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

fn to_json(account: &Account, checking: bool) -> AccountJson {
    let state = rules::state(account, checking);
    AccountJson {
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

/// A field that may be absent (keep), `null` (clear) or a value (set).
fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A new account. Only `email`, `host`, `username` and `password` are required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountCreate {
    pub label: Option<String>,
    /// `#rrggbb`.
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$")]
    pub color: Option<String>,
    pub email: String,
    #[schema(min_length = 1, max_length = 253)]
    pub host: String,
    /// Defaults to 995 for `tls`, 110 otherwise.
    #[schema(minimum = 1, maximum = 65535)]
    pub port: Option<u16>,
    pub security: Option<Security>,
    pub auth: Option<AuthMethod>,
    pub username: String,
    #[schema(value_type = String, format = Password, min_length = 1)]
    pub password: Secret,
    pub tls_ca_pem: Option<String>,
    pub tls_pin_sha256: Option<String>,
    pub leave_on_server: Option<LeavePolicy>,
    pub delete_after_days: Option<i32>,
    pub import: Option<ImportMode>,
    pub poll_minutes: Option<i32>,
    pub max_message_bytes: Option<i64>,
    pub enabled: Option<bool>,
}

/// Changes to an account: absent fields stay; `null` clears a nullable one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    pub label: Option<String>,
    pub color: Option<String>,
    pub email: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub security: Option<Security>,
    pub auth: Option<AuthMethod>,
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
    pub import: Option<ImportMode>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub poll_minutes: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub max_message_bytes: Option<Option<i64>>,
    pub enabled: Option<bool>,
}

/// Everything a create or a patch-merged-onto-an-account says, validated by the rules the
/// web form and the CLI use too.
#[allow(clippy::too_many_arguments)]
fn validated(
    label: Option<String>,
    color_text: Option<&str>,
    email: String,
    host: String,
    port: Option<u16>,
    security: Security,
    auth_method: AuthMethod,
    username: String,
    password: Secret,
    tls_ca_pem: Option<String>,
    tls_pin_sha256: Option<String>,
    leave: LeavePolicy,
    delete_after_days: Option<i32>,
    import_mode: ImportMode,
    poll_minutes: Option<i32>,
    max_message_bytes: Option<i64>,
) -> Result<NewAccount, ApiError> {
    let leave_on_server = match leave {
        LeavePolicy::Keep => LeaveInput::Keep,
        LeavePolicy::Delete => LeaveInput::Delete,
        LeavePolicy::DeleteAfterDays => {
            LeaveInput::AfterDays(delete_after_days.ok_or_else(|| {
                ApiError::validation("delete_after_days", "required with delete_after_days")
            })?)
        }
    };
    rules::validate(AccountInput {
        label,
        color: color_text.map(str::to_owned),
        email,
        host,
        port,
        security,
        auth_method,
        username,
        password,
        tls_ca_pem,
        tls_pin_sha256,
        leave_on_server,
        import_mode,
        poll_minutes,
        max_message_bytes,
    })
    .map_err(|e| ApiError::validation(e.field, e.problem))
}

async fn leased(state: &AppState, user_id: Uuid) -> Result<Vec<Uuid>, ApiError> {
    let mut conn = state.pool.acquire().await.map_err(StoreError::from)?;
    Ok(store::fetch::leased_accounts(&mut conn, user_id).await?)
}

/// The caller's accounts, by label.
#[utoipa::path(get, path = "/accounts", tag = "accounts",
    responses((status = 200, body = [AccountJson]), (status = 401, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn accounts_get(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<AccountJson>>, ApiError> {
    let leased = leased(&state, user.user_id).await?;
    let mut conn = state.pool.acquire().await.map_err(StoreError::from)?;
    let accounts = store::accounts::list(&mut conn, user.user_id).await?;
    Ok(Json(
        accounts
            .iter()
            .map(|a| to_json(a, leased.contains(&a.id)))
            .collect(),
    ))
}

/// Adds an account (write scope). Its first check starts at once.
#[utoipa::path(post, path = "/accounts", tag = "accounts", request_body = AccountCreate,
    responses((status = 201, body = AccountJson), (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 413, response = Problem), (status = 415, response = Problem),
        (status = 422, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn accounts_post(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(body): ApiJson<AccountCreate>,
) -> Result<Response, ApiError> {
    user.require_write()?;
    let settings = validated(
        body.label,
        body.color.as_deref(),
        body.email,
        body.host,
        body.port,
        body.security.unwrap_or(Security::Tls),
        body.auth.unwrap_or(AuthMethod::UserPass),
        body.username,
        body.password,
        body.tls_ca_pem,
        body.tls_pin_sha256,
        body.leave_on_server.unwrap_or(LeavePolicy::Keep),
        body.delete_after_days,
        body.import.unwrap_or(ImportMode::All),
        body.poll_minutes,
        body.max_message_bytes,
    )?;
    let ring = state
        .keys
        .current()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut conn = state.pool.acquire().await.map_err(StoreError::from)?;
    let mut account = store::accounts::create(&mut conn, &ring, user.user_id, &settings).await?;
    if body.enabled == Some(false) {
        store::accounts::set_enabled(&mut conn, user.user_id, account.id, false).await?;
        account = store::accounts::get(&mut conn, user.user_id, account.id).await?;
    } else {
        drop(conn);
        if let Err(error) = fetch::check_now(&state.pool, user.user_id, account.id).await {
            tracing::warn!(%error, "could not wake the scheduler for a new account");
        }
    }
    let location = HeaderValue::from_str(&format!("/api/v1/accounts/{}", account.id))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(to_json(&account, false)),
    )
        .into_response())
}

async fn owned(state: &AppState, user: &ApiUser, id: Uuid) -> Result<Account, ApiError> {
    let mut conn = state.pool.acquire().await.map_err(StoreError::from)?;
    Ok(store::accounts::get(&mut conn, user.user_id, id).await?)
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
    let account = owned(&state, &user, id).await?;
    let leased = leased(&state, user.user_id).await?;
    Ok(Json(to_json(&account, leased.contains(&id))))
}

/// Changes an account (write scope). Any change lifts a pause and checks at once.
#[utoipa::path(patch, path = "/accounts/{id}", tag = "accounts", request_body = AccountPatch,
    params(("id" = Uuid, Path, description = "The account's id")),
    responses((status = 200, body = AccountJson), (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 404, response = Problem), (status = 415, response = Problem),
        (status = 422, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn account_patch(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<AccountPatch>,
) -> Result<Json<AccountJson>, ApiError> {
    user.require_write()?;
    let current = owned(&state, &user, id).await?;
    let was = to_json(&current, false);
    let ring = state
        .keys
        .current()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let new_password = patch.password;
    // Validation wants a password: the stored one stands in when none is given.
    let effective = match &new_password {
        Some(p) => p.clone(),
        None => {
            let mut conn = state.pool.acquire().await.map_err(StoreError::from)?;
            store::accounts::password(&mut conn, &ring, user.user_id, id)
                .await
                .unwrap_or_else(|_| Secret::new("unreadable"))
        }
    };
    let settings = validated(
        Some(patch.label.unwrap_or(was.label)),
        Some(patch.color.as_deref().unwrap_or(&was.color)),
        patch.email.unwrap_or(was.email),
        patch.host.unwrap_or(was.host),
        Some(patch.port.unwrap_or(was.port)),
        patch.security.unwrap_or(was.security),
        patch.auth.unwrap_or(was.auth),
        patch.username.unwrap_or(was.username),
        effective,
        patch.tls_ca_pem.unwrap_or(was.tls_ca_pem),
        patch.tls_pin_sha256.unwrap_or(was.tls_pin_sha256),
        patch.leave_on_server.unwrap_or(was.leave_on_server),
        patch.delete_after_days.unwrap_or(was.delete_after_days),
        patch.import.unwrap_or(was.import),
        patch.poll_minutes.unwrap_or(was.poll_minutes),
        patch.max_message_bytes.unwrap_or(was.max_message_bytes),
    )?;
    let mut conn = state.pool.acquire().await.map_err(StoreError::from)?;
    store::accounts::update(
        &mut conn,
        &ring,
        user.user_id,
        id,
        &settings,
        new_password.as_ref(),
    )
    .await?;
    if let Some(enabled) = patch.enabled {
        store::accounts::set_enabled(&mut conn, user.user_id, id, enabled).await?;
    }
    let account = store::accounts::get(&mut conn, user.user_id, id).await?;
    drop(conn);
    if account.enabled
        && let Err(error) = fetch::check_now(&state.pool, user.user_id, id).await
    {
        tracing::warn!(%error, "could not wake the scheduler after an update");
    }
    Ok(Json(to_json(&account, false)))
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
    let mut conn = state.pool.acquire().await.map_err(StoreError::from)?;
    store::accounts::delete(
        &mut conn,
        user.user_id,
        id,
        query.keep_messages.unwrap_or(true),
    )
    .await?;
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
    let account = owned(&state, &user, id).await?;
    let ring = state
        .keys
        .current()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let password = {
        let mut conn = state.pool.acquire().await.map_err(StoreError::from)?;
        store::accounts::password(&mut conn, &ring, user.user_id, id).await
    };
    let result = match password {
        Ok(password) => {
            let settings = NewAccount {
                label: account.label.clone(),
                color: account.color.clone(),
                email: account.email.clone(),
                host: account.host.clone(),
                port: u16::try_from(account.port).unwrap_or(0),
                security: account.security,
                auth_method: account.auth_method,
                username: account.username.clone(),
                password,
                tls_ca_pem: account.tls_ca_pem.clone(),
                tls_pin_sha256: account.tls_pin_sha256.clone(),
                leave_on_server: account.leave_on_server,
                delete_after_days: account.delete_after_days,
                import_mode: account.import_mode,
                poll_minutes: account.poll_minutes,
                max_message_bytes: account.max_message_bytes,
            };
            state.fetcher.test_connection(&settings).await
        }
        Err(StoreError::Crypto(_)) => Err(FetchError::PasswordUnreadable),
        Err(e) => return Err(e.into()),
    };
    Ok(Json(match result {
        Ok(report) => TestJson {
            ok: true,
            tls_version: report.tls_version,
            capabilities: report.capabilities,
            messages: Some(report.messages),
            bytes: Some(report.bytes),
            error: None,
        },
        Err(error) => TestJson {
            ok: false,
            tls_version: None,
            capabilities: Vec::new(),
            messages: None,
            bytes: None,
            error: Some(error.user_message()),
        },
    }))
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
    let account = owned(&state, &user, id).await?;
    if !account.enabled {
        return Err(ApiError::Conflict(
            "the account is paused by its owner; enable it first".into(),
        ));
    }
    if let Some(reason) = &account.paused_reason {
        return Err(ApiError::Conflict(format!(
            "the account is paused ({}); update its settings or password first",
            reason.as_str()
        )));
    }
    let since = OffsetDateTime::now_utc() - time::Duration::seconds(1);
    fetch::check_now(&state.pool, user.user_id, id).await?;
    let mut run_id = None;
    for _ in 0..40 {
        let mut conn = state.pool.acquire().await.map_err(StoreError::from)?;
        run_id = store::fetch::run_started_since(&mut conn, user.user_id, id, since).await?;
        drop(conn);
        if run_id.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
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
    owned(&state, &user, id).await?;
    let mut conn = state.pool.acquire().await.map_err(StoreError::from)?;
    let runs = store::fetch::recent_runs(&mut conn, user.user_id, id, 50).await?;
    Ok(Json(
        runs.into_iter()
            .map(|run| RunJson {
                id: run.id,
                trigger: run.trigger,
                started_at: run.started_at,
                finished_at: run.finished_at,
                outcome: run.outcome,
                messages_fetched: run.messages_fetched,
                bytes_fetched: run.bytes_fetched,
                messages_skipped: run.messages_skipped,
                error: run.error_message,
            })
            .collect(),
    ))
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
    let email = body.email.trim().to_owned();
    if email.chars().count() > 254 {
        return Err(ApiError::validation("email", "at most 254 characters"));
    }
    let Some((local, domain)) = email
        .rsplit_once('@')
        .filter(|(local, domain)| !local.is_empty() && domain.contains('.'))
    else {
        return Err(ApiError::validation(
            "email",
            "expected an address like name@example.org",
        ));
    };
    let candidates = state
        .autodetect
        .discover(domain)
        .await
        .map(|found| CandidateJson {
            host: found.host,
            port: found.port,
            security: found.security,
            usernames: vec![email.clone(), local.to_owned()],
            source: found.source.to_owned(),
        })
        .into_iter()
        .collect();
    Ok(Json(AutodetectJson { candidates }))
}
