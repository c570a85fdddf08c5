//! Login, token refresh, logout and password setup (`handover_app::auth`). The access token is
//! the API's: a JWT signed with `state.keys` for the session the use case started or renewed.

use crate::error::ApiResult;
use crate::extract::{ApiJson, Auth, RequestMeta};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
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
    /// Only after a login's second step that set up the authenticator: the one-time recovery
    /// codes, shown this once (only their hashes are kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
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
        recovery_codes: None,
    })
}

/// The password was right and the account has a second factor: send a code with this token to
/// `/api/v1/auth/login/second-factor`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecondFactorChallenge {
    /// Always `true`: tells this answer from a [`TokenResponse`] without looking at the status.
    pub second_factor_required: bool,
    /// Opaque, single-use token of this login's second step.
    pub challenge_token: String,
    /// Seconds the second step waits for its code.
    pub expires_in: u64,
    /// What the second step takes: `totp` (the six digits of the authenticator app) and
    /// `recovery_code` (one of the one-time codes handed out at setup).
    pub methods: Vec<&'static str>,
    /// Only for an account that must have a second factor (administrators) and has none yet:
    /// the key of the authenticator to set up now. The second step then takes a code it shows
    /// (no recovery code yet) and answers the recovery codes with the tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totp_setup: Option<TotpSetup>,
}

/// The key of an authenticator app to set up.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpSetup {
    /// The key in base32, to type into the app.
    pub secret: String,
    /// The `otpauth://totp/...` URI that the app reads from a QR code.
    pub otpauth_uri: String,
}

fn challenge_response(c: uc::Challenge) -> Response {
    let body = SecondFactorChallenge {
        second_factor_required: true,
        challenge_token: c.token,
        expires_in: u64::try_from(c.expires_in.whole_seconds()).unwrap_or(0),
        methods: if c.setup.is_some() {
            vec!["totp"]
        } else {
            vec!["totp", "recovery_code"]
        },
        totp_setup: c.setup.map(|s| TotpSetup {
            secret: s.secret_base32,
            otpauth_uri: s.otpauth_uri,
        }),
    };
    (StatusCode::ACCEPTED, Json(body)).into_response()
}

/// Log in with e-mail and password.
///
/// Unknown e-mail, wrong password and inactive account get the same 401 in similar time.
/// Repeated failures per account and per client address are throttled with 429 and Retry-After.
/// An account with a second factor gets 202 and a challenge instead of tokens: the second step
/// is `POST /api/v1/auth/login/second-factor`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 202, description = "Password right; a second factor is needed", body = SecondFactorChallenge),
        (status = 401, description = "Invalid credentials", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let req = uc::Login {
        email: req.email,
        password: req.password,
    };
    match uc::login(&state, &meta.into(), req).await? {
        uc::LoginStep::Done(grant) => Ok(Json(tokens_for(&state, grant)?).into_response()),
        uc::LoginStep::SecondFactor(c) => Ok(challenge_response(c)),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondFactorRequest {
    /// The `challenge_token` of the login's 202 answer.
    #[schema(max_length = 128)]
    pub challenge_token: String,
    /// The six digits the authenticator shows now, or an unused recovery code.
    #[schema(example = "123456", max_length = 32)]
    pub code: String,
}

/// The second step of a login: the challenge and a code.
///
/// A code works once (a TOTP code is refused again inside its 30-second window). A wrong code
/// gets 401 `invalid-code` and may be tried again with another; after five wrong codes, or five
/// minutes, the challenge is gone and the answer is 401 `invalid-credentials` (log in again).
/// Wrong codes are throttled per account like passwords (429).
#[utoipa::path(post, path = "/api/v1/auth/login/second-factor", tag = "auth",
    request_body = SecondFactorRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Wrong or used code (`invalid-code`), or the challenge is gone (`invalid-credentials`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong codes", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn login_second_factor(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(req): ApiJson<SecondFactorRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let done = uc::login_second_step(&state, &meta.into(), &req.challenge_token, &req.code).await?;
    let mut tokens = tokens_for(&state, done.grant)?;
    tokens.recovery_codes = done.recovery_codes;
    Ok(Json(tokens))
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
