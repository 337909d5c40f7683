//! The `messages` table: fetched mail, raw bytes verbatim plus the fields lists show.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;

/// The parsed fields stored beside the raw bytes (made by `crate::mail::fields`).
pub use crate::mail::fields::MessageFields;

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub uidl: String,
    pub raw: Vec<u8>,
    pub fields: MessageFields,
}

/// Where a stored message comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Downloaded from the account's POP3 server: its UIDL is recorded as stored.
    Fetched,
    /// Sent through the outbox: a copy, already seen, tied to its outbox row.
    Sent { outbox_id: Uuid },
}

/// The uidl a sent copy is stored under: never a POP3 UIDL, which cannot hold a space.
pub fn sent_uidl(outbox_id: Uuid) -> String {
    format!("sent {outbox_id}")
}

/// Stores one message — for [`Origin::Fetched`] also recording its UIDL as stored, in the
/// caller's transaction, so the two commit together (DESIGN invariant 1). Returns whether
/// a new row was written: `false` means the message was already here — under this UIDL (a
/// run that died after committing it), or byte for byte under another (a server that
/// renumbered its UIDLs).
pub async fn insert(
    tx: &mut PgConnection,
    user_id: Uuid,
    account_id: Uuid,
    recorded_at: OffsetDateTime,
    message: &NewMessage,
    origin: Origin,
) -> Result<bool, StoreError> {
    let sent_outbox_id = match origin {
        Origin::Fetched => None,
        Origin::Sent { outbox_id } => Some(outbox_id),
    };
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
                 snippet, size_bytes, has_attachments, parse_problem, raw, search, raw_sha256,
                 sent_outbox_id, seen)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18::tsvector, $19, $20, $20 IS NOT NULL)
             ON CONFLICT DO NOTHING
             RETURNING 1
         ), seen AS (
             INSERT INTO account_uidls (account_id, uidl, disposition, size_bytes, recorded_at)
             SELECT $2, $3, 'stored', $14, $4 WHERE $20::uuid IS NULL
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
    .bind(crate::mail::search::document_vector(&fields.search_text))
    .bind(fields.raw_sha256.as_slice())
    .bind(sent_outbox_id)
    .fetch_one(tx)
    .await?;
    Ok(inserted.0)
}

