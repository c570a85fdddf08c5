//! Career-guidance summaries, written by counsellors of the career centre that serves the
//! participant's reception centre, readable by that centre's staff. Drafts until finalised;
//! final summaries are immutable and superseded by later ones (`handover_app::guidance`).

use crate::answer::{disclosed, disclosed_created};
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch};
use crate::paging::{Page, Paging};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use handover_app::guidance as uc;
use handover_domain::guidance::{GuidanceSummary, GuidanceSummaryInput};
use uuid::Uuid;

/// Every guidance summary of a participant, oldest first (drafts, finals, superseded finals).
#[utoipa::path(operation_id = "list_guidance_summaries", get, path = "/api/v1/participants/{id}/guidance-summaries", tag = "guidance",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), Paging),
    responses((status = 200, description = "The participant's summaries, oldest first", body = Page<GuidanceSummary>)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<Page<GuidanceSummary>>> {
    Ok(Json(uc::list(&state, &auth, id, paging).await?.body))
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
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<GuidanceSummaryInput>,
) -> ApiResult<Response> {
    let d = uc::create(&state, &auth, id, input).await?;
    let location = format!("/api/v1/guidance-summaries/{}", d.body.id);
    Ok(disclosed_created(location, d))
}

/// Read one summary.
#[utoipa::path(operation_id = "get_guidance_summary", get, path = "/api/v1/guidance-summaries/{id}", tag = "guidance",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = GuidanceSummary, headers(("ETag" = String)))))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    Ok(disclosed(uc::get(&state, &auth, id).await?))
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
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(input): ApiJson<GuidanceSummaryInput>,
) -> ApiResult<Response> {
    let d = uc::update(&state, &auth, id, if_match.precondition(), input).await?;
    Ok(disclosed(d))
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
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    uc::delete(&state, &auth, id, if_match.precondition()).await?;
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
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    let d = uc::finalise(&state, &auth, id, if_match.precondition()).await?;
    Ok(disclosed(d))
}
