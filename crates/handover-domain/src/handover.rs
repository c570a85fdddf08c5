//! Settlement, consent and the handover to the settlement municipality: its sections, legal
//! bases, readiness check and state machine (after HL7 FHIR Task).

use crate::participant::{
    MAX_LIST_ITEMS, MAX_LONG_TEXT, MAX_SHORT_TEXT, check_not_future, is_language_code, str_enum,
};
use crate::validation::Validator;
use crate::{FieldError, OrgId};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

str_enum!(
    /// The parts of a handover file, each shared under its own legal basis.
    Section {
        IdentityAndProgramme = "identity_and_programme",
        CompetenceMapping = "competence_mapping",
        GuidanceSummary = "guidance_summary",
        HealthAndAdaptation = "health_and_adaptation",
    }
);

/// Why a section may be shared without the participant's consent, if at all. Health and
/// adaptation needs (GDPR art. 9) are shared only under explicit consent.
///
/// Checked against public sources in issue 22 (`docs/research/catalogue-sources/legal-bases.md`):
/// the provisions exist and cover these subjects, but what the sources leave open is said with
/// every file section (`basis_open_question`) and in docs/privacy.md, for the data-protection
/// officer to settle.
pub fn statutory_basis(s: Section) -> Option<&'static str> {
    match s {
        Section::IdentityAndProgramme => Some(
            "Integreringsloven § 41 og integreringsforskriften kapittel 9 (§§ 44-46): opplysninger kommunen trenger for å planlegge introduksjonsprogrammet (integreringsloven §§ 12-15)",
        ),
        // Not "the mapping shall follow the participant": no source says so; § 6 is the
        // provision on mapping before settlement, and the sources name IMDinett as its channel.
        Section::CompetenceMapping => Some(
            "Integreringsloven § 6 (kompetansekartlegging før bosetting i en kommune), jf. § 41",
        ),
        Section::GuidanceSummary | Section::HealthAndAdaptation => None,
    }
}

/// A public source for a statutory basis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LegalSource {
    pub title: String,
    pub url: String,
    pub checked: Date,
}

const BASES_CHECKED: Date = time::macros::date!(2026 - 12 - 02);

/// Where the statutory basis of a section is stated (none for the sections shared on consent).
pub fn basis_sources(s: Section) -> Vec<LegalSource> {
    let list: &[(&str, &str)] = match s {
        Section::IdentityAndProgramme => &[
            (
                "Integreringsloven (lov 6. november 2020 nr. 127)",
                "https://norgeslover.no/lov/NL%2Flov%2F2020-11-06-127",
            ),
            (
                "IMDi: Juridisk veileder til integreringsforskriften, kapittel 9 Behandling av personopplysninger",
                "https://imdi.no/kvalifisering/regelverk/juridisk-veileder-til-integreringsforskriften/kapittel-9-behandling-av-personopplysninger",
            ),
            (
                "IMDi: Retningslinjer for søknad om utlevering av opplysninger fra IMDinett",
                "https://www.imdi.no/imdinett/retningslinjer-for-soknad-om-utlevering-av-opplysninger-fra-imdinett/",
            ),
        ],
        Section::CompetenceMapping => &[
            (
                "Integreringsloven (lov 6. november 2020 nr. 127)",
                "https://norgeslover.no/lov/NL%2Flov%2F2020-11-06-127",
            ),
            (
                "IMDi: Kompetansekartlegging etter integreringsloven",
                "https://www.imdi.no/kvalifisering/regelverk/introduksjonsprogrammet/kompetansekartlegging-etter-integreringsloven/",
            ),
            (
                "IMDi: Kompetansekartlegging i asylmottak",
                "https://www.imdi.no/kvalifisering/regelverk/kvalifisering-i-mottak/kompetansekartlegging-i-asylmottak/",
            ),
        ],
        Section::GuidanceSummary | Section::HealthAndAdaptation => &[],
    };
    list.iter()
        .map(|(title, url)| LegalSource {
            title: (*title).into(),
            url: (*url).into(),
            checked: BASES_CHECKED,
        })
        .collect()
}

