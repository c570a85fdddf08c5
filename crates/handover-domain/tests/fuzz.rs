//! Property-based fuzzing of every request type and validator: arbitrary JSON (mutations of valid
//! requests, and random trees) is deserialised and validated; nothing may panic, and validation
//! either accepts or returns field errors with a field, a code and a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_domain::FieldError;
use handover_domain::conversation::{MinutesInput, ProposalInput, SlotInput, validate_slot};
use handover_domain::guidance::{GuidanceSummaryInput, OfferingInput};
use handover_domain::handover::{
    AdaptationNeedsInput, ConsentInput, SettlementInput, validate_reason,
};
use handover_domain::oslo;
use handover_domain::participant::{
    CompetenceMappingInput, NorwegianTrainingInput, ParticipantInput, ParticipantPatch,
    PlacementInput, PlacementPatch, ProgrammeElementInput, ProgrammeElementPatch,
    d_number_with_check_digits, is_valid_d_number, is_valid_duf,
};
use handover_domain::password::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, check_password};
use handover_domain::validation::{Validator, is_plausible_email, normalise_email};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use std::cell::Cell;
use time::{Date, OffsetDateTime};

/// Cases per property; the total is printed by `report`.
const CASES: u32 = 400;
thread_local! {
    /// Executions in this test (each test runs on its own thread).
    static EXECUTIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    EXECUTIONS.with(|c| c.set(c.get() + 1));
}

/// Written to the stderr handle, not with `eprintln!`, so the count shows in CI's `cargo test`
/// output although the test passes (libtest captures the print macros only).
fn report(test: &str) {
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "figure: fuzz executions in {test}: {} ({CASES} cases per property)",
        EXECUTIONS.with(Cell::get)
    );
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    })
}

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

fn ago(days: i64) -> String {
    (today() - time::Duration::days(days)).to_string()
}

// --- Leaves: the values a hostile client would try ------------------------------------------

fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,40}",
        "[\\x00-\\x1f\\x7f\u{85}\u{2028}\u{202e}\u{feff}a ]{0,20}",
        // Near the length limits of names (200), long texts (2000) and notes (4000).
        (
            0usize..4200,
            prop::sample::select(vec!["a", "æ", "👩‍👩‍👧", " ", "\u{301}"])
        )
            .prop_map(|(n, c)| c.repeat(n)),
        // Dates, some valid, some out of range or malformed.
        (-10000i32..100_000, 0u8..14, 0u8..33)
            .prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
        // RFC 3339 instants, at the edges of the representable range too.
        (0i32..10_000, 1u8..13, 1u8..29, 0u8..25, -25i8..26)
            .prop_map(|(y, m, d, h, o)| { format!("{y:04}-{m:02}-{d:02}T{h:02}:00:00{o:+03}:00") }),
        // Digit strings around the DUF (12) and D-number (11) lengths.
        "[0-9]{8,13}",
        "[a-z]{1,4}",
        "[A-Z]{1,3}",
        Just("https://møte.example/abc".to_owned()),
        Just("javascript:alert(1)".to_owned()),
        Just("kari@example.no".to_owned()),
        Just("00000000-0000-0000-0000-000000000000".to_owned()),
        prop::sample::select(ENUM_VALUES.to_vec()).prop_map(str::to_owned),
    ]
}

const ENUM_VALUES: &[&str] = &[
    "in_programme",
    "settled",
    "left_programme",
    "native",
    "fluent",
    "good",
    "basic",
    "A1",
    "A2",
    "B1",
    "B2",
    "C1",
    "below_A1",
    "passed",
    "failed",
    "listening",
    "reading",
    "writing",
    "oral",
    "none",
    "primary",
    "upper_secondary",
    "doctorate",
    "other",
    "intermediate",
    "advanced",
    "norwegian",
    "social_studies",
    "language_practice",
    "work_practice",
    "norskproven_oral",
    "c1_test",
    "social_studies_test",
    "nav",
    "county",
    "municipality",
    "state",
    "individual",
    "group",
    "identity_and_programme",
    "competence_mapping",
    "guidance_summary",
    "health_and_adaptation",
    "written_signed",
    "oral_recorded",
    "digital",
    "mobility",
    "mental_health",
    "video",
    "phone",
    "in_person",
    "participant",
    "interpreter",
    "held",
    "no_show",
    "mapping_and_guidance",
    "interpreting",
];