/// Stores a group of fetched messages and records their UIDLs as stored, in one
/// statement — so one transaction without BEGIN or COMMIT, one round trip, and no
/// transaction ever held open while the caller waits for anything (DESIGN invariant 1:
/// the rows and their UIDLs commit together). A statement per message cost PostgreSQL
/// more than the rows themselves when messages are small. Returns, per message, whether a
/// new row was written: `false` means it was already here — under this UIDL (a run that
/// died after committing it), or byte for byte under another (a server that renumbered
/// its UIDLs).
pub async fn insert_fetched_group(
    conn: &mut PgConnection,
    user_id: Uuid,
    account_id: Uuid,
    recorded_at: OffsetDateTime,
    batch: &[NewMessage],
) -> Result<Vec<bool>, StoreError> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let column = |f: fn(&NewMessage) -> Option<String>| batch.iter().map(f).collect::<Vec<_>>();
    let uidls: Vec<&str> = batch.iter().map(|m| m.uidl.as_str()).collect();
    let sort_at: Vec<OffsetDateTime> = batch
        .iter()
        .map(|m| {
            m.fields
                .date_header
                .filter(|date| {
                    date.year() >= 1971 && *date <= recorded_at + time::Duration::days(2)
                })
                .unwrap_or(recorded_at)
        })
        .collect();
    let date_header: Vec<Option<OffsetDateTime>> =
        batch.iter().map(|m| m.fields.date_header).collect();
    let sizes: Vec<i64> = batch
        .iter()
        .map(|m| i64::try_from(m.raw.len()).unwrap_or(i64::MAX))
        .collect();
    let has_attachments: Vec<bool> = batch.iter().map(|m| m.fields.has_attachments).collect();
    let raws: Vec<&[u8]> = batch.iter().map(|m| m.raw.as_slice()).collect();
    let digests: Vec<&[u8]> = batch
        .iter()
        .map(|m| m.fields.raw_sha256.as_slice())
        .collect();
    let vectors: Vec<String> = batch
        .iter()
        .map(|m| crate::mail::search::document_vector(&m.fields.search_text))
        .collect();
    let stored: Vec<String> = sqlx::query_scalar(
        "WITH input AS (
             SELECT * FROM unnest($3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[],
                 $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
                 $13::bigint[], $14::bool[], $15::text[], $16::bytea[], $17::text[], $19::bytea[])
                 WITH ORDINALITY AS i(uidl, sort_at, date_header, message_id, from_address,
                     from_name, to_addresses, cc_addresses, subject, snippet, size_bytes,
                     has_attachments, parse_problem, raw, search, raw_sha256, n)
         ), stored AS (
             INSERT INTO messages (user_id, account_id, uidl, fetched_at, sort_at, date_header,
                 message_id, from_address, from_name, to_addresses, cc_addresses, subject,
                 snippet, size_bytes, has_attachments, parse_problem, raw, search, raw_sha256)
             SELECT $1, $2, uidl, $18, sort_at, date_header, message_id, from_address,
                 from_name, to_addresses, cc_addresses, subject, snippet, size_bytes,
                 has_attachments, parse_problem, raw, search::tsvector, raw_sha256
             FROM input ORDER BY n
             ON CONFLICT DO NOTHING
             RETURNING uidl
         ), seen AS (
             INSERT INTO account_uidls (account_id, uidl, disposition, size_bytes, recorded_at)
             SELECT $2, uidl, 'stored', size_bytes, $18 FROM input
             ON CONFLICT (account_id, uidl) DO NOTHING
         )
         SELECT uidl FROM stored",
    )
    .bind(user_id)
    .bind(account_id)
    .bind(&uidls)
    .bind(&sort_at)
    .bind(&date_header)
    .bind(column(|m| m.fields.message_id.clone()))
    .bind(column(|m| m.fields.from_address.clone()))
    .bind(column(|m| m.fields.from_name.clone()))
    .bind(column(|m| m.fields.to_addresses.clone()))
    .bind(column(|m| m.fields.cc_addresses.clone()))
    .bind(column(|m| m.fields.subject.clone()))
    .bind(column(|m| m.fields.snippet.clone()))
    .bind(&sizes)
    .bind(&has_attachments)
    .bind(column(|m| m.fields.parse_problem.clone()))
    .bind(&raws)
    .bind(&vectors)
    .bind(recorded_at)
    .bind(&digests)
    .fetch_all(conn)
    .await?;
    let stored: std::collections::HashSet<&str> = stored.iter().map(String::as_str).collect();
    Ok(batch
        .iter()
        .map(|m| stored.contains(m.uidl.as_str()))
        .collect())
}

/// Up to `limit` messages whose search vector PostgreSQL made (`search_legacy`), after
/// `after` in id order, locked for the caller's transaction; rows another transaction holds
/// are skipped, so several replicas share the work.
pub async fn legacy_search_batch(
    tx: &mut PgConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, raw FROM messages WHERE search_legacy AND id > $1 ORDER BY id LIMIT $2 \
         FOR UPDATE SKIP LOCKED",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(tx)
    .await?)
}

/// Replaces messages' search vectors (tsvector literals from `mail::search`) and clears
/// their `search_legacy` flag.
pub async fn set_search_vectors(
    tx: &mut PgConnection,
    ids: &[i64],
    vectors: &[String],
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE messages m SET search = v.search::tsvector, search_legacy = false \
         FROM UNNEST($1::bigint[], $2::text[]) AS v(id, search) WHERE m.id = v.id",
    )
    .bind(ids)
    .bind(vectors)
    .execute(tx)
    .await?
    .rows_affected())
}

