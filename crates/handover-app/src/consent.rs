//! The participant's consent decisions: which sections of the file may be shared.

use crate::App;
use crate::access;
use crate::actor::Actor;
use crate::audit::{Disclosed, audit_participant};
use crate::error::{AppError, AppResult};
use crate::record::{Changed, log_write};
use handover_db::handovers;
use handover_domain::handover::{Consent, ConsentInput};
use handover_domain::{Action, Page, Paging, Validator};
use uuid::Uuid;

/// The consent decisions, oldest first (withdrawn ones included).
pub async fn list(
    app: &App,
    actor: &Actor,
    participant: Uuid,
    paging: Paging,
) -> AppResult<Disclosed<Page<Consent>>> {
    access::participant(app, actor, Action::HandoverPrepare, participant).await?;
    paging.resolve()?;
    let items = handovers::consents(&app.pool, participant).await?;
    let proof = audit_participant(&app.pool, actor, "consent.read", participant).await?;
    let items = items.open(&proof);
    Ok(Disclosed::new(proof, None, Page::slice(items, &paging)?))
}

/// Records a consent decision.
pub async fn create(
    app: &App,
    actor: &Actor,
    participant: Uuid,
    input: ConsentInput,
) -> AppResult<Disclosed<Consent>> {
    let (_, granted) =
        access::participant(app, actor, Action::HandoverPrepare, participant).await?;
    input.validate(app.today())?;
    let cid = Uuid::now_v7();
    let mut tx = app.pool.begin().await?;
    handovers::create_consent(
        &mut *tx,
        cid,
        participant,
        &input,
        actor.caller.user_id,
        &actor.caller.name,
    )
    .await?;
    let proof = log_write(
        &mut tx,
        actor,
        &granted,
        Changed {
            participant,
            section: "consent",
            record_id: cid,
            operation: "create",
            fields: &[],
        },
    )
    .await?;
    let c = handovers::get_consent(&mut *tx, cid).await?.open(&proof);
    tx.commit().await?;
    // A consent is never edited, only withdrawn: its version is always 1.
    Ok(Disclosed::new(proof, Some(1), c))
}

/// Withdraws a consent. It takes effect at once for every section it covers, also in files
/// already sent: what it let through is purged from them.
pub async fn withdraw(
    app: &App,
    actor: &Actor,
    consent: Uuid,
    note: Option<&str>,
) -> AppResult<Disclosed<Consent>> {
    actor.require(Action::HandoverPrepare)?;
    let participant = match handovers::get_consent(&app.pool, consent).await {
        Err(handover_db::DbError::NotFound) => return Err(AppError::NotFound),
        other => other?.fact(|c| c.participant_id),
    };
    let (_, granted) =
        access::participant(app, actor, Action::HandoverPrepare, participant).await?;
    if let Some(n) = note {
        let mut v = Validator::new();
        v.free_text("note", n, 2000);
        v.finish()?;
    }
    let mut tx = app.pool.begin().await?;
    if !handovers::withdraw_consent(&mut *tx, consent, &actor.caller.name, note).await? {
        return Err(AppError::Conflict(
            "The consent is already withdrawn.".into(),
        ));
    }
    handovers::purge_consented_content(&mut *tx, participant, consent).await?;
    let proof = log_write(
        &mut tx,
        actor,
        &granted,
        Changed {
            participant,
            section: "consent",
            record_id: consent,
            operation: "update",
            fields: &["withdrawn_at"],
        },
    )
    .await?;
    let c = handovers::get_consent(&mut *tx, consent)
        .await?
        .open(&proof);
    tx.commit().await?;
    Ok(Disclosed::new(proof, None, c))
}
