//! Transfer conversations: either side proposes one to five slots, the other side accepts one
//! (or proposes others); confirmed conversations can be rescheduled or cancelled by either side;
//! afterwards either side records minutes. Calendar invitations go out through the outbox
//! (`crate::invitations`), in the transaction of the change.

use crate::App;
use crate::actor::{Actor, Granted};
use crate::audit::{Audited, Disclosed, Sealed, audit_list, audit_participant};
use crate::error::{AppError, AppResult};
use crate::handovers::step;
use crate::idempotency::{Idempotency, Outcome, StoredAnswer, replayed};
use crate::invitations;
use crate::precondition::Precondition;
use handover_db::conversations::{self, Booking, ConversationScope};
use handover_db::{DbError, handovers, orgs};
use handover_domain::conversation::{
    Conversation, ConversationState, MinutesInput, ProposalInput, SlotInput, validate_slot,
    validate_slots,
};
use handover_domain::handover::{HandoverEvent, HandoverHead, HandoverState};
use handover_domain::policy::{self, ListScope};
use handover_domain::{Action, Page, Paging, Relation, UserId, Validator};
use handover_mail::calendar::{Method, ics};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// The audit action of a proposal (and of its replay).
pub const PROPOSE: &str = "conversation.propose";

/// The relation of a conversation's handover to the caller, including the career centre that
/// serves the handover's reception centre. The lists use the same relation as SQL
/// ([`list_scope`], `conversations::ConversationScope`): change both together.
pub fn relation(actor: &Actor, h: &HandoverHead) -> Relation {
    policy::conversation_relation(
        &actor.caller,
        h.reception_centre_id,
        h.municipality_id,
        h.latest_file_version > 0,
    )
}

/// The conversations a list may show the caller: exactly those whose handover's [`relation`]
/// the caller's grants for `action` allow (403 when no grant applies).
fn list_scope(actor: &Actor, action: Action) -> AppResult<ConversationScope> {
    let (everything, own, serving, recipient) = match actor.list_scope(action) {
        ListScope::Nothing => return Err(AppError::Forbidden),
        ListScope::Everything => (true, false, false, false),
        ListScope::Related {
            own,
            serving,
            recipient,
        } => (false, own, serving, recipient),
    };
    Ok(ConversationScope {
        org: actor.caller.org_id,
        everything,
        own,
        // `conversation_relation` finds `Serving` only through `Caller::serves`, which only a
        // career centre has; the SQL checks the kind too.
        serving,
        recipient,
    })
}

/// The handover, after checking the caller may do `action` to its conversations. Unlike
/// `crate::access::handover` the relation is [`relation`]: the serving career centre takes part
/// in the conversation.
pub async fn authorize_handover(
    app: &App,
    actor: &Actor,
    action: Action,
    id: Uuid,
) -> AppResult<(HandoverHead, Granted)> {
    crate::access::handover_as(app, actor, action, id, relation).await
}