/// Fills in `raw_sha256` — computed by PostgreSQL, which holds the bytes — for up to
/// `limit` messages after `after` that have none (stored before the column existed), locked
/// as in [`legacy_search_batch`]. A message whose digest its account already has (a
/// duplicate from before) keeps none. Returns (the last id looked at, rows filled in).
pub async fn backfill_digests(
    tx: &mut PgConnection,
    after: i64,
    limit: i64,
) -> Result<Option<(i64, u64)>, StoreError> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM messages WHERE raw_sha256 IS NULL AND id > $1 ORDER BY id LIMIT $2 \
         FOR UPDATE SKIP LOCKED",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    let Some(&last) = ids.last() else {
        return Ok(None);
    };
    let filled = sqlx::query(
        "WITH d AS (
             SELECT DISTINCT ON (account_id, digest) id, account_id, digest
             FROM (SELECT id, account_id, sha256(raw) AS digest FROM messages
                   WHERE id = ANY($1)) x
             ORDER BY account_id, digest, id)
         UPDATE messages m SET raw_sha256 = d.digest FROM d
         WHERE m.id = d.id AND NOT EXISTS (
             SELECT 1 FROM messages o WHERE o.account_id = d.account_id AND o.raw_sha256 = d.digest)",
    )
    .bind(&ids)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(Some((last, filled)))
}

/// Messages stored before header repair whose subject or sender name holds U+FFFD (the
/// replacement character): their raw bytes, to read again.
pub async fn replacement_char_batch(
    tx: &mut PgConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, raw FROM messages \
         WHERE id > $1 AND (strpos(subject, U&'\\FFFD') > 0 OR strpos(from_name, U&'\\FFFD') > 0) \
         ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(tx)
    .await?)
}

/// The header fields read again from the raw bytes, with their search vectors.
#[derive(Debug)]
pub struct RereadHeaders {
    pub id: i64,
    pub subject: Option<String>,
    pub from_name: Option<String>,
    pub to_addresses: Option<String>,
    pub cc_addresses: Option<String>,
    pub search: String,
}

pub async fn set_reread_headers(
    tx: &mut PgConnection,
    rows: &[RereadHeaders],
) -> Result<u64, StoreError> {
    let column = |f: fn(&RereadHeaders) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    Ok(sqlx::query(
        "UPDATE messages m SET subject = v.subject, from_name = v.from_name, \
             to_addresses = v.to_addresses, cc_addresses = v.cc_addresses, \
             search = v.search::tsvector, search_legacy = false \
         FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) \
             AS v(id, subject, from_name, to_addresses, cc_addresses, search) \
         WHERE m.id = v.id",
    )
    .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind(column(|r| r.subject.clone()))
    .bind(column(|r| r.from_name.clone()))
    .bind(column(|r| r.to_addresses.clone()))
    .bind(column(|r| r.cc_addresses.clone()))
    .bind(rows.iter().map(|r| r.search.clone()).collect::<Vec<_>>())
    .execute(tx)
    .await?
    .rows_affected())
}

/// Which messages a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder {
    /// Everything not in the trash.
    Inbox,
    Starred,
    Trash,
}

/// A position in a list: lists are ordered by (`sort_at`, `id`), newest first, and pages
/// continue from a position (keyset pagination) so a deep page costs what the first does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub sort_at: OffsetDateTime,
    pub id: i64,
}

impl Cursor {
    /// The cursor as it travels in URLs: `<unix microseconds>_<id>` (PostgreSQL keeps
    /// microseconds, so the position is exact).
    pub fn to_token(self) -> String {
        format!(
            "{}_{}",
            self.sort_at.unix_timestamp_nanos() / 1_000,
            self.id
        )
    }

    pub fn parse(token: &str) -> Option<Self> {
        let (micros, id) = token.split_once('_')?;
        let micros: i128 = micros.parse().ok()?;
        Some(Self {
            sort_at: OffsetDateTime::from_unix_timestamp_nanos(micros.checked_mul(1_000)?).ok()?,
            id: id.parse().ok()?,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The page after the cursor (older mail).
    Older,
    /// The page before it (newer mail).
    Newer,
}

#[derive(Debug, Clone)]
pub struct ListQuery<'a> {
    pub user_id: Uuid,
    pub folder: Folder,
    pub account_id: Option<Uuid>,
    /// PostgreSQL `websearch_to_tsquery` syntax: words, "phrases", -excluded.
    pub search: Option<&'a str>,
    pub unread_only: bool,
    /// Dated (`sort_at`) at or after this.
    pub since: Option<OffsetDateTime>,
    /// Dated before this.
    pub until: Option<OffsetDateTime>,
    pub cursor: Option<(Cursor, Direction)>,
    pub limit: i64,
}

/// One row of a list, without the raw bytes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageSummary {
    pub id: i64,
    pub account_id: Option<Uuid>,
    pub account_label: Option<String>,
    pub account_color: Option<String>,
    pub from_address: Option<String>,
    pub from_name: Option<String>,
    pub subject: Option<String>,
    pub snippet: Option<String>,
    pub sort_at: OffsetDateTime,
    pub has_attachments: bool,
    pub seen: bool,
    pub starred: bool,
    pub trashed: bool,
    /// Sent through the outbox (a copy), not fetched.
    pub sent: bool,
    pub to_addresses: Option<String>,
}

impl MessageSummary {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            sort_at: self.sort_at,
            id: self.id,
        }
    }
}

