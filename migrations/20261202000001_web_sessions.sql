-- Browser sessions are rows of the same sessions table as the API's (so sign-out, deactivation
-- and role changes end them alike). A browser session has no refresh tokens: its cookie carries
-- an opaque token whose SHA-256 is kept here, with the per-session CSRF token of its forms and
-- the time it was last used, for the idle timeout.
ALTER TABLE sessions
    ADD COLUMN cookie_hash bytea UNIQUE,
    ADD COLUMN csrf_token text,
    ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT sessions_web_has_csrf CHECK ((cookie_hash IS NULL) = (csrf_token IS NULL));
