-- A list answer is audited as one row naming every participant shown, instead of a row each:
-- the same record of who saw whom, at one insert per request.
ALTER TABLE audit_log ADD COLUMN target_ids uuid[];
CREATE INDEX audit_log_target_ids_idx ON audit_log USING gin (target_ids) WHERE target_ids IS NOT NULL;
