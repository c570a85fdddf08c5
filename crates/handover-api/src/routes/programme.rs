//! The parts of a participant's full-time-programme record: competence mapping, Norwegian
//! training, programme elements and placements. Same access as the participant.

use crate::audit::Disclosed;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch, RequestMeta};
use crate::legacy::{
    audit_read, authorize, check_owner, disclosed_created, log_write, today, write_log,
};
use crate::paging::{Page, Paging};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use handover_db::DbError;
use handover_db::participants::{self, Upsert};
use handover_domain::Action;
use handover_domain::participant::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

pub(crate) fn upsert_answer(outcome: Upsert) -> ApiResult<StatusCode> {
    match outcome {
        Upsert::Created => Ok(StatusCode::CREATED),
        Upsert::Updated => Ok(StatusCode::OK),
        Upsert::VersionMismatch => Err(ApiError::PreconditionFailed),
        Upsert::PreconditionRequired => Err(ApiError::PreconditionRequired),
    }
}

fn not_found(e: DbError) -> ApiError {
    match e {
        DbError::NotFound => ApiError::NotFound,
        other => other.into(),
    }
}

/// The competence mapping (404 until one is recorded).
#[utoipa::path(get, path = "/api/v1/participants/{id}/competence-mapping", tag = "programme record",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CompetenceMapping, headers(("ETag" = String)))))]
pub async fn get_mapping(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    authorize(&state, &auth, Action::ParticipantRead, id).await?;
    let m = participants::get_mapping(&state.pool, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let proof = audit_read(&state, &auth, &meta, "competence_mapping.read", id).await?;
    Ok(Disclosed::new(proof, Some(m.version), m).into_response())
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
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(input): ApiJson<CompetenceMappingInput>,
) -> ApiResult<Response> {
    authorize(&state, &auth, Action::ParticipantWrite, id).await?;
    let current = participants::get_mapping(&state.pool, id).await?;
    let expected = if_match.check_optional(current.as_ref().map(|m| m.version))?;
    let fields = current
        .map(|c| changed_fields(&c.data, &input))
        .unwrap_or_default();
    input.validate(today()).map_err(ApiError::Validation)?;
    let mut tx = state.pool.begin().await?;
    let status = upsert_answer(
        participants::put_mapping(&mut tx, id, expected, &input, auth.0.user_id, &auth.0.name)
            .await?,
    )?;
    let op = if status == StatusCode::CREATED {
        "create"
    } else {
        "update"
    };
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    let proof = log_write(
        &mut tx,
        &auth,
        &meta,
        id,
        "competence_mapping",
        id,
        op,
        &fields,
    )
    .await?;
    let m = participants::get_mapping(&mut *tx, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(Disclosed::new(proof, Some(m.version), m)
        .with_status(status)
        .into_response())
}

/// Norwegian training: levels per skill, test results, course hours (404 until recorded).
#[utoipa::path(get, path = "/api/v1/participants/{id}/norwegian-training", tag = "programme record",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = NorwegianTraining, headers(("ETag" = String)))))]
pub async fn get_norwegian(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    authorize(&state, &auth, Action::ParticipantRead, id).await?;
    let n = participants::get_norwegian(&state.pool, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let proof = audit_read(&state, &auth, &meta, "norwegian_training.read", id).await?;
    Ok(Disclosed::new(proof, Some(n.version), n).into_response())
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
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(input): ApiJson<NorwegianTrainingInput>,
) -> ApiResult<Response> {
    authorize(&state, &auth, Action::ParticipantWrite, id).await?;
    let current = participants::get_norwegian(&state.pool, id).await?;
    let expected = if_match.check_optional(current.as_ref().map(|n| n.version))?;
    let fields = current
        .map(|c| changed_fields(&c.data, &input))
        .unwrap_or_default();
    input.validate(today()).map_err(ApiError::Validation)?;
    let mut tx = state.pool.begin().await?;
    let status = upsert_answer(participants::put_norwegian(&mut tx, id, expected, &input).await?)?;
    let op = if status == StatusCode::CREATED {
        "create"
    } else {
        "update"
    };
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    let proof = log_write(
        &mut tx,
        &auth,
        &meta,
        id,
        "norwegian_training",
        id,
        op,
        &fields,
    )
    .await?;
    let n = participants::get_norwegian(&mut *tx, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(Disclosed::new(proof, Some(n.version), n)
        .with_status(status)
        .into_response())
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
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<ElementList>> {
    authorize(&state, &auth, Action::ParticipantRead, id).await?;
    paging.resolve()?;
    let items = participants::list_elements(&state.pool, id).await?;
    let attendance = attendance(
        items
            .iter()
            .map(|e| (e.data.kind, e.data.hours_planned, e.data.hours_attended)),
    );
    audit_read(&state, &auth, &meta, "programme_element.read", id).await?;
    let page = Page::slice(items, &paging)?;
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
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<ProgrammeElementInput>,
) -> ApiResult<Response> {
    authorize(&state, &auth, Action::ParticipantWrite, id).await?;
    input.validate(today()).map_err(ApiError::Validation)?;
    let eid = Uuid::now_v7();
    let mut tx = state.pool.begin().await?;
    participants::create_element(&mut *tx, id, eid, &input).await?;
    let proof = log_write(
        &mut tx,
        &auth,
        &meta,
        id,
        "programme_element",
        eid,
        "create",
        &[],
    )
    .await?;
    let e = participants::get_element(&mut *tx, id, eid).await?;
    tx.commit().await?;
    Ok(disclosed_created(
        proof,
        format!("/api/v1/participants/{id}/programme-elements/{eid}"),
        e.version,
        e,
    ))
}

/// Read one programme element.
#[utoipa::path(get, path = "/api/v1/participants/{id}/programme-elements/{element_id}", tag = "programme record",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("element_id" = Uuid, Path)),
    responses((status = 200, body = ProgrammeElement, headers(("ETag" = String)))))]
pub async fn get_element(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, eid)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    authorize(&state, &auth, Action::ParticipantRead, id).await?;
    let e = participants::get_element(&state.pool, id, eid)
        .await
        .map_err(not_found)?;
    let proof = audit_read(&state, &auth, &meta, "programme_element.read", id).await?;
    Ok(Disclosed::new(proof, Some(e.version), e).into_response())
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
    meta: RequestMeta,
    ApiPath((id, eid)): ApiPath<(Uuid, Uuid)>,
    if_match: IfMatch,
    ApiJson(patch): ApiJson<ProgrammeElementPatch>,
) -> ApiResult<Response> {
    auth.require(Action::ParticipantWrite)?;
    let (owner, current) = participants::owner_and_element(&state.pool, id, eid)
        .await?
        .ok_or(ApiError::NotFound)?;
    check_owner(&auth, Action::ParticipantWrite, &owner)?;
    let current = current.ok_or(ApiError::NotFound)?;
    let version = if_match.check(current.version)?;
    let (next, changed) = patch.apply(&current.data);
    if changed.is_empty() {
        // Nothing changes, but the answer carries the element: a read, audited as one.
        let proof = audit_read(&state, &auth, &meta, "programme_element.read", id).await?;
        return Ok(Disclosed::new(proof, Some(current.version), current).into_response());
    }
    next.validate(today()).map_err(ApiError::Validation)?;
    let client = meta.client();
    let log = write_log(
        &auth,
        &meta,
        client.as_deref(),
        "programme_element",
        "update",
        &changed,
    );
    let e = participants::update_element(&state.pool, &log, id, eid, version, &next)
        .await?
        .ok_or(ApiError::PreconditionFailed)?;
    let proof = crate::audit::written(&log);
    Ok(Disclosed::new(proof, Some(e.version), e).into_response())
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
    meta: RequestMeta,
    ApiPath((id, eid)): ApiPath<(Uuid, Uuid)>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    authorize(&state, &auth, Action::ParticipantWrite, id).await?;
    let current = participants::get_element(&state.pool, id, eid)
        .await
        .map_err(not_found)?;
    let version = if_match.check(current.version)?;
    let mut tx = state.pool.begin().await?;
    if !participants::delete_element(&mut *tx, id, eid, version).await? {
        return Err(ApiError::PreconditionFailed);
    }
    log_write(
        &mut tx,
        &auth,
        &meta,
        id,
        "programme_element",
        eid,
        "delete",
        &[],
    )
    .await?;
    tx.commit().await?;
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
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<Page<Placement>>> {
    authorize(&state, &auth, Action::ParticipantRead, id).await?;
    paging.resolve()?;
    let items = participants::list_placements(&state.pool, id).await?;
    audit_read(&state, &auth, &meta, "placement.read", id).await?;
    Ok(Json(Page::slice(items, &paging)?))
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
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<PlacementInput>,
) -> ApiResult<Response> {
    authorize(&state, &auth, Action::ParticipantWrite, id).await?;
    input.validate(today()).map_err(ApiError::Validation)?;
    let pid = Uuid::now_v7();
    let mut tx = state.pool.begin().await?;
    participants::create_placement(&mut *tx, id, pid, &input).await?;
    let proof = log_write(&mut tx, &auth, &meta, id, "placement", pid, "create", &[]).await?;
    let p = participants::get_placement(&mut *tx, id, pid).await?;
    tx.commit().await?;
    Ok(disclosed_created(
        proof,
        format!("/api/v1/participants/{id}/placements/{pid}"),
        p.version,
        p,
    ))
}

/// Read one placement.
#[utoipa::path(get, path = "/api/v1/participants/{id}/placements/{placement_id}", tag = "programme record",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("placement_id" = Uuid, Path)),
    responses((status = 200, body = Placement, headers(("ETag" = String)))))]
pub async fn get_placement(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, pid)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    authorize(&state, &auth, Action::ParticipantRead, id).await?;
    let p = participants::get_placement(&state.pool, id, pid)
        .await
        .map_err(not_found)?;
    let proof = audit_read(&state, &auth, &meta, "placement.read", id).await?;
    Ok(Disclosed::new(proof, Some(p.version), p).into_response())
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
    meta: RequestMeta,
    ApiPath((id, pid)): ApiPath<(Uuid, Uuid)>,
    if_match: IfMatch,
    ApiJson(patch): ApiJson<PlacementPatch>,
) -> ApiResult<Response> {
    auth.require(Action::ParticipantWrite)?;
    let (owner, current) = participants::owner_and_placement(&state.pool, id, pid)
        .await?
        .ok_or(ApiError::NotFound)?;
    check_owner(&auth, Action::ParticipantWrite, &owner)?;
    let current = current.ok_or(ApiError::NotFound)?;
    let version = if_match.check(current.version)?;
    let (next, changed) = patch.apply(&current.data);
    if changed.is_empty() {
        // Nothing changes, but the answer carries the placement: a read, audited as one.
        let proof = audit_read(&state, &auth, &meta, "placement.read", id).await?;
        return Ok(Disclosed::new(proof, Some(current.version), current).into_response());
    }
    next.validate(today()).map_err(ApiError::Validation)?;
    let client = meta.client();
    let log = write_log(
        &auth,
        &meta,
        client.as_deref(),
        "placement",
        "update",
        &changed,
    );
    let p = participants::update_placement(&state.pool, &log, id, pid, version, &next)
        .await?
        .ok_or(ApiError::PreconditionFailed)?;
    let proof = crate::audit::written(&log);
    Ok(Disclosed::new(proof, Some(p.version), p).into_response())
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
    meta: RequestMeta,
    ApiPath((id, pid)): ApiPath<(Uuid, Uuid)>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    authorize(&state, &auth, Action::ParticipantWrite, id).await?;
    let current = participants::get_placement(&state.pool, id, pid)
        .await
        .map_err(not_found)?;
    let version = if_match.check(current.version)?;
    let mut tx = state.pool.begin().await?;
    if !participants::delete_placement(&mut *tx, id, pid, version).await? {
        return Err(ApiError::PreconditionFailed);
    }
    log_write(&mut tx, &auth, &meta, id, "placement", pid, "delete", &[]).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
