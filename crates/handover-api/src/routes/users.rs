//! User administration. Administrators manage their own organisation's users; administrators of
//! the operator organisation manage everyone's.

use crate::audit::audit;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch, RequestMeta, etag};
use crate::paging::{Page, Paging};
use crate::state::AppState;
use crate::tokens::new_opaque_token;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use handover_db::users::{self, NewUser, UserChanges, UserFilter};
use handover_db::{orgs, sessions};
use handover_domain::policy::ListScope;
use handover_domain::validation::{MAX_NAME_CHARS, normalise_email};
use handover_domain::{Action, OrgId, Role, User, UserId, Validator};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// Only users of this organisation.
    pub organisation_id: Option<Uuid>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// Part of the name or e-mail address.
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(max_length = 254, example = "ola.nordmann@example.no")]
    pub email: String,
    #[schema(max_length = 200)]
    pub name: String,
    pub role: Role,
    pub organisation_id: OrgId,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 200)]
    pub name: Option<String>,
    pub role: Option<Role>,
    /// `false` deactivates the account: its sessions and tokens stop working at once.
    pub active: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordSetupLink {
    /// Give this link to the user (it is also e-mailed once e-mail delivery is configured).
    /// The token is in the fragment, which browsers never send to a server.
    pub url: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

pub(crate) fn with_etag(version: i32, body: impl IntoResponse) -> Response {
    let mut res = body.into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// Loads a user the caller may act on with `action`, or 404/403.
async fn load_for(state: &AppState, auth: &Auth, id: Uuid, action: Action) -> ApiResult<User> {
    auth.require(action)?;
    let user = match users::get(&state.pool, UserId(id)).await {
        Err(handover_db::DbError::NotFound) => return Err(ApiError::NotFound),
        other => other?,
    };
    auth.check(action, auth.relation_to_org(user.organisation_id))?;
    Ok(user)
}

/// List users.
#[utoipa::path(operation_id = "list_users", get, path = "/api/v1/users", tag = "users",
    security(("bearer" = [])),
    params(UserQuery),
    responses((status = 200, description = "The matching users", body = Page<User>)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> ApiResult<Json<Page<User>>> {
    auth.require(Action::UserRead)?;
    let (limit, offset) = Paging {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve()?;
    let organisation_id = match auth.list_scope(Action::UserRead) {
        ListScope::Everything => q.organisation_id.map(OrgId),
        ListScope::Related { .. } => {
            // A filter naming another organisation is answered as if it did not exist.
            if q.organisation_id.is_some_and(|o| OrgId(o) != auth.0.org_id) {
                return Err(ApiError::NotFound);
            }
            Some(auth.0.org_id)
        }
        ListScope::Nothing => return Err(ApiError::Forbidden),
    };
    if q.q.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(ApiError::field(
            "q",
            "too_long",
            "must be at most 100 characters",
        ));
    }
    let page = users::list(
        &state.pool,
        &UserFilter {
            organisation_id,
            role: q.role,
            active: q.active,
            q: q.q,
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

/// Create a user. The account has no password until the user follows a setup link.
#[utoipa::path(operation_id = "create_user", post, path = "/api/v1/users", tag = "users",
    security(("bearer" = [])),
    request_body = CreateUser,
    responses(
        (status = 201, body = User, headers(("ETag" = String), ("Location" = String))),
        (status = 404, description = "No such organisation (or not the caller's)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "E-mail address taken", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiJson(req): ApiJson<CreateUser>,
) -> ApiResult<Response> {
    auth.require(Action::UserCreate)?;
    // A foreign organisation id in the body is treated like a foreign record: 404.
    auth.check(
        Action::UserCreate,
        auth.relation_to_org(req.organisation_id),
    )?;
    let org = match orgs::get(&state.pool, req.organisation_id).await {
        Err(handover_db::DbError::NotFound) => return Err(ApiError::NotFound),
        other => other?,
    };
    let email = normalise_email(&req.email);
    let mut v = Validator::new();
    v.email("email", &email);
    v.text("name", &req.name, MAX_NAME_CHARS);
    v.check(
        req.role.fits(org.kind),
        "role",
        "role_does_not_fit",
        "this role does not fit the organisation's kind",
    );
    v.check(
        org.active,
        "organisation_id",
        "inactive",
        "the organisation is deactivated",
    );
    v.finish().map_err(ApiError::Validation)?;

    let id = UserId::new();
    let mut tx = state.pool.begin().await?;
    users::create(
        &mut *tx,
        &NewUser {
            id,
            organisation_id: org.id,
            email: &email,
            name: req.name.trim(),
            role: req.role,
            password_hash: None,
        },
    )
    .await?;
    audit(
        &mut *tx,
        &auth,
        &meta,
        "user.create",
        Some(("user", id.0)),
        "success",
    )
    .await?;
    let user = users::get(&mut *tx, id).await?;
    tx.commit().await?;
    let mut res = with_etag(user.version, (StatusCode::CREATED, Json(&user)));
    if let Ok(loc) = HeaderValue::from_str(&format!("/api/v1/users/{id}")) {
        res.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(res)
}

/// Read a user.
#[utoipa::path(operation_id = "get_user", get, path = "/api/v1/users/{id}", tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = User, headers(("ETag" = String)))))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let user = load_for(&state, &auth, id, Action::UserRead).await?;
    Ok(with_etag(user.version, Json(user)))
}

/// Change a user's e-mail, name, role or active flag. Requires `If-Match`.
///
/// Deactivating a user revokes every session at once. Administrators cannot deactivate
/// themselves or change their own role.
#[utoipa::path(operation_id = "update_user", patch, path = "/api/v1/users/{id}", tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version edited")),
    request_body = UpdateUser,
    responses(
        (status = 200, body = User, headers(("ETag" = String))),
        (status = 409, description = "Conflict (e-mail taken, own account)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "The user changed since it was read", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<UpdateUser>,
) -> ApiResult<Response> {
    let user = load_for(&state, &auth, id, Action::UserUpdate).await?;
    let version = if_match.check(user.version)?;
    let email = req.email.as_deref().map(normalise_email);
    let mut v = Validator::new();
    if let Some(e) = &email {
        v.email("email", e);
    }
    if let Some(n) = &req.name {
        v.text("name", n, MAX_NAME_CHARS);
    }
    if let Some(role) = req.role {
        let org = orgs::get(&state.pool, user.organisation_id).await?;
        v.check(
            role.fits(org.kind),
            "role",
            "role_does_not_fit",
            "this role does not fit the organisation's kind",
        );
    }
    v.finish().map_err(ApiError::Validation)?;
    if user.id == auth.0.user_id
        && (req.active == Some(false) || req.role.is_some_and(|r| r != user.role))
    {
        return Err(ApiError::Conflict(
            "You cannot deactivate yourself or change your own role; ask another administrator."
                .into(),
        ));
    }

    let mut tx = state.pool.begin().await?;
    let loses_admin = user.role == Role::Admin
        && user.active
        && (req.active == Some(false) || req.role.is_some_and(|r| r != Role::Admin));
    if loses_admin && users::lock_active_admins(&mut *tx, user.organisation_id).await? <= 1 {
        return Err(ApiError::Conflict(
            "This is the organisation's last active administrator; appoint another first.".into(),
        ));
    }
    let changes = UserChanges {
        name: req.name.as_deref().map(str::trim),
        email: email.as_deref(),
        role: req.role,
        active: req.active,
    };
    if !users::update(&mut *tx, user.id, version, &changes).await? {
        return Err(ApiError::PreconditionFailed);
    }
    let action = match req.active {
        Some(false) if user.active => {
            sessions::revoke_all(&mut *tx, user.id, "deactivated", None).await?;
            "user.deactivate"
        }
        Some(true) if !user.active => "user.reactivate",
        _ => "user.update",
    };
    if req.role.is_some_and(|r| r != user.role) {
        // New rights take effect with a new login.
        sessions::revoke_all(&mut *tx, user.id, "role_changed", None).await?;
    }
    audit(
        &mut *tx,
        &auth,
        &meta,
        action,
        Some(("user", user.id.0)),
        "success",
    )
    .await?;
    let updated = users::get(&mut *tx, user.id).await?;
    tx.commit().await?;
    Ok(with_etag(updated.version, Json(updated)))
}

/// Issue a one-time password-setup link for a user (valid 72 hours by default).
///
/// Issuing a new link does not cancel older ones until one of them is used.
#[utoipa::path(post, path = "/api/v1/users/{id}/password-setup-link", tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 201, body = PasswordSetupLink)))]
pub async fn password_setup_link(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<(StatusCode, Json<PasswordSetupLink>)> {
    let user = load_for(&state, &auth, id, Action::UserPasswordSetupIssue).await?;
    if !user.active {
        return Err(ApiError::Conflict("The user is deactivated.".into()));
    }
    let (token, hash) = new_opaque_token();
    let ttl =
        time::Duration::try_from(state.config.password_setup_ttl).unwrap_or(time::Duration::DAY);
    let expires_at = OffsetDateTime::now_utc() + ttl;
    let mut tx = state.pool.begin().await?;
    sessions::create_password_setup(&mut *tx, user.id, Some(auth.0.user_id), &hash, expires_at)
        .await?;
    audit(
        &mut *tx,
        &auth,
        &meta,
        "user.password_setup_link",
        Some(("user", user.id.0)),
        "success",
    )
    .await?;
    tx.commit().await?;
    let url = format!(
        "{}/password-setup#token={token}",
        state.config.public_url.trim_end_matches('/')
    );
    Ok((
        StatusCode::CREATED,
        Json(PasswordSetupLink { url, expires_at }),
    ))
}