/// What the sources leave open about a section's statutory basis, said on the file itself so
/// that no recipient reads a proposal as settled law.
pub fn basis_open_question(s: Section) -> Option<&'static str> {
    match s {
        Section::IdentityAndProgramme => Some(
            "Ikke avklart: ordlyden i integreringsloven § 41 er ikke kontrollert mot kilden, heller ikke om den gir adgang til å utlevere opplysningene fra mottaket til bosettingskommunen, og om den dekker språk og tolkespråk, som kan vise etnisk opprinnelse. Spørsmålet ligger hos personvernombudet. / Not settled: the wording of section 41 has not been checked against the source, nor whether it allows the centre to disclose this to the settlement municipality and covers languages and interpreter language, which can reveal ethnic origin. The question is with the data-protection officer.",
        ),
        Section::CompetenceMapping => Some(
            "Ikke avklart: ingen kilde sier at kartleggingen fra mottaket skal sendes bosettingskommunen; kildene beskriver IMDinett som kanalen, og retten og plikten etter § 6 gjelder først når tillatelsen er gitt. Spørsmålet ligger hos personvernombudet. / Not settled: no source says that the centre's mapping is to be sent to the settlement municipality; the sources name IMDinett as the channel, and the right and duty under section 6 apply only once the permit is granted. The question is with the data-protection officer.",
        ),
        Section::GuidanceSummary | Section::HealthAndAdaptation => None,
    }
}

/// What the municipality may use a section for.
pub fn purpose(s: Section) -> &'static str {
    match s {
        Section::IdentityAndProgramme => {
            "Identifisere deltakeren og planlegge introduksjonsprogram og integreringsplan (integreringsloven §§ 12-15)"
        }
        Section::CompetenceMapping => {
            "Bygge videre på kartleggingen i integreringsplanen (integreringsloven § 6 og § 15)"
        }
        Section::GuidanceSummary => {
            "Bygge videre på karriereveiledningen i mottaket i veiledningen etter integreringsloven § 11"
        }
        Section::HealthAndAdaptation => {
            "Tilrettelegge introduksjonsprogrammet etter deltakerens behov"
        }
    }
}

str_enum!(
    /// How consent was obtained.
    ConsentMethod {
        WrittenSigned = "written_signed",
        OralRecorded = "oral_recorded",
        Digital = "digital",
    }
);

/// A consent decision, as recorded by centre staff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    /// Sections the participant agreed to share. Empty: the participant declined.
    pub sections: Vec<Section>,
    pub given_on: Date,
    pub method: ConsentMethod,
    /// The language the consent conversation was held in (ISO 639 code).
    #[schema(pattern = "^[a-z]{2,3}$")]
    pub language: String,
    pub interpreter_present: bool,
}

impl ConsentInput {
    pub fn validate(&self, today: Date) -> Result<(), Vec<FieldError>> {
        let mut v = Validator::new();
        let mut seen = std::collections::HashSet::new();
        for (i, s) in self.sections.iter().enumerate() {
            v.check(
                seen.insert(*s),
                &format!("sections[{i}]"),
                "duplicate",
                "each section at most once",
            );
        }
        check_not_future(&mut v, "given_on", self.given_on, today);
        v.check(
            is_language_code(&self.language),
            "language",
            "invalid_language",
            "must be an ISO 639 code in lower case",
        );
        v.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Consent {
    pub id: Uuid,
    pub participant_id: Uuid,
    #[serde(flatten)]
    pub data: ConsentInput,
    pub recorded_by_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub withdrawn_at: Option<OffsetDateTime>,
    pub withdrawn_by_name: Option<String>,
    pub withdrawal_note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[schema(max_length = 200)]
    pub name: String,
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 40)]
    pub phone: Option<String>,
    /// e.g. "programrådgiver".
    #[schema(max_length = 200)]
    pub role: Option<String>,
}

/// The settlement decision, as registered by centre staff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettlementInput {
    /// The settlement municipality (an organisation of kind `municipality`).
    pub municipality_id: OrgId,
    pub settlement_date: Date,
    /// The municipality's contact people, if known.
    #[serde(default)]
    pub contacts: Vec<Contact>,
}