/// The conversation and its handover, after checking access.
pub async fn authorize_conversation(
    app: &App,
    actor: &Actor,
    action: Action,
    id: Uuid,
) -> AppResult<(Sealed<Conversation>, HandoverHead, Granted)> {
    actor.require(action)?;
    let hid = conversations::handover_of(&app.pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (h, granted) = authorize_handover(app, actor, action, hid).await?;
    let mut conn = app.pool.acquire().await?;
    let c = conversations::get(&mut conn, id).await?;
    Ok((c, h, granted))
}

fn booking_answer(b: Booking) -> AppResult<()> {
    match b {
        Booking::Booked => Ok(()),
        Booking::Changed => Err(AppError::PreconditionFailed),
        Booking::Conflict { name, start, end } => Err(AppError::DoubleBooked { name, start, end }),
    }
}

/// Checks that internal attendees belong to the centre, its career centre or the municipality;
/// anyone else answers 404, as if unknown.
async fn check_attendees(app: &App, h: &HandoverHead, users: &[UserId]) -> AppResult<()> {
    let ids: Vec<Uuid> = users.iter().map(|u| u.0).collect();
    let ok = conversations::eligible_attendees(
        &app.pool,
        &ids,
        h.reception_centre_id,
        h.municipality_id,
    )
    .await?;
    if ids.iter().all(|i| ok.contains(i)) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

async fn reload(db: &mut PgConnection, id: Uuid) -> AppResult<Sealed<Conversation>> {
    Ok(conversations::get(db, id).await?)
}

/// Every answer with a conversation discloses its participant's handover: audited first.
fn disclosed(proof: Audited, c: Sealed<Conversation>) -> Disclosed<Conversation> {
    let c = c.open(&proof);
    Disclosed::new(proof, Some(c.version), c)
}

fn target(h: &HandoverHead) -> Option<(&'static str, Uuid)> {
    Some(("participant", h.participant_id))
}

/// Proposes a transfer conversation for a handover (either side), with one to five slots. With
/// a key, a retry gets the first answer again.
pub async fn propose(
    app: &App,
    actor: &Actor,
    handover: Uuid,
    input: ProposalInput,
    idem: Idempotency,
    render: &(dyn Fn(&Disclosed<Conversation>) -> AppResult<StoredAnswer> + Sync),
) -> AppResult<Outcome<Disclosed<Conversation>>> {
    let (h, _) = authorize_handover(app, actor, Action::ConversationManage, handover).await?;
    if let Some(a) = idem.replay(&app.pool).await? {
        return replayed(&app.pool, actor, PROPOSE, target(&h), a).await;
    }
    input.validate(app.now())?;
    if !matches!(h.state, HandoverState::Received | HandoverState::Accepted) {
        return Err(AppError::Conflict(format!(
            "A conversation can be proposed when the handover is received or accepted; it is `{}`.",
            h.state.as_str()
        )));
    }
    check_attendees(app, &h, &input.internal_attendees).await?;
    let id = Uuid::now_v7();
    let mut tx = app.pool.begin().await?;
    if let Some(a) = idem.claim(&mut tx, Some(h.participant_id)).await? {
        drop(tx);
        return replayed(&app.pool, actor, PROPOSE, target(&h), a).await;
    }
    conversations::create(
        &mut tx,
        id,
        handover,
        actor.caller.org_id,
        actor.caller.user_id,
        &input,
    )
    .await
    .map_err(|e| match e {
        DbError::Conflict(c) if c == "conversations_one_live" => AppError::Conflict(
            "A conversation is already proposed or confirmed for this handover.".into(),
        ),
        other => other.into(),
    })?;
    let proof = audit_participant(&mut *tx, actor, PROPOSE, h.participant_id).await?;
    let c = disclosed(proof, reload(&mut tx, id).await?);
    if idem.is_some() {
        idem.store(&mut tx, &render(&c)?).await?;
    }
    tx.commit().await?;
    Ok(Outcome::Done(c))
}

/// Someone who may be invited to a handover's conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub user_id: UserId,
    pub name: String,
    pub organisation_id: handover_domain::OrgId,
    pub organisation_name: String,
}

/// The staff who may attend a handover's conversation: the centre's, its career centre's and
/// the municipality's (for the forms that propose one; only for those who may).
pub async fn attendee_candidates(
    app: &App,
    actor: &Actor,
    handover: Uuid,
) -> AppResult<Vec<Candidate>> {
    let (h, _) = authorize_handover(app, actor, Action::ConversationManage, handover).await?;
    let rows =
        conversations::attendee_candidates(&app.pool, h.reception_centre_id, h.municipality_id)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(u, name, o, org)| Candidate {
            user_id: UserId(u),
            name,
            organisation_id: handover_domain::OrgId(o),
            organisation_name: org,
        })
        .collect())
}

/// A handover's conversations, oldest first.
pub async fn for_handover(
    app: &App,
    actor: &Actor,
    handover: Uuid,
    paging: Paging,
) -> AppResult<Disclosed<Page<Conversation>>> {
    let (h, _) = authorize_handover(app, actor, Action::ConversationRead, handover).await?;
    paging.resolve()?;
    let mut conn = app.pool.acquire().await?;
    let list = conversations::for_handover(&mut conn, handover).await?;
    drop(conn);
    let proof = audit_participant(&app.pool, actor, "conversation.read", h.participant_id).await?;
    let list = list.open(&proof);
    Ok(Disclosed::new(proof, None, Page::slice(list, &paging)?))
}

/// One conversation (times in UTC and Europe/Oslo).
pub async fn get(app: &App, actor: &Actor, id: Uuid) -> AppResult<Disclosed<Conversation>> {
    let (c, h, _) = authorize_conversation(app, actor, Action::ConversationRead, id).await?;
    let proof = audit_participant(&app.pool, actor, "conversation.read", h.participant_id).await?;
    Ok(disclosed(proof, c))
}

