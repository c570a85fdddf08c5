-- Settlement, consent, health and adaptation needs, handovers with frozen file versions,
-- their state history and openings, and the e-mail outbox.

CREATE TABLE settlements (
    participant_id uuid PRIMARY KEY REFERENCES participants (id) ON DELETE CASCADE,
    municipality_id uuid NOT NULL REFERENCES organisations (id),
    settlement_date date NOT NULL,
    contacts jsonb NOT NULL DEFAULT '[]',
    recorded_by uuid REFERENCES users (id) ON DELETE SET NULL,
    version integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE consents (
    id uuid PRIMARY KEY,
    participant_id uuid NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    -- Sections the participant agreed to share; empty means the participant said no.
    sections text[] NOT NULL,
    given_on date NOT NULL,
    method text NOT NULL,
    language text NOT NULL,
    interpreter_present boolean NOT NULL,
    recorded_by uuid REFERENCES users (id) ON DELETE SET NULL,
    recorded_by_name text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    withdrawn_at timestamptz,
    withdrawn_by_name text,
    withdrawal_note text
);
CREATE INDEX consents_participant_idx ON consents (participant_id, recorded_at);

CREATE TABLE adaptation_needs (
    participant_id uuid PRIMARY KEY REFERENCES participants (id) ON DELETE CASCADE,
    data jsonb NOT NULL,
    version integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE handovers (
    id uuid PRIMARY KEY,
    reference text NOT NULL UNIQUE,
    participant_id uuid NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    reception_centre_id uuid NOT NULL REFERENCES organisations (id),
    municipality_id uuid NOT NULL REFERENCES organisations (id),
    state text NOT NULL CHECK (state IN ('draft', 'sent', 'received', 'accepted', 'conversation_scheduled',
                                         'completed', 'cancelled', 'declined')),
    -- Copied from the latest sent file, so the inbox needs no JSON digging.
    participant_display_name text,
    settlement_date date,
    latest_file_version integer NOT NULL DEFAULT 0,
    sent_at timestamptz,
    -- The latest version the municipality has opened.
    recipient_opened_version integer NOT NULL DEFAULT 0,
    closed_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- One open handover per participant.
CREATE UNIQUE INDEX handovers_one_open ON handovers (participant_id)
    WHERE state NOT IN ('completed', 'cancelled', 'declined');
CREATE INDEX handovers_inbox_idx ON handovers (municipality_id, state, sent_at DESC, id) WHERE state <> 'draft';
CREATE INDEX handovers_centre_idx ON handovers (reception_centre_id, updated_at DESC, id);
CREATE SEQUENCE handover_reference_seq;

CREATE TABLE handover_files (
    handover_id uuid NOT NULL REFERENCES handovers (id) ON DELETE CASCADE,
    file_version integer NOT NULL,
    snapshot jsonb NOT NULL,
    -- Per section a hash of its content, to tell the recipient what changed between versions.
    section_hashes jsonb NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT now(),
    sent_by uuid REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (handover_id, file_version)
);

CREATE TABLE handover_transitions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    handover_id uuid NOT NULL REFERENCES handovers (id) ON DELETE CASCADE,
    from_state text,
    to_state text NOT NULL,
    event text NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    actor_name text NOT NULL,
    actor_org_id uuid REFERENCES organisations (id),
    reason text
);
CREATE INDEX handover_transitions_idx ON handover_transitions (handover_id, id);

CREATE TABLE handover_opens (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    handover_id uuid NOT NULL REFERENCES handovers (id) ON DELETE CASCADE,
    file_version integer NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    user_name text NOT NULL,
    org_id uuid REFERENCES organisations (id)
);
CREATE INDEX handover_opens_idx ON handover_opens (handover_id, id);

-- Transactional outbox: rows are written with the state change they announce and delivered by
-- workers that claim them with a lease.
CREATE TABLE outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Makes enqueueing idempotent (e.g. "handover <id> v2 sent to <user>").
    dedupe_key text NOT NULL UNIQUE,
    to_address text NOT NULL,
    subject text NOT NULL,
    body_text text NOT NULL,
    -- Optional calendar part (text/calendar), with its METHOD.
    ics text,
    ics_method text,
    participant_id uuid REFERENCES participants (id) ON DELETE CASCADE,
    handover_id uuid REFERENCES handovers (id) ON DELETE CASCADE,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz,
    locked_by text,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at, id) WHERE status = 'pending';
