//! Single sign-on: an organisation's identity provider, its e-mail domains, the link between a
//! user and the provider's subject, and the sign-ins on their way through the provider
//! (migration `20261204000001_single_sign_on.sql`).

use crate::error::DbResult;
use handover_domain::{OrgId, UserId};
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

/// An organisation's identity provider as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Provider {
    pub org_id: Uuid,
    pub issuer: String,
    pub client_id: String,
    pub client_secret_file: Option<String>,
    pub scopes: Vec<String>,
    pub subject_claim: String,
    pub email_claim: String,
    pub acr_values: Vec<String>,
    pub require_mfa: bool,
    pub passwords_allowed: bool,
    pub email_domains: Vec<String>,
    pub version: i32,
    pub updated_at: OffsetDateTime,
}

/// The settings to store (all of them: a PUT replaces the configuration).
#[derive(Debug, Clone)]
pub struct ProviderInput<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub client_secret_file: Option<&'a str>,
    pub scopes: &'a [String],
    pub subject_claim: &'a str,
    pub email_claim: &'a str,
    pub acr_values: &'a [String],
    pub require_mfa: bool,
    pub passwords_allowed: bool,
    pub email_domains: &'a [String],
}

const SELECT: &str = "SELECT p.org_id, p.issuer, p.client_id, p.client_secret_file, p.scopes,
        p.subject_claim, p.email_claim, p.acr_values, p.require_mfa, p.passwords_allowed,
        COALESCE((SELECT array_agg(d.domain ORDER BY d.domain)
                  FROM identity_provider_domains d WHERE d.org_id = p.org_id), '{}') AS email_domains,
        p.version, p.updated_at
     FROM identity_providers p";

pub async fn get(db: impl PgExecutor<'_>, org: OrgId) -> DbResult<Option<Provider>> {
    Ok(
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE p.org_id = $1")))
            .bind(org.0)
            .fetch_optional(db)
            .await?,
    )
}

/// The provider that signs in addresses of this domain, if one does.
pub async fn for_domain(db: impl PgExecutor<'_>, domain: &str) -> DbResult<Option<Provider>> {
    // The constant select list, no input: safe to compose.
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} JOIN identity_provider_domains dd ON dd.org_id = p.org_id
         JOIN organisations o ON o.id = p.org_id
         WHERE dd.domain = $1 AND o.active"
    )))
    .bind(domain)
    .fetch_optional(db)
    .await?)
}

/// The organisations that already own any of these domains, other than `org`.
pub async fn domains_taken(
    db: impl PgExecutor<'_>,
    org: OrgId,
    domains: &[String],
) -> DbResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT domain FROM identity_provider_domains
         WHERE domain = ANY($2) AND org_id <> $1 ORDER BY domain",
    )
    .bind(org.0)
    .bind(domains)
    .fetch_all(db)
    .await?)
}

/// Creates the configuration (`expected` None) or replaces it at the version the caller
/// edited; false when that version is no longer current (or one exists already on create).
pub async fn put(
    tx: &mut PgConnection,
    org: OrgId,
    expected: Option<i32>,
    p: &ProviderInput<'_>,
) -> DbResult<bool> {
    let stored = match expected {
        None => sqlx::query(
            "INSERT INTO identity_providers (org_id, issuer, client_id, client_secret_file, scopes,
                 subject_claim, email_claim, acr_values, require_mfa, passwords_allowed)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (org_id) DO NOTHING",
        ),
        Some(_) => sqlx::query(
            "UPDATE identity_providers SET issuer = $2, client_id = $3, client_secret_file = $4,
                 scopes = $5, subject_claim = $6, email_claim = $7, acr_values = $8,
                 require_mfa = $9, passwords_allowed = $10, version = version + 1,
                 updated_at = now()
             WHERE org_id = $1 AND version = $11",
        ),
    }
    .bind(org.0)
    .bind(p.issuer)
    .bind(p.client_id)
    .bind(p.client_secret_file)
    .bind(p.scopes)
    .bind(p.subject_claim)
    .bind(p.email_claim)
    .bind(p.acr_values)
    .bind(p.require_mfa)
    .bind(p.passwords_allowed)
    .bind(expected)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !stored {
        return Ok(false);
    }
    sqlx::query("DELETE FROM identity_provider_domains WHERE org_id = $1")
        .bind(org.0)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO identity_provider_domains (domain, org_id)
         SELECT d, $1 FROM unnest($2::text[]) AS d",
    )
    .bind(org.0)
    .bind(p.email_domains)
    .execute(&mut *tx)
    .await?;
    Ok(true)
}

/// Removes the configuration (its domains, links and pending sign-ins go with it).
pub async fn delete(db: impl PgExecutor<'_>, org: OrgId, version: i32) -> DbResult<bool> {
    Ok(
        sqlx::query("DELETE FROM identity_providers WHERE org_id = $1 AND version = $2")
            .bind(org.0)
            .bind(version)
            .execute(db)
            .await?
            .rows_affected()
            == 1,
    )
}

