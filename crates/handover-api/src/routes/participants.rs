//! Participants: created and edited by staff of their reception centre, readable by the career
//! centre that serves it. Every read and write is audited; DUF and D-numbers travel only in bodies.

use crate::audit::{Audited, Disclosed, audit_participant};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch, RequestMeta};
use crate::paging::Paging;
use crate::routes::users::with_etag;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use handover_db::DbError;
use handover_db::participants::{self, Change, Owner, ParticipantFilter, WriteLog};
use handover_domain::participant::{
    Participant, ParticipantInput, ParticipantPatch, ParticipantStatus, ProgrammeRecord,
    RecordChange,
};
use handover_domain::policy::ListScope;
use handover_domain::policy::participant_relation;
use handover_domain::{Action, OrgKind, Relation};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub(crate) fn today() -> Date {
    // Dates in the record are Norwegian calendar dates: "today" is the date in Oslo.
    handover_domain::oslo::to_oslo(OffsetDateTime::now_utc()).date()
}

/// Checks that the caller may do `action` to participant `id`: 403 for a role without any grant,
/// 404 when the participant does not exist or belongs to someone else.
pub(crate) async fn authorize(
    state: &AppState,
    auth: &Auth,
    action: Action,
    id: Uuid,
) -> ApiResult<Owner> {
    auth.require(action)?;
    let owner = participants::owner(&state.pool, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    check_owner(auth, action, &owner)?;
    Ok(owner)
}

/// The access check of [`authorize`], for handlers that read the owner together with the record
/// they edit (one query instead of two). The caller has passed `auth.require(action)`.
pub(crate) fn check_owner(auth: &Auth, action: Action, owner: &Owner) -> ApiResult<()> {
    auth.check(
        action,
        participant_relation(&auth.0, owner.reception_centre_id),
    )?;
    Ok(())
}

/// The history line and audit row of a change that the database layer writes in the same
/// statement as the change.
pub(crate) fn write_log<'a>(
    auth: &'a Auth,
    meta: &'a RequestMeta,
    client: Option<&'a str>,
    section: &'a str,
    operation: &'a str,
    fields: &'a [&'a str],
) -> WriteLog<'a> {
    WriteLog {
        actor: auth.0.user_id,
        actor_name: &auth.0.name,
        actor_org: auth.0.org_id,
        actor_role: auth.0.role.as_str(),
        section,
        operation,
        fields,
        action: format!("{section}.{operation}"),
        request_id: meta.request_id.as_deref(),
        client_addr: client,
    }
}

/// Records a change in the record history and the audit log, in the caller's transaction.
// The arguments are the columns of the two rows written; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn log_write(
    tx: &mut PgConnection,
    auth: &Auth,
    meta: &RequestMeta,
    participant: Uuid,
    section: &str,
    record_id: Uuid,
    operation: &str,
    fields: &[&str],
) -> ApiResult<Audited> {
    participants::record_change(
        &mut *tx,
        &Change {
            participant,
            actor: auth.0.user_id,
            actor_name: &auth.0.name,
            section,
            record_id,
            operation,
            fields,
        },
    )
    .await?;
    Ok(audit_participant(
        &mut *tx,
        auth,
        meta,
        &format!("{section}.{operation}"),
        participant,
    )
    .await?)
}

pub(crate) async fn audit_read(
    state: &AppState,
    auth: &Auth,
    meta: &RequestMeta,
    what: &str,
    participant: Uuid,
) -> ApiResult<Audited> {
    Ok(audit_participant(&state.pool, auth, meta, what, participant).await?)
}

pub(crate) fn created(location: String, version: i32, body: impl serde::Serialize) -> Response {
    let mut res = with_etag(version, (StatusCode::CREATED, Json(body)));
    if let Ok(loc) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, loc);
    }
    res
}

/// 201 with participant data: needs the proof that the create's audit row is written.
pub(crate) fn disclosed_created(
    proof: Audited,
    location: String,
    version: i32,
    body: impl serde::Serialize,
) -> Response {
    Disclosed::new(proof, Some(version), body)
        .created(location)
        .into_response()
}

