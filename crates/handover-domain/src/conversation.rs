//! Transfer conversations (overføringssamtaler) between the centre and the municipality.

use crate::participant::{MAX_LONG_TEXT, MAX_SHORT_TEXT, is_language_code, str_enum};
use crate::validation::Validator;
use crate::{FieldError, OrgId, UserId};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

pub const MAX_SLOTS: usize = 5;
pub const MIN_MINUTES: i32 = 15;
pub const MAX_MINUTES: i32 = 480;

str_enum!(
    ConversationMode {
        Video = "video",
        Phone = "phone",
        InPerson = "in_person",
    }
);

str_enum!(
    ConversationState {
        /// Slots proposed; waiting for the other side.
        Proposed = "proposed",
        Confirmed = "confirmed",
        Held = "held",
        /// The participant did not attend; the handover stays open for a new conversation.
        NoShow = "no_show",
        Cancelled = "cancelled",
    }
);

str_enum!(
    ExternalKind {
        Participant = "participant",
        Interpreter = "interpreter",
        Other = "other",
    }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotInput {
    /// RFC 3339 with an offset, e.g. `2026-03-30T10:00:00+02:00`; stored in UTC.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub start: OffsetDateTime,
    #[schema(minimum = 15, maximum = 480)]
    pub duration_minutes: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalAttendee {
    pub kind: ExternalKind,
    #[schema(max_length = 200)]
    pub name: String,
    #[schema(max_length = 254)]
    pub email: Option<String>,
    /// For an interpreter: the language (ISO 639 code).
    pub language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalInput {
    /// One to five candidate time slots.
    #[schema(min_items = 1, max_items = 5)]
    pub slots: Vec<SlotInput>,
    pub mode: ConversationMode,
    /// For video: the meeting link (https).
    #[schema(max_length = 500)]
    pub video_link: Option<String>,
    /// For phone: the number to call.
    #[schema(max_length = 40)]
    pub phone_number: Option<String>,
    /// For in-person meetings: the address.
    #[schema(max_length = 500)]
    pub address: Option<String>,
    /// Users of the centre, its career centre and the municipality.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub internal_attendees: Vec<UserId>,
    #[serde(default)]
    #[schema(max_items = 10)]
    pub external_attendees: Vec<ExternalAttendee>,
}

pub fn validate_slots(v: &mut Validator, field: &str, slots: &[SlotInput], now: OffsetDateTime) {
    v.check(
        !slots.is_empty() && slots.len() <= MAX_SLOTS,
        field,
        "slot_count",
        "give one to five time slots",
    );
    for (i, s) in slots.iter().enumerate() {
        validate_slot(v, &format!("{field}[{i}]."), s, now);
    }
}

/// One slot; `prefix` goes before the field names (empty for a request that is one slot).
pub fn validate_slot(v: &mut Validator, prefix: &str, s: &SlotInput, now: OffsetDateTime) {
    v.check(
        s.start > now,
        &format!("{prefix}start"),
        "in_past",
        "must be in the future",
    );
    v.check(
        s.start < now + time::Duration::days(366),
        &format!("{prefix}start"),
        "too_far",
        "must be within a year",
    );
    v.check(
        (MIN_MINUTES..=MAX_MINUTES).contains(&s.duration_minutes),
        &format!("{prefix}duration_minutes"),
        "out_of_range",
        "must be 15 to 480 minutes",
    );
}

impl ProposalInput {
    pub fn validate(&self, now: OffsetDateTime) -> Result<(), Vec<FieldError>> {
        let mut v = Validator::new();
        validate_slots(&mut v, "slots", &self.slots, now);
        match self.mode {
            ConversationMode::Video => v.check(
                self.video_link.as_deref().is_some_and(|l| {
                    l.starts_with("https://") && l.len() <= 500 && !l.contains(char::is_whitespace)
                }),
                "video_link",
                "required",
                "a video meeting needs an https link",
            ),
            ConversationMode::Phone => v.check(
                self.phone_number.as_deref().is_some_and(|p| {
                    !p.trim().is_empty()
                        && p.len() <= 40
                        && p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c))
                }),
                "phone_number",
                "required",
                "a phone meeting needs a number (digits, spaces, + - ( ))",
            ),
            ConversationMode::InPerson => match &self.address {
                Some(a) => v.text("address", a, 500),
                None => v.add(
                    "address",
                    "required",
                    "an in-person meeting needs an address",
                ),
            },
        }
        v.check(
            self.internal_attendees.len() <= 20,
            "internal_attendees",
            "too_many",
            "at most 20",
        );
        let mut seen = std::collections::HashSet::new();
        for (i, u) in self.internal_attendees.iter().enumerate() {
            v.check(
                seen.insert(*u),
                &format!("internal_attendees[{i}]"),
                "duplicate",
                "each user at most once",
            );
        }
        v.check(
            self.external_attendees.len() <= 10,
            "external_attendees",
            "too_many",
            "at most 10",
        );
        for (i, a) in self.external_attendees.iter().enumerate() {
            v.person_name(
                &format!("external_attendees[{i}].name"),
                &a.name,
                MAX_SHORT_TEXT,
            );
            if let Some(e) = &a.email {
                v.email(&format!("external_attendees[{i}].email"), e);
            }
            match (a.kind, &a.language) {
                (ExternalKind::Interpreter, Some(l)) => v.check(
                    is_language_code(l),
                    &format!("external_attendees[{i}].language"),
                    "invalid_language",
                    "must be an ISO 639 code",
                ),
                (ExternalKind::Interpreter, None) => v.add(
                    format!("external_attendees[{i}].language"),
                    "required",
                    "say which language the interpreter uses",
                ),
                (_, Some(_)) => v.add(
                    format!("external_attendees[{i}].language"),
                    "not_allowed",
                    "only interpreters have a language",
                ),
                (_, None) => {}
            }
        }
        v.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Slot {
    pub position: i32,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub start_utc: OffsetDateTime,
    /// The same instant in Europe/Oslo time.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub start_oslo: OffsetDateTime,
    pub duration_minutes: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InternalAttendee {
    pub user_id: UserId,
    pub name: String,
    pub organisation_id: OrgId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreedAction {
    #[schema(max_length = 2000)]
    pub description: String,
    pub responsible_organisation_id: OrgId,
    pub due_date: Option<Date>,
}

str_enum!(
    Outcome {
        Held = "held",
        NoShow = "no_show",
    }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MinutesInput {
    pub outcome: Outcome,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub notes: String,
    #[serde(default)]
    #[schema(max_items = 30)]
    pub actions: Vec<AgreedAction>,
}

impl MinutesInput {
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut v = Validator::new();
        v.free_text("notes", &self.notes, 4000);
        v.check(
            self.actions.len() <= 30,
            "actions",
            "too_many",
            "at most 30 actions",
        );
        for (i, a) in self.actions.iter().enumerate() {
            v.text(
                &format!("actions[{i}].description"),
                &a.description,
                MAX_LONG_TEXT,
            );
        }
        v.finish()
    }
}

str_enum!(
    /// Where an agreed action stands. Set by the organisation responsible for it.
    ActionStatus {
        Open = "open",
        Done = "done",
        /// Not done and not to be: with the reason.
        Dropped = "dropped",
    }
);

/// An action agreed in a conversation's minutes, as it is followed up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TrackedAction {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub handover_id: Uuid,
    pub handover_reference: String,
    pub description: String,
    pub responsible_organisation_id: OrgId,
    pub responsible_organisation_name: String,
    pub due_date: Option<Date>,
    pub status: ActionStatus,
    pub drop_reason: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub status_changed_at: Option<OffsetDateTime>,
    pub status_changed_by_name: Option<String>,
    /// Open, and its due date has passed.
    pub overdue: bool,
    pub version: i32,
}

/// A change of an agreed action's status by the organisation responsible for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionStatusChange {
    pub status: ActionStatus,
    /// Why the action is dropped: required for `dropped`, refused otherwise.
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

impl ActionStatusChange {
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut v = Validator::new();
        match (&self.status, self.reason.as_deref().map(str::trim)) {
            (ActionStatus::Dropped, None | Some("")) => {
                v.add("reason", "required", "say why the action is dropped");
            }
            (ActionStatus::Dropped, Some(r)) => v.text("reason", r, 1000),
            (_, Some(r)) if !r.is_empty() => {
                v.add(
                    "reason",
                    "only_when_dropped",
                    "a reason is given only when dropping",
                );
            }
            _ => {}
        }
        v.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Minutes {
    #[serde(flatten)]
    pub data: MinutesInput,
    pub recorded_by_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Conversation {
    pub id: Uuid,
    pub handover_id: Uuid,
    pub handover_reference: String,
    pub state: ConversationState,
    /// The organisation whose turn it is not: the side that proposed the current slots.
    pub proposed_by_organisation_id: OrgId,
    pub mode: ConversationMode,
    pub video_link: Option<String>,
    pub phone_number: Option<String>,
    pub address: Option<String>,
    /// Candidate slots while proposed.
    pub slots: Vec<Slot>,
    /// The agreed time once confirmed.
    pub confirmed_slot: Option<Slot>,
    pub internal_attendees: Vec<InternalAttendee>,
    pub external_attendees: Vec<ExternalAttendee>,
    /// The calendar event's UID (stable) and SEQUENCE (grows with every change).
    pub calendar_uid: String,
    pub calendar_sequence: i32,
    pub cancel_reason: Option<String>,
    pub minutes: Option<Minutes>,
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn proposal() -> ProposalInput {
        ProposalInput {
            slots: vec![SlotInput {
                start: datetime!(2026-12-01 10:00 +1),
                duration_minutes: 60,
            }],
            mode: ConversationMode::Video,
            video_link: Some("https://meet.example.no/abc".into()),
            phone_number: None,
            address: None,
            internal_attendees: vec![],
            external_attendees: vec![ExternalAttendee {
                kind: ExternalKind::Interpreter,
                name: "Tolk".into(),
                email: None,
                language: Some("ti".into()),
            }],
        }
    }

    #[test]
    fn proposals_are_checked() {
        let now = datetime!(2026-11-22 12:00 UTC);
        assert!(proposal().validate(now).is_ok());
        let mut p = proposal();
        p.slots = vec![];
        assert_eq!(
            p.validate(now).err().unwrap_or_default()[0].code,
            "slot_count"
        );
        let mut p = proposal();
        p.slots = (0..6)
            .map(|i| SlotInput {
                start: now + time::Duration::days(i + 1),
                duration_minutes: 60,
            })
            .collect();
        assert!(p.validate(now).is_err());
        let mut p = proposal();
        p.slots[0].start = now - time::Duration::hours(1);
        assert_eq!(
            p.validate(now).err().unwrap_or_default()[0].field,
            "slots[0].start"
        );
        let mut p = proposal();
        p.video_link = Some("http://insecure".into());
        assert_eq!(
            p.validate(now).err().unwrap_or_default()[0].field,
            "video_link"
        );
        let mut p = proposal();
        p.external_attendees[0].language = None;
        assert_eq!(
            p.validate(now).err().unwrap_or_default()[0].field,
            "external_attendees[0].language"
        );
        let mut p = proposal();
        p.mode = ConversationMode::InPerson;
        assert_eq!(
            p.validate(now).err().unwrap_or_default()[0].field,
            "address"
        );
    }
}
