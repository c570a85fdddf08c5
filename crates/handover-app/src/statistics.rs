//! Figures that show whether handovers happen (`handover_domain::statistics`): counts without
//! personal data, small ones hidden. An organisation's staff see their organisation's figures
//! by month and the national ones; the directorate sees every breakdown.

use crate::App;
use crate::actor::Actor;
use crate::error::{AppError, AppResult};
use handover_db::statistics as db;
use handover_domain::policy::organisation_relation;
use handover_domain::statistics::{
    Ask, Breakdown, Fine, FineDays, GroupOrg, Labels, MAX_MONTHS, Statistics, next_month,
    parse_month, tabulate,
};
use handover_domain::{Action, FieldError, OrgId, OrgKind, Relation};

/// A table asked for, as the interface received it.
#[derive(Debug, Clone, Default)]
pub struct StatisticsQuery {
    /// `YYYY-MM`; default: twelve months back from `to`.
    pub from: Option<String>,
    /// `YYYY-MM`; default: this month.
    pub to: Option<String>,
    pub by: Option<Breakdown>,
    pub of: Option<OrgId>,
}

/// The labels of rows that are not an organisation, in the caller's language.
pub struct RowLabels {
    pub total: String,
    pub unknown_county: String,
}

fn month_error(field: &str, code: &str, message: &str) -> AppError {
    AppError::Validation(vec![FieldError {
        field: field.into(),
        code: code.into(),
        message: message.into(),
    }])
}

fn period(app: &App, q: &StatisticsQuery) -> AppResult<(time::Date, time::Date)> {
    let today = app.today();
    let this_month = time::Date::from_calendar_date(today.year(), today.month(), 1)
        .map_err(AppError::internal)?;
    let parse = |field: &str, v: &Option<String>| -> AppResult<Option<time::Date>> {
        // Absent is the default; anything given must be a month (an empty `to=` is not).
        match v.as_deref() {
            None => Ok(None),
            Some(s) => parse_month(s)
                .map(Some)
                .ok_or_else(|| month_error(field, "invalid_month", "a month as YYYY-MM")),
        }
    };
    let to = parse("to", &q.to)?.unwrap_or(this_month);
    let from = match parse("from", &q.from)? {
        Some(f) => f,
        None => {
            let mut f = to;
            for _ in 0..11 {
                f = time::Date::from_calendar_date(
                    if f.month() == time::Month::January {
                        f.year() - 1
                    } else {
                        f.year()
                    },
                    f.month().previous(),
                    1,
                )
                .map_err(AppError::internal)?;
            }
            f
        }
    };
    if from.year() < 2020 {
        return Err(month_error(
            "from",
            "out_of_range",
            "must be 2020-01 or later",
        ));
    }
    if to > this_month {
        return Err(month_error(
            "to",
            "in_future",
            "must not be after this month",
        ));
    }
    if from > to {
        return Err(month_error("from", "after_to", "must not be after `to`"));
    }
    let mut n = 0;
    let mut d = from;
    while d <= to {
        n += 1;
        d = next_month(d);
    }
    if n > MAX_MONTHS {
        return Err(month_error("from", "period_too_long", "at most 60 months"));
    }
    Ok((from, to))
}

fn kind_of(s: &str) -> Option<OrgKind> {
    s.parse().ok()
}

/// The table asked for, under the caller's grants: the national figures by month for every
/// organisation's staff, its own organisation's by month, and (the directorate) every
/// breakdown and every organisation's.
pub async fn table(
    app: &App,
    actor: &Actor,
    q: StatisticsQuery,
    labels: &RowLabels,
) -> AppResult<Statistics> {
    actor.require(Action::StatisticsRead)?;
    let by = q.by.unwrap_or(Breakdown::Month);
    if by != Breakdown::Month {
        if q.of.is_some() {
            return Err(month_error(
                "of",
                "not_with_breakdown",
                "one organisation's figures are by month: `of` goes with `by=month`",
            ));
        }
        // The breakdowns over every organisation are the directorate's.
        actor
            .check(Action::StatisticsRead, Relation::Unrelated)
            .map_err(|_| AppError::Forbidden)?;
    }
    let (from, to) = period(app, &q)?;
    let register: Vec<GroupOrg> = db::organisations(&app.pool)
        .await?
        .into_iter()
        .filter_map(|o| {
            Some(GroupOrg {
                id: OrgId(o.id),
                kind: kind_of(&o.kind)?,
                name: o.name,
                county: o.county,
            })
        })
        .collect();
    let of = match q.of {
        None => None,
        Some(id) => {
            let found = register.iter().find(|o| o.id == id).cloned();
            // Another organisation's figures are as unknown as a missing one.
            actor.check(
                Action::StatisticsRead,
                organisation_relation(&actor.caller, id),
            )?;
            Some(found.ok_or(AppError::NotFound)?)
        }
    };
    let until = next_month(to);
    let fine: Vec<Fine> = db::fine_cells(&app.pool, from, until, app.today())
        .await?
        .into_iter()
        .map(|c| Fine {
            month: c.month,
            centre: c.centre,
            municipality: c.municipality,
            counts: c.counts,
        })
        .collect();
    let days: Vec<FineDays> = db::fine_days(&app.pool, from, until)
        .await?
        .into_iter()
        .map(|d| FineDays {
            month: d.month,
            centre: d.centre,
            municipality: d.municipality,
            days: d.days,
        })
        .collect();
    let ask = Ask { from, to, by, of };
    let (total, unknown_county) = (labels.total.clone(), labels.unknown_county.clone());
    // Pure counting over the whole country's grid: off the request threads.
    tokio::task::spawn_blocking(move || {
        let labels = Labels {
            total: &total,
            unknown_county: &unknown_county,
        };
        tabulate(&ask, &register, &fine, &days, &labels)
    })
    .await
    .map_err(AppError::internal)
}
