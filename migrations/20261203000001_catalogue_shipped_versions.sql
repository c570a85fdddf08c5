-- Which offering versions the service's own shipped catalogue wrote. An offering whose every
-- version is shipped has never been changed by an administrator, so a release that corrects
-- the shipped facts (issue 22: sources, corrections) may bring it up to date with a new
-- version; one an administrator has touched is left as they keep it. `changed_by` cannot tell
-- the two apart: it becomes NULL when the administrator's account is deleted.
ALTER TABLE catalogue_offering_versions ADD COLUMN shipped boolean NOT NULL DEFAULT false;
UPDATE catalogue_offering_versions SET shipped = true WHERE version = 1 AND changed_by IS NULL;