/// A page of a list, newest first, and whether more lie beyond either end.
#[derive(Debug, Clone)]
pub struct Page {
    pub messages: Vec<MessageSummary>,
    pub has_older: bool,
    pub has_newer: bool,
}

const SUMMARY_COLUMNS: &str = "m.id, m.account_id, a.label AS account_label, \
     a.color AS account_color, m.from_address, m.from_name, m.subject, m.snippet, m.sort_at, \
     m.has_attachments, m.seen, m.starred, m.trashed_at IS NOT NULL AS trashed, \
     m.sent_outbox_id IS NOT NULL AS sent, m.to_addresses";

fn push_folder(builder: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>, folder: Folder) {
    builder.push(match folder {
        Folder::Inbox => " AND m.trashed_at IS NULL",
        Folder::Starred => " AND m.starred AND m.trashed_at IS NULL",
        Folder::Trash => " AND m.trashed_at IS NOT NULL",
    });
}

/// A search first looks at this many of the newest messages (in list order, from the
/// cursor): a common word fills a page from them at once. Only when they hold less than a
/// page does the search go through the full-text index — which is fast exactly then,
/// because the word is rare. (Left to itself, PostgreSQL walks the whole mailbox in list
/// order looking for a rare word: 0.6 s for 1,000,000 messages.)
const SEARCH_WINDOW: i64 = 4000;

/// How one list query finds its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// In list order along the (user, sort_at, id) index; no search.
    Ordered,
    /// The newest [`SEARCH_WINDOW`] messages, filtered by the search.
    RecentWindow,
    /// Every match from the full-text index, then sorted.
    SearchIndex,
}

/// The WHERE conditions shared by every plan (user, folder, account, cursor).
fn push_filters(builder: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>, query: &ListQuery<'_>) {
    builder.push(" WHERE m.user_id = ").push_bind(query.user_id);
    push_folder(builder, query.folder);
    if let Some(account_id) = query.account_id {
        builder.push(" AND m.account_id = ").push_bind(account_id);
    }
    if query.unread_only {
        builder.push(" AND NOT m.seen");
    }
    if let Some(since) = query.since {
        builder.push(" AND m.sort_at >= ").push_bind(since);
    }
    if let Some(until) = query.until {
        builder.push(" AND m.sort_at < ").push_bind(until);
    }
    if let Some((cursor, direction)) = query.cursor {
        builder.push(match direction {
            Direction::Older => " AND (m.sort_at, m.id) < (",
            Direction::Newer => " AND (m.sort_at, m.id) > (",
        });
        builder
            .push_bind(cursor.sort_at)
            .push(", ")
            .push_bind(cursor.id)
            .push(")");
    }
}

fn order_by(direction: Direction) -> &'static str {
    match direction {
        Direction::Older => " ORDER BY m.sort_at DESC, m.id DESC",
        Direction::Newer => " ORDER BY m.sort_at ASC, m.id ASC",
    }
}

/// The search condition on the messages aliased `m`: our words (`mail::search`), or —
/// for messages stored before those existed, whose vectors PostgreSQL's `to_tsvector`
/// made (`search_legacy`) — the same search in PostgreSQL's own reading.
fn push_search(
    builder: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>,
    search: String,
    legacy: String,
) {
    builder
        .push("(m.search @@ ")
        .push_bind(search)
        .push("::tsquery OR (m.search_legacy AND m.search @@ websearch_to_tsquery('simple', ")
        .push_bind(legacy)
        .push(")))");
}

