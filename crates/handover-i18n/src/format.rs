//! Dates, times and numbers as Norwegian readers expect them, the same on a page and in a
//! printed file.

use time::{Date, OffsetDateTime};

/// `24.12.2026`
pub fn date(d: &Date) -> String {
    format!("{:02}.{:02}.{}", d.day(), u8::from(d.month()), d.year())
}

/// `24.12.2026 kl. 14:05`, in Oslo time.
pub fn datetime(t: OffsetDateTime) -> String {
    let o = handover_domain::oslo::to_oslo(t);
    format!("{} kl. {:02}:{:02}", date(&o.date()), o.hour(), o.minute())
}

/// A date field as typed (`2026-12-24`, the value of `<input type="date">`, or `24.12.2026`).
pub fn parse_date(s: &str) -> Option<Date> {
    let s = s.trim();
    let iso = time::macros::format_description!("[year]-[month]-[day]");
    let nor = time::macros::format_description!("[day].[month].[year]");
    Date::parse(s, iso).or_else(|_| Date::parse(s, nor)).ok()
}

/// A number as shown: Norwegian decimal comma, no needless decimals.
pub fn number(n: f64) -> String {
    let s = if n.fract() == 0.0 {
        format!("{n:.0}")
    } else {
        format!("{n:.1}")
    };
    s.replace('.', ",")
}
