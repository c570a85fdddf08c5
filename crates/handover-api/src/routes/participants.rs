//! Participants: created and edited by staff of their reception centre, readable by the career
//! centre that serves it. Every read and write is audited (in `handover_app::participants`); DUF
//! and D-numbers travel only in bodies.

use crate::answer::{disclosed, disclosed_created};
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch};
use crate::paging::{Page, Paging};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use handover_app::participants as uc;
use handover_domain::participant::{
    Participant, ParticipantInput, ParticipantPatch, ParticipantStatus, ProgrammeRecord,
    RecordChange,
};
use serde::Deserialize;
use time::Date;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ParticipantQuery {
    pub status: Option<ParticipantStatus>,
    /// Arrived on or after this date.
    pub arrived_from: Option<Date>,
    /// Arrived on or before this date.
    pub arrived_to: Option<Date>,
    /// Part of the name.
    #[param(max_length = 100)]
    pub name: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

/// List participants (sorted by family name, given name, id).
#[utoipa::path(operation_id = "list_participants", get, path = "/api/v1/participants", tag = "participants",
    security(("bearer" = [])),
    params(ParticipantQuery),
    responses((status = 200, body = Page<Participant>)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ParticipantQuery>,
) -> ApiResult<Json<Page<Participant>>> {
    let q = uc::ParticipantQuery {
        status: q.status,
        arrived_from: q.arrived_from,
        arrived_to: q.arrived_to,
        name: q.name,
        paging: Paging {
            limit: q.limit,
            offset: q.offset,
        },
    };
    Ok(Json(uc::list(&state, &auth, q).await?))
}

/// Register a participant at the caller's reception centre.
#[utoipa::path(operation_id = "create_participant", post, path = "/api/v1/participants", tag = "participants",
    security(("bearer" = [])),
    request_body = ParticipantInput,
    responses(
        (status = 201, body = Participant, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "The DUF number or D-number cannot be registered here", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many conflicting identifiers tried", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<ParticipantInput>,
) -> ApiResult<Response> {
    let d = uc::create(&state, &auth, input).await?;
    let location = format!("/api/v1/participants/{}", d.body.id);
    Ok(disclosed_created(location, d))
}

/// Read a participant.
#[utoipa::path(operation_id = "get_participant", get, path = "/api/v1/participants/{id}", tag = "participants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Participant, headers(("ETag" = String)))))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    Ok(disclosed(uc::get(&state, &auth, id).await?))
}

/// Change a participant's core facts. Requires `If-Match`.
#[utoipa::path(operation_id = "update_participant", patch, path = "/api/v1/participants/{id}", tag = "participants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version edited")),
    request_body = ParticipantPatch,
    responses(
        (status = 200, body = Participant, headers(("ETag" = String))),
        (status = 409, description = "The DUF number or D-number cannot be registered here", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many conflicting identifiers tried", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(patch): ApiJson<ParticipantPatch>,
) -> ApiResult<Response> {
    let d = uc::update(&state, &auth, id, if_match.precondition(), patch).await?;
    Ok(disclosed(d))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    #[schema(pattern = "^[0-9]{12}$")]
    pub duf_number: Option<String>,
    #[schema(pattern = "^[0-9]{11}$")]
    pub d_number: Option<String>,
}

/// Find a participant by DUF number or D-number (sent in the body, never in a URL).
#[utoipa::path(post, path = "/api/v1/participants/lookup", tag = "participants",
    security(("bearer" = [])),
    request_body = LookupRequest,
    responses((status = 200, body = Participant, headers(("ETag" = String)))))]
pub async fn lookup(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<LookupRequest>,
) -> ApiResult<Response> {
    let d = uc::lookup(
        &state,
        &auth,
        req.duf_number.as_deref(),
        req.d_number.as_deref(),
    )
    .await?;
    Ok(disclosed(d))
}

/// The whole full-time-programme record: identity, competence mapping, Norwegian training,
/// programme elements, placements, computed attendance, and when it was last brought up to date.
#[utoipa::path(get, path = "/api/v1/participants/{id}/record", tag = "participants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ProgrammeRecord)))]
pub async fn record(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<ProgrammeRecord>> {
    Ok(Json(uc::record(&state, &auth, id).await?.body))
}

/// Who changed which part of the record when (field names, never values), newest first.
#[utoipa::path(get, path = "/api/v1/participants/{id}/history", tag = "participants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), Paging),
    responses((status = 200, body = Page<RecordChange>)))]
pub async fn history(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<Page<RecordChange>>> {
    Ok(Json(uc::history(&state, &auth, id, paging).await?.body))
}
