//! The qualification-pathway catalogue: readable by every signed-in user, managed by operator
//! administrators. Every change makes a new version; referenced offerings are retired, not deleted
//! (in `handover_app::catalogue`).

use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch, etag};
use crate::paging::{Page, Paging};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use handover_app::catalogue as uc;
use handover_domain::guidance::OfferingVersion;
use handover_domain::guidance::{Offering, OfferingGroup, OfferingInput};
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

/// An offering with its version as `ETag` (and a `Location` when created). Offerings carry no
/// participant data, so they are not a `Disclosed` answer.
fn tagged(status: StatusCode, location: Option<String>, o: Offering) -> Response {
    let version = o.version;
    let mut res = (status, Json(o)).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    if let Some(loc) = location
        && let Ok(loc) = HeaderValue::from_str(&loc)
    {
        res.headers_mut().insert(header::LOCATION, loc);
    }
    res
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
    let q = uc::OfferingQuery {
        group: q.group,
        include_retired: q.include_retired,
        q: q.q,
        paging: Paging {
            limit: q.limit,
            offset: q.offset,
        },
    };
    Ok(Json(uc::list(&state, &auth, q).await?))
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
    let o = uc::get(&state, &auth, id).await?;
    Ok(tagged(StatusCode::OK, None, o))
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
    Ok(Json(uc::versions(&state, &auth, id, paging).await?))
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
    ApiJson(input): ApiJson<OfferingInput>,
) -> ApiResult<Response> {
    let o = uc::create(&state, &auth, input).await?;
    let location = format!("/api/v1/catalogue/offerings/{}", o.id);
    Ok(tagged(StatusCode::CREATED, Some(location), o))
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
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(input): ApiJson<OfferingInput>,
) -> ApiResult<Response> {
    let o = uc::update(&state, &auth, id, if_match.precondition(), input).await?;
    Ok(tagged(StatusCode::OK, None, o))
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
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    let o = uc::retire(&state, &auth, id, if_match.precondition()).await?;
    Ok(tagged(StatusCode::OK, None, o))
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
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    let o = uc::reinstate(&state, &auth, id, if_match.precondition()).await?;
    Ok(tagged(StatusCode::OK, None, o))
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
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    uc::delete(&state, &auth, id, if_match.precondition()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
