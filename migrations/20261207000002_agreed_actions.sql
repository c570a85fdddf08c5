-- The actions agreed in a conversation's minutes, each followed up by the organisation
-- responsible for it: open, done, or dropped with a reason. The minutes keep the actions as
-- recorded; this table keeps where each one stands.
CREATE TABLE agreed_actions (
    id uuid PRIMARY KEY,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    position integer NOT NULL CHECK (position >= 0),
    description text NOT NULL,
    responsible_organisation_id uuid NOT NULL REFERENCES organisations (id),
    due_date date,
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'dropped')),
    drop_reason text,
    status_changed_at timestamptz,
    status_changed_by_name text,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_id, position),
    CHECK ((status = 'dropped') = (drop_reason IS NOT NULL))
);
-- The start page's overdue list and the organisation's list of open actions.
CREATE INDEX agreed_actions_open_idx ON agreed_actions (responsible_organisation_id, due_date)
    WHERE status = 'open';
CREATE INDEX agreed_actions_org_idx ON agreed_actions (responsible_organisation_id, created_at DESC);

-- Minutes recorded before this table existed: their actions start open.
INSERT INTO agreed_actions (id, conversation_id, position, description, responsible_organisation_id,
                            due_date, created_at)
SELECT gen_random_uuid(), c.id, (a.ord - 1)::integer, a.value ->> 'description',
       (a.value ->> 'responsible_organisation_id')::uuid, (a.value ->> 'due_date')::date,
       COALESCE(c.minutes_at, now())
FROM conversations c
CROSS JOIN LATERAL jsonb_array_elements(c.minutes -> 'actions') WITH ORDINALITY AS a (value, ord)
WHERE c.minutes IS NOT NULL AND jsonb_typeof(c.minutes -> 'actions') = 'array';
