//! Transfer conversations: either side proposes one to five slots, the other side accepts one
//! (or proposes others); confirmed conversations can be rescheduled or cancelled by either side;
//! afterwards either side records minutes. Calendar invitations go out through the outbox.

use crate::audit::audit;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch, RequestMeta};
use crate::idempotency::{IdempotencyKey, replayed};
use crate::invitations;
use crate::legacy::created;
use crate::paging::{Page, Paging};
use crate::routes::handovers::step;
use crate::routes::users::with_etag;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use handover_db::conversations::{self, Booking, ConversationScope};
use handover_db::{DbError, handovers, orgs};
use handover_domain::conversation::*;
use handover_domain::handover::{Handover, HandoverEvent, HandoverState};
use handover_domain::policy::ListScope;
use handover_domain::{Action, Relation, Validator};
use handover_mail::calendar::{Method, ics};
use serde::Deserialize;
use sqlx::PgConnection;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The relation of a conversation's handover to the caller, including the career centre that
/// serves the handover's reception centre. The lists use the same relation as SQL
/// ([`list_scope`], `conversations::ConversationScope`): change both together.
fn relation(auth: &Auth, h: &Handover) -> Relation {
    handover_domain::policy::conversation_relation(
        &auth.0,
        h.reception_centre_id,
        h.municipality_id,
        h.latest_file_version > 0,
    )
}

/// The conversations a list may show the caller: exactly those whose handover's [`relation`]
/// the caller's grants for `action` allow (403 when no grant applies).
fn list_scope(auth: &Auth, action: Action) -> ApiResult<ConversationScope> {
    let (everything, own, serving, recipient) = match auth.list_scope(action) {
        ListScope::Nothing => return Err(ApiError::Forbidden),
        ListScope::Everything => (true, false, false, false),
        ListScope::Related {
            own,
            serving,
            recipient,
        } => (false, own, serving, recipient),
    };
    Ok(ConversationScope {
        org: auth.0.org_id,
        everything,
        own,
        // `conversation_relation` finds `Serving` only through `Caller::serves`, which only a
        // career centre has; the SQL checks the kind too.
        serving,
        recipient,
    })
}

async fn authorize_handover(
    state: &AppState,
    auth: &Auth,
    action: Action,
    id: Uuid,
) -> ApiResult<Handover> {
    auth.require(action)?;
    let h = match handovers::get(&state.pool, id).await {
        Err(DbError::NotFound) => return Err(ApiError::NotFound),
        other => other?,
    };
    auth.check(action, relation(auth, &h))?;
    Ok(h)
}

