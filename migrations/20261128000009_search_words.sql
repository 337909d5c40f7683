-- Search vectors are now made by Tributary (src/mail/search.rs) instead of PostgreSQL's
-- to_tsvector, which was the largest cost of storing a message. Messages stored before
-- keep their vectors and are searched the old way as well; the flag says which they are.
-- (ADD COLUMN with a constant default does not rewrite the table; existing rows read
-- true, rows inserted from now on false.)
ALTER TABLE messages ADD COLUMN search_legacy boolean NOT NULL DEFAULT true;
ALTER TABLE messages ALTER COLUMN search_legacy SET DEFAULT false;
