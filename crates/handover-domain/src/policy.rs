//! The access policy: one table answers "may this caller do this to this resource".
//!
//! Deny by default. A role without any grant for an action gets `Forbidden` (403): the
//! action is closed to it whatever the target. A role with grants whose scope does not match
//! the target's relation to the caller gets `NotFound` (404), so another organisation's records
//! are indistinguishable from records that do not exist.

use crate::org::{OrgKind, Role};
use serde::Serialize;

/// Everything a caller can ask the service to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read one's own account, organisation and role.
    MeRead,
    /// Change one's own password.
    OwnPasswordChange,
    /// Set up, replace or remove one's own second factor (authenticator, recovery codes).
    OwnSecondFactor,
    /// List or read organisations (the register is not personal data).
    OrgRead,
    /// Create an organisation.
    OrgCreate,
    /// Rename, deactivate, or set the career centre serving a reception centre.
    OrgUpdate,
    /// List or read user accounts.
    UserRead,
    /// Create a user account.
    UserCreate,
    /// Change a user's name, role or active flag.
    UserUpdate,
    /// Issue a one-time password-setup link for a user.
    UserPasswordSetupIssue,
    /// Read the audit log.
    AuditRead,
    /// Configure the organisation's sign-in: its identity provider (single sign-on) and whether
    /// local passwords are allowed.
    SignInManage,
    /// List dead-lettered e-mails and queue them again or discard them (the operator).
    OutboxManage,
    /// Read a participant's live record (identity, mapping, Norwegian training, elements, placements).
    ParticipantRead,
    /// Create a participant or change any part of their record.
    ParticipantWrite,
    /// Read the qualification-pathway catalogue.
    CatalogueRead,
    /// Add, change, retire or delete catalogue offerings.
    CatalogueManage,
    /// Read a participant's career-guidance summaries.
    GuidanceRead,
    /// Write, change and finalise career-guidance summaries.
    GuidanceWrite,
    /// Settlement decision, consent, health and adaptation needs; create, send and cancel
    /// handovers (the sending centre).
    HandoverPrepare,
    /// Read a handover, its history and its file (both sides).
    HandoverRead,
    /// Accept, decline or complete a handover, and report its outcome after settlement (the
    /// receiving municipality).
    HandoverRespond,
    /// Read the outcome the municipality reported (the integration plan's date and end goal).
    OutcomeRead,
    /// Export everything held about a participant (their right of access).
    ParticipantExport,
    /// Erase a participant before the retention date at their documented request (their right
    /// to erasure): the centre that holds the record.
    ParticipantErase,
    /// Read transfer conversations (and download their calendar files).
    ConversationRead,
    /// Propose, accept, reschedule, cancel transfer conversations and record minutes.
    ConversationManage,
    /// Follow up the actions agreed in a conversation that the caller's organisation is
    /// responsible for: list them, mark them done or dropped, or open them again.
    AgreedActionFollowUp,
    /// Read the aggregated figures (no personal data): an organisation its own and the national
    /// totals, the directorate every breakdown.
    StatisticsRead,
}

impl Action {
    pub const ALL: [Action; 29] = [
        Action::MeRead,
        Action::OwnPasswordChange,
        Action::OwnSecondFactor,
        Action::OrgRead,
        Action::OrgCreate,
        Action::OrgUpdate,
        Action::UserRead,
        Action::UserCreate,
        Action::UserUpdate,
        Action::UserPasswordSetupIssue,
        Action::AuditRead,
        Action::SignInManage,
        Action::OutboxManage,
        Action::ParticipantRead,
        Action::ParticipantWrite,
        Action::CatalogueRead,
        Action::CatalogueManage,
        Action::GuidanceRead,
        Action::GuidanceWrite,
        Action::HandoverPrepare,
        Action::HandoverRead,
        Action::HandoverRespond,
        Action::OutcomeRead,
        Action::ParticipantExport,
        Action::ParticipantErase,
        Action::ConversationRead,
        Action::ConversationManage,
        Action::AgreedActionFollowUp,
        Action::StatisticsRead,
    ];
}