impl SettlementInput {
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut v = Validator::new();
        v.check(
            self.contacts.len() <= 10,
            "contacts",
            "too_many",
            "at most 10 contacts",
        );
        for (i, c) in self.contacts.iter().enumerate() {
            v.person_name(&format!("contacts[{i}].name"), &c.name, MAX_SHORT_TEXT);
            if let Some(e) = &c.email {
                v.email(&format!("contacts[{i}].email"), e);
            }
            if let Some(p) = &c.phone {
                v.check(
                    p.len() <= 40 && p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)),
                    &format!("contacts[{i}].phone"),
                    "invalid_phone",
                    "digits, spaces and + - ( ) only",
                );
            }
            if let Some(r) = &c.role {
                v.text(&format!("contacts[{i}].role"), r, MAX_SHORT_TEXT);
            }
        }
        v.check(
            self.settlement_date.year() >= 2000,
            "settlement_date",
            "out_of_range",
            "must be in 2000 or later",
        );
        v.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Settlement {
    pub participant_id: Uuid,
    #[serde(flatten)]
    pub data: SettlementInput,
    pub municipality_name: String,
    pub municipality_number: Option<String>,
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

str_enum!(
    AdaptationCategory {
        Mobility = "mobility",
        Hearing = "hearing",
        Vision = "vision",
        Learning = "learning",
        MentalHealth = "mental_health",
        ChronicCondition = "chronic_condition",
        CareResponsibilities = "care_responsibilities",
        Other = "other",
    }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdaptationNeed {
    pub category: AdaptationCategory,
    /// What the need is and what adaptation helps, in plain words.
    #[schema(max_length = 2000)]
    pub description: String,
}

/// Health and special adaptation needs: shared only under explicit consent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdaptationNeedsInput {
    pub needs: Vec<AdaptationNeed>,
}

impl AdaptationNeedsInput {
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut v = Validator::new();
        v.check(
            self.needs.len() <= MAX_LIST_ITEMS,
            "needs",
            "too_many",
            "at most 30 entries",
        );
        for (i, n) in self.needs.iter().enumerate() {
            v.text(
                &format!("needs[{i}].description"),
                &n.description,
                MAX_LONG_TEXT,
            );
        }
        v.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AdaptationNeeds {
    pub participant_id: Uuid,
    #[serde(flatten)]
    pub data: AdaptationNeedsInput,
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

str_enum!(
    /// Where a handover stands (after the HL7 FHIR Task status and the BSeR business states).
    HandoverState {
        Draft = "draft",
        Sent = "sent",
        Received = "received",
        Accepted = "accepted",
        ConversationScheduled = "conversation_scheduled",
        Completed = "completed",
        Cancelled = "cancelled",
        Declined = "declined",
    }
);

str_enum!(
    /// What can happen to a handover.
    HandoverEvent {
        /// The centre sends the first version of the file.
        Send = "send",
        /// The centre sends an updated version of an already sent file.
        Update = "update",
        /// The municipality opens the file for the first time.
        Receive = "receive",
        Accept = "accept",
        Decline = "decline",
        Cancel = "cancel",
        /// A transfer conversation is confirmed.
        ScheduleConversation = "schedule_conversation",
        /// A confirmed conversation is cancelled, or the participant did not attend.
        UnscheduleConversation = "unschedule_conversation",
        Complete = "complete",
    }
);

/// Which side of a handover acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Centre,
    Municipality,
}

impl HandoverState {
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            HandoverState::Completed | HandoverState::Cancelled | HandoverState::Declined
        )
    }
}

/// The state machine: the state an event leads to, if the event is legal here for this side.
pub fn transition(from: HandoverState, event: HandoverEvent, side: Side) -> Option<HandoverState> {
    use HandoverEvent as E;
    use HandoverState as S;
    let to = match (from, event, side) {
        (S::Draft, E::Send, Side::Centre) => S::Sent,
        (
            S::Sent | S::Received | S::Accepted | S::ConversationScheduled,
            E::Update,
            Side::Centre,
        ) => from,
        (S::Sent, E::Receive, Side::Municipality) => S::Received,
        (S::Received, E::Accept, Side::Municipality) => S::Accepted,
        (S::Sent | S::Received, E::Decline, Side::Municipality) => S::Declined,
        (
            S::Draft | S::Sent | S::Received | S::Accepted | S::ConversationScheduled,
            E::Cancel,
            Side::Centre,
        ) => S::Cancelled,
        (S::Accepted, E::ScheduleConversation, _) => S::ConversationScheduled,
        (S::ConversationScheduled, E::UnscheduleConversation, _) => S::Accepted,
        (S::Accepted | S::ConversationScheduled, E::Complete, _) => S::Completed,
        _ => return None,
    };
    Some(to)
}

/// Something the readiness check found missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MissingItem {
    /// `competence_mapping`, `norwegian_levels`, `guidance_summary`, `consent_decision`, `settlement_date`.
    pub item: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    pub ready: bool,
    pub missing: Vec<MissingItem>,
}

/// What the readiness check looks at.
pub struct ReadinessFacts {
    pub has_mapping: bool,
    pub skills_assessed: usize,
    pub has_final_guidance: bool,
    pub has_consent_decision: bool,
    pub has_settlement_date: bool,
}

