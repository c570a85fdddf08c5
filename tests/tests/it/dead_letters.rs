//! Dead-lettered e-mails (issue 20): the operator lists them without their subject, body or
//! address, queues them again (they are delivered to the test's SMTP server) or discards them;
//! nobody else may, and bad input is a clear 4xx.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_tests::web::signed_in;
use handover_tests::{TestApp, spawn_app, who};
use reqwest::StatusCode;
use serde_json::json;

/// A dead letter as the mail worker leaves one after its last attempt.
async fn dead_letter(app: &TestApp, key: &str, to: &str, body: &str) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO outbox (dedupe_key, to_address, subject, body_text, status, attempts, last_error)
         VALUES ($1, $2, 'Ny mappe: Ola Nordmann', $3, 'dead', 40,
                 '550 5.1.1 <' || upper($2) || '>: mailbox unavailable')
         RETURNING id",
    )
    .bind(key)
    .bind(to)
    .bind(body)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_operator_sees_dead_letters_without_their_content_and_requeues_or_discards_them() {
    let app = spawn_app().await;
    let a = dead_letter(
        &app,
        "handover_sent:a:1",
        "kari@kommune.example",
        "Hemmelig innhold A",
    )
    .await;
    let b = dead_letter(
        &app,
        "reminder:b:1",
        "ola@kommune.example",
        "Hemmelig innhold B",
    )
    .await;
    let op = app.token(who::OPERATOR_ADMIN).await;

    let r = app.get("/api/v1/outbox/dead-letters", &op).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["total"], 2);
    let first = &r.body["items"][0];
    assert_eq!(first["id"], b);
    assert_eq!(first["kind"], "reminder");
    assert_eq!(first["recipient_domain"], "kommune.example");
    assert_eq!(first["attempts"], 40);
    assert_eq!(
        first["reason"],
        "550 5.1.1 <<recipient>>: mailbox unavailable"
    );
    for secret in ["kari@", "ola@", "KARI@", "Ola Nordmann", "Hemmelig"] {
        assert!(!r.text.contains(secret), "{secret} in {}", r.text);
    }
    assert_eq!(
        app.audit_count("outbox.dead_letters_read", "success").await,
        1
    );

    // Nobody else: other organisations' administrators and staff.
    for email in [who::KRS_ADMIN, who::KOMMUNE_TRD_ADMIN, who::KRS_STAFF] {
        let t = app.token(email).await;
        let r = app.get("/api/v1/outbox/dead-letters", &t).await;
        assert_eq!(
            r.assert_problem(403),
            "urn:handover:problem:forbidden",
            "{email}"
        );
        let r = app
            .post(
                "/api/v1/outbox/dead-letters/requeue",
                Some(&t),
                &json!({ "ids": [a] }),
            )
            .await;
        assert_eq!(
            r.assert_problem(403),
            "urn:handover:problem:forbidden",
            "{email}"
        );
    }

    // Queued again: delivered at once.
    let r = app
        .post(
            "/api/v1/outbox/dead-letters/requeue",
            Some(&op),
            &json!({ "ids": [a, 999_999] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["handled"], json!([a]));
    let mail = app
        .wait_mail_containing("kari@kommune.example", "Hemmelig innhold A")
        .await;
    assert!(
        mail.iter()
            .any(|(_, body)| body.contains("Hemmelig innhold A")),
        "{mail:?}"
    );

    // Discarded: never sent, its text blanked, and not dead any more.
    let r = app
        .post(
            "/api/v1/outbox/dead-letters/discard",
            Some(&op),
            &json!({ "ids": [b] }),
        )
        .await;
    assert_eq!(r.body["handled"], json!([b]), "{}", r.text);
    let (status, body): (String, String) =
        sqlx::query_as("SELECT status, body_text FROM outbox WHERE id = $1")
            .bind(b)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), body.as_str()), ("discarded", ""));
    let r = app
        .post(
            "/api/v1/outbox/dead-letters/requeue",
            Some(&op),
            &json!({ "ids": [b] }),
        )
        .await;
    assert_eq!(r.body["handled"], json!([]), "{}", r.text);
    assert_eq!(app.audit_count("outbox.requeue", "success").await, 1);
    assert_eq!(app.audit_count("outbox.discard", "success").await, 1);
    let r = app.get("/api/v1/outbox/dead-letters", &op).await;
    assert_eq!(r.body["total"], 0);

    // Bad input.
    let many: Vec<i64> = (1..=501).collect();
    for body in [
        json!({ "ids": [] }),
        json!({ "ids": many }),
        json!({ "ids": ["x"] }),
        json!({ "ids": [1], "extra": true }),
        json!({}),
        json!([1]),
    ] {
        let r = app
            .post("/api/v1/outbox/dead-letters/discard", Some(&op), &body)
            .await;
        assert!(
            r.status.is_client_error(),
            "{body}: {} {}",
            r.status,
            r.text
        );
        r.assert_problem(r.status.as_u16());
    }
}

