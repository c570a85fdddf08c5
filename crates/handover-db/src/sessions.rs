//! Login sessions and their chains of rotating refresh tokens, and one-time password-setup tokens.
//!
//! Tokens are random; only their SHA-256 is stored, so a database leak yields no usable token.

use crate::error::DbResult;
use handover_domain::UserId;
use sqlx::{PgConnection, PgExecutor};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub async fn create(
    db: &mut PgConnection,
    user: UserId,
    session_ttl: Duration,
    refresh_hash: &[u8],
    refresh_ttl: Duration,
) -> DbResult<Uuid> {
    let id = Uuid::now_v7();
    let now = OffsetDateTime::now_utc();
    sqlx::query("INSERT INTO sessions (id, user_id, expires_at) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(user.0)
        .bind(now + session_ttl)
        .execute(&mut *db)
        .await?;
    insert_refresh(db, id, refresh_hash, now + refresh_ttl).await?;
    Ok(id)
}

/// Starts a browser session: no refresh tokens, a cookie token (its hash here) and the CSRF
/// token of its forms.
pub async fn create_web(
    db: impl PgExecutor<'_>,
    user: UserId,
    session_ttl: Duration,
    cookie_hash: &[u8],
    csrf_token: &str,
) -> DbResult<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO sessions (id, user_id, expires_at, cookie_hash, csrf_token)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(user.0)
    .bind(OffsetDateTime::now_utc() + session_ttl)
    .bind(cookie_hash)
    .bind(csrf_token)
    .execute(db)
    .await?;
    Ok(id)
}

async fn insert_refresh(
    db: impl PgExecutor<'_>,
    session: Uuid,
    hash: &[u8],
    expires_at: OffsetDateTime,
) -> DbResult<()> {
    // A refresh token never outlives its session.
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, expires_at)
         SELECT $1, s.id, LEAST($3, s.expires_at) FROM sessions s WHERE s.id = $2",
    )
    .bind(hash)
    .bind(session)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
pub enum Rotation {
    /// The token was valid and has been replaced by the new one.
    Rotated { user_id: UserId, session_id: Uuid },
    /// The token had been used before: the whole session was revoked (token theft is likely).
    ReuseDetected { user_id: UserId, session_id: Uuid },
    /// Unknown, expired, or its session is no longer valid.
    Invalid,
}

/// Uses `old_hash` once and stores `new_hash` in the same session, atomically.
pub async fn rotate(
    db: &mut PgConnection,
    old_hash: &[u8],
    new_hash: &[u8],
    refresh_ttl: Duration,
) -> DbResult<Rotation> {
    // Lock the token row so two concurrent refreshes with the same token cannot both succeed.
    let row: Option<(Uuid, Uuid, Option<OffsetDateTime>, bool)> = sqlx::query_as(
        "SELECT s.id, s.user_id, t.used_at,
                (t.expires_at > now() AND s.revoked_at IS NULL AND s.expires_at > now()
                 AND u.active AND o.active) AS valid
         FROM refresh_tokens t
         JOIN sessions s ON s.id = t.session_id
         JOIN users u ON u.id = s.user_id
         JOIN organisations o ON o.id = u.organisation_id
         WHERE t.token_hash = $1
         FOR UPDATE OF t",
    )
    .bind(old_hash)
    .fetch_optional(&mut *db)
    .await?;
    let Some((session_id, user_id, used_at, valid)) = row else {
        return Ok(Rotation::Invalid);
    };
    let user_id = UserId(user_id);
    if used_at.is_some() {
        revoke(&mut *db, session_id, "refresh_token_reuse").await?;
        return Ok(Rotation::ReuseDetected {
            user_id,
            session_id,
        });
    }
    if !valid {
        return Ok(Rotation::Invalid);
    }
    sqlx::query("UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1")
        .bind(old_hash)
        .execute(&mut *db)
        .await?;
    insert_refresh(
        &mut *db,
        session_id,
        new_hash,
        OffsetDateTime::now_utc() + refresh_ttl,
    )
    .await?;
    Ok(Rotation::Rotated {
        user_id,
        session_id,
    })
}

