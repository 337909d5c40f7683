//! `/api/v1/messages`: the combined mailbox — lists with cursors and filters, one message
//! with its text, sanitised HTML and attachments, the raw bytes, flags, deletion.
// utoipa's `params(…)` expansion names IntoParams types with a redundant path.
#![allow(unused_qualifications)]

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
use crate::mail::display;
use crate::mail::sanitize::{RemoteContent, sanitize};
use crate::state::AppState;
use crate::store::messages::{
    Cursor, Direction, FlagChange, Folder, ListQuery, MessageDetail, MessageSummary,
};
use crate::store::{self, StoreError};

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;
const MAX_QUERY_CHARS: usize = 200;

#[derive(Debug, Serialize, ToSchema)]
pub struct AddressJson {
    pub name: Option<String>,
    pub address: Option<String>,
}

/// A message in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageJson {
    pub id: i64,
    /// `null` once the account was removed with its mail kept.
    pub account_id: Option<Uuid>,
    pub account_label: Option<String>,
    pub from: AddressJson,
    pub subject: Option<String>,
    pub snippet: Option<String>,
    /// The Date header when plausible, else when it was fetched; lists sort on it.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub date: OffsetDateTime,
    pub has_attachments: bool,
    pub seen: bool,
    pub starred: bool,
    pub trashed: bool,
    /// Sent from here through the outbox (a copy kept with the mail), not fetched.
    pub sent: bool,
}

fn summary_json(m: &MessageSummary) -> MessageJson {
    MessageJson {
        id: m.id,
        account_id: m.account_id,
        account_label: m.account_label.clone(),
        from: AddressJson {
            name: m.from_name.clone(),
            address: m.from_address.clone(),
        },
        subject: m.subject.clone(),
        snippet: m.snippet.clone(),
        date: m.sort_at,
        has_attachments: m.has_attachments,
        seen: m.seen,
        starred: m.starred,
        sent: m.sent,
        trashed: m.trashed,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePage {
    pub messages: Vec<MessageJson>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this account's mail.
    account: Option<Uuid>,
    /// Only unread mail.
    unread: Option<bool>,
    /// Only starred mail.
    starred: Option<bool>,
    /// The trash instead of the inbox.
    trashed: Option<bool>,
    /// Full-text search over sender, subject and body (words, "phrases", -excluded).
    q: Option<String>,
    /// Dated at or after (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    #[serde(default, with = "time::serde::rfc3339::option")]
    since: Option<OffsetDateTime>,
    /// Dated before (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    #[serde(default, with = "time::serde::rfc3339::option")]
    before: Option<OffsetDateTime>,
    /// From a previous page's `next_cursor`.
    #[param(pattern = "^-?[0-9]{1,16}_-?[0-9]{1,18}$")]
    cursor: Option<String>,
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// Where a page of the list starts and how long it is.
struct PageSpec {
    limit: i64,
    cursor: Option<(Cursor, Direction)>,
    folder: Folder,
}

impl ListParams {
    /// The page size, the cursor to start after, and the folder, checked.
    fn checked(&self) -> Result<PageSpec, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::validation("limit", "must be between 1 and 200"));
        }
        let cursor = match self.cursor.as_deref() {
            Some(text) => Some((
                Cursor::parse(text)
                    .ok_or_else(|| ApiError::validation("cursor", "not a cursor this API gave"))?,
                Direction::Older,
            )),
            None => None,
        };
        // `starred=false` means "no filter"; `trashed=false` is the inbox.
        let folder = if self.trashed == Some(true) {
            Folder::Trash
        } else if self.starred == Some(true) {
            Folder::Starred
        } else {
            Folder::Inbox
        };
        Ok(PageSpec {
            limit,
            cursor,
            folder,
        })
    }

    /// The search, trimmed and bounded; `None` for none.
    fn search(&self) -> Option<String> {
        self.q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(|q| q.chars().take(MAX_QUERY_CHARS).collect())
    }
}

