-- One remote POP3 mailbox of a user. The password is sealed with AES-256-GCM
-- (ciphertext + nonce + id of the master key; the associated data binds it to this row's id).
CREATE TABLE accounts (
    id                  uuid        PRIMARY KEY,
    user_id             uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label               text        NOT NULL,
    color               text        NOT NULL DEFAULT '#3b6fd4'
                        CONSTRAINT accounts_color_check CHECK (color ~ '^#[0-9a-f]{6}$'),
    email               text        NOT NULL,
    host                text        NOT NULL CONSTRAINT accounts_host_not_blank CHECK (btrim(host) <> ''),
    port                integer     NOT NULL CONSTRAINT accounts_port_check CHECK (port BETWEEN 1 AND 65535),
    security            text        NOT NULL
                        CONSTRAINT accounts_security_check CHECK (security IN ('tls', 'starttls', 'plain')),
    auth_method         text        NOT NULL DEFAULT 'password'
                        CONSTRAINT accounts_auth_method_check
                        CHECK (auth_method IN ('password', 'apop', 'sasl-plain', 'sasl-login')),
    username            text        NOT NULL,
    password_ciphertext bytea       NOT NULL,
    password_nonce      bytea       NOT NULL CONSTRAINT accounts_password_nonce_check CHECK (octet_length(password_nonce) = 12),
    password_key_id     text        NOT NULL,
    -- Trust for self-hosted servers: one custom CA, or one pinned certificate (SHA-256, hex).
    tls_ca_pem          text,
    tls_pin_sha256      text,
    leave_on_server     text        NOT NULL DEFAULT 'keep'
                        CONSTRAINT accounts_leave_on_server_check
                        CHECK (leave_on_server IN ('keep', 'delete', 'delete_after_days')),
    delete_after_days   integer     CONSTRAINT accounts_delete_after_days_check CHECK (delete_after_days > 0),
    import_mode         text        NOT NULL DEFAULT 'all'
                        CONSTRAINT accounts_import_mode_check CHECK (import_mode IN ('all', 'new')),
    -- NULL: adaptive polling; otherwise a fixed interval chosen by the user.
    poll_minutes        integer     CONSTRAINT accounts_poll_minutes_check CHECK (poll_minutes >= 1),
    -- NULL: the instance's TRIBUTARY_MAX_MESSAGE_BYTES.
    max_message_bytes   bigint      CONSTRAINT accounts_max_message_bytes_check CHECK (max_message_bytes >= 1024),
    enabled             boolean     NOT NULL DEFAULT true,
    -- Status, written by the fetch engine.
    next_check_at       timestamptz NOT NULL DEFAULT now(),
    last_attempt_at     timestamptz,
    last_success_at     timestamptz,
    last_error_kind     text,
    last_error_message  text,
    paused_reason       text,
    consecutive_failures integer    NOT NULL DEFAULT 0,
    -- Lease: which worker holds the account and until when (DESIGN invariant 2).
    lease_owner         text,
    lease_expires_at    timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_id_user_id_key UNIQUE (id, user_id),
    CONSTRAINT accounts_delete_after_days_policy_check
        CHECK ((leave_on_server = 'delete_after_days') = (delete_after_days IS NOT NULL)),
    CONSTRAINT accounts_tls_trust_check CHECK (tls_ca_pem IS NULL OR tls_pin_sha256 IS NULL)
);
CREATE INDEX accounts_user_id_idx ON accounts (user_id);
CREATE INDEX accounts_due_idx ON accounts (next_check_at) WHERE enabled;
CREATE INDEX accounts_password_key_id_idx ON accounts (password_key_id);
