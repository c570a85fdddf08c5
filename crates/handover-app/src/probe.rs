//! Identifier probes. A DUF number, D-number or e-mail address is unique across the service, so
//! an attempt to register one that exists elsewhere would tell the caller that it exists (and,
//! for a participant, that the person is at the other centre). Such a conflict answers only that
//! the value cannot be registered here, whoever holds it; it is audited with the record it hit
//! and counted per caller like a failed login, so probing runs into 429 (docs/security.md).

use crate::App;
use crate::actor::Actor;
use crate::error::AppError;
use handover_db::throttle;
use uuid::Uuid;

fn key(actor: &Actor) -> String {
    format!("probe:{}", actor.caller.user_id)
}

/// 429 while the caller's probe counter is locked.
pub async fn check(app: &App, actor: &Actor) -> Result<(), AppError> {
    match throttle::locked_until(&app.pool, &[key(actor)]).await? {
        Some(until) => Err(AppError::retry_after(until, app.now())),
        None => Ok(()),
    }
}

/// Records a conflict on a unique identifier: an audit row naming the record hit (never the
/// value tried), one failure on the caller's probe counter; returns the answer to give.
pub async fn conflict(
    app: &App,
    actor: &Actor,
    action: &str,
    hit: Option<(&str, Uuid)>,
    message: &str,
) -> AppError {
    let audited = crate::audit::audit(&app.pool, actor, action, hit, "identifier_conflict").await;
    if let Err(e) = audited {
        return e.into();
    }
    if let Err(e) =
        throttle::record_failure(&app.pool, &key(actor), app.config.probe_throttle.limit()).await
    {
        return e.into();
    }
    AppError::Conflict(message.to_owned())
}
