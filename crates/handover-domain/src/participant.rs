//! Participants of the full-time programme, their competence mapping and programme record.
//!
//! The `*Input` types are what staff send (no ids, versions or timestamps); the stored types add
//! those. Validation lives here, so the API, the demo loader and the handover snapshot agree.

use crate::validation::Validator;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

pub const MAX_NOTES_CHARS: usize = 4000;
pub const MAX_SHORT_TEXT: usize = 200;
pub const MAX_LONG_TEXT: usize = 2000;
pub const MAX_LIST_ITEMS: usize = 30;
/// Upper bound for hours of one programme element or placement: a full year of full-time days.
pub const MAX_HOURS: f64 = 2000.0;

// utoipa does not see a `#[serde(rename)]` that a macro generates and documented the variant
// names instead of the wire values; `#[schema(rename)]` tells it.
macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $s)] #[schema(rename = $s)] $variant),+
        }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }
        impl std::str::FromStr for $name {
            type Err = crate::org::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($s => Ok($name::$variant),)+ _ => Err(crate::org::UnknownValue(s.to_owned())) }
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use str_enum;

/// Applies the `Some` fields of a patch to a copy of `cur`; yields the copy and the changed names.
macro_rules! apply_patch {
    ($patch:expr, $cur:expr, [$($f:ident),+ $(,)?]) => {{
        let mut n = $cur.clone();
        let mut changed: Vec<&'static str> = Vec::new();
        $(
            if let Some(v) = &$patch.$f
                && *v != n.$f
            {
                n.$f = v.clone();
                changed.push(stringify!($f));
            }
        )+
        (n, changed)
    }};
}

str_enum!(
    /// Where the participant stands in the full-time programme.
    ParticipantStatus {
        InProgramme = "in_programme",
        Settled = "settled",
        LeftProgramme = "left_programme",
    }
);

str_enum!(
    /// Self-assessed command of a language.
    LanguageLevel {
        Native = "native",
        Fluent = "fluent",
        Good = "good",
        Basic = "basic",
    }
);

str_enum!(
    /// Levels of the Common European Framework of Reference for languages, as used in Norwegian
    /// training and Norskprøven.
    Cefr {
        A1 = "A1",
        A2 = "A2",
        B1 = "B1",
        B2 = "B2",
        C1 = "C1",
    }
);

str_enum!(
    /// The four skills Norskprøven measures.
    Skill {
        Listening = "listening",
        Reading = "reading",
        Writing = "writing",
        Oral = "oral",
    }
);

str_enum!(
    EducationLevel {
        None = "none",
        Primary = "primary",
        LowerSecondary = "lower_secondary",
        UpperSecondary = "upper_secondary",
        Vocational = "vocational",
        Bachelor = "bachelor",
        Master = "master",
        Doctorate = "doctorate",
        Other = "other",
    }
);

str_enum!(
    DigitalSkills {
        None = "none",
        Basic = "basic",
        Intermediate = "intermediate",
        Advanced = "advanced",
    }
);

str_enum!(
    /// The kinds of activity in the full-time programme.
    ElementKind {
        Norwegian = "norwegian",
        SocialStudies = "social_studies",
        LanguagePractice = "language_practice",
        WorkOriented = "work_oriented",
        EducationRelated = "education_related",
        LifeSkillsCourse = "life_skills_course",
        ParentingCourse = "parenting_course",
        VoluntaryOrganisation = "voluntary_organisation",
        Other = "other",
    }
);

str_enum!(
    PlacementKind {
        WorkPractice = "work_practice",
        LanguagePractice = "language_practice",
    }
);

str_enum!(
    /// Tests whose results the programme record holds.
    TestKind {
        NorskprovenListening = "norskproven_listening",
        NorskprovenReading = "norskproven_reading",
        NorskprovenWriting = "norskproven_writing",
        NorskprovenOral = "norskproven_oral",
        C1Test = "c1_test",
        SocialStudiesTest = "social_studies_test",
    }
);

str_enum!(
    /// A test result: a level for Norskprøven, pass/fail for the C1 and social-studies tests.
    TestResult {
        BelowA1 = "below_A1",
        A1 = "A1",
        A2 = "A2",
        B1 = "B1",
        B2 = "B2",
        C1 = "C1",
        Passed = "passed",
        Failed = "failed",
    }
);

