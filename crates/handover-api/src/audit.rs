//! Writing audit rows from handlers.

use crate::extract::{Auth, RequestMeta};
use handover_db::DbResult;
use handover_db::audit::{AuditEvent, record};
use sqlx::PgExecutor;
use uuid::Uuid;

/// Records what `auth` did, in the caller's transaction when given one, so the audit row and the
/// change it describes commit together.
pub async fn audit(
    db: impl PgExecutor<'_>,
    auth: &Auth,
    meta: &RequestMeta,
    action: &str,
    target: Option<(&str, Uuid)>,
    outcome: &str,
) -> DbResult<()> {
    let client = meta.client();
    record(
        db,
        &AuditEvent {
            actor_user_id: Some(auth.0.user_id),
            actor_org_id: Some(auth.0.org_id),
            actor_role: Some(auth.0.role.as_str()),
            action,
            target_type: target.map(|t| t.0),
            target_id: target.map(|t| t.1),
            outcome,
            request_id: meta.request_id.as_deref(),
            client_addr: client.as_deref(),
        },
    )
    .await
}

/// The audit event of a list answer; the participants shown go in its `target_ids`.
pub fn list_event<'a>(
    auth: &'a Auth,
    meta: &'a RequestMeta,
    client: Option<&'a str>,
    action: &'a str,
) -> AuditEvent<'a> {
    AuditEvent {
        actor_user_id: Some(auth.0.user_id),
        actor_org_id: Some(auth.0.org_id),
        actor_role: Some(auth.0.role.as_str()),
        action,
        target_type: Some("participant"),
        outcome: "success",
        request_id: meta.request_id.as_deref(),
        client_addr: client,
        ..Default::default()
    }
}

/// One row naming the participants shown in a list answer, in one statement.
pub async fn audit_list(
    db: impl PgExecutor<'_>,
    auth: &Auth,
    meta: &RequestMeta,
    action: &str,
    participants: &[Uuid],
) -> DbResult<()> {
    let client = meta.client();
    handover_db::audit::record_many(
        db,
        &list_event(auth, meta, client.as_deref(), action),
        participants,
    )
    .await
}
