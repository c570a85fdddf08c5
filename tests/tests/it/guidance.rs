#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

//! Career-guidance summaries: access, the counsellor's write-and-finalise flow, the § 11
//! boundary, immutability and superseding, concurrency, retired offerings, level warnings and
//! audit.

use handover_db::guidance::offering_id;
use handover_domain::guidance::{GUIDANCE_NOTICE_EN, GUIDANCE_NOTICE_NB};
use handover_tests::etag;
use handover_tests::{Res, TestApp, spawn_app, who};
use handover_tests::{ago, ahead, id_of, new_duf};
use handover_tests::{assert_invalid, call, field_errors};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;

const OFFERINGS: &str = "/api/v1/catalogue/offerings";

/// A pathway towards nursing, none of whose first step needs a Norwegian level.
const NURSE: [(&str, &str); 3] = [
    (
        "godkjenning-utenlandsk-utdanning",
        "Har sykepleierutdanning med vitnemål; søke godkjenning først.",
    ),
    (
        "kompletterende-utdanning",
        "Trenger trolig tillegg for å få autorisasjon.",
    ),
    (
        "autorisasjon-lovregulerte-yrker",
        "Målet er autorisasjon som sykepleier.",
    ),
];

/// A pathway whose first step needs B2 in every skill.
const UNIVERSITY: [(&str, &str); 2] = [
    (
        "opptak-hoyere-utdanning-norskkrav",
        "Ønsker mastergrad; må dokumentere norsk på B2.",
    ),
    ("lanekassen-stotte", "Trenger stipend og lån under studiet."),
];

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn summaries(pid: &str) -> String {
    format!("/api/v1/participants/{pid}/guidance-summaries")
}

fn summary(sid: &str) -> String {
    format!("/api/v1/guidance-summaries/{sid}")
}