/// A conversation as its page shows it: what the caller may do, and to whom an agreed action
/// can be given.
#[derive(Debug, Clone)]
pub struct ConversationView {
    pub conversation: Conversation,
    pub handover_state: HandoverState,
    /// The caller may act on it: answer, move, cancel, write the minutes.
    pub may_manage: bool,
    /// The caller's organisation proposed the slots on the table (the other side answers).
    pub proposed_by_us: bool,
    /// The organisations an agreed action can be given to: the centre, its career centre (when
    /// it has one) and the municipality.
    pub parties: Vec<(handover_domain::OrgId, String)>,
    /// The actions agreed in the minutes, with where each stands.
    pub actions: Vec<handover_domain::conversation::TrackedAction>,
    /// The caller follows up the actions its organisation is responsible for.
    pub follows_up: bool,
}

/// The organisations of a handover that take part in its conversation.
async fn parties(app: &App, h: &HandoverHead) -> AppResult<Vec<(handover_domain::OrgId, String)>> {
    let mut out = vec![(h.reception_centre_id, h.reception_centre_name.clone())];
    if let Some(cc) = orgs::get(&app.pool, h.reception_centre_id)
        .await?
        .served_by_career_centre_id
    {
        out.push((cc, orgs::get(&app.pool, cc).await?.name));
    }
    out.push((h.municipality_id, h.municipality_name.clone()));
    Ok(out)
}

/// Whether the caller may act on the conversations of a handover.
pub fn may_manage(actor: &Actor, h: &HandoverHead) -> bool {
    actor
        .check(Action::ConversationManage, relation(actor, h))
        .is_ok()
}

/// One conversation for its page: the read of [`get`] (the same audit row), with what the
/// caller may do with it.
pub async fn view(app: &App, actor: &Actor, id: Uuid) -> AppResult<Disclosed<ConversationView>> {
    let (c, h, _) = authorize_conversation(app, actor, Action::ConversationRead, id).await?;
    let may = may_manage(actor, &h);
    let parties = if may {
        parties(app, &h).await?
    } else {
        Vec::new()
    };
    let actions = handover_db::actions::of_conversation(&app.pool, id, app.today()).await?;
    let proof = audit_participant(&app.pool, actor, "conversation.read", h.participant_id).await?;
    let actions = actions.open(&proof);
    let c = disclosed(proof, c);
    Ok(c.map(|c| ConversationView {
        proposed_by_us: c.proposed_by_organisation_id == actor.caller.org_id,
        conversation: c,
        handover_state: h.state,
        may_manage: may,
        parties,
        actions,
        follows_up: actor.require(Action::AgreedActionFollowUp).is_ok(),
    }))
}

/// Accepts the proposed slot at `slot` (its position; the side that did not propose). The
/// conversation is confirmed, every internal attendee is booked (409 naming a double booking),
/// the handover moves to `conversation_scheduled`, and every attendee with an address gets an
/// invitation.
pub async fn accept(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: Precondition,
    slot: i32,
) -> AppResult<Disclosed<Conversation>> {
    let (c, h, _) = authorize_conversation(app, actor, Action::ConversationManage, id).await?;
    let now = app.now();
    // The checks read the conversation's state; the conversation itself is answered below,
    // after its audit row.
    let version = c.fact(|c| -> AppResult<i32> {
        let version = expected.check(c.version)?;
        if c.state != ConversationState::Proposed {
            return Err(AppError::Conflict(format!(
                "The conversation is `{}`, not proposed.",
                c.state.as_str()
            )));
        }
        if c.proposed_by_organisation_id == actor.caller.org_id {
            return Err(AppError::Conflict(
                "The other side accepts a proposal; you can change your own by cancelling it."
                    .into(),
            ));
        }
        if !c.slots.iter().any(|s| s.position == slot) {
            return Err(AppError::field(
                "slot",
                "unknown_slot",
                "no proposed slot has this position",
            ));
        }
        if c.slots
            .iter()
            .any(|s| s.position == slot && s.start_utc <= now)
        {
            return Err(AppError::field(
                "slot",
                "in_past",
                "this slot has passed; propose new ones",
            ));
        }
        Ok(version)
    })?;
    let mut tx = app.pool.begin().await?;
    booking_answer(conversations::confirm(&mut tx, id, version, slot).await?)?;
    step(
        &mut tx,
        actor,
        &h,
        h.version,
        HandoverEvent::ScheduleConversation,
        None,
    )
    .await?;
    let proof =
        audit_participant(&mut *tx, actor, "conversation.confirm", h.participant_id).await?;
    let c = disclosed(proof, reload(&mut tx, id).await?);
    invitations::send(&mut tx, app, &c.body, h.participant_id, Method::Request).await?;
    tx.commit().await?;
    Ok(c)
}

