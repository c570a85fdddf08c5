//! Reading the audit log (administrators: their own organisation's actors; operator: all), in
//! `handover_app::audit_log`.

use crate::error::ApiResult;
use crate::extract::{ApiQuery, Auth};
use crate::paging::{Page, Paging};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use handover_app::audit_log as uc;
use handover_domain::audit::AuditEntry;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// e.g. `auth.login`, `user.create`.
    #[param(max_length = 64)]
    pub action: Option<String>,
    pub target_id: Option<Uuid>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

/// Audit events, newest first.
#[utoipa::path(operation_id = "list_audit_events", get, path = "/api/v1/audit-events", tag = "audit",
    security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, description = "The matching audit events", body = Page<AuditEntry>)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    let q = uc::AuditQuery {
        action: q.action,
        target_id: q.target_id,
        paging: Paging {
            limit: q.limit,
            offset: q.offset,
        },
    };
    Ok(Json(uc::list(&state, &auth, q).await?))
}
