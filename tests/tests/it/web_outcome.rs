//! The outcome after settlement on the web pages: the municipality reports it from the handover
//! page (a form of its own, bad input beside the field, a stale version shown with the saved
//! values); the centre reads it on the handover page and the serving career centre on the
//! conversation page. Built on the demo's held conversation (Steinkjer centre, Trondheim
//! municipality), whose handover has no outcome yet.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_tests::web::*;
use handover_tests::{TestApp, ahead, oslo_today, spawn_app, who};
use uuid::Uuid;

/// The demo's held conversation and its handover.
async fn demo_handover(app: &TestApp) -> (Uuid, Uuid) {
    sqlx::query_as(
        "SELECT c.id, h.id FROM conversations c
         JOIN handovers h ON h.id = c.handover_id
         JOIN organisations rc ON rc.id = h.reception_centre_id
         WHERE rc.name = 'Integreringsmottaket i Steinkjer' AND c.state = 'held' LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn stored(app: &TestApp, h: Uuid) -> Option<(String, i32)> {
    sqlx::query_as("SELECT end_goal, version FROM handover_outcomes WHERE handover_id = $1")
        .bind(h)
        .fetch_optional(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_municipality_reports_the_outcome_and_both_sides_and_the_career_centre_read_it() {
    let app = spawn_app().await;
    let (cid, hid) = demo_handover(&app).await;
    assert_eq!(stored(&app, hid).await, None);
    let form = format!("/handovers/{hid}/outcome");
    let handover = format!("/handovers/{hid}");

    // The municipality is offered the form; the centre is not.
    let mut muni = signed_in(&app, who::KOMMUNE_TRD_STAFF).await;
    let p = muni.get(&handover).await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert!(p.text.contains(&format!("href=\"{form}\"")), "{}", p.text);
    let mut centre = signed_in(&app, who::STJ_STAFF).await;
    let p = centre.get(&handover).await;
    assert_eq!(p.status, 200);
    assert!(!p.text.contains(&format!("href=\"{form}\"")));
    assert!(!p.text.contains("data-outcome"));

    // Nobody else reaches the form or can post it.
    let ok = [
        ("integration_plan_decided_on", oslo_today()),
        ("end_goal", "work".to_owned()),
    ];
    let ok: Vec<(&str, &str)> = ok.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for (email, status) in [
        (who::STJ_STAFF, 403),
        (who::TRD_COUNSELLOR, 403),
        (who::KOMMUNE_TRD_ADMIN, 403),
        (who::KOMMUNE_KRS_STAFF, 404),
        (who::KRS_STAFF, 403),
    ] {
        let mut s = signed_in(&app, email).await;
        assert_eq!(s.get(&form).await.status, status, "{email}");
        assert_eq!(s.post_form(&form, &ok).await.status, status, "{email}");
    }
    assert_eq!(stored(&app, hid).await, None);

    // Bad input, beside its field.
    let p = muni.get(&form).await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert!(p.text.contains("id=\"integration_plan_decided_on\""));
    let future = ahead(3);
    let today = oslo_today();
    for (fields, bad, what) in [
        (
            vec!["integration_plan_decided_on", "end_goal"],
            vec![("integration_plan_decided_on", ""), ("end_goal", "")],
            "nothing chosen",
        ),
        (
            vec!["integration_plan_decided_on"],
            vec![
                ("integration_plan_decided_on", future.as_str()),
                ("end_goal", "work"),
            ],
            "a date in the future",
        ),
        (
            vec!["integration_plan_decided_on"],
            vec![
                ("integration_plan_decided_on", "31.02.2026"),
                ("end_goal", "work"),
            ],
            "no such date",
        ),
        (
            vec!["end_goal"],
            vec![
                ("integration_plan_decided_on", today.as_str()),
                ("end_goal", "retirement"),
            ],
            "an unknown end goal",
        ),
    ] {
        muni.post_form(&form, &bad)
            .await
            .assert_invalid(&fields, what);
    }
    assert_eq!(stored(&app, hid).await, None);

    // Reported: the handover page says so, and the centre reads it.
    muni.post_form(&form, &ok)
        .await
        .assert_redirect(&format!("{handover}?done=outcome#outcome"), "reported");
    assert_eq!(stored(&app, hid).await, Some(("work".into(), 1)));
    let p = centre.get(&handover).await;
    assert!(p.text.contains("data-outcome"), "{}", p.text);
    assert!(p.text.contains("Arbeid"), "{}", p.text);
    // The serving career centre reads it on the conversation page; the other does not see it.
    let mut trd_cc = signed_in(&app, who::TRD_COUNSELLOR).await;
    let p = trd_cc.get(&format!("/conversations/{cid}")).await;
    assert_eq!(p.status, 200);
    assert!(p.text.contains("data-outcome"), "{}", p.text);
    let mut agder = signed_in(&app, who::AGDER_COUNSELLOR).await;
    assert_eq!(
        agder.get(&format!("/conversations/{cid}")).await.status,
        404
    );

    // A correction from a stale form: the saved value is shown beside the field.
    let p = muni.get(&form).await;
    assert_eq!(hidden(&p.text, "version").as_deref(), Some("1"));
    let mut other = signed_in(&app, who::KOMMUNE_TRD_STAFF).await;
    other
        .post_form(
            &form,
            &[
                ("version", "1"),
                ("integration_plan_decided_on", &oslo_today()),
                ("end_goal", "education"),
            ],
        )
        .await
        .assert_redirect(&format!("{handover}?done=outcome#outcome"), "corrected");
    let p = muni
        .post_form(
            &form,
            &[
                ("version", "1"),
                ("integration_plan_decided_on", &oslo_today()),
                ("end_goal", "other"),
            ],
        )
        .await;
    assert_eq!(p.status, 409, "{}", p.text);
    assert!(p.text.contains("id=\"conflict\""), "{}", p.text);
    assert!(p.text.contains("Utdanning"), "{}", p.text);
    assert_eq!(stored(&app, hid).await, Some(("education".into(), 2)));
}

#[tokio::test]
async fn in_the_browser_the_municipality_reports_the_outcome_from_the_handover_page() {
    use handover_tests::browser::{Browser, Js};
    let app = spawn_app().await;
    let (_, hid) = demo_handover(&app).await;
    let Some(b) = Browser::start(&app, Js::On).await else {
        return;
    };
    b.sign_in(who::KOMMUNE_TRD_STAFF).await;
    b.goto(&format!("/handovers/{hid}")).await;
    b.click_css("#outcome-link").await;
    b.wait_path(&format!("/handovers/{hid}/outcome")).await;
    b.assert_accessible().await;
    // Saving without an end goal: said beside the field.
    b.fill("integration_plan_decided_on", &oslo_today()).await;
    b.click_css("#outcome-save").await;
    b.wait_for(
        || async { b.has("#end_goal[aria-invalid='true']").await },
        "the missing end goal",
    )
    .await;
    b.assert_accessible().await;
    b.screenshot("outcome-nb").await;
    b.choose("end_goal", "education").await;
    b.click_css("#outcome-save").await;
    b.wait_for(
        || async { b.path().await.contains("done=outcome") },
        "saved",
    )
    .await;
    assert!(b.has("[data-outcome]").await, "{}", b.body().await);
    b.assert_accessible().await;
    // The same in English.
    b.use_lang("en").await;
    b.goto(&format!("/handovers/{hid}/outcome")).await;
    assert!(b.body().await.contains("End goal"));
    b.assert_accessible().await;
    b.close().await;
    assert_eq!(stored(&app, hid).await, Some(("education".into(), 1)));
}
