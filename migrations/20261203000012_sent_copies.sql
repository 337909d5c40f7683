-- A message the outbox sent is kept beside fetched mail, so the combined views, search,
-- the message page and the API show it, marked "Sent". Its uidl is "sent " and the outbox
-- id: a space is never part of a POP3 UIDL (RFC 1939 §7 allows 0x21–0x7E), so a copy can
-- never meet a fetched message's UIDL, and account_uidls never learns of it. The copy can be
-- trashed and deleted like any message (the outbox row, Sent's record of the submission,
-- stays); should the outbox row go, the copy goes with it.
ALTER TABLE messages ADD COLUMN sent_outbox_id uuid UNIQUE REFERENCES outbox (id) ON DELETE CASCADE;

-- What kind of failure the last attempt met (the error classes of fetching: auth, tls,
-- network, …), so callers can say "fix the password" or "try later" without reading words.
ALTER TABLE outbox ADD COLUMN error_class text;