fn hostile_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from), // NaN and infinities become null
        prop::sample::select(vec![
            json!(0),
            json!(-1),
            json!(14),
            json!(15),
            json!(480),
            json!(481),
            json!(i32::MAX),
            json!(i64::from(i32::MAX) + 1),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(-0.0),
            json!(1e-320),
            json!(1e308),
            json!(f64::MAX),
            json!(2000.0),
            json!(2_000.000_000_1),
            json!(30.000_001),
            json!(60.5),
        ]),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        hostile_number(),
        hostile_string().prop_map(Value::String),
    ]
}

/// Arbitrary JSON trees with keys from the request types' field names (so they get past
/// "unknown field" now and then) and random ones.
fn tree() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        prop::sample::select(FIELD_NAMES.to_vec()).prop_map(str::to_owned),
        "\\PC{0,8}",
    ];
    leaf().prop_recursive(5, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..10)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

const FIELD_NAMES: &[&str] = &[
    "given_name",
    "family_name",
    "date_of_birth",
    "duf_number",
    "d_number",
    "languages",
    "language",
    "level",
    "interpreter_language",
    "arrival_date",
    "programme_start",
    "programme_end",
    "status",
    "notes",
    "education",
    "years",
    "field",
    "country",
    "documents_for_recognition",
    "work_experience",
    "occupation",
    "driving_licences",
    "certificates",
    "digital_skills",
    "own_goals",
    "mapped_on",
    "levels",
    "skill",
    "assessed_on",
    "tests",
    "test",
    "taken_on",
    "result",
    "course_hours_planned",
    "course_hours_attended",
    "kind",
    "title",
    "start_date",
    "end_date",
    "hours_planned",
    "hours_attended",
    "language_of_instruction",
    "outcome",
    "employer_name",
    "hours",
    "tasks",
    "employer_feedback",
    "key",
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
    "min_cefr",
    "text",
    "info_url",
    "uncertain",
    "sources",
    "title",
    "url",
    "checked",
    "fields",
    "note",
    "sessions",
    "date",
    "topic",
    "interpreter_used",
    "interests",
    "strengths",
    "experience",
    "goals_short_term",
    "goals_long_term",
    "pathway",
    "offering_id",
    "reason",
    "covered",
    "left_for_section_11",
    "sections",
    "given_on",
    "method",
    "interpreter_present",
    "municipality_id",
    "settlement_date",
    "contacts",
    "name",
    "email",
    "phone",
    "role",
    "needs",
    "category",
    "description",
    "slots",
    "start",
    "duration_minutes",
    "mode",
    "video_link",
    "phone_number",
    "address",
    "internal_attendees",
    "external_attendees",
    "actions",
    "responsible_organisation_id",
    "due_date",
];

// --- Mutations of valid requests --------------------------------------------------------------

