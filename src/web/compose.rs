//! Writing mail: one page and one form for compose, reply, reply all and forward; the
//! Sent and Drafts lists; "send again". Every action works without JavaScript. Handlers
//! parse, call the sending service (`crate::sending`) and render.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::form::{NoFields, Posted};
use super::session::SignedIn;
use super::shell::{self, Nav, Shell};
use super::{AppState, WebError};
use crate::i18n::Locale;
use crate::mail::display;
use crate::mail::reply::{self, Mode};
use crate::model::OutboxState;
use crate::sending::{MessageDraft, SendingError};
use crate::store;
use crate::store::outbox::{Attachment, OutboxMessage};

/// The compose form may carry attachments: its own body limit (the service checks the
/// message's real size against the configured maximum).
pub const MAX_COMPOSE_BYTES: usize = 40 * 1024 * 1024;

#[derive(Debug, Default, Deserialize)]
pub struct ComposeQuery {
    account: Option<Uuid>,
    reply: Option<i64>,
    mode: Option<String>,
    draft: Option<Uuid>,
    saved: Option<String>,
}

#[derive(Debug)]
struct FromOption {
    account_id: Uuid,
    label: String,
    selected: bool,
}

#[derive(Debug)]
struct KeptFile {
    position: usize,
    name: String,
    size: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "compose.html")]
struct ComposePage {
    locale: Locale,
    shell: Shell,
    heading: String,
    identities: Vec<FromOption>,
    /// Accounts that receive but cannot send yet, for the "set it up" links.
    without_identity: Vec<(Uuid, String)>,
    draft_id: String,
    to: String,
    cc: String,
    bcc: String,
    subject: String,
    body: String,
    in_reply_to: String,
    forward_of: String,
    forward_files: Vec<String>,
    kept: Vec<KeptFile>,
    notice: Option<String>,
    error: Option<String>,
}

/// What the compose form posts.
#[derive(Debug, Default)]
pub struct ComposeForm {
    csrf: String,
    action: String,
    draft_id: Option<Uuid>,
    account_id: Option<Uuid>,
    to: String,
    cc: String,
    bcc: String,
    subject: String,
    body: String,
    in_reply_to: Option<i64>,
    forward_of: Option<i64>,
    forward_as: String,
    keep: Vec<usize>,
    uploads: Vec<Attachment>,
}

/// The compose form's fields, from a multipart body; then the CSRF check.
pub struct PostedCompose(SignedIn, ComposeForm);

impl FromRequest<AppState> for PostedCompose {
    type Rejection = WebError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, WebError> {
        let (mut parts, body) = request.into_parts();
        let signed_in =
            <SignedIn as axum::extract::FromRequestParts<AppState>>::from_request_parts(
                &mut parts, state,
            )
            .await?;
        let request = Request::from_parts(parts, body);
        let malformed = || WebError::BadRequest("bad-request-message-form");
        let mut multipart = Multipart::from_request(request, state)
            .await
            .map_err(|_| malformed())?;
        let mut form = ComposeForm::default();
        while let Some(field) = multipart.next_field().await.map_err(|_| malformed())? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "attachment" {
                let filename = field.file_name().unwrap_or_default().to_owned();
                let content_type = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_owned();
                let content = field.bytes().await.map_err(|_| malformed())?;
                if !filename.is_empty() {
                    form.uploads.push(Attachment {
                        filename: crate::sending::upload_name(&filename),
                        content_type,
                        content: content.to_vec(),
                    });
                }
                continue;
            }
            let value = field.text().await.map_err(|_| malformed())?;
            fn id<T: std::str::FromStr>(v: &str) -> Option<T> {
                v.trim().parse().ok()
            }
            match name.as_str() {
                "csrf" => form.csrf = value,
                "action" => form.action = value,
                "draft_id" => form.draft_id = id(&value),
                "account_id" => form.account_id = id(&value),
                "to" => form.to = value,
                "cc" => form.cc = value,
                "bcc" => form.bcc = value,
                "subject" => form.subject = value,
                "body" => form.body = value.replace("\r\n", "\n"),
                "in_reply_to" => form.in_reply_to = id(&value),
                "forward_of" => form.forward_of = id(&value),
                "forward_as" => form.forward_as = value,
                "keep" => form.keep.extend(id::<usize>(&value)),
                _ => {}
            }
        }
        signed_in.check_csrf(&form.csrf)?;
        Ok(Self(signed_in, form))
    }
}

