//! The figures page: who may see which figures, a bad month said beside its field, the CSV, and
//! in a real browser the charts with their tables (checked by axe-core) in both languages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_tests::web::*;
use handover_tests::{spawn_app, who};

#[tokio::test]
async fn each_role_gets_the_figures_it_may_see_on_the_page() {
    let app = spawn_app().await;
    let own = app.org_of(who::KOMMUNE_KRS_STAFF).await;
    let other = app.org_of(who::KOMMUNE_TRD_STAFF).await;
    let mut muni = signed_in(&app, who::KOMMUNE_KRS_STAFF).await;
    let p = muni.get("/statistics").await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert!(p.text.contains("id=\"chart-sent\"") && p.text.contains("id=\"chart-sent-table\""));
    assert!(
        p.text.contains("href=\"/statistics\""),
        "the menu links the page"
    );
    // Only the month breakdown is offered, and the own organisation beside the country.
    assert!(!p.text.contains("value=\"municipality\""));
    assert!(p.text.contains(&format!("value=\"{own}\"")));
    assert!(!p.text.contains(&format!("value=\"{other}\"")));
    let p = muni.get(&format!("/statistics?of={own}")).await;
    assert_eq!(p.status, 200);
    assert!(p.text.contains("Kristiansand"));
    assert_eq!(
        muni.get(&format!("/statistics?of={other}")).await.status,
        404
    );
    assert_eq!(muni.get("/statistics?by=municipality").await.status, 403);
    // Bad input.
    let p = muni.get("/statistics?from=2026-13").await;
    p.assert_invalid(&["from"], "no such month");
    let p = muni.get("/statistics?from=2026-05&to=2026-02").await;
    p.assert_invalid(&["from"], "from after to");
    assert_eq!(muni.get("/statistics?of=nonsense").await.status, 400);
    assert_eq!(muni.get("/statistics?by=planet").await.status, 400);
    // The CSV of what the page shows.
    let p = muni.get(&format!("/statistics.csv?of={own}")).await;
    assert_eq!(p.status, 200);
    assert!(p.header("content-type").unwrap().starts_with("text/csv"));
    assert!(p.text.starts_with("key,label,participants_settled"));

    for email in [
        who::KRS_STAFF,
        who::STJ_STAFF,
        who::AGDER_COUNSELLOR,
        who::TRD_COUNSELLOR,
    ] {
        let mut s = signed_in(&app, email).await;
        assert_eq!(s.get("/statistics").await.status, 200, "{email}");
        assert_eq!(s.get("/statistics?by=centre").await.status, 403, "{email}");
    }
    for email in [who::KRS_ADMIN, who::OPERATOR_ADMIN, who::IMDI_ADMIN] {
        let mut s = signed_in(&app, email).await;
        assert_eq!(s.get("/statistics").await.status, 403, "{email}");
        assert_eq!(s.get("/statistics.csv").await.status, 403, "{email}");
    }
    // The directorate: every breakdown, and nothing about a participant.
    let mut imdi = signed_in(&app, who::IMDI_STAFF).await;
    for by in ["month", "centre", "county", "municipality"] {
        let p = imdi.get(&format!("/statistics?by={by}")).await;
        assert_eq!(p.status, 200, "{by}: {}", p.text);
    }
    let p = imdi.get("/").await;
    assert!(p.text.contains("href=\"/statistics\""));
    for path in ["/participants", "/handovers", "/conversations"] {
        let status = imdi.get(path).await.status;
        assert!(status == 403 || status == 404, "{path}: {status}");
    }
}

#[tokio::test]
async fn in_the_browser_the_directorate_reads_the_charts_and_their_tables() {
    use handover_tests::browser::{Browser, Js};
    let app = spawn_app().await;
    let Some(b) = Browser::start(&app, Js::On).await else {
        return;
    };
    b.sign_in(who::IMDI_STAFF).await;
    b.click_css("a[href='/statistics']").await;
    b.wait_path("/statistics").await;
    b.choose("by", "centre").await;
    b.click_css("#show-figures").await;
    b.wait_for(
        || async { b.path().await.contains("by=centre") },
        "the breakdown by centre",
    )
    .await;
    assert!(b.has("#chart-sent").await && b.has("#chart-sent-table").await);
    assert!(
        b.text("#chart-sent-table")
            .await
            .contains("Integreringsmottaket i Steinkjer")
    );
    b.assert_accessible().await;
    b.screenshot("statistics-nb").await;
    // A month that does not exist: said beside the field.
    b.goto("/statistics?from=2026-13").await;
    assert!(b.has("#from[aria-invalid='true']").await);
    b.assert_accessible().await;
    b.use_lang("en").await;
    b.goto("/statistics?by=county").await;
    let body = b.body().await;
    assert!(body.contains("Files sent"), "{body}");
    b.assert_accessible().await;
    b.screenshot("statistics-en").await;
    b.close().await;
}
