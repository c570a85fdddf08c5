//! The audit log as it is read back: who did what to which record, never the data itself.

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// One audit row, as read back.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor_user_id: Option<Uuid>,
    pub actor_org_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<Uuid>,
    /// For list answers: every target shown.
    pub target_ids: Option<Vec<Uuid>>,
    pub outcome: String,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}
