//! A user's second factor: the TOTP authenticator, its recovery codes, and the pending second
//! step of a login (migration `20261203000002_second_factor.sql`).

use crate::error::DbResult;
use handover_domain::UserId;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;

/// A user's authenticator.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Totp {
    pub secret: Vec<u8>,
    pub confirmed_at: Option<OffsetDateTime>,
    pub last_used_step: i64,
}

pub async fn totp(db: impl PgExecutor<'_>, user: UserId) -> DbResult<Option<Totp>> {
    Ok(sqlx::query_as(
        "SELECT secret, confirmed_at, last_used_step FROM user_totp WHERE user_id = $1",
    )
    .bind(user.0)
    .fetch_optional(db)
    .await?)
}

/// Whether the user has a confirmed authenticator.
pub async fn has_totp(db: impl PgExecutor<'_>, user: UserId) -> DbResult<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL)",
    )
    .bind(user.0)
    .fetch_one(db)
    .await?)
}

/// Starts (or starts again) setting up an authenticator with a new secret. Never replaces a
/// confirmed one: false then.
pub async fn begin_totp(db: impl PgExecutor<'_>, user: UserId, secret: &[u8]) -> DbResult<bool> {
    let r = sqlx::query(
        "INSERT INTO user_totp (user_id, secret) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET secret = EXCLUDED.secret, created_at = now(),
                                             last_used_step = 0
         WHERE user_totp.confirmed_at IS NULL",
    )
    .bind(user.0)
    .bind(secret)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Confirms the authenticator being set up with the step of the code it showed. False when
/// there was none being set up (confirmed meanwhile, or never begun).
pub async fn confirm_totp(db: impl PgExecutor<'_>, user: UserId, step: i64) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE user_totp SET confirmed_at = now(), last_used_step = $2
         WHERE user_id = $1 AND confirmed_at IS NULL",
    )
    .bind(user.0)
    .bind(step)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Takes the time step of an accepted code, if it is later than every step accepted before.
/// One statement, so two requests with the same code cannot both pass: the second finds the
/// step already taken.
pub async fn take_step(db: impl PgExecutor<'_>, user: UserId, step: i64) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE user_totp SET last_used_step = $2
         WHERE user_id = $1 AND confirmed_at IS NOT NULL AND last_used_step < $2",
    )
    .bind(user.0)
    .bind(step)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Removes the authenticator and the recovery codes.
pub async fn remove(db: &mut PgConnection, user: UserId) -> DbResult<bool> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user.0)
        .execute(&mut *db)
        .await?;
    let r = sqlx::query("DELETE FROM user_totp WHERE user_id = $1")
        .bind(user.0)
        .execute(&mut *db)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Replaces the user's recovery codes (the old ones stop working).
pub async fn replace_recovery_codes(
    db: &mut PgConnection,
    user: UserId,
    hashes: &[Vec<u8>],
) -> DbResult<()> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user.0)
        .execute(&mut *db)
        .await?;
    sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) SELECT $1, unnest($2::bytea[])")
        .bind(user.0)
        .bind(hashes)
        .execute(&mut *db)
        .await?;
    Ok(())
}

/// Uses up a recovery code; false when it is not one of the user's unused codes.
pub async fn use_recovery_code(
    db: impl PgExecutor<'_>,
    user: UserId,
    hash: &[u8],
) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE recovery_codes SET used_at = now()
         WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
    )
    .bind(user.0)
    .bind(hash)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn recovery_codes_left(db: impl PgExecutor<'_>, user: UserId) -> DbResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user.0)
    .fetch_one(db)
    .await?)
}

/// Whether the user must have a second factor: administrators always (they decide who may
/// see what), everyone in an organisation that requires it.
pub async fn required(db: impl PgExecutor<'_>, user: UserId) -> DbResult<bool> {
    Ok(sqlx::query_scalar::<_, bool>(
        "SELECT u.role = 'admin' OR o.require_second_factor
         FROM users u JOIN organisations o ON o.id = u.organisation_id WHERE u.id = $1",
    )
    .bind(user.0)
    .fetch_optional(db)
    .await?
    .unwrap_or(false))
}

/// Ends the sessions of the organisation's users who have no confirmed authenticator: the
/// organisation has just begun to require one, and they signed in without.
pub async fn revoke_sessions_without(
    db: impl PgExecutor<'_>,
    org: handover_domain::OrgId,
    reason: &str,
) -> DbResult<u64> {
    let r = sqlx::query(
        "UPDATE sessions s SET revoked_at = now(), revoked_reason = $2
         FROM users u
         WHERE u.id = s.user_id AND u.organisation_id = $1 AND s.revoked_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM user_totp t
                           WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL)",
    )
    .bind(org.0)
    .bind(reason)
    .execute(db)
    .await?;
    Ok(r.rows_affected())
}

/// What the second step of a login does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Check a code of the user's authenticator (or a recovery code).
    Verify,
    /// Confirm the authenticator whose key the first step handed out.
    Setup,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Verify => "verify",
            Purpose::Setup => "setup",
        }
    }
}

/// A pending second step.
pub async fn create_challenge(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    user: UserId,
    purpose: Purpose,
    expires_at: OffsetDateTime,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO login_challenges (token_hash, user_id, purpose, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(user.0)
    .bind(purpose.as_str())
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The user a live challenge is for, and what it is for.
pub async fn challenge_user(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> DbResult<Option<(UserId, Purpose)>> {
    let row: Option<(uuid::Uuid, String)> = sqlx::query_as(
        "SELECT user_id, purpose FROM login_challenges WHERE token_hash = $1 AND expires_at > now()",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id, p)| {
        let purpose = if p == "setup" {
            Purpose::Setup
        } else {
            Purpose::Verify
        };
        (UserId(id), purpose)
    }))
}

/// Counts a wrong code against the challenge; at `max_failures` the challenge is gone and the
/// password has to be given again.
pub async fn fail_challenge(
    db: &mut PgConnection,
    token_hash: &[u8],
    max_failures: i32,
) -> DbResult<()> {
    let failures: Option<i32> = sqlx::query_scalar(
        "UPDATE login_challenges SET failures = failures + 1 WHERE token_hash = $1
         RETURNING failures",
    )
    .bind(token_hash)
    .fetch_optional(&mut *db)
    .await?;
    if failures.is_some_and(|f| f >= max_failures) {
        sqlx::query("DELETE FROM login_challenges WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *db)
            .await?;
    }
    Ok(())
}

/// Ends a challenge (it was answered); the user, if it was still live.
pub async fn consume_challenge(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> DbResult<Option<UserId>> {
    let id: Option<uuid::Uuid> = sqlx::query_scalar(
        "DELETE FROM login_challenges WHERE token_hash = $1 AND expires_at > now()
         RETURNING user_id",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await?;
    Ok(id.map(UserId))
}

/// Forgets expired challenges.
pub async fn purge_challenges(db: impl PgExecutor<'_>) -> DbResult<u64> {
    let r = sqlx::query("DELETE FROM login_challenges WHERE expires_at < now()")
        .execute(db)
        .await?;
    Ok(r.rows_affected())
}
