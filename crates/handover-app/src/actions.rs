//! Agreed actions followed to done: the actions of a conversation's minutes, each with the
//! organisation responsible for it. That organisation's staff list theirs (overdue ones on
//! their start page) and mark each done, dropped with a reason, or open again; both sides of
//! the conversation see where each stands. Every answer names the participant's handover, so
//! every read is audited like a conversation read.

use crate::App;
use crate::actor::Actor;
use crate::audit::{Disclosed, audit_list, audit_participant};
use crate::conversations::authorize_conversation;
use crate::error::{AppError, AppResult};
use crate::precondition::Precondition;
use handover_db::actions::{self, ActionFilter};
use handover_domain::conversation::{ActionStatus, ActionStatusChange, TrackedAction};
use handover_domain::policy::organisation_relation;
use handover_domain::{Action, Page, Paging};
use uuid::Uuid;

/// The actions of one conversation, for those who may read it.
pub async fn for_conversation(
    app: &App,
    actor: &Actor,
    conversation: Uuid,
    paging: Paging,
) -> AppResult<Page<TrackedAction>> {
    let (_, h, _) =
        authorize_conversation(app, actor, Action::ConversationRead, conversation).await?;
    paging.resolve()?;
    let rows = actions::of_conversation(&app.pool, conversation, app.today()).await?;
    let proof = audit_participant(&app.pool, actor, "agreed_action.read", h.participant_id).await?;
    Ok(Page::slice(rows.open(&proof), &paging)?)
}

/// Which of the caller's organisation's actions to list.
#[derive(Debug, Clone, Default)]
pub struct ActionQuery {
    pub status: Option<ActionStatus>,
    /// Only open actions whose due date has passed.
    pub overdue: bool,
    pub paging: Paging,
}

/// The actions the caller's organisation is responsible for: open ones first, by due date.
/// One audit row names the participants shown.
pub async fn mine(app: &App, actor: &Actor, q: ActionQuery) -> AppResult<Page<TrackedAction>> {
    actor.require(Action::AgreedActionFollowUp)?;
    let (limit, offset) = q.paging.resolve()?;
    let filter = ActionFilter {
        status: q.status,
        overdue_only: q.overdue,
    };
    let rows = actions::for_org(
        &app.pool,
        actor.caller.org_id,
        filter,
        app.today(),
        limit,
        offset,
    )
    .await?;
    let mut ids: Vec<Uuid> = rows.fact(|(v, _)| v.iter().map(|(_, p)| *p).collect());
    ids.sort();
    ids.dedup();
    let proof = audit_list(&app.pool, actor, "agreed_action.list", &ids).await?;
    let (items, total) = rows.open(&proof);
    Ok(Page {
        items: items.into_iter().map(|(a, _)| a).collect(),
        total,
        limit,
        offset,
    })
}

/// Sets an action's status, at the version the caller saw: only its responsible organisation
/// (anyone else gets 404, as if it did not exist).
pub async fn set_status(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: Precondition,
    change: ActionStatusChange,
) -> AppResult<Disclosed<TrackedAction>> {
    actor.require(Action::AgreedActionFollowUp)?;
    let today = app.today();
    let found = actions::get(&app.pool, id, today)
        .await?
        .ok_or(AppError::NotFound)?;
    let (responsible, version, participant) =
        found.fact(|(a, p)| (a.responsible_organisation_id, a.version, *p));
    actor.check(
        Action::AgreedActionFollowUp,
        organisation_relation(&actor.caller, responsible),
    )?;
    let version = expected.check(version)?;
    change.validate()?;
    let reason = match change.status {
        ActionStatus::Dropped => change.reason.as_deref().map(str::trim),
        _ => None,
    };
    let mut tx = app.pool.begin().await?;
    if !actions::set_status(
        &mut tx,
        id,
        version,
        change.status,
        reason,
        &actor.caller.name,
    )
    .await?
    {
        return Err(AppError::PreconditionFailed);
    }
    let proof = audit_participant(&mut *tx, actor, "agreed_action.update", participant).await?;
    let updated = actions::get(&mut *tx, id, today)
        .await?
        .ok_or(AppError::NotFound)?
        .open(&proof)
        .0;
    tx.commit().await?;
    Ok(Disclosed::new(proof, Some(updated.version), updated))
}
