//! Sending through the API: an account's sending identity (`/accounts/{id}/sending`),
//! messages sent or saved as drafts (`/messages`), the outbox and the drafts. A `read`
//! token may look, never send. Each handler parses, calls the sending service
//! (`crate::sending`) and renders.
#![allow(unused_qualifications)]

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{ApiJson, ApiPath, ApiQuery, ApiUser};
use super::{ApiError, Problem};
use crate::model::{ErrorClass, OutboxState, Security, SmtpAuth};
use crate::sending::{IdentityDraft, MessageDraft, SendingTest};
use crate::state::AppState;
use crate::store::identities::Identity;
use crate::store::outbox::{Attachment, OutboxMessage};

/// Request bodies of the message calls may carry attachments (base64): up to this.
pub const MAX_MESSAGE_BODY_BYTES: usize = 40 * 1024 * 1024;

/// How an account sends. The SMTP password is never part of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityJson {
    pub account_id: Uuid,
    pub from_name: String,
    pub from_address: String,
    pub reply_to: Option<String>,
    pub signature: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_security: Security,
    pub smtp_auth: SmtpAuth,
    pub tls_ca_pem: Option<String>,
    pub tls_pin_sha256: Option<String>,
    /// `null`: the account's POP3 user name and password sign in to SMTP too.
    pub smtp_username: Option<String>,
}

impl From<Identity> for IdentityJson {
    fn from(i: Identity) -> Self {
        Self {
            account_id: i.account_id,
            from_name: i.from_name,
            from_address: i.from_address,
            reply_to: i.reply_to,
            signature: i.signature,
            smtp_host: i.smtp_host,
            smtp_port: u16::try_from(i.smtp_port).unwrap_or(0),
            smtp_security: i.smtp_security,
            smtp_auth: i.smtp_auth,
            tls_ca_pem: i.tls_ca_pem,
            tls_pin_sha256: i.tls_pin_sha256,
            smtp_username: i.smtp_username,
        }
    }
}