#[derive(Debug, Clone)]
enum Mutation {
    Replace(prop::sample::Index, Value),
    Remove(prop::sample::Index),
    AddKey(prop::sample::Index, String, Value),
    /// Repeats an array's first element, to get past "at most N" limits.
    Grow(prop::sample::Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<prop::sample::Index>(), leaf()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        1 => (any::<prop::sample::Index>(), tree()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        2 => any::<prop::sample::Index>().prop_map(Mutation::Remove),
        1 => (
            any::<prop::sample::Index>(),
            prop_oneof![
                prop::sample::select(FIELD_NAMES.to_vec()).prop_map(str::to_owned),
                "\\PC{0,8}"
            ],
            leaf()
        )
            .prop_map(|(i, k, v)| Mutation::AddKey(i, k, v)),
        1 => (any::<prop::sample::Index>(), 0usize..120).prop_map(|(i, n)| Mutation::Grow(i, n)),
    ]
}

/// Every node's path (object keys and array positions) in a value.
fn paths(v: &Value, here: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(here.clone());
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                here.push(Value::String(k.clone()));
                paths(c, here, out);
                here.pop();
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                here.push(Value::from(i));
                paths(c, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn node<'a>(v: &'a mut Value, path: &[Value]) -> &'a mut Value {
    path.iter().fold(v, |cur, seg| match seg {
        Value::String(k) => &mut cur[k.as_str()],
        Value::Number(n) => &mut cur[n.as_u64().unwrap() as usize],
        _ => unreachable!(),
    })
}

fn mutate(seed: &Value, muts: &[Mutation]) -> Value {
    let mut v = seed.clone();
    for m in muts {
        let mut all = Vec::new();
        paths(&v, &mut Vec::new(), &mut all);
        match m {
            Mutation::Replace(i, new) => *node(&mut v, i.get::<Vec<Value>>(&all)) = new.clone(),
            Mutation::Remove(i) => {
                let p = i.get::<Vec<Value>>(&all);
                if let Some((last, parent)) = p.split_last() {
                    match (node(&mut v, parent), last) {
                        (Value::Object(o), Value::String(k)) => {
                            o.remove(k);
                        }
                        (Value::Array(a), Value::Number(n)) => {
                            a.remove(n.as_u64().unwrap() as usize);
                        }
                        _ => {}
                    }
                }
            }
            Mutation::AddKey(i, k, new) => {
                if let Value::Object(o) = node(&mut v, i.get::<Vec<Value>>(&all)) {
                    o.insert(k.clone(), new.clone());
                }
            }
            Mutation::Grow(i, n) => {
                if let Value::Array(a) = node(&mut v, i.get::<Vec<Value>>(&all))
                    && let Some(first) = a.first().cloned()
                {
                    a.extend(std::iter::repeat_n(first, *n));
                }
            }
        }
    }
    v
}

// --- The properties ---------------------------------------------------------------------------

fn assert_structured(result: Result<(), Vec<FieldError>>, input: &Value) {
    if let Err(errors) = result {
        assert!(!errors.is_empty(), "an empty error list for {input}");
        for e in errors {
            assert!(
                !e.code.is_empty()
                    && e.code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                    && !e.message.is_empty()
                    && e.field
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_lowercase()),
                "unstructured error {e:?} for {input}"
            );
        }
    }
}

/// Deserialises `v` as `T` (from the value and from its text, as the service does) and
/// validates what deserialises.
fn check<T: DeserializeOwned>(v: &Value, validate: &dyn Fn(&T) -> Result<(), Vec<FieldError>>) {
    count();
    let text = serde_json::to_vec(v).unwrap();
    let from_text = serde_json::from_slice::<T>(&text);
    let from_value = serde_json::from_value::<T>(v.clone());
    assert_eq!(
        from_text.is_ok(),
        from_value.is_ok(),
        "text and value parse differently: {v}"
    );
    if let Ok(t) = from_text {
        assert_structured(validate(&t), v);
    }
}

