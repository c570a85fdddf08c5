//! User administration. Administrators manage their own organisation's users; administrators of
//! the operator organisation manage everyone's (`handover_app::users`).

use crate::answer::with_etag;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch};
use crate::paging::{Page, Paging};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use handover_app::users as uc;
use handover_domain::{OrgId, Role, User};
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

/// What `POST /users/{id}/password-setup-email` did. The link itself goes only to the account's
/// own address: nobody else, the administrator who asked included, ever sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordSetupSent {
    /// The address the e-mail was sent to (the account's own).
    pub sent_to: String,
    /// `setup` for an account without a password; `reset` for one that has a password (its
    /// current password keeps working until the link is used).
    #[schema(example = "setup")]
    pub kind: String,
    /// When the link stops working.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
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
    let q = uc::UserQuery {
        organisation_id: q.organisation_id.map(OrgId),
        role: q.role,
        active: q.active,
        q: q.q,
        paging: Paging {
            limit: q.limit,
            offset: q.offset,
        },
    };
    Ok(Json(uc::list(&state, &auth, q).await?))
}

/// Create a user. The account has no password until the user follows the setup link, which is
/// e-mailed to the new address at once (and only there).
///
/// Administrators create users of their own organisation; the operator's administrators create
/// the first administrators of any organisation, never its staff.
#[utoipa::path(operation_id = "create_user", post, path = "/api/v1/users", tag = "users",
    security(("bearer" = [])),
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created; the password-setup e-mail is queued", body = User, headers(("ETag" = String), ("Location" = String))),
        (status = 404, description = "No such organisation (or not one the caller may add this role to)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The e-mail address cannot be registered here", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many conflicting identifiers tried", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<CreateUser>,
) -> ApiResult<Response> {
    let input = uc::UserInput {
        email: req.email,
        name: req.name,
        role: req.role,
        organisation_id: req.organisation_id,
    };
    let user = uc::create(&state, &auth, input).await?;
    let location = format!("/api/v1/users/{}", user.id);
    let mut res = with_etag(user.version, (StatusCode::CREATED, Json(&user)));
    if let Ok(loc) = HeaderValue::from_str(&location) {
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
    let user = uc::get(&state, &auth, id).await?;
    Ok(with_etag(user.version, Json(user)))
}

/// Change a user's e-mail, name, role or active flag. Requires `If-Match`.
///
/// Deactivating a user revokes every session at once. Administrators cannot deactivate
/// themselves or change their own role. A new e-mail address is told to the old one, and
/// setup links sent to the old address stop working. The operator's administrators change
/// other organisations' administrators only, and never their role.
#[utoipa::path(operation_id = "update_user", patch, path = "/api/v1/users/{id}", tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version edited")),
    request_body = UpdateUser,
    responses(
        (status = 200, body = User, headers(("ETag" = String))),
        (status = 409, description = "Conflict (e-mail address cannot be registered here, own account)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many conflicting identifiers tried", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<UpdateUser>,
) -> ApiResult<Response> {
    let patch = uc::UserPatch {
        email: req.email,
        name: req.name,
        role: req.role,
        active: req.active,
    };
    let updated = uc::update(&state, &auth, id, if_match.precondition(), patch).await?;
    Ok(with_etag(updated.version, Json(updated)))
}

/// E-mail a one-time password-setup link to a user's own address (valid 72 hours by default).
///
/// For an account without a password it is the setup e-mail; for one with a password it is a
/// reset, which tells the owner who asked, and the current password works until the link is
/// used. The answer says only that the e-mail was queued: the link is never shown to anyone but
/// the account's owner. Only the newest link works.
#[utoipa::path(operation_id = "send_password_setup_email", post, path = "/api/v1/users/{id}/password-setup-email", tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 202, description = "The e-mail is queued for the account's own address", body = PasswordSetupSent),
        (status = 409, description = "The user is deactivated", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn send_password_setup(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<(StatusCode, Json<PasswordSetupSent>)> {
    let sent = uc::send_password_setup(&state, &auth, id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(PasswordSetupSent {
            sent_to: sent.sent_to,
            kind: sent.kind.as_str().into(),
            expires_at: sent.expires_at,
        }),
    ))
}

/// Reset a user's second factor (a lost phone and lost recovery codes).
///
/// The authenticator and the recovery codes are removed, every session of the user ends, and
/// the owner is told by e-mail. An administrator sets up a new one at the next login; staff log
/// in with the password alone until they add one. Not for one's own account (409): that is
/// `/api/v1/me/second-factor`.
#[utoipa::path(operation_id = "reset_second_factor", post, path = "/api/v1/users/{id}/second-factor/reset", tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Reset"),
        (status = 409, description = "The user has no second factor, or is the caller", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn reset_second_factor(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    handover_app::second_factor::reset_for(&state, &auth, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
