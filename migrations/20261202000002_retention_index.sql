-- The retention sweep probes each settled participant's handovers: by the open-handover index for
-- "none open", and by this one for the last closing. Without it each probe read the whole
-- handovers table (4.4 s at 10,000 participants, growing with the square of the data).
CREATE INDEX handovers_participant_idx ON handovers (participant_id, closed_at);
-- Only participants who are settled or left the programme can be due.
CREATE INDEX participants_retention_idx ON participants (updated_at)
    WHERE status IN ('settled', 'left_programme');
