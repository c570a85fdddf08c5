//! Coalesced statements (`handover_app::coalesce`): the caller checks of concurrent requests
//! share one query, and so do the audit rows and openings of concurrent file readings. The
//! guarantees must hold as if each request were alone: every answer is for its own session, a
//! sign-out acts on the very next request, and every reading that was answered has its audit
//! row and opening committed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_tests::{TestApp, figure, spawn_app, who};
use reqwest::Method;
use std::sync::Arc;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_caller_checks_answer_each_request_for_its_own_session() {
    let app = Arc::new(spawn_app().await);
    let accounts = [
        who::KRS_STAFF,
        who::STJ_STAFF,
        who::AGDER_COUNSELLOR,
        who::KOMMUNE_KRS_STAFF,
        who::KOMMUNE_TRD_ADMIN,
        who::OPERATOR_ADMIN,
    ];
    let mut sessions = Vec::new();
    for email in accounts {
        sessions.push((email, app.login(email).await.access, true));
    }
    // Two sessions ended before the burst: their tokens are still unexpired JWTs.
    for email in [who::KRS_STAFF, who::KOMMUNE_KRS_STAFF] {
        let s = app.login(email).await;
        let r = app
            .request(
                Method::POST,
                "/api/v1/auth/logout",
                Some(&s.access),
                None,
                &[],
            )
            .await;
        assert_eq!(r.status, 204);
        sessions.push((email, s.access, false));
    }
    let sessions = Arc::new(sessions);
    let mut tasks = Vec::new();
    for i in 0..240usize {
        let app = app.clone();
        let sessions = sessions.clone();
        tasks.push(tokio::spawn(async move {
            let (email, token, live) = &sessions[i % sessions.len()];
            let r = app.get("/api/v1/me", token).await;
            (
                *email,
                *live,
                r.status.as_u16(),
                r.body["user"]["email"].clone(),
            )
        }));
    }
    let mut ok = 0;
    for t in tasks {
        let (email, live, status, seen) = t.await.unwrap();
        if live {
            assert_eq!(status, 200, "{email}");
            assert_eq!(seen, email, "the answer is for the request's own session");
            ok += 1;
        } else {
            assert_eq!(status, 401, "{email}: a signed-out session stays out");
        }
    }
    figure!("coalesced caller checks: 240 concurrent requests, {ok} live");

    // Sign-out acts on the very next request, also while others are in flight.
    let s = app.login(who::STJ_STAFF).await;
    let mut busy = Vec::new();
    for _ in 0..40 {
        let app = app.clone();
        let token = sessions[1].1.clone();
        busy.push(tokio::spawn(async move {
            app.get("/api/v1/me", &token).await.status
        }));
    }
    let r = app
        .request(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&s.access),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 204);
    app.get("/api/v1/me", &s.access).await.assert_problem(401);
    for b in busy {
        assert_eq!(b.await.unwrap(), 200);
    }
}

async fn sent_to(app: &TestApp, municipality: &str) -> Uuid {
    sqlx::query_scalar(
        "SELECT h.id FROM handovers h JOIN organisations m ON m.id = h.municipality_id
         WHERE m.name = $1 AND h.state IN ('received', 'accepted', 'conversation_scheduled')
         ORDER BY h.id LIMIT 1",
    )
    .bind(municipality)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn count(app: &TestApp, sql: &str, id: Uuid) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_file_readings_each_leave_their_audit_row_and_opening() {
    let app = Arc::new(spawn_app().await);
    let krs = sent_to(&app, "Kristiansand").await;
    let trd = sent_to(&app, "Trondheim").await;
    let tokens = Arc::new([
        (krs, app.token(who::KOMMUNE_KRS_STAFF).await, true),
        (krs, app.token(who::KRS_STAFF).await, false),
        (trd, app.token(who::KOMMUNE_TRD_STAFF).await, true),
        (trd, app.token(who::STJ_STAFF).await, false),
        // Refused: another municipality's handover (no row of success, no opening).
        (krs, app.token(who::KOMMUNE_TRD_STAFF).await, false),
    ]);
    let opens = "SELECT count(*) FROM handover_opens WHERE handover_id = $1";
    let reads = "SELECT count(*) FROM audit_log WHERE action = 'handover.file_read'
                 AND outcome = 'success' AND target_id = (SELECT participant_id FROM handovers WHERE id = $1)";
    let before = [
        (count(&app, opens, krs).await, count(&app, reads, krs).await),
        (count(&app, opens, trd).await, count(&app, reads, trd).await),
    ];
    // The reads of a batch share one query too: readings of a first version and of a handover
    // that does not exist go in between, and each answer must be its own request's.
    let centre = app.token(who::KRS_STAFF).await;
    let missing = Uuid::new_v4();
    let mut tasks = Vec::new();
    for i in 0..200usize {
        let app = app.clone();
        let tokens = tokens.clone();
        let centre = centre.clone();
        tasks.push(tokio::spawn(async move {
            if i % 10 == 9 {
                let r = app
                    .get(&format!("/api/v1/handovers/{krs}/file?version=1"), &centre)
                    .await;
                assert_eq!(r.status, 200);
                assert_eq!(r.body["file_version"], 1, "the version asked for");
                return (5, 200);
            }
            if i % 10 == 8 {
                let r = app
                    .get(&format!("/api/v1/handovers/{missing}/file"), &centre)
                    .await;
                return (6, r.status.as_u16());
            }
            let (h, token, _) = &tokens[i % tokens.len()];
            let r = app.get(&format!("/api/v1/handovers/{h}/file"), token).await;
            if r.status == 200 {
                assert_eq!(r.body["handover"]["id"], h.to_string(), "its own handover");
            }
            (i % tokens.len(), r.status.as_u16())
        }));
    }
    let mut answered = [[0i64; 2]; 5];
    let mut first_versions = 0;
    for t in tasks {
        let (k, status) = t.await.unwrap();
        match k {
            4 => assert_eq!(status, 404, "another municipality"),
            5 => first_versions += 1,
            6 => assert_eq!(status, 404, "a handover that does not exist"),
            _ => {
                assert_eq!(status, 200);
                answered[k][usize::from(tokens[k].2)] += 1;
            }
        }
    }
    // Every reading answered has its audit row; the municipality's also an opening.
    let krs_reads = answered[0][1] + answered[1][0] + first_versions;
    let trd_reads = answered[2][1] + answered[3][0];
    assert_eq!(count(&app, reads, krs).await - before[0].1, krs_reads);
    assert_eq!(count(&app, reads, trd).await - before[1].1, trd_reads);
    assert_eq!(count(&app, opens, krs).await - before[0].0, answered[0][1]);
    assert_eq!(count(&app, opens, trd).await - before[1].0, answered[2][1]);
    let opened: i32 =
        sqlx::query_scalar("SELECT recipient_opened_version FROM handovers WHERE id = $1")
            .bind(krs)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let latest: i32 = sqlx::query_scalar("SELECT latest_file_version FROM handovers WHERE id = $1")
        .bind(krs)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(opened, latest);
    figure!(
        "coalesced file readings: {} answered, each with its audit row",
        krs_reads + trd_reads
    );
}
