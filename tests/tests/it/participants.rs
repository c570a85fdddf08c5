#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! Participants and their full-time-programme record: access, validation, conditional updates,
//! lookup, audit, history and list filters.

use handover_tests::etag;
use handover_tests::{Res, TestApp, spawn_app, who};
use handover_tests::{ago, ahead, id_of, new_duf};
use handover_tests::{assert_invalid, call, field_errors};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const STAFF_NAME: &str = "Kari Mottaksansatt";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Percent-encodes a query-string value.
fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn put(app: &TestApp, path: &str, token: &str, body: &Value, if_match: Option<&str>) -> Res {
    call(app, Method::PUT, path, Some(token), Some(body), if_match).await
}

async fn delete(app: &TestApp, path: &str, token: &str, if_match: Option<&str>) -> Res {
    call(app, Method::DELETE, path, Some(token), None, if_match).await
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn participant_body(given: &str, family: &str, duf: &str) -> Value {
    json!({
        "given_name": given,
        "family_name": family,
        "date_of_birth": "1990-05-17",
        "duf_number": duf,
        "languages": [
            { "language": "ti", "level": "native" },
            { "language": "en", "level": "basic" }
        ],
        "interpreter_language": "ti",
        "arrival_date": ago(100),
        "programme_start": ago(90),
        "status": "in_programme",
        "notes": ""
    })
}

fn mapping_body() -> Value {
    json!({
        "education": [{
            "level": "upper_secondary",
            "years": 12,
            "field": "Allmennfag",
            "country": "ER",
            "documents_for_recognition": true
        }],
        "work_experience": [{ "occupation": "Sveiser", "years": 5, "country": "ER" }],
        "driving_licences": ["B"],
        "certificates": ["Sveisesertifikat"],
        "digital_skills": "basic",
        "own_goals": "Jeg vil jobbe som sveiser i Norge.",
        "mapped_on": ago(80)
    })
}

fn norwegian_body() -> Value {
    json!({
        "levels": [
            { "skill": "listening", "level": "A2", "assessed_on": ago(20) },
            { "skill": "reading", "level": "A2", "assessed_on": ago(20) },
            { "skill": "writing", "level": "A1", "assessed_on": ago(20) },
            { "skill": "oral", "level": "B1", "assessed_on": ago(20) }
        ],
        "tests": [
            { "test": "norskproven_oral", "taken_on": ago(15), "result": "B1" },
            { "test": "norskproven_writing", "taken_on": ago(15), "result": "below_A1" },
            { "test": "social_studies_test", "taken_on": ago(15), "result": "passed" }
        ],
        "course_hours_planned": 300,
        "course_hours_attended": 270
    })
}

fn element_body(kind: &str, from_ago: i64, to_ago: i64, planned: f64, attended: f64) -> Value {
    json!({
        "kind": kind,
        "title": format!("{kind} element"),
        "start_date": ago(from_ago),
        "end_date": ago(to_ago),
        "hours_planned": planned,
        "hours_attended": attended,
        "language_of_instruction": "nb",
        "outcome": "Fullført."
    })
}

fn placement_body() -> Value {
    json!({
        "kind": "work_practice",
        "employer_name": "Kiwi Lundsiden",
        "start_date": ago(40),
        "end_date": ago(10),
        "hours": 96,
        "tasks": "Varemottak, påfylling av hyller.",
        "employer_feedback": null
    })
}

/// A participant created through the API, with one record of every part.
struct Fixture {
    pid: String,
    duf: String,
    eid: String,
    plid: String,
}

impl Fixture {
    fn p(&self) -> String {
        format!("/api/v1/participants/{}", self.pid)
    }
}

async fn create_participant(
    app: &TestApp,
    token: &str,
    given: &str,
    family: &str,
) -> (String, String) {
    let duf = new_duf();
    let r = app
        .post(
            "/api/v1/participants",
            Some(token),
            &participant_body(given, family, &duf),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    (id_of(&r), duf)
}

async fn fixture(app: &TestApp, token: &str) -> Fixture {
    let (pid, duf) = create_participant(app, token, "Selam", "Ghebrezgiabher").await;
    let base = format!("/api/v1/participants/{pid}");
    let r = put(
        app,
        &format!("{base}/competence-mapping"),
        token,
        &mapping_body(),
        None,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = put(
        app,
        &format!("{base}/norwegian-training"),
        token,
        &norwegian_body(),
        None,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .post(
            &format!("{base}/programme-elements"),
            Some(token),
            &element_body("norwegian", 60, 20, 100.0, 90.0),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let eid = id_of(&r);
    let r = app
        .post(
            &format!("{base}/placements"),
            Some(token),
            &placement_body(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let plid = id_of(&r);
    Fixture {
        pid,
        duf,
        eid,
        plid,
    }
}

/// The current ETag of a resource, as its owner sees it (`"1"` when it does not exist).
async fn current_etag(app: &TestApp, owner_token: &str, path: &str) -> String {
    let r = app.get(path, owner_token).await;
    if r.status == 200 {
        etag(&r)
    } else {
        "\"1\"".to_owned()
    }
}

fn ids(r: &Res) -> Vec<String> {
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {}", r.text))
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn audit_scalar(app: &TestApp, sql: &str, binds: &[&str]) -> i64 {
    let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()));
    for b in binds {
        q = q.bind(b.to_string());
    }
    q.fetch_one(&app.pool).await.unwrap()
}

// ---------------------------------------------------------------------------------------------
// 1. Access
// ---------------------------------------------------------------------------------------------

/// How an account relates to the participant under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Centre staff of the owning reception centre: reads and writes.
    Owner,
    /// Career counsellor of the career centre serving the owning centre: reads only.
    Serving,
    /// Centre staff of another reception centre: the participant does not exist for them.
    OtherCentre,
    /// Career counsellor of a career centre serving another centre: 404 reads, 403 writes.
    OtherCareerCentre,
    /// Administrators and municipality staff: no grant at all.
    NoGrant,
    /// No token.
    Anonymous,
}

/// The table of expectations: every demo account against a Kristiansand participant.
const KRS_ACCESS: [(&str, Access); 13] = [
    (who::OPERATOR_ADMIN, Access::NoGrant),
    (who::KRS_ADMIN, Access::NoGrant),
    (who::KRS_STAFF, Access::Owner),
    (who::STJ_ADMIN, Access::NoGrant),
    (who::STJ_STAFF, Access::OtherCentre),
    (who::AGDER_ADMIN, Access::NoGrant),
    (who::AGDER_COUNSELLOR, Access::Serving),
    (who::TRD_CC_ADMIN, Access::NoGrant),
    (who::TRD_COUNSELLOR, Access::OtherCareerCentre),
    (who::KOMMUNE_KRS_ADMIN, Access::NoGrant),
    (who::KOMMUNE_KRS_STAFF, Access::NoGrant),
    (who::KOMMUNE_TRD_ADMIN, Access::NoGrant),
    (who::KOMMUNE_TRD_STAFF, Access::NoGrant),
];

#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Reading one participant's data; the owner gets this status.
    Read(u16),
    /// Changing one participant's data; the owner gets this status.
    Write(u16),
    /// `GET /participants`: 200 for every role with a grant, listing only what it may see.
    List,
    /// `POST /participants`: creates at the caller's own centre.
    Create,
}

/// The status an account should get; for `List`, also whether the participant is listed.
fn expected(kind: Kind, access: Access) -> (u16, Option<bool>) {
    use Access::*;
    match (kind, access) {
        (_, Anonymous) => (401, None),
        (_, NoGrant) => (403, None),
        (Kind::Read(s), Owner | Serving) => (s, None),
        (Kind::Read(_), OtherCentre | OtherCareerCentre) => (404, None),
        (Kind::Write(s), Owner) => (s, None),
        (Kind::Write(_), OtherCentre) => (404, None),
        (Kind::Write(_), Serving | OtherCareerCentre) => (403, None),
        (Kind::List, Owner | Serving) => (200, Some(true)),
        (Kind::List, OtherCentre | OtherCareerCentre) => (200, Some(false)),
        (Kind::Create, Owner | OtherCentre) => (201, None),
        (Kind::Create, Serving | OtherCareerCentre) => (403, None),
    }
}

/// One route of the matrix.
struct Route {
    name: &'static str,
    method: Method,
    path: String,
    kind: Kind,
    /// Where to read the current ETag for `If-Match` (writes that need one).
    etag_of: Option<String>,
}

fn routes(fx: &Fixture) -> Vec<Route> {
    let p = fx.p();
    let el = format!("{p}/programme-elements/{}", fx.eid);
    let pl = format!("{p}/placements/{}", fx.plid);
    let r = |name, method, path: String, kind, etag_of: Option<String>| Route {
        name,
        method,
        path,
        kind,
        etag_of,
    };
    use Kind::*;
    vec![
        r(
            "list participants",
            Method::GET,
            "/api/v1/participants".into(),
            List,
            None,
        ),
        r(
            "create participant",
            Method::POST,
            "/api/v1/participants".into(),
            Create,
            None,
        ),
        r(
            "lookup",
            Method::POST,
            "/api/v1/participants/lookup".into(),
            Read(200),
            None,
        ),
        r("get participant", Method::GET, p.clone(), Read(200), None),
        r(
            "patch participant",
            Method::PATCH,
            p.clone(),
            Write(200),
            Some(p.clone()),
        ),
        r(
            "record",
            Method::GET,
            format!("{p}/record"),
            Read(200),
            None,
        ),
        r(
            "history",
            Method::GET,
            format!("{p}/history"),
            Read(200),
            None,
        ),
        r(
            "get mapping",
            Method::GET,
            format!("{p}/competence-mapping"),
            Read(200),
            None,
        ),
        r(
            "put mapping",
            Method::PUT,
            format!("{p}/competence-mapping"),
            Write(200),
            Some(format!("{p}/competence-mapping")),
        ),
        r(
            "get norwegian",
            Method::GET,
            format!("{p}/norwegian-training"),
            Read(200),
            None,
        ),
        r(
            "put norwegian",
            Method::PUT,
            format!("{p}/norwegian-training"),
            Write(200),
            Some(format!("{p}/norwegian-training")),
        ),
        r(
            "list elements",
            Method::GET,
            format!("{p}/programme-elements"),
            Read(200),
            None,
        ),
        r(
            "create element",
            Method::POST,
            format!("{p}/programme-elements"),
            Write(201),
            None,
        ),
        r("get element", Method::GET, el.clone(), Read(200), None),
        r(
            "patch element",
            Method::PATCH,
            el.clone(),
            Write(200),
            Some(el.clone()),
        ),
        r(
            "list placements",
            Method::GET,
            format!("{p}/placements"),
            Read(200),
            None,
        ),
        r(
            "create placement",
            Method::POST,
            format!("{p}/placements"),
            Write(201),
            None,
        ),
        r("get placement", Method::GET, pl.clone(), Read(200), None),
        r(
            "patch placement",
            Method::PATCH,
            pl.clone(),
            Write(200),
            Some(pl.clone()),
        ),
        // Deletes last: once the owner has deleted, later cells must not depend on the row.
        r(
            "delete element",
            Method::DELETE,
            el.clone(),
            Write(204),
            Some(el),
        ),
        r(
            "delete placement",
            Method::DELETE,
            pl.clone(),
            Write(204),
            Some(pl),
        ),
    ]
}

/// A valid body for a route (so a refusal is never a validation error in disguise).
fn body_for(route: &Route, fx: &Fixture, n: usize) -> Option<Value> {
    match route.name {
        "create participant" => Some(participant_body("Matrix", &format!("Cell{n}"), &new_duf())),
        "lookup" => Some(json!({ "duf_number": fx.duf })),
        "patch participant" => Some(json!({ "notes": format!("matrix cell {n}") })),
        "put mapping" => Some(mapping_body()),
        "put norwegian" => Some(norwegian_body()),
        "create element" => Some(element_body("social_studies", 30, 10, 20.0, 18.0)),
        "patch element" => Some(json!({ "outcome": format!("cell {n}") })),
        "create placement" => Some(placement_body()),
        "patch placement" => Some(json!({ "tasks": format!("cell {n}") })),
        _ => None,
    }
}

#[tokio::test]
async fn access_matrix_for_a_kristiansand_participant() {
    let app = spawn_app().await;
    let mut tokens = HashMap::new();
    for email in who::ALL {
        tokens.insert(email, app.token(email).await);
    }
    let owner = tokens[who::KRS_STAFF].clone();
    let fx = fixture(&app, &owner).await;
    // Every account appears exactly once in the table.
    assert_eq!(
        KRS_ACCESS.iter().map(|a| a.0).collect::<BTreeSet<_>>(),
        who::ALL.iter().copied().collect::<BTreeSet<_>>()
    );
    let mut columns: Vec<(Option<&str>, Access)> =
        KRS_ACCESS.iter().map(|(e, a)| (Some(*e), *a)).collect();
    columns.push((None, Access::Anonymous));

    let mut cells = 0;
    let mut failures = Vec::new();
    for route in routes(&fx) {
        for (email, access) in &columns {
            cells += 1;
            let body = body_for(&route, &fx, cells);
            let if_match = match &route.etag_of {
                Some(path) => Some(current_etag(&app, &owner, path).await),
                None => None,
            };
            let token = email.map(|e| tokens[e].as_str());
            let r = call(
                &app,
                route.method.clone(),
                &route.path,
                token,
                body.as_ref(),
                if_match.as_deref(),
            )
            .await;
            let (status, listed) = expected(route.kind, *access);
            let who = email.unwrap_or("(no token)");
            if r.status.as_u16() != status {
                failures.push(format!(
                    "{} as {who}: expected {status}, got {} {}",
                    route.name, r.status, r.text
                ));
                continue;
            }
            if status >= 400 {
                let ty = r.assert_problem(status);
                let want = match status {
                    401 => "urn:handover:problem:unauthenticated",
                    403 => "urn:handover:problem:forbidden",
                    _ => "urn:handover:problem:not-found",
                };
                assert_eq!(ty, want, "{} as {who}", route.name);
            }
            if let Some(listed) = listed {
                assert_eq!(
                    ids(&r).contains(&fx.pid),
                    listed,
                    "{} as {who}: {}",
                    route.name,
                    r.text
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing cells:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("access matrix: {cells} cells checked");
    assert_eq!(cells, 21 * 14);
    // The owner's deletes went through.
    let r = app
        .get(&format!("{}/programme-elements/{}", fx.p(), fx.eid), &owner)
        .await;
    r.assert_problem(404);
}

#[tokio::test]
async fn a_steinkjer_participant_is_hidden_from_the_agder_counsellor() {
    let app = spawn_app().await;
    let stj = app.token(who::STJ_STAFF).await;
    let agder = app.token(who::AGDER_COUNSELLOR).await;
    let trd = app.token(who::TRD_COUNSELLOR).await;
    // A demo participant of Steinkjer with programme elements and a placement.
    let list = app.get("/api/v1/participants?limit=200", &stj).await;
    assert_eq!(list.status, 200, "{}", list.text);
    let mut found = None;
    for p in list.body["items"].as_array().unwrap() {
        let pid = p["id"].as_str().unwrap();
        let els = app
            .get(
                &format!("/api/v1/participants/{pid}/programme-elements"),
                &stj,
            )
            .await;
        let pls = app
            .get(&format!("/api/v1/participants/{pid}/placements"), &stj)
            .await;
        let (Some(e), Some(pl)) = (
            els.body["items"].as_array().and_then(|a| a.first()),
            pls.body["items"].as_array().and_then(|a| a.first()),
        ) else {
            continue;
        };
        found = Some((
            pid.to_owned(),
            p["duf_number"].as_str().unwrap().to_owned(),
            e["id"].as_str().unwrap().to_owned(),
            pl["id"].as_str().unwrap().to_owned(),
        ));
        break;
    }
    let (pid, duf, eid, plid) = found.expect("a Steinkjer demo participant with a placement");
    let fx = Fixture {
        pid,
        duf,
        eid,
        plid,
    };
    let mut cells = 0;
    for route in routes(&fx) {
        if matches!(route.kind, Kind::List | Kind::Create) {
            continue;
        }
        let body = body_for(&route, &fx, cells);
        let if_match = match &route.etag_of {
            Some(path) => Some(current_etag(&app, &stj, path).await),
            None => None,
        };
        // The Agder counsellor: not serving Steinkjer.
        let (status, _) = expected(route.kind, Access::OtherCareerCentre);
        let r = call(
            &app,
            route.method.clone(),
            &route.path,
            Some(&agder),
            body.as_ref(),
            if_match.as_deref(),
        )
        .await;
        assert_eq!(
            r.status.as_u16(),
            status,
            "{} as Agder counsellor: {}",
            route.name,
            r.text
        );
        r.assert_problem(status);
        cells += 1;
        // The Trøndelag counsellor serves Steinkjer and reads everything there.
        if let Kind::Read(s) = route.kind {
            let r = call(
                &app,
                route.method.clone(),
                &route.path,
                Some(&trd),
                body.as_ref(),
                None,
            )
            .await;
            assert_eq!(
                r.status.as_u16(),
                s,
                "{} as Trøndelag counsellor: {}",
                route.name,
                r.text
            );
            cells += 1;
        }
    }
    println!("Steinkjer participant: {cells} cells checked");
    // The Agder counsellor's list holds no Steinkjer participant.
    let r = app.get("/api/v1/participants?limit=200", &agder).await;
    assert_eq!(r.status, 200);
    assert!(!ids(&r).contains(&fx.pid));
}

#[tokio::test]
async fn unknown_ids_answer_like_other_centres_participants() {
    let app = spawn_app().await;
    let krs = app.token(who::KRS_STAFF).await;
    let stj = app.token(who::STJ_STAFF).await;
    let fx = fixture(&app, &krs).await;
    let other = fixture(&app, &stj).await;
    let unknown = format!("/api/v1/participants/{}", Uuid::new_v4());
    let hidden = app.get(&other.p(), &krs).await;
    let missing = app.get(&unknown, &krs).await;
    assert_eq!(hidden.assert_problem(404), missing.assert_problem(404));
    assert_eq!(hidden.body["title"], missing.body["title"]);
    assert_eq!(hidden.body["detail"], missing.body["detail"]);
    // Not a UUID: 404 too.
    app.get("/api/v1/participants/not-a-uuid", &krs)
        .await
        .assert_problem(404);
    // Another participant's element or placement under our participant's path: 404.
    app.get(
        &format!("{}/programme-elements/{}", fx.p(), other.eid),
        &krs,
    )
    .await
    .assert_problem(404);
    app.get(&format!("{}/placements/{}", fx.p(), other.plid), &krs)
        .await
        .assert_problem(404);
    let r = app
        .patch(
            &format!("{}/programme-elements/{}", fx.p(), other.eid),
            &krs,
            &json!({ "outcome": "x" }),
            Some("\"1\""),
        )
        .await;
    r.assert_problem(404);
    let r = delete(
        &app,
        &format!("{}/placements/{}", fx.p(), other.plid),
        &krs,
        Some("\"1\""),
    )
    .await;
    r.assert_problem(404);
    // Not yet recorded: mapping and Norwegian training are 404 for a new participant.
    let (pid, _) = create_participant(&app, &krs, "Ny", "Deltaker").await;
    app.get(
        &format!("/api/v1/participants/{pid}/competence-mapping"),
        &krs,
    )
    .await
    .assert_problem(404);
    app.get(
        &format!("/api/v1/participants/{pid}/norwegian-training"),
        &krs,
    )
    .await
    .assert_problem(404);
    // Nothing was changed in the other centre's record.
    let r = app
        .get(&format!("{}/placements/{}", other.p(), other.plid), &stj)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["version"], 1);
}

// ---------------------------------------------------------------------------------------------
// 2. The whole record
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn done_when_staff_build_a_whole_record_and_read_it_back() {
    let app = spawn_app().await;
    let krs = app.token(who::KRS_STAFF).await;
    let counsellor = app.token(who::AGDER_COUNSELLOR).await;

    let duf = new_duf();
    let r = app
        .post(
            "/api/v1/participants",
            Some(&krs),
            &participant_body("Hiwet", "Tesfay", &duf),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let pid = id_of(&r);
    let base = format!("/api/v1/participants/{pid}");
    assert_eq!(r.header("location"), Some(base.as_str()));
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert_eq!(r.body["version"], 1);
    assert_eq!(r.body["status"], "in_programme");
    assert_eq!(
        r.body["reception_centre_id"].as_str().unwrap(),
        app.org_of(who::KRS_STAFF).await.to_string()
    );

    let r = put(
        &app,
        &format!("{base}/competence-mapping"),
        &krs,
        &mapping_body(),
        None,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["mapped_by_name"], STAFF_NAME);
    assert_eq!(r.body["digital_skills"], "basic");

    let r = put(
        &app,
        &format!("{base}/norwegian-training"),
        &krs,
        &norwegian_body(),
        None,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let skills: BTreeSet<&str> = r.body["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["skill"].as_str().unwrap())
        .collect();
    assert_eq!(
        skills,
        BTreeSet::from(["listening", "oral", "reading", "writing"])
    );

    // Three elements: 100/90 and 50/40 hours of Norwegian, 30/25 of social studies.
    let mut eids = Vec::new();
    for body in [
        element_body("norwegian", 60, 20, 100.0, 90.0),
        element_body("norwegian", 60, 20, 50.0, 40.0),
        element_body("social_studies", 50, 30, 30.0, 25.0),
    ] {
        let r = app
            .post(&format!("{base}/programme-elements"), Some(&krs), &body)
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["participant_id"], pid.as_str());
        eids.push(id_of(&r));
    }
    let r = app
        .post(&format!("{base}/placements"), Some(&krs), &placement_body())
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let plid = id_of(&r);

    for token in [&krs, &counsellor] {
        let r = app.get(&format!("{base}/record"), token).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let rec = &r.body;
        assert_eq!(rec["participant"]["id"], pid.as_str());
        assert_eq!(rec["participant"]["duf_number"], duf.as_str());
        assert_eq!(
            rec["competence_mapping"]["education"][0]["level"],
            "upper_secondary"
        );
        assert_eq!(rec["competence_mapping"]["driving_licences"], json!(["B"]));
        assert_eq!(
            rec["norwegian_training"]["levels"]
                .as_array()
                .unwrap()
                .len(),
            4
        );
        assert_eq!(
            rec["norwegian_training"]["tests"].as_array().unwrap().len(),
            3
        );
        assert_eq!(
            f(&rec["norwegian_training"]["course_hours_attended"]),
            270.0
        );
        let got: BTreeSet<&str> = rec["programme_elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap())
            .collect();
        assert_eq!(got, eids.iter().map(String::as_str).collect());
        assert_eq!(rec["placements"][0]["id"], plid.as_str());
        assert_eq!(f(&rec["placements"][0]["hours"]), 96.0);

        let a = &rec["attendance"];
        assert_eq!(f(&a["hours_planned"]), 180.0);
        assert_eq!(f(&a["hours_attended"]), 155.0);
        // 155 / 180 = 86.111…
        assert_eq!(f(&a["percent"]), 86.1);
        let by = a["by_kind"].as_array().unwrap();
        assert_eq!(by.len(), 2, "{a}");
        assert_eq!(by[0]["kind"], "norwegian");
        assert_eq!(by[0]["elements"], 2);
        assert_eq!(f(&by[0]["hours_planned"]), 150.0);
        assert_eq!(f(&by[0]["hours_attended"]), 130.0);
        // 130 / 150 = 86.666…
        assert_eq!(f(&by[0]["percent"]), 86.7);
        assert_eq!(by[1]["kind"], "social_studies");
        assert_eq!(by[1]["elements"], 1);
        // 25 / 30 = 83.333…
        assert_eq!(f(&by[1]["percent"]), 83.3);

        assert_eq!(rec["last_updated_by"], STAFF_NAME);
        assert!(rec["last_updated_at"].is_string(), "{rec}");
    }

    // The element list computes the same attendance.
    let r = app.get(&format!("{base}/programme-elements"), &krs).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 3);
    assert_eq!(f(&r.body["attendance"]["percent"]), 86.1);

    // Attendance follows the elements: after raising attended hours it is recomputed.
    let el = format!("{base}/programme-elements/{}", eids[2]);
    let r = app
        .patch(&el, &krs, &json!({ "hours_attended": 30 }), Some("\"1\""))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app.get(&format!("{base}/record"), &krs).await;
    assert_eq!(f(&r.body["attendance"]["hours_attended"]), 160.0);
    // 160 / 180 = 88.888…
    assert_eq!(f(&r.body["attendance"]["percent"]), 88.9);
    assert_eq!(f(&r.body["attendance"]["by_kind"][1]["percent"]), 100.0);

    // A new participant has nothing planned: percent is null, nothing by kind, and the record
    // was last updated by whoever registered them.
    let (fresh, _) = create_participant(&app, &krs, "Tom", "Journal").await;
    let r = app
        .get(&format!("/api/v1/participants/{fresh}/record"), &krs)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(f(&r.body["attendance"]["hours_planned"]), 0.0);
    assert!(r.body["attendance"]["percent"].is_null());
    assert_eq!(r.body["attendance"]["by_kind"], json!([]));
    assert!(r.body["competence_mapping"].is_null());
    assert!(r.body["norwegian_training"].is_null());
    assert_eq!(r.body["last_updated_by"], STAFF_NAME);
}

// ---------------------------------------------------------------------------------------------
// 3. Validation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn participant_validation_names_the_field() {
    let app = spawn_app().await;
    let krs = app.token(who::KRS_STAFF).await;
    let with = |change: &dyn Fn(&mut Value)| {
        let mut b = participant_body("Validerina", "Sjekkesen", &new_duf());
        change(&mut b);
        b
    };
    let long_notes = "x".repeat(4001);
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "DUF number of 11 digits",
            with(&|b| b["duf_number"] = json!("20241234567")),
            "duf_number",
            "invalid_duf_number",
        ),
        (
            "DUF number with letters",
            with(&|b| b["duf_number"] = json!("2024ab345678")),
            "duf_number",
            "invalid_duf_number",
        ),
        (
            "D-number with wrong check digits",
            with(&|b| b["d_number"] = json!("41019012394")),
            "d_number",
            "invalid_d_number",
        ),
        (
            "birth number instead of D-number",
            with(&|b| b["d_number"] = json!("01019012393")),
            "d_number",
            "invalid_d_number",
        ),
        (
            "neither identifier",
            with(&|b| {
                b.as_object_mut().unwrap().remove("duf_number");
            }),
            "duf_number",
            "required",
        ),
        (
            "both identifiers null",
            with(&|b| {
                b["duf_number"] = Value::Null;
                b["d_number"] = Value::Null;
            }),
            "duf_number",
            "required",
        ),
        (
            "17 years old at arrival",
            with(&|b| {
                b["arrival_date"] = json!(ago(100));
                let dob = OffsetDateTime::now_utc().date() - Duration::days(100 + 17 * 365);
                b["date_of_birth"] = json!(dob.to_string());
            }),
            "date_of_birth",
            "implausible_age",
        ),
        (
            "arrival in the future",
            with(&|b| {
                b["arrival_date"] = json!(ahead(3));
                b["programme_start"] = Value::Null;
            }),
            "arrival_date",
            "in_future",
        ),
        (
            "programme end before start",
            with(&|b| {
                b["programme_start"] = json!(ago(50));
                b["programme_end"] = json!(ago(60));
            }),
            "programme_end",
            "before_start",
        ),
        (
            "programme start before arrival",
            with(&|b| b["programme_start"] = json!(ago(200))),
            "programme_start",
            "before_arrival",
        ),
        (
            "language as a name",
            with(&|b| b["languages"][0]["language"] = json!("Tigrinya")),
            "languages[0].language",
            "invalid_language",
        ),
        (
            "interpreter language in capitals",
            with(&|b| b["interpreter_language"] = json!("TI")),
            "interpreter_language",
            "invalid_language",
        ),
        (
            "notes over 4000 characters",
            with(&|b| b["notes"] = json!(long_notes)),
            "notes",
            "too_long",
        ),
        (
            "empty family name",
            with(&|b| b["family_name"] = json!("   ")),
            "family_name",
            "required",
        ),
    ];
    let n = cases.len();
    for (what, body, field, code) in cases {
        let r = app.post("/api/v1/participants", Some(&krs), &body).await;
        assert_invalid(&r, field, code, what);
    }
    // Exactly 4000 characters of notes is fine.
    let ok = with(&|b| b["notes"] = json!("y".repeat(4000)));
    let r = app.post("/api/v1/participants", Some(&krs), &ok).await;
    assert_eq!(r.status, 201, "{}", r.text);
    // A PATCH that would make the participant invalid is refused the same way.
    let pid = id_of(&r);
    let r = app
        .patch(
            &format!("/api/v1/participants/{pid}"),
            &krs,
            &json!({ "duf_number": null }),
            Some("\"1\""),
        )
        .await;
    assert_invalid(
        &r,
        "duf_number",
        "required",
        "patch clearing the only identifier",
    );
    let r = app
        .patch(
            &format!("/api/v1/participants/{pid}"),
            &krs,
            &json!({ "programme_end": ago(95) }),
            Some("\"1\""),
        )
        .await;
    assert_invalid(
        &r,
        "programme_end",
        "before_start",
        "patch with end before start",
    );
    println!("{n} invalid participants refused");
    // Nothing invalid was stored.
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM participants WHERE given_name = 'Validerina' AND family_name = 'Sjekkesen'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn unknown_fields_and_values_are_refused() {
    let app = spawn_app().await;
    let krs = app.token(who::KRS_STAFF).await;
    let fx = fixture(&app, &krs).await;
    let other_centre = app.org_of(who::STJ_STAFF).await.to_string();
    for (field, value) in [
        ("id", json!(Uuid::new_v4().to_string())),
        ("reception_centre_id", json!(other_centre)),
        ("version", json!(7)),
        ("created_at", json!("2020-01-01T00:00:00Z")),
    ] {
        let mut b = participant_body("Omar", "Darwish", &new_duf());
        b[field] = value.clone();
        let r = app.post("/api/v1/participants", Some(&krs), &b).await;
        r.assert_problem(422);
        let errs = field_errors(&r);
        assert!(
            errs.iter().any(|(_, c)| c == "unknown_field") && r.text.contains(field),
            "create with {field}: {}",
            r.text
        );
        let mut patch = serde_json::Map::new();
        patch.insert(field.to_owned(), value.clone());
        let r = app
            .patch(&fx.p(), &krs, &Value::Object(patch), Some("\"1\""))
            .await;
        r.assert_problem(422);
        assert!(
            field_errors(&r).iter().any(|(_, c)| c == "unknown_field"),
            "patch with {field}: {}",
            r.text
        );
    }
    // The participant stayed at its centre, at version 1.
    let r = app.get(&fx.p(), &krs).await;
    assert_eq!(r.body["version"], 1);
    assert_eq!(
        r.body["reception_centre_id"].as_str().unwrap(),
        app.org_of(who::KRS_STAFF).await.to_string()
    );
    // Unknown enum values name the field.
    let mut b = participant_body("Omar", "Darwish", &new_duf());
    b["status"] = json!("asleep");
    let r = app.post("/api/v1/participants", Some(&krs), &b).await;
    assert_invalid(&r, "status", "invalid_value", "unknown status");
    let mut b = participant_body("Omar", "Darwish", &new_duf());
    b["languages"][1]["level"] = json!("expert");
    let r = app.post("/api/v1/participants", Some(&krs), &b).await;
    assert_invalid(
        &r,
        "languages[1].level",
        "invalid_value",
        "unknown language level",
    );
    let mut e = element_body("knitting", 10, 5, 10.0, 10.0);
    let r = app
        .post(&format!("{}/programme-elements", fx.p()), Some(&krs), &e)
        .await;
    assert_invalid(&r, "kind", "invalid_value", "unknown element kind");
    e["kind"] = json!("norwegian");
    e["id"] = json!(Uuid::new_v4().to_string());
    let r = app
        .post(&format!("{}/programme-elements", fx.p()), Some(&krs), &e)
        .await;
    r.assert_problem(422);
    assert!(field_errors(&r).iter().any(|(_, c)| c == "unknown_field"));
    let mut nt = norwegian_body();
    nt["levels"][0]["level"] = json!("D9");
    let r = put(
        &app,
        &format!("{}/norwegian-training", fx.p()),
        &krs,
        &nt,
        Some("\"1\""),
    )
    .await;
    assert_invalid(&r, "levels[0].level", "invalid_value", "unknown CEFR level");
    // A wrong type names the field too.
    let mut b = participant_body("Omar", "Darwish", &new_duf());
    b["date_of_birth"] = json!("17.05.1990");
    let r = app.post("/api/v1/participants", Some(&krs), &b).await;
    r.assert_problem(422);
    assert_eq!(
        r.invalid_fields(),
        vec!["date_of_birth".to_owned()],
        "{}",
        r.text
    );
}

#[tokio::test]
async fn programme_record_validation_names_the_field() {
    let app = spawn_app().await;
    let krs = app.token(who::KRS_STAFF).await;
    let (pid, _) = create_participant(&app, &krs, "Layla", "Haddad").await;
    let base = format!("/api/v1/participants/{pid}");
    let elements = format!("{base}/programme-elements");

    let mut end_before = element_body("norwegian", 10, 20, 10.0, 10.0);
    end_before["title"] = json!("end before start");
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "element ending before it starts",
            end_before,
            "end_date",
            "before_start",
        ),
        (
            "negative planned hours",
            element_body("norwegian", 20, 10, -5.0, 0.0),
            "hours_planned",
            "out_of_range",
        ),
        (
            "negative attended hours",
            element_body("norwegian", 20, 10, 5.0, -1.0),
            "hours_attended",
            "out_of_range",
        ),
        (
            "500 hours in a 3-day element",
            element_body("norwegian", 12, 10, 500.0, 10.0),
            "hours_planned",
            "implausible",
        ),
        (
            "more than 2000 hours",
            element_body("norwegian", 900, 10, 2500.0, 10.0),
            "hours_planned",
            "out_of_range",
        ),
        (
            "element starting in the future",
            {
                let mut e = element_body("norwegian", 1, 1, 5.0, 0.0);
                e["start_date"] = json!(ahead(5));
                e["end_date"] = json!(ahead(6));
                e
            },
            "start_date",
            "in_future",
        ),
        (
            "language of instruction as a name",
            {
                let mut e = element_body("norwegian", 20, 10, 5.0, 5.0);
                e["language_of_instruction"] = json!("Norwegian");
                e
            },
            "language_of_instruction",
            "invalid_language",
        ),
    ];
    for (what, body, field, code) in cases {
        let r = app.post(&elements, Some(&krs), &body).await;
        assert_invalid(&r, field, code, what);
    }
    // 36 hours fit in three days of at most 12 hours.
    let r = app
        .post(
            &elements,
            Some(&krs),
            &element_body("norwegian", 12, 10, 36.0, 36.0),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // A PATCH that breaks the period is refused too.
    let el = format!("{elements}/{}", id_of(&r));
    let r = app
        .patch(&el, &krs, &json!({ "hours_attended": 37 }), Some("\"1\""))
        .await;
    assert_invalid(
        &r,
        "hours_attended",
        "implausible",
        "patch beyond the period",
    );

    // Placements.
    let mut p = placement_body();
    p["end_date"] = json!(ago(50));
    let r = app
        .post(&format!("{base}/placements"), Some(&krs), &p)
        .await;
    assert_invalid(&r, "end_date", "before_start", "placement end before start");
    let mut p = placement_body();
    p["hours"] = json!(-1);
    let r = app
        .post(&format!("{base}/placements"), Some(&krs), &p)
        .await;
    assert_invalid(&r, "hours", "out_of_range", "negative placement hours");
    let mut p = placement_body();
    p["employer_name"] = json!("");
    let r = app
        .post(&format!("{base}/placements"), Some(&krs), &p)
        .await;
    assert_invalid(
        &r,
        "employer_name",
        "required",
        "placement without employer",
    );

    // Norwegian training.
    let nt = format!("{base}/norwegian-training");
    let mut b = norwegian_body();
    b["tests"][0]["result"] = json!("passed");
    let r = put(&app, &nt, &krs, &b, None).await;
    assert_invalid(
        &r,
        "tests[0].result",
        "result_does_not_fit_test",
        "Norskprøven passed",
    );
    let mut b = norwegian_body();
    b["tests"][2]["result"] = json!("B1");
    let r = put(&app, &nt, &krs, &b, None).await;
    assert_invalid(
        &r,
        "tests[2].result",
        "result_does_not_fit_test",
        "social studies at B1",
    );
    let mut b = norwegian_body();
    b["levels"][1]["skill"] = json!("listening");
    let r = put(&app, &nt, &krs, &b, None).await;
    assert_invalid(&r, "levels[1].skill", "duplicate", "the same skill twice");
    let mut b = norwegian_body();
    b["course_hours_attended"] = json!(-3);
    let r = put(&app, &nt, &krs, &b, None).await;
    assert_invalid(
        &r,
        "course_hours_attended",
        "out_of_range",
        "negative course hours",
    );
    let mut b = norwegian_body();
    b["levels"][0]["assessed_on"] = json!(ahead(4));
    let r = put(&app, &nt, &krs, &b, None).await;
    assert_invalid(
        &r,
        "levels[0].assessed_on",
        "in_future",
        "assessed in the future",
    );

    // Competence mapping.
    let cm = format!("{base}/competence-mapping");
    let mut b = mapping_body();
    b["driving_licences"] = json!(["B", "XL"]);
    let r = put(&app, &cm, &krs, &b, None).await;
    assert_invalid(
        &r,
        "driving_licences[1]",
        "invalid_licence_class",
        "licence class",
    );
    let mut b = mapping_body();
    b["education"][0]["country"] = json!("Eritrea");
    let r = put(&app, &cm, &krs, &b, None).await;
    assert_invalid(
        &r,
        "education[0].country",
        "invalid_country",
        "country name",
    );
    let mut b = mapping_body();
    b["own_goals"] = json!("z".repeat(2001));
    let r = put(&app, &cm, &krs, &b, None).await;
    assert_invalid(&r, "own_goals", "too_long", "own goals too long");

    // Nothing was stored by the refused requests.
    app.get(&nt, &krs).await.assert_problem(404);
    app.get(&cm, &krs).await.assert_problem(404);
    let r = app.get(&elements, &krs).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    let r = app.get(&format!("{base}/placements"), &krs).await;
    assert_eq!(r.body["items"], json!([]));
}

#[tokio::test]
async fn duplicate_identifiers_conflict() {
    let app = spawn_app().await;
    let krs = app.token(who::KRS_STAFF).await;
    let stj = app.token(who::STJ_STAFF).await;
    let (pid, duf) = create_participant(&app, &krs, "Farid", "Rahimi").await;
    // The same DUF number again, at the same centre or at another one.
    for token in [&krs, &stj] {
        let r = app
            .post(
                "/api/v1/participants",
                Some(token),
                &participant_body("Farid", "Rahimi", &duf),
            )
            .await;
        assert_eq!(
            r.assert_problem(409),
            "urn:handover:problem:conflict",
            "{}",
            r.text
        );
        assert!(
            !r.text.contains(&duf),
            "the answer repeats the DUF number: {}",
            r.text
        );
    }
    // The same D-number.
    let d = "41019012393";
    let mut b = participant_body("Zainab", "Hosseini", &new_duf());
    b["d_number"] = json!(d);
    let r = app.post("/api/v1/participants", Some(&krs), &b).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let mut b = participant_body("Zainab", "Hosseini", &new_duf());
    b["d_number"] = json!(d);
    let r = app.post("/api/v1/participants", Some(&krs), &b).await;
    r.assert_problem(409);
    // A PATCH onto another participant's DUF number.
    let (other, _) = create_participant(&app, &krs, "Mahmoud", "Karimi").await;
    let r = app
        .patch(
            &format!("/api/v1/participants/{other}"),
            &krs,
            &json!({ "duf_number": duf }),
            Some("\"1\""),
        )
        .await;
    r.assert_problem(409);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM participants WHERE duf_number = $1")
        .bind(&duf)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
    let r = app.get(&format!("/api/v1/participants/{pid}"), &krs).await;
    assert_eq!(r.body["duf_number"], duf.as_str());
}

// ---------------------------------------------------------------------------------------------
// 4. Conditional updates
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn participant_patch_needs_the_current_if_match() {
    let app = spawn_app().await;
    let krs = app.token(who::KRS_STAFF).await;
    let (pid, _) = create_participant(&app, &krs, "Rania", "Nasser").await;
    let path = format!("/api/v1/participants/{pid}");
    let r = app.patch(&path, &krs, &json!({ "notes": "a" }), None).await;
    assert_eq!(
        r.assert_problem(428),
        "urn:handover:problem:precondition-required"
    );
    let r = app
        .patch(&path, &krs, &json!({ "notes": "a" }), Some("*"))
        .await;
    r.assert_problem(428);
    for stale in ["\"2\"", "\"0\"", "1", "W/\"9\"", "garbage"] {
        let r = app
            .patch(&path, &krs, &json!({ "notes": "a" }), Some(stale))
            .await;
        assert_eq!(
            r.assert_problem(412),
            "urn:handover:problem:precondition-failed",
            "If-Match {stale}"
        );
    }
    let r = app
        .patch(&path, &krs, &json!({ "notes": "b" }), Some("\"1\""))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some("\"2\""));
    assert_eq!(r.body["notes"], "b");
    assert_eq!(r.body["version"], 2);
    // The old ETag is stale now; a weak form of the current one never matches (If-Match
    // compares strongly), the current one does.
    let r = app
        .patch(&path, &krs, &json!({ "notes": "c" }), Some("\"1\""))
        .await;
    r.assert_problem(412);
    let r = app
        .patch(&path, &krs, &json!({ "notes": "c" }), Some("W/\"2\""))
        .await;
    r.assert_problem(412);
    let r = app
        .patch(&path, &krs, &json!({ "notes": "c" }), Some("\"2\""))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Absent fields stay, null clears.
    let r = app
        .patch(
            &path,
            &krs,
            &json!({ "interpreter_language": null }),
            Some("\"3\""),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["interpreter_language"].is_null());
    assert_eq!(r.body["notes"], "c");
    assert_eq!(r.body["given_name"], "Rania");
    // The refused attempts changed nothing.
    let r = app.get(&path, &krs).await;
    assert_eq!(r.body["version"], 4);
    assert_eq!(etag(&r), "\"4\"");
}

#[tokio::test]
async fn mapping_and_norwegian_puts_are_conditional() {
    let app = spawn_app().await;
    let krs = app.token(who::KRS_STAFF).await;
    let (pid, _) = create_participant(&app, &krs, "Iryna", "Bondarenko").await;
    for (doc, body) in [
        ("competence-mapping", mapping_body()),
        ("norwegian-training", norwegian_body()),
    ] {
        let path = format!("/api/v1/participants/{pid}/{doc}");
        // If-Match for a document that does not exist yet.
        let r = put(&app, &path, &krs, &body, Some("\"1\"")).await;
        r.assert_problem(412);
        let r = put(&app, &path, &krs, &body, None).await;
        assert_eq!(r.status, 201, "{doc}: {}", r.text);
        assert_eq!(r.header("etag"), Some("\"1\""), "{doc}");
        let r = put(&app, &path, &krs, &body, None).await;
        assert_eq!(
            r.assert_problem(428),
            "urn:handover:problem:precondition-required",
            "{doc}"
        );
        let r = put(&app, &path, &krs, &body, Some("\"5\"")).await;
        r.assert_problem(412);
        let mut changed = body.clone();
        if doc == "competence-mapping" {
            changed["digital_skills"] = json!("advanced");
        } else {
            changed["course_hours_attended"] = json!(280);
        }
        let r = put(&app, &path, &krs, &changed, Some("\"1\"")).await;
        assert_eq!(r.status, 200, "{doc}: {}", r.text);
        assert_eq!(r.header("etag"), Some("\"2\""), "{doc}");
        let r = put(&app, &path, &krs, &body, Some("\"1\"")).await;
        r.assert_problem(412);
        let r = app.get(&path, &krs).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["version"], 2, "{doc}");
        if doc == "competence-mapping" {
            assert_eq!(r.body["digital_skills"], "advanced");
        } else {
            assert_eq!(f(&r.body["course_hours_attended"]), 280.0);
        }
    }
}

#[tokio::test]
async fn element_and_placement_changes_need_if_match() {
    let app = spawn_app().await;
    let krs = app.token(who::KRS_STAFF).await;
    let fx = fixture(&app, &krs).await;
    for (path, patch) in [
        (
            format!("{}/programme-elements/{}", fx.p(), fx.eid),
            json!({ "outcome": "Bestått" }),
        ),
        (
            format!("{}/placements/{}", fx.p(), fx.plid),
            json!({ "employer_feedback": "Svært fornøyd." }),
        ),
    ] {
        app.patch(&path, &krs, &patch, None)
            .await
            .assert_problem(428);
        app.patch(&path, &krs, &patch, Some("\"2\""))
            .await
            .assert_problem(412);
        delete(&app, &path, &krs, None).await.assert_problem(428);
        delete(&app, &path, &krs, Some("\"2\""))
            .await
            .assert_problem(412);
        let r = app.patch(&path, &krs, &patch, Some("\"1\"")).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert_eq!(r.header("etag"), Some("\"2\""));
        // Deleting with the old version fails; with the current one it works, once.
        delete(&app, &path, &krs, Some("\"1\""))
            .await
            .assert_problem(412);
        let r = delete(&app, &path, &krs, Some("\"2\"")).await;
        assert_eq!(r.status, 204, "{path}: {}", r.text);
        assert!(r.text.is_empty());
        app.get(&path, &krs).await.assert_problem(404);
        delete(&app, &path, &krs, Some("\"2\""))
            .await
            .assert_problem(404);
    }
}

#[tokio::test]
async fn concurrent_participant_patches_have_one_winner() {
    let app = spawn_app().await;
    let krs = app.token(who::KRS_STAFF).await;
    for round in 0..3 {
        let (pid, _) = create_participant(&app, &krs, "Dmytro", "Melnyk").await;
        let path = format!("/api/v1/participants/{pid}");
        let a = json!({ "notes": format!("writer A, round {round}") });
        let b = json!({ "notes": format!("writer B, round {round}") });
        let (ra, rb) = tokio::join!(
            app.patch(&path, &krs, &a, Some("\"1\"")),
            app.patch(&path, &krs, &b, Some("\"1\"")),
        );
        let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "A: {} B: {}", ra.text, rb.text);
        let winner = if ra.status == 200 { &a } else { &b };
        let loser = if ra.status == 200 { &rb } else { &ra };
        loser.assert_problem(412);
        let r = app.get(&path, &krs).await;
        assert_eq!(r.body["notes"], winner["notes"]);
        assert_eq!(r.body["version"], 2);
        // One history row for the one change.
        let h = app.get(&format!("{path}/history"), &krs).await;
        assert_eq!(h.body["total"], 2, "{}", h.text);
    }
}

#[tokio::test]
async fn concurrent_element_patches_have_one_winner() {
    let app = spawn_app().await;
    let krs = app.token(who::KRS_STAFF).await;
    let fx = fixture(&app, &krs).await;
    let mut path = format!("{}/programme-elements/{}", fx.p(), fx.eid);
    for round in 0..3 {
        if round > 0 {
            let r = app
                .post(
                    &format!("{}/programme-elements", fx.p()),
                    Some(&krs),
                    &element_body("work_oriented", 30, 5, 40.0, 20.0),
                )
                .await;
            path = format!("{}/programme-elements/{}", fx.p(), id_of(&r));
        }
        let a = json!({ "hours_attended": 11 + round });
        let b = json!({ "hours_attended": 21 + round });
        let (ra, rb) = tokio::join!(
            app.patch(&path, &krs, &a, Some("\"1\"")),
            app.patch(&path, &krs, &b, Some("\"1\"")),
        );
        let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "A: {} B: {}", ra.text, rb.text);
        let winner = if ra.status == 200 { &a } else { &b };
        let r = app.get(&path, &krs).await;
        assert_eq!(f(&r.body["hours_attended"]), f(&winner["hours_attended"]));
        assert_eq!(r.body["version"], 2);
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM record_changes WHERE record_id = $1 AND operation = 'update'",
        )
        .bind(Uuid::parse_str(path.rsplit('/').next().unwrap()).unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(n, 1);
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Lookup
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn lookup_by_identifier_in_the_body() {
    let app = spawn_app().await;
    let krs = app.token(who::KRS_STAFF).await;
    let stj = app.token(who::STJ_STAFF).await;
    let agder = app.token(who::AGDER_COUNSELLOR).await;
    let trd = app.token(who::TRD_COUNSELLOR).await;
    let kommune = app.token(who::KOMMUNE_KRS_STAFF).await;
    let lookup = "/api/v1/participants/lookup";
    let (pid, duf) = create_participant(&app, &krs, "Amanuel", "Berhane").await;
    let d = "52038545647";
    let r = app
        .patch(
            &format!("/api/v1/participants/{pid}"),
            &krs,
            &json!({ "d_number": d }),
            Some("\"1\""),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    for (token, status) in [
        (&krs, 200),
        (&agder, 200),
        (&stj, 404),
        (&trd, 404),
        (&kommune, 403),
    ] {
        for body in [json!({ "duf_number": duf }), json!({ "d_number": d })] {
            let r = app.post(lookup, Some(token), &body).await;
            assert_eq!(r.status.as_u16(), status, "{body}: {}", r.text);
            if status == 200 {
                assert_eq!(r.body["id"], pid.as_str());
                assert_eq!(r.header("etag"), Some("\"2\""));
            } else {
                r.assert_problem(status);
            }
        }
    }
    // Another centre's participant answers like an unknown number.
    let unknown = app
        .post(lookup, Some(&stj), &json!({ "duf_number": "202399999999" }))
        .await;
    let hidden = app
        .post(lookup, Some(&stj), &json!({ "duf_number": duf }))
        .await;
    assert_eq!(unknown.assert_problem(404), hidden.assert_problem(404));
    assert_eq!(unknown.body["detail"], hidden.body["detail"]);
    // Both, neither or a malformed identifier: 422.
    let r = app
        .post(
            lookup,
            Some(&krs),
            &json!({ "duf_number": duf, "d_number": d }),
        )
        .await;
    assert_invalid(&r, "d_number", "not_allowed", "both identifiers");
    let r = app.post(lookup, Some(&krs), &json!({})).await;
    assert_invalid(&r, "duf_number", "required", "no identifier");
    let r = app
        .post(
            lookup,
            Some(&krs),
            &json!({ "duf_number": null, "d_number": null }),
        )
        .await;
    assert_invalid(&r, "duf_number", "required", "null identifiers");
    let r = app
        .post(lookup, Some(&krs), &json!({ "duf_number": "2024123" }))
        .await;
    assert_invalid(&r, "duf_number", "invalid_duf_number", "short DUF number");
    let r = app
        .post(
            lookup,
            Some(&krs),
            &json!({ "duf_number": duf, "name": "Amanuel" }),
        )
        .await;
    r.assert_problem(422);
    // The identifier travels only in a body: lookup is POST-only, and the list does not take it
    // as a query parameter.
    let r = app.get(&format!("{lookup}?duf_number={duf}"), &krs).await;
    assert!(
        r.status == 405 || r.status == 404,
        "{} {}",
        r.status,
        r.text
    );
    assert!(!r.text.contains(&pid));
    let r = app
        .get(&format!("/api/v1/participants?duf_number={duf}"), &krs)
        .await;
    r.assert_problem(422);
    assert!(!r.text.contains(&duf), "{}", r.text);
    // Successful lookups are audited, without the number.
    let rows = audit_scalar(
        &app,
        "SELECT count(*) FROM audit_log WHERE action = 'participant.lookup' AND target_id::text = $1",
        &[pid.as_str()],
    )
    .await;
    assert_eq!(rows, 4);
    let leaked = audit_scalar(
        &app,
        "SELECT count(*) FROM audit_log WHERE audit_log::text LIKE '%' || $1 || '%' OR audit_log::text LIKE '%' || $2 || '%'",
        &[duf.as_str(), d],
    )
    .await;
    assert_eq!(leaked, 0);
}

// ---------------------------------------------------------------------------------------------
// 6. Audit
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn reads_and_lists_are_audited() {
    let app = spawn_app().await;
    let krs = app.token(who::KRS_STAFF).await;
    let agder = app.token(who::AGDER_COUNSELLOR).await;
    let (pid, _) = create_participant(&app, &krs, "Hodan", "Warsame").await;
    let reads_before = app.audit_count("participant.read", "success").await;

    for (token, email) in [(&krs, who::KRS_STAFF), (&agder, who::AGDER_COUNSELLOR)] {
        let r = app.get(&format!("/api/v1/participants/{pid}"), token).await;
        assert_eq!(r.status, 200);
        let row: (String, String, String, String, String) = sqlx::query_as(
            "SELECT target_type, actor_org_id::text, actor_user_id::text, actor_role, outcome
             FROM audit_log WHERE action = 'participant.read' AND target_id = $1 AND actor_user_id = $2",
        )
        .bind(Uuid::parse_str(&pid).unwrap())
        .bind(app.user_id(email).await)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(row.0, "participant");
        assert_eq!(row.1, app.org_of(email).await.to_string());
        assert_eq!(row.2, app.user_id(email).await.to_string());
        assert_eq!(row.4, "success");
    }
    assert_eq!(
        app.audit_count("participant.read", "success").await,
        reads_before + 2
    );
    // The record, its parts and its history are reads too.
    for (path, action) in [
        ("record", "participant.record_read"),
        ("history", "participant.history_read"),
        ("programme-elements", "programme_element.read"),
        ("placements", "placement.read"),
    ] {
        let before = app.audit_count(action, "success").await;
        let r = app
            .get(&format!("/api/v1/participants/{pid}/{path}"), &agder)
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(
            app.audit_count(action, "success").await,
            before + 1,
            "{action}"
        );
    }

    // A list writes one row naming every participant returned.
    let before = app.audit_count("participant.list", "success").await;
    let r = app.get("/api/v1/participants?limit=5&offset=3", &krs).await;
    assert_eq!(r.status, 200);
    let listed: BTreeSet<String> = ids(&r).into_iter().collect();
    assert_eq!(listed.len(), 5);
    assert_eq!(
        app.audit_count("participant.list", "success").await,
        before + 1
    );
    let targets: Vec<String> = sqlx::query_scalar(
        "SELECT unnest(target_ids)::text FROM audit_log
         WHERE id = (SELECT max(id) FROM audit_log WHERE action = 'participant.list')",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(targets.into_iter().collect::<BTreeSet<_>>(), listed);
    let orgs: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT actor_org_id::text FROM audit_log WHERE action = 'participant.list'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(orgs, vec![app.org_of(who::KRS_STAFF).await.to_string()]);
    // An empty page writes nothing.
    let before = app.audit_count("participant.list", "success").await;
    let r = app
        .get("/api/v1/participants?name=nobody-has-this-name", &krs)
        .await;
    assert_eq!(r.body["total"], 0);
    assert_eq!(app.audit_count("participant.list", "success").await, before);
    // A counsellor's list is audited with the counsellor's organisation.
    let r = app.get("/api/v1/participants?limit=3", &agder).await;
    assert_eq!(r.status, 200);
    let agder_org = app.org_of(who::AGDER_COUNSELLOR).await.to_string();
    let n = audit_scalar(
        &app,
        "SELECT coalesce(sum(cardinality(target_ids)), 0)::bigint FROM audit_log
         WHERE action = 'participant.list' AND actor_org_id::text = $1",
        &[agder_org.as_str()],
    )
    .await;
    assert_eq!(n, 3);
}

#[tokio::test]
async fn writes_are_audited_without_personal_data() {
    let app = spawn_app().await;
    let krs = app.token(who::KRS_STAFF).await;
    let agder = app.token(who::AGDER_COUNSELLOR).await;
    let given = "Qwertyna";
    let family = "Zxcvbnsdottir";
    let (pid, duf) = create_participant(&app, &krs, given, family).await;
    let base = format!("/api/v1/participants/{pid}");
    let r = app
        .patch(
            &base,
            &krs,
            &json!({ "notes": "Hemmelig notat om helse" }),
            Some("\"1\""),
        )
        .await;
    assert_eq!(r.status, 200);
    put(
        &app,
        &format!("{base}/competence-mapping"),
        &krs,
        &mapping_body(),
        None,
    )
    .await;
    put(
        &app,
        &format!("{base}/norwegian-training"),
        &krs,
        &norwegian_body(),
        None,
    )
    .await;
    let r = app
        .post(
            &format!("{base}/programme-elements"),
            Some(&krs),
            &element_body("norwegian", 30, 10, 40.0, 30.0),
        )
        .await;
    let el = format!("{base}/programme-elements/{}", id_of(&r));
    let r = app
        .patch(&el, &krs, &json!({ "hours_attended": 35 }), Some("\"1\""))
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .post(&format!("{base}/placements"), Some(&krs), &placement_body())
        .await;
    let pl = format!("{base}/placements/{}", id_of(&r));
    assert_eq!(delete(&app, &pl, &krs, Some("\"1\"")).await.status, 204);
    // Reads and a lookup by the counsellor.
    app.get(&format!("{base}/record"), &agder).await;
    app.post(
        "/api/v1/participants/lookup",
        Some(&agder),
        &json!({ "duf_number": duf }),
    )
    .await;
    app.get(&format!("/api/v1/participants?name={given}"), &agder)
        .await;

    let org = app.org_of(who::KRS_STAFF).await.to_string();
    for action in [
        "participant.create",
        "participant.update",
        "competence_mapping.create",
        "norwegian_training.create",
        "programme_element.create",
        "programme_element.update",
        "placement.create",
        "placement.delete",
    ] {
        let n = audit_scalar(
            &app,
            "SELECT count(*) FROM audit_log WHERE action = $1 AND outcome = 'success'
               AND target_type = 'participant' AND target_id::text = $2 AND actor_org_id::text = $3",
            &[action, pid.as_str(), org.as_str()],
        )
        .await;
        assert_eq!(n, 1, "{action}");
    }
    // Refused writes leave no success rows.
    let r = app
        .patch(&el, &agder, &json!({ "hours_attended": 1 }), Some("\"2\""))
        .await;
    r.assert_problem(403);
    assert_eq!(
        app.audit_count("programme_element.update", "success").await,
        1
    );
    // No audit row holds the DUF number, a name or the notes.
    for needle in [duf.as_str(), given, family, "Hemmelig"] {
        let n = audit_scalar(
            &app,
            "SELECT count(*) FROM audit_log WHERE audit_log::text LIKE '%' || $1 || '%'",
            &[needle],
        )
        .await;
        assert_eq!(n, 0, "audit_log contains {needle}");
    }
}

// ---------------------------------------------------------------------------------------------
// 7. History
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn history_names_changed_fields_newest_first() {
    let app = spawn_app().await;
    let krs = app.token(who::KRS_STAFF).await;
    let agder = app.token(who::AGDER_COUNSELLOR).await;
    let (pid, _) = create_participant(&app, &krs, "Ayaan", "Farah").await;
    let base = format!("/api/v1/participants/{pid}");
    let r = app
        .patch(
            &base,
            &krs,
            &json!({ "notes": "Sensitiv merknad 4711" }),
            Some("\"1\""),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .patch(
            &base,
            &krs,
            &json!({ "given_name": "Ayaanah", "status": "settled", "family_name": "Farah" }),
            Some("\"2\""),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .post(
            &format!("{base}/programme-elements"),
            Some(&krs),
            &element_body("language_practice", 30, 10, 40.0, 30.0),
        )
        .await;
    let eid = id_of(&r);
    let r = app
        .patch(
            &format!("{base}/programme-elements/{eid}"),
            &krs,
            &json!({ "hours_attended": 38, "outcome": "Godt" }),
            Some("\"1\""),
        )
        .await;
    assert_eq!(r.status, 200);

    for token in [&krs, &agder] {
        let h = app.get(&format!("{base}/history"), token).await;
        assert_eq!(h.status, 200, "{}", h.text);
        assert_eq!(h.body["total"], 5);
        let items = h.body["items"].as_array().unwrap();
        let got: Vec<(&str, &str, Value)> = items
            .iter()
            .map(|i| {
                (
                    i["section"].as_str().unwrap(),
                    i["operation"].as_str().unwrap(),
                    i["fields"].clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "programme_element",
                    "update",
                    json!(["hours_attended", "outcome"])
                ),
                ("programme_element", "create", json!([])),
                ("participant", "update", json!(["given_name", "status"])),
                ("participant", "update", json!(["notes"])),
                ("participant", "create", json!([])),
            ],
            "{}",
            h.text
        );
        assert_eq!(items[0]["record_id"], eid.as_str());
        assert_eq!(items[4]["record_id"], pid.as_str());
        assert!(items.iter().all(|i| i["actor_name"] == STAFF_NAME));
        let times: Vec<&str> = items.iter().map(|i| i["at"].as_str().unwrap()).collect();
        let parsed: Vec<OffsetDateTime> = times
            .iter()
            .map(|t| {
                OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).unwrap()
            })
            .collect();
        assert!(parsed.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
        // Field names, never values.
        for value in ["Sensitiv merknad", "Ayaanah", "settled", "Godt"] {
            assert!(!h.text.contains(value), "history shows {value}: {}", h.text);
        }
    }
    // Paging.
    let h = app
        .get(&format!("{base}/history?limit=2&offset=1"), &krs)
        .await;
    assert_eq!(h.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(h.body["items"][0]["operation"], "create");
    assert_eq!(h.body["items"][0]["section"], "programme_element");
    app.get(&format!("{base}/history?limit=201"), &krs)
        .await
        .assert_problem(422);
}

// ---------------------------------------------------------------------------------------------
// 8. Lists
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn list_filters_by_status_and_arrival() {
    let app = spawn_app().await;
    let krs = app.token(who::KRS_STAFF).await;
    let all = app.get("/api/v1/participants?limit=200", &krs).await;
    assert_eq!(all.status, 200, "{}", all.text);
    let total = all.body["total"].as_i64().unwrap();
    assert_eq!(total, 20, "demo data: 20 participants at Kristiansand");
    let items = all.body["items"].as_array().unwrap().clone();

    let mut sum = 0;
    for status in ["in_programme", "settled", "left_programme"] {
        let r = app
            .get(
                &format!("/api/v1/participants?limit=200&status={status}"),
                &krs,
            )
            .await;
        assert_eq!(r.status, 200);
        let got = r.body["items"].as_array().unwrap();
        assert!(got.iter().all(|p| p["status"] == status), "{status}");
        let want = items.iter().filter(|p| p["status"] == status).count();
        assert!(want > 0, "demo data has {status}");
        assert_eq!(got.len(), want, "{status}");
        assert_eq!(r.body["total"].as_i64().unwrap(), want as i64);
        sum += want;
    }
    assert_eq!(sum as i64, total);
    app.get("/api/v1/participants?status=asleep", &krs)
        .await
        .assert_problem(422);

    // Arrival period, inclusive at both ends.
    let mut arrivals: Vec<&str> = items
        .iter()
        .map(|p| p["arrival_date"].as_str().unwrap())
        .collect();
    arrivals.sort_unstable();
    let (from, to) = (arrivals[4], arrivals[11]);
    let r = app
        .get(
            &format!("/api/v1/participants?limit=200&arrived_from={from}&arrived_to={to}"),
            &krs,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let want: BTreeSet<&str> = items
        .iter()
        .filter(|p| {
            let a = p["arrival_date"].as_str().unwrap();
            a >= from && a <= to
        })
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    let got: BTreeSet<String> = ids(&r).into_iter().collect();
    assert_eq!(got, want.iter().map(|s| s.to_string()).collect());
    assert_eq!(got.len(), 8);
    let r = app
        .get(&format!("/api/v1/participants?arrived_from={from}"), &krs)
        .await;
    assert_eq!(r.body["total"], 16);
    let r = app
        .get(&format!("/api/v1/participants?arrived_to={from}"), &krs)
        .await;
    assert_eq!(r.body["total"], 5);
    // Status and period together.
    let r = app
        .get(
            &format!(
                "/api/v1/participants?limit=200&status=settled&arrived_from={from}&arrived_to={to}"
            ),
            &krs,
        )
        .await;
    let want = items
        .iter()
        .filter(|p| {
            let a = p["arrival_date"].as_str().unwrap();
            p["status"] == "settled" && a >= from && a <= to
        })
        .count();
    assert_eq!(ids(&r).len(), want);
    // A period ending before it starts, or a date that is not a date.
    let r = app
        .get(
            &format!("/api/v1/participants?arrived_from={to}&arrived_to={from}"),
            &krs,
        )
        .await;
    assert_invalid(&r, "arrived_to", "before_start", "reversed period");
    app.get("/api/v1/participants?arrived_from=01.02.2025", &krs)
        .await
        .assert_problem(422);
}

#[tokio::test]
async fn list_name_search_is_case_insensitive_and_literal() {
    let app = spawn_app().await;
    let krs = app.token(who::KRS_STAFF).await;
    let (percent, _) = create_participant(&app, &krs, "Ola", "Pro%sent").await;
    let (under, _) = create_participant(&app, &krs, "Ola", "Pro_sent").await;
    let (plain, _) = create_participant(&app, &krs, "Ola", "Proxsent").await;
    let (backslash, _) = create_participant(&app, &krs, "Ola", "Pro\\sent").await;
    let search = |name: &str| format!("/api/v1/participants?limit=200&name={}", enc(name));
    let cases: Vec<(&str, Vec<&String>)> = vec![
        ("o%s", vec![&percent]),
        ("O_S", vec![&under]),
        ("o\\s", vec![&backslash]),
        ("PROXSENT", vec![&plain]),
        ("proxsent", vec![&plain]),
        ("pro", vec![&percent, &under, &plain, &backslash]),
        // Given and family name together.
        ("ola pro_", vec![&under]),
        ("%", vec![&percent]),
        ("_", vec![&under]),
    ];
    for (name, want) in cases {
        let r = app.get(&search(name), &krs).await;
        assert_eq!(r.status, 200, "{name}: {}", r.text);
        let got: BTreeSet<String> = ids(&r).into_iter().collect();
        let want: BTreeSet<String> = want.into_iter().cloned().collect();
        assert_eq!(got, want, "name={name}: {}", r.text);
    }
    // Demo names, case-insensitively.
    let r = app.get(&search("TESFAMARIAM"), &krs).await;
    let items = r.body["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|p| {
        format!("{} {}", p["given_name"], p["family_name"])
            .to_lowercase()
            .contains("tesfamariam")
    }));
    let r = app.get(&search(&"a".repeat(101)), &krs).await;
    assert_invalid(&r, "name", "too_long", "name of 101 characters");
}

#[tokio::test]
async fn list_order_is_stable_and_paging_is_checked() {
    let app = spawn_app().await;
    let krs = app.token(who::KRS_STAFF).await;
    // Two participants with the same name: the id breaks the tie. Names differing only in case
    // sort together.
    create_participant(&app, &krs, "Likt", "Navnesen").await;
    create_participant(&app, &krs, "Likt", "Navnesen").await;
    create_participant(&app, &krs, "likt", "navnesen").await;
    create_participant(&app, &krs, "Aaron", "aabakken").await;
    let all = app.get("/api/v1/participants?limit=200", &krs).await;
    assert_eq!(all.status, 200);
    let items = all.body["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 24);
    assert_eq!(all.body["total"], 24);
    assert_eq!(all.body["limit"], 200);
    assert_eq!(all.body["offset"], 0);
    assert_eq!(items[0]["family_name"], "aabakken");
    // The order is family name, given name (both ignoring case), then id; ask the database to
    // sort the same triples so collation rules agree.
    let fam: Vec<String> = items
        .iter()
        .map(|p| p["family_name"].as_str().unwrap().to_owned())
        .collect();
    let giv: Vec<String> = items
        .iter()
        .map(|p| p["given_name"].as_str().unwrap().to_owned())
        .collect();
    let idv: Vec<Uuid> = items
        .iter()
        .map(|p| Uuid::parse_str(p["id"].as_str().unwrap()).unwrap())
        .collect();
    let sorted: Vec<Uuid> = sqlx::query_scalar(
        "SELECT i FROM unnest($1::text[], $2::text[], $3::uuid[]) AS t(f, g, i)
         ORDER BY lower(f), lower(g), i",
    )
    .bind(&fam)
    .bind(&giv)
    .bind(&idv)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(sorted, idv);
    let same: Vec<Uuid> = items
        .iter()
        .filter(|p| {
            p["family_name"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case("navnesen")
        })
        .map(|p| Uuid::parse_str(p["id"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(same.len(), 3);
    assert!(same.windows(2).all(|w| w[0] < w[1]), "ties by id: {same:?}");
    // The same query twice gives the same order; pages put together give the whole list.
    let again = app.get("/api/v1/participants?limit=200", &krs).await;
    assert_eq!(ids(&again), ids(&all));
    let mut paged = Vec::new();
    for offset in (0..30).step_by(7) {
        let r = app
            .get(
                &format!("/api/v1/participants?limit=7&offset={offset}"),
                &krs,
            )
            .await;
        assert_eq!(r.status, 200);
        let page = ids(&r);
        // An empty page past the end reports total 0 (documented in page.rs).
        if !page.is_empty() {
            assert_eq!(r.body["total"], 24);
        }
        assert_eq!(page.len(), 24usize.saturating_sub(offset).min(7));
        assert_eq!(r.body["offset"], offset);
        paged.extend(page);
    }
    assert_eq!(paged, ids(&all));
    // Defaults and bounds.
    let r = app.get("/api/v1/participants", &krs).await;
    assert_eq!(r.body["limit"], 50);
    for bad in ["limit=201", "limit=0", "limit=-1", "offset=-1"] {
        let r = app.get(&format!("/api/v1/participants?{bad}"), &krs).await;
        r.assert_problem(422);
        let field = bad.split('=').next().unwrap();
        assert_eq!(
            r.invalid_fields(),
            vec![field.to_owned()],
            "{bad}: {}",
            r.text
        );
    }
    app.get("/api/v1/participants?limit=ten", &krs)
        .await
        .assert_problem(422);
    app.get("/api/v1/participants?colour=blue", &krs)
        .await
        .assert_problem(422);
}

#[tokio::test]
async fn lists_show_only_what_the_caller_may_read() {
    let app = spawn_app().await;
    let krs_org = app.org_of(who::KRS_STAFF).await.to_string();
    let stj_org = app.org_of(who::STJ_STAFF).await.to_string();
    let krs = app.token(who::KRS_STAFF).await;
    let (new_krs, _) = create_participant(&app, &krs, "Nadia", "Saleh").await;
    for (email, centre, total) in [
        (who::KRS_STAFF, &krs_org, 21),
        (who::AGDER_COUNSELLOR, &krs_org, 21),
        (who::STJ_STAFF, &stj_org, 20),
        (who::TRD_COUNSELLOR, &stj_org, 20),
    ] {
        let t = app.token(email).await;
        let r = app.get("/api/v1/participants?limit=200", &t).await;
        assert_eq!(r.status, 200, "{email}: {}", r.text);
        assert_eq!(r.body["total"], total, "{email}");
        let items = r.body["items"].as_array().unwrap();
        assert_eq!(items.len(), total, "{email}");
        assert!(
            items
                .iter()
                .all(|p| p["reception_centre_id"] == centre.as_str()),
            "{email} sees another centre's participants"
        );
        assert_eq!(ids(&r).contains(&new_krs), centre == &krs_org, "{email}");
    }
    for email in who::ALL {
        if [
            who::KRS_STAFF,
            who::AGDER_COUNSELLOR,
            who::STJ_STAFF,
            who::TRD_COUNSELLOR,
        ]
        .contains(&email)
        {
            continue;
        }
        let t = app.token(email).await;
        let r = app.get("/api/v1/participants", &t).await;
        assert_eq!(
            r.assert_problem(403),
            "urn:handover:problem:forbidden",
            "{email}"
        );
    }
    let r = app
        .request(Method::GET, "/api/v1/participants", None, None, &[])
        .await;
    r.assert_problem(401);
}

/// An update writes its history line and audit row in the same statement as the change: a stale
/// `If-Match` leaves neither, a matching one leaves exactly one of each.
#[tokio::test]
async fn an_update_and_its_history_and_audit_are_written_together() {
    let app = spawn_app().await;
    let krs = app.token(who::KRS_STAFF).await;
    let (pid, _) = create_participant(&app, &krs, "Samira", "Haji").await;
    let base = format!("/api/v1/participants/{pid}");
    for (path, body) in [
        (
            "programme-elements",
            element_body("social_studies", 30, 10, 50.0, 40.0),
        ),
        ("placements", placement_body()),
    ] {
        let r = app.post(&format!("{base}/{path}"), Some(&krs), &body).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let url = format!("{base}/{path}/{}", id_of(&r));
        let section = if path == "placements" {
            "placement"
        } else {
            "programme_element"
        };
        let action = format!("{section}.update");
        let lines = format!(
            "SELECT count(*) FROM record_changes WHERE participant_id::text = $1
               AND section = '{section}' AND operation = 'update'"
        );

        let field = if path == "placements" {
            "hours"
        } else {
            "hours_attended"
        };
        let stale = app
            .patch(&url, &krs, &json!({ field: 39 }), Some("\"7\""))
            .await;
        stale.assert_problem(412);
        assert_eq!(app.audit_count(&action, "success").await, 0, "{path}");
        assert_eq!(
            audit_scalar(&app, &lines, &[pid.as_str()]).await,
            0,
            "{path}"
        );

        let r = app
            .patch(&url, &krs, &json!({ field: 39 }), Some("\"1\""))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["version"], 2);
        assert_eq!(r.body[field].as_f64(), Some(39.0));
        assert_eq!(etag(&r), "\"2\"");
        assert_eq!(app.audit_count(&action, "success").await, 1, "{path}");
        assert_eq!(
            audit_scalar(&app, &lines, &[pid.as_str()]).await,
            1,
            "{path}"
        );
        let fields = audit_scalar(
            &app,
            &format!(
                "SELECT count(*) FROM record_changes WHERE participant_id::text = $1
                   AND section = '{section}' AND fields = ARRAY['{field}']"
            ),
            &[pid.as_str()],
        )
        .await;
        assert_eq!(fields, 1, "{path}: the history names the changed field");
    }
}

/// "Today" is the service's clock, read in Oslo: moving that clock forward makes an arrival
/// date that was in the future a valid one, without a test that sleeps for days.
#[tokio::test]
async fn today_is_the_injected_clock() {
    let app = spawn_app().await;
    let token = app.token(who::KRS_STAFF).await;
    let staff = app.participants(&token);
    let mut body = participant_body("Framtidig", "Ankomst", &new_duf());
    body["arrival_date"] = json!(ahead(3));
    body["programme_start"] = Value::Null;
    let r = staff.create(&body).await;
    assert_invalid(&r, "arrival_date", "in_future", "arrival in three days");
    app.clock.advance(Duration::days(4));
    let r = staff.create(&body).await;
    assert_eq!(r.status, 201, "{}", r.text);
}
