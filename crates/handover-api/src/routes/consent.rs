//! What the centre registers before a handover: the settlement decision, the participant's
//! consent, and health and adaptation needs (shared only under explicit consent).

use crate::audit::Disclosed;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch, RequestMeta};
use crate::legacy::{audit_read, authorize, disclosed_created, log_write, today};
use crate::paging::{Page, Paging};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use handover_db::handovers;
use handover_domain::handover::{
    AdaptationNeeds, AdaptationNeedsInput, Consent, ConsentInput, Settlement, SettlementInput,
};
use handover_domain::participant::changed_fields;
use handover_domain::{Action, OrgKind};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// The registered settlement decision (404 until registered).
#[utoipa::path(get, path = "/api/v1/participants/{id}/settlement", tag = "settlement and consent",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Settlement, headers(("ETag" = String)))))]
pub async fn get_settlement(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    authorize(&state, &auth, Action::HandoverPrepare, id).await?;
    let s = handovers::get_settlement(&state.pool, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let proof = audit_read(&state, &auth, &meta, "settlement.read", id).await?;
    Ok(Disclosed::new(proof, Some(s.version), s).into_response())
}

/// Register the settlement decision (201) or change it (200, needs `If-Match`).
#[utoipa::path(put, path = "/api/v1/participants/{id}/settlement", tag = "settlement and consent",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the decision changed; omit to register")),
    request_body = SettlementInput,
    responses(
        (status = 200, body = Settlement, headers(("ETag" = String))),
        (status = 201, body = Settlement, headers(("ETag" = String))),
        (status = 428, description = "It exists; If-Match is required", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_settlement(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(input): ApiJson<SettlementInput>,
) -> ApiResult<Response> {
    authorize(&state, &auth, Action::HandoverPrepare, id).await?;
    let current = handovers::get_settlement(&state.pool, id).await?;
    let expected = if_match.check_optional(current.as_ref().map(|s| s.version))?;
    input.validate().map_err(ApiError::Validation)?;
    // The municipality must be a municipality in the register.
    let is_municipality = match handover_db::orgs::get(&state.pool, input.municipality_id).await {
        Ok(o) => o.kind == OrgKind::Municipality && o.active,
        Err(handover_db::DbError::NotFound) => false,
        Err(e) => return Err(e.into()),
    };
    if !is_municipality {
        return Err(ApiError::field(
            "municipality_id",
            "not_a_municipality",
            "must be an active municipality in the organisation register",
        ));
    }
    let fields = current
        .map(|c| changed_fields(&c.data, &input))
        .unwrap_or_default();
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    let mut tx = state.pool.begin().await?;
    let status = crate::routes::programme::upsert_answer(
        handovers::put_settlement(&mut tx, id, expected, &input, auth.0.user_id).await?,
    )?;
    let op = if status == StatusCode::CREATED {
        "create"
    } else {
        "update"
    };
    let proof = log_write(&mut tx, &auth, &meta, id, "settlement", id, op, &fields).await?;
    let s = handovers::get_settlement(&mut *tx, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(Disclosed::new(proof, Some(s.version), s)
        .with_status(status)
        .into_response())
}

/// The participant's consent decisions, oldest first (withdrawn ones included).
#[utoipa::path(get, path = "/api/v1/participants/{id}/consents", tag = "settlement and consent",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), Paging),
    responses((status = 200, description = "The consent decisions, oldest first", body = Page<Consent>)))]
pub async fn list_consents(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<Page<Consent>>> {
    authorize(&state, &auth, Action::HandoverPrepare, id).await?;
    paging.resolve()?;
    let items = handovers::consents(&state.pool, id).await?;
    audit_read(&state, &auth, &meta, "consent.read", id).await?;
    Ok(Json(Page::slice(items, &paging)?))
}

/// Record a consent decision: which sections may be shared (empty: none), when, how, in which
/// language, with or without an interpreter. The newest decision that is not withdrawn is the
/// participant's current will, for every section.
#[utoipa::path(post, path = "/api/v1/participants/{id}/consents", tag = "settlement and consent",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ConsentInput,
    responses((status = 201, body = Consent, headers(("Location" = String)))))]
pub async fn create_consent(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<ConsentInput>,
) -> ApiResult<Response> {
    authorize(&state, &auth, Action::HandoverPrepare, id).await?;
    input.validate(today()).map_err(ApiError::Validation)?;
    let cid = Uuid::now_v7();
    let mut tx = state.pool.begin().await?;
    handovers::create_consent(&mut *tx, cid, id, &input, auth.0.user_id, &auth.0.name).await?;
    let proof = log_write(&mut tx, &auth, &meta, id, "consent", cid, "create", &[]).await?;
    let c = handovers::get_consent(&mut *tx, cid).await?;
    tx.commit().await?;
    Ok(disclosed_created(
        proof,
        format!("/api/v1/participants/{id}/consents"),
        1,
        c,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    /// Optional note, e.g. how the participant said so.
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Withdraw a consent. It takes effect at once for every section it covers, also in files
/// already sent: the municipality then sees those sections as withheld.
#[utoipa::path(post, path = "/api/v1/consents/{id}/withdraw", tag = "settlement and consent",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = Withdrawal,
    responses(
        (status = 200, body = Consent),
        (status = 409, description = "Already withdrawn", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn withdraw_consent(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(cid): ApiPath<Uuid>,
    ApiJson(w): ApiJson<Withdrawal>,
) -> ApiResult<Json<Consent>> {
    auth.require(Action::HandoverPrepare)?;
    let consent = match handovers::get_consent(&state.pool, cid).await {
        Err(handover_db::DbError::NotFound) => return Err(ApiError::NotFound),
        other => other?,
    };
    authorize(
        &state,
        &auth,
        Action::HandoverPrepare,
        consent.participant_id,
    )
    .await?;
    if let Some(n) = &w.note {
        let mut v = handover_domain::Validator::new();
        v.free_text("note", n, 2000);
        v.finish().map_err(ApiError::Validation)?;
    }
    let mut tx = state.pool.begin().await?;
    if !handovers::withdraw_consent(&mut *tx, cid, &auth.0.name, w.note.as_deref()).await? {
        return Err(ApiError::Conflict(
            "The consent is already withdrawn.".into(),
        ));
    }
    handovers::purge_consented_content(&mut *tx, consent.participant_id, cid).await?;
    log_write(
        &mut tx,
        &auth,
        &meta,
        consent.participant_id,
        "consent",
        cid,
        "update",
        &["withdrawn_at"],
    )
    .await?;
    let c = handovers::get_consent(&mut *tx, cid).await?;
    tx.commit().await?;
    Ok(Json(c))
}

/// Health and special adaptation needs (404 until recorded).
#[utoipa::path(get, path = "/api/v1/participants/{id}/adaptation-needs", tag = "settlement and consent",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = AdaptationNeeds, headers(("ETag" = String)))))]
pub async fn get_adaptation(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    authorize(&state, &auth, Action::HandoverPrepare, id).await?;
    let a = handovers::get_adaptation(&state.pool, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let proof = audit_read(&state, &auth, &meta, "adaptation_needs.read", id).await?;
    Ok(Disclosed::new(proof, Some(a.version), a).into_response())
}

/// Record (201) or replace (200, needs `If-Match`) health and adaptation needs.
#[utoipa::path(put, path = "/api/v1/participants/{id}/adaptation-needs", tag = "settlement and consent",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the record replaced; omit to create")),
    request_body = AdaptationNeedsInput,
    responses(
        (status = 200, body = AdaptationNeeds, headers(("ETag" = String))),
        (status = 201, body = AdaptationNeeds, headers(("ETag" = String))),
        (status = 428, description = "It exists; If-Match is required", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_adaptation(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(input): ApiJson<AdaptationNeedsInput>,
) -> ApiResult<Response> {
    authorize(&state, &auth, Action::HandoverPrepare, id).await?;
    let current = handovers::get_adaptation(&state.pool, id).await?;
    let expected = if_match.check_optional(current.as_ref().map(|a| a.version))?;
    input.validate().map_err(ApiError::Validation)?;
    let mut tx = state.pool.begin().await?;
    let status = crate::routes::programme::upsert_answer(
        handovers::put_adaptation(&mut tx, id, expected, &input).await?,
    )?;
    let op = if status == StatusCode::CREATED {
        "create"
    } else {
        "update"
    };
    let proof = log_write(&mut tx, &auth, &meta, id, "adaptation_needs", id, op, &[]).await?;
    let a = handovers::get_adaptation(&mut *tx, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(Disclosed::new(proof, Some(a.version), a)
        .with_status(status)
        .into_response())
}
