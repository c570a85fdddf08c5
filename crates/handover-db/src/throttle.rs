//! Failed-login counters in the database, so every service instance sees the same counts.

use crate::error::DbResult;
use sqlx::PgExecutor;
use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Failures allowed within `window` before the key is locked.
    pub max_failures: i32,
    pub window: Duration,
    /// How long a key stays locked. Fixed, never growing: a lock an attacker triggers ends on
    /// its own, so nobody can be locked out for good.
    pub lock: Duration,
}

/// When the latest lock among `keys` ends, if any is locked now.
pub async fn locked_until(
    db: impl PgExecutor<'_>,
    keys: &[String],
) -> DbResult<Option<OffsetDateTime>> {
    Ok(sqlx::query_scalar(
        "SELECT max(locked_until) FROM login_throttle WHERE key = ANY($1) AND locked_until > now()",
    )
    .bind(keys)
    .fetch_one(db)
    .await?)
}

/// Counts one failure for `key`; returns when the key is now locked until, if it is.
pub async fn record_failure(
    db: impl PgExecutor<'_>,
    key: &str,
    limit: Limit,
) -> DbResult<Option<OffsetDateTime>> {
    let window_secs = limit.window.whole_seconds() as f64;
    let lock_secs = limit.lock.whole_seconds() as f64;
    // The count is taken from the conflicting row itself (`t`, locked by the upsert), never
    // from a snapshot read earlier: concurrent failures (other requests, other instances) then
    // each add one instead of overwriting each other's count.
    Ok(sqlx::query_scalar(
        "INSERT INTO login_throttle AS t (key, failures, window_started_at, locked_until, lockouts)
         VALUES ($1,
                 CASE WHEN 1 >= $3 THEN 0 ELSE 1 END,
                 now(),
                 CASE WHEN 1 >= $3 THEN now() + make_interval(secs => $4) END,
                 CASE WHEN 1 >= $3 THEN 1 ELSE 0 END)
         ON CONFLICT (key) DO UPDATE SET
            failures = CASE
                WHEN (CASE WHEN t.window_started_at < now() - make_interval(secs => $2)
                           THEN 0 ELSE t.failures END) + 1 >= $3 THEN 0
                ELSE (CASE WHEN t.window_started_at < now() - make_interval(secs => $2)
                           THEN 0 ELSE t.failures END) + 1 END,
            window_started_at = CASE
                WHEN (CASE WHEN t.window_started_at < now() - make_interval(secs => $2)
                           THEN 0 ELSE t.failures END) + 1 >= $3
                  OR t.window_started_at < now() - make_interval(secs => $2) THEN now()
                ELSE t.window_started_at END,
            locked_until = CASE
                WHEN (CASE WHEN t.window_started_at < now() - make_interval(secs => $2)
                           THEN 0 ELSE t.failures END) + 1 >= $3
                THEN now() + make_interval(secs => $4)
                ELSE t.locked_until END,
            lockouts = t.lockouts + CASE
                WHEN (CASE WHEN t.window_started_at < now() - make_interval(secs => $2)
                           THEN 0 ELSE t.failures END) + 1 >= $3 THEN 1 ELSE 0 END
         RETURNING CASE WHEN locked_until > now() THEN locked_until END",
    )
    .bind(key)
    .bind(window_secs)
    .bind(limit.max_failures)
    .bind(lock_secs)
    .fetch_one(db)
    .await?)
}

/// How long an address stays known for an account after its last successful login there.
pub const KNOWN_ADDRESS_DAYS: i32 = 30;

/// Remembers that the account logged in successfully from this address (`known:` key), so a
/// lock of the whole account does not keep its user out from there.
pub async fn mark_known(db: impl PgExecutor<'_>, key: &str) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO login_throttle (key, failures, window_started_at) VALUES ($1, 0, now())
         ON CONFLICT (key) DO UPDATE SET window_started_at = now()",
    )
    .bind(key)
    .execute(db)
    .await?;
    Ok(())
}

/// Whether the account logged in successfully from this address within the last
/// [`KNOWN_ADDRESS_DAYS`] days.
pub async fn is_known(db: impl PgExecutor<'_>, key: &str) -> DbResult<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM login_throttle
                        WHERE key = $1 AND window_started_at > now() - make_interval(days => $2))",
    )
    .bind(key)
    .bind(KNOWN_ADDRESS_DAYS)
    .fetch_one(db)
    .await?)
}

pub async fn reset(db: impl PgExecutor<'_>, key: &str) -> DbResult<()> {
    sqlx::query("DELETE FROM login_throttle WHERE key = $1")
        .bind(key)
        .execute(db)
        .await?;
    Ok(())
}

/// Forgets counters whose window and lock are long over, and known addresses not used for
/// [`KNOWN_ADDRESS_DAYS`] days.
pub async fn purge(db: impl PgExecutor<'_>) -> DbResult<u64> {
    let r = sqlx::query(
        "DELETE FROM login_throttle
         WHERE CASE WHEN key LIKE 'known:%'
                    THEN window_started_at < now() - make_interval(days => $1)
                    ELSE window_started_at < now() - interval '1 day'
                         AND (locked_until IS NULL OR locked_until < now()) END",
    )
    .bind(KNOWN_ADDRESS_DAYS)
    .execute(db)
    .await?;
    Ok(r.rows_affected())
}
