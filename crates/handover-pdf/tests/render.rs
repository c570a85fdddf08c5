//! The document from a sent file (the demo's, as the JSON API answers it): PDF/A-3b as krilla
//! checks it, the same bytes for the same input, and both languages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_domain::handover::FileSection;
use handover_i18n::Lang;
use handover_pdf::{FileDocument, render};
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::datetime;

fn fixture() -> (Value, Vec<FileSection>, Vec<u8>) {
    let raw = include_bytes!("data/file.json").to_vec();
    let v: Value = serde_json::from_slice(&raw).unwrap();
    let sections: Vec<FileSection> = serde_json::from_value(v["sections"].clone()).unwrap();
    (v, sections, raw)
}

fn doc<'a>(
    v: &'a Value,
    sections: &'a [FileSection],
    json: &'a [u8],
    at: OffsetDateTime,
) -> FileDocument<'a> {
    FileDocument {
        reference: v["handover"]["reference"].as_str().unwrap(),
        file_version: v["file_version"].as_i64().unwrap() as i32,
        sent_at: datetime!(2026-12-02 14:20:37 UTC),
        sent_by_name: v["sent_by_name"].as_str().unwrap(),
        reception_centre_name: v["reception_centre_name"].as_str().unwrap(),
        municipality_name: v["municipality_name"].as_str().unwrap(),
        settlement_date: Some(time::macros::date!(2026 - 12 - 17)),
        missing: &[],
        missing_reason: None,
        sections,
        generated_at: at,
        json,
        profile: handover_pdf::Profile::A3b,
    }
}

#[test]
fn the_same_file_version_and_time_give_the_same_bytes() {
    let (v, sections, raw) = fixture();
    let at = datetime!(2026-12-03 09:00:00 UTC);
    let a = render(&doc(&v, &sections, &raw, at), Lang::Nb).unwrap();
    let b = render(&doc(&v, &sections, &raw, at), Lang::Nb).unwrap();
    assert!(a.starts_with(b"%PDF-1."));
    assert_eq!(a, b, "deterministic");
    let c = render(
        &doc(&v, &sections, &raw, datetime!(2026-12-04 09:00:00 UTC)),
        Lang::Nb,
    )
    .unwrap();
    assert_ne!(a, c, "the generation time is part of the document");
    if let Ok(dir) = std::env::var("HANDOVER_PDF_OUT") {
        std::fs::write(format!("{dir}/file-nb.pdf"), &a).unwrap();
        let en = render(&doc(&v, &sections, &raw, at), Lang::En).unwrap();
        std::fs::write(format!("{dir}/file-en.pdf"), &en).unwrap();
    }
}

/// Every message key the document names as a literal is in both catalogues: a misspelt key
/// would print as itself in an archived document.
#[test]
fn every_key_the_document_uses_exists() {
    let mut seen = 0;
    for src in [
        include_str!("../src/file.rs"),
        include_str!("../src/lib.rs"),
    ] {
        for (i, _) in src.match_indices('"') {
            let rest = &src[i + 1..];
            let Some(end) = rest.find('"') else { continue };
            let key = &rest[..end];
            let known = ["pdf.", "catalogue.", "guidance.", "field.", "pathway."];
            if !known.iter().any(|p| key.starts_with(p))
                || key.ends_with('.')
                || key.ends_with('_')
                || key.contains('{')
            {
                continue;
            }
            seen += 1;
            for lang in Lang::ALL {
                assert!(lang.messages().has(key), "{key} is missing in {lang:?}");
            }
        }
    }
    assert!(seen > 30, "the scan found too little: {seen}");
}

#[test]
fn pdf_a_2b_has_no_attachment() {
    let (v, sections, raw) = fixture();
    let at = datetime!(2026-12-03 09:00:00 UTC);
    let mut d = doc(&v, &sections, &raw, at);
    d.profile = handover_pdf::Profile::A2b;
    let pdf = render(&d, Lang::Nb).unwrap();
    let text = String::from_utf8_lossy(&pdf);
    assert!(
        text.contains("<pdfaid:part>2</pdfaid:part>"),
        "XMP names part 2"
    );
    assert!(!text.contains("/EmbeddedFiles"), "no attachment");
}

/// Text the embedded font cannot draw (a script it lacks, an emoji) still gives a valid
/// document: never a failed download because of a participant's name.
#[test]
fn text_outside_the_font_still_renders() {
    let (v, mut sections, raw) = fixture();
    let at = datetime!(2026-12-03 09:00:00 UTC);
    if let Some(mut c) = sections[0].content_value() {
        c["participant"]["given_name"] = serde_json::json!("ትግርኛ 😀 محمد Łukasz Ñuñez");
        c["placements"][0]["employer_feedback"] =
            serde_json::json!("Bra \u{200b}arbeid\u{0}\u{7}\u{feff} 日本語 \u{1F600}");
        sections[0].content = Some(serde_json::value::to_raw_value(&c).unwrap());
    }
    let pdf = render(&doc(&v, &sections, &raw, at), Lang::Nb).unwrap();
    assert!(pdf.starts_with(b"%PDF-1."));
}
