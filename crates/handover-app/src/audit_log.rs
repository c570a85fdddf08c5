//! Reading the audit log: administrators see what their own organisation's actors did; the
//! operator sees everything. (Writing audit rows is `crate::audit`.)

use crate::App;
use crate::actor::Actor;
use crate::error::{AppError, AppResult};
use handover_db::audit::{self, AuditFilter};
use handover_domain::audit::AuditEntry;
use handover_domain::policy::ListScope;
use handover_domain::{Action, Page, Paging};
use uuid::Uuid;

/// What the audit log may be narrowed by.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// e.g. `auth.login`, `user.create`.
    pub action: Option<String>,
    pub target_id: Option<Uuid>,
    pub paging: Paging,
}

/// Audit events, newest first.
pub async fn list(app: &App, actor: &Actor, q: AuditQuery) -> AppResult<Page<AuditEntry>> {
    actor.require(Action::AuditRead)?;
    let (limit, offset) = q.paging.resolve()?;
    if q.action.as_ref().is_some_and(|a| a.len() > 64) {
        return Err(AppError::field(
            "action",
            "too_long",
            "must be at most 64 characters",
        ));
    }
    let actor_org_id = match actor.list_scope(Action::AuditRead) {
        ListScope::Everything => None,
        ListScope::Related { .. } => Some(actor.caller.org_id),
        ListScope::Nothing => return Err(AppError::Forbidden),
    };
    let page = audit::list(
        &app.pool,
        &AuditFilter {
            actor_org_id,
            action: q.action,
            target_id: q.target_id,
            limit,
            offset,
        },
    )
    .await?;
    Ok(Page {
        items: page.items,
        total: page.total,
        limit,
        offset,
    })
}