async fn fetch_rows(
    conn: &mut PgConnection,
    query: &ListQuery<'_>,
    plan: Plan,
) -> Result<Vec<MessageSummary>, StoreError> {
    let direction = query.cursor.map(|(_, d)| d).unwrap_or(Direction::Older);
    let search = query
        .search
        .and_then(crate::mail::search::query)
        .unwrap_or_default();
    // PostgreSQL text cannot hold NUL; for a search it is just another separator.
    let legacy = query.search.unwrap_or("").replace('\0', " ");
    let mut builder = sqlx::QueryBuilder::new("");
    match plan {
        Plan::Ordered => {
            builder.push(format!(
                "SELECT {SUMMARY_COLUMNS} FROM messages m LEFT JOIN accounts a ON a.id = m.account_id"
            ));
            push_filters(&mut builder, query);
        }
        Plan::RecentWindow => {
            builder.push(
                "SELECT m.id, m.account_id, a.label AS account_label, a.color AS account_color, \
                 m.from_address, m.from_name, m.subject, m.snippet, m.sort_at, m.has_attachments, \
                 m.seen, m.starred, m.trashed_at IS NOT NULL AS trashed, \
                 m.sent_outbox_id IS NOT NULL AS sent, m.to_addresses FROM (SELECT m.id, \
                 m.account_id, m.from_address, m.from_name, m.subject, m.snippet, m.sort_at, \
                 m.has_attachments, m.seen, m.starred, m.trashed_at, m.search, m.search_legacy, \
                 m.sent_outbox_id, m.to_addresses FROM messages m",
            );
            push_filters(&mut builder, query);
            builder.push(order_by(direction));
            builder.push(" LIMIT ").push_bind(SEARCH_WINDOW);
            builder.push(") m LEFT JOIN accounts a ON a.id = m.account_id");
            builder.push(" WHERE ");
            push_search(&mut builder, search, legacy);
        }
        Plan::SearchIndex => {
            // MATERIALIZED keeps the planner from folding the matches back into a walk
            // along the list order.
            builder.push("WITH hits AS MATERIALIZED (SELECT m.id FROM messages m WHERE ");
            push_search(&mut builder, search, legacy);
            builder
                .push(" AND m.user_id = ")
                .push_bind(query.user_id)
                .push(format!(
                    ") SELECT {SUMMARY_COLUMNS} FROM hits JOIN messages m ON m.id = hits.id \
                     LEFT JOIN accounts a ON a.id = m.account_id"
                ));
            push_filters(&mut builder, query);
        }
    }
    builder.push(order_by(direction));
    // One more than asked tells whether another page follows.
    builder.push(" LIMIT ").push_bind(query.limit + 1);
    Ok(builder.build_query_as().fetch_all(conn).await?)
}

/// One page of a user's messages. The SQL is built for the exact filters given, so each
/// combination gets its own plan (a generic `$n IS NULL OR …` plan would scan).
pub async fn list(conn: &mut PgConnection, query: &ListQuery<'_>) -> Result<Page, StoreError> {
    let wanted = usize::try_from(query.limit).unwrap_or(0);
    let mut messages = if query.search.is_some() {
        let recent = fetch_rows(conn, query, Plan::RecentWindow).await?;
        if recent.len() > wanted {
            recent
        } else {
            fetch_rows(conn, query, Plan::SearchIndex).await?
        }
    } else {
        fetch_rows(conn, query, Plan::Ordered).await?
    };
    let more = messages.len() > wanted;
    messages.truncate(wanted);
    let cursor_given = query.cursor.is_some();
    Ok(
        match query.cursor.map(|(_, d)| d).unwrap_or(Direction::Older) {
            Direction::Older => Page {
                messages,
                has_older: more,
                has_newer: cursor_given,
            },
            Direction::Newer => {
                messages.reverse();
                Page {
                    messages,
                    has_older: cursor_given,
                    has_newer: more,
                }
            }
        },
    )
}

/// Unread counts stop here ("99+"): every page shows them, and counting costs one index
/// entry per unread message — 1,000 per account already made the counts most of an inbox
/// page's database time (bench/web.sh). A reader gains little from "1,204" over "99+".
pub const UNREAD_COUNT_CAP: i64 = 100;

