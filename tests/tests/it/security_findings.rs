//! Regression tests of the security and onboarding review (docs/security.md, "Review findings
//! of 2026-12"): each failed on the code before its fix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handover_tests::{TestApp, new_duf, spawn_app, spawn_app_with, who};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

const GOOD_PASSWORD: &str = "korrekt hest batteri stift 42";

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

/// Every answer on one keep-alive connection, read until the server closes it or `limit`.
async fn exchange(app: &TestApp, bytes: &[u8], limit: Duration) -> String {
    let mut s = tokio::net::TcpStream::connect(addr(app)).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 16384];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// Finding 9: a POST refused with 401 before its body was read closed the keep-alive
// connection without answering the request after it.
#[tokio::test]
async fn a_post_refused_before_its_body_is_read_keeps_the_connection_usable() {
    let app = spawn_app().await;
    for size in [10usize, 4_000, 60_000, 300_000] {
        let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(size));
        let mut req = format!(
            "POST /api/v1/participants HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
        let out = exchange(&app, &req, Duration::from_secs(10)).await;
        let answers: Vec<&str> = out.matches("HTTP/1.1 ").collect();
        assert_eq!(
            answers.len(),
            2,
            "body of {size}: {}",
            &out[..out.len().min(600)]
        );
        assert!(
            out.starts_with("HTTP/1.1 401"),
            "{}",
            &out[..200.min(out.len())]
        );
        assert!(
            out.contains("HTTP/1.1 200"),
            "the second request was not answered"
        );
    }
}

