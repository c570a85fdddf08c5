//! Offset pagination with the total count from the same query (`count(*) OVER ()`).

use crate::error::DbResult;
use sqlx::FromRow;

#[derive(FromRow)]
pub(crate) struct Counted<T> {
    #[sqlx(flatten)]
    pub row: T,
    pub total: i64,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Matching rows across all pages. When the page is empty (offset past the end) this is 0.
    pub total: i64,
}

impl<T> Page<T> {
    pub(crate) fn from_counted<R>(rows: Vec<Counted<R>>) -> DbResult<Self>
    where
        T: TryFrom<R>,
        crate::DbError: From<T::Error>,
    {
        let total = rows.first().map(|r| r.total).unwrap_or(0);
        let items = rows
            .into_iter()
            .map(|c| T::try_from(c.row).map_err(crate::DbError::from))
            .collect::<DbResult<Vec<_>>>()?;
        Ok(Page { items, total })
    }
}
