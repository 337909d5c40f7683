//! The combined inbox, Starred and Trash: all of a user's accounts in one list, newest
//! first, pages by keyset (`before`/`after` cursors, never OFFSET), filters by account and
//! full-text search; and the actions on selected messages.

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::session::{self, SignedIn};
use super::shell::{self, Nav, Shell};
use super::{AppState, WebError};
use crate::i18n::Locale;
use crate::mail::text::{Marked, mark, search_words};
use crate::store;
use crate::store::messages::{Cursor, Direction, FlagChange, Folder, ListQuery, MessageSummary};

pub const PAGE_SIZE: i64 = 50;
/// Searches longer than this are cut (PostgreSQL parses every word).
const MAX_QUERY_CHARS: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    account: Option<String>,
    q: Option<String>,
    before: Option<String>,
    after: Option<String>,
}

/// One row of the list, ready to render (every text escaped by the template).
#[derive(Debug)]
struct Row {
    id: i64,
    chip: Option<String>,
    account_label: String,
    sender: Vec<Marked>,
    subject: Vec<Marked>,
    snippet: Vec<Marked>,
    short_date: String,
    full_date: String,
    iso: String,
    has_attachments: bool,
    seen: bool,
    starred: bool,
    /// Sent from here: the sender column names the recipients instead.
    sent: bool,
}

fn row(locale: &Locale, message: MessageSummary, words: &[String], now: OffsetDateTime) -> Row {
    let sender = if message.sent {
        let to = message
            .to_addresses
            .clone()
            .filter(|to| !to.is_empty())
            .unwrap_or_else(|| locale.t("no-recipient"));
        locale.t1("inbox-sent-to", "to", to)
    } else {
        message
            .from_name
            .clone()
            .filter(|name| !name.is_empty())
            .or_else(|| message.from_address.clone())
            .unwrap_or_else(|| locale.t("unknown-sender"))
    };
    let subject = message
        .subject
        .clone()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| locale.t("no-subject"));
    Row {
        id: message.id,
        chip: message.account_id.map(shell::chip_class),
        account_label: message
            .account_label
            .clone()
            .unwrap_or_else(|| locale.t("removed-account")),
        sender: mark(&sender, words),
        subject: mark(&subject, words),
        snippet: mark(message.snippet.as_deref().unwrap_or(""), words),
        short_date: locale.short_date(message.sort_at, now),
        full_date: locale.full_date(message.sort_at),
        iso: shell::iso(message.sort_at),
        has_attachments: message.has_attachments,
        seen: message.seen,
        starred: message.starred,
        sent: message.sent,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "inbox.html")]
struct InboxPage {
    locale: Locale,
    shell: Shell,
    title: String,
    is_trash: bool,
    searching: bool,
    rows: Vec<Row>,
    newer_url: Option<String>,
    older_url: Option<String>,
    return_to: String,
}

fn list_url(
    path: &str,
    account: Option<Uuid>,
    q: Option<&str>,
    cursor: Option<(&str, Cursor)>,
) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(account) = account {
        query.append_pair("account", &account.to_string());
    }
    if let Some(q) = q {
        query.append_pair("q", q);
    }
    if let Some((name, cursor)) = cursor {
        query.append_pair(name, &cursor.to_token());
    }
    let query = query.finish();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

async fn list_page(
    state: AppState,
    signed_in: Option<SignedIn>,
    folder: Folder,
    params: ListParams,
) -> Result<Response, WebError> {
    let Some(signed_in) = signed_in else {
        let mut conn = state.db().await?;
        if folder == Folder::Inbox && !store::users::any_exist(&mut conn).await? {
            return Ok(Redirect::to("/setup").into_response());
        }
        return Err(WebError::SignInRequired {
            next: match folder {
                Folder::Inbox => "/",
                Folder::Starred => "/starred",
                Folder::Trash => "/trash",
            }
            .into(),
        });
    };
    let path = match folder {
        Folder::Inbox => "/",
        Folder::Starred => "/starred",
        Folder::Trash => "/trash",
    };
    let account_id = match params.account.as_deref().filter(|a| !a.is_empty()) {
        Some(text) => Some(Uuid::parse_str(text).map_err(|_| WebError::NotFound)?),
        None => None,
    };
    let q: Option<String> = params
        .q
        .as_deref()
        .map(|q| q.trim().chars().take(MAX_QUERY_CHARS).collect::<String>())
        .filter(|q| !q.is_empty());
    let cursor = match (params.before.as_deref(), params.after.as_deref()) {
        (Some(before), _) => Some((
            Cursor::parse(before).ok_or(WebError::BadRequest("bad-request-page-link"))?,
            Direction::Older,
        )),
        (None, Some(after)) => Some((
            Cursor::parse(after).ok_or(WebError::BadRequest("bad-request-page-link"))?,
            Direction::Newer,
        )),
        (None, None) => None,
    };
    let mut conn = state.db().await?;
    let shell = Shell::load_on(
        &mut conn,
        &signed_in,
        match (folder, account_id) {
            (Folder::Inbox, Some(id)) => Nav::Account(id),
            (Folder::Inbox, None) => Nav::Inbox,
            (Folder::Starred, _) => Nav::Starred,
            (Folder::Trash, _) => Nav::Trash,
        },
        q.as_deref().unwrap_or(""),
    )
    .await?;
    // An account id that is not this user's shows nothing, exactly like an unknown one.
    if let Some(id) = account_id
        && !shell.accounts.iter().any(|a| a.id == id)
    {
        return Err(WebError::NotFound);
    }
    let page = store::messages::list(
        &mut conn,
        &ListQuery {
            user_id: signed_in.user_id,
            folder,
            account_id,
            search: q.as_deref(),
            unread_only: false,
            since: None,
            until: None,
            cursor,
            limit: PAGE_SIZE,
        },
    )
    .await?;
    drop(conn);
    let words = q.as_deref().map(search_words).unwrap_or_default();
    let now = OffsetDateTime::now_utc();
    let newer_url = page
        .has_newer
        .then(|| page.messages.first())
        .flatten()
        .map(|m| list_url(path, account_id, q.as_deref(), Some(("after", m.cursor()))));
    let older_url = page
        .has_older
        .then(|| page.messages.last())
        .flatten()
        .map(|m| list_url(path, account_id, q.as_deref(), Some(("before", m.cursor()))));
    let account_label = account_id.and_then(|id| {
        shell
            .accounts
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.label.clone())
    });
    let locale = &signed_in.locale;
    let title = match (&q, folder, account_label) {
        (Some(q), _, _) => locale.t1("inbox-search-title", "query", q.as_str()),
        (None, Folder::Starred, _) => locale.t("folder-starred"),
        (None, Folder::Trash, _) => locale.t("folder-trash"),
        (None, Folder::Inbox, Some(label)) => label,
        (None, Folder::Inbox, None) => locale.t("folder-inbox"),
    };
    let return_to = match cursor {
        Some((c, Direction::Older)) => {
            list_url(path, account_id, q.as_deref(), Some(("before", c)))
        }
        Some((c, Direction::Newer)) => list_url(path, account_id, q.as_deref(), Some(("after", c))),
        None => list_url(path, account_id, q.as_deref(), None),
    };
    Ok(InboxPage {
        locale: locale.clone(),
        shell,
        title,
        is_trash: folder == Folder::Trash,
        searching: q.is_some(),
        rows: page
            .messages
            .into_iter()
            .map(|m| row(locale, m, &words, now))
            .collect(),
        newer_url,
        older_url,
        return_to,
    }
    .into_response())
}

