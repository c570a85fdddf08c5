//! The access decisions every use case starts with: load what the target's relation to the
//! caller rests on, ask the policy (`handover_domain::policy`), answer 403/404 or go on. The
//! relation itself is one pure function per kind of target, in the domain crate.

use crate::App;
use crate::actor::{Actor, Granted};
use crate::error::{AppError, AppResult};
use handover_db::DbError;
use handover_db::disclosure::Sealed;
use handover_db::participants::{self, Owner};
use handover_domain::handover::{Handover, HandoverHead};
use handover_domain::policy::{self, ListScope};
use handover_domain::{Action, OrgKind, Relation};
use uuid::Uuid;

/// Checks that the caller may do `action` to participant `id`: 403 for a role without any grant,
/// 404 when the participant does not exist or belongs to someone else.
pub async fn participant(
    app: &App,
    actor: &Actor,
    action: Action,
    id: Uuid,
) -> AppResult<(Owner, Granted)> {
    actor.require(action)?;
    let owner = participants::owner(&app.pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let granted = participant_owner(actor, action, &owner)?;
    Ok((owner, granted))
}

/// The decision of [`participant`], for use cases that read the owner together with the record
/// they edit (one query instead of two). The caller has passed `actor.require(action)`.
pub fn participant_owner(actor: &Actor, action: Action, owner: &Owner) -> AppResult<Granted> {
    actor.check(
        action,
        policy::participant_relation(&actor.caller, owner.reception_centre_id),
    )
}

/// The reception centres whose participants the caller may list: the centres for which
/// [`policy::participant_relation`] gives a relation the caller's grants allow.
pub fn visible_centres(actor: &Actor) -> AppResult<Vec<Uuid>> {
    match actor.list_scope(Action::ParticipantRead) {
        ListScope::Nothing | ListScope::Everything => Err(AppError::Forbidden),
        ListScope::Related { own, serving, .. } => {
            let mut centres = Vec::new();
            if own && actor.caller.org_kind == OrgKind::ReceptionCentre {
                centres.push(actor.caller.org_id.0);
            }
            if serving && let Some(c) = actor.caller.serves {
                centres.push(c.0);
            }
            Ok(centres)
        }
    }
}

/// What decisions about the handover rest on, after checking the caller may do `action` to it.
/// The municipality sees a handover only once it is sent; before that it does not exist for
/// them.
pub async fn handover(
    app: &App,
    actor: &Actor,
    action: Action,
    id: Uuid,
) -> AppResult<(HandoverHead, Granted)> {
    handover_as(app, actor, action, id, handover_relation).await
}

/// [`handover`] with another relation of the handover to the caller (its conversations'
/// relation also reaches the serving career centre).
pub async fn handover_as(
    app: &App,
    actor: &Actor,
    action: Action,
    id: Uuid,
    relation: fn(&Actor, &HandoverHead) -> Relation,
) -> AppResult<(HandoverHead, Granted)> {
    actor.require(action)?;
    let h = match handover_db::handovers::head(&app.pool, id).await {
        Err(DbError::NotFound) => return Err(AppError::NotFound),
        other => other?,
    };
    let granted = actor.check(action, relation(actor, &h))?;
    Ok((h, granted))
}

/// [`handover`], with the whole handover (sealed) for a use case that answers with it.
pub async fn handover_sealed(
    app: &App,
    actor: &Actor,
    action: Action,
    id: Uuid,
) -> AppResult<(Sealed<Handover>, HandoverHead, Granted)> {
    actor.require(action)?;
    let h = match handover_db::handovers::get(&app.pool, id).await {
        Err(DbError::NotFound) => return Err(AppError::NotFound),
        other => other?,
    };
    let head = h.fact(|h| HandoverHead::from(h));
    let granted = actor.check(action, handover_relation(actor, &head))?;
    Ok((h, head, granted))
}

pub fn handover_relation(actor: &Actor, h: &HandoverHead) -> Relation {
    policy::handover_relation(
        &actor.caller,
        h.reception_centre_id,
        h.municipality_id,
        h.latest_file_version > 0,
    )
}
