-- Dead letters handled by the operator without SQL (issue 20): a dead-lettered e-mail is
-- queued again (status back to pending, attempts from zero) or discarded. A discarded one
-- keeps its row (so its dedupe key is not sent again by a later enqueue) but loses its body.
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check
    CHECK (status IN ('pending', 'sent', 'dead', 'discarded'));
ALTER TABLE outbox
    ADD COLUMN handled_at timestamptz,
    ADD COLUMN handled_by uuid REFERENCES users (id) ON DELETE SET NULL;
CREATE INDEX outbox_dead_idx ON outbox (id) WHERE status = 'dead';
