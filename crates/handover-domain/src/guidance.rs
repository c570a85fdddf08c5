//! The qualification-pathway catalogue and career-guidance summaries.
//!
//! Guidance in the reception centre is given by the county career centre on a grant, not under
//! integreringsloven § 11; every summary says so, and says what is left for § 11 guidance after
//! settlement.

use crate::participant::{
    Cefr, MAX_LIST_ITEMS, MAX_LONG_TEXT, MAX_SHORT_TEXT, NorwegianTrainingInput, Skill,
    check_not_future, is_language_code, str_enum,
};
use crate::validation::Validator;
use crate::{FieldError, OrgId};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

/// Shown with every summary: what kind of guidance this is.
pub const GUIDANCE_NOTICE_NB: &str = "Karriereveiledning gitt i integreringsmottaket av karrieresenteret (tilskuddsfinansiert). Dette er ikke karriereveiledning etter integreringsloven § 11, som deltakeren har rett og plikt til etter bosetting.";
pub const GUIDANCE_NOTICE_EN: &str = "Career guidance given in the integration reception centre by the county career centre (grant-funded). This is not the career guidance under section 11 of the Integration Act, which the participant has a right and duty to after settlement.";

str_enum!(
    /// Groups of the qualification-pathway catalogue (IMDi's 2021 guide).
    OfferingGroup {
        MappingAndGuidance = "mapping_and_guidance",
        Interpreting = "interpreting",
        NorwegianAndSocialStudies = "norwegian_and_social_studies",
        WorkAndEducationProgrammes = "work_and_education_programmes",
        AdultSecondaryEducation = "adult_secondary_education",
        HigherVocationalAndHigherEducation = "higher_vocational_and_higher_education",
    }
);

str_enum!(
    ResponsibleActor {
        Nav = "nav",
        County = "county",
        Municipality = "municipality",
        State = "state",
    }
);

str_enum!(
    SessionKind {
        Individual = "individual",
        Group = "group",
    }
);

str_enum!(
    SummaryStatus {
        Draft = "draft",
        Final = "final",
    }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Prerequisites {
    /// The lowest Norwegian level (CEFR) typically required, if any.
    pub min_cefr: Option<Cefr>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub text: String,
}

/// A catalogue offering, as sent by an administrator (and as shipped in `data/catalogue.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferingInput {
    /// Stable slug, e.g. `introduksjonsprogram`.
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub key: String,
    pub group: OfferingGroup,
    #[schema(max_length = 200)]
    pub name_nb: String,
    #[schema(max_length = 200)]
    pub name_en: String,
    #[schema(max_length = 2000)]
    pub description_nb: String,
    #[schema(max_length = 2000)]
    pub description_en: String,
    pub responsible_actor: ResponsibleActor,
    /// The right or legal basis that gives access.
    #[schema(max_length = 2000)]
    pub legal_basis: String,
    #[schema(max_length = 2000)]
    pub financing: String,
    /// What the participant lives on meanwhile.
    #[schema(max_length = 2000)]
    pub livelihood: String,
    #[schema(max_length = 200)]
    pub typical_duration: String,
    pub prerequisites: Prerequisites,
    /// Public information page (https).
    #[schema(max_length = 500)]
    pub info_url: String,
    /// Names of fields whose facts are not verified.
    #[serde(default)]
    pub uncertain: Vec<String>,
    /// Where the facts come from: each source names the fields it supports. A fact that no
    /// source supports is shown as not verified, whether or not `uncertain` names it.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub sources: Vec<FactSource>,
}

/// A public source for some of an offering's facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FactSource {
    #[schema(max_length = 200)]
    pub title: String,
    /// Public page (https).
    #[schema(max_length = 500)]
    pub url: String,
    /// When someone last checked that the page supports the fields.
    pub checked: Date,
    /// The facts it supports (names from `FACT_FIELDS`).
    #[schema(min_items = 1, max_items = 7)]
    pub fields: Vec<String>,
    /// What the source says, in the checker's own words.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
}

pub const MAX_SOURCES: usize = 20;

