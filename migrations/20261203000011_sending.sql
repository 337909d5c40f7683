-- Sending mail as each account (issue 13).

-- How an account sends: the identity people see (From, Reply-To, signature) and the
-- account's SMTP submission server. One per account. The SMTP password is optional: NULL
-- means "the account's POP3 user name and password", as most providers use one login for
-- both. When present it is sealed with AES-256-GCM like the POP3 password, bound to the
-- account id and to the purpose "smtp" so the two sealed values cannot be swapped.
CREATE TABLE sending_identities (
    account_id          uuid        PRIMARY KEY,
    user_id             uuid        NOT NULL,
    from_name           text        NOT NULL DEFAULT '',
    from_address        text        NOT NULL,
    reply_to            text,
    signature           text        NOT NULL DEFAULT '',
    smtp_host           text        NOT NULL
                        CONSTRAINT sending_identities_host_not_blank CHECK (btrim(smtp_host) <> ''),
    smtp_port           integer     NOT NULL
                        CONSTRAINT sending_identities_port_check CHECK (smtp_port BETWEEN 1 AND 65535),
    smtp_security       text        NOT NULL
                        CONSTRAINT sending_identities_security_check CHECK (smtp_security IN ('tls', 'starttls', 'plain')),
    smtp_auth           text        NOT NULL DEFAULT 'plain'
                        CONSTRAINT sending_identities_auth_check CHECK (smtp_auth IN ('plain', 'login')),
    tls_ca_pem          text,
    tls_pin_sha256      text,
    smtp_username       text,
    password_ciphertext bytea,
    password_nonce      bytea,
    password_key_id     text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sending_identities_account_fkey FOREIGN KEY (account_id, user_id)
        REFERENCES accounts (id, user_id) ON DELETE CASCADE,
    CONSTRAINT sending_identities_tls_trust_check CHECK (tls_ca_pem IS NULL OR tls_pin_sha256 IS NULL),
    -- Both login parts or neither: a separate password without its user name is meaningless.
    CONSTRAINT sending_identities_login_check CHECK (
        (smtp_username IS NULL) = (password_ciphertext IS NULL)
        AND (password_ciphertext IS NULL) = (password_nonce IS NULL)
        AND (password_nonce IS NULL) = (password_key_id IS NULL)
    )
);
CREATE INDEX sending_identities_password_key_id_idx ON sending_identities (password_key_id)
    WHERE password_key_id IS NOT NULL;

-- Every message a user writes: a draft until Send, then queued, and exactly one of sent,
-- failed or uncertain at the end. `raw` is the finished RFC 5322 message, built once when
-- it is queued so a retry sends the very same bytes (same Message-ID).
--
-- States (DESIGN: the outbox is exactly-once like fetching):
--   draft      being written; not sent
--   queued     waiting for the worker (next_attempt_at says when)
--   submitting a worker holds the lease and has reached DATA: the final dot may leave at
--              any moment. A row found here with an expired lease may have been delivered.
--   sent       the server answered 250 to the final dot
--   failed     a permanent refusal, or transient ones until the attempts ran out; kept
--              for editing and sending again
--   uncertain  the final dot may have left and no answer came: "may have been sent —
--              check and resend?", never resent without the person
CREATE TABLE outbox (
    id                  uuid        PRIMARY KEY,
    user_id             uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    account_id          uuid,
    state               text        NOT NULL
                        CONSTRAINT outbox_state_check
                        CHECK (state IN ('draft', 'queued', 'submitting', 'sent', 'failed', 'uncertain')),
    to_addresses        text[]      NOT NULL DEFAULT '{}',
    cc_addresses        text[]      NOT NULL DEFAULT '{}',
    bcc_addresses       text[]      NOT NULL DEFAULT '{}',
    subject             text        NOT NULL DEFAULT '',
    body                text        NOT NULL DEFAULT '',
    -- The message this one answers or forwards, when it is still stored.
    in_reply_to         bigint      REFERENCES messages (id) ON DELETE SET NULL,
    message_id          text,
    raw                 bytea,
    envelope_from       text,
    envelope_to         text[],
    attempts            integer     NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz,
    lease_owner         text,
    lease_expires_at    timestamptz,
    last_error          text,
    -- The server's own words for the last answer (shown in plain words with the error).
    last_reply          text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    queued_at           timestamptz,
    sent_at             timestamptz,
    CONSTRAINT outbox_account_fkey FOREIGN KEY (account_id, user_id)
        REFERENCES accounts (id, user_id) ON DELETE SET NULL (account_id),
    CONSTRAINT outbox_built_check CHECK (
        state = 'draft' OR (raw IS NOT NULL AND message_id IS NOT NULL
                            AND envelope_from IS NOT NULL AND envelope_to IS NOT NULL)
    )
);
ALTER TABLE outbox ALTER COLUMN raw SET STORAGE EXTERNAL;
CREATE INDEX outbox_user_idx ON outbox (user_id, state, updated_at DESC);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE state = 'queued';
CREATE INDEX outbox_submitting_idx ON outbox (lease_expires_at) WHERE state = 'submitting';

-- Files attached to a draft or an outgoing message, in order.
CREATE TABLE outbox_attachments (
    outbox_id           uuid        NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    position            integer     NOT NULL,
    filename            text        NOT NULL,
    content_type        text        NOT NULL,
    content             bytea       NOT NULL,
    PRIMARY KEY (outbox_id, position)
);
ALTER TABLE outbox_attachments ALTER COLUMN content SET STORAGE EXTERNAL;
