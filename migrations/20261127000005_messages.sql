-- One fetched message. The raw bytes are kept verbatim (DESIGN invariant 3); the parsed
-- fields serve lists and search. A message outlives its account when the user asks to
-- keep the mail, so account_id becomes NULL while user_id stays.
CREATE TABLE messages (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    account_id      uuid,
    uidl            text        NOT NULL,
    fetched_at      timestamptz NOT NULL DEFAULT now(),
    -- The Date header when it is plausible, else fetched_at: the inbox sorts on this.
    sort_at         timestamptz NOT NULL DEFAULT now(),
    date_header     timestamptz,
    message_id      text,
    from_address    text,
    from_name       text,
    to_addresses    text,
    cc_addresses    text,
    subject         text,
    snippet         text,
    size_bytes      bigint      NOT NULL CONSTRAINT messages_size_bytes_check CHECK (size_bytes >= 0),
    has_attachments boolean     NOT NULL DEFAULT false,
    parse_problem   text,
    seen            boolean     NOT NULL DEFAULT false,
    starred         boolean     NOT NULL DEFAULT false,
    trashed_at      timestamptz,
    raw             bytea       NOT NULL,
    search          tsvector,
    CONSTRAINT messages_account_uidl_key UNIQUE (account_id, uidl),
    -- The account must belong to the same user; deleting it keeps the mail (PostgreSQL 15+).
    CONSTRAINT messages_account_fkey FOREIGN KEY (account_id, user_id)
        REFERENCES accounts (id, user_id) ON DELETE SET NULL (account_id)
);
-- Raw mail is mostly already compressed (attachments) and is written far more than read:
-- EXTERNAL skips pglz, which measured ~4x slower to ingest here (DESIGN §3).
ALTER TABLE messages ALTER COLUMN raw SET STORAGE EXTERNAL;
CREATE INDEX messages_inbox_idx ON messages (user_id, sort_at DESC, id DESC);
CREATE INDEX messages_account_idx ON messages (account_id, sort_at DESC, id DESC);
CREATE INDEX messages_search_idx ON messages USING gin (search);
