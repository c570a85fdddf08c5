-- The staff member who proposed a conversation: the ORGANIZER of its calendar invitations, so a
-- reply to an invitation reaches a person (the service sends on their behalf, SENT-BY). NULL
-- for conversations proposed before this column existed: their invitations keep the service's
-- address as organiser and ask for no reply.
ALTER TABLE conversations ADD COLUMN proposed_by_user uuid REFERENCES users (id) ON DELETE SET NULL;
