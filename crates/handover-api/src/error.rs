//! One error type for every handler; it becomes an RFC 9457 `application/problem+json` answer.
//! 500s are logged with the request id and never described to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use handover_app::AppError;
use handover_domain::FieldError;
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A stable URI that identifies the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence, for a human.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Invalid fields (validation problems only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The request id (also in the `x-request-id` header); quote it when reporting a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Problem-type URIs. Stable: clients may switch on them.
pub mod types {
    pub const BAD_REQUEST: &str = "urn:handover:problem:bad-request";
    pub const MALFORMED_JSON: &str = "urn:handover:problem:malformed-json";
    pub const VALIDATION: &str = "urn:handover:problem:validation";
    pub const IDEMPOTENCY_KEY_REUSED: &str = "urn:handover:problem:idempotency-key-reused";
    pub const UNAUTHENTICATED: &str = "urn:handover:problem:unauthenticated";
    pub const INVALID_CREDENTIALS: &str = "urn:handover:problem:invalid-credentials";
    pub const INVALID_CODE: &str = "urn:handover:problem:invalid-code";
    pub const PASSWORDS_DISABLED: &str = "urn:handover:problem:passwords-disabled";
    pub const INVALID_REFRESH_TOKEN: &str = "urn:handover:problem:invalid-refresh-token";
    pub const FORBIDDEN: &str = "urn:handover:problem:forbidden";
    pub const NOT_FOUND: &str = "urn:handover:problem:not-found";
    pub const METHOD_NOT_ALLOWED: &str = "urn:handover:problem:method-not-allowed";
    pub const CONFLICT: &str = "urn:handover:problem:conflict";
    pub const GONE: &str = "urn:handover:problem:gone";
    pub const PRECONDITION_FAILED: &str = "urn:handover:problem:precondition-failed";
    pub const PRECONDITION_REQUIRED: &str = "urn:handover:problem:precondition-required";
    pub const PAYLOAD_TOO_LARGE: &str = "urn:handover:problem:payload-too-large";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "urn:handover:problem:unsupported-media-type";
    pub const TOO_MANY_REQUESTS: &str = "urn:handover:problem:too-many-requests";
    pub const UNAVAILABLE: &str = "urn:handover:problem:service-unavailable";
    pub const INTERNAL: &str = "urn:handover:problem:internal-error";
    pub const HTTP: &str = "urn:handover:problem:http";
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// The `Idempotency-Key` was used before for a different request.
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    #[error("unauthenticated")]
    Unauthenticated,
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The second step of a login with a wrong or used code.
    #[error("invalid code")]
    InvalidCode,
    /// A right password of an organisation that signs in through its identity provider only.
    #[error("passwords disabled")]
    PasswordsDisabled,
    /// `/auth/refresh` with a refresh token that is unknown, expired, spent or revoked.
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("gone: {0}")]
    Gone(String),
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("precondition required")]
    PreconditionRequired,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn field(field: &str, code: &str, message: &str) -> Self {
        ApiError::Validation(vec![FieldError {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.to_owned(),
        }])
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::Internal(e.to_string())
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str, Option<String>) {
        use ApiError::*;
        match self {
            BadRequest(d) => (
                StatusCode::BAD_REQUEST,
                types::BAD_REQUEST,
                "Bad request",
                Some(d.clone()),
            ),
            MalformedJson(d) => (
                StatusCode::BAD_REQUEST,
                types::MALFORMED_JSON,
                "The request body is not valid JSON",
                Some(d.clone()),
            ),
            Validation(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                types::VALIDATION,
                "The request has invalid fields",
                None,
            ),
            IdempotencyKeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                types::IDEMPOTENCY_KEY_REUSED,
                "The Idempotency-Key was used for a different request",
                Some(
                    "Use a new key for a new request; a retry must repeat the same request.".into(),
                ),
            ),
            Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                types::UNAUTHENTICATED,
                "A valid access token is required",
                None,
            ),
            InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                types::INVALID_CREDENTIALS,
                "Invalid credentials",
                Some(
                    "The e-mail address or password is wrong, or the account cannot log in.".into(),
                ),
            ),
            InvalidCode => (
                StatusCode::UNAUTHORIZED,
                types::INVALID_CODE,
                "Invalid code",
                Some(
                    "The code is wrong or was used already; try the next code the authenticator shows, or a recovery code."
                        .into(),
                ),
            ),
            PasswordsDisabled => (
                StatusCode::FORBIDDEN,
                types::PASSWORDS_DISABLED,
                "Password sign-in is turned off for this organisation",
                Some(
                    "The organisation signs its users in through its own identity provider; sign in from the web application with the organisation's account."
                        .into(),
                ),
            ),
            InvalidRefreshToken => (
                StatusCode::UNAUTHORIZED,
                types::INVALID_REFRESH_TOKEN,
                "A valid refresh token is required",
                Some(
                    "The refresh token is unknown, expired, already used or revoked; log in again."
                        .into(),
                ),
            ),
            Forbidden => (
                StatusCode::FORBIDDEN,
                types::FORBIDDEN,
                "Your role does not allow this",
                None,
            ),
            NotFound => (StatusCode::NOT_FOUND, types::NOT_FOUND, "Not found", None),
            Conflict(d) => (
                StatusCode::CONFLICT,
                types::CONFLICT,
                "Conflict",
                Some(d.clone()),
            ),
            Gone(d) => (
                StatusCode::GONE,
                types::GONE,
                "No longer available",
                Some(d.clone()),
            ),
            PreconditionFailed => (
                StatusCode::PRECONDITION_FAILED,
                types::PRECONDITION_FAILED,
                "The resource has changed",
                Some(
                    "Fetch it again, reapply your change and send the new ETag in If-Match.".into(),
                ),
            ),
            PreconditionRequired => (
                StatusCode::PRECONDITION_REQUIRED,
                types::PRECONDITION_REQUIRED,
                "If-Match is required",
                Some("Send the ETag of the version you edited in the If-Match header.".into()),
            ),
            UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                types::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
                Some("Send the body as application/json.".into()),
            ),
            PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                types::PAYLOAD_TOO_LARGE,
                "The request body is too large",
                None,
            ),
            TooManyRequests { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                types::TOO_MANY_REQUESTS,
                "Too many attempts",
                Some("Wait for the time in Retry-After before trying again.".into()),
            ),
            Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                types::UNAVAILABLE,
                "The service is temporarily unavailable",
                Some("Try again shortly.".into()),
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                types::INTERNAL,
                "Internal error",
                Some("The error has been logged; quote the request id when reporting it.".into()),
            ),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::BadRequest(d) => ApiError::BadRequest(d),
            AppError::Validation(v) => ApiError::Validation(v),
            AppError::IdempotencyKeyReused => ApiError::IdempotencyKeyReused,
            AppError::Unauthenticated => ApiError::Unauthenticated,
            AppError::InvalidCredentials => ApiError::InvalidCredentials,
            AppError::InvalidCode => ApiError::InvalidCode,
            AppError::PasswordsDisabled => ApiError::PasswordsDisabled,
            AppError::InvalidRefreshToken => ApiError::InvalidRefreshToken,
            AppError::Forbidden => ApiError::Forbidden,
            AppError::NotFound => ApiError::NotFound,
            AppError::Conflict(d) => ApiError::Conflict(d),
            AppError::DoubleBooked { name, start, end } => ApiError::Conflict(format!(
                "{name} is already booked for another transfer conversation {} – {} (Oslo time).",
                handover_app::invitations::when(start),
                handover_app::invitations::when(end)
            )),
            AppError::Gone(d) => ApiError::Gone(d),
            AppError::PreconditionFailed => ApiError::PreconditionFailed,
            AppError::PreconditionRequired => ApiError::PreconditionRequired,
            AppError::TooManyRequests { retry_after_secs } => {
                ApiError::TooManyRequests { retry_after_secs }
            }
            AppError::Unavailable(d) => ApiError::Unavailable(d),
            AppError::Internal(d) => ApiError::Internal(d),
        }
    }
}

impl From<Vec<FieldError>> for ApiError {
    fn from(e: Vec<FieldError>) -> Self {
        ApiError::Validation(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, title, detail) = self.parts();
        match &self {
            ApiError::Internal(e) => tracing::error!(error = %e, "internal error"),
            ApiError::Unavailable(e) => tracing::warn!(error = %e, "service unavailable"),
            _ => {}
        }
        let retry_after = match &self {
            ApiError::TooManyRequests { retry_after_secs } => Some((*retry_after_secs).max(1)),
            ApiError::Unavailable(_) => Some(1),
            _ => None,
        };
        let errors = match self {
            ApiError::Validation(errs) => errs,
            _ => Vec::new(),
        };
        let mut res = problem_response(Problem {
            kind: kind.into(),
            title: title.into(),
            status: status.as_u16(),
            detail,
            errors,
            request_id: None,
        });
        if let Some(secs) = retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

/// Serialises a problem. The request id is filled in by the problem middleware on the way out.
pub fn problem_response(p: Problem) -> Response {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&p).unwrap_or_else(|_| b"{}".to_vec());
    let mut res = (status, body).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    res
}

pub type ApiResult<T> = Result<T, ApiError>;
