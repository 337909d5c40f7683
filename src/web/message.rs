//! One message: its page, its sanitised HTML body (served to a sandboxed iframe from its
//! own route and CSP), its attachments and its original bytes.
//!
//! Every route looks the message up by (id, signed-in user): another user's id is a 404,
//! exactly like an id that does not exist (DESIGN invariant 5).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use time::OffsetDateTime;

use super::session::SignedIn;
use super::shell::{self, Nav, Shell};
use super::{AppState, WebError};
use crate::i18n::Locale;
use crate::mail::display::{self, AttachmentInfo, Displayed};
use crate::mail::sanitize::{RemoteContent, sanitize};
use crate::mail::text::{TextPiece, linkify};
use crate::store;
use crate::store::messages::{Folder, MessageDetail};

/// The mail body's own policy: no script, no plugins, nothing remote unless the reader
/// allowed images; a sandbox even when the body URL is opened directly.
const BODY_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
     form-action 'none'; base-uri 'none'; frame-ancestors 'self'; \
     sandbox allow-popups allow-popups-to-escape-sandbox";
const BODY_CSP_WITH_IMAGES: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     img-src data: https: http:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'; \
     sandbox allow-popups allow-popups-to-escape-sandbox";
/// Downloads and the original: never rendered as a page of ours.
const DOWNLOAD_CSP: &str = "default-src 'none'; sandbox";

#[derive(Debug, Default, Deserialize)]
pub struct ImagesQuery {
    images: Option<String>,
}

impl ImagesQuery {
    fn remote(&self) -> RemoteContent {
        if self.images.as_deref() == Some("1") {
            RemoteContent::Shown
        } else {
            RemoteContent::Blocked
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "message.html")]
struct MessagePage {
    locale: Locale,
    shell: Shell,
    id: i64,
    subject: String,
    from_name: String,
    from_address: String,
    to: String,
    cc: String,
    date: String,
    iso: String,
    relative: String,
    account_label: String,
    account_email: String,
    chip: Option<String>,
    starred: bool,
    trashed: bool,
    /// Sent from here through the outbox ("Sent" marker, "Sent through" instead of "Via").
    sent: bool,
    text: Vec<TextPiece>,
    has_html: bool,
    body_url: String,
    remote_blocked: bool,
    images_shown: bool,
    attachments: Vec<AttachmentRow>,
    problem: Option<String>,
    newer: Option<i64>,
    older: Option<i64>,
    return_to: String,
}

#[derive(Debug)]
struct AttachmentRow {
    index: usize,
    name: String,
    content_type: String,
    size: String,
}

async fn raw_of(state: &AppState, signed_in: &SignedIn, id: i64) -> Result<Vec<u8>, WebError> {
    let mut conn = state.db().await?;
    store::messages::raw(&mut conn, signed_in.user_id, id)
        .await?
        .ok_or(WebError::NotFound)
}

/// Messages up to this size are parsed right away; a hand-off to the blocking pool costs
/// more than parsing them (and under load adds threads and tail latency).
const INLINE_PARSE_BYTES: usize = 64 * 1024;

/// Parses `raw` with `work`: inline when small, on the blocking pool when large (a big
/// message takes milliseconds of CPU, which must not stall other requests).
async fn parsing<T: Send + 'static>(
    raw: Vec<u8>,
    work: impl FnOnce(Vec<u8>) -> T + Send + 'static,
) -> Result<T, WebError> {
    if raw.len() <= INLINE_PARSE_BYTES {
        return Ok(work(raw));
    }
    Ok(tokio::task::spawn_blocking(move || work(raw)).await?)
}

pub async fn message_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Query(images): Query<ImagesQuery>,
) -> Result<Response, WebError> {
    let mut conn = state.db().await?;
    let (detail, raw) = store::messages::get_with_raw(&mut conn, signed_in.user_id, id)
        .await?
        .ok_or(WebError::NotFound)?;
    if !detail.summary.seen {
        store::messages::mark_opened(&mut conn, signed_in.user_id, id).await?;
    }
    let folder = if detail.summary.trashed {
        Folder::Trash
    } else {
        Folder::Inbox
    };
    let (newer, older) = store::messages::neighbours(
        &mut conn,
        signed_in.user_id,
        folder,
        detail.summary.cursor(),
    )
    .await?;
    let shell = Shell::load_on(
        &mut conn,
        &signed_in,
        match folder {
            Folder::Trash => Nav::Trash,
            _ => Nav::Inbox,
        },
        "",
    )
    .await?;
    drop(conn);
    let remote = images.remote();
    let (shown, remote_blocked) = parsing(raw, move |raw| {
        let shown = display::display(&raw);
        let blocked = shown.html.as_deref().is_some_and(|html| {
            remote == RemoteContent::Blocked
                && sanitize(html, RemoteContent::Blocked, Default::default()).remote_blocked
        });
        (shown, blocked)
    })
    .await?;
    let mut page = MessagePage::new(signed_in.locale.clone(), shell, id, &detail, shown, remote);
    page.remote_blocked = remote_blocked;
    (page.newer, page.older) = (newer, older);
    Ok(page.into_response())
}

