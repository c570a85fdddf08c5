-- Transfer conversations: proposals with candidate slots, confirmed bookings that no internal
-- attendee can have twice at once (exclusion constraint), minutes, reminders.

CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE conversations (
    id uuid PRIMARY KEY,
    handover_id uuid NOT NULL REFERENCES handovers (id) ON DELETE CASCADE,
    state text NOT NULL CHECK (state IN ('proposed', 'confirmed', 'held', 'no_show', 'cancelled')),
    proposed_by_org uuid NOT NULL REFERENCES organisations (id),
    mode text NOT NULL CHECK (mode IN ('video', 'phone', 'in_person')),
    video_link text,
    phone_number text,
    address text,
    external_attendees jsonb NOT NULL DEFAULT '[]',
    confirmed_start timestamptz,
    confirmed_minutes integer,
    calendar_sequence integer NOT NULL DEFAULT 0,
    cancel_reason text,
    minutes jsonb,
    minutes_by_name text,
    minutes_at timestamptz,
    -- The start time a reminder was sent for (a reschedule makes a new reminder due).
    reminded_for timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT conversations_confirmed_has_time CHECK (state = 'proposed' OR state = 'cancelled' OR confirmed_start IS NOT NULL)
);
-- One live conversation per handover.
CREATE UNIQUE INDEX conversations_one_live ON conversations (handover_id) WHERE state IN ('proposed', 'confirmed');
CREATE INDEX conversations_upcoming_idx ON conversations (confirmed_start) WHERE state = 'confirmed';

CREATE TABLE conversation_slots (
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    position integer NOT NULL,
    starts_at timestamptz NOT NULL,
    minutes integer NOT NULL CHECK (minutes BETWEEN 15 AND 480),
    PRIMARY KEY (conversation_id, position)
);

CREATE TABLE conversation_attendees (
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id),
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_attendees_user_idx ON conversation_attendees (user_id);

-- The time each internal attendee is booked. Two bookings of one user cannot overlap, whatever
-- the number of concurrent requests: the database refuses the second.
CREATE TABLE conversation_bookings (
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id),
    during tstzrange NOT NULL,
    PRIMARY KEY (conversation_id, user_id),
    CONSTRAINT conversation_bookings_no_overlap EXCLUDE USING gist (user_id WITH =, during WITH &&)
);
