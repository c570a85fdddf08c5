-- A message that carries a one-time secret (a password-setup link) loses its body once it is
-- sent: nobody reading the outbox later, an operator included, can use the link.
ALTER TABLE outbox ADD COLUMN secret boolean NOT NULL DEFAULT false;
