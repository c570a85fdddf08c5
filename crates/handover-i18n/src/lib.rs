//! The message catalogues: every text of a page or a printed file comes from one per language (`messages/nb.toml`,
//! `messages/en.toml`), compiled into the binary. Bokmål is the default; English is a choice the
//! user makes with the language switch, remembered in a cookie. A test checks that both
//! catalogues hold the same keys; the web application and the PDF check that every key they
//! use exists.

pub mod content;
pub mod format;

use std::collections::HashMap;
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Nb,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Nb, Lang::En];

    /// The value of `lang` on the page and of the language cookie.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Nb => "nb",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "nb" => Some(Lang::Nb),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The other language, offered by the switch.
    pub fn other(self) -> Lang {
        match self {
            Lang::Nb => Lang::En,
            Lang::En => Lang::Nb,
        }
    }

    pub fn messages(self) -> &'static Messages {
        match self {
            Lang::Nb => &NB,
            Lang::En => &EN,
        }
    }
}

/// One language's texts by key.
#[derive(Debug)]
pub struct Messages {
    texts: HashMap<String, String>,
}

static NB: LazyLock<Messages> =
    LazyLock::new(|| Messages::parse(include_str!("../messages/nb.toml")));
static EN: LazyLock<Messages> =
    LazyLock::new(|| Messages::parse(include_str!("../messages/en.toml")));

impl Messages {
    /// Flattens nested tables into dotted keys. A catalogue that does not parse yields no texts
    /// (the keys then show), which the catalogue tests catch before any release.
    fn parse(src: &str) -> Messages {
        let mut texts = HashMap::new();
        match src.parse::<toml::Table>() {
            Ok(table) => flatten("", &table, &mut texts),
            Err(e) => tracing::error!(error = %e, "message catalogue does not parse"),
        }
        Messages { texts }
    }

    /// The text of `key`; the key itself when missing, so a gap is visible, never a blank.
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.texts.get(key).map_or(key, String::as_str)
    }

    /// The text of `key` with `{name}` placeholders filled in.
    pub fn f(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = self.t(key).to_owned();
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    /// Whether the catalogue has `key` (for texts chosen by a code, such as a validation error).
    pub fn has(&self, key: &str) -> bool {
        self.texts.contains_key(key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.texts.keys().map(String::as_str)
    }
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(lang: Lang) -> BTreeSet<String> {
        lang.messages().keys().map(str::to_owned).collect()
    }

    #[test]
    fn both_catalogues_parse_and_hold_the_same_keys() {
        for src in [
            include_str!("../messages/nb.toml"),
            include_str!("../messages/en.toml"),
        ] {
            assert!(
                src.parse::<toml::Table>().is_ok(),
                "a catalogue does not parse"
            );
        }
        let nb = keys(Lang::Nb);
        let en = keys(Lang::En);
        assert!(
            nb.len() > 100,
            "the catalogue is nearly empty: {}",
            nb.len()
        );
        let only_nb: Vec<_> = nb.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&nb).collect();
        assert!(only_nb.is_empty(), "keys missing in en.toml: {only_nb:?}");
        assert!(only_en.is_empty(), "keys missing in nb.toml: {only_en:?}");
        for lang in Lang::ALL {
            for k in keys(lang) {
                assert!(
                    !lang.messages().t(&k).trim().is_empty(),
                    "{k} is blank in {lang:?}"
                );
            }
        }
    }

    /// Every stored code a page labels (`shell.label("status.", code)`) has its text.
    #[test]
    fn every_code_a_page_labels_has_a_text() {
        use handover_domain::conversation::{ConversationMode, ConversationState};
        use handover_domain::handover::HandoverState;
        use handover_domain::participant::*;
        use handover_domain::{OrgKind, Role};
        let mut keys: Vec<String> = Vec::new();
        let mut add = |prefix: &str, codes: Vec<&str>| {
            keys.extend(codes.into_iter().map(|c| format!("{prefix}{c}")));
        };
        add(
            "participant_status.",
            ParticipantStatus::ALL.iter().map(|c| c.as_str()).collect(),
        );
        add(
            "language_level.",
            LanguageLevel::ALL.iter().map(|c| c.as_str()).collect(),
        );
        add(
            "education_level.",
            EducationLevel::ALL.iter().map(|c| c.as_str()).collect(),
        );
        add(
            "digital_skills.",
            DigitalSkills::ALL.iter().map(|c| c.as_str()).collect(),
        );
        add("skill.", Skill::ALL.iter().map(|c| c.as_str()).collect());
        add(
            "test_kind.",
            TestKind::ALL.iter().map(|c| c.as_str()).collect(),
        );
        add(
            "test_result.",
            TestResult::ALL.iter().map(|c| c.as_str()).collect(),
        );
        add(
            "element_kind.",
            ElementKind::ALL.iter().map(|c| c.as_str()).collect(),
        );
        add(
            "placement_kind.",
            PlacementKind::ALL.iter().map(|c| c.as_str()).collect(),
        );
        add(
            "handover_state.",
            HandoverState::ALL.iter().map(|c| c.as_str()).collect(),
        );
        add(
            "conversation_state.",
            ConversationState::ALL.iter().map(|c| c.as_str()).collect(),
        );
        add(
            "conversation_mode.",
            ConversationMode::ALL.iter().map(|c| c.as_str()).collect(),
        );
        add(
            "org_kind.",
            OrgKind::ALL.iter().map(|c| c.as_str()).collect(),
        );
        add("role.", Role::ALL.iter().map(|c| c.as_str()).collect());
        add("operation.", vec!["create", "update", "delete"]);
        add(
            "section.",
            vec![
                "participant",
                "competence_mapping",
                "norwegian_training",
                "programme_element",
                "placement",
                "settlement",
                "adaptation_needs",
                "consent",
            ],
        );
        for lang in Lang::ALL {
            let missing: Vec<_> = keys.iter().filter(|k| !lang.messages().has(k)).collect();
            assert!(missing.is_empty(), "{lang:?} has no text for {missing:?}");
        }
    }
}
