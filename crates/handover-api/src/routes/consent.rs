//! What the centre registers before a handover: the settlement decision, the participant's
//! consent, and health and adaptation needs (shared only under explicit consent). The rules are
//! in `handover_app::documents` and `handover_app::consent`.

use crate::answer::{disclosed, disclosed_created};
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch};
use crate::paging::{Page, Paging};
use crate::routes::programme::put_document;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use handover_app::consent as uc;
use handover_app::documents;
use handover_domain::handover::{
    AdaptationNeeds, AdaptationNeedsInput, Consent, ConsentInput, Settlement, SettlementInput,
};
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
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    Ok(disclosed(
        documents::get::<SettlementInput>(&state, &auth, id).await?,
    ))
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
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(input): ApiJson<SettlementInput>,
) -> ApiResult<Response> {
    put_document(&state, &auth, id, if_match, input).await
}

/// The participant's consent decisions, oldest first (withdrawn ones included).
#[utoipa::path(get, path = "/api/v1/participants/{id}/consents", tag = "settlement and consent",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), Paging),
    responses((status = 200, description = "The consent decisions, oldest first", body = Page<Consent>)))]
pub async fn list_consents(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<Page<Consent>>> {
    Ok(Json(uc::list(&state, &auth, id, paging).await?.body))
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
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<ConsentInput>,
) -> ApiResult<Response> {
    let d = uc::create(&state, &auth, id, input).await?;
    Ok(disclosed_created(
        format!("/api/v1/participants/{id}/consents"),
        d,
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
    ApiPath(cid): ApiPath<Uuid>,
    ApiJson(w): ApiJson<Withdrawal>,
) -> ApiResult<Json<Consent>> {
    Ok(Json(
        uc::withdraw(&state, &auth, cid, w.note.as_deref())
            .await?
            .body,
    ))
}

/// Health and special adaptation needs (404 until recorded).
#[utoipa::path(get, path = "/api/v1/participants/{id}/adaptation-needs", tag = "settlement and consent",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = AdaptationNeeds, headers(("ETag" = String)))))]
pub async fn get_adaptation(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    Ok(disclosed(
        documents::get::<AdaptationNeedsInput>(&state, &auth, id).await?,
    ))
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
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(input): ApiJson<AdaptationNeedsInput>,
) -> ApiResult<Response> {
    put_document(&state, &auth, id, if_match, input).await
}
