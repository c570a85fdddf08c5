//! Conditional changes: the version of a record the caller edited, as the interface received it
//! (the JSON API from `If-Match`, a web form from a hidden field). The use case checks it after
//! the access decision, so a caller without access learns nothing from a precondition answer.

use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// No version named (or `*`): a change of an existing record is refused.
    Missing,
    /// The versions the caller accepts as "the one I edited"; empty when none could be read.
    Versions(Vec<i32>),
}

impl Precondition {
    /// One version, as a form sends it.
    pub fn version(v: i32) -> Self {
        Precondition::Versions(vec![v])
    }

    fn versions(&self) -> AppResult<&[i32]> {
        match self {
            Precondition::Missing => Err(AppError::PreconditionRequired),
            Precondition::Versions(v) if v.is_empty() => Err(AppError::PreconditionFailed),
            Precondition::Versions(v) => Ok(v),
        }
    }

    /// `Ok(current)` when the caller edited the current version, otherwise
    /// [`AppError::PreconditionFailed`] (or `PreconditionRequired` without a version). Use the
    /// returned version in the conditional write, so a change in between still loses.
    pub fn check(&self, current: i32) -> AppResult<i32> {
        if self.versions()?.contains(&current) {
            Ok(current)
        } else {
            Err(AppError::PreconditionFailed)
        }
    }

    /// For a document that may not exist yet: `Ok(None)` without a version (create); with one,
    /// the document must exist at a named version.
    pub fn check_optional(&self, current: Option<i32>) -> AppResult<Option<i32>> {
        match (self, current) {
            (Precondition::Missing, _) => Ok(None),
            (_, Some(c)) => self.check(c).map(Some),
            (_, None) => {
                self.versions()?;
                Err(AppError::PreconditionFailed)
            }
        }
    }
}