#[tokio::test]
async fn the_operator_handles_dead_letters_on_the_web_page_and_others_cannot_reach_it() {
    let app = spawn_app().await;
    let a = dead_letter(
        &app,
        "handover_sent:w:1",
        "per@kommune.example",
        "Innhold W",
    )
    .await;
    let mut op = signed_in(&app, who::OPERATOR_ADMIN).await;
    let p = op.get("/admin/dead-letters").await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert!(
        p.text.contains(&format!("id=\"dead-letter-{a}\"")),
        "{}",
        p.text
    );
    assert!(
        p.text.contains("kommune.example") && !p.text.contains("per@"),
        "{}",
        p.text
    );
    assert!(!p.text.contains("Innhold W") && !p.text.contains("Ola Nordmann"));
    let p = op
        .post_form(
            "/admin/dead-letters",
            &[("id", &a.to_string()), ("action", "discard")],
        )
        .await;
    p.assert_redirect("/admin/dead-letters?done=discarded", "discarded");
    let p = op.get("/admin/dead-letters?done=discarded").await;
    assert!(
        !p.text.contains(&format!("id=\"dead-letter-{a}\"")),
        "{}",
        p.text
    );
    // Handled already: a conflict page, nothing else changes.
    let p = op
        .post_form(
            "/admin/dead-letters",
            &[("id", &a.to_string()), ("action", "requeue")],
        )
        .await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.text);
    let p = op
        .post_form("/admin/dead-letters", &[("id", "x"), ("action", "requeue")])
        .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST, "{}", p.text);

    for email in [who::KRS_ADMIN, who::STJ_ADMIN, who::KOMMUNE_KRS_STAFF] {
        let mut s = signed_in(&app, email).await;
        let p = s.get("/admin/dead-letters").await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{email}: {}", p.text);
        let p = s
            .post_form(
                "/admin/dead-letters",
                &[("id", &a.to_string()), ("action", "requeue")],
            )
            .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{email}: {}", p.text);
    }
}

#[tokio::test]
async fn the_undelivered_email_page_is_accessible_in_the_browser() {
    use handover_tests::browser::{Browser, Js};
    let app = spawn_app().await;
    dead_letter(&app, "handover_sent:b:1", "kari@kommune.example", "Innhold").await;
    dead_letter(
        &app,
        "conversation:c:reminder:1:ola@kommune.example",
        "ola@kommune.example",
        "Innhold",
    )
    .await;
    let Some(b) = Browser::start(&app, Js::On).await else {
        return;
    };
    b.sign_in(who::OPERATOR_ADMIN).await;
    b.goto("/admin/dead-letters").await;
    assert!(b.has("#dead-letter-count").await, "{}", b.body().await);
    assert!(!b.body().await.contains("kari@"));
    b.assert_accessible().await;
    b.screenshot("dead-letters-nb").await;
    b.click_text("Send igjen").await;
    b.wait_for(
        || async { b.path().await.contains("done=requeued") },
        "requeued",
    )
    .await;
    b.assert_accessible().await;
    b.close().await;
}