/// Proposes other slots instead (the side that did not propose the current ones).
pub async fn counter_propose(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: Precondition,
    slots: Vec<SlotInput>,
) -> AppResult<Disclosed<Conversation>> {
    let (c, h, _) = authorize_conversation(app, actor, Action::ConversationManage, id).await?;
    let version = expected.check(c.fact(|c| c.version))?;
    let mut v = Validator::new();
    validate_slots(&mut v, "slots", &slots, app.now());
    v.finish()?;
    let (state, proposer) = c.fact(|c| (c.state, c.proposed_by_organisation_id));
    if state != ConversationState::Proposed || proposer == actor.caller.org_id {
        return Err(AppError::Conflict(
            "Only the other side can answer a proposal with other slots.".into(),
        ));
    }
    let mut tx = app.pool.begin().await?;
    if !conversations::counter_propose(&mut tx, id, version, actor.caller.org_id, &slots).await? {
        return Err(AppError::PreconditionFailed);
    }
    let proof = audit_participant(
        &mut *tx,
        actor,
        "conversation.counter_propose",
        h.participant_id,
    )
    .await?;
    let c = disclosed(proof, reload(&mut tx, id).await?);
    tx.commit().await?;
    Ok(c)
}

/// Moves a confirmed conversation (either side). Attendees get an update with a higher
/// SEQUENCE.
pub async fn reschedule(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: Precondition,
    slot: SlotInput,
) -> AppResult<Disclosed<Conversation>> {
    let (c, h, _) = authorize_conversation(app, actor, Action::ConversationManage, id).await?;
    let version = expected.check(c.fact(|c| c.version))?;
    let mut v = Validator::new();
    validate_slot(&mut v, "", &slot, app.now());
    v.finish()?;
    let state = c.fact(|c| c.state);
    if state != ConversationState::Confirmed {
        return Err(AppError::Conflict(format!(
            "Only a confirmed conversation can be moved; it is `{}`.",
            state.as_str()
        )));
    }
    let mut tx = app.pool.begin().await?;
    booking_answer(
        conversations::reschedule(&mut tx, id, version, slot.start, slot.duration_minutes).await?,
    )?;
    let proof =
        audit_participant(&mut *tx, actor, "conversation.reschedule", h.participant_id).await?;
    let c = disclosed(proof, reload(&mut tx, id).await?);
    invitations::send(&mut tx, app, &c.body, h.participant_id, Method::Request).await?;
    tx.commit().await?;
    Ok(c)
}

/// Cancels a proposed or confirmed conversation (either side), with a reason. Attendees of a
/// confirmed one get a cancellation (METHOD:CANCEL, same UID, higher SEQUENCE), and the
/// handover is open for a new conversation.
pub async fn cancel(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: Precondition,
    reason: &str,
) -> AppResult<Disclosed<Conversation>> {
    let (c, h, _) = authorize_conversation(app, actor, Action::ConversationManage, id).await?;
    let (version, state) = c.fact(|c| (c.version, c.state));
    let version = expected.check(version)?;
    handover_domain::handover::validate_reason("reason", reason)?;
    let mut tx = app.pool.begin().await?;
    let proof = audit_participant(&mut *tx, actor, "conversation.cancel", h.participant_id).await?;
    let c = cancel_in(
        &mut tx,
        app,
        actor,
        (id, state),
        &h,
        version,
        reason.trim(),
        &proof,
    )
    .await?;
    tx.commit().await?;
    Ok(Disclosed::new(proof, Some(c.version), c))
}