async fn audit_rows(
    app: &TestApp,
    action: &str,
) -> Vec<(
    Option<Uuid>,
    Option<Uuid>,
    Option<String>,
    Option<Uuid>,
    String,
)> {
    sqlx::query_as(
        "SELECT actor_user_id, actor_org_id, target_type, target_id, outcome FROM audit_log
         WHERE action = $1 ORDER BY id",
    )
    .bind(action)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

async fn create_user(
    app: &TestApp,
    token: &str,
    org: Uuid,
    role: &str,
    email: &str,
) -> handover_tests::Res {
    app.post(
        "/api/v1/users",
        Some(token),
        &json!({"email": email, "name": "Ny Bruker", "role": role, "organisation_id": org}),
    )
    .await
}

async fn send_setup(app: &TestApp, token: &str, user: Uuid) -> handover_tests::Res {
    app.request(
        Method::POST,
        &format!("/api/v1/users/{user}/password-setup-email"),
        Some(token),
        None,
        &[],
    )
    .await
}

async fn set_password(app: &TestApp, token: &str, password: &str) -> handover_tests::Res {
    app.post(
        "/api/v1/auth/password-setup",
        None,
        &json!({"token": token, "new_password": password}),
    )
    .await
}

// Finding 1: the setup link was in the API's answer and worked for accounts with a password,
// so an administrator could set a staff member's password and read participants as them.
#[tokio::test]
async fn a_setup_link_reaches_only_the_accounts_own_address() {
    let app = spawn_app().await;
    let admin = app.token(who::KRS_ADMIN).await;
    let krs = app.org_of(who::KRS_ADMIN).await;

    // A new account: the answer carries no link; the e-mail to the new address does.
    let r = create_user(&app, &admin, krs, "centre_staff", "ny.ansatt@example.no").await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(
        !r.text.contains("token") && !r.text.contains("password-setup?"),
        "{}",
        r.text
    );
    let id: Uuid = r.body["id"].as_str().unwrap().parse().unwrap();
    let token = app.wait_setup_token("ny.ansatt@example.no", 1).await;
    assert!(token.len() >= 32);
    assert_eq!(set_password(&app, &token, GOOD_PASSWORD).await.status, 204);
    assert_eq!(
        app.try_login("ny.ansatt@example.no", GOOD_PASSWORD)
            .await
            .status,
        200
    );

    // The old route that answered with the link is gone.
    let r = app
        .request(
            Method::POST,
            &format!("/api/v1/users/{id}/password-setup-link"),
            Some(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 404);

    // A reset of an account with a password: sent, never shown; the owner learns who asked.
    let staff = app.user_id(who::KRS_STAFF).await;
    let r = send_setup(&app, &admin, staff).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let keys: Vec<&str> = r
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["expires_at", "kind", "sent_to"]);
    assert_eq!(r.body["kind"], "reset");
    assert_eq!(r.body["sent_to"], who::KRS_STAFF);
    assert!(!r.text.contains("token="));
    let token = app.wait_setup_token(who::KRS_STAFF, 1).await;
    let mail = app.mail_to(who::KRS_STAFF);
    assert!(
        mail.iter()
            .any(|(_, b)| b.contains("En administrator i Integreringsmottaket i Kristiansand")),
        "{mail:?}"
    );
    // The current password keeps working until the link is used.
    assert_eq!(
        app.try_login(who::KRS_STAFF, handover_tests::DEMO_PASSWORD)
            .await
            .status,
        200
    );
    assert_eq!(set_password(&app, &token, GOOD_PASSWORD).await.status, 204);
    // ... and then the owner is told at their address.
    let mail = app
        .wait_mail_containing(who::KRS_STAFF, "Passordet ditt er endret")
        .await;
    assert!(
        mail.iter()
            .any(|(s, _)| s.contains("Passordet ditt er endret")),
        "{mail:?}"
    );

    // The audit rows name the administrator as actor and the user as target.
    let rows = audit_rows(&app, "user.password_reset_email").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, Some(app.user_id(who::KRS_ADMIN).await));
    assert_eq!(rows[0].1, Some(krs));
    assert_eq!(
        (rows[0].2.as_deref(), rows[0].3),
        (Some("user"), Some(staff))
    );
    let rows = audit_rows(&app, "user.password_setup").await;
    assert_eq!(
        rows.last().unwrap().0,
        Some(staff),
        "the owner followed the link"
    );
    assert_eq!(rows.last().unwrap().1, Some(krs));

    // Nothing in the outbox holds a usable link once sent.
    let bodies: Vec<String> =
        sqlx::query_scalar("SELECT body_text FROM outbox WHERE secret AND status = 'sent'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert!(bodies.len() >= 2);
    assert!(bodies.iter().all(|b| !b.contains("token=")), "{bodies:?}");
}

#[tokio::test]
async fn the_operator_bootstraps_administrators_but_never_holds_a_staff_account() {
    let app = spawn_app().await;
    let op = app.token(who::OPERATOR_ADMIN).await;
    let krs = app.org_of(who::KRS_ADMIN).await;
    // Staff inside an organisation: out of the operator's reach.
    let r = create_user(
        &app,
        &op,
        krs,
        "centre_staff",
        "operatorens.ansatt@example.no",
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let staff = app.user_id(who::KRS_STAFF).await;
    assert_eq!(send_setup(&app, &op, staff).await.status, 404);
    let m = format!(
        "\"{}\"",
        sqlx::query_scalar::<_, i32>("SELECT version FROM users WHERE id = $1")
            .bind(staff)
            .fetch_one(&app.pool)
            .await
            .unwrap()
    );
    let r = app
        .patch(
            &format!("/api/v1/users/{staff}"),
            &op,
            &json!({"email": "kapret@example.no"}),
            Some(&m),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    // It may read them.
    assert_eq!(
        app.get(&format!("/api/v1/users/{staff}"), &op).await.status,
        200
    );

    // An organisation's administrator: the operator creates it, and may re-send its e-mail.
    let r = create_user(&app, &op, krs, "admin", "ny.admin@example.no").await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id: Uuid = r.body["id"].as_str().unwrap().parse().unwrap();
    app.wait_setup_token("ny.admin@example.no", 1).await;
    assert_eq!(send_setup(&app, &op, id).await.status, 202);
    app.wait_setup_token("ny.admin@example.no", 2).await;
    // But it cannot demote that administrator into a staff account.
    let m = format!(
        "\"{}\"",
        sqlx::query_scalar::<_, i32>("SELECT version FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap()
    );
    let r = app
        .patch(
            &format!("/api/v1/users/{id}"),
            &op,
            &json!({"role": "centre_staff"}),
            Some(&m),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    // Only the newest link works.
    let first = app.mailed_setup_tokens("ny.admin@example.no")[0].clone();
    assert_eq!(set_password(&app, &first, GOOD_PASSWORD).await.status, 400);
}

#[tokio::test]
async fn an_email_change_is_told_to_the_old_address_and_spends_its_links() {
    let app = spawn_app().await;
    let admin = app.token(who::KRS_ADMIN).await;
    let krs = app.org_of(who::KRS_ADMIN).await;
    let r = create_user(&app, &admin, krs, "centre_staff", "gammel@example.no").await;
    let id: Uuid = r.body["id"].as_str().unwrap().parse().unwrap();
    let old_link = app.wait_setup_token("gammel@example.no", 1).await;
    let r = app
        .patch(
            &format!("/api/v1/users/{id}"),
            &admin,
            &json!({"email": "ny@example.no"}),
            Some(&format!("\"{}\"", r.body["version"])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let told = app
        .wait_mail_containing("gammel@example.no", "ny@example.no")
        .await;
    assert!(
        told.iter().any(|(_, b)| b.contains("ny@example.no")),
        "{told:?}"
    );
    assert_eq!(
        set_password(&app, &old_link, GOOD_PASSWORD).await.status,
        400
    );
}

/// The number of audit rows of `action` naming `participant`.
async fn reads_of(app: &TestApp, action: &str, participant: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = $1 AND target_id = $2")
        .bind(action)
        .bind(participant)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

// Finding 2: a PATCH that changed nothing answered the whole record without an audit row.
#[tokio::test]
async fn a_patch_that_changes_nothing_is_audited_as_the_read_it_is() {
    let app = spawn_app().await;
    let t = app.token(who::KRS_STAFF).await;
    let krs = app.org_of(who::KRS_STAFF).await;
    let (pid, version): (Uuid, i32) = sqlx::query_as(
        "SELECT p.id, p.version FROM participants p
         WHERE p.reception_centre_id = $1
           AND EXISTS (SELECT 1 FROM programme_elements e WHERE e.participant_id = p.id)
           AND EXISTS (SELECT 1 FROM placements l WHERE l.participant_id = p.id)
         LIMIT 1",
    )
    .bind(krs)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let tags = (1..=10)
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(",");
    let before = reads_of(&app, "participant.read", pid).await;
    let r = app
        .patch(
            &format!("/api/v1/participants/{pid}"),
            &t,
            &json!({}),
            Some(&tags),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(version <= 10);
    assert_eq!(reads_of(&app, "participant.read", pid).await, before + 1);

    for (table, path, action) in [
        (
            "programme_elements",
            "programme-elements",
            "programme_element.read",
        ),
        ("placements", "placements", "placement.read"),
    ] {
        let (id, v): (Uuid, i32) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, version FROM {table} WHERE participant_id = $1 LIMIT 1"
        )))
        .bind(pid)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        let before = reads_of(&app, action, pid).await;
        let r = app
            .patch(
                &format!("/api/v1/participants/{pid}/{path}/{id}"),
                &t,
                &json!({}),
                Some(&format!("\"{v}\"")),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(reads_of(&app, action, pid).await, before + 1, "{path}");
    }
}

fn new_participant(duf: &str) -> Value {
    json!({
        "given_name": "Rania",
        "family_name": "Haddad",
        "date_of_birth": "1990-05-17",
        "duf_number": duf,
        "arrival_date": handover_tests::ago(30),
    })
}

// Finding 3: a number held by the other centre's participant answered "already registered".
#[tokio::test]
async fn a_number_held_elsewhere_answers_alike_is_audited_and_throttled() {
    let app = spawn_app_with(|s| s.identifier_conflicts_per_user = 3).await;
    let krs = app.token(who::KRS_STAFF).await;
    let stj = app.token(who::STJ_STAFF).await;
    let duf = new_duf();
    let r = app
        .post("/api/v1/participants", Some(&krs), &new_participant(&duf))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let held: Uuid = r.body["id"].as_str().unwrap().parse().unwrap();

    let elsewhere = app
        .post("/api/v1/participants", Some(&stj), &new_participant(&duf))
        .await;
    let here = app
        .post("/api/v1/participants", Some(&krs), &new_participant(&duf))
        .await;
    elsewhere.assert_problem(409);
    here.assert_problem(409);
    assert_eq!(
        elsewhere.body["detail"],
        "This DUF number cannot be registered here."
    );
    assert_eq!(
        elsewhere.body["detail"], here.body["detail"],
        "the answer tells nothing about where"
    );
    assert_eq!(elsewhere.body["title"], here.body["title"]);

    let rows = audit_rows(&app, "participant.create").await;
    let probes: Vec<_> = rows
        .iter()
        .filter(|r| r.4 == "identifier_conflict")
        .collect();
    assert_eq!(probes.len(), 2);
    assert_eq!(probes[0].0, Some(app.user_id(who::STJ_STAFF).await));
    assert_eq!(probes[0].1, Some(app.org_of(who::STJ_STAFF).await));
    assert_eq!(
        (probes[0].2.as_deref(), probes[0].3),
        (Some("participant"), Some(held))
    );

    // Probing is throttled like failed logins: the third conflict (the limit) locks.
    for _ in 0..2 {
        let r = app
            .post("/api/v1/participants", Some(&stj), &new_participant(&duf))
            .await;
        r.assert_problem(409);
    }
    let r = app
        .post("/api/v1/participants", Some(&stj), &new_participant(&duf))
        .await;
    r.assert_problem(429);
    assert!(r.header("retry-after").is_some());
    // Also for another, unused number: the caller is locked, not the number.
    let r = app
        .post(
            "/api/v1/participants",
            Some(&stj),
            &new_participant(&new_duf()),
        )
        .await;
    r.assert_problem(429);
    // Others are not.
    let r = app
        .post(
            "/api/v1/participants",
            Some(&krs),
            &new_participant(&new_duf()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test]
async fn an_email_of_another_organisation_answers_alike_and_is_audited() {
    let app = spawn_app().await;
    let stj_admin = app.token(who::STJ_ADMIN).await;
    let stj = app.org_of(who::STJ_ADMIN).await;
    let elsewhere = create_user(&app, &stj_admin, stj, "centre_staff", who::KRS_STAFF).await;
    let here = create_user(&app, &stj_admin, stj, "centre_staff", who::STJ_STAFF).await;
    elsewhere.assert_problem(409);
    here.assert_problem(409);
    assert_eq!(
        elsewhere.body["detail"],
        "This e-mail address cannot be registered here."
    );
    assert_eq!(elsewhere.body["detail"], here.body["detail"]);
    let probes: Vec<_> = audit_rows(&app, "user.create")
        .await
        .into_iter()
        .filter(|r| r.4 == "identifier_conflict")
        .collect();
    assert_eq!(probes.len(), 2);
    assert_eq!(probes[0].3, Some(app.user_id(who::KRS_STAFF).await));
    assert_eq!(probes[0].1, Some(stj));
}

// Finding 4: wrong current passwords at /me/password locked the account's logins.
#[tokio::test]
async fn own_password_changes_have_their_own_counter() {
    let app = spawn_app().await;
    let t = app.token(who::KRS_STAFF).await;
    let change =
        |current: &'static str| json!({"current_password": current, "new_password": GOOD_PASSWORD});
    for _ in 0..5 {
        app.post("/api/v1/me/password", Some(&t), &change("feil passord her"))
            .await
            .assert_problem(422);
    }
    app.post("/api/v1/me/password", Some(&t), &change("feil passord her"))
        .await
        .assert_problem(429);
    // Logins of the account are untouched, from any address.
    assert_eq!(
        app.try_login(who::KRS_STAFF, handover_tests::DEMO_PASSWORD)
            .await
            .status,
        200
    );

    // A distributed attack that locked the account's logins does not stop its signed-in owner.
    let other = app.token(who::STJ_STAFF).await;
    sqlx::query("INSERT INTO login_throttle (key, failures, window_started_at, locked_until, lockouts) VALUES ($1, 0, now(), now() + interval '15 minutes', 1)")
        .bind(format!("account:{}", who::STJ_STAFF))
        .execute(&app.pool)
        .await
        .unwrap();
    let r = app.post("/api/v1/me/password", Some(&other), &json!({"current_password": handover_tests::DEMO_PASSWORD, "new_password": GOOD_PASSWORD})).await;
    assert_eq!(r.status, 204, "{}", r.text);
}

// Finding 5: logins, password setups and refresh-token reuse were written without the
// organisation, so its administrators never saw them.
#[tokio::test]
async fn an_organisations_admin_sees_its_users_logins_and_token_alarms() {
    let app = spawn_app().await;
    let s = app.login(who::KRS_STAFF).await;
    let body = json!({"refresh_token": s.refresh});
    assert_eq!(
        app.post("/api/v1/auth/refresh", None, &body).await.status,
        200
    );
    let reused = app.post("/api/v1/auth/refresh", None, &body).await;
    reused.assert_problem(401);
    let admin = app.token(who::KRS_ADMIN).await;
    let staff = app.user_id(who::KRS_STAFF).await.to_string();
    let r = app.get("/api/v1/audit-events?limit=200", &admin).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mine: Vec<(&str, &str)> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor_user_id"] == staff.as_str())
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(mine.contains(&("auth.login", "success")), "{mine:?}");
    assert!(
        mine.contains(&("auth.refresh", "reuse_detected")),
        "{mine:?}"
    );
    // Another organisation's admin sees none of them.
    let other = app.token(who::STJ_ADMIN).await;
    let r = app.get("/api/v1/audit-events?limit=200", &other).await;
    assert!(!r.text.contains(&staff));
}

// Finding 7: any X-Request-Id was taken as the service's own, in the audit log too.
#[tokio::test]
async fn the_request_id_is_always_the_services_own() {
    let app = spawn_app().await;
    let t = app.token(who::KRS_STAFF).await;
    let r = app
        .request(
            Method::GET,
            "/api/v1/participants?limit=1",
            Some(&t),
            None,
            &[("x-request-id", "klient-42")],
        )
        .await;
    assert_eq!(r.status, 200);
    let ours = r.header("x-request-id").unwrap().to_owned();
    assert!(ours.parse::<Uuid>().is_ok() && ours != "klient-42");
    assert_eq!(r.header("x-client-request-id"), Some("klient-42"));
    let logged: Vec<Option<String>> =
        sqlx::query_scalar("SELECT request_id FROM audit_log WHERE action = 'participant.list'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(logged.last().unwrap().as_deref(), Some(ours.as_str()));
    // Copying another request's id changes nothing; an id that is not plain is dropped.
    let long = "x".repeat(2000);
    for bad in [ours.as_str(), long.as_str(), "a b", "a/b", "-x"] {
        let r = app
            .request(
                Method::GET,
                "/healthz",
                None,
                None,
                &[("x-request-id", bad)],
            )
            .await;
        assert_ne!(r.header("x-request-id"), Some(bad));
        if bad != ours {
            assert!(r.header("x-client-request-id").is_none(), "{bad:?}");
        }
    }
}

// Finding 10: a name of one zero-width space, or with a right-to-left override, was accepted.
#[tokio::test]
async fn names_that_display_as_something_else_are_refused() {
    let app = spawn_app().await;
    let t = app.token(who::KRS_STAFF).await;
    for name in ["\u{200B}", "Rania\u{202E}addaH", "\u{2067}Ola", "\u{3164}"] {
        let mut body = new_participant(&new_duf());
        body["given_name"] = json!(name);
        let r = app.post("/api/v1/participants", Some(&t), &body).await;
        r.assert_problem(422);
        assert_eq!(r.invalid_fields(), ["given_name"], "{name:?}");
    }
    let mut body = new_participant(&new_duf());
    body["given_name"] = json!("Mehr\u{200C}an");
    assert_eq!(
        app.post("/api/v1/participants", Some(&t), &body)
            .await
            .status,
        201,
        "a joiner Persian names need"
    );
    let admin = app.token(who::KRS_ADMIN).await;
    let krs = app.org_of(who::KRS_ADMIN).await;
    let r = app
        .post("/api/v1/users", Some(&admin), &json!({"email": "usynlig@example.no", "name": "\u{200B}", "role": "centre_staff", "organisation_id": krs}))
        .await;
    r.assert_problem(422);
    assert_eq!(r.invalid_fields(), ["name"]);
}

// Finding 11: career counsellors read the centre's notes in the live record.
#[tokio::test]
async fn centre_notes_stay_in_the_centre() {
    let app = spawn_app().await;
    let staff = app.token(who::KRS_STAFF).await;
    let counsellor = app.token(who::AGDER_COUNSELLOR).await;
    let pid: Uuid = sqlx::query_scalar(
        "SELECT p.id FROM participants p JOIN organisations o ON o.id = p.reception_centre_id
         WHERE p.notes <> '' AND o.id = $1 LIMIT 1",
    )
    .bind(app.org_of(who::KRS_STAFF).await)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let own = app
        .get(&format!("/api/v1/participants/{pid}"), &staff)
        .await;
    assert!(own.body["notes"].as_str().is_some_and(|n| !n.is_empty()));
    for path in [
        format!("/api/v1/participants/{pid}"),
        format!("/api/v1/participants/{pid}/record"),
        "/api/v1/participants?limit=200".into(),
    ] {
        let r = app.get(&path, &counsellor).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert!(
            !r.text.contains("\"notes\""),
            "{path} gave a counsellor the notes"
        );
    }
}

// Onboarding: a weak password is refused with advice; the refresh error names the refresh token.
#[tokio::test]
async fn guessable_passwords_are_refused_and_refresh_errors_say_what_is_wrong() {
    let app = spawn_app().await;
    let admin = app.token(who::KRS_ADMIN).await;
    let krs = app.org_of(who::KRS_ADMIN).await;
    create_user(&app, &admin, krs, "centre_staff", "svak@example.no").await;
    let token = app.wait_setup_token("svak@example.no", 1).await;
    for weak in ["Passord2026!!", "kristiansand2026", "qwertyuiop12"] {
        let r = set_password(&app, &token, weak).await;
        r.assert_problem(422);
        assert_eq!(r.invalid_fields(), ["new_password"], "{weak}");
        assert!(r.text.contains("unrelated words"), "{}", r.text);
    }
    assert_eq!(set_password(&app, &token, GOOD_PASSWORD).await.status, 204);

    let r = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": "ukjent"}),
        )
        .await;
    r.assert_problem(401);
    assert_eq!(r.body["title"], "A valid refresh token is required");
    assert_eq!(r.body["type"], "urn:handover:problem:invalid-refresh-token");
}

// Onboarding: loading the demo sent 41 e-mails through whatever SMTP relay was configured.
#[tokio::test]
async fn the_demo_data_sends_no_mail() {
    let app = spawn_app().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        app.smtp.messages().len(),
        0,
        "{:?}",
        app.smtp
            .messages()
            .iter()
            .map(|m| m.to.clone())
            .collect::<Vec<_>>()
    );
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(pending, 0);
}

// Onboarding: HSTS when users reach the service over https; /docs has a CSP.
#[tokio::test]
async fn https_deployments_get_hsts_and_the_docs_a_csp() {
    let app = spawn_app_with(|s| s.public_url = Some("https://overforing.example.no".into())).await;
    let r = app.request(Method::GET, "/healthz", None, None, &[]).await;
    assert_eq!(
        r.header("strict-transport-security"),
        Some("max-age=63072000")
    );
    let r = app.request(Method::GET, "/docs/", None, None, &[]).await;
    let csp = r.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    let r = app
        .request(Method::GET, "/password-setup", None, None, &[])
        .await;
    let csp = r.header("content-security-policy").unwrap();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let plain = spawn_app().await;
    let r = plain
        .request(Method::GET, "/healthz", None, None, &[])
        .await;
    assert!(r.header("strict-transport-security").is_none());
}
