//! The password rule: at least 12 characters, no composition rules, not a commonly used password
//! (NIST SP 800-63B, OWASP ASVS 2.1), and not easy to guess by the `zxcvbn` estimator (offline,
//! with the user's own e-mail, name and organisation as words an attacker would try first).

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

/// Least `zxcvbn` score accepted: 4, at least 10^10 guesses ("very unguessable"). Score 3
/// (10^8) let `Passord2026!!` through: the word, a year and two marks. Four or five unrelated
/// words score far above (about 10^19).
const MIN_SCORE: zxcvbn::Score = zxcvbn::Score::Four;
/// The estimator's cost grows with the length; the first 100 characters decide.
const ESTIMATED_CHARS: usize = 100;
/// Words of this service an attacker would try with any account.
const SERVICE_WORDS: [&str; 8] = [
    "overføring",
    "overforing",
    "handover",
    "integreringsmottak",
    "mottak",
    "karrieresenter",
    "kommune",
    "passord",
];

/// Why a password was refused, as a stable code and a message for the user. `hints` are words
/// tied to the account (its e-mail address, the user's name, the organisation's name).
pub fn check_password(password: &str, hints: &[&str]) -> Result<(), (&'static str, String)> {
    let email = hints.first().copied().filter(|h| h.contains('@'));
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
    let words: Vec<String> = hints
        .iter()
        .flat_map(|h| h.split(|c: char| !c.is_alphanumeric()))
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .chain(SERVICE_WORDS.iter().map(|w| (*w).to_owned()))
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let estimated: String = password.chars().take(ESTIMATED_CHARS).collect();
    let entropy = zxcvbn::zxcvbn(&estimated, &words);
    if entropy.score() < MIN_SCORE {
        let why = entropy
            .feedback()
            .and_then(|f| f.warning())
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        return Err((
            "too_guessable",
            format!(
                "is too easy to guess{why}. A better one: four or five unrelated words, \
                 e.g. a short odd sentence; avoid names, places, years, your e-mail and keyboard rows"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert_eq!(
            check_password("short", &[]).err().map(|e| e.0),
            Some("too_short")
        );
        assert_eq!(
            check_password(&"x".repeat(300), &[]).err().map(|e| e.0),
            Some("too_long")
        );
        assert_eq!(
            check_password("aaaaaaaaaaaaaa", &[]).err().map(|e| e.0),
            Some("repetitive")
        );
        assert_eq!(
            check_password("PasswordPassword", &[]).err().map(|e| e.0),
            Some("common_password")
        );
        assert_eq!(
            check_password("kari.nordmann-2026", &["kari.nordmann@x.no"])
                .err()
                .map(|e| e.0),
            Some("contains_email")
        );
        assert!(check_password("korrekt hest batteri stift", &["kari@x.no"]).is_ok());
        // Length is counted in characters, not bytes.
        assert!(check_password("æøå blåbær gryte sjø", &[]).is_ok());
    }

    #[test]
    fn guessable_passwords_are_refused_with_advice() {
        for weak in ["Passord2026!!", "kristiansand2026", "qwertyuiop12"] {
            let e = check_password(weak, &["kari@x.no"]).err();
            assert_eq!(e.as_ref().map(|e| e.0), Some("too_guessable"), "{weak}");
            assert!(e.is_some_and(|e| e.1.contains("unrelated words")));
        }
        // The account's own words count as guessable.
        let hints = [
            "ola.hansen@steinkjer.kommune.no",
            "Ola Hansen",
            "Steinkjer kommune",
        ];
        assert_eq!(
            check_password("steinkjerhansen", &hints).err().map(|e| e.0),
            Some("too_guessable")
        );
        assert!(check_password("lilla ubåt spiser vaffelrøre", &hints).is_ok());
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
