//! Everything the service holds about one participant, as JSON (the right of access, GDPR art. 15).
//! Gathered and audited in `handover_app::export`.

use crate::answer::disclosed;
use crate::error::ApiResult;
use crate::extract::{ApiPath, Auth};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use handover_app::export as uc;
use handover_domain::audit::AuditEntry;
use handover_domain::guidance::GuidanceSummary;
use handover_domain::handover::{
    AdaptationNeeds, Consent, Handover, Opening, Settlement, Transition,
};
use handover_domain::participant::{ProgrammeRecord, RecordChange};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

// The OpenAPI schema of the document `handover_app::export::ParticipantExport` serializes to.
// The answer is that type itself, which the web page's download uses too, so the API and the
// page cannot send different documents; these two types only describe it.
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ExportedHandover {
    pub handover: Handover,
    pub history: Vec<Transition>,
    pub openings: Vec<Opening>,
    /// Every version of the file as sent.
    #[schema(value_type = Vec<Object>)]
    pub files: Vec<serde_json::Value>,
    /// What the municipality reported after settlement, if it has.
    pub outcome: Option<handover_domain::handover::HandoverOutcome>,
}

#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ParticipantExport {
    #[serde(with = "time::serde::rfc3339")]
    pub exported_at: time::OffsetDateTime,
    /// Includes the centre's internal notes: they are held, so they are exported.
    pub record: ProgrammeRecord,
    pub record_history: Vec<RecordChange>,
    pub guidance_summaries: Vec<GuidanceSummary>,
    pub settlement: Option<Settlement>,
    pub consents: Vec<Consent>,
    pub adaptation_needs: Option<AdaptationNeeds>,
    pub handovers: Vec<ExportedHandover>,
    /// Who read or changed the data when.
    pub access_log: Vec<AuditEntry>,
}

/// Export all data held about a participant, for their right of access. The export is audited.
#[utoipa::path(get, path = "/api/v1/participants/{id}/export", tag = "participants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ParticipantExport)))]
pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let d = uc::export(&state, &auth, id).await?;
    let mut res = disclosed(d);
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"participant-{id}.json\""))
            .unwrap_or(HeaderValue::from_static("attachment")),
    );
    Ok(res)
}
