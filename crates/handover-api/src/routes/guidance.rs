//! Career-guidance summaries, written by counsellors of the career centre that serves the
//! participant's reception centre, readable by that centre's staff. Drafts until finalised;
//! final summaries are immutable and superseded by later ones.

use crate::audit::Disclosed;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch, RequestMeta};
use crate::legacy::{audit_read, authorize, disclosed_created, today};
use crate::paging::{Page, Paging};
use crate::routes::users::with_etag;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use handover_db::DbError;
use handover_db::guidance::{self, NewSummary, ResolvedStep};
use handover_db::participants;
use handover_domain::guidance::{
    GuidanceSummary, GuidanceSummaryInput, SummaryStatus, overall_level, pathway_warnings,
};
use handover_domain::participant::Cefr;
use handover_domain::{Action, FieldError};
use sqlx::PgConnection;
use uuid::Uuid;

/// Adds the non-blocking warnings: the first step's level prerequisite against the
/// participant's Norwegian levels, and retired offerings.
async fn with_warnings(
    db: &mut PgConnection,
    items: Vec<(GuidanceSummary, Vec<Option<Cefr>>)>,
) -> ApiResult<Vec<GuidanceSummary>> {
    let Some(participant) = items.first().map(|i| i.0.participant_id) else {
        return Ok(Vec::new());
    };
    let training = participants::get_norwegian(&mut *db, participant).await?;
    let reached = overall_level(training.as_ref().map(|t| &t.data));
    Ok(items
        .into_iter()
        .map(|(mut s, prereqs)| {
            s.warnings = pathway_warnings(&s.pathway, prereqs.first().copied().flatten(), reached);
            s
        })
        .collect())
}