/// Runs mutations of `seed` and random trees through `check`.
fn fuzz<T: DeserializeOwned>(
    name: &str,
    seed: Value,
    validate: impl Fn(&T) -> Result<(), Vec<FieldError>>,
) {
    // The seed itself must be valid, or the mutations explore only the error paths.
    let t: T = serde_json::from_value(seed.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(validate(&t), Ok(()), "{name}: the seed is invalid");
    let accepted = Cell::new(0u32);
    runner()
        .run(&prop::collection::vec(mutation(), 1..5), |muts| {
            let v = mutate(&seed, &muts);
            if serde_json::from_value::<T>(v.clone()).is_ok_and(|t| validate(&t).is_ok()) {
                accepted.set(accepted.get() + 1);
            }
            check::<T>(&v, &validate);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    runner()
        .run(&tree(), |v| {
            check::<T>(&v, &validate);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    // Some mutants stay valid: the validator is exercised on both sides.
    assert!(accepted.get() > 0, "{name}: no mutant was accepted");
}

fn participant_seed() -> Value {
    json!({
        "given_name": "Kari",
        "family_name": "Tesfay",
        "date_of_birth": "1990-05-17",
        "duf_number": "202312345678",
        "d_number": null,
        "languages": [{"language": "ti", "level": "native"}],
        "interpreter_language": "ti",
        "arrival_date": ago(100),
        "programme_start": ago(90),
        "programme_end": null,
        "status": "in_programme",
        "notes": "Notat\nlinje to"
    })
}

fn element_seed() -> Value {
    json!({
        "kind": "norwegian",
        "title": "Norskkurs",
        "start_date": ago(60),
        "end_date": ago(10),
        "hours_planned": 100.0,
        "hours_attended": 90.0,
        "language_of_instruction": "nb",
        "outcome": "A2 muntlig"
    })
}

fn placement_seed() -> Value {
    json!({
        "kind": "work_practice",
        "employer_name": "Sørlandet Sykehus",
        "start_date": ago(40),
        "end_date": ago(20),
        "hours": 96.0,
        "tasks": "Kjøkken",
        "employer_feedback": null
    })
}

#[test]
fn participant_requests() {
    let today = today();
    fuzz::<ParticipantInput>("participant", participant_seed(), |p| p.validate(today));
    let base: ParticipantInput = serde_json::from_value(participant_seed()).unwrap();
    fuzz::<ParticipantPatch>(
        "participant patch",
        json!({"given_name": "Kari Anne", "programme_end": null, "duf_number": "202312345678"}),
        |p| p.apply(&base).0.validate(today),
    );
    report("participant_requests");
}

#[test]
fn programme_record_requests() {
    let today = today();
    fuzz::<CompetenceMappingInput>(
        "competence mapping",
        json!({
            "education": [{"level": "upper_secondary", "years": 12.0, "field": "Allmennfag",
                           "country": "ER", "documents_for_recognition": true}],
            "work_experience": [{"occupation": "Sveiser", "years": 5.0, "country": "ER"}],
            "driving_licences": ["B"],
            "certificates": ["Sveisesertifikat"],
            "digital_skills": "basic",
            "own_goals": "Jobbe som sveiser.",
            "mapped_on": ago(80)
        }),
        |m| m.validate(today),
    );
    fuzz::<NorwegianTrainingInput>(
        "norwegian training",
        json!({
            "levels": [{"skill": "oral", "level": "B1", "assessed_on": ago(20)}],
            "tests": [{"test": "norskproven_oral", "taken_on": ago(15), "result": "B1"},
                      {"test": "social_studies_test", "taken_on": ago(15), "result": "passed"}],
            "course_hours_planned": 300.0,
            "course_hours_attended": 270.0
        }),
        |n| n.validate(today),
    );
    fuzz::<ProgrammeElementInput>("programme element", element_seed(), |e| e.validate(today));
    let element: ProgrammeElementInput = serde_json::from_value(element_seed()).unwrap();
    fuzz::<ProgrammeElementPatch>(
        "programme element patch",
        json!({"hours_attended": 95.0, "end_date": null}),
        |p| p.apply(&element).0.validate(today),
    );
    fuzz::<PlacementInput>("placement", placement_seed(), |p| p.validate(today));
    let placement: PlacementInput = serde_json::from_value(placement_seed()).unwrap();
    fuzz::<PlacementPatch>(
        "placement patch",
        json!({"hours": 100.0, "employer_feedback": "Flink"}),
        |p| p.apply(&placement).0.validate(today),
    );
    report("programme_record_requests");
}

#[test]
fn guidance_requests() {
    let today = today();
    fuzz::<OfferingInput>(
        "catalogue offering",
        json!({
            "key": "fagskole-test",
            "group": "higher_vocational_and_higher_education",
            "name_nb": "Fagskole", "name_en": "Vocational college",
            "description_nb": "Beskrivelse", "description_en": "Description",
            "responsible_actor": "county",
            "legal_basis": "Fagskoleloven", "financing": "Lånekassen",
            "livelihood": "Lån og stipend", "typical_duration": "1-2 år",
            "prerequisites": {"min_cefr": "B1", "text": "Fullført videregående"},
            "info_url": "https://utdanning.no",
            "uncertain": ["financing"],
            "sources": [{"title": "Utdanning.no: Fagskole", "url": "https://utdanning.no/fagskole",
                         "checked": ago(30), "fields": ["responsible_actor", "prerequisites"],
                         "note": "Fylket eier de fleste fagskolene."}]
        }),
        |o: &OfferingInput| o.validate(today),
    );
    let summary = json!({
        "sessions": [{"date": ago(5), "kind": "individual", "topic": "Yrkesmål",
                      "interpreter_used": true, "interpreter_language": "ti"}],
        "interests": "Helse", "strengths": "Omsorg", "experience": "Sykepleier",
        "goals_short_term": "Norsk B1", "goals_long_term": "Autorisasjon",
        "pathway": [{"offering_id": "3f1c6a52-8b0e-4a8e-9a51-1c2d3e4f5a6b", "reason": "Norsk først"}],
        "covered": "Kartlegging", "left_for_section_11": "Karriereplan"
    });
    fuzz::<GuidanceSummaryInput>("guidance summary", summary.clone(), |s| s.validate(today));
    fuzz::<GuidanceSummaryInput>("guidance summary (final)", summary, |s| {
        s.validate(today).and_then(|()| s.validate_final())
    });
    report("guidance_requests");
}

#[test]
fn handover_requests() {
    let today = today();
    fuzz::<ConsentInput>(
        "consent",
        json!({"sections": ["identity_and_programme", "guidance_summary"], "given_on": ago(2),
               "method": "written_signed", "language": "ti", "interpreter_present": true}),
        |c| c.validate(today),
    );
    fuzz::<SettlementInput>(
        "settlement",
        json!({"municipality_id": "3f1c6a52-8b0e-4a8e-9a51-1c2d3e4f5a6b",
               "settlement_date": ago(-30),
               "contacts": [{"name": "Ola", "email": "ola@kommune.no", "phone": "+47 12345678",
                             "role": "programrådgiver"}]}),
        SettlementInput::validate,
    );
    fuzz::<AdaptationNeedsInput>(
        "adaptation needs",
        json!({"needs": [{"category": "hearing", "description": "Trenger teleslynge"}]}),
        AdaptationNeedsInput::validate,
    );
    runner()
        .run(&(hostile_string(), hostile_string()), |(field, reason)| {
            count();
            let _ = validate_reason(&field, &reason);
            Ok(())
        })
        .unwrap();
    report("handover_requests");
}

#[test]
fn conversation_requests() {
    let now = OffsetDateTime::now_utc();
    let in_a_week = (now + time::Duration::days(7))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    fuzz::<ProposalInput>(
        "conversation proposal",
        json!({
            "slots": [{"start": in_a_week, "duration_minutes": 60}],
            "mode": "video",
            "video_link": "https://møte.example/abc",
            "phone_number": null, "address": null,
            "internal_attendees": ["3f1c6a52-8b0e-4a8e-9a51-1c2d3e4f5a6b"],
            "external_attendees": [{"kind": "interpreter", "name": "Tolk", "email": null,
                                    "language": "ti"}]
        }),
        |p| p.validate(now),
    );
    fuzz::<SlotInput>(
        "slot (reschedule, counter-proposal)",
        json!({"start": in_a_week, "duration_minutes": 45}),
        |s| {
            let mut v = Validator::new();
            validate_slot(&mut v, "", s, now);
            v.finish()
        },
    );
    fuzz::<MinutesInput>(
        "minutes",
        json!({"outcome": "held", "notes": "Gjennomført",
               "actions": [{"description": "Melde på norskkurs",
                            "responsible_organisation_id": "3f1c6a52-8b0e-4a8e-9a51-1c2d3e4f5a6b",
                            "due_date": ago(-14)}]}),
        MinutesInput::validate,
    );
    report("conversation_requests");
}

#[test]
fn validators_identity_numbers_passwords_and_oslo_time() {
    runner()
        .run(
            &(hostile_string(), 0usize..5000, hostile_string()),
            |(s, max, field)| {
                count();
                let mut v = Validator::new();
                v.text(&field, &s, max);
                v.free_text(&field, &s, max);
                v.email(&field, &s);
                // `text` accepts exactly the trimmed, non-empty, bounded, control-free strings.
                let t = s.trim();
                let ok =
                    !t.is_empty() && t.chars().count() <= max && !t.chars().any(char::is_control);
                let mut only_text = Validator::new();
                only_text.text(&field, &s, max);
                prop_assert_eq!(only_text.is_empty(), ok);
                let _ = v.finish();
                let n = normalise_email(&s);
                prop_assert_eq!(n.trim(), n.as_str());
                if is_plausible_email(&s) {
                    prop_assert!(s.len() <= 254 && s.contains('@'));
                }
                Ok(())
            },
        )
        .unwrap();
    runner()
        .run(&hostile_string(), |s| {
            count();
            if is_valid_duf(&s) {
                prop_assert!(s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()));
            }
            if is_valid_d_number(&s) {
                let day: u32 = s[..2].parse().unwrap();
                prop_assert!((41..=71).contains(&day));
            }
            let _ = d_number_with_check_digits(&s);
            Ok(())
        })
        .unwrap();
    runner()
        .run(&"[0-9]{9}", |nine| {
            count();
            if let Some(d) = d_number_with_check_digits(&nine) {
                prop_assert!(d.starts_with(&nine) && is_valid_d_number(&d));
            }
            Ok(())
        })
        .unwrap();
    runner()
        .run(
            &(hostile_string(), proptest::option::of(hostile_string())),
            |(p, email)| {
                let email: Vec<&str> = email.iter().map(String::as_str).collect();
                count();
                if check_password(&p, email.as_slice()).is_ok() {
                    let n = p.chars().count();
                    prop_assert!((MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n));
                }
                Ok(())
            },
        )
        .unwrap();
    // Every representable instant, including the first and last: Oslo is UTC+1 or UTC+2.
    let min = Date::MIN.midnight().assume_utc().unix_timestamp();
    let max = Date::MAX
        .with_hms(23, 59, 59)
        .unwrap()
        .assume_utc()
        .unix_timestamp();
    let edges = prop_oneof![
        Just(min),
        Just(max),
        min..=max,
        min..min + 3 * 86_400,
        max - 3 * 86_400..=max,
        // Around the daylight-saving changes of a few years.
        (1996i32..2100, 0i64..4 * 3600)
            .prop_map(|(y, s)| { oslo::summer_time(y).unwrap().1.unix_timestamp() - 2 * 3600 + s }),
    ];
    runner()
        .run(&edges, |secs| {
            count();
            let t = OffsetDateTime::from_unix_timestamp(secs).unwrap();
            let offset = oslo::offset_at(t).whole_hours();
            prop_assert!(offset == 1 || offset == 2);
            let local = oslo::to_oslo(t);
            prop_assert_eq!(local, t, "the same instant");
            Ok(())
        })
        .unwrap();
    report("validators");
}
