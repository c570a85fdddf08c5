//! Career-guidance summaries, written by counsellors of the career centre that serves the
//! participant's reception centre, readable by that centre's staff. Drafts until finalised;
//! final summaries are immutable and superseded by later ones.

use crate::App;
use crate::access;
use crate::actor::Actor;
use crate::audit::{Disclosed, Sealed, audit, audit_participant};
use crate::error::{AppError, AppResult};
use crate::precondition::Precondition;
use handover_db::DbError;
use handover_db::guidance::{self, NewSummary, ResolvedStep};
use handover_db::participants;
use handover_domain::guidance::{
    GuidanceSummary, GuidanceSummaryInput, SummaryStatus, overall_level, pathway_warnings,
};
use handover_domain::participant::Cefr;
use handover_domain::{Action, FieldError, Page, Paging};
use sqlx::PgConnection;
use uuid::Uuid;

/// The participant's overall Norwegian level: it decides the level warnings (a fact of the
/// training record, which itself is not answered here).
async fn reached_level(db: &mut PgConnection, participant: Uuid) -> AppResult<Option<Cefr>> {
    Ok(participants::get_norwegian(&mut *db, participant)
        .await?
        .fact(|t| overall_level(t.as_ref().map(|t| &t.data))))
}

/// Adds the non-blocking warnings: the first step's level prerequisite against the
/// participant's Norwegian level, and retired offerings.
fn with_warnings(
    (mut s, prereqs): (GuidanceSummary, Vec<Option<Cefr>>),
    reached: Option<Cefr>,
) -> GuidanceSummary {
    s.warnings = pathway_warnings(&s.pathway, prereqs.first().copied().flatten(), reached);
    s
}

async fn one(db: &mut PgConnection, id: Uuid) -> AppResult<Sealed<GuidanceSummary>> {
    let item = guidance::get_summary(db, id).await?;
    let reached = reached_level(db, item.fact(|i| i.0.participant_id)).await?;
    Ok(item.map(|i| with_warnings(i, reached)))
}

