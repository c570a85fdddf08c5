//! The erasure page (GDPR art. 17): only the participant's own centre reaches it, bad input is
//! said beside each field, a record changed meanwhile erases nothing, and an erasure leaves
//! the participant gone for everyone. What the erasure deletes is tested table by table in
//! `mail.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_tests::web::*;
use handover_tests::{TestApp, ago, ahead, spawn_app, who};
use uuid::Uuid;

/// A demo participant of the centre named, and their name as the pages show it.
async fn participant_of(app: &TestApp, centre: &str) -> (Uuid, String) {
    sqlx::query_as(
        "SELECT p.id, p.given_name || ' ' || p.family_name FROM participants p
         JOIN organisations o ON o.id = p.reception_centre_id
         WHERE o.name = $1 ORDER BY p.family_name, p.id LIMIT 1",
    )
    .bind(centre)
    .fetch_one(&app.pool)
    .await
    .expect("a demo participant")
}

async fn exists(app: &TestApp, id: Uuid) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM participants WHERE id = $1)")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn only_the_participants_centre_erases_and_bad_input_is_said_beside_each_field() {
    let app = spawn_app().await;
    let (pid, name) = participant_of(&app, "Integreringsmottaket i Kristiansand").await;
    let page = format!("/participants/{pid}/erase");
    let mut staff = signed_in(&app, who::KRS_STAFF).await;
    let p = staff.get(&format!("/participants/{pid}")).await;
    assert!(p.text.contains("id=\"erase-link\""), "{}", p.text);
    let p = staff.get(&page).await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert!(p.text.contains(&name), "{}", p.text);
    let version = hidden(&p.text, "version").expect("version");

    // Everyone else: the counsellor who reads the record and the municipality may not erase;
    // the other centre does not learn the participant exists.
    for (email, status) in [
        (who::STJ_STAFF, 404),
        (who::AGDER_COUNSELLOR, 403),
        (who::KOMMUNE_KRS_STAFF, 403),
        (who::KRS_ADMIN, 403),
        (who::OPERATOR_ADMIN, 403),
    ] {
        let mut s = signed_in(&app, email).await;
        let p = s.get(&page).await;
        assert_eq!(p.status, status, "{email}: {}", p.text);
        assert!(!p.text.contains(&name), "{email}");
        let p = s
            .post_form(
                &page,
                &[
                    ("version", &version),
                    ("ground", "objection"),
                    ("request_received_on", &ago(1)),
                    ("confirm", "yes"),
                ],
            )
            .await;
        assert_eq!(p.status, status, "{email}: {}", p.text);
    }
    let mut counsellor = signed_in(&app, who::AGDER_COUNSELLOR).await;
    let p = counsellor.get(&format!("/participants/{pid}")).await;
    assert_eq!(p.status, 200);
    assert!(!p.text.contains("id=\"erase-link\""));

    // Bad input of every kind: a message beside each field, nothing erased.
    let p = staff.post_form(&page, &[("version", &version)]).await;
    p.assert_invalid(&["ground", "request_received_on", "confirm"], "empty");
    let p = staff
        .post_form(
            &page,
            &[
                ("version", &version),
                ("ground", "bored"),
                ("request_received_on", "31.02.2026"),
                ("confirm", "yes"),
            ],
        )
        .await;
    p.assert_invalid(&["ground", "request_received_on"], "nonsense");
    let p = staff
        .post_form(
            &page,
            &[
                ("version", &version),
                ("ground", "objection"),
                ("request_received_on", &ahead(2)),
                ("confirm", "yes"),
            ],
        )
        .await;
    p.assert_invalid(&["request_received_on"], "a future request");
    let p = staff
        .post_form(&page, &[("version", "x"), ("ground", "objection")])
        .await;
    assert_eq!(p.status, 400, "{}", p.text);
    // A record changed meanwhile: nothing erased, the page says so and asks again.
    let p = staff
        .post_form(
            &page,
            &[
                ("version", "999"),
                ("ground", "objection"),
                ("request_received_on", &ago(1)),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(p.status, 409, "{}", p.text);
    assert!(p.text.contains("id=\"conflict\""), "{}", p.text);
    assert!(
        !p.text.contains("checked"),
        "the confirmation must be given again"
    );
    assert!(exists(&app, pid).await);
    assert_eq!(app.audit_count("participant.erase", "success").await, 0);

    let p = staff
        .post_form(
            &page,
            &[
                ("version", &version),
                ("ground", "objection"),
                ("request_received_on", &ago(1)),
                ("confirm", "yes"),
            ],
        )
        .await;
    p.assert_redirect("/participants?done=erased", "erased");
    assert!(!exists(&app, pid).await);
    assert_eq!(app.audit_count("participant.erase", "success").await, 1);
    let p = staff.get("/participants?done=erased").await;
    assert!(p.text.contains("Deltakeren er slettet"), "{}", p.text);
    assert!(!p.text.contains(&name));
    assert_eq!(staff.get(&page).await.status, 404);
    assert_eq!(staff.get(&format!("/participants/{pid}")).await.status, 404);
}

#[tokio::test]
async fn in_the_browser_the_centre_erases_a_participant_from_the_record_page() {
    use handover_tests::browser::{Browser, Js};
    let app = spawn_app().await;
    let (pid, name) = participant_of(&app, "Integreringsmottaket i Kristiansand").await;
    let Some(b) = Browser::start(&app, Js::On).await else {
        return;
    };
    b.sign_in(who::KRS_STAFF).await;
    b.goto(&format!("/participants/{pid}")).await;
    b.click_css("#erase-link").await;
    b.wait_path(&format!("/participants/{pid}/erase")).await;
    assert!(b.body().await.contains(&name));
    b.assert_accessible().await;
    b.screenshot("erasure-nb").await;
    // Without a ground, a date or the confirmation: said beside each, nothing erased.
    b.submit("ground").await;
    b.wait_for(
        || async { b.has("#confirm[aria-invalid='true']").await },
        "the errors",
    )
    .await;
    b.assert_accessible().await;
    assert!(b.has("#ground-error").await && b.has("#request_received_on-error").await);
    // The same page in English, its messages too.
    b.use_lang("en").await;
    b.submit("ground").await;
    b.wait_for(
        || async { b.has("#confirm[aria-invalid='true']").await },
        "the errors in English",
    )
    .await;
    assert_eq!(b.lang().await, "en");
    b.assert_accessible().await;
    b.use_lang("nb").await;
    b.choose("ground", "consent_withdrawn").await;
    let received = time::OffsetDateTime::now_utc().date() - time::Duration::days(3);
    let (y, m, d) = (received.year(), u8::from(received.month()), received.day());
    b.fill("request_received_on", &format!("{d:02}.{m:02}.{y}"))
        .await;
    b.click_css("#confirm").await;
    b.submit("ground").await;
    b.wait_path("/participants?done=erased").await;
    assert!(b.body().await.contains("Deltakeren er slettet"));
    assert!(!b.body().await.contains(&name));
    b.assert_accessible().await;
    b.close().await;
    assert!(!exists(&app, pid).await);
}
