-- A second factor for local passwords (issue 19): a TOTP authenticator (RFC 6238) per user,
-- its one-time recovery codes, and the pending second step of a login whose password was
-- right.
--
-- The TOTP secret has to be readable to check a code, so it is stored as it is (20 random
-- bytes), not hashed; it is worth nothing without the user's password (argon2id) and is
-- removed with the user. `last_used_step` is the 30-second time step of the newest code
-- accepted: a code is accepted only for a later step, so a code seen over a shoulder or in a
-- log cannot be used again inside its window (RFC 6238 section 5.2).
CREATE TABLE user_totp (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret bytea NOT NULL CHECK (length(secret) >= 16),
    -- NULL while being set up: the authenticator counts only once a code from it was shown.
    confirmed_at timestamptz,
    last_used_step bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Recovery codes are random (50 bits each), so a SHA-256 is enough to store them: there is no
-- dictionary to try. Each works once.
CREATE TABLE recovery_codes (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash bytea NOT NULL,
    used_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, code_hash)
);

-- A password that was right, waiting for its second step. The token (only its SHA-256 here)
-- is handed to the client that gave the password and works for a few minutes and a few tries.
-- `setup`: the user must have a second factor (administrators) and has none yet, so the second
-- step confirms the authenticator whose key the first step handed out.
CREATE TABLE login_challenges (
    token_hash bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose text NOT NULL CHECK (purpose IN ('verify', 'setup')),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    failures integer NOT NULL DEFAULT 0
);
CREATE INDEX login_challenges_user_idx ON login_challenges (user_id);

-- An organisation may require a second factor of all its users (administrators need one
-- whatever this says).
ALTER TABLE organisations ADD COLUMN require_second_factor boolean NOT NULL DEFAULT false;