/// The facts a counsellor or a municipality acts on: each needs a source or is shown as not
/// verified.
pub const FACT_FIELDS: &[&str] = &[
    "responsible_actor",
    "legal_basis",
    "financing",
    "livelihood",
    "typical_duration",
    "prerequisites",
    "info_url",
];

/// A fact whose newest check is older than a year is due to be checked again.
pub const RECHECK_AFTER_DAYS: i64 = 365;

pub const OFFERING_FIELDS: &[&str] = &[
    "group",
    "name_nb",
    "name_en",
    "description_nb",
    "description_en",
    "responsible_actor",
    "legal_basis",
    "financing",
    "livelihood",
    "typical_duration",
    "prerequisites",
    "info_url",
];

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.split('-').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

impl OfferingInput {
    pub fn validate(&self, today: Date) -> Result<(), Vec<FieldError>> {
        let mut v = Validator::new();
        v.check(
            is_slug(&self.key),
            "key",
            "invalid_key",
            "lowercase letters, digits and single hyphens",
        );
        v.text("name_nb", &self.name_nb, MAX_SHORT_TEXT);
        v.text("name_en", &self.name_en, MAX_SHORT_TEXT);
        for (f, val) in [
            ("description_nb", &self.description_nb),
            ("description_en", &self.description_en),
            ("legal_basis", &self.legal_basis),
            ("financing", &self.financing),
            ("livelihood", &self.livelihood),
        ] {
            v.text(f, val, MAX_LONG_TEXT);
        }
        v.text("typical_duration", &self.typical_duration, MAX_SHORT_TEXT);
        v.free_text(
            "prerequisites.text",
            &self.prerequisites.text,
            MAX_LONG_TEXT,
        );
        v.check(
            is_https_url(&self.info_url),
            "info_url",
            "invalid_url",
            "must be an https:// address",
        );
        for (i, u) in self.uncertain.iter().enumerate() {
            v.check(
                OFFERING_FIELDS.contains(&u.as_str()),
                &format!("uncertain[{i}]"),
                "unknown_field_name",
                "must name a field of the offering",
            );
        }
        v.check(
            self.sources.len() <= MAX_SOURCES,
            "sources",
            "too_many",
            "at most 20 sources",
        );
        for (i, s) in self.sources.iter().enumerate() {
            s.check(&mut v, &format!("sources[{i}]"), today);
        }
        v.finish()
    }

    /// The sources that support a fact, newest check first.
    pub fn sources_for(&self, field: &str) -> Vec<&FactSource> {
        let mut list: Vec<&FactSource> = self
            .sources
            .iter()
            .filter(|s| s.fields.iter().any(|f| f == field))
            .collect();
        list.sort_by_key(|s| std::cmp::Reverse(s.checked));
        list
    }

    /// Whether a field is to be shown as not verified: marked so, or a fact no source supports.
    pub fn is_unverified(&self, field: &str) -> bool {
        self.uncertain.iter().any(|u| u == field)
            || (FACT_FIELDS.contains(&field) && self.sources_for(field).is_empty())
    }

    /// The facts shown as not verified, in the catalogue's order.
    pub fn unverified_facts(&self) -> Vec<&'static str> {
        FACT_FIELDS
            .iter()
            .copied()
            .filter(|f| self.is_unverified(f))
            .collect()
    }

    /// Facts whose newest check is more than `after_days` (normally `RECHECK_AFTER_DAYS`)
    /// before `today`, with that date.
    pub fn stale_facts(&self, today: Date, after_days: i64) -> Vec<(&'static str, Date)> {
        FACT_FIELDS
            .iter()
            .filter_map(|f| {
                let newest = self.sources_for(f).first()?.checked;
                ((today - newest).whole_days() > after_days).then_some((*f, newest))
            })
            .collect()
    }
}

