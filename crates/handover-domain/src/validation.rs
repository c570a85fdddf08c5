//! Input validation that names the offending field, so a 422 answer says exactly what is wrong.

use serde::Serialize;
use utoipa::ToSchema;

/// One invalid field in a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON path of the field, e.g. `email` or `languages[2].level`.
    pub field: String,
    /// A stable, machine-readable code, e.g. `too_short`.
    pub code: String,
    /// A human-readable explanation.
    pub message: String,
}

/// Collects field errors; `finish` turns them into a result.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_EMAIL_CHARS: usize = 254;

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, code: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            code: code.to_owned(),
            message: message.into(),
        });
    }

    /// A required, trimmed, non-empty text of at most `max` characters, without control characters.
    pub fn text(&mut self, field: &str, value: &str, max: usize) {
        let t = value.trim();
        if t.is_empty() {
            self.add(field, "required", "must not be empty");
        } else if t.chars().count() > max {
            self.add(
                field,
                "too_long",
                format!("must be at most {max} characters"),
            );
        } else if t.chars().any(|c| c.is_control()) {
            self.add(
                field,
                "invalid_characters",
                "must not contain control characters",
            );
        }
    }

    /// Free text that may span lines: bounded length, no control characters but line breaks and tabs.
    pub fn free_text(&mut self, field: &str, value: &str, max: usize) {
        if value.chars().count() > max {
            self.add(
                field,
                "too_long",
                format!("must be at most {max} characters"),
            );
        } else if value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            self.add(
                field,
                "invalid_characters",
                "must not contain control characters",
            );
        }
    }

    pub fn email(&mut self, field: &str, value: &str) {
        if !is_plausible_email(value) {
            self.add(
                field,
                "invalid_email",
                "must be an e-mail address like name@example.no",
            );
        }
    }

    pub fn check(&mut self, ok: bool, field: &str, code: &str, message: &str) {
        if !ok {
            self.add(field, code, message);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

/// Deliberately simple: one `@`, a non-empty local part, a dotted domain, no spaces.
/// Deliverability is proven by the password-setup e-mail, not by a regex.
pub fn is_plausible_email(s: &str) -> bool {
    if s.len() > MAX_EMAIL_CHARS || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

/// E-mail addresses are compared case-insensitively: store and look up the lowercase form.
pub fn normalise_email(s: &str) -> String {
    s.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(is_plausible_email("kari.nordmann@kristiansand.kommune.no"));
        assert!(!is_plausible_email("kari"));
        assert!(!is_plausible_email("kari@localhost"));
        assert!(!is_plausible_email("ka ri@x.no"));
        assert!(!is_plausible_email("@x.no"));
        assert!(!is_plausible_email("a@b@c.no"));
        assert!(!is_plausible_email("a@x..no"));
        assert_eq!(normalise_email("  Kari@X.NO "), "kari@x.no");
    }

    #[test]
    fn texts_name_the_field() {
        let mut v = Validator::new();
        v.text("name", "   ", 10);
        v.text("title", "abcdefghijkl", 10);
        v.text("ok", "fine", 10);
        v.free_text("notes", "line\nline", 100);
        v.free_text("bad", "bell\u{7}", 100);
        let errs = v.finish().err().unwrap_or_default();
        let fields: Vec<_> = errs
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("name", "required"),
                ("title", "too_long"),
                ("bad", "invalid_characters")
            ]
        );
    }
}