/// How the target of a request relates to the caller's organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The target belongs to (or is) the caller's organisation.
    Own,
    /// The caller's career centre serves the reception centre that owns the target.
    Serving,
    /// The target was handed over to the caller's municipality.
    Recipient,
    /// The target is an administrator account of another organisation (or, for a create, would
    /// be one). See [`account_relation`].
    AdminAccount,
    /// None of the above.
    Unrelated,
}

/// Which targets a grant covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Any target; the action is not tied to an organisation's records.
    Any,
    /// Targets of the caller's own organisation.
    Own,
    /// Targets of the reception centre the caller's career centre serves.
    Serving,
    /// Targets handed over to the caller's municipality.
    Recipient,
    /// Any target, but only for callers in the operator organisation.
    Operator,
    /// Administrator accounts of other organisations, for callers in the operator organisation:
    /// the operator bootstraps an organisation (creates its administrators, sends their setup
    /// e-mail, corrects or deactivates them) but never holds a staff account inside it, since a
    /// staff account reads participant data.
    OperatorAdmins,
}

/// One role's permission for one action.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Grant {
    pub role: Role,
    pub scope: Scope,
}

/// The grants of one action.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rule {
    pub action: Action,
    pub grants: &'static [Grant],
}

const fn g(role: Role, scope: Scope) -> Grant {
    Grant { role, scope }
}

use Role::{Admin, CareerCounsellor, CentreStaff, DirectorateStaff, MunicipalityStaff};

const EVERY_ROLE_ANY: &[Grant] = &[
    g(Admin, Scope::Any),
    g(CentreStaff, Scope::Any),
    g(CareerCounsellor, Scope::Any),
    g(MunicipalityStaff, Scope::Any),
    g(DirectorateStaff, Scope::Any),
];
const ADMIN_OWN_OR_OPERATOR: &[Grant] = &[g(Admin, Scope::Own), g(Admin, Scope::Operator)];
const ADMIN_OWN_OR_OPERATOR_ADMINS: &[Grant] =
    &[g(Admin, Scope::Own), g(Admin, Scope::OperatorAdmins)];
const OPERATOR_ADMIN: &[Grant] = &[g(Admin, Scope::Operator)];

const fn r(action: Action, grants: &'static [Grant]) -> Rule {
    Rule { action, grants }
}

