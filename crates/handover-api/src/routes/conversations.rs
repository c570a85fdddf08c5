//! Transfer conversations: either side proposes one to five slots, the other side accepts one
//! (or proposes others); confirmed conversations can be rescheduled or cancelled by either side;
//! afterwards either side records minutes (`handover_app::conversations`). Calendar invitations
//! go out through the outbox.

use crate::answer::disclosed;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch};
use crate::idempotency::{IdempotencyKey, respond, stored};
use crate::paging::{Page, Paging};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use handover_app::conversations as uc;
use handover_app::{Disclosed, Idempotency, Outcome};
use handover_domain::conversation::*;
use handover_mail::calendar::Method;
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

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
    ApiPath(hid): ApiPath<Uuid>,
    key: IdempotencyKey,
    ApiJson(p): ApiJson<ProposalInput>,
) -> ApiResult<Response> {
    let idem = Idempotency::bind(key.request(), &auth, Some(&p))?;
    let render = |d: &Disclosed<Conversation>| {
        stored(
            StatusCode::CREATED,
            Some(format!("/api/v1/conversations/{}", d.body.id)),
            d.version,
            &d.body,
        )
    };
    match uc::propose(&state, &auth, hid, p, idem, &render).await? {
        Outcome::Done(d) => Ok(respond(render(&d)?, false)),
        Outcome::Replayed(a) => Ok(respond(a, true)),
    }
}

/// A handover's conversations, oldest first.
#[utoipa::path(get, path = "/api/v1/handovers/{id}/conversations", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), Paging),
    responses((status = 200, description = "The handover's conversations, oldest first", body = Page<Conversation>)))]
pub async fn for_handover(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(hid): ApiPath<Uuid>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<Page<Conversation>>> {
    Ok(Json(
        uc::for_handover(&state, &auth, hid, paging).await?.body,
    ))
}

/// Read a conversation (times in UTC and Europe/Oslo).
#[utoipa::path(operation_id = "get_conversation", get, path = "/api/v1/conversations/{id}", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Conversation, headers(("ETag" = String)))))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    Ok(disclosed(uc::get(&state, &auth, id).await?))
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
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<AcceptSlot>,
) -> ApiResult<Response> {
    let d = uc::accept(&state, &auth, id, if_match.precondition(), req.slot).await?;
    Ok(disclosed(d))
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
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<CounterProposal>,
) -> ApiResult<Response> {
    let d = uc::counter_propose(&state, &auth, id, if_match.precondition(), req.slots).await?;
    Ok(disclosed(d))
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
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(slot): ApiJson<SlotInput>,
) -> ApiResult<Response> {
    let d = uc::reschedule(&state, &auth, id, if_match.precondition(), slot).await?;
    Ok(disclosed(d))
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
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<CancelConversation>,
) -> ApiResult<Response> {
    let d = uc::cancel(&state, &auth, id, if_match.precondition(), &req.reason).await?;
    Ok(disclosed(d))
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
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(m): ApiJson<MinutesInput>,
) -> ApiResult<Response> {
    let d = uc::minutes(&state, &auth, id, if_match.precondition(), m).await?;
    Ok(disclosed(d))
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
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let file = uc::calendar(&state, &auth, id).await?.body;
    let mut res = file.ics.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if file.method == Method::Cancel {
            "text/calendar; charset=utf-8; method=CANCEL"
        } else {
            "text/calendar; charset=utf-8; method=PUBLISH"
        }),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"overforingssamtale-{}.ics\"",
        file.handover_reference
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
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<Page<Conversation>>> {
    Ok(Json(uc::mine(&state, &auth, paging).await?))
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
    ApiQuery(q): ApiQuery<ConversationQuery>,
) -> ApiResult<Json<Page<Conversation>>> {
    let q = uc::ConversationQuery {
        from: q.from,
        to: q.to,
        paging: Paging {
            limit: q.limit,
            offset: q.offset,
        },
    };
    Ok(Json(uc::for_org(&state, &auth, q).await?))
}
