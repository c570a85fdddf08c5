//! The caller's own account.

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth, RequestMeta};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use handover_db::{orgs, sessions, throttle, users};
use handover_domain::password::{MAX_PASSWORD_CHARS, check_password};
use handover_domain::{Action, Organisation, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user: User,
    pub organisation: Organisation,
}

/// The caller, their organisation and role.
#[utoipa::path(get, path = "/api/v1/me", tag = "me",
    security(("bearer" = [])),
    responses((status = 200, body = Me)))]
pub async fn me(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Me>> {
    auth.require(Action::MeRead)?;
    let user = users::get(&state.pool, auth.0.user_id).await?;
    let organisation = orgs::get(&state.pool, auth.0.org_id).await?;
    Ok(Json(Me { user, organisation }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(max_length = 256, format = Password)]
    pub current_password: String,
    #[schema(min_length = 12, max_length = 256, format = Password)]
    pub new_password: String,
}

/// Change one's own password. Other sessions of the user are logged out.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "me",
    security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Password changed"),
        (status = 429, description = "Too many wrong current passwords", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiJson(req): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    auth.require(Action::OwnPasswordChange)?;
    let user = users::get(&state.pool, auth.0.user_id).await?;
    // Its own counter (docs/security.md, "Login throttling"): wrong current passwords here never
    // lock the account's logins, and a distributed attack on the logins never stops the
    // signed-in owner from changing their password.
    let key = format!("own_password:{}", user.id);
    if let Some(until) = throttle::locked_until(&state.pool, std::slice::from_ref(&key)).await? {
        return Err(crate::routes::auth::retry_after(until));
    }
    let org_name = orgs::get(&state.pool, auth.0.org_id).await?.name;
    check_password(
        &req.new_password,
        &[user.email.as_str(), user.name.as_str(), org_name.as_str()],
    )
    .map_err(|(code, msg)| ApiError::field("new_password", code, &msg))?;
    let stored = users::password_hash(&state.pool, auth.0.user_id).await?;
    let ok = req.current_password.chars().count() <= MAX_PASSWORD_CHARS
        && state.hasher.verify(req.current_password, stored).await?;
    if !ok {
        throttle::record_failure(
            &state.pool,
            &key,
            state.config.own_password_throttle.limit(),
        )
        .await?;
        crate::audit::audit(
            &state.pool,
            &auth,
            &meta,
            "user.password_change",
            Some(("user", auth.0.user_id.0)),
            "bad_credentials",
        )
        .await?;
        return Err(ApiError::field(
            "current_password",
            "incorrect",
            "is not your current password",
        ));
    }
    let hash = state.hasher.hash(req.new_password).await?;
    let mut tx = state.pool.begin().await?;
    users::set_password(&mut *tx, auth.0.user_id, &hash).await?;
    sessions::revoke_all(
        &mut *tx,
        auth.0.user_id,
        "password_change",
        Some(auth.0.session_id),
    )
    .await?;
    crate::setup_mail::password_changed(&mut tx, user.id, &user.email).await?;
    crate::audit::audit(
        &mut *tx,
        &auth,
        &meta,
        "user.password_change",
        Some(("user", auth.0.user_id.0)),
        "success",
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
