//! The figures on the web: a period and a breakdown to choose, charts drawn on the server as
//! SVG (no script), each with a table of the same numbers beside it for a screen reader, the
//! full table, and the CSV. The use case is the API's (`handover_app::statistics`).

use super::{PageResult, page_with};
use crate::WebState;
use crate::error::WebError;
use crate::i18n::Messages;
use crate::session::Staff;
use crate::view::{FormErrors, Opt, Shell};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use handover_app::AppError;
use handover_app::statistics::{self as uc, RowLabels, StatisticsQuery};
use handover_domain::statistics::{Breakdown, Figure, Measure, Statistics, StatisticsRow, to_csv};
use handover_domain::{OrgId, OrgKind, Role};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct FiguresForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    by: String,
    #[serde(default)]
    of: String,
}

/// One bar of a chart, placed.
pub struct Bar {
    pub y: i64,
    pub width: i64,
    pub class: &'static str,
    /// The figure as the table says it, written after the bar.
    pub text: String,
    pub text_x: i64,
}

/// One row of a chart: its label and its bars.
pub struct ChartRow {
    pub label: String,
    pub label_y: i64,
    pub bars: Vec<Bar>,
}

/// A horizontal bar chart of a few measures over the table's rows.
pub struct Chart {
    pub id: String,
    pub title: String,
    pub measures: Vec<(Measure, String, &'static str)>,
    pub rows: Vec<ChartRow>,
    pub height: i64,
    /// The figures of the chart as a table: row label, then one text per measure.
    pub table: Vec<(String, Vec<String>)>,
}

const LABEL_W: i64 = 230;
const BAR_W: i64 = 420;
pub const CHART_W: i64 = LABEL_W + BAR_W + 60;
const BAR_H: i64 = 14;
const ROW_GAP: i64 = 14;
const CLASSES: [&str; 3] = ["app-bar-a", "app-bar-b", "app-bar-c"];

fn chart(
    id: &str,
    title: String,
    m: &Messages,
    rows: &[&StatisticsRow],
    measures: &[Measure],
) -> Chart {
    let max = rows
        .iter()
        .flat_map(|r| measures.iter().filter_map(|x| r.figure(*x).value))
        .max()
        .unwrap_or(0)
        .max(1);
    let mut y = 8;
    let mut out = Vec::new();
    let mut table = Vec::new();
    for r in rows {
        let mut bars = Vec::new();
        let top = y;
        for (i, x) in measures.iter().enumerate() {
            let f: Figure = r.figure(*x);
            let width = f.value.map_or(0, |v| (v * BAR_W + max / 2) / max);
            bars.push(Bar {
                y,
                width,
                class: CLASSES[i % CLASSES.len()],
                text: f.text(),
                text_x: LABEL_W + width + 6,
            });
            y += BAR_H + 2;
        }
        out.push(ChartRow {
            label: r.label.clone(),
            label_y: top + (y - top) / 2 + 4,
            bars,
        });
        table.push((
            r.label.clone(),
            measures.iter().map(|x| r.figure(*x).text()).collect(),
        ));
        y += ROW_GAP;
    }
    Chart {
        id: id.to_owned(),
        title,
        measures: measures
            .iter()
            .enumerate()
            .map(|(i, x)| {
                (
                    *x,
                    m.t(&format!("measure.{}", x.as_str())).to_owned(),
                    CLASSES[i % CLASSES.len()],
                )
            })
            .collect(),
        rows: out,
        height: y,
        table,
    }
}

#[derive(Template)]
#[template(path = "statistics.html")]
struct FiguresPage {
    shell: Shell,
    errors: FormErrors,
    form: FiguresForm,
    breakdowns: Vec<Opt>,
    scopes: Vec<Opt>,
    table: Option<Statistics>,
    charts: Vec<Chart>,
    csv_link: String,
    chart_width: i64,
}

impl FiguresPage {
    fn measure_label(&self, m: &Measure) -> String {
        self.shell.t(&format!("measure.{}", m.as_str())).to_owned()
    }

    fn cell(&self, r: &StatisticsRow, m: &Measure) -> String {
        r.figure(*m).text()
    }