pub async fn inbox_get(
    State(state): State<AppState>,
    signed_in: Option<SignedIn>,
    Query(params): Query<ListParams>,
) -> Result<Response, WebError> {
    list_page(state, signed_in, Folder::Inbox, params).await
}

pub async fn starred_get(
    State(state): State<AppState>,
    signed_in: Option<SignedIn>,
    Query(params): Query<ListParams>,
) -> Result<Response, WebError> {
    list_page(state, signed_in, Folder::Starred, params).await
}

pub async fn trash_get(
    State(state): State<AppState>,
    signed_in: Option<SignedIn>,
    Query(params): Query<ListParams>,
) -> Result<Response, WebError> {
    list_page(state, signed_in, Folder::Trash, params).await
}

/// A urlencoded form with repeated fields (`id=1&id=2`), which serde's form support lacks.
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Most messages one action changes at once (a page holds fifty).
const MAX_SELECTED: usize = 500;

/// `POST /messages/actions`: read/unread/star/unstar/trash/restore/delete on the
/// selected ids, then back to the list (or message) the form came from.
pub async fn actions_post(
    State(state): State<AppState>,
    signed_in: SignedIn,
    body: Bytes,
) -> Result<Response, WebError> {
    let fields = Fields::parse(&body);
    signed_in.check_csrf(fields.get("csrf").unwrap_or(""))?;
    let ids: Vec<i64> = fields
        .all("id")
        .filter_map(|id| id.parse().ok())
        .take(MAX_SELECTED)
        .collect();
    let return_to = session::safe_return_path(fields.get("return_to").unwrap_or("/")).to_owned();
    let mut conn = state.db().await?;
    let user_id = signed_in.user_id;
    match fields.get("action").unwrap_or("") {
        "read" => set(&mut conn, user_id, &ids, FlagChange::Seen(true)).await?,
        "unread" => set(&mut conn, user_id, &ids, FlagChange::Seen(false)).await?,
        "star" => set(&mut conn, user_id, &ids, FlagChange::Starred(true)).await?,
        "unstar" => set(&mut conn, user_id, &ids, FlagChange::Starred(false)).await?,
        "trash" => set(&mut conn, user_id, &ids, FlagChange::Trashed(true)).await?,
        "restore" => set(&mut conn, user_id, &ids, FlagChange::Trashed(false)).await?,
        "delete" => {
            store::messages::delete_trashed(&mut conn, user_id, Some(&ids)).await?;
        }
        "empty_trash" => {
            store::messages::delete_trashed(&mut conn, user_id, None).await?;
        }
        _ => return Err(WebError::BadRequest("bad-request-action")),
    }
    Ok(Redirect::to(&return_to).into_response())
}

/// `POST /check`: "Check mail now" for every enabled account of the user.
pub async fn check_all_post(
    State(state): State<AppState>,
    signed_in: SignedIn,
    body: Bytes,
) -> Result<Response, WebError> {
    let fields = Fields::parse(&body);
    signed_in.check_csrf(fields.get("csrf").unwrap_or(""))?;
    let accounts = {
        let mut conn = state.db().await?;
        store::accounts::list(&mut conn, signed_in.user_id).await?
    };
    for account in accounts.iter().filter(|a| a.enabled) {
        crate::fetch::check_now(&state.pool, signed_in.user_id, account.id).await?;
    }
    let return_to = session::safe_return_path(fields.get("return_to").unwrap_or("/")).to_owned();
    Ok(Redirect::to(&return_to).into_response())
}

async fn set(
    conn: &mut sqlx::PgConnection,
    user_id: Uuid,
    ids: &[i64],
    change: FlagChange,
) -> Result<(), WebError> {
    store::messages::set_flag(conn, user_id, ids, change).await?;
    Ok(())
}
