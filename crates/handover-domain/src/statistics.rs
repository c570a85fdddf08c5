//! Figures that show whether handovers happen, free of personal data: counts per centre, county,
//! municipality and month, with small-cell suppression.
//!
//! A count under [`MIN_CELL`] is never shown (it is "< 5"), and no hidden count can be worked out
//! from the figures that are shown: from a total and its other parts (the national total and the
//! counties, a county and its municipalities, a period and its months), or from the difference
//! of two figures of which one counts a part of the other (handovers sent and those accepted).
//! The [`Grid`] holds every cell of every breakdown one caller can see, with the equations that
//! tie them together, and hides more cells until every equation protects its hidden parts.

use crate::participant::str_enum;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The smallest count that is shown.
pub const MIN_CELL: i64 = 5;

str_enum!(
    /// What the rows of a table of figures are.
    Breakdown {
        /// One row per calendar month of the period.
        Month = "month",
        /// One row per reception centre.
        Centre = "centre",
        /// One row per county (of the settlement municipality).
        County = "county",
        /// One row per settlement municipality.
        Municipality = "municipality",
    }
);

str_enum!(
    /// A counted figure. Participants are counted by the month of their settlement date; every
    /// other figure by the month the handover was first sent (agreed actions: of the handover
    /// whose conversation agreed them).
    Measure {
        /// Participants whose settlement date falls in the month (and has come).
        ParticipantsSettled = "participants_settled",
        /// Handovers sent for the first time.
        HandoversSent = "handovers_sent",
        /// Of those, opened by the municipality within 7 days of sending.
        OpenedWithin7Days = "opened_within_7_days",
        /// Of those, accepted by the municipality.
        Accepted = "accepted",
        /// Of those, declined by the municipality.
        Declined = "declined",
        /// Of those, sent with something missing from the file.
        SentWithMissingItems = "sent_with_missing_items",
        /// Of the handovers sent, those missing the competence mapping.
        MissingCompetenceMapping = "missing_competence_mapping",
        /// … missing the Norwegian levels.
        MissingNorwegianLevels = "missing_norwegian_levels",
        /// … missing the guidance summary.
        MissingGuidanceSummary = "missing_guidance_summary",
        /// … missing the consent decision.
        MissingConsentDecision = "missing_consent_decision",
        /// … missing the settlement date.
        MissingSettlementDate = "missing_settlement_date",
        /// Of the handovers sent, those with a transfer conversation proposed.
        ConversationsProposed = "conversations_proposed",
        /// Of those, with a conversation held.
        ConversationsHeld = "conversations_held",
        /// Of those, with a conversation the participant did not attend.
        ConversationsNoShow = "conversations_no_show",
        /// Agreed actions whose due date has passed or that are done.
        ActionsDue = "actions_due",
        /// Of those, done by their due date.
        ActionsDoneOnTime = "actions_done_on_time",
    }
);

impl Measure {
    /// The missing-item code of the readiness check this measure counts.
    pub fn missing_item(self) -> Option<&'static str> {
        Some(match self {
            Measure::MissingCompetenceMapping => "competence_mapping",
            Measure::MissingNorwegianLevels => "norwegian_levels",
            Measure::MissingGuidanceSummary => "guidance_summary",
            Measure::MissingConsentDecision => "consent_decision",
            Measure::MissingSettlementDate => "settlement_date",
            _ => return None,
        })
    }

    /// The figure this one counts a part of, if any: their difference is a count too, and is
    /// protected like one.
    pub fn part_of(self) -> Option<Measure> {
        use Measure::*;
        Some(match self {
            OpenedWithin7Days
            | Accepted
            | Declined
            | SentWithMissingItems
            | ConversationsProposed => HandoversSent,
            MissingCompetenceMapping
            | MissingNorwegianLevels
            | MissingGuidanceSummary
            | MissingConsentDecision
            | MissingSettlementDate => SentWithMissingItems,
            ConversationsHeld | ConversationsNoShow => ConversationsProposed,
            ActionsDoneOnTime => ActionsDue,
            ParticipantsSettled | HandoversSent | ActionsDue => return None,
        })
    }
}

str_enum!(
    /// Why a figure is not shown.
    Suppression {
        /// The count is under 5, or its group is smaller than 5.
        Small = "small",
        /// Hidden so that a small count cannot be worked out from the figures shown.
        Complementary = "complementary",
    }
);

