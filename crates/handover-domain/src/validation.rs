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

impl FieldError {
    /// The one invalid field of a request, as the list a validation result carries.
    pub fn one(field: &str, code: &str, message: &str) -> Vec<FieldError> {
        vec![FieldError {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.to_owned(),
        }]
    }
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

    /// A person's name: as [`Validator::text`], and it must show as what it is. Refused:
    /// bidirectional controls (a right-to-left override makes a name display as another),
    /// zero-width and other invisible characters besides the joiners some scripts need, and a
    /// name with no letter at all (one that is blank on screen).
    pub fn person_name(&mut self, field: &str, value: &str, max: usize) {
        let before = self.errors.len();
        self.text(field, value, max);
        if self.errors.len() > before {
            return;
        }
        if value.chars().any(is_bidi_control) {
            self.add(
                field,
                "invalid_characters",
                "must not contain direction-changing characters (such as U+202E)",
            );
        } else if value.chars().any(is_invisible) {
            self.add(
                field,
                "invalid_characters",
                "must not contain invisible characters (such as a zero-width space)",
            );
        } else if !value.chars().any(|c| c.is_alphabetic() && !is_filler(c)) {
            self.add(field, "no_letters", "must contain at least one letter");
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

/// Unicode's explicit bidirectional formatting characters (UAX #9): embeddings, overrides,
/// isolates and the implicit marks.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// Characters that take no space and show nothing. Zero-width non-joiner and joiner (U+200C,
/// U+200D) are not among them: Persian and Indic names need them.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}' | '\u{034F}'
    ) || is_filler(c)
}

/// Letters by category that render as blank space (Hangul fillers).
fn is_filler(c: char) -> bool {
    matches!(c, '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}')
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
    fn person_names_show_as_what_they_are() {
        let check = |s: &str| {
            let mut v = Validator::new();
            v.person_name("n", s, 100);
            v.finish().err().map(|e| e[0].code.clone())
        };
        for ok in [
            "Kari",
            "Ola-Nordmann",
            "محمد",
            "\u{0645}\u{0647}\u{200C}\u{0631}\u{0627}\u{0646}",
            "Nguyễn Văn An",
            "O'Brien",
        ] {
            assert_eq!(check(ok), None, "{ok:?}");
        }
        for bad in [
            "\u{200B}",
            "Kari\u{202E}nnamdroN",
            "\u{2066}Ola\u{2069}",
            "A\u{200F}B",
            "\u{3164}",
            "Ka\u{200B}ri",
            "\u{FEFF}Ola",
            "---",
            "123",
        ] {
            assert!(check(bad).is_some(), "{bad:?} accepted");
        }
        assert_eq!(check("   ").as_deref(), Some("required"));
    }

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
