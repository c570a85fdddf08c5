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

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedHandover {
    pub handover: Handover,
    pub history: Vec<Transition>,
    pub openings: Vec<Opening>,
    /// Every version of the file as sent.
    #[schema(value_type = Vec<Object>)]
    pub files: Vec<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
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
    let d = uc::export(&state, &auth, id)
        .await?
        .map(|e| ParticipantExport {
            exported_at: e.exported_at,
            record: e.record,
            record_history: e.record_history,
            guidance_summaries: e.guidance_summaries,
            settlement: e.settlement,
            consents: e.consents,
            adaptation_needs: e.adaptation_needs,
            handovers: e.handovers.into_iter().map(exported_handover).collect(),
            access_log: e.access_log,
        });
    let mut res = disclosed(d);
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"participant-{id}.json\""))
            .unwrap_or(HeaderValue::from_static("attachment")),
    );
    Ok(res)
}

fn exported_handover(h: uc::ExportedHandover) -> ExportedHandover {
    ExportedHandover {
        handover: h.handover,
        history: h.history,
        openings: h.openings,
        files: h
            .files
            .into_iter()
            .map(|f| serde_json::json!({ "file_version": f.file_version, "sent_at": f.sent_at.to_string(), "snapshot": f.snapshot }))
            .collect(),
    }
}
