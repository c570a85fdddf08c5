//! The access matrix, generated from the router's own OpenAPI document: every documented
//! operation x every demo user x every target relation (own, foreign = the other organisation
//! of the same kind, shared = serving career centre / recipient municipality), compared with
//! the policy table in `handover_domain::policy`. Then foreign ids in paths, list filters and
//! bodies, and every key of every successful answer against a per-role allow-list
//! (`tests/data/response-fields.json`).
//!
//! The cells are non-destructive, so they can run concurrently on one app: writes carry a
//! wrong `If-Match` (an allowed caller gets 412, a refused one 403/404), creates carry a body
//! that fails validation (422 after the access check), the rest use targets where the allowed
//! answer is a 409. A fingerprint of the database proves nothing changed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_domain::policy::{self, Decision};
use handover_domain::{Action, OrgKind, Relation, Role};
use handover_tests::ago;
use handover_tests::{Res, TestApp, spawn_app, who};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// An entity tag that never matches (versions start at 1 and stay small here).
const WRONG_TAG: &str = "\"999999\"";
/// Requests in flight at once.
const CONCURRENCY: usize = 8;

// ---------------------------------------------------------------------------------------------
// The operation table
// ---------------------------------------------------------------------------------------------

/// What the policy says about an operation.
#[derive(Debug, Clone, Copy)]
enum Act {
    /// No token needed (login, refresh, password setup, health).
    Public,
    /// Any signed-in user (logout: it only ends the caller's own session).
    Authenticated,
    Fixed(Action),
    /// `complete`: the municipality responds, the centre prepares.
    BySide {
        centre: Action,
        municipality: Action,
    },
}

/// What the operation acts on, which decides how its target relates to a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    /// Lists, creates and the caller's own account: `role_may`.
    NoTarget,
    /// The catalogue is not any organisation's: `role_may`.
    Offering,
    Org,
    User,
    /// A deactivated user (a setup link for it is refused with 409 after the access check).
    SetupUser,
    /// `POST /users`: the organisation named in the body.
    BodyOrg,
    Participant,
    Element,
    Placement,
    Consent,
    Summary,
    Handover,
    /// A handover seen through its conversations (the serving career centre reads them).
    HandoverConv,
    Conversation,
    /// An agreed action: its responsible organisation (`Target::org`) follows it up.
    AgreedAction,
}

type BodyFn = fn(&Fx, &Target) -> Value;

struct Op {
    method: &'static str,
    path: &'static str,
    act: Act,
    kind: Kind,
    if_match: bool,
    body: Option<BodyFn>,
    /// The answers an allowed caller may get for this (non-destructive) request.
    ok: &'static [u16],
}

const fn op(
    method: &'static str,
    path: &'static str,
    act: Act,
    kind: Kind,
    if_match: bool,
    body: Option<BodyFn>,
    ok: &'static [u16],
) -> Op {
    Op {
        method,
        path,
        act,
        kind,
        if_match,
        body,
        ok,
    }
}

use Action as A;
use Kind as K;

const fn f(a: Action) -> Act {
    Act::Fixed(a)
}