/// A folder or account in the sidebar, with its unread count (at most [`UNREAD_COUNT_CAP`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountCount {
    pub account_id: Uuid,
    pub label: String,
    pub color: String,
    pub unread: i64,
}

/// Every account of the user with its unread (not trashed) count, in label order, and the
/// unread count of the whole inbox (mail kept from removed accounts included) — one
/// round trip, as every page shows both.
pub async fn unread_counts(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<(Vec<AccountCount>, i64), StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        account_id: Option<Uuid>,
        label: Option<String>,
        color: Option<String>,
        unread: i64,
    }
    let rows = sqlx::query_as::<_, Row>(
        "SELECT * FROM (
             SELECT a.id AS account_id, a.label, a.color,
                    (SELECT count(*) FROM (SELECT 1 FROM messages m
                         WHERE m.user_id = a.user_id AND m.account_id = a.id
                           AND NOT m.seen AND m.trashed_at IS NULL
                         LIMIT $2) capped) AS unread
             FROM accounts a WHERE a.user_id = $1
             ORDER BY lower(a.label), a.created_at) accounts
         UNION ALL
         SELECT NULL, NULL, NULL,
                (SELECT count(*) FROM (SELECT 1 FROM messages
                     WHERE user_id = $1 AND NOT seen AND trashed_at IS NULL LIMIT $2) capped)",
    )
    .bind(user_id)
    .bind(UNREAD_COUNT_CAP)
    .fetch_all(conn)
    .await?;
    let mut total = 0;
    let mut accounts = Vec::with_capacity(rows.len());
    for row in rows {
        match (row.account_id, row.label, row.color) {
            (Some(account_id), Some(label), Some(color)) => accounts.push(AccountCount {
                account_id,
                label,
                color,
                unread: row.unread,
            }),
            _ => total = row.unread,
        }
    }
    Ok((accounts, total))
}

/// Whether the user has a stored message with this id (trashed ones count).
pub async fn exists(conn: &mut PgConnection, user_id: Uuid, id: i64) -> Result<bool, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM messages WHERE user_id = $1 AND id = $2)")
            .bind(user_id)
            .bind(id)
            .fetch_one(conn)
            .await?,
    )
}

/// The id of the user's latest stored message, for live updates of the inbox.
pub async fn newest_id(conn: &mut PgConnection, user_id: Uuid) -> Result<Option<i64>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT max(id) FROM messages WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(conn)
            .await?,
    )
}

/// One message's fields for the message page (the raw bytes come from [`raw`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageDetail {
    #[sqlx(flatten)]
    pub summary: MessageSummary,
    pub account_email: Option<String>,
    pub cc_addresses: Option<String>,
    pub date_header: Option<OffsetDateTime>,
    pub fetched_at: OffsetDateTime,
    pub message_id: Option<String>,
    pub size_bytes: i64,
    pub parse_problem: Option<String>,
}