impl ComposePage {
    async fn blank(
        state: &AppState,
        signed_in: &SignedIn,
        account: Option<Uuid>,
    ) -> Result<Self, WebError> {
        let shell = Shell::load(state, signed_in, Nav::Compose, "").await?;
        let identities = state.sending.identities(signed_in.user_id).await?;
        let accounts = state.accounts.list(signed_in.user_id).await?;
        let mut options = Vec::new();
        let mut without_identity = Vec::new();
        for summary in &accounts {
            let account_row = &summary.account;
            match identities.iter().find(|i| i.account_id == account_row.id) {
                Some(identity) => options.push(FromOption {
                    account_id: account_row.id,
                    label: if identity.from_name.is_empty() {
                        identity.from_address.clone()
                    } else {
                        format!("{} <{}>", identity.from_name, identity.from_address)
                    },
                    selected: account == Some(account_row.id),
                }),
                None => without_identity.push((account_row.id, account_row.label.clone())),
            }
        }
        if !options.iter().any(|o| o.selected)
            && let Some(first) = options.first_mut()
        {
            first.selected = true;
        }
        Ok(Self {
            locale: signed_in.locale.clone(),
            shell,
            heading: signed_in.locale.t("compose-new"),
            identities: options,
            without_identity,
            draft_id: String::new(),
            to: String::new(),
            cc: String::new(),
            bcc: String::new(),
            subject: String::new(),
            body: String::new(),
            in_reply_to: String::new(),
            forward_of: String::new(),
            forward_files: Vec::new(),
            kept: Vec::new(),
            notice: None,
            error: None,
        })
    }

    /// A reply, reply all or forward of a stored message, from the account it came through.
    async fn answering(
        state: &AppState,
        signed_in: &SignedIn,
        id: i64,
        mode: Mode,
    ) -> Result<Self, WebError> {
        let mut conn = state.db().await?;
        let (detail, raw) = store::messages::get_with_raw(&mut conn, signed_in.user_id, id)
            .await?
            .ok_or(WebError::NotFound)?;
        drop(conn);
        let mut page = Self::blank(state, signed_in, detail.summary.account_id).await?;
        let mut own: Vec<String> = state
            .sending
            .identities(signed_in.user_id)
            .await?
            .into_iter()
            .map(|i| i.from_address)
            .collect();
        own.extend(detail.account_email.clone());
        let date = signed_in
            .locale
            .full_date(detail.date_header.unwrap_or(detail.summary.sort_at));
        let prefill = reply::prefill(&raw, mode, &own, &date, &signed_in.locale);
        page.heading = signed_in.locale.t(match mode {
            Mode::Reply => "message-reply",
            Mode::ReplyAll => "compose-reply-all",
            Mode::Forward => "message-forward",
        });
        (page.to, page.cc, page.subject, page.body) =
            (prefill.to, prefill.cc, prefill.subject, prefill.body);
        if mode == Mode::Forward {
            page.forward_of = id.to_string();
            page.forward_files = display::display(&raw)
                .attachments
                .into_iter()
                .map(|a| a.name)
                .collect();
        } else {
            page.in_reply_to = id.to_string();
        }
        Ok(page)
    }

    async fn of_draft(state: &AppState, signed_in: &SignedIn, id: Uuid) -> Result<Self, WebError> {
        let message = state.sending.get(signed_in.user_id, id).await?;
        if !matches!(
            message.state,
            OutboxState::Draft | OutboxState::Failed | OutboxState::Uncertain
        ) {
            return Err(WebError::NotFound);
        }
        let files = state.sending.attachments(signed_in.user_id, id).await?;
        let mut page = Self::blank(state, signed_in, message.account_id).await?;
        page.heading = signed_in.locale.t("outbox-state-draft");
        page.draft_id = id.to_string();
        page.to = message.to_addresses.join(", ");
        page.cc = message.cc_addresses.join(", ");
        page.bcc = message.bcc_addresses.join(", ");
        page.subject = message.subject.clone();
        page.body = message.body.clone();
        page.in_reply_to = message
            .in_reply_to
            .map(|i| i.to_string())
            .unwrap_or_default();
        page.kept = files
            .iter()
            .enumerate()
            .map(|(position, f)| KeptFile {
                position,
                name: f.filename.clone(),
                size: signed_in.locale.size(f.content.len() as u64),
            })
            .collect();
        page.error = match message.state {
            OutboxState::Failed | OutboxState::Uncertain => signed_in.locale.stored(
                message.last_error_text.as_deref(),
                message.last_error.as_deref(),
            ),
            _ => None,
        };
        Ok(page)
    }
}

