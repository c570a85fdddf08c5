//! The right to erasure (GDPR art. 17): the centre carries out a participant's documented
//! request before the retention date. Everything about the participant goes (the same cascade
//! as the retention sweep); what stays is that an erasure happened, on which ground, when and by
//! whom (the audit log and `participant_erasures`), never what was erased. Every municipality
//! that received a file is told that it was withdrawn, in the same transaction (the outbox).

use crate::App;
use crate::access;
use crate::actor::Actor;
use crate::audit::audit;
use crate::error::{AppError, AppResult};
use crate::handovers::recipient_addresses;
use crate::precondition::Precondition;
use handover_db::orgs;
use handover_db::outbox::{self, NewMail};
use handover_db::participants::{self, ErasureRecord};
use handover_domain::participant::ErasureRequest;
use handover_domain::{Action, OrgId};
use handover_mail::templates::withdrawal_notice;
use time::OffsetDateTime;
use uuid::Uuid;

/// What an erasure did, for the answer (no personal data).
#[derive(Debug, Clone)]
pub struct Erased {
    pub erasure_id: Uuid,
    pub participant_id: Uuid,
    pub erased_at: OffsetDateTime,
    pub handovers_withdrawn: i32,
    pub recipients_notified: i32,
}

/// Erases participant `id` at the version the caller saw (`If-Match`: an erasure of a record
/// that changed meanwhile would erase what the caller never looked at).
pub async fn erase(
    app: &App,
    actor: &Actor,
    id: Uuid,
    expected: Precondition,
    req: ErasureRequest,
) -> AppResult<Erased> {
    let (owner, _) = access::participant(app, actor, Action::ParticipantErase, id).await?;
    req.validate(app.today())?;
    let centre = orgs::get(&app.pool, owner.reception_centre_id).await?;
    let mut tx = app.pool.begin().await?;
    let current = participants::lock_for_erasure(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    expected.check(current)?;

    // Who holds a copy: read before the cascade takes the handovers and settlement contacts.
    let sent = participants::sent_handovers(&mut tx, id).await?;
    let mut mails = Vec::new();
    for h in &sent {
        for to in recipient_addresses(&mut tx, OrgId(h.municipality_id), id).await? {
            mails.push((h, to));
        }
    }
    let record = ErasureRecord {
        id: Uuid::now_v7(),
        participant_id: id,
        reception_centre_id: owner.reception_centre_id.0,
        ground: req.ground,
        request_received_on: req.request_received_on,
        erased_by: actor.caller.user_id,
        handovers_withdrawn: i32::try_from(sent.len()).unwrap_or(i32::MAX),
        recipients_notified: i32::try_from(mails.len()).unwrap_or(i32::MAX),
    };
    let erased_at = participants::erase(&mut tx, &record).await?;
    audit(
        &mut *tx,
        actor,
        "participant.erase",
        Some(("participant", id)),
        "success",
    )
    .await?;
    for (h, to) in &mails {
        let n = withdrawal_notice(&h.reference, &centre.name);
        outbox::enqueue(
            &mut *tx,
            &NewMail {
                dedupe_key: format!("erasure:{}:{}:{to}", record.id, h.id),
                to,
                subject: n.subject,
                body_text: n.body,
                // Not tied to the participant or the handover: both are gone, and the notice
                // must outlive them.
                participant_id: None,
                handover_id: None,
                ..Default::default()
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Erased {
        erasure_id: record.id,
        participant_id: id,
        erased_at,
        handovers_withdrawn: record.handovers_withdrawn,
        recipients_notified: record.recipients_notified,
    })
}
