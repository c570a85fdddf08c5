//! Participants: created and edited by staff of their reception centre, readable by the career
//! centre that serves it. Every read and write is audited; DUF and D-numbers travel only in
//! request bodies, never in a URL.

use crate::App;
use crate::access;
use crate::actor::Actor;
use crate::audit::{Disclosed, audit_list, audit_participant};
use crate::error::{AppError, AppResult};
use crate::precondition::Precondition;
use crate::record::{Changed, log_write};
use handover_db::DbError;
use handover_db::participants::{self, ParticipantFilter};
use handover_domain::participant::{
    Participant, ParticipantInput, ParticipantPatch, ParticipantStatus, ProgrammeRecord,
    RecordChange, is_valid_d_number, is_valid_duf,
};
use handover_domain::{Action, Page, Paging, Relation, Validator};
use time::Date;
use uuid::Uuid;

/// What a list of participants may be narrowed by.
#[derive(Debug, Clone, Default)]
pub struct ParticipantQuery {
    pub status: Option<ParticipantStatus>,
    /// Arrived on or after this date.
    pub arrived_from: Option<Date>,
    /// Arrived on or before this date.
    pub arrived_to: Option<Date>,
    /// Part of the name.
    pub name: Option<String>,
    pub paging: Paging,
}

/// The participants the caller may see (sorted by family name, given name, id); one audit row
/// names those shown.
pub async fn list(app: &App, actor: &Actor, q: ParticipantQuery) -> AppResult<Page<Participant>> {
    actor.require(Action::ParticipantRead)?;
    let (limit, offset) = q.paging.resolve()?;
    if q.name.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(AppError::field(
            "name",
            "too_long",
            "must be at most 100 characters",
        ));
    }
    if q.name
        .as_ref()
        .is_some_and(|s| s.contains(char::is_control))
    {
        return Err(AppError::field(
            "name",
            "invalid_characters",
            "must not contain control characters",
        ));
    }
    if let (Some(a), Some(b)) = (q.arrived_from, q.arrived_to)
        && b < a
    {
        return Err(AppError::field(
            "arrived_to",
            "before_start",
            "must not be before arrived_from",
        ));
    }
    let centres = access::visible_centres(actor)?;
    let page = participants::list(
        &app.pool,
        &ParticipantFilter {
            centres,
            status: q.status,
            arrived_from: q.arrived_from,
            arrived_to: q.arrived_to,
            name: q.name,
            limit,
            offset,
        },
    )
    .await?;
    let ids: Vec<Uuid> = page.fact(|p| p.items.iter().map(|p| p.id).collect());
    let proof = audit_list(&app.pool, actor, "participant.list", &ids).await?;
    let page = page.open(&proof);
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(|p| p.as_seen_by(actor.caller.org_id))
            .collect(),
        total: page.total,
        limit,
        offset,
    })
}

/// Registers a participant at the caller's reception centre.
pub async fn create(
    app: &App,
    actor: &Actor,
    input: ParticipantInput,
) -> AppResult<Disclosed<Participant>> {
    actor.require(Action::ParticipantWrite)?;
    let granted = actor.check(Action::ParticipantWrite, Relation::Own)?;
    input.validate(app.today())?;
    crate::probe::check(app, actor).await?;
    let id = Uuid::now_v7();
    let mut tx = app.pool.begin().await?;
    if let Err(e) = participants::create(
        &mut *tx,
        id,
        actor.caller.org_id,
        &input,
        actor.caller.user_id,
    )
    .await
    {
        drop(tx);
        return Err(identifier_conflict(app, actor, "participant.create", e, &input).await);
    }
    let proof = log_write(
        &mut tx,
        actor,
        &granted,
        Changed {
            participant: id,
            section: "participant",
            record_id: id,
            operation: "create",
            fields: &[],
        },
    )
    .await?;
    let p = participants::get(&mut *tx, id).await?.open(&proof);
    tx.commit().await?;
    Ok(Disclosed::new(proof, Some(p.version), p))
}

/// One participant, as the caller may see it.
pub async fn get(app: &App, actor: &Actor, id: Uuid) -> AppResult<Disclosed<Participant>> {
    access::participant(app, actor, Action::ParticipantRead, id).await?;
    let p = participants::get(&app.pool, id).await?;
    let proof = audit_participant(&app.pool, actor, "participant.read", id).await?;
    let p = p.open(&proof).as_seen_by(actor.caller.org_id);
    Ok(Disclosed::new(proof, Some(p.version), p))
}

