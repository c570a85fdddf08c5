#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

//! Handovers from the reception centre to the settlement municipality: the whole flow, the
//! access matrix, the state machine over HTTP, frozen file versions, sections under their legal
//! basis and consent (and its withdrawal), the participant export, and retention.

use handover_tests::call;
use handover_tests::etag;
use handover_tests::{Res, TestApp, spawn_app, who};
use handover_tests::{ago, ahead, id_of, new_duf};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const KRS_NO: &str = "4204";
const TRD_NO: &str = "5001";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The id of demo participant `i` of a centre (`krs` or `stj`).
fn demo_pid(centre: &str, i: usize) -> String {
    Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!("handover-demo-{centre}-{i}-participant").as_bytes(),
    )
    .to_string()
}

/// Demo Kristiansand participant 5: mapping, Norwegian levels in all four skills, a final
/// guidance summary, internal notes, no settlement, no consent and no handover.
fn krs5() -> String {
    demo_pid("krs", 5)
}

fn items(r: &Res) -> Vec<Value> {
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", r.text))
        .clone()
}

fn ids(r: &Res) -> Vec<String> {
    items(r)
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_owned())
        .collect()
}

fn ts(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(
        v.as_str().unwrap_or_else(|| panic!("not a time: {v}")),
        &Rfc3339,
    )
    .unwrap_or_else(|e| panic!("bad time {v}: {e}"))
}

async fn org_by_number(app: &TestApp, number: &str) -> String {
    let id: Uuid =
        sqlx::query_scalar("SELECT id FROM organisations WHERE municipality_number = $1")
            .bind(number)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    id.to_string()
}

async fn user_name(app: &TestApp, email: &str) -> String {
    sqlx::query_scalar("SELECT name FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&app.pool)
        .await
        .unwrap()
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
        "notes": "INTERN: kun for mottaket"
    })
}

/// A new Kristiansand participant with nothing recorded but identity.
async fn fresh_participant(app: &TestApp, staff: &str, given: &str, family: &str) -> String {
    let r = app
        .post(
            "/api/v1/participants",
            Some(staff),
            &participant_body(given, family, &new_duf()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    id_of(&r)
}

fn settlement_body(municipality: &str) -> Value {
    json!({
        "municipality_id": municipality,
        "settlement_date": ahead(21),
        "contacts": [{ "name": "Programrådgiver", "email": "kontakt@kommune.example", "role": "programrådgiver" }]
    })
}

/// Registers the settlement decision to the municipality with this number.
async fn settle(app: &TestApp, staff: &str, pid: &str, number: &str) {
    let m = org_by_number(app, number).await;
    let r = app
        .participants(staff)
        .put_settlement(pid, &settlement_body(&m), None)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

fn consent_body(sections: &[&str]) -> Value {
    json!({
        "sections": sections,
        "given_on": ago(0),
        "method": "written_signed",
        "language": "ti",
        "interpreter_present": true
    })
}

async fn consent(app: &TestApp, staff: &str, pid: &str, sections: &[&str]) -> String {
    let r = app
        .participants(staff)
        .record_consent(pid, &consent_body(sections))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    id_of(&r)
}

/// Starts a handover: (id, ETag).
async fn start(app: &TestApp, staff: &str, pid: &str) -> (String, String) {
    let r = app.participants(staff).start_handover(pid).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["state"], "draft");
    (id_of(&r), etag(&r))
}

async fn send(app: &TestApp, staff: &str, hid: &str, tag: &str, reason: Option<&str>) -> Res {
    app.handovers(staff).send(hid, tag, reason).await
}

async fn detail(app: &TestApp, token: &str, hid: &str) -> Res {
    let r = app.handovers(token).get(hid).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r
}

async fn current_tag(app: &TestApp, token: &str, hid: &str) -> String {
    etag(&detail(app, token, hid).await)
}

/// Does `what` (`send`, `cancel`, `accept`, `decline`, `complete`) with the current ETag.
async fn act(app: &TestApp, token: &str, hid: &str, what: &str, body: Value) -> Res {
    let tag = current_tag(app, token, hid).await;
    let body = (what != "accept").then_some(body);
    app.handovers(token)
        .act(hid, what, &tag, body.as_ref())
        .await
}

async fn file(app: &TestApp, token: &str, hid: &str) -> Res {
    let r = app.handovers(token).file(hid).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r
}

/// Settlement to Kristiansand, a consent to `sections`, a handover sent (with a reason, used
/// only when something is missing). Returns the handover id.
async fn prepared(app: &TestApp, staff: &str, pid: &str, sections: &[&str]) -> String {
    settle(app, staff, pid, KRS_NO).await;
    consent(app, staff, pid, sections).await;
    let (hid, tag) = start(app, staff, pid).await;
    let r = send(
        app,
        staff,
        &hid,
        &tag,
        Some("Sendes før alt er registrert."),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "sent");
    hid
}

fn section<'a>(f: &'a Value, name: &str) -> &'a Value {
    f["sections"]
        .as_array()
        .unwrap_or_else(|| panic!("no sections: {f}"))
        .iter()
        .find(|s| s["section"] == name)
        .unwrap_or_else(|| panic!("no section {name}: {f}"))
}

