//! User accounts as the API shows them (never with a password hash).

use crate::{OrgId, OrgKind, Role, UserId};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct User {
    pub id: UserId,
    pub organisation_id: OrgId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    /// Whether the user has set a password (accounts start without one).
    pub has_password: bool,
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// The verified caller of a request, loaded fresh from the database on every request so that a
/// deactivation or logout takes effect at once.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: UserId,
    pub session_id: uuid::Uuid,
    pub org_id: OrgId,
    pub org_kind: OrgKind,
    pub role: Role,
    /// Display name, for "changed by" lines in record histories.
    pub name: String,
    /// For a career centre: the reception centre it serves now, read with the caller on every
    /// request, so the relation functions of `policy` need no query of their own.
    pub serves: Option<OrgId>,
}

impl Caller {
    pub fn principal(&self) -> crate::policy::Principal {
        crate::policy::Principal {
            role: self.role,
            org_kind: self.org_kind,
        }
    }
}
