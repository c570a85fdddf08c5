//! A handover file section's content (JSON, one shape per section) as readable HTML: objects
//! as lists of labelled facts, lists as lists, dates and times in Norwegian form, codes by their
//! catalogue label. One renderer for every section, so a new field in a section shows (with
//! its name) rather than disappearing.

use crate::i18n::Messages;
use handover_i18n::content::{HIDDEN, label, rank, scalar};
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
