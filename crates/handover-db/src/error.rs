use thiserror::Error;

/// What the API needs to know about a failed database call.
#[derive(Debug, Error)]
pub enum DbError {
    #[error("not found")]
    NotFound,
    /// A unique or exclusion constraint was violated; carries the constraint's name.
    #[error("conflict on {0}")]
    Conflict(String),
    /// A check or foreign-key constraint rejected the data; carries the constraint's name.
    #[error("rejected by {0}")]
    Rejected(String),
    /// The database could not be reached in time (pool timeout, connection lost, shutting down).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Other(sqlx::Error),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => DbError::NotFound,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                DbError::Unavailable(e.to_string())
            }
            sqlx::Error::Database(d) => {
                let name = d.constraint().unwrap_or_default().to_owned();
                match d.code().as_deref() {
                    // unique_violation, exclusion_violation
                    Some("23505") | Some("23P01") => DbError::Conflict(name),
                    // check_violation, foreign_key_violation, not_null_violation
                    Some("23514") | Some("23503") | Some("23502") => DbError::Rejected(name),
                    // admin_shutdown, crash_shutdown, cannot_connect_now, query_canceled
                    // (statement_timeout), lock_not_available
                    Some("57P01") | Some("57P02") | Some("57P03") | Some("57014")
                    | Some("55P03") => DbError::Unavailable(d.message().to_owned()),
                    _ => DbError::Other(e),
                }
            }
            _ => DbError::Other(e),
        }
    }
}

impl DbError {
    pub(crate) fn is_duplicate_database(e: &sqlx::Error) -> bool {
        matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("42P04") || d.code().as_deref() == Some("23505"))
    }
}

pub type DbResult<T> = Result<T, DbError>;

impl From<std::convert::Infallible> for DbError {
    fn from(e: std::convert::Infallible) -> Self {
        match e {}
    }
}
