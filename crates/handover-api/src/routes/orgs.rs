//! The organisation register: readable by every signed-in user, managed by operator administrators
//! (`handover_app::orgs`).

use crate::answer::with_etag;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch};
use crate::paging::{Page, Paging};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use handover_app::orgs as uc;
use handover_domain::{OrgId, OrgKind, Organisation};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrgQuery {
    pub kind: Option<OrgKind>,
    /// Part of the name, or the start of a municipality number.
    #[param(max_length = 100)]
    pub q: Option<String>,
    pub active: Option<bool>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganisation {
    /// `reception_centre`, `career_centre` or `municipality` (there is one operator organisation).
    pub kind: OrgKind,
    #[schema(max_length = 200)]
    pub name: String,
    /// Required for municipalities: the four-digit municipality number.
    #[schema(pattern = "^[0-9]{4}$")]
    pub municipality_number: Option<String>,
    #[schema(max_length = 100)]
    pub county: Option<String>,
    /// For a career centre: the reception centre it serves.
    pub serves_reception_centre_id: Option<OrgId>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganisation {
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// `null` clears it.
    #[serde(
        default,
        deserialize_with = "handover_domain::participant::double_option"
    )]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub county: Option<Option<String>>,
    pub active: Option<bool>,
    /// For a career centre: the reception centre it serves; `null` clears it.
    #[serde(
        default,
        deserialize_with = "handover_domain::participant::double_option"
    )]
    #[schema(value_type = Option<OrgId>)]
    pub serves_reception_centre_id: Option<Option<OrgId>>,
    /// Every user of the organisation must sign in with a second factor; turning it on ends
    /// the sessions of users who have none (they set one up at their next login).
    pub require_second_factor: Option<bool>,
}

/// List organisations: reception centres, career centres and Norway's municipalities.
#[utoipa::path(operation_id = "list_organisations", get, path = "/api/v1/organisations", tag = "organisations",
    security(("bearer" = [])),
    params(OrgQuery),
    responses((status = 200, description = "The matching organisations", body = Page<Organisation>)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<OrgQuery>,
) -> ApiResult<Json<Page<Organisation>>> {
    let q = uc::OrgQuery {
        kind: q.kind,
        q: q.q,
        active: q.active,
        paging: Paging {
            limit: q.limit,
            offset: q.offset,
        },
    };
    Ok(Json(uc::list(&state, &auth, q).await?))
}

/// Read an organisation.
#[utoipa::path(operation_id = "get_organisation", get, path = "/api/v1/organisations/{id}", tag = "organisations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Organisation, headers(("ETag" = String)))))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let org = uc::get(&state, &auth, id).await?;
    Ok(with_etag(org.version, Json(org)))
}

/// Create an organisation (operator administrators).
#[utoipa::path(operation_id = "create_organisation", post, path = "/api/v1/organisations", tag = "organisations",
    security(("bearer" = [])),
    request_body = CreateOrganisation,
    responses(
        (status = 201, body = Organisation, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "Name or number taken", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<CreateOrganisation>,
) -> ApiResult<Response> {
    let input = uc::OrgInput {
        kind: req.kind,
        name: req.name,
        municipality_number: req.municipality_number,
        county: req.county,
        serves_reception_centre_id: req.serves_reception_centre_id,
    };
    let org = uc::create(&state, &auth, input).await?;
    let location = format!("/api/v1/organisations/{}", org.id);
    let mut res = with_etag(org.version, (StatusCode::CREATED, Json(&org)));
    if let Ok(loc) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(res)
}

/// Rename, (de)activate, or set which reception centre a career centre serves. Requires `If-Match`.
#[utoipa::path(operation_id = "update_organisation", patch, path = "/api/v1/organisations/{id}", tag = "organisations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version edited")),
    request_body = UpdateOrganisation,
    responses(
        (status = 200, body = Organisation, headers(("ETag" = String))),
        (status = 409, description = "Conflict", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<UpdateOrganisation>,
) -> ApiResult<Response> {
    let patch = uc::OrgPatch {
        name: req.name,
        county: req.county,
        active: req.active,
        serves_reception_centre_id: req.serves_reception_centre_id,
        require_second_factor: req.require_second_factor,
    };
    let updated = uc::update(&state, &auth, id, if_match.precondition(), patch).await?;
    Ok(with_etag(updated.version, Json(updated)))
}
