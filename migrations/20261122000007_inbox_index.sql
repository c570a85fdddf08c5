-- The municipality's inbox, newest first: an index that matches its filter and order.
CREATE INDEX handovers_inbox_sent_idx ON handovers (municipality_id, sent_at DESC, created_at DESC, id)
    WHERE latest_file_version > 0;
DROP INDEX IF EXISTS handovers_inbox_idx;