impl TestKind {
    pub fn accepts(self, r: TestResult) -> bool {
        let pass_fail = matches!(r, TestResult::Passed | TestResult::Failed);
        match self {
            TestKind::C1Test | TestKind::SocialStudiesTest => pass_fail,
            // Norskprøven measures up to B2; C1 has its own test.
            _ => !pass_fail && r != TestResult::C1,
        }
    }
}

/// DUF number: UDI's 12-digit case number; the first four digits are the year it was issued.
pub fn is_valid_duf(s: &str) -> bool {
    s.len() == 12
        && s.bytes().all(|b| b.is_ascii_digit())
        && s[..4]
            .parse::<u16>()
            .is_ok_and(|y| (1980..=2100).contains(&y))
}

/// D-number: 11 digits like a national identity number, day of birth plus 40, two mod-11 check
/// digits.
pub fn is_valid_d_number(s: &str) -> bool {
    if s.len() != 11 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let d: Vec<u32> = s.bytes().map(|b| u32::from(b - b'0')).collect();
    let day = d[0] * 10 + d[1];
    let month = d[2] * 10 + d[3];
    if !(41..=71).contains(&day) || !(1..=12).contains(&month) {
        return false;
    }
    let check = |weights: &[u32]| -> Option<u32> {
        let sum: u32 = weights.iter().zip(&d).map(|(w, x)| w * x).sum();
        match 11 - sum % 11 {
            11 => Some(0),
            10 => None,
            k => Some(k),
        }
    };
    check(&[3, 7, 6, 1, 8, 9, 4, 5, 2]) == Some(d[9])
        && check(&[5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) == Some(d[10])
}

/// Completes nine digits (DDMMYYIII, day + 40) with the two check digits of a D-number, if the
/// nine digits allow it (some do not). For demo and test data.
pub fn d_number_with_check_digits(nine: &str) -> Option<String> {
    if nine.len() != 9 || !nine.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut d: Vec<u32> = nine.bytes().map(|b| u32::from(b - b'0')).collect();
    for weights in [
        &[3, 7, 6, 1, 8, 9, 4, 5, 2][..],
        &[5, 4, 3, 2, 7, 6, 5, 4, 3, 2][..],
    ] {
        let sum: u32 = weights.iter().zip(&d).map(|(w, x)| w * x).sum();
        match 11 - sum % 11 {
            11 => d.push(0),
            10 => return None,
            k => d.push(k),
        }
    }
    let s: String = d.iter().map(|x| char::from(b'0' + *x as u8)).collect();
    is_valid_d_number(&s).then_some(s)
}

/// A language code: ISO 639-1 or 639-3, lower case (e.g. `uk`, `ukr`, `ar`, `prs`, `ti`).
pub fn is_language_code(s: &str) -> bool {
    (2..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpokenLanguage {
    /// ISO 639-1 or 639-3 code, e.g. `ar`, `ti`, `uk`, `prs` (Dari).
    #[schema(example = "ti", pattern = "^[a-z]{2,3}$")]
    pub language: String,
    pub level: LanguageLevel,
}

pub fn validate_languages(v: &mut Validator, field: &str, langs: &[SpokenLanguage]) {
    v.check(
        langs.len() <= MAX_LIST_ITEMS,
        field,
        "too_many",
        "at most 30 languages",
    );
    for (i, l) in langs.iter().enumerate() {
        v.check(
            is_language_code(&l.language),
            &format!("{field}[{i}].language"),
            "invalid_language",
            "must be an ISO 639 code in lower case, e.g. ar, ti, uk, prs",
        );
    }
}

/// Checks that `end` is not before `start`.
pub fn check_period(v: &mut Validator, field_end: &str, start: Option<Date>, end: Option<Date>) {
    if let (Some(s), Some(e)) = (start, end) {
        v.check(
            e >= s,
            field_end,
            "before_start",
            "must not be before the start date",
        );
    }
}

pub fn check_hours(v: &mut Validator, field: &str, hours: f64) {
    v.check(
        hours.is_finite() && (0.0..=MAX_HOURS).contains(&hours),
        field,
        "out_of_range",
        "must be between 0 and 2000 hours",
    );
}

pub fn check_not_future(v: &mut Validator, field: &str, d: Date, today: Date) {
    v.check(d <= today, field, "in_future", "must not be in the future");
}

/// Attendance derived from programme elements: never typed in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Attendance {
    pub hours_planned: f64,
    pub hours_attended: f64,
    /// Attended as a share of planned hours, in percent with one decimal; `null` when nothing was planned.
    pub percent: Option<f64>,
    pub by_kind: Vec<KindAttendance>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KindAttendance {
    pub kind: ElementKind,
    pub elements: u32,
    pub hours_planned: f64,
    pub hours_attended: f64,
    pub percent: Option<f64>,
}

fn percent(attended: f64, planned: f64) -> Option<f64> {
    (planned > 0.0).then(|| (attended / planned * 1000.0).round() / 10.0)
}

/// Sums elements' `(kind, planned, attended)` hours into the attendance summary.
pub fn attendance(elements: impl IntoIterator<Item = (ElementKind, f64, f64)>) -> Attendance {
    let mut by: std::collections::BTreeMap<ElementKind, (u32, f64, f64)> = Default::default();
    for (k, p, a) in elements {
        let e = by.entry(k).or_default();
        e.0 += 1;
        e.1 += p;
        e.2 += a;
    }
    let (planned, attended) = by
        .values()
        .fold((0.0, 0.0), |acc, v| (acc.0 + v.1, acc.1 + v.2));
    Attendance {
        hours_planned: planned,
        hours_attended: attended,
        percent: percent(attended, planned),
        by_kind: by
            .into_iter()
            .map(|(kind, (n, p, a))| KindAttendance {
                kind,
                elements: n,
                hours_planned: p,
                hours_attended: a,
                percent: percent(a, p),
            })
            .collect(),
    }
}

/// Names of the top-level fields that differ between two versions of a document.
pub fn changed_fields<T: Serialize>(old: &T, new: &T) -> Vec<String> {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(old), serde_json::to_value(new))
    else {
        return Vec::new();
    };
    b.iter()
        .filter(|(k, v)| a.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect()
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`) in a PATCH body.
pub fn double_option<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Core facts about a participant, as sent when creating one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantInput {
    #[schema(max_length = 200)]
    pub given_name: String,
    #[schema(max_length = 200)]
    pub family_name: String,
    pub date_of_birth: Date,
    /// UDI's 12-digit DUF number. At least one of DUF number and D-number is required.
    #[schema(pattern = "^[0-9]{12}$")]
    pub duf_number: Option<String>,
    /// 11-digit D-number.
    #[schema(pattern = "^[0-9]{11}$")]
    pub d_number: Option<String>,
    #[serde(default)]
    pub languages: Vec<SpokenLanguage>,
    /// Preferred interpreter language (ISO 639 code).
    #[schema(pattern = "^[a-z]{2,3}$")]
    pub interpreter_language: Option<String>,
    /// Arrival at the reception centre.
    pub arrival_date: Date,
    pub programme_start: Option<Date>,
    pub programme_end: Option<Date>,
    #[serde(default = "default_status")]
    pub status: ParticipantStatus,
    /// The centre's internal notes. They never leave the centre: an answer to anyone but the
    /// centre's own staff (a career counsellor, say) leaves the field out, and no handover file
    /// carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
}

fn default_status() -> ParticipantStatus {
    ParticipantStatus::InProgramme
}

/// A partial change of a participant; absent fields stay as they are, `null` clears a field.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantPatch {
    #[schema(max_length = 200)]
    pub given_name: Option<String>,
    #[schema(max_length = 200)]
    pub family_name: Option<String>,
    pub date_of_birth: Option<Date>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, pattern = "^[0-9]{12}$")]
    pub duf_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, pattern = "^[0-9]{11}$")]
    pub d_number: Option<Option<String>>,
    pub languages: Option<Vec<SpokenLanguage>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub interpreter_language: Option<Option<String>>,
    pub arrival_date: Option<Date>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Date>)]
    pub programme_start: Option<Option<Date>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Date>)]
    pub programme_end: Option<Option<Date>>,
    pub status: Option<ParticipantStatus>,
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
}

impl ParticipantPatch {
    /// Applies the patch to a copy of the current values; returns the names of changed fields.
    pub fn apply(&self, cur: &ParticipantInput) -> (ParticipantInput, Vec<&'static str>) {
        let (next, changed) = apply_patch!(
            self,
            cur,
            [
                given_name,
                family_name,
                date_of_birth,
                duf_number,
                d_number,
                languages,
                interpreter_language,
                arrival_date,
                programme_start,
                programme_end,
                status
            ]
        );
        // Stored notes are always present (possibly empty); the patch's text replaces them.
        let (mut next, mut changed) = (next, changed);
        if let Some(v) = &self.notes
            && next.notes.as_deref().unwrap_or_default() != v
        {
            next.notes = Some(v.clone());
            changed.push("notes");
        }
        (next, changed)
    }
}

impl ParticipantInput {
    pub fn validate(&self, today: Date) -> Result<(), Vec<crate::FieldError>> {
        let mut v = Validator::new();
        v.person_name("given_name", &self.given_name, MAX_SHORT_TEXT);
        v.person_name("family_name", &self.family_name, MAX_SHORT_TEXT);
        check_not_future(&mut v, "date_of_birth", self.date_of_birth, today);
        // Participants are adults: at least 18 at arrival (DOMAIN.md), and not implausibly old.
        let age_at_arrival = self.arrival_date.year()
            - self.date_of_birth.year()
            - i32::from(
                (self.arrival_date.month() as u8, self.arrival_date.day())
                    < (self.date_of_birth.month() as u8, self.date_of_birth.day()),
            );
        v.check(
            (18..=110).contains(&age_at_arrival),
            "date_of_birth",
            "implausible_age",
            "the participant must be 18 to 110 years old at arrival",
        );
        v.check(
            self.duf_number.is_some() || self.d_number.is_some(),
            "duf_number",
            "required",
            "a DUF number or a D-number is required",
        );
        if let Some(d) = &self.duf_number {
            v.check(
                is_valid_duf(d),
                "duf_number",
                "invalid_duf_number",
                "must be 12 digits, starting with the year",
            );
        }
        if let Some(d) = &self.d_number {
            v.check(
                is_valid_d_number(d),
                "d_number",
                "invalid_d_number",
                "must be a valid 11-digit D-number",
            );
        }
        validate_languages(&mut v, "languages", &self.languages);
        if let Some(l) = &self.interpreter_language {
            v.check(
                is_language_code(l),
                "interpreter_language",
                "invalid_language",
                "must be an ISO 639 code in lower case",
            );
        }
        check_not_future(&mut v, "arrival_date", self.arrival_date, today);
        v.check(
            self.arrival_date.year() >= 2000,
            "arrival_date",
            "out_of_range",
            "must be in 2000 or later",
        );
        check_period(
            &mut v,
            "programme_end",
            self.programme_start,
            self.programme_end,
        );
        if let Some(s) = self.programme_start {
            v.check(
                s >= self.arrival_date,
                "programme_start",
                "before_arrival",
                "must not be before the arrival date",
            );
        }
        if let Some(notes) = &self.notes {
            v.free_text("notes", notes, MAX_NOTES_CHARS);
        }
        v.finish()
    }
}

/// A participant as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Participant {
    pub id: uuid::Uuid,
    pub reception_centre_id: crate::OrgId,
    #[serde(flatten)]
    pub data: ParticipantInput,
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
}

impl Participant {
    /// The participant as `viewer_org` may see them: the centre's notes only for the centre.
    pub fn as_seen_by(mut self, viewer_org: crate::OrgId) -> Self {
        if self.reception_centre_id != viewer_org {
            self.data.notes = None;
        }
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Education {
    pub level: EducationLevel,
    /// Years of schooling at this level.
    pub years: f64,
    #[schema(max_length = 200)]
    pub field: Option<String>,
    /// ISO 3166-1 alpha-2 country code, e.g. `SY`, `UA`, `ER`.
    #[schema(pattern = "^[A-Z]{2}$")]
    pub country: Option<String>,
    /// Whether the participant has documents that could support recognition.
    pub documents_for_recognition: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkExperience {
    #[schema(max_length = 200)]
    pub occupation: String,
    pub years: f64,
    #[schema(pattern = "^[A-Z]{2}$")]
    pub country: Option<String>,
}

/// Driving licence classes (førerkortklasser).
pub const LICENCE_CLASSES: &[&str] = &[
    "AM", "A1", "A2", "A", "B", "BE", "C1", "C1E", "C", "CE", "D1", "D1E", "D", "DE", "T",
];

/// Competence mapping (kartlegging, integreringsloven § 6), as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompetenceMappingInput {
    #[serde(default)]
    pub education: Vec<Education>,
    #[serde(default)]
    pub work_experience: Vec<WorkExperience>,
    /// Driving licence classes held, e.g. `["B"]`.
    #[serde(default)]
    pub driving_licences: Vec<String>,
    /// Other certificates (courses, trade certificates), short descriptions.
    #[serde(default)]
    pub certificates: Vec<String>,
    pub digital_skills: DigitalSkills,
    /// The participant's own goals, in their own words.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub own_goals: String,
    /// When the mapping was done.
    pub mapped_on: Date,
}

fn is_country(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

impl CompetenceMappingInput {
    pub fn validate(&self, today: Date) -> Result<(), Vec<crate::FieldError>> {
        let mut v = Validator::new();
        v.check(
            self.education.len() <= MAX_LIST_ITEMS,
            "education",
            "too_many",
            "at most 30 entries",
        );
        for (i, e) in self.education.iter().enumerate() {
            v.check(
                e.years.is_finite() && (0.0..=30.0).contains(&e.years),
                &format!("education[{i}].years"),
                "out_of_range",
                "must be between 0 and 30",
            );
            if let Some(f) = &e.field {
                v.text(&format!("education[{i}].field"), f, MAX_SHORT_TEXT);
            }
            if let Some(c) = &e.country {
                v.check(
                    is_country(c),
                    &format!("education[{i}].country"),
                    "invalid_country",
                    "must be an ISO 3166 alpha-2 code, e.g. SY",
                );
            }
        }
        v.check(
            self.work_experience.len() <= MAX_LIST_ITEMS,
            "work_experience",
            "too_many",
            "at most 30 entries",
        );
        for (i, w) in self.work_experience.iter().enumerate() {
            v.text(
                &format!("work_experience[{i}].occupation"),
                &w.occupation,
                MAX_SHORT_TEXT,
            );
            v.check(
                w.years.is_finite() && (0.0..=60.0).contains(&w.years),
                &format!("work_experience[{i}].years"),
                "out_of_range",
                "must be between 0 and 60",
            );
            if let Some(c) = &w.country {
                v.check(
                    is_country(c),
                    &format!("work_experience[{i}].country"),
                    "invalid_country",
                    "must be an ISO 3166 alpha-2 code, e.g. SY",
                );
            }
        }
        for (i, l) in self.driving_licences.iter().enumerate() {
            v.check(
                LICENCE_CLASSES.contains(&l.as_str()),
                &format!("driving_licences[{i}]"),
                "invalid_licence_class",
                "must be a Norwegian licence class such as B or CE",
            );
        }
        v.check(
            self.certificates.len() <= MAX_LIST_ITEMS,
            "certificates",
            "too_many",
            "at most 30 entries",
        );
        for (i, c) in self.certificates.iter().enumerate() {
            v.text(&format!("certificates[{i}]"), c, MAX_SHORT_TEXT);
        }
        v.free_text("own_goals", &self.own_goals, MAX_LONG_TEXT);
        check_not_future(&mut v, "mapped_on", self.mapped_on, today);
        v.finish()
    }
}

/// A competence mapping as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CompetenceMapping {
    pub participant_id: uuid::Uuid,
    #[serde(flatten)]
    pub data: CompetenceMappingInput,
    /// Who did the mapping (name kept even if the account is removed).
    pub mapped_by_name: String,
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkillLevel {
    pub skill: Skill,
    pub level: Cefr,
    /// When the level was assessed.
    pub assessed_on: Date,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestOutcome {
    pub test: TestKind,
    pub taken_on: Date,
    /// A level (`below_A1`, `A1` … `C1`) for Norskprøven; `passed`/`failed` for the C1 and
    /// social-studies tests.
    pub result: TestResult,
}

/// Norwegian training, as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NorwegianTrainingInput {
    /// The CEFR level reached per skill (each skill at most once).
    #[serde(default)]
    pub levels: Vec<SkillLevel>,
    #[serde(default)]
    pub tests: Vec<TestOutcome>,
    #[schema(minimum = 0, maximum = 2000)]
    pub course_hours_planned: f64,
    #[schema(minimum = 0, maximum = 2000)]
    pub course_hours_attended: f64,
}

impl NorwegianTrainingInput {
    pub fn validate(&self, today: Date) -> Result<(), Vec<crate::FieldError>> {
        let mut v = Validator::new();
        let mut seen = std::collections::HashSet::new();
        for (i, l) in self.levels.iter().enumerate() {
            v.check(
                seen.insert(l.skill),
                &format!("levels[{i}].skill"),
                "duplicate",
                "each skill at most once",
            );
            check_not_future(
                &mut v,
                &format!("levels[{i}].assessed_on"),
                l.assessed_on,
                today,
            );
        }
        v.check(
            self.tests.len() <= MAX_LIST_ITEMS,
            "tests",
            "too_many",
            "at most 30 test results",
        );
        for (i, t) in self.tests.iter().enumerate() {
            v.check(
                t.test.accepts(t.result),
                &format!("tests[{i}].result"),
                "result_does_not_fit_test",
                "Norskprøven has a level; the C1 and social-studies tests pass or fail",
            );
            check_not_future(&mut v, &format!("tests[{i}].taken_on"), t.taken_on, today);
        }
        check_hours(&mut v, "course_hours_planned", self.course_hours_planned);
        check_hours(&mut v, "course_hours_attended", self.course_hours_attended);
        if self.course_hours_attended.is_finite() && self.course_hours_planned.is_finite() {
            v.check(
                self.course_hours_attended <= self.course_hours_planned,
                "course_hours_attended",
                "more_than_planned",
                "must not exceed the hours planned",
            );
        }
        v.finish()
    }

    /// The level reached in a skill, if assessed.
    pub fn level(&self, skill: Skill) -> Option<Cefr> {
        self.levels
            .iter()
            .find(|l| l.skill == skill)
            .map(|l| l.level)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NorwegianTraining {
    pub participant_id: uuid::Uuid,
    #[serde(flatten)]
    pub data: NorwegianTrainingInput,
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
}

/// Hours that fit in a period: at most 12 a day, and never more than [`MAX_HOURS`].
fn plausible_hours(start: Date, end: Option<Date>) -> f64 {
    match end {
        Some(e) if e >= start => (((e - start).whole_days() + 1) as f64 * 12.0).min(MAX_HOURS),
        _ => MAX_HOURS,
    }
}

fn check_attended(
    v: &mut Validator,
    field: &str,
    attended: f64,
    planned: f64,
    start: Date,
    end: Option<Date>,
    today: Date,
) {
    // Hours attended cannot exceed the hours planned, nor what the days so far allow.
    check_period_hours(
        v,
        field,
        attended,
        start,
        Some(end.unwrap_or(today).min(today)),
    );
    if attended.is_finite() && planned.is_finite() {
        v.check(
            attended <= planned,
            field,
            "more_than_planned",
            "must not exceed the hours planned",
        );
    }
}

fn check_period_hours(v: &mut Validator, field: &str, hours: f64, start: Date, end: Option<Date>) {
    check_hours(v, field, hours);
    let max = plausible_hours(start, end);
    if hours.is_finite() && hours <= MAX_HOURS {
        v.check(
            hours <= max,
            field,
            "implausible",
            &format!("more hours than the period allows (at most {max})"),
        );
    }
}

/// One activity in the full-time programme, as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeElementInput {
    pub kind: ElementKind,
    #[schema(max_length = 200)]
    pub title: Option<String>,
    pub start_date: Date,
    pub end_date: Option<Date>,
    #[schema(minimum = 0, maximum = 2000)]
    pub hours_planned: f64,
    #[schema(minimum = 0, maximum = 2000)]
    pub hours_attended: f64,
    /// ISO 639 code of the language of instruction.
    #[schema(pattern = "^[a-z]{2,3}$")]
    pub language_of_instruction: Option<String>,
    /// A short outcome.
    #[schema(max_length = 2000)]
    pub outcome: Option<String>,
}

impl ProgrammeElementInput {
    pub fn validate(&self, today: Date) -> Result<(), Vec<crate::FieldError>> {
        let mut v = Validator::new();
        if let Some(t) = &self.title {
            v.text("title", t, MAX_SHORT_TEXT);
        }
        check_not_future(&mut v, "start_date", self.start_date, today);
        check_period(&mut v, "end_date", Some(self.start_date), self.end_date);
        check_period_hours(
            &mut v,
            "hours_planned",
            self.hours_planned,
            self.start_date,
            self.end_date,
        );
        check_attended(
            &mut v,
            "hours_attended",
            self.hours_attended,
            self.hours_planned,
            self.start_date,
            self.end_date,
            today,
        );
        if let Some(l) = &self.language_of_instruction {
            v.check(
                is_language_code(l),
                "language_of_instruction",
                "invalid_language",
                "must be an ISO 639 code in lower case",
            );
        }
        if let Some(o) = &self.outcome {
            v.free_text("outcome", o, MAX_LONG_TEXT);
        }
        v.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeElementPatch {
    pub kind: Option<ElementKind>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    pub start_date: Option<Date>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Date>)]
    pub end_date: Option<Option<Date>>,
    #[schema(minimum = 0, maximum = 2000)]
    pub hours_planned: Option<f64>,
    #[schema(minimum = 0, maximum = 2000)]
    pub hours_attended: Option<f64>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub language_of_instruction: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub outcome: Option<Option<String>>,
}

impl ProgrammeElementPatch {
    pub fn apply(&self, cur: &ProgrammeElementInput) -> (ProgrammeElementInput, Vec<&'static str>) {
        apply_patch!(
            self,
            cur,
            [
                kind,
                title,
                start_date,
                end_date,
                hours_planned,
                hours_attended,
                language_of_instruction,
                outcome
            ]
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProgrammeElement {
    pub id: uuid::Uuid,
    pub participant_id: uuid::Uuid,
    #[serde(flatten)]
    pub data: ProgrammeElementInput,
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
}

/// A work or language practice placement, as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlacementInput {
    pub kind: PlacementKind,
    /// The employer's organisation name only (no contact persons).
    #[schema(max_length = 200)]
    pub employer_name: String,
    pub start_date: Date,
    pub end_date: Option<Date>,
    /// Hours at the workplace in the period.
    #[schema(minimum = 0, maximum = 2000)]
    pub hours: f64,
    #[schema(max_length = 2000)]
    pub tasks: String,
    #[schema(max_length = 2000)]
    pub employer_feedback: Option<String>,
}

impl PlacementInput {
    pub fn validate(&self, today: Date) -> Result<(), Vec<crate::FieldError>> {
        let mut v = Validator::new();
        v.text("employer_name", &self.employer_name, MAX_SHORT_TEXT);
        check_not_future(&mut v, "start_date", self.start_date, today);
        check_period(&mut v, "end_date", Some(self.start_date), self.end_date);
        check_period_hours(&mut v, "hours", self.hours, self.start_date, self.end_date);
        v.free_text("tasks", &self.tasks, MAX_LONG_TEXT);
        if let Some(f) = &self.employer_feedback {
            v.free_text("employer_feedback", f, MAX_LONG_TEXT);
        }
        v.finish()
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlacementPatch {
    pub kind: Option<PlacementKind>,
    #[schema(max_length = 200)]
    pub employer_name: Option<String>,
    pub start_date: Option<Date>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Date>)]
    pub end_date: Option<Option<Date>>,
    #[schema(minimum = 0, maximum = 2000)]
    pub hours: Option<f64>,
    pub tasks: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub employer_feedback: Option<Option<String>>,
}

impl PlacementPatch {
    pub fn apply(&self, cur: &PlacementInput) -> (PlacementInput, Vec<&'static str>) {
        apply_patch!(
            self,
            cur,
            [
                kind,
                employer_name,
                start_date,
                end_date,
                hours,
                tasks,
                employer_feedback
            ]
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Placement {
    pub id: uuid::Uuid,
    pub participant_id: uuid::Uuid,
    #[serde(flatten)]
    pub data: PlacementInput,
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
}

/// One change to a participant's record: who, when, which part, which fields (never values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RecordChange {
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
    pub actor_name: String,
    /// `participant`, `competence_mapping`, `norwegian_training`, `programme_element`, `placement`,
    /// `settlement`, `consent`, `adaptation_needs`.
    pub section: String,
    pub record_id: uuid::Uuid,
    /// `create`, `update` or `delete`.
    pub operation: String,
    pub fields: Vec<String>,
}

/// The whole full-time-programme record of one participant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProgrammeRecord {
    pub participant: Participant,
    pub competence_mapping: Option<CompetenceMapping>,
    pub norwegian_training: Option<NorwegianTraining>,
    pub programme_elements: Vec<ProgrammeElement>,
    pub placements: Vec<Placement>,
    /// Computed from the programme elements.
    pub attendance: Attendance,
    /// When any part of the record was last changed, and by whom.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_updated_at: Option<time::OffsetDateTime>,
    pub last_updated_by: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duf_numbers() {
        assert!(is_valid_duf("201912345678"));
        assert!(!is_valid_duf("20191234567"));
        assert!(!is_valid_duf("2019123456789"));
        assert!(!is_valid_duf("1234ab345678"));
        assert!(!is_valid_duf("090012345678"));
    }

    #[test]
    fn d_numbers() {
        for good in ["41019012393", "52038545647", "65079910036", "45128877774"] {
            assert!(is_valid_d_number(good), "{good}");
            assert_eq!(
                d_number_with_check_digits(&good[..9]).as_deref(),
                Some(good)
            );
        }
        // Wrong check digits.
        assert!(!is_valid_d_number("41019012394"));
        assert!(!is_valid_d_number("41019012383"));
        // A birth number (day 01-31) is not a D-number; bad month; wrong length; letters.
        assert!(!is_valid_d_number("01019012393"));
        assert!(!is_valid_d_number("41139012393"));
        assert!(!is_valid_d_number("4101901239"));
        assert!(!is_valid_d_number("4101901239x"));
    }

    #[test]
    fn test_results_fit_tests() {
        assert!(TestKind::NorskprovenOral.accepts(TestResult::B1));
        assert!(!TestKind::NorskprovenOral.accepts(TestResult::Passed));
        assert!(TestKind::SocialStudiesTest.accepts(TestResult::Passed));
        assert!(!TestKind::C1Test.accepts(TestResult::B2));
    }

    #[test]
    fn attendance_is_summed_per_kind() {
        let a = attendance([
            (ElementKind::Norwegian, 100.0, 90.0),
            (ElementKind::Norwegian, 50.0, 40.0),
            (ElementKind::SocialStudies, 50.0, 50.0),
        ]);
        assert_eq!(a.hours_planned, 200.0);
        assert_eq!(a.hours_attended, 180.0);
        assert_eq!(a.percent, Some(90.0));
        assert_eq!(a.by_kind.len(), 2);
        assert_eq!(a.by_kind[0].kind, ElementKind::Norwegian);
        assert_eq!(a.by_kind[0].percent, Some(86.7));
        assert_eq!(attendance([]).percent, None);
    }

    #[test]
    fn changed_fields_names_top_level_differences() {
        let a = SpokenLanguage {
            language: "ar".into(),
            level: LanguageLevel::Native,
        };
        let b = SpokenLanguage {
            language: "ar".into(),
            level: LanguageLevel::Good,
        };
        assert_eq!(changed_fields(&a, &b), ["level"]);
        assert!(changed_fields(&a, &a).is_empty());
    }

    #[test]
    fn attended_hours_are_bounded() {
        let today = time::macros::date!(2026 - 11 - 22);
        let e =
            |planned: f64, attended: f64, start: Date, end: Option<Date>| ProgrammeElementInput {
                kind: ElementKind::Norwegian,
                title: None,
                start_date: start,
                end_date: end,
                hours_planned: planned,
                hours_attended: attended,
                language_of_instruction: None,
                outcome: None,
            };
        let start = time::macros::date!(2026 - 11 - 20);
        let field = |r: Result<(), Vec<crate::FieldError>>| {
            r.err()
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.code)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            field(e(10.0, 50.0, start, None).validate(today)),
            ["implausible", "more_than_planned"]
        );
        assert_eq!(
            field(e(100.0, 50.0, start, None).validate(today)),
            ["implausible"]
        );
        assert!(e(100.0, 30.0, start, None).validate(today).is_ok());
        assert!(e(36.0, 30.0, start, Some(today)).validate(today).is_ok());
        assert_eq!(
            field(e(100.0, 30.0, start, Some(today)).validate(today)),
            ["implausible"]
        );
    }

    #[test]
    fn languages() {
        assert!(is_language_code("ti"));
        assert!(is_language_code("prs"));
        assert!(!is_language_code("Tigrinya"));
        assert!(!is_language_code("T"));
    }
}

str_enum!(
    /// Why a participant is erased before the retention date: the grounds of GDPR art. 17(1)
    /// that can apply to the centre's record.
    ErasureGround {
        /// (a) The data are no longer needed for the purpose they were collected for.
        NoLongerNecessary = "no_longer_necessary",
        /// (b) The participant withdrew the consent the processing rested on.
        ConsentWithdrawn = "consent_withdrawn",
        /// (c) The participant objected (art. 21) and no overriding legitimate ground remains.
        Objection = "objection",
        /// (d) The data were processed unlawfully.
        UnlawfullyProcessed = "unlawfully_processed",
        /// (e) A legal obligation requires the erasure.
        LegalObligation = "legal_obligation",
    }
);

/// A participant's documented request to be erased, as the centre records it when it carries
/// the request out. Holds no personal data: the record of the erasure outlives the person's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    pub ground: ErasureGround,
    /// When the participant's request reached the centre.
    pub request_received_on: Date,
}

impl ErasureRequest {
    pub fn validate(&self, today: Date) -> Result<(), Vec<crate::FieldError>> {
        let mut v = Validator::new();
        check_not_future(
            &mut v,
            "request_received_on",
            self.request_received_on,
            today,
        );
        v.check(
            self.request_received_on.year() >= 2020,
            "request_received_on",
            "implausible",
            "must be a date since the service's first records",
        );
        v.finish()
    }
}
