//! `catalogue stale-facts`: the catalogue's facts that are due to be checked again (their newest
//! source is older than a year, by default) and those no source supports at all. Facts change
//! (a measure's rates, an act replaced); the administrators need the list to know what to
//! check, since the service cannot look the pages up itself.

use handover_db::PgPool;
use handover_db::guidance::{OfferingFilter, list_offerings};
use handover_domain::guidance::OfferingInput;
use std::fmt::Write;
use time::Date;

/// What is due, offering by offering (in the catalogue's order).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// (key, fact, date of its newest check)
    pub stale: Vec<(String, &'static str, Date)>,
    /// (key, fact) of facts shown as not verified.
    pub unverified: Vec<(String, &'static str)>,
    pub offerings: usize,
}

pub fn report(offerings: &[OfferingInput], today: Date, after_days: i64) -> Report {
    let mut r = Report {
        offerings: offerings.len(),
        ..Report::default()
    };
    for o in offerings {
        for (f, d) in o.stale_facts(today, after_days) {
            r.stale.push((o.key.clone(), f, d));
        }
        for f in o.unverified_facts() {
            r.unverified.push((o.key.clone(), f));
        }
    }
    r
}

impl Report {
    /// Tab-separated lines (easy to read, sort and grep), then a one-line summary.
    pub fn render(&self, after_days: i64) -> String {
        let mut out = String::new();
        for (key, f, d) in &self.stale {
            let _ = writeln!(out, "stale\t{key}\t{f}\tchecked {d}");
        }
        for (key, f) in &self.unverified {
            let _ = writeln!(out, "unverified\t{key}\t{f}");
        }
        let _ = writeln!(
            out,
            "{} offerings: {} facts checked more than {after_days} days ago, {} facts not verified",
            self.offerings,
            self.stale.len(),
            self.unverified.len()
        );
        out
    }
}

/// The report on the offerings in use (retired ones are no longer recommended).
pub async fn stale_facts(pool: &PgPool, today: Date, after_days: i64) -> anyhow::Result<Report> {
    let list = list_offerings(pool, &OfferingFilter::default()).await?;
    let data: Vec<OfferingInput> = list.into_iter().map(|o| o.data).collect();
    Ok(report(&data, today, after_days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use handover_db::guidance::shipped_catalogue;
    use handover_domain::guidance::RECHECK_AFTER_DAYS;
    use time::macros::date;

    #[test]
    fn the_shipped_catalogue_is_due_a_year_after_its_check() {
        let list = shipped_catalogue().unwrap();
        let now = report(&list, date!(2026 - 12 - 03), RECHECK_AFTER_DAYS);
        assert!(
            now.stale.is_empty(),
            "checked on 2026-12-02: {:?}",
            now.stale
        );
        assert_eq!(now.unverified.len(), 107);
        let later = report(&list, date!(2028 - 01 - 01), RECHECK_AFTER_DAYS);
        assert_eq!(later.stale.len(), 180, "every sourced fact is due");
        let text = later.render(RECHECK_AFTER_DAYS);
        assert!(
            text.contains("stale\tkompetansekartlegging\tresponsible_actor\tchecked 2026-12-02")
        );
        assert!(text.ends_with(
            "41 offerings: 180 facts checked more than 365 days ago, 107 facts not verified\n"
        ));
    }
}
