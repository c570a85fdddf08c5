-- Participants, competence mapping, Norwegian training, programme elements, placements, history.

CREATE TABLE participants (
    id uuid PRIMARY KEY,
    reception_centre_id uuid NOT NULL REFERENCES organisations (id),
    given_name text NOT NULL CHECK (length(given_name) BETWEEN 1 AND 200),
    family_name text NOT NULL CHECK (length(family_name) BETWEEN 1 AND 200),
    date_of_birth date NOT NULL,
    -- Never in URLs or logs; looked up only through a request body.
    duf_number text CHECK (duf_number ~ '^[0-9]{12}$'),
    d_number text CHECK (d_number ~ '^[0-9]{11}$'),
    languages jsonb NOT NULL DEFAULT '[]',
    interpreter_language text,
    arrival_date date NOT NULL,
    programme_start date,
    programme_end date,
    status text NOT NULL CHECK (status IN ('in_programme', 'settled', 'left_programme')),
    notes text NOT NULL DEFAULT '' CHECK (length(notes) <= 4000),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT participants_identifier_required CHECK (duf_number IS NOT NULL OR d_number IS NOT NULL),
    CONSTRAINT participants_programme_period CHECK (programme_end IS NULL OR programme_start IS NULL OR programme_end >= programme_start)
);
CREATE UNIQUE INDEX participants_duf_number_key ON participants (duf_number) WHERE duf_number IS NOT NULL;
CREATE UNIQUE INDEX participants_d_number_key ON participants (d_number) WHERE d_number IS NOT NULL;
CREATE INDEX participants_centre_name_idx ON participants (reception_centre_id, lower(family_name), lower(given_name), id);
CREATE INDEX participants_centre_arrival_idx ON participants (reception_centre_id, arrival_date);

-- Competence mapping (integreringsloven § 6): one per participant.
CREATE TABLE competence_mappings (
    participant_id uuid PRIMARY KEY REFERENCES participants (id) ON DELETE CASCADE,
    data jsonb NOT NULL,
    mapped_on date NOT NULL,
    mapped_by uuid REFERENCES users (id) ON DELETE SET NULL,
    mapped_by_name text NOT NULL,
    version integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Norwegian training: CEFR level per skill, test results, course hours.
CREATE TABLE norwegian_training (
    participant_id uuid PRIMARY KEY REFERENCES participants (id) ON DELETE CASCADE,
    data jsonb NOT NULL,
    version integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE programme_elements (
    id uuid PRIMARY KEY,
    participant_id uuid NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    kind text NOT NULL,
    title text,
    start_date date NOT NULL,
    end_date date,
    hours_planned double precision NOT NULL CHECK (hours_planned BETWEEN 0 AND 2000),
    hours_attended double precision NOT NULL CHECK (hours_attended BETWEEN 0 AND 2000),
    language_of_instruction text,
    outcome text,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT programme_elements_period CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX programme_elements_participant_idx ON programme_elements (participant_id, start_date, id);

CREATE TABLE placements (
    id uuid PRIMARY KEY,
    participant_id uuid NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    kind text NOT NULL,
    employer_name text NOT NULL,
    start_date date NOT NULL,
    end_date date,
    hours double precision NOT NULL CHECK (hours BETWEEN 0 AND 2000),
    tasks text NOT NULL,
    employer_feedback text,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT placements_period CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX placements_participant_idx ON placements (participant_id, start_date, id);

-- Who changed which part of the record when (field names only, never values).
CREATE TABLE record_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    participant_id uuid NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    actor_name text NOT NULL,
    section text NOT NULL,
    record_id uuid NOT NULL,
    operation text NOT NULL CHECK (operation IN ('create', 'update', 'delete')),
    fields text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX record_changes_participant_idx ON record_changes (participant_id, at DESC);
