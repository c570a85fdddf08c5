//! Idempotency keys: the first answer to a (user, key), stored in the transaction that made it.
//!
//! The claim is an insert on the primary key inside the creating transaction. A concurrent
//! duplicate blocks on the unique index until the first transaction ends: after a commit it finds
//! the stored answer, after a rollback it claims the key itself. An expired row is taken over by
//! the next claim, so an answer is replayed only until it expires.

use crate::error::DbResult;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

/// How long an answer is replayed.
pub const TTL_HOURS: i32 = 24;

/// The key, the operation it was used for and the request's fingerprint.
#[derive(Debug, Clone)]
pub struct Claim<'a> {
    pub user: Uuid,
    pub key: &'a str,
    pub operation: &'a str,
    pub fingerprint: &'a [u8],
    /// Whose data the answer holds (removed with the participant).
    pub participant: Option<Uuid>,
}

/// A stored answer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stored {
    pub operation: String,
    pub fingerprint: Vec<u8>,
    pub status: i16,
    pub body: Vec<u8>,
    pub location: Option<String>,
    pub etag: Option<String>,
    pub created_at: OffsetDateTime,
}

/// The answer stored for this user and key, unless it has expired.
pub async fn find(db: impl PgExecutor<'_>, user: Uuid, key: &str) -> DbResult<Option<Stored>> {
    Ok(sqlx::query_as::<_, Stored>(
        "SELECT operation, fingerprint, status, body, location, etag, created_at
         FROM idempotency_keys
         WHERE user_id = $1 AND key = $2 AND expires_at > now() AND status IS NOT NULL",
    )
    .bind(user)
    .bind(key)
    .fetch_optional(db)
    .await?)
}

/// Claims the key in the caller's transaction. `true`: ours, do the work and [`store`] the answer
/// before committing. `false`: another request holds it; read its answer with [`find`] (waits for
/// a concurrent claimant to finish first, on the index).
pub async fn claim(tx: &mut PgConnection, c: &Claim<'_>) -> DbResult<bool> {
    let ours: Option<bool> = sqlx::query_scalar(
        "INSERT INTO idempotency_keys (user_id, key, operation, fingerprint, participant_id, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(hours => $6))
         ON CONFLICT (user_id, key) DO UPDATE
            SET operation = EXCLUDED.operation, fingerprint = EXCLUDED.fingerprint,
                participant_id = EXCLUDED.participant_id, status = NULL, body = NULL,
                location = NULL, etag = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
            WHERE idempotency_keys.expires_at <= now()
         RETURNING true",
    )
    .bind(c.user)
    .bind(c.key)
    .bind(c.operation)
    .bind(c.fingerprint)
    .bind(c.participant)
    .bind(TTL_HOURS)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(ours.is_some())
}

/// Records the answer to a claimed key, in the claiming transaction.
pub async fn store(
    tx: &mut PgConnection,
    user: Uuid,
    key: &str,
    status: u16,
    body: &[u8],
    location: Option<&str>,
    etag: Option<&str>,
) -> DbResult<()> {
    sqlx::query(
        "UPDATE idempotency_keys SET status = $3, body = $4, location = $5, etag = $6
         WHERE user_id = $1 AND key = $2",
    )
    .bind(user)
    .bind(key)
    .bind(i16::try_from(status).unwrap_or(i16::MAX))
    .bind(body)
    .bind(location)
    .bind(etag)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Deletes expired keys (housekeeping). Returns how many.
pub async fn purge_expired(db: impl PgExecutor<'_>) -> DbResult<u64> {
    let r = sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= now()")
        .execute(db)
        .await?;
    Ok(r.rows_affected())
}