/// (event, from, to, actor name, reason) of every transition.
fn history(d: &Value) -> Vec<(String, String, String, String, Option<String>)> {
    d["history"]
        .as_array()
        .unwrap_or_else(|| panic!("no history: {d}"))
        .iter()
        .map(|t| {
            (
                t["event"].as_str().unwrap().to_owned(),
                t["from_state"].as_str().unwrap_or("-").to_owned(),
                t["to_state"].as_str().unwrap().to_owned(),
                t["actor_name"].as_str().unwrap().to_owned(),
                t["reason"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn h(
    e: &str,
    from: &str,
    to: &str,
    who: &str,
    reason: Option<&str>,
) -> (String, String, String, String, Option<String>) {
    (
        e.into(),
        from.into(),
        to.into(),
        who.into(),
        reason.map(str::to_owned),
    )
}

/// Every transition has a time, in order, close to now, and the actor's organisation.
fn assert_history_times(d: &Value, since: OffsetDateTime) {
    let mut last = since - Duration::seconds(5);
    for t in d["history"].as_array().unwrap() {
        let at = ts(&t["at"]);
        assert!(at >= last, "history out of order: {d}");
        assert!(
            at <= OffsetDateTime::now_utc() + Duration::seconds(5),
            "{t}"
        );
        assert!(t["actor_organisation_id"].is_string(), "{t}");
        last = at;
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Done when
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn done_when_centre_prepares_sends_and_municipality_opens_and_accepts() {
    let app = spawn_app().await;
    let t0 = OffsetDateTime::now_utc();
    let staff = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let staff_name = user_name(&app, who::KRS_STAFF).await;
    let muni_name = user_name(&app, who::KOMMUNE_KRS_STAFF).await;
    let kommune = org_by_number(&app, KRS_NO).await;
    let pid = fresh_participant(&app, &staff, "Mehari", "Ghebreyesus").await;

    // No settlement decision yet: nothing to hand over.
    let r = app
        .post(
            &format!("/api/v1/participants/{pid}/handovers"),
            Some(&staff),
            &Value::Null,
        )
        .await;
    r.assert_problem(409);
    let r = app
        .get(&format!("/api/v1/participants/{pid}/settlement"), &staff)
        .await;
    r.assert_problem(404);

    // The settlement must be to a municipality.
    let centre = app.org_of(who::KRS_STAFF).await;
    let r = call(
        &app,
        Method::PUT,
        &format!("/api/v1/participants/{pid}/settlement"),
        Some(&staff),
        Some(&settlement_body(&centre.to_string())),
        None,
    )
    .await;
    r.assert_problem(422);
    assert_eq!(r.invalid_fields(), ["municipality_id"]);

    settle(&app, &staff, &pid, KRS_NO).await;
    let s = app
        .get(&format!("/api/v1/participants/{pid}/settlement"), &staff)
        .await;
    assert_eq!(s.status, 200, "{}", s.text);
    assert_eq!(s.body["municipality_id"], kommune);
    assert_eq!(s.body["municipality_number"], KRS_NO);

    let cid = consent(&app, &staff, &pid, &["guidance_summary"]).await;
    let cs = app
        .get(&format!("/api/v1/participants/{pid}/consents"), &staff)
        .await;
    assert_eq!(cs.status, 200);
    assert_eq!(cs.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(cs.body["items"][0]["id"], cid.as_str());
    assert_eq!(cs.body["items"][0]["recorded_by_name"], staff_name.as_str());

    let (hid, tag) = start(&app, &staff, &pid).await;
    let d = detail(&app, &staff, &hid).await;
    let reference = d.body["handover"]["reference"].as_str().unwrap().to_owned();
    assert!(reference.starts_with("HO-") && reference.len() == "HO-2026-000001".len());
    assert_eq!(d.body["handover"]["municipality_id"], kommune);
    assert_eq!(d.body["handover"]["latest_file_version"], 0);

    // Readiness lists what is missing: the record is empty but for identity.
    let rd = app
        .get(&format!("/api/v1/handovers/{hid}/readiness"), &staff)
        .await;
    assert_eq!(rd.status, 200, "{}", rd.text);
    assert_eq!(rd.body["ready"], false);
    let missing: Vec<&str> = rd.body["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            assert!(!m["message"].as_str().unwrap().is_empty());
            m["item"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        missing,
        ["competence_mapping", "norwegian_levels", "guidance_summary"]
    );

    // Not ready: sending needs a reason.
    let r = send(&app, &staff, &hid, &tag, None).await;
    r.assert_problem(422);
    assert_eq!(r.invalid_fields(), ["missing_reason"]);
    let r = send(&app, &staff, &hid, &tag, Some("   ")).await;
    r.assert_problem(422);
    // The municipality sees nothing yet.
    let inbox = app.get("/api/v1/handovers", &muni).await;
    assert!(!ids(&inbox).contains(&hid));

    let reason = "Bosettes om tre uker; kartleggingen fullføres ikke før det.";
    let r = send(&app, &staff, &hid, &tag, Some(reason)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "sent");
    assert_eq!(r.body["latest_file_version"], 1);
    assert_eq!(r.body["unread"], true);

    // The municipality's inbox: there, unread, with the name from the file.
    let inbox = app.get("/api/v1/handovers", &muni).await;
    assert_eq!(inbox.status, 200, "{}", inbox.text);
    let item = items(&inbox)
        .into_iter()
        .find(|i| i["id"] == hid.as_str())
        .unwrap_or_else(|| panic!("not in the inbox: {}", inbox.text));
    assert_eq!(item["state"], "sent");
    assert_eq!(item["unread"], true);
    assert_eq!(item["reference"], reference.as_str());
    assert_eq!(item["participant_name"], "Mehari Ghebreyesus");
    assert_eq!(item["recipient_opened_version"], 0);
    // Inbox filters.
    for (query, included) in [
        ("unread=true", true),
        ("unread=false", false),
        ("state=sent", true),
        ("state=accepted", false),
        (
            &*format!("settlement_from={}&settlement_to={}", ahead(20), ahead(22)),
            true,
        ),
        (&*format!("settlement_from={}", ahead(22)), false),
        (&*format!("settlement_to={}", ahead(20)), false),
    ] {
        let r = app.get(&format!("/api/v1/handovers?{query}"), &muni).await;
        assert_eq!(r.status, 200, "{query}: {}", r.text);
        assert_eq!(ids(&r).contains(&hid), included, "{query}: {}", r.text);
    }
    // Each list answer leaves one audit row naming exactly the participants shown; an empty
    // page leaves none.
    let list_rows = || {
        sqlx::query_as::<_, (i64, Vec<String>, String)>(
            "SELECT id, target_ids::text[], actor_org_id::text FROM audit_log
              WHERE action = 'handover.list' AND target_type = 'participant' ORDER BY id DESC",
        )
        .fetch_all(&app.pool)
    };
    let before = list_rows().await.unwrap();
    let r = app.get("/api/v1/handovers?limit=50", &muni).await;
    let shown: BTreeSet<String> = items(&r)
        .iter()
        .map(|i| i["participant_id"].as_str().unwrap().to_string())
        .collect();
    assert!(shown.contains(&pid));
    let after = list_rows().await.unwrap();
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(after[0].1.iter().cloned().collect::<BTreeSet<_>>(), shown);
    assert_eq!(after[0].2, kommune);
    let r = app.get("/api/v1/handovers?offset=100000", &muni).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(items(&r).is_empty());
    assert_eq!(list_rows().await.unwrap().len(), after.len());

    // The whole file in one request; the opening is recorded and it becomes received.
    let before_open = OffsetDateTime::now_utc();
    let f = file(&app, &muni, &hid).await;
    let after_open = OffsetDateTime::now_utc();
    assert_eq!(f.body["handover"]["state"], "received");
    assert_eq!(f.body["file_version"], 1);
    assert_eq!(f.body["missing_reason"], reason);
    let file_missing: Vec<&str> = f.body["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["item"].as_str().unwrap())
        .collect();
    assert_eq!(file_missing, missing);
    assert!(f.body["previously_opened_version"].is_null());
    assert_eq!(f.body["sent_by_name"], staff_name.as_str());
    assert_eq!(f.body["settlement"]["municipality_number"], KRS_NO);
    assert_eq!(f.body["sections"].as_array().unwrap().len(), 4);
    assert_eq!(
        section(&f.body, "identity_and_programme")["content"]["participant"]["family_name"],
        "Ghebreyesus"
    );
    let inbox = app.get("/api/v1/handovers?unread=true", &muni).await;
    assert!(!ids(&inbox).contains(&hid), "still unread: {}", inbox.text);

    let r = act(&app, &muni, &hid, "accept", Value::Null).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "accepted");

    // The centre sees who opened it when, and who did what when.
    let d = detail(&app, &staff, &hid).await;
    assert_eq!(d.body["handover"]["state"], "accepted");
    let openings = d.body["openings"].as_array().unwrap();
    assert_eq!(openings.len(), 1, "{}", d.text);
    assert_eq!(openings[0]["user_name"], muni_name.as_str());
    assert_eq!(openings[0]["file_version"], 1);
    assert_eq!(openings[0]["organisation_id"], kommune);
    let opened_at = ts(&openings[0]["at"]);
    assert!(
        opened_at >= before_open - Duration::seconds(2)
            && opened_at <= after_open + Duration::seconds(2),
        "opened at {opened_at}, asked between {before_open} and {after_open}"
    );
    assert_eq!(
        history(&d.body),
        [
            h("send", "draft", "sent", &staff_name, Some(reason)),
            h("receive", "sent", "received", &muni_name, None),
            h("accept", "received", "accepted", &muni_name, None),
        ]
    );
    assert_history_times(&d.body, t0);
    let hist = d.body["history"].as_array().unwrap();
    assert_eq!(hist[0]["actor_organisation_id"], centre.to_string());
    assert_eq!(hist[2]["actor_organisation_id"], kommune);
    // The municipality sees the same history.
    let dm = detail(&app, &muni, &hid).await;
    assert_eq!(history(&dm.body), history(&d.body));
}

// ---------------------------------------------------------------------------------------------
// 2. Access matrix
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// HandoverPrepare / ParticipantExport: the participant's centre staff only.
    Prepare,
    /// HandoverRead: the centre staff and the recipient municipality's staff.
    Read,
    /// HandoverRespond: the recipient municipality's staff only.
    Respond,
    /// Either side, each under its own action.
    Complete,
}

struct Route {
    method: Method,
    path: String,
    body: Option<Value>,
    kind: Kind,
    /// The answer to the participant's centre staff.
    owner: u16,
    /// The answer to the recipient municipality's staff (routes it may use).
    recipient: u16,
}

fn expected(account: &str, r: &Route) -> u16 {
    match account {
        who::KRS_STAFF => r.owner,
        who::KOMMUNE_KRS_STAFF if r.kind != Kind::Prepare => r.recipient,
        who::STJ_STAFF if r.kind != Kind::Respond => 404,
        who::KOMMUNE_TRD_STAFF if r.kind != Kind::Prepare => 404,
        _ => 403,
    }
}

#[tokio::test]
async fn access_matrix_every_route_and_every_account() {
    let app = spawn_app().await;
    let mut tokens = BTreeMap::new();
    for a in who::ALL {
        tokens.insert(a, app.token(a).await);
    }
    let staff = tokens[who::KRS_STAFF].clone();
    let pid = krs5();
    let hid = prepared(&app, &staff, &pid, &["guidance_summary"]).await;
    let cid = consent(&app, &staff, &pid, &["guidance_summary"]).await;
    let r = call(
        &app,
        Method::PUT,
        &format!("/api/v1/participants/{pid}/adaptation-needs"),
        Some(&staff),
        Some(&json!({"needs": [{"category": "mobility", "description": "Trenger heis."}]})),
        None,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let kommune = org_by_number(&app, KRS_NO).await;
    assert_eq!(
        app.org_of(who::KOMMUNE_TRD_STAFF).await.to_string(),
        org_by_number(&app, TRD_NO).await
    );

    let p = format!("/api/v1/participants/{pid}");
    let hp = format!("/api/v1/handovers/{hid}");
    let route = |method: Method, path: String, body: Option<Value>, kind, owner, recipient| Route {
        method,
        path,
        body,
        kind,
        owner,
        recipient,
    };
    use Kind::*;
    let routes = vec![
        route(
            Method::GET,
            format!("{p}/settlement"),
            None,
            Prepare,
            200,
            0,
        ),
        route(
            Method::PUT,
            format!("{p}/settlement"),
            Some(settlement_body(&kommune)),
            Prepare,
            428,
            0,
        ),
        route(Method::GET, format!("{p}/consents"), None, Prepare, 200, 0),
        route(
            Method::POST,
            format!("{p}/consents"),
            Some(consent_body(&["guidance_summary"])),
            Prepare,
            201,
            0,
        ),
        route(
            Method::POST,
            format!("/api/v1/consents/{cid}/withdraw"),
            Some(json!({"note": "Sa det muntlig."})),
            Prepare,
            200,
            0,
        ),
        route(
            Method::GET,
            format!("{p}/adaptation-needs"),
            None,
            Prepare,
            200,
            0,
        ),
        route(
            Method::PUT,
            format!("{p}/adaptation-needs"),
            Some(json!({"needs": []})),
            Prepare,
            428,
            0,
        ),
        route(
            Method::POST,
            format!("{p}/handovers"),
            None,
            Prepare,
            409,
            0,
        ),
        route(Method::GET, format!("{p}/export"), None, Prepare, 200, 0),
        route(Method::GET, hp.clone(), None, Read, 200, 200),
        route(
            Method::GET,
            format!("{hp}/readiness"),
            None,
            Prepare,
            200,
            0,
        ),
        route(
            Method::POST,
            format!("{hp}/send"),
            Some(json!({})),
            Prepare,
            428,
            0,
        ),
        route(Method::GET, format!("{hp}/file"), None, Read, 200, 200),
        route(
            Method::POST,
            format!("{hp}/cancel"),
            Some(json!({"reason": "Feil"})),
            Prepare,
            428,
            0,
        ),
        route(
            Method::POST,
            format!("{hp}/accept"),
            None,
            Respond,
            403,
            428,
        ),
        route(
            Method::POST,
            format!("{hp}/decline"),
            Some(json!({"reason": "Feil kommune"})),
            Respond,
            403,
            428,
        ),
        route(
            Method::POST,
            format!("{hp}/complete"),
            Some(json!({})),
            Complete,
            428,
            428,
        ),
    ];
    let mut cells = 0;
    let mut failures = Vec::new();
    for r in &routes {
        for a in who::ALL {
            let res = call(
                &app,
                r.method.clone(),
                &r.path,
                Some(&tokens[a]),
                r.body.as_ref(),
                None,
            )
            .await;
            let want = expected(a, r);
            cells += 1;
            if res.status.as_u16() != want {
                failures.push(format!(
                    "{} {} as {a}: {} (expected {want}) {}",
                    r.method, r.path, res.status, res.text
                ));
            } else if want >= 400 {
                res.assert_problem(want);
            }
        }
    }
    // The list, filtered by participant: the owner only; municipalities may not filter by
    // participant; the other centre does not learn the participant exists.
    for a in who::ALL {
        let res = app
            .get(
                &format!("/api/v1/handovers?participant_id={pid}"),
                &tokens[a],
            )
            .await;
        let want = match a {
            who::KRS_STAFF => 200,
            who::STJ_STAFF => 404,
            who::KOMMUNE_KRS_STAFF | who::KOMMUNE_TRD_STAFF => 422,
            _ => 403,
        };
        cells += 1;
        if res.status.as_u16() != want {
            failures.push(format!(
                "list by participant as {a}: {} (expected {want}) {}",
                res.status, res.text
            ));
        }
    }
    // The plain list: the handover is in the centre's list and the recipient's inbox only.
    for a in who::ALL {
        let res = app.get("/api/v1/handovers", &tokens[a]).await;
        cells += 1;
        let (want, visible) = match a {
            who::KRS_STAFF | who::KOMMUNE_KRS_STAFF => (200, true),
            who::STJ_STAFF | who::KOMMUNE_TRD_STAFF => (200, false),
            _ => (403, false),
        };
        if res.status.as_u16() != want || (want == 200 && ids(&res).contains(&hid) != visible) {
            failures.push(format!(
                "list as {a}: {} (expected {want}, visible {visible}) {}",
                res.status, res.text
            ));
        }
    }

    // A draft does not exist for the municipality.
    let draft_pid = demo_pid("krs", 17);
    let draft: Uuid = sqlx::query_scalar(
        "SELECT id FROM handovers WHERE participant_id = $1::uuid AND state = 'draft'",
    )
    .bind(&draft_pid)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let dp = format!("/api/v1/handovers/{draft}");
    let muni = &tokens[who::KOMMUNE_KRS_STAFF];
    for (method, path, body) in [
        (Method::GET, dp.clone(), None),
        (Method::GET, format!("{dp}/file"), None),
        (Method::POST, format!("{dp}/accept"), None),
        (
            Method::POST,
            format!("{dp}/decline"),
            Some(json!({"reason": "x"})),
        ),
        (Method::POST, format!("{dp}/complete"), Some(json!({}))),
    ] {
        let res = call(
            &app,
            method.clone(),
            &path,
            Some(muni),
            body.as_ref(),
            Some("\"1\""),
        )
        .await;
        cells += 1;
        if res.status != 404 {
            failures.push(format!(
                "draft {method} {path} as the municipality: {} {}",
                res.status, res.text
            ));
        }
    }
    let inbox = app.get("/api/v1/handovers", muni).await;
    assert!(!ids(&inbox).contains(&draft.to_string()));
    assert!(
        items(&inbox).iter().all(|i| i["state"] != "draft"),
        "{}",
        inbox.text
    );
    // The centre has no file to read before sending.
    app.get(&format!("{dp}/file"), &staff)
        .await
        .assert_problem(409);

    // A participant of another centre, or none, cannot get a handover here.
    let foreign = demo_pid("stj", 5);
    for p in [foreign.clone(), Uuid::new_v4().to_string()] {
        let res = app
            .post(
                &format!("/api/v1/participants/{p}/handovers"),
                Some(&staff),
                &Value::Null,
            )
            .await;
        cells += 1;
        if res.status != 404 {
            failures.push(format!(
                "handover for foreign participant {p}: {} {}",
                res.status, res.text
            ));
        }
    }
    let res = app
        .get(
            &format!("/api/v1/handovers?participant_id={foreign}"),
            &staff,
        )
        .await;
    cells += 1;
    if res.status != 404 {
        failures.push(format!(
            "list filtered by a foreign participant: {} {}",
            res.status, res.text
        ));
    }
    // An unknown handover id: 404 for those who may read handovers.
    let unknown = Uuid::new_v4();
    for a in [who::KRS_STAFF, who::KOMMUNE_KRS_STAFF] {
        let res = app
            .get(&format!("/api/v1/handovers/{unknown}"), &tokens[a])
            .await;
        cells += 1;
        if res.status != 404 {
            failures.push(format!("unknown handover as {a}: {}", res.status));
        }
    }

    println!("handover access matrix: {cells} cells checked");
    assert!(
        failures.is_empty(),
        "{} of {cells} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// 3. State machine over HTTP
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn state_machine_illegal_transitions_conflict_and_legal_ones_are_recorded() {
    let app = spawn_app().await;
    let t0 = OffsetDateTime::now_utc();
    let staff = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let staff_name = user_name(&app, who::KRS_STAFF).await;
    let muni_name = user_name(&app, who::KOMMUNE_KRS_STAFF).await;
    let pid = krs5();
    settle(&app, &staff, &pid, KRS_NO).await;
    consent(&app, &staff, &pid, &[]).await;
    let (hid, _) = start(&app, &staff, &pid).await;

    // Draft: the municipality cannot act; the centre cannot complete.
    let r = act(&app, &staff, &hid, "complete", json!({})).await;
    r.assert_problem(409);
    // Ready (mapping, levels, final guidance, consent decision, settlement): no reason needed,
    // and a reason given anyway is not recorded.
    let rd = app
        .get(&format!("/api/v1/handovers/{hid}/readiness"), &staff)
        .await;
    assert_eq!(rd.body["ready"], true, "{}", rd.text);
    let r = act(
        &app,
        &staff,
        &hid,
        "send",
        json!({"missing_reason": "unødvendig"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Sent: accepting or completing before opening is illegal; the centre cannot accept.
    for (token, what, body, status) in [
        (&muni, "accept", Value::Null, 409),
        (&muni, "complete", json!({}), 409),
        (&staff, "complete", json!({}), 409),
        (&staff, "accept", Value::Null, 403),
        (&staff, "decline", json!({"reason": "x"}), 403),
    ] {
        let r = act(&app, token, &hid, what, body).await;
        r.assert_problem(status);
    }
    // The centre reading its own file is no opening.
    let f = file(&app, &staff, &hid).await;
    assert_eq!(f.body["handover"]["state"], "sent");
    assert_eq!(f.body["missing_reason"], Value::Null);
    assert!(
        detail(&app, &staff, &hid).await.body["openings"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    file(&app, &muni, &hid).await;
    // Received: a second opening is recorded but is no transition.
    file(&app, &muni, &hid).await;
    let r = act(&app, &muni, &hid, "accept", Value::Null).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Accepted: no decline, no second accept.
    act(&app, &muni, &hid, "decline", json!({"reason": "For sent"}))
        .await
        .assert_problem(409);
    act(&app, &muni, &hid, "accept", Value::Null)
        .await
        .assert_problem(409);
    // An open handover blocks a second one.
    app.post(
        &format!("/api/v1/participants/{pid}/handovers"),
        Some(&staff),
        &Value::Null,
    )
    .await
    .assert_problem(409);
    // An update may still be sent, then the centre completes it.
    let r = act(&app, &staff, &hid, "send", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "accepted");
    assert_eq!(r.body["latest_file_version"], 2);
    let r = act(
        &app,
        &staff,
        &hid,
        "complete",
        json!({"note": "Samtale holdt på telefon."}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "completed");
    // Completed is final for both sides.
    for (token, what, body) in [
        (&staff, "cancel", json!({"reason": "x"})),
        (&staff, "send", json!({"missing_reason": "x"})),
        (&staff, "complete", json!({})),
        (&muni, "complete", json!({})),
        (&muni, "decline", json!({"reason": "x"})),
        (&muni, "accept", Value::Null),
    ] {
        act(&app, token, &hid, what, body).await.assert_problem(409);
    }
    let closed: Option<OffsetDateTime> =
        sqlx::query_scalar("SELECT closed_at FROM handovers WHERE id = $1::uuid")
            .bind(&hid)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(closed.is_some());
    let d = detail(&app, &staff, &hid).await;
    assert_eq!(
        history(&d.body),
        [
            h("send", "draft", "sent", &staff_name, None),
            h("receive", "sent", "received", &muni_name, None),
            h("accept", "received", "accepted", &muni_name, None),
            h("update", "accepted", "accepted", &staff_name, None),
            h(
                "complete",
                "accepted",
                "completed",
                &staff_name,
                Some("Samtale holdt på telefon.")
            ),
        ]
    );
    assert_history_times(&d.body, t0);
    assert_eq!(d.body["openings"].as_array().unwrap().len(), 2);

    // Completed: a new handover may start. A draft can be cancelled, then nothing more.
    let (h2, _) = start(&app, &staff, &pid).await;
    let r = act(
        &app,
        &staff,
        &h2,
        "cancel",
        json!({"reason": "  Feil kommune registrert.  "}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "cancelled");
    act(&app, &staff, &h2, "send", json!({}))
        .await
        .assert_problem(409);
    act(&app, &staff, &h2, "cancel", json!({"reason": "igjen"}))
        .await
        .assert_problem(409);
    let d2 = detail(&app, &staff, &h2).await;
    assert_eq!(
        history(&d2.body),
        [h(
            "cancel",
            "draft",
            "cancelled",
            &staff_name,
            Some("Feil kommune registrert.")
        )]
    );
    // Cancelled: a new one; sent and declined unopened by the municipality.
    let (h3, tag) = start(&app, &staff, &pid).await;
    assert_eq!(send(&app, &staff, &h3, &tag, None).await.status, 200);
    let r = act(
        &app,
        &muni,
        &h3,
        "decline",
        json!({"reason": "Feil kommune."}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "declined");
    for (token, what, body) in [
        (&muni, "accept", Value::Null),
        (&muni, "decline", json!({"reason": "x"})),
        (&staff, "cancel", json!({"reason": "x"})),
        (&staff, "send", json!({})),
    ] {
        act(&app, token, &h3, what, body).await.assert_problem(409);
    }
    let d3 = detail(&app, &muni, &h3).await;
    assert_eq!(
        history(&d3.body),
        [
            h("send", "draft", "sent", &staff_name, None),
            h(
                "decline",
                "sent",
                "declined",
                &muni_name,
                Some("Feil kommune.")
            ),
        ]
    );
    // Declined: the centre may start again.
    let (h4, _) = start(&app, &staff, &pid).await;
    let all = app
        .get(&format!("/api/v1/handovers?participant_id={pid}"), &staff)
        .await;
    assert_eq!(all.body["total"], 4, "{}", all.text);
    let open = app
        .get(
            &format!("/api/v1/handovers?participant_id={pid}&state=draft"),
            &staff,
        )
        .await;
    assert_eq!(ids(&open), [h4]);
}

#[tokio::test]
async fn preconditions_stale_if_match_412_and_missing_428() {
    let app = spawn_app().await;
    let staff = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let pid = krs5();
    let hid = prepared(&app, &staff, &pid, &[]).await;
    let stale = current_tag(&app, &staff, &hid).await;
    file(&app, &muni, &hid).await; // received: the version moved on
    let fresh = current_tag(&app, &staff, &hid).await;
    assert_ne!(stale, fresh);
    let mut checked = 0;
    for (token, what, body) in [
        (&staff, "send", Some(json!({}))),
        (&staff, "cancel", Some(json!({"reason": "x"}))),
        (&staff, "complete", Some(json!({}))),
        (&muni, "accept", None),
        (&muni, "decline", Some(json!({"reason": "x"}))),
        (&muni, "complete", Some(json!({}))),
    ] {
        let path = format!("/api/v1/handovers/{hid}/{what}");
        for (tag, status) in [
            (Some(stale.as_str()), 412),
            (Some("\"999\""), 412),
            (Some("*"), 428),
            (None, 428),
        ] {
            let r = call(&app, Method::POST, &path, Some(token), body.as_ref(), tag).await;
            r.assert_problem(status);
            checked += 1;
        }
    }
    assert_eq!(checked, 24);
    // Nothing changed.
    let d = detail(&app, &staff, &hid).await;
    assert_eq!(d.body["handover"]["state"], "received");
    assert_eq!(etag(&d), fresh);
    assert_eq!(history(&d.body).len(), 2);
    // Two responders with the same ETag: one wins, the other gets 412.
    let a = call(
        &app,
        Method::POST,
        &format!("/api/v1/handovers/{hid}/accept"),
        Some(&muni),
        None,
        Some(&fresh),
    )
    .await;
    let b = call(
        &app,
        Method::POST,
        &format!("/api/v1/handovers/{hid}/decline"),
        Some(&muni),
        Some(&json!({"reason": "x"})),
        Some(&fresh),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    b.assert_problem(412);
    assert_ne!(etag(&a), fresh);
}

// ---------------------------------------------------------------------------------------------
// 4. Frozen snapshots and updates
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn sent_file_is_frozen_and_an_update_shows_what_changed() {
    let app = spawn_app().await;
    let staff = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let pid = krs5();
    let hid = prepared(&app, &staff, &pid, &["guidance_summary"]).await;
    let v1 = file(&app, &muni, &hid).await;
    assert_eq!(v1.body["file_version"], 1);

    // The centre changes the record: a programme element and the participant's languages.
    let els = app
        .get(
            &format!("/api/v1/participants/{pid}/programme-elements"),
            &staff,
        )
        .await;
    assert_eq!(els.status, 200, "{}", els.text);
    let eid = els.body["items"][0]["id"].as_str().unwrap().to_owned();
    let el_path = format!("/api/v1/participants/{pid}/programme-elements/{eid}");
    let el = app.get(&el_path, &staff).await;
    let r = app
        .patch(
            &el_path,
            &staff,
            &json!({"outcome": "Avbrutt etter endring i planen."}),
            Some(&etag(&el)),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // The municipality's file does not change.
    let again = file(&app, &muni, &hid).await;
    assert_eq!(again.body["sections"], v1.body["sections"]);
    assert_eq!(again.body["file_version"], 1);
    assert!(!again.text.contains("Avbrutt etter endring"));
    assert_eq!(again.body["changed_sections"], json!([]));
    // Nor does the centre's view of the sent file.
    let centre_view = file(&app, &staff, &hid).await;
    assert_eq!(centre_view.body["sections"], v1.body["sections"]);

    // An update: version 2, the municipality sees it unread again and what changed.
    let r = act(&app, &staff, &hid, "send", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["latest_file_version"], 2);
    assert_eq!(r.body["state"], "received");
    let inbox = app.get("/api/v1/handovers?unread=true", &muni).await;
    let item = items(&inbox)
        .into_iter()
        .find(|i| i["id"] == hid.as_str())
        .unwrap_or_else(|| panic!("not unread again: {}", inbox.text));
    assert_eq!(item["latest_file_version"], 2);
    assert_eq!(item["recipient_opened_version"], 1);

    let v2 = file(&app, &muni, &hid).await;
    assert_eq!(v2.body["file_version"], 2);
    assert_eq!(v2.body["previously_opened_version"], 1);
    assert_eq!(
        v2.body["changed_sections"],
        json!(["identity_and_programme"])
    );
    for s in v2.body["sections"].as_array().unwrap() {
        assert_eq!(
            s["changed_since_last_opened"],
            s["section"] == "identity_and_programme",
            "{s}"
        );
    }
    assert!(v2.text.contains("Avbrutt etter endring"));
    assert_eq!(
        v2.body["handover"]["state"], "received",
        "an update is no new receipt"
    );
    let inbox = app.get("/api/v1/handovers?unread=true", &muni).await;
    assert!(!ids(&inbox).contains(&hid));
    // Opening v2 again: nothing changed since the last opening.
    let v2b = file(&app, &muni, &hid).await;
    assert_eq!(v2b.body["previously_opened_version"], 2);
    assert_eq!(v2b.body["changed_sections"], json!([]));

    let d = detail(&app, &staff, &hid).await;
    let versions: Vec<i64> = d.body["openings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["file_version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 1, 2, 2]);
    let files: i64 =
        sqlx::query_scalar("SELECT count(*) FROM handover_files WHERE handover_id = $1::uuid")
            .bind(&hid)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(files, 2);
}

// ---------------------------------------------------------------------------------------------
// 5. Sections, legal bases and consent
// ---------------------------------------------------------------------------------------------

const HEALTH_TEXT: &str = "Bruker rullestol; trenger undervisning i første etasje.";

fn assert_statutory(f: &Value) {
    for name in ["identity_and_programme", "competence_mapping"] {
        let s = section(f, name);
        assert_eq!(s["status"], "shared", "{s}");
        assert!(
            s["legal_basis"]
                .as_str()
                .unwrap()
                .contains("Integreringsloven"),
            "{s}"
        );
        assert!(s["consent_id"].is_null());
        assert!(s["withheld_reason"].is_null());
        assert!(s["content"].is_object());
    }
}

fn assert_withheld(f: &Value, name: &str, reason_part: &str) {
    let s = section(f, name);
    assert_eq!(s["status"], "withheld", "{s}");
    assert!(s["legal_basis"].is_null(), "{s}");
    assert!(s["content"].is_null(), "{s}");
    // After a withdrawal the id of the withdrawn consent may stay, to say which one.
    if !reason_part.contains("withdrew") {
        assert!(s["consent_id"].is_null(), "{s}");
    }
    let reason = s["withheld_reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(reason_part),
        "{name}: {reason:?} lacks {reason_part:?}"
    );
}

fn assert_consented(f: &Value, name: &str, cid: &str) {
    let s = section(f, name);
    assert_eq!(s["status"], "shared", "{s}");
    assert!(
        s["legal_basis"].as_str().unwrap().contains("consent"),
        "{s}"
    );
    assert_eq!(s["consent_id"], cid, "{s}");
    assert!(s["withheld_reason"].is_null());
    assert!(s["content"].is_object(), "{s}");
}

fn assert_purposes_and_no_notes(f: &Res, notes: &str) {
    let sections = f.body["sections"].as_array().unwrap();
    assert_eq!(sections.len(), 4);
    for s in sections {
        assert!(!s["purpose"].as_str().unwrap_or_default().is_empty(), "{s}");
    }
    assert!(!notes.is_empty());
    assert!(!f.text.contains(notes), "the centre's notes left it");
    assert!(
        section(&f.body, "identity_and_programme")["content"]["participant"]
            .get("notes")
            .is_none()
    );
}

#[tokio::test]
async fn sections_follow_law_and_consent_and_health_needs_explicit_consent() {
    let app = spawn_app().await;
    let staff = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let pid = krs5();
    let p = app
        .get(&format!("/api/v1/participants/{pid}"), &staff)
        .await;
    let notes = p.body["notes"].as_str().unwrap().to_owned();
    let r = call(
        &app,
        Method::PUT,
        &format!("/api/v1/participants/{pid}/adaptation-needs"),
        Some(&staff),
        Some(&json!({"needs": [{"category": "mobility", "description": HEALTH_TEXT}]})),
        None,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    settle(&app, &staff, &pid, KRS_NO).await;

    // v1: no consent recorded at all.
    let (hid, tag) = start(&app, &staff, &pid).await;
    let r = send(
        &app,
        &staff,
        &hid,
        &tag,
        Some("Samtykkesamtalen er ikke holdt ennå."),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let f = file(&app, &muni, &hid).await;
    assert_statutory(&f.body);
    assert_withheld(&f.body, "guidance_summary", "No consent is recorded");
    assert_withheld(&f.body, "health_and_adaptation", "No consent is recorded");
    assert_purposes_and_no_notes(&f, &notes);
    assert!(!f.text.contains(HEALTH_TEXT));
    assert!(section(&f.body, "competence_mapping")["content"]["own_goals"].is_string());

    // v2: consent to the guidance summary only: health stays withheld.
    let c1 = consent(&app, &staff, &pid, &["guidance_summary"]).await;
    let r = act(&app, &staff, &hid, "send", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let f = file(&app, &muni, &hid).await;
    assert_eq!(f.body["file_version"], 2);
    assert_statutory(&f.body);
    assert_consented(&f.body, "guidance_summary", &c1);
    assert!(section(&f.body, "guidance_summary")["content"]["summary"].is_object());
    assert_withheld(&f.body, "health_and_adaptation", "has not consented");
    assert!(!f.text.contains(HEALTH_TEXT));
    assert_purposes_and_no_notes(&f, &notes);
    let changed: Vec<String> = serde_json::from_value(f.body["changed_sections"].clone()).unwrap();
    assert!(
        changed.contains(&"guidance_summary".to_owned())
            && changed.contains(&"health_and_adaptation".to_owned()),
        "{changed:?}"
    );

    // v3: explicit consent to health and adaptation as well.
    let c2 = consent(
        &app,
        &staff,
        &pid,
        &["guidance_summary", "health_and_adaptation"],
    )
    .await;
    let r = act(&app, &staff, &hid, "send", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let f = file(&app, &muni, &hid).await;
    assert_eq!(f.body["file_version"], 3);
    assert_statutory(&f.body);
    assert_consented(&f.body, "guidance_summary", &c2);
    assert_consented(&f.body, "health_and_adaptation", &c2);
    assert!(f.text.contains(HEALTH_TEXT));
    assert_purposes_and_no_notes(&f, &notes);

    assert!(stored_containing(&app, &hid, HEALTH_TEXT).await > 0);

    // The consent is withdrawn: the very next fetch withholds both, without a new version.
    let r = app
        .post(
            &format!("/api/v1/consents/{c2}/withdraw"),
            Some(&staff),
            &json!({"note": "Ringte mottaket."}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["withdrawn_at"].is_string());
    app.post(
        &format!("/api/v1/consents/{c2}/withdraw"),
        Some(&staff),
        &json!({}),
    )
    .await
    .assert_problem(409);
    for token in [&muni, &staff] {
        let f = file(&app, token, &hid).await;
        assert_eq!(f.body["file_version"], 3);
        assert_statutory(&f.body);
        assert_withheld(&f.body, "guidance_summary", "withdrew consent");
        assert_withheld(&f.body, "health_and_adaptation", "withdrew consent");
        assert!(
            !f.text.contains(HEALTH_TEXT),
            "withdrawn health data still shown"
        );
        assert_purposes_and_no_notes(&f, &notes);
    }
    // No new version was sent.
    let versions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM handover_files WHERE handover_id = $1::uuid")
            .bind(&hid)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(versions, 3);
    // Not only withheld when shown: removed from every stored version.
    assert_eq!(stored_containing(&app, &hid, HEALTH_TEXT).await, 0);
    // The municipality still cannot read the consent or adaptation records directly.
    for path in [
        format!("/api/v1/participants/{pid}/consents"),
        format!("/api/v1/participants/{pid}/adaptation-needs"),
    ] {
        app.get(&path, &muni).await.assert_problem(403);
    }
}

#[tokio::test]
async fn a_declined_consent_shares_only_what_the_law_allows() {
    let app = spawn_app().await;
    let staff = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let pid = krs5();
    // The participant said no to everything; the file is ready (the decision is recorded).
    let hid = prepared(&app, &staff, &pid, &[]).await;
    let f = file(&app, &muni, &hid).await;
    assert!(
        f.body["missing_reason"].is_null(),
        "ready, no reason kept: {}",
        f.text
    );
    assert_eq!(f.body["missing"], json!([]));
    assert_statutory(&f.body);
    assert_withheld(&f.body, "guidance_summary", "has not consented");
    assert_withheld(&f.body, "health_and_adaptation", "has not consented");
    // The inbox shows the name: identity is shared under the law.
    let inbox = app.get("/api/v1/handovers", &muni).await;
    let item = items(&inbox)
        .into_iter()
        .find(|i| i["id"] == hid.as_str())
        .unwrap();
    assert!(item["participant_name"].is_string());
}

// ---------------------------------------------------------------------------------------------
// 6. The municipality sees only the file
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn municipality_never_reads_participants_directly() {
    let app = spawn_app().await;
    let staff = app.token(who::KRS_STAFF).await;
    let pid = krs5();
    let hid = prepared(&app, &staff, &pid, &["guidance_summary"]).await;
    let mut checked = 0;
    for account in [
        who::KOMMUNE_KRS_STAFF,
        who::KOMMUNE_KRS_ADMIN,
        who::KOMMUNE_TRD_STAFF,
    ] {
        let t = app.token(account).await;
        for path in [
            format!("/api/v1/participants/{pid}"),
            format!("/api/v1/participants/{pid}/record"),
            format!("/api/v1/participants/{pid}/history"),
            format!("/api/v1/participants/{pid}/competence-mapping"),
            format!("/api/v1/participants/{pid}/norwegian-training"),
            format!("/api/v1/participants/{pid}/programme-elements"),
            format!("/api/v1/participants/{pid}/placements"),
            format!("/api/v1/participants/{pid}/guidance-summaries"),
            format!("/api/v1/participants/{pid}/settlement"),
            format!("/api/v1/participants/{pid}/export"),
            "/api/v1/participants".to_owned(),
        ] {
            let r = app.get(&path, &t).await;
            r.assert_problem(403);
            checked += 1;
        }
        let r = app
            .post(
                "/api/v1/participants/lookup",
                Some(&t),
                &json!({"duf_number": "202410000000"}),
            )
            .await;
        r.assert_problem(403);
    }
    assert_eq!(checked, 33);
    // What the recipient does see: the file.
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let f = file(&app, &muni, &hid).await;
    assert_eq!(f.body["handover"]["participant_id"], pid.as_str());
    assert_eq!(
        section(&f.body, "identity_and_programme")["status"],
        "shared"
    );
}

// ---------------------------------------------------------------------------------------------
// 7. Export
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn export_holds_everything_and_is_audited() {
    let app = spawn_app().await;
    let staff = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let pid = krs5();
    let hid = prepared(&app, &staff, &pid, &["guidance_summary"]).await;
    file(&app, &muni, &hid).await;
    assert_eq!(
        act(&app, &muni, &hid, "accept", Value::Null).await.status,
        200
    );
    let exports = |app: &TestApp| {
        let pool = app.pool.clone();
        let pid = pid.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM audit_log WHERE action = 'participant.export' AND target_id = $1::uuid AND outcome = 'success'",
            )
            .bind(pid)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(exports(&app).await, 0);

    let r = app
        .get(&format!("/api/v1/participants/{pid}/export"), &staff)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.header("content-disposition")
            .is_some_and(|c| c.starts_with("attachment"))
    );
    let e = &r.body;
    assert!(e["exported_at"].is_string());
    assert_eq!(e["record"]["participant"]["id"], pid.as_str());
    assert!(
        e["record"]["participant"]["notes"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );
    assert!(e["record"]["competence_mapping"].is_object());
    assert!(
        !e["record"]["programme_elements"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(!e["record_history"].as_array().unwrap().is_empty());
    assert!(!e["guidance_summaries"].as_array().unwrap().is_empty());
    assert_eq!(e["settlement"]["municipality_number"], KRS_NO);
    assert_eq!(e["consents"].as_array().unwrap().len(), 1);
    let hs = e["handovers"].as_array().unwrap();
    assert_eq!(hs.len(), 1);
    assert_eq!(hs[0]["handover"]["id"], hid.as_str());
    let files = hs[0]["files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["file_version"], 1);
    assert_eq!(
        files[0]["snapshot"]["sections"].as_array().unwrap().len(),
        4
    );
    let events: Vec<&str> = hs[0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["send", "receive", "accept"]);
    assert_eq!(hs[0]["openings"].as_array().unwrap().len(), 1);
    let actions: Vec<&str> = e["access_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            assert_eq!(a["target_id"], pid.as_str());
            a["action"].as_str().unwrap()
        })
        .collect();
    for a in [
        "settlement.create",
        "consent.create",
        "handover.create",
        "handover.send",
        "handover.file_read",
        "handover.accept",
    ] {
        assert!(
            actions.contains(&a),
            "{a} not in the access log: {actions:?}"
        );
    }
    assert_eq!(exports(&app).await, 1, "the export is audited");

    for (account, status) in [
        (who::STJ_STAFF, 404),
        (who::KRS_ADMIN, 403),
        (who::OPERATOR_ADMIN, 403),
        (who::AGDER_COUNSELLOR, 403),
        (who::KOMMUNE_KRS_STAFF, 403),
        (who::KOMMUNE_TRD_STAFF, 403),
    ] {
        let t = app.token(account).await;
        app.get(&format!("/api/v1/participants/{pid}/export"), &t)
            .await
            .assert_problem(status);
    }
    assert_eq!(exports(&app).await, 1);
    // A second export lists the first in its access log.
    let r = app
        .get(&format!("/api/v1/participants/{pid}/export"), &staff)
        .await;
    assert!(
        r.body["access_log"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "participant.export")
    );
    assert_eq!(exports(&app).await, 2);
}

// ---------------------------------------------------------------------------------------------
// 8. Retention
// ---------------------------------------------------------------------------------------------

async fn count(app: &TestApp, sql: &str, id: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

const BY_PARTICIPANT: [(&str, &str); 16] = [
    (
        "participants",
        "SELECT count(*) FROM participants WHERE id = $1::uuid",
    ),
    (
        "competence_mappings",
        "SELECT count(*) FROM competence_mappings WHERE participant_id = $1::uuid",
    ),
    (
        "norwegian_training",
        "SELECT count(*) FROM norwegian_training WHERE participant_id = $1::uuid",
    ),
    (
        "programme_elements",
        "SELECT count(*) FROM programme_elements WHERE participant_id = $1::uuid",
    ),
    (
        "placements",
        "SELECT count(*) FROM placements WHERE participant_id = $1::uuid",
    ),
    (
        "record_changes",
        "SELECT count(*) FROM record_changes WHERE participant_id = $1::uuid",
    ),
    (
        "guidance_summaries",
        "SELECT count(*) FROM guidance_summaries WHERE participant_id = $1::uuid",
    ),
    (
        "guidance_pathway_steps",
        "SELECT count(*) FROM guidance_pathway_steps WHERE summary_id IN (SELECT id FROM guidance_summaries WHERE participant_id = $1::uuid)",
    ),
    (
        "settlements",
        "SELECT count(*) FROM settlements WHERE participant_id = $1::uuid",
    ),
    (
        "consents",
        "SELECT count(*) FROM consents WHERE participant_id = $1::uuid",
    ),
    (
        "adaptation_needs",
        "SELECT count(*) FROM adaptation_needs WHERE participant_id = $1::uuid",
    ),
    (
        "handovers",
        "SELECT count(*) FROM handovers WHERE participant_id = $1::uuid",
    ),
    (
        "handover_files",
        "SELECT count(*) FROM handover_files WHERE handover_id IN (SELECT id FROM handovers WHERE participant_id = $1::uuid)",
    ),
    (
        "handover_transitions",
        "SELECT count(*) FROM handover_transitions WHERE handover_id IN (SELECT id FROM handovers WHERE participant_id = $1::uuid)",
    ),
    (
        "handover_opens",
        "SELECT count(*) FROM handover_opens WHERE handover_id IN (SELECT id FROM handovers WHERE participant_id = $1::uuid)",
    ),
    (
        "outbox",
        "SELECT count(*) FROM outbox WHERE participant_id = $1::uuid",
    ),
];

#[tokio::test]
async fn retention_deletes_everything_about_a_settled_participant_but_the_audit_ids() {
    let app = spawn_app().await;
    let staff = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;

    // Three settled participants: completed two days ago, completed just now, still open.
    let (old, recent, open) = (demo_pid("krs", 5), demo_pid("krs", 8), demo_pid("krs", 11));
    let mut handover_of = BTreeMap::new();
    for pid in [&old, &recent, &open] {
        let hid = prepared(
            &app,
            &staff,
            pid,
            &["guidance_summary", "health_and_adaptation"],
        )
        .await;
        if pid != &open {
            file(&app, &muni, &hid).await;
            assert_eq!(
                act(&app, &muni, &hid, "accept", Value::Null).await.status,
                200
            );
            assert_eq!(
                act(&app, &muni, &hid, "complete", json!({})).await.status,
                200
            );
        }
        let p = app
            .get(&format!("/api/v1/participants/{pid}"), &staff)
            .await;
        let r = app
            .patch(
                &format!("/api/v1/participants/{pid}"),
                &staff,
                &json!({"status": "settled"}),
                Some(&etag(&p)),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        handover_of.insert(pid.clone(), hid);
    }
    let r = call(
        &app,
        Method::PUT,
        &format!("/api/v1/participants/{old}/adaptation-needs"),
        Some(&staff),
        Some(&json!({"needs": [{"category": "hearing", "description": "Høreapparat."}]})),
        None,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    for (pid, interval) in [(&old, "2 days"), (&recent, "20 hours")] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE handovers SET closed_at = now() - interval '{interval}' WHERE participant_id = $1::uuid"
        )))
        .bind(pid)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    let p = app
        .get(&format!("/api/v1/participants/{old}"), &staff)
        .await;
    let secrets: Vec<String> = ["given_name", "family_name", "duf_number"]
        .iter()
        .map(|k| p.body[k].as_str().unwrap().to_owned())
        .collect();
    let outbox_by_handover = "SELECT count(*) FROM outbox WHERE handover_id = $1::uuid";
    let old_hid = handover_of[&old].clone();

    let mut before = BTreeMap::new();
    for (table, sql) in BY_PARTICIPANT {
        let n = count(&app, sql, &old).await;
        assert!(
            n > 0,
            "nothing in {table} to delete: the test proves nothing"
        );
        before.insert(table, n);
    }
    assert!(count(&app, outbox_by_handover, &old_hid).await > 0);
    let audit_sql = "SELECT count(*) FROM audit_log WHERE target_id = $1::uuid";
    let audit_before = count(&app, audit_sql, &old).await;
    assert!(audit_before > 0);

    let mut kept = Vec::new();
    for pid in [&recent, &open] {
        for (table, sql) in BY_PARTICIPANT {
            kept.push((pid.clone(), table, count(&app, sql, pid).await));
        }
    }
    assert!(
        kept.iter()
            .filter(|k| k.1 == "participants" || k.1 == "handovers")
            .all(|k| k.2 == 1)
    );

    let deleted = handover_db::retention::purge(&app.pool, 1).await.unwrap();
    assert_eq!(
        deleted,
        [old.parse::<Uuid>().unwrap()],
        "deleted {deleted:?}"
    );

    for (table, sql) in BY_PARTICIPANT {
        assert_eq!(
            count(&app, sql, &old).await,
            0,
            "{table} kept rows ({} before)",
            before[table]
        );
    }
    assert_eq!(count(&app, outbox_by_handover, &old_hid).await, 0);
    // The audit trail stays, by id only, plus a row for the deletion.
    assert_eq!(count(&app, audit_sql, &old).await, audit_before + 1);
    let deletion: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE target_id = $1::uuid AND action = 'participant.retention_delete'",
    )
    .bind(&old)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(deletion, 1);
    for s in &secrets {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM audit_log WHERE audit_log::text LIKE '%' || $1 || '%'",
        )
        .bind(s)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(n, 0, "the audit log holds {s:?}");
    }
    // The others are kept.
    for (pid, table, n) in &kept {
        assert_eq!(
            count(
                &app,
                BY_PARTICIPANT.iter().find(|t| t.0 == *table).unwrap().1,
                pid
            )
            .await,
            *n,
            "{table} of {pid}"
        );
    }
    // The API agrees: gone for the centre, gone from the inbox.
    app.get(&format!("/api/v1/participants/{old}"), &staff)
        .await
        .assert_problem(404);
    app.get(&format!("/api/v1/handovers/{old_hid}"), &muni)
        .await
        .assert_problem(404);
    // Running again deletes nothing more.
    assert!(
        handover_db::retention::purge(&app.pool, 1)
            .await
            .unwrap()
            .is_empty()
    );
}

// ---------------------------------------------------------------------------------------------
// Regressions: rules added after these tests found them broken.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn regression_a_draft_cancelled_unsent_never_reaches_the_municipality() {
    let app = spawn_app().await;
    let staff = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let pid = krs5();
    settle(&app, &staff, &pid, KRS_NO).await;
    consent(&app, &staff, &pid, &[]).await;
    let (hid, _) = start(&app, &staff, &pid).await;
    let r = act(
        &app,
        &staff,
        &hid,
        "cancel",
        json!({"reason": "Startet ved en feil."}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let inbox = app.get("/api/v1/handovers", &muni).await;
    assert!(!ids(&inbox).contains(&hid), "never sent, yet in the inbox");
    app.get(&format!("/api/v1/handovers/{hid}"), &muni)
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn regression_send_refuses_when_the_settlement_moved_to_another_municipality() {
    let app = spawn_app().await;
    let staff = app.token(who::KRS_STAFF).await;
    let pid = krs5();
    settle(&app, &staff, &pid, KRS_NO).await;
    consent(&app, &staff, &pid, &[]).await;
    let (hid, tag) = start(&app, &staff, &pid).await;
    // The decision changes to Trondheim after the handover to Kristiansand was started.
    let s = app
        .get(&format!("/api/v1/participants/{pid}/settlement"), &staff)
        .await;
    let trd = org_by_number(&app, TRD_NO).await;
    let r = call(
        &app,
        Method::PUT,
        &format!("/api/v1/participants/{pid}/settlement"),
        Some(&staff),
        Some(&settlement_body(&trd)),
        Some(&etag(&s)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Kristiansand must not receive the file of a participant settled in Trondheim.
    send(&app, &staff, &hid, &tag, None)
        .await
        .assert_problem(409);
}

#[tokio::test]
async fn regression_a_consent_decision_does_not_change_the_identity_section() {
    let app = spawn_app().await;
    let staff = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let pid = krs5();
    let hid = prepared(&app, &staff, &pid, &[]).await;
    file(&app, &muni, &hid).await;
    // Only the consent decision changes (the same decision, recorded again).
    consent(&app, &staff, &pid, &[]).await;
    assert_eq!(act(&app, &staff, &hid, "send", json!({})).await.status, 200);
    let f = file(&app, &muni, &hid).await;
    assert_eq!(
        f.body["changed_sections"],
        json!([]),
        "{}",
        f.body["changed_sections"]
    );
}

/// Stored file versions of a handover whose text contains `needle`.
async fn stored_containing(app: &TestApp, hid: &str, needle: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM handover_files
          WHERE handover_id = $1::uuid AND strpos(snapshot::text, $2) > 0",
    )
    .bind(hid)
    .bind(needle)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}
