//! The transactional e-mail outbox. Rows are enqueued in the same transaction as the change they
//! announce; workers claim due rows with a lease (`FOR UPDATE SKIP LOCKED`), commit, send outside
//! any transaction, then mark them sent, or schedule a retry with backoff, or dead-letter them.

use crate::error::DbResult;
use sqlx::{FromRow, PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

/// An e-mail to send.
#[derive(Debug, Clone, Default)]
pub struct NewMail<'a> {
    /// Unique per logical message: enqueueing the same key twice stores it once.
    pub dedupe_key: String,
    pub to: &'a str,
    pub subject: String,
    pub body_text: String,
    /// A calendar object (RFC 5545) and its iTIP method (RFC 5546), for invitations.
    pub ics: Option<String>,
    pub ics_method: Option<&'static str>,
    pub participant_id: Option<Uuid>,
    pub handover_id: Option<Uuid>,
    /// The body holds a one-time secret (a password-setup link): it is blanked once sent.
    pub secret: bool,
}

/// What a sent secret message's body is replaced with.
pub const SCRUBBED_BODY: &str = "[removed once sent: it held a one-time link]";

pub async fn enqueue(db: impl PgExecutor<'_>, m: &NewMail<'_>) -> DbResult<bool> {
    let r = sqlx::query(
        "INSERT INTO outbox (dedupe_key, to_address, subject, body_text, ics, ics_method, participant_id, handover_id, secret)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(&m.dedupe_key)
    .bind(m.to)
    .bind(&m.subject)
    .bind(&m.body_text)
    .bind(&m.ics)
    .bind(m.ics_method)
    .bind(m.participant_id)
    .bind(m.handover_id)
    .bind(m.secret)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

#[derive(Debug, Clone, FromRow)]
pub struct OutboxMail {
    pub id: i64,
    pub dedupe_key: String,
    pub to_address: String,
    pub subject: String,
    pub body_text: String,
    pub ics: Option<String>,
    pub ics_method: Option<String>,
    pub attempts: i32,
    pub created_at: OffsetDateTime,
}

/// Claims up to `limit` due messages for `worker` for `lease_secs`. Claimed rows are invisible
/// to other workers until the lease ends, so a crashed worker's rows are retried later.
pub async fn claim(
    pool: &PgPool,
    worker: &str,
    limit: i64,
    lease_secs: f64,
) -> DbResult<Vec<OutboxMail>> {
    Ok(sqlx::query_as(
        "UPDATE outbox o SET locked_until = now() + make_interval(secs => $3), locked_by = $1,
                             attempts = o.attempts + 1
         FROM (SELECT id FROM outbox
               WHERE status = 'pending' AND next_attempt_at <= now()
                 AND (locked_until IS NULL OR locked_until < now())
               ORDER BY next_attempt_at, id
               LIMIT $2
               FOR UPDATE SKIP LOCKED) due
         WHERE o.id = due.id
         RETURNING o.id, o.dedupe_key, o.to_address, o.subject, o.body_text, o.ics, o.ics_method, o.attempts, o.created_at",
    )
    .bind(worker)
    .bind(limit)
    .bind(lease_secs)
    .fetch_all(pool)
    .await?)
}

/// Extends this worker's lease on a message just before sending it. `false` when the lease was
/// lost (another worker took the message over): then this worker must not send it.
pub async fn renew(pool: &PgPool, id: i64, worker: &str, lease_secs: f64) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE outbox SET locked_until = now() + make_interval(secs => $3)
         WHERE id = $1 AND locked_by = $2 AND status = 'pending'",
    )
    .bind(id)
    .bind(worker)
    .bind(lease_secs)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Marks a message sent, if this worker still holds it.
pub async fn mark_sent(pool: &PgPool, id: i64, worker: &str) -> DbResult<bool> {
    let r = sqlx::query(
        "UPDATE outbox SET status = 'sent', sent_at = now(), locked_until = NULL, last_error = NULL,
                body_text = CASE WHEN secret THEN $3 ELSE body_text END
         WHERE id = $1 AND locked_by = $2 AND status = 'pending'",
    )
    .bind(id)
    .bind(worker)
    .bind(SCRUBBED_BODY)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Records a failed attempt: retry after `retry_in_secs`, or dead-letter when `dead`.
pub async fn mark_failed(
    pool: &PgPool,
    id: i64,
    worker: &str,
    error: &str,
    retry_in_secs: f64,
    dead: bool,
) -> DbResult<()> {
    let error: String = error.chars().take(500).collect();
    sqlx::query(
        "UPDATE outbox SET status = CASE WHEN $5 THEN 'dead' ELSE 'pending' END,
            next_attempt_at = now() + make_interval(secs => $4), locked_until = NULL, last_error = $3
         WHERE id = $1 AND locked_by = $2 AND status = 'pending'",
    )
    .bind(id)
    .bind(worker)
    .bind(error)
    .bind(retry_in_secs)
    .bind(dead)
    .execute(pool)
    .await?;
    Ok(())
}

/// Gives back every claim of a worker that is shutting down, without counting the attempt.
pub async fn release(pool: &PgPool, worker: &str) -> DbResult<u64> {
    let r = sqlx::query(
        "UPDATE outbox SET locked_until = NULL, attempts = greatest(attempts - 1, 0)
         WHERE locked_by = $1 AND status = 'pending' AND locked_until > now()",
    )
    .bind(worker)
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct OutboxStats {
    pub pending: i64,
    pub sent: i64,
    pub dead: i64,
}

pub async fn stats(db: impl PgExecutor<'_>) -> DbResult<OutboxStats> {
    let (pending, sent, dead): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'sent'),
                count(*) FILTER (WHERE status = 'dead') FROM outbox",
    )
    .fetch_one(db)
    .await?;
    Ok(OutboxStats {
        pending,
        sent,
        dead,
    })
}

/// A dead-lettered e-mail as the operator sees it: never its subject or body.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeadLetter {
    pub id: i64,
    /// What the e-mail was (the first part of its dedupe key: `handover_sent`, `setup`, ...).
    pub kind: String,
    /// Used only to take the address out of the error text; never shown.
    pub to_address: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
}

/// The dead letters, newest first, at most `limit`, and how many there are.
pub async fn dead_letters(db: &PgPool, limit: i64) -> DbResult<(Vec<DeadLetter>, i64)> {
    let items = sqlx::query_as(
        "SELECT id, split_part(dedupe_key, ':', 1) AS kind, to_address, attempts, last_error,
                created_at
         FROM outbox WHERE status = 'dead' ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await?;
    let total = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'dead'")
        .fetch_one(db)
        .await?;
    Ok((items, total))
}

/// Queues dead letters again: pending at once, attempts counted from zero. Returns the ids
/// that were dead (others are left alone).
pub async fn requeue_dead(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    by: handover_domain::UserId,
) -> DbResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = now(),
                locked_until = NULL, locked_by = NULL, handled_at = now(), handled_by = $2
         WHERE id = ANY($1) AND status = 'dead' RETURNING id",
    )
    .bind(ids)
    .bind(by.0)
    .fetch_all(db)
    .await?)
}

/// Discards dead letters: never sent, their bodies blanked. Returns the ids that were dead.
pub async fn discard_dead(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    by: handover_domain::UserId,
) -> DbResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "UPDATE outbox SET status = 'discarded', body_text = '', ics = NULL, ics_method = NULL,
                handled_at = now(), handled_by = $2
         WHERE id = ANY($1) AND status = 'dead' RETURNING id",
    )
    .bind(ids)
    .bind(by.0)
    .fetch_all(db)
    .await?)
}