pub async fn revoke(db: impl PgExecutor<'_>, session: Uuid, reason: &str) -> DbResult<()> {
    sqlx::query(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = $2
         WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(session)
    .bind(reason)
    .execute(db)
    .await?;
    Ok(())
}

/// Revokes every session of a user (deactivation, password change).
pub async fn revoke_all(
    db: impl PgExecutor<'_>,
    user: UserId,
    reason: &str,
    except: Option<Uuid>,
) -> DbResult<u64> {
    let r = sqlx::query(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = $2
         WHERE user_id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR id <> $3)",
    )
    .bind(user.0)
    .bind(reason)
    .bind(except)
    .execute(db)
    .await?;
    Ok(r.rows_affected())
}

/// Revokes every session of every user of an organisation (organisation deactivated).
pub async fn revoke_org(
    db: impl PgExecutor<'_>,
    org: handover_domain::OrgId,
    reason: &str,
) -> DbResult<u64> {
    let r = sqlx::query(
        "UPDATE sessions s SET revoked_at = now(), revoked_reason = $2
         FROM users u WHERE u.id = s.user_id AND u.organisation_id = $1 AND s.revoked_at IS NULL",
    )
    .bind(org.0)
    .bind(reason)
    .execute(db)
    .await?;
    Ok(r.rows_affected())
}

pub async fn create_password_setup(
    db: impl PgExecutor<'_>,
    user: UserId,
    created_by: Option<UserId>,
    hash: &[u8],
    expires_at: OffsetDateTime,
) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO password_setup_tokens (token_hash, user_id, created_by, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(hash)
    .bind(user.0)
    .bind(created_by.map(|u| u.0))
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Marks a setup token used and returns its user, if it was valid; older unused tokens of the
/// same user are spent too, so only the newest link ever works.
pub async fn consume_password_setup(
    db: &mut PgConnection,
    hash: &[u8],
) -> DbResult<Option<UserId>> {
    let user: Option<Uuid> = sqlx::query_scalar(
        "UPDATE password_setup_tokens t SET used_at = now()
         FROM users u
         WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > now()
           AND u.id = t.user_id AND u.active
         RETURNING t.user_id",
    )
    .bind(hash)
    .fetch_optional(&mut *db)
    .await?;
    if let Some(u) = user {
        sqlx::query(
            "UPDATE password_setup_tokens SET used_at = now() WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(u)
        .execute(&mut *db)
        .await?;
    }
    Ok(user.map(UserId))
}

/// Removes expired tokens and sessions long past their end. Run periodically.
pub async fn purge_expired(db: impl PgExecutor<'_>) -> DbResult<u64> {
    let r = sqlx::query(
        "WITH t AS (DELETE FROM password_setup_tokens WHERE expires_at < now() - interval '30 days'),
              s AS (DELETE FROM sessions WHERE expires_at < now() - interval '30 days' RETURNING 1)
         SELECT count(*) FROM s",
    )
    .execute(db)
    .await?;
    Ok(r.rows_affected())
}

/// The user a setup token belongs to, without spending it (to check the new password first).
pub async fn peek_password_setup(
    db: impl PgExecutor<'_>,
    hash: &[u8],
) -> DbResult<Option<(UserId, String)>> {
    let row: Option<(Uuid, String)> = sqlx::query_as(
        "SELECT u.id, u.email FROM password_setup_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > now() AND u.active",
    )
    .bind(hash)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id, email)| (UserId(id), email)))
}

/// Spends every unused setup token of a user (after an e-mail change: a link sent to the old
/// address must not work any longer).
pub async fn spend_password_setups(db: impl PgExecutor<'_>, user: UserId) -> DbResult<u64> {
    let r = sqlx::query(
        "UPDATE password_setup_tokens SET used_at = now() WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user.0)
    .execute(db)
    .await?;
    Ok(r.rows_affected())
}
