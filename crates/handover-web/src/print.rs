//! The running header and page numbers of a printed handover file. CSS can put text in the
//! margins of every printed page (`@page` margin boxes) but cannot read it from the document, so
//! the file page declares it in a small `<style>` of its own; the strict content-security-policy
//! admits exactly that block by its hash, never inline style in general.

use crate::i18n::Messages;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The `<style>` text of one printed file and its CSP source (`'sha256-…'`).
pub struct PrintStyle {
    pub css: String,
    pub source: String,
}

/// Marks a response whose page carries a [`PrintStyle`]: the page headers then admit its hash.
#[derive(Clone)]
pub struct StyleSource(pub String);

impl PrintStyle {
    /// "HO-2026-000003 · versjon 2 · sendt 02.12.2026" at the top of every page, "Side 1 av 4"
    /// at the bottom.
    pub fn file(m: &Messages, reference: &str, version: i32, sent: &str) -> PrintStyle {
        let running = m.f(
            "file.print_running",
            &[
                ("reference", reference),
                ("version", &version.to_string()),
                ("sent", sent),
            ],
        );
        let pages = counters(m.t("file.print_pages"));
        let css = format!(
            ":root{{--app-print-running:{};--app-print-pages:{}}}",
            css_string(&running),
            pages
        );
        let digest = Sha256::digest(css.as_bytes());
        let source = format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(digest)
        );
        PrintStyle { css, source }
    }
}

/// The page CSP with one more allowed style block.
pub fn csp_with(base: &str, source: &str) -> String {
    base.replacen("style-src 'self'", &format!("style-src 'self' {source}"), 1)
}

/// A CSS string literal. Everything that could end the string, the declaration or the
/// `<style>` element is written as a CSS escape, so no text can leave the literal.
fn css_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c.is_control() || matches!(c, '"' | '\\' | '<' | '>' | '&' | '\'' | ';' | '{' | '}') {
            out.push_str(&format!("\\{:x} ", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// "Side {page} av {pages}" as CSS content: `"Side " counter(page) " av " counter(pages)`.
fn counters(template: &str) -> String {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        let Some(j) = rest[i..].find('}') else { break };
        let name = &rest[i + 1..i + j];
        if !rest[..i].is_empty() {
            parts.push(css_string(&rest[..i]));
        }
        match name {
            "page" => parts.push("counter(page)".to_owned()),
            "pages" => parts.push("counter(pages)".to_owned()),
            other => parts.push(css_string(&format!("{{{other}}}"))),
        }
        rest = &rest[i + j + 1..];
    }
    if !rest.is_empty() {
        parts.push(css_string(rest));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn page_numbers_become_counters() {
        assert_eq!(
            counters("Side {page} av {pages}"),
            r#""Side " counter(page) " av " counter(pages)"#
        );
        assert_eq!(
            counters("{page}/{pages}"),
            r#"counter(page) "/" counter(pages)"#
        );
    }

    #[test]
    fn text_cannot_leave_the_string() {
        let s = css_string("a\"b</style><script>;}\\\n");
        assert_eq!(s, r#""a\22 b\3c /style\3e \3c script\3e \3b \7d \5c \a ""#);
        assert!(!s[1..s.len() - 1].contains(['"', '<', '>', ';', '}']));
    }

    #[test]
    fn the_hash_matches_the_text_and_the_policy_admits_it() {
        let p = PrintStyle::file(Lang::Nb.messages(), "HO-2026-000003", 2, "02.12.2026");
        assert!(
            p.css
                .contains("HO-2026-000003 · versjon 2 · sendt 02.12.2026")
        );
        assert!(
            p.css
                .contains(r#""Side " counter(page) " av " counter(pages)"#)
        );
        let digest = Sha256::digest(p.css.as_bytes());
        let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
        assert_eq!(p.source, format!("'sha256-{b64}'"));
        let csp = csp_with(crate::PAGE_CSP, &p.source);
        assert!(csp.contains(&format!("style-src 'self' {}", p.source)));
        assert!(csp.contains("script-src 'self';"));
    }
}