/// The policy table. `docs/security.md` shows the same table; a test keeps them in step.
pub const POLICY: &[Rule] = &[
    r(Action::MeRead, EVERY_ROLE_ANY),
    r(Action::OwnPasswordChange, EVERY_ROLE_ANY),
    r(Action::OwnSecondFactor, EVERY_ROLE_ANY),
    r(Action::OrgRead, EVERY_ROLE_ANY),
    r(Action::OrgCreate, OPERATOR_ADMIN),
    r(Action::OrgUpdate, OPERATOR_ADMIN),
    r(Action::UserRead, ADMIN_OWN_OR_OPERATOR),
    r(Action::UserCreate, ADMIN_OWN_OR_OPERATOR_ADMINS),
    r(Action::UserUpdate, ADMIN_OWN_OR_OPERATOR_ADMINS),
    r(Action::UserPasswordSetupIssue, ADMIN_OWN_OR_OPERATOR_ADMINS),
    r(Action::AuditRead, ADMIN_OWN_OR_OPERATOR),
    r(Action::SignInManage, ADMIN_OWN_OR_OPERATOR),
    r(Action::OutboxManage, OPERATOR_ADMIN),
    r(
        Action::ParticipantRead,
        &[
            g(CentreStaff, Scope::Own),
            g(CareerCounsellor, Scope::Serving),
        ],
    ),
    r(Action::ParticipantWrite, &[g(CentreStaff, Scope::Own)]),
    r(Action::CatalogueRead, EVERY_ROLE_ANY),
    r(Action::CatalogueManage, OPERATOR_ADMIN),
    r(
        Action::GuidanceRead,
        &[
            g(CentreStaff, Scope::Own),
            g(CareerCounsellor, Scope::Serving),
        ],
    ),
    r(
        Action::GuidanceWrite,
        &[g(CareerCounsellor, Scope::Serving)],
    ),
    r(Action::HandoverPrepare, &[g(CentreStaff, Scope::Own)]),
    r(
        Action::HandoverRead,
        &[
            g(CentreStaff, Scope::Own),
            g(MunicipalityStaff, Scope::Recipient),
        ],
    ),
    r(
        Action::HandoverRespond,
        &[g(MunicipalityStaff, Scope::Recipient)],
    ),
    // The serving career centre learns what came of its guidance.
    r(
        Action::OutcomeRead,
        &[
            g(CentreStaff, Scope::Own),
            g(CareerCounsellor, Scope::Serving),
            g(MunicipalityStaff, Scope::Recipient),
        ],
    ),
    r(Action::ParticipantExport, &[g(CentreStaff, Scope::Own)]),
    r(Action::ParticipantErase, &[g(CentreStaff, Scope::Own)]),
    r(
        Action::ConversationRead,
        &[
            g(CentreStaff, Scope::Own),
            g(CareerCounsellor, Scope::Serving),
            g(MunicipalityStaff, Scope::Recipient),
        ],
    ),
    r(
        Action::ConversationManage,
        &[
            g(CentreStaff, Scope::Own),
            g(MunicipalityStaff, Scope::Recipient),
        ],
    ),
    // The target of a follow-up is the responsible organisation: its own staff.
    r(
        Action::AgreedActionFollowUp,
        &[
            g(CentreStaff, Scope::Own),
            g(CareerCounsellor, Scope::Own),
            g(MunicipalityStaff, Scope::Own),
        ],
    ),
    // The target is the organisation whose figures are asked for; the national totals have no
    // target, and the breakdowns over every organisation need `Any`.
    r(
        Action::StatisticsRead,
        &[
            g(CentreStaff, Scope::Own),
            g(CareerCounsellor, Scope::Own),
            g(MunicipalityStaff, Scope::Own),
            g(DirectorateStaff, Scope::Any),
        ],
    ),
];

/// The outcome of a policy decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// The role may never do this: 403.
    Forbidden,
    /// The role may do this, but not to this target: 404.
    NotFound,
}

/// Who is asking, as far as the policy cares.
#[derive(Debug, Clone, Copy)]
pub struct Principal {
    pub role: Role,
    pub org_kind: OrgKind,
}

fn rule(action: Action) -> Option<&'static Rule> {
    POLICY.iter().find(|r| r.action == action)
}

/// The grants that can apply to this caller for this action.
fn applicable(p: Principal, action: Action) -> impl Iterator<Item = &'static Grant> {
    rule(action)
        .map(|r| r.grants)
        .unwrap_or(&[])
        .iter()
        .filter(move |gr| {
            gr.role == p.role
                && (!matches!(gr.scope, Scope::Operator | Scope::OperatorAdmins)
                    || p.org_kind == OrgKind::Operator)
        })
}

/// May this caller perform `action` at all (before any target is known)? Used for routes and
/// list endpoints, whose results are then narrowed by [`list_scope`].
pub fn role_may(p: Principal, action: Action) -> Decision {
    if applicable(p, action).next().is_some() {
        Decision::Allow
    } else {
        Decision::Forbidden
    }
}

/// May this caller perform `action` on a target with the given relation to them?
pub fn decide(p: Principal, action: Action, relation: Relation) -> Decision {
    let mut any = false;
    for gr in applicable(p, action) {
        any = true;
        let ok = match gr.scope {
            Scope::Any | Scope::Operator => true,
            Scope::Own => relation == Relation::Own,
            Scope::Serving => relation == Relation::Serving,
            Scope::Recipient => relation == Relation::Recipient,
            Scope::OperatorAdmins => relation == Relation::AdminAccount,
        };
        if ok {
            return Decision::Allow;
        }
    }
    if any {
        Decision::NotFound
    } else {
        Decision::Forbidden
    }
}