/// The conversation and its handover, after checking access.
async fn authorize_conversation(
    state: &AppState,
    auth: &Auth,
    action: Action,
    id: Uuid,
) -> ApiResult<(Conversation, Handover)> {
    auth.require(action)?;
    let hid = conversations::handover_of(&state.pool, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let h = authorize_handover(state, auth, action, hid).await?;
    let mut conn = state.pool.acquire().await?;
    let c = conversations::get(&mut conn, id).await?;
    Ok((c, h))
}

fn booking_answer(b: Booking) -> ApiResult<()> {
    match b {
        Booking::Booked => Ok(()),
        Booking::Changed => Err(ApiError::PreconditionFailed),
        Booking::Conflict { name, start, end } => Err(ApiError::Conflict(format!(
            "{name} is already booked for another transfer conversation {} – {} (Oslo time).",
            invitations::when(start),
            invitations::when(end)
        ))),
    }
}

/// Checks that internal attendees belong to the centre, its career centre or the municipality;
/// anyone else answers 404, as if unknown.
async fn check_attendees(
    state: &AppState,
    h: &Handover,
    users: &[handover_domain::UserId],
) -> ApiResult<()> {
    let ids: Vec<Uuid> = users.iter().map(|u| u.0).collect();
    let ok = conversations::eligible_attendees(
        &state.pool,
        &ids,
        h.reception_centre_id,
        h.municipality_id,
    )
    .await?;
    if ids.iter().all(|i| ok.contains(i)) {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

async fn reload(db: &mut PgConnection, id: Uuid) -> ApiResult<Conversation> {
    Ok(conversations::get(db, id).await?)
}

/// Propose a transfer conversation for a handover (either side), with one to five slots.
/// With an `Idempotency-Key`, a retry gets the first answer again (`Idempotent-Replayed: true`).
#[utoipa::path(post, path = "/api/v1/handovers/{id}/conversations", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 255,
            pattern = "^[!-~]{1,255}$",
            description = "Makes a retry safe: the first answer to this key (per user, 24 hours) is replayed to the same request. 1 to 255 visible ASCII characters; `\"abc\"` (a structured-field string) and `abc` are the same key.")),
    request_body = ProposalInput,
    responses(
        (status = 201, body = Conversation, headers(("ETag" = String), ("Location" = String),
            ("Idempotent-Replayed" = String, description = "`true` when this is the stored answer to an earlier request with the same Idempotency-Key"))),
        (status = 400, description = "Malformed JSON or Idempotency-Key", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A conversation is already proposed or confirmed, or the handover is not open for one", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (`errors` names them), or the Idempotency-Key was used for a different request (`idempotency-key-reused`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn propose(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(hid): ApiPath<Uuid>,
    key: IdempotencyKey,
    ApiJson(p): ApiJson<ProposalInput>,
) -> ApiResult<Response> {
    let h = authorize_handover(&state, &auth, Action::ConversationManage, hid).await?;
    let idem = key.bind(&auth, Some(&p))?;
    let target = Some(("participant", h.participant_id));
    if let Some(r) = idem.replay(&state.pool).await? {
        return replayed(&state.pool, &auth, &meta, "conversation.propose", target, r).await;
    }
    p.validate(now()).map_err(ApiError::Validation)?;
    if !matches!(h.state, HandoverState::Received | HandoverState::Accepted) {
        return Err(ApiError::Conflict(format!(
            "A conversation can be proposed when the handover is received or accepted; it is `{}`.",
            h.state.as_str()
        )));
    }
    check_attendees(&state, &h, &p.internal_attendees).await?;
    let id = Uuid::now_v7();
    let mut tx = state.pool.begin().await?;
    if let Some(r) = idem.claim(&mut tx, Some(h.participant_id)).await? {
        drop(tx);
        return replayed(&state.pool, &auth, &meta, "conversation.propose", target, r).await;
    }
    conversations::create(&mut tx, id, hid, auth.0.org_id, auth.0.user_id, &p)
        .await
        .map_err(|e| match e {
            DbError::Conflict(c) if c == "conversations_one_live" => ApiError::Conflict(
                "A conversation is already proposed or confirmed for this handover.".into(),
            ),
            other => other.into(),
        })?;
    audit(
        &mut *tx,
        &auth,
        &meta,
        "conversation.propose",
        Some(("participant", h.participant_id)),
        "success",
    )
    .await?;
    let c = reload(&mut tx, id).await?;
    let res = created(format!("/api/v1/conversations/{id}"), c.version, c);
    let res = idem.store(&mut tx, res).await?;
    tx.commit().await?;
    Ok(res)
}

/// A handover's conversations, oldest first.
#[utoipa::path(get, path = "/api/v1/handovers/{id}/conversations", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), Paging),
    responses((status = 200, description = "The handover's conversations, oldest first", body = Page<Conversation>)))]
