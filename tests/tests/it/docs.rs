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

fn doc(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The text of a `## ` section of a Markdown document, up to the next one.
fn section<'a>(doc: &'a str, heading: &str) -> &'a str {
    let start = doc
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("no section {heading}"));
    let rest = &doc[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3);
    &rest[..end]
}

/// The JSON bodies (`-d '{…}'`) of the curl calls to `path` in a section, in order.
fn bodies(text: &str, path: &str) -> Vec<serde_json::Value> {
    text.split("curl ")
        .skip(1)
        .filter(|c| c.split_whitespace().any(|u| u.ends_with(path)))
        .filter_map(|c| {
            let d = c.split("-d '").nth(1)?;
            serde_json::from_str(&d[..d.find('\'')?]).ok()
        })
        .collect()
}

/// Regression: the "Change your password" example of docs/api.md changed the password of the
/// demo user every later example logs in with, so every later example answered 401. Run its
/// password changes in order: the demo password must log in afterwards.
#[tokio::test]
async fn api_doc_password_change_leaves_the_demo_password_working() {
    use handover_tests::{DEMO_PASSWORD, spawn_app};
    let api = doc("docs/api.md");
    let text = section(&api, "Change your password");
    let changes = bodies(text, "/api/v1/me/password");
    assert!(!changes.is_empty(), "no password change in:\n{text}");
    let user = "ansatt.mottak-kristiansand@demo.no";
    assert!(text.contains(user), "{text}");
    let app = spawn_app().await;
    let token = app.token(user).await;
    for body in &changes {
        let r = app.post("/api/v1/me/password", Some(&token), body).await;
        assert_eq!(r.status, 204, "{body}: {}", r.text);
    }
    let r = app.try_login(user, DEMO_PASSWORD).await;
    assert_eq!(
        r.status, 200,
        "the later examples cannot log in: {}",
        r.text
    );
}

/// Regression: docs/privacy.md said handover and conversation reads were not audited; the code
/// audits them (see docs/security.md).
#[test]
fn privacy_doc_lists_the_audited_handover_and_conversation_reads() {
    let privacy = doc("docs/privacy.md");
    let audit = section(&privacy, "Audit");
    for action in [
        "handover.list",
        "handover.read",
        "handover.readiness_read",
        "handover.file_read",
        "conversation.read",
        "conversation.calendar_read",
        "conversation.list",
    ] {
        assert!(
            audit.contains(&format!("`{action}`")),
            "{action} missing from privacy.md"
        );
        let security = doc("docs/security.md");
        assert!(security.contains(&format!("`{action}`")), "{action}");
    }
    assert!(!audit.contains("conversation reads ("), "{audit}");
    assert!(
        !audit.contains("the handover list and a handover's details"),
        "{audit}"
    );
}

/// Regression: the README and docs/operations.md said the compose file passes no SMTP settings,
/// while docker-compose.yml delivers to the mail catcher.
#[test]
fn docker_docs_match_the_compose_file() {
    let compose = doc("docker-compose.yml");
    for setting in [
        "HANDOVER_SMTP_HOST: mail",
        "HANDOVER_SMTP_PORT: \"1025\"",
        "HANDOVER_SMTP_SECURITY: none",
    ] {
        assert!(compose.contains(setting), "{setting}");
    }
    let ops = doc("docs/operations.md");
    let docker = section(&ops, "Docker");
    assert!(!docker.contains("does not yet pass SMTP"), "{docker}");
    assert!(docker.contains("HANDOVER_SMTP_HOST=mail"), "{docker}");
    let readme = doc("README.md");
    assert!(
        !readme.contains("to deliver e-mail to the mail catcher, see"),
        "README"
    );
}

/// Regression: completing a handover cancels its confirmed conversation and sends the calendar
/// cancellation (routes/handovers.rs `complete`; tested in conversations.rs), but handover.md
/// said completing sends no e-mail and neither document said the conversation is cancelled.
#[test]
fn handover_and_conversation_docs_say_completing_cancels_the_conversation() {
    let handover = doc("docs/handover.md");
    assert!(
        !handover.contains("Accepting, completing and opening send no e-mail."),
        "handover.md"
    );
    assert!(
        handover.contains("Completing a handover (`POST /handovers/{id}/complete`) while its conversation is proposed or\n  confirmed cancels that conversation"),
        "handover.md"
    );
    let conversations = doc("docs/conversations.md");
    assert!(
        conversations.contains("completing it\n   (`POST /handovers/{id}/complete`"),
        "conversations.md"
    );
}