/// The account's sending identity; `null` while the account cannot send yet.
#[utoipa::path(get, path = "/accounts/{id}/sending", tag = "sending",
    params(("id" = Uuid, Path, description = "The account's id")),
    responses((status = 200, body = Option<IdentityJson>), (status = 401, response = Problem),
        (status = 404, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn identity_get(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Option<IdentityJson>>, ApiError> {
    let identity = state.sending.identity(user.user_id, id).await?;
    Ok(Json(identity.map(IdentityJson::from)))
}

/// Sets the account's sending identity (write scope). Blank `from_address` is the
/// account's address; no `smtp_username`, its POP3 login.
#[utoipa::path(put, path = "/accounts/{id}/sending", tag = "sending", request_body = IdentityDraft,
    params(("id" = Uuid, Path, description = "The account's id")),
    responses((status = 200, body = IdentityJson), (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 404, response = Problem), (status = 415, response = Problem),
        (status = 422, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn identity_put(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(draft): ApiJson<IdentityDraft>,
) -> Result<Json<IdentityJson>, ApiError> {
    user.require_write()?;
    let identity = state.sending.save_identity(user.user_id, id, draft).await?;
    Ok(Json(identity.into()))
}

/// Removes the sending identity (write scope): the account still receives.
#[utoipa::path(delete, path = "/accounts/{id}/sending", tag = "sending",
    params(("id" = Uuid, Path, description = "The account's id")),
    responses((status = 204), (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn identity_delete(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    user.require_write()?;
    state.sending.remove_identity(user.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What "Test sending" found.
#[derive(Debug, Serialize, ToSchema)]
pub struct SendingTestJson {
    pub ok: bool,
    pub tls_version: Option<String>,
    /// The server's SIZE limit, when it announces one.
    pub max_message_bytes: Option<u64>,
    pub auth: Vec<String>,
    pub error: Option<String>,
}

impl From<SendingTest> for SendingTestJson {
    fn from(test: SendingTest) -> Self {
        match test {
            Ok(report) => Self {
                ok: true,
                tls_version: report.tls_version,
                max_message_bytes: report.max_message_bytes,
                auth: report.auth,
                error: None,
            },
            Err(error) => Self {
                ok: false,
                tls_version: None,
                max_message_bytes: None,
                auth: Vec::new(),
                error: Some(error.to_string()),
            },
        }
    }
}

/// Signs in to the SMTP server with the saved identity and sends nothing (write scope:
/// it opens the stored password).
#[utoipa::path(post, path = "/accounts/{id}/sending/test", tag = "sending",
    params(("id" = Uuid, Path, description = "The account's id")),
    responses((status = 200, body = SendingTestJson), (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem), (status = 409, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn identity_test_post(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<SendingTestJson>, ApiError> {
    user.require_write()?;
    let test = state.sending.test_identity(user.user_id, id).await?;
    Ok(Json(test.into()))
}

/// Signs in to an SMTP server with settings not saved (the same body as PUT) and sends
/// nothing; stores nothing (write scope: it may open the stored passwords).
#[utoipa::path(post, path = "/accounts/{id}/sending/try", tag = "sending", request_body = IdentityDraft,
    params(("id" = Uuid, Path, description = "The account's id")),
    responses((status = 200, body = SendingTestJson), (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 404, response = Problem), (status = 415, response = Problem),
        (status = 422, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn identity_try_post(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(draft): ApiJson<IdentityDraft>,
) -> Result<Json<SendingTestJson>, ApiError> {
    user.require_write()?;
    let test = state.sending.test_unsaved(user.user_id, id, draft).await?;
    Ok(Json(test.into()))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentBody {
    #[schema(min_length = 1)]
    pub filename: String,
    /// e.g. `application/pdf`; default `application/octet-stream`.
    pub content_type: Option<String>,
    /// The file, base64 (standard alphabet, padded).
    pub content_base64: String,
}

/// A message to send, or a draft to save.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    /// The account to send from (it needs a sending identity to send).
    pub account_id: Option<Uuid>,
    /// Recipients: `addr@example.org` or `Name <addr@example.org>`.
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    #[serde(default)]
    pub bcc: Vec<String>,
    #[serde(default)]
    pub subject: String,
    /// The plain-text body.
    #[serde(default)]
    pub text: String,
    /// The id of a stored message this one answers (threading headers follow it).
    pub in_reply_to: Option<i64>,
    #[serde(default)]
    pub attachments: Vec<AttachmentBody>,
    /// `true`: only save it as a draft.
    #[serde(default)]
    pub draft: bool,
}

/// `POST /messages` as `multipart/form-data`: the message as JSON in one part, and each
/// file as it is, without base64 (a third smaller on the wire, and no size doubling in
/// memory).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Only documents the form; the parts are read by [`MessageInput`].
pub struct MessageUpload {
    /// The message: the same JSON object as the `application/json` body (its
    /// `attachments` may be left out).
    message: String,
    /// A file to attach, with its file name and type; repeat the part for more files.
    #[schema(value_type = Vec<String>, format = Binary)]
    attachment: Vec<Vec<u8>>,
}

/// The body of `POST /messages`: JSON, or a multipart upload ([`MessageUpload`]).
pub struct MessageInput {
    body: MessageBody,
    uploads: Vec<Attachment>,
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for MessageInput {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let multipart = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
        if !multipart {
            let ApiJson(body) = ApiJson::<MessageBody>::from_request(request, state).await?;
            return Ok(Self {
                body,
                uploads: Vec::new(),
            });
        }
        let malformed = |e: axum::extract::multipart::MultipartError| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest(format!("malformed multipart body: {}", e.body_text()))
            }
        };
        let mut parts = axum::extract::Multipart::from_request(request, state)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let mut body = None;
        let mut uploads = Vec::new();
        while let Some(part) = parts.next_field().await.map_err(malformed)? {
            match part.name().unwrap_or_default() {
                "message" => {
                    let text = part.text().await.map_err(malformed)?;
                    let parsed = serde_json::from_str::<MessageBody>(&text).map_err(|e| {
                        ApiError::validation("message", format!("not a message object: {e}"))
                    })?;
                    body = Some(parsed);
                }
                "attachment" => {
                    let filename = part
                        .file_name()
                        .map(crate::sending::upload_name)
                        .filter(|name| !name.is_empty())
                        .ok_or_else(|| {
                            ApiError::validation("attachment", "each file needs a file name")
                        })?;
                    let content_type = part
                        .content_type()
                        .unwrap_or("application/octet-stream")
                        .to_owned();
                    let content = part.bytes().await.map_err(malformed)?.to_vec();
                    uploads.push(Attachment {
                        filename,
                        content_type,
                        content,
                    });
                }
                other => {
                    return Err(ApiError::validation(
                        other.to_owned(),
                        "unknown part: expected \"message\" and \"attachment\"",
                    ));
                }
            }
        }
        let body =
            body.ok_or_else(|| ApiError::validation("message", "the message part is missing"))?;
        Ok(Self { body, uploads })
    }
}

impl MessageBody {
    fn into_draft(self, uploads: Vec<Attachment>) -> Result<(MessageDraft, bool), ApiError> {
        let mut attachments = Vec::with_capacity(self.attachments.len() + uploads.len());
        for (i, a) in self.attachments.into_iter().enumerate() {
            let content = base64::engine::general_purpose::STANDARD
                .decode(a.content_base64.as_bytes())
                .map_err(|_| {
                    ApiError::validation(
                        format!("attachments.{i}.content_base64"),
                        "not valid base64",
                    )
                })?;
            attachments.push(Attachment {
                filename: a.filename,
                content_type: a
                    .content_type
                    .unwrap_or_else(|| "application/octet-stream".into()),
                content,
            });
        }
        attachments.extend(uploads);
        // The service reads recipient lists as typed; a list is one typed line.
        let line = |list: Vec<String>| list.join(", ");
        Ok((
            MessageDraft {
                account_id: self.account_id,
                to: line(self.to),
                cc: line(self.cc),
                bcc: line(self.bcc),
                subject: self.subject,
                body: self.text,
                in_reply_to: self.in_reply_to,
                attachments,
            },
            self.draft,
        ))
    }
}

/// A message in the outbox, or a draft.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxJson {
    pub id: Uuid,
    pub account_id: Option<Uuid>,
    /// `draft`, `queued`, `submitting`, `sent`, `failed`, or `uncertain` (may have been
    /// sent: the server never answered the final step — check before sending again).
    pub state: OutboxState,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub subject: String,
    pub text: String,
    pub in_reply_to: Option<i64>,
    pub message_id: Option<String>,
    pub attempts: i32,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<OffsetDateTime>,
    /// Why it failed or is uncertain, in plain words.
    pub error: Option<String>,
    /// The server's last answer, as it said it.
    pub server_reply: Option<String>,
    /// What kind of failure the last attempt met (`auth`: fix the sign-in, `tls`: the
    /// certificate or STARTTLS, `network`, `sys_temp`, `sys_perm`, …).
    pub error_class: Option<ErrorClass>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<OffsetDateTime>,
}

impl From<OutboxMessage> for OutboxJson {
    fn from(m: OutboxMessage) -> Self {
        Self {
            id: m.id,
            account_id: m.account_id,
            state: m.state,
            to: m.to_addresses,
            cc: m.cc_addresses,
            bcc: m.bcc_addresses,
            subject: m.subject,
            text: m.body,
            in_reply_to: m.in_reply_to,
            message_id: m.message_id,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            error: m.last_error,
            server_reply: m.last_reply,
            error_class: m.error_class,
            updated_at: m.updated_at,
            sent_at: m.sent_at,
        }
    }
}

/// Sends a message (write scope): it is stored as `queued` and submitted by the outbox
/// worker (202); with `draft: true` it is saved as a draft instead (201).
#[utoipa::path(post, path = "/messages", tag = "sending",
    request_body(content((MessageBody = "application/json"), (MessageUpload = "multipart/form-data"))),
    responses((status = 201, body = OutboxJson), (status = 202, body = OutboxJson), (status = 400, response = Problem),
        (status = 401, response = Problem), (status = 403, response = Problem), (status = 404, response = Problem),
        (status = 409, response = Problem), (status = 413, response = Problem), (status = 415, response = Problem),
        (status = 422, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn messages_post(
    State(state): State<AppState>,
    user: ApiUser,
    input: MessageInput,
) -> Result<Response, ApiError> {
    user.require_write()?;
    let (draft, only_save) = input.body.into_draft(input.uploads)?;
    if only_save {
        let saved = state.sending.save_draft(user.user_id, None, draft).await?;
        return Ok((StatusCode::CREATED, Json(OutboxJson::from(saved))).into_response());
    }
    let queued = state.sending.send(user.user_id, None, draft).await?;
    Ok((StatusCode::ACCEPTED, Json(OutboxJson::from(queued))).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// Only messages in this state.
    state: Option<OutboxState>,
}

const LIST_LIMIT: i64 = 200;

/// The newest 200 sent, queued, failed and uncertain messages.
#[utoipa::path(get, path = "/outbox", tag = "sending", params(OutboxQuery),
    responses((status = 200, body = [OutboxJson]), (status = 401, response = Problem), (status = 422, response = Problem),
        (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn outbox_get(
    State(state): State<AppState>,
    user: ApiUser,
    ApiQuery(query): ApiQuery<OutboxQuery>,
) -> Result<Json<Vec<OutboxJson>>, ApiError> {
    let states = match query.state {
        Some(OutboxState::Draft) => return Ok(Json(Vec::new())),
        Some(one) => vec![one],
        None => vec![
            OutboxState::Queued,
            OutboxState::Submitting,
            OutboxState::Sent,
            OutboxState::Failed,
            OutboxState::Uncertain,
        ],
    };
    let messages = state
        .sending
        .list(user.user_id, &states, LIST_LIMIT)
        .await?;
    Ok(Json(messages.into_iter().map(OutboxJson::from).collect()))
}

/// Queues a failed or uncertain message again: the person's decision (write scope).
#[utoipa::path(post, path = "/outbox/{id}/resend", tag = "sending",
    params(("id" = Uuid, Path, description = "The message's id")),
    responses((status = 202), (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn outbox_resend_post(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    user.require_write()?;
    state.sending.resend(user.user_id, id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// The newest 200 drafts.
#[utoipa::path(get, path = "/drafts", tag = "sending",
    responses((status = 200, body = [OutboxJson]), (status = 401, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn drafts_get(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<OutboxJson>>, ApiError> {
    let drafts = state
        .sending
        .list(user.user_id, &[OutboxState::Draft], LIST_LIMIT)
        .await?;
    Ok(Json(drafts.into_iter().map(OutboxJson::from).collect()))
}

async fn own_draft(state: &AppState, user: &ApiUser, id: Uuid) -> Result<OutboxMessage, ApiError> {
    let message = state.sending.get(user.user_id, id).await?;
    if message.state != OutboxState::Draft {
        return Err(ApiError::NotFound);
    }
    Ok(message)
}

/// One draft.
#[utoipa::path(get, path = "/drafts/{id}", tag = "sending",
    params(("id" = Uuid, Path, description = "The draft's id")),
    responses((status = 200, body = OutboxJson), (status = 401, response = Problem), (status = 404, response = Problem),
        (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn draft_get(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<OutboxJson>, ApiError> {
    Ok(Json(own_draft(&state, &user, id).await?.into()))
}

/// Replaces a draft's content (write scope); with `draft: false` it is sent (202).
#[utoipa::path(patch, path = "/drafts/{id}", tag = "sending",
    request_body(content((MessageBody = "application/json"), (MessageUpload = "multipart/form-data"))),
    params(("id" = Uuid, Path, description = "The draft's id")),
    responses((status = 200, body = OutboxJson), (status = 202, body = OutboxJson), (status = 400, response = Problem),
        (status = 401, response = Problem), (status = 403, response = Problem), (status = 404, response = Problem),
        (status = 409, response = Problem), (status = 413, response = Problem), (status = 415, response = Problem),
        (status = 422, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn draft_patch(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath(id): ApiPath<Uuid>,
    input: MessageInput,
) -> Result<Response, ApiError> {
    user.require_write()?;
    own_draft(&state, &user, id).await?;
    let (draft, only_save) = input.body.into_draft(input.uploads)?;
    if only_save {
        let saved = state
            .sending
            .save_draft(user.user_id, Some(id), draft)
            .await?;
        return Ok(Json(OutboxJson::from(saved)).into_response());
    }
    let queued = state.sending.send(user.user_id, Some(id), draft).await?;
    Ok((StatusCode::ACCEPTED, Json(OutboxJson::from(queued))).into_response())
}

/// Deletes a draft (write scope).
#[utoipa::path(delete, path = "/drafts/{id}", tag = "sending",
    params(("id" = Uuid, Path, description = "The draft's id")),
    responses((status = 204), (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn draft_delete(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    user.require_write()?;
    own_draft(&state, &user, id).await?;
    state.sending.delete(user.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
