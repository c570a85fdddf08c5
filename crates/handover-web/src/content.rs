//! A handover file section's content (JSON, one shape per section) as readable HTML: objects
//! as lists of labelled facts, lists as lists, dates and times in Norwegian form, codes by their
//! catalogue label. One renderer for every section, so a new field in a section shows (with
//! its name) rather than disappearing.

use crate::i18n::Messages;
use crate::view::{date, datetime, number, parse_date};
use serde_json::Value;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Fields that say nothing to a reader (ids, versions).
const HIDDEN: &[&str] = &[
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

fn rank(key: &str) -> usize {
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

fn label(m: &Messages, key: &str) -> String {
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

fn scalar(m: &Messages, key: &str, v: &Value) -> String {
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

/// The content as HTML: already escaped, for `|safe` in a template.
pub fn render(m: &Messages, v: &Value) -> String {
    let mut out = String::new();
    node(m, "", v, &mut out);
    out
}

fn node(m: &Messages, key: &str, v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            out.push_str("<dl class=\"app-facts\">");
            let mut fields: Vec<(&String, &Value)> = map.iter().collect();
            fields.sort_by(|a, b| rank(a.0).cmp(&rank(b.0)).then(a.0.cmp(b.0)));
            for (k, val) in fields {
                if HIDDEN.contains(&k.as_str()) {
                    continue;
                }
                out.push_str("<dt>");
                out.push_str(&escape(&label(m, k)));
                out.push_str("</dt><dd>");
                node(m, k, val, out);
                out.push_str("</dd>");
            }
            out.push_str("</dl>");
        }
        Value::Array(items) if items.is_empty() => out.push('–'),
        Value::Array(items) => {
            out.push_str("<ul class=\"ds-list\">");
            for item in items {
                out.push_str("<li>");
                node(m, key, item, out);
                out.push_str("</li>");
            }
            out.push_str("</ul>");
        }
        other => out.push_str(&escape(&scalar(m, key, other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use serde_json::json;

    #[test]
    fn content_is_escaped_labelled_and_in_norwegian_form() {
        let m = Lang::Nb.messages();
        let html = render(
            m,
            &json!({
                "given_name": "<script>alert(1)</script>",
                "date_of_birth": "1990-03-15",
                "status": "in_programme",
                "hours": 12.5,
                "languages": [{ "language": "ti", "level": "native" }],
                "id": "hidden",
                "interpreter_present": true,
            }),
        );
        assert!(
            html.contains("&lt;script&gt;") && !html.contains("<script>"),
            "{html}"
        );
        assert!(html.contains("15.03.1990"));
        assert!(html.contains("I programmet"));
        assert!(html.contains("12,5"));
        assert!(html.contains("Morsmål"));
        assert!(!html.contains("hidden"));
        assert!(html.contains(m.t("content.yes")));
        assert!(html.contains(m.t("field.given_name")));
    }
}