impl FactSource {
    fn check(&self, v: &mut Validator, at: &str, today: Date) {
        v.text(&format!("{at}.title"), &self.title, MAX_SHORT_TEXT);
        v.check(
            is_https_url(&self.url),
            &format!("{at}.url"),
            "invalid_url",
            "must be an https:// address",
        );
        check_not_future(v, &format!("{at}.checked"), self.checked, today);
        v.check(
            !self.fields.is_empty() && self.fields.len() <= FACT_FIELDS.len(),
            &format!("{at}.fields"),
            "invalid_length",
            "name between one and seven facts",
        );
        for (j, f) in self.fields.iter().enumerate() {
            v.check(
                FACT_FIELDS.contains(&f.as_str()) && !self.fields[..j].iter().any(|g| g == f),
                &format!("{at}.fields[{j}]"),
                "unknown_field_name",
                "must name a fact of the offering, once",
            );
        }
        v.free_text(&format!("{at}.note"), &self.note, MAX_LONG_TEXT);
    }
}

fn is_https_url(s: &str) -> bool {
    s.starts_with("https://")
        && s.len() > "https://".len()
        && s.len() <= 500
        && !s.contains(char::is_whitespace)
}

/// A catalogue offering as stored: the current version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Offering {
    pub id: Uuid,
    #[serde(flatten)]
    pub data: OfferingInput,
    /// Every change makes a new version; earlier versions stay readable.
    pub version: i32,
    /// Retired offerings can no longer be recommended; existing summaries keep them.
    pub retired: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuidanceSession {
    pub date: Date,
    pub kind: SessionKind,
    #[schema(max_length = 200)]
    pub topic: String,
    pub interpreter_used: bool,
    /// ISO 639 code, when an interpreter was used.
    pub interpreter_language: Option<String>,
}

/// One step of a recommended qualification pathway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PathwayStepInput {
    pub offering_id: Uuid,
    /// Why this step is recommended.
    #[schema(max_length = 2000)]
    pub reason: String,
}

/// A guidance summary, as written by a counsellor (a draft until finalised).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuidanceSummaryInput {
    #[serde(default)]
    pub sessions: Vec<GuidanceSession>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub interests: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub strengths: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub experience: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub goals_short_term: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub goals_long_term: String,
    /// The recommended qualification pathway, in order.
    #[serde(default)]
    pub pathway: Vec<PathwayStepInput>,
    /// What this guidance covered.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub covered: String,
    /// What is left for the statutory § 11 guidance in the municipality.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub left_for_section_11: String,
}

impl GuidanceSummaryInput {
    /// Checks shapes and lengths; a draft may be incomplete.
    pub fn validate(&self, today: Date) -> Result<(), Vec<FieldError>> {
        let mut v = Validator::new();
        v.check(
            self.sessions.len() <= 100,
            "sessions",
            "too_many",
            "at most 100 sessions",
        );
        for (i, s) in self.sessions.iter().enumerate() {
            check_not_future(&mut v, &format!("sessions[{i}].date"), s.date, today);
            v.text(&format!("sessions[{i}].topic"), &s.topic, MAX_SHORT_TEXT);
            match (&s.interpreter_language, s.interpreter_used) {
                (Some(l), true) => v.check(
                    is_language_code(l),
                    &format!("sessions[{i}].interpreter_language"),
                    "invalid_language",
                    "must be an ISO 639 code in lower case",
                ),
                (None, true) => v.add(
                    format!("sessions[{i}].interpreter_language"),
                    "required",
                    "say which language the interpreter used",
                ),
                (Some(_), false) => v.add(
                    format!("sessions[{i}].interpreter_language"),
                    "not_allowed",
                    "no interpreter was used",
                ),
                (None, false) => {}
            }
        }
        for (f, val) in [
            ("interests", &self.interests),
            ("strengths", &self.strengths),
            ("experience", &self.experience),
            ("goals_short_term", &self.goals_short_term),
            ("goals_long_term", &self.goals_long_term),
            ("covered", &self.covered),
            ("left_for_section_11", &self.left_for_section_11),
        ] {
            v.free_text(f, val, MAX_LONG_TEXT);
        }
        v.check(
            self.pathway.len() <= MAX_LIST_ITEMS,
            "pathway",
            "too_many",
            "at most 30 steps",
        );
        let mut seen = std::collections::HashSet::new();
        for (i, s) in self.pathway.iter().enumerate() {
            v.free_text(&format!("pathway[{i}].reason"), &s.reason, MAX_LONG_TEXT);
            v.check(
                seen.insert(s.offering_id),
                &format!("pathway[{i}].offering_id"),
                "duplicate",
                "each offering at most once",
            );
        }
        v.finish()
    }