pub async fn for_handover(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(hid): ApiPath<Uuid>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<Page<Conversation>>> {
    let h = authorize_handover(&state, &auth, Action::ConversationRead, hid).await?;
    paging.resolve()?;
    let mut conn = state.pool.acquire().await?;
    let list = conversations::for_handover(&mut conn, hid).await?;
    drop(conn);
    audit(
        &state.pool,
        &auth,
        &meta,
        "conversation.read",
        Some(("participant", h.participant_id)),
        "success",
    )
    .await?;
    Ok(Json(Page::slice(list, &paging)?))
}

/// Read a conversation (times in UTC and Europe/Oslo).
#[utoipa::path(operation_id = "get_conversation", get, path = "/api/v1/conversations/{id}", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Conversation, headers(("ETag" = String)))))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let (c, h) = authorize_conversation(&state, &auth, Action::ConversationRead, id).await?;
    audit(
        &state.pool,
        &auth,
        &meta,
        "conversation.read",
        Some(("participant", h.participant_id)),
        "success",
    )
    .await?;
    Ok(with_etag(c.version, Json(c)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptSlot {
    /// Position of the chosen slot (0-based).
    pub slot: i32,
}

/// Accept one of the proposed slots (the side that did not propose them). The conversation is
/// confirmed, every internal attendee is booked (409 naming a double booking), the handover moves
/// to `conversation_scheduled`, and every attendee with an address gets an invitation.
#[utoipa::path(operation_id = "accept_conversation", post, path = "/api/v1/conversations/{id}/accept", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the conversation")),
    request_body = AcceptSlot,
    responses(
        (status = 200, body = Conversation, headers(("ETag" = String))),
        (status = 409, description = "Double booking, own proposal, or handover not accepted", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn accept(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<AcceptSlot>,
) -> ApiResult<Response> {
    let (c, h) = authorize_conversation(&state, &auth, Action::ConversationManage, id).await?;
    let version = if_match.check(c.version)?;
    if c.state != ConversationState::Proposed {
        return Err(ApiError::Conflict(format!(
            "The conversation is `{}`, not proposed.",
            c.state.as_str()
        )));
    }
    if c.proposed_by_organisation_id == auth.0.org_id {
        return Err(ApiError::Conflict(
            "The other side accepts a proposal; you can change your own by cancelling it.".into(),
        ));
    }
    if !c.slots.iter().any(|s| s.position == req.slot) {
        return Err(ApiError::field(
            "slot",
            "unknown_slot",
            "no proposed slot has this position",
        ));
    }
    if c.slots
        .iter()
        .any(|s| s.position == req.slot && s.start_utc <= now())
    {
        return Err(ApiError::field(
            "slot",
            "in_past",
            "this slot has passed; propose new ones",
        ));
    }
    let mut tx = state.pool.begin().await?;
    booking_answer(conversations::confirm(&mut tx, id, version, req.slot).await?)?;
    step(
        &mut tx,
        &auth,
        &h,
        h.version,
        HandoverEvent::ScheduleConversation,
        None,
    )
    .await?;
    let c = reload(&mut tx, id).await?;
    invitations::send(&mut tx, &state, &c, h.participant_id, Method::Request).await?;
    audit(
        &mut *tx,
        &auth,
        &meta,
        "conversation.confirm",
        Some(("participant", h.participant_id)),
        "success",
    )
    .await?;
    tx.commit().await?;
    Ok(with_etag(c.version, Json(c)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CounterProposal {
    pub slots: Vec<SlotInput>,
}

/// Propose other slots instead (the side that did not propose the current ones).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/counter-proposal", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the conversation")),
    request_body = CounterProposal,
    responses(
        (status = 200, body = Conversation, headers(("ETag" = String))),
        (status = 409, description = "Not proposed, or your own proposal", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn counter_propose(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<CounterProposal>,
) -> ApiResult<Response> {
    let (c, h) = authorize_conversation(&state, &auth, Action::ConversationManage, id).await?;
    let version = if_match.check(c.version)?;
    let mut v = Validator::new();
    validate_slots(&mut v, "slots", &req.slots, now());
    v.finish().map_err(ApiError::Validation)?;
    if c.state != ConversationState::Proposed || c.proposed_by_organisation_id == auth.0.org_id {
        return Err(ApiError::Conflict(
            "Only the other side can answer a proposal with other slots.".into(),
        ));
    }
    let mut tx = state.pool.begin().await?;
    if !conversations::counter_propose(&mut tx, id, version, auth.0.org_id, &req.slots).await? {
        return Err(ApiError::PreconditionFailed);
    }
    audit(
        &mut *tx,
        &auth,
        &meta,
        "conversation.counter_propose",
        Some(("participant", h.participant_id)),
        "success",
    )
    .await?;
    let c = reload(&mut tx, id).await?;
    tx.commit().await?;
    Ok(with_etag(c.version, Json(c)))
}

/// Move a confirmed conversation (either side). Attendees get an update with a higher SEQUENCE.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/reschedule", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the conversation")),
    request_body = SlotInput,
    responses(
        (status = 200, body = Conversation, headers(("ETag" = String))),
        (status = 409, description = "Not confirmed, or double booking", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn reschedule(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(slot): ApiJson<SlotInput>,
) -> ApiResult<Response> {
    let (c, h) = authorize_conversation(&state, &auth, Action::ConversationManage, id).await?;
    let version = if_match.check(c.version)?;
    let mut v = Validator::new();
    validate_slot(&mut v, "", &slot, now());
    v.finish().map_err(ApiError::Validation)?;
    if c.state != ConversationState::Confirmed {
        return Err(ApiError::Conflict(format!(
            "Only a confirmed conversation can be moved; it is `{}`.",
            c.state.as_str()
        )));
    }
    let mut tx = state.pool.begin().await?;
    booking_answer(
        conversations::reschedule(&mut tx, id, version, slot.start, slot.duration_minutes).await?,
    )?;
    let c = reload(&mut tx, id).await?;
    invitations::send(&mut tx, &state, &c, h.participant_id, Method::Request).await?;
    audit(
        &mut *tx,
        &auth,
        &meta,
        "conversation.reschedule",
        Some(("participant", h.participant_id)),
        "success",
    )
    .await?;
    tx.commit().await?;
    Ok(with_etag(c.version, Json(c)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelConversation {
    #[schema(max_length = 2000)]
    pub reason: String,
}

/// Cancel a proposed or confirmed conversation (either side), with a reason. Attendees of a
/// confirmed one get a cancellation (METHOD:CANCEL, same UID, higher SEQUENCE), and the handover
/// is open for a new conversation.
#[utoipa::path(operation_id = "cancel_conversation", post, path = "/api/v1/conversations/{id}/cancel", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the conversation")),
    request_body = CancelConversation,
    responses(
        (status = 200, body = Conversation, headers(("ETag" = String))),
        (status = 409, description = "Already held or cancelled", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<CancelConversation>,
) -> ApiResult<Response> {
    let (c, h) = authorize_conversation(&state, &auth, Action::ConversationManage, id).await?;
    let version = if_match.check(c.version)?;
    handover_domain::handover::validate_reason("reason", &req.reason)
        .map_err(ApiError::Validation)?;
    let mut tx = state.pool.begin().await?;
    let c = cancel_in(&mut tx, &state, &auth, &c, &h, version, req.reason.trim()).await?;
    audit(
        &mut *tx,
        &auth,
        &meta,
        "conversation.cancel",
        Some(("participant", h.participant_id)),
        "success",
    )
    .await?;
    tx.commit().await?;
    Ok(with_etag(c.version, Json(c)))
}

/// Cancels a live conversation, notifies its attendees, and reopens the handover for a new one.
/// Also used when the centre cancels the whole handover.
pub(crate) async fn cancel_in(
    tx: &mut PgConnection,
    state: &AppState,
    auth: &Auth,
    c: &Conversation,
    h: &Handover,
    version: i32,
    reason: &str,
) -> ApiResult<Conversation> {
    if !matches!(
        c.state,
        ConversationState::Proposed | ConversationState::Confirmed
    ) {
        return Err(ApiError::Conflict(format!(
            "The conversation is already `{}`.",
            c.state.as_str()
        )));
    }
    if !conversations::cancel(tx, c.id, version, c.state, reason).await? {
        return Err(ApiError::PreconditionFailed);
    }
    let updated = reload(tx, c.id).await?;
    if c.state == ConversationState::Confirmed {
        invitations::send(tx, state, &updated, h.participant_id, Method::Cancel).await?;
        if h.state == HandoverState::ConversationScheduled {
            step(
                tx,
                auth,
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

/// Record that the conversation was held (the handover is then completed) or that the
/// participant did not attend (the handover stays open for a new conversation), with minutes and
/// agreed actions, each with a responsible organisation.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/minutes", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the conversation")),
    request_body = MinutesInput,
    responses(
        (status = 200, body = Conversation, headers(("ETag" = String))),
        (status = 409, description = "Not confirmed, or not started yet", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn minutes(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(m): ApiJson<MinutesInput>,
) -> ApiResult<Response> {
    let (c, h) = authorize_conversation(&state, &auth, Action::ConversationManage, id).await?;
    let version = if_match.check(c.version)?;
    m.validate().map_err(ApiError::Validation)?;
    // Responsible organisations must be one of the parties.
    let parties = [h.reception_centre_id, h.municipality_id];
    let serving = orgs::get(&state.pool, h.reception_centre_id)
        .await?
        .served_by_career_centre_id;
    for (i, a) in m.actions.iter().enumerate() {
        if !parties.contains(&a.responsible_organisation_id)
            && Some(a.responsible_organisation_id) != serving
        {
            return Err(ApiError::field(
                &format!("actions[{i}].responsible_organisation_id"),
                "not_a_party",
                "must be the centre, its career centre or the municipality",
            ));
        }
    }
    if c.state != ConversationState::Confirmed {
        return Err(ApiError::Conflict(format!(
            "Minutes are recorded for a confirmed conversation; it is `{}`.",
            c.state.as_str()
        )));
    }
    if c.confirmed_slot
        .as_ref()
        .is_some_and(|s| s.start_utc > now())
    {
        return Err(ApiError::Conflict(
            "The conversation has not started yet.".into(),
        ));
    }
    let mut tx = state.pool.begin().await?;
    if !conversations::record_minutes(&mut tx, id, version, &m, &auth.0.name).await? {
        return Err(ApiError::PreconditionFailed);
    }
    let event = match m.outcome {
        Outcome::Held => HandoverEvent::Complete,
        Outcome::NoShow => HandoverEvent::UnscheduleConversation,
    };
    if h.state == HandoverState::ConversationScheduled {
        step(&mut tx, &auth, &h, h.version, event, None).await?;
    }
    audit(
        &mut *tx,
        &auth,
        &meta,
        "conversation.minutes",
        Some(("participant", h.participant_id)),
        "success",
    )
    .await?;
    let c = reload(&mut tx, id).await?;
    tx.commit().await?;
    Ok(with_etag(c.version, Json(c)))
}

/// The conversation as an iCalendar file (METHOD:PUBLISH), for calendars without e-mail.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/calendar.ics", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "text/calendar", content_type = "text/calendar", body = String),
        (status = 409, description = "Not confirmed", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn calendar(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let (c, h) = authorize_conversation(&state, &auth, Action::ConversationRead, id).await?;
    audit(
        &state.pool,
        &auth,
        &meta,
        "conversation.calendar_read",
        Some(("participant", h.participant_id)),
        "success",
    )
    .await?;
    let method = if c.state == ConversationState::Cancelled {
        Method::Cancel
    } else {
        Method::Publish
    };
    let mut conn = state.pool.acquire().await?;
    let organiser = invitations::organiser(&mut conn, &state, &c).await?;
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
    let ev = invitations::event(&state, &c, method, to, &organiser, true)
        .ok_or_else(|| ApiError::Conflict("The conversation has no agreed time yet.".into()))?;
    let mut res = ics(&ev).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if method == Method::Cancel {
            "text/calendar; charset=utf-8; method=CANCEL"
        } else {
            "text/calendar; charset=utf-8; method=PUBLISH"
        }),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"overforingssamtale-{}.ics\"",
        c.handover_reference
    )) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// The caller's upcoming confirmed conversations, soonest first: those they attend and may
/// read (the same access as `GET /conversations/{id}`).
#[utoipa::path(get, path = "/api/v1/me/conversations", tag = "conversations",
    security(("bearer" = [])),
    params(Paging),
    responses((status = 200, description = "The caller's upcoming conversations, soonest first", body = Page<Conversation>)))]
pub async fn mine(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<Page<Conversation>>> {
    auth.require(Action::ConversationRead)?;
    let scope = list_scope(&auth, Action::ConversationRead)?;
    let (limit, offset) = paging.resolve()?;
    let mut conn = state.pool.acquire().await?;
    let (items, total) =
        conversations::upcoming_for_user(&mut conn, auth.0.user_id, &scope, limit, offset).await?;
    audit_shown(&mut conn, &auth, &meta, &items).await?;
    Ok(Json(Page {
        items,
        total,
        limit,
        offset,
    }))
}

/// One audit row per participant whose conversation a list shows.
async fn audit_shown(
    conn: &mut PgConnection,
    auth: &Auth,
    meta: &RequestMeta,
    list: &[Conversation],
) -> ApiResult<()> {
    let handover_ids: Vec<Uuid> = list.iter().map(|c| c.handover_id).collect();
    let shown = handovers::participants_of(&mut *conn, &handover_ids).await?;
    crate::audit::audit_list(&mut *conn, auth, meta, "conversation.list", &shown).await?;
    Ok(())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConversationQuery {
    /// From this instant (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<OffsetDateTime>,
    /// Before this instant (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<OffsetDateTime>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

/// The conversations the caller may read (the same access as `GET /conversations/{id}`: the
/// centre's handovers, those sent to the municipality, those of the centre the career centre
/// serves), newest first.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations",
    security(("bearer" = [])),
    params(ConversationQuery),
    responses((status = 200, description = "The conversations, newest first", body = Page<Conversation>)))]
pub async fn for_org(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiQuery(q): ApiQuery<ConversationQuery>,
) -> ApiResult<Json<Page<Conversation>>> {
    auth.require(Action::ConversationRead)?;
    let scope = list_scope(&auth, Action::ConversationRead)?;
    let (limit, offset) = Paging {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve()?;
    let mut conn = state.pool.acquire().await?;
    let (items, total) =
        conversations::for_org(&mut conn, &scope, q.from, q.to, limit, offset).await?;
    audit_shown(&mut conn, &auth, &meta, &items).await?;
    Ok(Json(Page {
        items,
        total,
        limit,
        offset,
    }))
}

/// Sends due reminders. Every instance may call this; each reminder is claimed once, and the
/// claim commits together with the queued e-mails, so a failure loses nothing.
pub async fn send_due_reminders(state: &AppState, before: time::Duration) -> ApiResult<usize> {
    let mut tx = state.pool.begin().await?;
    let ids = conversations::claim_reminders(&mut *tx, before).await?;
    for id in &ids {
        let c = reload(&mut tx, *id).await?;
        let h = handovers::get(&mut *tx, c.handover_id).await?;
        invitations::remind(&mut tx, state, &c, h.participant_id).await?;
    }
    tx.commit().await?;
    Ok(ids.len())
}
