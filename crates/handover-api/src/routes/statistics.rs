//! Figures that show whether handovers happen, as JSON or CSV (`handover_app::statistics`).

use crate::error::ApiResult;
use crate::extract::{ApiQuery, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use handover_app::statistics::{self as uc, RowLabels, StatisticsQuery};
use handover_domain::OrgId;
use handover_domain::statistics::{Breakdown, Statistics, to_csv};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    #[default]
    Json,
    Csv,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FiguresQuery {
    /// The first month, `YYYY-MM` (default: eleven months before `to`).
    #[param(pattern = "^[0-9]{4}-[0-9]{2}$")]
    pub from: Option<String>,
    /// The last month, `YYYY-MM` (default: this month). At most 60 months in all.
    #[param(pattern = "^[0-9]{4}-[0-9]{2}$")]
    pub to: Option<String>,
    /// The rows: `month` (default), or for the directorate `centre`, `county`, `municipality`.
    pub by: Option<Breakdown>,
    /// One organisation's figures by month (a reception centre, a career centre: its county,
    /// or a municipality): one's own, or for the directorate any.
    pub of: Option<OrgId>,
    /// `json` (default) or `csv`.
    #[param(inline)]
    pub format: Option<Format>,
}

/// Handover figures: participants settled, handovers sent, opened within 7 days, accepted,
/// declined, sent with missing items (and which), conversations proposed, held and missed,
/// days from settlement to the conversation, and agreed actions done on time. No personal
/// data: a count under 5 is hidden (`suppressed: small`), and so is any count from which one
/// could be worked out (`suppressed: complementary`). Not audited: nothing in it is about a
/// person.
#[utoipa::path(operation_id = "get_handover_statistics", get, path = "/api/v1/statistics/handovers", tag = "statistics",
    security(("bearer" = [])),
    params(FiguresQuery),
    responses(
        (status = 200, description = "The table; with `format=csv` one line per row, the total and the national totals", content(
            (Statistics = "application/json"),
            (String = "text/csv"),
        )),
    ))]
pub async fn handovers(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<FiguresQuery>,
) -> ApiResult<Response> {
    let labels = RowLabels {
        total: "Totalt / Total".into(),
        unknown_county: "Ukjent fylke / Unknown county".into(),
    };
    let format = q.format.unwrap_or_default();
    let table = uc::table(
        &state,
        &auth,
        StatisticsQuery {
            from: q.from,
            to: q.to,
            by: q.by,
            of: q.of,
        },
        &labels,
    )
    .await?;
    Ok(match format {
        Format::Json => Json(table).into_response(),
        Format::Csv => csv(&table),
    })
}

fn csv(t: &Statistics) -> Response {
    let name = format!(
        "handover-figures-{}-{}-by-{}.csv",
        t.from,
        t.to,
        t.by.as_str()
    );
    let mut res = to_csv(t).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}
