-- The directorate (IMDi) as an organisation kind, with a staff role that sees aggregated
-- figures only.
ALTER TABLE organisations DROP CONSTRAINT organisations_kind_check;
ALTER TABLE organisations ADD CONSTRAINT organisations_kind_check
    CHECK (kind IN ('operator', 'reception_centre', 'career_centre', 'municipality', 'directorate'));
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'centre_staff', 'career_counsellor', 'municipality_staff', 'directorate_staff'));

CREATE OR REPLACE FUNCTION users_check_role_fits() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE k text;
BEGIN
    SELECT kind INTO k FROM organisations WHERE id = NEW.organisation_id;
    IF NOT (NEW.role = 'admin'
            OR (NEW.role = 'centre_staff' AND k = 'reception_centre')
            OR (NEW.role = 'career_counsellor' AND k = 'career_centre')
            OR (NEW.role = 'municipality_staff' AND k = 'municipality')
            OR (NEW.role = 'directorate_staff' AND k = 'directorate')) THEN
        RAISE EXCEPTION 'role % does not fit organisation kind %', NEW.role, k
            USING ERRCODE = 'check_violation', CONSTRAINT = 'users_role_fits_organisation';
    END IF;
    RETURN NEW;
END $$;
