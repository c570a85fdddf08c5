//! One error type for every use case. It names what went wrong in the application's terms; each
//! interface turns it into its own answer (the JSON API into RFC 9457 problem+json, the web
//! pages into a message beside the field or an error page).

use handover_db::DbError;
use handover_domain::FieldError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// A request that is wrong in a way no field names.
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// The idempotency key was used before for a different request.
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    #[error("unauthenticated")]
    Unauthenticated,
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The second step of a login with a wrong or already used code; the step can be tried
    /// again with another code while its challenge lasts.
    #[error("invalid code")]
    InvalidCode,
    /// A right password of a user whose organisation signs in through its identity provider
    /// only.
    #[error("password sign-in is turned off")]
    PasswordsDisabled,
    /// A refresh token that is unknown, expired, spent or revoked.
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// The caller's role has no grant for the action.
    #[error("forbidden")]
    Forbidden,
    /// The target does not exist, or exists for someone else (never revealed).
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    /// An attendee is already booked for another transfer conversation that overlaps: the
    /// interfaces say who and when, in the user's language.
    #[error("double booking of {name}")]
    DoubleBooked {
        name: String,
        start: time::OffsetDateTime,
        end: time::OffsetDateTime,
    },
    #[error("gone: {0}")]
    Gone(String),
    /// The version edited is not the current one.
    #[error("precondition failed")]
    PreconditionFailed,
    /// A conditional change was asked without naming the version edited.
    #[error("precondition required")]
    PreconditionRequired,
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Logged by the interface, never described to the user.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn field(field: &str, code: &str, message: &str) -> Self {
        AppError::Validation(vec![FieldError {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.to_owned(),
        }])
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::Internal(e.to_string())
    }

    /// 429 until `until`.
    pub fn retry_after(until: time::OffsetDateTime, now: time::OffsetDateTime) -> Self {
        let secs = (until - now).whole_seconds().max(1) as u64;
        AppError::TooManyRequests {
            retry_after_secs: secs,
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => AppError::NotFound,
            DbError::Conflict(c) => AppError::Conflict(conflict_message(&c)),
            DbError::Rejected(c) => AppError::Conflict(conflict_message(&c)),
            DbError::Unavailable(d) => {
                metrics::counter!("handover_db_errors_total", "kind" => "unavailable").increment(1);
                AppError::Unavailable(d)
            }
            DbError::Other(e) => {
                metrics::counter!("handover_db_errors_total", "kind" => "statement").increment(1);
                AppError::Internal(e.to_string())
            }
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        DbError::from(e).into()
    }
}

impl From<Vec<FieldError>> for AppError {
    fn from(e: Vec<FieldError>) -> Self {
        AppError::Validation(e)
    }
}

/// Names a violated constraint in words a user can act on, without leaking SQL.
fn conflict_message(constraint: &str) -> String {
    match constraint {
        "users_email_key" => "A user with this e-mail address already exists.".into(),
        "organisations_kind_name_key" => {
            "An organisation of this kind with this name already exists.".into()
        }
        "organisations_municipality_number_key" => {
            "A municipality with this number already exists.".into()
        }
        "organisations_serves_key" => {
            "That reception centre is already served by another career centre.".into()
        }
        "organisations_serves_reception_centre" => {
            "A career centre can only serve a reception centre.".into()
        }
        "users_role_fits_organisation" => "The role does not fit the organisation's kind.".into(),
        _ => "The request conflicts with the current state of the data.".into(),
    }
}
