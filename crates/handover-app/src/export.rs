//! Everything the service holds about one participant (the right of access, GDPR art. 15).

use crate::App;
use crate::access;
use crate::actor::Actor;
use crate::audit::{Disclosed, audit_participant};
use crate::error::AppResult;
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
use time::OffsetDateTime;
use uuid::Uuid;

/// One version of a handover's file as sent.
#[derive(Debug, Serialize)]
pub struct ExportedFile {
    pub file_version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
    /// The stored snapshot, as it was frozen.
    pub snapshot: serde_json::Value,
}

#[derive(Debug, Serialize)]
pub struct ExportedHandover {
    pub handover: Handover,
    pub history: Vec<Transition>,
    pub openings: Vec<Opening>,
    pub files: Vec<ExportedFile>,
    /// What the municipality reported after settlement, if it has.
    pub outcome: Option<handover_domain::handover::HandoverOutcome>,
}

/// The export as one document: the JSON API answers it, the web page offers it as a file.
#[derive(Debug, Serialize)]
pub struct ParticipantExport {
    #[serde(with = "time::serde::rfc3339")]
    pub exported_at: OffsetDateTime,
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

/// All data held about a participant, for their right of access. The export is audited.
pub async fn export(app: &App, actor: &Actor, id: Uuid) -> AppResult<Disclosed<ParticipantExport>> {
    access::participant(app, actor, Action::ParticipantExport, id).await?;
    let mut conn = app.pool.acquire().await?;
    let record = participants::record(&mut conn, id).await?;
    let record_history = participants::history(&mut *conn, id, i64::MAX, 0).await?;
    let guidance_summaries = guidance::list_summaries(&mut conn, id)
        .await?
        .map(|all| all.into_iter().map(|(s, _)| s).collect::<Vec<_>>());
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
    let handover_ids: Vec<Uuid> = list.fact(|p| p.items.iter().map(|h| h.id).collect());
    let mut per_handover = Vec::new();
    for hid in handover_ids {
        let history = handovers::transitions(&mut *conn, hid).await?;
        let openings = handovers::openings(&mut *conn, hid).await?;
        let files = handovers::files(&mut *conn, hid).await?.map(|all| {
            all.into_iter()
                .map(|(file_version, sent_at, snapshot)| ExportedFile {
                    file_version,
                    sent_at,
                    snapshot,
                })
                .collect::<Vec<_>>()
        });
        let outcome = handovers::get_outcome(&mut *conn, hid).await?;
        per_handover.push((history, openings, files, outcome));
    }
    let access_log = handover_db::audit::about(&mut *conn, id).await?;
    drop(conn);
    let proof = audit_participant(&app.pool, actor, "participant.export", id).await?;
    let (record, record_history) = (record.open(&proof), record_history.open(&proof).items);
    let (settlement, consents) = (settlement.open(&proof), consents.open(&proof));
    let adaptation_needs = adaptation_needs.open(&proof);
    let guidance_summaries = guidance_summaries.open(&proof);
    let exported = list
        .open(&proof)
        .items
        .into_iter()
        .zip(per_handover)
        .map(
            |(handover, (history, openings, files, outcome))| ExportedHandover {
                handover,
                history,
                openings,
                files: files.open(&proof),
                outcome: outcome.open(&proof),
            },
        )
        .collect();
    Ok(Disclosed::new(
        proof,
        None,
        ParticipantExport {
            exported_at: app.now(),
            record,
            record_history,
            guidance_summaries,
            settlement,
            consents,
            adaptation_needs,
            handovers: exported,
            access_log,
        },
    ))
}
