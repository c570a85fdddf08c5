//! The outcome after settlement: the municipality tells the centre (and the career centre that
//! serves it) the date the integration plan was decided and the end goal chosen, so they learn
//! what came of their work. Only the facts the law's integration plan names; no free text.

use crate::App;
use crate::actor::Actor;
use crate::audit::{Disclosed, audit_participant};
use crate::conversations::authorize_handover;
use crate::documents::Put;
use crate::error::{AppError, AppResult};
use crate::handovers::{notify, notify_at};
use crate::precondition::Precondition;
use handover_db::documents::Upsert;
use handover_db::{handovers, orgs};
use handover_domain::Action;
use handover_domain::handover::{HandoverOutcome, HandoverState, OutcomeInput};
use handover_mail::templates::HandoverNotice;
use uuid::Uuid;

/// The outcome of a handover, for the centre, its serving career centre and the municipality;
/// `None` while the municipality has reported none (nothing disclosed, nothing audited).
pub async fn get(
    app: &App,
    actor: &Actor,
    handover: Uuid,
) -> AppResult<Option<Disclosed<HandoverOutcome>>> {
    let (h, _) = authorize_handover(app, actor, Action::OutcomeRead, handover).await?;
    let Some(outcome) = handovers::get_outcome(&app.pool, handover)
        .await?
        .transpose()
    else {
        return Ok(None);
    };
    let proof =
        audit_participant(&app.pool, actor, "handover.outcome.read", h.participant_id).await?;
    let outcome = outcome.open(&proof);
    Ok(Some(Disclosed::new(proof, Some(outcome.version), outcome)))
}

/// Records the outcome (the municipality, once it has accepted the handover), or replaces the
/// version named. The centre's staff and the serving career centre's counsellors are told by
/// e-mail, without personal data.
pub async fn record(
    app: &App,
    actor: &Actor,
    handover: Uuid,
    expected: Precondition,
    input: OutcomeInput,
) -> AppResult<(Put, Disclosed<HandoverOutcome>)> {
    let (h, _) = crate::access::handover(app, actor, Action::HandoverRespond, handover).await?;
    let current = handovers::get_outcome(&app.pool, handover).await?;
    let expected = expected.check_optional(current.fact(|c| c.as_ref().map(|c| c.version)))?;
    if !matches!(
        h.state,
        HandoverState::Accepted | HandoverState::ConversationScheduled | HandoverState::Completed
    ) {
        return Err(AppError::Conflict(format!(
            "An outcome can be reported once the handover is accepted; it is `{}`.",
            h.state.as_str()
        )));
    }
    let sent_on = handovers::get(&app.pool, handover)
        .await?
        .fact(|h| h.sent_at.map(|t| handover_domain::oslo::to_oslo(t).date()));
    input.validate(sent_on, app.today())?;
    let mut tx = app.pool.begin().await?;
    let put = match handovers::put_outcome(
        &mut tx,
        handover,
        expected,
        &input,
        actor.caller.user_id,
        &actor.caller.name,
    )
    .await?
    {
        Upsert::Created => Put::Created,
        Upsert::Updated => Put::Replaced,
        Upsert::VersionMismatch => return Err(AppError::PreconditionFailed),
        Upsert::PreconditionRequired => return Err(AppError::PreconditionRequired),
    };
    let audit = if put == Put::Created {
        "handover.outcome.record"
    } else {
        "handover.outcome.update"
    };
    let proof = audit_participant(&mut *tx, actor, audit, h.participant_id).await?;
    let staff = handovers::staff_emails(&mut *tx, h.reception_centre_id, "centre_staff").await?;
    let centre = orgs::get(&mut *tx, h.reception_centre_id).await?;
    // One notice per version, so a correction is announced too.
    let key = format!("outcome-v{}", expected.map_or(1, |v| v + 1));
    let kind = HandoverNotice::OutcomeReported;
    notify(&mut tx, app, &h, kind, &key, &staff, &h.municipality_name).await?;
    if let Some(cc) = centre.served_by_career_centre_id {
        // Counsellors do not open handovers: their link is the participant's page.
        let counsellors = handovers::staff_emails(&mut *tx, cc, "career_counsellor").await?;
        let path = format!("/participants/{}#outcome", h.participant_id);
        let from = &h.municipality_name;
        notify_at(&mut tx, app, &h, kind, &key, &counsellors, from, &path).await?;
    }
    let outcome = handovers::get_outcome(&mut *tx, handover)
        .await?
        .open(&proof)
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    let version = outcome.version;
    Ok((put, Disclosed::new(proof, Some(version), outcome)))
}

/// The outcomes of a participant's handovers, newest first, for the participant's page: the
/// centre's staff and the career centre that serves it (the counsellors open no handover).
/// One audit row when there is something to show; `None` when there is nothing.
pub async fn for_participant(
    app: &App,
    actor: &Actor,
    participant: Uuid,
) -> AppResult<Option<Disclosed<Vec<ParticipantOutcome>>>> {
    crate::access::participant(app, actor, Action::OutcomeRead, participant).await?;
    let found = handovers::outcomes_of_participant(&app.pool, participant).await?;
    if found.fact(Vec::is_empty) {
        return Ok(None);
    }
    let proof = audit_participant(&app.pool, actor, "handover.outcome.read", participant).await?;
    let list = found
        .open(&proof)
        .into_iter()
        .map(|(handover_reference, outcome)| ParticipantOutcome {
            handover_reference,
            outcome,
        })
        .collect();
    Ok(Some(Disclosed::new(proof, None, list)))
}

/// An outcome with the reference of its handover.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ParticipantOutcome {
    pub handover_reference: String,
    pub outcome: HandoverOutcome,
}