fn rfc(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn offering_body(key: &str) -> Value {
    json!({
        "key": key,
        "group": "work_and_education_programmes",
        "name_nb": "Matrisetiltak",
        "name_en": "Matrix programme",
        "description_nb": "Brukt i tilgangsmatrisen.",
        "description_en": "Used by the access matrix.",
        "responsible_actor": "nav",
        "legal_basis": "Forskrift om arbeidsmarkedstiltak",
        "financing": "Staten ved Nav.",
        "livelihood": "Tiltakspenger.",
        "typical_duration": "Inntil 12 måneder",
        "prerequisites": { "min_cefr": "A2", "text": "Ingen." },
        "info_url": "https://www.nav.no/arbeidsmarkedstiltak",
        "uncertain": []
    })
}

fn participant_body(duf: &str) -> Value {
    json!({
        "given_name": "Matrise",
        "family_name": "Celle",
        "date_of_birth": "1990-05-17",
        "duf_number": duf,
        "languages": [{ "language": "ti", "level": "native" }],
        "interpreter_language": "ti",
        "arrival_date": ago(100),
        "programme_start": ago(90),
        "status": "in_programme",
        "notes": ""
    })
}

fn mapping_body() -> Value {
    json!({ "digital_skills": "basic", "mapped_on": ago(10) })
}

fn proposal(start: OffsetDateTime, internal: &[Uuid]) -> Value {
    json!({
        "slots": [{ "start": rfc(start), "duration_minutes": 60 }],
        "mode": "video",
        "video_link": "https://video.example/matrise",
        "internal_attendees": internal,
    })
}

/// Every documented operation: its policy action, target kind and non-destructive request.
fn table() -> Vec<Op> {
    let past = |_: &Fx, _: &Target| proposal(OffsetDateTime::now_utc() - Duration::days(1), &[]);
    vec![
        // health and auth
        op(
            "GET",
            "/healthz",
            Act::Public,
            K::NoTarget,
            false,
            None,
            &[200],
        ),
        op(
            "GET",
            "/readyz",
            Act::Public,
            K::NoTarget,
            false,
            None,
            &[200],
        ),
        op(
            "POST",
            "/api/v1/auth/login",
            Act::Public,
            K::NoTarget,
            false,
            None,
            &[],
        ),
        op(
            "POST",
            "/api/v1/auth/login/second-factor",
            Act::Public,
            K::NoTarget,
            false,
            None,
            &[],
        ),
        op(
            "POST",
            "/api/v1/auth/refresh",
            Act::Public,
            K::NoTarget,
            false,
            None,
            &[],
        ),
        op(
            "POST",
            "/api/v1/auth/password-setup",
            Act::Public,
            K::NoTarget,
            false,
            None,
            &[],
        ),
        op(
            "POST",
            "/api/v1/auth/logout",
            Act::Authenticated,
            K::NoTarget,
            false,
            None,
            &[204],
        ),
        // me
        op(
            "GET",
            "/api/v1/me",
            f(A::MeRead),
            K::NoTarget,
            false,
            None,
            &[200],
        ),
        op(
            "POST",
            "/api/v1/me/password",
            f(A::OwnPasswordChange),
            K::NoTarget,
            false,
            Some(|_, _| json!({ "current_password": "wrong", "new_password": "short" })),
            &[422],
        ),
        // The caller's own second factor. Staff have none: the changes that need one answer
        // 409 after the access check. Administrators have one (they must): a wrong code is 422,
        // and they may not remove it (409). The setup needs the password (422).
        op(
            "GET",
            "/api/v1/me/second-factor",
            f(A::OwnSecondFactor),
            K::NoTarget,
            false,
            None,
            &[200],
        ),
        op(
            "POST",
            "/api/v1/me/second-factor/totp",
            f(A::OwnSecondFactor),
            K::NoTarget,
            false,
            Some(|_, _| json!({ "current_password": "wrong" })),
            &[422],
        ),
        op(
            "POST",
            "/api/v1/me/second-factor/totp/confirm",
            f(A::OwnSecondFactor),
            K::NoTarget,
            false,
            Some(|_, _| json!({ "code": "000000" })),
            &[409],
        ),
        op(
            "POST",
            "/api/v1/me/second-factor/recovery-codes",
            f(A::OwnSecondFactor),
            K::NoTarget,
            false,
            Some(|_, _| json!({ "code": "000000" })),
            &[409, 422],
        ),
        op(
            "POST",
            "/api/v1/me/second-factor/remove",
            f(A::OwnSecondFactor),
            K::NoTarget,
            false,
            Some(|_, _| json!({ "code": "000000" })),
            &[409],
        ),
        op(
            "GET",
            "/api/v1/me/conversations",
            f(A::ConversationRead),
            K::NoTarget,
            false,
            None,
            &[200],
        ),
        // organisations
        op(
            "GET",
            "/api/v1/organisations",
            f(A::OrgRead),
            K::NoTarget,
            false,
            None,
            &[200],
        ),
        op(
            "POST",
            "/api/v1/organisations",
            f(A::OrgCreate),
            K::NoTarget,
            false,
            Some(
                |_, _| json!({ "kind": "municipality", "name": " ", "municipality_number": "12" }),
            ),
            &[422],
        ),
        op(
            "GET",
            "/api/v1/organisations/{id}",
            f(A::OrgRead),
            K::Org,
            false,
            None,
            &[200],
        ),
        op(
            "PATCH",
            "/api/v1/organisations/{id}",
            f(A::OrgUpdate),
            K::Org,
            true,
            Some(|_, _| json!({})),
            &[412],
        ),
        // sign-in settings: the fixture gives every organisation an identity provider; a
        // replacement's issuer fails validation
        op(
            "GET",
            "/api/v1/organisations/{id}/identity-provider",
            f(A::SignInManage),
            K::Org,
            false,
            None,
            &[200],
        ),
        op(
            "PUT",
            "/api/v1/organisations/{id}/identity-provider",
            f(A::SignInManage),
            K::Org,
            false,
            Some(|_, _| json!({ "issuer": "not a url", "client_id": "matrix" })),
            &[422],
        ),
        op(
            "DELETE",
            "/api/v1/organisations/{id}/identity-provider",
            f(A::SignInManage),
            K::Org,
            true,
            None,
            &[412],
        ),
        // users
        op(
            "GET",
            "/api/v1/users",
            f(A::UserRead),
            K::NoTarget,
            false,
            None,
            &[200],
        ),
        op(
            "POST",
            "/api/v1/users",
            f(A::UserCreate),
            K::BodyOrg,
            false,
            Some(
                |_, t| json!({ "email": "not-an-address", "name": "Matrise", "role": "admin", "organisation_id": t.org }),
            ),
            &[422],
        ),
        op(
            "GET",
            "/api/v1/users/{id}",
            f(A::UserRead),
            K::User,
            false,
            None,
            &[200],
        ),
        op(
            "PATCH",
            "/api/v1/users/{id}",
            f(A::UserUpdate),
            K::User,
            true,
            Some(|_, _| json!({})),
            &[412],
        ),
        op(
            "POST",
            "/api/v1/users/{id}/password-setup-email",
            f(A::UserPasswordSetupIssue),
            K::SetupUser,
            false,
            None,
            &[409],
        ),
        // No demo user has a second factor yet: 409 after the access check.
        op(
            "POST",
            "/api/v1/users/{id}/second-factor/reset",
            f(A::UserPasswordSetupIssue),
            K::User,
            false,
            None,
            &[409],
        ),
        // dead letters (the operator); the changes are refused by their empty list of ids
        op(
            "GET",
            "/api/v1/outbox/dead-letters",
            f(A::OutboxManage),
            K::NoTarget,
            false,
            None,
            &[200],
        ),
        op(
            "POST",
            "/api/v1/outbox/dead-letters/requeue",
            f(A::OutboxManage),
            K::NoTarget,
            false,
            Some(|_, _| json!({ "ids": [] })),
            &[422],
        ),
        op(
            "POST",
            "/api/v1/outbox/dead-letters/discard",
            f(A::OutboxManage),
            K::NoTarget,
            false,
            Some(|_, _| json!({ "ids": [] })),
            &[422],
        ),
        // audit
        op(
            "GET",
            "/api/v1/audit-events",
            f(A::AuditRead),
            K::NoTarget,
            false,
            None,
            &[200],
        ),
        // participants
        op(
            "GET",
            "/api/v1/participants",
            f(A::ParticipantRead),
            K::NoTarget,
            false,
            None,
            &[200],
        ),
        op(
            "POST",
            "/api/v1/participants",
            f(A::ParticipantWrite),
            K::NoTarget,
            false,
            Some(|_, _| participant_body("123")),
            &[422],
        ),
        op(
            "POST",
            "/api/v1/participants/lookup",
            f(A::ParticipantRead),
            K::NoTarget,
            false,
            Some(|_, _| json!({ "duf_number": "1" })),
            &[422],
        ),
        op(
            "GET",
            "/api/v1/participants/{id}",
            f(A::ParticipantRead),
            K::Participant,
            false,
            None,
            &[200],
        ),
        op(
            "PATCH",
            "/api/v1/participants/{id}",
            f(A::ParticipantWrite),
            K::Participant,
            true,
            Some(|_, _| json!({})),
            &[412],
        ),
        op(
            "GET",
            "/api/v1/participants/{id}/record",
            f(A::ParticipantRead),
            K::Participant,
            false,
            None,
            &[200],
        ),
        op(
            "GET",
            "/api/v1/participants/{id}/history",
            f(A::ParticipantRead),
            K::Participant,
            false,
            None,
            &[200],
        ),
        op(
            "GET",
            "/api/v1/participants/{id}/export",
            f(A::ParticipantExport),
            K::Participant,
            false,
            None,
            &[200],
        ),
        op(
            "GET",
            "/api/v1/statistics/handovers",
            f(A::StatisticsRead),
            K::NoTarget,
            false,
            None,
            &[200],
        ),
        op(
            "GET",
            "/api/v1/handovers/{id}/outcome",
            f(A::OutcomeRead),
            K::HandoverConv,
            false,
            None,
            &[200],
        ),
        op(
            "PUT",
            "/api/v1/handovers/{id}/outcome",
            f(A::HandoverRespond),
            K::Handover,
            true,
            Some(|_, _| json!({"integration_plan_decided_on": ago(0), "end_goal": "work"})),
            &[412],
        ),
        op(
            "GET",
            "/api/v1/agreed-actions",
            f(A::AgreedActionFollowUp),
            K::NoTarget,
            false,
            None,
            &[200],
        ),
        op(
            "PATCH",
            "/api/v1/agreed-actions/{id}",
            f(A::AgreedActionFollowUp),
            K::AgreedAction,
            true,
            Some(|_, _| json!({"status": "done"})),
            &[412],
        ),
        op(
            "GET",
            "/api/v1/conversations/{id}/agreed-actions",
            f(A::ConversationRead),
            K::Conversation,
            false,
            None,
            &[200],
        ),
        op(
            "POST",
            "/api/v1/participants/{id}/erasure",
            f(A::ParticipantErase),
            K::Participant,
            true,
            Some(|_, _| json!({"ground": "objection", "request_received_on": ago(1)})),
            &[412],
        ),
        // programme record
        op(
            "GET",
            "/api/v1/participants/{id}/competence-mapping",
            f(A::ParticipantRead),
            K::Participant,
            false,
            None,
            &[200],
        ),
        op(
            "PUT",
            "/api/v1/participants/{id}/competence-mapping",
            f(A::ParticipantWrite),
            K::Participant,
            true,
            Some(|_, _| mapping_body()),
            &[412],
        ),
        op(
            "GET",
            "/api/v1/participants/{id}/norwegian-training",
            f(A::ParticipantRead),
            K::Participant,
            false,
            None,
            &[200],
        ),
        op(
            "PUT",
            "/api/v1/participants/{id}/norwegian-training",
            f(A::ParticipantWrite),
            K::Participant,
            true,
            Some(|_, _| json!({ "course_hours_planned": 0, "course_hours_attended": 0 })),
            &[412],
        ),
        op(
            "GET",
            "/api/v1/participants/{id}/programme-elements",
            f(A::ParticipantRead),
            K::Participant,
            false,
            None,
            &[200],
        ),
        op(
            "POST",
            "/api/v1/participants/{id}/programme-elements",
            f(A::ParticipantWrite),
            K::Participant,
            false,
            Some(|_, _| {
                json!({
                    "kind": "social_studies", "title": "Matrise", "start_date": ago(-30), "end_date": null,
                    "hours_planned": 10, "hours_attended": 0, "language_of_instruction": "nb", "outcome": null
                })
            }),
            &[422],
        ),
        op(
            "GET",
            "/api/v1/participants/{id}/programme-elements/{element_id}",
            f(A::ParticipantRead),
            K::Element,
            false,
            None,
            &[200],
        ),
        op(
            "PATCH",
            "/api/v1/participants/{id}/programme-elements/{element_id}",
            f(A::ParticipantWrite),
            K::Element,
            true,
            Some(|_, _| json!({})),
            &[412],
        ),
        op(
            "DELETE",
            "/api/v1/participants/{id}/programme-elements/{element_id}",
            f(A::ParticipantWrite),
            K::Element,
            true,
            None,
            &[412],
        ),
        op(
            "GET",
            "/api/v1/participants/{id}/placements",
            f(A::ParticipantRead),
            K::Participant,
            false,
            None,
            &[200],
        ),
        op(
            "POST",
            "/api/v1/participants/{id}/placements",
            f(A::ParticipantWrite),
            K::Participant,
            false,
            Some(|_, _| {
                json!({
                    "kind": "work_practice", "employer_name": "Matrise AS", "start_date": ago(-30),
                    "end_date": null, "hours": 10, "tasks": "Ingen.", "employer_feedback": null
                })
            }),
            &[422],
        ),
        op(
            "GET",
            "/api/v1/participants/{id}/placements/{placement_id}",
            f(A::ParticipantRead),
            K::Placement,
            false,
            None,
            &[200],
        ),
        op(
            "PATCH",
            "/api/v1/participants/{id}/placements/{placement_id}",
            f(A::ParticipantWrite),
            K::Placement,
            true,
            Some(|_, _| json!({})),
            &[412],
        ),
        op(
            "DELETE",
            "/api/v1/participants/{id}/placements/{placement_id}",
            f(A::ParticipantWrite),
            K::Placement,
            true,
            None,
            &[412],
        ),
        // settlement and consent
        op(
            "GET",
            "/api/v1/participants/{id}/settlement",
            f(A::HandoverPrepare),
            K::Participant,
            false,
            None,
            &[200],
        ),
        op(
            "PUT",
            "/api/v1/participants/{id}/settlement",
            f(A::HandoverPrepare),
            K::Participant,
            true,
            Some(|fx, _| json!({ "municipality_id": fx.kommune_krs, "settlement_date": ago(-20) })),
            &[412],
        ),
        op(
            "GET",
            "/api/v1/participants/{id}/consents",
            f(A::HandoverPrepare),
            K::Participant,
            false,
            None,
            &[200],
        ),
        op(
            "POST",
            "/api/v1/participants/{id}/consents",
            f(A::HandoverPrepare),
            K::Participant,
            false,
            Some(|_, _| {
                json!({
                    "sections": [], "given_on": ago(-30), "method": "written_signed",
                    "language": "ti", "interpreter_present": false
                })
            }),
            &[422],
        ),
        op(
            "POST",
            "/api/v1/consents/{id}/withdraw",
            f(A::HandoverPrepare),
            K::Consent,
            false,
            Some(|_, _| json!({ "note": "x".repeat(2001) })),
            &[422],
        ),
        op(
            "GET",
            "/api/v1/participants/{id}/adaptation-needs",
            f(A::HandoverPrepare),
            K::Participant,
            false,
            None,
            &[200],
        ),
        op(
            "PUT",
            "/api/v1/participants/{id}/adaptation-needs",
            f(A::HandoverPrepare),
            K::Participant,
            true,
            Some(|_, _| json!({ "needs": [] })),
            &[412],
        ),
        // catalogue
        op(
            "GET",
            "/api/v1/catalogue/offerings",
            f(A::CatalogueRead),
            K::NoTarget,
            false,
            None,
            &[200],
        ),
        op(
            "POST",
            "/api/v1/catalogue/offerings",
            f(A::CatalogueManage),
            K::NoTarget,
            false,
            Some(|_, _| offering_body("Not A Slug")),
            &[422],
        ),
        op(
            "GET",
            "/api/v1/catalogue/offerings/{id}",
            f(A::CatalogueRead),
            K::Offering,
            false,
            None,
            &[200],
        ),
        op(
            "PUT",
            "/api/v1/catalogue/offerings/{id}",
            f(A::CatalogueManage),
            K::Offering,
            true,
            Some(|_, _| offering_body("matrise")),
            &[412],
        ),
        op(
            "DELETE",
            "/api/v1/catalogue/offerings/{id}",
            f(A::CatalogueManage),
            K::Offering,
            true,
            None,
            &[412],
        ),
        op(
            "GET",
            "/api/v1/catalogue/offerings/{id}/versions",
            f(A::CatalogueRead),
            K::Offering,
            false,
            None,
            &[200],
        ),
        op(
            "POST",
            "/api/v1/catalogue/offerings/{id}/retire",
            f(A::CatalogueManage),
            K::Offering,
            true,
            None,
            &[412],
        ),
        op(
            "POST",
            "/api/v1/catalogue/offerings/{id}/reinstate",
            f(A::CatalogueManage),
            K::Offering,
            true,
            None,
            &[412],
        ),
        // guidance
        op(
            "GET",
            "/api/v1/participants/{id}/guidance-summaries",
            f(A::GuidanceRead),
            K::Participant,
            false,
            None,
            &[200],
        ),
        op(
            "POST",
            "/api/v1/participants/{id}/guidance-summaries",
            f(A::GuidanceWrite),
            K::Participant,
            false,
            Some(|_, _| json!({ "interests": "x".repeat(2001) })),
            &[422],
        ),
        op(
            "GET",
            "/api/v1/guidance-summaries/{id}",
            f(A::GuidanceRead),
            K::Summary,
            false,
            None,
            &[200],
        ),
        op(
            "PUT",
            "/api/v1/guidance-summaries/{id}",
            f(A::GuidanceWrite),
            K::Summary,
            true,
            Some(|_, _| json!({})),
            &[409, 412],
        ),
        op(
            "DELETE",
            "/api/v1/guidance-summaries/{id}",
            f(A::GuidanceWrite),
            K::Summary,
            true,
            None,
            &[409, 412],
        ),
        op(
            "POST",
            "/api/v1/guidance-summaries/{id}/finalise",
            f(A::GuidanceWrite),
            K::Summary,
            true,
            None,
            &[409, 412],
        ),
        // handovers
        op(
            "GET",
            "/api/v1/handovers",
            f(A::HandoverRead),
            K::NoTarget,
            false,
            None,
            &[200],
        ),
        op(
            "POST",
            "/api/v1/participants/{id}/handovers",
            f(A::HandoverPrepare),
            K::Participant,
            false,
            None,
            &[409],
        ),
        op(
            "GET",
            "/api/v1/handovers/{id}",
            f(A::HandoverRead),
            K::Handover,
            false,
            None,
            &[200],
        ),
        op(
            "GET",
            "/api/v1/handovers/{id}/readiness",
            f(A::HandoverPrepare),
            K::Handover,
            false,
            None,
            &[200],
        ),
        op(
            "GET",
            "/api/v1/handovers/{id}/file",
            f(A::HandoverRead),
            K::Handover,
            false,
            None,
            &[200, 409],
        ),
        op(
            "GET",
            "/api/v1/handovers/{id}/file.pdf",
            f(A::HandoverRead),
            K::Handover,
            false,
            None,
            &[200, 409],
        ),
        op(
            "POST",
            "/api/v1/handovers/{id}/send",
            f(A::HandoverPrepare),
            K::Handover,
            true,
            Some(|_, _| json!({})),
            &[412],
        ),
        op(
            "POST",
            "/api/v1/handovers/{id}/cancel",
            f(A::HandoverPrepare),
            K::Handover,
            true,
            Some(|_, _| json!({ "reason": "Matrise" })),
            &[412],
        ),
        op(
            "POST",
            "/api/v1/handovers/{id}/accept",
            f(A::HandoverRespond),
            K::Handover,
            true,
            None,
            &[412],
        ),
        op(
            "POST",
            "/api/v1/handovers/{id}/decline",
            f(A::HandoverRespond),
            K::Handover,
            true,
            Some(|_, _| json!({ "reason": "Matrise" })),
            &[412],
        ),
        op(
            "POST",
            "/api/v1/handovers/{id}/complete",
            Act::BySide {
                centre: A::HandoverPrepare,
                municipality: A::HandoverRespond,
            },
            K::Handover,
            true,
            Some(|_, _| json!({})),
            &[412],
        ),
        // conversations
        op(
            "GET",
            "/api/v1/handovers/{id}/conversations",
            f(A::ConversationRead),
            K::HandoverConv,
            false,
            None,
            &[200],
        ),
        op(
            "POST",
            "/api/v1/handovers/{id}/conversations",
            f(A::ConversationManage),
            K::HandoverConv,
            false,
            Some(past),
            &[422],
        ),
        op(
            "GET",
            "/api/v1/conversations",
            f(A::ConversationRead),
            K::NoTarget,
            false,
            None,
            &[200],
        ),
        op(
            "GET",
            "/api/v1/conversations/{id}",
            f(A::ConversationRead),
            K::Conversation,
            false,
            None,
            &[200],
        ),
        op(
            "GET",
            "/api/v1/conversations/{id}/calendar.ics",
            f(A::ConversationRead),
            K::Conversation,
            false,
            None,
            &[200, 409],
        ),
        op(
            "POST",
            "/api/v1/conversations/{id}/accept",
            f(A::ConversationManage),
            K::Conversation,
            true,
            Some(|_, _| json!({ "slot": 1 })),
            &[412],
        ),
        op(
            "POST",
            "/api/v1/conversations/{id}/counter-proposal",
            f(A::ConversationManage),
            K::Conversation,
            true,
            Some(|_, _| json!({ "slots": [] })),
            &[412],
        ),
        op(
            "POST",
            "/api/v1/conversations/{id}/reschedule",
            f(A::ConversationManage),
            K::Conversation,
            true,
            Some(
                |_, _| json!({ "start": rfc(OffsetDateTime::now_utc() + Duration::days(9)), "duration_minutes": 60 }),
            ),
            &[412],
        ),
        op(
            "POST",
            "/api/v1/conversations/{id}/cancel",
            f(A::ConversationManage),
            K::Conversation,
            true,
            Some(|_, _| json!({ "reason": "Matrise" })),
            &[412],
        ),
        op(
            "POST",
            "/api/v1/conversations/{id}/minutes",
            f(A::ConversationManage),
            K::Conversation,
            true,
            Some(|_, _| json!({ "outcome": "held" })),
            &[412],
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Callers, targets and relations
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Caller {
    email: &'static str,
    role: Role,
    kind: OrgKind,
    org: Uuid,
    /// The reception centre a career centre serves.
    serves: Option<Uuid>,
    token: String,
}

#[derive(Debug, Clone, Default)]
struct Target {
    label: String,
    params: Vec<(&'static str, Uuid)>,
    /// The reception centre that owns the record.
    centre: Option<Uuid>,
    /// The municipality a handover was sent to (None while it is a draft).
    recipient: Option<Uuid>,
    /// The organisation (organisations and users).
    org: Option<Uuid>,
    /// A user target that is (or, for a create, will be) an administrator account: the
    /// operator reaches those of other organisations, never their staff.
    admin_account: bool,
}

/// Everything the cells need.
struct Fx {
    callers: Vec<Caller>,
    spare: HashMap<&'static str, String>,
    targets: BTreeMap<Kind, Vec<Target>>,
    kommune_krs: Uuid,
    krs: Centre,
    stj: Centre,
}

/// One reception centre's records used as targets.
#[derive(Debug, Clone)]
struct Centre {
    org: Uuid,
    participant: Uuid,
    family_name: String,
    duf: String,
    element: Uuid,
    placement: Uuid,
    consent: Uuid,
    summary: Uuid,
    handover: Uuid,
    conversation: Uuid,
    staff: &'static str,
}

/// How the target relates to the caller, as the service works it out (None: no target).
fn relation(kind: Kind, t: &Target, c: &Caller) -> Option<Relation> {
    let own = t.centre == Some(c.org);
    let serving = c.serves.is_some() && t.centre == c.serves;
    let recipient = t.recipient == Some(c.org);
    Some(match kind {
        K::NoTarget | K::Offering => return None,
        K::Org => {
            if t.org == Some(c.org) {
                Relation::Own
            } else {
                Relation::Unrelated
            }
        }
        K::User | K::SetupUser | K::BodyOrg => {
            if t.org == Some(c.org) {
                Relation::Own
            } else if t.admin_account {
                Relation::AdminAccount
            } else {
                Relation::Unrelated
            }
        }
        K::Participant | K::Element | K::Placement | K::Consent | K::Summary => {
            if own {
                Relation::Own
            } else if serving {
                Relation::Serving
            } else {
                Relation::Unrelated
            }
        }
        K::Handover => {
            if own {
                Relation::Own
            } else if recipient {
                Relation::Recipient
            } else {
                Relation::Unrelated
            }
        }
        K::AgreedAction => {
            if t.org == Some(c.org) {
                Relation::Own
            } else {
                Relation::Unrelated
            }
        }
        K::HandoverConv | K::Conversation => {
            if own {
                Relation::Own
            } else if recipient {
                Relation::Recipient
            } else if serving {
                Relation::Serving
            } else {
                Relation::Unrelated
            }
        }
    })
}

/// The access grid, written out by hand (from docs/security.md and DOMAIN.md: who may do what
/// to whose records), never computed by `handover_domain::policy`: the service is checked
/// against this independent oracle. Columns: admin, centre_staff, career_counsellor,
/// municipality_staff, directorate_staff. A cell lists the scopes granted: `any` target, the
/// caller's `own` organisation's, the centre its career centre is `serving`, handovers to its
/// municipality (`recipient`), everything for callers in the `operator` organisation, or only other
/// organisations' administrator accounts for them (`operator (admins)`); `-` grants nothing.
const GRID: &[(&str, [&str; 5])] = &[
    ("me_read", ["any", "any", "any", "any", "any"]),
    ("own_password_change", ["any", "any", "any", "any", "any"]),
    ("own_second_factor", ["any", "any", "any", "any", "any"]),
    ("org_read", ["any", "any", "any", "any", "any"]),
    ("org_create", ["operator", "-", "-", "-", "-"]),
    ("org_update", ["operator", "-", "-", "-", "-"]),
    ("user_read", ["own, operator", "-", "-", "-", "-"]),
    (
        "user_create",
        ["own, operator (admins)", "-", "-", "-", "-"],
    ),
    (
        "user_update",
        ["own, operator (admins)", "-", "-", "-", "-"],
    ),
    (
        "user_password_setup_issue",
        ["own, operator (admins)", "-", "-", "-", "-"],
    ),
    ("audit_read", ["own, operator", "-", "-", "-", "-"]),
    ("outbox_manage", ["operator", "-", "-", "-", "-"]),
    ("sign_in_manage", ["own, operator", "-", "-", "-", "-"]),
    ("participant_read", ["-", "own", "serving", "-", "-"]),
    ("participant_write", ["-", "own", "-", "-", "-"]),
    ("catalogue_read", ["any", "any", "any", "any", "any"]),
    ("catalogue_manage", ["operator", "-", "-", "-", "-"]),
    ("guidance_read", ["-", "own", "serving", "-", "-"]),
    ("guidance_write", ["-", "-", "serving", "-", "-"]),
    ("handover_prepare", ["-", "own", "-", "-", "-"]),
    ("handover_read", ["-", "own", "-", "recipient", "-"]),
    ("handover_respond", ["-", "-", "-", "recipient", "-"]),
    ("outcome_read", ["-", "own", "serving", "recipient", "-"]),
    ("participant_export", ["-", "own", "-", "-", "-"]),
    ("participant_erase", ["-", "own", "-", "-", "-"]),
    ("agreed_action_follow_up", ["-", "own", "own", "own", "-"]),
    (
        "conversation_read",
        ["-", "own", "serving", "recipient", "-"],
    ),
    ("conversation_manage", ["-", "own", "-", "recipient", "-"]),
    ("statistics_read", ["-", "own", "own", "own", "any"]),
];

/// What the hand-written [`GRID`] says for this cell: 403 when no scope of the caller's role
/// applies to it at all, 404 when some does but not to this target, otherwise allowed.
fn expected(op: &Op, c: &Caller, rel: Option<Relation>) -> Decision {
    let action = match op.act {
        Act::Public | Act::Authenticated => return Decision::Allow,
        Act::Fixed(a) => a,
        Act::BySide {
            centre,
            municipality,
        } => {
            if c.kind == OrgKind::Municipality {
                municipality
            } else {
                centre
            }
        }
    };
    let name = serde_json::to_value(action)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let Some((_, cells)) = GRID.iter().find(|(a, _)| *a == name) else {
        panic!("the grid has no row for {name}");
    };
    let column = match c.role {
        Role::Admin => 0,
        Role::CentreStaff => 1,
        Role::CareerCounsellor => 2,
        Role::MunicipalityStaff => 3,
        Role::DirectorateStaff => 4,
    };
    let scopes: Vec<&str> = cells[column]
        .split(", ")
        .filter(|s| *s != "-")
        .filter(|s| !s.starts_with("operator") || c.kind == OrgKind::Operator)
        .collect();
    if scopes.is_empty() {
        return Decision::Forbidden;
    }
    let Some(rel) = rel else {
        return Decision::Allow;
    };
    let covered = scopes.iter().any(|s| match *s {
        "any" | "operator" => true,
        "own" => rel == Relation::Own,
        "serving" => rel == Relation::Serving,
        "recipient" => rel == Relation::Recipient,
        "operator (admins)" => rel == Relation::AdminAccount,
        other => panic!("unknown scope {other} in the grid"),
    });
    if covered {
        Decision::Allow
    } else {
        Decision::NotFound
    }
}

#[test]
fn the_grid_has_a_row_for_every_action_of_the_policy() {
    // Only the set of actions is taken from the code; what each allows is the grid's.
    let rows: BTreeSet<&str> = GRID.iter().map(|(a, _)| *a).collect();
    let actions: BTreeSet<String> = policy::POLICY
        .iter()
        .filter_map(|r| serde_json::to_value(r.action).ok())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        rows,
        actions.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );
}

fn rel_name(rel: Option<Relation>) -> &'static str {
    match rel {
        None => "-",
        Some(Relation::Own) => "own",
        Some(Relation::Serving) | Some(Relation::Recipient) => "shared",
        Some(Relation::Unrelated) => "foreign",
        Some(Relation::AdminAccount) => "foreign admin",
    }
}

fn fill(path: &str, t: &Target) -> String {
    let mut p = path.to_owned();
    for (name, id) in &t.params {
        p = p.replace(&format!("{{{name}}}"), &id.to_string());
    }
    assert!(!p.contains('{'), "unfilled path {p} for {}", t.label);
    p
}

// ---------------------------------------------------------------------------------------------
// HTTP without borrowing the app (cells run on spawned tasks)
// ---------------------------------------------------------------------------------------------

#[derive(Clone)]
struct Http {
    client: reqwest::Client,
    base: String,
}

impl Http {
    async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Res {
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(m, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        if let Some(e) = if_match {
            req = req.header("if-match", e);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Res {
            status,
            headers,
            body,
            text,
        }
    }
}

fn http(app: &TestApp) -> Http {
    Http {
        client: app.client.clone(),
        base: app.base.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// Part 1: the table is the document, and every documented route is routed
// ---------------------------------------------------------------------------------------------

/// (method, path) of every operation in the served OpenAPI document.
async fn documented(app: &TestApp) -> BTreeSet<(String, String)> {
    let r = app
        .request(Method::GET, "/api-docs/openapi.json", None, None, &[])
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The served document is the one the code generates.
    assert_eq!(
        r.body,
        serde_json::to_value(handover_api::openapi()).unwrap(),
        "the served document differs from handover_api::app::openapi()"
    );
    let mut out = BTreeSet::new();
    for (path, item) in r.body["paths"].as_object().expect("paths") {
        for (method, _) in item.as_object().unwrap() {
            if [
                "get", "put", "post", "patch", "delete", "head", "options", "trace",
            ]
            .contains(&method.as_str())
            {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_table_covers_exactly_the_documented_routes_and_each_is_routed() {
    let app = spawn_app().await;
    let doc = documented(&app).await;
    let ops = table();
    let listed: BTreeSet<(String, String)> = ops
        .iter()
        .map(|o| (o.method.to_owned(), o.path.to_owned()))
        .collect();
    assert_eq!(listed.len(), ops.len(), "an operation is listed twice");
    let missing: Vec<_> = doc.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&doc).collect();
    assert!(
        missing.is_empty(),
        "documented operations missing from the access table: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "access table operations not in the document: {extra:?}"
    );
    // Every documented route exists in the router: without a token the service answers with
    // its own 401 (secured) or a real answer (public), never the fallback 404 or a 405.
    let any = Uuid::new_v4();
    let t = Target {
        label: "random".into(),
        params: vec![("id", any), ("element_id", any), ("placement_id", any)],
        ..Default::default()
    };
    let h = http(&app);
    for o in &ops {
        let path = fill(o.path, &t);
        let body = (o.method != "GET" && o.method != "DELETE").then(|| json!({}));
        let r = h.send(o.method, &path, None, body.as_ref(), None).await;
        let what = format!("{} {}", o.method, o.path);
        match o.act {
            Act::Public => {
                assert!(
                    r.status != StatusCode::NOT_FOUND
                        && r.status != StatusCode::METHOD_NOT_ALLOWED
                        && !r.status.is_server_error(),
                    "{what}: not routed? {} {}",
                    r.status,
                    r.text
                );
            }
            _ => {
                let ty = r.assert_problem(401);
                assert_eq!(ty, "urn:handover:problem:unauthenticated", "{what}");
            }
        }
    }
    // And the fallback really is different: an unknown path is a 404 problem.
    app.request(Method::GET, "/api/v1/no-such-route", None, None, &[])
        .await
        .assert_problem(404);
}

// ---------------------------------------------------------------------------------------------
// Part 2: the matrix
// ---------------------------------------------------------------------------------------------

async fn scalar_uuid(app: &TestApp, sql: &str, bind: Uuid) -> Uuid {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(bind)
        .fetch_one(&app.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The records of one centre that the cells aim at: a participant whose handover went to
/// `municipality`, is still open and has a live conversation, with every part of the record.
async fn centre(app: &TestApp, org: Uuid, municipality: Uuid, staff: &'static str) -> Centre {
    let (handover, participant, conversation): (Uuid, Uuid, Uuid) = sqlx::query_as(
        "SELECT h.id, h.participant_id, c.id FROM handovers h
           JOIN conversations c ON c.handover_id = h.id AND c.state IN ('proposed', 'confirmed')
          WHERE h.reception_centre_id = $1 AND h.municipality_id = $2 AND h.latest_file_version > 0
            AND h.state NOT IN ('draft', 'completed', 'cancelled', 'declined')
            AND EXISTS (SELECT 1 FROM placements p WHERE p.participant_id = h.participant_id)
            AND EXISTS (SELECT 1 FROM guidance_summaries g WHERE g.participant_id = h.participant_id)
          ORDER BY h.id LIMIT 1",
    )
    .bind(org)
    .bind(municipality)
    .fetch_one(&app.pool)
    .await
    .expect("a demo participant with an open handover and a live conversation");
    let element = scalar_uuid(
        app,
        "SELECT id FROM programme_elements WHERE participant_id = $1 ORDER BY id LIMIT 1",
        participant,
    )
    .await;
    let placement = scalar_uuid(
        app,
        "SELECT id FROM placements WHERE participant_id = $1 ORDER BY id LIMIT 1",
        participant,
    )
    .await;
    let consent = scalar_uuid(
        app,
        "SELECT id FROM consents WHERE participant_id = $1 ORDER BY id LIMIT 1",
        participant,
    )
    .await;
    let summary = scalar_uuid(
        app,
        "SELECT id FROM guidance_summaries WHERE participant_id = $1
          ORDER BY status = 'draft' DESC, id LIMIT 1",
        participant,
    )
    .await;
    let (family_name, duf): (String, Option<String>) =
        sqlx::query_as("SELECT family_name, duf_number FROM participants WHERE id = $1")
            .bind(participant)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    // Every part of the record exists, so a refusal is never a missing document in disguise.
    let token = app.token(staff).await;
    let r = app
        .get(
            &format!("/api/v1/participants/{participant}/adaptation-needs"),
            &token,
        )
        .await;
    if r.status == 404 {
        let r = app
            .request(
                Method::PUT,
                &format!("/api/v1/participants/{participant}/adaptation-needs"),
                Some(&token),
                Some(&json!({ "needs": [{ "category": "care_responsibilities", "description": "Matrise." }] })),
                &[],
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    for part in ["competence-mapping", "norwegian-training", "settlement"] {
        let r = app
            .get(
                &format!("/api/v1/participants/{participant}/{part}"),
                &token,
            )
            .await;
        assert_eq!(r.status, 200, "{part} of {participant}: {}", r.text);
    }
    Centre {
        org,
        participant,
        family_name,
        duf: duf.unwrap_or_default(),
        element,
        placement,
        consent,
        summary,
        handover,
        conversation,
        staff,
    }
}

fn parse<T: serde::de::DeserializeOwned>(s: &str) -> T {
    serde_json::from_value(Value::String(s.to_owned())).unwrap_or_else(|e| panic!("{s}: {e}"))
}

async fn fixture(app: &TestApp) -> Fx {
    // Every organisation has an identity provider (no e-mail domain, so nobody is sent to
    // it), so its settings can be read and a stale removal refused.
    sqlx::query(
        "INSERT INTO identity_providers
           (org_id, issuer, client_id, scopes, subject_claim, email_claim, acr_values, require_mfa, passwords_allowed)
         SELECT id, 'https://idp.example/' || id, 'matrix', '{email}', 'sub', 'email', '{}', false, true
           FROM organisations",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    // One access token per user for the cells, a second session for the logout cell.
    let mut callers = Vec::new();
    let mut spare = HashMap::new();
    for email in who::EVERY {
        let (org, role, kind, serves): (Uuid, String, String, Option<Uuid>) = sqlx::query_as(
            "SELECT u.organisation_id, u.role, o.kind, o.serves_reception_centre_id
               FROM users u JOIN organisations o ON o.id = u.organisation_id WHERE u.email = $1",
        )
        .bind(email)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        callers.push(Caller {
            email,
            role: parse(&role),
            kind: parse(&kind),
            org,
            serves,
            token: app.token(email).await,
        });
        spare.insert(email, app.token(email).await);
    }
    let orgs: BTreeSet<Uuid> = callers.iter().map(|c| c.org).collect();
    assert_eq!(
        orgs.len(),
        8,
        "two organisations of each kind, the operator and the directorate (there is one)"
    );
    for kind in [
        OrgKind::ReceptionCentre,
        OrgKind::CareerCentre,
        OrgKind::Municipality,
    ] {
        let n: BTreeSet<Uuid> = callers
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| c.org)
            .collect();
        assert_eq!(n.len(), 2, "{kind:?}");
    }
    let org_of = |email: &str| callers.iter().find(|c| c.email == email).unwrap().org;
    let (krs_org, stj_org) = (org_of(who::KRS_STAFF), org_of(who::STJ_STAFF));
    let kommune_krs = org_of(who::KOMMUNE_KRS_STAFF);
    let kommune_trd = org_of(who::KOMMUNE_TRD_STAFF);
    let krs = centre(app, krs_org, kommune_krs, who::KRS_STAFF).await;
    let stj = centre(app, stj_org, kommune_trd, who::STJ_STAFF).await;

    let mut targets: BTreeMap<Kind, Vec<Target>> = BTreeMap::new();
    targets.insert(
        K::NoTarget,
        vec![Target {
            label: "-".into(),
            ..Default::default()
        }],
    );
    // Organisations and users: one of each organisation.
    let op_token = callers[0].token.clone();
    assert_eq!(callers[0].email, who::OPERATOR_ADMIN);
    for (n, org) in orgs.iter().enumerate() {
        let label = |what: &str| format!("{what} of org {org}");
        targets.entry(K::Org).or_default().push(Target {
            label: label("organisation"),
            params: vec![("id", *org)],
            org: Some(*org),
            ..Default::default()
        });
        targets.entry(K::BodyOrg).or_default().push(Target {
            label: label("body organisation_id"),
            org: Some(*org),
            admin_account: true,
            ..Default::default()
        });
        let member = callers
            .iter()
            .filter(|c| c.org == *org)
            .max_by_key(|c| c.role != Role::Admin)
            .unwrap();
        targets.entry(K::User).or_default().push(Target {
            label: label(member.email),
            params: vec![("id", app.user_id(member.email).await)],
            org: Some(*org),
            ..Default::default()
        });
        // A fresh, deactivated user: a setup link for it is refused (409) after the check.
        let r = app
            .post(
                "/api/v1/users",
                Some(&op_token),
                &json!({ "email": format!("matrise.{n}@demo.no"), "name": format!("Matrise {n}"),
                         "role": "admin", "organisation_id": org }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let id = r.body["id"].as_str().unwrap().to_owned();
        let tag = r.header("etag").unwrap().to_owned();
        let r = app
            .patch(
                &format!("/api/v1/users/{id}"),
                &op_token,
                &json!({ "active": false }),
                Some(&tag),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        targets.entry(K::SetupUser).or_default().push(Target {
            label: label("deactivated user"),
            params: vec![("id", id.parse().unwrap())],
            org: Some(*org),
            admin_account: true,
            ..Default::default()
        });
    }
    let r = app.get("/api/v1/catalogue/offerings", &op_token).await;
    let offering: Uuid = r.body["items"][0]["id"].as_str().unwrap().parse().unwrap();
    targets.insert(
        K::Offering,
        vec![Target {
            label: "offering".into(),
            params: vec![("id", offering)],
            ..Default::default()
        }],
    );
    for (name, c, municipality) in [("krs", &krs, kommune_krs), ("stj", &stj, kommune_trd)] {
        let base = |what: &str, params: Vec<(&'static str, Uuid)>| Target {
            label: format!("{name} {what}"),
            params,
            centre: Some(c.org),
            ..Default::default()
        };
        let p = c.participant;
        targets
            .entry(K::Participant)
            .or_default()
            .push(base("participant", vec![("id", p)]));
        targets
            .entry(K::Element)
            .or_default()
            .push(base("element", vec![("id", p), ("element_id", c.element)]));
        targets.entry(K::Placement).or_default().push(base(
            "placement",
            vec![("id", p), ("placement_id", c.placement)],
        ));
        targets
            .entry(K::Consent)
            .or_default()
            .push(base("consent", vec![("id", c.consent)]));
        targets
            .entry(K::Summary)
            .or_default()
            .push(base("guidance summary", vec![("id", c.summary)]));
        let sent = Target {
            recipient: Some(municipality),
            ..base("sent handover", vec![("id", c.handover)])
        };
        targets.entry(K::Handover).or_default().push(sent.clone());
        targets.entry(K::HandoverConv).or_default().push(sent);
        targets.entry(K::Conversation).or_default().push(Target {
            recipient: Some(municipality),
            ..base("conversation", vec![("id", c.conversation)])
        });
        // An outcome of the sent handover, so an allowed read answers 200 and an allowed
        // correction with a wrong version 412.
        sqlx::query(
            "INSERT INTO handover_outcomes (handover_id, integration_plan_decided_on, end_goal,
                recorded_by_name) VALUES ($1, current_date, 'work', 'Matrise')",
        )
        .bind(c.handover)
        .execute(&app.pool)
        .await
        .unwrap();
        // An agreed action of this conversation for each party: the centre, its career
        // centre and the municipality (as minutes would have made them).
        let career: Uuid = sqlx::query_scalar(
            "SELECT id FROM organisations WHERE serves_reception_centre_id = $1",
        )
        .bind(c.org)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        for (i, (who, org)) in [
            ("centre", c.org),
            ("career centre", career),
            ("municipality", municipality),
        ]
        .into_iter()
        .enumerate()
        {
            let id = Uuid::now_v7();
            sqlx::query(
                "INSERT INTO agreed_actions (id, conversation_id, position, description,
                    responsible_organisation_id, due_date)
                 VALUES ($1, $2, $3, 'Følge opp', $4, current_date - 1)",
            )
            .bind(id)
            .bind(c.conversation)
            .bind(100 + i as i32)
            .bind(org)
            .execute(&app.pool)
            .await
            .unwrap();
            targets.entry(K::AgreedAction).or_default().push(Target {
                label: format!("{name} action of the {who}"),
                params: vec![("id", id)],
                org: Some(org),
                ..Default::default()
            });
        }
    }
    // A never-sent draft addressed to Kristiansand kommune: invisible to it.
    let draft: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM handovers WHERE state = 'draft' AND reception_centre_id = $1
            AND municipality_id = $2 LIMIT 1",
    )
    .bind(krs.org)
    .bind(kommune_krs)
    .fetch_optional(&app.pool)
    .await
    .unwrap();
    let draft = draft.expect("a demo draft handover to Kristiansand kommune");
    // An outcome on the draft too (never reachable through the API), so an allowed read of it
    // answers 200 and the municipality's is refused because the draft is not sent, not because
    // there is nothing.
    sqlx::query(
        "INSERT INTO handover_outcomes (handover_id, integration_plan_decided_on, end_goal,
            recorded_by_name) VALUES ($1, current_date, 'other', 'Matrise')",
    )
    .bind(draft)
    .execute(&app.pool)
    .await
    .unwrap();
    let d = Target {
        label: "krs draft handover".into(),
        params: vec![("id", draft)],
        centre: Some(krs.org),
        ..Default::default()
    };
    targets.entry(K::Handover).or_default().push(d.clone());
    targets.entry(K::HandoverConv).or_default().push(d);
    Fx {
        callers,
        spare,
        targets,
        kommune_krs,
        krs,
        stj,
    }
}

/// One request of the matrix and what the policy expects of it.
#[derive(Clone)]
struct Cell {
    op: usize,
    caller: usize,
    target: Target,
    rel: Option<Relation>,
    want: Decision,
}

struct Outcome {
    cell: Cell,
    res: Res,
}

async fn run_cells(h: &Http, fx: &Arc<Fx>, ops: &Arc<Vec<Op>>, cells: Vec<Cell>) -> Vec<Outcome> {
    let sem = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut set = tokio::task::JoinSet::new();
    for cell in cells {
        let (h, fx, ops, sem) = (h.clone(), fx.clone(), ops.clone(), sem.clone());
        set.spawn(async move {
            let _permit = sem.acquire().await.unwrap();
            let o = &ops[cell.op];
            let c = &fx.callers[cell.caller];
            let token = if o.path == "/api/v1/auth/logout" {
                fx.spare[c.email].clone()
            } else {
                c.token.clone()
            };
            let body = o.body.map(|b| b(&fx, &cell.target));
            let res = h
                .send(
                    o.method,
                    &fill(o.path, &cell.target),
                    Some(&token),
                    body.as_ref(),
                    o.if_match.then_some(WRONG_TAG),
                )
                .await;
            Outcome { cell, res }
        });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.unwrap());
    }
    out.sort_by_key(|o| (o.cell.op, o.cell.caller, o.cell.target.label.clone()));
    out
}

// ---------------------------------------------------------------------------------------------
// Part 4: response fields
// ---------------------------------------------------------------------------------------------

/// Key fragments that must never appear in any answer (a user's `has_password` flag is the one
/// key that names a password without holding one).
const FORBIDDEN: &[&str] = &[
    "password", "hash", "secret", "token", "private", "signing", "jwt", "salt",
];
/// Keys whose names carry a forbidden word but whose values are no secret: whether a password
/// is set or allowed, and the name of the file holding the identity provider's client secret
/// (the secret never passes through the API) and whether the service can read it.
const HARMLESS: &[&str] = &[
    "has_password",
    "passwords_allowed",
    "client_secret_file",
    "client_secret_readable",
];

/// Every object key in `v`, as `parent.key` (the nearest enclosing object key; array elements
/// take their array's key; top-level keys have no parent).
fn keys(v: &Value, parent: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                out.insert(if parent.is_empty() {
                    k.clone()
                } else {
                    format!("{parent}.{k}")
                });
                keys(child, k, out);
            }
        }
        Value::Array(a) => {
            for child in a {
                keys(child, parent, out);
            }
        }
        _ => {}
    }
}

/// Answers a role must never get whatever their keys: drafts for municipalities, withheld
/// sections with content.
fn value_rules(role: &str, v: &Value, route: &str, failures: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if role == "municipality_staff" && m.get("status") == Some(&json!("draft")) {
                failures.push(format!("{route}: a draft reached {role}: {v}"));
            }
            if m.contains_key("section")
                && m.get("status").is_some_and(|s| s != "shared")
                && m.get("content").is_some_and(|c| !c.is_null())
            {
                failures.push(format!("{route}: a withheld section has content: {v}"));
            }
            // Health and adaptation needs travel only under consent.
            if m.get("section") == Some(&json!("health_and_adaptation"))
                && m.get("content").is_some_and(|c| !c.is_null())
                && m.get("consent_id").is_none_or(Value::is_null)
            {
                failures.push(format!("{route}: health data without consent: {v}"));
            }
            m.values()
                .for_each(|c| value_rules(role, c, route, failures));
        }
        Value::Array(a) => a.iter().for_each(|c| value_rules(role, c, route, failures)),
        _ => {}
    }
}

#[derive(Default)]
struct Fields {
    /// role -> key -> the first route that produced it.
    seen: BTreeMap<String, BTreeMap<String, String>>,
    answers: usize,
}

impl Fields {
    fn record(&mut self, role: Role, route: &str, res: &Res) {
        if !res.status.is_success() || res.body.is_null() {
            return;
        }
        self.answers += 1;
        let mut ks = BTreeSet::new();
        keys(&res.body, "", &mut ks);
        let per = self.seen.entry(role.as_str().to_owned()).or_default();
        for k in ks {
            per.entry(k).or_insert_with(|| route.to_owned());
        }
    }
}

fn check_fields(fields: &Fields, failures: &mut Vec<String>) -> usize {
    let allow: Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/response-fields.json"
    )))
    .expect("tests/data/response-fields.json");
    if let Ok(path) = std::env::var("ACCESS_MATRIX_WRITE_FIELDS") {
        // For reviewing a change: what each role saw.
        let seen: BTreeMap<&String, Vec<&String>> = fields
            .seen
            .iter()
            .map(|(r, m)| (r, m.keys().collect()))
            .collect();
        std::fs::write(path, serde_json::to_string_pretty(&seen).unwrap()).unwrap();
    }
    let mut checked = 0;
    for (role, seen) in &fields.seen {
        let listed: BTreeSet<&str> = allow["roles"][role]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        for (key, route) in seen {
            checked += 1;
            let leaf = key.rsplit('.').next().unwrap_or(key).to_lowercase();
            if let Some(bad) = FORBIDDEN
                .iter()
                .find(|f| leaf.contains(*f) && !HARMLESS.contains(&leaf.as_str()))
            {
                failures.push(format!(
                    "{route} gave {role} the key `{key}` (contains `{bad}`)"
                ));
            }
            if !listed.contains(key.as_str()) {
                failures.push(format!(
                    "{route} gave {role} the key `{key}`, not in its allow-list"
                ));
            }
        }
    }
    checked
}

// ---------------------------------------------------------------------------------------------
// "No change": a fingerprint of every table a request could write
// ---------------------------------------------------------------------------------------------

async fn fingerprint(app: &TestApp) -> BTreeMap<&'static str, String> {
    // Columns a read legitimately touches (the municipality's last opened version) are left out.
    let tables: &[(&str, &str)] = &[
        ("organisations", "t"),
        (
            "users",
            "(t.id, t.organisation_id, t.email, t.name, t.role, t.password_hash, t.active, t.version)",
        ),
        ("participants", "t"),
        ("competence_mappings", "t"),
        ("norwegian_training", "t"),
        ("programme_elements", "t"),
        ("placements", "t"),
        ("record_changes", "t"),
        ("catalogue_offerings", "t"),
        ("catalogue_offering_versions", "t"),
        ("guidance_summaries", "t"),
        ("guidance_pathway_steps", "t"),
        ("settlements", "t"),
        ("consents", "t"),
        ("adaptation_needs", "t"),
        (
            "handovers",
            "(t.id, t.participant_id, t.reception_centre_id, t.municipality_id, t.state, t.latest_file_version, t.version)",
        ),
        ("handover_files", "(t.handover_id, t.file_version)"),
        ("handover_transitions", "t"),
        ("conversations", "t"),
        ("conversation_slots", "t"),
        ("conversation_attendees", "t"),
        ("conversation_bookings", "t"),
        ("outbox", "(t.id)"),
        ("password_setup_tokens", "t"),
        ("identity_providers", "t"),
        ("identity_provider_domains", "t"),
        ("user_identities", "t"),
        ("participant_erasures", "t"),
        ("agreed_actions", "t"),
        ("handover_outcomes", "t"),
    ];
    let mut out = BTreeMap::new();
    for (table, cols) in tables {
        let sql = format!(
            "SELECT count(*)::text || ':' || coalesce(md5(string_agg(({cols})::text, '|' ORDER BY ({cols})::text)), '') FROM {table} t"
        );
        let v: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&app.pool)
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
        out.insert(*table, v);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Part 3: foreign ids
// ---------------------------------------------------------------------------------------------

struct Probe {
    what: String,
    caller: &'static str,
    method: &'static str,
    path: String,
    body: Option<Value>,
    if_match: Option<String>,
    /// 404, or 422 naming this field.
    invalid_field: Option<&'static str>,
    /// Strings of the foreign record that must not appear in the answer.
    secrets: Vec<String>,
}

async fn etag_of(app: &TestApp, token: &str, path: &str) -> String {
    let r = app.get(path, token).await;
    assert_eq!(r.status, 200, "{path}: {}", r.text);
    r.header("etag").unwrap().to_owned()
}

/// Foreign ids where the route's own ids are the caller's: mixed paths, list filters, bodies.
async fn probes(app: &TestApp, fx: &Fx) -> Vec<Probe> {
    let (krs, stj) = (&fx.krs, &fx.stj);
    let secrets = |c: &Centre| {
        let mut s = vec![c.participant.to_string(), c.family_name.clone()];
        if !c.duf.is_empty() {
            s.push(c.duf.clone());
        }
        s
    };
    let stj_staff_user = app.user_id(who::STJ_STAFF).await;
    let token = |e: &str| {
        fx.callers
            .iter()
            .find(|c| c.email == e)
            .unwrap()
            .token
            .clone()
    };
    let krs_tok = token(who::KRS_STAFF);
    let p = |c: &Centre| format!("/api/v1/participants/{}", c.participant);
    let mut out = vec![];
    let mut push = |what: &str,
                    caller: &'static str,
                    method: &'static str,
                    path: String,
                    body: Option<Value>,
                    if_match: Option<String>,
                    invalid_field: Option<&'static str>,
                    secrets: Vec<String>| {
        out.push(Probe {
            what: what.to_owned(),
            caller,
            method,
            path,
            body,
            if_match,
            invalid_field,
            secrets,
        })
    };
    // Path parameters: own participant, the other centre's element / placement.
    for (c, other) in [(krs, stj), (stj, krs)] {
        let staff = c.staff;
        let tok = token(staff);
        let el = format!("{}/programme-elements/{}", p(c), other.element);
        let pl = format!("{}/placements/{}", p(c), other.placement);
        let own_el = etag_of(
            app,
            &tok,
            &format!("{}/programme-elements/{}", p(c), c.element),
        )
        .await;
        let own_pl = etag_of(app, &tok, &format!("{}/placements/{}", p(c), c.placement)).await;
        let sec = vec![other.element.to_string(), other.placement.to_string()];
        push(
            "own participant, foreign element",
            staff,
            "GET",
            el.clone(),
            None,
            None,
            None,
            sec.clone(),
        );
        push(
            "own participant, foreign element",
            staff,
            "PATCH",
            el.clone(),
            Some(json!({ "outcome": "endret" })),
            Some(own_el.clone()),
            None,
            sec.clone(),
        );
        push(
            "own participant, foreign element",
            staff,
            "DELETE",
            el,
            None,
            Some(own_el),
            None,
            sec.clone(),
        );
        push(
            "own participant, foreign placement",
            staff,
            "GET",
            pl.clone(),
            None,
            None,
            None,
            sec.clone(),
        );
        push(
            "own participant, foreign placement",
            staff,
            "PATCH",
            pl.clone(),
            Some(json!({ "tasks": "endret" })),
            Some(own_pl.clone()),
            None,
            sec.clone(),
        );
        push(
            "own participant, foreign placement",
            staff,
            "DELETE",
            pl,
            None,
            Some(own_pl),
            None,
            sec,
        );
        // Foreign records with the tags their owner would send: still 404, not 412 or 200.
        let their = token(other.staff);
        let tag = etag_of(app, &their, &p(other)).await;
        push(
            "foreign participant with its current ETag",
            staff,
            "PATCH",
            p(other),
            Some(json!({ "notes": "endret" })),
            Some(tag),
            None,
            secrets(other),
        );
        let tag = etag_of(
            app,
            &their,
            &format!("/api/v1/handovers/{}", other.handover),
        )
        .await;
        push(
            "foreign handover with its current ETag",
            staff,
            "POST",
            format!("/api/v1/handovers/{}/cancel", other.handover),
            Some(json!({ "reason": "endret" })),
            Some(tag),
            None,
            secrets(other),
        );
        push(
            "handover for another centre's participant",
            staff,
            "POST",
            format!("{}/handovers", p(other)),
            None,
            None,
            None,
            secrets(other),
        );
        push(
            "conversation on another centre's handover",
            staff,
            "POST",
            format!("/api/v1/handovers/{}/conversations", other.handover),
            Some(proposal(
                OffsetDateTime::now_utc() + Duration::days(20),
                &[],
            )),
            None,
            None,
            secrets(other),
        );
        push(
            "consent for another centre's participant",
            staff,
            "POST",
            format!("{}/consents", p(other)),
            Some(
                json!({ "sections": [], "given_on": ago(0), "method": "written_signed",
                          "language": "ti", "interpreter_present": false }),
            ),
            None,
            None,
            secrets(other),
        );
        push(
            "withdraw another centre's consent",
            staff,
            "POST",
            format!("/api/v1/consents/{}/withdraw", other.consent),
            Some(json!({})),
            None,
            None,
            secrets(other),
        );
        // List filters.
        push(
            "handover list filtered by another centre's participant",
            staff,
            "GET",
            format!("/api/v1/handovers?participant_id={}", other.participant),
            None,
            None,
            None,
            secrets(other),
        );
        if !other.duf.is_empty() {
            push(
                "lookup of another centre's participant by DUF",
                staff,
                "POST",
                "/api/v1/participants/lookup".into(),
                Some(json!({ "duf_number": other.duf })),
                None,
                None,
                secrets(other),
            );
        }
    }
    // Bodies: another centre's user as an attendee of one's own conversation.
    // (On Steinkjer's handover: it is accepted, so the attendees are checked, not the state.)
    let krs_staff_user = app.user_id(who::KRS_STAFF).await;
    push(
        "another centre's user as attendee",
        who::STJ_STAFF,
        "POST",
        format!("/api/v1/handovers/{}/conversations", stj.handover),
        Some(proposal(
            OffsetDateTime::now_utc() + Duration::days(20),
            &[krs_staff_user],
        )),
        None,
        None,
        vec![krs_staff_user.to_string()],
    );
    // Minutes naming an organisation that is not a party.
    let conv_tag = etag_of(
        app,
        &krs_tok,
        &format!("/api/v1/conversations/{}", krs.conversation),
    )
    .await;
    push(
        "minutes naming another centre as responsible",
        who::KRS_STAFF,
        "POST",
        format!("/api/v1/conversations/{}/minutes", krs.conversation),
        Some(json!({ "outcome": "held", "notes": "",
            "actions": [{ "description": "Oppfølging", "responsible_organisation_id": stj.org, "due_date": null }] })),
        Some(conv_tag),
        Some("actions[0].responsible_organisation_id"),
        vec![],
    );
    // A settlement "municipality" that is another reception centre.
    let s_tag = etag_of(app, &krs_tok, &format!("{}/settlement", p(krs))).await;
    push(
        "settlement naming another centre as municipality",
        who::KRS_STAFF,
        "PUT",
        format!("{}/settlement", p(krs)),
        Some(json!({ "municipality_id": stj.org, "settlement_date": ago(-20) })),
        Some(s_tag),
        Some("municipality_id"),
        vec![],
    );
    // A local administrator: users of another organisation, by filter and in a body.
    push(
        "user list filtered by another organisation",
        who::KRS_ADMIN,
        "GET",
        format!("/api/v1/users?organisation_id={}", stj.org),
        None,
        None,
        None,
        vec![stj_staff_user.to_string()],
    );
    push(
        "user created in another organisation",
        who::KRS_ADMIN,
        "POST",
        "/api/v1/users".into(),
        Some(
            json!({ "email": "fremmed@demo.no", "name": "Fremmed", "role": "centre_staff",
                     "organisation_id": stj.org }),
        ),
        None,
        None,
        vec![],
    );
    push(
        "setup link for another organisation's user",
        who::KRS_ADMIN,
        "POST",
        format!("/api/v1/users/{stj_staff_user}/password-setup-email"),
        None,
        None,
        None,
        vec![who::STJ_STAFF.into()],
    );
    // The career centre that does not serve Steinkjer: a guidance summary there.
    push(
        "guidance summary for a participant not served",
        who::AGDER_COUNSELLOR,
        "POST",
        format!("{}/guidance-summaries", p(stj)),
        Some(json!({})),
        None,
        None,
        secrets(stj),
    );
    // An offering that does not exist, in one's own summary: 422 naming the step.
    push(
        "pathway naming an unknown offering",
        who::AGDER_COUNSELLOR,
        "POST",
        format!("{}/guidance-summaries", p(krs)),
        Some(json!({ "pathway": [{ "offering_id": Uuid::new_v4(), "reason": "Matrise" }] })),
        None,
        Some("pathway[0].offering_id"),
        vec![],
    );
    // Municipalities: the other municipality's handover, and a Steinkjer handover to Trondheim.
    for (m, foreign) in [(who::KOMMUNE_KRS_STAFF, stj), (who::KOMMUNE_TRD_STAFF, krs)] {
        for what in ["", "/file", "/conversations"] {
            push(
                "another municipality's handover",
                m,
                "GET",
                format!("/api/v1/handovers/{}{what}", foreign.handover),
                None,
                None,
                None,
                secrets(foreign),
            );
        }
        push(
            "another municipality's conversation",
            m,
            "GET",
            format!("/api/v1/conversations/{}", foreign.conversation),
            None,
            None,
            None,
            secrets(foreign),
        );
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_every_role_every_relation_matches_the_policy() {
    let app = spawn_app().await;
    let started = std::time::Instant::now();
    let fx = Arc::new(fixture(&app).await);
    let ops = Arc::new(table());
    let before = fingerprint(&app).await;
    // The fingerprint sees the demo data (an empty one would prove nothing).
    for table in [
        "participants",
        "handovers",
        "conversations",
        "users",
        "consents",
    ] {
        assert!(
            !before[table].starts_with("0:"),
            "{table}: {}",
            before[table]
        );
    }
    let h = http(&app);

    // Build the cells.
    let mut cells = Vec::new();
    for (oi, o) in ops.iter().enumerate() {
        if matches!(o.act, Act::Public) {
            continue;
        }
        for (ci, c) in fx.callers.iter().enumerate() {
            for t in &fx.targets[&o.kind] {
                let rel = relation(o.kind, t, c);
                cells.push(Cell {
                    op: oi,
                    caller: ci,
                    target: t.clone(),
                    rel,
                    want: expected(o, c, rel),
                });
            }
        }
    }
    let outcomes = run_cells(&h, &fx, &ops, cells).await;

    let mut failures = Vec::new();
    let mut fields = Fields::default();
    let mut tally: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut foreign_path_checks = 0;
    for Outcome { cell, res } in &outcomes {
        let o = &ops[cell.op];
        let c = &fx.callers[cell.caller];
        let route = format!("{} {}", o.method, o.path);
        let what = format!(
            "{route} as {} on {} ({})",
            c.email,
            cell.target.label,
            rel_name(cell.rel)
        );
        let s = res.status.as_u16();
        let denied = s == 403 || s == 404;
        *tally
            .entry((
                rel_name(cell.rel),
                if cell.want == Decision::Allow {
                    "allow"
                } else {
                    "deny"
                },
            ))
            .or_default() += 1;
        if s == 401 || s >= 500 {
            failures.push(format!("{what}: {s} {}", res.text));
            continue;
        }
        match cell.want {
            Decision::Allow if denied => {
                failures.push(format!("{what}: unexpected deny {s} {}", res.text))
            }
            Decision::Allow if !o.ok.contains(&s) => failures.push(format!(
                "{what}: allowed, but {s} (expected one of {:?}) {}",
                o.ok, res.text
            )),
            Decision::Allow => {}
            _ if !denied => failures.push(format!("{what}: unexpected allow {s} {}", res.text)),
            want => {
                let code = if want == Decision::Forbidden {
                    403
                } else {
                    404
                };
                if s != code {
                    failures.push(format!("{what}: denied with {s}, the policy says {code}"));
                }
                let ty = res.assert_problem(s);
                assert!(ty.ends_with(if s == 403 { "forbidden" } else { "not-found" }));
                // A refusal says nothing about the target.
                for (_, id) in &cell.target.params {
                    if res.text.contains(&id.to_string()) {
                        failures.push(format!(
                            "{what}: the refusal names the target: {}",
                            res.text
                        ));
                    }
                }
                if want == Decision::NotFound && cell.rel == Some(Relation::Unrelated) {
                    foreign_path_checks += 1;
                }
            }
        }
        fields.record(c.role, &route, res);
        let mut value_failures = Vec::new();
        if res.status.is_success() {
            value_rules(c.role.as_str(), &res.body, &route, &mut value_failures);
        }
        failures.extend(value_failures);
    }
    let matrix_time = started.elapsed();

    // Foreign ids in paths, filters and bodies.
    let probes = probes(&app, &fx).await;
    let mut foreign_probes = 0;
    for pr in &probes {
        let c = fx.callers.iter().find(|c| c.email == pr.caller).unwrap();
        let r = h
            .send(
                pr.method,
                &pr.path,
                Some(&c.token),
                pr.body.as_ref(),
                pr.if_match.as_deref(),
            )
            .await;
        foreign_probes += 1;
        let what = format!("{} ({} {} as {})", pr.what, pr.method, pr.path, pr.caller);
        match pr.invalid_field {
            None => {
                if r.status != 404 {
                    failures.push(format!("{what}: {} {}", r.status, r.text));
                    continue;
                }
                r.assert_problem(404);
            }
            Some(field) => {
                if r.status != 422 || !r.invalid_fields().iter().any(|f| f == field) {
                    failures.push(format!(
                        "{what}: expected 422 naming {field}, got {} {}",
                        r.status, r.text
                    ));
                }
            }
        }
        for s in &pr.secrets {
            if r.text.contains(s.as_str()) {
                failures.push(format!("{what}: the answer leaks `{s}`"));
            }
        }
    }
    // List filters that narrow rather than refuse: the other centre's records never appear.
    for (c, other) in [(&fx.krs, &fx.stj), (&fx.stj, &fx.krs)] {
        let tok = &fx
            .callers
            .iter()
            .find(|x| x.email == c.staff)
            .unwrap()
            .token;
        for path in [
            format!("/api/v1/participants?name={}&limit=100", other.family_name),
            "/api/v1/participants?limit=100".to_owned(),
            "/api/v1/handovers?limit=100".to_owned(),
            "/api/v1/conversations?limit=100".to_owned(),
        ] {
            let r = h.send("GET", &path, Some(tok), None, None).await;
            foreign_probes += 1;
            assert_eq!(r.status, 200, "{path}: {}", r.text);
            for s in [other.participant.to_string(), other.handover.to_string()] {
                if r.text.contains(&s) {
                    failures.push(format!(
                        "{path} as {}: shows the other centre's {s}",
                        c.staff
                    ));
                }
            }
            fields.record(
                Role::CentreStaff,
                &format!("GET {}", path.split('?').next().unwrap()),
                &r,
            );
        }
    }
    // An administrator's audit log, filtered by the other centre's participant: own actors only.
    let krs_admin = fx
        .callers
        .iter()
        .find(|x| x.email == who::KRS_ADMIN)
        .unwrap();
    let r = h
        .send(
            "GET",
            &format!("/api/v1/audit-events?target_id={}", fx.stj.participant),
            Some(&krs_admin.token),
            None,
            None,
        )
        .await;
    foreign_probes += 1;
    assert_eq!(r.status, 200, "{}", r.text);
    for e in r.body["items"].as_array().unwrap() {
        if e["actor_org_id"] != json!(krs_admin.org) {
            failures.push(format!(
                "audit log filter shows another organisation's event: {e}"
            ));
        }
    }

    // Nothing changed anywhere.
    let after = fingerprint(&app).await;
    for (table, v) in &before {
        if after[table] != *v {
            failures.push(format!("table {table} changed during the matrix"));
        }
    }
    let field_checks = check_fields(&fields, &mut failures);
    assert_eq!(
        fields.seen.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "admin",
            "career_counsellor",
            "centre_staff",
            "directorate_staff",
            "municipality_staff"
        ],
        "every role's answers were checked"
    );

    let total = outcomes.len();
    handover_tests::figure!(
        "access matrix: {total} cells ({} operations x {} users x target relations) in {:.1}s",
        ops.iter().filter(|o| !matches!(o.act, Act::Public)).count(),
        fx.callers.len(),
        matrix_time.as_secs_f64()
    );
    for ((rel, want), n) in &tally {
        handover_tests::figure!("  {rel:>7} {want:>5}: {n}");
    }
    handover_tests::figure!(
        "foreign ids: {} checks ({foreign_path_checks} foreign path targets in the matrix, {foreign_probes} probes of mixed paths, filters and bodies)",
        foreign_path_checks + foreign_probes
    );
    handover_tests::figure!(
        "response fields: {field_checks} distinct (role, key) pairs from {} successful answers checked",
        fields.answers
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The matrix is not vacuous: both outcomes occur for every relation.
    for rel in ["own", "shared", "foreign"] {
        for want in ["allow", "deny"] {
            assert!(
                tally.get(&(rel, want)).copied().unwrap_or(0) > 0,
                "no {rel} {want} cells"
            );
        }
    }
    assert!(total > 2000, "only {total} cells");
}
