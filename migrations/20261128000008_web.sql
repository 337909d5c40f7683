-- Failed sign-ins, per user name and per client address, for growing delays (issue 5).
-- Kept in PostgreSQL so every replica sees the same counts.
CREATE TABLE login_failures (
    key             text        PRIMARY KEY,
    failures        integer     NOT NULL CONSTRAINT login_failures_failures_check CHECK (failures > 0),
    last_failure_at timestamptz NOT NULL DEFAULT now()
);

-- The sidebar's unread counts and the Starred/Trash folders read only these rows.
CREATE INDEX messages_unread_idx ON messages (user_id, account_id)
    WHERE NOT seen AND trashed_at IS NULL;
CREATE INDEX messages_starred_idx ON messages (user_id, sort_at DESC, id DESC)
    WHERE starred AND trashed_at IS NULL;
CREATE INDEX messages_trash_idx ON messages (user_id, sort_at DESC, id DESC)
    WHERE trashed_at IS NOT NULL;