impl MessagePage {
    /// The page for a message as stored and as displayed; the caller adds the neighbours
    /// and whether remote content was blocked.
    fn new(
        locale: Locale,
        shell: Shell,
        id: i64,
        detail: &MessageDetail,
        shown: Displayed,
        remote: RemoteContent,
    ) -> Self {
        let summary = &detail.summary;
        let text = match (&shown.text, shown.html.is_some()) {
            (Some(text), false) => linkify(text),
            _ => Vec::new(),
        };
        let date = detail.date_header.unwrap_or(summary.sort_at);
        Self {
            shell,
            id,
            subject: summary
                .subject
                .clone()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| locale.t("no-subject")),
            from_name: summary.from_name.clone().unwrap_or_default(),
            from_address: summary.from_address.clone().unwrap_or_default(),
            to: detail.summary.to_addresses.clone().unwrap_or_default(),
            cc: detail.cc_addresses.clone().unwrap_or_default(),
            date: locale.full_date(date),
            iso: shell::iso(date),
            relative: locale.relative(date, OffsetDateTime::now_utc()),
            account_label: summary
                .account_label
                .clone()
                .unwrap_or_else(|| locale.t("removed-account")),
            account_email: detail.account_email.clone().unwrap_or_default(),
            chip: summary.account_id.map(shell::chip_class),
            starred: summary.starred,
            trashed: summary.trashed,
            sent: summary.sent,
            text,
            has_html: shown.html.is_some(),
            body_url: if remote == RemoteContent::Shown {
                format!("/messages/{id}/body?images=1")
            } else {
                format!("/messages/{id}/body")
            },
            remote_blocked: false,
            images_shown: remote == RemoteContent::Shown,
            attachments: shown
                .attachments
                .iter()
                .map(|a: &AttachmentInfo| AttachmentRow {
                    index: a.index,
                    name: a.name.clone(),
                    content_type: a.content_type.clone(),
                    size: locale.size(a.size as u64),
                })
                .collect(),
            problem: detail.parse_problem.clone().or(shown.problem),
            newer: None,
            older: None,
            return_to: format!("/messages/{id}"),
            locale,
        }
    }
}

/// `GET /messages/{id}/body`: the sanitised HTML, for the sandboxed iframe only.
pub async fn body_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Query(images): Query<ImagesQuery>,
) -> Result<Response, WebError> {
    let raw = raw_of(&state, &signed_in, id).await?;
    let remote = images.remote();
    let html = parsing(raw, move |raw| {
        let shown = display::display(&raw);
        let inline = display::inline_images(&raw);
        shown
            .html
            .map(|html| sanitize(&html, remote, inline).html)
            .unwrap_or_default()
    })
    .await?;
    let document = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\">\
         <style>html{{color-scheme:light}}body{{margin:0;padding:12px;font:15px/1.5 system-ui,sans-serif;\
         color:#1c1f24;background:#fff;overflow-wrap:anywhere}}img{{max-width:100%;height:auto}}</style>\
         </head><body>{html}</body></html>"
    );
    let csp = match remote {
        RemoteContent::Shown => BODY_CSP_WITH_IMAGES,
        RemoteContent::Blocked => BODY_CSP,
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, csp),
            (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
            (header::CACHE_CONTROL, "private, no-store"),
            // Links and images in mail never tell their servers where they were seen.
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        document,
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct RawQuery {
    download: Option<String>,
}

/// `GET /messages/{id}/raw`: the bytes exactly as fetched, shown as text (or downloaded).
pub async fn raw_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Query(query): Query<RawQuery>,
) -> Result<Response, WebError> {
    let raw = raw_of(&state, &signed_in, id).await?;
    let download = query.download.as_deref() == Some("1");
    let (content_type, disposition) = if download {
        (
            "message/rfc822",
            format!("attachment; filename=\"message-{id}.eml\""),
        )
    } else {
        ("text/plain; charset=utf-8", "inline".to_owned())
    };
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .map_err(|e| WebError::Response(e.to_string()))?,
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(DOWNLOAD_CSP),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        raw,
    )
        .into_response())
}

/// `GET /messages/{id}/attachments/{n}`: always a download, never rendered by us.
pub async fn attachment_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, index)): Path<(i64, usize)>,
) -> Result<Response, WebError> {
    let raw = raw_of(&state, &signed_in, id).await?;
    let file = parsing(raw, move |raw| display::attachment(&raw, index))
        .await?
        .ok_or(WebError::NotFound)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_str(&file.content_type)
                    .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&display::attachment_disposition(&file.name))
                    .map_err(|e| WebError::Response(e.to_string()))?,
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(DOWNLOAD_CSP),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        file.bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_are_safe_header_values() {
        let disposition = display::attachment_disposition("Rechnung \"März\";\r\n.pdf");
        assert!(HeaderValue::from_str(&disposition).is_ok(), "{disposition}");
        let en = Locale::default();
        let fr = Locale::new(crate::i18n::Lang::Fr, crate::i18n::Zone::utc());
        assert_eq!(en.size(1_536), "2 KB");
        assert_eq!(en.size(3 * 1024 * 1024 + 400_000), "3.4 MB");
        assert_eq!(fr.size(3 * 1024 * 1024 + 400_000), "3,4 Mo");
        assert_eq!(fr.size(1), "1 octet");
        assert_eq!(en.size(12), "12 bytes");
    }
}