/// One figure as shown: the count, or why it is hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Figure {
    /// `null` when hidden.
    pub value: Option<i64>,
    /// Why it is hidden; `null` when shown.
    pub suppressed: Option<Suppression>,
}

impl Figure {
    pub fn shown(v: i64) -> Self {
        Figure {
            value: Some(v),
            suppressed: None,
        }
    }

    pub fn hidden(why: Suppression) -> Self {
        Figure {
            value: None,
            suppressed: Some(why),
        }
    }

    /// As a table cell says it: the count, "< 5", or ":" (hidden to protect another figure, as
    /// Statistics Norway marks it).
    pub fn text(&self) -> String {
        match (self.value, self.suppressed) {
            (Some(v), _) => v.to_string(),
            (None, Some(Suppression::Complementary)) => ":".into(),
            (None, _) => "< 5".into(),
        }
    }
}

/// The days from the settlement date to the first held transfer conversation (negative: the
/// conversation was held before the participant moved), over a group's handovers. Only for a
/// group of at least [`MIN_CELL`] conversations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DaysSpread {
    pub conversations: Figure,
    pub q1: Option<f64>,
    pub median: Option<f64>,
    pub q3: Option<f64>,
}

impl DaysSpread {
    /// Quartiles by linear interpolation between the closest ranks (the method of R's default
    /// and of `PERCENTILE_CONT`), or none for fewer than [`MIN_CELL`] values.
    pub fn of(mut days: Vec<i64>) -> Self {
        let n = days.len() as i64;
        if n < MIN_CELL {
            return DaysSpread {
                conversations: Figure::hidden(Suppression::Small),
                q1: None,
                median: None,
                q3: None,
            };
        }
        days.sort_unstable();
        let q = |p: f64| {
            let pos = p * (days.len() - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = pos.ceil() as usize;
            let frac = pos - lo as f64;
            days[lo] as f64 + (days[hi] - days[lo]) as f64 * frac
        };
        DaysSpread {
            conversations: Figure::shown(n),
            q1: Some(q(0.25)),
            median: Some(q(0.5)),
            q3: Some(q(0.75)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A figure someone may see.
    Real,
    /// A difference that is never shown but could be worked out (sent minus accepted, the rest
    /// of the country): it needs protection when it is 1 to 4.
    Implied,
}

/// Every cell one caller can see, with the equations between them.
#[derive(Debug, Default, Clone)]
pub struct Grid {
    values: Vec<i64>,
    kinds: Vec<Kind>,
    state: Vec<Option<Suppression>>,
    /// `total = sum(parts)`.
    equations: Vec<(usize, Vec<usize>)>,
}

impl Grid {
    pub fn new() -> Self {
        Grid::default()
    }

    /// A figure; hidden as small when under [`MIN_CELL`].
    pub fn cell(&mut self, value: i64) -> usize {
        self.values.push(value);
        self.kinds.push(Kind::Real);
        self.state
            .push((value < MIN_CELL).then_some(Suppression::Small));
        self.values.len() - 1
    }

    /// Hides a figure as small whatever its value (its group is smaller than [`MIN_CELL`]).
    pub fn small(&mut self, cell: usize) {
        self.state[cell] = Some(Suppression::Small);
    }

    /// `total = sum(parts)`, as a reader could add them up.
    pub fn sum(&mut self, total: usize, parts: Vec<usize>) {
        self.equations.push((total, parts));
    }

    /// `whole = part + (whole - part)`: the difference is implied and never shown.
    pub fn part(&mut self, whole: usize, part: usize) {
        let diff = self.values[whole] - self.values[part];
        self.values.push(diff);
        self.kinds.push(Kind::Implied);
        self.state.push(Some(Suppression::Complementary));
        let d = self.values.len() - 1;
        self.equations.push((whole, vec![part, d]));
    }

    fn hidden(&self, c: usize) -> bool {
        self.state[c].is_some()
    }

    /// A hidden cell that must not be worked out: every hidden figure, and an implied
    /// difference of 1 to 4.
    fn protected(&self, c: usize) -> bool {
        self.hidden(c) && (self.kinds[c] == Kind::Real || (1..MIN_CELL).contains(&self.values[c]))
    }

    /// The shown real part with the smallest count (ties: the first).
    fn smallest_shown(&self, parts: &[usize]) -> Option<usize> {
        parts
            .iter()
            .copied()
            .filter(|&p| !self.hidden(p) && self.kinds[p] == Kind::Real)
            .min_by_key(|&p| (self.values[p], p))
    }

    /// Hides cells until, in every equation with a shown total, the hidden parts are none, or
    /// at least two adding up to at least [`MIN_CELL`]; and no hidden total is the sum of shown
    /// parts only.
    pub fn solve(&mut self) {
        loop {
            let mut changed = false;
            for i in 0..self.equations.len() {
                let (total, parts) = self.equations[i].clone();
                let hidden: Vec<usize> =
                    parts.iter().copied().filter(|&p| self.hidden(p)).collect();
                let hide = if self.hidden(total) {
                    hidden.is_empty()
                } else {
                    let sum: i64 = hidden.iter().map(|&p| self.values[p]).sum();
                    hidden.iter().any(|&p| self.protected(p))
                        && (hidden.len() < 2 || sum < MIN_CELL)
                };
                if hide {
                    let target = self.smallest_shown(&parts).unwrap_or(total);
                    if !self.hidden(target) {
                        self.state[target] = Some(Suppression::Complementary);
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// The cell as shown, once [`solve`](Self::solve)d.
    pub fn figure(&self, c: usize) -> Figure {
        match self.state[c] {
            None => Figure::shown(self.values[c]),
            Some(why) => Figure::hidden(why),
        }
    }

    /// Whether every equation holds its protection (what `solve` guarantees); for tests.
    pub fn is_protected(&self) -> bool {
        self.equations.iter().all(|(total, parts)| {
            let hidden: Vec<usize> = parts.iter().copied().filter(|&p| self.hidden(p)).collect();
            if self.hidden(*total) {
                !hidden.is_empty()
            } else {
                let sum: i64 = hidden.iter().map(|&p| self.values[p]).sum();
                !hidden.iter().any(|&p| self.protected(p)) || (hidden.len() >= 2 && sum >= MIN_CELL)
            }
        }) && (0..self.values.len())
            .all(|c| self.kinds[c] == Kind::Implied || self.hidden(c) || self.values[c] >= MIN_CELL)
    }
}

/// A month as `YYYY-MM`, as its first day.
pub fn parse_month(s: &str) -> Option<time::Date> {
    let (y, m) = s.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    time::Date::from_calendar_date(y.parse().ok()?, month, 1).ok()
}

/// The first day of the month after the month of `d`.
pub fn next_month(d: time::Date) -> time::Date {
    let (y, m) = match d.month() {
        time::Month::December => (d.year() + 1, time::Month::January),
        m => (d.year(), m.next()),
    };
    time::Date::from_calendar_date(y, m, 1).unwrap_or(d)
}

pub fn month_key(d: time::Date) -> String {
    format!("{}-{:02}", d.year(), u8::from(d.month()))
}

/// The longest period one table covers.
pub const MAX_MONTHS: usize = 60;

/// An organisation the figures group by.
#[derive(Debug, Clone)]
pub struct GroupOrg {
    pub id: crate::OrgId,
    pub kind: crate::OrgKind,
    pub name: String,
    pub county: Option<String>,
}

/// The finest counts: one month, centre and municipality, in the order of [`Measure::ALL`].
#[derive(Debug, Clone)]
pub struct Fine {
    pub month: time::Date,
    pub centre: crate::OrgId,
    pub municipality: crate::OrgId,
    pub counts: Vec<i64>,
}

/// One handover's days from settlement to its first held conversation.
#[derive(Debug, Clone)]
pub struct FineDays {
    pub month: time::Date,
    pub centre: crate::OrgId,
    pub municipality: crate::OrgId,
    pub days: i64,
}

/// One row of a table of figures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatisticsRow {
    /// The month (`YYYY-MM`), the organisation's id, or the county's name; `total` for a total.
    pub key: String,
    pub label: String,
    /// One figure per measure, by its name.
    pub figures: std::collections::BTreeMap<String, Figure>,
    pub days_settlement_to_conversation: DaysSpread,
}

impl StatisticsRow {
    pub fn figure(&self, m: Measure) -> Figure {
        self.figures
            .get(m.as_str())
            .copied()
            .unwrap_or(Figure::hidden(Suppression::Small))
    }
}

/// A table of figures: its rows, the total of the rows, and (for one organisation's figures)
/// the national totals beside it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Statistics {
    /// The first month, `YYYY-MM`.
    pub from: String,
    /// The last month, `YYYY-MM`.
    pub to: String,
    pub by: Breakdown,
    /// The organisation whose figures these are; `null` for the whole country.
    pub of: Option<crate::OrgId>,
    pub of_name: Option<String>,
    /// The measures, in the order the service shows them.
    pub measures: Vec<Measure>,
    pub rows: Vec<StatisticsRow>,
    pub total: StatisticsRow,
    /// The national totals, when `of` names an organisation.
    pub national: Option<StatisticsRow>,
    /// The smallest count shown.
    pub min_cell: i64,
}

/// What a table is asked for.
#[derive(Debug, Clone)]
pub struct Ask {
    pub from: time::Date,
    pub to: time::Date,
    pub by: Breakdown,
    /// The organisation whose figures (by month) are asked for.
    pub of: Option<GroupOrg>,
}

/// Labels for rows that are not an organisation.
pub struct Labels<'a> {
    pub total: &'a str,
    pub unknown_county: &'a str,
}

/// One row's cells in the grid, per measure.
type RowCells = Vec<usize>;

fn add_row(g: &mut Grid, counts: &[i64]) -> RowCells {
    let cells: RowCells = counts.iter().map(|&v| g.cell(v)).collect();
    for (i, m) in Measure::ALL.iter().enumerate() {
        if let Some(whole) = m.part_of()
            && let Some(w) = Measure::ALL.iter().position(|x| *x == whole)
        {
            g.part(cells[w], cells[i]);
        }
    }
    cells
}

/// A group smaller than [`MIN_CELL`] (by both participants settled and handovers sent) shows
/// no figure at all.
fn small_group(g: &mut Grid, counts: &[i64], cells: &RowCells) {
    let at = |m: Measure| {
        Measure::ALL
            .iter()
            .position(|x| *x == m)
            .map_or(0, |i| counts[i])
    };
    if at(Measure::ParticipantsSettled) < MIN_CELL && at(Measure::HandoversSent) < MIN_CELL {
        for &c in cells {
            g.small(c);
        }
    }
}

fn add(into: &mut [i64], counts: &[i64]) {
    for (a, b) in into.iter_mut().zip(counts) {
        *a += b;
    }
}

/// A keyed set of rows, summed from the fine counts.
#[derive(Default)]
struct Rows {
    keys: Vec<String>,
    labels: Vec<String>,
    counts: Vec<Vec<i64>>,
    days: Vec<Vec<i64>>,
}

impl Rows {
    fn slot(&mut self, key: &str, label: &str) -> usize {
        if let Some(i) = self.keys.iter().position(|k| k == key) {
            return i;
        }
        self.keys.push(key.to_owned());
        self.labels.push(label.to_owned());
        self.counts.push(vec![0; Measure::ALL.len()]);
        self.days.push(Vec::new());
        self.keys.len() - 1
    }
}

/// Builds the table asked for, with every breakdown of the whole country in one grid, so a
/// figure is hidden or shown alike in every table that holds it.
pub fn tabulate(
    ask: &Ask,
    register: &[GroupOrg],
    fine: &[Fine],
    days: &[FineDays],
    labels: &Labels<'_>,
) -> Statistics {
    use std::collections::HashMap;
    let orgs: HashMap<crate::OrgId, &GroupOrg> = register.iter().map(|o| (o.id, o)).collect();
    let name = |id: crate::OrgId| {
        orgs.get(&id)
            .map_or_else(|| id.0.to_string(), |o| o.name.clone())
    };
    let county_of = |m: crate::OrgId| orgs.get(&m).and_then(|o| o.county.clone());
    let county_key = |m: crate::OrgId| county_of(m).unwrap_or_default();
    let county_label =
        |m: crate::OrgId| county_of(m).unwrap_or_else(|| labels.unknown_county.to_owned());

    let mut months = Rows::default();
    let mut d = ask.from;
    while d <= ask.to {
        months.slot(&month_key(d), &month_key(d));
        d = next_month(d);
    }
    let (mut centres, mut counties, mut munis) =
        (Rows::default(), Rows::default(), Rows::default());
    let mut national = vec![0; Measure::ALL.len()];
    let mut own_months = Rows::default();
    for k in months.keys.clone() {
        own_months.slot(&k, &k);
    }
    let in_scope = |centre: crate::OrgId, muni: crate::OrgId| match &ask.of {
        None => false,
        Some(o) => match o.kind {
            crate::OrgKind::ReceptionCentre => centre == o.id,
            crate::OrgKind::Municipality => muni == o.id,
            crate::OrgKind::CareerCentre => o.county.is_some() && county_of(muni) == o.county,
            _ => false,
        },
    };
    let mut own_total = vec![0; Measure::ALL.len()];
    // The rows of the months are fixed; a count outside the period (the query never gives one)
    // is left out rather than given a row the organisation's months would not have.
    let month_of = |d: time::Date| months.keys.iter().position(|k| *k == month_key(d));
    for f in fine {
        let Some(mi) = month_of(f.month) else {
            continue;
        };
        add(&mut national, &f.counts);
        add(&mut months.counts[mi], &f.counts);
        let i = centres.slot(&f.centre.0.to_string(), &name(f.centre));
        add(&mut centres.counts[i], &f.counts);
        let i = counties.slot(&county_key(f.municipality), &county_label(f.municipality));
        add(&mut counties.counts[i], &f.counts);
        let i = munis.slot(&f.municipality.0.to_string(), &name(f.municipality));
        add(&mut munis.counts[i], &f.counts);
        if in_scope(f.centre, f.municipality) {
            add(&mut own_months.counts[mi], &f.counts);
            add(&mut own_total, &f.counts);
        }
    }
    let mut national_days = Vec::new();
    let mut own_days = Vec::new();
    for d in days {
        let Some(mi) = month_of(d.month) else {
            continue;
        };
        national_days.push(d.days);
        months.days[mi].push(d.days);
        let i = centres.slot(&d.centre.0.to_string(), &name(d.centre));
        centres.days[i].push(d.days);
        let i = counties.slot(&county_key(d.municipality), &county_label(d.municipality));
        counties.days[i].push(d.days);
        let i = munis.slot(&d.municipality.0.to_string(), &name(d.municipality));
        munis.days[i].push(d.days);
        if in_scope(d.centre, d.municipality) {
            own_months.days[mi].push(d.days);
            own_days.push(d.days);
        }
    }

    // The grid of the whole country: the national total, and each breakdown summing to it.
    let mut g = Grid::new();
    let n_cells = add_row(&mut g, &national);
    let rows_of = |g: &mut Grid, rows: &Rows| -> Vec<RowCells> {
        rows.counts
            .iter()
            .map(|c| {
                let cells = add_row(g, c);
                small_group(g, c, &cells);
                cells
            })
            .collect()
    };
    let month_cells = rows_of(&mut g, &months);
    let centre_cells = rows_of(&mut g, &centres);
    let county_cells = rows_of(&mut g, &counties);
    let muni_cells = rows_of(&mut g, &munis);
    for m in 0..Measure::ALL.len() {
        for set in [&month_cells, &centre_cells, &county_cells] {
            g.sum(n_cells[m], set.iter().map(|r| r[m]).collect());
        }
        for (ci, key) in counties.keys.iter().enumerate() {
            let parts: Vec<usize> = munis
                .keys
                .iter()
                .enumerate()
                .filter(|(_, k)| {
                    k.parse::<uuid::Uuid>()
                        .map(|u| county_key(crate::OrgId(u)) == *key)
                        .unwrap_or(false)
                })
                .map(|(i, _)| muni_cells[i][m])
                .collect();
            g.sum(county_cells[ci][m], parts);
        }
    }
    // One organisation's months: their total is that organisation's row of the country's grid,
    // and each month a part of the country's month (the rest of the country is implied).
    let own = ask.of.as_ref().map(|o| {
        let total_cells: RowCells = match o.kind {
            crate::OrgKind::ReceptionCentre => centres
                .keys
                .iter()
                .position(|k| *k == o.id.0.to_string())
                .map(|i| centre_cells[i].clone()),
            crate::OrgKind::Municipality => munis
                .keys
                .iter()
                .position(|k| *k == o.id.0.to_string())
                .map(|i| muni_cells[i].clone()),
            _ => counties
                .keys
                .iter()
                .position(|k| Some(k) == o.county.as_ref())
                .map(|i| county_cells[i].clone()),
        }
        .unwrap_or_else(|| {
            let cells = add_row(&mut g, &own_total);
            small_group(&mut g, &own_total, &cells);
            cells
        });
        let cells: Vec<RowCells> = own_months
            .counts
            .iter()
            .map(|c| {
                let cells = add_row(&mut g, c);
                small_group(&mut g, c, &cells);
                cells
            })
            .collect();
        for m in 0..Measure::ALL.len() {
            g.sum(total_cells[m], cells.iter().map(|r| r[m]).collect());
            for (i, r) in cells.iter().enumerate() {
                g.part(month_cells[i][m], r[m]);
            }
        }
        (total_cells, cells)
    });
    g.solve();

    let held = Measure::ALL
        .iter()
        .position(|m| *m == Measure::ConversationsHeld)
        .unwrap_or(0);
    let row = |key: &str, label: &str, cells: &RowCells, days: &[i64]| {
        let figures = Measure::ALL
            .iter()
            .zip(cells)
            .map(|(m, &c)| (m.as_str().to_owned(), g.figure(c)))
            .collect();
        // The number of conversations must not give away a hidden count of those held.
        let spread = if g.figure(cells[held]).value.is_some() {
            DaysSpread::of(days.to_vec())
        } else {
            DaysSpread::of(Vec::new())
        };
        StatisticsRow {
            key: key.to_owned(),
            label: label.to_owned(),
            figures,
            days_settlement_to_conversation: spread,
        }
    };
    let rows_out = |rows: &Rows, cells: &[RowCells]| -> Vec<StatisticsRow> {
        rows.keys
            .iter()
            .enumerate()
            .map(|(i, k)| row(k, &rows.labels[i], &cells[i], &rows.days[i]))
            .collect()
    };
    let national_key = if own.is_some() { "national" } else { "total" };
    let national_row = row(national_key, labels.total, &n_cells, &national_days);
    let (rows, total, national) = match (&own, ask.by) {
        (Some((total_cells, cells)), _) => (
            rows_out(&own_months, cells),
            row("total", labels.total, total_cells, &own_days),
            Some(national_row),
        ),
        (None, Breakdown::Month) => (rows_out(&months, &month_cells), national_row, None),
        (None, Breakdown::Centre) => (rows_out(&centres, &centre_cells), national_row, None),
        (None, Breakdown::County) => (rows_out(&counties, &county_cells), national_row, None),
        (None, Breakdown::Municipality) => (rows_out(&munis, &muni_cells), national_row, None),
    };
    let mut rows = rows;
    if ask.by != Breakdown::Month {
        rows.sort_by(|a, b| a.label.cmp(&b.label));
    }
    Statistics {
        from: month_key(ask.from),
        to: month_key(ask.to),
        by: if own.is_some() {
            Breakdown::Month
        } else {
            ask.by
        },
        of: ask.of.as_ref().map(|o| o.id),
        of_name: ask.of.as_ref().map(|o| o.name.clone()),
        measures: Measure::ALL.to_vec(),
        rows,
        total,
        national,
        min_cell: MIN_CELL,
    }
}

/// The table as CSV (UTF-8, comma-separated, a header row): one line per row and the total,
/// each figure as shown ("< 5" or ":" when hidden).
pub fn to_csv(s: &Statistics) -> String {
    fn field(v: &str) -> String {
        // Spreadsheet formulas are neutralised; quotes doubled.
        let v = if v.starts_with(['=', '+', '-', '@']) && v.parse::<f64>().is_err() {
            format!("'{v}")
        } else {
            v.to_owned()
        };
        if v.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", v.replace('"', "\"\""))
        } else {
            v
        }
    }
    let mut out = String::new();
    let mut head = vec!["key".to_owned(), "label".to_owned()];
    head.extend(s.measures.iter().map(|m| m.as_str().to_owned()));
    head.extend(
        ["days_conversations", "days_q1", "days_median", "days_q3"]
            .iter()
            .map(|h| (*h).to_owned()),
    );
    out.push_str(&head.join(","));
    out.push_str("\r\n");
    let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let rows = s
        .rows
        .iter()
        .chain(std::iter::once(&s.total))
        .chain(s.national.iter());
    for r in rows {
        let mut line = vec![field(&r.key), field(&r.label)];
        line.extend(s.measures.iter().map(|m| field(&r.figure(*m).text())));
        let d = &r.days_settlement_to_conversation;
        line.push(field(&d.conversations.text()));
        line.extend([num(d.q1), num(d.median), num(d.q3)]);
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_single_small_part_takes_a_second_one_with_it() {
        let mut g = Grid::new();
        let a = g.cell(3);
        let b = g.cell(20);
        let c = g.cell(8);
        let t = g.cell(31);
        g.sum(t, vec![a, b, c]);
        g.solve();
        assert_eq!(g.figure(a).text(), "< 5");
        assert_eq!(g.figure(c), Figure::hidden(Suppression::Complementary));
        assert_eq!(g.figure(b), Figure::shown(20));
        assert_eq!(g.figure(t), Figure::shown(31));
        assert!(g.is_protected());
    }

    #[test]
    fn two_small_parts_that_add_up_to_less_than_five_take_a_third() {
        let mut g = Grid::new();
        let a = g.cell(1);
        let b = g.cell(2);
        let c = g.cell(9);
        let d = g.cell(10);
        let t = g.cell(22);
        g.sum(t, vec![a, b, c, d]);
        g.solve();
        assert!(g.figure(c).value.is_none());
        assert_eq!(g.figure(d), Figure::shown(10));
        assert!(g.is_protected());
    }

    #[test]
    fn a_small_difference_hides_the_part() {
        let mut g = Grid::new();
        let sent = g.cell(12);
        let accepted = g.cell(10);
        let opened = g.cell(6);
        g.part(sent, accepted);
        g.part(sent, opened);
        g.solve();
        // 12 - 10 = 2 would say two were not accepted.
        assert_eq!(
            g.figure(accepted),
            Figure::hidden(Suppression::Complementary)
        );
        assert_eq!(g.figure(opened), Figure::shown(6));
        assert_eq!(g.figure(sent), Figure::shown(12));
        assert!(g.is_protected());
    }

    #[test]
    fn a_hidden_total_is_not_the_sum_of_shown_parts() {
        let mut g = Grid::new();
        let a = g.cell(6);
        let b = g.cell(7);
        let t = g.cell(13);
        let n = g.cell(3);
        let national = g.cell(16);
        g.sum(t, vec![a, b]);
        g.sum(national, vec![t, n]);
        g.solve();
        // n is small, so t is hidden, so a or b must be too.
        assert!(g.figure(t).value.is_none());
        assert!(g.figure(a).value.is_none() || g.figure(b).value.is_none());
        assert!(g.is_protected());
    }

    #[test]
    fn quartiles_need_five_conversations() {
        assert_eq!(DaysSpread::of(vec![1, 2, 3, 4]).median, None);
        let d = DaysSpread::of(vec![-10, 0, 5, 10, 40]);
        assert_eq!(d.conversations, Figure::shown(5));
        assert_eq!((d.q1, d.median, d.q3), (Some(0.0), Some(5.0), Some(10.0)));
    }

    proptest! {
        #[test]
        fn any_table_with_margins_ends_protected(
            rows in proptest::collection::vec(proptest::collection::vec(0i64..30, 3), 1..8)
        ) {
            // Rows x 3 measures, the third a part of the second, and a total per measure.
            let mut g = Grid::new();
            let cells: Vec<Vec<usize>> = rows.iter().map(|r| {
                let whole = r[1] + r[2];
                vec![g.cell(r[0]), g.cell(whole), g.cell(r[2])]
            }).collect();
            for m in 0..3 {
                let total: i64 = rows.iter().map(|r| if m == 1 { r[1] + r[2] } else { r[m] }).sum();
                let t = g.cell(total);
                g.sum(t, cells.iter().map(|c| c[m]).collect());
            }
            for c in &cells {
                g.part(c[1], c[2]);
            }
            g.solve();
            prop_assert!(g.is_protected());
            for (r, c) in rows.iter().zip(&cells) {
                if let Some(v) = g.figure(c[0]).value {
                    prop_assert_eq!(v, r[0]);
                    prop_assert!(v >= MIN_CELL);
                }
            }
        }
    }
}
