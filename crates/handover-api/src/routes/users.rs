//! User administration. Administrators manage their own organisation's users; administrators of
//! the operator organisation manage everyone's.

use crate::audit::audit;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch, RequestMeta, etag};
use crate::paging::{Page, Paging};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use handover_db::users::{self, NewUser, UserChanges, UserFilter};
use handover_db::{orgs, sessions};
use handover_domain::policy::{ListScope, account_relation};
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

pub(crate) fn with_etag(version: i32, body: impl IntoResponse) -> Response {
    let mut res = body.into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// Loads a user the caller may act on with `action`, or 404/403. `role_after` is the role the
/// account would have after the change: the operator reaches another organisation's
/// administrators only while they stay administrators (policy `operator (admins)`).
async fn load_for(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    action: Action,
    role_after: Option<Role>,
) -> ApiResult<User> {
    auth.require(action)?;
    let user = match users::get(&state.pool, UserId(id)).await {
        Err(handover_db::DbError::NotFound) => return Err(ApiError::NotFound),
        other => other?,
    };
    auth.check(
        action,
        account_relation(auth.0.org_id, user.organisation_id, user.role, role_after),
    )?;
    Ok(user)
}

/// The answer to a taken e-mail address: the same whoever holds it, audited and throttled as a
/// probe (docs/security.md, "Review findings of 2026-12", 3).
async fn email_conflict(
    state: &AppState,
    auth: &Auth,
    meta: &RequestMeta,
    action: &str,
    email: &str,
) -> ApiError {
    let hit = users::id_by_email(&state.pool, email).await.ok().flatten();
    crate::probe::conflict(
        state,
        auth,
        meta,
        action,
        hit.map(|u| ("user", u.0)),
        "This e-mail address cannot be registered here.",
    )
    .await
}

/// The name of the caller's organisation, for "an administrator of ..." in e-mails.
async fn caller_org_name(state: &AppState, auth: &Auth) -> ApiResult<String> {
    Ok(orgs::get(&state.pool, auth.0.org_id).await?.name)
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
    meta: RequestMeta,
    ApiJson(req): ApiJson<CreateUser>,
) -> ApiResult<Response> {
    auth.require(Action::UserCreate)?;
    // A foreign organisation id in the body is treated like a foreign record: 404.
    auth.check(
        Action::UserCreate,
        account_relation(auth.0.org_id, req.organisation_id, req.role, None),
    )?;
    crate::probe::check(&state, &auth).await?;
    let org = match orgs::get(&state.pool, req.organisation_id).await {
        Err(handover_db::DbError::NotFound) => return Err(ApiError::NotFound),
        other => other?,
    };
    let email = normalise_email(&req.email);
    let mut v = Validator::new();
    v.email("email", &email);
    v.person_name("name", &req.name, MAX_NAME_CHARS);
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
    let asked_by = caller_org_name(&state, &auth).await?;
    let mut tx = state.pool.begin().await?;
    match users::create(
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
    .await
    {
        Err(handover_db::DbError::Conflict(c)) if c == "users_email_key" => {
            drop(tx);
            return Err(email_conflict(&state, &auth, &meta, "user.create", &email).await);
        }
        other => other?,
    }
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
    crate::setup_mail::issue(&mut tx, &state, &user, Some(auth.0.user_id), &asked_by).await?;
    audit(
        &mut *tx,
        &auth,
        &meta,
        "user.password_setup_email",
        Some(("user", id.0)),
        "success",
    )
    .await?;
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
    let user = load_for(&state, &auth, id, Action::UserRead, None).await?;
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
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<UpdateUser>,
) -> ApiResult<Response> {
    let user = load_for(&state, &auth, id, Action::UserUpdate, req.role).await?;
    let version = if_match.check(user.version)?;
    crate::probe::check(&state, &auth).await?;
    let email = req.email.as_deref().map(normalise_email);
    let mut v = Validator::new();
    if let Some(e) = &email {
        v.email("email", e);
    }
    if let Some(n) = &req.name {
        v.person_name("name", n, MAX_NAME_CHARS);
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

    let new_email = email.as_deref().filter(|e| *e != user.email);
    let org_name = match new_email {
        Some(_) => caller_org_name(&state, &auth).await?,
        None => String::new(),
    };
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
    match users::update(&mut *tx, user.id, version, &changes).await {
        Ok(true) => {}
        Ok(false) => return Err(ApiError::PreconditionFailed),
        Err(handover_db::DbError::Conflict(c)) if c == "users_email_key" => {
            drop(tx);
            let taken = email.as_deref().unwrap_or_default();
            return Err(email_conflict(&state, &auth, &meta, "user.update", taken).await);
        }
        Err(e) => return Err(e.into()),
    }
    if let Some(new) = new_email {
        // The owner learns at the old address; a setup link sent there stops working, so the
        // change cannot be used to take a link over.
        sessions::spend_password_setups(&mut *tx, user.id).await?;
        crate::setup_mail::notify(
            &mut tx,
            format!("email_changed:{}:{}", user.id, version),
            &user.email,
            handover_mail::templates::email_changed(new, &org_name),
        )
        .await?;
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
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<(StatusCode, Json<PasswordSetupSent>)> {
    let user = load_for(&state, &auth, id, Action::UserPasswordSetupIssue, None).await?;
    if !user.active {
        return Err(ApiError::Conflict("The user is deactivated.".into()));
    }
    let asked_by = caller_org_name(&state, &auth).await?;
    let mut tx = state.pool.begin().await?;
    let (kind, expires_at) =
        crate::setup_mail::issue(&mut tx, &state, &user, Some(auth.0.user_id), &asked_by).await?;
    audit(
        &mut *tx,
        &auth,
        &meta,
        match kind {
            crate::setup_mail::SetupKind::Setup => "user.password_setup_email",
            crate::setup_mail::SetupKind::Reset => "user.password_reset_email",
        },
        Some(("user", user.id.0)),
        "success",
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(PasswordSetupSent {
            sent_to: user.email,
            kind: kind.as_str().into(),
            expires_at,
        }),
    ))
}