/// A message of this user; `None` for another user's id as for one that does not exist.
pub async fn get(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: i64,
) -> Result<Option<MessageDetail>, StoreError> {
    Ok(sqlx::query_as::<_, MessageDetail>(&format!(
        "SELECT {SUMMARY_COLUMNS}, a.email AS account_email, m.cc_addresses,
                m.date_header, m.fetched_at, m.message_id, m.size_bytes, m.parse_problem
         FROM messages m LEFT JOIN accounts a ON a.id = m.account_id
         WHERE m.id = $1 AND m.user_id = $2"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(conn)
    .await?)
}

/// A message with its raw bytes, for the message page (one round trip instead of two).
pub async fn get_with_raw(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: i64,
) -> Result<Option<(MessageDetail, Vec<u8>)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        detail: MessageDetail,
        raw: Vec<u8>,
    }
    let row = sqlx::query_as::<_, Row>(&format!(
        "SELECT {SUMMARY_COLUMNS}, a.email AS account_email, m.cc_addresses,
                m.date_header, m.fetched_at, m.message_id, m.size_bytes, m.parse_problem, m.raw
         FROM messages m LEFT JOIN accounts a ON a.id = m.account_id
         WHERE m.id = $1 AND m.user_id = $2"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| (row.detail, row.raw)))
}

/// The bytes exactly as the POP3 server sent them.
pub async fn raw(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: i64,
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT raw FROM messages WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .fetch_optional(conn)
            .await?,
    )
}

/// The ids of the messages just newer and just older than `cursor` in a folder.
pub async fn neighbours(
    conn: &mut PgConnection,
    user_id: Uuid,
    folder: Folder,
    cursor: Cursor,
) -> Result<(Option<i64>, Option<i64>), StoreError> {
    let in_folder = match folder {
        Folder::Inbox => "m.trashed_at IS NULL",
        Folder::Starred => "m.starred AND m.trashed_at IS NULL",
        Folder::Trash => "m.trashed_at IS NOT NULL",
    };
    Ok(sqlx::query_as(&format!(
        "SELECT (SELECT m.id FROM messages m WHERE m.user_id = $1 AND {in_folder}
                   AND (m.sort_at, m.id) > ($2, $3) ORDER BY m.sort_at, m.id LIMIT 1),
                (SELECT m.id FROM messages m WHERE m.user_id = $1 AND {in_folder}
                   AND (m.sort_at, m.id) < ($2, $3) ORDER BY m.sort_at DESC, m.id DESC LIMIT 1)"
    ))
    .bind(user_id)
    .bind(cursor.sort_at)
    .bind(cursor.id)
    .fetch_one(conn)
    .await?)
}

/// A change people make to messages they selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagChange {
    Seen(bool),
    Starred(bool),
    Trashed(bool),
}

/// Applies a change to those of `ids` that belong to the user; returns how many changed.
pub async fn set_flag(
    conn: &mut PgConnection,
    user_id: Uuid,
    ids: &[i64],
    change: FlagChange,
) -> Result<u64, StoreError> {
    let sql = match change {
        FlagChange::Seen(_) => "UPDATE messages SET seen = $3 WHERE user_id = $1 AND id = ANY($2)",
        FlagChange::Starred(_) => {
            "UPDATE messages SET starred = $3 WHERE user_id = $1 AND id = ANY($2)"
        }
        FlagChange::Trashed(_) => {
            "UPDATE messages SET trashed_at = CASE WHEN $3 THEN coalesce(trashed_at, now()) END
             WHERE user_id = $1 AND id = ANY($2)"
        }
    };
    let value = match change {
        FlagChange::Seen(v) | FlagChange::Starred(v) | FlagChange::Trashed(v) => v,
    };
    let done = sqlx::query(sql)
        .bind(user_id)
        .bind(ids)
        .bind(value)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Marks a message read because it was opened. Not worth waiting for the disk: should
/// the server crash in the next moment, the message is merely unread again. One statement:
/// `set_config(…, true)` lasts for this statement's own transaction, so its commit does
/// not wait for the WAL flush.
pub async fn mark_opened(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE messages SET seen = true
         WHERE user_id = $1 AND id = $2 AND NOT seen
           AND set_config('synchronous_commit', 'off', true) = 'off'",
    )
    .bind(user_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes one of the user's messages for good, wherever it is. Its UIDL stays recorded,
/// so the fetch engine does not download it again.
pub async fn delete(conn: &mut PgConnection, user_id: Uuid, id: i64) -> Result<(), StoreError> {
    super::touched(
        sqlx::query("DELETE FROM messages WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(id)
            .execute(conn)
            .await?,
    )
}

/// Deletes for good those of `ids` that are the user's and already in the trash. Their
/// UIDLs stay recorded, so the fetch engine does not download them again.
pub async fn delete_trashed(
    conn: &mut PgConnection,
    user_id: Uuid,
    ids: Option<&[i64]>,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM messages WHERE user_id = $1 AND trashed_at IS NOT NULL
           AND ($2::bigint[] IS NULL OR id = ANY($2))",
    )
    .bind(user_id)
    .bind(ids)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = Cursor {
            sort_at: OffsetDateTime::from_unix_timestamp_nanos(1_764_000_000_123_456_000)
                .expect("time"),
            id: 42,
        };
        assert_eq!(Cursor::parse(&cursor.to_token()), Some(cursor));
        for bad in ["", "x_1", "1_x", "1", "99999999999999999999999999999_1"] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }
}
