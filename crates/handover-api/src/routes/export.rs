//! Everything the service holds about one participant, as JSON (the right of access, GDPR art. 15).

use crate::error::ApiResult;
use crate::extract::{ApiPath, Auth, RequestMeta};
use crate::legacy::{audit_read, authorize};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use handover_db::handovers::{self, HandoverFilter};
use handover_db::{guidance, participants};
use handover_domain::Action;
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
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    authorize(&state, &auth, Action::ParticipantExport, id).await?;
    let mut conn = state.pool.acquire().await?;
    let record = participants::record(&mut conn, id).await?;
    let record_history = participants::history(&mut *conn, id, i64::MAX, 0)
        .await?
        .items;
    let guidance_summaries = guidance::list_summaries(&mut conn, id)
        .await?
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    let settlement = handovers::get_settlement(&mut *conn, id).await?;
    let consents = handovers::consents(&mut *conn, id).await?;
    let adaptation_needs = handovers::get_adaptation(&mut *conn, id).await?;
    let list = handovers::list(
        &mut *conn,
        &HandoverFilter {
            participant: Some(id),
            limit: 1000,
            ..Default::default()
        },
    )
    .await?;
    let mut exported = Vec::new();
    for h in list.items {
        let history = handovers::transitions(&mut *conn, h.id).await?;
        let openings = handovers::openings(&mut *conn, h.id).await?;
        let files = handovers::files(&mut *conn, h.id)
            .await?
            .into_iter()
            .map(|(v, at, s)| serde_json::json!({ "file_version": v, "sent_at": at.to_string(), "snapshot": s }))
            .collect();
        exported.push(ExportedHandover {
            handover: h,
            history,
            openings,
            files,
        });
    }
    let access_log = handover_db::audit::about(&mut *conn, id).await?;
    drop(conn);
    audit_read(&state, &auth, &meta, "participant.export", id).await?;
    let body = ParticipantExport {
        exported_at: time::OffsetDateTime::now_utc(),
        record,
        record_history,
        guidance_summaries,
        settlement,
        consents,
        adaptation_needs,
        handovers: exported,
        access_log,
    };
    let mut res = Json(body).into_response();
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"participant-{id}.json\""))
            .unwrap_or(HeaderValue::from_static("attachment")),
    );
    Ok(res)
}
