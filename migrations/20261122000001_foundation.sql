-- Foundation: organisations, users, sessions and refresh tokens, login throttling, audit log.

CREATE TABLE organisations (
    id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('operator', 'reception_centre', 'career_centre', 'municipality')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    municipality_number char(4) UNIQUE CHECK (municipality_number ~ '^[0-9]{4}$'),
    county text,
    -- A career centre serves exactly one reception centre (Agder -> Kristiansand, Trøndelag -> Steinkjer).
    serves_reception_centre_id uuid REFERENCES organisations (id),
    active boolean NOT NULL DEFAULT true,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT organisations_municipality_number_iff_municipality
        CHECK ((kind = 'municipality') = (municipality_number IS NOT NULL)),
    CONSTRAINT organisations_serves_only_for_career_centre
        CHECK (serves_reception_centre_id IS NULL OR kind = 'career_centre')
);
CREATE UNIQUE INDEX organisations_kind_name_key ON organisations (kind, lower(name));
CREATE UNIQUE INDEX organisations_serves_key ON organisations (serves_reception_centre_id)
    WHERE serves_reception_centre_id IS NOT NULL;

-- Only a reception centre can be served.
CREATE FUNCTION organisations_check_served() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.serves_reception_centre_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM organisations WHERE id = NEW.serves_reception_centre_id AND kind = 'reception_centre'
    ) THEN
        RAISE EXCEPTION 'served organisation is not a reception centre'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'organisations_serves_reception_centre';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER organisations_check_served BEFORE INSERT OR UPDATE ON organisations
    FOR EACH ROW EXECUTE FUNCTION organisations_check_served();

CREATE TABLE users (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    email text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role text NOT NULL CHECK (role IN ('admin', 'centre_staff', 'career_counsellor', 'municipality_staff')),
    -- NULL until the user sets a password through a setup link.
    password_hash text,
    active boolean NOT NULL DEFAULT true,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz,
    deactivated_at timestamptz
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_organisation_idx ON users (organisation_id, lower(name), id);

-- The role must fit the organisation's kind; the API checks it too, this is the second wall.
CREATE FUNCTION users_check_role_fits() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE k text;
BEGIN
    SELECT kind INTO k FROM organisations WHERE id = NEW.organisation_id;
    IF NOT (NEW.role = 'admin'
            OR (NEW.role = 'centre_staff' AND k = 'reception_centre')
            OR (NEW.role = 'career_counsellor' AND k = 'career_centre')
            OR (NEW.role = 'municipality_staff' AND k = 'municipality')) THEN
        RAISE EXCEPTION 'role % does not fit organisation kind %', NEW.role, k
            USING ERRCODE = 'check_violation', CONSTRAINT = 'users_role_fits_organisation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER users_check_role_fits BEFORE INSERT OR UPDATE OF role, organisation_id ON users
    FOR EACH ROW EXECUTE FUNCTION users_check_role_fits();

-- A login session: one chain of rotating refresh tokens.
CREATE TABLE sessions (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_reason text
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;

-- Refresh tokens are opaque random strings; only their SHA-256 is stored.
CREATE TABLE refresh_tokens (
    token_hash bytea PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

CREATE TABLE password_setup_tokens (
    token_hash bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX password_setup_tokens_user_idx ON password_setup_tokens (user_id);

-- Failed-login counters, per account and per client address.
CREATE TABLE login_throttle (
    key text PRIMARY KEY,
    failures integer NOT NULL,
    window_started_at timestamptz NOT NULL,
    locked_until timestamptz,
    lockouts integer NOT NULL DEFAULT 0
);

-- Append-only audit log. Never holds the data itself, passwords or tokens.
CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_user_id uuid,
    actor_org_id uuid,
    actor_role text,
    action text NOT NULL,
    target_type text,
    target_id uuid,
    outcome text NOT NULL,
    request_id text,
    client_addr text
);
CREATE INDEX audit_log_target_idx ON audit_log (target_id, at) WHERE target_id IS NOT NULL;
CREATE INDEX audit_log_actor_org_idx ON audit_log (actor_org_id, at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