async fn one(db: &mut PgConnection, id: Uuid) -> ApiResult<GuidanceSummary> {
    let item = guidance::get_summary(db, id).await?;
    with_warnings(db, vec![item])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// The participant of a summary, after checking the caller may do `action` to it.
async fn authorize_summary(
    state: &AppState,
    auth: &Auth,
    action: Action,
    id: Uuid,
) -> ApiResult<Uuid> {
    auth.require(action)?;
    let participant = guidance::summary_participant(&state.pool, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    authorize(state, auth, action, participant).await?;
    Ok(participant)
}

async fn resolve(state: &AppState, input: &GuidanceSummaryInput) -> ApiResult<Vec<ResolvedStep>> {
    match guidance::resolve_steps(&state.pool, &input.pathway).await? {
        Ok(steps) => Ok(steps),
        Err(bad) => Err(ApiError::Validation(
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

fn final_is_immutable(e: DbError) -> ApiError {
    match e {
        DbError::Conflict(c) if c == "guidance_summaries_one_draft" => ApiError::Conflict(
            "The participant already has a draft summary; continue that one.".into(),
        ),
        DbError::Rejected(c) if c == "guidance_summaries_immutable" => ApiError::Conflict(
            "A final summary cannot be changed; write a new one to supersede it.".into(),
        ),
        other => other.into(),
    }
}

/// Every guidance summary of a participant, oldest first (drafts, finals, superseded finals).
#[utoipa::path(operation_id = "list_guidance_summaries", get, path = "/api/v1/participants/{id}/guidance-summaries", tag = "guidance",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), Paging),
    responses((status = 200, description = "The participant's summaries, oldest first", body = Page<GuidanceSummary>)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<Page<GuidanceSummary>>> {
    authorize(&state, &auth, Action::GuidanceRead, id).await?;
    paging.resolve()?;
    let mut conn = state.pool.acquire().await?;
    let items = guidance::list_summaries(&mut conn, id).await?;
    let items = with_warnings(&mut conn, items).await?;
    drop(conn);
    audit_read(&state, &auth, &meta, "guidance.read", id).await?;
    Ok(Json(Page::slice(items, &paging)?))
}

/// Start a draft summary for a participant (counsellors of the serving career centre).
#[utoipa::path(operation_id = "create_guidance_summary", post, path = "/api/v1/participants/{id}/guidance-summaries", tag = "guidance",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = GuidanceSummaryInput,
    responses(
        (status = 201, body = GuidanceSummary, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "A draft is already open", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<GuidanceSummaryInput>,
) -> ApiResult<Response> {
    authorize(&state, &auth, Action::GuidanceWrite, id).await?;
    input.validate(today()).map_err(ApiError::Validation)?;
    let steps = resolve(&state, &input).await?;
    let sid = Uuid::now_v7();
    let mut tx = state.pool.begin().await?;
    let n = NewSummary {
        id: sid,
        participant: id,
        career_centre: auth.0.org_id,
        author: auth.0.user_id,
        author_name: &auth.0.name,
    };
    guidance::create_draft(&mut tx, &n, &input, &steps)
        .await
        .map_err(final_is_immutable)?;
    let proof =
        crate::audit::audit_participant(&mut *tx, &auth, &meta, "guidance.create", id).await?;
    let s = one(&mut tx, sid).await?;
    tx.commit().await?;
    Ok(disclosed_created(
        proof,
        format!("/api/v1/guidance-summaries/{sid}"),
        s.version,
        s,
    ))
}

/// Read one summary.
#[utoipa::path(operation_id = "get_guidance_summary", get, path = "/api/v1/guidance-summaries/{id}", tag = "guidance",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = GuidanceSummary, headers(("ETag" = String)))))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let participant = authorize_summary(&state, &auth, Action::GuidanceRead, id).await?;
    let mut conn = state.pool.acquire().await?;
    let s = one(&mut conn, id).await?;
    drop(conn);
    let proof = audit_read(&state, &auth, &meta, "guidance.read", participant).await?;
    Ok(Disclosed::new(proof, Some(s.version), s).into_response())
}

/// Replace a draft's content. Requires `If-Match`; a final summary answers 409.
#[utoipa::path(operation_id = "update_guidance_summary", put, path = "/api/v1/guidance-summaries/{id}", tag = "guidance",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version edited")),
    request_body = GuidanceSummaryInput,
    responses(
        (status = 200, body = GuidanceSummary, headers(("ETag" = String))),
        (status = 409, description = "The summary is final", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(input): ApiJson<GuidanceSummaryInput>,
) -> ApiResult<Response> {
    let participant = authorize_summary(&state, &auth, Action::GuidanceWrite, id).await?;
    let mut conn = state.pool.acquire().await?;
    let current = guidance::get_summary(&mut conn, id).await?.0;
    drop(conn);
    if current.status == SummaryStatus::Final {
        return Err(ApiError::Conflict(
            "A final summary cannot be changed; write a new one to supersede it.".into(),
        ));
    }
    let version = if_match.check(current.version)?;
    input.validate(today()).map_err(ApiError::Validation)?;
    let steps = resolve(&state, &input).await?;
    let mut tx = state.pool.begin().await?;
    if !guidance::update_draft(&mut tx, id, version, &input, &steps)
        .await
        .map_err(final_is_immutable)?
    {
        return Err(ApiError::PreconditionFailed);
    }
    crate::audit::audit(
        &mut *tx,
        &auth,
        &meta,
        "guidance.update",
        Some(("participant", participant)),
        "success",
    )
    .await?;
    let s = one(&mut tx, id).await?;
    tx.commit().await?;
    Ok(with_etag(s.version, Json(s)))
}

/// Delete a draft. Requires `If-Match`; a final summary answers 409.
#[utoipa::path(operation_id = "delete_guidance_summary", delete, path = "/api/v1/guidance-summaries/{id}", tag = "guidance",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the current version")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "The summary is final", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    let participant = authorize_summary(&state, &auth, Action::GuidanceWrite, id).await?;
    let mut conn = state.pool.acquire().await?;
    let current = guidance::get_summary(&mut conn, id).await?.0;
    drop(conn);
    if current.status == SummaryStatus::Final {
        return Err(ApiError::Conflict(
            "A final summary is kept; it can only be superseded.".into(),
        ));
    }
    let version = if_match.check(current.version)?;
    let mut tx = state.pool.begin().await?;
    if !guidance::delete_draft(&mut *tx, id, version).await? {
        return Err(ApiError::PreconditionFailed);
    }
    crate::audit::audit(
        &mut *tx,
        &auth,
        &meta,
        "guidance.delete",
        Some(("participant", participant)),
        "success",
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Finalise a draft: it becomes immutable and supersedes the participant's previous final
/// summary. Needs sessions, goals, what was covered and what is left for § 11 guidance.
#[utoipa::path(post, path = "/api/v1/guidance-summaries/{id}/finalise", tag = "guidance",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the draft finalised")),
    responses(
        (status = 200, body = GuidanceSummary, headers(("ETag" = String))),
        (status = 409, description = "Already final", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn finalise(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    let participant = authorize_summary(&state, &auth, Action::GuidanceWrite, id).await?;
    let mut conn = state.pool.acquire().await?;
    let current = guidance::get_summary(&mut conn, id).await?.0;
    drop(conn);
    if current.status == SummaryStatus::Final {
        return Err(ApiError::Conflict("The summary is already final.".into()));
    }
    let version = if_match.check(current.version)?;
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
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let mut tx = state.pool.begin().await?;
    if !guidance::finalise(&mut tx, id, version, auth.0.user_id)
        .await
        .map_err(final_is_immutable)?
    {
        return Err(ApiError::PreconditionFailed);
    }
    crate::audit::audit(
        &mut *tx,
        &auth,
        &meta,
        "guidance.finalise",
        Some(("participant", participant)),
        "success",
    )
    .await?;
    let s = one(&mut tx, id).await?;
    tx.commit().await?;
    Ok(with_etag(s.version, Json(s)))
}
