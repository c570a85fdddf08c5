//! The caller's own account (`handover_app::me`).

use crate::error::ApiResult;
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use handover_app::me as uc;
use handover_app::second_factor as sf;
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

/// The caller's second factor.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecondFactorStatus {
    /// An authenticator app (TOTP) is set up and asked for at every login.
    pub totp: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: i64,
    /// The account may not be without one (administrators): it cannot be removed.
    pub required: bool,
}

/// Whether the caller has a second factor.
#[utoipa::path(get, path = "/api/v1/me/second-factor", tag = "me",
    security(("bearer" = [])),
    responses((status = 200, body = SecondFactorStatus)))]
pub async fn second_factor(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<SecondFactorStatus>> {
    let s = sf::status(&state, &auth).await?;
    Ok(Json(SecondFactorStatus {
        totp: s.totp,
        recovery_codes_left: s.recovery_codes_left,
        required: s.required,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpBegin {
    #[schema(max_length = 256, format = Password)]
    pub current_password: String,
}

/// A key for an authenticator app; shown once, asked for again only by starting over.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpSetupResponse {
    /// The key in base32, to type into the app.
    pub secret: String,
    /// The `otpauth://totp/...` URI that the app reads from a QR code.
    pub otpauth_uri: String,
}

/// Start setting up an authenticator app (TOTP). Needs the current password.
///
/// The authenticator counts only once confirmed with a code it shows
/// (`/api/v1/me/second-factor/totp/confirm`). Starting again before that gives a new key; with
/// a confirmed authenticator the answer is 409 (remove it first).
#[utoipa::path(post, path = "/api/v1/me/second-factor/totp", tag = "me",
    security(("bearer" = [])),
    request_body = TotpBegin,
    responses(
        (status = 201, body = TotpSetupResponse),
        (status = 409, description = "An authenticator is already set up", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong passwords or codes", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn begin_totp(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<TotpBegin>,
) -> ApiResult<(StatusCode, Json<TotpSetupResponse>)> {
    let s = sf::begin_totp(&state, &auth, req.current_password).await?;
    Ok((
        StatusCode::CREATED,
        Json(TotpSetupResponse {
            secret: s.secret_base32,
            otpauth_uri: s.otpauth_uri,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// Six digits from the authenticator (or, where allowed, an unused recovery code).
    #[schema(example = "123456", max_length = 32)]
    pub code: String,
}

/// One-time recovery codes: shown once, only their hashes are kept.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// Confirm the authenticator with a code it shows now; answers the recovery codes.
///
/// From now on every login asks for a code. The caller's other sessions end.
#[utoipa::path(post, path = "/api/v1/me/second-factor/totp/confirm", tag = "me",
    security(("bearer" = [])),
    request_body = CodeRequest,
    responses(
        (status = 200, body = RecoveryCodes),
        (status = 409, description = "No authenticator is being set up", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong passwords or codes", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm_totp(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<CodeRequest>,
) -> ApiResult<Json<RecoveryCodes>> {
    let recovery_codes = sf::confirm_totp(&state, &auth, &req.code).await?;
    Ok(Json(RecoveryCodes { recovery_codes }))
}

/// New recovery codes in place of the old ones, given a code.
#[utoipa::path(post, path = "/api/v1/me/second-factor/recovery-codes", tag = "me",
    security(("bearer" = [])),
    request_body = CodeRequest,
    responses(
        (status = 200, body = RecoveryCodes),
        (status = 409, description = "No authenticator is set up", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong passwords or codes", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn renew_recovery_codes(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<CodeRequest>,
) -> ApiResult<Json<RecoveryCodes>> {
    let recovery_codes = sf::renew_recovery_codes(&state, &auth, &req.code).await?;
    Ok(Json(RecoveryCodes { recovery_codes }))
}

/// Remove the authenticator and its recovery codes, given a code.
///
/// Administrators must keep one: 409.
#[utoipa::path(post, path = "/api/v1/me/second-factor/remove", tag = "me",
    security(("bearer" = [])),
    request_body = CodeRequest,
    responses(
        (status = 204, description = "Removed"),
        (status = 409, description = "No authenticator is set up", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong passwords or codes", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove_second_factor(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<CodeRequest>,
) -> ApiResult<StatusCode> {
    sf::remove(&state, &auth, &req.code).await?;
    Ok(StatusCode::NO_CONTENT)
}