pub fn readiness(f: &ReadinessFacts) -> Readiness {
    let mut missing = Vec::new();
    let mut need = |ok: bool, item: &str, message: &str| {
        if !ok {
            missing.push(MissingItem {
                item: item.into(),
                message: message.into(),
            });
        }
    };
    need(
        f.has_mapping,
        "competence_mapping",
        "No competence mapping is recorded.",
    );
    need(
        f.skills_assessed == 4,
        "norwegian_levels",
        "Norwegian levels are not recorded for all four skills.",
    );
    need(
        f.has_final_guidance,
        "guidance_summary",
        "No finalised career-guidance summary.",
    );
    need(
        f.has_consent_decision,
        "consent_decision",
        "The participant's consent decision is not recorded.",
    );
    need(
        f.has_settlement_date,
        "settlement_date",
        "No settlement date is registered.",
    );
    Readiness {
        ready: missing.is_empty(),
        missing,
    }
}

/// One section of a sent file as the recipient sees it: shared with its legal basis and purpose,
/// or withheld with the reason — never a silent gap.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FileSection {
    pub section: Section,
    /// `shared` (with `content`), `not_recorded` (it could be shared, but nothing is recorded
    /// yet; `content` is null) or `withheld` (no legal basis; `content` is null and
    /// `withheld_reason` says why).
    pub status: String,
    /// The law reference or "consent (date)" under which it is shared.
    pub legal_basis: Option<String>,
    /// Where a statutory basis is stated (empty for a basis of consent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub legal_basis_sources: Vec<LegalSource>,
    /// What the sources leave open about the statutory basis, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis_open_question: Option<String>,
    pub purpose: String,
    /// Why it is withheld.
    pub withheld_reason: Option<String>,
    /// The consent the sharing rests on, when it rests on consent.
    pub consent_id: Option<Uuid>,
    /// Whether this section changed since the version the municipality last opened.
    pub changed_since_last_opened: bool,
    /// The section's data when `status` is `shared`; its schema depends on `section` (the
    /// OpenAPI document gives one variant of this schema per section).
    // Kept as the stored JSON text: a file is read far more often than it is sent, and
    // copying the text spares every reading a parse and a re-serialisation of the whole
    // section. Pages that render it parse it with `FileSection::content_value`.
    #[schema(value_type = Option<Object>)]
    pub content: Option<Box<serde_json::value::RawValue>>,
}