// How each kind of target relates to the caller: one pure function per kind, used by every
// check of a single target and mirrored by the list queries' scopes (which take the same
// `Caller` facts: its organisation and the centre it serves).

/// An organisation, or a record that belongs to one and to nobody else (an organisation's
/// audit log).
pub fn organisation_relation(c: &crate::Caller, org: crate::OrgId) -> Relation {
    if org == c.org_id {
        Relation::Own
    } else {
        Relation::Unrelated
    }
}

/// A participant, and everything recorded about them (their record's parts, consents,
/// settlement, guidance summaries): owned by their reception centre, served by the career
/// centre that serves it.
pub fn participant_relation(c: &crate::Caller, reception_centre: crate::OrgId) -> Relation {
    if reception_centre == c.org_id {
        Relation::Own
    } else if c.serves == Some(reception_centre) {
        Relation::Serving
    } else {
        Relation::Unrelated
    }
}

/// A handover: owned by its reception centre; the municipality's once a file version was sent
/// (before that it does not exist for the municipality).
pub fn handover_relation(
    c: &crate::Caller,
    reception_centre: crate::OrgId,
    municipality: crate::OrgId,
    sent: bool,
) -> Relation {
    if reception_centre == c.org_id {
        Relation::Own
    } else if municipality == c.org_id && sent {
        Relation::Recipient
    } else {
        Relation::Unrelated
    }
}

/// A transfer conversation, through its handover: as the handover, and also the career centre
/// that serves the handover's reception centre now.
pub fn conversation_relation(
    c: &crate::Caller,
    reception_centre: crate::OrgId,
    municipality: crate::OrgId,
    sent: bool,
) -> Relation {
    match handover_relation(c, reception_centre, municipality, sent) {
        Relation::Unrelated if c.serves == Some(reception_centre) => Relation::Serving,
        r => r,
    }
}

/// How a user account (existing, or to be created) relates to the caller: `Own` in the caller's
/// organisation; `AdminAccount` when it is an administrator account of another organisation
/// and stays one (`role_after` is the role it has after the change, if any); else `Unrelated`.
pub fn account_relation(
    caller_org: crate::OrgId,
    target_org: crate::OrgId,
    role_now: Role,
    role_after: Option<Role>,
) -> Relation {
    if caller_org == target_org {
        Relation::Own
    } else if role_now == Admin && role_after.is_none_or(|r| r == Admin) {
        Relation::AdminAccount
    } else {
        Relation::Unrelated
    }
}

/// How far a list endpoint may reach for this caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListScope {
    Everything,
    /// Only records of the caller's own organisation (and, where the action allows it, of
    /// organisations related by `Serving` / `Recipient`).
    Related {
        own: bool,
        serving: bool,
        recipient: bool,
    },
    Nothing,
}

pub fn list_scope(p: Principal, action: Action) -> ListScope {
    let (mut own, mut serving, mut recipient, mut any) = (false, false, false, false);
    let mut granted = false;
    for gr in applicable(p, action) {
        granted = true;
        match gr.scope {
            Scope::Any | Scope::Operator => any = true,
            Scope::Own => own = true,
            Scope::Serving => serving = true,
            Scope::Recipient => recipient = true,
            // Lists of accounts are governed by `UserRead`; this scope names single targets.
            Scope::OperatorAdmins => {}
        }
    }
    match (granted, any) {
        (false, _) => ListScope::Nothing,
        (true, true) => ListScope::Everything,
        (true, false) => ListScope::Related {
            own,
            serving,
            recipient,
        },
    }
}

