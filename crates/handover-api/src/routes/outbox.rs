//! Dead-lettered e-mails for the operator (`handover_app::dead_letters`): list, queue again,
//! discard. Never a subject, a body or a whole address.

use crate::error::ApiResult;
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use handover_app::dead_letters as uc;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetter {
    pub id: i64,
    /// What the e-mail was: `handover_sent`, `conversation_invitation`, `setup`, ...
    pub kind: String,
    /// The domain of the recipient's address (never the address).
    pub recipient_domain: String,
    /// Delivery attempts made.
    pub attempts: i32,
    /// The last delivery error, the recipient's address replaced by `<recipient>`.
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetters {
    /// The newest 200 at most.
    pub items: Vec<DeadLetter>,
    /// How many there are in all.
    pub total: i64,
}

/// Dead-lettered e-mails, newest first (operator administrators).
#[utoipa::path(operation_id = "list_dead_letters", get, path = "/api/v1/outbox/dead-letters", tag = "outbox",
    security(("bearer" = [])),
    responses((status = 200, body = DeadLetters)))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<DeadLetters>> {
    let (items, total) = uc::list(&state, &auth).await?;
    Ok(Json(DeadLetters {
        items: items
            .into_iter()
            .map(|d| DeadLetter {
                id: d.id,
                kind: d.kind,
                recipient_domain: d.recipient_domain,
                attempts: d.attempts,
                reason: d.reason,
                created_at: d.created_at,
            })
            .collect(),
        total,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterIds {
    /// 1 to 500 ids from the list.
    #[schema(min_items = 1, max_items = 500)]
    pub ids: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Handled {
    /// The ids that were dead letters and are handled now; others given were left alone
    /// (already handled, or never dead).
    pub handled: Vec<i64>,
}

/// Queue dead letters again: delivered at once, with all attempts anew.
#[utoipa::path(operation_id = "requeue_dead_letters", post, path = "/api/v1/outbox/dead-letters/requeue", tag = "outbox",
    security(("bearer" = [])),
    request_body = DeadLetterIds,
    responses((status = 200, body = Handled)))]
pub async fn requeue(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<DeadLetterIds>,
) -> ApiResult<Json<Handled>> {
    let handled = uc::handle(&state, &auth, &req.ids, uc::Handling::Requeue).await?;
    Ok(Json(Handled { handled }))
}

/// Discard dead letters: never delivered, their text blanked.
#[utoipa::path(operation_id = "discard_dead_letters", post, path = "/api/v1/outbox/dead-letters/discard", tag = "outbox",
    security(("bearer" = [])),
    request_body = DeadLetterIds,
    responses((status = 200, body = Handled)))]
pub async fn discard(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<DeadLetterIds>,
) -> ApiResult<Json<Handled>> {
    let handled = uc::handle(&state, &auth, &req.ids, uc::Handling::Discard).await?;
    Ok(Json(Handled { handled }))
}
