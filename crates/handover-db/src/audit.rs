//! The append-only audit log. Rows say who did what to which record, never the data itself.

use crate::disclosure::Audited;
use crate::error::DbResult;
use crate::page::{Counted, Page};
use handover_domain::audit::AuditEntry;
use handover_domain::{OrgId, UserId};
use sqlx::{FromRow, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

/// One audited event, as written.
#[derive(Debug, Clone, Default)]
pub struct AuditEvent<'a> {
    pub actor_user_id: Option<UserId>,
    pub actor_org_id: Option<OrgId>,
    pub actor_role: Option<&'a str>,
    /// e.g. `auth.login`, `user.create`, `participant.read`.
    pub action: &'a str,
    pub target_type: Option<&'a str>,
    pub target_id: Option<Uuid>,
    /// `success`, `denied`, `failed` or a short reason code such as `bad_credentials`.
    pub outcome: &'a str,
    pub request_id: Option<&'a str>,
    pub client_addr: Option<&'a str>,
}

pub async fn record(db: impl PgExecutor<'_>, e: &AuditEvent<'_>) -> DbResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (actor_user_id, actor_org_id, actor_role, action, target_type,
                                target_id, outcome, request_id, client_addr)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(e.actor_user_id.map(|u| u.0))
    .bind(e.actor_org_id.map(|o| o.0))
    .bind(e.actor_role)
    .bind(e.action)
    .bind(e.target_type)
    .bind(e.target_id)
    .bind(e.outcome)
    .bind(e.request_id)
    .bind(e.client_addr)
    .execute(db)
    .await?;
    Ok(())
}

/// Records a disclosure of participant data (a read, or the answer of a write) and returns the
/// proof that opens the sealed data.
pub async fn disclosed(db: impl PgExecutor<'_>, e: &AuditEvent<'_>) -> DbResult<Audited> {
    record(db, e).await?;
    Ok(Audited::new())
}

/// An audit row as the database holds it; `AuditEntry` (domain) is what it is read back as.
#[derive(FromRow)]
pub struct AuditRow {
    id: i64,
    at: OffsetDateTime,
    actor_user_id: Option<Uuid>,
    actor_org_id: Option<Uuid>,
    actor_role: Option<String>,
    action: String,
    target_type: Option<String>,
    target_id: Option<Uuid>,
    target_ids: Option<Vec<Uuid>>,
    outcome: String,
    request_id: Option<String>,
    client_addr: Option<String>,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            id: r.id,
            at: r.at,
            actor_user_id: r.actor_user_id,
            actor_org_id: r.actor_org_id,
            actor_role: r.actor_role,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            target_ids: r.target_ids,
            outcome: r.outcome,
            request_id: r.request_id,
            client_addr: r.client_addr,
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    /// Events by actors of this organisation; `None` for all (operator administrators).
    pub actor_org_id: Option<OrgId>,
    pub action: Option<String>,
    pub target_id: Option<Uuid>,
    pub limit: i64,
    pub offset: i64,
}

pub async fn list(db: impl PgExecutor<'_>, f: &AuditFilter) -> DbResult<Page<AuditEntry>> {
    let rows: Vec<Counted<AuditRow>> = sqlx::query_as(
        "SELECT id, at, actor_user_id, actor_org_id, actor_role, action, target_type, target_id, target_ids,
                outcome, request_id, client_addr, count(*) OVER () AS total
         FROM audit_log
         WHERE ($1::uuid IS NULL OR actor_org_id = $1)
           AND ($2::text IS NULL OR action = $2)
           AND ($3::uuid IS NULL OR target_id = $3 OR target_ids @> ARRAY[$3::uuid])
         ORDER BY id DESC
         LIMIT $4 OFFSET $5",
    )
    .bind(f.actor_org_id.map(|o| o.0))
    .bind(f.action.as_deref())
    .bind(f.target_id)
    .bind(f.limit)
    .bind(f.offset)
    .fetch_all(db)
    .await?;
    Page::from_counted(rows)
}

/// One audit row for a list answer, naming every target shown (`target_ids`).
pub async fn record_many(
    db: impl PgExecutor<'_>,
    e: &AuditEvent<'_>,
    target_ids: &[Uuid],
) -> DbResult<Audited> {
    // An empty list discloses nothing.
    if target_ids.is_empty() {
        return Ok(Audited::new());
    }
    sqlx::query(
        "INSERT INTO audit_log (actor_user_id, actor_org_id, actor_role, action, target_type,
                                target_ids, outcome, request_id, client_addr)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(e.actor_user_id.map(|u| u.0))
    .bind(e.actor_org_id.map(|o| o.0))
    .bind(e.actor_role)
    .bind(e.action)
    .bind(e.target_type)
    .bind(target_ids)
    .bind(e.outcome)
    .bind(e.request_id)
    .bind(e.client_addr)
    .execute(db)
    .await?;
    Ok(Audited::new())
}

/// Every audit row about one target (for a participant's data export).
pub async fn about(db: impl PgExecutor<'_>, target: Uuid) -> DbResult<Vec<AuditEntry>> {
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT id, at, actor_user_id, actor_org_id, actor_role, action, target_type, target_id, target_ids,
                outcome, request_id, client_addr
         FROM audit_log WHERE target_id = $1 OR target_ids @> ARRAY[$1] ORDER BY id",
    )
    .bind(target)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(AuditEntry::from).collect())
}
