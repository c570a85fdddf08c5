-- Single sign-on through the organisation's own OpenID Connect provider (issue 19): Entra ID,
-- Ansattporten or any other certified provider.
--
-- One provider per organisation. The client secret is never stored here: `client_secret_file`
-- names a file in the directory the operator gives the service (HANDOVER_SSO_SECRETS_DIR), so
-- the secret lives where the operator's other secrets live and never passes through the API.
-- `passwords_allowed = false` turns the local password sign-in off for the organisation's
-- users (the operator organisation can never turn it off: the service must not be locked out
-- by a provider).
CREATE TABLE identity_providers (
    org_id uuid PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
    issuer text NOT NULL,
    client_id text NOT NULL,
    client_secret_file text,
    scopes text[] NOT NULL,
    subject_claim text NOT NULL,
    email_claim text NOT NULL,
    acr_values text[] NOT NULL,
    require_mfa boolean NOT NULL,
    passwords_allowed boolean NOT NULL,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The e-mail domains whose users the sign-in page sends to the provider (home realm discovery
-- by domain, so the page never tells whether an address has an account). A domain belongs to
-- one organisation.
CREATE TABLE identity_provider_domains (
    domain text PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES identity_providers (org_id) ON DELETE CASCADE
);
CREATE INDEX identity_provider_domains_org ON identity_provider_domains (org_id);

-- Which person at the provider a user is, once linked at the first sign-in (by the e-mail
-- claim). Unlinked when the provider's issuer changes.
CREATE TABLE user_identities (
    org_id uuid NOT NULL REFERENCES identity_providers (org_id) ON DELETE CASCADE,
    subject text NOT NULL,
    user_id uuid NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, subject)
);

-- A sign-in sent to the provider and not yet back: the `state` (only its SHA-256), the
-- `nonce` the ID token must carry and the PKCE verifier. Used once: the callback deletes it.
CREATE TABLE sso_logins (
    state_hash bytea PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES identity_providers (org_id) ON DELETE CASCADE,
    nonce text NOT NULL,
    pkce_verifier text NOT NULL,
    next text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sso_logins_expiry ON sso_logins (expires_at);

-- A session started by the provider remembers the provider's subject and session id, so a
-- back-channel logout from the provider ends exactly those sessions.
ALTER TABLE sessions
    ADD COLUMN sso_org_id uuid REFERENCES identity_providers (org_id) ON DELETE SET NULL,
    ADD COLUMN sso_subject text,
    ADD COLUMN sso_sid text;
CREATE INDEX sessions_sso ON sessions (sso_org_id, sso_subject) WHERE sso_org_id IS NOT NULL;
