//! The right to erasure (GDPR art. 17): the participant's centre erases the participant before
//! the retention date at their documented request. Carried out in `handover_app::erasure`.

use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, Auth, IfMatch};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use handover_app::erasure as uc;
use handover_domain::participant::ErasureRequest;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// What the erasure did. No personal data: the participant is gone.
#[derive(Debug, Serialize, ToSchema)]
pub struct Erasure {
    /// The id of the erasure's documentation (kept; it holds no personal data).
    pub id: Uuid,
    pub participant_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub erased_at: time::OffsetDateTime,
    /// Handover files withdrawn from the municipalities that received them.
    pub handovers_withdrawn: i32,
    /// Addresses told by e-mail that a file was withdrawn.
    pub recipients_notified: i32,
}

/// Erase a participant at their documented request, before the retention date (GDPR art. 17).
/// Requires `If-Match` with the participant's current ETag. Everything about the participant
/// is deleted (record, guidance, consents, handovers and their files, conversations, queued
/// e-mails); the audit log keeps that the erasure happened and by whom, never what was erased.
/// Every municipality that received a file is told by e-mail that it was withdrawn.
#[utoipa::path(operation_id = "erase_participant", post, path = "/api/v1/participants/{id}/erasure", tag = "participants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the participant as last read")),
    request_body = ErasureRequest,
    responses((status = 200, body = Erasure)))]
pub async fn erase(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<ErasureRequest>,
) -> ApiResult<Json<Erasure>> {
    let e = uc::erase(&state, &auth, id, if_match.precondition(), req).await?;
    Ok(Json(Erasure {
        id: e.erasure_id,
        participant_id: e.participant_id,
        erased_at: e.erased_at,
        handovers_withdrawn: e.handovers_withdrawn,
        recipients_notified: e.recipients_notified,
    }))
}
