-- A server that renumbers its UIDLs (a rebuilt mailbox, a provider's migration) would
-- make every message look new. Each stored message now carries the SHA-256 of its raw
-- bytes, unique per account, so such a message is recognised and stored only once.
-- Rows stored before have none until `serve` fills it in the background (maintenance.rs);
-- the column is nullable so this migration does not read every message.
ALTER TABLE messages ADD COLUMN raw_sha256 bytea;
CREATE UNIQUE INDEX messages_account_raw_sha256 ON messages (account_id, raw_sha256)
    WHERE raw_sha256 IS NOT NULL;
-- The background upkeep (maintenance.rs) looks for the rows it still has to do on every
-- start; these stay as small as that work, so finding "nothing left" reads no table.
CREATE INDEX messages_search_legacy_idx ON messages (id) WHERE search_legacy;
CREATE INDEX messages_without_digest_idx ON messages (id) WHERE raw_sha256 IS NULL;
