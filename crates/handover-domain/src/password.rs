//! The password rule: at least 12 characters, no composition rules, not a commonly used password
//! (NIST SP 800-63B, OWASP ASVS 2.1).

use std::collections::HashSet;
use std::sync::LazyLock;

pub const MIN_PASSWORD_CHARS: usize = 12;
/// Argon2 accepts long inputs, but a bound keeps a hostile client from making us hash megabytes.
pub const MAX_PASSWORD_CHARS: usize = 256;

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../../data/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
});

/// Why a password was refused, as a stable code and a message for the user.
pub fn check_password(password: &str, email: Option<&str>) -> Result<(), (&'static str, String)> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err((
            "too_short",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err((
            "too_long",
            format!("must be at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    let lower = password.to_lowercase();
    if COMMON.contains(lower.as_str()) {
        return Err((
            "common_password",
            "is a commonly used password; choose another".into(),
        ));
    }
    if let Some(email) = email {
        let email = email.to_lowercase();
        let local = email.split('@').next().unwrap_or_default();
        if lower == email || (local.len() >= 4 && lower.contains(local)) {
            return Err((
                "contains_email",
                "must not contain your e-mail address".into(),
            ));
        }
    }
    if let Some(first) = lower.chars().next()
        && lower.chars().all(|c| c == first)
    {
        return Err(("repetitive", "must not be one character repeated".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert_eq!(
            check_password("short", None).err().map(|e| e.0),
            Some("too_short")
        );
        assert_eq!(
            check_password(&"x".repeat(300), None).err().map(|e| e.0),
            Some("too_long")
        );
        assert_eq!(
            check_password("aaaaaaaaaaaaaa", None).err().map(|e| e.0),
            Some("repetitive")
        );
        assert_eq!(
            check_password("PasswordPassword", None).err().map(|e| e.0),
            Some("common_password")
        );
        assert_eq!(
            check_password("kari.nordmann-2026", Some("kari.nordmann@x.no"))
                .err()
                .map(|e| e.0),
            Some("contains_email")
        );
        assert!(check_password("korrekt hest batteri stift", Some("kari@x.no")).is_ok());
        // Length is counted in characters, not bytes.
        assert!(check_password("æøåæøåæøåæøå", None).is_ok());
    }

    #[test]
    fn shipped_list_is_loaded() {
        assert!(COMMON.len() > 500, "{}", COMMON.len());
        assert!(
            COMMON
                .iter()
                .all(|p| p.chars().count() >= MIN_PASSWORD_CHARS)
        );
    }
}
