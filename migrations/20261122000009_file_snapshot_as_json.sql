-- A file version is a frozen document that is only ever read whole. Stored as `json` (its text)
-- rather than `jsonb`, reading it costs a copy instead of a conversion back to text: the bundle
-- query of a file fetch ran about 30% faster (pgbench, docs/performance.md). The one statement
-- that edits a stored file (removing content after a consent withdrawal) casts to jsonb.
ALTER TABLE handover_files ALTER COLUMN snapshot TYPE json USING snapshot::json;