/// Cancels a live conversation (`id` in `state`), notifies its attendees, and reopens the
/// handover for a new one. `proof` is the audit row of the cancellation, in `tx`.
// The arguments are what a cancellation needs; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn cancel_in(
    tx: &mut PgConnection,
    app: &App,
    actor: &Actor,
    (id, state): (Uuid, ConversationState),
    h: &HandoverHead,
    version: i32,
    reason: &str,
    proof: &Audited,
) -> AppResult<Conversation> {
    if !matches!(
        state,
        ConversationState::Proposed | ConversationState::Confirmed
    ) {
        return Err(AppError::Conflict(format!(
            "The conversation is already `{}`.",
            state.as_str()
        )));
    }
    if !conversations::cancel(tx, id, version, state, reason).await? {
        return Err(AppError::PreconditionFailed);
    }
    let updated = reload(tx, id).await?.open(proof);
    if state == ConversationState::Confirmed {
        invitations::send(tx, app, &updated, h.participant_id, Method::Cancel).await?;
        if h.state == HandoverState::ConversationScheduled {
            step(
                tx,
                actor,
                h,
                h.version,
                HandoverEvent::UnscheduleConversation,
                Some(reason),
            )
            .await?;
        }
    }
    Ok(updated)
}

/// Records that the conversation was held (the handover is then completed) or that the
/// participant did not attend (the handover stays open for a new conversation), with minutes
/// and agreed actions, each with a responsible organisation.
pub async fn minutes(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: Precondition,
    m: MinutesInput,
) -> AppResult<Disclosed<Conversation>> {
    let (c, h, _) = authorize_conversation(app, actor, Action::ConversationManage, id).await?;
    let (version, state, confirmed_start) = c.fact(|c| {
        (
            c.version,
            c.state,
            c.confirmed_slot.as_ref().map(|s| s.start_utc),
        )
    });
    let version = expected.check(version)?;
    m.validate()?;
    // Responsible organisations must be one of the parties.
    let parties = [h.reception_centre_id, h.municipality_id];
    let serving = orgs::get(&app.pool, h.reception_centre_id)
        .await?
        .served_by_career_centre_id;
    for (i, a) in m.actions.iter().enumerate() {
        if !parties.contains(&a.responsible_organisation_id)
            && Some(a.responsible_organisation_id) != serving
        {
            return Err(AppError::field(
                &format!("actions[{i}].responsible_organisation_id"),
                "not_a_party",
                "must be the centre, its career centre or the municipality",
            ));
        }
    }
    if state != ConversationState::Confirmed {
        return Err(AppError::Conflict(format!(
            "Minutes are recorded for a confirmed conversation; it is `{}`.",
            state.as_str()
        )));
    }
    let now = app.now();
    if confirmed_start.is_some_and(|start| start > now) {
        return Err(AppError::Conflict(
            "The conversation has not started yet.".into(),
        ));
    }
    let mut tx = app.pool.begin().await?;
    if !conversations::record_minutes(&mut tx, id, version, &m, &actor.caller.name).await? {
        return Err(AppError::PreconditionFailed);
    }
    handover_db::actions::insert(&mut tx, id, &m.actions).await?;
    let event = match m.outcome {
        handover_domain::conversation::Outcome::Held => HandoverEvent::Complete,
        handover_domain::conversation::Outcome::NoShow => HandoverEvent::UnscheduleConversation,
    };
    if h.state == HandoverState::ConversationScheduled {
        step(&mut tx, actor, &h, h.version, event, None).await?;
    }
    let proof =
        audit_participant(&mut *tx, actor, "conversation.minutes", h.participant_id).await?;
    let c = disclosed(proof, reload(&mut tx, id).await?);
    tx.commit().await?;
    Ok(c)
}

/// A conversation as an iCalendar file, for calendars without e-mail.
#[derive(Debug, Clone)]
pub struct CalendarFile {
    /// `Publish`, or `Cancel` for a cancelled conversation.
    pub method: Method,
    pub ics: String,
    pub handover_reference: String,
}

/// The conversation as an iCalendar file: METHOD:PUBLISH, or METHOD:CANCEL once cancelled; 409
/// while it has no agreed time. The read is audited even then.
pub async fn calendar(app: &App, actor: &Actor, id: Uuid) -> AppResult<Disclosed<CalendarFile>> {
    let (c, h, _) = authorize_conversation(app, actor, Action::ConversationRead, id).await?;
    let proof = audit_participant(
        &app.pool,
        actor,
        "conversation.calendar_read",
        h.participant_id,
    )
    .await?;
    let c = c.open(&proof);
    let method = if c.state == ConversationState::Cancelled {
        Method::Cancel
    } else {
        Method::Publish
    };
    let mut conn = app.pool.acquire().await?;
    let organiser = invitations::organiser(&mut conn, app, &c).await?;
    // PUBLISH has no ATTENDEE (RFC 5546 3.2.1); CANCEL names the attendees it cancels for.
    let to = if method == Method::Cancel {
        invitations::recipients(&mut conn, &c)
            .await?
            .into_iter()
            .map(|r| r.attendee)
            .collect()
    } else {
        Vec::new()
    };
    drop(conn);
    let ev = invitations::event(app, &c, method, to, &organiser, true)
        .ok_or_else(|| AppError::Conflict("The conversation has no agreed time yet.".into()))?;
    Ok(Disclosed::new(
        proof,
        None,
        CalendarFile {
            method,
            ics: ics(&ev),
            handover_reference: c.handover_reference,
        },
    ))
}

