//! A handover file section's content (JSON, one shape per section) read as labelled facts: the
//! label of a field, the text of a value (dates and times in Norwegian form, codes by their
//! label), and the order fields are read in. The web page and the printed file both use it, so
//! a field reads the same on screen and on paper, and a new field shows with its name rather
//! than disappearing.

use crate::Messages;
use crate::format::{date, datetime, number, parse_date};
use serde_json::Value;

/// Fields that say nothing to a reader (ids, versions).
pub const HIDDEN: &[&str] = &[
    "id",
    "participant_id",
    "version",
    "offering_id",
    "summary_id",
    "supersedes",
    "created_by",
    "updated_at",
];

/// The order facts are read in (the stored JSON keeps its keys sorted): who the participant is
/// first, then what they did, totals after their items; other fields follow in name order.
const ORDER: &[&str] = &[
    "summary",
    "participant",
    "given_name",
    "family_name",
    "date_of_birth",
    "duf_number",
    "d_number",
    "languages",
    "language",
    "interpreter_language",
    "arrival_date",
    "programme_start",
    "programme_end",
    "status",
    "kind",
    "skill",
    "level",
    "test",
    "title",
    "employer_name",
    "occupation",
    "start_date",
    "end_date",
    "mapped_on",
    "education",
    "work_experience",
    "norwegian_training",
    "levels",
    "tests",
    "programme_elements",
    "placements",
    "attendance",
];

pub fn rank(key: &str) -> usize {
    ORDER.iter().position(|k| *k == key).unwrap_or(ORDER.len())
}

/// The catalogue prefixes of fields whose values are codes.
const CODE_LABELS: &[(&str, &str)] = &[
    ("status", "participant_status."),
    ("level", "language_level."),
    ("skill", "skill."),
    ("test", "test_kind."),
    ("result", "test_result."),
    ("digital_skills", "digital_skills."),
    ("category", "adaptation_category."),
];

pub fn label(m: &Messages, key: &str) -> String {
    let k = format!("field.{key}");
    if m.has(&k) {
        m.t(&k).to_owned()
    } else {
        let s = key.replace('_', " ");
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
            .unwrap_or_default()
    }
}

pub fn scalar(m: &Messages, key: &str, v: &Value) -> String {
    match v {
        Value::Null => "–".into(),
        Value::Bool(b) => m
            .t(if *b { "content.yes" } else { "content.no" })
            .to_owned(),
        Value::Number(n) => n.as_f64().map(number).unwrap_or_else(|| n.to_string()),
        Value::String(s) => {
            if s.len() == 10
                && let Some(d) = parse_date(s)
            {
                return date(&d);
            }
            if let Ok(t) =
                time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            {
                return datetime(t);
            }
            for (field, prefix) in CODE_LABELS {
                if key == *field || key.ends_with(&format!("_{field}")) {
                    let k = format!("{prefix}{s}");
                    if m.has(&k) {
                        return m.t(&k).to_owned();
                    }
                }
            }
            if key == "kind" || key == "level" {
                for prefix in ["element_kind.", "placement_kind.", "education_level."] {
                    let k = format!("{prefix}{s}");
                    if m.has(&k) {
                        return m.t(&k).to_owned();
                    }
                }
            }
            s.clone()
        }
        _ => String::new(),
    }
}
