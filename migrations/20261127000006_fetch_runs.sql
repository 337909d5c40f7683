-- One attempt to fetch an account, for the history on the accounts page.
CREATE TABLE fetch_runs (
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id        uuid        NOT NULL,
    user_id           uuid        NOT NULL,
    trigger           text        NOT NULL CONSTRAINT fetch_runs_trigger_check CHECK (trigger IN ('schedule', 'manual')),
    started_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    outcome           text        NOT NULL DEFAULT 'running'
                      CONSTRAINT fetch_runs_outcome_check
                      CHECK (outcome IN ('running', 'success', 'partial', 'auth_error',
                                         'temporary_error', 'permanent_error', 'cancelled')),
    messages_fetched  integer     NOT NULL DEFAULT 0,
    bytes_fetched     bigint      NOT NULL DEFAULT 0,
    messages_skipped  integer     NOT NULL DEFAULT 0,
    error_kind        text,
    error_message     text,
    CONSTRAINT fetch_runs_account_fkey FOREIGN KEY (account_id, user_id)
        REFERENCES accounts (id, user_id) ON DELETE CASCADE
);
CREATE INDEX fetch_runs_account_idx ON fetch_runs (account_id, started_at DESC);