/// The policy table as Markdown, for `docs/security.md` (a test keeps the two identical).
pub fn markdown_table() -> String {
    let roles = Role::ALL;
    let mut out = String::from("| action |");
    for r in roles {
        out.push_str(&format!(" {} |", r.as_str()));
    }
    out.push_str("\n|---|");
    for _ in roles {
        out.push_str("---|");
    }
    out.push('\n');
    for rule in POLICY {
        let name = serde_variant(&rule.action);
        out.push_str(&format!("| `{name}` |"));
        for r in roles {
            let scopes: Vec<&str> = rule
                .grants
                .iter()
                .filter(|g| g.role == r)
                .map(|g| match g.scope {
                    Scope::Any => "any",
                    Scope::Own => "own",
                    Scope::Serving => "serving",
                    Scope::Recipient => "recipient",
                    Scope::Operator => "operator",
                    Scope::OperatorAdmins => "operator (admins)",
                })
                .collect();
            let cell = if scopes.is_empty() {
                "—".to_owned()
            } else {
                scopes.join(", ")
            };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}

fn serde_variant<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn p(role: Role, org_kind: OrgKind) -> Principal {
        Principal { role, org_kind }
    }

    #[test]
    fn every_action_has_exactly_one_rule() {
        for a in Action::ALL {
            assert_eq!(POLICY.iter().filter(|r| r.action == a).count(), 1, "{a:?}");
        }
        assert_eq!(POLICY.len(), Action::ALL.len());
    }

    #[test]
    fn local_admin_manages_own_users_only() {
        let admin = p(Admin, OrgKind::ReceptionCentre);
        assert_eq!(
            decide(admin, Action::UserUpdate, Relation::Own),
            Decision::Allow
        );
        assert_eq!(
            decide(admin, Action::UserUpdate, Relation::Unrelated),
            Decision::NotFound
        );
        assert_eq!(role_may(admin, Action::OrgCreate), Decision::Forbidden);
        assert_eq!(
            list_scope(admin, Action::UserRead),
            ListScope::Related {
                own: true,
                serving: false,
                recipient: false
            }
        );
    }

    #[test]
    fn operator_admin_bootstraps_organisations_but_holds_no_staff_account() {
        let op = p(Admin, OrgKind::Operator);
        for a in [
            Action::UserCreate,
            Action::UserUpdate,
            Action::UserPasswordSetupIssue,
        ] {
            assert_eq!(decide(op, a, Relation::AdminAccount), Decision::Allow);
            assert_eq!(decide(op, a, Relation::Unrelated), Decision::NotFound);
            assert_eq!(decide(op, a, Relation::Own), Decision::Allow);
            // A local administrator never reaches another organisation's administrators.
            let local = p(Admin, OrgKind::ReceptionCentre);
            assert_eq!(decide(local, a, Relation::AdminAccount), Decision::NotFound);
        }
        assert_eq!(
            decide(op, Action::UserRead, Relation::Unrelated),
            Decision::Allow
        );
        let (a, b) = (crate::OrgId::new(), crate::OrgId::new());
        assert_eq!(account_relation(a, a, CentreStaff, None), Relation::Own);
        assert_eq!(account_relation(a, b, Admin, None), Relation::AdminAccount);
        assert_eq!(
            account_relation(a, b, Admin, Some(Admin)),
            Relation::AdminAccount
        );
        // Demoting another organisation's administrator would turn it into a staff account.
        assert_eq!(
            account_relation(a, b, Admin, Some(CentreStaff)),
            Relation::Unrelated
        );
        assert_eq!(
            account_relation(a, b, CentreStaff, None),
            Relation::Unrelated
        );
        assert_eq!(role_may(op, Action::OrgCreate), Decision::Allow);
        assert_eq!(list_scope(op, Action::UserRead), ListScope::Everything);
    }

    #[test]
    fn staff_roles_never_administer() {
        for role in [CentreStaff, CareerCounsellor, MunicipalityStaff] {
            for kind in OrgKind::ALL {
                let who = p(role, kind);
                for a in [
                    Action::UserRead,
                    Action::UserCreate,
                    Action::UserUpdate,
                    Action::UserPasswordSetupIssue,
                    Action::OrgCreate,
                    Action::OrgUpdate,
                    Action::AuditRead,
                    Action::SignInManage,
                ] {
                    assert_eq!(
                        decide(who, a, Relation::Own),
                        Decision::Forbidden,
                        "{role:?} {a:?}"
                    );
                    assert_eq!(list_scope(who, a), ListScope::Nothing);
                }
            }
        }
    }

    #[test]
    fn participants_are_for_their_centre_and_its_career_centre() {
        let staff = p(CentreStaff, OrgKind::ReceptionCentre);
        let counsellor = p(CareerCounsellor, OrgKind::CareerCentre);
        assert_eq!(
            decide(staff, Action::ParticipantWrite, Relation::Own),
            Decision::Allow
        );
        assert_eq!(
            decide(staff, Action::ParticipantRead, Relation::Unrelated),
            Decision::NotFound
        );
        assert_eq!(
            decide(counsellor, Action::ParticipantRead, Relation::Serving),
            Decision::Allow
        );
        assert_eq!(
            decide(counsellor, Action::ParticipantRead, Relation::Unrelated),
            Decision::NotFound
        );
        assert_eq!(
            decide(counsellor, Action::ParticipantWrite, Relation::Serving),
            Decision::Forbidden
        );
        for role in [Admin, MunicipalityStaff] {
            let who = p(role, OrgKind::Municipality);
            assert_eq!(
                decide(who, Action::ParticipantRead, Relation::Own),
                Decision::Forbidden
            );
            assert_eq!(
                decide(who, Action::ParticipantRead, Relation::Recipient),
                Decision::Forbidden
            );
        }
        assert_eq!(
            list_scope(counsellor, Action::ParticipantRead),
            ListScope::Related {
                own: false,
                serving: true,
                recipient: false
            }
        );
    }

    fn caller(org: crate::OrgId, serves: Option<crate::OrgId>) -> crate::Caller {
        crate::Caller {
            user_id: crate::UserId::new(),
            session_id: uuid::Uuid::new_v4(),
            org_id: org,
            org_kind: OrgKind::CareerCentre,
            role: CareerCounsellor,
            name: "V".into(),
            serves,
        }
    }

    #[test]
    fn relations_of_each_kind_of_target() {
        let (me, centre, other, muni) = (
            crate::OrgId::new(),
            crate::OrgId::new(),
            crate::OrgId::new(),
            crate::OrgId::new(),
        );
        let serving = caller(me, Some(centre));
        let lone = caller(me, None);
        assert_eq!(participant_relation(&serving, centre), Relation::Serving);
        assert_eq!(participant_relation(&serving, other), Relation::Unrelated);
        assert_eq!(participant_relation(&lone, centre), Relation::Unrelated);
        assert_eq!(
            participant_relation(&caller(centre, None), centre),
            Relation::Own
        );
        let m = caller(muni, None);
        assert_eq!(
            handover_relation(&m, centre, muni, true),
            Relation::Recipient
        );
        assert_eq!(
            handover_relation(&m, centre, muni, false),
            Relation::Unrelated
        );
        assert_eq!(
            handover_relation(&serving, centre, muni, true),
            Relation::Unrelated
        );
        assert_eq!(
            conversation_relation(&serving, centre, muni, true),
            Relation::Serving
        );
        assert_eq!(
            conversation_relation(&m, centre, muni, true),
            Relation::Recipient
        );
        assert_eq!(
            conversation_relation(&lone, centre, muni, true),
            Relation::Unrelated
        );
        assert_eq!(organisation_relation(&lone, me), Relation::Own);
        assert_eq!(organisation_relation(&lone, other), Relation::Unrelated);
    }

    #[test]
    fn everybody_reads_themselves() {
        for role in Role::ALL {
            let who = p(role, OrgKind::Municipality);
            assert_eq!(decide(who, Action::MeRead, Relation::Own), Decision::Allow);
            assert_eq!(
                decide(who, Action::OrgRead, Relation::Unrelated),
                Decision::Allow
            );
        }
    }
}