fn warnings(s: &Value) -> Vec<(String, Option<i64>)> {
    s["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("no warnings: {s}"))
        .iter()
        .map(|w| {
            assert!(!w["message"].as_str().unwrap_or_default().is_empty(), "{w}");
            (w["code"].as_str().unwrap().to_owned(), w["step"].as_i64())
        })
        .collect()
}

fn list(r: &Res) -> Vec<Value> {
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", r.text))
        .clone()
}

/// Every summary says what kind of guidance it is, and that it is not § 11 guidance.
fn assert_reception_centre_guidance(s: &Value) {
    assert_eq!(s["guidance_kind"], "reception_centre_guidance", "{s}");
    assert_eq!(s["guidance_notice_nb"], GUIDANCE_NOTICE_NB);
    assert_eq!(s["guidance_notice_en"], GUIDANCE_NOTICE_EN);
    assert!(GUIDANCE_NOTICE_NB.contains("§ 11") && GUIDANCE_NOTICE_EN.contains("section 11"));
}

fn participant_body(duf: &str) -> Value {
    json!({
        "given_name": "Selam",
        "family_name": "Tesfamariam",
        "date_of_birth": "1991-03-14",
        "duf_number": duf,
        "languages": [
            { "language": "ti", "level": "native" },
            { "language": "en", "level": "basic" }
        ],
        "interpreter_language": "ti",
        "arrival_date": ago(120),
        "programme_start": ago(110),
        "status": "in_programme",
        "notes": ""
    })
}

/// A new participant at the Kristiansand reception centre (served by the Agder career centre).
async fn krs_participant(app: &TestApp) -> String {
    let staff = app.token(who::KRS_STAFF).await;
    let r = app
        .post(
            "/api/v1/participants",
            Some(&staff),
            &participant_body(&new_duf()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    id_of(&r)
}

/// Records Norwegian levels (skill, CEFR) as Kristiansand staff, creating or replacing them.
async fn set_levels(app: &TestApp, pid: &str, levels: &[(&str, &str)]) {
    let staff = app.token(who::KRS_STAFF).await;
    let path = format!("/api/v1/participants/{pid}/norwegian-training");
    let current = app.get(&path, &staff).await;
    let tag = (current.status == 200).then(|| etag(&current));
    let body = json!({
        "levels": levels
            .iter()
            .map(|(s, l)| json!({ "skill": s, "level": l, "assessed_on": ago(10) }))
            .collect::<Vec<_>>(),
        "tests": [],
        "course_hours_planned": 300,
        "course_hours_attended": 260
    });
    let r = call(
        app,
        Method::PUT,
        &path,
        Some(&staff),
        Some(&body),
        tag.as_deref(),
    )
    .await;
    assert!(
        r.status == 200 || r.status == 201,
        "levels {levels:?}: {}",
        r.text
    );
}

fn all_skills(level: &str) -> Vec<(&'static str, &str)> {
    ["listening", "reading", "writing", "oral"]
        .into_iter()
        .map(|s| (s, level))
        .collect()
}

fn pathway(steps: &[(&str, &str)]) -> Value {
    json!(
        steps
            .iter()
            .map(|(k, reason)| json!({ "offering_id": offering_id(k), "reason": reason }))
            .collect::<Vec<_>>()
    )
}

/// A complete summary: it can be finalised as it is.
fn summary_body(steps: &[(&str, &str)]) -> Value {
    json!({
        "sessions": [
            {
                "date": ago(21),
                "kind": "group",
                "topic": "Utdanning og arbeidsliv i Norge",
                "interpreter_used": true,
                "interpreter_language": "ti"
            },
            {
                "date": ago(7),
                "kind": "individual",
                "topic": "Egne mål og muligheter",
                "interpreter_used": false,
                "interpreter_language": null
            }
        ],
        "interests": "Helse og omsorg, praktisk arbeid med mennesker.",
        "strengths": "Stabil, motivert og god til å samarbeide.",
        "experience": "Fem år som sykepleier i Eritrea.",
        "goals_short_term": "Bestå Norskprøven muntlig på B1.",
        "goals_long_term": "Arbeide som sykepleier i Norge.",
        "pathway": pathway(steps),
        "covered": "Utdanningssystemet, godkjenning av utdanning og egne mål.",
        "left_for_section_11": "Konkret utdanningsplan og valg av opplæringssted etter bosetting."
    })
}

/// Starts a draft as the Agder counsellor; returns (id, ETag).
async fn draft(app: &TestApp, pid: &str, body: &Value) -> (String, String) {
    let t = app.token(who::AGDER_COUNSELLOR).await;
    let r = app.post(&summaries(pid), Some(&t), body).await;
    assert_eq!(r.status, 201, "draft: {}", r.text);
    (id_of(&r), etag(&r))
}

async fn finalise(app: &TestApp, token: &str, sid: &str, tag: &str) -> Res {
    call(
        app,
        Method::POST,
        &format!("{}/finalise", summary(sid)),
        Some(token),
        None,
        Some(tag),
    )
    .await
}

/// A final summary written by the Agder counsellor; returns its id.
async fn final_summary(app: &TestApp, pid: &str, steps: &[(&str, &str)]) -> String {
    let t = app.token(who::AGDER_COUNSELLOR).await;
    let (sid, tag) = draft(app, pid, &summary_body(steps)).await;
    let r = finalise(app, &t, &sid, &tag).await;
    assert_eq!(r.status, 200, "finalise: {}", r.text);
    sid
}

/// The participant's open draft (id, ETag), read from the database.
async fn open_draft(app: &TestApp, pid: &str) -> Option<(String, String)> {
    sqlx::query_as::<_, (Uuid, i32)>(
        "SELECT id, version FROM guidance_summaries WHERE participant_id::text = $1 AND status = 'draft'",
    )
    .bind(pid)
    .fetch_optional(&app.pool)
    .await
    .unwrap()
    .map(|(id, v)| (id.to_string(), format!("\"{v}\"")))
}

async fn summary_count(app: &TestApp, pid: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM guidance_summaries WHERE participant_id::text = $1")
        .bind(pid)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Audit rows of `action` with the participant as target (by `actor`, when given).
async fn audit_rows(app: &TestApp, action: &str, pid: &str, actor: Option<Uuid>) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = $1 AND target_type = 'participant'
         AND target_id::text = $2 AND outcome = 'success'
         AND ($3::uuid IS NULL OR actor_user_id = $3)",
    )
    .bind(action)
    .bind(pid)
    .bind(actor)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

/// The current ETag of a catalogue offering.
async fn offering_tag(app: &TestApp, token: &str, key: &str) -> String {
    let r = app
        .get(&format!("{OFFERINGS}/{}", offering_id(key)), token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    etag(&r)
}

async fn retire(app: &TestApp, key: &str, how: &str) {
    let op = app.token(who::OPERATOR_ADMIN).await;
    let tag = offering_tag(app, &op, key).await;
    let r = call(
        app,
        Method::POST,
        &format!("{OFFERINGS}/{}/{how}", offering_id(key)),
        Some(&op),
        None,
        Some(&tag),
    )
    .await;
    assert_eq!(r.status, 200, "{how} {key}: {}", r.text);
}

// ---------------------------------------------------------------------------------------------
// 1. Access
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    List,
    Create,
    Get,
    Update,
    Finalise,
    Delete,
}

impl Op {
    const ALL: [Op; 6] = [
        Op::List,
        Op::Create,
        Op::Get,
        Op::Update,
        Op::Finalise,
        Op::Delete,
    ];

    fn writes(self) -> bool {
        matches!(self, Op::Create | Op::Update | Op::Finalise | Op::Delete)
    }

    fn success(self) -> u16 {
        match self {
            Op::Create => 201,
            Op::Delete => 204,
            _ => 200,
        }
    }
}

/// What an account gets for an operation on a Kristiansand participant's summaries.
fn expected(account: Option<&str>, op: Op) -> u16 {
    match account {
        None => 401,
        // Staff of the participant's own centre read, but do not write.
        Some(who::KRS_STAFF) => {
            if op.writes() {
                403
            } else {
                200
            }
        }
        // Staff of another centre: the summaries do not exist for them; writing is closed.
        Some(who::STJ_STAFF) => {
            if op.writes() {
                403
            } else {
                404
            }
        }
        // The counsellor of the career centre serving Kristiansand: reads and writes.
        Some(who::AGDER_COUNSELLOR) => op.success(),
        // A counsellor serving another centre: the summaries do not exist for them.
        Some(who::TRD_COUNSELLOR) => 404,
        // Administrators (every organisation) and municipality staff have no grant at all.
        Some(_) => 403,
    }
}

#[tokio::test]
async fn access_matrix() {
    let app = spawn_app().await;
    let pid = krs_participant(&app).await;
    let agder = app.token(who::AGDER_COUNSELLOR).await;
    let body = summary_body(&NURSE[..2]);
    let mut tokens: Vec<(Option<&str>, Option<String>)> = vec![(None, None)];
    for account in who::ALL {
        tokens.push((Some(account), Some(app.token(account).await)));
    }
    let mut cells = 0;
    for (account, token) in &tokens {
        for op in Op::ALL {
            // Bring the participant into the state the operation needs.
            let (sid, tag) = if op == Op::Create {
                if let Some((sid, tag)) = open_draft(&app, &pid).await {
                    let r = call(
                        &app,
                        Method::DELETE,
                        &summary(&sid),
                        Some(&agder),
                        None,
                        Some(&tag),
                    )
                    .await;
                    assert_eq!(r.status, 204, "{}", r.text);
                }
                (String::new(), String::new())
            } else {
                match open_draft(&app, &pid).await {
                    Some(d) => d,
                    None => draft(&app, &pid, &body).await,
                }
            };
            let before = summary_count(&app, &pid).await;
            let (method, path, send_body, if_match) = match op {
                Op::List => (Method::GET, summaries(&pid), false, None),
                Op::Create => (Method::POST, summaries(&pid), true, None),
                Op::Get => (Method::GET, summary(&sid), false, None),
                Op::Update => (Method::PUT, summary(&sid), true, Some(tag.as_str())),
                Op::Finalise => (
                    Method::POST,
                    format!("{}/finalise", summary(&sid)),
                    false,
                    Some(tag.as_str()),
                ),
                Op::Delete => (Method::DELETE, summary(&sid), false, Some(tag.as_str())),
            };
            let r = call(
                &app,
                method,
                &path,
                token.as_deref(),
                send_body.then_some(&body),
                if_match,
            )
            .await;
            let want = expected(*account, op);
            let what = format!("{} {op:?}", account.unwrap_or("anonymous"));
            cells += 1;
            if want >= 400 {
                r.assert_problem(want);
                // A refusal changes nothing.
                assert_eq!(summary_count(&app, &pid).await, before, "{what}");
                if op != Op::Create {
                    assert_eq!(
                        open_draft(&app, &pid).await,
                        Some((sid.clone(), tag.clone())),
                        "{what}"
                    );
                }
                continue;
            }
            assert_eq!(r.status.as_u16(), want, "{what}: {}", r.text);
            match op {
                Op::List => {
                    let items = list(&r);
                    assert!(!items.is_empty(), "{what}");
                    items.iter().for_each(assert_reception_centre_guidance);
                }
                Op::Get | Op::Create | Op::Update => {
                    assert_reception_centre_guidance(&r.body);
                    assert_eq!(r.body["status"], "draft", "{what}");
                    assert_eq!(r.body["participant_id"], pid.as_str());
                }
                Op::Finalise => assert_eq!(r.body["status"], "final", "{what}"),
                Op::Delete => assert_eq!(summary_count(&app, &pid).await, before - 1),
            }
        }
    }
    assert_eq!(cells, (who::ALL.len() + 1) * Op::ALL.len());
    println!(
        "guidance access matrix: {cells} cells ({} accounts + anonymous x {} routes)",
        who::ALL.len(),
        Op::ALL.len()
    );
    // Refused readers leave no read in the audit log; allowed ones do.
    for (account, reads) in [
        (who::STJ_STAFF, false),
        (who::TRD_COUNSELLOR, false),
        (who::KRS_ADMIN, false),
        (who::KRS_STAFF, true),
        (who::AGDER_COUNSELLOR, true),
    ] {
        let n = audit_rows(
            &app,
            "guidance.read",
            &pid,
            Some(app.user_id(account).await),
        )
        .await;
        assert_eq!(n > 0, reads, "{account}: {n} read rows");
    }
    // The counsellor serving Kristiansand does not reach Steinkjer's participants either.
    let trd = app.token(who::TRD_COUNSELLOR).await;
    let stj_participants = app.get("/api/v1/participants?limit=200", &trd).await;
    let stj_pid = stj_participants.body["items"][0]["id"].as_str().unwrap();
    app.get(&summaries(stj_pid), &agder)
        .await
        .assert_problem(404);
    app.post(&summaries(stj_pid), Some(&agder), &body)
        .await
        .assert_problem(404);
    let krs_staff = app.token(who::KRS_STAFF).await;
    app.get(&summaries(stj_pid), &krs_staff)
        .await
        .assert_problem(404);
    // Unknown ids.
    app.get(&summary(&Uuid::new_v4().to_string()), &agder)
        .await
        .assert_problem(404);
    app.get(&summaries(&Uuid::new_v4().to_string()), &agder)
        .await
        .assert_problem(404);
    app.get("/api/v1/guidance-summaries/not-a-uuid", &agder)
        .await
        .assert_problem(404);
}

// ---------------------------------------------------------------------------------------------
// 2. The counsellor's flow
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn counsellor_writes_and_finalises_and_the_centre_reads_it() {
    let app = spawn_app().await;
    let pid = krs_participant(&app).await;
    let agder = app.token(who::AGDER_COUNSELLOR).await;
    let staff = app.token(who::KRS_STAFF).await;
    let agder_id = app.user_id(who::AGDER_COUNSELLOR).await;
    let staff_id = app.user_id(who::KRS_STAFF).await;

    // An incomplete draft is fine.
    let r = app
        .post(
            &summaries(&pid),
            Some(&agder),
            &json!({ "interests": "Helse og omsorg." }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let sid = id_of(&r);
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/guidance-summaries/{sid}").as_str())
    );
    assert_eq!(etag(&r), "\"1\"");
    let s = &r.body;
    assert_reception_centre_guidance(s);
    assert_eq!(s["status"], "draft");
    assert_eq!(s["version"], 1);
    assert_eq!(s["participant_id"], pid.as_str());
    assert_eq!(
        s["career_centre_id"],
        app.org_of(who::AGDER_COUNSELLOR).await.to_string()
    );
    assert!(!s["author_name"].as_str().unwrap().is_empty());
    assert_eq!(s["interests"], "Helse og omsorg.");
    assert_eq!(s["sessions"], json!([]));
    assert_eq!(s["pathway"], json!([]));
    assert_eq!(s["warnings"], json!([]));
    assert!(s["finalised_at"].is_null() && s["superseded_by"].is_null());

    // The whole summary: sessions with an interpreter, interests, goals, a three-step pathway.
    let body = summary_body(&NURSE);
    let r = call(
        &app,
        Method::PUT,
        &summary(&sid),
        Some(&agder),
        Some(&body),
        Some("\"1\""),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(etag(&r), "\"2\"");
    let s = &r.body;
    assert_eq!(s["sessions"], body["sessions"]);
    assert_eq!(s["sessions"][0]["interpreter_language"], "ti");
    for f in [
        "interests",
        "strengths",
        "experience",
        "goals_short_term",
        "goals_long_term",
        "covered",
        "left_for_section_11",
    ] {
        assert_eq!(s[f], body[f], "{f}");
    }
    let steps = s["pathway"].as_array().unwrap();
    assert_eq!(steps.len(), 3);
    for (i, (key, reason)) in NURSE.iter().enumerate() {
        let step = &steps[i];
        assert_eq!(step["position"], i as i64);
        assert_eq!(step["offering_key"], *key);
        assert_eq!(step["offering_id"], offering_id(key).to_string());
        assert_eq!(step["offering_version"], 1);
        assert_eq!(step["offering_retired"], false);
        assert_eq!(step["reason"], *reason);
        let o = app
            .get(&format!("{OFFERINGS}/{}", offering_id(key)), &agder)
            .await;
        assert_eq!(step["offering_name_nb"], o.body["name_nb"]);
        assert_eq!(step["offering_name_en"], o.body["name_en"]);
    }
    assert_eq!(s["warnings"], json!([]));
    // Centre staff may read the draft, but not change it.
    let r = app.get(&summary(&sid), &staff).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "draft");
    call(
        &app,
        Method::PUT,
        &summary(&sid),
        Some(&staff),
        Some(&body),
        Some("\"2\""),
    )
    .await
    .assert_problem(403);

    // Finalise.
    let r = finalise(&app, &agder, &sid, "\"2\"").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(etag(&r), "\"3\"");
    assert_eq!(r.body["status"], "final");
    assert!(r.body["finalised_at"].is_string());
    assert!(r.body["superseded_by"].is_null());
    assert_reception_centre_guidance(&r.body);
    let finalised = r.body.clone();

    // Kristiansand staff read it, one by one and as a list.
    let r = app.get(&summary(&sid), &staff).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(etag(&r), "\"3\"");
    assert_eq!(r.body, finalised);
    let r = app.get(&summaries(&pid), &staff).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(list(&r), vec![finalised.clone()]);

    // A later change to an offering does not change the summary: it shows the version
    // recommended.
    let op = app.token(who::OPERATOR_ADMIN).await;
    let key = NURSE[1].0;
    let mut o = app
        .get(&format!("{OFFERINGS}/{}", offering_id(key)), &op)
        .await
        .body;
    for f in ["id", "version", "retired", "updated_at"] {
        o.as_object_mut().unwrap().remove(f);
    }
    o["name_en"] = json!("Supplementary education (renamed)");
    let r = call(
        &app,
        Method::PUT,
        &format!("{OFFERINGS}/{}", offering_id(key)),
        Some(&op),
        Some(&o),
        Some("\"1\""),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app.get(&summary(&sid), &staff).await;
    assert_eq!(r.body["pathway"][1]["offering_version"], 1);
    assert_eq!(
        r.body["pathway"][1]["offering_name_en"],
        finalised["pathway"][1]["offering_name_en"]
    );
    assert_ne!(
        r.body["pathway"][1]["offering_name_en"],
        "Supplementary education (renamed)"
    );

    // Audit: what was done to whose record, by whom.
    assert_eq!(
        audit_rows(&app, "guidance.create", &pid, Some(agder_id)).await,
        1
    );
    assert_eq!(
        audit_rows(&app, "guidance.update", &pid, Some(agder_id)).await,
        1
    );
    assert_eq!(
        audit_rows(&app, "guidance.finalise", &pid, Some(agder_id)).await,
        1
    );
    assert_eq!(
        audit_rows(&app, "guidance.read", &pid, Some(staff_id)).await,
        4,
        "three reads of the summary and one of the list"
    );
    let before = audit_rows(&app, "guidance.read", &pid, None).await;
    app.get(&summaries(&pid), &agder).await;
    assert_eq!(
        audit_rows(&app, "guidance.read", &pid, None).await,
        before + 1
    );
    assert!(app.audit_count("guidance.read", "success").await > before);
}

#[tokio::test]
async fn every_summary_is_reception_centre_guidance() {
    let app = spawn_app().await;
    let mut total = 0;
    for (counsellor, other) in [
        (who::AGDER_COUNSELLOR, who::TRD_COUNSELLOR),
        (who::TRD_COUNSELLOR, who::AGDER_COUNSELLOR),
    ] {
        let t = app.token(counsellor).await;
        let other_t = app.token(other).await;
        let centre = app.org_of(counsellor).await.to_string();
        let r = app.get("/api/v1/participants?limit=200", &t).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let participants = r.body["items"].as_array().unwrap().clone();
        assert_eq!(participants.len(), 20, "{counsellor}");
        let (mut with, mut without, mut superseded) = (0, 0, 0);
        for p in &participants {
            let pid = p["id"].as_str().unwrap();
            let r = app.get(&summaries(pid), &t).await;
            assert_eq!(r.status, 200, "{}", r.text);
            let items = list(&r);
            if items.is_empty() {
                without += 1;
                continue;
            }
            with += 1;
            let mut by_id: HashMap<String, &Value> = HashMap::new();
            for s in &items {
                assert_reception_centre_guidance(s);
                assert_eq!(s["participant_id"], pid);
                assert_eq!(s["career_centre_id"], centre.as_str());
                assert!(!s["left_for_section_11"].as_str().unwrap().is_empty());
                by_id.insert(id_of_value(s), s);
                total += 1;
            }
            let drafts = items.iter().filter(|s| s["status"] == "draft").count();
            let current = items
                .iter()
                .filter(|s| s["status"] == "final" && s["superseded_by"].is_null())
                .count();
            assert!(drafts <= 1 && current <= 1, "{pid}: {drafts} / {current}");
            for s in items.iter().filter(|s| !s["superseded_by"].is_null()) {
                superseded += 1;
                let newer = by_id[s["superseded_by"].as_str().unwrap()];
                assert_eq!(newer["status"], "final");
                assert!(newer["finalised_at"].as_str() >= s["finalised_at"].as_str());
            }
            // One summary read by id; the counsellor of the other centre does not find it.
            let sid = id_of_value(&items[0]);
            let r = app.get(&summary(&sid), &t).await;
            assert_eq!(r.status, 200, "{}", r.text);
            assert_reception_centre_guidance(&r.body);
            app.get(&summary(&sid), &other_t).await.assert_problem(404);
        }
        // Participants with i % 4 == 2 are newly registered: no guidance yet.
        assert_eq!((with, without), (15, 5), "{counsellor}");
        assert!(
            superseded >= 1,
            "{counsellor}: the demo has superseded summaries"
        );
    }
    // Both centres' summaries, plus one new one.
    let pid = krs_participant(&app).await;
    let sid = final_summary(&app, &pid, &NURSE).await;
    let staff = app.token(who::KRS_STAFF).await;
    assert_reception_centre_guidance(&app.get(&summary(&sid), &staff).await.body);
    assert!(total >= 30, "{total} demo summaries");
}

fn id_of_value(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

// ---------------------------------------------------------------------------------------------
// 3. Validation and the § 11 boundary
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn finalising_needs_sessions_goals_and_the_section_11_boundary() {
    let app = spawn_app().await;
    let pid = krs_participant(&app).await;
    let agder = app.token(who::AGDER_COUNSELLOR).await;
    let (sid, _) = draft(&app, &pid, &json!({})).await;

    let r = finalise(&app, &agder, &sid, "\"1\"").await;
    for f in [
        "sessions",
        "covered",
        "left_for_section_11",
        "goals_short_term",
    ] {
        assert_invalid(&r, f, "required", "empty draft");
    }
    let r = app.get(&summary(&sid), &agder).await;
    assert_eq!(
        (r.body["status"].clone(), r.body["version"].clone()),
        (json!("draft"), json!(1))
    );

    // Sessions and goals, but blank boundary texts.
    let mut body = summary_body(&NURSE);
    body["covered"] = json!("   ");
    body["left_for_section_11"] = json!("");
    let r = call(
        &app,
        Method::PUT,
        &summary(&sid),
        Some(&agder),
        Some(&body),
        Some("\"1\""),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = finalise(&app, &agder, &sid, "\"2\"").await;
    assert_invalid(&r, "covered", "required", "blank covered");
    assert_invalid(&r, "left_for_section_11", "required", "no § 11 part");
    let fields: Vec<String> = field_errors(&r).into_iter().map(|e| e.0).collect();
    assert!(!fields.contains(&"sessions".to_owned()), "{fields:?}");

    // A step without a reason.
    let mut body = summary_body(&NURSE);
    body["pathway"][2]["reason"] = json!(" ");
    let r = call(
        &app,
        Method::PUT,
        &summary(&sid),
        Some(&agder),
        Some(&body),
        Some("\"2\""),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = finalise(&app, &agder, &sid, "\"3\"").await;
    assert_invalid(&r, "pathway[2].reason", "required", "step without reason");

    // Malformed drafts are refused outright, on create and on update.
    let bad: Vec<(&str, Value, &str, &str)> = {
        let with = |f: &dyn Fn(&mut Value)| {
            let mut b = summary_body(&NURSE);
            f(&mut b);
            b
        };
        vec![
            (
                "interpreter without language",
                with(&|b| b["sessions"][0]["interpreter_language"] = Value::Null),
                "sessions[0].interpreter_language",
                "required",
            ),
            (
                "language without interpreter",
                with(&|b| b["sessions"][1]["interpreter_language"] = json!("ar")),
                "sessions[1].interpreter_language",
                "not_allowed",
            ),
            (
                "language not a code",
                with(&|b| b["sessions"][0]["interpreter_language"] = json!("Tigrinya")),
                "sessions[0].interpreter_language",
                "invalid_language",
            ),
            (
                "session in the future",
                with(&|b| b["sessions"][1]["date"] = json!(ahead(5))),
                "sessions[1].date",
                "in_future",
            ),
            (
                "empty topic",
                with(&|b| b["sessions"][0]["topic"] = json!("")),
                "sessions[0].topic",
                "required",
            ),
            (
                "unknown session kind",
                with(&|b| b["sessions"][0]["kind"] = json!("webinar")),
                "sessions[0].kind",
                "invalid_value",
            ),
            (
                "same offering twice",
                with(&|b| b["pathway"][2]["offering_id"] = b["pathway"][0]["offering_id"].clone()),
                "pathway[2].offering_id",
                "duplicate",
            ),
            (
                "long text",
                with(&|b| b["covered"] = json!("x".repeat(2001))),
                "covered",
                "too_long",
            ),
            (
                "unknown field",
                with(&|b| b["guidance_kind"] = json!("section_11")),
                "guidance_kind",
                "unknown_field",
            ),
            (
                "status is not written",
                with(&|b| b["status"] = json!("final")),
                "status",
                "unknown_field",
            ),
        ]
    };
    let other = krs_participant(&app).await;
    for (what, body, field, code) in &bad {
        let r = app.post(&summaries(&other), Some(&agder), body).await;
        assert_invalid(&r, field, code, &format!("create: {what}"));
        let r = call(
            &app,
            Method::PUT,
            &summary(&sid),
            Some(&agder),
            Some(body),
            Some("\"3\""),
        )
        .await;
        assert_invalid(&r, field, code, &format!("update: {what}"));
    }
    assert_eq!(summary_count(&app, &other).await, 0);
    assert_eq!(
        open_draft(&app, &pid).await,
        Some((sid.clone(), "\"3\"".into()))
    );

    // If-Match on finalise.
    let path = format!("{}/finalise", summary(&sid));
    call(&app, Method::POST, &path, Some(&agder), None, None)
        .await
        .assert_problem(428);
    finalise(&app, &agder, &sid, "\"2\"")
        .await
        .assert_problem(412);

    // Complete: finalises.
    let r = call(
        &app,
        Method::PUT,
        &summary(&sid),
        Some(&agder),
        Some(&summary_body(&NURSE)),
        Some("\"3\""),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = finalise(&app, &agder, &sid, "\"4\"").await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Long-term goals alone are enough; a summary without a pathway may be final too.
    let mut body = summary_body(&[]);
    body["goals_short_term"] = json!("");
    let (sid, tag) = draft(&app, &other, &body).await;
    let r = finalise(&app, &agder, &sid, &tag).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["pathway"], json!([]));
}

// ---------------------------------------------------------------------------------------------
// 4. Immutability, superseding and concurrency
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_final_summary_is_immutable() {
    let app = spawn_app().await;
    let pid = krs_participant(&app).await;
    let agder = app.token(who::AGDER_COUNSELLOR).await;

    // A draft can be deleted.
    let (sid, tag) = draft(&app, &pid, &summary_body(&NURSE)).await;
    let path = summary(&sid);
    call(&app, Method::DELETE, &path, Some(&agder), None, None)
        .await
        .assert_problem(428);
    call(
        &app,
        Method::DELETE,
        &path,
        Some(&agder),
        None,
        Some("\"9\""),
    )
    .await
    .assert_problem(412);
    let r = call(&app, Method::DELETE, &path, Some(&agder), None, Some(&tag)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    app.get(&path, &agder).await.assert_problem(404);
    assert_eq!(audit_rows(&app, "guidance.delete", &pid, None).await, 1);

    // A final one cannot be changed or deleted, whatever the ETag.
    let sid = final_summary(&app, &pid, &NURSE).await;
    let path = summary(&sid);
    let before = app.get(&path, &agder).await;
    let tag = etag(&before);
    let mut changed = summary_body(&NURSE);
    changed["covered"] = json!("Endret i ettertid.");
    for t in [tag.as_str(), "\"1\""] {
        let r = call(
            &app,
            Method::PUT,
            &path,
            Some(&agder),
            Some(&changed),
            Some(t),
        )
        .await;
        assert_eq!(
            r.assert_problem(409),
            "urn:handover:problem:conflict",
            "PUT {t}"
        );
        let r = call(&app, Method::DELETE, &path, Some(&agder), None, Some(t)).await;
        assert_eq!(
            r.assert_problem(409),
            "urn:handover:problem:conflict",
            "DELETE {t}"
        );
        finalise(&app, &agder, &sid, t).await.assert_problem(409);
    }
    let after = app.get(&path, &agder).await;
    assert_eq!(after.body, before.body);

    // The database refuses too.
    let id = Uuid::parse_str(&sid).unwrap();
    for sql in [
        "UPDATE guidance_summaries SET content = jsonb_set(content, '{covered}', '\"endret\"') WHERE id = $1",
        "UPDATE guidance_summaries SET content = '{}'::jsonb WHERE id = $1",
        "UPDATE guidance_summaries SET status = 'draft', finalised_at = NULL WHERE id = $1",
        "UPDATE guidance_summaries SET version = version + 1 WHERE id = $1",
        "UPDATE guidance_pathway_steps SET reason = 'endret' WHERE summary_id = $1",
        "INSERT INTO guidance_pathway_steps (summary_id, position, offering_id, offering_version, reason)
         SELECT $1, 9, id, 1, 'ny' FROM catalogue_offerings WHERE key = 'arbeidstrening'",
    ] {
        let e = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .execute(&app.pool)
            .await
            .expect_err(sql);
        let db = e.as_database_error().unwrap_or_else(|| panic!("{sql}: {e}"));
        assert_eq!(db.constraint(), Some("guidance_summaries_immutable"), "{sql}");
        assert_eq!(db.code().as_deref(), Some("23514"), "{sql}");
    }
    let after = app.get(&path, &agder).await;
    assert_eq!(after.body, before.body);
    assert_eq!(after.body["covered"], summary_body(&NURSE)["covered"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_draft_at_a_time_and_a_new_final_supersedes_the_old() {
    let app = spawn_app().await;
    let pid = krs_participant(&app).await;
    let agder = app.token(who::AGDER_COUNSELLOR).await;
    let staff = app.token(who::KRS_STAFF).await;

    let (first, tag) = draft(&app, &pid, &summary_body(&NURSE)).await;
    // A second draft while one is open.
    let r = app
        .post(&summaries(&pid), Some(&agder), &summary_body(&UNIVERSITY))
        .await;
    assert_eq!(r.assert_problem(409), "urn:handover:problem:conflict");
    assert_eq!(summary_count(&app, &pid).await, 1);
    let r = finalise(&app, &agder, &first, &tag).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // The next one supersedes it when it is finalised, not before.
    let mut newer = summary_body(&NURSE[..2]);
    newer["goals_short_term"] = json!("Bestå Norskprøven skriftlig på B1.");
    let (second, tag) = draft(&app, &pid, &newer).await;
    let r = app.get(&summary(&first), &staff).await;
    assert!(
        r.body["superseded_by"].is_null(),
        "a draft supersedes nothing"
    );
    let r = finalise(&app, &agder, &second, &tag).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["superseded_by"].is_null());

    let old = app.get(&summary(&first), &staff).await;
    assert_eq!(old.status, 200, "the old one stays readable: {}", old.text);
    assert_eq!(old.body["status"], "final");
    assert_eq!(old.body["superseded_by"], second.as_str());
    assert_eq!(old.body["pathway"].as_array().unwrap().len(), 3);
    let r = app.get(&summaries(&pid), &staff).await;
    let items = list(&r);
    let history: Vec<(String, String, Value)> = items
        .iter()
        .map(|s| {
            (
                id_of_value(s),
                s["status"].as_str().unwrap().to_owned(),
                s["superseded_by"].clone(),
            )
        })
        .collect();
    assert_eq!(
        history,
        vec![
            (first.clone(), "final".into(), json!(second)),
            (second.clone(), "final".into(), Value::Null),
        ]
    );
    assert_eq!(
        items[1]["goals_short_term"],
        "Bestå Norskprøven skriftlig på B1."
    );
    // Once set, the pointer does not move.
    let e = sqlx::query("UPDATE guidance_summaries SET superseded_by = NULL WHERE id = $1")
        .bind(Uuid::parse_str(&first).unwrap())
        .execute(&app.pool)
        .await
        .expect_err("the superseded pointer is fixed");
    assert_eq!(
        e.as_database_error().and_then(|d| d.constraint()),
        Some("guidance_summaries_immutable")
    );

    // Two drafts started at the same moment: one wins.
    let other = krs_participant(&app).await;
    let a = summary_body(&NURSE);
    let b = summary_body(&UNIVERSITY);
    let path = summaries(&other);
    let (ra, rb) = tokio::join!(
        app.post(&path, Some(&agder), &a),
        app.post(&path, Some(&agder), &b)
    );
    let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{} / {}", ra.text, rb.text);
    assert_eq!(summary_count(&app, &other).await, 1);

    // The same draft finalised twice at once with the same ETag: one wins, and the
    // participant never has two current final summaries.
    let mut finals = Vec::new();
    for round in 0..4 {
        let (sid, tag) = match open_draft(&app, &other).await {
            Some(d) => d,
            None => draft(&app, &other, &summary_body(&NURSE)).await,
        };
        let path = format!("{}/finalise", summary(&sid));
        let (ra, rb) = tokio::join!(
            call(&app, Method::POST, &path, Some(&agder), None, Some(&tag)),
            call(&app, Method::POST, &path, Some(&agder), None, Some(&tag))
        );
        let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
        statuses.sort_unstable();
        assert!(
            statuses == [200, 409] || statuses == [200, 412],
            "round {round}: {statuses:?}: {} / {}",
            ra.text,
            rb.text
        );
        let loser = if ra.status == 200 { &rb } else { &ra };
        loser.assert_problem(statuses[1]);
        finals.push(sid);
    }
    let current: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM guidance_summaries WHERE participant_id::text = $1
         AND status = 'final' AND superseded_by IS NULL",
    )
    .bind(&other)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        current,
        vec![Uuid::parse_str(finals.last().unwrap()).unwrap()]
    );
    let items = list(&app.get(&summaries(&other), &staff).await);
    assert_eq!(items.len(), 4);
    for (i, s) in items.iter().enumerate() {
        assert_eq!(s["status"], "final");
        let next = finals.get(i + 1).map_or(Value::Null, |n| json!(n));
        assert_eq!(s["superseded_by"], next, "summary {i}");
    }
    assert_eq!(
        audit_rows(&app, "guidance.finalise", &other, None).await,
        4,
        "one finalisation per round"
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Retired and unknown offerings
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn retired_and_unknown_offerings_in_a_pathway() {
    let app = spawn_app().await;
    let agder = app.token(who::AGDER_COUNSELLOR).await;
    let staff = app.token(who::KRS_STAFF).await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let pid = krs_participant(&app).await;

    // Recommending a retired offering or one that does not exist.
    retire(&app, "arbeidstrening", "retire").await;
    let mut body = summary_body(&[
        ("introduksjonsprogram", "Rammen for videre løp."),
        ("arbeidstrening", "Referanser fra norsk arbeidsliv."),
    ]);
    let r = app.post(&summaries(&pid), Some(&agder), &body).await;
    assert_invalid(&r, "pathway[1].offering_id", "retired_offering", "retired");
    assert_eq!(field_errors(&r).len(), 1, "{}", r.text);
    body["pathway"][0]["offering_id"] = json!(Uuid::new_v4());
    let r = app.post(&summaries(&pid), Some(&agder), &body).await;
    assert_invalid(&r, "pathway[0].offering_id", "unknown_offering", "unknown");
    assert_invalid(&r, "pathway[1].offering_id", "retired_offering", "both");
    assert_eq!(summary_count(&app, &pid).await, 0);
    // Also when editing a draft.
    let (sid, tag) = draft(&app, &pid, &summary_body(&NURSE)).await;
    let r = call(
        &app,
        Method::PUT,
        &summary(&sid),
        Some(&agder),
        Some(&body),
        Some(&tag),
    )
    .await;
    assert_invalid(
        &r,
        "pathway[1].offering_id",
        "retired_offering",
        "PUT retired",
    );
    assert_eq!(
        open_draft(&app, &pid).await,
        Some((sid.clone(), tag.clone()))
    );
    let r = finalise(&app, &agder, &sid, &tag).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Retiring an offering a final summary recommends keeps the summary readable, with a warning.
    let steps = [
        ("introduksjonsprogram", "Rammen for videre løp."),
        ("fagbrev-pa-jobb", "Lang erfaring som elektriker."),
    ];
    let other = krs_participant(&app).await;
    let final_id = final_summary(&app, &other, &steps).await;
    // And a draft elsewhere that recommends it.
    let third = krs_participant(&app).await;
    let (draft_id, draft_tag) = draft(&app, &third, &summary_body(&steps)).await;
    retire(&app, "fagbrev-pa-jobb", "retire").await;
    for token in [&staff, &agder] {
        let r = app.get(&summary(&final_id), token).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["status"], "final");
        assert_eq!(r.body["pathway"][0]["offering_retired"], false);
        assert_eq!(r.body["pathway"][1]["offering_retired"], true);
        assert_eq!(r.body["pathway"][1]["offering_key"], "fagbrev-pa-jobb");
        assert_eq!(
            warnings(&r.body),
            vec![("retired_offering".to_owned(), Some(1))]
        );
        let items = list(&app.get(&summaries(&other), token).await);
        assert_eq!(items[0]["pathway"][1]["offering_retired"], true);
        assert_eq!(warnings(&items[0]), warnings(&r.body));
    }
    // The offering cannot be deleted while recommended.
    let r = call(
        &app,
        Method::DELETE,
        &format!("{OFFERINGS}/{}", offering_id("fagbrev-pa-jobb")),
        Some(&op),
        None,
        Some("\"2\""),
    )
    .await;
    r.assert_problem(409);
    // The draft recommending it cannot be finalised until it is replaced.
    let r = finalise(&app, &agder, &draft_id, &draft_tag).await;
    assert_invalid(
        &r,
        "pathway[1].offering_id",
        "retired_offering",
        "finalising with a retired step",
    );
    assert_eq!(
        open_draft(&app, &third).await,
        Some((draft_id.clone(), draft_tag.clone()))
    );

    // Reinstated: the warning goes, and the draft can be finalised.
    retire(&app, "fagbrev-pa-jobb", "reinstate").await;
    let r = app.get(&summary(&final_id), &staff).await;
    assert_eq!(r.body["pathway"][1]["offering_retired"], false);
    assert_eq!(warnings(&r.body), vec![]);
    let r = finalise(&app, &agder, &draft_id, &draft_tag).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

// ---------------------------------------------------------------------------------------------
// 6. Level warnings
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn level_warnings_compare_the_first_step_with_the_weakest_skill() {
    let app = spawn_app().await;
    let agder = app.token(who::AGDER_COUNSELLOR).await;
    let staff = app.token(who::KRS_STAFF).await;

    // (what, levels, expected warnings on a pathway starting with a B2 step)
    let cases: Vec<(&str, Vec<(&str, &str)>, Vec<&str>)> = vec![
        (
            "A2 in all skills",
            all_skills("A2"),
            vec!["level_below_prerequisite"],
        ),
        ("B2 in all skills", all_skills("B2"), vec![]),
        ("C1 in all skills", all_skills("C1"), vec![]),
        (
            "B2 but B1 in writing",
            vec![
                ("listening", "B2"),
                ("reading", "B2"),
                ("writing", "B1"),
                ("oral", "B2"),
            ],
            vec!["level_below_prerequisite"],
        ),
        (
            "only oral assessed",
            vec![("oral", "B2")],
            vec!["no_norwegian_level"],
        ),
        (
            "no Norwegian training record",
            vec![],
            vec!["no_norwegian_level"],
        ),
    ];
    let mut a2 = None;
    for (what, levels, want) in &cases {
        let pid = krs_participant(&app).await;
        if !levels.is_empty() {
            set_levels(&app, &pid, levels).await;
        }
        let (sid, tag) = draft(&app, &pid, &summary_body(&UNIVERSITY)).await;
        let r = app.get(&summary(&sid), &agder).await;
        let got = warnings(&r.body);
        let want: Vec<(String, Option<i64>)> =
            want.iter().map(|c| ((*c).to_owned(), Some(0))).collect();
        assert_eq!(got, want, "{what}");
        if *what == "A2 in all skills" {
            let msg = r.body["warnings"][0]["message"].as_str().unwrap();
            assert!(msg.contains("B2") && msg.contains("A2"), "{msg}");
            a2 = Some((pid, sid, tag));
        }
    }

    // A warning does not block finalising, and stays on the final summary.
    let (pid, sid, tag) = a2.unwrap();
    let r = finalise(&app, &agder, &sid, &tag).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "final");
    assert_eq!(
        warnings(&r.body),
        vec![("level_below_prerequisite".to_owned(), Some(0))]
    );
    let r = app.get(&summary(&sid), &staff).await;
    assert_eq!(
        warnings(&r.body),
        vec![("level_below_prerequisite".to_owned(), Some(0))]
    );

    // Only the first step counts: a B2 step later in the pathway gives no warning.
    let reversed = [UNIVERSITY[1], UNIVERSITY[0]];
    let (sid, _) = draft(&app, &pid, &summary_body(&reversed)).await;
    let r = app.get(&summary(&sid), &agder).await;
    assert_eq!(warnings(&r.body), vec![]);
    // A first step without a level prerequisite: none either, even without levels.
    let fresh = krs_participant(&app).await;
    let (sid, _) = draft(&app, &fresh, &summary_body(&NURSE)).await;
    let r = app.get(&summary(&sid), &agder).await;
    assert_eq!(warnings(&r.body), vec![]);
}
