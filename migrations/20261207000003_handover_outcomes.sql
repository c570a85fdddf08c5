-- What came of a handover, as the municipality reports it after settlement: the date the
-- integration plan was decided and the end goal chosen. No free text, so the outcome adds no
-- personal details; it goes with its handover (erasure, retention).
CREATE TABLE handover_outcomes (
    handover_id uuid PRIMARY KEY REFERENCES handovers (id) ON DELETE CASCADE,
    integration_plan_decided_on date NOT NULL,
    end_goal text NOT NULL CHECK (end_goal IN ('work', 'education', 'other')),
    recorded_by uuid REFERENCES users (id) ON DELETE SET NULL,
    recorded_by_name text NOT NULL,
    version integer NOT NULL DEFAULT 1,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
