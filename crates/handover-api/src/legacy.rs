//! The helpers of the route files not yet moved onto use cases. Deleted when the last one moves.

use crate::audit::{Audited, Disclosed, audit_participant};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, RequestMeta};
use crate::routes::users::with_etag;
use crate::state::AppState;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use handover_db::participants::{self, Owner};
use handover_domain::Action;
use handover_domain::policy::participant_relation;
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
