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
}