/// Changes a participant's core facts, at the version the caller edited.
pub async fn update(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: Precondition,
    patch: ParticipantPatch,
) -> AppResult<Disclosed<Participant>> {
    let (_, granted) = access::participant(app, actor, Action::ParticipantWrite, id).await?;
    let current = participants::get(&app.pool, id).await?;
    let version = expected.check(current.fact(|p| p.version))?;
    let (next, changed) = current.fact(|p| patch.apply(&p.data));
    if changed.is_empty() {
        // Nothing to change: no new version, no history line; but the answer carries the
        // record, so it is a read and audited as one.
        let proof = audit_participant(&app.pool, actor, "participant.read", id).await?;
        let current = current.open(&proof);
        return Ok(Disclosed::new(proof, Some(current.version), current));
    }
    next.validate(app.today())?;
    crate::probe::check(app, actor).await?;
    let mut tx = app.pool.begin().await?;
    let updated = match participants::update(&mut *tx, id, version, &next).await {
        Err(e) => {
            drop(tx);
            return Err(identifier_conflict(app, actor, "participant.update", e, &next).await);
        }
        Ok(u) => u,
    };
    if !updated {
        return Err(AppError::PreconditionFailed);
    }
    let proof = log_write(
        &mut tx,
        actor,
        &granted,
        Changed {
            participant: id,
            section: "participant",
            record_id: id,
            operation: "update",
            fields: &changed,
        },
    )
    .await?;
    let p = participants::get(&mut *tx, id).await?.open(&proof);
    tx.commit().await?;
    Ok(Disclosed::new(proof, Some(p.version), p))
}

/// Finds a participant by DUF number or D-number (exactly one of them), among those the caller
/// may see.
pub async fn lookup(
    app: &App,
    actor: &Actor,
    duf_number: Option<&str>,
    d_number: Option<&str>,
) -> AppResult<Disclosed<Participant>> {
    actor.require(Action::ParticipantRead)?;
    let mut v = Validator::new();
    match (duf_number, d_number) {
        (None, None) => v.add("duf_number", "required", "give a DUF number or a D-number"),
        (Some(_), Some(_)) => v.add("d_number", "not_allowed", "give one identifier, not both"),
        _ => {}
    }
    if let Some(d) = duf_number {
        v.check(
            is_valid_duf(d),
            "duf_number",
            "invalid_duf_number",
            "must be 12 digits, starting with the year",
        );
    }
    if let Some(d) = d_number {
        v.check(
            is_valid_d_number(d),
            "d_number",
            "invalid_d_number",
            "must be a valid 11-digit D-number",
        );
    }
    v.finish()?;
    let centres = access::visible_centres(actor)?;
    let p = participants::find_by_identifier(&app.pool, duf_number, d_number, &centres)
        .await?
        .transpose()
        .ok_or(AppError::NotFound)?;
    let proof = audit_participant(&app.pool, actor, "participant.lookup", p.fact(|p| p.id)).await?;
    let p = p.open(&proof).as_seen_by(actor.caller.org_id);
    Ok(Disclosed::new(proof, Some(p.version), p))
}

/// The whole full-time-programme record: identity, competence mapping, Norwegian training,
/// programme elements, placements, computed attendance, and when it was last brought up to date.
pub async fn record(app: &App, actor: &Actor, id: Uuid) -> AppResult<Disclosed<ProgrammeRecord>> {
    access::participant(app, actor, Action::ParticipantRead, id).await?;
    let mut conn = app.pool.acquire().await?;
    let r = participants::record(&mut conn, id).await?;
    drop(conn);
    let proof = audit_participant(&app.pool, actor, "participant.record_read", id).await?;
    let mut r = r.open(&proof);
    r.participant = r.participant.as_seen_by(actor.caller.org_id);
    Ok(Disclosed::new(proof, None, r))
}

/// Who changed which part of the record when (field names, never values), newest first.
pub async fn history(
    app: &App,
    actor: &Actor,
    id: Uuid,
    paging: Paging,
) -> AppResult<Disclosed<Page<RecordChange>>> {
    access::participant(app, actor, Action::ParticipantRead, id).await?;
    let (limit, offset) = paging.resolve()?;
    let page = participants::history(&app.pool, id, limit, offset).await?;
    let proof = audit_participant(&app.pool, actor, "participant.history_read", id).await?;
    let page = page.open(&proof);
    Ok(Disclosed::new(
        proof,
        None,
        Page {
            items: page.items,
            total: page.total,
            limit,
            offset,
        },
    ))
}

/// A DUF number or D-number that is registered already, at this centre or another, answers
/// alike: it cannot be registered here. The conflict is audited with the participant it hit
/// and counted as a probe (`crate::probe`).
async fn identifier_conflict(
    app: &App,
    actor: &Actor,
    action: &str,
    e: DbError,
    input: &ParticipantInput,
) -> AppError {
    let (duf, d_number, message) = match &e {
        DbError::Conflict(c) if c.starts_with("participants_duf") => (
            input.duf_number.as_deref(),
            None,
            "This DUF number cannot be registered here.",
        ),
        DbError::Conflict(c) if c.starts_with("participants_d_number") => (
            None,
            input.d_number.as_deref(),
            "This D-number cannot be registered here.",
        ),
        _ => return e.into(),
    };
    let hit = participants::holder_of(&app.pool, duf, d_number)
        .await
        .ok()
        .flatten();
    crate::probe::conflict(app, actor, action, hit.map(|h| ("participant", h)), message).await
}
