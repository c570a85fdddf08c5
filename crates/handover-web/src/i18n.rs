//! The message catalogues live in `handover-i18n`, shared with the printed (PDF) file; this
//! module names them for the pages and checks that every key a page uses exists.

pub use handover_i18n::{Lang, Messages};

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(lang: Lang) -> BTreeSet<String> {
        lang.messages().keys().map(str::to_owned).collect()
    }

    /// Every key a template or handler names as a literal (`t("…")`, `f("…"`, `key: "…"`) is in
    /// the catalogues: a misspelt key would otherwise show as itself on a page.
    #[test]
    fn every_key_the_pages_use_exists() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/");
        let mut sources = Vec::new();
        for sub in ["templates", "src", "src/pages"] {
            let Ok(entries) = std::fs::read_dir(format!("{dir}{sub}")) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_file() {
                    sources.push((
                        p.display().to_string(),
                        std::fs::read_to_string(&p).unwrap(),
                    ));
                }
            }
        }
        assert!(sources.len() > 10);
        let nb = keys(Lang::Nb);
        let mut missing = BTreeSet::new();
        let mut seen = 0;
        for (name, src) in &sources {
            if name.ends_with("i18n.rs") {
                continue;
            }
            for marker in ["t(\"", "f(\"", "f1(\"", "key: \""] {
                for (i, _) in src.match_indices(marker) {
                    // `t(` as a call of its own (`shell.t(`, `m.t(`), not the end of `get(`.
                    let before = src[..i].chars().next_back().unwrap_or(' ');
                    if before.is_alphanumeric() || before == '_' {
                        continue;
                    }
                    let rest = &src[i + marker.len()..];
                    let Some(end) = rest.find('"') else { continue };
                    let key = &rest[..end];
                    // Keys built at run time end in a dot (`role.` + code); their ends are
                    // checked by the tests of the enums they name.
                    if key.is_empty() || key.ends_with('.') || key.contains('{') {
                        continue;
                    }
                    seen += 1;
                    if !nb.contains(key) {
                        missing.insert(format!("{key} ({name})"));
                    }
                }
            }
        }
        assert!(seen > 100, "the key scan found too little: {seen}");
        assert!(
            missing.is_empty(),
            "keys used but not in the catalogues: {missing:#?}"
        );
    }
}
