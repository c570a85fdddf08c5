//! The outcome after settlement, reported by the municipality (in `handover_app::outcome`).

use crate::answer::{disclosed, with_status};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, Auth, IfMatch};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use handover_app::documents::Put;
use handover_app::outcome as uc;
use handover_domain::handover::{HandoverOutcome, OutcomeInput};
use uuid::Uuid;

/// The outcome the municipality reported: the date the integration plan was decided and the
/// end goal chosen (404 until one is reported). For the centre, its serving career centre and
/// the municipality; the read is audited.
#[utoipa::path(operation_id = "get_handover_outcome", get, path = "/api/v1/handovers/{id}/outcome", tag = "handovers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = HandoverOutcome, headers(("ETag" = String)))))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let d = uc::get(&state, &auth, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(disclosed(d))
}

/// Report the outcome after settlement (201), or correct it (200, needs `If-Match`). The
/// receiving municipality, once it has accepted the handover; the centre's staff and the
/// serving career centre's counsellors are told by e-mail.
#[utoipa::path(operation_id = "put_handover_outcome", put, path = "/api/v1/handovers/{id}/outcome", tag = "handovers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the outcome corrected; omit to report")),
    request_body = OutcomeInput,
    responses(
        (status = 200, body = HandoverOutcome, headers(("ETag" = String))),
        (status = 201, body = HandoverOutcome, headers(("ETag" = String))),
        (status = 409, description = "The handover is not accepted", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "An outcome is reported; If-Match is required", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn put(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(input): ApiJson<OutcomeInput>,
) -> ApiResult<Response> {
    let (put, d) = uc::record(&state, &auth, id, if_match.precondition(), input).await?;
    let status = match put {
        Put::Created => StatusCode::CREATED,
        Put::Replaced => StatusCode::OK,
    };
    Ok(with_status(status, None, d))
}
