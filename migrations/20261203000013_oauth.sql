-- OAuth 2.0 sign-in (Microsoft, Google, an administrator's own provider): an account signs
-- in with a token instead of a password.
ALTER TABLE accounts DROP CONSTRAINT accounts_auth_method_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_auth_method_check
    CHECK (auth_method IN ('password', 'apop', 'sasl-plain', 'sasl-login', 'xoauth2', 'oauthbearer'));
-- An account that signs in with OAuth has no password: its secret is its grant below.
ALTER TABLE accounts ALTER COLUMN password_ciphertext DROP NOT NULL,
                     ALTER COLUMN password_nonce DROP NOT NULL,
                     ALTER COLUMN password_key_id DROP NOT NULL;
ALTER TABLE accounts ADD CONSTRAINT accounts_password_check
    CHECK (auth_method IN ('xoauth2', 'oauthbearer')
           OR (password_ciphertext IS NOT NULL AND password_nonce IS NOT NULL AND password_key_id IS NOT NULL));

-- The tokens of an OAuth account: refresh token, access token and its expiry, sealed as
-- one JSON document with AES-256-GCM (the associated data binds it to the account). The
-- columns are named as every sealed secret's, so key rotation re-seals them the same way.
CREATE TABLE oauth_grants (
    account_id          uuid        PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    -- Which configured client issued it: 'microsoft', 'google' or 'generic'.
    provider            text        NOT NULL CONSTRAINT oauth_grants_provider_check
                        CHECK (provider IN ('microsoft', 'google', 'generic')),
    password_ciphertext bytea       NOT NULL,
    password_nonce      bytea       NOT NULL CONSTRAINT oauth_grants_nonce_check CHECK (octet_length(password_nonce) = 12),
    password_key_id     text        NOT NULL,
    -- When the access token inside stops working (not secret: it decides when to refresh).
    access_expires_at   timestamptz NOT NULL,
    refreshed_at        timestamptz NOT NULL DEFAULT now(),
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oauth_grants_password_key_id_idx ON oauth_grants (password_key_id);

-- A sign-in under way: from "Sign in with …" to the provider's redirect back. Found by the
-- SHA-256 of its `state` (the state itself is only in the browser's URL); the PKCE
-- verifier is sealed; the account it will create (or sign in again) waits in `draft`.
CREATE TABLE oauth_flows (
    state_sha256        bytea       PRIMARY KEY CONSTRAINT oauth_flows_state_check CHECK (octet_length(state_sha256) = 32),
    user_id             uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The web session that started it; NULL when started through the API (then any
    -- session of the same user may finish it).
    session_sha256      bytea,
    provider            text        NOT NULL,
    password_ciphertext bytea       NOT NULL,
    password_nonce      bytea       NOT NULL,
    password_key_id     text        NOT NULL,
    draft               jsonb       NOT NULL,
    -- Signing in again for this account rather than adding one.
    account_id          uuid        REFERENCES accounts (id) ON DELETE CASCADE,
    expires_at          timestamptz NOT NULL
);
CREATE INDEX oauth_flows_expires_at_idx ON oauth_flows (expires_at);