/// The caller's mail, newest first, a page at a time.
#[utoipa::path(get, path = "/messages", tag = "messages", params(ListParams),
    responses((status = 200, body = MessagePage), (status = 401, response = Problem), (status = 422, response = Problem),
        (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn messages_get(
    State(state): State<AppState>,
    user: ApiUser,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<MessagePage>, ApiError> {
    let PageSpec {
        limit,
        cursor,
        folder,
    } = params.checked()?;
    let q = params.search();
    let mut conn = state.db().await?;
    let page = store::messages::list(
        &mut conn,
        &ListQuery {
            user_id: user.user_id,
            folder,
            account_id: params.account,
            search: q.as_deref(),
            unread_only: params.unread == Some(true),
            since: params.since,
            until: params.before,
            cursor,
            limit,
        },
    )
    .await?;
    // `unread=false` means "no filter", like `starred=false`.
    let next_cursor = page
        .has_older
        .then(|| page.messages.last().map(|m| m.cursor().to_token()))
        .flatten();
    Ok(Json(MessagePage {
        messages: page.messages.iter().map(summary_json).collect(),
        next_cursor,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentJson {
    /// For `/messages/{id}/attachments/{n}`.
    pub index: usize,
    pub name: String,
    pub content_type: String,
    pub size: usize,
}

/// One message in full.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageDetailJson {
    #[serde(flatten)]
    pub message: MessageJson,
    pub account_email: Option<String>,
    pub to: Option<String>,
    pub cc: Option<String>,
    pub message_id: Option<String>,
    pub size_bytes: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub fetched_at: OffsetDateTime,
    /// Why parsing was partial, if it was.
    pub parse_problem: Option<String>,
    pub text: Option<String>,
    /// Sanitised (no script, no remote images: they are removed).
    pub html: Option<String>,
    pub attachments: Vec<AttachmentJson>,
}

fn detail_json(detail: &MessageDetail, raw: &[u8]) -> MessageDetailJson {
    let shown = display::display(raw);
    let html = shown
        .html
        .as_deref()
        .map(|html| sanitize(html, RemoteContent::Blocked, display::inline_images(raw)).html);
    MessageDetailJson {
        message: summary_json(&detail.summary),
        account_email: detail.account_email.clone(),
        to: detail.summary.to_addresses.clone(),
        cc: detail.cc_addresses.clone(),
        message_id: detail.message_id.clone(),
        size_bytes: detail.size_bytes,
        fetched_at: detail.fetched_at,
        parse_problem: detail.parse_problem.clone().or(shown.problem),
        text: shown.text,
        html,
        attachments: shown
            .attachments
            .into_iter()
            .map(|a| AttachmentJson {
                index: a.index,
                name: a.name,
                content_type: a.content_type,
                size: a.size,
            })
            .collect(),
    }
}

async fn with_raw(
    state: &AppState,
    user: &ApiUser,
    id: i64,
) -> Result<(MessageDetail, Vec<u8>), ApiError> {
    let mut conn = state.db().await?;
    store::messages::get_with_raw(&mut conn, user.user_id, id)
        .await?
        .ok_or(ApiError::NotFound)
}

async fn parsed<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    Ok(tokio::task::spawn_blocking(work).await?)
}

/// One message: headers, text, sanitised HTML, attachment list. Does not mark it read.
#[utoipa::path(get, path = "/messages/{id}", tag = "messages",
    params(("id" = i64, Path, description = "The message's id")),
    responses((status = 200, body = MessageDetailJson), (status = 401, response = Problem), (status = 404, response = Problem),
        (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn message_get(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<MessageDetailJson>, ApiError> {
    let (detail, raw) = with_raw(&state, &user, id).await?;
    Ok(Json(parsed(move || detail_json(&detail, &raw)).await?))
}

/// The message exactly as the POP3 server sent it.
#[utoipa::path(get, path = "/messages/{id}/raw", tag = "messages",
    params(("id" = i64, Path, description = "The message's id")),
    responses((status = 200, content_type = "message/rfc822", body = Vec<u8>), (status = 401, response = Problem),
        (status = 404, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn message_raw_get(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let mut conn = state.db().await?;
    let raw = store::messages::raw(&mut conn, user.user_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("message/rfc822"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"message-{id}.eml\""))
                    .map_err(|e| ApiError::Response(e.to_string()))?,
            ),
        ],
        raw,
    )
        .into_response())
}

/// One attachment's bytes, always as a download.
#[utoipa::path(get, path = "/messages/{id}/attachments/{n}", tag = "messages",
    params(("id" = i64, Path, description = "The message's id"), ("n" = usize, Path, description = "The attachment's index")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 401, response = Problem),
        (status = 404, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn attachment_get(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath((id, index)): ApiPath<(i64, usize)>,
) -> Result<Response, ApiError> {
    let (_, raw) = with_raw(&state, &user, id).await?;
    let file = parsed(move || display::attachment(&raw, index))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_str(&file.content_type)
                    .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&crate::mail::display::attachment_disposition(&file.name))
                    .map_err(|e| ApiError::Response(e.to_string()))?,
            ),
        ],
        file.bytes,
    )
        .into_response())
}

/// Flags to set; absent ones stay.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessagePatch {
    pub seen: Option<bool>,
    pub starred: Option<bool>,
    pub trashed: Option<bool>,
}

/// Marks read/unread, stars, moves to or out of the trash (write scope).
#[utoipa::path(patch, path = "/messages/{id}", tag = "messages", request_body = MessagePatch,
    params(("id" = i64, Path, description = "The message's id")),
    responses((status = 200, body = MessageJson), (status = 400, response = Problem), (status = 401, response = Problem),
        (status = 403, response = Problem), (status = 404, response = Problem), (status = 415, response = Problem),
        (status = 422, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn message_patch(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<MessagePatch>,
) -> Result<Json<MessageJson>, ApiError> {
    user.require_write()?;
    let mut conn = state.db().await?;
    let mut tx = sqlx::Connection::begin(&mut *conn)
        .await
        .map_err(StoreError::from)?;
    let detail = store::messages::get(&mut tx, user.user_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    for change in [
        patch.seen.map(FlagChange::Seen),
        patch.starred.map(FlagChange::Starred),
        patch.trashed.map(FlagChange::Trashed),
    ]
    .into_iter()
    .flatten()
    {
        store::messages::set_flag(&mut tx, user.user_id, &[detail.summary.id], change).await?;
    }
    let updated = store::messages::get(&mut tx, user.user_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Json(summary_json(&updated.summary)))
}

/// Deletes a message for good (write scope). It is not downloaded again.
#[utoipa::path(delete, path = "/messages/{id}", tag = "messages",
    params(("id" = i64, Path, description = "The message's id")),
    responses((status = 204), (status = 401, response = Problem), (status = 403, response = Problem),
        (status = 404, response = Problem), (status = 429, response = Problem)),
    security(("bearer" = [])))]
pub async fn message_delete(
    State(state): State<AppState>,
    user: ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    user.require_write()?;
    let mut conn = state.db().await?;
    store::messages::delete(&mut conn, user.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
