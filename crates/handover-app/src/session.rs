//! Sessions: who a verified token or cookie belongs to.

use crate::App;
use crate::coalesce::Coalescer;
use crate::error::AppError;
use crate::error::AppResult;
use handover_domain::{Caller, UserId};
use uuid::Uuid;

/// The caller behind a session, loaded on every request (no cache): a deactivated user, a
/// revoked session or a changed role acts on the very next request. The checks of concurrent
/// requests are answered together by one query (`coalesce`), made after each of them arrived.
pub async fn caller(app: &App, user: UserId, session: Uuid) -> AppResult<Option<Caller>> {
    app.callers().ask((user, session)).await
}

/// Requests waiting for their caller check, answered by one query per batch.
pub type Callers = Coalescer<(UserId, Uuid), Option<Caller>>;

/// Batches of at most this many checks; four queries may run at once.
const CALLER_BATCH: usize = 128;
const CALLER_WORKERS: usize = 4;

pub(crate) fn start_callers(pool: handover_db::PgPool) -> Callers {
    let budget = pool.options().get_acquire_timeout();
    Coalescer::start(
        CALLER_WORKERS,
        CALLER_BATCH,
        budget,
        move |keys: Vec<(UserId, Uuid)>| {
            let pool = pool.clone();
            async move {
                match handover_db::users::callers(&pool, &keys).await {
                    Ok(found) => keys
                        .iter()
                        .map(|(u, s)| {
                            Ok(found
                                .iter()
                                .find(|c| c.user_id == *u && c.session_id == *s)
                                .cloned())
                        })
                        .collect(),
                    Err(e) => {
                        let e = AppError::from(e);
                        keys.iter().map(|_| Err(e.clone())).collect()
                    }
                }
            }
        },
    )
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
