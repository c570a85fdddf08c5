#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// The policy table in docs/security.md is the one the code enforces (and the tests exercise).
#[test]
fn security_doc_policy_table_matches_the_code() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/security.md"))
        .unwrap();
    let start = doc
        .find("<!-- policy-table:start -->")
        .expect("start marker")
        + "<!-- policy-table:start -->".len();
    let end = doc.find("<!-- policy-table:end -->").expect("end marker");
    let in_doc = doc[start..end].trim();
    let generated = handover_domain::policy::markdown_table();
    assert_eq!(
        in_doc,
        generated.trim(),
        "docs/security.md policy table is stale; paste:\n{generated}"
    );
}