/// `GET /compose`: a new message, a reply (`?reply=ID&mode=reply|all|forward`) or a draft.
pub async fn compose_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(query): Query<ComposeQuery>,
) -> Result<Response, WebError> {
    let mut page = match (query.draft, query.reply) {
        (Some(draft), _) => ComposePage::of_draft(&state, &signed_in, draft).await?,
        (None, Some(original)) => {
            let mode = Mode::parse(query.mode.as_deref().unwrap_or("reply"))
                .ok_or(WebError::BadRequest("bad-request-mode"))?;
            ComposePage::answering(&state, &signed_in, original, mode).await?
        }
        (None, None) => ComposePage::blank(&state, &signed_in, query.account).await?,
    };
    if query.saved.is_some() {
        page.notice = Some(signed_in.locale.t("notice-draft-saved"));
    }
    Ok(page.into_response())
}

/// The files the message will carry: those kept from the draft, the forwarded message's
/// (its attachments, or the whole message as `message/rfc822`), and new uploads.
async fn files(
    state: &AppState,
    signed_in: &SignedIn,
    form: &mut ComposeForm,
) -> Result<Vec<Attachment>, WebError> {
    let mut files = Vec::new();
    if let Some(draft) = form.draft_id
        && let Ok(stored) = state.sending.attachments(signed_in.user_id, draft).await
    {
        files.extend(
            stored
                .into_iter()
                .enumerate()
                .filter(|(position, _)| form.keep.contains(position))
                .map(|(_, file)| file),
        );
    }
    if let Some(original) = form.forward_of {
        let mut conn = state.db().await?;
        let raw = store::messages::raw(&mut conn, signed_in.user_id, original)
            .await?
            .ok_or(WebError::NotFound)?;
        match form.forward_as.as_str() {
            "message" => files.push(Attachment {
                filename: "forwarded message.eml".into(),
                content_type: "message/rfc822".into(),
                content: raw,
            }),
            "none" => {}
            _ => {
                let count = display::display(&raw).attachments.len();
                files.extend(
                    (0..count)
                        .filter_map(|i| display::attachment(&raw, i))
                        .map(|a| Attachment {
                            filename: a.name,
                            content_type: a.content_type,
                            content: a.bytes,
                        }),
                );
            }
        }
    }
    files.append(&mut form.uploads);
    Ok(files)
}

