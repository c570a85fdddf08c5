//! The parts of a participant's full-time-programme record: competence mapping, Norwegian
//! training, programme elements and placements. Same access as the participant; the rules are
//! in `handover_app::documents` and `handover_app::programme`.

use crate::answer::{disclosed, disclosed_created, with_status};
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch};
use crate::paging::{Page, Paging};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use handover_app::documents::{self, Kept, Put};
use handover_app::programme as uc;
use handover_domain::participant::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Answers a document put: 201 when it was created, 200 when replaced.
pub(crate) async fn put_document<D: Kept>(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    if_match: IfMatch,
    input: D,
) -> ApiResult<Response>
where
    D::Stored: Serialize,
{
    let (put, d) = documents::put(state, auth, id, if_match.precondition(), input).await?;
    let status = match put {
        Put::Created => StatusCode::CREATED,
        Put::Replaced => StatusCode::OK,
    };
    Ok(with_status(status, None, d))
}

/// The competence mapping (404 until one is recorded).
#[utoipa::path(get, path = "/api/v1/participants/{id}/competence-mapping", tag = "programme record",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CompetenceMapping, headers(("ETag" = String)))))]
pub async fn get_mapping(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    Ok(disclosed(
        documents::get::<CompetenceMappingInput>(&state, &auth, id).await?,
    ))
}

/// Record the competence mapping (201), or replace it (200, needs `If-Match`).
#[utoipa::path(put, path = "/api/v1/participants/{id}/competence-mapping", tag = "programme record",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the mapping replaced; omit to create")),
    request_body = CompetenceMappingInput,
    responses(
        (status = 200, body = CompetenceMapping, headers(("ETag" = String))),
        (status = 201, body = CompetenceMapping, headers(("ETag" = String))),
        (status = 428, description = "The mapping exists; If-Match is required", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_mapping(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(input): ApiJson<CompetenceMappingInput>,
) -> ApiResult<Response> {
    put_document(&state, &auth, id, if_match, input).await
}

/// Norwegian training: levels per skill, test results, course hours (404 until recorded).
#[utoipa::path(get, path = "/api/v1/participants/{id}/norwegian-training", tag = "programme record",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = NorwegianTraining, headers(("ETag" = String)))))]
pub async fn get_norwegian(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    Ok(disclosed(
        documents::get::<NorwegianTrainingInput>(&state, &auth, id).await?,
    ))
}

/// Record Norwegian training (201), or replace it (200, needs `If-Match`).
#[utoipa::path(put, path = "/api/v1/participants/{id}/norwegian-training", tag = "programme record",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the record replaced; omit to create")),
    request_body = NorwegianTrainingInput,
    responses(
        (status = 200, body = NorwegianTraining, headers(("ETag" = String))),
        (status = 201, body = NorwegianTraining, headers(("ETag" = String))),
        (status = 428, description = "It exists; If-Match is required", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_norwegian(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(input): ApiJson<NorwegianTrainingInput>,
) -> ApiResult<Response> {
    put_document(&state, &auth, id, if_match, input).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ElementList {
    pub items: Vec<ProgrammeElement>,
    /// Elements across all pages.
    pub total: i64,
    /// Items per page, as applied.
    pub limit: i64,
    /// Items skipped, as applied.
    pub offset: i64,
    /// Computed from all the elements, not only this page's.
    pub attendance: Attendance,
}

/// The programme elements, with the attendance computed from them.
#[utoipa::path(get, path = "/api/v1/participants/{id}/programme-elements", tag = "programme record",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), Paging),
    responses((status = 200, description = "The elements (a page of them) and the attendance of all", body = ElementList)))]
pub async fn list_elements(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<ElementList>> {
    let (page, attendance) = uc::list_elements(&state, &auth, id, paging).await?.body;
    Ok(Json(ElementList {
        items: page.items,
        total: page.total,
        limit: page.limit,
        offset: page.offset,
        attendance,
    }))
}

/// Add a programme element.
#[utoipa::path(post, path = "/api/v1/participants/{id}/programme-elements", tag = "programme record",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ProgrammeElementInput,
    responses((status = 201, body = ProgrammeElement, headers(("ETag" = String), ("Location" = String)))))]
pub async fn create_element(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<ProgrammeElementInput>,
) -> ApiResult<Response> {
    let d = uc::create::<ProgrammeElement>(&state, &auth, id, input).await?;
    let location = format!("/api/v1/participants/{id}/programme-elements/{}", d.body.id);
    Ok(disclosed_created(location, d))
}

/// Read one programme element.
#[utoipa::path(get, path = "/api/v1/participants/{id}/programme-elements/{element_id}", tag = "programme record",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("element_id" = Uuid, Path)),
    responses((status = 200, body = ProgrammeElement, headers(("ETag" = String)))))]
