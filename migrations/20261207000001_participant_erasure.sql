-- Erasure at a participant's request before the retention date (GDPR art. 17): the centre's
-- documentation of each one. It holds no personal data: the participant's id (as the audit log
-- keeps it), the ground and dates, never a name, a number or what was erased.
CREATE TABLE participant_erasures (
    id uuid PRIMARY KEY,
    -- No foreign key: the participant is gone.
    participant_id uuid NOT NULL UNIQUE,
    reception_centre_id uuid NOT NULL REFERENCES organisations (id),
    ground text NOT NULL CHECK (ground IN ('no_longer_necessary', 'consent_withdrawn', 'objection',
                                           'unlawfully_processed', 'legal_obligation')),
    request_received_on date NOT NULL,
    erased_at timestamptz NOT NULL DEFAULT now(),
    erased_by uuid REFERENCES users (id) ON DELETE SET NULL,
    -- How many handover files were withdrawn from municipalities, and how many addresses told.
    handovers_withdrawn integer NOT NULL CHECK (handovers_withdrawn >= 0),
    recipients_notified integer NOT NULL CHECK (recipients_notified >= 0)
);
CREATE INDEX participant_erasures_centre_idx ON participant_erasures (reception_centre_id, erased_at DESC);
