//! The `outbox` table: drafts and outgoing messages, and the submission worker's leases.
//!
//! Every state change a worker makes is conditional on holding the lease
//! (`lease_owner = $owner`), so a worker that lost its lease can never overwrite what
//! another one decided. See the migration for the states.

use crate::i18n::{Locale, Text};
use std::time::Duration;

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;
use crate::model::ErrorClass;

pub use crate::model::OutboxState;

/// An outgoing message as its owner sees it (the raw bytes are fetched separately).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxMessage {
    pub id: Uuid,
    pub user_id: Uuid,
    pub account_id: Option<Uuid>,
    pub state: OutboxState,
    pub to_addresses: Vec<String>,
    pub cc_addresses: Vec<String>,
    pub bcc_addresses: Vec<String>,
    pub subject: String,
    pub body: String,
    pub in_reply_to: Option<i64>,
    pub message_id: Option<String>,
    pub attempts: i32,
    pub next_attempt_at: Option<OffsetDateTime>,
    /// English, for the API and the command line.
    pub last_error: Option<String>,
    /// The same as a catalogue message (JSON of [`Text`]); `None` on older rows.
    pub last_error_text: Option<String>,
    pub last_reply: Option<String>,
    pub error_class: Option<ErrorClass>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub queued_at: Option<OffsetDateTime>,
    pub sent_at: Option<OffsetDateTime>,
}

const OUTBOX_COLUMNS: &str = "id, user_id, account_id, state, to_addresses, cc_addresses, \
     bcc_addresses, subject, body, in_reply_to, message_id, attempts, next_attempt_at, last_error, \
     last_error_text::text AS last_error_text, \
     last_reply, error_class, created_at, updated_at, queued_at, sent_at";

/// What the person wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Composition {
    pub account_id: Option<Uuid>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub subject: String,
    pub body: String,
    pub in_reply_to: Option<i64>,
}

/// The finished message, built once when it is queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    pub message_id: String,
    pub raw: Vec<u8>,
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// States from which the person may edit, queue again or delete a message.
const EDITABLE: [&str; 3] = ["draft", "failed", "uncertain"];

/// Saves a draft: a new one when `id` is `None`, else replaces that editable message's
/// text (and its attachments, when given) and makes it a draft again.
pub async fn save_draft(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: Option<Uuid>,
    composition: &Composition,
    attachments: Option<&[Attachment]>,
) -> Result<OutboxMessage, StoreError> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let row = upsert(&mut tx, user_id, id, composition, OutboxState::Draft, None).await?;
    if let Some(attachments) = attachments {
        replace_attachments(&mut tx, row.id, attachments).await?;
    }
    tx.commit().await?;
    Ok(row)
}

/// Queues a message for sending (new, or an editable one), with its finished bytes.
pub async fn queue(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: Option<Uuid>,
    composition: &Composition,
    attachments: Option<&[Attachment]>,
    built: &Built,
) -> Result<OutboxMessage, StoreError> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let row = upsert(
        &mut tx,
        user_id,
        id,
        composition,
        OutboxState::Queued,
        Some(built),
    )
    .await?;
    if let Some(attachments) = attachments {
        replace_attachments(&mut tx, row.id, attachments).await?;
    }
    tx.commit().await?;
    Ok(row)
}

async fn upsert(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: Option<Uuid>,
    c: &Composition,
    state: OutboxState,
    built: Option<&Built>,
) -> Result<OutboxMessage, StoreError> {
    let queued = built.is_some();
    let query = match id {
        None => format!(
            "INSERT INTO outbox (id, user_id, account_id, state, to_addresses, cc_addresses,
                 bcc_addresses, subject, body, in_reply_to, message_id, raw, envelope_from,
                 envelope_to, next_attempt_at, queued_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                 CASE WHEN $15 THEN now() END, CASE WHEN $15 THEN now() END)
             RETURNING {OUTBOX_COLUMNS}"
        ),
        Some(_) => format!(
            "UPDATE outbox SET account_id = $3, state = $4, to_addresses = $5, cc_addresses = $6,
                 bcc_addresses = $7, subject = $8, body = $9, in_reply_to = $10, message_id = $11,
                 raw = $12, envelope_from = $13, envelope_to = $14,
                 next_attempt_at = CASE WHEN $15 THEN now() END,
                 queued_at = CASE WHEN $15 THEN now() END,
                 attempts = 0, last_error = NULL, last_error_text = NULL, last_reply = NULL, error_class = NULL,
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
             WHERE id = $1 AND user_id = $2 AND state = ANY($16)
             RETURNING {OUTBOX_COLUMNS}"
        ),
    };
    let row = sqlx::query_as::<_, OutboxMessage>(&query)
        .bind(id.unwrap_or_else(Uuid::new_v4))
        .bind(user_id)
        .bind(c.account_id)
        .bind(state)
        .bind(&c.to)
        .bind(&c.cc)
        .bind(&c.bcc)
        .bind(&c.subject)
        .bind(&c.body)
        .bind(c.in_reply_to)
        .bind(built.map(|b| b.message_id.as_str()))
        .bind(built.map(|b| b.raw.as_slice()))
        .bind(built.map(|b| b.envelope_from.as_str()))
        .bind(built.map(|b| b.envelope_to.clone()))
        .bind(queued)
        .bind(&EDITABLE[..])
        .fetch_optional(conn)
        .await?;
    row.ok_or(StoreError::NotFound)
}

