//! The qualification-pathway catalogue: readable by every signed-in user, managed by operator
//! administrators. Every change makes a new version; referenced offerings are retired, not deleted.

use crate::audit::audit;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch, RequestMeta};
use crate::legacy::created;
use crate::paging::{Page, Paging};
use crate::routes::users::with_etag;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use handover_db::DbError;
use handover_db::guidance::{self, OfferingFilter};
use handover_domain::guidance::OfferingVersion;
use handover_domain::guidance::{Offering, OfferingGroup, OfferingInput};
use handover_domain::{Action, Relation};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OfferingQuery {
    pub group: Option<OfferingGroup>,
    /// Include retired offerings (default false).
    pub include_retired: Option<bool>,
    /// Part of the name (either language) or key.
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

async fn load(state: &AppState, id: Uuid) -> ApiResult<Offering> {
    match guidance::get_offering(&state.pool, id).await {
        Err(DbError::NotFound) => Err(ApiError::NotFound),
        other => Ok(other?),
    }
}

fn manage(auth: &Auth) -> ApiResult<()> {
    auth.require(Action::CatalogueManage)?;
    auth.check(Action::CatalogueManage, Relation::Unrelated)?;
    Ok(())
}

fn key_conflict(e: DbError) -> ApiError {
    match e {
        DbError::Conflict(c) if c == "catalogue_offerings_key_key" => {
            ApiError::Conflict("An offering with this key already exists.".into())
        }
        DbError::Conflict(c) if c == "catalogue_offering_referenced" => ApiError::Conflict(
            "Guidance summaries recommend this offering; retire it instead of deleting it.".into(),
        ),
        other => other.into(),
    }
}

/// List catalogue offerings, by group and key.
#[utoipa::path(operation_id = "list_offerings", get, path = "/api/v1/catalogue/offerings", tag = "catalogue",
    security(("bearer" = [])),
    params(OfferingQuery),
    responses((status = 200, description = "The matching offerings, by group and key", body = Page<Offering>)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<OfferingQuery>,
) -> ApiResult<Json<Page<Offering>>> {
    auth.require(Action::CatalogueRead)?;
    if q.q.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(ApiError::field(
            "q",
            "too_long",
            "must be at most 100 characters",
        ));
    }
    let paging = Paging {
        limit: q.limit,
        offset: q.offset,
    };
    paging.resolve()?;
    let items = guidance::list_offerings(
        &state.pool,
        &OfferingFilter {
            group: q.group,
            include_retired: q.include_retired.unwrap_or(false),
            q: q.q,
        },
    )
    .await?;
    Ok(Json(Page::slice(items, &paging)?))
}

/// Read an offering (its current version).
#[utoipa::path(operation_id = "get_offering", get, path = "/api/v1/catalogue/offerings/{id}", tag = "catalogue",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Offering, headers(("ETag" = String)))))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    auth.require(Action::CatalogueRead)?;
    let o = load(&state, id).await?;
    Ok(with_etag(o.version, Json(o)))
}

/// Every version of an offering, newest first.
#[utoipa::path(get, path = "/api/v1/catalogue/offerings/{id}/versions", tag = "catalogue",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), Paging),
    responses((status = 200, description = "The offering's versions, newest first", body = Page<OfferingVersion>)))]
