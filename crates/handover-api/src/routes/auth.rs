//! Login, token refresh, logout and password setup (`handover_app::auth`). The access token is
//! the API's: a JWT signed with `state.keys` for the session the use case started or renewed.

use crate::error::ApiResult;
use crate::extract::{ApiJson, Auth, RequestMeta};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use handover_app::auth as uc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "kari.nordmann@example.no", max_length = 254)]
    pub email: String,
    #[schema(max_length = 256, format = Password)]
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Short-lived JWT for the `Authorization: Bearer` header.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Opaque, single-use token for `/api/v1/auth/refresh`. Store it securely.
    pub refresh_token: String,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[schema(max_length = 128)]
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordSetupRequest {
    /// The token from the password-setup link.
    #[schema(max_length = 128)]
    pub token: String,
    #[schema(min_length = 12, max_length = 256, format = Password)]
    pub new_password: String,
}

/// The tokens of a session a use case started or renewed: a new access token, and the refresh
/// token the use case issued.
fn tokens_for(state: &AppState, grant: uc::Grant) -> ApiResult<TokenResponse> {
    let ttl = state.config.access_token_ttl;
    Ok(TokenResponse {
        access_token: state.keys.issue(grant.user_id, grant.session_id, ttl)?,
        token_type: "Bearer",
        expires_in: ttl.as_secs(),
        refresh_token: grant.refresh_token,
        refresh_expires_in: state.config.refresh_token_ttl.as_secs(),
    })
}

/// Log in with e-mail and password.
///
/// Unknown e-mail, wrong password and inactive account get the same 401 in similar time.
/// Repeated failures per account and per client address are throttled with 429 and Retry-After.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Invalid credentials", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let req = uc::Login {
        email: req.email,
        password: req.password,
    };
    let grant = uc::login(&state, &meta.into(), req).await?;
    Ok(Json(tokens_for(&state, grant)?))
}

/// Exchange a refresh token for new tokens.
///
/// Each refresh token works once. Presenting one that was already used revokes the whole
/// session (its chain of tokens): a sign that the token was stolen.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Invalid, expired or reused refresh token", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let grant = uc::refresh(&state, &meta.into(), &req.refresh_token).await?;
    Ok(Json(tokens_for(&state, grant)?))
}

/// Log out: revokes the session, its refresh tokens and its access tokens.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    security(("bearer" = [])),
    responses((status = 204, description = "Logged out")))]
pub async fn logout(State(state): State<AppState>, auth: Auth) -> ApiResult<StatusCode> {
    uc::logout(&state, &auth).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set a password with a one-time setup link's token.
///
/// The link works once and only until it expires; every session of the user is revoked.
#[utoipa::path(post, path = "/api/v1/auth/password-setup", tag = "auth",
    request_body = PasswordSetupRequest,
    responses(
        (status = 204, description = "Password set"),
        (status = 400, description = "The link is invalid, used or expired", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn password_setup(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(req): ApiJson<PasswordSetupRequest>,
) -> ApiResult<StatusCode> {
    let req = uc::PasswordSetup {
        token: req.token,
        new_password: req.new_password,
    };
    uc::password_setup(&state, &meta.into(), req).await?;
    Ok(StatusCode::NO_CONTENT)
}