async fn replace_attachments(
    conn: &mut PgConnection,
    outbox_id: Uuid,
    attachments: &[Attachment],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM outbox_attachments WHERE outbox_id = $1")
        .bind(outbox_id)
        .execute(&mut *conn)
        .await?;
    for (position, attachment) in attachments.iter().enumerate() {
        sqlx::query(
            "INSERT INTO outbox_attachments (outbox_id, position, filename, content_type, content)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(outbox_id)
        .bind(i32::try_from(position).unwrap_or(i32::MAX))
        .bind(&attachment.filename)
        .bind(&attachment.content_type)
        .bind(&attachment.content)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn attachments(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: Uuid,
) -> Result<Vec<Attachment>, StoreError> {
    Ok(sqlx::query_as::<_, Attachment>(
        "SELECT a.filename, a.content_type, a.content
         FROM outbox_attachments a JOIN outbox o ON o.id = a.outbox_id
         WHERE o.id = $1 AND o.user_id = $2
         ORDER BY a.position",
    )
    .bind(id)
    .bind(user_id)
    .fetch_all(conn)
    .await?)
}

pub async fn get(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<OutboxMessage>, StoreError> {
    Ok(sqlx::query_as::<_, OutboxMessage>(&format!(
        "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = $1 AND user_id = $2"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(conn)
    .await?)
}

/// The user's messages in these states, newest first.
pub async fn list(
    conn: &mut PgConnection,
    user_id: Uuid,
    states: &[OutboxState],
    limit: i64,
) -> Result<Vec<OutboxMessage>, StoreError> {
    let states: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
    Ok(sqlx::query_as::<_, OutboxMessage>(&format!(
        "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE user_id = $1 AND state = ANY($2)
         ORDER BY updated_at DESC, id LIMIT $3"
    ))
    .bind(user_id)
    .bind(&states)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Deletes a draft, or a failed or uncertain message. Queued and sent ones stay.
pub async fn delete(conn: &mut PgConnection, user_id: Uuid, id: Uuid) -> Result<(), StoreError> {
    super::touched(
        sqlx::query("DELETE FROM outbox WHERE id = $1 AND user_id = $2 AND state = ANY($3)")
            .bind(id)
            .bind(user_id)
            .bind(&EDITABLE[..])
            .execute(conn)
            .await?,
    )
}

/// How many messages the user queued since `since` (for the send rate limit).
pub async fn queued_since(
    conn: &mut PgConnection,
    user_id: Uuid,
    since: OffsetDateTime,
) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE user_id = $1 AND queued_at >= $2")
            .bind(user_id)
            .bind(since)
            .fetch_one(conn)
            .await?,
    )
}

/// The earliest queued_at among the user's messages queued since `since`: the rate limit
/// frees a slot when that one leaves the window.
pub async fn oldest_queued_since(
    conn: &mut PgConnection,
    user_id: Uuid,
    since: OffsetDateTime,
) -> Result<Option<OffsetDateTime>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT min(queued_at) FROM outbox WHERE user_id = $1 AND queued_at >= $2",
    )
    .bind(user_id)
    .bind(since)
    .fetch_one(conn)
    .await?)
}

/// A message a worker holds the lease of, with what it needs to submit it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: Uuid,
    pub user_id: Uuid,
    pub account_id: Option<Uuid>,
    pub raw: Vec<u8>,
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
    pub attempts: i32,
}

/// Takes the lease of up to `limit` due queued messages (one statement; rows another
/// worker is claiming are skipped). Each claim counts as an attempt.
pub async fn claim_due(
    conn: &mut PgConnection,
    owner: &str,
    lease: Duration,
    limit: i64,
) -> Result<Vec<Claimed>, StoreError> {
    Ok(sqlx::query_as::<_, Claimed>(
        "UPDATE outbox SET lease_owner = $1,
             lease_expires_at = now() + make_interval(secs => $2),
             attempts = attempts + 1, updated_at = now()
         WHERE id IN (
             SELECT id FROM outbox
             WHERE state = 'queued' AND next_attempt_at <= now()
               AND (lease_expires_at IS NULL OR lease_expires_at < now())
             ORDER BY next_attempt_at
             LIMIT $3
             FOR UPDATE SKIP LOCKED)
         RETURNING id, user_id, account_id, raw, envelope_from, envelope_to, attempts",
    )
    .bind(owner)
    .bind(lease.as_secs_f64())
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Takes the lease of one queued message now (`tributary send`), whether due or not.
pub async fn claim_one(
    conn: &mut PgConnection,
    id: Uuid,
    owner: &str,
    lease: Duration,
) -> Result<Option<Claimed>, StoreError> {
    Ok(sqlx::query_as::<_, Claimed>(
        "UPDATE outbox SET lease_owner = $2,
             lease_expires_at = now() + make_interval(secs => $3),
             attempts = attempts + 1, updated_at = now()
         WHERE id = $1 AND state = 'queued'
           AND (lease_expires_at IS NULL OR lease_expires_at < now())
         RETURNING id, user_id, account_id, raw, envelope_from, envelope_to, attempts",
    )
    .bind(id)
    .bind(owner)
    .bind(lease.as_secs_f64())
    .fetch_optional(conn)
    .await?)
}

/// Records that the final dot may leave from now on. `false`: the lease was lost, and the
/// worker must not send.
pub async fn mark_submitting(
    conn: &mut PgConnection,
    id: Uuid,
    owner: &str,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE outbox SET state = 'submitting', updated_at = now()
         WHERE id = $1 AND lease_owner = $2 AND state = 'queued' AND lease_expires_at > now()",
    )
    .bind(id)
    .bind(owner)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// How a worker's attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 250 to the final dot.
    Sent { reply: String },
    /// Definitely not sent; try again at `retry_at`.
    Retry {
        error: Text,
        class: ErrorClass,
        reply: Option<String>,
        retry_at: OffsetDateTime,
    },
    /// Definitely not sent, and it will not be retried.
    Failed {
        error: Text,
        class: ErrorClass,
        reply: Option<String>,
    },
    /// The final dot may have left and no answer came.
    Uncertain { error: Text },
}

/// Records an attempt's end and gives up the lease. A late `250` also settles a message
/// that recovery already marked uncertain. `false`: the lease was lost; nothing changed.
pub async fn finish(
    conn: &mut PgConnection,
    id: Uuid,
    owner: &str,
    outcome: &Outcome,
) -> Result<bool, StoreError> {
    let (state, error, class, reply, retry_at) = match outcome {
        Outcome::Sent { reply } => (OutboxState::Sent, None, None, Some(reply.as_str()), None),
        Outcome::Retry {
            error,
            class,
            reply,
            retry_at,
        } => (
            OutboxState::Queued,
            Some(error),
            Some(*class),
            reply.as_deref(),
            Some(*retry_at),
        ),
        Outcome::Failed {
            error,
            class,
            reply,
        } => (
            OutboxState::Failed,
            Some(error),
            Some(*class),
            reply.as_deref(),
            None,
        ),
        Outcome::Uncertain { error } => (OutboxState::Uncertain, Some(error), None, None, None),
    };
    // English for the API and the command line; the catalogue form for the pages.
    let message = error.map(|text| Locale::default().sentence(text));
    let stored = error.and_then(Text::to_json_string);
    Ok(sqlx::query(
        "UPDATE outbox SET state = $3, last_error = $4, last_reply = $5, error_class = $7,
             last_error_text = $8::jsonb,
             next_attempt_at = $6, lease_owner = NULL, lease_expires_at = NULL,
             sent_at = CASE WHEN $3 = 'sent' THEN now() END, updated_at = now()
         WHERE id = $1 AND lease_owner = $2
           AND (state IN ('queued', 'submitting') OR ($3 = 'sent' AND state = 'uncertain'))",
    )
    .bind(id)
    .bind(owner)
    .bind(state)
    .bind(message)
    .bind(reply)
    .bind(retry_at)
    .bind(class)
    .bind(stored)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Messages whose worker reached DATA and then vanished (crash, kill, lost lease): they
/// may have been delivered, so they become uncertain — never queued again by themselves.
/// The owner is kept, so that worker's late answer can still settle them.
pub async fn recover_abandoned(conn: &mut PgConnection) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE outbox SET state = 'uncertain', updated_at = now(),
             last_error = 'The sending stopped after the message was handed to the server, \
                           before it answered: it may have been sent.',
             last_error_text = jsonb_build_object('id', 'send-stopped-after-handing-over')
         WHERE state = 'submitting' AND lease_expires_at < now()",
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Queues a failed or uncertain message again, as the person asked ("send again").
pub async fn resend(conn: &mut PgConnection, user_id: Uuid, id: Uuid) -> Result<(), StoreError> {
    super::touched(
        sqlx::query(
            "UPDATE outbox SET state = 'queued', next_attempt_at = now(), attempts = 0,
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
             WHERE id = $1 AND user_id = $2 AND state IN ('failed', 'uncertain') AND raw IS NOT NULL",
        )
        .bind(id)
        .bind(user_id)
        .execute(conn)
        .await?,
    )
}