/// The participant of a summary, after checking the caller may do `action` to it: a summary
/// is part of its participant's record, so the participant's access decides.
pub async fn authorize_summary(
    app: &App,
    actor: &Actor,
    action: Action,
    id: Uuid,
) -> AppResult<Uuid> {
    actor.require(action)?;
    let participant = guidance::summary_participant(&app.pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    access::participant(app, actor, action, participant).await?;
    Ok(participant)
}

async fn resolve(app: &App, input: &GuidanceSummaryInput) -> AppResult<Vec<ResolvedStep>> {
    match guidance::resolve_steps(&app.pool, &input.pathway).await? {
        Ok(steps) => Ok(steps),
        Err(bad) => Err(AppError::Validation(
            bad.into_iter()
                .map(|(i, retired)| FieldError {
                    field: format!("pathway[{i}].offering_id"),
                    code: if retired {
                        "retired_offering"
                    } else {
                        "unknown_offering"
                    }
                    .into(),
                    message: if retired {
                        "this offering is retired and can no longer be recommended".into()
                    } else {
                        "no such offering in the catalogue".into()
                    },
                })
                .collect(),
        )),
    }
}

fn final_is_immutable(e: DbError) -> AppError {
    match e {
        DbError::Conflict(c) if c == "guidance_summaries_one_draft" => AppError::Conflict(
            "The participant already has a draft summary; continue that one.".into(),
        ),
        DbError::Rejected(c) if c == "guidance_summaries_immutable" => AppError::Conflict(
            "A final summary cannot be changed; write a new one to supersede it.".into(),
        ),
        other => other.into(),
    }
}

/// Every guidance summary of a participant, oldest first (drafts, finals, superseded finals).
pub async fn list(
    app: &App,
    actor: &Actor,
    participant: Uuid,
    paging: Paging,
) -> AppResult<Disclosed<Page<GuidanceSummary>>> {
    access::participant(app, actor, Action::GuidanceRead, participant).await?;
    paging.resolve()?;
    let mut conn = app.pool.acquire().await?;
    let items = guidance::list_summaries(&mut conn, participant).await?;
    let reached = reached_level(&mut conn, participant).await?;
    drop(conn);
    let proof = audit_participant(&app.pool, actor, "guidance.read", participant).await?;
    let items: Vec<GuidanceSummary> = items
        .open(&proof)
        .into_iter()
        .map(|i| with_warnings(i, reached))
        .collect();
    Ok(Disclosed::new(proof, None, Page::slice(items, &paging)?))
}

/// Starts a draft summary for a participant (counsellors of the serving career centre).
pub async fn create(
    app: &App,
    actor: &Actor,
    participant: Uuid,
    input: GuidanceSummaryInput,
) -> AppResult<Disclosed<GuidanceSummary>> {
    access::participant(app, actor, Action::GuidanceWrite, participant).await?;
    input.validate(app.today())?;
    let steps = resolve(app, &input).await?;
    let sid = Uuid::now_v7();
    let mut tx = app.pool.begin().await?;
    let n = NewSummary {
        id: sid,
        participant,
        career_centre: actor.caller.org_id,
        author: actor.caller.user_id,
        author_name: &actor.caller.name,
    };
    guidance::create_draft(&mut tx, &n, &input, &steps)
        .await
        .map_err(final_is_immutable)?;
    let proof = audit_participant(&mut *tx, actor, "guidance.create", participant).await?;
    let s = one(&mut tx, sid).await?.open(&proof);
    tx.commit().await?;
    Ok(Disclosed::new(proof, Some(s.version), s))
}

/// One summary.
pub async fn get(app: &App, actor: &Actor, id: Uuid) -> AppResult<Disclosed<GuidanceSummary>> {
    let participant = authorize_summary(app, actor, Action::GuidanceRead, id).await?;
    let mut conn = app.pool.acquire().await?;
    let s = one(&mut conn, id).await?;
    drop(conn);
    let proof = audit_participant(&app.pool, actor, "guidance.read", participant).await?;
    let s = s.open(&proof);
    Ok(Disclosed::new(proof, Some(s.version), s))
}

/// The summary as stored (without warnings), for the checks before a change: its status,
/// version and whether it is complete are facts of it; it is not answered.
async fn current(app: &App, id: Uuid) -> AppResult<Sealed<GuidanceSummary>> {
    let mut conn = app.pool.acquire().await?;
    Ok(guidance::get_summary(&mut conn, id).await?.map(|(s, _)| s))
}

/// Replaces a draft's content, at the version the caller edited; a final summary is 409.
pub async fn update(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: Precondition,
    input: GuidanceSummaryInput,
) -> AppResult<Disclosed<GuidanceSummary>> {
    let participant = authorize_summary(app, actor, Action::GuidanceWrite, id).await?;
    let (status, current) = current(app, id).await?.fact(|c| (c.status, c.version));
    if status == SummaryStatus::Final {
        return Err(AppError::Conflict(
            "A final summary cannot be changed; write a new one to supersede it.".into(),
        ));
    }
    let version = expected.check(current)?;
    input.validate(app.today())?;
    let steps = resolve(app, &input).await?;
    let mut tx = app.pool.begin().await?;
    if !guidance::update_draft(&mut tx, id, version, &input, &steps)
        .await
        .map_err(final_is_immutable)?
    {
        return Err(AppError::PreconditionFailed);
    }
    let proof = audit_participant(&mut *tx, actor, "guidance.update", participant).await?;
    let s = one(&mut tx, id).await?.open(&proof);
    tx.commit().await?;
    Ok(Disclosed::new(proof, Some(s.version), s))
}

/// Deletes a draft, at its current version; a final summary is 409.
pub async fn delete(app: &App, actor: &Actor, id: Uuid, expected: Precondition) -> AppResult<()> {
    let participant = authorize_summary(app, actor, Action::GuidanceWrite, id).await?;
    let (status, current) = current(app, id).await?.fact(|c| (c.status, c.version));
    // A delete without If-Match is malformed whatever the summary; with one, a final summary
    // is kept whatever the version named.
    if matches!(expected, Precondition::Missing) {
        return Err(AppError::PreconditionRequired);
    }
    if status == SummaryStatus::Final {
        return Err(AppError::Conflict(
            "A final summary is kept; it can only be superseded.".into(),
        ));
    }
    let version = expected.check(current)?;
    let mut tx = app.pool.begin().await?;
    if !guidance::delete_draft(&mut *tx, id, version).await? {
        return Err(AppError::PreconditionFailed);
    }
    audit(
        &mut *tx,
        actor,
        "guidance.delete",
        Some(("participant", participant)),
        "success",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Finalises a draft: it becomes immutable and supersedes the participant's previous final
/// summary. Needs sessions, goals, what was covered and what is left for § 11 guidance.
pub async fn finalise(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: Precondition,
) -> AppResult<Disclosed<GuidanceSummary>> {
    let participant = authorize_summary(app, actor, Action::GuidanceWrite, id).await?;
    let current = current(app, id).await?;
    let (status, current_version) = current.fact(|c| (c.status, c.version));
    if status == SummaryStatus::Final {
        return Err(AppError::Conflict("The summary is already final.".into()));
    }
    let version = expected.check(current_version)?;
    let errors = current.fact(finalise_errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let mut tx = app.pool.begin().await?;
    if !guidance::finalise(&mut tx, id, version, actor.caller.user_id)
        .await
        .map_err(final_is_immutable)?
    {
        return Err(AppError::PreconditionFailed);
    }
    let proof = audit_participant(&mut *tx, actor, "guidance.finalise", participant).await?;
    let s = one(&mut tx, id).await?.open(&proof);
    tx.commit().await?;
    Ok(Disclosed::new(proof, Some(s.version), s))
}

/// What keeps a draft from being finalised: sessions, goals, what was covered and what is left
/// for § 11 guidance, a reason for each step, and no retired offering.
fn finalise_errors(current: &GuidanceSummary) -> Vec<FieldError> {
    let as_input = GuidanceSummaryInput {
        sessions: current.sessions.clone(),
        interests: current.interests.clone(),
        strengths: current.strengths.clone(),
        experience: current.experience.clone(),
        goals_short_term: current.goals_short_term.clone(),
        goals_long_term: current.goals_long_term.clone(),
        pathway: Vec::new(),
        covered: current.covered.clone(),
        left_for_section_11: current.left_for_section_11.clone(),
    };
    let mut errors = as_input.validate_final().err().unwrap_or_default();
    for s in &current.pathway {
        if s.reason.trim().is_empty() {
            errors.push(FieldError {
                field: format!("pathway[{}].reason", s.position),
                code: "required".into(),
                message: "give a reason for each step".into(),
            });
        }
        if s.offering_retired {
            errors.push(FieldError {
                field: format!("pathway[{}].offering_id", s.position),
                code: "retired_offering".into(),
                message: "this offering has been retired; choose another before finalising".into(),
            });
        }
    }
    errors
}