pub async fn get_element(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, eid)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    Ok(disclosed(
        uc::get::<ProgrammeElement>(&state, &auth, id, eid).await?,
    ))
}

/// Change a programme element. Requires `If-Match`.
#[utoipa::path(patch, path = "/api/v1/participants/{id}/programme-elements/{element_id}", tag = "programme record",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("element_id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version edited")),
    request_body = ProgrammeElementPatch,
    responses(
        (status = 200, body = ProgrammeElement, headers(("ETag" = String))),
    ))]
pub async fn update_element(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, eid)): ApiPath<(Uuid, Uuid)>,
    if_match: IfMatch,
    ApiJson(patch): ApiJson<ProgrammeElementPatch>,
) -> ApiResult<Response> {
    let d = uc::update::<ProgrammeElement>(&state, &auth, id, eid, if_match.precondition(), patch)
        .await?;
    Ok(disclosed(d))
}

/// Delete a programme element entered in error. Requires `If-Match`.
#[utoipa::path(delete, path = "/api/v1/participants/{id}/programme-elements/{element_id}", tag = "programme record",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("element_id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version deleted")),
    responses(
        (status = 204, description = "Deleted"),
    ))]
pub async fn delete_element(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, eid)): ApiPath<(Uuid, Uuid)>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    uc::delete::<ProgrammeElement>(&state, &auth, id, eid, if_match.precondition()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Work and language practice placements.
#[utoipa::path(get, path = "/api/v1/participants/{id}/placements", tag = "programme record",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), Paging),
    responses((status = 200, description = "The participant's placements", body = Page<Placement>)))]
pub async fn list_placements(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<Page<Placement>>> {
    Ok(Json(
        uc::list::<Placement>(&state, &auth, id, paging).await?.body,
    ))
}

/// Add a placement.
#[utoipa::path(post, path = "/api/v1/participants/{id}/placements", tag = "programme record",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = PlacementInput,
    responses((status = 201, body = Placement, headers(("ETag" = String), ("Location" = String)))))]
pub async fn create_placement(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<PlacementInput>,
) -> ApiResult<Response> {
    let d = uc::create::<Placement>(&state, &auth, id, input).await?;
    let location = format!("/api/v1/participants/{id}/placements/{}", d.body.id);
    Ok(disclosed_created(location, d))
}

/// Read one placement.
#[utoipa::path(get, path = "/api/v1/participants/{id}/placements/{placement_id}", tag = "programme record",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("placement_id" = Uuid, Path)),
    responses((status = 200, body = Placement, headers(("ETag" = String)))))]
pub async fn get_placement(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, pid)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    Ok(disclosed(
        uc::get::<Placement>(&state, &auth, id, pid).await?,
    ))
}

/// Change a placement. Requires `If-Match`.
#[utoipa::path(patch, path = "/api/v1/participants/{id}/placements/{placement_id}", tag = "programme record",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("placement_id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version edited")),
    request_body = PlacementPatch,
    responses(
        (status = 200, body = Placement, headers(("ETag" = String))),
    ))]
pub async fn update_placement(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, pid)): ApiPath<(Uuid, Uuid)>,
    if_match: IfMatch,
    ApiJson(patch): ApiJson<PlacementPatch>,
) -> ApiResult<Response> {
    let d = uc::update::<Placement>(&state, &auth, id, pid, if_match.precondition(), patch).await?;
    Ok(disclosed(d))
}

/// Delete a placement entered in error. Requires `If-Match`.
#[utoipa::path(delete, path = "/api/v1/participants/{id}/placements/{placement_id}", tag = "programme record",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("placement_id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version deleted")),
    responses(
        (status = 204, description = "Deleted"),
    ))]
pub async fn delete_placement(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, pid)): ApiPath<(Uuid, Uuid)>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    uc::delete::<Placement>(&state, &auth, id, pid, if_match.precondition()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
