//! Organisation kinds and roles, and which role fits which kind.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// The kind of an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// The organisation that runs the service. Its administrators manage every organisation.
    Operator,
    /// An integration reception centre (integreringsmottak): Kristiansand or Steinkjer.
    ReceptionCentre,
    /// A county career centre (karrieresenter) that gives guidance in one reception centre.
    CareerCentre,
    /// A settlement municipality, identified by its four-digit municipality number.
    Municipality,
    /// The Directorate of Integration and Diversity (IMDi): sees aggregated figures only.
    Directorate,
}

/// A user's role. A user has exactly one role in exactly one organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages users (and, in the operator organisation, organisations). Never sees participant data.
    Admin,
    /// Staff of a reception centre: enters participants' full-time-programme records.
    CentreStaff,
    /// Counsellor of a career centre: writes career-guidance summaries.
    CareerCounsellor,
    /// Introduction-programme staff of a municipality: receives handover files.
    MunicipalityStaff,
    /// Staff of the directorate (IMDi): sees aggregated figures, never a participant.
    DirectorateStaff,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::CentreStaff,
        Role::CareerCounsellor,
        Role::MunicipalityStaff,
        Role::DirectorateStaff,
    ];

    /// Whether a user with this role may belong to an organisation of `kind`.
    pub fn fits(self, kind: OrgKind) -> bool {
        matches!(
            (self, kind),
            (Role::Admin, _)
                | (Role::CentreStaff, OrgKind::ReceptionCentre)
                | (Role::CareerCounsellor, OrgKind::CareerCentre)
                | (Role::MunicipalityStaff, OrgKind::Municipality)
                | (Role::DirectorateStaff, OrgKind::Directorate)
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::CentreStaff => "centre_staff",
            Role::CareerCounsellor => "career_counsellor",
            Role::MunicipalityStaff => "municipality_staff",
            Role::DirectorateStaff => "directorate_staff",
        }
    }
}

impl OrgKind {
    pub const ALL: [OrgKind; 5] = [
        OrgKind::Operator,
        OrgKind::ReceptionCentre,
        OrgKind::CareerCentre,
        OrgKind::Municipality,
        OrgKind::Directorate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Operator => "operator",
            OrgKind::ReceptionCentre => "reception_centre",
            OrgKind::CareerCentre => "career_centre",
            OrgKind::Municipality => "municipality",
            OrgKind::Directorate => "directorate",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown value {0:?}")]
pub struct UnknownValue(pub String);

impl FromStr for Role {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownValue(s.to_owned()))
    }
}

impl FromStr for OrgKind {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrgKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownValue(s.to_owned()))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for OrgKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_fit_their_kinds_only() {
        assert!(Role::CentreStaff.fits(OrgKind::ReceptionCentre));
        assert!(!Role::CentreStaff.fits(OrgKind::Municipality));
        assert!(!Role::CareerCounsellor.fits(OrgKind::ReceptionCentre));
        assert!(Role::CareerCounsellor.fits(OrgKind::CareerCentre));
        assert!(!Role::MunicipalityStaff.fits(OrgKind::Operator));
        assert!(Role::MunicipalityStaff.fits(OrgKind::Municipality));
        assert!(Role::DirectorateStaff.fits(OrgKind::Directorate));
        assert!(!Role::DirectorateStaff.fits(OrgKind::Municipality));
        assert!(!Role::MunicipalityStaff.fits(OrgKind::Directorate));
        for kind in OrgKind::ALL {
            assert!(Role::Admin.fits(kind));
        }
    }

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().ok(), Some(r));
            assert_eq!(
                serde_json::to_value(r).ok(),
                Some(serde_json::json!(r.as_str()))
            );
        }
        for k in OrgKind::ALL {
            assert_eq!(k.as_str().parse::<OrgKind>().ok(), Some(k));
        }
        assert!("root".parse::<Role>().is_err());
    }
}

/// An organisation as the register holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Organisation {
    pub id: crate::OrgId,
    pub kind: OrgKind,
    pub name: String,
    /// Four-digit municipality number (kommunenummer); only for municipalities.
    pub municipality_number: Option<String>,
    pub county: Option<String>,
    /// For a career centre: the reception centre it serves.
    pub serves_reception_centre_id: Option<crate::OrgId>,
    /// For a reception centre: the career centre that serves it.
    pub served_by_career_centre_id: Option<crate::OrgId>,
    pub active: bool,
    /// Every user of the organisation must sign in with a second factor (administrators must
    /// anywhere).
    pub require_second_factor: bool,
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
}

/// Is `s` a four-digit municipality number?
pub fn is_municipality_number(s: &str) -> bool {
    s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())
}