impl FileSection {
    /// The section's data as a JSON tree, for renderers that walk it.
    pub fn content_value(&self) -> Option<serde_json::Value> {
        self.content
            .as_ref()
            .and_then(|c| serde_json::from_str(c.get()).ok())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Transition {
    pub from_state: Option<HandoverState>,
    pub to_state: HandoverState,
    pub event: HandoverEvent,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor_name: String,
    pub actor_organisation_id: Option<OrgId>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Opening {
    pub file_version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub user_name: String,
    pub organisation_id: Option<OrgId>,
}

/// A file version as sent: when, by whom, and whether it went with items missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SentVersion {
    pub file_version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
    pub sent_by_name: String,
    /// How many readiness items were missing when it was sent.
    pub missing_items: i32,
    /// Why it was sent anyway, when items were missing.
    pub missing_reason: Option<String>,
}

/// A reason typed by staff (cancel, decline, sending despite missing items).
pub fn validate_reason(field: &str, reason: &str) -> Result<(), Vec<FieldError>> {
    let mut v = Validator::new();
    v.text(field, reason, MAX_LONG_TEXT);
    v.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use HandoverEvent as E;
    use HandoverState as S;

    #[test]
    fn every_legal_and_illegal_transition() {
        let legal: &[(S, E, Side, S)] = &[
            (S::Draft, E::Send, Side::Centre, S::Sent),
            (S::Sent, E::Update, Side::Centre, S::Sent),
            (S::Received, E::Update, Side::Centre, S::Received),
            (S::Accepted, E::Update, Side::Centre, S::Accepted),
            (
                S::ConversationScheduled,
                E::Update,
                Side::Centre,
                S::ConversationScheduled,
            ),
            (S::Sent, E::Receive, Side::Municipality, S::Received),
            (S::Received, E::Accept, Side::Municipality, S::Accepted),
            (S::Sent, E::Decline, Side::Municipality, S::Declined),
            (S::Received, E::Decline, Side::Municipality, S::Declined),
            (S::Draft, E::Cancel, Side::Centre, S::Cancelled),
            (S::Sent, E::Cancel, Side::Centre, S::Cancelled),
            (S::Received, E::Cancel, Side::Centre, S::Cancelled),
            (S::Accepted, E::Cancel, Side::Centre, S::Cancelled),
            (
                S::ConversationScheduled,
                E::Cancel,
                Side::Centre,
                S::Cancelled,
            ),
            (
                S::Accepted,
                E::ScheduleConversation,
                Side::Centre,
                S::ConversationScheduled,
            ),
            (
                S::Accepted,
                E::ScheduleConversation,
                Side::Municipality,
                S::ConversationScheduled,
            ),
            (
                S::ConversationScheduled,
                E::UnscheduleConversation,
                Side::Centre,
                S::Accepted,
            ),
            (
                S::ConversationScheduled,
                E::UnscheduleConversation,
                Side::Municipality,
                S::Accepted,
            ),
            (S::Accepted, E::Complete, Side::Centre, S::Completed),
            (S::Accepted, E::Complete, Side::Municipality, S::Completed),
            (
                S::ConversationScheduled,
                E::Complete,
                Side::Centre,
                S::Completed,
            ),
            (
                S::ConversationScheduled,
                E::Complete,
                Side::Municipality,
                S::Completed,
            ),
        ];
        let mut checked = 0;
        for from in S::ALL {
            for event in HandoverEvent::ALL {
                for side in [Side::Centre, Side::Municipality] {
                    let expected = legal
                        .iter()
                        .find(|l| l.0 == *from && l.1 == *event && l.2 == side)
                        .map(|l| l.3);
                    assert_eq!(
                        transition(*from, *event, side),
                        expected,
                        "{from:?} {event:?} {side:?}"
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 8 * 9 * 2);
        // Closed states stay closed.
        for closed in [S::Completed, S::Cancelled, S::Declined] {
            assert!(!closed.is_open());
            for event in HandoverEvent::ALL {
                assert_eq!(transition(closed, *event, Side::Centre), None);
                assert_eq!(transition(closed, *event, Side::Municipality), None);
            }
        }
    }

    #[test]
    fn health_needs_explicit_consent() {
        assert!(statutory_basis(Section::HealthAndAdaptation).is_none());
        assert!(statutory_basis(Section::GuidanceSummary).is_none());
        assert!(statutory_basis(Section::IdentityAndProgramme).is_some());
    }

    /// Issue 22: every statutory basis printed on a file names its sources and says what they
    /// leave open; a section shared on consent claims no statute.
    #[test]
    fn every_statutory_basis_has_sources_and_its_open_question() {
        for s in Section::ALL {
            let sources = basis_sources(*s);
            match statutory_basis(*s) {
                Some(text) => {
                    assert!(!sources.is_empty(), "{s:?}");
                    assert!(sources.iter().all(|x| x.url.starts_with("https://")));
                    let open = basis_open_question(*s).unwrap_or_default();
                    assert!(open.starts_with("Ikke avklart"), "{s:?}: {open}");
                    assert!(text.contains('§'), "{s:?}: names its provision");
                }
                None => assert!(sources.is_empty() && basis_open_question(*s).is_none()),
            }
        }
        let file = compose_sections(
            Section::ALL
                .iter()
                .map(|s| SectionSource {
                    section: *s,
                    content: None,
                })
                .collect(),
            &[],
        );
        for f in &file {
            let statutory = statutory_basis(f.section).is_some();
            assert_eq!(
                !f.legal_basis_sources.is_empty(),
                statutory,
                "{:?}",
                f.section
            );
            assert_eq!(f.legal_basis_open_question.is_some(), statutory);
        }
    }

    #[test]
    fn readiness_lists_what_is_missing() {
        let all = ReadinessFacts {
            has_mapping: true,
            skills_assessed: 4,
            has_final_guidance: true,
            has_consent_decision: true,
            has_settlement_date: true,
        };
        assert!(readiness(&all).ready);
        let none = ReadinessFacts {
            has_mapping: false,
            skills_assessed: 3,
            has_final_guidance: false,
            has_consent_decision: false,
            has_settlement_date: false,
        };
        let r = readiness(&none);
        assert!(!r.ready);
        let items: Vec<_> = r.missing.iter().map(|m| m.item.as_str()).collect();
        assert_eq!(
            items,
            [
                "competence_mapping",
                "norwegian_levels",
                "guidance_summary",
                "consent_decision",
                "settlement_date"
            ]
        );
    }
}

/// A handover as both sides see it in lists (the file itself is fetched separately).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Handover {
    pub id: Uuid,
    /// A human reference for e-mails and phone calls, e.g. `HO-2026-000042`.
    pub reference: String,
    pub participant_id: Uuid,
    pub reception_centre_id: OrgId,
    pub reception_centre_name: String,
    pub municipality_id: OrgId,
    pub municipality_name: String,
    pub state: HandoverState,
    /// From the latest sent file (`null` before sending, or when identity is withheld).
    pub participant_name: Option<String>,
    pub settlement_date: Option<Date>,
    /// 0 until sent.
    pub latest_file_version: i32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
    /// The latest version the municipality has opened (0: never opened).
    pub recipient_opened_version: i32,
    /// The municipality has not opened the latest version.
    pub unread: bool,
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// What decisions about a handover rest on: its parties, state and versions. It leaves out what
/// the handover says about the participant (their name, the settlement date), so a use case can
/// decide without holding those, and answers with the whole [`Handover`] only after its audit row.
#[derive(Debug, Clone, PartialEq)]
pub struct HandoverHead {
    pub id: Uuid,
    pub reference: String,
    pub participant_id: Uuid,
    pub reception_centre_id: OrgId,
    pub reception_centre_name: String,
    pub municipality_id: OrgId,
    pub municipality_name: String,
    pub state: HandoverState,
    pub latest_file_version: i32,
    pub recipient_opened_version: i32,
    pub version: i32,
}

impl From<&Handover> for HandoverHead {
    fn from(h: &Handover) -> Self {
        HandoverHead {
            id: h.id,
            reference: h.reference.clone(),
            participant_id: h.participant_id,
            reception_centre_id: h.reception_centre_id,
            reception_centre_name: h.reception_centre_name.clone(),
            municipality_id: h.municipality_id,
            municipality_name: h.municipality_name.clone(),
            state: h.state,
            latest_file_version: h.latest_file_version,
            recipient_opened_version: h.recipient_opened_version,
            version: h.version,
        }
    }
}

/// The data of one section as loaded when the file is sent (`None`: nothing recorded).
pub struct SectionSource {
    pub section: Section,
    pub content: Option<Box<serde_json::value::RawValue>>,
}

fn consent_basis(c: &Consent) -> String {
    format!(
        "Samtykke / consent {} ({}, {}{})",
        c.data.given_on,
        c.data.method.as_str(),
        c.data.language,
        if c.data.interpreter_present {
            ", med tolk / with interpreter"
        } else {
            ""
        }
    )
}

/// Decides for each section whether it is shared, and under which legal basis, or withheld and
/// why. The newest consent decision that is not withdrawn is the participant's current will.
pub fn compose_sections(sources: Vec<SectionSource>, consents: &[Consent]) -> Vec<FileSection> {
    let current = consents
        .iter()
        .filter(|c| c.withdrawn_at.is_none())
        .max_by_key(|c| (c.recorded_at, c.id));
    let any_withdrawn = consents.iter().any(|c| c.withdrawn_at.is_some());
    sources
        .into_iter()
        .map(|src| {
            let s = src.section;
            let shared = |legal_basis: String, consent_id: Option<Uuid>| FileSection {
                section: s,
                status: if src.content.is_some() { "shared" } else { "not_recorded" }.into(),
                legal_basis: Some(legal_basis),
                legal_basis_sources: if consent_id.is_none() { basis_sources(s) } else { Vec::new() },
                legal_basis_open_question: consent_id
                    .is_none()
                    .then(|| basis_open_question(s))
                    .flatten()
                    .map(str::to_owned),
                purpose: purpose(s).into(),
                withheld_reason: None,
                consent_id,
                changed_since_last_opened: false,
                content: src.content.clone(),
            };
            let withheld = |reason: &str| FileSection {
                section: s,
                status: "withheld".into(),
                legal_basis: None,
                legal_basis_sources: Vec::new(),
                legal_basis_open_question: None,
                purpose: purpose(s).into(),
                withheld_reason: Some(reason.into()),
                consent_id: None,
                changed_since_last_opened: false,
                content: None,
            };
            if let Some(law) = statutory_basis(s) {
                return shared(law.into(), None);
            }
            match current {
                Some(c) if c.data.sections.contains(&s) => shared(consent_basis(c), Some(c.id)),
                Some(_) => withheld("Deltakeren har ikke samtykket til å dele denne delen. / The participant has not consented to sharing this section."),
                None if any_withdrawn => withheld("Deltakeren har trukket tilbake samtykket. / The participant has withdrawn consent."),
                None => withheld("Samtykke er ikke registrert, og delen har ikke annet rettsgrunnlag. / No consent is recorded and there is no other legal basis."),
            }
        })
        .collect()
}

/// Applies consents withdrawn after sending: those sections are withheld from now on.
pub fn apply_withdrawals(sections: &mut [FileSection], withdrawn: &[(Uuid, OffsetDateTime)]) {
    for s in sections.iter_mut() {
        if let Some((_, at)) = s
            .consent_id
            .and_then(|id| withdrawn.iter().find(|w| w.0 == id))
        {
            s.status = "withheld".into();
            s.content = None;
            s.legal_basis = None;
            s.legal_basis_sources.clear();
            s.legal_basis_open_question = None;
            s.withheld_reason = Some(format!(
                "Deltakeren trakk tilbake samtykket {} / The participant withdrew consent on {}.",
                at.date(),
                at.date()
            ));
        }
    }
}

#[cfg(test)]
mod section_tests {
    use super::*;

    fn consent(sections: &[Section], recorded_at: OffsetDateTime, withdrawn: bool) -> Consent {
        Consent {
            id: Uuid::new_v4(),
            participant_id: Uuid::nil(),
            data: ConsentInput {
                sections: sections.to_vec(),
                given_on: recorded_at.date(),
                method: ConsentMethod::WrittenSigned,
                language: "ti".into(),
                interpreter_present: true,
            },
            recorded_by_name: "x".into(),
            recorded_at,
            withdrawn_at: withdrawn.then_some(recorded_at),
            withdrawn_by_name: None,
            withdrawal_note: None,
        }
    }

    fn sources() -> Vec<SectionSource> {
        Section::ALL
            .iter()
            .map(|s| SectionSource {
                section: *s,
                content: serde_json::value::to_raw_value(&serde_json::json!({"x": 1})).ok(),
            })
            .collect()
    }

    fn statuses(f: &[FileSection]) -> Vec<&str> {
        f.iter().map(|s| s.status.as_str()).collect()
    }

    #[test]
    fn without_consent_only_statutory_sections_are_shared() {
        let f = compose_sections(sources(), &[]);
        assert_eq!(statuses(&f), ["shared", "shared", "withheld", "withheld"]);
        assert!(
            f[2].withheld_reason
                .as_deref()
                .is_some_and(|r| r.contains("No consent"))
        );
        assert!(f.iter().all(|s| !s.purpose.is_empty()));
    }

    #[test]
    fn the_newest_consent_decides_and_withdrawal_withholds() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let old = consent(
            &[Section::GuidanceSummary, Section::HealthAndAdaptation],
            t0,
            false,
        );
        let new = consent(
            &[Section::GuidanceSummary],
            t0 + time::Duration::days(1),
            false,
        );
        let mut f = compose_sections(sources(), &[old.clone(), new.clone()]);
        assert_eq!(statuses(&f), ["shared", "shared", "shared", "withheld"]);
        assert_eq!(f[2].consent_id, Some(new.id));
        assert!(
            f[2].legal_basis
                .as_deref()
                .is_some_and(|b| b.contains("consent"))
        );
        apply_withdrawals(&mut f, &[(new.id, t0)]);
        assert_eq!(statuses(&f), ["shared", "shared", "withheld", "withheld"]);
        assert!(f[2].content.is_none());
        let only_withdrawn =
            compose_sections(sources(), &[consent(&[Section::GuidanceSummary], t0, true)]);
        assert!(
            only_withdrawn[2]
                .withheld_reason
                .as_deref()
                .is_some_and(|r| r.contains("withdrawn"))
        );
    }

    #[test]
    fn nothing_recorded_is_said_not_hidden() {
        let f = compose_sections(
            vec![SectionSource {
                section: Section::CompetenceMapping,
                content: None,
            }],
            &[],
        );
        assert_eq!(f[0].status, "not_recorded");
    }
}

// The stored format of a sent file version (`handover_files.snapshot`): frozen once written, so
// a change here needs a migration of the stored text.

/// The frozen content of one file version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FileSnapshot {
    pub file_version: i32,
    pub sent_by_name: String,
    pub reception_centre_name: String,
    pub municipality_name: String,
    pub settlement: Option<Settlement>,
    pub missing: Vec<MissingItem>,
    pub missing_reason: Option<String>,
    pub sections: Vec<FileSection>,
}

/// The participant's core facts as the file shares them (the centre's notes never leave it).
#[derive(Debug, Serialize, ToSchema)]
pub struct SharedParticipant {
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: Date,
    pub duf_number: Option<String>,
    pub d_number: Option<String>,
    pub languages: Vec<crate::participant::SpokenLanguage>,
    pub interpreter_language: Option<String>,
    pub arrival_date: Date,
    pub programme_start: Option<Date>,
    pub programme_end: Option<Date>,
    pub status: crate::participant::ParticipantStatus,
}

/// `content` of the `identity_and_programme` section: the participant and the programme record.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityAndProgrammeContent {
    pub participant: SharedParticipant,
    pub norwegian_training: Option<crate::participant::NorwegianTraining>,
    pub programme_elements: Vec<crate::participant::ProgrammeElement>,
    pub placements: Vec<crate::participant::Placement>,
    pub attendance: crate::participant::Attendance,
    /// When any part of the record was last changed (RFC 3339).
    #[schema(format = DateTime)]
    pub record_last_updated_at: Option<String>,
    pub record_last_updated_by: Option<String>,
}

/// A catalogue offering as a summary's pathway names it: the version the summary was
/// finalised against.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferencedOffering {
    pub offering_id: Uuid,
    pub version: i32,
    pub offering: crate::guidance::OfferingInput,
}

/// `content` of the `guidance_summary` section: the current final summary and the offerings
/// its pathway names.
#[derive(Debug, Serialize, ToSchema)]
pub struct GuidanceSummaryContent {
    pub summary: crate::guidance::GuidanceSummary,
    pub offerings: Vec<ReferencedOffering>,
}

impl From<&crate::participant::ParticipantInput> for SharedParticipant {
    /// The allow-list of the identity section: every core fact but the centre's notes.
    fn from(p: &crate::participant::ParticipantInput) -> Self {
        SharedParticipant {
            given_name: p.given_name.clone(),
            family_name: p.family_name.clone(),
            date_of_birth: p.date_of_birth,
            duf_number: p.duf_number.clone(),
            d_number: p.d_number.clone(),
            languages: p.languages.clone(),
            interpreter_language: p.interpreter_language.clone(),
            arrival_date: p.arrival_date,
            programme_start: p.programme_start,
            programme_end: p.programme_end,
            status: p.status,
        }
    }
}

str_enum!(
    /// The end goal of the introduction programme that the municipality chose (introduksjonsloven
    /// § 15: the integration plan's goal).
    EndGoal {
        /// Work.
        Work = "work",
        /// Education (upper-secondary, higher or vocational).
        Education = "education",
        /// Another goal.
        Other = "other",
    }
);

/// What came of a handover, as the municipality tells the centre after settlement: the date
/// the integration plan was decided and the end goal chosen. Deliberately nothing more, so the
/// outcome adds no personal details to what the centre already holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeInput {
    /// The date the municipality decided the participant's integration plan.
    pub integration_plan_decided_on: Date,
    pub end_goal: EndGoal,
}