/// A DUF number or D-number that is registered already, at this centre or another, answers
/// alike: it cannot be registered here. The conflict is audited with the participant it hit
/// and counted as a probe (`crate::probe`).
async fn identifier_conflict(
    state: &AppState,
    auth: &Auth,
    meta: &RequestMeta,
    action: &str,
    e: DbError,
    input: &ParticipantInput,
) -> ApiError {
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
    let hit = participants::holder_of(&state.pool, duf, d_number)
        .await
        .ok()
        .flatten();
    crate::probe::conflict(
        state,
        auth,
        meta,
        action,
        hit.map(|h| ("participant", h)),
        message,
    )
    .await
}

/// The reception centres whose participants the caller may list: the centres for which
/// [`participant_relation`] gives a relation the caller's grants allow.
fn visible_centres(auth: &Auth) -> ApiResult<Vec<Uuid>> {
    match auth.list_scope(Action::ParticipantRead) {
        ListScope::Nothing => Err(ApiError::Forbidden),
        ListScope::Everything => Err(ApiError::Forbidden),
        ListScope::Related { own, serving, .. } => {
            let mut centres = Vec::new();
            if own && auth.0.org_kind == OrgKind::ReceptionCentre {
                centres.push(auth.0.org_id.0);
            }
            if serving && let Some(c) = auth.0.serves {
                centres.push(c.0);
            }
            Ok(centres)
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipantList {
    pub items: Vec<Participant>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

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
    responses((status = 200, body = ParticipantList)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiQuery(q): ApiQuery<ParticipantQuery>,
) -> ApiResult<Json<ParticipantList>> {
    auth.require(Action::ParticipantRead)?;
    let (limit, offset) = Paging {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve()?;
    if q.name.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(ApiError::field(
            "name",
            "too_long",
            "must be at most 100 characters",
        ));
    }
    if let (Some(a), Some(b)) = (q.arrived_from, q.arrived_to)
        && b < a
    {
        return Err(ApiError::field(
            "arrived_to",
            "before_start",
            "must not be before arrived_from",
        ));
    }
    let centres = visible_centres(&auth)?;
    let page = participants::list(
        &state.pool,
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
    let ids: Vec<Uuid> = page.items.iter().map(|p| p.id).collect();
    crate::audit::audit_list(&state.pool, &auth, &meta, "participant.list", &ids).await?;
    Ok(Json(ParticipantList {
        items: page
            .items
            .into_iter()
            .map(|p| p.as_seen_by(auth.0.org_id))
            .collect(),
        total: page.total,
        limit,
        offset,
    }))
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
    meta: RequestMeta,
    ApiJson(input): ApiJson<ParticipantInput>,
) -> ApiResult<Response> {
    auth.require(Action::ParticipantWrite)?;
    auth.check(Action::ParticipantWrite, Relation::Own)?;
    input.validate(today()).map_err(ApiError::Validation)?;
    crate::probe::check(&state, &auth).await?;
    let id = Uuid::now_v7();
    let mut tx = state.pool.begin().await?;
    if let Err(e) = participants::create(&mut *tx, id, auth.0.org_id, &input, auth.0.user_id).await
    {
        drop(tx);
        return Err(
            identifier_conflict(&state, &auth, &meta, "participant.create", e, &input).await,
        );
    }
    let proof = log_write(&mut tx, &auth, &meta, id, "participant", id, "create", &[]).await?;
    let p = participants::get(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(disclosed_created(
        proof,
        format!("/api/v1/participants/{id}"),
        p.version,
        p,
    ))
}

/// Read a participant.
#[utoipa::path(operation_id = "get_participant", get, path = "/api/v1/participants/{id}", tag = "participants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Participant, headers(("ETag" = String)))))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    authorize(&state, &auth, Action::ParticipantRead, id).await?;
    let p = participants::get(&state.pool, id)
        .await?
        .as_seen_by(auth.0.org_id);
    let proof = audit_read(&state, &auth, &meta, "participant.read", id).await?;
    Ok(Disclosed::new(proof, Some(p.version), p).into_response())
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
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(patch): ApiJson<ParticipantPatch>,
) -> ApiResult<Response> {
    authorize(&state, &auth, Action::ParticipantWrite, id).await?;
    let current = participants::get(&state.pool, id).await?;
    let version = if_match.check(current.version)?;
    let (next, changed) = patch.apply(&current.data);
    if changed.is_empty() {
        // Nothing to change: no new version, no history line; but the answer carries the
        // record, so it is a read and audited as one.
        let proof = audit_read(&state, &auth, &meta, "participant.read", id).await?;
        return Ok(Disclosed::new(proof, Some(current.version), current).into_response());
    }
    next.validate(today()).map_err(ApiError::Validation)?;
    crate::probe::check(&state, &auth).await?;
    let mut tx = state.pool.begin().await?;
    let updated = match participants::update(&mut *tx, id, version, &next).await {
        Err(e) => {
            drop(tx);
            return Err(
                identifier_conflict(&state, &auth, &meta, "participant.update", e, &next).await,
            );
        }
        Ok(u) => u,
    };
    if !updated {
        return Err(ApiError::PreconditionFailed);
    }
    let proof = log_write(
        &mut tx,
        &auth,
        &meta,
        id,
        "participant",
        id,
        "update",
        &changed,
    )
    .await?;
    let p = participants::get(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(Disclosed::new(proof, Some(p.version), p).into_response())
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
    meta: RequestMeta,
    ApiJson(req): ApiJson<LookupRequest>,
) -> ApiResult<Response> {
    auth.require(Action::ParticipantRead)?;
    let mut v = handover_domain::Validator::new();
    match (&req.duf_number, &req.d_number) {
        (None, None) => v.add("duf_number", "required", "give a DUF number or a D-number"),
        (Some(_), Some(_)) => v.add("d_number", "not_allowed", "give one identifier, not both"),
        _ => {}
    }
    if let Some(d) = &req.duf_number {
        v.check(
            handover_domain::participant::is_valid_duf(d),
            "duf_number",
            "invalid_duf_number",
            "must be 12 digits, starting with the year",
        );
    }
    if let Some(d) = &req.d_number {
        v.check(
            handover_domain::participant::is_valid_d_number(d),
            "d_number",
            "invalid_d_number",
            "must be a valid 11-digit D-number",
        );
    }
    v.finish().map_err(ApiError::Validation)?;
    let centres = visible_centres(&auth)?;
    let p = participants::find_by_identifier(
        &state.pool,
        req.duf_number.as_deref(),
        req.d_number.as_deref(),
        &centres,
    )
    .await?
    .ok_or(ApiError::NotFound)?
    .as_seen_by(auth.0.org_id);
    let proof = audit_read(&state, &auth, &meta, "participant.lookup", p.id).await?;
    Ok(Disclosed::new(proof, Some(p.version), p).into_response())
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
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<ProgrammeRecord>> {
    authorize(&state, &auth, Action::ParticipantRead, id).await?;
    let mut conn = state.pool.acquire().await?;
    let mut r = participants::record(&mut conn, id).await?;
    drop(conn);
    r.participant = r.participant.as_seen_by(auth.0.org_id);
    audit_read(&state, &auth, &meta, "participant.record_read", id).await?;
    Ok(Json(r))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordHistory {
    pub items: Vec<RecordChange>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// Who changed which part of the record when (field names, never values), newest first.
#[utoipa::path(get, path = "/api/v1/participants/{id}/history", tag = "participants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), Paging),
    responses((status = 200, body = RecordHistory)))]
pub async fn history(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<RecordHistory>> {
    authorize(&state, &auth, Action::ParticipantRead, id).await?;
    let (limit, offset) = paging.resolve()?;
    let page = participants::history(&state.pool, id, limit, offset).await?;
    audit_read(&state, &auth, &meta, "participant.history_read", id).await?;
    Ok(Json(RecordHistory {
        items: page.items,
        total: page.total,
        limit,
        offset,
    }))
}