pub async fn versions(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<Page<OfferingVersion>>> {
    auth.require(Action::CatalogueRead)?;
    paging.resolve()?;
    load(&state, id).await?;
    let all = guidance::offering_versions(&state.pool, id).await?;
    Ok(Json(Page::slice(all, &paging)?))
}

/// Add an offering (operator administrators).
#[utoipa::path(operation_id = "create_offering", post, path = "/api/v1/catalogue/offerings", tag = "catalogue",
    security(("bearer" = [])),
    request_body = OfferingInput,
    responses(
        (status = 201, body = Offering, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "Key taken", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiJson(input): ApiJson<OfferingInput>,
) -> ApiResult<Response> {
    manage(&auth)?;
    input.validate().map_err(ApiError::Validation)?;
    let id = Uuid::now_v7();
    let mut tx = state.pool.begin().await?;
    guidance::create_offering(&mut tx, id, &input, auth.0.user_id)
        .await
        .map_err(key_conflict)?;
    audit(
        &mut *tx,
        &auth,
        &meta,
        "catalogue.create",
        Some(("offering", id)),
        "success",
    )
    .await?;
    let o = guidance::get_offering(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(created(
        format!("/api/v1/catalogue/offerings/{id}"),
        o.version,
        o,
    ))
}

/// What a new version changes.
enum Change {
    Content(Box<OfferingInput>),
    Retired(bool),
}

async fn new_version(
    state: &AppState,
    auth: &Auth,
    meta: &RequestMeta,
    id: Uuid,
    if_match: &IfMatch,
    change: Change,
    action: &str,
) -> ApiResult<Response> {
    manage(auth)?;
    let current = load(state, id).await?;
    let version = if_match.check(current.version)?;
    let (input, retired) = match change {
        Change::Content(i) => (*i, None),
        Change::Retired(r) if r == current.retired => {
            return Err(ApiError::Conflict(
                if r {
                    "The offering is already retired."
                } else {
                    "The offering is not retired."
                }
                .into(),
            ));
        }
        Change::Retired(r) => (current.data.clone(), Some(r)),
    };
    input.validate().map_err(ApiError::Validation)?;
    if input.key != current.data.key {
        return Err(ApiError::field(
            "key",
            "immutable",
            "the key of an offering cannot change",
        ));
    }
    let mut tx = state.pool.begin().await?;
    if !guidance::update_offering(
        &mut tx,
        id,
        version,
        &input,
        retired.unwrap_or(current.retired),
        auth.0.user_id,
    )
    .await?
    {
        return Err(ApiError::PreconditionFailed);
    }
    audit(
        &mut *tx,
        auth,
        meta,
        action,
        Some(("offering", id)),
        "success",
    )
    .await?;
    let o = guidance::get_offering(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(with_etag(o.version, Json(o)))
}

/// Replace an offering's content: a new version. Requires `If-Match`.
#[utoipa::path(operation_id = "update_offering", put, path = "/api/v1/catalogue/offerings/{id}", tag = "catalogue",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version replaced")),
    request_body = OfferingInput,
    responses(
        (status = 200, body = Offering, headers(("ETag" = String))),
    ))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(input): ApiJson<OfferingInput>,
) -> ApiResult<Response> {
    new_version(
        &state,
        &auth,
        &meta,
        id,
        &if_match,
        Change::Content(Box::new(input)),
        "catalogue.update",
    )
    .await
}

/// Retire an offering: it can no longer be recommended; summaries that recommend it keep it.
#[utoipa::path(post, path = "/api/v1/catalogue/offerings/{id}/retire", tag = "catalogue",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the current version")),
    responses(
        (status = 200, body = Offering, headers(("ETag" = String))),
        (status = 409, description = "Already retired (retire) or not retired (reinstate)", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn retire(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    new_version(
        &state,
        &auth,
        &meta,
        id,
        &if_match,
        Change::Retired(true),
        "catalogue.retire",
    )
    .await
}

/// Bring a retired offering back.
#[utoipa::path(post, path = "/api/v1/catalogue/offerings/{id}/reinstate", tag = "catalogue",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the current version")),
    responses(
        (status = 200, body = Offering, headers(("ETag" = String))),
        (status = 409, description = "Already retired (retire) or not retired (reinstate)", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn reinstate(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    new_version(
        &state,
        &auth,
        &meta,
        id,
        &if_match,
        Change::Retired(false),
        "catalogue.reinstate",
    )
    .await
}

/// Delete an offering that no summary references (409 otherwise: retire it). Requires `If-Match`.
#[utoipa::path(operation_id = "delete_offering", delete, path = "/api/v1/catalogue/offerings/{id}", tag = "catalogue",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the current version")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Referenced by a guidance summary", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    manage(&auth)?;
    let current = load(&state, id).await?;
    let version = if_match.check(current.version)?;
    let mut tx = state.pool.begin().await?;
    if !guidance::delete_offering(&mut tx, id, version, auth.0.user_id)
        .await
        .map_err(key_conflict)?
    {
        return Err(ApiError::PreconditionFailed);
    }
    audit(
        &mut *tx,
        &auth,
        &meta,
        "catalogue.delete",
        Some(("offering", id)),
        "success",
    )
    .await?;
    tx.commit().await.map_err(|e| key_conflict(e.into()))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
