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
