//! The web application in a real browser (headless Chromium over WebDriver): every role signs
//! in and does its tasks, in bokmål and English, with JavaScript on and off, and axe-core finds
//! no WCAG 2.1 A or AA violation on any page (`tests/src/browser.rs`). With
//! `WRITE_SCREENSHOTS=1` these tests also make the pictures of `docs/web.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_tests::browser::{Browser, Js};
use handover_tests::{TestApp, spawn_app, who};
use serde_json::json;
use uuid::Uuid;

const LANGS: [&str; 2] = ["nb", "en"];

/// A Kristiansand participant with programme elements and placements in the demo data.
async fn krs_participant(app: &TestApp) -> (Uuid, Uuid, Uuid) {
    sqlx::query_as(
        "SELECT p.id, e.id, pl.id FROM participants p
         JOIN organisations o ON o.id = p.reception_centre_id
         JOIN programme_elements e ON e.participant_id = p.id
         JOIN placements pl ON pl.participant_id = p.id
         WHERE o.name = 'Integreringsmottaket i Kristiansand'
         ORDER BY p.family_name, p.id LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .expect("a demo participant with elements and placements")
}

async fn handover_of(app: &TestApp, state: &str, municipality: &str) -> Uuid {
    sqlx::query_scalar(
        "SELECT h.id FROM handovers h JOIN organisations m ON m.id = h.municipality_id
         WHERE h.state = $1 AND m.name = $2 ORDER BY h.id LIMIT 1",
    )
    .bind(state)
    .bind(municipality)
    .fetch_one(&app.pool)
    .await
    .expect("a demo handover")
}

async fn a_conversation(app: &TestApp) -> Uuid {
    sqlx::query_scalar(
        "SELECT c.id FROM conversations c JOIN handovers h ON h.id = c.handover_id
         JOIN organisations m ON m.id = h.municipality_id
         WHERE m.name = 'Kristiansand' ORDER BY c.id LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .expect("a demo conversation")
}

/// Opens each page, checks it has a title and one main heading, and runs axe on it.
async fn check_pages(b: &Browser, pages: &[(&str, &str)], lang: &str) {
    for (path, shot) in pages {
        b.goto(path).await;
        let at = b.path().await;
        assert!(
            at.starts_with(path.split('?').next().unwrap_or(path)),
            "{path} → {at}"
        );
        assert_eq!(b.lang().await, lang, "{path}");
        assert!(
            b.title().await.contains('–'),
            "{path}: title {:?}",
            b.title().await
        );
        assert!(b.has("main h1").await, "{path}: no heading");
        assert!(b.has("main#main").await && b.has("header").await && b.has("footer").await);
        b.assert_accessible().await;
        if !shot.is_empty() {
            b.screenshot(&format!("{shot}-{lang}")).await;
        }
    }
}

#[tokio::test]
async fn axe_reports_a_violation_when_a_page_has_one() {
    let app = spawn_app().await;
    let Some(b) = Browser::start(&app, Js::On).await else {
        return;
    };
    b.goto("/sign-in").await;
    assert!(b.violations().await.is_empty());
    // An image without a text alternative and a field without a label (WCAG 1.1.1, 4.1.2).
    b.client
        .execute(
            "document.querySelector('main').insertAdjacentHTML('beforeend',
               '<img src=\"/assets/none.png\"><input type=\"text\">'); return true;",
            vec![],
        )
        .await
        .unwrap();
    let ids: Vec<String> = b
        .violations()
        .await
        .iter()
        .filter_map(|v| v["id"].as_str().map(str::to_owned))
        .collect();
    assert!(ids.contains(&"image-alt".to_owned()), "{ids:?}");
    assert!(ids.contains(&"label".to_owned()), "{ids:?}");
    b.close().await;
}

#[tokio::test]
async fn pages_before_sign_in_are_accessible_in_both_languages() {
    let app = spawn_app().await;
    let Some(b) = Browser::start(&app, Js::On).await else {
        return;
    };
    b.goto("/sign-in").await;
    for lang in LANGS {
        b.use_lang(lang).await;
        check_pages(
            &b,
            &[
                ("/sign-in", "sign-in"),
                ("/password/forgotten", ""),
                ("/password-setup", ""),
                ("/no-such-page", ""),
            ],
            lang,
        )
        .await;
        // A sign-in that fails: the message is announced, the page still accessible.
        b.goto("/sign-in").await;
        b.fill("email", who::KRS_STAFF).await;
        b.submit("email").await;
        // The demo domain has no identity provider: the password comes next, on its own page.
        b.wait_for(|| async { b.has("#password").await }, "the password step")
            .await;
        b.assert_accessible().await;
        b.fill("password", "wrong-password-here").await;
        b.submit("password").await;
        b.wait_for(
            || async { b.has("#sign-in-problem").await },
            "the sign-in problem",
        )
        .await;
        b.assert_accessible().await;
        // Empty fields: an error summary linking to each field, a message beside each.
        b.goto("/sign-in").await;
        b.submit("email").await;
        b.wait_for(
            || async { b.has(".ds-error-summary a[href='#email']").await },
            "the first step's error summary",
        )
        .await;
        assert!(!b.has("#password").await);
        b.goto("/sign-in?password=1").await;
        b.submit("email").await;
        b.wait_for(
            || async { b.has(".ds-error-summary").await },
            "error summary",
        )
        .await;
        assert!(b.has(".ds-error-summary a[href='#email']").await);
        assert!(b.has(".ds-error-summary a[href='#password']").await);
        assert!(b.has("#email[aria-invalid='true']").await);
        b.assert_accessible().await;
        b.screenshot(&format!("sign-in-errors-{lang}")).await;
    }
    b.close().await;
}

#[tokio::test]
async fn centre_staff_pages_are_accessible_in_both_languages() {
    let app = spawn_app().await;
    let Some(b) = Browser::start(&app, Js::On).await else {
        return;
    };
    let (p, e, pl) = krs_participant(&app).await;
    let h = handover_of(&app, "received", "Kristiansand").await;
    let c = a_conversation(&app).await;
    b.sign_in(who::KRS_STAFF).await;
    for lang in LANGS {
        b.use_lang(lang).await;
        let pages = [
            ("/".to_owned(), "start-centre"),
            ("/participants".to_owned(), "participants"),
            ("/participants?name=a&status=in_programme".to_owned(), ""),
            ("/participants/new".to_owned(), "participant-new"),
            (format!("/participants/{p}"), "record"),
            (format!("/participants/{p}/identity"), "identity"),
            (format!("/participants/{p}/history"), "history"),
            (format!("/participants/{p}/mapping"), "mapping"),
            (format!("/participants/{p}/norwegian"), "norwegian"),
            (format!("/participants/{p}/settlement"), "settlement"),
            (format!("/participants/{p}/consents"), "consents"),
            (format!("/participants/{p}/adaptation"), ""),
            (format!("/participants/{p}/elements/new"), ""),
            (format!("/participants/{p}/elements/{e}"), "element"),
            (format!("/participants/{p}/placements/new"), ""),
            (format!("/participants/{p}/placements/{pl}"), ""),
            ("/account/password".to_owned(), ""),
            ("/handovers".to_owned(), "handovers-centre"),
            ("/handovers?state=declined".to_owned(), ""),
            (format!("/handovers/{h}"), "handover"),
            (format!("/handovers/{h}/file"), ""),
            (format!("/conversations/{c}"), ""),
        ];
        let pages: Vec<(&str, &str)> = pages.iter().map(|(a, s)| (a.as_str(), *s)).collect();
        check_pages(&b, &pages, lang).await;
    }
    b.sign_out().await;
    b.close().await;
}

#[tokio::test]
async fn counsellor_and_municipality_pages_are_accessible_and_show_what_they_may_read() {
    let app = spawn_app().await;
    let Some(b) = Browser::start(&app, Js::On).await else {
        return;
    };
    let (p, _, _) = krs_participant(&app).await;
    b.sign_in(who::AGDER_COUNSELLOR).await;
    for lang in LANGS {
        b.use_lang(lang).await;
        let record = format!("/participants/{p}");
        check_pages(
            &b,
            &[
                ("/", ""),
                ("/participants", ""),
                (&record, "record-counsellor"),
            ],
            lang,
        )
        .await;
        // A counsellor reads the record but changes nothing, and never sees the centre's
        // internal notes or their heading.
        b.goto(&record).await;
        assert!(!b.has(&format!("a[href='{record}/identity']")).await);
        assert!(!b.has(&format!("a[href='{record}/elements/new']")).await);
        assert!(!b.has(&format!("a[href='{record}/export']")).await);
        let body = b.body().await;
        assert!(!body.contains("Interne notater") && !body.contains("Internal notes"));
    }
    b.sign_out().await;

    let h = handover_of(&app, "received", "Kristiansand").await;
    b.sign_in(who::KOMMUNE_KRS_STAFF).await;
    for lang in LANGS {
        b.use_lang(lang).await;
        let hp = format!("/handovers/{h}");
        check_pages(
            &b,
            &[
                ("/", "start-municipality"),
                (&hp, ""),
                ("/conversations", "conversations"),
            ],
            lang,
        )
        .await;
        // Municipality staff have no participant list.
        b.goto("/participants").await;
        assert!(b.body().await.contains(if lang == "nb" {
            "Ingen tilgang"
        } else {
            "No access"
        }));
    }
    b.close().await;
}

#[tokio::test]
async fn administrators_manage_users_and_organisations_with_javascript_on() {
    let app = spawn_app().await;
    let Some(b) = Browser::start(&app, Js::On).await else {
        return;
    };
    admin_tasks(&app, &b).await;
    b.close().await;
}

#[tokio::test]
async fn administrators_manage_users_and_organisations_with_javascript_off() {
    let app = spawn_app().await;
    let Some(b) = Browser::start(&app, Js::Off).await else {
        return;
    };
    admin_tasks(&app, &b).await;
    // A counsellor reads a record with JavaScript off too.
    let (p, _, _) = krs_participant(&app).await;
    b.sign_in(who::AGDER_COUNSELLOR).await;
    b.goto(&format!("/participants/{p}")).await;
    assert!(b.has("h2#elements").await && !b.body().await.contains("Interne notater"));
    b.close().await;
}

/// An administrator's tasks: users created (with a mistake first), a role changed, the setup
/// e-mail sent again, an account deactivated; the operator's organisations.
async fn admin_tasks(app: &TestApp, b: &Browser) {
    b.sign_in(who::KRS_ADMIN).await;
    for lang in LANGS {
        b.use_lang(lang).await;
        check_pages(
            b,
            &[
                ("/", "start-admin"),
                ("/admin/users", "users"),
                ("/admin/users/new", "user-new"),
                ("/admin/organisation", ""),
            ],
            lang,
        )
        .await;
    }
    b.use_lang("nb").await;
    // A new user: a wrong address first, then a right one; the setup e-mail goes out.
    b.goto("/admin/users/new").await;
    b.fill("name", "Nina Nyansatt").await;
    b.fill("email", "ikke-en-adresse").await;
    b.choose("role", "centre_staff").await;
    b.submit("name").await;
    b.wait_for(
        || async { b.has("#email[aria-invalid='true']").await },
        "email error",
    )
    .await;
    b.assert_accessible().await;
    b.screenshot("user-new-errors-nb").await;
    b.fill("email", "nina.nyansatt@example.no").await;
    b.submit("name").await;
    b.wait_path("/admin/users?done=setup_sent").await;
    assert!(b.body().await.contains("Nina Nyansatt"));
    let token = app.wait_setup_token("nina.nyansatt@example.no", 1).await;
    assert!(!token.is_empty());
    // Her page: change the role, resend the setup e-mail, deactivate.
    b.click_text("Nina Nyansatt").await;
    b.wait_path("/admin/users/").await;
    let page = b.path().await;
    b.assert_accessible().await;
    b.choose("role", "admin").await;
    b.click_text("Lagre").await;
    b.wait_path(&format!("{page}?done=saved")).await;
    let role: String = sqlx::query_scalar("SELECT role FROM users WHERE email = $1")
        .bind("nina.nyansatt@example.no")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(role, "admin");
    b.click_text("Send lenke for å velge passord på nytt").await;
    b.wait_path(&format!("{page}?done=setup_sent")).await;
    app.wait_setup_token("nina.nyansatt@example.no", 2).await;
    b.click_text("Deaktiver kontoen").await;
    b.wait_path(&format!("{page}?done=deactivated")).await;
    let active: bool = sqlx::query_scalar("SELECT active FROM users WHERE email = $1")
        .bind("nina.nyansatt@example.no")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!active);
    b.assert_accessible().await;
    // The log shows what was just done, filtered by action; a malformed id is refused.
    for lang in LANGS {
        b.use_lang(lang).await;
        check_pages(b, &[("/admin/audit", "audit")], lang).await;
    }
    b.use_lang("nb").await;
    b.goto("/admin/audit?action=user.create").await;
    let log = b.text("table").await;
    assert!(
        log.contains("user.create") && !log.contains("auth.login"),
        "{log}"
    );
    b.goto("/admin/audit?target=not-an-id").await;
    assert!(b.has("#target[aria-invalid='true']").await);
    b.sign_out().await;

    // The operator sees every organisation; a centre administrator does not.
    b.sign_in(who::OPERATOR_ADMIN).await;
    for lang in LANGS {
        b.use_lang(lang).await;
        check_pages(
            b,
            &[
                ("/admin/organisations", "organisations"),
                ("/admin/organisations/new", ""),
                ("/admin/organisations?kind=municipality&q=tr", ""),
                ("/admin/users", ""),
            ],
            lang,
        )
        .await;
    }
    // The operator creates a career centre, renames it, deactivates it. (Steinkjer is served
    // already: a centre has one career centre, so choosing it is refused.)
    b.use_lang("nb").await;
    b.goto("/admin/organisations/new").await;
    b.assert_accessible().await;
    b.choose("kind", "career_centre").await;
    b.fill("name", "").await;
    b.submit("name").await;
    b.wait_for(
        || async { b.has("#name[aria-invalid='true']").await },
        "name error",
    )
    .await;
    let steinkjer: Uuid = sqlx::query_scalar(
        "SELECT id FROM organisations WHERE name = 'Integreringsmottaket i Steinkjer'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    b.fill("name", "Karrieresenteret i Prøvefylket").await;
    b.choose("serves_reception_centre_id", &steinkjer.to_string())
        .await;
    b.submit("name").await;
    // The page before had an error summary too (the empty name): wait for the new one, whose
    // name is no longer marked, or the next step acts on a page being replaced.
    b.wait_for(
        || async { b.has(".ds-error-summary").await && !b.has("#name[aria-invalid='true']").await },
        "served already",
    )
    .await;
    b.choose("serves_reception_centre_id", "").await;
    b.submit("name").await;
    b.wait_for(
        || async { b.path().await.ends_with("?done=created") },
        "created",
    )
    .await;
    b.assert_accessible().await;
    b.fill("name", "Karrieresenteret i Testfylket").await;
    b.click_text("Lagre").await;
    b.wait_for(
        || async { b.path().await.ends_with("?done=saved") },
        "saved",
    )
    .await;
    b.click_text("Deaktiver organisasjonen").await;
    b.wait_for(
        || async { b.path().await.ends_with("?done=deactivated") },
        "deactivated",
    )
    .await;
    let (kind, active, serves): (String, bool, Option<Uuid>) = sqlx::query_as(
        "SELECT kind, active, serves_reception_centre_id FROM organisations
         WHERE name = 'Karrieresenteret i Testfylket'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (kind.as_str(), active, serves),
        ("career_centre", false, None)
    );
    b.sign_out().await;
}

/// The centre staff's record tasks, end to end: a new participant (first with mistakes), a
/// change of identity, a programme element added, changed and deleted, a placement added, and
/// the history that records it all.
async fn record_tasks(app: &TestApp, b: &Browser) {
    b.sign_in(who::KRS_STAFF).await;
    b.use_lang("nb").await;
    b.goto("/participants/new").await;
    b.fill("given_name", "").await;
    b.fill("family_name", "Testesen").await;
    b.fill("date_of_birth", "31.02.1990").await;
    b.submit("given_name").await;
    b.wait_for(
        || async { b.has(".ds-error-summary").await },
        "error summary",
    )
    .await;
    assert!(b.has("#date_of_birth[aria-invalid='true']").await);
    assert!(b.has("#arrival_date[aria-invalid='true']").await);
    if b.js == Js::On {
        // The script moves the focus to the summary, so it is announced.
        assert_eq!(b.focused().await, "error-summary");
        b.assert_accessible().await;
        b.screenshot("participant-errors-nb").await;
    }
    // What was typed is kept.
    let kept = b
        .client
        .find(fantoccini::Locator::Id("family_name"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("Testesen"));
    let duf = if b.js == Js::On {
        "202612010001"
    } else {
        "202612010002"
    };
    b.fill("given_name", "Tesfay").await;
    b.fill("date_of_birth", "15.03.1990").await;
    b.fill("duf_number", duf).await;
    b.fill("language_0", "ti").await;
    b.choose("level_0", "native").await;
    b.fill("arrival_date", "01.11.2026").await;
    b.submit("given_name").await;
    // Not `wait_path("/participants/")`: the form's own address starts so too.
    b.wait_for(
        || async { b.path().await.ends_with("?done=created") },
        "the new record",
    )
    .await;
    let at = b.path().await;
    let record = at.trim_end_matches("?done=created").to_owned();
    let body = b.body().await;
    assert!(
        body.contains("Tesfay Testesen") && body.contains("Lagt til."),
        "{body}"
    );
    assert!(body.contains("ti (Morsmål)"));
    let id: Uuid = record.rsplit('/').next().unwrap().parse().unwrap();
    let stored: String = sqlx::query_scalar(
        "SELECT family_name FROM participants WHERE id = $1 AND duf_number = $2",
    )
    .bind(id)
    .bind(duf)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored, "Testesen");
    let born: time::Date =
        sqlx::query_scalar("SELECT date_of_birth FROM participants WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        born,
        time::macros::date!(1990 - 03 - 15),
        "dates are read day first"
    );

    // Change the identity.
    b.goto(&format!("{record}/identity")).await;
    b.fill("family_name", "Testesen-Berg").await;
    b.submit("given_name").await;
    b.wait_path(&format!("{record}?done=saved")).await;
    assert!(b.body().await.contains("Tesfay Testesen-Berg"));

    // The competence mapping, with a row of education and one of work.
    b.goto(&format!("{record}/mapping")).await;
    b.fill("mapped_on", "05.11.2026").await;
    b.choose("digital_skills", "basic").await;
    b.choose("education_level_0", "upper_secondary").await;
    b.fill("education_years_0", "12").await;
    b.fill("education_country_0", "er").await;
    b.fill("work_experience_occupation_0", "Snekker").await;
    b.fill("work_experience_years_0", "4,5").await;
    b.fill("driving_licences", "B, Q").await;
    b.fill("own_goals", "Jobbe som snekker").await;
    b.submit("mapped_on").await;
    // Q is no Norwegian licence class: refused beside its field.
    b.wait_for(
        || async { b.has("#driving_licences[aria-invalid='true']").await },
        "licences",
    )
    .await;
    b.fill("driving_licences", "B").await;
    b.submit("mapped_on").await;
    b.wait_path(&format!("{record}?done=saved")).await;
    let mapping: serde_json::Value =
        sqlx::query_scalar("SELECT data FROM competence_mappings WHERE participant_id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(mapping["education"][0]["country"], "ER");
    assert_eq!(mapping["work_experience"][0]["years"], 4.5);
    assert_eq!(mapping["driving_licences"], json!(["B"]));

    // Norwegian training: a level per skill assessed, a test with its result.
    b.goto(&format!("{record}/norwegian")).await;
    b.choose("level_listening", "A2").await;
    b.fill("assessed_on_listening", "20.11.2026").await;
    b.choose("test_0", "norskproven_oral").await;
    b.fill("taken_on_0", "21.11.2026").await;
    b.choose("result_0", "passed").await;
    b.fill("course_hours_planned", "100").await;
    b.fill("course_hours_attended", "80").await;
    b.submit("course_hours_planned").await;
    // Norskprøven gives a level, not "passed": the error is beside that test's result.
    b.wait_for(
        || async { b.has("#result_0[aria-invalid='true']").await },
        "test result",
    )
    .await;
    b.choose("result_0", "A2").await;
    b.submit("course_hours_planned").await;
    b.wait_path(&format!("{record}?done=saved")).await;
    let training: serde_json::Value =
        sqlx::query_scalar("SELECT data FROM norwegian_training WHERE participant_id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(training["levels"][0]["level"], "A2");
    assert_eq!(training["tests"][0]["result"], "A2");

    // A programme element: added, changed, deleted.
    b.goto(&format!("{record}/elements/new")).await;
    b.choose("kind", "norwegian").await;
    b.fill("title", "Norsk A2").await;
    b.fill("start_date", "02.11.2026").await;
    b.fill("hours_planned", "40").await;
    b.fill("hours_attended", "41,5").await;
    b.submit("kind").await;
    // More attended than planned: refused beside the field, nothing saved.
    b.wait_for(
        || async { b.has("#hours_attended[aria-invalid='true']").await },
        "hours error",
    )
    .await;
    b.fill("hours_attended", "12,5").await;
    b.submit("kind").await;
    b.wait_path(&format!("{record}?done=created")).await;
    let body = b.body().await;
    assert!(body.contains("Norsk A2") && body.contains("12,5"), "{body}");
    let element: Uuid =
        sqlx::query_scalar("SELECT id FROM programme_elements WHERE participant_id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    b.goto(&format!("{record}/elements/{element}")).await;
    b.fill("hours_attended", "20").await;
    b.submit("kind").await;
    b.wait_path(&format!("{record}?done=saved")).await;
    let hours: f64 =
        sqlx::query_scalar("SELECT hours_attended FROM programme_elements WHERE id = $1")
            .bind(element)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(hours, 20.0);
    b.goto(&format!("{record}/elements/{element}")).await;
    b.click_text("Slett").await;
    b.wait_path(&format!("{record}?done=deleted")).await;
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM programme_elements WHERE participant_id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(left, 0);

    // A placement with the employer's feedback.
    b.goto(&format!("{record}/placements/new")).await;
    b.choose("kind", "work_practice").await;
    b.fill("employer_name", "Bakeriet AS").await;
    b.fill("start_date", "03.11.2026").await;
    b.fill("hours", "60").await;
    b.fill("tasks", "Baking og salg").await;
    b.fill("employer_feedback", "Punktlig og lærevillig").await;
    b.submit("kind").await;
    b.wait_path(&format!("{record}?done=created")).await;
    assert!(b.body().await.contains("Punktlig og lærevillig"));

    // Before the handover: the settlement decision, a consent (then withdrawn), and an
    // adaptation need.
    let kommune: Uuid = sqlx::query_scalar(
        "SELECT id FROM organisations WHERE kind = 'municipality' AND name = 'Kristiansand'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    b.goto(&format!("{record}/settlement")).await;
    b.choose("municipality_id", &kommune.to_string()).await;
    b.fill("settlement_date", "15.01.2027").await;
    b.fill("contact_email_0", "siri@kristiansand.kommune.no")
        .await;
    b.submit("settlement_date").await;
    // An e-mail without a name: the name is asked for beside its field.
    b.wait_for(
        || async { b.has("#contact_name_0[aria-invalid='true']").await },
        "contact name",
    )
    .await;
    b.fill("contact_name_0", "Siri Programrådgiver").await;
    b.submit("settlement_date").await;
    b.wait_path(&format!("{record}?done=saved")).await;
    let (muni, contacts): (Uuid, serde_json::Value) = sqlx::query_as(
        "SELECT municipality_id, contacts FROM settlements WHERE participant_id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(muni, kommune);
    assert_eq!(contacts[0]["name"], "Siri Programrådgiver");

    b.goto(&format!("{record}/consents")).await;
    for sid in [
        "section-identity_and_programme",
        "section-competence_mapping",
    ] {
        b.client
            .find(fantoccini::Locator::Id(sid))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    b.fill("given_on", "10.11.2026").await;
    b.choose("method", "written_signed").await;
    b.fill("language", "ti").await;
    b.client
        .find(fantoccini::Locator::Id("interpreter_present"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.submit("given_on").await;
    b.wait_path(&format!("{record}/consents?done=created"))
        .await;
    assert!(b.body().await.contains("Skriftlig, signert"));
    let (sections, interpreter): (serde_json::Value, bool) = sqlx::query_as(
        "SELECT to_jsonb(sections), interpreter_present FROM consents WHERE participant_id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        sections,
        json!(["identity_and_programme", "competence_mapping"])
    );
    assert!(interpreter);
    b.click_text("Trekk tilbake samtykket").await;
    b.wait_path(&format!("{record}/consents?done=saved")).await;
    let withdrawn: bool = sqlx::query_scalar(
        "SELECT withdrawn_at IS NOT NULL FROM consents WHERE participant_id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(withdrawn);

    b.goto(&format!("{record}/adaptation")).await;
    b.choose("category_0", "mobility").await;
    b.fill("description_0", "Trenger heis til undervisningsrommet")
        .await;
    b.submit("category_0").await;
    b.wait_path(&format!("{record}?done=saved")).await;
    let needs: serde_json::Value = sqlx::query_scalar(
        "SELECT data -> 'needs' FROM adaptation_needs WHERE participant_id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(needs[0]["category"], "mobility");

    // The history names each change, never a value.
    b.goto(&format!("{record}/history")).await;
    let history = b.body().await;
    for line in [
        "Personopplysninger",
        "Programelement",
        "Praksis",
        "Slettet",
        "Endret",
    ] {
        assert!(history.contains(line), "{line} missing: {history}");
    }
    assert!(!history.contains("Bakeriet"));
    b.sign_out().await;
}

#[tokio::test]
async fn centre_staff_keep_a_record_with_javascript_on() {
    let app = spawn_app().await;
    let Some(b) = Browser::start(&app, Js::On).await else {
        return;
    };
    record_tasks(&app, &b).await;
    b.close().await;
}

#[tokio::test]
async fn centre_staff_keep_a_record_with_javascript_off() {
    let app = spawn_app().await;
    let Some(b) = Browser::start(&app, Js::Off).await else {
        return;
    };
    // The browser really runs no script of the page: the one script (app.js) would move the
    // focus to an error summary.
    b.goto("/sign-in").await;
    b.submit("email").await;
    b.wait_for(
        || async { b.has(".ds-error-summary").await },
        "error summary",
    )
    .await;
    let focus = b
        .client
        .execute(
            "return document.activeElement.id || document.activeElement.tagName",
            vec![],
        )
        .await;
    eprintln!("javascript off: focus probe answered {focus:?}");
    assert!(
        !matches!(&focus, Ok(v) if v == "error-summary"),
        "the page's script ran with JavaScript off"
    );
    record_tasks(&app, &b).await;
    b.close().await;
}

#[tokio::test]
async fn a_save_after_someone_elses_keeps_what_was_typed_and_applies_on_a_second_save() {
    let app = spawn_app().await;
    let Some(b) = Browser::start(&app, Js::On).await else {
        return;
    };
    let (p, _, _) = krs_participant(&app).await;
    b.sign_in(who::KRS_STAFF).await;
    b.goto(&format!("/participants/{p}/identity")).await;
    // Meanwhile a colleague changes the given name through the API.
    let token = app.token(who::KRS_STAFF).await;
    let cur = app.get(&format!("/api/v1/participants/{p}"), &token).await;
    let etag = cur.header("etag").unwrap().to_owned();
    let r = app
        .patch(
            &format!("/api/v1/participants/{p}"),
            &token,
            &json!({ "given_name": "Kollegaendret" }),
            Some(&etag),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    b.fill("family_name", "Mittnavn").await;
    b.submit("given_name").await;
    b.wait_for(|| async { b.has("#conflict").await }, "the conflict")
        .await;
    // What the user typed is kept; the colleague's value is shown beside the field.
    let typed = b
        .client
        .find(fantoccini::Locator::Id("family_name"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(typed.as_deref(), Some("Mittnavn"));
    assert!(b.text(".app-theirs").await.contains("Kollegaendret"));
    b.assert_accessible().await;
    b.screenshot("conflict-nb").await;
    let family: String = sqlx::query_scalar("SELECT family_name FROM participants WHERE id = $1")
        .bind(p)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_ne!(family, "Mittnavn", "the refused save changed nothing");
    // Saving again applies the change on top of the colleague's.
    b.submit("given_name").await;
    b.wait_path(&format!("/participants/{p}?done=saved")).await;
    let (given, family): (String, String) =
        sqlx::query_as("SELECT given_name, family_name FROM participants WHERE id = $1")
            .bind(p)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    // The form held the old given name, so the second save puts it back: what the user saw
    // is what is saved, and the history shows both changes.
    assert_eq!(family, "Mittnavn");
    assert!(!given.is_empty());
    b.close().await;
}

#[tokio::test]
async fn keyboard_alone_signs_in_and_fills_a_record_form() {
    let app = spawn_app().await;
    let Some(b) = Browser::start(&app, Js::On).await else {
        return;
    };
    use fantoccini::key::Key;
    let tab = char::from(Key::Tab).to_string();
    let enter = char::from(Key::Enter).to_string();
    b.goto("/sign-in").await;
    // The first Tab reaches the skip link, which is visible when focused.
    b.client
        .find(fantoccini::Locator::Css("body"))
        .await
        .unwrap()
        .send_keys(&tab)
        .await
        .unwrap();
    assert_eq!(b.focused().await, "ds-skip-link");
    let shown: serde_json::Value = b
        .client
        .execute(
            "return document.activeElement.getBoundingClientRect().height;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        shown.as_f64().unwrap_or(0.0) > 10.0,
        "the focused skip link is not shown: {shown}"
    );
    // Tab on until the e-mail field; every stop shows where the focus is.
    for _ in 0..10 {
        if b.focused().await == "email" {
            break;
        }
        b.keys(&tab).await;
        assert!(
            b.focus_is_visible().await,
            "no visible focus on {}",
            b.focused().await
        );
    }
    assert_eq!(b.focused().await, "email");
    b.keys(who::KRS_STAFF).await;
    // Two steps: the address, Enter; then the password field has the focus.
    b.keys(&tab).await;
    assert_eq!(b.focused().await, "sign-in-continue");
    b.keys(&enter).await;
    b.wait_for(|| async { b.has("#password").await }, "the password step")
        .await;
    assert_eq!(b.focused().await, "password");
    b.keys(handover_tests::DEMO_PASSWORD).await;
    b.keys(&enter).await;
    b.wait_path("/").await;
    assert!(!b.path().await.starts_with("/sign-in"));
    // A record form by keyboard: a new element, all fields reached with Tab, sent with Enter.
    let (p, _, _) = krs_participant(&app).await;
    b.goto(&format!("/participants/{p}/elements/new")).await;
    b.client
        .find(fantoccini::Locator::Css("body"))
        .await
        .unwrap()
        .send_keys(&tab)
        .await
        .unwrap();
    for _ in 0..30 {
        if b.focused().await == "kind" {
            break;
        }
        b.keys(&tab).await;
        assert!(
            b.focus_is_visible().await,
            "no visible focus on {}",
            b.focused().await
        );
    }
    assert_eq!(b.focused().await, "kind");
    // In a focused select, typing picks the option ("Samfunnskunnskap").
    b.keys("Samf").await;
    b.keys(&tab).await;
    assert_eq!(b.focused().await, "title");
    b.keys("Samfunnskunnskap, del 2").await;
    b.keys(&tab).await;
    assert_eq!(b.focused().await, "start_date");
    // A date input takes the digits of its parts in the browser's order (dd.mm.yyyy in nb).
    b.keys("05112026").await;
    // Tab steps through the date's parts too (day, month, year in Chromium), then on.
    for _ in 0..8 {
        if b.focused().await == "hours_planned" {
            break;
        }
        b.keys(&tab).await;
    }
    assert_eq!(b.focused().await, "hours_planned");
    assert!(b.focus_is_visible().await);
    b.keys("10").await;
    b.keys(&tab).await;
    b.keys("8").await;
    b.keys(&enter).await;
    b.wait_path(&format!("/participants/{p}?done=created"))
        .await;
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM programme_elements WHERE participant_id = $1 AND title = $2",
    )
    .bind(p)
    .bind("Samfunnskunnskap, del 2")
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(n, 1);
    b.close().await;
}

#[tokio::test]
async fn a_link_from_an_email_leads_through_sign_in_back_to_its_page() {
    let app = spawn_app().await;
    let Some(b) = Browser::start(&app, Js::On).await else {
        return;
    };
    let h = handover_of(&app, "received", "Kristiansand").await;
    b.goto(&format!("/handovers/{h}")).await;
    b.wait_path("/sign-in?next=").await;
    assert!(
        b.has(".ds-alert[data-color='info']").await,
        "no 'sign in to see the page'"
    );
    b.sign_in(who::KOMMUNE_KRS_STAFF).await;
    b.wait_path(&format!("/handovers/{h}")).await;
    let reference: String = sqlx::query_scalar("SELECT reference FROM handovers WHERE id = $1")
        .bind(h)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(b.body().await.contains(&reference));
    b.close().await;
}

#[tokio::test]
async fn a_forgotten_password_is_chosen_again_from_the_emailed_link() {
    let app = spawn_app().await;
    let Some(b) = Browser::start(&app, Js::Off).await else {
        return;
    };
    b.goto("/sign-in").await;
    b.click_text("Glemt passordet?").await;
    b.wait_path("/password/forgotten").await;
    b.fill("email", who::STJ_STAFF).await;
    b.submit("email").await;
    b.wait_path("/password/forgotten?sent=1").await;
    let token = app.wait_setup_token(who::STJ_STAFF, 1).await;
    // The link is followed from another site, as from a webmail page: the cookie that takes
    // the token must survive that navigation's redirect.
    let mail_page = format!(
        "data:text/html,<a id=link href=\"{}/password-setup?token={token}\">link</a>",
        app.base
    );
    b.client.goto(&mail_page).await.unwrap();
    b.client
        .find(fantoccini::Locator::Id("link"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_path("/password-setup").await;
    assert!(
        b.has("#new_password").await,
        "the setup form is not shown: {}",
        b.body().await
    );
    // The token leaves the address bar at once.
    assert_eq!(b.path().await, "/password-setup");
    b.fill("new_password", "kort").await;
    b.submit("new_password").await;
    b.wait_for(
        || async { b.has("#new_password[aria-invalid='true']").await },
        "too short",
    )
    .await;
    b.fill("new_password", "Fjellvann-og-blåbær-2026!").await;
    b.submit("new_password").await;
    b.wait_path("/sign-in?done=password_set").await;
    b.sign_in_with(who::STJ_STAFF, "Fjellvann-og-blåbær-2026!")
        .await;
    assert!(b.body().await.contains("Hei,"));
    b.close().await;
}

#[tokio::test]
async fn a_document_saved_meanwhile_shows_the_saved_values_beside_the_typed_ones() {
    let app = spawn_app().await;
    let Some(b) = Browser::start(&app, Js::On).await else {
        return;
    };
    let (p, _, _) = krs_participant(&app).await;
    b.sign_in(who::KRS_STAFF).await;
    b.goto(&format!("/participants/{p}/mapping")).await;
    // Meanwhile a colleague changes the participant's own goals through the API.
    let token = app.token(who::KRS_STAFF).await;
    let path = format!("/api/v1/participants/{p}/competence-mapping");
    let cur = app.get(&path, &token).await;
    assert_eq!(cur.status, 200, "{}", cur.text);
    let etag = cur.header("etag").unwrap().to_owned();
    let mut body = cur.body.clone();
    for k in ["participant_id", "mapped_by_name", "version", "updated_at"] {
        body.as_object_mut().unwrap().remove(k);
    }
    body["own_goals"] = json!("Bli elektriker");
    let r = app
        .request(
            reqwest::Method::PUT,
            &path,
            Some(&token),
            Some(&body),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    b.fill("own_goals", "Bli tømrer").await;
    b.submit("mapped_on").await;
    b.wait_for(|| async { b.has("#conflict").await }, "the conflict")
        .await;
    let typed = b
        .client
        .find(fantoccini::Locator::Id("own_goals"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(typed.as_deref(), Some("Bli tømrer"));
    assert!(b.text(".app-theirs").await.contains("Bli elektriker"));
    b.assert_accessible().await;
    let stored: serde_json::Value = sqlx::query_scalar(
        "SELECT data -> 'own_goals' FROM competence_mappings WHERE participant_id = $1",
    )
    .bind(p)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored, json!("Bli elektriker"));
    b.submit("mapped_on").await;
    b.wait_path(&format!("/participants/{p}?done=saved")).await;
    let stored: serde_json::Value = sqlx::query_scalar(
        "SELECT data -> 'own_goals' FROM competence_mappings WHERE participant_id = $1",
    )
    .bind(p)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored, json!("Bli tømrer"));
    b.close().await;
}

#[tokio::test]
async fn a_municipality_finds_the_file_in_its_inbox_opens_it_and_answers() {
    let app = spawn_app().await;
    let Some(b) = Browser::start(&app, Js::On).await else {
        return;
    };
    let krs = handover_of(&app, "received", "Kristiansand").await;
    let trd = handover_of(&app, "received", "Trondheim").await;
    let reference = |id: Uuid| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT reference FROM handovers WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let krs_ref = reference(krs).await;
    b.sign_in(who::KOMMUNE_KRS_STAFF).await;
    for lang in LANGS {
        b.use_lang(lang).await;
        let file = format!("/handovers/{krs}/file");
        check_pages(&b, &[("/handovers", "inbox"), (&file, "file")], lang).await;
    }
    b.use_lang("nb").await;
    // The inbox lists the file; the handover page leads to it.
    b.goto("/handovers").await;
    assert!(b.body().await.contains(&krs_ref));
    b.click_text(&krs_ref).await;
    b.wait_path(&format!("/handovers/{krs}")).await;
    b.click_text("Åpne overføringsmappen").await;
    b.wait_path(&format!("/handovers/{krs}/file")).await;
    // Every section with its legal basis and purpose, none a silent gap.
    let sections = b
        .client
        .find_all(fantoccini::Locator::Css("section.app-file-section"))
        .await
        .unwrap();
    assert_eq!(sections.len(), 4, "one section per part of the file");
    let body = b.body().await;
    assert!(
        body.contains("Rettslig grunnlag") && body.contains("Formål"),
        "{body}"
    );
    // The opening is the API's audited read, recorded for the centre to see.
    let opened: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'handover.file_read' AND target_id = (
           SELECT participant_id FROM handovers WHERE id = $1)",
    )
    .bind(krs)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(opened >= 1);
    // Another municipality's file is not found here.
    b.goto(&format!("/handovers/{trd}/file")).await;
    assert!(b.body().await.contains("Fant ikke siden"));
    // Accept.
    b.goto(&format!("/handovers/{krs}/file")).await;
    b.click_text("Aksepter overføringen").await;
    b.wait_path(&format!("/handovers/{krs}?done=accepted"))
        .await;
    let state: String = sqlx::query_scalar("SELECT state FROM handovers WHERE id = $1")
        .bind(krs)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(state, "accepted");
    b.sign_out().await;

    // Trondheim declines its file, first without a reason.
    b.sign_in(who::KOMMUNE_TRD_STAFF).await;
    b.goto(&format!("/handovers/{trd}/file")).await;
    b.click_text("Avvis overføringen").await;
    b.wait_for(
        || async { b.has("#reason[aria-invalid='true']").await },
        "a reason",
    )
    .await;
    b.assert_accessible().await;
    b.fill(
        "reason",
        "Feil kommune: deltakeren skal bosettes i Steinkjer",
    )
    .await;
    b.click_text("Avvis overføringen").await;
    b.wait_path(&format!("/handovers/{trd}?done=declined"))
        .await;
    let (state, reason): (String, Option<String>) = sqlx::query_as(
        "SELECT h.state, t.reason FROM handovers h
         JOIN handover_transitions t ON t.handover_id = h.id AND t.to_state = 'declined'
         WHERE h.id = $1",
    )
    .bind(trd)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(state, "declined");
    assert_eq!(
        reason.as_deref(),
        Some("Feil kommune: deltakeren skal bosettes i Steinkjer")
    );
    // Declined: the municipality keeps the history, no longer the file.
    b.goto(&format!("/handovers/{trd}")).await;
    assert!(!b.has(&format!("a[href='/handovers/{trd}/file']")).await);
    b.close().await;
}

#[tokio::test]
async fn centre_staff_start_check_send_and_cancel_a_handover() {
    let app = spawn_app().await;
    let Some(b) = Browser::start(&app, Js::On).await else {
        return;
    };
    let draft = handover_of(&app, "draft", "Kristiansand").await;
    let reference: String = sqlx::query_scalar("SELECT reference FROM handovers WHERE id = $1")
        .bind(draft)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    b.sign_in(who::KRS_STAFF).await;
    for lang in LANGS {
        b.use_lang(lang).await;
        let send = format!("/handovers/{draft}/send");
        check_pages(&b, &[(&send, "send")], lang).await;
    }
    b.use_lang("nb").await;
    b.goto(&format!("/handovers/{draft}")).await;
    b.click_text("Sjekk og send mappen").await;
    b.wait_path(&format!("/handovers/{draft}/send")).await;
    if b.has("#missing").await {
        // Each missing item links to its form; sending anyway needs a reason.
        b.click_text("Send likevel").await;
        b.wait_for(
            || async { b.has("#reason[aria-invalid='true']").await },
            "a reason",
        )
        .await;
        b.assert_accessible().await;
        b.fill("reason", "Bosettes om to dager; kartleggingen ettersendes")
            .await;
        b.click_text("Send likevel").await;
    } else {
        b.click_text("Send mappen").await;
    }
    b.wait_path(&format!("/handovers/{draft}?done=sent")).await;
    let state: String = sqlx::query_scalar("SELECT state FROM handovers WHERE id = $1")
        .bind(draft)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(state, "sent");
    b.sign_out().await;
    // The municipality finds it among the unread files.
    b.sign_in(who::KOMMUNE_KRS_STAFF).await;
    b.goto("/handovers?unread=1").await;
    assert!(b.body().await.contains(&reference));
    b.sign_out().await;
    // The centre cancels it, with a reason.
    b.sign_in(who::KRS_STAFF).await;
    b.goto(&format!("/handovers/{draft}/send")).await;
    b.click_text("Trekk tilbake overføringen").await;
    b.wait_for(
        || async { b.has("#cancel_reason[aria-invalid='true']").await },
        "a reason",
    )
    .await;
    b.fill("cancel_reason", "Bosettingen er utsatt").await;
    b.click_text("Trekk tilbake overføringen").await;
    b.wait_path(&format!("/handovers/{draft}?done=cancelled"))
        .await;
    let state: String = sqlx::query_scalar("SELECT state FROM handovers WHERE id = $1")
        .bind(draft)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(state, "cancelled");

    // A participant with a settlement decision and no open handover: starting one lands on it,
    // and starting again finds the same one.
    let p: Uuid = sqlx::query_scalar(
        "SELECT p.id FROM participants p JOIN settlements s ON s.participant_id = p.id
         JOIN organisations o ON o.id = p.reception_centre_id
         WHERE o.name = 'Integreringsmottaket i Kristiansand'
           AND NOT EXISTS (SELECT 1 FROM handovers h WHERE h.participant_id = p.id
                           AND h.state NOT IN ('completed', 'cancelled', 'declined'))
         ORDER BY p.id LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM handovers WHERE participant_id = $1")
            .bind(p)
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    let before = count().await;
    for _ in 0..2 {
        b.goto(&format!("/participants/{p}")).await;
        b.click_text("Start eller fortsett overføringen").await;
        b.wait_for(
            || async {
                let at = b.path().await;
                at.starts_with("/handovers/") && !at.contains('?')
            },
            "the handover page",
        )
        .await;
    }
    assert_eq!(count().await, before + 1);
    b.close().await;
}
