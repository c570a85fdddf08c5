//! Europe/Oslo time: UTC+1, and UTC+2 (summer time) from 01:00 UTC on the last Sunday of March
//! to 01:00 UTC on the last Sunday of October (EU rule, in force in Norway since 1996).
//! Times are stored in UTC and shown in Oslo time.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

fn last_sunday(year: i32, month: Month) -> Option<Date> {
    let mut d = Date::from_calendar_date(year, month, month.length(year)).ok()?;
    while d.weekday() != Weekday::Sunday {
        d = d.previous_day()?;
    }
    Some(d)
}

/// The start and end (UTC) of summer time in `year`.
pub fn summer_time(year: i32) -> Option<(OffsetDateTime, OffsetDateTime)> {
    let one = Time::from_hms(1, 0, 0).ok()?;
    let start = PrimitiveDateTime::new(last_sunday(year, Month::March)?, one).assume_utc();
    let end = PrimitiveDateTime::new(last_sunday(year, Month::October)?, one).assume_utc();
    Some((start, end))
}

/// The Oslo offset at an instant.
pub fn offset_at(t: OffsetDateTime) -> UtcOffset {
    let utc = t.to_offset(UtcOffset::UTC);
    let summer = summer_time(utc.year()).is_some_and(|(s, e)| utc >= s && utc < e);
    let hours = if summer { 2 } else { 1 };
    UtcOffset::from_hms(hours, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// The instant shown in Oslo time. In the last hours of year 9999 the Oslo date would be out of
/// range (found by fuzzing: `to_offset` panics there); such an instant stays as it is.
pub fn to_oslo(t: OffsetDateTime) -> OffsetDateTime {
    t.checked_to_offset(offset_at(t)).unwrap_or(t)
}

/// A wall-clock time in Oslo, as the instant(s) it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Local {
    /// The usual case: one instant.
    One(OffsetDateTime),
    /// In the hour skipped when summer time starts (02:00–03:00 on the last Sunday of March):
    /// no such time exists in Oslo.
    Skipped,
    /// In the hour repeated when summer time ends (02:00–03:00 on the last Sunday of
    /// October): first in summer time (+02:00), then in winter time (+01:00).
    Twice {
        summer: OffsetDateTime,
        winter: OffsetDateTime,
    },
}

/// The instant(s) an Oslo wall-clock time names. A time whose offset round-trips is the time;
/// the spring gap has none, the autumn fold has two.
pub fn from_local(local: PrimitiveDateTime) -> Local {
    let at = |hours: i8| {
        UtcOffset::from_hms(hours, 0, 0)
            .ok()
            .and_then(|o| local.assume_offset(o).checked_to_offset(UtcOffset::UTC))
            .map(|t| t.to_offset(offset_at(t)))
            .filter(|t| t.date() == local.date() && t.time() == local.time())
    };
    match (at(2), at(1)) {
        (Some(summer), Some(winter)) if summer != winter => Local::Twice { summer, winter },
        (Some(t), _) | (None, Some(t)) => Local::One(t),
        (None, None) => Local::Skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn last_sundays() {
        let (s, e) =
            summer_time(2026).unwrap_or((OffsetDateTime::UNIX_EPOCH, OffsetDateTime::UNIX_EPOCH));
        assert_eq!(s, datetime!(2026-03-29 01:00 UTC));
        assert_eq!(e, datetime!(2026-10-25 01:00 UTC));
        let (s, e) =
            summer_time(2027).unwrap_or((OffsetDateTime::UNIX_EPOCH, OffsetDateTime::UNIX_EPOCH));
        assert_eq!(s, datetime!(2027-03-28 01:00 UTC));
        assert_eq!(e, datetime!(2027-10-31 01:00 UTC));
    }

    #[test]
    fn offsets_around_the_changes() {
        // Spring forward: 02:00 local becomes 03:00.
        assert_eq!(
            to_oslo(datetime!(2026-03-29 00:59 UTC)),
            datetime!(2026-03-29 01:59 +1)
        );
        assert_eq!(
            to_oslo(datetime!(2026-03-29 01:00 UTC)),
            datetime!(2026-03-29 03:00 +2)
        );
        // Fall back: 03:00 local becomes 02:00; the hour 02:00-03:00 happens twice.
        assert_eq!(
            to_oslo(datetime!(2026-10-25 00:30 UTC)),
            datetime!(2026-10-25 02:30 +2)
        );
        assert_eq!(
            to_oslo(datetime!(2026-10-25 01:30 UTC)),
            datetime!(2026-10-25 02:30 +1)
        );
        assert_eq!(
            to_oslo(datetime!(2026-07-01 10:00 UTC)),
            datetime!(2026-07-01 12:00 +2)
        );
        assert_eq!(
            to_oslo(datetime!(2026-12-01 10:00 UTC)),
            datetime!(2026-12-01 11:00 +1)
        );
    }

    #[test]
    fn wall_clock_times_around_the_changes() {
        use time::macros::datetime;
        assert_eq!(
            from_local(datetime!(2026-12-01 10:00)),
            Local::One(datetime!(2026-12-01 10:00 +1))
        );
        assert_eq!(
            from_local(datetime!(2026-07-01 10:00)),
            Local::One(datetime!(2026-07-01 10:00 +2))
        );
        assert_eq!(from_local(datetime!(2026-03-29 02:30)), Local::Skipped);
        assert_eq!(from_local(datetime!(2026-03-29 02:00)), Local::Skipped);
        assert_eq!(
            from_local(datetime!(2026-03-29 03:00)),
            Local::One(datetime!(2026-03-29 03:00 +2))
        );
        assert_eq!(
            from_local(datetime!(2026-03-29 01:59)),
            Local::One(datetime!(2026-03-29 01:59 +1))
        );
        assert_eq!(
            from_local(datetime!(2026-10-25 02:30)),
            Local::Twice {
                summer: datetime!(2026-10-25 02:30 +2),
                winter: datetime!(2026-10-25 02:30 +1),
            }
        );
        assert_eq!(
            from_local(datetime!(2026-10-25 03:00)),
            Local::One(datetime!(2026-10-25 03:00 +1))
        );
        assert_eq!(
            from_local(datetime!(2026-10-25 01:59)),
            Local::One(datetime!(2026-10-25 01:59 +2))
        );
    }
}
