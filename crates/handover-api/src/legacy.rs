//! The helpers of the route files not yet moved onto use cases. Deleted when the last one moves.

use crate::audit::{Audited, Disclosed, audit_participant};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, RequestMeta};
use crate::routes::users::with_etag;
use crate::state::AppState;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use handover_db::participants::{self, Change, Owner, WriteLog};
use handover_domain::Action;
use handover_domain::policy::participant_relation;
use sqlx::PgConnection;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

pub(crate) fn today() -> Date {
    // Dates in the record are Norwegian calendar dates: "today" is the date in Oslo.
    handover_domain::oslo::to_oslo(OffsetDateTime::now_utc()).date()
}

/// Checks that the caller may do `action` to participant `id`: 403 for a role without any grant,
/// 404 when the participant does not exist or belongs to someone else.
pub(crate) async fn authorize(
    state: &AppState,
    auth: &Auth,
    action: Action,
    id: Uuid,
) -> ApiResult<Owner> {
    auth.require(action)?;
    let owner = participants::owner(&state.pool, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    check_owner(auth, action, &owner)?;
    Ok(owner)
}

/// The access check of [`authorize`], for handlers that read the owner together with the record
/// they edit (one query instead of two). The caller has passed `auth.require(action)`.
pub(crate) fn check_owner(auth: &Auth, action: Action, owner: &Owner) -> ApiResult<()> {
    auth.check(
        action,
        participant_relation(&auth.0, owner.reception_centre_id),
    )?;
    Ok(())
}

/// The history line and audit row of a change that the database layer writes in the same
/// statement as the change.
pub(crate) fn write_log<'a>(
    auth: &'a Auth,
    meta: &'a RequestMeta,
    client: Option<&'a str>,
    section: &'a str,
    operation: &'a str,
    fields: &'a [&'a str],
) -> WriteLog<'a> {
    WriteLog {
        actor: auth.0.user_id,
        actor_name: &auth.0.name,
        actor_org: auth.0.org_id,
        actor_role: auth.0.role.as_str(),
        section,
        operation,
        fields,
        action: format!("{section}.{operation}"),
        request_id: meta.request_id.as_deref(),
        client_addr: client,
    }
}

/// Records a change in the record history and the audit log, in the caller's transaction.
// The arguments are the columns of the two rows written; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn log_write(
    tx: &mut PgConnection,
    auth: &Auth,
    meta: &RequestMeta,
    participant: Uuid,
    section: &str,
    record_id: Uuid,
    operation: &str,
    fields: &[&str],
) -> ApiResult<Audited> {
    participants::record_change(
        &mut *tx,
        &Change {
            participant,
            actor: auth.0.user_id,
            actor_name: &auth.0.name,
            section,
            record_id,
            operation,
            fields,
        },
    )
    .await?;
    Ok(audit_participant(
        &mut *tx,
        auth,
        meta,
        &format!("{section}.{operation}"),
        participant,
    )
    .await?)
}

pub(crate) async fn audit_read(
    state: &AppState,
    auth: &Auth,
    meta: &RequestMeta,
    what: &str,
    participant: Uuid,
) -> ApiResult<Audited> {
    Ok(audit_participant(&state.pool, auth, meta, what, participant).await?)
}

pub(crate) fn created(location: String, version: i32, body: impl serde::Serialize) -> Response {
    let mut res = with_etag(version, (StatusCode::CREATED, Json(body)));
    if let Ok(loc) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, loc);
    }
    res
}

/// 201 with participant data: needs the proof that the create's audit row is written.
pub(crate) fn disclosed_created(
    proof: Audited,
    location: String,
    version: i32,
    body: impl serde::Serialize,
) -> Response {
    Disclosed::new(proof, Some(version), body)
        .created(location)
        .into_response()
}