impl OutcomeInput {
    /// The plan is decided after the file was sent (`sent_on`) and not in the future.
    pub fn validate(&self, sent_on: Option<Date>, today: Date) -> Result<(), Vec<FieldError>> {
        let mut v = Validator::new();
        let d = self.integration_plan_decided_on;
        check_not_future(&mut v, "integration_plan_decided_on", d, today);
        if let Some(sent) = sent_on {
            v.check(
                d >= sent,
                "integration_plan_decided_on",
                "before_handover",
                "must not be before the handover was sent",
            );
        }
        v.finish()
    }
}

/// The outcome of a handover as both sides (and the serving career centre) see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HandoverOutcome {
    pub handover_id: Uuid,
    #[serde(flatten)]
    pub data: OutcomeInput,
    /// Who in the municipality recorded it (a staff member's name, not the participant's).
    pub recorded_by_name: String,
    pub municipality_name: String,
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[cfg(test)]
mod outcome_tests {
    use super::*;
    use time::macros::date;

    fn input(d: Date) -> OutcomeInput {
        OutcomeInput {
            integration_plan_decided_on: d,
            end_goal: EndGoal::Work,
        }
    }

    #[test]
    fn the_plan_is_decided_between_sending_and_today() {
        let today = date!(2026 - 12 - 07);
        let sent = Some(date!(2026 - 10 - 01));
        assert!(input(date!(2026 - 10 - 01)).validate(sent, today).is_ok());
        assert!(input(today).validate(sent, today).is_ok());
        let early = input(date!(2026 - 09 - 30))
            .validate(sent, today)
            .unwrap_err();
        assert_eq!(early[0].code, "before_handover");
        let future = input(date!(2026 - 12 - 08))
            .validate(sent, today)
            .unwrap_err();
        assert_eq!(future[0].code, "in_future");
    }
}
