//! The `messages` table: fetched mail, raw bytes verbatim plus the fields lists show.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;

/// What could be read from a message's headers and body. Every text is free of NUL
/// (PostgreSQL `text` cannot hold it) — the raw bytes keep the original.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageFields {
    pub date_header: Option<OffsetDateTime>,
    pub message_id: Option<String>,
    pub from_address: Option<String>,
    pub from_name: Option<String>,
    pub to_addresses: Option<String>,
    pub cc_addresses: Option<String>,
    pub subject: Option<String>,
    pub snippet: Option<String>,
    pub has_attachments: bool,
    /// Why parsing was partial, in words for the user; `None` when it went fine.
    pub parse_problem: Option<String>,
    /// Subject, addresses and body text for the full-text vector.
    pub search_text: String,
}

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub uidl: String,
    pub raw: Vec<u8>,
    pub fields: MessageFields,
}

/// Stores one message and records its UIDL as stored, in the caller's transaction, so the
/// two commit together (DESIGN invariant 1). Returns whether a new row was written: `false`
/// means the message was already here (a run that died after committing it).
pub async fn insert_fetched(
    tx: &mut PgConnection,
    user_id: Uuid,
    account_id: Uuid,
    recorded_at: OffsetDateTime,
    message: &NewMessage,
) -> Result<bool, StoreError> {
    let fields = &message.fields;
    // Dates far outside any plausible range (forged or broken headers) would put a
    // message at the top or bottom of the inbox for ever: sort those by arrival.
    let sort_at = fields
        .date_header
        .filter(|date| date.year() >= 1971 && *date <= recorded_at + time::Duration::days(2))
        .unwrap_or(recorded_at);
    let inserted: (bool,) = sqlx::query_as(
        "WITH stored AS (
             INSERT INTO messages (user_id, account_id, uidl, fetched_at, sort_at, date_header,
                 message_id, from_address, from_name, to_addresses, cc_addresses, subject,
                 snippet, size_bytes, has_attachments, parse_problem, raw, search)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 to_tsvector('simple', $18))
             ON CONFLICT (account_id, uidl) DO NOTHING
             RETURNING 1
         ), seen AS (
             INSERT INTO account_uidls (account_id, uidl, disposition, size_bytes, recorded_at)
             VALUES ($2, $3, 'stored', $14, $4)
             ON CONFLICT (account_id, uidl) DO NOTHING
         )
         SELECT EXISTS (SELECT 1 FROM stored)",
    )
    .bind(user_id)
    .bind(account_id)
    .bind(&message.uidl)
    .bind(recorded_at)
    .bind(sort_at)
    .bind(fields.date_header)
    .bind(&fields.message_id)
    .bind(&fields.from_address)
    .bind(&fields.from_name)
    .bind(&fields.to_addresses)
    .bind(&fields.cc_addresses)
    .bind(&fields.subject)
    .bind(&fields.snippet)
    .bind(i64::try_from(message.raw.len()).unwrap_or(i64::MAX))
    .bind(fields.has_attachments)
    .bind(&fields.parse_problem)
    .bind(&message.raw)
    .bind(&fields.search_text)
    .fetch_one(tx)
    .await?;
    Ok(inserted.0)
}

/// How many messages an account has stored (kept mail of deleted accounts excluded).
pub async fn count_for_account(
    conn: &mut PgConnection,
    account_id: Uuid,
) -> Result<i64, StoreError> {
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM messages WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(conn)
        .await?;
    Ok(count)
}