/// Forgets every link of the organisation's users to the provider (its issuer changed: the
/// same subject at another provider is another person).
pub async fn unlink_all(db: impl PgExecutor<'_>, org: OrgId) -> DbResult<u64> {
    Ok(sqlx::query("DELETE FROM user_identities WHERE org_id = $1")
        .bind(org.0)
        .execute(db)
        .await?
        .rows_affected())
}

/// Ends every live session the provider started for the organisation's users.
pub async fn revoke_sessions(db: impl PgExecutor<'_>, org: OrgId, reason: &str) -> DbResult<u64> {
    Ok(sqlx::query(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = $2
         WHERE sso_org_id = $1 AND revoked_at IS NULL",
    )
    .bind(org.0)
    .bind(reason)
    .execute(db)
    .await?
    .rows_affected())
}

/// Ends the live password sessions of the organisation's users (local passwords were turned
/// off).
pub async fn revoke_password_sessions(db: impl PgExecutor<'_>, org: OrgId) -> DbResult<u64> {
    Ok(sqlx::query(
        "UPDATE sessions s SET revoked_at = now(), revoked_reason = 'passwords_disabled'
         FROM users u
         WHERE u.id = s.user_id AND u.organisation_id = $1 AND s.sso_org_id IS NULL
           AND s.revoked_at IS NULL",
    )
    .bind(org.0)
    .execute(db)
    .await?
    .rows_affected())
}

/// Ends the live sessions of one person at the provider: the one provider session `sid` if
/// given, else every session of the subject. Returns the users whose sessions ended.
pub async fn revoke_by_logout(
    db: impl PgExecutor<'_>,
    org: OrgId,
    subject: Option<&str>,
    sid: Option<&str>,
) -> DbResult<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = 'provider_logout'
         WHERE sso_org_id = $1 AND revoked_at IS NULL
           AND ($2::text IS NULL OR sso_subject = $2)
           AND ($3::text IS NULL OR sso_sid = $3)
         RETURNING user_id",
    )
    .bind(org.0)
    .bind(subject)
    .bind(sid)
    .fetch_all(db)
    .await?)
}

/// The user a subject of the organisation's provider is linked to.
pub async fn linked_user(
    db: impl PgExecutor<'_>,
    org: OrgId,
    subject: &str,
) -> DbResult<Option<UserId>> {
    Ok(
        sqlx::query_scalar(
            "SELECT user_id FROM user_identities WHERE org_id = $1 AND subject = $2",
        )
        .bind(org.0)
        .bind(subject)
        .fetch_optional(db)
        .await?
        .map(UserId),
    )
}

/// Links a user to the provider's subject; false if the user is linked to another subject
/// already (a second person claiming the same e-mail address).
pub async fn link(
    db: impl PgExecutor<'_>,
    org: OrgId,
    subject: &str,
    user: UserId,
) -> DbResult<bool> {
    Ok(sqlx::query(
        "INSERT INTO user_identities (org_id, subject, user_id) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(org.0)
    .bind(subject)
    .bind(user.0)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// A sign-in on its way through the provider.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Pending {
    pub org_id: Uuid,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next: String,
}

pub async fn create_pending(
    db: &mut PgConnection,
    state_hash: &[u8],
    p: &Pending,
    expires_at: OffsetDateTime,
) -> DbResult<()> {
    // Sign-ins abandoned at the provider are cleared as new ones start.
    sqlx::query("DELETE FROM sso_logins WHERE expires_at < now()")
        .execute(&mut *db)
        .await?;
    sqlx::query(
        "INSERT INTO sso_logins (state_hash, org_id, nonce, pkce_verifier, next, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(state_hash)
    .bind(p.org_id)
    .bind(&p.nonce)
    .bind(&p.pkce_verifier)
    .bind(&p.next)
    .bind(expires_at)
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// Takes the pending sign-in of this state, once: a second callback with the same state finds
/// nothing.
pub async fn take_pending(db: impl PgExecutor<'_>, state_hash: &[u8]) -> DbResult<Option<Pending>> {
    Ok(sqlx::query_as(
        "DELETE FROM sso_logins WHERE state_hash = $1 AND expires_at > now()
         RETURNING org_id, nonce, pkce_verifier, next",
    )
    .bind(state_hash)
    .fetch_optional(db)
    .await?)
}

/// Marks a new browser session as started by the provider.
pub async fn mark_session(
    db: impl PgExecutor<'_>,
    session: Uuid,
    org: OrgId,
    subject: &str,
    sid: Option<&str>,
) -> DbResult<()> {
    sqlx::query(
        "UPDATE sessions SET sso_org_id = $2, sso_subject = $3, sso_sid = $4 WHERE id = $1",
    )
    .bind(session)
    .bind(org.0)
    .bind(subject)
    .bind(sid)
    .execute(db)
    .await?;
    Ok(())
}
