#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! `Idempotency-Key` on the creating POSTs (starting a handover, proposing a conversation):
//! retries replay the first answer, concurrent duplicates create one record, a reused key with
//! another request is 422, keys are per user, malformed keys are 400, failed requests store
//! nothing, expired keys start afresh, and without the header nothing changes.

use handover_tests::etag;
use handover_tests::{Res, TestApp, spawn_app, who};
use handover_tests::{ago, ahead, id_of, new_duf};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const KEY: &str = "idempotency-key";
const REPLAYED: &str = "idempotent-replayed";
const REUSED: &str = "urn:handover:problem:idempotency-key-reused";
const KRS_NO: &str = "4204";
const TRD_NO: &str = "5001";
const CONCURRENT: usize = 16;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

async fn post(
    app: &TestApp,
    path: &str,
    token: &str,
    body: Option<&Value>,
    key: Option<&str>,
) -> Res {
    let h: Vec<(&str, &str)> = key.map(|k| vec![(KEY, k)]).unwrap_or_default();
    app.request(Method::POST, path, Some(token), body, &h).await
}

async fn org_by_number(app: &TestApp, number: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM organisations WHERE municipality_number = $1")
        .bind(number)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// A new participant of the caller's centre, without a settlement.
async fn participant(app: &TestApp, staff: &str) -> String {
    let r = app
        .post(
            "/api/v1/participants",
            Some(staff),
            &json!({
                "given_name": "Idem",
                "family_name": "Potent",
                "date_of_birth": "1990-01-01",
                "duf_number": new_duf(),
                "languages": [{ "language": "ti", "level": "native" }],
                "interpreter_language": "ti",
                "arrival_date": ago(100),
                "programme_start": ago(90),
                "status": "in_programme",
                "notes": ""
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    id_of(&r)
}

async fn settle(app: &TestApp, staff: &str, pid: &str, number: &str) {
    let m = org_by_number(app, number).await;
    let body = json!({
        "municipality_id": m,
        "settlement_date": ahead(30),
        "contacts": [{ "name": "Programrådgiver", "email": "kontakt@kommune.example", "role": "programrådgiver" }]
    });
    let r = app
        .participants(staff)
        .put_settlement(pid, &body, None)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

/// A new participant with a settlement decision: ready for a handover.
async fn settled(app: &TestApp, staff: &str, number: &str) -> String {
    let pid = participant(app, staff).await;
    settle(app, staff, &pid, number).await;
    pid
}

fn handovers_path(pid: &str) -> String {
    format!("/api/v1/participants/{pid}/handovers")
}

fn conversations_path(hid: &str) -> String {
    format!("/api/v1/handovers/{hid}/conversations")
}

/// A handover sent to Kristiansand and accepted there: open for a conversation.
async fn accepted_handover(app: &TestApp, centre: &str, muni: &str) -> String {
    let pid = settled(app, centre, KRS_NO).await;
    let r = post(app, &handovers_path(&pid), centre, None, None).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let hid = id_of(&r);
    let r = app
        .handovers(centre)
        .send(
            &hid,
            &etag(&r),
            Some("Kartleggingen er ikke ferdig; resten tas i samtalen."),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let municipality = app.handovers(muni);
    let r = municipality.file(&hid).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = municipality.get(&hid).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = municipality.act(&hid, "accept", &etag(&r), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    hid
}

/// A video proposal with one slot `days` ahead at 09:00 UTC.
fn proposal(days: i64) -> Value {
    let start = (OffsetDateTime::now_utc() + Duration::days(days))
        .date()
        .with_hms(9, 0, 0)
        .unwrap()
        .assume_utc();
    json!({
        "slots": [{ "start": start.format(&Rfc3339).unwrap(), "duration_minutes": 60 }],
        "mode": "video",
        "video_link": "https://video.example.no/overforing/rom-42",
    })
}

async fn count(app: &TestApp, sql: &'static str, id: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(Uuid::parse_str(id).unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn handovers_of(app: &TestApp, pid: &str) -> i64 {
    count(
        app,
        "SELECT count(*) FROM handovers WHERE participant_id = $1",
        pid,
    )
    .await
}

async fn conversations_of(app: &TestApp, hid: &str) -> i64 {
    count(
        app,
        "SELECT count(*) FROM conversations WHERE handover_id = $1",
        hid,
    )
    .await
}

async fn participant_of(app: &TestApp, hid: &str) -> String {
    sqlx::query_scalar::<_, Uuid>("SELECT participant_id FROM handovers WHERE id = $1")
        .bind(Uuid::parse_str(hid).unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap()
        .to_string()
}

/// Audit rows of `action` with `outcome` about this participant.
async fn audits(app: &TestApp, action: &str, outcome: &str, pid: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = $1 AND outcome = $2 AND target_id = $3",
    )
    .bind(action)
    .bind(outcome)
    .bind(Uuid::parse_str(pid).unwrap())
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn mails_about(app: &TestApp, pid: &str) -> i64 {
    count(
        app,
        "SELECT count(*) FROM outbox WHERE participant_id = $1",
        pid,
    )
    .await
}

async fn stored_keys(app: &TestApp, key: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM idempotency_keys WHERE key = $1")
        .bind(key)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Moves the stored answer to `key` more than 24 hours into the past: expired.
async fn expire(app: &TestApp, key: &str) {
    let n = sqlx::query(
        "UPDATE idempotency_keys SET created_at = now() - interval '25 hours',
                expires_at = now() - interval '1 hour' WHERE key = $1",
    )
    .bind(key)
    .execute(&app.pool)
    .await
    .unwrap()
    .rows_affected();
    assert_eq!(n, 1, "one stored answer for {key}");
}

fn fresh_key() -> String {
    format!("key-{}", Uuid::new_v4())
}

/// Asserts `r` is the replay of `first`: same status, body, Location and ETag, marked replayed.
fn assert_replay(r: &Res, first: &Res) {
    assert_eq!(r.status, first.status, "{}", r.text);
    assert_eq!(
        r.text, first.text,
        "the replay repeats the body byte for byte"
    );
    assert_eq!(r.header("location"), first.header("location"));
    assert_eq!(r.header("etag"), first.header("etag"));
    assert_eq!(r.header(REPLAYED), Some("true"));
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
    );
}

/// One answer of a concurrent batch.
#[derive(Debug)]
struct Answer {
    status: u16,
    replayed: bool,
    body: Value,
}

/// Sends `n` identical POSTs at once (released together by a barrier).
async fn at_once(
    app: &TestApp,
    n: usize,
    path: &str,
    token: &str,
    body: Option<Value>,
    key: Option<&str>,
) -> Vec<Answer> {
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (client, barrier) = (app.client.clone(), barrier.clone());
        let url = format!("{}{path}", app.base);
        let (token, body, key) = (token.to_owned(), body.clone(), key.map(str::to_owned));
        set.spawn(async move {
            let mut req = client.post(url).bearer_auth(token);
            if let Some(b) = &body {
                req = req.json(b);
            }
            if let Some(k) = &key {
                req = req.header(KEY, k);
            }
            barrier.wait().await;
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let replayed = r.headers().get(REPLAYED).is_some();
            let body = r.json::<Value>().await.unwrap_or(Value::Null);
            Answer {
                status,
                replayed,
                body,
            }
        });
    }
    set.join_all().await
}

// ---------------------------------------------------------------------------------------------
// Starting a handover
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn handover_retry_replays_the_first_answer_and_a_reused_key_is_422() {
    let app = spawn_app().await;
    let staff = app.token(who::KRS_STAFF).await;
    let pid = settled(&app, &staff, KRS_NO).await;
    let key = fresh_key();

    let first = post(&app, &handovers_path(&pid), &staff, None, Some(&key)).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(
        first.header(REPLAYED),
        None,
        "the first answer is not a replay"
    );
    let hid = id_of(&first);
    assert_eq!(
        first.header("location"),
        Some(format!("/api/v1/handovers/{hid}").as_str())
    );

    // A retry (also with the key as a structured-field string) gets the same answer.
    let again = post(&app, &handovers_path(&pid), &staff, None, Some(&key)).await;
    assert_replay(&again, &first);
    let quoted = format!("\"{key}\"");
    let again = post(&app, &handovers_path(&pid), &staff, None, Some(&quoted)).await;
    assert_replay(&again, &first);
    assert_eq!(handovers_of(&app, &pid).await, 1);
    assert_eq!(audits(&app, "handover.create", "success", &pid).await, 1);
    assert_eq!(audits(&app, "handover.create", "replayed", &pid).await, 2);

    // The replay holds even after the handover moved on (cancelled): the client's answer was 201.
    let r = app
        .request(
            Method::POST,
            &format!("/api/v1/handovers/{hid}/cancel"),
            Some(&staff),
            Some(&json!({"reason": "Feilregistrert."})),
            &[("if-match", &etag(&first))],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let again = post(&app, &handovers_path(&pid), &staff, None, Some(&key)).await;
    assert_replay(&again, &first);
    assert_eq!(handovers_of(&app, &pid).await, 1);

    // The same key for another participant is another request: 422, nothing created.
    let other = settled(&app, &staff, KRS_NO).await;
    let r = post(&app, &handovers_path(&other), &staff, None, Some(&key)).await;
    assert_eq!(r.assert_problem(422), REUSED, "{}", r.text);
    assert_eq!(handovers_of(&app, &other).await, 0);
    // The key is not used up by the rejection: the original request still replays.
    let again = post(&app, &handovers_path(&pid), &staff, None, Some(&key)).await;
    assert_replay(&again, &first);

    // The same key for another operation (proposing a conversation) is 422 too.
    let r = post(
        &app,
        &conversations_path(&hid),
        &staff,
        Some(&proposal(10)),
        Some(&key),
    )
    .await;
    assert_eq!(r.assert_problem(422), REUSED, "{}", r.text);

    // Keys are per user: another user's identical key is independent of ours.
    let stj = app.token(who::STJ_STAFF).await;
    let stj_pid = settled(&app, &stj, TRD_NO).await;
    let r = post(&app, &handovers_path(&stj_pid), &stj, None, Some(&key)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header(REPLAYED), None);
    assert_ne!(id_of(&r), hid);
    assert_eq!(handovers_of(&app, &stj_pid).await, 1);
    assert_eq!(
        stored_keys(&app, &key).await,
        2,
        "one stored answer per user"
    );
}

#[tokio::test]
async fn handover_malformed_key_is_400_and_a_failed_request_stores_nothing() {
    let app = spawn_app().await;
    let staff = app.token(who::KRS_STAFF).await;
    let pid = settled(&app, &staff, KRS_NO).await;

    let long = "k".repeat(256);
    for bad in [
        "",
        "two words",
        "\"two words\"",
        "tab\there",
        "blåbær",
        long.as_str(),
    ] {
        let r = post(&app, &handovers_path(&pid), &staff, None, Some(bad)).await;
        assert_eq!(
            r.assert_problem(400),
            "urn:handover:problem:bad-request",
            "key {bad:?}"
        );
    }
    // Two keys in one request are ambiguous.
    let r = app
        .request(
            Method::POST,
            &handovers_path(&pid),
            Some(&staff),
            None,
            &[(KEY, "one"), (KEY, "two")],
        )
        .await;
    r.assert_problem(400);
    assert_eq!(
        handovers_of(&app, &pid).await,
        0,
        "nothing created by a malformed key"
    );
    // 255 characters is the longest key.
    let max = "k".repeat(255);
    let r = post(&app, &handovers_path(&pid), &staff, None, Some(&max)).await;
    assert_eq!(r.status, 201, "{}", r.text);

    // A request that fails (409: no settlement yet) stores nothing; corrected, the same key works.
    let unsettled = participant(&app, &staff).await;
    let key = fresh_key();
    let r = post(&app, &handovers_path(&unsettled), &staff, None, Some(&key)).await;
    r.assert_problem(409);
    assert_eq!(stored_keys(&app, &key).await, 0, "a failure stores nothing");
    settle(&app, &staff, &unsettled, KRS_NO).await;
    let r = post(&app, &handovers_path(&unsettled), &staff, None, Some(&key)).await;
    assert_eq!(
        r.status, 201,
        "the corrected request is processed, not replayed: {}",
        r.text
    );
    assert_eq!(r.header(REPLAYED), None);
    assert_eq!(stored_keys(&app, &key).await, 1);

    // Without the header nothing changes: a second start is refused as before, not replayed.
    let plain = settled(&app, &staff, KRS_NO).await;
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM idempotency_keys")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let r = post(&app, &handovers_path(&plain), &staff, None, None).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header(REPLAYED), None);
    let r = post(&app, &handovers_path(&plain), &staff, None, None).await;
    r.assert_problem(409);
    assert_eq!(handovers_of(&app, &plain).await, 1);
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM idempotency_keys")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(before, after, "nothing stored without a key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn handover_concurrent_duplicates_create_one_record() {
    let app = spawn_app().await;
    let staff = app.token(who::KRS_STAFF).await;
    let pid = settled(&app, &staff, KRS_NO).await;
    let key = fresh_key();

    let started = Instant::now();
    let answers = at_once(
        &app,
        CONCURRENT,
        &handovers_path(&pid),
        &staff,
        None,
        Some(&key),
    )
    .await;
    let elapsed = started.elapsed();
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let ids: BTreeSet<&str> = answers
        .iter()
        .map(|a| a.body["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids.len(),
        1,
        "every answer names the same handover: {ids:?}"
    );
    let replays = answers.iter().filter(|a| a.replayed).count();
    assert_eq!(replays, CONCURRENT - 1, "all but the first are replays");
    assert_eq!(handovers_of(&app, &pid).await, 1);
    assert_eq!(audits(&app, "handover.create", "success", &pid).await, 1);
    assert_eq!(
        audits(&app, "handover.create", "replayed", &pid).await,
        (CONCURRENT - 1) as i64
    );
    assert!(mails_about(&app, &pid).await <= 1);
    handover_tests::figure!(
        "{CONCURRENT} concurrent duplicates with one key: 1 handover, {replays} replays, {elapsed:?}"
    );

    // The same key on two different requests at once: one wins, the others are its replays or 422.
    let (a, b) = (
        settled(&app, &staff, KRS_NO).await,
        settled(&app, &staff, KRS_NO).await,
    );
    let key = fresh_key();
    let half = CONCURRENT / 2;
    let (path_a, path_b) = (handovers_path(&a), handovers_path(&b));
    let (ra, rb) = tokio::join!(
        at_once(&app, half, &path_a, &staff, None, Some(&key)),
        at_once(&app, half, &path_b, &staff, None, Some(&key)),
    );
    let created = handovers_of(&app, &a).await + handovers_of(&app, &b).await;
    assert_eq!(created, 1, "one handover across both requests");
    let (winners, losers) = if handovers_of(&app, &a).await == 1 {
        (ra, rb)
    } else {
        (rb, ra)
    };
    assert!(winners.iter().all(|w| w.status == 201), "{winners:?}");
    assert!(
        losers
            .iter()
            .all(|l| l.status == 422 && l.body["type"] == REUSED),
        "{losers:?}"
    );

    // Without a key, concurrent duplicates are not absorbed: the open-handover rule refuses them.
    let plain = settled(&app, &staff, KRS_NO).await;
    let answers = at_once(
        &app,
        CONCURRENT,
        &handovers_path(&plain),
        &staff,
        None,
        None,
    )
    .await;
    let ok = answers.iter().filter(|a| a.status == 201).count();
    let conflict = answers.iter().filter(|a| a.status == 409).count();
    assert_eq!((ok, conflict), (1, CONCURRENT - 1), "{answers:?}");
    assert!(answers.iter().all(|a| !a.replayed));
    handover_tests::figure!(
        "{CONCURRENT} concurrent duplicates without a key: {ok} created, {conflict} refused (409)"
    );
}

#[tokio::test]
async fn handover_expired_key_starts_afresh_and_housekeeping_removes_it() {
    let app = spawn_app().await;
    let staff = app.token(who::KRS_STAFF).await;
    let pid = settled(&app, &staff, KRS_NO).await;
    let key = fresh_key();

    let first = post(&app, &handovers_path(&pid), &staff, None, Some(&key)).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let r = app
        .request(
            Method::POST,
            &format!("/api/v1/handovers/{}/cancel", id_of(&first)),
            Some(&staff),
            Some(&json!({"reason": "Startet på nytt."})),
            &[("if-match", &etag(&first))],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    expire(&app, &key).await;
    let r = post(&app, &handovers_path(&pid), &staff, None, Some(&key)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.header(REPLAYED),
        None,
        "an expired answer is not replayed"
    );
    assert_ne!(id_of(&r), id_of(&first));
    assert_eq!(handovers_of(&app, &pid).await, 2);
    // The key now answers with the new handover.
    let again = post(&app, &handovers_path(&pid), &staff, None, Some(&key)).await;
    assert_replay(&again, &r);

    // Housekeeping deletes expired answers only.
    let other = fresh_key();
    let pid2 = settled(&app, &staff, KRS_NO).await;
    let r = post(&app, &handovers_path(&pid2), &staff, None, Some(&other)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    expire(&app, &other).await;
    let purged = handover_db::idempotency::purge_expired(&app.pool)
        .await
        .unwrap();
    assert_eq!(purged, 1);
    assert_eq!(stored_keys(&app, &other).await, 0);
    assert_eq!(stored_keys(&app, &key).await, 1, "a live answer stays");
}

// ---------------------------------------------------------------------------------------------
// Proposing a conversation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn conversation_retry_replays_reuse_is_422_and_keys_are_per_user() {
    let app = spawn_app().await;
    let centre = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let hid = accepted_handover(&app, &centre, &muni).await;
    let pid = participant_of(&app, &hid).await;
    let path = conversations_path(&hid);
    let key = fresh_key();

    // A failed request (422: slot in the past) stores nothing; corrected, the same key works.
    let r = post(&app, &path, &centre, Some(&proposal(-2)), Some(&key)).await;
    assert_eq!(
        r.assert_problem(422),
        "urn:handover:problem:validation",
        "{}",
        r.text
    );
    assert_eq!(stored_keys(&app, &key).await, 0);
    assert_eq!(conversations_of(&app, &hid).await, 0);

    let body = proposal(10);
    let first = post(&app, &path, &centre, Some(&body), Some(&key)).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.header(REPLAYED), None);
    let cid = id_of(&first);

    // Retried, also with the keys in another order and other spacing: the same answer.
    let again = post(&app, &path, &centre, Some(&body), Some(&key)).await;
    assert_replay(&again, &first);
    let slots = serde_json::to_string(&body["slots"]).unwrap();
    let reordered = format!(
        "{{ \"video_link\" : \"https://video.example.no/overforing/rom-42\", \"mode\":\"video\", \"slots\": {slots} }}"
    );
    let r = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(&centre)
        .header("content-type", "application/json")
        .header(KEY, &key)
        .body(reordered)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers().get(REPLAYED).unwrap(), "true");
    assert_eq!(r.json::<Value>().await.unwrap()["id"], cid.as_str());
    assert_eq!(conversations_of(&app, &hid).await, 1);
    assert_eq!(
        audits(&app, "conversation.propose", "success", &pid).await,
        1
    );
    assert_eq!(
        audits(&app, "conversation.propose", "replayed", &pid).await,
        2
    );

    // The same key with another body: 422, nothing created, the original still replays.
    let r = post(&app, &path, &centre, Some(&proposal(11)), Some(&key)).await;
    assert_eq!(r.assert_problem(422), REUSED, "{}", r.text);
    assert_eq!(conversations_of(&app, &hid).await, 1);
    let again = post(&app, &path, &centre, Some(&body), Some(&key)).await;
    assert_replay(&again, &first);

    // The municipality's user with the same key and body is not replayed our answer: its request
    // is its own, and meets the live conversation (409).
    let r = post(&app, &path, &muni, Some(&body), Some(&key)).await;
    r.assert_problem(409);
    assert_eq!(r.header(REPLAYED), None);

    // Malformed keys: 400 before anything is done.
    for bad in ["", "with space", "ø"] {
        let r = post(&app, &path, &centre, Some(&proposal(12)), Some(bad)).await;
        r.assert_problem(400);
    }
    assert_eq!(conversations_of(&app, &hid).await, 1);

    // Without a key nothing changes: the live conversation refuses a second proposal.
    let r = post(&app, &path, &centre, Some(&body), None).await;
    r.assert_problem(409);
    assert_eq!(r.header(REPLAYED), None);

    // Expired: after the conversation is cancelled, the same key proposes anew.
    let r = app
        .request(
            Method::POST,
            &format!("/api/v1/conversations/{cid}/cancel"),
            Some(&centre),
            Some(&json!({"reason": "Ny tid."})),
            &[("if-match", &etag(&first))],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let again = post(&app, &path, &centre, Some(&body), Some(&key)).await;
    assert_replay(&again, &first);
    expire(&app, &key).await;
    let r = post(&app, &path, &centre, Some(&body), Some(&key)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header(REPLAYED), None);
    assert_ne!(id_of(&r), cid);
    assert_eq!(conversations_of(&app, &hid).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conversation_concurrent_duplicates_create_one_record() {
    let app = spawn_app().await;
    let centre = app.token(who::KRS_STAFF).await;
    let muni = app.token(who::KOMMUNE_KRS_STAFF).await;
    let hid = accepted_handover(&app, &centre, &muni).await;
    let pid = participant_of(&app, &hid).await;
    let mails_before = mails_about(&app, &pid).await;
    let key = fresh_key();

    let started = Instant::now();
    let answers = at_once(
        &app,
        CONCURRENT,
        &conversations_path(&hid),
        &centre,
        Some(proposal(10)),
        Some(&key),
    )
    .await;
    let elapsed = started.elapsed();
    assert!(answers.iter().all(|a| a.status == 201), "{answers:?}");
    let ids: BTreeSet<&str> = answers
        .iter()
        .map(|a| a.body["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let replays = answers.iter().filter(|a| a.replayed).count();
    assert_eq!(replays, CONCURRENT - 1);
    assert_eq!(conversations_of(&app, &hid).await, 1);
    assert_eq!(
        audits(&app, "conversation.propose", "success", &pid).await,
        1
    );
    assert!(mails_about(&app, &pid).await - mails_before <= 1);
    handover_tests::figure!(
        "{CONCURRENT} concurrent duplicate proposals with one key: 1 conversation, {replays} replays, {elapsed:?}"
    );
}