    fn spread(&self, r: &StatisticsRow) -> String {
        let d = &r.days_settlement_to_conversation;
        match (d.q1, d.median, d.q3) {
            (Some(a), Some(b), Some(c)) => format!("{a} / {b} / {c}"),
            _ => d.conversations.text(),
        }
    }
}

fn labels(m: &Messages) -> RowLabels {
    RowLabels {
        total: m.t("statistics.total").to_owned(),
        unknown_county: m.t("statistics.unknown_county").to_owned(),
    }
}

fn query(f: &FiguresForm) -> Result<StatisticsQuery, ()> {
    let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let by = match f.by.trim() {
        "" => None,
        s => Some(s.parse::<Breakdown>().map_err(|_| ())?),
    };
    let of = match f.of.trim() {
        "" => None,
        s => Some(OrgId(s.parse().map_err(|_| ())?)),
    };
    Ok(StatisticsQuery {
        from: opt(&f.from),
        to: opt(&f.to),
        by,
        of,
    })
}

fn is_directorate(staff: &Staff) -> bool {
    staff.caller.role == Role::DirectorateStaff
}

async fn scope_options(
    state: &WebState,
    staff: &Staff,
    selected: &str,
) -> Result<Vec<Opt>, WebError> {
    let m = staff.lang.messages();
    let mut out = vec![Opt {
        value: String::new(),
        text: m.t("statistics.national").to_owned(),
        selected: selected.is_empty(),
    }];
    let orgs = if is_directorate(staff) {
        let mut all = Vec::new();
        for kind in [OrgKind::ReceptionCentre, OrgKind::CareerCentre] {
            let page = handover_app::orgs::list(
                &state.app,
                staff,
                handover_app::orgs::OrgQuery {
                    kind: Some(kind),
                    paging: handover_domain::Paging {
                        limit: Some(200),
                        offset: None,
                    },
                    ..Default::default()
                },
            )
            .await?;
            all.extend(page.items.into_iter().map(|o| (o.id, o.name)));
        }
        all
    } else {
        let me = handover_app::orgs::get(&state.app, staff, staff.caller.org_id.0).await?;
        vec![(me.id, me.name)]
    };
    out.extend(orgs.into_iter().map(|(id, name)| Opt {
        selected: id.0.to_string() == selected,
        value: id.0.to_string(),
        text: name,
    }));
    Ok(out)
}

fn breakdown_options(staff: &Staff, selected: &str) -> Vec<Opt> {
    let m = staff.lang.messages();
    let all: &[Breakdown] = if is_directorate(staff) {
        Breakdown::ALL
    } else {
        &[Breakdown::Month]
    };
    all.iter()
        .map(|b| Opt {
            value: b.as_str().to_owned(),
            text: m.t(&format!("breakdown.{}", b.as_str())).to_owned(),
            selected: b.as_str() == selected || (selected.is_empty() && *b == Breakdown::Month),
        })
        .collect()
}

fn charts(m: &Messages, t: &Statistics) -> Vec<Chart> {
    let rows: Vec<&StatisticsRow> = t.rows.iter().collect();
    vec![
        chart(
            "chart-sent",
            m.t("statistics.chart_sent").to_owned(),
            m,
            &rows,
            &[
                Measure::HandoversSent,
                Measure::OpenedWithin7Days,
                Measure::Accepted,
            ],
        ),
        chart(
            "chart-conversations",
            m.t("statistics.chart_conversations").to_owned(),
            m,
            &rows,
            &[
                Measure::ConversationsProposed,
                Measure::ConversationsHeld,
                Measure::ConversationsNoShow,
            ],
        ),
    ]
}

fn csv_link(f: &FiguresForm) -> String {
    let enc = crate::session::encode_component;
    format!(
        "/statistics.csv?from={}&to={}&by={}&of={}",
        enc(f.from.trim()),
        enc(f.to.trim()),
        enc(f.by.trim()),
        enc(f.of.trim())
    )
}

pub async fn figures(
    State(state): State<WebState>,
    staff: Staff,
    Query(form): Query<FiguresForm>,
) -> PageResult {
    let m = staff.lang.messages();
    let mut errors = FormErrors::default();
    let q = query(&form).map_err(|_| WebError::BadForm)?;
    let table = match uc::table(&state.app, &staff, q, &labels(m)).await {
        Ok(t) => Some(t),
        Err(AppError::Validation(errs)) => {
            errors = FormErrors::from_app(m, &errs, &["from", "to", "of"]);
            None
        }
        Err(e) => return Err(e.into()),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let charts = table.as_ref().map(|t| charts(m, t)).unwrap_or_default();
    // The form shows the period the figures are for, also when it was left to the default.
    let mut form = form;
    if let Some(t) = &table {
        form.from = t.from.clone();
        form.to = t.to.clone();
    }
    page_with(
        status,
        &FiguresPage {
            shell: Shell::staff(&staff, "/statistics", m.t("statistics.title").to_owned()),
            errors: errors.labelled(m, "statistics."),
            breakdowns: breakdown_options(&staff, form.by.trim()),
            scopes: scope_options(&state, &staff, form.of.trim()).await?,
            csv_link: csv_link(&form),
            form,
            table,
            charts,
            chart_width: CHART_W,
        },
    )
}

/// The same table as CSV, for the signed-in user.
pub async fn figures_csv(
    State(state): State<WebState>,
    staff: Staff,
    Query(form): Query<FiguresForm>,
) -> PageResult {
    let m = staff.lang.messages();
    let q = query(&form).map_err(|_| WebError::BadForm)?;
    let t = match uc::table(&state.app, &staff, q, &labels(m)).await {
        Ok(t) => t,
        Err(AppError::Validation(_)) => return Err(WebError::BadForm),
        Err(e) => return Err(e.into()),
    };
    let mut res = to_csv(&t).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"figures-{}-{}-{}.csv\"",
        t.from,
        t.to,
        t.by.as_str()
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
