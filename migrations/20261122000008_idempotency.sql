-- Idempotency-Key (draft-ietf-httpapi-idempotency-key-header) for the creating POSTs: the first
-- answer to a key, replayed to retries of the same request by the same user until it expires.
-- Keys are per caller: two users may pick the same key independently.
CREATE TABLE idempotency_keys (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- Method and route template, e.g. `POST /api/v1/participants/{id}/handovers`.
    operation text NOT NULL,
    -- SHA-256 of method, path and canonical JSON body: the same key with another request is 422.
    fingerprint bytea NOT NULL CHECK (length(fingerprint) = 32),
    -- The stored answer may name the participant's data: it goes when the participant is deleted.
    participant_id uuid REFERENCES participants (id) ON DELETE CASCADE,
    -- Filled in the transaction that claimed the key, so no other transaction sees them empty.
    status smallint CHECK (status BETWEEN 200 AND 299),
    body bytea,
    location text,
    etag text,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);
-- Housekeeping deletes expired rows.
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
CREATE INDEX idempotency_keys_participant_idx ON idempotency_keys (participant_id)
    WHERE participant_id IS NOT NULL;
