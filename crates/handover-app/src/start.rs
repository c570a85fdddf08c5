//! What needs doing, for the start page of each role: the participants settling soon without a
//! sent handover (centre staff). The other lists of a start page are the ordinary lists with a
//! filter (handovers declined or unread, conversations proposed).

use crate::App;
use crate::access;
use crate::actor::Actor;
use crate::audit::audit_list;
use crate::error::AppResult;
use handover_db::participants;
pub use handover_db::participants::SettlingSoon;
use handover_domain::Action;
use uuid::Uuid;

/// How far ahead the start page looks for settlements, and how far back for ones passed
/// without a handover.
pub const AHEAD_DAYS: i64 = 30;
pub const BEHIND_DAYS: i64 = 14;

/// Participants of the caller's centre settling within [`AHEAD_DAYS`] (or passed within
/// [`BEHIND_DAYS`]) whose handover has not been sent. One audit row names those shown.
pub async fn settling_soon(app: &App, actor: &Actor) -> AppResult<Vec<SettlingSoon>> {
    actor.require(Action::HandoverPrepare)?;
    let centres = access::visible_centres(actor)?;
    let today = app.today();
    let rows = participants::settling_soon(
        &app.pool,
        &centres,
        today - time::Duration::days(BEHIND_DAYS),
        today + time::Duration::days(AHEAD_DAYS),
        50,
    )
    .await?;
    let ids: Vec<Uuid> = rows.fact(|r| r.iter().map(|s| s.participant_id).collect());
    let proof = audit_list(&app.pool, actor, "participant.settling_soon", &ids).await?;
    Ok(rows.open(&proof))
}
