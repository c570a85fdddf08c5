//! Sessions: who a verified token or cookie belongs to.

use crate::App;
use crate::error::AppResult;
use handover_domain::{Caller, UserId};
use uuid::Uuid;

/// The caller behind a session, loaded on every request (no cache): a deactivated user, a
/// revoked session or a changed role acts on the very next request.
pub async fn caller(app: &App, user: UserId, session: Uuid) -> AppResult<Option<Caller>> {
    Ok(handover_db::users::caller(&app.pool, user, session).await?)
}

/// The caller behind a browser session's cookie token, and the session's CSRF token. The
/// session ends after the configured idle time without a request, and at its absolute lifetime.
pub async fn web_caller(app: &App, cookie_token: &str) -> AppResult<Option<(Caller, String)>> {
    if cookie_token.is_empty() || cookie_token.len() > 128 {
        return Ok(None);
    }
    let idle = time::Duration::try_from(app.config.web_idle_timeout)
        .unwrap_or(time::Duration::minutes(30));
    Ok(
        handover_db::users::web_caller(&app.pool, &crate::secrets::hash_opaque(cookie_token), idle)
            .await?,
    )
}
