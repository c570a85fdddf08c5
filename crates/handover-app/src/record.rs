//! The history line and audit row of a change to a participant's record.

use crate::actor::{Actor, Granted};
use crate::audit::{Audited, audit_participant};
use crate::error::AppResult;
use handover_db::participants::{self, Change, WriteLog};
use sqlx::PgConnection;
use uuid::Uuid;

/// The history line and audit row of a change that the database layer writes in the same
/// statement as the change. Needs the access decision for the write.
pub fn write_log<'a>(
    actor: &'a Actor,
    _granted: &Granted,
    client: Option<&'a str>,
    section: &'a str,
    operation: &'a str,
    fields: &'a [&'a str],
) -> WriteLog<'a> {
    WriteLog {
        actor: actor.caller.user_id,
        actor_name: &actor.caller.name,
        actor_org: actor.caller.org_id,
        actor_role: actor.caller.role.as_str(),
        section,
        operation,
        fields,
        action: format!("{section}.{operation}"),
        request_id: actor.request_id(),
        client_addr: client,
    }
}

/// What a change to a record names: the section, the record and the operation.
#[derive(Debug, Clone, Copy)]
pub struct Changed<'a> {
    pub participant: Uuid,
    pub section: &'a str,
    pub record_id: Uuid,
    pub operation: &'a str,
    pub fields: &'a [&'a str],
}

/// Records a change in the record history and the audit log, in the caller's transaction.
/// Needs the access decision for the write.
pub async fn log_write(
    tx: &mut PgConnection,
    actor: &Actor,
    _granted: &Granted,
    c: Changed<'_>,
) -> AppResult<Audited> {
    participants::record_change(
        &mut *tx,
        &Change {
            participant: c.participant,
            actor: actor.caller.user_id,
            actor_name: &actor.caller.name,
            section: c.section,
            record_id: c.record_id,
            operation: c.operation,
            fields: c.fields,
        },
    )
    .await?;
    Ok(audit_participant(
        &mut *tx,
        actor,
        &format!("{}.{}", c.section, c.operation),
        c.participant,
    )
    .await?)
}
