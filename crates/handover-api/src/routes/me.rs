//! The caller's own account (`handover_app::me`).

use crate::error::ApiResult;
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use handover_app::me as uc;
use handover_domain::{Organisation, User};
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
    let uc::Me { user, organisation } = uc::me(&state, &auth).await?;
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
    ApiJson(req): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    let req = uc::PasswordChange {
        current_password: req.current_password,
        new_password: req.new_password,
    };
    uc::change_password(&state, &auth, req).await?;
    Ok(StatusCode::NO_CONTENT)
}
