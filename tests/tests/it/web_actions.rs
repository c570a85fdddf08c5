//! Agreed actions on the web pages: the conversation page shows where each action stands and
//! gives the forms to the responsible organisation only; overdue actions are on the start page
//! of that organisation's staff. Built on the demo's held conversation (Steinkjer centre and
//! Trondheim municipality), whose centre action is two days overdue and whose municipality action is due
//! in two weeks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_tests::web::*;
use handover_tests::{TestApp, spawn_app, who};
use uuid::Uuid;

/// The demo's held conversation: (conversation, the centre's action, the municipality's).
async fn demo_actions(app: &TestApp) -> (Uuid, Uuid, Uuid) {
    let rows: Vec<(Uuid, Uuid, String)> = sqlx::query_as(
        "SELECT a.conversation_id, a.id, o.kind FROM agreed_actions a
         JOIN organisations o ON o.id = a.responsible_organisation_id
         JOIN conversations c ON c.id = a.conversation_id
         JOIN handovers h ON h.id = c.handover_id
         JOIN organisations rc ON rc.id = h.reception_centre_id
         WHERE rc.name = 'Integreringsmottaket i Steinkjer' ORDER BY a.position",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let centre = rows
        .iter()
        .find(|r| r.2 == "reception_centre")
        .expect("a centre action");
    let muni = rows
        .iter()
        .find(|r| r.2 == "municipality")
        .expect("a municipality action");
    assert_eq!(centre.0, muni.0);
    (centre.0, centre.1, muni.1)
}

async fn status_of(app: &TestApp, id: Uuid) -> String {
    sqlx::query_scalar("SELECT status FROM agreed_actions WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_responsible_organisation_follows_its_actions_up_on_the_conversation_page() {
    let app = spawn_app().await;
    let (cid, centre_action, muni_action) = demo_actions(&app).await;
    let page = format!("/conversations/{cid}");
    let done_button = |id: Uuid| format!("id=\"action-done-{id}\"");

    // The centre's start page lists its overdue action, linked to the conversation.
    let mut centre = signed_in(&app, who::STJ_STAFF).await;
    let p = centre.get("/").await;
    assert!(p.text.contains("id=\"overdue-actions\""), "{}", p.text);
    assert!(
        p.text
            .contains(&format!("/conversations/{cid}#action-{centre_action}")),
        "{}",
        p.text
    );
    // The municipality's is not overdue.
    let mut muni = signed_in(&app, who::KOMMUNE_TRD_STAFF).await;
    let p = muni.get("/").await;
    assert!(
        !p.text.contains(&format!("#action-{muni_action}")),
        "{}",
        p.text
    );

    // Each side gets the forms for its own actions; the career centre reads, the others
    // do not see the conversation at all.
    let p = centre.get(&page).await;
    assert_eq!(p.status, 200);
    assert!(
        p.text.contains(&done_button(centre_action)) && !p.text.contains(&done_button(muni_action))
    );
    assert!(p.text.contains(&format!("id=\"action-{muni_action}\"")));
    let p = muni.get(&page).await;
    assert!(
        p.text.contains(&done_button(muni_action)) && !p.text.contains(&done_button(centre_action))
    );
    let mut trd_cc = signed_in(&app, who::TRD_COUNSELLOR).await;
    let p = trd_cc.get(&page).await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert!(
        p.text.contains(&format!("id=\"action-{centre_action}\""))
            && !p.text.contains("action-done-")
    );
    for email in [
        who::KRS_STAFF,
        who::KOMMUNE_KRS_STAFF,
        who::AGDER_COUNSELLOR,
    ] {
        let mut s = signed_in(&app, email).await;
        assert_eq!(s.get(&page).await.status, 404, "{email}");
        let p = s
            .post_form(
                &format!("/agreed-actions/{centre_action}"),
                &[
                    ("version", "1"),
                    ("status", "done"),
                    ("conversation", &cid.to_string()),
                ],
            )
            .await;
        assert_eq!(p.status, 404, "{email}: {}", p.text);
    }
    // The municipality cannot change the centre's action, nor the career centre either.
    for s in [&mut muni, &mut trd_cc] {
        let p = s
            .post_form(
                &format!("/agreed-actions/{centre_action}"),
                &[
                    ("version", "1"),
                    ("status", "done"),
                    ("conversation", &cid.to_string()),
                ],
            )
            .await;
        assert_eq!(p.status, 404, "{}", p.text);
    }
    assert_eq!(status_of(&app, centre_action).await, "open");

    // Bad input: a drop without a reason is said beside the field; a stale version above.
    let action = format!("/agreed-actions/{centre_action}");
    let field = format!("reason_{centre_action}");
    let p = centre
        .post_form(
            &action,
            &[
                ("version", "1"),
                ("status", "dropped"),
                ("conversation", &cid.to_string()),
                (&field, "  "),
            ],
        )
        .await;
    p.assert_invalid(&[field.as_str()], "a drop without a reason");
    let p = centre
        .post_form(
            &action,
            &[
                ("version", "9"),
                ("status", "done"),
                ("conversation", &cid.to_string()),
            ],
        )
        .await;
    assert_eq!(p.status, 409, "{}", p.text);
    for bad in [
        vec![
            ("version", "1"),
            ("status", "finished"),
            ("conversation", "x"),
        ],
        vec![("version", "x"), ("status", "done")],
        vec![
            ("version", "1"),
            ("status", "done"),
            ("conversation", "not-an-id"),
        ],
    ] {
        let p = centre.post_form(&action, &bad).await;
        assert_eq!(p.status, 400, "{bad:?}: {}", p.text);
    }
    assert_eq!(status_of(&app, centre_action).await, "open");

    // Done: the page says so, and the start page no longer lists it.
    let p = centre
        .post_form(
            &action,
            &[
                ("version", "1"),
                ("status", "done"),
                ("conversation", &cid.to_string()),
            ],
        )
        .await;
    p.assert_redirect(
        &format!("{page}?done=action_saved#action-{centre_action}"),
        "done",
    );
    assert_eq!(status_of(&app, centre_action).await, "done");
    let p = centre.get(&format!("{page}?done=action_saved")).await;
    assert!(
        p.text
            .contains(&format!("id=\"action-reopen-{centre_action}\"")),
        "{}",
        p.text
    );
    let p = centre.get("/").await;
    assert!(!p.text.contains(&format!("#action-{centre_action}")));
    // Dropped by the municipality with its reason, which both sides read.
    let field = format!("reason_{muni_action}");
    let p = muni
        .post_form(
            &format!("/agreed-actions/{muni_action}"),
            &[
                ("version", "1"),
                ("status", "dropped"),
                ("conversation", &cid.to_string()),
                (&field, "Deltakeren flyttet."),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.text);
    let p = centre.get(&page).await;
    assert!(p.text.contains("Deltakeren flyttet."), "{}", p.text);
}

#[tokio::test]
async fn in_the_browser_an_overdue_action_is_found_from_the_start_page_and_marked_done() {
    use handover_tests::browser::{Browser, Js};
    let app = spawn_app().await;
    let (cid, centre_action, _) = demo_actions(&app).await;
    let Some(b) = Browser::start(&app, Js::On).await else {
        return;
    };
    b.sign_in(who::STJ_STAFF).await;
    assert!(b.has("#overdue-actions").await, "{}", b.body().await);
    b.assert_accessible().await;
    b.click_css(&format!("#overdue-actions a[href*='{centre_action}']"))
        .await;
    b.wait_path(&format!("/conversations/{cid}")).await;
    b.assert_accessible().await;
    b.screenshot("agreed-actions-nb").await;
    // Dropping without a reason: said beside the field.
    b.click_css(&format!("#action-drop-{centre_action}")).await;
    let field = format!("reason_{centre_action}");
    b.wait_for(
        || async { b.has(&format!("#{field}[aria-invalid='true']")).await },
        "the missing reason",
    )
    .await;
    b.assert_accessible().await;
    b.click_css(&format!("#action-done-{centre_action}")).await;
    b.wait_for(
        || async { b.path().await.contains("done=action_saved") },
        "saved",
    )
    .await;
    assert!(b.has(&format!("#action-reopen-{centre_action}")).await);
    b.assert_accessible().await;
    // The conversation page with its actions in English.
    b.use_lang("en").await;
    assert!(b.has(&format!("#action-reopen-{centre_action}")).await);
    b.assert_accessible().await;
    b.close().await;
    assert_eq!(status_of(&app, centre_action).await, "done");
}