/// One audit row naming every participant whose conversation a list shows; then the list.
async fn audit_shown(
    conn: &mut PgConnection,
    actor: &Actor,
    page: Sealed<(Vec<Conversation>, i64)>,
) -> AppResult<(Vec<Conversation>, i64)> {
    let handover_ids: Vec<Uuid> = page.fact(|(l, _)| l.iter().map(|c| c.handover_id).collect());
    let shown = handovers::participants_of(&mut *conn, &handover_ids).await?;
    let proof = audit_list(&mut *conn, actor, "conversation.list", &shown).await?;
    Ok(page.open(&proof))
}

/// The caller's upcoming confirmed conversations, soonest first: those they attend and may
/// read (the same access as [`get`]).
pub async fn mine(app: &App, actor: &Actor, paging: Paging) -> AppResult<Page<Conversation>> {
    mine_in(app, actor, paging, true).await
}

/// Every conversation the caller attends or proposed, coming, being agreed and past (for the
/// web application's list and week).
pub async fn all_mine(app: &App, actor: &Actor, paging: Paging) -> AppResult<Page<Conversation>> {
    mine_in(app, actor, paging, false).await
}

async fn mine_in(
    app: &App,
    actor: &Actor,
    paging: Paging,
    upcoming: bool,
) -> AppResult<Page<Conversation>> {
    actor.require(Action::ConversationRead)?;
    let scope = list_scope(actor, Action::ConversationRead)?;
    let (limit, offset) = paging.resolve()?;
    let mut conn = app.pool.acquire().await?;
    let user = actor.caller.user_id;
    let page = if upcoming {
        conversations::upcoming_for_user(&mut conn, user, &scope, limit, offset).await?
    } else {
        conversations::all_for_user(&mut conn, user, &scope, limit, offset).await?
    };
    let (items, total) = audit_shown(&mut conn, actor, page).await?;
    Ok(Page {
        items,
        total,
        limit,
        offset,
    })
}

/// What the organisation's list of conversations may be narrowed by.
#[derive(Debug, Clone, Default)]
pub struct ConversationQuery {
    /// From this instant.
    pub from: Option<OffsetDateTime>,
    /// Before this instant.
    pub to: Option<OffsetDateTime>,
    pub paging: Paging,
}

/// The conversations the caller may read (the same access as [`get`]: the centre's handovers,
/// those sent to the municipality, those of the centre the career centre serves), newest first.
pub async fn for_org(
    app: &App,
    actor: &Actor,
    q: ConversationQuery,
) -> AppResult<Page<Conversation>> {
    actor.require(Action::ConversationRead)?;
    let scope = list_scope(actor, Action::ConversationRead)?;
    let (limit, offset) = q.paging.resolve()?;
    let mut conn = app.pool.acquire().await?;
    let page = conversations::for_org(&mut conn, &scope, q.from, q.to, limit, offset).await?;
    let (items, total) = audit_shown(&mut conn, actor, page).await?;
    Ok(Page {
        items,
        total,
        limit,
        offset,
    })
}

/// Sends due reminders. Every instance may call this; each reminder is claimed once, and the
/// claim commits together with the queued e-mails, so a failure loses nothing.
pub async fn send_due_reminders(app: &App, before: time::Duration) -> AppResult<usize> {
    let mut tx = app.pool.begin().await?;
    let ids = conversations::claim_reminders(&mut *tx, before).await?;
    for id in &ids {
        // A reminder repeats to the attendees the time and place they agreed on, and never
        // names the participant; no caller reads anything, so there is no audit row to open the
        // conversation with: the service takes what the reminder needs from it.
        let c = reload(&mut tx, *id).await?.fact(Conversation::clone);
        let h = handovers::head(&mut *tx, c.handover_id).await?;
        invitations::remind(&mut tx, app, &c, h.participant_id).await?;
    }
    tx.commit().await?;
    Ok(ids.len())
}
