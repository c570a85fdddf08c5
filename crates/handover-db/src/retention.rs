//! Storage limitation: deletes participants whose purpose is fulfilled.

use crate::error::DbResult;
use sqlx::PgPool;
use uuid::Uuid;

/// Deletes, with everything that hangs off them (records, guidance, consents, handover files,
/// queued e-mails), the participants who are settled or left the programme, have no open
/// handover, and whose last handover closed (or, without one, whose participant row last changed)
/// more than `days` ago. Audit rows stay: they hold ids, never the data. Returns the deleted ids.
///
/// Each condition is an index probe per settled participant (`handovers_one_open` for "none
/// open", `handovers_participant_idx` for the last closing), so the sweep grows with the number
/// of settled participants, not with participants × handovers. `bench/run.sh` times this same
/// statement (keep the two alike).
pub async fn purge(pool: &PgPool, days: u32) -> DbResult<Vec<Uuid>> {
    let mut tx = pool.begin().await?;
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "WITH due AS (
            SELECT p.id FROM participants p
            WHERE p.status IN ('settled', 'left_programme')
              AND NOT EXISTS (
                  SELECT 1 FROM handovers h WHERE h.participant_id = p.id
                    AND h.state NOT IN ('completed', 'cancelled', 'declined'))
              AND COALESCE(
                  (SELECT max(h.closed_at) FROM handovers h WHERE h.participant_id = p.id),
                  CASE WHEN NOT EXISTS (SELECT 1 FROM handovers h WHERE h.participant_id = p.id)
                       THEN p.updated_at END)
                  < now() - make_interval(days => $1)
            FOR UPDATE OF p SKIP LOCKED
         )
         DELETE FROM participants WHERE id IN (SELECT id FROM due) RETURNING id",
    )
    .bind(days as i32)
    .fetch_all(&mut *tx)
    .await?;
    if !ids.is_empty() {
        sqlx::query(
            "INSERT INTO audit_log (action, target_type, target_id, outcome, actor_role)
             SELECT 'participant.retention_delete', 'participant', t, 'success', 'system' FROM unnest($1::uuid[]) t",
        )
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(ids)
}