/// `POST /compose`: send, or save as a draft. A message that cannot be sent is kept as a
/// draft and the page comes back with the reason: nothing typed or attached is lost.
pub async fn compose_post(
    State(state): State<AppState>,
    PostedCompose(signed_in, mut form): PostedCompose,
) -> Result<Response, WebError> {
    let attachments = files(&state, &signed_in, &mut form).await?;
    let draft = MessageDraft {
        account_id: form.account_id,
        to: form.to.clone(),
        cc: form.cc.clone(),
        bcc: form.bcc.clone(),
        subject: form.subject.clone(),
        body: form.body.clone(),
        in_reply_to: form.in_reply_to,
        attachments,
    };
    let user = signed_in.user_id;
    // A draft id from the form that is not (or no longer) an editable message of this
    // user starts a new draft instead.
    let existing = match form.draft_id {
        Some(id) => state.sending.get(user, id).await.ok().map(|m| m.id),
        None => None,
    };
    if form.action != "send" {
        let saved = state.sending.save_draft(user, existing, draft).await?;
        return Ok(Redirect::to(&format!("/compose?draft={}&saved=1", saved.id)).into_response());
    }
    match state.sending.send(user, existing, draft.clone()).await {
        Ok(_) => Ok(Redirect::to("/sent?queued=1").into_response()),
        Err(
            refused @ (SendingError::Invalid(_)
            | SendingError::Compose(_)
            | SendingError::TooLarge { .. }
            | SendingError::RateLimited { .. }
            | SendingError::NoIdentity),
        ) => {
            let saved = state.sending.save_draft(user, existing, draft).await?;
            let mut page = ComposePage::of_draft(&state, &signed_in, saved.id).await?;
            let locale = &signed_in.locale;
            let problem = locale.say(&refused.text());
            page.error = Some(locale.t1("compose-not-sent", "problem", problem));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Debug)]
struct OutboxRow {
    id: Uuid,
    state: &'static str,
    state_text: String,
    to: String,
    subject: String,
    when: String,
    iso: String,
    error: Option<String>,
    editable: bool,
    resendable: bool,
}

impl OutboxRow {
    fn new(locale: &Locale, m: &OutboxMessage) -> Self {
        let state_text = locale.t(match m.state {
            OutboxState::Draft => "outbox-state-draft",
            OutboxState::Queued | OutboxState::Submitting => "outbox-state-sending",
            OutboxState::Sent => "outbox-state-sent",
            OutboxState::Failed => "outbox-state-failed",
            OutboxState::Uncertain => "outbox-state-uncertain",
        });
        let when = m.sent_at.unwrap_or(m.updated_at);
        let to: Vec<&String> = m
            .to_addresses
            .iter()
            .chain(&m.cc_addresses)
            .chain(&m.bcc_addresses)
            .collect();
        Self {
            id: m.id,
            state: m.state.as_str(),
            state_text,
            to: if to.is_empty() {
                locale.t("no-recipient")
            } else {
                to.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            },
            subject: if m.subject.trim().is_empty() {
                locale.t("no-subject")
            } else {
                m.subject.clone()
            },
            when: locale.relative(when, OffsetDateTime::now_utc()),
            iso: shell::iso(when),
            error: locale.stored(m.last_error_text.as_deref(), m.last_error.as_deref()),
            editable: matches!(
                m.state,
                OutboxState::Draft | OutboxState::Failed | OutboxState::Uncertain
            ),
            resendable: matches!(m.state, OutboxState::Failed | OutboxState::Uncertain),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "outbox.html")]
struct OutboxPage {
    locale: Locale,
    shell: Shell,
    title: String,
    drafts: bool,
    rows: Vec<OutboxRow>,
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct OutboxQuery {
    queued: Option<String>,
    deleted: Option<String>,
    resent: Option<String>,
}

const LIST_LIMIT: i64 = 200;

/// `GET /sent`: what was sent, is being sent, or could not be.
pub async fn sent_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(query): Query<OutboxQuery>,
) -> Result<Response, WebError> {
    let shell = Shell::load(&state, &signed_in, Nav::Sent, "").await?;
    let messages = state
        .sending
        .list(
            signed_in.user_id,
            &[
                OutboxState::Queued,
                OutboxState::Submitting,
                OutboxState::Sent,
                OutboxState::Failed,
                OutboxState::Uncertain,
            ],
            LIST_LIMIT,
        )
        .await?;
    let notice = if query.queued.is_some() {
        Some(signed_in.locale.t("notice-queued"))
    } else if query.resent.is_some() {
        Some(signed_in.locale.t("notice-resent"))
    } else {
        None
    };
    Ok(OutboxPage {
        locale: signed_in.locale.clone(),
        shell,
        title: signed_in.locale.t("folder-sent"),
        drafts: false,
        rows: messages
            .iter()
            .map(|m| OutboxRow::new(&signed_in.locale, m))
            .collect(),
        notice,
    }
    .into_response())
}

/// `GET /drafts`.
pub async fn drafts_get(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(query): Query<OutboxQuery>,
) -> Result<Response, WebError> {
    let shell = Shell::load(&state, &signed_in, Nav::Drafts, "").await?;
    let drafts = state
        .sending
        .list(signed_in.user_id, &[OutboxState::Draft], LIST_LIMIT)
        .await?;
    Ok(OutboxPage {
        locale: signed_in.locale.clone(),
        shell,
        title: signed_in.locale.t("folder-drafts"),
        drafts: true,
        rows: drafts
            .iter()
            .map(|m| OutboxRow::new(&signed_in.locale, m))
            .collect(),
        notice: query
            .deleted
            .is_some()
            .then(|| signed_in.locale.t("notice-draft-deleted")),
    }
    .into_response())
}

/// `POST /outbox/{id}/resend`: the person decided to send a failed or uncertain message again.
pub async fn resend_post(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Posted(signed_in, NoFields {}): Posted<NoFields>,
) -> Result<Response, WebError> {
    state.sending.resend(signed_in.user_id, id).await?;
    Ok(Redirect::to("/sent?resent=1").into_response())
}

/// `POST /drafts/{id}/delete`.
pub async fn draft_delete_post(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Posted(signed_in, NoFields {}): Posted<NoFields>,
) -> Result<Response, WebError> {
    state.sending.delete(signed_in.user_id, id).await?;
    Ok(Redirect::to("/drafts?deleted=1").into_response())
}
