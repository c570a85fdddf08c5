//! The one source of the current time. The service reads the system clock; tests hold a
//! [`Clock`] they can move forward instead of sleeping.

use handover_domain::oslo;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use time::{Date, Duration, OffsetDateTime};

#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Nanoseconds added to the system time; moved only by tests.
    offset: Arc<AtomicI64>,
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + Duration::nanoseconds(self.offset.load(Ordering::Relaxed))
    }

    /// The calendar date in Oslo: dates in the record are Norwegian dates.
    pub fn today(&self) -> Date {
        oslo::to_oslo(self.now()).date()
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        let ns = i64::try_from(by.whole_nanoseconds()).unwrap_or(i64::MAX);
        self.offset.fetch_add(ns, Ordering::Relaxed);
    }
}
