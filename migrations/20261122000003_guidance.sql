-- The qualification-pathway catalogue (versioned, retired but never deleted while referenced)
-- and career-guidance summaries (drafts, then immutable final versions that supersede each other).

CREATE TABLE catalogue_offerings (
    id uuid PRIMARY KEY,
    key text NOT NULL UNIQUE,
    grp text NOT NULL,
    data jsonb NOT NULL,
    version integer NOT NULL DEFAULT 1,
    retired_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX catalogue_offerings_group_idx ON catalogue_offerings (grp, key);

-- Every version of every offering, so a summary shows the offering as it was recommended.
CREATE TABLE catalogue_offering_versions (
    offering_id uuid NOT NULL REFERENCES catalogue_offerings (id),
    version integer NOT NULL,
    data jsonb NOT NULL,
    retired boolean NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    changed_by uuid REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (offering_id, version)
);

CREATE TABLE guidance_summaries (
    id uuid PRIMARY KEY,
    participant_id uuid NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    career_centre_id uuid NOT NULL REFERENCES organisations (id),
    author_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    author_name text NOT NULL,
    status text NOT NULL CHECK (status IN ('draft', 'final')),
    content jsonb NOT NULL,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    finalised_at timestamptz,
    finalised_by uuid REFERENCES users (id) ON DELETE SET NULL,
    superseded_by uuid REFERENCES guidance_summaries (id),
    CONSTRAINT guidance_summaries_final_has_time CHECK ((status = 'final') = (finalised_at IS NOT NULL))
);
-- One open draft per participant, and one current (not superseded) final summary.
CREATE UNIQUE INDEX guidance_summaries_one_draft ON guidance_summaries (participant_id) WHERE status = 'draft';
CREATE UNIQUE INDEX guidance_summaries_one_current ON guidance_summaries (participant_id)
    WHERE status = 'final' AND superseded_by IS NULL;
CREATE INDEX guidance_summaries_participant_idx ON guidance_summaries (participant_id, created_at);

CREATE TABLE guidance_pathway_steps (
    summary_id uuid NOT NULL REFERENCES guidance_summaries (id) ON DELETE CASCADE,
    position integer NOT NULL CHECK (position >= 0),
    -- No ON DELETE: an offering cannot be deleted while a summary references it.
    offering_id uuid NOT NULL REFERENCES catalogue_offerings (id),
    offering_version integer NOT NULL,
    reason text NOT NULL,
    PRIMARY KEY (summary_id, position),
    FOREIGN KEY (offering_id, offering_version) REFERENCES catalogue_offering_versions (offering_id, version)
);
CREATE INDEX guidance_pathway_steps_offering_idx ON guidance_pathway_steps (offering_id);

-- Administrators' deletions of shipped offerings, so start-up does not bring them back.
CREATE TABLE catalogue_deleted_keys (
    key text PRIMARY KEY,
    deleted_at timestamptz NOT NULL DEFAULT now(),
    deleted_by uuid REFERENCES users (id) ON DELETE SET NULL
);

-- A final summary is immutable; only the pointer to the summary that supersedes it may be set,
-- once, to a later summary of the same participant. (Account ids may become NULL if an account
-- is ever deleted.)
CREATE FUNCTION guidance_summaries_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'final' AND (
        NEW.content IS DISTINCT FROM OLD.content OR NEW.status IS DISTINCT FROM OLD.status
        OR NEW.participant_id IS DISTINCT FROM OLD.participant_id
        OR NEW.career_centre_id IS DISTINCT FROM OLD.career_centre_id
        OR NEW.author_name IS DISTINCT FROM OLD.author_name
        OR (NEW.author_user_id IS DISTINCT FROM OLD.author_user_id AND NEW.author_user_id IS NOT NULL)
        OR (NEW.finalised_by IS DISTINCT FROM OLD.finalised_by AND NEW.finalised_by IS NOT NULL)
        OR NEW.created_at IS DISTINCT FROM OLD.created_at
        OR NEW.finalised_at IS DISTINCT FROM OLD.finalised_at
        OR NEW.version IS DISTINCT FROM OLD.version
        OR (OLD.superseded_by IS NOT NULL AND NEW.superseded_by IS DISTINCT FROM OLD.superseded_by)
        OR (OLD.superseded_by IS NULL AND NEW.superseded_by IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM guidance_summaries s
                WHERE s.id = NEW.superseded_by AND s.id <> OLD.id
                  AND s.participant_id = OLD.participant_id AND s.created_at >= OLD.created_at))
    ) THEN
        RAISE EXCEPTION 'a final guidance summary cannot be changed'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'guidance_summaries_immutable';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER guidance_summaries_immutable BEFORE UPDATE ON guidance_summaries
    FOR EACH ROW EXECUTE FUNCTION guidance_summaries_immutable();

-- The pathway of a final summary cannot change either. Deleting the whole summary (only when the
-- participant's data is deleted) is allowed: the summary row is then already gone.
CREATE FUNCTION guidance_steps_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE sid uuid;
BEGIN
    sid := CASE WHEN TG_OP = 'DELETE' THEN OLD.summary_id ELSE NEW.summary_id END;
    IF EXISTS (SELECT 1 FROM guidance_summaries WHERE id = sid AND status = 'final')
       OR (TG_OP = 'UPDATE' AND EXISTS (SELECT 1 FROM guidance_summaries WHERE id = OLD.summary_id AND status = 'final')) THEN
        RAISE EXCEPTION 'the pathway of a final guidance summary cannot be changed'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'guidance_summaries_immutable';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER guidance_steps_immutable BEFORE INSERT OR UPDATE OR DELETE ON guidance_pathway_steps
    FOR EACH ROW EXECUTE FUNCTION guidance_steps_immutable();