    /// What finalising needs on top of [`Self::validate`]: the summary must say what was done,
    /// what was covered and what is left for § 11 guidance, each step with a reason.
    pub fn validate_final(&self) -> Result<(), Vec<FieldError>> {
        let mut v = Validator::new();
        v.check(
            !self.sessions.is_empty(),
            "sessions",
            "required",
            "record at least one guidance session",
        );
        v.check(
            !self.covered.trim().is_empty(),
            "covered",
            "required",
            "say what this guidance covered",
        );
        v.check(
            !self.left_for_section_11.trim().is_empty(),
            "left_for_section_11",
            "required",
            "say what is left for the § 11 guidance in the municipality",
        );
        v.check(
            !self.goals_short_term.trim().is_empty() || !self.goals_long_term.trim().is_empty(),
            "goals_short_term",
            "required",
            "record at least one goal",
        );
        for (i, s) in self.pathway.iter().enumerate() {
            v.check(
                !s.reason.trim().is_empty(),
                &format!("pathway[{i}].reason"),
                "required",
                "give a reason for each step",
            );
        }
        v.finish()
    }
}

/// A pathway step as stored: the offering as it was (name and version) when recommended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PathwayStep {
    pub position: i32,
    pub offering_id: Uuid,
    /// The offering's version when the step was written.
    pub offering_version: i32,
    pub offering_key: String,
    pub offering_name_nb: String,
    pub offering_name_en: String,
    /// Whether the offering has since been retired.
    pub offering_retired: bool,
    pub reason: String,
}

/// A non-blocking warning on a summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GuidanceWarning {
    /// `level_below_prerequisite`, `no_norwegian_level`, `retired_offering`.
    pub code: String,
    pub message: String,
    /// The pathway step it concerns (0-based).
    pub step: Option<i32>,
}

/// A guidance summary as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GuidanceSummary {
    pub id: Uuid,
    pub participant_id: Uuid,
    pub career_centre_id: OrgId,
    /// Always `reception_centre_guidance`: guidance in the centre, not § 11 guidance.
    pub guidance_kind: String,
    /// The same in words, in Norwegian and English.
    pub guidance_notice_nb: String,
    pub guidance_notice_en: String,
    pub status: SummaryStatus,
    pub author_name: String,
    pub sessions: Vec<GuidanceSession>,
    pub interests: String,
    pub strengths: String,
    pub experience: String,
    pub goals_short_term: String,
    pub goals_long_term: String,
    pub pathway: Vec<PathwayStep>,
    pub covered: String,
    pub left_for_section_11: String,
    pub warnings: Vec<GuidanceWarning>,
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finalised_at: Option<OffsetDateTime>,
    /// The later final summary that replaced this one, if any.
    pub superseded_by: Option<Uuid>,
}

/// The participant's level for a prerequisite check: the lowest level across assessed skills
/// (a pathway step needs every skill), or `None` when nothing is assessed.
pub fn overall_level(n: Option<&NorwegianTrainingInput>) -> Option<Cefr> {
    let n = n?;
    let levels: Vec<Cefr> = Skill::ALL.iter().filter_map(|s| n.level(*s)).collect();
    if levels.len() < Skill::ALL.len() {
        // Unassessed skills count as below A1.
        return None;
    }
    levels.into_iter().min()
}

