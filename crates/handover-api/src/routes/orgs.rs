//! The organisation register: readable by every signed-in user, managed by operator administrators.

use crate::audit::audit;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch, RequestMeta};
use crate::paging::{Page, Paging};
use crate::routes::users::with_etag;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use handover_db::orgs::{self, NewOrganisation, OrgChanges, OrgFilter};
use handover_db::sessions;
use handover_domain::org::is_municipality_number;
use handover_domain::validation::MAX_NAME_CHARS;
use handover_domain::{Action, OrgId, OrgKind, Organisation, Relation, Validator};
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
}

async fn load(state: &AppState, id: Uuid) -> ApiResult<Organisation> {
    match orgs::get(&state.pool, OrgId(id)).await {
        Err(handover_db::DbError::NotFound) => Err(ApiError::NotFound),
        other => Ok(other?),
    }
}

/// Checks that `target` is a reception centre, for `serves_reception_centre_id`.
async fn check_serves(state: &AppState, v: &mut Validator, target: OrgId) -> ApiResult<()> {
    let ok = match orgs::get(&state.pool, target).await {
        Ok(o) => o.kind == OrgKind::ReceptionCentre,
        Err(handover_db::DbError::NotFound) => false,
        Err(e) => return Err(e.into()),
    };
    v.check(
        ok,
        "serves_reception_centre_id",
        "not_a_reception_centre",
        "must be a reception centre",
    );
    Ok(())
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
    auth.require(Action::OrgRead)?;
    let (limit, offset) = Paging {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve()?;
    if q.q.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(ApiError::field(
            "q",
            "too_long",
            "must be at most 100 characters",
        ));
    }
    let page = orgs::list(
        &state.pool,
        &OrgFilter {
            kind: q.kind,
            q: q.q,
            active: q.active,
            limit,
            offset,
        },
    )
    .await?;
    Ok(Json(Page {
        items: page.items,
        total: page.total,
        limit,
        offset,
    }))
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
    auth.require(Action::OrgRead)?;
    let org = load(&state, id).await?;
    auth.check(Action::OrgRead, auth.relation_to_org(org.id))?;
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
    meta: RequestMeta,
    ApiJson(req): ApiJson<CreateOrganisation>,
) -> ApiResult<Response> {
    auth.require(Action::OrgCreate)?;
    auth.check(Action::OrgCreate, Relation::Unrelated)?;
    let mut v = Validator::new();
    v.text("name", &req.name, MAX_NAME_CHARS);
    v.check(
        req.kind != OrgKind::Operator,
        "kind",
        "not_allowed",
        "there is only one operator organisation",
    );
    match (&req.municipality_number, req.kind) {
        (Some(n), OrgKind::Municipality) => v.check(
            is_municipality_number(n),
            "municipality_number",
            "invalid",
            "must be four digits",
        ),
        (None, OrgKind::Municipality) => v.add(
            "municipality_number",
            "required",
            "required for a municipality",
        ),
        (Some(_), _) => v.add(
            "municipality_number",
            "not_allowed",
            "only municipalities have a number",
        ),
        (None, _) => {}
    }
    if let Some(c) = &req.county {
        v.text("county", c, 100);
    }
    match (req.serves_reception_centre_id, req.kind) {
        (Some(target), OrgKind::CareerCentre) => check_serves(&state, &mut v, target).await?,
        (Some(_), _) => v.add(
            "serves_reception_centre_id",
            "not_allowed",
            "only a career centre serves a reception centre",
        ),
        (None, _) => {}
    }
    v.finish().map_err(ApiError::Validation)?;

    let id = OrgId::new();
    let mut tx = state.pool.begin().await?;
    orgs::create(
        &mut *tx,
        &NewOrganisation {
            id,
            kind: req.kind,
            name: req.name.trim(),
            municipality_number: req.municipality_number.as_deref(),
            county: req.county.as_deref().map(str::trim),
            serves_reception_centre_id: req.serves_reception_centre_id,
        },
    )
    .await?;
    audit(
        &mut *tx,
        &auth,
        &meta,
        "organisation.create",
        Some(("organisation", id.0)),
        "success",
    )
    .await?;
    let org = orgs::get(&mut *tx, id).await?;
    tx.commit().await?;
    let mut res = with_etag(org.version, (StatusCode::CREATED, Json(&org)));
    if let Ok(loc) = HeaderValue::from_str(&format!("/api/v1/organisations/{id}")) {
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
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<UpdateOrganisation>,
) -> ApiResult<Response> {
    auth.require(Action::OrgUpdate)?;
    let org = load(&state, id).await?;
    auth.check(Action::OrgUpdate, auth.relation_to_org(org.id))?;
    let version = if_match.check(org.version)?;
    let mut v = Validator::new();
    if let Some(n) = &req.name {
        v.text("name", n, MAX_NAME_CHARS);
    }
    if let Some(Some(c)) = &req.county {
        v.text("county", c, 100);
    }
    match (req.serves_reception_centre_id, org.kind) {
        (Some(Some(target)), OrgKind::CareerCentre) => check_serves(&state, &mut v, target).await?,
        (Some(Some(_)), _) => v.add(
            "serves_reception_centre_id",
            "not_allowed",
            "only a career centre serves a reception centre",
        ),
        _ => {}
    }
    v.check(
        !(org.kind == OrgKind::Operator && req.active == Some(false)),
        "active",
        "not_allowed",
        "the operator organisation cannot be deactivated",
    );
    v.finish().map_err(ApiError::Validation)?;

    let mut tx = state.pool.begin().await?;
    let changes = OrgChanges {
        name: req.name.as_deref().map(str::trim),
        county: req.county.as_ref().map(|c| c.as_deref().map(str::trim)),
        active: req.active,
        serves_reception_centre_id: req.serves_reception_centre_id,
    };
    if !orgs::update(&mut *tx, org.id, version, &changes).await? {
        return Err(ApiError::PreconditionFailed);
    }
    if req.active == Some(false) && org.active {
        // Old tokens must stay dead if the organisation is reactivated later.
        sessions::revoke_org(&mut *tx, org.id, "organisation_deactivated").await?;
    }
    audit(
        &mut *tx,
        &auth,
        &meta,
        "organisation.update",
        Some(("organisation", org.id.0)),
        "success",
    )
    .await?;
    let updated = orgs::get(&mut *tx, org.id).await?;
    tx.commit().await?;
    Ok(with_etag(updated.version, Json(updated)))
}
