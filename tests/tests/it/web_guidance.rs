//! The web pages of career counsellors (guidance summaries, the recommended pathway) and the
//! operator's catalogue administration: in a real browser (bokmål and English, JavaScript on and
//! off, axe-core on every page; `WRITE_SCREENSHOTS=1` makes the pictures of `docs/web.md`), and
//! over plain HTTP for access per role and organisation, bad input and concurrent changes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fantoccini::Locator;
use handover_db::guidance::offering_id;
use handover_tests::browser::{Browser, Js};
use handover_tests::web::*;
use handover_tests::{TestApp, ago, ahead, call, etag, id_of, new_duf, spawn_app, who};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Set-up through the API
// ---------------------------------------------------------------------------------------------

/// A new participant at the Kristiansand centre (served by the Agder career centre), with
/// Norwegian at A2 in every skill when `a2`.
async fn krs_participant(app: &TestApp, family: &str, a2: bool) -> Uuid {
    let staff = app.token(who::KRS_STAFF).await;
    let r = app
        .post(
            "/api/v1/participants",
            Some(&staff),
            &json!({
                "given_name": "Selam",
                "family_name": family,
                "date_of_birth": "1991-03-14",
                "duf_number": new_duf(),
                "languages": [{ "language": "ti", "level": "native" }],
                "interpreter_language": "ti",
                "arrival_date": ago(120),
                "programme_start": ago(110),
                "status": "in_programme",
                "notes": "Intern merknad som bare mottaket ser."
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let pid = id_of(&r);
    if a2 {
        let levels: Vec<Value> = ["listening", "reading", "writing", "oral"]
            .iter()
            .map(|s| json!({ "skill": s, "level": "A2", "assessed_on": ago(10) }))
            .collect();
        let r = call(
            app,
            Method::PUT,
            &format!("/api/v1/participants/{pid}/norwegian-training"),
            Some(&staff),
            Some(&json!({
                "levels": levels, "tests": [],
                "course_hours_planned": 300, "course_hours_attended": 260
            })),
            None,
        )
        .await;
        assert!(r.status == 200 || r.status == 201, "levels: {}", r.text);
    }
    pid.parse().unwrap()
}

fn summary_body(steps: &[(&str, &str)]) -> Value {
    json!({
        "sessions": [{
            "date": ago(14), "kind": "individual", "topic": "Mål og muligheter",
            "interpreter_used": true, "interpreter_language": "ti"
        }],
        "interests": "Helse og omsorg.",
        "strengths": "Motivert.",
        "experience": "Fem år som hjelpepleier.",
        "goals_short_term": "Norsk B1.",
        "goals_long_term": "Fagbrev i helsearbeiderfaget.",
        "pathway": steps.iter().map(|(k, r)| json!({ "offering_id": offering_id(k), "reason": r })).collect::<Vec<_>>(),
        "covered": "Utdanningssystemet.",
        "left_for_section_11": "Valg av opplæringssted etter bosetting."
    })
}

/// A draft by the Agder counsellor: (id, ETag).
async fn api_draft(app: &TestApp, pid: Uuid, body: &Value) -> (Uuid, String) {
    let t = app.token(who::AGDER_COUNSELLOR).await;
    let r = app
        .post(
            &format!("/api/v1/participants/{pid}/guidance-summaries"),
            Some(&t),
            body,
        )
        .await;
    assert_eq!(r.status, 201, "draft: {}", r.text);
    (id_of(&r).parse().unwrap(), etag(&r))
}

async fn api_final(app: &TestApp, pid: Uuid) -> Uuid {
    let t = app.token(who::AGDER_COUNSELLOR).await;
    let (sid, tag) = api_draft(
        app,
        pid,
        &summary_body(&[("kompetansekartlegging", "Kartlegge først.")]),
    )
    .await;
    let r = call(
        app,
        Method::POST,
        &format!("/api/v1/guidance-summaries/{sid}/finalise"),
        Some(&t),
        None,
        Some(&tag),
    )
    .await;
    assert_eq!(r.status, 200, "finalise: {}", r.text);
    sid
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// The editor's form with one session and every text.
fn editor_fields(version: Option<&str>) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = [
        ("sessions_date_0", ago(3)),
        ("sessions_kind_0", "group".into()),
        ("sessions_topic_0", "Arbeidsliv i Norge".into()),
        ("sessions_interpreter_language_0", String::new()),
        ("sessions_date_1", String::new()),
        ("sessions_kind_1", String::new()),
        ("sessions_topic_1", String::new()),
        ("sessions_interpreter_language_1", String::new()),
        ("interests", "Bygg og anlegg.".into()),
        ("strengths", "Praktisk.".into()),
        ("experience", "Snekker i ti år.".into()),
        ("goals_short_term", "Arbeidstrening.".into()),
        ("goals_long_term", "Fagbrev som tømrer.".into()),
        ("covered", "Fagopplæring for voksne.".into()),
        ("left_for_section_11", "Plan for fagbrev i kommunen.".into()),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), v.clone()))
    .collect();
    if let Some(v) = version {
        f.push(("version".into(), v.to_owned()));
    }
    f
}

fn with(f: &[(String, String)], changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out = f.to_vec();
    for (k, v) in changes {
        match out.iter_mut().find(|(n, _)| n == k) {
            Some(x) => x.1 = (*v).to_owned(),
            None => out.push(((*k).to_owned(), (*v).to_owned())),
        }
    }
    out
}

fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

// ---------------------------------------------------------------------------------------------
// HTTP: who may use which page
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn guidance_and_catalogue_pages_answer_per_role_and_organisation() {
    let app = spawn_app().await;
    let krs = krs_participant(&app, "Tilgangstest", false).await;
    let final_sid = api_final(&app, krs).await;
    let (draft, _) = api_draft(&app, krs, &summary_body(&[])).await;
    let offering = offering_id("fagbrev-pa-jobb");

    // Written by hand from the access policy (docs/security.md): the serving career centre's
    // counsellors write, the participant's centre reads, everybody else gets 403 (a role that
    // never may) or 404 (a role that may, but not this participant).
    let p = format!("/participants/{krs}/guidance");
    let table: Vec<(&str, String, u16)> = vec![
        (who::AGDER_COUNSELLOR, p.clone(), 200),
        (who::KRS_STAFF, p.clone(), 200),
        (who::TRD_COUNSELLOR, p.clone(), 404),
        (who::STJ_STAFF, p.clone(), 404),
        (who::KOMMUNE_KRS_STAFF, p.clone(), 403),
        (who::KRS_ADMIN, p.clone(), 403),
        (who::OPERATOR_ADMIN, p.clone(), 403),
        (who::AGDER_COUNSELLOR, format!("{p}/new"), 200),
        (who::KRS_STAFF, format!("{p}/new"), 403),
        (who::TRD_COUNSELLOR, format!("{p}/new"), 404),
        (who::KOMMUNE_KRS_STAFF, format!("{p}/new"), 403),
        (who::AGDER_COUNSELLOR, format!("/guidance/{final_sid}"), 200),
        (who::KRS_STAFF, format!("/guidance/{final_sid}"), 200),
        (who::TRD_COUNSELLOR, format!("/guidance/{final_sid}"), 404),
        (who::STJ_STAFF, format!("/guidance/{final_sid}"), 404),
        (
            who::KOMMUNE_KRS_STAFF,
            format!("/guidance/{final_sid}"),
            403,
        ),
        (who::OPERATOR_ADMIN, format!("/guidance/{final_sid}"), 403),
        (
            who::AGDER_COUNSELLOR,
            format!("/guidance/{draft}/edit"),
            200,
        ),
        (
            who::AGDER_COUNSELLOR,
            format!("/guidance/{draft}/pathway"),
            200,
        ),
        (
            who::AGDER_COUNSELLOR,
            format!("/guidance/{draft}/finalise"),
            200,
        ),
        (who::KRS_STAFF, format!("/guidance/{draft}"), 200),
        (who::KRS_STAFF, format!("/guidance/{draft}/edit"), 403),
        (who::KRS_STAFF, format!("/guidance/{draft}/pathway"), 403),
        (who::KRS_STAFF, format!("/guidance/{draft}/finalise"), 403),
        (who::TRD_COUNSELLOR, format!("/guidance/{draft}/edit"), 404),
        (
            who::TRD_COUNSELLOR,
            format!("/guidance/{draft}/pathway"),
            404,
        ),
        (
            who::TRD_COUNSELLOR,
            format!("/guidance/{draft}/finalise"),
            404,
        ),
        (
            who::KOMMUNE_KRS_STAFF,
            format!("/guidance/{draft}/edit"),
            403,
        ),
        // A final summary is read-only: its editor is a conflict.
        (
            who::AGDER_COUNSELLOR,
            format!("/guidance/{final_sid}/edit"),
            409,
        ),
        (
            who::AGDER_COUNSELLOR,
            format!("/guidance/{final_sid}/pathway"),
            409,
        ),
        // The catalogue: read by everyone signed in, managed by the operator only.
        (who::AGDER_COUNSELLOR, "/catalogue".into(), 200),
        (who::KRS_STAFF, "/catalogue".into(), 200),
        (who::KOMMUNE_KRS_STAFF, "/catalogue".into(), 200),
        (who::OPERATOR_ADMIN, "/catalogue".into(), 200),
        (who::AGDER_COUNSELLOR, format!("/catalogue/{offering}"), 200),
        (
            who::KOMMUNE_TRD_STAFF,
            format!("/catalogue/{offering}"),
            200,
        ),
        (
            who::AGDER_COUNSELLOR,
            format!("/catalogue/{offering}/versions"),
            200,
        ),
        (who::OPERATOR_ADMIN, "/catalogue/new".into(), 200),
        (
            who::OPERATOR_ADMIN,
            format!("/catalogue/{offering}/edit"),
            200,
        ),
        (who::KRS_ADMIN, "/catalogue/new".into(), 403),
        (who::AGDER_ADMIN, format!("/catalogue/{offering}/edit"), 403),
        (who::AGDER_COUNSELLOR, "/catalogue/new".into(), 403),
        (
            who::AGDER_COUNSELLOR,
            format!("/catalogue/{offering}/edit"),
            403,
        ),
    ];
    let mut sessions: HashMap<&str, WebSession<'_>> = HashMap::new();
    let mut failures = Vec::new();
    let mut pages: HashMap<(&str, String), String> = HashMap::new();
    for (email, path, want) in &table {
        if !sessions.contains_key(email) {
            sessions.insert(email, signed_in(&app, email).await);
        }
        let r = sessions.get_mut(email).unwrap().get(path).await;
        if r.status.as_u16() != *want {
            failures.push(format!("{email} GET {path}: {} (want {want})", r.status));
        }
        assert!(r.is_page(), "{email} {path}: not a page");
        assert!(
            !r.text.contains("Intern merknad"),
            "{email} {path}: the centre's notes leak"
        );
        pages.insert((email, path.clone()), r.text);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    handover_tests::figure!("web guidance access table: {} cells", table.len());

    // What each sees: the counsellor writes, the centre reads without the forms.
    let mine = &pages[&(who::AGDER_COUNSELLOR, p.clone())];
    assert!(mine.contains(&format!("/guidance/{draft}\"")), "the draft");
    assert!(
        mine.contains(&format!("/guidance/{final_sid}\"")),
        "the final"
    );
    assert!(mine.contains("integreringsloven § 11"), "the § 11 notice");
    let centre = &pages[&(who::KRS_STAFF, format!("/guidance/{draft}"))];
    assert!(!centre.contains(&format!("/guidance/{draft}/edit")));
    assert!(!centre.contains("/delete\""));
    let counsellor_final = &pages[&(who::AGDER_COUNSELLOR, format!("/guidance/{final_sid}"))];
    assert!(!counsellor_final.contains(&format!("/guidance/{final_sid}/edit")));
    // A draft is open, so the final is not offered for superseding meanwhile.
    assert!(!counsellor_final.contains("/supersede\""));
    assert!(counsellor_final.contains(&format!("/guidance/{draft}\"")));

    // The record links to the guidance for the roles that may read it.
    for email in [who::AGDER_COUNSELLOR, who::KRS_STAFF] {
        let r = sessions
            .get_mut(email)
            .unwrap()
            .get(&format!("/participants/{krs}"))
            .await;
        assert_eq!(r.status, 200);
        assert!(
            r.text.contains(&format!("/participants/{krs}/guidance\"")),
            "{email}"
        );
    }
    // A counsellor reaches the participant from the start page: the list, then the record.
    let agder = sessions.get_mut(who::AGDER_COUNSELLOR).unwrap();
    let start = agder.get("/").await;
    assert!(start.text.contains("href=\"/participants\""));
    assert!(
        start.text.contains("href=\"/catalogue\""),
        "nav to the catalogue"
    );
    let list = agder.get("/participants?name=Tilgangstest").await;
    assert_eq!(list.status, 200);
    assert!(list.text.contains(&format!("/participants/{krs}\"")));
    let op = sessions
        .get_mut(who::OPERATOR_ADMIN)
        .unwrap()
        .get("/")
        .await;
    assert!(op.text.contains("href=\"/catalogue\""), "operator nav");
    let cat = &pages[&(who::OPERATOR_ADMIN, "/catalogue".to_owned())];
    assert!(cat.contains("href=\"/catalogue/new\""));
    let cat = &pages[&(who::AGDER_COUNSELLOR, "/catalogue".to_owned())];
    assert!(!cat.contains("href=\"/catalogue/new\""));

    // Posts by those who may not: nothing changes.
    let before = count(&app, "SELECT count(*)::int8 FROM guidance_summaries").await;
    let form = editor_fields(Some("1"));
    let mut trd = signed_in(&app, who::TRD_COUNSELLOR).await;
    assert_eq!(
        trd.post_form(&format!("/guidance/{draft}/edit"), &pairs(&form))
            .await
            .status,
        404
    );
    assert_eq!(
        trd.post_form(&format!("{p}/new"), &pairs(&form))
            .await
            .status,
        404
    );
    assert_eq!(
        trd.post_form(&format!("/guidance/{final_sid}/supersede"), &[])
            .await
            .status,
        404
    );
    let staff = sessions.get_mut(who::KRS_STAFF).unwrap();
    assert_eq!(
        staff
            .post_form(&format!("/guidance/{draft}/edit"), &pairs(&form))
            .await
            .status,
        403
    );
    assert_eq!(
        staff
            .post_form(
                &format!("/guidance/{draft}/finalise"),
                &[("version", "1"), ("confirm", "yes")]
            )
            .await
            .status,
        403
    );
    assert_eq!(
        staff
            .post_form(&format!("/guidance/{draft}/delete"), &[("version", "1")])
            .await
            .status,
        403
    );
    assert_eq!(
        count(&app, "SELECT count(*)::int8 FROM guidance_summaries").await,
        before
    );
    let o = offering.to_string();
    let retired = "SELECT count(*)::int8 FROM catalogue_offerings WHERE retired_at IS NOT NULL";
    let retired_before = count(&app, retired).await;
    let offerings_before = count(&app, "SELECT count(*)::int8 FROM catalogue_offerings").await;
    for email in [who::AGDER_COUNSELLOR, who::KRS_ADMIN] {
        let mut w = signed_in(&app, email).await;
        assert_eq!(
            w.post_form(&format!("/catalogue/{o}/retire"), &[("version", "1")])
                .await
                .status,
            403
        );
        assert_eq!(
            w.post_form("/catalogue/new", &[("key", "x")]).await.status,
            403
        );
    }
    assert_eq!(count(&app, retired).await, retired_before);
    assert_eq!(
        count(&app, "SELECT count(*)::int8 FROM catalogue_offerings").await,
        offerings_before
    );
}

// ---------------------------------------------------------------------------------------------
// HTTP: the whole task, bad input and concurrent changes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_counsellor_writes_builds_finalises_and_supersedes_over_plain_http() {
    let app = spawn_app().await;
    let pid = krs_participant(&app, "Skjematest", true).await;
    let mut w = signed_in(&app, who::AGDER_COUNSELLOR).await;
    let new = format!("/participants/{pid}/guidance/new");

    // Bad input: each message beside its field, nothing saved.
    let base = editor_fields(None);
    let r = w
        .post_form(
            &new,
            &pairs(&with(&base, &[("sessions_date_0", "31.02.2026")])),
        )
        .await;
    r.assert_invalid(&["sessions_date_0"], "impossible date");
    let r = w
        .post_form(
            &new,
            &pairs(&with(&base, &[("sessions_date_0", &ahead(5))])),
        )
        .await;
    r.assert_invalid(&["sessions_date_0"], "a session in the future");
    let r = w
        .post_form(
            &new,
            &pairs(&with(&base, &[("sessions_interpreter_used_0", "yes")])),
        )
        .await;
    r.assert_invalid(
        &["sessions_interpreter_language_0"],
        "interpreter without language",
    );
    let r = w
        .post_form(
            &new,
            &pairs(&with(
                &base,
                &[
                    ("sessions_kind_0", "telepathy"),
                    ("interests", &"x".repeat(2100)),
                ],
            )),
        )
        .await;
    r.assert_invalid(&["sessions_kind_0", "interests"], "bad kind and long text");
    assert!(
        r.text.contains("Bygg og anlegg") || r.text.contains("Snekker"),
        "typed kept"
    );
    let r = w
        .post_with(&new, &pairs(&base), Field::Right, Field::Missing)
        .await;
    assert_eq!(r.status, 403, "no CSRF token");
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*)::int8 FROM guidance_summaries WHERE participant_id = '{pid}'"
            )
        )
        .await,
        0
    );

    // A draft.
    let r = w.post_form(&new, &pairs(&base)).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let sid: Uuid = r
        .location()
        .strip_prefix("/guidance/")
        .and_then(|s| s.split('?').next())
        .unwrap()
        .parse()
        .unwrap();
    let view = w.get(&format!("/guidance/{sid}")).await;
    assert_eq!(view.status, 200);
    assert!(view.text.contains("Snekker i ti år."));

    // The pathway: add a step that usually needs B1, for a participant at A2.
    let pw = format!("/guidance/{sid}/pathway");
    let page = w.get(&pw).await;
    let version = hidden(&page.text, "version").unwrap();
    let fagbrev = offering_id("fagbrev-pa-jobb");
    let r = w
        .post_form(
            &pw,
            &[("version", &version), ("op", &format!("add:{fagbrev}"))],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = w.get(&pw).await;
    assert!(
        page.text.contains("id=\"warnings\""),
        "level warning: {}",
        page.text
    );
    assert!(page.text.contains("B1") && page.text.contains("A2"));
    let version = hidden(&page.text, "version").unwrap();
    // Unknown offering, unknown operation, a step that is not there.
    let r = w
        .post_form(
            &pw,
            &[
                ("version", &version),
                ("pathway_offering_id_0", &fagbrev.to_string()),
                ("pathway_reason_0", ""),
                ("op", &format!("add:{}", Uuid::now_v7())),
            ],
        )
        .await;
    r.assert_invalid(&["pathway_offering_id_1"], "unknown offering");
    for op in ["explode", "up:0", "down:0", "remove:7", "add:zzz"] {
        let r = w
            .post_form(
                &pw,
                &[
                    ("version", &version),
                    ("pathway_offering_id_0", &fagbrev.to_string()),
                    ("op", op),
                ],
            )
            .await;
        assert_eq!(r.status, 400, "op {op}: {}", r.text);
    }
    // Add a second step, write reasons, move it up.
    let amo = offering_id("arbeidstrening");
    let r = w
        .post_form(
            &pw,
            &[
                ("version", &version),
                ("pathway_offering_id_0", &fagbrev.to_string()),
                ("pathway_reason_0", "Har lang erfaring som snekker."),
                ("op", &format!("add:{amo}")),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = w.get(&pw).await;
    let version = hidden(&page.text, "version").unwrap();
    assert!(
        page.text.contains("Har lang erfaring som snekker."),
        "reason kept"
    );
    let r = w
        .post_form(
            &pw,
            &[
                ("version", &version),
                ("pathway_offering_id_0", &fagbrev.to_string()),
                ("pathway_reason_0", "Har lang erfaring som snekker."),
                ("pathway_offering_id_1", &amo.to_string()),
                ("pathway_reason_1", "Norsk på arbeidsplassen først."),
                ("op", "up:1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let view = w.get(&format!("/guidance/{sid}")).await;
    let (a, b) = (
        view.text.find("Norsk på arbeidsplassen først.").unwrap(),
        view.text.find("Har lang erfaring som snekker.").unwrap(),
    );
    assert!(a < b, "moved up");

    // A stale version: the conflict, with what was typed kept.
    let page = w.get(&format!("/guidance/{sid}/edit")).await;
    let old = hidden(&page.text, "version").unwrap();
    let t = w
        .post_form(
            &format!("/guidance/{sid}/edit"),
            &pairs(&with(
                &editor_fields(Some(&old)),
                &[("interests", "Mine interesser.")],
            )),
        )
        .await;
    assert_eq!(t.status, 303, "{}", t.text);
    let r = w
        .post_form(
            &format!("/guidance/{sid}/edit"),
            &pairs(&with(
                &editor_fields(Some(&old)),
                &[("interests", "Noe annet skrevet.")],
            )),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.text.contains("id=\"conflict\""));
    assert!(r.text.contains("Noe annet skrevet."), "typed kept");
    assert!(r.text.contains("Mine interesser."), "saved shown");
    assert_ne!(
        hidden(&r.text, "version").unwrap(),
        old,
        "the new version to save over"
    );
    let stale_pw = w.post_form(&pw, &[("version", &old), ("op", "save")]).await;
    assert_eq!(stale_pw.status, 409, "pathway conflict");

    // Finalise: the confirmation is needed.
    let fin = format!("/guidance/{sid}/finalise");
    let page = w.get(&fin).await;
    assert_eq!(page.status, 200);
    let version = hidden(&page.text, "version").unwrap();
    let r = w.post_form(&fin, &[("version", &version)]).await;
    r.assert_invalid(&["confirm"], "no confirmation");
    let r = w
        .post_form(&fin, &[("version", "x"), ("confirm", "yes")])
        .await;
    assert_eq!(r.status, 400);
    let r = w
        .post_form(&fin, &[("version", &version), ("confirm", "yes")])
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let view = w.get(&format!("/guidance/{sid}")).await;
    assert!(view.text.contains("/supersede\""), "may supersede");
    assert!(
        !view.text.contains(&format!("/guidance/{sid}/edit")),
        "read-only"
    );
    assert_eq!(
        w.get(&format!("/guidance/{sid}/finalise")).await.status,
        409
    );
    let r = w
        .post_form(
            &format!("/guidance/{sid}/edit"),
            &pairs(&editor_fields(Some(&version))),
        )
        .await;
    assert_eq!(r.status, 409, "a final summary is not changed");

    // Supersede: a new draft with the content, the chain visible both ways.
    let r = w
        .post_form(&format!("/guidance/{sid}/supersede"), &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let next: Uuid = r
        .location()
        .strip_prefix("/guidance/")
        .and_then(|s| s.split('/').next())
        .unwrap()
        .parse()
        .unwrap();
    let list = w.get(&format!("/participants/{pid}/guidance")).await;
    assert!(
        list.text.contains("Erstatter oppsummeringen fra"),
        "{}",
        list.text
    );
    let page = w.get(&format!("/guidance/{next}/finalise")).await;
    let version = hidden(&page.text, "version").unwrap();
    let r = w
        .post_form(
            &format!("/guidance/{next}/finalise"),
            &[("version", &version), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let old_view = w.get(&format!("/guidance/{sid}")).await;
    assert!(old_view.text.contains("Erstattet av oppsummeringen fra"));
    let new_view = w.get(&format!("/guidance/{next}")).await;
    assert!(new_view.text.contains("Erstatter oppsummeringen fra"));

    // Unknown ids are pages that do not exist.
    for path in [
        "/guidance/not-an-id".to_owned(),
        format!("/guidance/{}", Uuid::now_v7()),
        format!("/guidance/{}/edit", Uuid::now_v7()),
        format!("/participants/{}/guidance", Uuid::now_v7()),
        format!("/participants/{}/guidance/new", Uuid::now_v7()),
        format!("/catalogue/{}", Uuid::now_v7()),
        "/catalogue/nonsense/versions".to_owned(),
    ] {
        let r = w.get(&path).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(r.is_page());
    }
    let r = w
        .post_form(
            &format!("/guidance/{}/delete", Uuid::now_v7()),
            &[("version", "1")],
        )
        .await;
    assert_eq!(r.status, 404);
    // Catalogue filters that are no filters.
    let r = w.get("/catalogue?group=telepathy").await;
    r.assert_invalid(&["group"], "unknown group");
    let r = w.get(&format!("/catalogue?q={}", "a".repeat(101))).await;
    r.assert_invalid(&["q"], "long search");
    let r = w.get(&format!("/guidance/{next}/pathway")).await;
    assert_eq!(r.status, 409, "final");
}

#[tokio::test]
async fn the_operator_manages_the_catalogue_over_plain_http() {
    let app = spawn_app().await;
    let mut op = signed_in(&app, who::OPERATOR_ADMIN).await;
    let good: Vec<(String, String)> = [
        ("key", "test-tilbud"),
        ("group", "work_and_education_programmes"),
        ("responsible_actor", "municipality"),
        ("min_cefr", "A2"),
        ("name_nb", "Testtilbud"),
        ("name_en", "Test offering"),
        ("description_nb", "Et tilbud for testen."),
        ("description_en", "An offering for the test."),
        ("legal_basis", "Integreringsloven § 12."),
        ("financing", "Kommunen."),
        ("livelihood", "Introduksjonsstønad."),
        ("typical_duration", "6 måneder"),
        ("prerequisites_text", "Ingen."),
        ("info_url", "https://www.imdi.no/"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let r = op
        .post_form(
            "/catalogue/new",
            &pairs(&with(
                &good,
                &[
                    ("key", "Not A Slug"),
                    ("info_url", "http://x"),
                    ("group", ""),
                    ("min_cefr", "Z9"),
                ],
            )),
        )
        .await;
    r.assert_invalid(&["key", "group", "min_cefr", "info_url"], "bad offering");
    let r = op
        .post_form(
            "/catalogue/new",
            &pairs(&with(&good, &[("key", "fagbrev-pa-jobb")])),
        )
        .await;
    r.assert_invalid(&["key"], "key taken");
    let r = op
        .post_with(
            "/catalogue/new",
            &pairs(&good),
            Field::Right,
            Field::Missing,
        )
        .await;
    assert_eq!(r.status, 403);
    let r = op.post_form("/catalogue/new", &pairs(&good)).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let id: Uuid = r
        .location()
        .strip_prefix("/catalogue/")
        .and_then(|s| s.split('?').next())
        .unwrap()
        .parse()
        .unwrap();
    let edit = format!("/catalogue/{id}/edit");
    let r = op
        .post_form(
            &edit,
            &pairs(&with(&good, &[("version", "1"), ("financing", "Staten.")])),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    // A stale version: the conflict, what was typed kept, what is saved shown.
    let r = op
        .post_form(
            &edit,
            &pairs(&with(&good, &[("version", "1"), ("financing", "Fylket.")])),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.text.contains("Fylket.") && r.text.contains("Staten."));
    let r = op
        .post_form(
            &edit,
            &pairs(&with(&good, &[("version", "2"), ("info_url", "ftp://x")])),
        )
        .await;
    r.assert_invalid(&["info_url"], "bad address");
    let r = op
        .post_form(&format!("/catalogue/{id}/retire"), &[("version", "2")])
        .await;
    assert_eq!(r.status, 303);
    let r = op
        .post_form(&format!("/catalogue/{id}/retire"), &[("version", "3")])
        .await;
    assert_eq!(r.status, 409, "already retired");
    let r = op
        .post_form(&format!("/catalogue/{id}/reinstate"), &[("version", "3")])
        .await;
    assert_eq!(r.status, 303);
    let r = op
        .post_form(&format!("/catalogue/{id}/reinstate"), &[("version", "x")])
        .await;
    assert_eq!(r.status, 400);
    let v = op.get(&format!("/catalogue/{id}/versions")).await;
    assert_eq!(v.status, 200);
    for n in 1..=4 {
        assert!(v.text.contains(&format!("<td>{n}</td>")), "version {n}");
    }
    assert!(v.text.contains("Finansiering"), "what changed");

    // Sources: a bad row is answered beside its fields; a good one is saved and shown, kept by
    // an edit that does not touch it, and removed when asked.
    let bad_source = [
        ("version", "4"),
        ("sources_rows", "2"),
        ("sources_title_0", "Nav: Tiltak"),
        ("sources_url_0", "http://www.nav.no/"),
        ("sources_checked_0", "32.13.2026"),
        ("sources_title_1", ""),
    ];
    let r = op.post_form(&edit, &pairs(&with(&good, &bad_source))).await;
    r.assert_invalid(
        &["sources_checked_0", "sources_url_0", "sources_fields_0"],
        "bad source",
    );
    let source = [
        ("version", "4"),
        ("sources_rows", "2"),
        ("sources_title_0", "IMDi: Introduksjonsprogrammet"),
        (
            "sources_url_0",
            "https://www.imdi.no/introduksjonsprogrammet/",
        ),
        ("sources_checked_0", "2026-11-30"),
        ("sources_fact_responsible_actor_0", "yes"),
        ("sources_fact_legal_basis_0", "yes"),
        ("sources_note_0", "Kommunen har ansvaret."),
    ];
    let r = op.post_form(&edit, &pairs(&with(&good, &source))).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = op.get(&format!("/catalogue/{id}")).await;
    assert!(
        page.text.contains("IMDi: Introduksjonsprogrammet"),
        "{}",
        page.text
    );
    assert!(page.text.contains("Kommunen har ansvaret."));
    assert!(
        page.text.contains("Ikke bekreftet"),
        "the facts no source supports"
    );
    let form = op.get(&edit).await;
    assert_eq!(hidden(&form.text, "sources_rows").as_deref(), Some("2"));
    assert!(
        form.text
            .contains("value=\"IMDi: Introduksjonsprogrammet\"")
    );
    let api = app.token(who::OPERATOR_ADMIN).await;
    let o = app
        .get(&format!("/api/v1/catalogue/offerings/{id}"), &api)
        .await;
    assert_eq!(
        o.body["sources"][0]["fields"],
        json!(["responsible_actor", "legal_basis"])
    );
    assert_eq!(o.body["sources"][0]["checked"], "2026-11-30");
    let r = op
        .post_form(
            &edit,
            &pairs(&with(
                &good,
                &[
                    &source[..],
                    &[("version", "5"), ("sources_remove_0", "yes")],
                ]
                .concat(),
            )),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let o = app
        .get(&format!("/api/v1/catalogue/offerings/{id}"), &api)
        .await;
    assert_eq!(o.body["sources"], json!([]), "removed");
}

#[tokio::test]
async fn a_retired_offering_is_shown_where_the_counsellor_decides_and_blocks_only_finalising() {
    let app = spawn_app().await;
    let pid = krs_participant(&app, "Utfasingstest", false).await;
    let (sid, _) = api_draft(
        &app,
        pid,
        &summary_body(&[
            ("jobbsjansen", "Passer godt."),
            ("arbeidstrening", "Praksis først."),
        ]),
    )
    .await;
    let jobbsjansen = offering_id("jobbsjansen");
    let mut op = signed_in(&app, who::OPERATOR_ADMIN).await;
    let page = op.get(&format!("/catalogue/{jobbsjansen}")).await;
    let version = hidden(&page.text, "version").unwrap();
    let r = op
        .post_form(
            &format!("/catalogue/{jobbsjansen}/retire"),
            &[("version", &version)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);

    let mut w = signed_in(&app, who::AGDER_COUNSELLOR).await;
    // The catalogue leaves it out unless asked for, and then says it is retired.
    let list = w.get("/catalogue?q=jobbsjansen").await;
    assert!(!list.text.contains(&format!("/catalogue/{jobbsjansen}\"")));
    let list = w.get("/catalogue?q=jobbsjansen&retired=yes").await;
    assert!(list.text.contains(&format!("/catalogue/{jobbsjansen}\"")));
    assert!(list.text.contains("Faset ut"));
    // The pathway shows the step as retired, with a warning; it cannot be added anew.
    let pw = format!("/guidance/{sid}/pathway");
    let page = w.get(&format!("{pw}?q=jobbsjansen&retired=yes")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("er faset ut av katalogen"),
        "{}",
        page.text
    );
    assert!(!page.text.contains(&format!("value=\"add:{jobbsjansen}\"")));
    let version = hidden(&page.text, "version").unwrap();
    let steps = [
        ("pathway_offering_id_0", jobbsjansen.to_string()),
        ("pathway_reason_0", "Passer godt.".to_owned()),
        (
            "pathway_offering_id_1",
            offering_id("arbeidstrening").to_string(),
        ),
        ("pathway_reason_1", "Praksis først.".to_owned()),
    ];
    let mut fields: Vec<(&str, &str)> = steps.iter().map(|(k, v)| (*k, v.as_str())).collect();
    fields.push(("version", &version));
    fields.push(("op", "save"));
    // Keeping it cannot be saved: the message is beside the step.
    let r = w.post_form(&pw, &fields).await;
    r.assert_invalid(&["pathway_offering_id_0"], "a retired step");
    // Finalising lists it, linked to the step.
    let fin = w.get(&format!("/guidance/{sid}/finalise")).await;
    assert!(
        fin.text
            .contains(&format!("/guidance/{sid}/pathway#pathway_offering_id_0"))
    );
    // Removing it saves.
    fields.pop();
    fields.push(("op", "remove:0"));
    let r = w.post_form(&pw, &fields).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = w.get(&pw).await;
    assert!(!page.text.contains("er faset ut av katalogen"));
    let fin = w.get(&format!("/guidance/{sid}/finalise")).await;
    assert!(
        fin.text.contains("Alt som trengs er fylt ut."),
        "{}",
        fin.text
    );
}

// ---------------------------------------------------------------------------------------------
// Browser
// ---------------------------------------------------------------------------------------------

/// Checks the page's frame and runs axe on it; a screenshot when named.
async fn check(b: &Browser, lang: &str, shot: &str) {
    assert_eq!(b.lang().await, lang, "{}", b.path().await);
    assert!(b.has("main h1").await, "{}: no heading", b.path().await);
    b.assert_accessible().await;
    if !shot.is_empty() {
        b.screenshot(&format!("{shot}-{lang}")).await;
    }
}

async fn click_css(b: &Browser, css: &str) {
    let at = b.path().await;
    b.client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("nothing matches {css} at {at}: {e}"))
        .click()
        .await
        .expect("click");
}

/// Waits until the body holds `text`.
async fn wait_text(b: &Browser, text: &str) {
    b.wait_for(|| async { text_of(b, "body").await.contains(text) }, text)
        .await;
}

/// The text of the first element matching `css` (empty when none), read in one script call so
/// that a page being replaced cannot leave a stale element behind.
async fn text_of(b: &Browser, css: &str) -> String {
    for _ in 0..50 {
        if let Ok(v) = b
            .client
            .execute(
                "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
                vec![json!(css)],
            )
            .await
        {
            return v.as_str().unwrap_or_default().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no text of {css} at {}", b.path().await);
}

/// A counsellor's whole task in one browser: from the start page to the participant, a new
/// summary, the pathway with a level warning, finalising and superseding.
async fn counsellor_task(app: &TestApp, b: &Browser, lang: &str, family: &str) {
    let pid = krs_participant(app, family, true).await;
    b.goto("/").await;
    b.use_lang(lang).await;
    let t = |nb: &'static str, en: &'static str| if lang == "nb" { nb } else { en };
    // From the start page through the list to the record and its guidance.
    b.click_text(t("Deltakere", "Participants")).await;
    b.wait_path("/participants").await;
    b.fill("name", family).await;
    b.submit("name").await;
    b.wait_for(
        || async { b.has(&format!("a[href='/participants/{pid}']")).await },
        "the participant in the list",
    )
    .await;
    click_css(b, &format!("a[href='/participants/{pid}']")).await;
    b.wait_path(&format!("/participants/{pid}")).await;
    click_css(
        b,
        &format!("section a[href='/participants/{pid}/guidance']"),
    )
    .await;
    b.wait_path(&format!("/participants/{pid}/guidance")).await;
    check(b, lang, if lang == "nb" { "guidance-empty" } else { "" }).await;
    b.click_text(t("Skriv en ny oppsummering", "Write a new summary"))
        .await;
    b.wait_path(&format!("/participants/{pid}/guidance/new"))
        .await;
    // The editor says unmistakably what kind of guidance this is.
    assert!(
        text_of(b, "main h1")
            .await
            .contains(t("ikke § 11", "not section 11"))
    );
    assert!(
        text_of(b, "#not-section-11")
            .await
            .contains(t("§ 11", "section 11"))
    );
    check(b, lang, "").await;
    // A mistake first: an interpreter without a language.
    b.fill("sessions_date_0", &dmy(ago(10))).await;
    b.choose("sessions_kind_0", "group").await;
    b.fill(
        "sessions_topic_0",
        t("Utdanning i Norge", "Education in Norway"),
    )
    .await;
    click_css(b, "#sessions_interpreter_used_0").await;
    b.fill("goals_short_term", t("Arbeidstrening", "Work practice"))
        .await;
    b.fill(
        "covered",
        t("Fagopplæring for voksne", "Vocational training for adults"),
    )
    .await;
    b.fill(
        "left_for_section_11",
        t(
            "Plan for fagbrev etter bosetting",
            "A plan for a trade certificate after settlement",
        ),
    )
    .await;
    b.submit("covered").await;
    b.wait_for(
        || async { b.has("#sessions_interpreter_language_0-error").await },
        "error",
    )
    .await;
    assert!(b.has(".ds-error-summary").await);
    check(b, lang, if lang == "nb" { "guidance-errors" } else { "" }).await;
    b.fill("sessions_interpreter_language_0", "ti").await;
    b.submit("covered").await;
    b.wait_for(
        || async { b.path().await.starts_with("/guidance/") },
        "the saved draft",
    )
    .await;
    wait_text(
        b,
        t("Fagopplæring for voksne", "Vocational training for adults"),
    )
    .await;
    check(b, lang, "").await;

    // The pathway: browse a group, add a step that usually needs B1 (the participant has A2).
    b.click_text(t(
        "Sett sammen kvalifiseringsløpet",
        "Put together the qualification pathway",
    ))
    .await;
    b.wait_path("/guidance/").await;
    b.choose("group", "adult_secondary_education").await;
    b.submit("q").await;
    b.wait_for(
        || async { b.path().await.contains("group=adult_secondary_education") },
        "filtered",
    )
    .await;
    check(b, lang, "").await;
    let fagbrev = offering_id("fagbrev-pa-jobb");
    click_css(b, &format!("button[value='add:{fagbrev}']")).await;
    b.wait_for(|| async { b.has("#warnings").await }, "the level warning")
        .await;
    let w = text_of(b, "#warnings").await;
    assert!(w.contains("B1") && w.contains("A2"), "{w}");
    b.client
        .execute("window.scrollTo(0, 0); return true;", vec![])
        .await
        .expect("scroll");
    check(b, lang, "pathway").await;
    // A second step, found by searching, then moved first.
    b.fill("q", "arbeidstrening").await;
    b.choose("group", "").await;
    b.submit("q").await;
    let arbeid = offering_id("arbeidstrening");
    b.wait_for(
        || async { b.has(&format!("button[value='add:{arbeid}']")).await },
        "search result",
    )
    .await;
    b.fill(
        "pathway_reason_0",
        t(
            "Lang erfaring som snekker",
            "Long experience as a carpenter",
        ),
    )
    .await;
    click_css(b, &format!("button[value='add:{arbeid}']")).await;
    b.wait_for(|| async { b.has("#pathway_reason_1").await }, "second step")
        .await;
    assert_eq!(
        b.client
            .find(Locator::Id("pathway_reason_0"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default(),
        t(
            "Lang erfaring som snekker",
            "Long experience as a carpenter"
        ),
        "the typed reason kept when adding"
    );
    b.fill(
        "pathway_reason_1",
        t("Norsk på arbeidsplassen", "Norwegian at work"),
    )
    .await;
    click_css(b, "button[value='up:1']").await;
    b.wait_for(
        || async { b.path().await.contains("done=step_moved") },
        "moved",
    )
    .await;
    assert!(
        !b.has("#warnings").await,
        "the first step needs no level now"
    );
    check(b, lang, "").await;
    click_css(b, "#save-pathway").await;
    b.wait_for(|| async { b.path().await.contains("done=saved") }, "saved")
        .await;

    // Finalise, with the confirmation.
    b.goto(&format!("/participants/{pid}/guidance")).await;
    b.click_text(t("Fortsett på utkastet", "Continue the draft"))
        .await;
    b.wait_path("/guidance/").await;
    b.click_text(t("Ferdigstill oppsummeringen", "Finalise the summary"))
        .await;
    b.wait_path("/guidance/").await;
    wait_text(
        b,
        t(
            "Alt som trengs er fylt ut.",
            "Everything needed is filled in.",
        ),
    )
    .await;
    check(b, lang, "guidance-finalise").await;
    b.submit("confirm").await;
    b.wait_for(
        || async { b.has("#confirm-error").await },
        "confirmation needed",
    )
    .await;
    click_css(b, "#confirm").await;
    b.submit("confirm").await;
    wait_text(
        b,
        t("Oppsummeringen er ferdigstilt.", "The summary is final."),
    )
    .await;
    assert_eq!(
        text_of(b, "#summary-status").await,
        t("Ferdigstilt", "Final")
    );
    assert!(!b.has("a[href$='/edit']").await, "read-only");
    check(b, lang, "guidance-final").await;

    // Supersede: a new draft, and the chain said on both.
    let first = b.path().await;
    b.click_text(t(
        "Skriv en ny oppsummering som erstatter denne",
        "Write a new summary that supersedes this one",
    ))
    .await;
    b.wait_for(
        || async { b.path().await.contains("/edit") },
        "the new draft",
    )
    .await;
    assert_eq!(
        b.client
            .find(Locator::Id("covered"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default(),
        t("Fagopplæring for voksne", "Vocational training for adults"),
        "content copied"
    );
    check(b, lang, "").await;
    let draft = b.path().await;
    let draft = draft.split("/edit").next().unwrap_or_default().to_owned();
    b.goto(&format!("/participants/{pid}/guidance")).await;
    wait_text(
        b,
        t("Erstatter oppsummeringen fra", "Supersedes the summary of"),
    )
    .await;
    check(b, lang, "guidance-list").await;
    b.goto(&draft).await;
    assert!(
        text_of(b, "#chain")
            .await
            .contains(t("Erstatter", "Supersedes"))
    );
    check(b, lang, "").await;
    b.goto(first.split('?').next().unwrap_or(&first)).await;
    assert_eq!(
        text_of(b, "#summary-status").await,
        t("Ferdigstilt", "Final")
    );
}

/// `24.12.2026` from `2026-12-24`.
fn dmy(iso: String) -> String {
    let p: Vec<&str> = iso.split('-').collect();
    format!("{}.{}.{}", p[2], p[1], p[0])
}

#[tokio::test]
async fn a_counsellor_writes_builds_finalises_and_supersedes_in_the_browser() {
    let app = spawn_app().await;
    let Some(b) = Browser::start(&app, Js::On).await else {
        return;
    };
    b.sign_in(who::AGDER_COUNSELLOR).await;
    counsellor_task(&app, &b, "nb", "Nettleserveiledning").await;
    counsellor_task(&app, &b, "en", "Browserguidance").await;
    b.close().await;
}

#[tokio::test]
async fn the_summary_editor_and_pathway_work_without_javascript() {
    let app = spawn_app().await;
    let Some(b) = Browser::start(&app, Js::Off).await else {
        return;
    };
    b.sign_in(who::AGDER_COUNSELLOR).await;
    for lang in ["nb", "en"] {
        let pid = krs_participant(&app, &format!("Utenskript{lang}"), true).await;
        b.goto(&format!("/participants/{pid}/guidance/new")).await;
        b.use_lang(lang).await;
        b.fill("sessions_date_0", "31.02.2026").await;
        b.fill("sessions_topic_0", "Tema").await;
        b.submit("covered").await;
        b.wait_for(
            || async { b.has("#sessions_date_0-error").await },
            "date error",
        )
        .await;
        assert!(b.has("#sessions_kind_0-error").await, "kind error");
        b.fill("sessions_date_0", &dmy(ago(2))).await;
        b.choose("sessions_kind_0", "individual").await;
        b.fill("covered", "Dekket").await;
        b.fill("left_for_section_11", "Gjenstår").await;
        b.fill("goals_long_term", "Mål").await;
        b.submit("covered").await;
        b.wait_for(|| async { b.has("#summary-status").await }, "saved")
            .await;
        let sid = b.path().await;
        let sid = sid
            .trim_start_matches("/guidance/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        b.goto(&format!(
            "/guidance/{sid}/pathway?group=adult_secondary_education"
        ))
        .await;
        let fagbrev = offering_id("fagbrev-pa-jobb");
        click_css(&b, &format!("button[value='add:{fagbrev}']")).await;
        b.wait_for(|| async { b.has("#pathway_reason_0").await }, "step")
            .await;
        assert!(b.has("#warnings").await, "level warning without script");
        b.fill("pathway_reason_0", "Begrunnelse").await;
        click_css(&b, "#save-pathway").await;
        b.wait_for(
            || async { b.path().await.contains("done=saved") },
            "saved pathway",
        )
        .await;
        b.goto(&format!("/guidance/{sid}/finalise")).await;
        click_css(&b, "#confirm").await;
        b.submit("confirm").await;
        b.wait_for(
            || async { b.has("#summary-status").await && b.path().await.contains("finalised") },
            "final",
        )
        .await;
    }
    b.close().await;
}

#[tokio::test]
async fn the_operator_adds_changes_retires_and_reinstates_an_offering_in_the_browser() {
    let app = spawn_app().await;
    let Some(b) = Browser::start(&app, Js::On).await else {
        return;
    };
    b.sign_in(who::OPERATOR_ADMIN).await;
    for lang in ["nb", "en"] {
        let t = |nb: &'static str, en: &'static str| if lang == "nb" { nb } else { en };
        b.goto("/").await;
        b.use_lang(lang).await;
        b.click_text(t("Katalog", "Catalogue")).await;
        b.wait_path("/catalogue").await;
        check(&b, lang, "catalogue").await;
        b.click_text(t("Nytt tilbud", "New offering")).await;
        b.wait_path("/catalogue/new").await;
        check(&b, lang, "").await;
        let key = format!("nettlesertilbud-{lang}");
        b.fill("key", "Ugyldig nøkkel").await;
        b.fill("name_nb", "Nettlesertilbud").await;
        b.fill("info_url", "http://usikker.example").await;
        b.submit("key").await;
        b.wait_for(|| async { b.has("#key-error").await }, "errors")
            .await;
        assert!(b.has("#info_url-error").await && b.has("#group-error").await);
        check(&b, lang, if lang == "nb" { "catalogue-errors" } else { "" }).await;
        b.fill("key", &key).await;
        b.choose("group", "work_and_education_programmes").await;
        b.choose("responsible_actor", "municipality").await;
        b.choose("min_cefr", "B1").await;
        b.fill("name_en", "Browser offering").await;
        for f in [
            "description_nb",
            "description_en",
            "legal_basis",
            "financing",
            "livelihood",
        ] {
            b.fill(f, "Tekst").await;
        }
        b.fill("typical_duration", "1 år").await;
        b.fill("info_url", "https://www.imdi.no/").await;
        click_css(&b, "#uncertain_financing").await;
        b.submit("key").await;
        b.wait_for(|| async { b.has("#offering-state").await }, "created")
            .await;
        check(
            &b,
            lang,
            if lang == "nb" {
                "catalogue-offering"
            } else {
                ""
            },
        )
        .await;
        // Change it.
        b.click_text(t("Endre tilbudet", "Change the offering"))
            .await;
        b.wait_path("/catalogue/").await;
        check(&b, lang, "").await;
        b.fill("financing", "Staten betaler").await;
        b.submit("financing").await;
        wait_text(&b, "Staten betaler").await;
        // Retire, reinstate.
        b.click_text(t("Fase ut tilbudet", "Retire the offering"))
            .await;
        wait_text(&b, t("Tilbudet er faset ut.", "The offering is retired.")).await;
        assert_eq!(
            text_of(&b, "#offering-state").await,
            t("Faset ut", "Retired")
        );
        check(&b, lang, "").await;
        b.click_text(t("Ta tilbudet i bruk igjen", "Reinstate the offering"))
            .await;
        wait_text(
            &b,
            t(
                "Tilbudet er tatt i bruk igjen.",
                "The offering is reinstated.",
            ),
        )
        .await;
        assert_eq!(text_of(&b, "#offering-state").await, t("I bruk", "In use"));
        // Its versions.
        b.click_text(t("Versjoner", "Versions")).await;
        b.wait_for(
            || async { b.path().await.ends_with("/versions") },
            "versions",
        )
        .await;
        let body = text_of(&b, "body").await;
        assert!(
            body.contains(t("Første versjon", "First version")),
            "{body}"
        );
        assert_eq!(
            b.client
                .find_all(Locator::Css("main tbody tr"))
                .await
                .unwrap()
                .len(),
            4,
            "created, changed, retired, reinstated"
        );
        check(
            &b,
            lang,
            if lang == "nb" {
                "catalogue-versions"
            } else {
                ""
            },
        )
        .await;
    }
    b.close().await;
}
