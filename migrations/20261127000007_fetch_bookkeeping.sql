-- What the fetch engine knows about each remote message, independent of the `messages`
-- row (which the user may delete): a UIDL recorded here is never downloaded again.
--   stored  — the message row committed in the same transaction as this row;
--   skipped — larger than the account's limit (size as the server announced it);
--   ignored — already on the server when an "only new mail" account was added.
-- `recorded_at` drives "delete from the server after N days".
CREATE TABLE account_uidls (
    account_id  uuid        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uidl        text        NOT NULL,
    disposition text        NOT NULL
                CONSTRAINT account_uidls_disposition_check
                CHECK (disposition IN ('stored', 'skipped', 'ignored')),
    size_bytes  bigint,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, uidl)
);

ALTER TABLE accounts
    -- The adaptive poll interval in use now (DESIGN §6); `poll_minutes` overrides it.
    ADD COLUMN interval_seconds integer NOT NULL DEFAULT 300
        CONSTRAINT accounts_interval_seconds_check CHECK (interval_seconds > 0),
    -- When the UIDLs present at the first fetch of an "only new mail" account were recorded.
    ADD COLUMN baseline_at timestamptz;

-- The scheduler's claim looks only at enabled, unpaused accounts.
DROP INDEX accounts_due_idx;
CREATE INDEX accounts_due_idx ON accounts (next_check_at) WHERE enabled AND paused_reason IS NULL;


-- Which process ran each fetch (its lease owner), for operators and the replica tests.
ALTER TABLE fetch_runs ADD COLUMN worker text;
