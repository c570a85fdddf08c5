//! Offset paging of lists: what a caller may ask for, and the one page shape every list answers.

use crate::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;
pub const MAX_OFFSET: i64 = 1_000_000;

/// Offset pagination, ordered by a stable key.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

impl Paging {
    pub fn resolve(&self) -> Result<(i64, i64), Vec<FieldError>> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        let offset = self.offset.unwrap_or(0);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(FieldError::one(
                "limit",
                "out_of_range",
                "must be between 1 and 200",
            ));
        }
        if !(0..=MAX_OFFSET).contains(&offset) {
            return Err(FieldError::one(
                "offset",
                "out_of_range",
                "must be between 0 and 1000000",
            ));
        }
        Ok((limit, offset))
    }
}

/// One page of a list: every list endpoint answers this shape. `total` counts the matching
/// items across all pages; `limit` and `offset` are the ones applied (the defaults when the
/// request gave none).
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Matching items across all pages.
    pub total: i64,
    /// Items per page, as applied.
    pub limit: i64,
    /// Items skipped, as applied.
    pub offset: i64,
}

impl<T> Page<T> {
    /// A page cut from a list read whole (the short per-record lists: a participant's
    /// consents, summaries, elements and placements; a handover's conversations; the catalogue
    /// and an offering's versions).
    pub fn slice(all: Vec<T>, paging: &Paging) -> Result<Self, Vec<FieldError>> {
        let (limit, offset) = paging.resolve()?;
        let total = i64::try_from(all.len()).unwrap_or(i64::MAX);
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        let take = usize::try_from(limit).unwrap_or(0);
        let items = all.into_iter().skip(skip).take(take).collect();
        Ok(Page {
            items,
            total,
            limit,
            offset,
        })
    }
}
