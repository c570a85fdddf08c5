//! Identifier probes. A DUF number, D-number or e-mail address is unique across the service, so
//! an attempt to register one that exists elsewhere would tell the caller that it exists (and,
//! for a participant, that the person is at the other centre). Such a conflict answers only that
//! the value cannot be registered here, whoever holds it; it is audited with the record it hit
//! and counted per caller like a failed login, so probing runs into 429 (docs/security.md).

use crate::error::ApiError;
use crate::extract::{Auth, RequestMeta};
use crate::state::AppState;
use handover_db::throttle;
use uuid::Uuid;

fn key(auth: &Auth) -> String {
    format!("probe:{}", auth.0.user_id)
}

/// 429 while the caller's probe counter is locked.
pub async fn check(state: &AppState, auth: &Auth) -> Result<(), ApiError> {
    match throttle::locked_until(&state.pool, &[key(auth)]).await? {
        Some(until) => Err(crate::routes::auth::retry_after(until)),
        None => Ok(()),
    }
}

/// Records a conflict on a unique identifier: an audit row naming the record hit (never the
/// value tried), one failure on the caller's probe counter; returns the answer to give.
pub async fn conflict(
    state: &AppState,
    auth: &Auth,
    meta: &RequestMeta,
    action: &str,
    hit: Option<(&str, Uuid)>,
    message: &str,
) -> ApiError {
    let audited =
        crate::audit::audit(&state.pool, auth, meta, action, hit, "identifier_conflict").await;
    if let Err(e) = audited {
        return e.into();
    }
    if let Err(e) =
        throttle::record_failure(&state.pool, &key(auth), state.config.probe_throttle.limit()).await
    {
        return e.into();
    }
    ApiError::Conflict(message.to_owned())
}
