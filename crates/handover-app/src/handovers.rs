//! The handover: the centre prepares and sends a frozen file to the settlement municipality; the
//! municipality finds it in its inbox, opens it (audited, visible to the centre), accepts or
//! declines it. Every state change is recorded with who and when.

use crate::actor::Actor;
use crate::error::{AppError, AppResult};
use handover_db::handovers::{self, Move};
use handover_domain::OrgKind;
use handover_domain::handover::{Handover, HandoverEvent, HandoverState, Side, transition};
use sqlx::PgConnection;

/// The side of the handover the caller is on.
pub fn side(actor: &Actor) -> Side {
    if actor.caller.org_kind == OrgKind::Municipality {
        Side::Municipality
    } else {
        Side::Centre
    }
}

/// The caller as the handover history names them.
pub fn history_actor(actor: &Actor) -> handovers::Actor<'_> {
    handovers::Actor {
        user: actor.caller.user_id,
        name: &actor.caller.name,
        org: actor.caller.org_id,
    }
}

/// Moves the handover through `event`, or answers 409 naming the illegal transition.
pub async fn step(
    tx: &mut PgConnection,
    actor: &Actor,
    h: &Handover,
    version: i32,
    event: HandoverEvent,
    reason: Option<&str>,
) -> AppResult<HandoverState> {
    let to = transition(h.state, event, side(actor)).ok_or_else(|| {
        AppError::Conflict(format!(
            "A handover in state `{}` cannot be `{}`ed by this side.",
            h.state.as_str(),
            event.as_str()
        ))
    })?;
    if !handovers::apply(
        tx,
        h.id,
        version,
        Move {
            from: h.state,
            to,
            event,
        },
        &history_actor(actor),
        reason,
    )
    .await?
    {
        return Err(AppError::PreconditionFailed);
    }
    Ok(to)
}