/// Warnings for a pathway: the first step's level prerequisite, and retired offerings.
pub fn pathway_warnings(
    pathway: &[PathwayStep],
    first_min_cefr: Option<Cefr>,
    reached: Option<Cefr>,
) -> Vec<GuidanceWarning> {
    let mut w = Vec::new();
    if let (Some(first), Some(required)) = (pathway.first(), first_min_cefr) {
        match reached {
            Some(r) if r >= required => {}
            Some(r) => w.push(GuidanceWarning {
                code: "level_below_prerequisite".into(),
                message: format!(
                    "The first step ({}) usually requires Norwegian at level {} in every skill; the participant has reached {} in the weakest skill.",
                    first.offering_name_en,
                    required.as_str(),
                    r.as_str()
                ),
                step: Some(0),
            }),
            None => w.push(GuidanceWarning {
                code: "no_norwegian_level".into(),
                message: format!(
                    "The first step ({}) usually requires Norwegian at level {}; no level is recorded for every skill.",
                    first.offering_name_en,
                    required.as_str()
                ),
                step: Some(0),
            }),
        }
    }
    for s in pathway.iter().filter(|s| s.offering_retired) {
        w.push(GuidanceWarning {
            code: "retired_offering".into(),
            message: format!(
                "{} has been retired from the catalogue since it was recommended.",
                s.offering_name_en
            ),
            step: Some(s.position),
        });
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::participant::SkillLevel;

    fn step(pos: i32, retired: bool) -> PathwayStep {
        PathwayStep {
            position: pos,
            offering_id: Uuid::nil(),
            offering_version: 1,
            offering_key: "x".into(),
            offering_name_nb: "X".into(),
            offering_name_en: "X".into(),
            offering_retired: retired,
            reason: "r".into(),
        }
    }

    fn offering(sources: Vec<FactSource>, uncertain: &[&str]) -> OfferingInput {
        OfferingInput {
            key: "fagskole".into(),
            group: OfferingGroup::HigherVocationalAndHigherEducation,
            name_nb: "Fagskole".into(),
            name_en: "Vocational college".into(),
            description_nb: "B".into(),
            description_en: "D".into(),
            responsible_actor: ResponsibleActor::County,
            legal_basis: "Fagskoleloven".into(),
            financing: "Lånekassen".into(),
            livelihood: "Lån og stipend".into(),
            typical_duration: "1-2 år".into(),
            prerequisites: Prerequisites {
                min_cefr: None,
                text: String::new(),
            },
            info_url: "https://utdanning.no".into(),
            uncertain: uncertain.iter().map(|s| (*s).into()).collect(),
            sources,
        }
    }

    fn source(checked: Date, fields: &[&str]) -> FactSource {
        FactSource {
            title: "Kilde".into(),
            url: "https://utdanning.no/fagskole".into(),
            checked,
            fields: fields.iter().map(|s| (*s).into()).collect(),
            note: String::new(),
        }
    }

    #[test]
    fn a_fact_without_a_source_is_unverified_even_when_not_marked() {
        let d = time::macros::date!(2026 - 06 - 01);
        let o = offering(
            vec![
                source(d, &["responsible_actor", "legal_basis", "info_url"]),
                source(d, &["financing", "prerequisites"]),
            ],
            &["financing"],
        );
        assert_eq!(
            o.unverified_facts(),
            ["financing", "livelihood", "typical_duration"],
            "marked uncertain, or supported by no source"
        );
        assert!(!o.is_unverified("name_nb"), "names are not facts to source");
        assert_eq!(o.sources_for("financing").len(), 1);
    }

    #[test]
    fn stale_facts_are_those_whose_newest_check_is_over_a_year_old() {
        let old = time::macros::date!(2025 - 01 - 10);
        let new = time::macros::date!(2026 - 11 - 01);
        let today = time::macros::date!(2026 - 12 - 03);
        let o = offering(
            vec![
                source(old, &["legal_basis", "financing"]),
                source(new, &["financing"]),
            ],
            &[],
        );
        assert_eq!(
            o.stale_facts(today, RECHECK_AFTER_DAYS),
            [("legal_basis", old)]
        );
        // A year to the day is not yet stale.
        assert!(
            o.stale_facts(old + time::Duration::days(365), RECHECK_AFTER_DAYS)
                .is_empty()
        );
        assert_eq!(o.stale_facts(today, 20).len(), 2);
    }

    #[test]
    fn sources_are_checked() {
        let today = time::macros::date!(2026 - 12 - 03);
        let mut bad = source(today + time::Duration::days(1), &["financing", "financing"]);
        bad.url = "http://utdanning.no".into();
        let mut o = offering(
            vec![bad, source(today, &[]), source(today, &["name_nb"])],
            &[],
        );
        let fields: Vec<String> = o
            .validate(today)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "sources[0].url",
                "sources[0].checked",
                "sources[0].fields[1]",
                "sources[1].fields",
                "sources[2].fields[0]",
            ]
        );
        o.sources = (0..21).map(|_| source(today, &["financing"])).collect();
        assert!(o.validate(today).is_err());
        o.sources.truncate(20);
        assert_eq!(o.validate(today), Ok(()));
    }

    fn training(levels: &[(Skill, Cefr)]) -> NorwegianTrainingInput {
        let d = Date::MIN;
        NorwegianTrainingInput {
            levels: levels
                .iter()
                .map(|(s, l)| SkillLevel {
                    skill: *s,
                    level: *l,
                    assessed_on: d,
                })
                .collect(),
            tests: vec![],
            course_hours_planned: 0.0,
            course_hours_attended: 0.0,
        }
    }

    #[test]
    fn overall_level_is_the_weakest_skill() {
        let all = training(&[
            (Skill::Listening, Cefr::B1),
            (Skill::Reading, Cefr::B1),
            (Skill::Writing, Cefr::A2),
            (Skill::Oral, Cefr::B2),
        ]);
        assert_eq!(overall_level(Some(&all)), Some(Cefr::A2));
        let partial = training(&[(Skill::Oral, Cefr::B2)]);
        assert_eq!(overall_level(Some(&partial)), None);
        assert_eq!(overall_level(None), None);
    }

    #[test]
    fn level_warning_only_when_first_step_needs_more() {
        let p = [step(0, false), step(1, false)];
        assert!(pathway_warnings(&p, Some(Cefr::B1), Some(Cefr::B1)).is_empty());
        assert!(pathway_warnings(&p, None, Some(Cefr::A1)).is_empty());
        let w = pathway_warnings(&p, Some(Cefr::B2), Some(Cefr::A2));
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].code, "level_below_prerequisite");
        assert_eq!(
            pathway_warnings(&p, Some(Cefr::B2), None)[0].code,
            "no_norwegian_level"
        );
        assert!(pathway_warnings(&[], Some(Cefr::B2), None).is_empty());
        let r = pathway_warnings(&[step(0, false), step(1, true)], None, None);
        assert_eq!(
            (r[0].code.as_str(), r[0].step),
            ("retired_offering", Some(1))
        );
    }

    #[test]
    fn finalising_needs_the_section_11_boundary() {
        let mut s = GuidanceSummaryInput::default();
        let errs = s.validate_final().err().unwrap_or_default();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert!(
            fields.contains(&"covered")
                && fields.contains(&"left_for_section_11")
                && fields.contains(&"sessions")
        );
        s.sessions.push(GuidanceSession {
            date: Date::MIN,
            kind: SessionKind::Individual,
            topic: "t".into(),
            interpreter_used: false,
            interpreter_language: None,
        });
        s.covered = "c".into();
        s.left_for_section_11 = "l".into();
        s.goals_long_term = "g".into();
        assert!(s.validate_final().is_ok());
    }

    #[test]
    fn interpreter_language_goes_with_interpreter() {
        let today = Date::MAX;
        let mut s = GuidanceSummaryInput::default();
        s.sessions.push(GuidanceSession {
            date: Date::MIN,
            kind: SessionKind::Group,
            topic: "t".into(),
            interpreter_used: true,
            interpreter_language: None,
        });
        assert_eq!(
            s.validate(today).err().unwrap_or_default()[0].field,
            "sessions[0].interpreter_language"
        );
    }

    #[test]
    fn slugs() {
        assert!(is_slug("fagbrev-pa-jobb"));
        assert!(!is_slug("Fagbrev"));
        assert!(!is_slug("a--b"));
        assert!(!is_slug("-a"));
    }
}

/// One version of a catalogue offering, as its history shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OfferingVersion {
    pub version: i32,
    pub retired: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub changed_at: OffsetDateTime,
    pub data: OfferingInput,
}
