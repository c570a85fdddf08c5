//! Agreed actions: the actions of a conversation's minutes, followed up by the organisation
//! responsible for each (in `handover_app::actions`).

use crate::answer::disclosed;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch};
use crate::paging::{Page, Paging};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use handover_app::actions as uc;
use handover_domain::conversation::{ActionStatus, ActionStatusChange, TrackedAction};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ActionQuery {
    pub status: Option<ActionStatus>,
    /// Only open actions whose due date has passed.
    #[serde(default)]
    pub overdue: bool,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

/// The agreed actions the caller's organisation is responsible for: open ones first, by due
/// date. The list is audited.
#[utoipa::path(operation_id = "list_agreed_actions", get, path = "/api/v1/agreed-actions", tag = "conversations",
    security(("bearer" = [])),
    params(ActionQuery),
    responses((status = 200, body = Page<TrackedAction>)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ActionQuery>,
) -> ApiResult<Json<Page<TrackedAction>>> {
    let q = uc::ActionQuery {
        status: q.status,
        overdue: q.overdue,
        paging: Paging {
            limit: q.limit,
            offset: q.offset,
        },
    };
    Ok(Json(uc::mine(&state, &auth, q).await?))
}

/// The actions agreed in a conversation's minutes, in their order, with where each stands.
#[utoipa::path(operation_id = "list_conversation_agreed_actions", get, path = "/api/v1/conversations/{id}/agreed-actions", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), Paging),
    responses((status = 200, body = Page<TrackedAction>)))]
pub async fn for_conversation(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<Page<TrackedAction>>> {
    Ok(Json(uc::for_conversation(&state, &auth, id, paging).await?))
}

/// Mark an agreed action done, dropped (with the reason) or open again. Only the organisation
/// responsible for it; requires `If-Match`.
#[utoipa::path(operation_id = "update_agreed_action", patch, path = "/api/v1/agreed-actions/{id}", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version edited")),
    request_body = ActionStatusChange,
    responses((status = 200, body = TrackedAction, headers(("ETag" = String)))))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    if_match: IfMatch,
    ApiJson(change): ApiJson<ActionStatusChange>,
) -> ApiResult<Response> {
    let d = uc::set_status(&state, &auth, id, if_match.precondition(), change).await?;
    Ok(disclosed(d))
}
